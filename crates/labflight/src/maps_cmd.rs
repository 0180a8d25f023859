//! `labflight maps ...` (being written).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum MapsCommand {}

pub fn run(cmd: MapsCommand) -> anyhow::Result<()> {
    match cmd {}
}
