//! The store keeps what it is given, on SQLite and on PostgreSQL: journal order,
//! commands with their published flag, custody, tube and mission rows, run meta.

use chrono::{TimeZone, Utc};
use labflight_core::{CustodyStep, CustodyStepKind, Event, Stamped, TubeBarcode};
use labflight_store::{Batch, JournalEntry, MissionRow, RunMeta, Store, StoredCommand, TubeRow};

fn batch(first_seq: i64) -> Batch {
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
    let events = (0..3)
        .map(|i| JournalEntry {
            seq: first_seq + i,
            source: "clock".into(),
            digest: Some(format!("d{i}")),
            stamped: Stamped {
                at: at + chrono::Duration::seconds(i),
                event: Event::Tick,
            },
        })
        .collect();
    Batch {
        events,
        commands: vec![StoredCommand {
            event_seq: first_seq,
            idx: 0,
            command_id: format!("C{first_seq}-0"),
            kind: "alert".into(),
            topic: "labflight/v1/alerts".into(),
            mission: Some("M-000001".into()),
            body: "{}".into(),
            published: false,
        }],
        custody: vec![(
            first_seq,
            CustodyStep {
                barcode: TubeBarcode::from("T-1"),
                step: CustodyStepKind::SealedInBox,
                at,
                place: Some("LH-C001".into()),
                by: Some("BX-1".into()),
            },
        )],
        tubes: vec![TubeRow {
            barcode: "T-1".into(),
            station: "LH-C001".into(),
            box_id: "BX-1".into(),
            tube_type: "edta".into(),
            drawn_at: at,
            status: format!("status-{first_seq}"),
        }],
        missions: vec![MissionRow {
            mission: "M-000001".into(),
            carrier: "D-01".into(),
            station: "LH-C001".into(),
            lab: "LAB-PH".into(),
            status: format!("status-{first_seq}"),
        }],
        ..Default::default()
    }
}

async fn exercise(store: Store) {
    assert_eq!(store.run_meta().await.unwrap(), None);
    let meta = RunMeta {
        scenario: "longhua".into(),
        policy: "drone".into(),
        seed: 7,
        started_at: Utc.with_ymd_and_hms(2026, 11, 22, 23, 0, 0).unwrap(),
        wall_epoch_ms: 1_790_000_000_000,
        speed: 60.0,
    };
    store.set_run_meta(&meta).await.unwrap();
    assert_eq!(store.run_meta().await.unwrap(), Some(meta));
    store.commit(&batch(1)).await.unwrap();
    store.commit(&batch(4)).await.unwrap();
    assert_eq!(store.last_seq().await.unwrap(), 6);
    let journal = store.journal().await.unwrap();
    assert_eq!(
        journal.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(journal[0], batch(1).events[0]);
    let pending = store.commands(true).await.unwrap();
    assert_eq!(pending.len(), 2);
    store
        .mark_published(&["C1-0".to_owned()], journal[0].stamped.at)
        .await
        .unwrap();
    let pending = store.commands(true).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|c| c.command_id.as_str())
            .collect::<Vec<_>>(),
        vec!["C4-0"]
    );
    assert_eq!(store.commands(false).await.unwrap().len(), 2);
    let custody = store.custody("T-1").await.unwrap();
    assert_eq!(custody.len(), 2, "one step per causing event");
    assert_eq!(custody[0].step, CustodyStepKind::SealedInBox);
    assert!(store.custody("nope").await.unwrap().is_empty());
    let tubes = store.tubes().await.unwrap();
    assert_eq!(tubes.len(), 1);
    assert_eq!(
        tubes[0].status, "status-4",
        "upsert keeps the latest status"
    );
    assert_eq!(store.missions().await.unwrap()[0].status, "status-4");
    // A batch that fails half-way leaves nothing behind.
    assert!(store.commit(&batch(6)).await.is_err(), "seq 6 is taken");
    assert_eq!(store.last_seq().await.unwrap(), 6);
    assert_eq!(store.commands(false).await.unwrap().len(), 2);
}

#[tokio::test]
async fn sqlite_keeps_what_it_is_given() {
    let dir = std::env::temp_dir().join(format!("lf-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.db");
    let _ = std::fs::remove_file(&file);
    let store = Store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    exercise(store).await;
    // Reopening runs the migrations again harmlessly and finds the data.
    let again = Store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    assert_eq!(again.last_seq().await.unwrap(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn postgres_keeps_what_it_is_given() {
    let url = labflight_store::testing::local_postgres_database("store").await;
    let store = Store::open(&url).await.unwrap();
    exercise(store).await;
}

#[tokio::test]
async fn custody_steps_of_one_event_come_in_causal_order() {
    let dir = std::env::temp_dir().join(format!("lf-store-causal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.db");
    let _ = std::fs::remove_file(&file);
    let store = Store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
    let step = |step, at| CustodyStep {
        barcode: TubeBarcode::from("T-9"),
        step,
        at,
        place: Some("LH-C001".into()),
        by: Some("D-01".into()),
    };
    let mut b = batch(1);
    // One loading event records "loaded" and "in flight" at the same instant
    // (the key of the table sorts them by name: in_flight < loaded).
    b.custody = vec![
        (1, step(CustodyStepKind::SealedInBox, at)),
        (
            2,
            step(CustodyStepKind::Loaded, at + chrono::Duration::seconds(1)),
        ),
        (
            2,
            step(CustodyStepKind::InFlight, at + chrono::Duration::seconds(1)),
        ),
        (
            3,
            step(
                CustodyStepKind::ReceivedAtLab,
                at + chrono::Duration::seconds(2),
            ),
        ),
    ];
    store.commit(&b).await.unwrap();
    let want = [
        CustodyStepKind::SealedInBox,
        CustodyStepKind::Loaded,
        CustodyStepKind::InFlight,
        CustodyStepKind::ReceivedAtLab,
    ];
    let one: Vec<_> = store
        .custody("T-9")
        .await
        .unwrap()
        .iter()
        .map(|s| s.step)
        .collect();
    assert_eq!(one, want);
    let all: Vec<_> = store
        .all_custody()
        .await
        .unwrap()
        .iter()
        .map(|s| s.step)
        .collect();
    assert_eq!(all, want);
    std::fs::remove_dir_all(&dir).unwrap();
}
