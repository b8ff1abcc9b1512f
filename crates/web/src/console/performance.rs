//! The supervisors' dashboard: units ranked by on-time share, overdue count, median time
//! to resolve, reopen rate and satisfaction over a chosen period, with a link to each
//! unit's overdue reports.

use crate::routes::{Routes, get};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use phananh_domain::performance::UnitFigures;

use crate::AppState;
use crate::layout::{error_page, local_day, page};
use crate::session::Staff;

pub fn routes() -> Routes {
    Routes::new()
        .route("/console/performance", get(dashboard))
        .route("/console/performance/report.xlsx", get(workbook))
        .route("/console/performance/report.pdf", get(pdf))
}

#[derive(serde::Deserialize, Default)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    /// The unit whose on-time trend is shown week by week.
    unit: Option<String>,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

async fn dashboard(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let lang = staff.lang;
    let now = state.app.clock.now();
    let from = local_day(&q.from, false).unwrap_or(now - chrono::Duration::days(30));
    let to = local_day(&q.to, true).unwrap_or(now);
    if let Err(e) = phananh_app::performance::check_period("from", from, to) {
        return error_page(&e, lang, Some(&staff));
    }
    let mut units = match state.app.unit_performance(&staff.principal, from, to).await {
        Ok(u) => u,
        Err(e) => return error_page(&e, lang, Some(&staff)),
    };
    let catalog = state.app.catalog().await;
    let trend = match q.unit.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => state
            .app
            .unit_trend(&staff.principal, u, from, to)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let weekly = state
        .app
        .weekly_by_field(from, to)
        .await
        .unwrap_or_default();
    let by_field = state
        .app
        .satisfaction_by_field(from, to)
        .await
        .unwrap_or_default();
    let week_label = |ms: i64| {
        phananh_domain::calendar::to_local(
            chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default(),
        )
        .format("%d/%m")
        .to_string()
    };
    let mut weeks: Vec<i64> = weekly.iter().map(|(w, _, _)| *w).collect();
    weeks.dedup();
    let mut fields: Vec<String> = weekly.iter().map(|(_, f, _)| f.clone()).collect();
    fields.sort();
    fields.dedup();
    let key = |f: &UnitFigures, by: &str| -> f64 {
        match by {
            "overdue" => -(f.overdue as f64),
            "median" => -f.median_hours.unwrap_or(0.0),
            "reopen" => -f.reopen_rate().unwrap_or(0.0),
            "score" => f.average_score().unwrap_or(6.0),
            "ack" => f.ack_share().unwrap_or(2.0),
            _ => f.on_time_share().unwrap_or(2.0),
        }
    };
    // Slowest first: the units the City People's Committee asks about.
    let by = q.sort.clone().unwrap_or_else(|| "on_time".into());
    units.sort_by(|a, b| {
        key(a, &by)
            .total_cmp(&key(b, &by))
            .then_with(|| a.unit.cmp(&b.unit))
    });
    let period = format!(
        "from={}&to={}",
        q.from.clone().unwrap_or_default(),
        q.to.clone().unwrap_or_default()
    );
    let head = |code: &str, vi: &str, en: &str| {
        html! { th { a href={"/console/performance?" (period) "&sort=" (code)} { (lang.t(vi, en)) @if by == code { " ▲" } } } }
    };
    page(lang.t("Theo dõi đơn vị", "Units"), lang, Some(&staff), html! {
        h1 { (lang.t("Theo dõi tiến độ các đơn vị", "How the units are doing")) }
        p { a class="button" href={"/console/performance/report.xlsx?" (period)} { (lang.t("Tải báo cáo Excel gửi UBND Thành phố", "Download the Excel report for the City People's Committee")) } " "
            a href="/console/performance/report.xlsx?period=month" { (lang.t("tháng trước", "last month")) } " · "
            a href="/console/performance/report.xlsx?period=week" { (lang.t("tuần trước", "last week")) } " · "
            a href={"/console/performance/report.pdf?" (period)} { "PDF" } }
        form class="card filters" method="get" action="/console/performance" {
            div { label for="from" { (lang.t("Từ ngày", "From")) } input id="from" name="from" type="date" value=(q.from.clone().unwrap_or_default()); }
            div { label for="to" { (lang.t("Đến ngày", "To")) } input id="to" name="to" type="date" value=(q.to.clone().unwrap_or_default()); }
            input type="hidden" name="sort" value=(by);
            div { button type="submit" { (lang.t("Xem", "Show")) } }
        }
        p class="muted" { (lang.t("Tính từ lịch sử hồ sơ: mỗi đơn vị chịu phần chậm trễ của mình khi chuyển hồ sơ; thời gian chờ người dân bổ sung không tính.",
            "From the report histories: after a transfer each unit answers for its own delay; time waiting for the citizen does not count.")) }
        table {
            thead { tr {
                th { (lang.t("Đơn vị", "Unit")) }
                th { (lang.t("Tiếp nhận", "Received")) }
                th { (lang.t("Đã xử lý", "Resolved")) }
                (head("ack", "Nhận việc đúng hạn", "Acknowledged in time"))
                (head("on_time", "Đúng hạn", "On time"))
                (head("overdue", "Đang quá hạn", "Overdue now"))
                (head("median", "Trung vị (giờ)", "Median (hours)"))
                (head("reopen", "Mở lại", "Reopened"))
                (head("score", "Hài lòng", "Satisfaction"))
            } }
            tbody {
                @for f in &units {
                    tr {
                        td { a href={"/console/performance?" (period) "&sort=" (by) "&unit=" (f.unit) "#trend"} { (catalog.unit_name(&f.unit)) } }
                        td class="num" { (f.received) }
                        td class="num" { (f.resolved) }
                        td class="num" { (pct(f.ack_share())) }
                        td class="num" { (pct(f.on_time_share())) }
                        td class="num" { @if f.overdue > 0 { a href={"/console?unit=" (f.unit) "&overdue=1"} { (f.overdue) } } @else { "0" } }
                        td class="num" { (f.median_hours.map(|h| format!("{h:.1}")).unwrap_or_else(|| "—".into())) }
                        td class="num" { (f.reopened) " (" (pct(f.reopen_rate())) ")" }
                        td class="num" { (f.average_score().map(|s| format!("{s:.1}/5")).unwrap_or_else(|| "—".into())) " "
                            span class="muted" { "(" (f.ratings) ")" } }
                    }
                }
                @if units.is_empty() { tr { td colspan="9" class="muted" { (lang.t("Không có hoạt động trong khoảng thời gian này.", "No activity in this period.")) } } }
            }
        }
        @if let Some(u) = q.unit.as_deref().filter(|u| !u.is_empty()) {
            h2 id="trend" { (lang.t("Theo tuần: ", "Week by week: ")) (catalog.unit_name(u)) }
            @let labels: Vec<String> = trend.iter().map(|(start, _)| phananh_domain::calendar::to_local(*start).format("%d/%m").to_string()).collect();
            (crate::charts::line(
                lang.t("Tỷ lệ xử lý đúng hạn theo tuần", "On-time share by week"),
                &labels,
                &[crate::charts::Series {
                    name: lang.t("Đúng hạn (%)", "On time (%)"),
                    colour: "#1a7f37",
                    values: trend.iter().map(|(_, f)| f.on_time_share().map(|x| x * 100.0)).collect(),
                }],
                Some(100.0),
                "%",
            ))
            @let backlog: Vec<Option<f64>> = trend.iter().scan(0i64, |open, (_, f)| {
                *open = (*open + i64::from(f.received) - i64::from(f.resolved)).max(0);
                Some(Some(*open as f64))
            }).collect();
            (crate::charts::line(
                lang.t("Tiếp nhận, đã xử lý và tồn đọng theo tuần", "Received, resolved and backlog by week"),
                &labels,
                &[
                    crate::charts::Series { name: lang.t("Tiếp nhận", "Received"), colour: "#0969da", values: trend.iter().map(|(_, f)| Some(f64::from(f.received))).collect() },
                    crate::charts::Series { name: lang.t("Đã xử lý", "Resolved"), colour: "#1a7f37", values: trend.iter().map(|(_, f)| Some(f64::from(f.resolved))).collect() },
                    crate::charts::Series { name: lang.t("Tồn đọng", "Backlog"), colour: "#cf222e", values: backlog },
                ],
                None,
                "",
            ))
            table {
                thead { tr { th { (lang.t("Tuần", "Week")) } th class="num" { (lang.t("Tiếp nhận", "Received")) } th class="num" { (lang.t("Đã xử lý", "Resolved")) } th class="num" { (lang.t("Đúng hạn", "On time")) } } }
                tbody { @for (start, f) in &trend {
                    tr {
                        th scope="row" { (phananh_domain::calendar::to_local(*start).format("%d/%m/%Y")) }
                        td class="num" { (f.received) }
                        td class="num" { (f.resolved) }
                        td class="num" { (pct(f.on_time_share())) " " span class="muted" { "(" (f.resolved_on_time) "/" (f.resolved) ")" } }
                    }
                } }
            }
        }
        h2 { (lang.t("Số phản ánh theo lĩnh vực mỗi tuần", "Reports by field, week by week")) }
        table {
            thead { tr { th { (lang.t("Lĩnh vực", "Field")) } @for w in &weeks { th class="num" { (week_label(*w)) } } } }
            tbody { @for f in &fields {
                tr { td { (catalog.field_name(f)) }
                    @for w in &weeks {
                        td class="num" { (weekly.iter().find(|(x, y, _)| x == w && y == f).map(|(_, _, n)| *n).unwrap_or(0)) }
                    } }
            } }
        }
        h2 { (lang.t("Mức hài lòng theo lĩnh vực", "Satisfaction by field")) }
        table {
            thead { tr { th { (lang.t("Lĩnh vực", "Field")) } th class="num" { (lang.t("Lượt đánh giá", "Ratings")) } th class="num" { (lang.t("Điểm trung bình", "Average")) } } }
            tbody {
                @for (f, n, avg) in &by_field { tr { td { (catalog.field_name(f)) } td class="num" { (n) } td class="num" { (format!("{avg:.1}/5")) } } }
                @if by_field.is_empty() { tr { td colspan="3" class="muted" { (lang.t("Chưa có đánh giá.", "No ratings yet.")) } } }
            }
        }
    })
    .into_response()
}

