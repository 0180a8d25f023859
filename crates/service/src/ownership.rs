//! Who runs the service's partition: a process claims its lease before it
//! recovers anything (a standby waits for the lease to be free, following the
//! owner's journal in a warm dispatcher meanwhile), renews it while
//! it runs, and steps down — exits — the moment it is fenced: a renewal finds
//! another owner, or a write is refused for an old epoch.

use crate::error::BadInput;
use crate::options::Ownership;
use crate::recovery::Warm;
use crate::standby_view::StandbyView;
use labflight_dispatch::{PolicyKind, World};
use labflight_server::Metrics;
use labflight_store::{Claim, Lease, RunMeta, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// The exit status of a process that lost its partition (fenced, or its lease
/// unrenewed past expiry): a supervisor restarts it as a standby.
pub const FENCED_EXIT: i32 = 75;

/// What a standby keeps warm while it waits: the run it would take over.
pub(crate) struct Run<'a> {
    pub(crate) world: &'a Arc<World>,
    pub(crate) policy: PolicyKind,
    pub(crate) meta: &'a RunMeta,
}

/// Claims the partition: at once for a lone service (fencing whatever held it),
/// or as a standby, waiting (heartbeating) until the owner's lease expires, its
/// dispatcher kept current from the owner's journal meanwhile (returned warm)
/// and shown on `view` (the standby's dashboard).
pub(crate) async fn claim(
    store: &Store,
    partition: &str,
    own: &Ownership,
    run: Run<'_>,
    view: Option<&StandbyView<'_>>,
) -> anyhow::Result<(Lease, Option<Warm>)> {
    if !own.standby {
        refuse_a_live_owner(store, partition, own).await?;
        let lease = store
            .claim_partition(partition, &own.member, own.lease_ms, Claim::Now)
            .await?
            .ok_or_else(|| anyhow::anyhow!("partition `{partition}`: the lease was not granted"))?;
        return Ok((lease, None));
    }
    let mut warm: Option<Warm> = None;
    let poll = Duration::from_millis((own.lease_ms / 10).clamp(50, 1_000) as u64);
    let mut said = false;
    loop {
        match store
            .claim_partition(partition, &own.member, own.lease_ms, Claim::WhenFree)
            .await
        {
            Ok(Some(lease)) => {
                let _ = store.leave_standby(partition, &own.member).await;
                return Ok((lease, warm));
            }
            Ok(None) => {
                let held = match store.leases().await {
                    Ok(leases) => leases
                        .into_iter()
                        .find(|l| l.partition == partition && l.expires_in_ms > 0)
                        .map(|l| (l.owner, l.epoch)),
                    Err(e) => {
                        tracing::warn!("standby: reading the leases: {e}");
                        None
                    }
                };
                if !said && let Some((owner, epoch)) = &held {
                    println!(
                        "standby: partition `{partition}` is held by `{owner}` (epoch {epoch}); waiting to take over"
                    );
                    said = true;
                }
                let caught_up = match warm.as_mut() {
                    Some(w) => w.catch_up(store).await,
                    None => match Warm::start(store, run.world, run.policy, run.meta).await {
                        Ok(w) => {
                            let seq = w.seq();
                            warm = Some(w);
                            Ok(seq)
                        }
                        Err(e) => Err(e),
                    },
                };
                let seq = match caught_up {
                    Ok(seq) => {
                        if let Some(view) = view {
                            view.show(partition, held, warm.as_ref(), None);
                        }
                        seq
                    }
                    Err(e) => {
                        // Cold again: the takeover restores from the snapshot.
                        tracing::warn!("standby: following the journal: {e}");
                        warm = None;
                        if let Some(view) = view {
                            view.show(partition, held, None, Some(e.to_string()));
                        }
                        0
                    }
                };
                if let Err(e) = store.standby_heartbeat(partition, &own.member, seq).await {
                    tracing::warn!("standby heartbeat: {e}");
                }
            }
            Err(e) => tracing::warn!("standby: claiming partition `{partition}`: {e}"),
        }
        tokio::time::sleep(poll).await;
    }
}

/// A lone service takes its partition at once, fencing whoever held it: right
/// after a crash (the holder is this service's dead predecessor), wrong when the
/// holder is another live service on the same database (each would fence the
/// other in turn). So when a lease is held by someone else and unexpired, wait
/// one of the holder's renewal periods: renewed meanwhile, the holder is alive
/// and this start is refused (bad input: run it with `--standby`).
async fn refuse_a_live_owner(
    store: &Store,
    partition: &str,
    own: &Ownership,
) -> anyhow::Result<()> {
    let held = |leases: Vec<labflight_store::LeaseStatus>| {
        leases
            .into_iter()
            .find(|l| l.partition == partition && l.owner != own.member && l.expires_in_ms > 0)
    };
    let Some(first) = held(store.leases().await?) else {
        return Ok(());
    };
    let seen = std::time::Instant::now();
    let expires = seen + Duration::from_millis(first.expires_in_ms as u64);
    tokio::time::sleep(Duration::from_millis(
        (first.lease_ms / 3).clamp(0, 60_000) as u64 + 500,
    ))
    .await;
    let now = std::time::Instant::now();
    if let Some(again) = held(store.leases().await?)
        && again.owner == first.owner
        && again.epoch == first.epoch
        && now + Duration::from_millis(again.expires_in_ms as u64)
            > expires + Duration::from_millis(200)
    {
        return Err(BadInput(format!(
            "partition `{partition}` is owned by `{}` (epoch {}), which renewed its lease just now: another `labflight serve` runs on this database. Stop it, or start this one with --standby to take over when it stops",
            again.owner, again.epoch
        ))
        .into());
    }
    Ok(())
}

/// Renews `lease` every third of its length, with the journal seq reached. Steps
/// down when the lease is lost, or (a standby may have taken it) when it went
/// unrenewed for its whole length; a lone service only logs a database away.
pub(crate) async fn keep(store: Store, lease: Lease, own: Ownership, metrics: Arc<Metrics>) {
    let every = Duration::from_millis((own.lease_ms / 3).max(10) as u64);
    let length = Duration::from_millis(own.lease_ms.max(0) as u64);
    let mut renewed = std::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        match store
            .renew_lease(&lease, own.lease_ms, metrics.journal_seq.get())
            .await
        {
            Ok(true) => renewed = std::time::Instant::now(),
            Ok(false) => step_down(&format!(
                "partition `{}`: lease of epoch {} taken over by another owner",
                lease.partition, lease.epoch
            )),
            Err(e) if own.standby && renewed.elapsed() > length => step_down(&format!(
                "partition `{}`: lease of epoch {} not renewed for {} ms ({e})",
                lease.partition, lease.epoch, own.lease_ms
            )),
            Err(e) => tracing::error!("renewing the partition lease: {e}"),
        }
    }
}

/// Steps down at once if `e` says this process was fenced.
pub(crate) fn exit_if_fenced(e: &StoreError) {
    if matches!(e, StoreError::Fenced { .. }) {
        step_down(&e.to_string());
    }
}

/// Stops acting for the partition: nothing more is read, written or sent.
pub(crate) fn step_down(why: &str) -> ! {
    eprintln!("error: {why}; stepping down");
    std::process::exit(FENCED_EXIT)
}
