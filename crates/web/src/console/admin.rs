//! Admin pages: units, fields, routing rules, users, calendar days, dead jobs. Every edit
//! takes effect at once (the catalog reloads), no release needed.

use crate::routes::{Routes, get, post};
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};
use phananh_app::AppError;
use phananh_domain::access::Role;
use phananh_domain::profile::{Field, Unit, UnitKind};
use phananh_domain::routing::Rule;
use phananh_storage::JobStatus;
use serde::Deserialize;

use super::{csrf_failed, csrf_field, error_page, page, when};
use crate::AppState;
use crate::session::Staff;

pub fn routes() -> Routes {
    Routes::new()
        .route("/console/admin", get(overview))
        .route("/console/admin/units", get(units).post(save_unit))
        .route("/console/admin/fields", get(fields).post(save_field))
        .route("/console/admin/rules", get(rules).post(add_rule))
        .route("/console/admin/rules/{id}/delete", post(delete_rule))
        .route("/console/admin/users", get(users).post(add_user))
        .route("/console/admin/users/{id}", post(update_user))
        .route("/console/admin/calendar", get(calendar).post(set_day))
        .route("/console/admin/jobs", get(jobs))
        .route("/console/admin/apikeys", get(api_keys).post(add_api_key))
        .route("/console/admin/apikeys/{id}/revoke", post(revoke_api_key))
        .route("/console/admin/jobs/{id}/retry", post(retry_job))
}

/// An administrator. Admin pages answer "not found" to everyone else, as other staff
/// routes do for what is outside a person's scope.
struct Admin(Staff);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let staff = Staff::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if staff.principal.role == Role::Admin {
            Ok(Admin(staff))
        } else {
            Err(error_page(&AppError::NotFound, staff.lang, Some(&staff)))
        }
    }
}

fn tabs(staff: &Staff) -> Markup {
    let l = staff.lang;
    html! {
        nav class="card" aria-label=(l.t("Quản trị", "Administration")) class="tabs" {
            a href="/console/admin/units" { (l.t("Đơn vị", "Units")) }
            a href="/console/admin/fields" { (l.t("Lĩnh vực", "Fields")) }
            a href="/console/admin/rules" { (l.t("Quy tắc định tuyến", "Routing rules")) }
            a href="/console/admin/users" { (l.t("Tài khoản", "Users")) }
            a href="/console/admin/calendar" { (l.t("Lịch làm việc", "Calendar")) }
            a href="/console/admin/jobs" { (l.t("Hàng đợi gửi", "Outbox")) }
            a href="/console/admin/apikeys" { (l.t("Khóa API đối tác", "Integrator API keys")) }
        }
    }
}

fn admin_page(staff: &Staff, title: &str, notice: Option<&str>, body: Markup) -> Response {
    page(
        title,
        staff.lang,
        Some(staff),
        html! {
            h1 { (title) }
            (tabs(staff))
            @if let Some(n) = notice { div class="error" role="alert" { (n) } }
            (body)
        },
    )
    .into_response()
}

