//! `labflight cluster status`: who owns each partition, under which epoch, how
//! long its lease has left and how far its journal got, and the standbys waiting
//! to take over, read from the service's database (every city partition's
//! schema too).

use crate::live_cmd::runtime;
use clap::{Args, Subcommand};
use labflight_store::Store;

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Owners, epochs, leases, journal lag and standby readiness.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The service's database (default DATABASE_URL, else sqlite://labflight.db).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://labflight.db")]
    database_url: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: ClusterCommand) -> anyhow::Result<()> {
    let ClusterCommand::Status(args) = cmd;
    runtime()?.block_on(async move {
        let store = Store::open(&args.database_url).await?;
        let mut leases = store.leases().await?;
        let mut standbys = store.standbys().await?;
        // A city's partitions, each in its own schema.
        for (_, partition) in store.partition_stores(&args.database_url).await? {
            leases.extend(partition.leases().await?);
            standbys.extend(partition.standbys().await?);
        }
        if args.json {
            println!(
                "{}",
                serde_json::json!({"partitions": leases, "standbys": standbys})
            );
            return Ok(());
        }
        if leases.is_empty() {
            println!("no partition has been claimed in {}", args.database_url);
        }
        for l in &leases {
            let lease = if l.expires_in_ms >= 0 {
                format!("lease {:.1} s left", l.expires_in_ms as f64 / 1000.0)
            } else {
                format!(
                    "lease EXPIRED {:.1} s ago",
                    -l.expires_in_ms as f64 / 1000.0
                )
            };
            println!(
                "partition {}: owner {} epoch {}, {lease}, journal seq {}",
                l.partition, l.owner, l.epoch, l.journal_seq
            );
            for s in standbys.iter().filter(|s| s.partition == l.partition) {
                // Ready: heard from within a lease length and caught up to the owner.
                let lag = l.journal_seq - s.journal_seq;
                println!(
                    "  standby {}: seen {:.1} s ago, journal seq {} ({lag} behind the owner)",
                    s.member,
                    s.seen_ms_ago as f64 / 1000.0,
                    s.journal_seq
                );
            }
            if !standbys.iter().any(|s| s.partition == l.partition) {
                println!("  no standby");
            }
        }
        Ok(())
    })
}
