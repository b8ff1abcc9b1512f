//! What this server offers: discovery, the services (fields) and their definitions.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::DateTime;
use phananh_app::Catalog;
use phananh_channels::open311::{get1, pairs};

use super::doc::Node;
use super::{Fmt, error, iso, jurisdiction_ok, not_found, render, split};
use crate::AppState;

/// `discovery`: the endpoint, its formats, and the profile's version as the changeset.
pub(super) fn discovery(catalog: &Catalog, fmt: Fmt) -> Response {
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
                        Node::str(iso(
                            DateTime::from_timestamp(catalog.version.max(0), 0).unwrap_or_default()
                        )),
                    ),
                    ("type", Node::str("production")),
                    (
                        "formats",
                        Node::List {
                            item: "format",
                            items: vec![Node::str("application/json"), Node::str("text/xml")],
                        },
                    ),
                ])],
            },
        ),
    ]);
    render(fmt, StatusCode::OK, "discovery", &node)
}

/// `services`: one service per field.
pub(super) fn services(catalog: &Catalog, fmt: Fmt) -> Response {
    let node = Node::List {
        item: "service",
        items: catalog.fields.iter().map(service).collect(),
    };
    render(fmt, StatusCode::OK, "services", &node)
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

pub(super) async fn service_definition(
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
