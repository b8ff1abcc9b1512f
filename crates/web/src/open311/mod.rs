//! Open311 GeoReport v2 at `/open311/v2`: discovery, services, service definitions,
//! requests (file, list, one), tokens; JSON or XML by suffix. Common extensions:
//! `page`/`page_size`, `updated_after`/`updated_before`, `extensions=true` (channel, ward,
//! duplicate-of, attributes and `notes[]` with the public history).
//!
//! The service request id is the tracking code the citizen sees. Nothing personal is
//! returned: no names, phones, emails, and no free-text address (it may be someone's home),
//! only the ward and the point.

mod discovery;
mod doc;
mod post;
mod read;

use phananh_channels::open311::{get1, pairs};

use crate::routes::{Routes, get};
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use phananh_app::Catalog;
use phananh_domain::calendar::to_local;
use phananh_domain::model::Status;

use crate::AppState;
use doc::Node;

pub fn routes() -> Routes {
    Routes::new()
        .route("/open311/v2/{file}", get(top).post(post::post_request))
        .route(
            "/open311/v2/services/{file}",
            get(discovery::service_definition),
        )
        .route("/open311/v2/requests/{file}", get(read::one_request))
        .route("/open311/v2/tokens/{file}", get(read::token))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Json,
    Xml,
}

/// Splits `name.json` / `name.xml`.
fn split(file: &str) -> Option<(&str, Fmt)> {
    if let Some(stem) = file.strip_suffix(".json") {
        Some((stem, Fmt::Json))
    } else {
        file.strip_suffix(".xml").map(|stem| (stem, Fmt::Xml))
    }
}

fn render(fmt: Fmt, status: StatusCode, root: &str, node: &Node) -> Response {
    match fmt {
        Fmt::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            node.to_json().to_string(),
        )
            .into_response(),
        Fmt::Xml => (
            status,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            node.to_xml(root),
        )
            .into_response(),
    }
}

/// An Open311 error: `errors[] → error{code, description}`.
fn error(fmt: Fmt, status: StatusCode, description: &str) -> Response {
    let node = Node::List {
        item: "error",
        items: vec![Node::Obj(vec![
            ("code", Node::Int(status.as_u16() as i64)),
            ("description", Node::str(description)),
        ])],
    };
    render(fmt, status, "errors", &node)
}

fn not_found() -> Response {
    error(
        Fmt::Json,
        StatusCode::NOT_FOUND,
        "Không tìm thấy / Not found",
    )
}

fn iso(t: DateTime<Utc>) -> String {
    to_local(t).to_rfc3339()
}

fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// `jurisdiction_id` may be left out, or be the city's code or the configured id; any
/// other is "not found", as the standard says.
fn jurisdiction_ok(
    jurisdiction_id: Option<&str>,
    catalog: &Catalog,
    state: &AppState,
    fmt: Fmt,
) -> Result<(), Response> {
    match jurisdiction_id {
        Some(j) if j != catalog.city.code && j != state.config.jurisdiction_id => Err(error(
            fmt,
            StatusCode::NOT_FOUND,
            "jurisdiction_id không đúng / unknown jurisdiction_id",
        )),
        _ => Ok(()),
    }
}

fn open311_status(s: Status) -> &'static str {
    if s.is_open() { "open" } else { "closed" }
}

async fn top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((stem, fmt)) = split(&file) else {
        return not_found();
    };
    let p = pairs(q.as_deref().unwrap_or("").as_bytes());
    let catalog = state.app.catalog().await;
    if let Err(r) = jurisdiction_ok(get1(&p, "jurisdiction_id"), &catalog, &state, fmt) {
        return r;
    }
    match stem {
        "discovery" => discovery::discovery(&catalog, fmt),
        "services" => discovery::services(&catalog, fmt),
        "requests" => read::list_requests(&state, &catalog, fmt, &p).await,
        _ => not_found(),
    }
}
