//! Sign-in and reads under abuse, against the real binary: a login flood is
//! throttled (429 with Retry-After) while the core keeps accepting telemetry and
//! the right password works once the wait is over; sign-out and a password
//! change close open live feeds; a lab cannot read another lab's tube; every
//! answer carries the security headers; oversized fields are refused naming the
//! field; an anonymous caller never sees internal error text.

mod support;

use reqwest::StatusCode;
use rumqttc::{AsyncClient, QoS};
use serde_json::{Value, json};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::accounts::{self, PASSWORD, add_user};
use support::*;

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(http_port: u16) -> Api {
        Api {
            base: format!("http://127.0.0.1:{http_port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// (status, Retry-After, body)
    async fn login(&self, user: &str, password: &str) -> (StatusCode, Option<u64>, Value) {
        accounts::login(&self.http, &self.base, user, password).await
    }

    async fn token(&self, user: &str) -> String {
        accounts::token(&self.http, &self.base, user).await
    }

    async fn get(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, token: Option<&str>, path: &str, body: String) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    /// Opens the live feed; the response streams `view` events.
    async fn open_feed(&self, token: &str) -> reqwest::Response {
        let r = self
            .http
            .get(format!("{}/api/v1/live", self.base))
            .bearer_auth(token)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r
    }
}

/// Reads a live feed (bounded) until it has sent a `view` event; returns the text.
async fn first_view(feed: &mut reqwest::Response) -> String {
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !text.contains("event: view") || !text.contains("\n\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no view event on the feed: {text}");
        match tokio::time::timeout(left, feed.chunk()).await {
            Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
            other => panic!("the feed ended before a view: {other:?} {text}"),
        }
    }
    text
}

/// Reads a live feed until it ends (bounded); returns what came after now.
async fn until_closed(feed: &mut reqwest::Response, within: Duration) -> String {
    let mut text = String::new();
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "the feed is still open {within:?} after its session ended: {text}"
        );
        match tokio::time::timeout(left, feed.chunk()).await {
            Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
            Ok(Ok(None)) | Ok(Err(_)) => return text,
            Err(_) => continue,
        }
    }
}

