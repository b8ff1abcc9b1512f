//! The static files the pages use, embedded in the binary: one table, one route.

use crate::routes::{Routes, get};
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const PNG: &str = "image/png";

/// (path under /static/, content type, bytes)
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.css", CSS, include_bytes!("../assets/app.css")),
    ("console.js", JS, include_bytes!("../assets/console.js")),
    ("field.js", JS, include_bytes!("../assets/field.js")),
    ("stats.js", JS, include_bytes!("../assets/stats.js")),
    ("report.js", JS, include_bytes!("../assets/report.js")),
    ("nearby.js", JS, include_bytes!("../assets/nearby.js")),
    ("pwa.js", JS, include_bytes!("../assets/pwa.js")),
    ("hotline.js", JS, include_bytes!("../assets/hotline.js")),
    ("mine.js", JS, include_bytes!("../assets/mine.js")),
    ("confirm.js", JS, include_bytes!("../assets/confirm.js")),
    ("questions.js", JS, include_bytes!("../assets/questions.js")),
    ("redact.js", JS, include_bytes!("../assets/redact.js")),
    ("templates.js", JS, include_bytes!("../assets/templates.js")),
    (
        "icons/icon-192.png",
        PNG,
        include_bytes!("../assets/icons/icon-192.png"),
    ),
    (
        "icons/icon-512.png",
        PNG,
        include_bytes!("../assets/icons/icon-512.png"),
    ),
    (
        "icons/icon-maskable-512.png",
        PNG,
        include_bytes!("../assets/icons/icon-maskable-512.png"),
    ),
    ("map.js", JS, include_bytes!("../assets/map.js")),
    (
        "leaflet/leaflet.js",
        JS,
        include_bytes!("../assets/leaflet/leaflet.js"),
    ),
    (
        "leaflet/leaflet.css",
        CSS,
        include_bytes!("../assets/leaflet/leaflet.css"),
    ),
    (
        "leaflet/images/marker-icon.png",
        PNG,
        include_bytes!("../assets/leaflet/images/marker-icon.png"),
    ),
    (
        "leaflet/images/marker-icon-2x.png",
        PNG,
        include_bytes!("../assets/leaflet/images/marker-icon-2x.png"),
    ),
    (
        "leaflet/images/marker-shadow.png",
        PNG,
        include_bytes!("../assets/leaflet/images/marker-shadow.png"),
    ),
    (
        "markercluster/leaflet.markercluster.js",
        JS,
        include_bytes!("../assets/markercluster/leaflet.markercluster.js"),
    ),
    (
        "markercluster/MarkerCluster.css",
        CSS,
        include_bytes!("../assets/markercluster/MarkerCluster.css"),
    ),
    (
        "markercluster/MarkerCluster.Default.css",
        CSS,
        include_bytes!("../assets/markercluster/MarkerCluster.Default.css"),
    ),
];

/// A fingerprint of every embedded file (FNV-1a, stable across builds and platforms): the
/// service worker's cache name changes with it, so a new build replaces the offline copy.
pub fn fingerprint() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, _, bytes) in ASSETS {
        for b in path.as_bytes().iter().chain(bytes.iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

pub fn routes() -> Routes {
    Routes::new().route("/static/{*path}", get(serve))
}

async fn serve(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_asset_a_page_names_is_served() {
        let pages = [
            include_str!("public/mod.rs"),
            include_str!("public/stats.rs"),
            include_str!("console/mod.rs"),
            include_str!("console/report.rs"),
            include_str!("console/queue.rs"),
            include_str!("console/hotline.rs"),
            include_str!("public/pwa.rs"),
            include_str!("../assets/sw.js"),
        ];
        for page in pages {
            for (i, _) in page.match_indices("\"/static/") {
                let rest = &page[i + 9..];
                let path = &rest[..rest.find('"').unwrap()];
                if path.is_empty() {
                    continue; // the prefix itself, as in a path test
                }
                assert!(
                    super::ASSETS.iter().any(|(p, _, _)| *p == path),
                    "/static/{path} is linked but not served"
                );
            }
        }
    }
}
