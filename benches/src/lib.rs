//! Shared nothing yet: the benches live in `benches/benches/`; figures in README.md.
