//! Shared helpers for the labflight benches.
