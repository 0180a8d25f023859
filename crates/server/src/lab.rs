//! The labs' side of the API: `POST /api/v1/lab/results` takes a FHIR R4
//! DiagnosticReport (Observations contained, or a Bundle) naming the tube by its
//! Specimen barcode; labs also mark tubes received or rejected. A bearer token per
//! lab; every refusal is a FHIR OperationOutcome (`outcome.rs`). The
//! result-sharing subscriptions and deliveries are managed here too (admin token).

use crate::auth::{Caller, Role, audit, bearer, identify};
use crate::control::{Accepted, Control, Refusal, TubeAtLab};
use crate::limits;
use crate::outcome::{FHIR_JSON, Fhir, Outcome, body_bytes, json_body};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use labflight_hooks::fhir::{
    IssueCode, IssueSeverity, check_plausible, drop_patient_data, operation_outcome,
    parse_lab_report,
};
use labflight_store::{Attempt, OutboxItem, Subscription};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use utoipa::{IntoParams, ToSchema};

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

/// Where in `value` a string (or a key) holds a character below U+0020 other
/// than tab, CR and LF (FHIR R4 strings may not), as a path from `at`.
fn control_character(value: &serde_json::Value, at: &str) -> Option<String> {
    let bad = |s: &str| {
        s.chars()
            .any(|c| c < ' ' && !matches!(c, '\t' | '\r' | '\n'))
    };
    match value {
        serde_json::Value::String(s) if bad(s) => Some(at.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| control_character(v, &format!("{at}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            let here = format!("{at}.{k}");
            if bad(k) {
                Some(here)
            } else {
                control_character(v, &here)
            }
        }),
        _ => None,
    }
}

/// A blank required field, refused (400, `required`) naming it.
fn not_blank(name: &'static str, value: &str) -> Result<(), Outcome> {
    if value.trim().is_empty() {
        Err(Outcome(
            Refusal::new(400, IssueCode::Required, format!("{name} is blank")).at(name),
        ))
    } else {
        Ok(())
    }
}

/// A free-text field over its limit (400, `too-long`) or holding a NUL (400,
/// `value`), refused naming the field.
fn bounded(name: &'static str, value: &str, limit: usize) -> Result<(), Outcome> {
    limits::field(name, value, limit).map(|_| ()).map_err(|e| {
        let code = match e {
            limits::FieldError::TooLong { .. } => IssueCode::TooLong,
            limits::FieldError::Nul { .. } => IssueCode::Value,
        };
        Outcome(Refusal::new(400, code, e.to_string()).at(name))
    })
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

/// A lab's verified (or preliminary) result for one tube, as FHIR R4. The body
/// is read as JSON whatever its declared content type.
#[utoipa::path(post, path = "/api/v1/lab/results", tag = "lab",
    security(("bearer" = []), ("session" = [])),
    request_body(description = "FHIR R4 DiagnosticReport (Observations and Specimen contained) or a Bundle holding them, naming the tube by Specimen.identifier; at most 1 MiB",
        content((crate::outcome::LabReportDoc = "application/fhir+json"), (crate::outcome::LabReportDoc = "application/json"))),
    responses(
        (status = 201, description = "accepted (`informational`; says which patient data was dropped, if any)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 200, description = "the same report again: nothing changed (`duplicate`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 400, description = "not JSON, not a report this API reads, or a field over its limit; the expression names the element", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "no tube with the Specimen's barcode", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 409, description = "the tube was not received by this lab, is already resulted, or the report id names another tube", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 413, description = "the body is over 1 MiB (`too-costly`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 422, description = "an Observation's value is implausible (`business-rule`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::LabRefusals))]
pub async fn post_result(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let lab = match lab_of(&s, &headers).await {
        Ok(c) => c.lab.unwrap_or_default(),
        Err(o) => return o.into_response(),
    };
    let body = match body_bytes(body, MAX_REPORT_BYTES).await {
        Ok(b) => b,
        Err(o) => return o.into_response(),
    };
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
    // FHIR strings hold no control characters but tab, CR and LF; a NUL would
    // also fail the store (PostgreSQL's text columns refuse it).
    let root = value["resourceType"]
        .as_str()
        .unwrap_or("(root)")
        .to_owned();
    if let Some(path) = control_character(&value, &root) {
        return Outcome(
            Refusal::new(
                400,
                IssueCode::Value,
                format!(
                    "{path}: holds a control character (FHIR strings allow only tab, CR and LF)"
                ),
            )
            .at(&path),
        )
        .into_response();
    }
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
            [(header::CONTENT_TYPE, FHIR_JSON)],
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
            [(header::CONTENT_TYPE, FHIR_JSON)],
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

/// The lab has the tube in its hands.
#[utoipa::path(post, path = "/api/v1/lab/tubes/{barcode}/received", tag = "lab",
    security(("bearer" = []), ("session" = [])),
    params(("barcode" = String, Path, description = "the tube's barcode", example = "LH-C001-0001", min_length = 1, max_length = 64)),
    responses(
        (status = 204, description = "recorded"),
        (status = 400, description = "the barcode is over 64 characters (`too-long`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "no such tube", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 409, description = "the tube is not on its way to this lab, or already received elsewhere (`business-rule`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::LabRefusals))]
pub async fn tube_received(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Path(barcode)): Fhir<Path<String>>,
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

/// Why a lab will not test a tube.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RejectBody {
    /// Why, in the lab's words: not blank, at most 500 characters.
    #[schema(
        example = "haemolysed",
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    reason: String,
}

/// The lab will not test the tube; the centre is asked to redraw.
#[utoipa::path(post, path = "/api/v1/lab/tubes/{barcode}/rejected", tag = "lab",
    security(("bearer" = []), ("session" = [])),
    params(("barcode" = String, Path, description = "the tube's barcode", example = "LH-C001-0001", min_length = 1, max_length = 64)),
    request_body(content = RejectBody, content_type = "application/json"),
    responses(
        (status = 204, description = "recorded; the centre is asked to redraw"),
        (status = 400, description = "no reason, a blank one, or a field over its limit", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "no such tube", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 409, description = "the tube was not received by this lab, or is already resulted (`business-rule`)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 413, description = "the body is over 16 KiB", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::LabRefusals))]
pub async fn tube_rejected(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Path(barcode)): Fhir<Path<String>>,
    body: Body,
) -> Response {
    let lab = match lab_of(&s, &headers).await {
        Ok(c) => c.lab.unwrap_or_default(),
        Err(o) => return o.into_response(),
    };
    let body = match body_bytes(body, limits::SMALL_BODY).await {
        Ok(b) => b,
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

/// The result-sharing subscriptions (their secrets are never shown).
#[utoipa::path(get, path = "/api/v1/hooks/subscriptions", tag = "hooks",
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "result-sharing subscriptions", body = [crate::shapes::Subscription]),
        crate::outcome::HookRefusals))]
pub async fn list_subscriptions(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(o) = admin(&s, &headers).await {
        return o.into_response();
    }
    match s.store.subscriptions().await {
        Ok(subs) => Json(subs).into_response(),
        Err(e) => Outcome(Refusal::new(500, IssueCode::Exception, e.to_string())).into_response(),
    }
}

/// A new result-sharing subscription.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSubscription {
    /// Its id (at most 128 characters, not blank).
    #[schema(
        example = "centre-his",
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    id: String,
    /// `all`, `station:<centre>` or `group:<medical group>`.
    #[schema(
        example = "station:LH-C001",
        max_length = 160,
        pattern = "^(all|station:[^\\u0000]*|group:[^\\u0000]*)$"
    )]
    scope: String,
    /// Where deliveries go: `http://`, `https://` or `mllp://`, to a host the
    /// service allows (`hook_hosts`; none configured: loopback only).
    #[schema(max_length = 2048, pattern = "^(https?|mllp)://[^\\u0000]*$")]
    url: String,
    /// A Standard Webhooks secret, `whsec_<base64>` (none for `mllp://`).
    #[serde(default)]
    #[schema(max_length = 512)]
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

/// Adds a result-sharing subscription. The body is read as JSON whatever its
/// declared content type.
#[utoipa::path(post, path = "/api/v1/hooks/subscriptions", tag = "hooks",
    security(("bearer" = []), ("session" = [])),
    request_body(content = NewSubscription, content_type = "application/json"),
    responses(
        (status = 201, description = "created", body = crate::shapes::Subscription),
        (status = 400, description = "not the JSON expected, a blank id, a field over its limit, an unknown scope, a bad secret, or a URL to a host not allowed", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 409, description = "the id is taken (change it with PUT)", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 413, description = "the body is over 16 KiB", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::HookRefusals))]
pub async fn add_subscription(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(o) = admin(&s, &headers).await {
        return o.into_response();
    }
    let n: NewSubscription = match json_body(body, "{\"id\", \"scope\", \"url\", \"secret\"}").await
    {
        Ok(n) => n,
        Err(o) => return o.into_response(),
    };
    if let Err(o) = bounded("id", &n.id, limits::ID).and_then(|()| not_blank("id", &n.id)) {
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

/// A subscription's new scope, URL and (optionally) secret.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionChange {
    /// `all`, `station:<centre>` or `group:<medical group>`.
    #[schema(
        max_length = 160,
        pattern = "^(all|station:[^\\u0000]*|group:[^\\u0000]*)$"
    )]
    scope: String,
    /// Where deliveries go, of the same kind as before (`mllp://` stays `mllp://`).
    #[schema(max_length = 2048, pattern = "^(https?|mllp)://[^\\u0000]*$")]
    url: String,
    /// A new `whsec_<base64>` secret; none keeps the current one.
    #[serde(default)]
    #[schema(max_length = 512)]
    secret: Option<String>,
}

