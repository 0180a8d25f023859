//! The dashboard's files, embedded at build time (see build.rs): the app at `/`
//! and `/assets/<name>`, Leaflet, Leaflet.markercluster and uPlot at `/assets/vendor/…`. Nothing is fetched from
//! the internet at run time.

use crate::state::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// (name, contents) of every embedded file.
static ASSETS: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/assets_table.rs"));

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*name}", get(asset))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

fn serve(name: &str) -> Response {
    match ASSETS.iter().find(|(n, _)| *n == name) {
        Some((n, bytes)) => (
            [
                (header::CONTENT_TYPE, content_type(n)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, format!("no asset `{name}`")).into_response(),
    }
}

async fn index() -> Response {
    serve("index.html")
}

async fn asset(Path(name): Path<String>) -> Response {
    serve(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_leaflet_its_clusters_and_uplot_are_embedded() {
        for name in [
            "index.html",
            "report.html",
            "vendor/leaflet.js",
            "vendor/leaflet.css",
            "vendor/leaflet.markercluster.js",
            "vendor/MarkerCluster.css",
            "vendor/uPlot.esm.js",
            "vendor/uPlot.min.css",
        ] {
            assert!(
                ASSETS.iter().any(|(n, b)| *n == name && !b.is_empty()),
                "{name} is not embedded"
            );
        }
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
    }
}
