//! Open311 GeoReport v2 at `/open311/v2`: discovery, services, service definitions,
//! requests (file, list, one), tokens; JSON or XML by suffix. Common extensions:
//! `page`/`page_size`, `updated_after`/`updated_before`, `extensions=true` (channel, ward,
//! duplicate-of, attributes and `notes[]` with the public history).
//!
//! The service request id is the tracking code the citizen sees. Nothing personal is
//! returned: no names, phones, emails, and no free-text address (it may be someone's home),
//! only the ward and the point.

mod doc;

use phananh_channels::open311::{get1, pairs};

use crate::routes::{Routes, get};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use phananh_app::intake::IntakeRequest;
use phananh_app::{AppError, Catalog};
use phananh_domain::calendar::to_local;
use phananh_domain::event::Event;
use phananh_domain::model::{Actor, ActorKind, Channel, Report, Status};
use phananh_storage::ReportFilter;

use crate::AppState;
use doc::Node;

pub fn routes() -> Routes {
    Routes::new()
        .route("/open311/v2/{file}", get(top).post(post_request))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
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

fn service(f: &phananh_domain::profile::Field) -> Node {
    Node::Obj(vec![
        ("service_code", Node::str(&f.code)),
        ("service_name", Node::str(&f.name_vi)),
        (
            "description",
            Node::str(format!("{} / {}", f.name_vi, f.name_en)),
        ),
        ("metadata", Node::Bool(!f.attributes.is_empty())),
        ("type", Node::str("realtime")),
        ("keywords", Node::str(f.keywords.join(","))),
        ("group", Node::str(&f.name_en)),
    ])
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
        "discovery" => {
            let node = Node::Obj(vec![
                (
                    "changeset",
                    Node::str(iso(
                        DateTime::from_timestamp(catalog.version.max(0), 0).unwrap_or_default()
                    )),
                ),
                (
                    "contact",
                    Node::str(format!("{} – Tổng đài 1022", catalog.city.name_vi)),
                ),
                (
                    "key_service",
                    Node::str("API key: liên hệ quản trị hệ thống / ask the administrators"),
                ),
                (
                    "endpoints",
                    Node::List {
                        item: "endpoint",
                        items: vec![Node::Obj(vec![
                            (
                                "specification",
                                Node::str("http://wiki.open311.org/GeoReport_v2"),
                            ),
                            ("url", Node::str("/open311/v2")),
                            (
                                "changeset",
                                Node::str(iso(DateTime::from_timestamp(catalog.version.max(0), 0)
                                    .unwrap_or_default())),
                            ),
                            ("type", Node::str("production")),
                            (
                                "formats",
                                Node::List {
                                    item: "format",
                                    items: vec![
                                        Node::str("application/json"),
                                        Node::str("text/xml"),
                                    ],
                                },
                            ),
                        ])],
                    },
                ),
            ]);
            render(fmt, StatusCode::OK, "discovery", &node)
        }
        "services" => {
            let node = Node::List {
                item: "service",
                items: catalog.fields.iter().map(service).collect(),
            };
            render(fmt, StatusCode::OK, "services", &node)
        }
        "requests" => list_requests(&state, &catalog, fmt, &p).await,
        _ => not_found(),
    }
}

async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, fmt)) = split(&file) else {
        return not_found();
    };
    let p = pairs(q.as_deref().unwrap_or("").as_bytes());
    let catalog = state.app.catalog().await;
    if let Err(r) = jurisdiction_ok(get1(&p, "jurisdiction_id"), &catalog, &state, fmt) {
        return r;
    }
    let Some(field) = catalog.field(code) else {
        return error(
            fmt,
            StatusCode::NOT_FOUND,
            "Không có lĩnh vực này / service_code not found",
        );
    };
    let mut attrs = field.attributes.clone();
    attrs.sort_by_key(|a| a.order);
    let node = Node::Obj(vec![
        ("service_code", Node::str(&field.code)),
        (
            "attributes",
            Node::List {
                item: "attribute",
                items: attrs
                    .iter()
                    .map(|a| {
                        Node::Obj(vec![
                            ("variable", Node::Bool(true)),
                            ("code", Node::str(&a.code)),
                            ("datatype", Node::str(&a.datatype)),
                            ("required", Node::Bool(a.required)),
                            ("datatype_description", Node::str(&a.description_en)),
                            ("order", Node::Int(a.order as i64)),
                            ("description", Node::str(&a.description_vi)),
                            (
                                "values",
                                Node::List {
                                    item: "value",
                                    items: a
                                        .values
                                        .iter()
                                        .map(|v| {
                                            Node::Obj(vec![
                                                ("key", Node::str(&v.key)),
                                                ("name", Node::str(&v.name)),
                                            ])
                                        })
                                        .collect(),
                                },
                            ),
                        ])
                    })
                    .collect(),
            },
        ),
    ]);
    render(fmt, StatusCode::OK, "service_definition", &node)
}