#[derive(serde::Deserialize, Default)]
struct WorkbookQuery {
    from: Option<String>,
    to: Option<String>,
    period: Option<String>,
}

/// The committee's workbook for the chosen dates, or the last complete week or month.
async fn workbook(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<WorkbookQuery>,
) -> Response {
    committee_file(state, staff, q, false).await
}

async fn pdf(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<WorkbookQuery>,
) -> Response {
    committee_file(state, staff, q, true).await
}

async fn committee_file(state: AppState, staff: Staff, q: WorkbookQuery, pdf: bool) -> Response {
    let now = state.app.clock.now();
    let (from, to, label) = match q
        .period
        .as_deref()
        .and_then(phananh_app::committee::Period::parse)
    {
        Some(p) => p.last_complete(now),
        None => {
            let from = local_day(&q.from, false).unwrap_or(now - chrono::Duration::days(30));
            let to = local_day(&q.to, true).unwrap_or(now);
            let label = format!(
                "Từ {} đến {}",
                phananh_domain::calendar::to_local(from).format("%d/%m/%Y"),
                phananh_domain::calendar::to_local(to - chrono::Duration::seconds(1))
                    .format("%d/%m/%Y")
            );
            (from, to, label)
        }
    };
    if let Err(e) = phananh_app::performance::check_period("from", from, to) {
        return error_page(&e, staff.lang, Some(&staff));
    }
    let (made, content_type, ext) = if pdf {
        (
            state
                .app
                .committee_pdf(&staff.principal, from, to, &label)
                .await,
            "application/pdf",
            "pdf",
        )
    } else {
        (
            state
                .app
                .committee_workbook(&staff.principal, from, to, &label)
                .await,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    };
    match made {
        Ok(bytes) => (
            [
                (axum::http::header::CONTENT_TYPE, content_type.to_string()),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"bao-cao-don-vi-{}.{ext}\"",
                        phananh_domain::calendar::to_local(from).format("%Y-%m-%d")
                    ),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(&e, staff.lang, Some(&staff)),
    }
}
