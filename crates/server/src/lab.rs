//! The labs' side of the API: `POST /api/v1/lab/results` takes a FHIR R4
//! DiagnosticReport (Observations contained, or a Bundle) naming the tube by its
//! Specimen barcode; labs also mark tubes received or rejected. A bearer token per
//! lab; every refusal is a FHIR OperationOutcome. The result-sharing subscriptions
//! and deliveries are managed here too (admin token).

use crate::auth::{Caller, Role, audit, bearer, identify};
use crate::control::{Accepted, Control, Refusal, TubeAtLab};
use crate::limits;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use labflight_hooks::fhir::{
    IssueCode, IssueSeverity, check_plausible, drop_patient_data, operation_outcome,
    parse_lab_report,
};
use labflight_store::Subscription;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;

/// Largest report body accepted.
const MAX_REPORT_BYTES: usize = 1024 * 1024;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/lab/results", post(post_result))
        .route("/api/v1/lab/tubes/{barcode}/received", post(tube_received))
        .route("/api/v1/lab/tubes/{barcode}/rejected", post(tube_rejected))
        .route(
            "/api/v1/hooks/subscriptions",
            get(list_subscriptions).post(add_subscription),
        )
        .route(
            "/api/v1/hooks/subscriptions/{id}",
            axum::routing::put(change_subscription).delete(remove_subscription),
        )
        .route("/api/v1/hooks/deliveries", get(deliveries))
        .route("/api/v1/hooks/deliveries/{webhook_id}/resend", post(resend))
        .layer(axum::middleware::from_fn_with_state(state, audit_writes))
}

/// Every write on the labs' and hooks' API goes to the audit log with its caller
/// and how it ended.
async fn audit_writes(
    State(s): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    if method == axum::http::Method::GET {
        return next.run(request).await;
    }
    let caller = identify(&s, request.headers()).await.ok().flatten();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(caller) = caller {
        let status = response.status();
        let outcome = if status.is_success() {
            "ok".to_owned()
        } else {
            format!("refused: HTTP {}", status.as_u16())
        };
        audit(
            &s,
            &caller,
            &format!("{method} {path}"),
            None,
            &outcome,
            None,
        )
        .await;
    }
    response
}