fn accepted_telemetry(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with("labflight_events_accepted_total{kind=\"drone_telemetry\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .map_or(0, |n| n as u64)
}

#[test]
fn a_login_flood_is_throttled_while_the_core_keeps_accepting_telemetry() {
    let dir = Scratch::new("fault-auth-flood");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    add_user(&db, "coord", "coordinator", None);
    let (mqtt_port, http_port) = (free_port(), free_port());
    let config = serve_config(&dir, 1.0, mqtt_port, http_port, &db);
    let mut serve = Proc::spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    serve.wait_line("dashboard:", Duration::from_secs(60));
    let http = format!("127.0.0.1:{http_port}");
    let (_, drones) = http_get(&http, "/api/v1/drones");
    let drones: Value = serde_json::from_str(&drones).unwrap();
    let drone = drones[0]["id"].as_str().unwrap().to_owned();
    let device_key = printed_device_key(&serve).expect("serve prints its broker's device key");
    let (lat, lon) = (
        drones[0]["position"]["lat"].as_f64().unwrap(),
        drones[0]["position"]["lon"].as_f64().unwrap(),
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let api = Arc::new(Api::new(http_port));
        let before = accepted_telemetry(
            &api.http
                .get(format!("{}/metrics", api.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );

        // A device keeps reporting through the flood.
        // The drone logs in as itself.
        let (device, mut events) =
            AsyncClient::new(device_login(mqtt_port, &drone, &device_key), 100);
        tokio::spawn(async move { while events.poll().await.is_ok() {} });
        let flooding = Arc::new(AtomicBool::new(true));
        let published = Arc::new(AtomicU64::new(0));
        let reporter = {
            let (api, flooding, published) = (
                Arc::clone(&api),
                Arc::clone(&flooding),
                Arc::clone(&published),
            );
            tokio::spawn(async move {
                let topic = format!("labflight/v1/drones/{drone}/telemetry");
                for i in 0..600u32 {
                    if !flooding.load(Ordering::SeqCst) {
                        break;
                    }
                    let (_, status) = api.get(None, "/api/v1/status").await;
                    let now = status["now"].as_str().unwrap().to_owned();
                    let body = json!({"time": now, "lat": lat, "lon": lon, "alt_m": 0.0,
                        "battery_pct": 90.0 - f64::from(i % 50), "state": "idle"});
                    device
                        .publish(topic.clone(), QoS::AtLeastOnce, false, body.to_string())
                        .await
                        .unwrap();
                    published.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        // Telemetry accepted while the flood is still going.
        let watcher = {
            let (api, flooding) = (Arc::clone(&api), Arc::clone(&flooding));
            tokio::spawn(async move {
                let mut seen_during = before;
                for _ in 0..1200 {
                    if !flooding.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(r) = api.http.get(format!("{}/metrics", api.base)).send().await {
                        let n = accepted_telemetry(&r.text().await.unwrap_or_default());
                        if flooding.load(Ordering::SeqCst) {
                            seen_during = seen_during.max(n);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                seen_during
            })
        };

        // The flood: 16 clients, 25 wrong passwords each, for the coordinator and for made-up names.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        let mut clients = Vec::new();
        for c in 0..16 {
            let api = Arc::clone(&api);
            clients.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for i in 0..25 {
                    let user = if i % 2 == 0 {
                        "coord".to_owned()
                    } else {
                        format!("ghost-{c}-{i}")
                    };
                    let (code, retry, body) = api.login(&user, "wrong-password-guess").await;
                    got.push((code, retry, body));
                }
                got
            }));
        }
        let mut answers = Vec::new();
        for c in clients {
            answers.extend(c.await.unwrap());
        }
        let flood_secs = started.elapsed().as_secs();
        flooding.store(false, Ordering::SeqCst);
        let seen_during = watcher.await.unwrap();
        reporter.await.unwrap();

        assert_eq!(answers.len(), 400);
        let throttled: Vec<_> = answers
            .iter()
            .filter(|a| a.0 == StatusCode::TOO_MANY_REQUESTS)
            .collect();
        let wrong = answers
            .iter()
            .filter(|a| a.0 == StatusCode::UNAUTHORIZED)
            .count();
        for (code, _, body) in &answers {
            // 503: no password-hashing slot freed up in time (the pool is bounded).
            assert!(
                [
                    StatusCode::TOO_MANY_REQUESTS,
                    StatusCode::UNAUTHORIZED,
                    StatusCode::SERVICE_UNAVAILABLE
                ]
                .contains(code),
                "a flood answer was {code}: {body}"
            );
        }
        for (_, retry, body) in &throttled {
            let retry = retry.unwrap_or_else(|| panic!("429 without Retry-After: {body}"));
            assert!((1..=10).contains(&retry), "Retry-After {retry}");
            assert!(
                body["error"]
                    .as_str()
                    .unwrap()
                    .contains("too many sign-in attempts"),
                "{body}"
            );
        }
        // Only the address's burst, and what refilled during the flood, reached argon2.
        assert!(
            wrong as u64 <= 30 + flood_secs + 2,
            "{wrong} wrong passwords were checked in {flood_secs} s"
        );
        assert!(
            throttled.len() >= 300,
            "only {} of 400 throttled",
            throttled.len()
        );

        // The core kept taking telemetry during the flood ...
        assert!(published.load(Ordering::SeqCst) > 0);
        assert!(
            seen_during > before,
            "no telemetry accepted during the flood (before {before})"
        );
        // ... and all of it once the flood is over.
        let want = before + published.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let n = accepted_telemetry(
                &api.http
                    .get(format!("{}/metrics", api.base))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
            );
            if n >= want {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "accepted {n} of {want} telemetry messages"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // The right password works once the throttle's wait has passed.
        let mut signed_in = false;
        for _ in 0..6 {
            let r = api
                .http
                .post(format!("{}/api/v1/auth/login", api.base))
                .body(json!({"user": "coord", "password": PASSWORD}).to_string())
                .send()
                .await
                .unwrap();
            let code = r.status();
            let retry: Option<u64> = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse().ok());
            if code == StatusCode::OK {
                let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap();
                assert!(
                    !cookie.contains("Secure"),
                    "plain http without public_url: {cookie}"
                );
                signed_in = true;
                break;
            }
            let body = r.text().await.unwrap_or_default();
            assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
            let wait = retry.expect("Retry-After");
            assert!(wait <= 10, "Retry-After {wait}");
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
        assert!(
            signed_in,
            "the coordinator could not sign in after the flood"
        );
    });
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "service still running"
    );
}

#[test]
fn sessions_labs_headers_limits_and_errors_hold_at_the_edge() {
    let dir = Scratch::new("fault-auth-edge");
    let db = fresh_postgres("fault_auth");
    let name = format!("lf_fault_auth_{}", std::process::id());
    add_user(&db, "coord", "coordinator", None);
    add_user(&db, "watcher", "viewer", None);
    for lab in ["LAB-PH", "LAB-CH", "LAB-MCH"] {
        add_user(&db, &format!("tech-{lab}"), "lab", Some(lab));
    }
    // Simulated devices on a private broker bring the day's tubes, boxes and missions.
    let broker = Mosquitto::start();
    let http_port = free_port();
    let config = serve_config(&dir, 300.0, 0, http_port, &db);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("public_url = \"https://labflight.example\"\n");
    std::fs::write(&config, text).unwrap();
    let mut serve = Proc::spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &[("LABFLIGHT_MQTT_URL", &broker.url())],
    );
    serve.wait_line("dashboard:", Duration::from_secs(60));
    let _devices = Proc::spawn(
        &[
            "devices",
            "--mqtt",
            &broker.url(),
            "--scenario",
            short_scenario().to_str().unwrap(),
            "--quiet",
            "--max-seconds",
            "300",
        ],
        &[],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api = Api::new(http_port);

        // Security headers, on the app and on the API.
        for path in ["/", "/api/v1/status", "/api/v1/dashboard"] {
            let r = api.http.get(format!("{}{path}", api.base)).send().await.unwrap();
            let h = r.headers();
            let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(csp.contains("script-src 'self'"), "{path}: CSP {csp:?}");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: CSP {csp:?}");
            assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{path}");
            assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
            assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer", "{path}");
        }

        // Oversized fields are refused, naming the field and its limit.
        let (code, body) = api
            .post(None, "/api/v1/auth/login", json!({"user": "coord", "password": "p".repeat(5000)}).to_string())
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"].as_str().unwrap().contains("password is 5000 characters, at most 256"), "{body}");
        let (code, body) = api
            .post(None, "/api/v1/auth/login", json!({"user": "u".repeat(65), "password": "x"}).to_string())
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"].as_str().unwrap().contains("user is 65 characters, at most 64"), "{body}");
        let (code, _) = api
            .post(None, "/api/v1/auth/login", format!("{{\"user\":\"{}\"}}", "u".repeat(20_000)))
            .await;
        assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
        // Served behind https (public_url): the session cookie is Secure.
        let r = api
            .http
            .post(format!("{}/api/v1/auth/login", api.base))
            .body(json!({"user": "coord", "password": PASSWORD}).to_string())
            .send()
            .await
            .unwrap();
        let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
        let coord = api.token("coord").await;
        let (code, body) = api.get(Some(&coord), &format!("/api/v1/tubes/{}", "T".repeat(65))).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"].as_str().unwrap().contains("barcode is 65 characters, at most 64"), "{body}");
        let (code, body) = api
            .post(
                Some(ADMIN_TOKEN),
                "/api/v1/hooks/subscriptions",
                json!({"id": "big", "scope": "all", "url": format!("http://127.0.0.1/{}", "a".repeat(3000)), "secret": ""}).to_string(),
            )
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains("url is 3017 characters, at most 2048"), "{body}");
        let lab_ph = api.token("tech-LAB-PH").await;
        let (code, body) = api
            .post(Some(&lab_ph), "/api/v1/lab/tubes/T-1/rejected", json!({"reason": "r".repeat(501)}).to_string())
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains("reason is 501 characters, at most 500"), "{body}");

        // A lab reads only its own lab's items: wait (bounded) for a lab with boxes.
        let labs = ["LAB-PH", "LAB-CH", "LAB-MCH"];
        let mut tokens = Vec::new();
        for lab in labs {
            tokens.push(if lab == "LAB-PH" { lab_ph.clone() } else { api.token(&format!("tech-{lab}")).await });
        }
        let deadline = Instant::now() + Duration::from_secs(180);
        let (owner, barcode) = 'found: loop {
            for (i, t) in tokens.iter().enumerate() {
                let (_, boxes) = api.get(Some(t), "/api/v1/boxes").await;
                if let Some(b) = boxes.as_array().and_then(|b| b.first()) {
                    break 'found (i, b["tubes"][0]["barcode"].as_str().unwrap().to_owned());
                }
            }
            assert!(Instant::now() < deadline, "no box reached any lab's scope");
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let other = (owner + 1) % labs.len();
        let (code, body) = api.get(Some(&tokens[owner]), &format!("/api/v1/tubes/{barcode}")).await;
        assert_eq!(code, StatusCode::OK, "{} reads its own tube: {body}", labs[owner]);
        let (code, body) = api.get(Some(&tokens[other]), &format!("/api/v1/tubes/{barcode}")).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{} read {}'s tube: {body}", labs[other], labs[owner]);
        let (code, _) = api.get(Some(&coord), &format!("/api/v1/tubes/{barcode}")).await;
        assert_eq!(code, StatusCode::OK, "a coordinator reads every tube");
        for (i, t) in tokens.iter().enumerate() {
            // Drones first: a mission the lab gets between the two reads is then in
            // the later list of missions, not missing from an earlier one.
            let (_, drones) = api.get(Some(t), "/api/v1/drones").await;
            let (_, missions) = api.get(Some(t), "/api/v1/missions").await;
            for m in missions.as_array().unwrap() {
                assert_eq!(m["lab"], labs[i], "{} sees another lab's mission {m}", labs[i]);
            }
            for d in drones.as_array().unwrap() {
                if let Some(m) = d["status"]["mission"].as_str() {
                    assert!(
                        missions.as_array().unwrap().iter().any(|x| x["id"] == m),
                        "{} sees another lab's mission {m} on drone {}", labs[i], d["id"]
                    );
                }
            }
            let (_, view) = api.get(Some(t), "/api/v1/dashboard").await;
            for card in view["missions"].as_array().unwrap() {
                assert_eq!(card["lab"], labs[i], "{} sees another lab's card {card}", labs[i]);
            }
            for b in view["boxes"].as_array().unwrap() {
                assert!(
                    i == owner || !b["barcodes"].as_array().unwrap().iter().any(|x| x == &json!(barcode)),
                    "{} sees {}'s box {b}", labs[i], labs[owner]
                );
            }
        }
        let (_, all) = api.get(Some(&coord), "/api/v1/missions").await;
        let mission_labs: std::collections::BTreeSet<_> = all.as_array().unwrap().iter().map(|m| m["lab"].as_str().unwrap().to_owned()).collect();
        assert!(!mission_labs.is_empty(), "a coordinator sees every mission");
        // The other lab's live feed does not carry the tube either.
        let mut feed = api.open_feed(&tokens[other]).await;
        let text = first_view(&mut feed).await;
        assert!(!text.contains(&format!("\"{barcode}\"")), "{}'s feed names {}'s tube {barcode}", labs[other], labs[owner]);
        drop(feed);

        // Sign-out closes the feed that session opened, at once.
        let watcher = api.token("watcher").await;
        let mut feed = api.open_feed(&watcher).await;
        first_view(&mut feed).await;
        let (code, _) = api.post(Some(&watcher), "/api/v1/auth/logout", String::new()).await;
        assert_eq!(code, StatusCode::NO_CONTENT);
        let tail = until_closed(&mut feed, Duration::from_secs(15)).await;
        assert!(tail.contains("event: signed_out"), "{tail}");
        assert_eq!(api.get(Some(&watcher), "/api/v1/dashboard").await.0, StatusCode::UNAUTHORIZED);

        // A password change ends every session of the user, and their feeds.
        let first = api.token("watcher").await;
        let second = api.token("watcher").await;
        let mut feed = api.open_feed(&second).await;
        first_view(&mut feed).await;
        let (code, body) = api
            .post(Some(&first), "/api/v1/auth/password", json!({"current": "not-it-at-all", "new": "another-long-password"}).to_string())
            .await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
        let (code, body) = api
            .post(Some(&first), "/api/v1/auth/password", json!({"current": PASSWORD, "new": "another-long-password"}).to_string())
            .await;
        assert_eq!(code, StatusCode::NO_CONTENT, "{body}");
        let tail = until_closed(&mut feed, Duration::from_secs(15)).await;
        assert!(tail.contains("event: signed_out"), "{tail}");
        assert_eq!(api.get(Some(&first), "/api/v1/auth/me").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(api.get(Some(&second), "/api/v1/auth/me").await.0, StatusCode::UNAUTHORIZED);
        let mut code = StatusCode::TOO_MANY_REQUESTS;
        for _ in 0..3 {
            let (c, retry, _) = api.login("watcher", "another-long-password").await;
            code = c;
            if c != StatusCode::TOO_MANY_REQUESTS {
                break;
            }
            tokio::time::sleep(Duration::from_secs(retry.unwrap_or(1).min(10))).await;
        }
        assert_eq!(code, StatusCode::OK, "the new password works");

        // The store fails under the sign-in: an anonymous caller hears only
        // "internal error" and a correlation id, never the database's words.
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &name, "-c", "ALTER TABLE users RENAME TO users_gone"])
            .output()
            .expect("psql runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for (what, token) in [("login", None), ("bearer", Some("an-unknown-session-token"))] {
            let (code, body) = match token {
                None => api.post(None, "/api/v1/auth/login", json!({"user": "someone", "password": "whatever-it-is"}).to_string()).await,
                Some(t) => api.get(Some(t), "/api/v1/dashboard").await,
            };
            assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {body}");
            let error = body["error"].as_str().unwrap();
            assert!(error.starts_with("internal error (correlation id "), "{what}: {error}");
            for leak in ["users", "relation \"", "does not exist", "sqlx", "database"] {
                assert!(!error.contains(leak), "{what}: `{leak}` leaked: {error}");
            }
        }
    });
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "service still running"
    );
}

