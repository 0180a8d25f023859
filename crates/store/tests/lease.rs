//! Partition leases fence their writers, on SQLite and PostgreSQL: one owner per
//! epoch; a standby takes an expired lease under the next epoch; the old owner's
//! writes are then refused whole and its renewal fails; a lone service restarting
//! takes the lease at once.

use chrono::{TimeZone, Utc};
use labflight_core::{Event, Stamped};
use labflight_store::{Batch, Claim, JournalEntry, Store, StoreError};

fn batch(seq: i64) -> Batch {
    Batch {
        events: vec![JournalEntry {
            seq,
            source: "clock".into(),
            digest: None,
            stamped: Stamped {
                at: Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap(),
                event: Event::Tick,
            },
        }],
        ..Default::default()
    }
}

async fn exercise(store: Store) {
    let p = "longhua";
    let a = store
        .claim_partition(p, "serve-a", 300, Claim::WhenFree)
        .await
        .unwrap()
        .expect("a free partition is claimed");
    assert_eq!(a.epoch, 1);
    assert_eq!(
        store
            .claim_partition(p, "serve-b", 300, Claim::WhenFree)
            .await
            .unwrap(),
        None,
        "a held lease is not taken by a standby"
    );
    let owner_a = store.fenced(&a);
    owner_a.commit(&batch(1)).await.unwrap();
    assert!(store.renew_lease(&a, 300, 1).await.unwrap());
    store.standby_heartbeat(p, "serve-b", 1).await.unwrap();
    assert_eq!(store.standbys().await.unwrap()[0].member, "serve-b");

    // A stops renewing (paused); B waits for the lease to expire, bounded.
    let mut b = None;
    for _ in 0..50 {
        b = store
            .claim_partition(p, "serve-b", 300, Claim::WhenFree)
            .await
            .unwrap();
        if b.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let b = b.expect("the expired lease is taken over within 2.5 s");
    assert_eq!(b.epoch, 2);
    store.leave_standby(p, "serve-b").await.unwrap();

    // The zombie wakes: its write is refused whole, its renewal fails.
    match owner_a.commit(&batch(2)).await {
        Err(StoreError::Fenced { held, current, .. }) => assert_eq!((held, current), (1, 2)),
        other => panic!("the old owner's write must be fenced, got {other:?}"),
    }
    assert!(owner_a.put_snapshot(2, Utc::now(), "{}").await.is_err());
    assert!(
        owner_a
            .mark_published(&["c".into()], Utc::now())
            .await
            .is_err()
    );
    assert!(!store.renew_lease(&a, 300, 2).await.unwrap());
    assert_eq!(
        store.last_seq().await.unwrap(),
        1,
        "nothing of the zombie's batch"
    );

    let owner_b = store.fenced(&b);
    owner_b.commit(&batch(2)).await.unwrap();
    assert_eq!(store.last_seq().await.unwrap(), 2);

    // A lone service restarting takes it at once, fencing whoever held it.
    let c = store
        .claim_partition(p, "serve-c", 300, Claim::Now)
        .await
        .unwrap()
        .expect("Claim::Now always takes it");
    assert_eq!(c.epoch, 3);
    assert!(owner_b.commit(&batch(3)).await.is_err());
    let leases = store.leases().await.unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!((leases[0].owner.as_str(), leases[0].epoch), ("serve-c", 3));
    assert!(leases[0].expires_in_ms > 0);
    // A clean shutdown lets it go at once.
    store.release_lease(&c).await.unwrap();
    assert!(store.leases().await.unwrap()[0].expires_in_ms < 0);
    assert!(
        store
            .claim_partition(p, "serve-d", 300, Claim::WhenFree)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn sqlite_leases_fence_the_old_owner() {
    let dir = std::env::temp_dir().join(format!("lf-lease-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("l.db");
    let _ = std::fs::remove_file(&file);
    let store = Store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    exercise(store).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn postgres_leases_fence_the_old_owner() {
    let url = labflight_store::testing::local_postgres_database("lease").await;
    exercise(Store::open(&url).await.unwrap()).await;
}

/// Two partitions of a city on one PostgreSQL database: each in its own schema,
/// with its own journal and lease; a fence in one does not reach the other, and
/// every partition's store is found for `cluster status`.
#[tokio::test]
async fn postgres_partitions_live_apart_in_their_schemas() {
    let url = labflight_store::testing::local_postgres_database("place").await;
    let north = Store::open_partition(&url, Some("LH-PH")).await.unwrap();
    let south = Store::open_partition(&url, Some("FT-PH")).await.unwrap();
    // Opening again (a second process) finds the schema there.
    let north_again = Store::open_partition(&url, Some("LH-PH")).await.unwrap();
    let a = north
        .claim_partition("LH-PH", "serve-a", 10_000, Claim::WhenFree)
        .await
        .unwrap()
        .unwrap();
    let b = south
        .claim_partition("FT-PH", "serve-a", 10_000, Claim::WhenFree)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.epoch, b.epoch), (1, 1));
    north.fenced(&a).commit(&batch(1)).await.unwrap();
    south.fenced(&b).commit(&batch(1)).await.unwrap();
    south.fenced(&b).commit(&batch(2)).await.unwrap();
    assert_eq!(north_again.last_seq().await.unwrap(), 1);
    assert_eq!(south.last_seq().await.unwrap(), 2);
    // Taking one partition over fences its old owner there only.
    let a2 = north_again
        .claim_partition("LH-PH", "serve-b", 10_000, Claim::Now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a2.epoch, 2);
    assert!(matches!(
        north.fenced(&a).commit(&batch(2)).await,
        Err(StoreError::Fenced { .. })
    ));
    south.fenced(&b).commit(&batch(3)).await.unwrap();
    // The single-district place on the same database holds neither.
    let default = Store::open(&url).await.unwrap();
    assert!(default.leases().await.unwrap().is_empty());
    assert_eq!(default.last_seq().await.unwrap(), 0);
    let schemas: Vec<String> = default
        .partition_stores(&url)
        .await
        .unwrap()
        .into_iter()
        .map(|(schema, _)| schema)
        .collect();
    assert_eq!(schemas, ["lf_ft_ph", "lf_lh_ph"]);
    let mut owners = Vec::new();
    for (_, store) in default.partition_stores(&url).await.unwrap() {
        for l in store.leases().await.unwrap() {
            owners.push((l.partition, l.owner, l.epoch));
        }
    }
    assert_eq!(
        owners,
        [
            ("FT-PH".to_owned(), "serve-a".to_owned(), 1),
            ("LH-PH".to_owned(), "serve-b".to_owned(), 2)
        ]
    );
}

/// A process paused (SIGSTOP) in the middle of a commit keeps its fence check's
/// share lock on the lease row. Once its lease has expired, a standby's claim
/// must not wait on that lock for ever: PostgreSQL ends the paused session's idle
/// transaction (`idle_in_transaction_session_timeout`), and the standby takes
/// the partition; the paused owner's commit is then refused.
#[tokio::test]
async fn postgres_a_paused_owner_mid_commit_does_not_block_the_takeover() {
    let url = labflight_store::testing::local_postgres_database("paused").await;
    let store = Store::open(&url).await.unwrap();
    let p = "longhua";
    let a = store
        .claim_partition(p, "serve-a", 300, Claim::WhenFree)
        .await
        .unwrap()
        .unwrap();
    let owner_a = store.fenced(&a);
    let paused = labflight_store::testing::paused_mid_commit(&owner_a)
        .await
        .unwrap();
    // The lease expires (300 ms); the standby claims, bounded by 30 s.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let standby = Store::open(&url).await.unwrap();
    let claimed = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        standby.claim_partition(p, "serve-b", 10_000, Claim::WhenFree),
    )
    .await
    .expect("the takeover does not wait on the paused owner's lock for ever")
    .unwrap()
    .expect("the expired lease is taken");
    assert_eq!(claimed.epoch, 2);
    drop(paused);
    assert!(matches!(
        owner_a.commit(&batch(1)).await,
        Err(StoreError::Fenced { .. })
    ));
}
