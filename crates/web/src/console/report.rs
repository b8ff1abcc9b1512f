//! The report page: the record, the reporter (staff only), the whole history, and one form
//! for every action this person may take now.

use crate::routes::{Routes, get, post};
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use phananh_app::AppError;
use phananh_app::reports::ReportView;
use phananh_domain::model::ActorKind;
use phananh_domain::procedure::{Action, Command};
use phananh_domain::profile::UnitKind;
use serde::Deserialize;

use super::csrf_field;
use crate::csrf::{Csrf, csrf_form};
use crate::layout::{error_page, page, status_badge, when};
use crate::session::Staff;
use crate::{AppState, Lang};

pub fn routes() -> Routes {
    Routes::new()
        .route("/console/reports/{code}", get(show))
        .route("/console/reports/{code}/actions", post(act))
        .route("/console/reports/{code}/chat", post(chat_reply))
}

async fn show(State(state): State<AppState>, staff: Staff, Path(code): Path<String>) -> Response {
    match state.app.staff_report(&staff.principal, &code).await {
        Ok(view) => render(&state, &staff, &view, None).await.into_response(),
        Err(e) => error_page(&e, staff.lang, Some(&staff)),
    }
}

async fn render(
    state: &AppState,
    staff: &Staff,
    view: &ReportView,
    error: Option<String>,
) -> axum::response::Html<String> {
    let lang = staff.lang;
    let catalog = state.app.catalog().await;
    let r = &view.report;
    let staff_of_unit = if view.actions.contains(&Action::AssignStaff) {
        state.app.unit_staff(&r.unit).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let chat = state
        .app
        .chat_thread(&staff.principal, &r.code)
        .await
        .ok()
        .flatten();
    // Its video and voice notes, played here.
    let media = state
        .app
        .report_media(&staff.principal, r)
        .await
        .unwrap_or_default();
    // The calls this report came from (personal data: the caller's number).
    let calls = state
        .app
        .report_calls(&staff.principal, r.id)
        .await
        .unwrap_or_default();
    let moderation = super::moderation::card(state, staff, r).await;
    // The same problem reported again (any channel), while this one is open; and the
    // duplicates already merged into this one.
    let likely = if r.status.is_open() {
        state
            .app
            .likely_duplicates(&staff.principal, &r.code)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let merged = state
        .app
        .merged_duplicates(&staff.principal, r)
        .await
        .unwrap_or_default();
    let can_merge = view.actions.contains(&Action::MarkDuplicate);
    let radius = catalog
        .field(&r.field)
        .map_or(phananh_domain::duplicates::DEFAULT_RADIUS_M, |f| {
            f.duplicate_radius_m
        });
    let assignable: Vec<_> = catalog
        .units
        .iter()
        .filter(|u| u.kind != UnitKind::Triage && u.code != r.unit)
        .collect();
    let form = |action: Action, inner: Markup| -> Markup {
        html! {
            details {
                summary { (lang.t(action.label_vi(), action.label_en())) }
                form method="post" action={"/console/reports/" (r.code) "/actions"} {
                    (csrf_field(staff))
                    input type="hidden" name="action" value=(action.as_str());
                    (inner)
                    p { button type="submit" class=(if matches!(action, Action::Reject) { "danger" } else { "" }) { (lang.t("Xác nhận", "Confirm")) } }
                }
            }
        }
    };
    // The response templates for the steps this person may take, rendered for this report.
    let templates = if view.actions.is_empty() {
        Vec::new()
    } else {
        state
            .app
            .report_templates(&staff.principal, r)
            .await
            .unwrap_or_default()
    };
    let text = |action: Action, name: &str, vi: &str, en: &str, required: bool| -> Markup {
        let id = format!("{name}-{}", rand_id(&format!("{}{vi}", action.as_str())));
        let choices: Vec<_> = templates.iter().filter(|t| t.action == action).collect();
        html! {
            @if !choices.is_empty() {
                // Choosing one fills the text box (templates.js); without script, the
                // texts are listed below it to copy.
                label for={"tpl-" (id)} { (lang.t("Mẫu trả lời", "Response template")) }
                select id={"tpl-" (id)} class="template-pick" data-target=(id) {
                    option value="" { (lang.t("— Chọn mẫu để điền —", "— Choose one to fill in —")) }
                    @for t in &choices { option value=(t.text) { (t.name) @if t.automatic { " (" (lang.t("tự động", "automatic")) ")" } } }
                }
            }
            label for=(id) { (lang.t(vi, en)) }
            textarea id=(id) name=(name) required[required] maxlength="5000" {}
            @if !choices.is_empty() {
                details class="templates" {
                    summary { (lang.t("Xem nội dung các mẫu", "Show the templates' texts")) }
                    @for t in &choices { p { strong { (t.name) } br; span class="pre" { (t.text) } } }
                }
            }
        }
    };
    let unit_select = || -> Markup {
        html! {
            label for="unit" { (lang.t("Đơn vị", "Unit")) }
            select id="unit" name="unit" required {
                option value="" { (lang.t("— Chọn đơn vị —", "— Choose a unit —")) }
                @if let Some(w) = &r.ward {
                    @if let Some(u) = assignable.iter().find(|u| u.ward.as_deref() == Some(w.as_str())) {
                        optgroup label=(lang.t("Phường, xã của phản ánh", "The report's ward")) { option value=(u.code) { (u.name_vi) } }
                    }
                }
                @for kind in [UnitKind::Department, UnitKind::Company, UnitKind::WardCommittee] {
                    optgroup label=(kind.label_vi()) {
                        @for u in assignable.iter().filter(|u| u.kind == kind) {
                            option value=(u.code) { (u.name_vi) @if u.sample { " (" (lang.t("mẫu", "sample")) ")" } }
                        }
                    }
                }
            }
        }
    };
    page(
        &r.code,
        lang,
        Some(staff),
        html! {
            h1 { (lang.t("Hồ sơ", "Report")) " " span class="code" { (r.code) } " " (status_badge(r.status, lang))
                @if view.overdue { " " span class="badge overdue" { (lang.t("Quá hạn", "Overdue")) } }
                (crate::console::queue::urgent_badge(r, lang)) }
            @if let Some(e) = error { div class="error" role="alert" { (e) } }
            div class="grid" {
                div {
                    div class="card" {
                        dl class="facts" {
                            dt { (lang.t("Lĩnh vực", "Field")) } dd { (catalog.field_name(&r.field)) }
                            dt { (lang.t("Nội dung", "Description")) } dd { (r.description) }
                            dt { (lang.t("Phường, xã", "Ward")) } dd { (r.ward.as_deref().map(|w| catalog.ward_name(w)).unwrap_or_else(|| "—".into())) }
                            dt { (lang.t("Địa chỉ", "Address")) } dd { (r.address.as_deref().unwrap_or("—")) }
                            dt { (lang.t("Vị trí", "Location")) } dd {
                                @if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
                                    (format!("{lat:.6}, {lon:.6}")) " · "
                                    a href=(format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}")) rel="noopener" target="_blank" { (lang.t("Xem bản đồ", "Open map")) }
                                    " · " (directions(lat, lon, lang))
                                } @else { "—" }
                            }
                            dt { (lang.t("Kênh", "Channel")) } dd { (lang.t(r.channel.label_vi(), r.channel.label_en())) }
                            dt { (lang.t("Đơn vị xử lý", "Unit")) } dd { (catalog.unit_name(&r.unit)) }
                            dt { (lang.t("Hạn xử lý", "Due")) } dd { (r.due_at.map(when).unwrap_or_else(|| "—".into()))
                                @if r.paused_at.is_some() { " " span class="muted" { (lang.t("(tạm dừng, chờ bổ sung)", "(paused, waiting for information)")) } } }
                            dt { (lang.t("Tiếp nhận", "Received")) } dd { (when(r.created_at)) }
                            @if let Some(of) = &r.duplicate_of {
                                dt { (lang.t("Trùng với hồ sơ", "Duplicate of")) } dd { a href={"/console/reports/" (of)} class="code" { (of) } }
                            }
                            @for (q, a) in crate::questions::answered(catalog.field(&r.field), &r.extra.attributes, lang) {
                                dt { (q) } dd { (a) }
                            }
                        }
                        @if !view.photos.is_empty() {
                            div class="photos" {
                                @for k in &view.photos {
                                    a href={"/photos/" (k)} { img src={"/photos/" (phananh_app::photos::thumb_key(k))} alt=(lang.t("Ảnh người dân gửi", "Photo from the citizen")) loading="lazy"; }
                                }
                            }
                        }
                        (crate::layout::media_players(&media, lang))
                        @if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
                            div id="map" role="img" aria-label=(lang.t("Bản đồ vị trí phản ánh", "Map of the report's location"))
                                data-lat=(lat) data-lon=(lon) data-tiles=(state.config.tile_url) data-attribution=(state.config.tile_attribution) class="mt1" {}
                            link rel="stylesheet" href="/static/leaflet/leaflet.css";
                            script src="/static/leaflet/leaflet.js" {}
                            script src="/static/console.js" {}
                        }
                    }
                }
                div {
                    @if let Some(p) = &view.reporter {
                        div class="card" {
                            h2 class="mt0" { (lang.t("Người phản ánh (dữ liệu cá nhân)", "Reporter (personal data)")) }
                            dl class="facts" {
                                dt { (lang.t("Họ tên", "Name")) } dd { (p.name.as_deref().unwrap_or("—")) }
                                dt { (lang.t("Điện thoại", "Phone")) } dd { (p.phone.as_deref().unwrap_or("—")) }
                                dt { "Email" } dd { (p.email.as_deref().unwrap_or("—")) }
                            }
                            @for c in &calls {
                                p class="muted" { (lang.t("Cuộc gọi", "Call")) " " (c.call_id) " · " (c.caller) " · " (when(c.started_at))
                                    @if let Some(o) = &c.operator { " · " (lang.t("tổng đài viên", "operator")) " " (o) } }
                            }
                        }
                    }
                    (moderation)
                    @if !likely.is_empty() {
                        div class="card" id="likely-duplicates" {
                            h2 class="mt0" { (lang.t("Có thể trùng", "Likely duplicates")) }
                            p class="muted" { (lang.t("Cùng lĩnh vực, trong bán kính", "Same field, within")) " " (radius) " m, "
                                (lang.t("đang mở hoặc đã xử lý trong 30 ngày qua", "open or resolved in the last 30 days")) }
                            table {
                                thead { tr {
                                    th { (lang.t("Mã hồ sơ", "Code")) } th { (lang.t("Lĩnh vực", "Field")) }
                                    th { (lang.t("Khoảng cách", "Distance")) } th { (lang.t("Tuổi", "Age")) }
                                    th { (lang.t("Trạng thái", "Status")) } @if can_merge { th {} }
                                } }
                                tbody {
                                    @for l in &likely {
                                        tr {
                                            td { a href={"/console/reports/" (l.report.code)} class="code" { (l.report.code) } }
                                            td { (catalog.field_name(&l.report.field)) }
                                            td class="distance" { (format!("{:.0} m", l.distance_m)) }
                                            td { (l.age_days) " " (lang.t("ngày", "days")) }
                                            td { (status_badge(l.report.status, lang)) }
                                            @if can_merge {
                                                td {
                                                    form method="post" action={"/console/reports/" (r.code) "/actions"} {
                                                        (csrf_field(staff))
                                                        input type="hidden" name="action" value=(Action::MarkDuplicate.as_str());
                                                        input type="hidden" name="of" value=(l.report.code);
                                                        button type="submit" { (lang.t("Đánh dấu trùng với hồ sơ này", "Mark as a duplicate of this")) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if !merged.is_empty() {
                        div class="card" id="merged-duplicates" {
                            h2 class="mt0" { (lang.t("Hồ sơ trùng đã gộp vào hồ sơ này", "Duplicates merged into this report")) }
                            ul {
                                @for d in &merged {
                                    li { a href={"/console/reports/" (d.code)} class="code" { (d.code) } " · "
                                        (lang.t(d.channel.label_vi(), d.channel.label_en())) " · " (when(d.created_at)) }
                                }
                            }
                        }
                    }
                    div class="card actions" {
                        h2 class="mt0" { (lang.t("Thao tác", "Actions")) }
                        @if view.actions.is_empty() { p class="muted" { (lang.t("Bạn chỉ có quyền xem hồ sơ này.", "You can only view this report.")) } }
                        @for a in &view.actions {
                            @match a {
                                Action::Assign => (form(*a, html! { (unit_select()) (text(*a, "note", "Ghi chú nội bộ (không bắt buộc)", "Internal note (optional)", false)) })),
                                Action::Transfer => (form(*a, html! { (unit_select()) (text(*a, "reason", "Lý do chuyển (nội bộ, người dân không thấy)", "Reason (internal, not shown to the public)", true)) })),
                                Action::AssignStaff => (form(*a, html! {
                                    label for="assignee" { (lang.t("Cán bộ", "Staff member")) }
                                    select id="assignee" name="assignee" {
                                        option value="" { (lang.t("— Bỏ phân công —", "— Nobody —")) }
                                        @for u in &staff_of_unit { option value=(u.id) { (u.name) } }
                                    }
                                })),
                                Action::Start | Action::Close | Action::UndoDuplicate => (form(*a, html! {})),
                                Action::MarkDuplicate => (form(*a, html! {
                                    label for="of" { (lang.t("Mã hồ sơ gốc", "The original report's code")) }
                                    input id="of" name="of" required maxlength="20" placeholder="XXXX-XXXX";
                                })),
                                Action::RequestInfo => (form(*a, text(*a, "question", "Nội dung cần bổ sung (chỉ gửi người phản ánh)", "What is needed (sent to the reporter only)", true))),
                                Action::ProvideInfo => (form(*a, text(*a, "answer", "Thông tin người dân bổ sung", "The citizen's answer", true))),
                                Action::Resolve => (form(*a, html! {
                                    (text(*a, "note", "Kết quả xử lý (công khai)", "What was done (public)", true))
                                    // Filled by field.js: the photo is uploaded first, the phone's
                                    // position asked; without script the form resolves without them.
                                    div class="resolve-photo" data-lat=[r.lat] data-lon=[r.lon] data-far=(phananh_domain::procedure::FAR_FROM_PLACE_M)
                                        data-warn=(lang.t("Ảnh/vị trí cách nơi phản ánh {m} m. Vẫn xác nhận đã xử lý?", "The photo/position is {m} m from the report's place. Resolve anyway?")) {
                                        label for="resolve-file" { (lang.t("Ảnh kết quả chụp tại chỗ", "Photo of the result, taken on site")) }
                                        input id="resolve-file" type="file" accept="image/jpeg,image/png,image/webp" capture="environment";
                                        input type="hidden" name="photo";
                                        input type="hidden" name="lat";
                                        input type="hidden" name="lon";
                                        p class="muted" role="status" {}
                                    }
                                })),
                                Action::Reject | Action::Reopen => (form(*a, text(*a, "reason", "Lý do (công khai)", "Reason (public)", true))),
                                Action::ReturnToTriage => (form(*a, text(*a, "reason", "Lý do (nội bộ, người dân không thấy)", "Reason (internal, not shown to the public)", true))),
                                Action::MarkUrgent => (form(*a, text(*a, "reason", "Vì sao khẩn cấp (nội bộ): hạn xử lý tính theo giờ, đơn vị trực được báo ngay", "Why it is urgent (internal): the deadline is counted in hours and the duty contact is alerted", true))),
                                Action::Comment => (form(*a, html! {
                                    (text(*a, "text", "Ghi chú (nội bộ, trừ khi chọn công khai)", "Note (internal unless marked public)", true))
                                    label { input type="checkbox" name="public" value="1"; " " (lang.t("Công khai cho người dân", "Visible to the public")) }
                                })),
                                // Only the citizen rates (no staff role may).
                                Action::Rate => {}
                            }
                        }
                    }
                }
            @if let Some(c) = &chat {
                h2 { (lang.t("Trò chuyện với người dân", "Chat with the citizen")) " (" (c.provider.label()) ")" }
                div class="card" {
                    @for f in &c.failures { div class="error" role="alert" { (lang.t("Không gửi được tin nhắn: ", "A message could not be sent: ")) (f) } }
                    ol class="history" {
                        @for (inbound, text, at) in &c.lines {
                            li { div class="when" { (when(*at)) " · " (if *inbound { lang.t("Người dân", "Citizen") } else { lang.t("Tổng đài", "Us") }) }
                                div { (text) } }
                        }
                    }
                    @if c.can_reply {
                        form method="post" action={"/console/reports/" (r.code) "/chat"} {
                            (csrf_field(staff))
                            label for="chat-text" { (lang.t("Trả lời người dân trong cuộc trò chuyện", "Answer the citizen in the chat")) }
                            textarea id="chat-text" name="text" required maxlength="1900" {}
                            p { button type="submit" { (lang.t("Gửi tin nhắn", "Send")) } }
                        }
                    }
                }
            }
            script src="/static/field.js" {}
            @if !templates.is_empty() { script src="/static/templates.js" {} }
            h2 { (lang.t("Lịch sử xử lý", "History")) }
                div class="card" {
                    ol class="history" {
                        @for e in &view.events {
                            li {
                                div class="when" { (when(e.at)) " · "
                                    (match e.actor.kind {
                                        ActorKind::Citizen => lang.t("Người phản ánh", "Citizen").to_string(),
                                        ActorKind::System => lang.t("Hệ thống", "System").to_string(),
                                        ActorKind::Integrator => format!("{} {}", lang.t("Đối tác", "Integrator"), e.actor.id.as_deref().unwrap_or("")),
                                        ActorKind::Staff => e.actor.name.clone().unwrap_or_default(),
                                    })
                                    @if !e.kind.is_public() { " · " span class="badge" { (lang.t("nội bộ", "internal")) } }
                                }
                                div { (catalog.describe(&e.kind, lang == Lang::En, false)) }
                                @if let phananh_domain::event::EventKind::Resolved { distance_m: Some(d), .. } = &e.kind {
                                    div class="muted" {
                                        (lang.t("Ảnh/vị trí khi xử lý cách nơi phản ánh", "Photo/position at resolution from the report's place:")) " " (d) " m"
                                        @if *d > phananh_domain::procedure::FAR_FROM_PLACE_M { " " span class="badge overdue" { (lang.t("Xa nơi phản ánh", "Far from the place")) } }
                                    }
                                }
                                @if let phananh_domain::event::EventKind::Resolved { photo: Some(k), .. } = &e.kind {
                                    a href={"/photos/" (k)} { img src={"/photos/" (phananh_app::photos::thumb_key(k))} alt=(lang.t("Ảnh kết quả xử lý", "Photo of the result")) loading="lazy" class="thumb mt"; }
                                }
                            }
                        }
                    }
                }
        }
        },
    )
}

/// A link that opens the route to a place in the phone's map app (Google Maps' universal
/// link opens the app where it is installed, the web map elsewhere).
pub(crate) fn directions(lat: f64, lon: f64, lang: Lang) -> Markup {
    html! {
        a class="directions" href=(format!("https://www.google.com/maps/dir/?api=1&destination={lat},{lon}")) rel="noopener" target="_blank" {
            (lang.t("Chỉ đường", "Directions"))
        }
    }
}

/// A short stable suffix so ids in several forms on one page do not clash.
fn rand_id(s: &str) -> String {
    format!(
        "{:x}",
        s.bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32))
    )
}

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    public: String,
    /// A resolution photo uploaded first by the page's script (`/api/v1/photos`).
    #[serde(default)]
    photo: String,
    /// Where the phone was, when the page's script could tell.
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    /// The original's tracking code (close as a duplicate of it).
    #[serde(default)]
    of: String,
}

fn command(f: &ActionForm, lang: Lang) -> Result<Command, AppError> {
    let action = Action::parse(&f.action).ok_or_else(|| {
        AppError::invalid(
            "action",
            "unknown_action",
            "Thao tác không hợp lệ",
            "Unknown action",
        )
    })?;
    let _ = lang;
    Ok(match action {
        Action::Assign => Command::Assign {
            unit: f.unit.clone(),
            assignee: None,
            note: Some(f.note.clone()),
        },
        Action::Rate => {
            return Err(AppError::Forbidden);
        }
        Action::AssignStaff => Command::AssignStaff {
            assignee: f.assignee.trim().parse().ok(),
        },
        Action::Start => Command::Start,
        Action::RequestInfo => Command::RequestInfo {
            question: f.question.clone(),
        },
        Action::ProvideInfo => Command::ProvideInfo {
            answer: f.answer.clone(),
        },
        Action::Resolve => Command::Resolve {
            note: f.note.clone(),
            photo: Some(f.photo.trim().to_string()).filter(|p| !p.is_empty()),
            position: f
                .lat
                .trim()
                .parse()
                .ok()
                .zip(f.lon.trim().parse().ok())
                .map(|(lat, lon)| phananh_domain::model::Point { lat, lon }),
            photo_position: None,
        },
        Action::Close => Command::Close {
            note: Some(f.note.clone()),
        },
        Action::Reject => Command::Reject {
            reason: f.reason.clone(),
        },
        Action::ReturnToTriage => Command::ReturnToTriage {
            reason: f.reason.clone(),
        },
        Action::Transfer => Command::Transfer {
            to: f.unit.clone(),
            reason: f.reason.clone(),
        },
        Action::Reopen => Command::Reopen {
            reason: f.reason.clone(),
        },
        Action::MarkUrgent => Command::MarkUrgent {
            reason: f.reason.clone(),
        },
        Action::Comment => Command::Comment {
            text: f.text.clone(),
            public: f.public == "1",
        },
        Action::MarkDuplicate => Command::MarkDuplicate { of: f.of.clone() },
        Action::UndoDuplicate => Command::UndoDuplicate,
    })
}

async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Csrf(Form(form)): Csrf<Form<ActionForm>>,
) -> Response {
    let result = match command(&form, staff.lang) {
        Ok(cmd) => state.app.act(&staff.principal, &code, cmd).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/console/reports/{code}")).into_response(),
        Err(AppError::NotFound) => error_page(&AppError::NotFound, staff.lang, Some(&staff)),
        Err(e) => {
            // Show the page again with the reason, keeping the person where they were.
            let status = crate::error::status_of(&e);
            match state.app.staff_report(&staff.principal, &code).await {
                Ok(view) => (
                    status,
                    render(&state, &staff, &view, Some(e.message())).await,
                )
                    .into_response(),
                Err(e2) => error_page(&e2, staff.lang, Some(&staff)),
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct ChatForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// A staff member answers in the chat the report came from (sent through the outbox).
async fn chat_reply(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Csrf(Form(form)): Csrf<Form<ChatForm>>,
) -> Response {
    match state
        .app
        .chat_reply(&staff.principal, &code, &form.text)
        .await
    {
        Ok(()) => Redirect::to(&format!("/console/reports/{code}")).into_response(),
        Err(AppError::NotFound) => error_page(&AppError::NotFound, staff.lang, Some(&staff)),
        Err(e) => match state.app.staff_report(&staff.principal, &code).await {
            Ok(view) => (
                crate::error::status_of(&e),
                render(&state, &staff, &view, Some(e.message())).await,
            )
                .into_response(),
            Err(e2) => error_page(&e2, staff.lang, Some(&staff)),
        },
    }
}

csrf_form!(ActionForm, ChatForm);
