//! The switchboard: a keyboard-first screen to file a report during a call, the caller's
//! earlier reports, the caller popping up when the exchange says a call was answered
//! (server-sent events), and the queue of messages that could not be filed by themselves.

use std::collections::HashMap;
use std::convert::Infallible;

use crate::routes::{Routes, get, post};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::{Markup, html};
use phananh_app::AppError;
use phananh_app::hotline::CallEvent;
use phananh_app::intake::IntakeRequest;
use phananh_app::query::{UNVERIFIED_SENDER, Unfiled};
use phananh_domain::model::Channel;

use super::csrf_field;
use crate::AppState;
use crate::csrf::Csrf;
use crate::error::{ErrorCode, bare_error, status_of};
use crate::layout::{error_page, page, status_badge, when};
use crate::session::Staff;

/// The operators' event stream (incoming calls): long-lived, so outside the request
/// timeout.
pub fn stream_routes() -> Routes {
    Routes::new().route("/console/hotline/events", get(events))
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/console/hotline", get(screen).post(file))
        .route("/console/hotline/caller", get(caller))
        .route("/console/unfiled", get(unfiled))
        .route("/console/unfiled/{id}/dismiss", post(dismiss))
        .route("/api/v1/pbx/calls", post(pbx_call))
}

fn is_operator(staff: &Staff) -> bool {
    staff.principal.can_use_hotline()
}

#[derive(serde::Deserialize, Default)]
struct ScreenQuery {
    phone: Option<String>,
    call: Option<String>,
    filed: Option<String>,
    unfiled: Option<i64>,
}