/// A refusal as `application/fhir+json` OperationOutcome.
pub struct Outcome(pub Refusal);

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        let r = self.0;
        let body = operation_outcome(
            IssueSeverity::Error,
            r.code,
            &r.diagnostics,
            r.expression.as_deref(),
        );
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
        (
            status,
            [(header::CONTENT_TYPE, "application/fhir+json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// A free-text field over its limit, refused (400, `too-long`) naming the field.
fn bounded(name: &'static str, value: &str, limit: usize) -> Result<(), Outcome> {
    limits::field(name, value, limit)
        .map(|_| ())
        .map_err(|e| Outcome(Refusal::new(400, IssueCode::TooLong, e.to_string()).at(name)))
}

/// The lab the caller acts for: a lab's bearer token or a signed-in `lab` user.
async fn lab_of(s: &AppState, headers: &HeaderMap) -> Result<Caller, Outcome> {
    match identify(s, headers).await {
        Ok(Some(c)) if c.role == Role::Lab && c.lab.is_some() => Ok(c),
        Ok(Some(c)) => Err(Outcome(Refusal::new(
            403,
            IssueCode::Forbidden,
            format!("{} is not a lab (signed in as {})", c.user, c.role.as_str()),
        ))),
        Ok(None) if bearer(headers).is_some() => Err(Outcome(Refusal::new(
            403,
            IssueCode::Forbidden,
            "this token belongs to no lab",
        ))),
        Ok(None) => Err(Outcome(Refusal::new(
            401,
            IssueCode::Login,
            "missing `Authorization: Bearer <lab token>` (or sign in as a lab user)",
        ))),
        Err(e) => Err(Outcome(Refusal::new(500, IssueCode::Exception, e.1))),
    }
}

/// Hooks are managed with the admin token or by a signed-in coordinator.
async fn admin(s: &AppState, headers: &HeaderMap) -> Result<Caller, Outcome> {
    match identify(s, headers).await {
        Ok(Some(c)) if c.role == Role::Coordinator => Ok(c),
        Ok(Some(c)) => Err(Outcome(Refusal::new(
            403,
            IssueCode::Forbidden,
            format!("{} ({}) may not manage hooks", c.user, c.role.as_str()),
        ))),
        Ok(None) if bearer(headers).is_some() => Err(Outcome(Refusal::new(
            403,
            IssueCode::Forbidden,
            "this token may not manage hooks",
        ))),
        Ok(None) => Err(Outcome(Refusal::new(
            401,
            IssueCode::Login,
            "missing `Authorization: Bearer <admin token>` (or sign in as a coordinator)",
        ))),
        Err(e) => Err(Outcome(Refusal::new(500, IssueCode::Exception, e.1))),
    }
}

async fn ask(
    s: &AppState,
    make: impl FnOnce(crate::control::Reply) -> Control,
) -> Result<Accepted, Outcome> {
    let Some(control) = &s.control else {
        return Err(Outcome(Refusal::new(
            503,
            IssueCode::Transient,
            "the service core is not running",
        )));
    };
    let (tx, rx) = oneshot::channel();
    control.send(make(tx)).await.map_err(|_| {
        Outcome(Refusal::new(
            503,
            IssueCode::Transient,
            "the service core stopped",
        ))
    })?;
    rx.await
        .map_err(|_| {
            Outcome(Refusal::new(
                503,
                IssueCode::Transient,
                "the service core stopped",
            ))
        })?
        .map_err(Outcome)
}

#[utoipa::path(post, path = "/api/v1/lab/results", tag = "lab", request_body(content = String, content_type = "application/fhir+json", description = "FHIR R4 DiagnosticReport (Observations contained) or Bundle, naming the tube by Specimen.identifier"), responses((status = 201, description = "accepted"), (status = 200, description = "the same report again: nothing changed"), (status = 400, description = "OperationOutcome"), (status = 409, description = "OperationOutcome")))]
pub async fn post_result(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let lab = match lab_of(&s, &headers).await {
        Ok(c) => c.lab.unwrap_or_default(),
        Err(o) => return o.into_response(),
    };
    if body.len() > MAX_REPORT_BYTES {
        return Outcome(Refusal::new(
            413,
            IssueCode::TooCostly,
            format!("report is {} bytes, at most {MAX_REPORT_BYTES}", body.len()),
        ))
        .into_response();
    }
    let mut value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Outcome(Refusal::new(
                400,
                IssueCode::Structure,
                format!("body is not JSON: {e}"),
            ))
            .into_response();
        }
    };
    // No patient data is kept: what is stored is the report without it.
    let dropped = drop_patient_data(&mut value);
    let report = match parse_lab_report(&value) {
        Ok(r) => r,
        Err(e) => {
            return Outcome(Refusal::new(400, IssueCode::Invalid, e.to_string())).into_response();
        }
    };
    if let Err(o) = bounded(
        "DiagnosticReport.identifier",
        &report.report_id,
        limits::REPORT_ID,
    )
    .and_then(|()| bounded("Specimen.identifier", &report.barcode, limits::BARCODE))
    .and_then(|()| {
        bounded(
            "DiagnosticReport.performer",
            report.lab.as_deref().unwrap_or(""),
            limits::ID,
        )
    }) {
        return o.into_response();
    }
    for (i, o) in report.observations.iter().enumerate() {
        if let Err(e) = check_plausible(o) {
            return Outcome(
                Refusal::new(422, IssueCode::BusinessRule, e.to_string())
                    .at(&format!("Observation[{i}]")),
            )
            .into_response();
        }
    }
    let raw = if dropped.is_empty() {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        value.to_string()
    };
    let accepted = if dropped.is_empty() {
        "result accepted".to_owned()
    } else {
        format!(
            "result accepted; patient data dropped, not kept (labflight knows tubes by barcode only): {}",
            dropped.join(", ")
        )
    };
    match ask(&s, |reply| Control::LabResult {
        lab,
        report,
        raw,
        reply,
    })
    .await
    {
        Ok(Accepted::New) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/fhir+json")],
            operation_outcome(
                IssueSeverity::Information,
                IssueCode::Informational,
                &accepted,
                None,
            )
            .to_string(),
        )
            .into_response(),
        Ok(Accepted::Duplicate) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/fhir+json")],
            operation_outcome(
                IssueSeverity::Information,
                IssueCode::Duplicate,
                "this report was already accepted; nothing changed",
                None,
            )
            .to_string(),
        )
            .into_response(),
        Err(o) => o.into_response(),
    }
}