/// After an edit: reload the catalog and go back, or show the error.
async fn done(
    state: &AppState,
    staff: &Staff,
    back: &str,
    result: Result<(), AppError>,
) -> Response {
    match result {
        Ok(()) => {
            if let Err(e) = state.app.refresh_catalog().await {
                return error_page(&e, staff.lang, Some(staff));
            }
            Redirect::to(back).into_response()
        }
        Err(e) => error_page(&e, staff.lang, Some(staff)),
    }
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn required(s: &str, field: &str) -> Result<String, AppError> {
    opt(s).ok_or_else(|| {
        AppError::invalid(
            field,
            "required",
            &format!("Thiếu {field}"),
            &format!("{field} is required"),
        )
    })
}

async fn overview(Admin(staff): Admin) -> Response {
    let l = staff.lang;
    admin_page(
        &staff,
        l.t("Quản trị", "Administration"),
        None,
        html! {
            p { (l.t("Mọi thay đổi có hiệu lực ngay, không cần cập nhật phần mềm.", "Every change takes effect at once; no release needed.")) }
        },
    )
}

async fn units(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    admin_page(
        &staff,
        l.t("Đơn vị", "Units"),
        None,
        html! {
            div class="card" {
                h2 class="mt0" { (l.t("Thêm hoặc sửa đơn vị (theo mã)", "Add or edit a unit (by code)")) }
                form method="post" action="/console/admin/units" class="filters" {
                    (csrf_field(&staff))
                    div { label for="u-code" { (l.t("Mã", "Code")) } input id="u-code" name="code" required maxlength="64"; }
                    div { label for="u-vi" { (l.t("Tên tiếng Việt", "Vietnamese name")) } input id="u-vi" name="name_vi" required maxlength="200"; }
                    div { label for="u-en" { (l.t("Tên tiếng Anh", "English name")) } input id="u-en" name="name_en" maxlength="200"; }
                    div { label for="u-kind" { (l.t("Loại", "Kind")) }
                        select id="u-kind" name="kind" { @for k in [UnitKind::Department, UnitKind::WardCommittee, UnitKind::Company, UnitKind::Triage] { option value=(k.as_str()) { (k.label_vi()) } } } }
                    div { label for="u-ward" { (l.t("Phường (nếu có)", "Ward (if any)")) }
                        select id="u-ward" name="ward" { option value="" { "—" } @for w in &c.wards { option value=(w.code) { (w.name_vi) } } } }
                    div { label for="u-email" { "Email" } input id="u-email" name="email" type="email"; }
                    div { label for="u-phone" { (l.t("Điện thoại", "Phone")) } input id="u-phone" name="phone"; }
                    div { label for="u-hook" { "Webhook URL" } input id="u-hook" name="webhook_url" type="url"; }
                    div { button type="submit" { (l.t("Lưu", "Save")) } }
                }
            }
            table {
                thead { tr { th { (l.t("Mã", "Code")) } th { (l.t("Tên", "Name")) } th { (l.t("Loại", "Kind")) } th { "Email" } th { "Webhook" } } }
                tbody { @for u in &c.units { tr {
                    td { code { (u.code) } } td { (u.name_vi) @if u.sample { " " span class="badge" { (l.t("mẫu", "sample")) } } }
                    td { (u.kind.label_vi()) } td { (u.email.as_deref().unwrap_or("")) } td { (u.webhook_url.as_deref().unwrap_or("")) }
                } } }
            }
        },
    )
}

#[derive(Deserialize)]
struct UnitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_vi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    ward: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    webhook_url: String,
}

async fn save_unit(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(f): Form<UnitForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = async {
        let code = required(&f.code, "code")?;
        let name_vi = required(&f.name_vi, "name_vi")?;
        let kind = UnitKind::parse(&f.kind).ok_or_else(|| {
            AppError::invalid(
                "kind",
                "invalid_kind",
                "Loại đơn vị không hợp lệ",
                "Invalid kind",
            )
        })?;
        let catalog = state.app.catalog().await;
        let ward = opt(&f.ward);
        if ward.as_deref().is_some_and(|w| catalog.ward(w).is_none()) {
            return Err(AppError::invalid(
                "ward",
                "unknown_ward",
                "Phường không có",
                "Unknown ward",
            ));
        }
        let webhook_url = opt(&f.webhook_url);
        if webhook_url
            .as_deref()
            .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")))
        {
            return Err(AppError::invalid(
                "webhook_url",
                "invalid_url",
                "Địa chỉ webhook phải bắt đầu bằng http(s)://",
                "The webhook URL must start with http(s)://",
            ));
        }
        let unit = Unit {
            name_en: opt(&f.name_en).unwrap_or_else(|| name_vi.clone()),
            code,
            name_vi,
            kind,
            parent: None,
            ward,
            email: opt(&f.email),
            phone: opt(&f.phone),
            sample: false,
            webhook_url,
            forward_open311: catalog
                .unit(f.code.trim())
                .and_then(|u| u.forward_open311.clone()),
            forward_email: catalog
                .unit(f.code.trim())
                .and_then(|u| u.forward_email.clone()),
        };
        Ok(state.app.store.save_unit(&unit).await?)
    }
    .await;
    done(&state, &staff, "/console/admin/units", result).await
}

