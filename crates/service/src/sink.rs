//! `labflight station-sink`: a reference receiver for result-sharing hooks, as a
//! centre's information system would run it. It verifies each POST's Standard
//! Webhooks signature (refusing bad or stale ones), keeps each `webhook-id` once,
//! stores what it accepts (one JSON line per delivery) and lists it at
//! `GET /received`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use labflight_hooks::signature::{Secret, WebhookHeaders, verify};
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Signatures older or newer than this are refused.
const TOLERANCE_SECS: i64 = 5 * 60;

#[derive(Debug)]
struct Sink {
    secret: Secret,
    seen: Mutex<(HashSet<String>, Vec<serde_json::Value>)>,
    file: Option<PathBuf>,
}

/// Serves the sink on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    secret: Secret,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut seen = HashSet::new();
    let mut received = Vec::new();
    if let Some(path) = &out
        && let Ok(text) = std::fs::read_to_string(path)
    {
        for line in text.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(id) = v["webhook_id"].as_str() {
                    seen.insert(id.to_owned());
                }
                received.push(v);
            }
        }
    }
    let state = Arc::new(Sink {
        secret,
        seen: Mutex::new((seen, received)),
        file: out,
    });
    let app = Router::new()
        .route("/received", get(list))
        .route("/", post(receive))
        .route("/{*path}", post(receive))
        .with_state(state);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn list(State(sink): State<Arc<Sink>>) -> Json<Vec<serde_json::Value>> {
    Json(sink.seen.lock().map(|g| g.1.clone()).unwrap_or_default())
}

async fn receive(
    State(sink): State<Arc<Sink>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let received = WebhookHeaders {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
    };
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = verify(&sink.secret, &received, &body, now, TOLERANCE_SECS) {
        return (StatusCode::UNAUTHORIZED, format!("signature refused: {e}"));
    }
    let id = received.id.unwrap_or_default().to_owned();
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "body is not JSON".into());
    };
    let Ok(mut guard) = sink.seen.lock() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "sink state poisoned".into(),
        );
    };
    if !guard.0.insert(id.clone()) {
        return (StatusCode::OK, format!("{id} already received"));
    }
    let record = serde_json::json!({
        "webhook_id": id,
        "received_at": chrono::Utc::now().to_rfc3339(),
        // Which partition owner delivered it, under which epoch, for which event.
        "partition": header("labflight-partition"),
        "epoch": header("labflight-epoch").and_then(|e| e.parse::<i64>().ok()),
        "seq": header("labflight-seq").and_then(|e| e.parse::<i64>().ok()),
        "resource_type": json["resourceType"],
        "body": json,
    });
    if let Some(path) = &sink.file {
        let line = format!("{record}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            guard.0.remove(&id);
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot store: {e}"),
            );
        }
    }
    guard.1.push(record);
    (StatusCode::NO_CONTENT, String::new())
}
