//! The OpenAPI document against the live service: schemathesis (pinned in
//! tests/openapi/requirements.txt; scripts/test.sh installs it from PyPI) reads
//! `/api/openapi.json` from a running `labflight serve` on 127.0.0.1 (on
//! PostgreSQL, the production database, which refuses what SQLite lets by — a
//! NUL in text), with simulated devices bringing tubes, boxes and missions, and
//! fuzzes every
//! documented route — once as a signed-in coordinator, once as a lab with its
//! configured token. It must find no 5xx, no status the document does not list,
//! no response body, header or content type that breaks the document, and no
//! schema-valid request refused with a status other than those the checks allow.
//! What is left out of the run, and why, is in tests/openapi/schemathesis.toml
//! (the live SSE feed) and below (the coordinator's own sign-out).

mod support;

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::accounts::{self, add_user};
use support::*;

/// The lab the lab run acts for, and its configured bearer token.
const LAB: &str = "LAB-CH";
const LAB_TOKEN: &str = "openapi-conformance-lab-ch-token";
/// One schemathesis run may take this long before it is stopped and the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(75);

/// The checks, by schemathesis' names: no 5xx; every status, content type, body
/// and header as documented; a schema-valid request accepted or refused with a
/// status the check allows (tests/openapi/schemathesis.toml widens that where
/// the document says a schema-valid request can still be refused).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance,positive_data_acceptance";

fn config_dir() -> PathBuf {
    repo().join("tests/openapi")
}

/// The schemathesis version scripts/test.sh installs (`schemathesis==X`).
fn pinned_version() -> String {
    let path = config_dir().join("requirements.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .find_map(|l| l.trim().strip_prefix("schemathesis=="))
        .unwrap_or_else(|| panic!("{} pins no `schemathesis==` version", path.display()))
        .trim()
        .to_owned()
}

/// The installed schemathesis, or a failure saying how to install it.
fn require_schemathesis() {
    let pinned = pinned_version();
    let install =
        "`python3 -m pip install -r tests/openapi/requirements.txt` (scripts/test.sh does it)";
    let out = Command::new("python3")
        .args(["-m", "schemathesis.cli", "--version"])
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 does not run ({e}); schemathesis {pinned} needs it: {install}")
        });
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "schemathesis is not installed: {install}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.trim().ends_with(&pinned),
        "schemathesis {pinned} is pinned, but `{}` is installed: {install}",
        said.trim()
    );
}