async fn fields(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    admin_page(
        &staff,
        l.t("Lĩnh vực", "Fields"),
        None,
        html! {
            div class="card" {
                h2 class="mt0" { (l.t("Thêm hoặc sửa lĩnh vực (theo mã)", "Add or edit a field (by code)")) }
                form method="post" action="/console/admin/fields" class="filters" {
                    (csrf_field(&staff))
                    div { label for="f-code" { (l.t("Mã", "Code")) } input id="f-code" name="code" required maxlength="64"; }
                    div { label for="f-vi" { (l.t("Tên tiếng Việt", "Vietnamese name")) } input id="f-vi" name="name_vi" required; }
                    div { label for="f-en" { (l.t("Tên tiếng Anh", "English name")) } input id="f-en" name="name_en"; }
                    div { label for="f-icon" { (l.t("Biểu tượng", "Icon")) } input id="f-icon" name="icon" size="3" value="📌"; }
                    div { label for="f-ack" { (l.t("Giờ làm việc để tiếp nhận", "Working hours to acknowledge")) } input id="f-ack" name="ack_hours" type="number" min="0" max="720" value="8"; }
                    div { label for="f-days" { (l.t("Ngày làm việc để xử lý", "Working days to resolve")) } input id="f-days" name="resolve_days" type="number" min="0" max="365" value="5"; }
                    div { label for="f-kw" { (l.t("Từ khóa (cách nhau bởi dấu phẩy)", "Keywords (comma-separated)")) } input id="f-kw" name="keywords"; }
                    div { button type="submit" { (l.t("Lưu", "Save")) } }
                }
            }
            table {
                thead { tr { th { (l.t("Mã", "Code")) } th { (l.t("Tên", "Name")) } th { (l.t("Tiếp nhận (giờ)", "Ack (hours)")) } th { (l.t("Xử lý (ngày)", "Resolve (days)")) } th { (l.t("Từ khóa", "Keywords")) } } }
                tbody { @for f in &c.fields { tr {
                    td { code { (f.code) } } td { (f.icon) " " (f.name_vi) " / " (f.name_en) } td { (f.ack_hours) } td { (f.resolve_days) } td { (f.keywords.join(", ")) }
                } } }
            }
        },
    )
}

#[derive(Deserialize)]
struct FieldForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_vi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    icon: String,
    #[serde(default)]
    ack_hours: String,
    #[serde(default)]
    resolve_days: String,
    #[serde(default)]
    keywords: String,
}

fn number(s: &str, field: &str, max: u32) -> Result<u32, AppError> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            AppError::invalid(
                field,
                "invalid_number",
                &format!("{field}: cần số từ 0 đến {max}"),
                &format!("{field}: a number from 0 to {max}"),
            )
        })
}

async fn save_field(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(f): Form<FieldForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = async {
        let name_vi = required(&f.name_vi, "name_vi")?;
        let field = Field {
            code: required(&f.code, "code")?,
            name_en: opt(&f.name_en).unwrap_or_else(|| name_vi.clone()),
            name_vi,
            icon: opt(&f.icon).unwrap_or_else(|| "📌".into()),
            ack_hours: number(&f.ack_hours, "ack_hours", 720)?,
            resolve_days: number(&f.resolve_days, "resolve_days", 365)?,
            keywords: f.keywords.split(',').filter_map(opt).collect(),
            attributes: state
                .app
                .catalog()
                .await
                .field(f.code.trim())
                .map(|f| f.attributes.clone())
                .unwrap_or_default(),
        };
        Ok(state.app.store.save_field(&field).await?)
    }
    .await;
    done(&state, &staff, "/console/admin/fields", result).await
}

#[derive(Deserialize, Default)]
struct RulesQuery {
    field: Option<String>,
}