/// Changes a subscription (and makes it active again); the audit log keeps the
/// old and new URL. The body is read as JSON whatever its declared content type.
#[utoipa::path(put, path = "/api/v1/hooks/subscriptions/{id}", tag = "hooks",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the subscription's id", min_length = 1, max_length = 128)),
    request_body(content = SubscriptionChange, content_type = "application/json"),
    responses(
        (status = 200, description = "changed, and active again", body = crate::shapes::Subscription),
        (status = 400, description = "not the JSON expected, a field over its limit, an unknown scope, a bad secret, a URL to a host not allowed, or a switch between mllp:// and http(s)://", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "no such subscription", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 413, description = "the body is over 16 KiB", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::HookRefusals))]
pub async fn change_subscription(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Path(id)): Fhir<Path<String>>,
    body: Body,
) -> Response {
    let caller = match admin(&s, &headers).await {
        Ok(caller) => caller,
        Err(o) => return o.into_response(),
    };
    if let Err(o) = bounded("id", &id, limits::ID) {
        return o.into_response();
    }
    let c: SubscriptionChange = match json_body(body, "{\"scope\", \"url\", \"secret\"?}").await {
        Ok(c) => c,
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

/// Removes a subscription.
#[utoipa::path(delete, path = "/api/v1/hooks/subscriptions/{id}", tag = "hooks",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the subscription's id", min_length = 1, max_length = 128)),
    responses(
        (status = 204, description = "removed; its undelivered items are dead (listed in /api/v1/hooks/deliveries with the deletion as their error)"),
        (status = 400, description = "the id is over 128 characters", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "no such subscription", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::HookRefusals))]
pub async fn remove_subscription(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Path(id)): Fhir<Path<String>>,
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

/// Which deliveries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only this tube's deliveries.
    #[param(max_length = 64)]
    barcode: Option<String>,
}

