//! The result-sharing subscriptions, managed by coordinators: list, add, change
//! and remove; the service core reloads them after each change.

use super::callers::admin;
use crate::auth::audit;
use crate::control::{Control, Refusal};
use crate::limits;
use crate::outcome::{Fhir, Outcome, bounded, json_body, not_blank};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use labflight_hooks::fhir::IssueCode;
use labflight_store::Subscription;
use serde::Deserialize;
use utoipa::ToSchema;

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