async fn rules(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Query(q): Query<RulesQuery>,
) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    let shown: Vec<&Rule> = c
        .rules
        .iter()
        .filter(|r| {
            q.field
                .as_deref()
                .is_none_or(|f| f.is_empty() || r.field == f)
        })
        .collect();
    admin_page(
        &staff,
        l.t("Quy tắc định tuyến", "Routing rules"),
        None,
        html! {
            p class="muted" { (l.t("Quy tắc theo phường ưu tiên hơn quy tắc toàn thành phố; cùng loại thì độ ưu tiên cao hơn thắng. Không quy tắc nào khớp: hồ sơ về bàn điều phối.",
                "A ward rule beats a city-wide rule; among equals the higher priority wins. No match: the triage desk.")) }
            div class="card" {
                form method="post" action="/console/admin/rules" class="filters" {
                    (csrf_field(&staff))
                    div { label for="r-field" { (l.t("Lĩnh vực", "Field")) } select id="r-field" name="field" { @for f in &c.fields { option value=(f.code) { (f.name_vi) } } } }
                    div { label for="r-ward" { (l.t("Phường (trống: toàn thành phố)", "Ward (empty: city-wide)")) }
                        select id="r-ward" name="ward" { option value="" { (l.t("Toàn thành phố", "City-wide")) } @for w in &c.wards { option value=(w.code) { (w.name_vi) } } } }
                    div { label for="r-unit" { (l.t("Đơn vị", "Unit")) } select id="r-unit" name="unit" { @for u in &c.units { option value=(u.code) { (u.name_vi) } } } }
                    div { label for="r-prio" { (l.t("Độ ưu tiên", "Priority")) } input id="r-prio" name="priority" type="number" value="0" min="-1000" max="1000"; }
                    div { button type="submit" { (l.t("Thêm quy tắc", "Add rule")) } }
                }
            }
            form method="get" action="/console/admin/rules" class="filters card" {
                div { label for="rf" { (l.t("Xem lĩnh vực", "Show field")) } select id="rf" name="field" { option value="" { (l.t("Tất cả", "All")) } @for f in &c.fields { option value=(f.code) selected[q.field.as_deref() == Some(f.code.as_str())] { (f.name_vi) } } } }
                div { button class="secondary" type="submit" { (l.t("Lọc", "Filter")) } }
            }
            table {
                thead { tr { th { "#" } th { (l.t("Lĩnh vực", "Field")) } th { (l.t("Phường", "Ward")) } th { (l.t("Đơn vị", "Unit")) } th { (l.t("Ưu tiên", "Priority")) } th {} } }
                tbody { @for r in shown { tr {
                    td { (r.id) } td { (c.field_name(&r.field)) } td { (r.ward.as_deref().map(|w| c.ward_name(w)).unwrap_or_else(|| l.t("Toàn thành phố", "City-wide").into())) }
                    td { (c.unit_name(&r.unit)) } td { (r.priority) }
                    td { form method="post" action={"/console/admin/rules/" (r.id) "/delete"} data-confirm=(l.t("Xóa quy tắc này?", "Delete this rule?")) { (csrf_field(&staff)) button class="secondary" type="submit" { (l.t("Xóa", "Delete")) } } }
                } } }
            }
            script src="/static/confirm.js" {}
        },
    )
}

#[derive(Deserialize)]
struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    ward: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    priority: String,
}

async fn add_rule(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(f): Form<RuleForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = async {
        let c = state.app.catalog().await;
        let rule = Rule {
            id: 0,
            field: required(&f.field, "field")?,
            ward: opt(&f.ward),
            unit: required(&f.unit, "unit")?,
            priority: opt(&f.priority)
                .map(|p| p.parse::<i32>())
                .transpose()
                .map_err(|_| {
                    AppError::invalid(
                        "priority",
                        "invalid_number",
                        "Độ ưu tiên phải là số nguyên",
                        "Priority must be a whole number",
                    )
                })?
                .unwrap_or(0),
        };
        if c.field(&rule.field).is_none()
            || c.unit(&rule.unit).is_none()
            || rule.ward.as_deref().is_some_and(|w| c.ward(w).is_none())
        {
            return Err(AppError::invalid(
                "rule",
                "unknown_reference",
                "Lĩnh vực, phường hoặc đơn vị không có",
                "Unknown field, ward or unit",
            ));
        }
        state.app.store.add_rule(&rule).await?;
        Ok(())
    }
    .await;
    done(&state, &staff, "/console/admin/rules", result).await
}

async fn delete_rule(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Form(f): Form<super::CsrfForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = state
        .app
        .store
        .delete_rule(id)
        .await
        .map_err(AppError::from);
    done(&state, &staff, "/console/admin/rules", result).await
}