/// The tracking code spaced out, to read back over the phone.
fn spelled(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c == '-' {
                " – ".to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn screen(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ScreenQuery>,
) -> Response {
    render(&state, &staff, q, HashMap::new(), None, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    staff: &Staff,
    q: ScreenQuery,
    mut typed: HashMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = staff.lang;
    if !is_operator(staff) {
        return error_page(&AppError::NotFound, lang, Some(staff));
    }
    let catalog = state.app.catalog().await;
    // From the queue: the message's sender and text fill the form.
    let mut item_channel = "hotline".to_string();
    let mut item = None;
    if let Some(id) = q.unfiled {
        match state.app.unfiled_item(&staff.principal, id).await {
            Ok(u) => {
                item_channel = u.channel.clone();
                if u.reason.starts_with(UNVERIFIED_SENDER) {
                    // A sender that could not be authenticated is not offered as the
                    // reporter: a receipt would go to whoever was impersonated.
                } else if u.sender.contains('@') {
                    typed.entry("email".into()).or_insert(u.sender.clone());
                } else {
                    typed.entry("phone".into()).or_insert(u.sender.clone());
                }
                typed.entry("description".into()).or_insert(u.body.clone());
                item = Some(u);
            }
            Err(e) => return error_page(&e, lang, Some(staff)),
        }
    }
    if let Some(p) = &q.phone {
        typed.entry("phone".into()).or_insert(p.clone());
    }
    let phone = typed.get("phone").cloned().unwrap_or_default();
    let caller = if phone.trim().len() >= 8 {
        state.app.caller(&staff.principal, &phone).await.ok()
    } else {
        None
    };
    if let Some(c) = &caller {
        if let Some(n) = &c.name {
            typed.entry("name".into()).or_insert(n.clone());
        }
        if let Some(e) = &c.email {
            typed.entry("email".into()).or_insert(e.clone());
        }
    }
    let v = |k: &str| typed.get(k).cloned().unwrap_or_default();
    let call = q
        .call
        .clone()
        .or_else(|| typed.get("call_id").cloned())
        .unwrap_or_default();
    let key = typed
        .get("key")
        .cloned()
        .unwrap_or_else(phananh_app::auth::random_token);
    let body = html! {
        h1 { (lang.t("Tổng đài: tiếp nhận cuộc gọi", "Hotline: take a call")) }
        @if let Some(code) = &q.filed {
            div class="notice" role="status" {
                p { (lang.t("Đã tiếp nhận. Đọc mã hồ sơ cho người gọi:", "Filed. Read the tracking code to the caller:")) }
                p class="bigger" { span class="code" { (code) } }
                p class="muted" { (spelled(code)) }
            }
        }
        @if let Some(e) = &error { div class="error" role="alert" { (e) } }
        div id="call-banner" class="notice" role="status" hidden data-text=(lang.t("Cuộc gọi đến từ", "Incoming call from")) {}
        @if let Some(u) = &item {
            div class="card" {
                h2 class="mt0" { (lang.t("Tin nhắn cần xử lý", "Message to file")) " (" (u.channel) ")" }
                p class="muted" { (when(u.received_at)) " · " (u.sender) " · " (u.reason) }
                @if let Some(s) = &u.subject { p { strong { (s) } } }
                pre class="prewrap" { (u.body) }
            }
        }
        div class="grid" {
            div class="card" {
                h2 class="mt0" { (lang.t("Người gọi", "Caller")) }
                div id="caller-reports" data-none=(lang.t("Chưa có phản ánh nào từ số này.", "No reports from this number yet.")) {
                    @if let Some(c) = &caller {
                        @if let Some(n) = &c.name { p { strong { (n) } " · " (c.phone) } }
                        @if c.reports.is_empty() { p class="muted" { (lang.t("Chưa có phản ánh nào từ số này.", "No reports from this number yet.")) } }
                        ul {
                            @for r in &c.reports {
                                li { a class="code" href={"/console/reports/" (r.code)} { (r.code) } " " (status_badge(r.status, lang)) " "
                                    (catalog.field_name(&r.field)) " · " (when(r.created_at)) }
                            }
                        }
                    } @else {
                        p class="muted" { (lang.t("Nhập số điện thoại để xem các phản ánh trước đây.", "Type the number to see earlier reports.")) }
                    }
                }
            }
            form class="card" method="post" action="/console/hotline" id="hotline-form" {
                (csrf_field(staff))
                input type="hidden" name="key" value=(key);
                input type="hidden" name="call_id" id="call_id" value=(call);
                input type="hidden" name="channel" value=(item_channel);
                @if let Some(u) = &item { input type="hidden" name="unfiled" value=(u.id); }
                label for="phone" { (lang.t("Số điện thoại người gọi", "Caller's number")) " " kbd { "Alt+1" } }
                input id="phone" name="phone" type="tel" value=(phone) autofocus accesskey="1" autocomplete="off";
                button type="submit" class="secondary" formmethod="get" formaction="/console/hotline" formnovalidate { (lang.t("Tra cứu người gọi", "Look the caller up")) }
                label for="name" { (lang.t("Họ tên", "Name")) }
                input id="name" name="name" value=(v("name")) autocomplete="off";
                label for="email" { "Email" }
                input id="email" name="email" type="email" value=(v("email")) autocomplete="off";
                label { input type="checkbox" name="consent" value="1" checked; " " (lang.t("Người gọi đồng ý được liên hệ lại", "The caller agrees to be contacted")) }
                label for="field" { (lang.t("Lĩnh vực", "Field")) " " kbd { "Alt+2" } }
                select id="field" name="field" required accesskey="2" {
                    option value="" { (lang.t("— Chọn —", "— Choose —")) }
                    @for f in &catalog.fields { option value=(f.code) selected[v("field") == f.code] { (f.icon) " " (lang.t(&f.name_vi, &f.name_en)) } }
                }
                (crate::questions::inputs(&catalog.fields, lang, |n| v(n), None))
                label for="description" { (lang.t("Nội dung", "Description")) " " kbd { "Alt+3" } }
                textarea id="description" name="description" required rows="4" maxlength="5000" accesskey="3" { (v("description")) }
                label for="address" { (lang.t("Địa chỉ", "Address")) " " kbd { "Alt+4" } }
                input id="address" name="address" value=(v("address")) accesskey="4" autocomplete="off";
                label for="ward" { (lang.t("Phường, xã (gõ để tìm)", "Ward (type to search)")) }
                input id="ward" name="ward_name" list="wards" value=(v("ward_name")) autocomplete="off";
                datalist id="wards" { @for w in &catalog.wards { option value=(w.name_vi) {} } }
                p class="muted" { (lang.t("Hoặc chọn vị trí trên bản đồ:", "Or pick the place on the map:")) " " span id="pin-status" {} }
                input type="hidden" id="lat" name="lat" value=(v("lat"));
                input type="hidden" id="lon" name="lon" value=(v("lon"));
                div id="map" data-lat=(catalog.city.center[0]) data-lon=(catalog.city.center[1])
                    data-tiles=(state.config.tile_url) data-attribution=(state.config.tile_attribution) {}
                label { input type="checkbox" name="urgent" value="1" checked[!v("urgent").is_empty()] accesskey="5"; " " strong { (lang.t("Khẩn cấp", "Urgent")) } " "
                    span class="muted" { (lang.t("(xử lý trong vài giờ, báo ngay số trực của đơn vị)", "(hours to fix; the unit's duty contact is alerted at once)")) } " " kbd { "Alt+5" } }
                p { button type="submit" { (lang.t("Tiếp nhận", "File the report")) } " " span class="muted" { "Ctrl+Enter" } }
            }
        }
        link rel="stylesheet" href="/static/leaflet/leaflet.css";
        script src="/static/leaflet/leaflet.js" {}
        script src="/static/questions.js" {}
        script src="/static/hotline.js" {}
    };
    (
        status,
        page(lang.t("Tổng đài", "Hotline"), lang, Some(staff), body),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct CallerQuery {
    phone: String,
}

/// The caller's earlier reports, for the screen's script.
async fn caller(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<CallerQuery>,
) -> Response {
    if !is_operator(&staff) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let catalog = state.app.catalog().await;
    match state.app.caller(&staff.principal, &q.phone).await {
        Ok(c) => Json(CallerAnswer {
            reports: c
                .reports
                .iter()
                .map(|r| CallerReport {
                    code: &r.code,
                    status_label: if staff.lang == crate::Lang::En {
                        r.status.label_en()
                    } else {
                        r.status.label_vi()
                    },
                    field_name: catalog.field_name(&r.field),
                    created_at: when(r.created_at),
                })
                .collect(),
            phone: c.phone,
            name: c.name,
            email: c.email,
        })
        .into_response(),
        Err(e) => (
            status_of(&e),
            Json(CallerError {
                error: ErrorCode::from(&e),
            }),
        )
            .into_response(),
    }
}

/// What the operator's screen gets for a caller.
#[derive(serde::Serialize)]
struct CallerAnswer<'a> {
    phone: String,
    name: Option<String>,
    email: Option<String>,
    reports: Vec<CallerReport<'a>>,
}

#[derive(serde::Serialize)]
struct CallerReport<'a> {
    code: &'a str,
    status_label: &'static str,
    field_name: String,
    created_at: String,
}

#[derive(serde::Serialize)]
struct CallerError {
    error: ErrorCode,
}

/// Calls answered by this operator (or by nobody we know) pop up on the screen.
async fn events(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, StatusCode> {
    if !is_operator(&staff) {
        return Err(StatusCode::NOT_FOUND);
    }
    let me = staff.principal.user_id;
    let rx = state.app.calls.subscribe();
    let stop = state.stopping.subscribe();
    let stream = futures_util::stream::unfold((rx, stop), move |(mut rx, mut stop)| async move {
        loop {
            if *stop.borrow() {
                return None;
            }
            let next = tokio::select! {
                r = rx.recv() => r,
                _ = stop.changed() => return None,
            };
            match next {
                Ok(p) if p.operator_id.is_none_or(|id| id == me) => {
                    let event = Event::default()
                        .event("call")
                        .json_data(&p)
                        .unwrap_or_default();
                    return Some((Ok(event), (rx, stop)));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn file(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(form)): Csrf<Form<HashMap<String, String>>>,
) -> Response {
    let lang = staff.lang;
    if !staff.principal.can_file_reports() {
        return error_page(&AppError::Forbidden, lang, Some(&staff));
    }
    if !is_operator(&staff) {
        return error_page(&AppError::NotFound, lang, Some(&staff));
    }
    if !state.limits.staff_filing(staff.principal.user_id) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            error_page(
                &AppError::invalid(
                    "description",
                    "staff_rate_limited",
                    "Bạn đã tiếp nhận quá nhiều phản ánh trong thời gian ngắn, vui lòng thử lại sau ít phút",
                    "You filed too many reports in a short time; try again in a few minutes",
                ),
                lang,
                Some(&staff),
            ),
        )
            .into_response();
    }
    let catalog = state.app.catalog().await;
    let opt = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    // The ward typed by name (accents or not), or found in the address.
    let ward = opt("ward_name").and_then(|n| {
        catalog
            .ward_names
            .search(&n, 1)
            .into_iter()
            .next()
            .map(|(code, _)| code)
    });
    let channel = opt("channel")
        .and_then(|c| Channel::parse(&c))
        .filter(|c| matches!(c, Channel::Hotline | Channel::Sms | Channel::Email))
        .unwrap_or(Channel::Hotline);
    let number = |k: &str| opt(k).and_then(|v| v.parse::<f64>().ok());
    let request = IntakeRequest {
        lat: number("lat"),
        lon: number("lon"),
        field: opt("field").unwrap_or_default(),
        description: opt("description").unwrap_or_default(),
        address: opt("address"),
        ward,
        name: opt("name"),
        phone: opt("phone"),
        email: opt("email"),
        consent: form.contains_key("consent"),
        urgent: form.contains_key("urgent"),
        attributes: crate::questions::answers(
            opt("field").and_then(|f| catalog.field(&f)),
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ),
        ..IntakeRequest::default()
    };
    let unfiled = opt("unfiled").and_then(|v| v.parse().ok());
    let call = opt("call_id");
    match state
        .app
        .file_for_caller(
            &staff.principal,
            request,
            channel,
            call.as_deref(),
            unfiled,
            opt("key"),
        )
        .await
    {
        Ok(receipt) => {
            Redirect::to(&format!("/console/hotline?filed={}", receipt.code)).into_response()
        }
        Err(e) => {
            let status = crate::error::status_of(&e);
            let q = ScreenQuery {
                call,
                unfiled,
                ..Default::default()
            };
            render(&state, &staff, q, form, Some(e.message()), status).await
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct UnfiledQuery {
    all: Option<String>,
}

async fn unfiled(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<UnfiledQuery>,
) -> Response {
    let lang = staff.lang;
    let items = match state
        .app
        .unfiled_queue(&staff.principal, q.all.is_some())
        .await
    {
        Ok(i) => i,
        Err(e) => return error_page(&e, lang, Some(&staff)),
    };
    let row = |u: &Unfiled| -> Markup {
        html! {
            div class="card" {
                p class="muted" { (when(u.received_at)) " · " strong { (u.channel) } " · " (u.sender) " · " (u.reason) }
                @if let Some(s) = &u.subject { p { strong { (s) } } }
                pre class="prewrap" { (u.body) }
                @if let Some(code) = &u.report_code {
                    p { (lang.t("Đã tạo phản ánh", "Filed as")) " " a class="code" href={"/console/reports/" (code)} { (code) } }
                } @else if let Some(n) = &u.note {
                    p class="muted" { (lang.t("Đã bỏ qua: ", "Set aside: ")) (n) }
                } @else {
                    p { a class="button" href={"/console/hotline?unfiled=" (u.id)} { (lang.t("Tạo phản ánh", "File a report")) } }
                    details {
                        summary { (lang.t("Bỏ qua (không phải phản ánh)", "Set aside (not a report)")) }
                        form method="post" action={"/console/unfiled/" (u.id) "/dismiss"} {
                            (csrf_field(&staff))
                            label for={"note-" (u.id)} { (lang.t("Lý do", "Reason")) }
                            input id={"note-" (u.id)} name="note" required;
                            button type="submit" class="secondary" { (lang.t("Bỏ qua", "Set aside")) }
                        }
                    }
                }
            }
        }
    };
    page(lang.t("Tin nhắn chờ xử lý", "Messages to file"), lang, Some(&staff), html! {
        h1 { (lang.t("Tin nhắn chờ xử lý", "Messages to file")) }
        p class="muted" { (lang.t("SMS và email chưa thể tự tạo phản ánh. Không tin nào bị bỏ sót.", "SMS and emails that could not be filed by themselves. Nothing is dropped."))
            " " a href="/console/unfiled?all=1" { (lang.t("Xem cả tin đã xử lý", "Show handled ones too")) } }
        @if items.is_empty() { p { (lang.t("Không có tin nào.", "Nothing waiting.")) } }
        @for u in &items { (row(u)) }
    })
    .into_response()
}

async fn dismiss(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Csrf(Form(form)): Csrf<Form<HashMap<String, String>>>,
) -> Response {
    let note = form.get("note").map(String::as_str).unwrap_or("");
    match state.app.dismiss_unfiled(&staff.principal, id, note).await {
        Ok(()) => Redirect::to("/console/unfiled").into_response(),
        Err(e) => error_page(&e, staff.lang, Some(&staff)),
    }
}

/// What the exchange hears back: `{"status": "ok", "shown_to": <operator id> | "all" | null}`.
#[derive(serde::Serialize)]
struct CallAnswer {
    status: &'static str,
    shown_to: Option<ShownTo>,
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum ShownTo {
    Operator(i64),
    All(&'static str),
}

/// `POST /api/v1/pbx/calls` with `Authorization: Bearer <[hotline] pbx_token>`: the
/// exchange says a call rang, was answered or ended. An answered call pops up on the
/// screen of the operator who took it (or on every operator's, if the exchange named
/// someone we do not know).
async fn pbx_call(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CallEvent>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if !crate::session::bearer_ok(&headers, &state.config.hotline.pbx_token) {
        return bare_error(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, None);
    }
    let Ok(Json(event)) = body else {
        return bare_error(StatusCode::BAD_REQUEST, ErrorCode::InvalidJson, None);
    };
    let delivery = phananh_app::inbox::Delivery::Call {
        event: &event,
        extensions: &state.config.hotline.extensions,
    };
    match phananh_app::inbox::receive(&state.app, delivery).await {
        Ok(received) => Json(CallAnswer {
            status: "ok",
            shown_to: received.popup.as_ref().map(|p| match p.operator_id {
                Some(id) => ShownTo::Operator(id),
                None => ShownTo::All("all"),
            }),
        })
        .into_response(),
        Err(e) => bare_error(status_of(&e), ErrorCode::from(&e), Some(e.message())),
    }
}