/// Runs `serve` with `config`, which must be refused at start: (exit code, stderr).
fn refused_at_start(config: &std::path::Path) -> (Option<i32>, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--config", config.to_str().unwrap()])
        .current_dir(repo())
        .env_remove("LABFLIGHT_ADMIN_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "serve started with {}",
                std::fs::read_to_string(config).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn short_tokens_and_a_bad_public_url_stop_serve_naming_the_setting_never_the_token() {
    let dir = Scratch::new("fault-auth-config");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let config = serve_config(&dir, 60.0, free_port(), free_port(), &db);
    let base = std::fs::read_to_string(&config).unwrap();
    for (extra, owner, secret) in [
        (
            "[labs]\nLAB-PH = \"short-lab-tok\"\n",
            "labs.LAB-PH",
            Some("short-lab-tok"),
        ),
        ("public_url = \"ftp://x\"\n", "public_url `ftp://x`", None),
    ] {
        std::fs::write(&config, format!("{base}{extra}")).unwrap();
        let (code, stderr) = refused_at_start(&config);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(owner), "{owner} not named: {stderr}");
        if let Some(secret) = secret {
            assert!(!stderr.contains(secret), "the token leaked: {stderr}");
        }
    }
    let short_admin = base.replace(ADMIN_TOKEN, "adm-short");
    std::fs::write(&config, short_admin).unwrap();
    let (code, stderr) = refused_at_start(&config);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("admin_token") && !stderr.contains("adm-short"),
        "{stderr}"
    );
}