async fn users(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    let list = state.app.store.users().await.unwrap_or_default();
    let unit_options = |selected: Option<&str>| {
        html! {
            option value="" { "—" }
            @for u in &c.units { option value=(u.code) selected[selected == Some(u.code.as_str())] { (u.name_vi) } }
        }
    };
    admin_page(
        &staff,
        l.t("Tài khoản cán bộ", "Staff accounts"),
        None,
        html! {
            div class="card" {
                h2 class="mt0" { (l.t("Tạo tài khoản", "New account")) }
                form method="post" action="/console/admin/users" class="filters" {
                    (csrf_field(&staff))
                    div { label for="n-email" { "Email" } input id="n-email" name="email" type="email" required; }
                    div { label for="n-name" { (l.t("Họ tên", "Name")) } input id="n-name" name="name" required; }
                    div { label for="n-role" { (l.t("Vai trò", "Role")) } select id="n-role" name="role" required { option value="" { (l.t("— Chọn vai trò —", "— Choose a role —")) } @for r in Role::ALL { option value=(r.as_str()) { (l.t(r.label_vi(), r.label_en())) } } } }
                    div { label for="n-unit" { (l.t("Đơn vị (cho cán bộ đơn vị)", "Unit (for unit roles)")) } select id="n-unit" name="unit" { (unit_options(None)) } }
                    div { label for="n-pass" { (l.t("Mật khẩu (≥ 10 ký tự)", "Password (≥ 10 characters)")) } input id="n-pass" name="password" type="password" required minlength="10" autocomplete="new-password"; }
                    div { button type="submit" { (l.t("Tạo", "Create")) } }
                }
            }
            table {
                thead { tr { th { "Email" } th { (l.t("Họ tên", "Name")) } th { (l.t("Vai trò, đơn vị, trạng thái", "Role, unit, status")) } th { (l.t("Mật khẩu", "Password")) } } }
                tbody { @for u in &list { tr {
                    td { (u.email) } td { (u.name) }
                    td { form method="post" action={"/console/admin/users/" (u.id)} class="filters" {
                        (csrf_field(&staff))
                        select name="role" aria-label=(l.t("Vai trò", "Role")) { @for r in Role::ALL { option value=(r.as_str()) selected[r == u.role] { (l.t(r.label_vi(), r.label_en())) } } }
                        select name="unit" aria-label=(l.t("Đơn vị", "Unit")) { (unit_options(u.unit.as_deref())) }
                        label { input type="checkbox" name="active" value="1" checked[u.active]; " " (l.t("Hoạt động", "Active")) }
                        button class="secondary" type="submit" { (l.t("Lưu", "Save")) }
                    } }
                    td { form method="post" action={"/console/admin/users/" (u.id) "/reset"} {
                        (csrf_field(&staff))
                        button class="secondary" type="submit" { (l.t("Tạo liên kết đặt lại", "Reset link")) }
                    } }
                } } }
            }
        },
    )
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    active: String,
}

fn role(s: &str) -> Result<Role, AppError> {
    Role::parse(s).ok_or_else(|| {
        AppError::invalid(
            "role",
            "invalid_role",
            "Vai trò không hợp lệ",
            "Invalid role",
        )
    })
}

async fn add_user(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(f): Form<UserForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = async {
        state
            .app
            .add_user(
                &f.email,
                &f.name,
                role(&f.role)?,
                opt(&f.unit).as_deref(),
                &f.password,
            )
            .await?;
        Ok(())
    }
    .await;
    done(&state, &staff, "/console/admin/users", result).await
}

async fn update_user(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Form(f): Form<UserForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = async {
        let role = role(&f.role)?;
        let unit = state
            .app
            .check_role_unit(role, opt(&f.unit).as_deref())
            .await?;
        state
            .app
            .store
            .update_user(id, role, unit.as_deref(), f.active == "1")
            .await?;
        Ok(())
    }
    .await;
    done(&state, &staff, "/console/admin/users", result).await
}

#[derive(Deserialize, Default)]
struct YearQuery {
    year: Option<i32>,
}