/// A delivery with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Delivery {
    /// The delivery.
    #[schema(value_type = crate::shapes::OutboxItem)]
    delivery: OutboxItem,
    /// Its attempts, in order.
    #[schema(value_type = Vec<crate::shapes::Attempt>)]
    attempts: Vec<Attempt>,
}

/// Every delivery owed to a subscriber, with its attempts.
#[utoipa::path(get, path = "/api/v1/hooks/deliveries", tag = "hooks",
    security(("bearer" = []), ("session" = [])),
    params(DeliveryQuery),
    responses(
        (status = 200, description = "deliveries with their attempts", body = [Delivery]),
        (status = 400, description = "the query does not parse, or the barcode is over 64 characters", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::HookRefusals))]
pub async fn deliveries(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Query(q)): Fhir<Query<DeliveryQuery>>,
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
        out.push(Delivery {
            delivery: i,
            attempts,
        });
    }
    Json(out).into_response()
}

/// Queues a delivery again, with the same webhook id.
#[utoipa::path(post, path = "/api/v1/hooks/deliveries/{webhook_id}/resend", tag = "hooks",
    security(("bearer" = []), ("session" = [])),
    params(("webhook_id" = String, Path, description = "the delivery's id", min_length = 1, max_length = 128)),
    responses(
        (status = 202, description = "queued again, same webhook id"),
        (status = 400, description = "the id is over 128 characters", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "unknown or already queued", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::HookRefusals))]
pub async fn resend(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Path(webhook_id)): Fhir<Path<String>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_control_character_anywhere_in_a_report_is_found_with_its_path() {
        let clean = json!({"a": ["tab\there", {"b": "line\r\nbreak"}], "n": 1});
        assert_eq!(control_character(&clean, "DiagnosticReport"), None);
        let nul = json!({"contained": [{"id": "ok"}, {"code": {"text": "x\u{0}y"}}]});
        assert_eq!(
            control_character(&nul, "DiagnosticReport").as_deref(),
            Some("DiagnosticReport.contained[1].code.text")
        );
        let key = json!({"ok": {"bad\u{1}key": 1}});
        assert_eq!(
            control_character(&key, "Bundle").as_deref(),
            Some("Bundle.ok.bad\u{1}key")
        );
    }
}