#[utoipa::path(post, path = "/api/v1/lab/tubes/{barcode}/received", tag = "lab", params(("barcode" = String, Path)), responses((status = 204, description = "recorded"), (status = 404, description = "OperationOutcome: no such tube")))]
pub async fn tube_received(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(barcode): Path<String>,
) -> Response {
    let lab = match lab_of(&s, &headers).await {
        Ok(c) => c.lab.unwrap_or_default(),
        Err(o) => return o.into_response(),
    };
    if let Err(o) = bounded("barcode", &barcode, limits::BARCODE) {
        return o.into_response();
    }
    match ask(&s, |reply| Control::TubeAtLab {
        lab,
        barcode,
        status: TubeAtLab::Received,
        reply,
    })
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(o) => o.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct RejectBody {
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/lab/tubes/{barcode}/rejected", tag = "lab", params(("barcode" = String, Path)), request_body(content = String, content_type = "application/json", description = "{\"reason\": \"…\"}"), responses((status = 204, description = "recorded; the centre is asked to redraw"), (status = 409, description = "OperationOutcome")))]
pub async fn tube_rejected(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(barcode): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let lab = match lab_of(&s, &headers).await {
        Ok(c) => c.lab.unwrap_or_default(),
        Err(o) => return o.into_response(),
    };
    let reason = serde_json::from_slice::<RejectBody>(&body)
        .ok()
        .map(|b| b.reason)
        .filter(|r| !r.trim().is_empty());
    if let Err(o) = bounded("barcode", &barcode, limits::BARCODE)
        .and_then(|()| bounded("reason", reason.as_deref().unwrap_or(""), limits::REASON))
    {
        return o.into_response();
    }
    let Some(reason) = reason else {
        return Outcome(
            Refusal::new(
                400,
                IssueCode::Required,
                "a JSON body {\"reason\": \"...\"} is required",
            )
            .at("reason"),
        )
        .into_response();
    };
    let status = TubeAtLab::Rejected { reason };
    match ask(&s, |reply| Control::TubeAtLab {
        lab,
        barcode,
        status,
        reply,
    })
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(o) => o.into_response(),
    }
}