/// One request as Open311 shows it.
/// `events` (the public history) fill `status_notes`; `extensions` adds the extended
/// attributes and the notes.
fn request_node(r: &Report, events: Option<&[Event]>, extensions: bool, catalog: &Catalog) -> Node {
    // The last words addressed to the public (a resolution, a reason), else the status.
    let last_note = events.and_then(|e| e.iter().rev().find_map(|e| e.kind.public_note()));
    let mut fields = vec![
        ("service_request_id", Node::str(&r.code)),
        ("status", Node::str(open311_status(r.status))),
        (
            "status_notes",
            Node::str(
                last_note
                    .map(String::from)
                    .unwrap_or_else(|| r.status.label_vi().to_string()),
            ),
        ),
        ("service_name", Node::str(catalog.field_name(&r.field))),
        ("service_code", Node::str(&r.field)),
        ("description", Node::str(&r.description)),
        ("agency_responsible", Node::str(catalog.unit_name(&r.unit))),
        ("service_notice", Node::str("")),
        ("requested_datetime", Node::str(iso(r.created_at))),
        ("updated_datetime", Node::str(iso(r.updated_at))),
        ("expected_datetime", Node::opt(r.due_at.map(iso))),
        (
            "address",
            Node::opt(
                r.ward
                    .as_deref()
                    .map(|w| format!("{}, {}", catalog.ward_name(w), catalog.city.name_vi)),
            ),
        ),
        ("address_id", Node::Null),
        ("zipcode", Node::Null),
        ("lat", r.lat.map(Node::Num).unwrap_or(Node::Null)),
        ("long", r.lon.map(Node::Num).unwrap_or(Node::Null)),
        ("media_url", Node::opt(r.extra.media_urls.first().cloned())),
    ];
    if let (true, Some(events)) = (extensions, events) {
        fields.push((
            "extended_attributes",
            Node::Obj(vec![
                ("channel", Node::str(r.channel.as_str())),
                ("ward", Node::opt(r.ward.clone())),
                (
                    "ward_name",
                    Node::opt(r.ward.as_deref().map(|w| catalog.ward_name(w))),
                ),
                ("duplicate_of", Node::opt(r.duplicate_of.clone())),
                ("procedure_status", Node::str(r.status.as_str())),
                (
                    "attributes",
                    Node::List {
                        item: "attribute",
                        items: r
                            .extra
                            .attributes
                            .iter()
                            .map(|(k, v)| {
                                Node::Obj(vec![
                                    ("code", Node::str(k)),
                                    ("value", Node::str(v.join(","))),
                                ])
                            })
                            .collect(),
                    },
                ),
            ]),
        ));
        fields.push((
            "notes",
            Node::List {
                item: "note",
                items: events
                    .iter()
                    .filter_map(|e| Some((e, e.kind.public_view()?)))
                    .map(|(e, kind)| {
                        Node::Obj(vec![
                            ("datetime", Node::str(iso(e.at))),
                            ("type", Node::str(kind.type_name())),
                            ("summary", Node::str(catalog.describe(&kind, false, true))),
                            (
                                "description",
                                Node::str(match e.actor.kind {
                                    ActorKind::Citizen => "Người phản ánh",
                                    ActorKind::Staff => "Cán bộ xử lý",
                                    ActorKind::System => "Hệ thống",
                                    ActorKind::Integrator => "Đối tác",
                                }),
                            ),
                        ])
                    })
                    .collect(),
            },
        ));
    }
    Node::Obj(fields)
}

