//! `labflight`: the one binary. Thin: parses the command line and hands each
//! subcommand to the crate that does the work. Bad input exits with status 2.

mod cluster_cmd;
mod import_cmd;
mod live_cmd;
mod maps_cmd;
mod replay_frames;
mod sim_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// jemalloc: a flatter resident set than glibc's per-thread arenas when a city
/// day runs its medical groups' dispatchers on several threads.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(
    name = "labflight",
    version,
    about = "Drone specimen logistics for Longhua's community health centres"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Map data tools: check, generate, import.
    #[command(subcommand)]
    Maps(maps_cmd::MapsCommand),
    /// Simulate one day as fast as possible; compare policies or sweep a parameter.
    Sim(sim_cmd::SimArgs),
    /// Re-run the dispatcher on a recorded journal (or a what-if with another policy).
    Replay(sim_cmd::ReplayArgs),
    /// The live service: MQTT in, dispatcher, store, commands out, HTTP API.
    Serve(live_cmd::ServeArgs),
    /// The simulated drones, boxes, centres, vans and labs as MQTT clients.
    Devices(live_cmd::DevicesArgs),
    /// Everything on one machine: embedded broker, SQLite, service, devices, HTTP.
    Demo(live_cmd::DemoArgs),
    /// A reference receiver for result hooks: verifies signatures, keeps each delivery once.
    StationSink(live_cmd::SinkArgs),
    /// Dashboard accounts: add or replace a user (coordinator, viewer or lab).
    #[command(subcommand)]
    Users(live_cmd::UsersCommand),
    /// High availability: partition owners, epochs, leases and standbys.
    #[command(subcommand)]
    Cluster(cluster_cmd::ClusterCommand),
}

/// An error that is the user's input, not labflight's fault: exit status 2.
pub use labflight_service::BadInput;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Maps(cmd) => maps_cmd::run(cmd),
        Command::Sim(args) => sim_cmd::sim(args),
        Command::Replay(args) => sim_cmd::replay(args),
        Command::Serve(args) => live_cmd::serve(args),
        Command::Devices(args) => live_cmd::devices(args),
        Command::Demo(args) => live_cmd::demo(args),
        Command::StationSink(args) => live_cmd::station_sink(args),
        Command::Users(cmd) => live_cmd::users(cmd),
        Command::Cluster(cmd) => cluster_cmd::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err)
            if err.downcast_ref::<BadInput>().is_some()
                || err.downcast_ref::<labflight_core::ConfigError>().is_some() =>
        {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