#[utoipa::path(get, path = "/api/v1/hooks/subscriptions", tag = "hooks", responses((status = 200, description = "result-sharing subscriptions")))]
pub async fn list_subscriptions(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(o) = admin(&s, &headers).await {
        return o.into_response();
    }
    match s.store.subscriptions().await {
        Ok(subs) => Json(subs).into_response(),
        Err(e) => Outcome(Refusal::new(500, IssueCode::Exception, e.to_string())).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct NewSubscription {
    id: String,
    /// `all`, `station:<centre>` or `group:<medical group>`.
    scope: String,
    url: String,
    /// A Standard Webhooks secret, `whsec_<base64>` (none for `mllp://`).
    #[serde(default)]
    secret: String,
}

/// A subscription's scope, URL and secret, checked as the API takes them.
fn check_subscription(
    s: &AppState,
    scope: &str,
    url: &str,
    secret: &str,
) -> Result<(), Box<Outcome>> {
    bounded("scope", scope, limits::SCOPE)
        .and_then(|()| bounded("url", url, limits::URL))
        .and_then(|()| bounded("secret", secret, limits::SECRET))
        .map_err(Box::new)?;
    let scope_ok = scope == "all" || scope.starts_with("station:") || scope.starts_with("group:");
    if !scope_ok {
        return Err(Box::new(Outcome(
            Refusal::new(
                400,
                IssueCode::Value,
                format!("scope `{scope}`: expected all, station:<id> or group:<id>"),
            )
            .at("scope"),
        )));
    }
    // HL7 v2 over MLLP is not signed; every HTTP hook is.
    let mllp = url.starts_with("mllp://");
    if let (false, Err(e)) = (mllp, labflight_hooks::signature::Secret::parse(secret)) {
        return Err(Box::new(Outcome(
            Refusal::new(400, IssueCode::Value, format!("secret: {e}")).at("secret"),
        )));
    }
    if let Err(e) = (s.hook_url_check)(url) {
        return Err(Box::new(Outcome(
            Refusal::new(400, IssueCode::Value, e).at("url"),
        )));
    }
    Ok(())
}

fn store_error(e: labflight_store::StoreError) -> Response {
    Outcome(Refusal::new(500, IssueCode::Exception, e.to_string())).into_response()
}

/// Tells the core its subscriptions changed (it owes deliveries by them).
async fn subscriptions_changed(s: &AppState) {
    if let Some(c) = &s.control {
        let _ = c.send(Control::SubscriptionsChanged).await;
    }
}

#[utoipa::path(post, path = "/api/v1/hooks/subscriptions", tag = "hooks", request_body(content = String, content_type = "application/json", description = "{id, scope: all|station:<id>|group:<id>, url, secret: whsec_…}"), responses((status = 201, description = "created"), (status = 400, description = "OperationOutcome"), (status = 409, description = "OperationOutcome: the id is taken (change it with PUT)")))]
pub async fn add_subscription(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(n): Json<NewSubscription>,
) -> Response {
    if let Err(o) = admin(&s, &headers).await {
        return o.into_response();
    }
    if let Err(o) = bounded("id", &n.id, limits::ID) {
        return o.into_response();
    }
    if let Err(o) = check_subscription(&s, &n.scope, &n.url, &n.secret) {
        return o.into_response();
    }
    let sub = Subscription {
        id: n.id,
        scope: n.scope,
        url: n.url,
        secret: n.secret,
        active: true,
        disabled_reason: None,
    };
    let now = s
        .snapshot
        .borrow()
        .as_ref()
        .map_or_else(chrono::Utc::now, |snap| snap.now);
    match s.store.create_subscription(&sub, now).await {
        Ok(true) => {}
        Ok(false) => {
            return Outcome(
                Refusal::new(
                    409,
                    IssueCode::Conflict,
                    format!(
                        "subscription `{}` already exists: change it with PUT /api/v1/hooks/subscriptions/{}",
                        sub.id, sub.id
                    ),
                )
                .at("id"),
            )
            .into_response();
        }
        Err(e) => return store_error(e),
    }
    subscriptions_changed(&s).await;
    (StatusCode::CREATED, Json(sub)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionChange {
    /// `all`, `station:<centre>` or `group:<medical group>`.
    scope: String,
    url: String,
    /// A new `whsec_<base64>` secret; none keeps the current one.
    #[serde(default)]
    secret: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/hooks/subscriptions/{id}", tag = "hooks", params(("id" = String, Path)), request_body(content = String, content_type = "application/json", description = "{scope: all|station:<id>|group:<id>, url, secret?: whsec_… (absent: unchanged)}"), responses((status = 200, description = "changed (and active again); the audit log keeps the old and new URL"), (status = 400, description = "OperationOutcome"), (status = 404, description = "OperationOutcome: no such subscription")))]
pub async fn change_subscription(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(c): Json<SubscriptionChange>,
) -> Response {
    let caller = match admin(&s, &headers).await {
        Ok(caller) => caller,
        Err(o) => return o.into_response(),
    };
    let current = match s.store.subscriptions().await {
        Ok(subs) => subs.into_iter().find(|x| x.id == id),
        Err(e) => return store_error(e),
    };
    let Some(current) = current else {
        return Outcome(Refusal::new(
            404,
            IssueCode::NotFound,
            format!("no subscription `{id}`"),
        ))
        .into_response();
    };
    // Queued bodies were rendered for the endpoint's kind (FHIR or HL7 v2).
    if current.url.starts_with("mllp://") != c.url.starts_with("mllp://") {
        return Outcome(
            Refusal::new(
                400,
                IssueCode::Value,
                format!(
                    "url `{}`: subscription `{id}` cannot switch between mllp:// and http(s):// \
                     (its queued deliveries are in the other format); delete it and create a new one",
                    c.url
                ),
            )
            .at("url"),
        )
        .into_response();
    }
    let secret = c.secret.unwrap_or_else(|| current.secret.clone());
    if let Err(o) = check_subscription(&s, &c.scope, &c.url, &secret) {
        return o.into_response();
    }
    let sub = Subscription {
        id: id.clone(),
        scope: c.scope,
        url: c.url,
        secret,
        active: true,
        disabled_reason: None,
    };
    let old = match s.store.update_subscription(&sub).await {
        Ok(Some(old)) => old,
        Ok(None) => {
            return Outcome(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no subscription `{id}`"),
            ))
            .into_response();
        }
        Err(e) => return store_error(e),
    };
    audit(
        &s,
        &caller,
        "change hook subscription",
        Some(&id),
        "ok",
        Some(format!(
            "url {} -> {}; scope {} -> {}; secret {}",
            old.url,
            sub.url,
            old.scope,
            sub.scope,
            if old.secret == sub.secret {
                "unchanged"
            } else {
                "changed"
            }
        )),
    )
    .await;
    subscriptions_changed(&s).await;
    (StatusCode::OK, Json(sub)).into_response()
}

#[utoipa::path(delete, path = "/api/v1/hooks/subscriptions/{id}", tag = "hooks", params(("id" = String, Path)), responses((status = 204, description = "removed; its undelivered items are dead (listed in /api/v1/hooks/deliveries with the deletion as their error)"), (status = 404, description = "no such subscription")))]
pub async fn remove_subscription(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let caller = match admin(&s, &headers).await {
        Ok(caller) => caller,
        Err(o) => return o.into_response(),
    };
    if let Err(o) = bounded("id", &id, limits::ID) {
        return o.into_response();
    }
    let reason = format!(
        "subscription `{id}` was deleted by {} before this was delivered",
        caller.user
    );
    match s.store.delete_subscription(&id, &reason).await {
        Ok((true, dead)) => {
            if dead > 0 {
                tracing::info!("hooks: deleting `{id}` left {dead} undelivered items dead");
            }
            subscriptions_changed(&s).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Ok((false, _)) => Outcome(Refusal::new(
            404,
            IssueCode::NotFound,
            format!("no subscription `{id}`"),
        ))
        .into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct DeliveryQuery {
    barcode: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/hooks/deliveries", tag = "hooks", params(("barcode" = Option<String>, Query)), responses((status = 200, description = "deliveries with their attempts")))]
pub async fn deliveries(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DeliveryQuery>,
) -> Response {
    if let Err(o) = admin(&s, &headers).await {
        return o.into_response();
    }
    if let Some(Err(o)) = q
        .barcode
        .as_deref()
        .map(|b| bounded("barcode", b, limits::BARCODE))
    {
        return o.into_response();
    }
    let items = match s.store.outbox(q.barcode.as_deref()).await {
        Ok(i) => i,
        Err(e) => {
            return Outcome(Refusal::new(500, IssueCode::Exception, e.to_string())).into_response();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        let attempts = s.store.attempts(&i.webhook_id).await.unwrap_or_default();
        out.push(json!({"delivery": i, "attempts": attempts}));
    }
    Json(out).into_response()
}

#[utoipa::path(post, path = "/api/v1/hooks/deliveries/{webhook_id}/resend", tag = "hooks", params(("webhook_id" = String, Path)), responses((status = 202, description = "queued again, same webhook id"), (status = 404, description = "unknown or already queued")))]
pub async fn resend(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(webhook_id): Path<String>,
) -> Response {
    if let Err(o) = admin(&s, &headers).await {
        return o.into_response();
    }
    if let Err(o) = bounded("webhook_id", &webhook_id, limits::ID) {
        return o.into_response();
    }
    let now = s
        .snapshot
        .borrow()
        .as_ref()
        .map_or_else(chrono::Utc::now, |snap| snap.now);
    match s.store.resend(&webhook_id, now).await {
        Ok(true) => StatusCode::ACCEPTED.into_response(),
        Ok(false) => Outcome(Refusal::new(
            404,
            IssueCode::NotFound,
            format!("no delivery `{webhook_id}` to re-send (unknown or already queued)"),
        ))
        .into_response(),
        Err(e) => Outcome(Refusal::new(500, IssueCode::Exception, e.to_string())).into_response(),
    }
}