async fn list_requests(
    state: &AppState,
    catalog: &Catalog,
    fmt: Fmt,
    p: &[(String, String)],
) -> Response {
    let now = state.app.clock.now();
    let bad = |what: &str| error(fmt, StatusCode::BAD_REQUEST, what);
    let date = |key: &str| -> Result<Option<DateTime<Utc>>, Response> {
        match get1(p, key) {
            None => Ok(None),
            Some(v) => parse_date(v)
                .map(Some)
                .ok_or_else(|| bad(&format!("{key}: cần ngày giờ ISO 8601 có múi giờ / {key} must be ISO 8601 with a timezone"))),
        }
    };
    let list = |key: &str| -> Vec<String> {
        get1(p, key)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (start, end, after, before) = match (
        date("start_date"),
        date("end_date"),
        date("updated_after"),
        date("updated_before"),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => return e,
    };
    // Date windows are capped like every period a person gives.
    for (key, from, to) in [("start_date", start, end), ("updated_after", after, before)] {
        if let Some(from) = from
            && let Err(e) = phananh_app::performance::check_period(key, from, to.unwrap_or(now))
        {
            return bad(&format!("{key}: {}", e.message()));
        }
    }
    let page_size = match get1(p, "page_size").map(str::parse::<i64>) {
        None => 1000,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        _ => return bad("page_size: từ 1 đến 1000 / page_size must be 1–1000"),
    };
    let page = match get1(p, "page").map(str::parse::<i64>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        _ => return bad("page: số nguyên từ 1 / page must be a whole number from 1"),
    };
    let codes = list("service_request_id");
    let mut filter = ReportFilter {
        limit: page_size,
        offset: (page - 1) * page_size,
        ..ReportFilter::default()
    };
    if codes.is_empty() {
        // The spec's default window: the last 90 days, or from start_date.
        let end = end.unwrap_or(now);
        filter.created_from = Some(start.unwrap_or(end - Duration::days(90)));
        filter.created_to = Some(end + Duration::milliseconds(1));
        filter.fields = list("service_code");
        for s in list("status") {
            match s.as_str() {
                "open" => filter
                    .statuses
                    .extend(Status::ALL.into_iter().filter(|s| s.is_open())),
                "closed" => filter
                    .statuses
                    .extend(Status::ALL.into_iter().filter(|s| !s.is_open())),
                other => {
                    return bad(&format!(
                        "status: open hoặc closed / unknown status {other}"
                    ));
                }
            }
        }
        if filter.statuses.len() == Status::ALL.len() {
            filter.statuses.clear();
        }
        filter.updated_from = after;
        filter.updated_to = before;
    } else {
        filter.codes = codes;
    }
    let extensions = get1(p, "extensions") == Some("true");
    // Only what the public status page shows: published reports, projected.
    let reports = match state.app.public_list(filter).await {
        Ok(page) => page.items,
        Err(e) => {
            tracing::error!(error = %e, "open311 list failed");
            return error(
                fmt,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống / internal error",
            );
        }
    };
    let histories = if extensions {
        match state.app.public_histories(&reports).await {
            Ok(h) => h.into_iter().map(Some).collect(),
            Err(e) => {
                tracing::error!(error = %e, "open311 histories failed");
                return error(
                    fmt,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Lỗi hệ thống / internal error",
                );
            }
        }
    } else {
        vec![None; reports.len()]
    };
    let items: Vec<Node> = reports
        .iter()
        .zip(histories)
        .map(|(r, events)| request_node(r, events.as_deref(), extensions, catalog))
        .collect();
    render(
        fmt,
        StatusCode::OK,
        "service_requests",
        &Node::List {
            item: "request",
            items,
        },
    )
}

async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, fmt)) = split(&file) else {
        return not_found();
    };
    let p = pairs(q.as_deref().unwrap_or("").as_bytes());
    let catalog = state.app.catalog().await;
    if let Err(r) = jurisdiction_ok(get1(&p, "jurisdiction_id"), &catalog, &state, fmt) {
        return r;
    }
    match state.app.public_report(code).await {
        Ok((report, events)) => {
            let extensions = get1(&p, "extensions") == Some("true");
            let node = Node::List {
                item: "request",
                items: vec![request_node(&report, Some(&events), extensions, &catalog)],
            };
            render(fmt, StatusCode::OK, "service_requests", &node)
        }
        Err(_) => error(
            fmt,
            StatusCode::NOT_FOUND,
            "Không có yêu cầu này / service_request_id not found",
        ),
    }
}

async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((token, fmt)) = split(&file) else {
        return not_found();
    };
    // Requests are filed synchronously: the token is the request id itself.
    match state.app.public_report(token).await {
        Ok((r, _)) => {
            let node = Node::List {
                item: "request",
                items: vec![Node::Obj(vec![
                    ("service_request_id", Node::str(&r.code)),
                    ("token", Node::str(&r.code)),
                ])],
            };
            render(fmt, StatusCode::OK, "service_requests", &node)
        }
        Err(_) => error(
            fmt,
            StatusCode::NOT_FOUND,
            "Không có token này / token not found",
        ),
    }
}

async fn post_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
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
    let Some(key) = form.api_key.as_deref() else {
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
                    ("service_request_id", Node::str(&receipt.code)),
                    ("token", Node::str(&receipt.code)),
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
            error(fmt, status, &e.message())
        }
    }
}
