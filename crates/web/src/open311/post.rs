//! Filing a request (`POST requests.json|xml`) with an integrator's API key.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use phananh_app::AppError;
use phananh_app::intake::IntakeRequest;
use phananh_domain::model::{Actor, ActorKind, Channel};

use super::doc::Node;
use super::{error, jurisdiction_ok, not_found, render, split};
use crate::AppState;

pub(super) async fn post_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(("requests", fmt)) = split(&file) else {
        return not_found();
    };
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with("application/x-www-form-urlencoded") {
        return error(
            fmt,
            StatusCode::BAD_REQUEST,
            "Cần gửi dạng application/x-www-form-urlencoded / the body must be form-encoded",
        );
    }
    let form = phananh_channels::open311::parse_post(&body);
    let catalog = state.app.catalog().await;
    // Some client libraries put `api_key` in the query string of the POST rather than in
    // the form; both are accepted (the form wins when both are given).
    let query = phananh_channels::open311::pairs(query.as_deref().unwrap_or("").as_bytes());
    let from_query = phananh_channels::open311::get1(&query, "api_key");
    let Some(key) = form.api_key.as_deref().or(from_query) else {
        return error(
            fmt,
            StatusCode::FORBIDDEN,
            "Thiếu api_key / api_key is required",
        );
    };
    let key = match state.app.api_key(key).await {
        Ok(Some(k)) => k,
        Ok(None) => {
            return error(
                fmt,
                StatusCode::FORBIDDEN,
                "api_key không hợp lệ / invalid api_key",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "api key lookup failed");
            return error(
                fmt,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống / internal error",
            );
        }
    };
    if !state.limits.api_key(key.id, key.rate_per_minute) {
        return error(
            fmt,
            StatusCode::TOO_MANY_REQUESTS,
            "Vượt giới hạn số yêu cầu của api_key / rate limit exceeded for this api_key",
        );
    }
    if let Err(r) = jurisdiction_ok(form.jurisdiction_id.as_deref(), &catalog, &state, fmt) {
        return r;
    }
    let Some(service_code) = form.service_code.as_deref() else {
        return error(
            fmt,
            StatusCode::BAD_REQUEST,
            "Thiếu service_code / service_code is required",
        );
    };
    let Some(field) = catalog.field(service_code) else {
        return error(
            fmt,
            StatusCode::NOT_FOUND,
            "Không có lĩnh vực này / service_code not found",
        );
    };
    let d = match form.details {
        Ok(d) => d,
        Err(e) => return error(fmt, StatusCode::BAD_REQUEST, &e.message()),
    };
    let request = IntakeRequest {
        field: field.code.clone(),
        description: d.description.unwrap_or_else(|| field.name_vi.clone()),
        lat: d.point.map(|p| p.0),
        lon: d.point.map(|p| p.1),
        address: d.address,
        ward: None,
        name: d.name,
        phone: d.phone,
        email: d.email,
        consent: true,
        attributes: d.attributes,
        media_url: d.media_url,
        photos: Vec::new(),
        media: Vec::new(),
        urgent: false,
    };
    let actor = Actor {
        kind: ActorKind::Integrator,
        id: Some(key.name.clone()),
        name: Some(key.name.clone()),
    };
    let identity = form
        .account_id
        .as_deref()
        .or(form.device_id.as_deref())
        .map(|v| format!("{}:{v}", key.name));
    // An extension: a retried POST with the same Idempotency-Key files nothing new.
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("{}:{k}", key.name));
    match state
        .app
        .submit(request, Channel::Open311, actor, identity, idempotency_key)
        .await
    {
        Ok(receipt) => {
            let node = Node::List {
                item: "request",
                items: vec![Node::Obj(vec![
                    // Filed synchronously, so the id is known: the standard then
                    // returns the id and no token (a token is for ids not known yet).
                    ("service_request_id", Node::str(&receipt.code)),
                    (
                        "service_notice",
                        Node::str(format!(
                            "Mã hồ sơ {} / tracking code {}",
                            receipt.code, receipt.code
                        )),
                    ),
                    ("account_id", Node::opt(form.account_id.as_deref())),
                ])],
            };
            let status = if receipt.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            render(fmt, status, "service_requests", &node)
        }
        Err(AppError::Validation(errs)) => {
            let node = Node::List {
                item: "error",
                items: errs
                    .iter()
                    .map(|e| {
                        Node::Obj(vec![
                            ("code", Node::Int(400)),
                            (
                                "description",
                                Node::str(format!(
                                    "{}: {} / {}",
                                    e.field, e.message_vi, e.message_en
                                )),
                            ),
                        ])
                    })
                    .collect(),
            };
            render(fmt, StatusCode::BAD_REQUEST, "errors", &node)
        }
        Err(e) => {
            let status = crate::error::status_of(&e);
            if status.is_server_error() {
                tracing::error!(error = %e, "open311 request not filed");
            }
            error(fmt, status, &e.message())
        }
    }
}
