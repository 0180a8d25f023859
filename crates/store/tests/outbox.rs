//! The outbox keeps its order and its ids whatever one event owes (a 200-tube box
//! with many subscriptions: more than 1000 deliveries from one event), and the
//! subscription changes leave no delivery silently lost — on SQLite and PostgreSQL.

use chrono::{Duration, TimeZone, Utc};
use labflight_store::{AttemptOutcome, Batch, OutboxItem, Store, Subscription};

fn item(seq: i64, idx: i64, sub: &str, kind: &str, barcode: &str) -> OutboxItem {
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap() + Duration::seconds(seq);
    OutboxItem {
        // As the service spells them: seq and idx in separate fields.
        webhook_id: format!("msg_R1_{seq}_{idx}_{sub}"),
        seq,
        idx,
        subscription: sub.into(),
        barcode: barcode.into(),
        kind: kind.into(),
        body: "{}".into(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
        delivered_at: None,
        last_status: None,
        last_error: None,
    }
}

fn sub(id: &str, url: &str) -> Subscription {
    Subscription {
        id: id.into(),
        scope: "all".into(),
        url: url.into(),
        secret: "whsec_x".into(),
        active: true,
        disabled_reason: None,
    }
}

async fn exercise(store: Store) {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
    // Event 7 owes 1500 deliveries (750 tubes' worth to two subscriptions), then
    // event 8 owes one more to each: with seq*1000+n numbering, event 7's
    // 1000th delivery would have taken event 8's first place and id.
    let mut batch = Batch::default();
    for idx in 0..1500 {
        let s = if idx % 2 == 0 { "a" } else { "b" };
        batch
            .outbox
            .push(item(7, idx, s, "received", &format!("T-{idx}")));
    }
    batch.outbox.push(item(8, 0, "a", "result", "T-0"));
    batch.outbox.push(item(8, 1, "b", "result", "T-0"));
    store.commit(&batch).await.expect("no id collides");
    assert_eq!(store.outbox(None).await.unwrap().len(), 1502);
    let a = store.pending_for("a", 5000).await.unwrap();
    assert_eq!(a.len(), 751);
    let order: Vec<(i64, i64)> = a.iter().map(|i| (i.seq, i.idx)).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(order[0], (7, 0));
    assert_eq!(order[500], (7, 1000));
    assert_eq!(order[750], (8, 0), "event 8's after all of event 7's");
    let latest = store.latest_outbox(2).await.unwrap();
    assert_eq!((latest[0].seq, latest[0].idx), (8, 1));
    assert_eq!(
        store.oldest_pending_at().await.unwrap(),
        Some(a[0].created_at)
    );

    // Subscriptions: the API's create refuses a taken id; update returns the old.
    assert!(
        store
            .create_subscription(&sub("a", "http://127.0.0.1:1/"), now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .create_subscription(&sub("a", "http://127.0.0.1:2/"), now)
            .await
            .unwrap()
    );
    assert!(
        store
            .create_subscription(&sub("b", "http://127.0.0.1:3/"), now)
            .await
            .unwrap()
    );
    let old = store
        .update_subscription(&sub("a", "http://127.0.0.1:4/"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.url, "http://127.0.0.1:1/");
    assert!(
        store
            .update_subscription(&sub("zz", "http://127.0.0.1:4/"))
            .await
            .unwrap()
            .is_none()
    );
    // A 410 disabled "a" (its items held back); a PUT re-activates it and them.
    store
        .disable_subscription("a", "the endpoint answered 410 Gone")
        .await
        .unwrap();
    assert!(store.pending_for("a", 5000).await.unwrap().is_empty());
    store
        .update_subscription(&sub("a", "http://127.0.0.1:4/"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.pending_for("a", 5000).await.unwrap().len(), 751);
    let subs = store.subscriptions().await.unwrap();
    assert_eq!(subs[0].url, "http://127.0.0.1:4/");

    // A delivery of "b" is in flight when "b" is deleted: its items are dead, with
    // the reason; the in-flight failure does not bring its item back to pending.
    let (existed, dead) = store
        .delete_subscription("b", "subscription `b` was deleted by admin")
        .await
        .unwrap();
    assert!(existed);
    assert_eq!(dead, 751);
    let b_first = "msg_R1_7_1_b";
    store
        .record_attempt(
            b_first,
            now,
            Some(503),
            Some("HTTP 503"),
            AttemptOutcome::Retry(now),
        )
        .await
        .unwrap();
    let items = store.outbox(Some("T-1")).await.unwrap();
    assert_eq!(items[0].status, "dead", "{items:?}");
    assert!(store.pending_for("b", 10).await.unwrap().is_empty());
    let b_result = store
        .outbox(Some("T-0"))
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.subscription == "b")
        .unwrap();
    assert_eq!(b_result.status, "dead");
    assert!(
        b_result.last_error.as_deref().unwrap().contains("deleted"),
        "{b_result:?}"
    );
    // Nobody would send it: a dead item of a deleted subscription is not re-queued.
    assert!(!store.resend(b_first, now).await.unwrap());
    assert!(!store.delete_subscription("b", "again").await.unwrap().0);

    // A delivered result is listed for the start-up reconciliation.
    assert!(store.delivered_result_barcodes().await.unwrap().is_empty());
    store
        .record_attempt(
            "msg_R1_8_0_a",
            now,
            Some(200),
            None,
            AttemptOutcome::Delivered,
        )
        .await
        .unwrap();
    assert_eq!(store.delivered_result_barcodes().await.unwrap(), ["T-0"]);
}

#[tokio::test]
async fn sqlite_outbox_order_and_subscription_changes() {
    let dir = std::env::temp_dir().join(format!("lf-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.db");
    let _ = std::fs::remove_file(&file);
    let store = Store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    exercise(store).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn postgres_outbox_order_and_subscription_changes() {
    let url = labflight_store::testing::local_postgres_database("outbox").await;
    let store = Store::open(&url).await.unwrap();
    exercise(store).await;
}
