//! The working calendar: a year's holidays, extra days off and make-up working days.

use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Datelike;
use maud::html;
use serde::Deserialize;

use super::{admin_page, done};
use crate::AppState;
use crate::console::{Admin, csrf_field};
use crate::csrf::{Csrf, csrf_form};

#[derive(Deserialize, Default)]
pub(super) struct YearQuery {
    year: Option<i32>,
}

pub(super) async fn page(
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
pub(super) struct DayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    kind: String,
}

pub(super) async fn set_day(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Csrf(Form(f)): Csrf<Form<DayForm>>,
) -> Response {
    let result = state
        .app
        .set_calendar_day(&staff.principal, &f.day, &f.kind)
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

csrf_form!(DayForm);