/// Runs `cmd` to its end, or kills it after `limit` and fails; returns its output.
fn run_bounded(mut cmd: Command, limit: Duration, what: &str) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = pipe(Box::new(child.stdout.take().unwrap()));
    let stderr = pipe(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        panic!(
            "{what} did not finish within {limit:?}:\n{}\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        );
    };
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Fuzzes the live service as the bearer of `token`; fails naming what it found.
fn fuzz(base: &str, token: &str, who: &str, work_dir: &Path, extra: &[&str]) {
    let mut cmd = Command::new("python3");
    cmd.current_dir(work_dir)
        .args(["-m", "schemathesis.cli", "--no-color", "--config-file"])
        .arg(config_dir().join("schemathesis.toml"))
        .arg("run")
        .arg(format!("{base}/api/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        // Small and bounded: a few examples per route and phase, one worker (the
        // Python here mis-parses lambdas when Hypothesis runs in threads), no
        // example database left behind.
        .args(["--max-examples", "8", "--workers", "1"])
        .args(["--generation-database", ":memory:"])
        .args(extra)
        .env("NO_COLOR", "1");
    let started = Instant::now();
    let out = run_bounded(cmd, RUN_LIMIT, &format!("schemathesis as {who}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!(
        "=== schemathesis as {who} ({:.0?}, {}) ===\n{stdout}\n{stderr}",
        started.elapsed(),
        out.status
    );
    assert!(
        out.status.success(),
        "schemathesis as {who} found the live API and its OpenAPI document disagree ({}); \
         the FAILURES and ERRORS sections above name each route, check and request:\n{stdout}\n{stderr}",
        out.status
    );
    // Not a vacuous pass: the document was read and its routes were tried.
    let tested: usize = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Tested:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        tested >= 30,
        "schemathesis as {who} tested only {tested} routes:\n{stdout}"
    );
}

/// GETs `path` with `token`, as JSON.
async fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    http.get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null)
}

#[test]
fn the_live_api_answers_as_its_openapi_document_says() {
    require_schemathesis();
    let dir = Scratch::new("openapi");
    let db = fresh_postgres("openapi");
    // A recorded run, so the replay routes list something.
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
    add_user(&db, "coord", "coordinator", None);
    add_user(&db, "labtech", "lab", Some(LAB));

    // The service on loopback only: its HTTP API, its embedded broker, and hooks
    // allowed to 127.0.0.1 alone (a subscription the fuzzer adds calls nothing else).
    let (mqtt_port, http_port) = (free_port(), free_port());
    let config = serve_config(&dir, 120.0, mqtt_port, http_port, &db);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "runs_dir = \"{}\"\nhook_hosts = [\"127.0.0.1:*\"]\n\n[labs]\n{LAB} = \"{LAB_TOKEN}\"\n",
        runs.display()
    ));
    std::fs::write(&config, text).unwrap();
    let mut serve = Proc::spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    serve.wait_line("dashboard:", Duration::from_secs(60));
    let device_key = printed_device_key(&serve).expect("serve prints its mqtt device key");
    let _devices = Proc::spawn(
        &[
            "devices",
            "--mqtt",
            &format!("mqtt://127.0.0.1:{mqtt_port}"),
            "--device-key",
            &device_key,
            "--scenario",
            short_scenario().to_str().unwrap(),
            "--quiet",
            "--max-seconds",
            "600",
        ],
        &[],
    );

    let base = format!("http://127.0.0.1:{http_port}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let coordinator = rt.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let token = accounts::token(&http, &base, "coord").await;
        // Fuzz a day under way, with missions and boxes to describe (bounded wait).
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let missions = get(&http, &base, &token, "/api/v1/missions").await;
            if missions.as_array().is_some_and(|m| !m.is_empty()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no mission within 90 s: {missions}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        token
    });

    // The coordinator's run leaves out POST /api/v1/auth/logout: it would end the
    // very session the fuzzer signs in with, and every later request would hear
    // 401. The lab's configured token has no session to end, so its run keeps it.
    fuzz(
        &base,
        &coordinator,
        "coordinator",
        &dir.0,
        &["--exclude-path", "/api/v1/auth/logout"],
    );
    fuzz(&base, LAB_TOKEN, &format!("lab {LAB}"), &dir.0, &[]);

    // A NUL, which PostgreSQL's text columns refuse and schemathesis does not
    // send, is refused at the edge naming the field, never a 500.
    rt.block_on(async {
        let http = reqwest::Client::new();
        let probes = [
            (
                http.get(format!("{base}/api/v1/tubes/T%00-1"))
                    .bearer_auth(&coordinator),
                "barcode",
            ),
            (
                http.post(format!("{base}/api/v1/alerts/A%00/ack"))
                    .bearer_auth(&coordinator),
                "alert id",
            ),
            (
                http.post(format!("{base}/api/v1/auth/login"))
                    .body(r#"{"user":"co\u0000rd","password":"x"}"#),
                "user",
            ),
            (
                http.get(format!("{base}/api/v1/hooks/deliveries?barcode=T%00"))
                    .bearer_auth(&coordinator),
                "barcode",
            ),
            (
                http.post(format!("{base}/api/v1/lab/tubes/T-1/rejected"))
                    .bearer_auth(LAB_TOKEN)
                    .body(r#"{"reason":"r\u0000"}"#),
                "reason",
            ),
        ];
        for (request, field) in probes {
            let r = request.send().await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{field}: {body}");
            assert!(
                body.contains(&format!("{field} holds a NUL character")),
                "{body}"
            );
        }
    });

    // The service lived through both runs.
    let (status, body) = http_get(&format!("127.0.0.1:{http_port}"), "/api/v1/status");
    assert_eq!(status, 200, "{body}");
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "serve exited during the fuzzing"
    );
}
