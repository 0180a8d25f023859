//! The dashboard's API against the real binary: accounts made with `labflight
//! users add`, sign-in (argon2) and roles, the live view and its SSE feed, the
//! coordinator's overrides going through the core with their effect visible,
//! alert acknowledgement, the audit log, replay of a recorded run, OpenAPI.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};
use support::accounts::{self, PASSWORD, add_user, try_add_user};
use support::*;

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn login(&self, user: &str, password: &str) -> (StatusCode, Value) {
        let (code, _, body) = accounts::login(&self.http, &self.base, user, password).await;
        (code, body)
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

    async fn post(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    /// Polls the live view (bounded) until `pred` holds.
    async fn view_until(&self, token: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (code, v) = self.get(Some(token), "/api/v1/dashboard").await;
            if code == StatusCode::OK && pred(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: never seen; last view {v}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[test]
fn bad_user_input_exits_2_and_names_the_field() {
    let dir = Scratch::new("users-bad");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let out = try_add_user(&db, "someone", "boss", None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role boss"));
    let out = try_add_user(&db, "labuser", "lab", None);
    assert_eq!(out.status.code(), Some(2), "a lab user must name its lab");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lab"));
}

#[test]
fn coordinators_steer_viewers_only_look_and_everything_is_audited() {
    let dir = Scratch::new("dashboard-api");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    // A recorded run to replay.
    let runs = dir.path("runs");
    let sim = Command::new(BIN)
        .current_dir(repo())
        .args(["sim", "--scenario"])
        .arg(short_scenario())
        .args(["--seed", "3", "--quiet", "--mkdir", "--out"])
        .arg(runs.join("short-seed3"))
        .output()
        .unwrap();
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    for (name, role, lab) in [
        ("coord", "coordinator", None),
        ("watcher", "viewer", None),
        ("labtech", "lab", Some("LAB-CH")),
    ] {
        add_user(&db, name, role, lab);
    }
    let (mqtt_port, http_port) = (free_port(), free_port());
    let config = serve_config(&dir, 30.0, mqtt_port, http_port, &db);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("runs_dir = \"{}\"\n", runs.display()));
    std::fs::write(&config, text).unwrap();
    let mut serve = Proc::spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    serve.wait_line("dashboard:", Duration::from_secs(60));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api = Api {
            base: format!("http://127.0.0.1:{http_port}"),
            http: reqwest::Client::new(),
        };

        // Sign-in: a wrong password and an unknown user get the same answer.
        let (code, body) = api.login("coord", "wrong-password").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "wrong user or password");
        let (code, _) = api.login("nobody", PASSWORD).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
        let r = api
            .http
            .post(format!("{}/api/v1/auth/login", api.base))
            .body(json!({"user": "coord", "password": PASSWORD}).to_string())
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap()
            .to_owned();
        let body: Value = r.json().await.unwrap();
        assert!(
            body.get("token").is_none(),
            "a browser login keeps the token in the HttpOnly cookie only"
        );
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let session = cookie.split(';').next().unwrap().to_owned();
        let me: Value = api
            .http
            .get(format!("{}/api/v1/auth/me", api.base))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"], "coord");
        assert_eq!(me["role"], "coordinator");
        assert!(me["expires_at"].is_string());

        let coord = api.token("coord").await;
        let viewer = api.token("watcher").await;
        let lab = api.token("labtech").await;

        // Reading needs a sign-in; any role may read.
        assert_eq!(
            api.get(None, "/api/v1/dashboard").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            api.get(None, "/api/v1/map").await.0,
            StatusCode::UNAUTHORIZED
        );
        let (code, map) = api.get(Some(&viewer), "/api/v1/map").await;
        assert_eq!(code, StatusCode::OK);
        assert!(map["stations"]["features"].as_array().unwrap().len() >= 10);
        let view = api
            .view_until(&viewer, "a view with the fleet", |v| {
                v["drones"].as_array().is_some_and(|d| !d.is_empty())
            })
            .await;
        assert_eq!(view["mode"], "live");
        assert_eq!(view["kpis"]["fleet_grounded"], false);
        assert_eq!(
            view["stations"].as_array().unwrap().len(),
            map["stations"]["features"].as_array().unwrap().len()
        );
        let drone = view["drones"][0]["id"].as_str().unwrap().to_owned();

        // Viewers and labs may not steer.
        let (code, body) = api
            .post(Some(&viewer), "/api/v1/control/fleet/ground", json!({}))
            .await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
        assert!(body["error"].as_str().unwrap().contains("viewer"));
        assert_eq!(
            api.post(Some(&lab), "/api/v1/control/fleet/ground", json!({}))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            api.post(None, "/api/v1/control/fleet/ground", json!({}))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );

        // A coordinator grounds the fleet: the effect shows in the live view.
        let (code, body) = api
            .post(Some(&coord), "/api/v1/control/fleet/ground", json!({}))
            .await;
        assert_eq!(code, StatusCode::ACCEPTED, "{body}");
        api.view_until(&viewer, "fleet grounded", |v| {
            v["kpis"]["fleet_grounded"] == true
        })
        .await;
        let (code, _) = api
            .post(
                Some(&coord),
                &format!("/api/v1/control/drones/{drone}/pause"),
                json!({}),
            )
            .await;
        assert_eq!(code, StatusCode::ACCEPTED);
        api.view_until(&viewer, "drone paused", |v| {
            v["drones"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["id"] == drone.as_str() && d["paused"] == true)
        })
        .await;
        assert_eq!(
            api.post(
                Some(&coord),
                &format!("/api/v1/control/drones/{drone}/resume"),
                json!({})
            )
            .await
            .0,
            StatusCode::ACCEPTED
        );
        let (code, _) = api
            .post(Some(&coord), "/api/v1/control/fleet/release", json!({}))
            .await;
        assert_eq!(code, StatusCode::ACCEPTED);
        let view = api
            .view_until(&viewer, "fleet released, with its alert", |v| {
                v["kpis"]["fleet_grounded"] == false
                    && v["alerts"].as_array().is_some_and(|a| !a.is_empty())
            })
            .await;
        // Unknown targets and malformed bodies are refused with the name and value.
        let (code, body) = api
            .post(
                Some(&coord),
                "/api/v1/control/drones/NOPE-9/pause",
                json!({}),
            )
            .await;
        assert_eq!(code, StatusCode::NOT_FOUND);
        assert!(body["error"].as_str().unwrap().contains("NOPE-9"));
        let (code, body) = api
            .post(
                Some(&coord),
                "/api/v1/control/labs/LAB-NONE/unavailable",
                json!({}),
            )
            .await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
        let (code, body) = api
            .post(
                Some(&coord),
                "/api/v1/control/missions/M-1/reassign",
                json!({"pilot": 1}),
            )
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"].as_str().unwrap().contains("drone"));
        let (code, _) = api
            .post(
                Some(&coord),
                "/api/v1/control/missions/M-NONE/reassign",
                json!({"drone": drone}),
            )
            .await;
        assert_eq!(code, StatusCode::NOT_FOUND);

        // Diverting a lab's pending boxes: refused for the same lab or an unknown
        // one; to a lab running every test, accepted, and the lab takes nothing
        // more until a coordinator marks it available again.
        let divert = |to: &str| json!({ "to": to });
        let (code, body) = api
            .post(
                Some(&coord),
                "/api/v1/control/labs/LAB-CH/divert",
                divert("LAB-CH"),
            )
            .await;
        assert_eq!(code, StatusCode::CONFLICT, "{body}");
        assert!(body["error"].as_str().unwrap().contains("both"), "{body}");
        let (code, body) = api
            .post(
                Some(&coord),
                "/api/v1/control/labs/LAB-CH/divert",
                divert("LAB-NONE"),
            )
            .await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("LAB-NONE"),
            "{body}"
        );
        assert_eq!(
            api.post(
                Some(&viewer),
                "/api/v1/control/labs/LAB-CH/divert",
                divert("LAB-PH")
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );
        let (code, body) = api
            .post(
                Some(&coord),
                "/api/v1/control/labs/LAB-CH/divert",
                divert("LAB-PH"),
            )
            .await;
        assert_eq!(code, StatusCode::ACCEPTED, "{body}");
        api.view_until(&coord, "LAB-CH diverted", |v| {
            v["labs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["id"] == "LAB-CH" && l["unavailable"] == true)
        })
        .await;
        let (code, _) = api
            .post(
                Some(&coord),
                "/api/v1/control/labs/LAB-CH/available",
                json!({}),
            )
            .await;
        assert_eq!(code, StatusCode::ACCEPTED);

        // Alerts: a viewer may not acknowledge; a coordinator does, once.
        let alert = view["alerts"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            api.post(
                Some(&viewer),
                &format!("/api/v1/alerts/{alert}/ack"),
                json!({})
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            api.post(
                Some(&coord),
                &format!("/api/v1/alerts/{alert}/ack"),
                json!({})
            )
            .await
            .0,
            StatusCode::ACCEPTED
        );
        assert_eq!(
            api.post(Some(&coord), "/api/v1/alerts/no-such-alert/ack", json!({}))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        api.view_until(&viewer, "alert acknowledged", |v| {
            v["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == alert.as_str() && a["acked_by"] == "coord")
        })
        .await;

        // Bulk acknowledgement: coordinators only, one request for many ids
        // (one already acknowledged, which stays so), unknown ids listed; the
        // view's count is the store's, not the list's.
        let before = api
            .view_until(&viewer, "an unacknowledged alert", |v| {
                v["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["acked_by"].is_null())
            })
            .await;
        let open_alert = before["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["acked_by"].is_null())
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .unwrap();
        let unacked_before = before["alerts_unacked"].as_u64().unwrap();
        assert!(unacked_before >= 1, "{}", before["alerts_unacked"]);
        let pair = [open_alert.clone(), alert.clone()];
        let bulk = json!({"ids": [pair[0], pair[1], "no-such-alert"]});
        assert_eq!(
            api.post(Some(&viewer), "/api/v1/alerts/ack", bulk.clone())
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        for bad in [
            json!({"ids": []}),
            json!({"id": pair[0]}),
            json!({"ids": [7]}),
            json!({"ids": ["x".repeat(129)]}),
        ] {
            let (code, body) = api.post(Some(&coord), "/api/v1/alerts/ack", bad).await;
            assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
        }
        let (code, body) = api.post(Some(&coord), "/api/v1/alerts/ack", bulk).await;
        assert_eq!(code, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["acknowledged"], json!(pair));
        assert_eq!(body["unknown"], json!(["no-such-alert"]));
        api.view_until(
            &viewer,
            "the alert acknowledged in bulk, one fewer open",
            |v| {
                v["alerts_unacked"].as_u64() < Some(unacked_before)
                    && v["alerts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| a["id"] == open_alert.as_str() && a["acked_by"] == "coord")
            },
        )
        .await;

        // A lab user acts for its lab only; an unknown tube is named.
        let (code, body) = api
            .post(Some(&lab), "/api/v1/lab/tubes/T-NOPE/received", json!({}))
            .await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(
            api.post(
                Some(&viewer),
                "/api/v1/lab/tubes/T-NOPE/received",
                json!({})
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );

        // The live feed pushes views by itself.
        let mut sse = api
            .http
            .get(format!("{}/api/v1/live", api.base))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(sse.status(), StatusCode::OK);
        let mut got = String::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !got.contains("\n\n") || !got.contains("event: view") {
            assert!(Instant::now() < deadline, "no view event: {got}");
            let chunk = tokio::time::timeout(Duration::from_secs(10), sse.chunk())
                .await
                .expect("SSE chunk in time")
                .unwrap()
                .expect("stream open");
            got.push_str(&String::from_utf8_lossy(&chunk));
        }
        let data = got.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        let pushed: Value = serde_json::from_str(data).unwrap();
        assert_eq!(pushed["mode"], "live");

        // Every action is in the audit log with its user; coordinators only.
        assert_eq!(
            api.get(Some(&viewer), "/api/v1/audit").await.0,
            StatusCode::FORBIDDEN
        );
        let (_, log) = api.get(Some(&coord), "/api/v1/audit?limit=500").await;
        let entries = log.as_array().unwrap();
        let has = |user: &str, action: &str, outcome: &str| {
            entries.iter().any(|e| {
                e["user"] == user
                    && e["action"] == action
                    && e["outcome"].as_str().unwrap().starts_with(outcome)
            })
        };
        assert!(has("coord", "ground_fleet", "ok"));
        assert!(has("coord", "release_fleet", "ok"));
        assert!(has("coord", "pause_drone", "refused"));
        assert!(has("coord", "ack_alert", "ok"));
        assert!(has("coord", "ack_alert", "refused"));
        assert!(has("coord", "divert_lab", "ok"));
        assert!(has("coord", "divert_lab", "refused"));
        assert!(has("nobody", "login", "refused"));
        assert!(has("watcher", "login", "ok"));
        assert!(has(
            "labtech",
            "POST /api/v1/lab/tubes/T-NOPE/received",
            "refused"
        ));

        // Replay: the recorded run opens and scrubs.
        let (_, runs) = api.get(Some(&viewer), "/api/v1/replay/runs").await;
        assert_eq!(runs[0]["id"], "short-seed3", "{runs}");
        assert!(runs[0]["events"].as_u64().unwrap() > 100);
        let (code, opened) = api
            .post(
                Some(&viewer),
                "/api/v1/replay/open",
                json!({"run": "short-seed3"}),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{opened}");
        let frames = opened["frames"].as_u64().unwrap();
        assert!(frames > 60, "{opened}");
        let (_, late) = api
            .get(
                Some(&viewer),
                &format!("/api/v1/replay/short-seed3/frame?i={}", frames * 2 / 3),
            )
            .await;
        let (_, early) = api
            .get(Some(&viewer), "/api/v1/replay/short-seed3/frame?i=0")
            .await;
        assert_eq!(late["mode"], "replay");
        assert!(late["now"].as_str() > early["now"].as_str());
        assert!(
            late["kpis"]["tubes"].as_u64() > early["kpis"]["tubes"].as_u64(),
            "the day moves on"
        );
        // Going back gives the same frame as before.
        let (_, again) = api
            .get(
                Some(&viewer),
                &format!("/api/v1/replay/short-seed3/frame?i={}", frames * 2 / 3),
            )
            .await;
        assert_eq!(again, late);
        assert_eq!(
            api.get(
                Some(&viewer),
                &format!("/api/v1/replay/short-seed3/frame?i={frames}")
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            api.post(
                Some(&viewer),
                "/api/v1/replay/open",
                json!({"run": "../etc"})
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );

        // Signing out ends the session.
        let r = api
            .http
            .post(format!("{}/api/v1/auth/logout", api.base))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            api.get(Some(&viewer), "/api/v1/dashboard").await.0,
            StatusCode::UNAUTHORIZED
        );

        // The API is described.
        let (_, doc) = api.get(None, "/api/openapi.json").await;
        assert!(doc["paths"]["/api/v1/control/missions/{id}/reassign"]["post"].is_object());
        assert!(doc["paths"]["/api/v1/lab/results"]["post"].is_object());
    });
}