async fn calendar(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Query(q): Query<YearQuery>,
) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    let year = q
        .year
        .unwrap_or_else(|| phananh_domain::calendar::to_local(state.app.clock.now()).year())
        .clamp(1990, 2100);
    let holidays = c.calendar.holidays(year);
    admin_page(
        &staff,
        l.t("Lịch làm việc", "Working calendar"),
        None,
        html! {
            p class="muted" { (l.t("Thứ Bảy, Chủ nhật và các ngày lễ (kể cả Tết Nguyên đán và Giỗ Tổ Hùng Vương theo âm lịch Việt Nam) không tính là ngày làm việc. Thêm ngày nghỉ hoặc ngày làm bù theo quyết định hằng năm.",
                "Saturdays, Sundays and public holidays (Tết and the Hùng Kings' day by the Vietnamese lunar calendar included) are not working days. Add the year's extra days off and make-up working days.")) }
            div class="card" {
                form method="post" action="/console/admin/calendar" class="filters" {
                    (csrf_field(&staff))
                    div { label for="c-day" { (l.t("Ngày", "Date")) } input id="c-day" name="day" type="date" required; }
                    div { label for="c-kind" { (l.t("Loại", "Kind")) } select id="c-kind" name="kind" {
                        option value="off" { (l.t("Ngày nghỉ thêm", "Extra day off")) }
                        option value="makeup" { (l.t("Ngày làm bù", "Make-up working day")) }
                        option value="" { (l.t("Xóa ngày này", "Remove this day")) } } }
                    div { button type="submit" { (l.t("Lưu", "Save")) } }
                }
            }
            nav class="pager" { a href={"/console/admin/calendar?year=" (year - 1)} { "← " (year - 1) } strong { (year) } a href={"/console/admin/calendar?year=" (year + 1)} { (year + 1) " →" } }
            div class="grid" {
                div { h2 { (l.t("Ngày lễ", "Public holidays")) } table { tbody { @for h in &holidays { tr { td { (h.date.format("%d/%m/%Y")) } td { (l.t(&h.name_vi, &h.name_en)) } } } } } }
                div {
                    h2 { (l.t("Ngày nghỉ thêm", "Extra days off")) }
                    ul { @for d in c.calendar.extra_days_off.iter().filter(|d| d.year() == year) { li { (d.format("%d/%m/%Y")) } } }
                    h2 { (l.t("Ngày làm bù", "Make-up working days")) }
                    ul { @for d in c.calendar.makeup_working_days.iter().filter(|d| d.year() == year) { li { (d.format("%d/%m/%Y")) } } }
                }
            }
        },
    )
}

#[derive(Deserialize)]
struct DayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    kind: String,
}

async fn set_day(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(f): Form<DayForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = async {
        let day = NaiveDate::parse_from_str(f.day.trim(), "%Y-%m-%d").map_err(|_| {
            AppError::invalid(
                "day",
                "invalid_date",
                "Ngày không hợp lệ (YYYY-MM-DD)",
                "Invalid date (YYYY-MM-DD)",
            )
        })?;
        let kind = match f.kind.as_str() {
            "off" => Some("off"),
            "makeup" => Some("makeup"),
            "" => None,
            _ => {
                return Err(AppError::invalid(
                    "kind",
                    "invalid_kind",
                    "Loại ngày không hợp lệ",
                    "Invalid kind",
                ));
            }
        };
        state.app.store.set_calendar_day(day, kind).await?;
        Ok(())
    }
    .await;
    done(
        &state,
        &staff,
        &format!(
            "/console/admin/calendar?year={}",
            f.day.get(..4).unwrap_or("")
        ),
        result,
    )
    .await
}

async fn jobs(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let dead = state
        .app
        .store
        .jobs(Some(JobStatus::Dead), 200)
        .await
        .unwrap_or_default();
    let pending = state
        .app
        .store
        .jobs(Some(JobStatus::Pending), 200)
        .await
        .unwrap_or_default();
    let row = |j: &phananh_storage::Job, retry: bool| {
        html! {
            tr {
                td { (j.id) } td { code { (j.kind) } } td { (j.payload["code"].as_str().unwrap_or("")) } td { (j.attempts) "/" (j.max_attempts) }
                td { (when(j.run_at)) } td { (j.last_error.as_deref().unwrap_or("")) }
                td { @if retry { form method="post" action={"/console/admin/jobs/" (j.id) "/retry"} { (csrf_field(&staff)) button class="secondary" type="submit" { (l.t("Gửi lại", "Retry")) } } } }
            }
        }
    };
    let head = html! { thead { tr { th { "#" } th { (l.t("Loại", "Kind")) } th { (l.t("Hồ sơ", "Report")) } th { (l.t("Lần thử", "Attempts")) } th { (l.t("Lần chạy", "Run at")) } th { (l.t("Lỗi gần nhất", "Last error")) } th {} } } };
    admin_page(
        &staff,
        l.t("Hàng đợi gửi", "Outbox"),
        None,
        html! {
            h2 { (l.t("Không gửi được (cần xử lý)", "Dead letters")) }
            table { (head) tbody { @for j in &dead { (row(j, true)) } @if dead.is_empty() { tr { td colspan="7" class="muted" { (l.t("Không có.", "None.")) } } } } }
            h2 { (l.t("Đang chờ gửi", "Pending")) }
            table { (head) tbody { @for j in &pending { (row(j, false)) } @if pending.is_empty() { tr { td colspan="7" class="muted" { (l.t("Không có.", "None.")) } } } } }
        },
    )
}

