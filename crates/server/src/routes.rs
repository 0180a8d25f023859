//! The whole HTTP surface: every handler module's routes merged into one
//! router over the shared [`AppState`], with the security headers on every
//! answer; an unknown route (404) or method (405) is answered in the API's
//! error shape. Nothing in the crate depends on this module but `lib.rs`.

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The whole HTTP surface. The live feed the dashboard's clients share runs
/// apart (`dashboard::run_feed`), supervised by the service.
pub fn router(state: AppState) -> Router {
    let standby_state = state.clone();
    Router::new()
        .merge(crate::health::routes())
        .merge(crate::reads::routes())
        .merge(crate::lab::routes(state.clone()))
        .merge(crate::auth::routes())
        .merge(crate::dashboard::routes())
        .merge(crate::replay::routes())
        .merge(crate::day_views::routes())
        .merge(crate::openapi::routes())
        .merge(crate::assets::routes())
        .fallback(crate::error::no_route)
        .method_not_allowed_fallback(crate::error::wrong_method)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            standby_state,
            crate::standby::refuse_writes,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// The dashboard loads everything from this server (Leaflet from
/// /assets/vendor, no map tiles from elsewhere); Leaflet positions its panes
/// with inline styles, and its marker images may be `data:` URLs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
