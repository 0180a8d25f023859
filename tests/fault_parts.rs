//! A part of the service goes away mid-day, through the real binary: the broker is
//! stopped, then the database. While a part is down `/healthz` answers 503 naming
//! it and `/metrics` says the same (`labflight_part_up`); the service keeps running
//! and, once the part is back, is healthy again without a restart. What a device
//! sent while the database was down is not lost: it is stored once the database
//! answers again.

mod support;

use rumqttc::{AsyncClient, QoS};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::*;

/// `/healthz` as (status, body).
fn health(http: &str) -> (u16, Value) {
    let (code, body) = http_get(http, "/healthz");
    (code, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn part_up(report: &Value, name: &str) -> Option<bool> {
    report["parts"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)?["up"]
        .as_bool()
}

/// Polls `/healthz` (bounded) until `want` holds; returns the last answer.
fn health_until(
    http: &str,
    within: Duration,
    what: &str,
    want: impl Fn(u16, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    let mut last = (0, Value::Null);
    while Instant::now() < deadline {
        last = health(http);
        if want(last.0, &last.1) {
            return last.1;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "{what}: not within {within:?}; last /healthz: {} {}",
        last.0, last.1
    );
}

fn metric(http: &str, line_start: &str) -> Option<f64> {
    let (_, text) = http_get(http, "/metrics");
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
}

#[test]
fn healthz_names_the_broker_while_it_is_down_and_recovers_with_it() {
    let mut broker = Mosquitto::start();
    let dir = Scratch::new("fault-broker");
    let http_port = free_port();
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let config = serve_config(&dir, 60.0, 0, http_port, &db);
    let mut serve = Proc::spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &[("LABFLIGHT_MQTT_URL", &broker.url())],
    );
    serve.wait_line("dashboard:", Duration::from_secs(60));
    let http = format!("127.0.0.1:{http_port}");
    let healthy = health_until(
        &http,
        Duration::from_secs(30),
        "healthy at start",
        |c, _| c == 200,
    );
    for part in ["database", "broker", "core", "delivery", "outbox"] {
        assert_eq!(part_up(&healthy, part), Some(true), "{part}: {healthy}");
    }

    broker.stop();
    let down = health_until(
        &http,
        Duration::from_secs(30),
        "503 naming the broker",
        |c, r| c == 503 && part_up(r, "broker") == Some(false),
    );
    assert_eq!(down["status"], "unhealthy", "{down}");
    assert_eq!(
        part_up(&down, "database"),
        Some(true),
        "only the broker is down: {down}"
    );
    assert_eq!(
        metric(&http, "labflight_part_up{part=\"broker\"}"),
        Some(0.0),
        "the metric says so too"
    );
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "the service keeps running"
    );

    broker.start_again();
    health_until(
        &http,
        Duration::from_secs(60),
        "healthy again with the broker back",
        |c, _| c == 200,
    );
    assert_eq!(
        metric(&http, "labflight_part_up{part=\"broker\"}"),
        Some(1.0)
    );
    assert!(
        metric(&http, "labflight_mqtt_reconnects_total").unwrap_or(0.0) >= 1.0,
        "the reconnect is counted"
    );
}

#[test]
fn a_database_restart_mid_day_is_reported_waited_out_and_loses_nothing() {
    let pg = support::postgres::PrivatePostgres::start();
    let dir = Scratch::new("fault-db");
    let (mqtt_port, http_port) = (free_port(), free_port());
    let config = serve_config(&dir, 60.0, mqtt_port, http_port, &pg.url());
    let mut serve = Proc::spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    serve.wait_line("dashboard:", Duration::from_secs(60));
    let key = printed_device_key(&serve).expect("serve prints its broker's device key");
    let http = format!("127.0.0.1:{http_port}");
    health_until(
        &http,
        Duration::from_secs(30),
        "healthy at start",
        |c, _| c == 200,
    );
    pg.stop();
    let down = health_until(
        &http,
        Duration::from_secs(30),
        "503 naming the database",
        |c, r| c == 503 && part_up(r, "database") == Some(false),
    );
    let text = down.to_string();
    assert!(
        !text.contains("127.0.0.1") && !text.contains("postgres://"),
        "no internal error text for an anonymous caller: {text}"
    );

    // A box is sealed while the database is away: accepted by the broker, held.
    let box_id = "BX-LH-C002-DB1";
    let (_, status) = http_get(&http, "/api/v1/status");
    let now = serde_json::from_str::<Value>(&status).unwrap()["now"]
        .as_str()
        .unwrap()
        .to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (c, mut ev) = AsyncClient::new(device_login(mqtt_port, box_id, &key), 10);
        let poll = tokio::spawn(async move { while ev.poll().await.is_ok() {} });
        let body = carry::sealed_box(&now, "LH-C002", &["DB-0001"]);
        c.publish(
            format!("labflight/v1/boxes/{box_id}/events"),
            QoS::AtLeastOnce,
            false,
            body.to_string(),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        poll.abort();
    });
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "the service waits for its database instead of exiting"
    );

    pg.start_again();
    health_until(
        &http,
        Duration::from_secs(60),
        "healthy again with the database back",
        |c, _| c == 200,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut custody = 0;
    while Instant::now() < deadline && custody != 200 {
        custody = http_get(&http, "/api/v1/tubes/DB-0001").0;
        std::thread::sleep(Duration::from_millis(250));
    }
    let (_, metrics) = http_get(&http, "/metrics");
    let rejected: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("labflight_messages_rejected"))
        .collect();
    assert_eq!(
        custody, 200,
        "the seal sent while the database was down was stored (rejections: {rejected:?})"
    );
    let steps = custody_by_tube(&pg.url());
    assert_eq!(
        steps
            .get("DB-0001")
            .map(|s| s.iter().filter(|x| *x == "sealed_in_box").count()),
        Some(1),
        "stored once: {steps:?}"
    );
}