async fn retry_job(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Form(f): Form<super::CsrfForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = state
        .app
        .store
        .retry_job(id, state.app.clock.now())
        .await
        .map_err(AppError::from);
    state.app.jobs_queued.notify_one();
    done(&state, &staff, "/console/admin/jobs", result).await
}

async fn api_keys(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let keys = state.app.store.api_keys().await.unwrap_or_default();
    admin_page(
        &staff,
        l.t(
            "Khóa API đối tác (Open311)",
            "Integrator API keys (Open311)",
        ),
        None,
        html! {
            p class="muted" { (l.t("Mỗi đối tác (ứng dụng, cổng thông tin khác) dùng một khóa riêng để gửi phản ánh qua /open311/v2. Khóa chỉ hiện một lần khi tạo.",
                "Each integrator (app, other portal) files reports through /open311/v2 with its own key. A key is shown once, when created.")) }
            div class="card" {
                form method="post" action="/console/admin/apikeys" class="filters" {
                    (csrf_field(&staff))
                    div { label for="k-name" { (l.t("Tên đối tác", "Integrator")) } input id="k-name" name="name" required maxlength="100"; }
                    div { label for="k-rate" { (l.t("Số yêu cầu mỗi phút", "Requests per minute")) } input id="k-rate" name="rate" type="number" min="1" max="100000" value="120"; }
                    div { button type="submit" { (l.t("Tạo khóa", "Create key")) } }
                }
            }
            table {
                thead { tr { th { "#" } th { (l.t("Đối tác", "Integrator")) } th { (l.t("Khóa", "Key")) } th { (l.t("Giới hạn", "Limit")) } th { (l.t("Tạo lúc", "Created")) } th { (l.t("Trạng thái", "Status")) } th {} } }
                tbody { @for k in &keys { tr {
                    td { (k.id) } td { (k.name) } td { code { (k.prefix) "…" } } td { (k.rate_per_minute) "/" (l.t("phút", "min")) } td { (when(k.created_at)) }
                    td { @if k.active { (l.t("Đang dùng", "Active")) } @else { (l.t("Đã thu hồi", "Revoked")) " " (k.revoked_at.map(when).unwrap_or_default()) } }
                    td { @if k.active { form method="post" action={"/console/admin/apikeys/" (k.id) "/revoke"} { (csrf_field(&staff)) button class="danger" type="submit" { (l.t("Thu hồi", "Revoke")) } } } }
                } } }
            }
        },
    )
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    rate: String,
}

async fn add_api_key(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(f): Form<KeyForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let l = staff.lang;
    let rate = match opt(&f.rate)
        .map(|r| {
            number(
                &r,
                l.t("Số yêu cầu mỗi phút", "Requests per minute"),
                100_000,
            )
        })
        .transpose()
    {
        Ok(r) => r,
        Err(e) => return error_page(&e, l, Some(&staff)),
    };
    match state.app.create_api_key(&f.name, rate).await {
        Ok((_, key)) => admin_page(
            &staff,
            l.t("Khóa API mới", "New API key"),
            None,
            html! {
                div class="notice" role="status" {
                    p { (l.t("Khóa cho", "Key for")) " " strong { (f.name.trim()) } ". " (l.t("Hãy sao chép và gửi cho đối tác ngay: khóa sẽ không hiện lại.", "Copy it and hand it over now: it will not be shown again.")) }
                    p { code class="code" { (key) } }
                }
                p { a href="/console/admin/apikeys" { (l.t("Về danh sách khóa", "Back to the keys")) } }
            },
        ),
        Err(e) => error_page(&e, l, Some(&staff)),
    }
}

async fn revoke_api_key(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Form(f): Form<super::CsrfForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let result = state
        .app
        .store
        .revoke_api_key(id)
        .await
        .map_err(AppError::from);
    done(&state, &staff, "/console/admin/apikeys", result).await
}
