//! Reading requests: the list (with the spec's filters and the common extensions), one
//! request, and a request by its token.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use phananh_app::Catalog;
use phananh_app::query::ReportQuery;
use phananh_channels::open311::{get1, pairs};
use phananh_domain::event::Event;
use phananh_domain::model::{ActorKind, Report, Status};

use super::doc::Node;
use super::{
    Fmt, error, iso, jurisdiction_ok, not_found, open311_status, parse_date, render, split,
};
use crate::AppState;

/// One request as Open311 shows it.
/// `events` (the public history) fill `status_notes`; `extensions` adds the extended
/// attributes and the notes. `media_url` is the report's first photo, whatever channel it
/// came by (an absolute URL under `public_url`), else the first link an integrator gave.
pub(super) fn request_node(
    r: &Report,
    events: Option<&[Event]>,
    extensions: bool,
    catalog: &Catalog,
    photo: Option<&str>,
    public_url: &str,
) -> Node {
    let media_url = photo
        .map(|k| format!("{}/photos/{k}", public_url.trim_end_matches('/')))
        .or_else(|| r.extra.media_urls.first().cloned());
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
        ("media_url", Node::opt(media_url)),
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

pub(super) async fn list_requests(
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
    let mut filter = ReportQuery {
        limit: page_size,
        offset: (page - 1) * page_size,
        ..ReportQuery::default()
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
    let photos = match state.app.public_first_photos(&reports).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "open311 photos failed");
            return error(
                fmt,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống / internal error",
            );
        }
    };
    let items: Vec<Node> = reports
        .iter()
        .zip(histories)
        .map(|(r, events)| {
            let photo = photos.get(&r.id).map(String::as_str);
            request_node(
                r,
                events.as_deref(),
                extensions,
                catalog,
                photo,
                &state.config.public_url,
            )
        })
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

pub(super) async fn one_request(
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
            let photos = match state
                .app
                .public_first_photos(std::slice::from_ref(&report))
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "open311 photo failed");
                    return error(
                        fmt,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Lỗi hệ thống / internal error",
                    );
                }
            };
            let photo = photos.get(&report.id).map(String::as_str);
            let node = Node::List {
                item: "request",
                items: vec![request_node(
                    &report,
                    Some(&events),
                    extensions,
                    &catalog,
                    photo,
                    &state.config.public_url,
                )],
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

pub(super) async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
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
