//! The audit log keeps every line when many writers append at once: on PostgreSQL
//! several connections (or services) race for the next id and none is refused.

use chrono::{TimeZone, Utc};
use labflight_store::{AuditEntry, Store};

/// Appends `writers` × `each` lines concurrently, targets tagged with `tag`.
async fn append_concurrently(store: Store, tag: &'static str, writers: usize, each: usize) {
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..each {
                    let entry = AuditEntry {
                        at,
                        user: format!("lab-{w}"),
                        role: "lab".into(),
                        action: "post_result".into(),
                        target: Some(format!("{tag}{w:02}{i:03}")),
                        outcome: "ok".into(),
                        detail: None,
                    };
                    store.audit(&entry).await.expect("every audit line is kept");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// Every one of `lines` appended lines is in the log, once.
async fn assert_all_kept(store: &Store, lines: usize) {
    let log = store.audit_log(10_000).await.unwrap();
    assert_eq!(log.len(), lines, "no line refused for a raced id");
    let targets: std::collections::BTreeSet<_> =
        log.iter().filter_map(|e| e.target.clone()).collect();
    assert_eq!(targets.len(), lines, "each line once");
}

#[tokio::test]
async fn postgres_audit_log_keeps_every_line_of_racing_writers() {
    let url = labflight_store::testing::local_postgres_database("audit").await;
    // Two stores on one database: two services' pools, five connections each.
    let (a, b) = (
        Store::open(&url).await.unwrap(),
        Store::open(&url).await.unwrap(),
    );
    tokio::join!(
        append_concurrently(a.clone(), "A", 8, 25),
        append_concurrently(b, "B", 8, 25)
    );
    assert_all_kept(&a, 2 * 8 * 25).await;
}

#[tokio::test]
async fn sqlite_audit_log_keeps_every_line_of_racing_writers() {
    let dir = std::env::temp_dir().join(format!("lf-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.db");
    let _ = std::fs::remove_file(&file);
    let store = Store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    append_concurrently(store.clone(), "S", 8, 25).await;
    assert_all_kept(&store, 8 * 25).await;
    std::fs::remove_dir_all(&dir).unwrap();
}
