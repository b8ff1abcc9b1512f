//! Open data: every public report as CSV and GeoJSON, per day and all of it, streamed page
//! by page; the data dictionary and the licence; and the units' public monthly ranking.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use maud::html;
use phananh_domain::open_data::{
    COLUMNS, GEOJSON_END, GEOJSON_SEPARATOR, csv_header, geojson_start,
};

use crate::AppState;
use crate::layout::page;
use crate::session::lang_of;

/// Days listed on the index page (every day stays at its URL).
const DAYS_LISTED: i64 = 31;

/// Exports streamed at once: a whole-city file reads every public report, so a crowd of
/// downloads (or an attacker) waits its turn instead of loading the database for everyone.
static EXPORTS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(2)));

/// `/open-data/`: what there is, the dictionary and the licence.
pub(super) async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let today = phananh_domain::calendar::to_local(state.app.clock.now()).date_naive();
    let licence = &state.config.open_data_licence;
    page(lang.t("Dữ liệu mở", "Open data"), lang, None, html! {
        h1 { (lang.t("Dữ liệu mở", "Open data")) }
        p { (lang.t("Mọi phản ánh công khai, mỗi dòng một phản ánh: lĩnh vực, phường, đơn vị, kênh, trạng thái, các mốc thời gian, đúng hạn và điểm đánh giá. Không có dữ liệu cá nhân và không có nội dung phản ánh.",
            "Every public report, one per row: field, ward, unit, channel, status, its dates, whether it was on time and its rating. No personal data and no report text.")) }
        p { strong { (lang.t("Giấy phép", "Licence")) ": " } (licence) }
        h2 { (lang.t("Tải về", "Download")) }
        ul {
            li { (lang.t("Tất cả", "Everything")) ": " a href="/open-data/all.csv" { "all.csv" } " · " a href="/open-data/all.geojson" { "all.geojson" } }
            @for back in 0..DAYS_LISTED {
                @let day = today - chrono::Duration::days(back);
                li { (day.format("%Y-%m-%d")) ": " a href={"/open-data/" (day.format("%Y-%m-%d")) ".csv"} { "CSV" } " · " a href={"/open-data/" (day.format("%Y-%m-%d")) ".geojson"} { "GeoJSON" } }
            }
        }
        p class="muted" { (lang.t("Mỗi ngày (theo giờ Việt Nam, ngày tiếp nhận) có địa chỉ cố định /open-data/YYYY-MM-DD.csv; trạng thái là trạng thái hiện tại.",
            "Each day (Viet Nam time, by the day filed) has a stable address /open-data/YYYY-MM-DD.csv; the status is the current one.")) }
        h2 { (lang.t("Từ điển dữ liệu", "Data dictionary")) }
        table {
            thead { tr { th { (lang.t("Cột", "Column")) } th { (lang.t("Nội dung", "Meaning")) } } }
            tbody { @for (name, vi, en) in COLUMNS { tr { td { code { (name) } } td { (lang.t(vi, en)) } } } }
        }
        p class="muted" { (lang.t("GeoJSON: cùng các cột trong properties, tọa độ là điểm trên bản đồ công khai (trống nếu phản ánh không có vị trí).",
            "GeoJSON: the same columns as properties; the geometry is the point on the public map (null when a report has none).")) }
        p { a href="/stats/units" { (lang.t("Xếp hạng đơn vị theo tháng", "The units' monthly ranking")) } }
    })
    .into_response()
}

/// `/open-data/{day or all}.{csv,geojson}`, streamed.
pub(super) async fn file(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let filed = if stem == "all" {
        None
    } else {
        let Ok(day) = NaiveDate::parse_from_str(stem, "%Y-%m-%d") else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let Some(range) = local_day(day) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        Some(range)
    };
    let geojson = match ext {
        "csv" => false,
        "geojson" => true,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let head = if geojson {
        geojson_start(&state.config.open_data_licence)
    } else {
        // A BOM so spreadsheet programs read the Vietnamese names as UTF-8.
        format!("\u{feff}{}", csv_header())
    };
    let Ok(permit) = EXPORTS.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            "Đang có nhiều lượt tải dữ liệu, vui lòng thử lại sau 30 giây / \
             too many downloads at once; try again in 30 seconds",
        )
            .into_response();
    };
    let permit = std::sync::Arc::new(permit);
    let app = state.app.clone();
    // (next id to read from, whether a feature was written, finished)
    let pages = futures_util::stream::unfold(Some((0i64, false)), move |at| {
        let app = app.clone();
        // The permit lives with the stream: until the last page is read or the client
        // goes away.
        let _held = std::sync::Arc::clone(&permit);
        async move {
            let (after, wrote) = at?;
            match app.open_data_page(after, filed).await {
                Ok((rows, next)) => {
                    let mut chunk = String::new();
                    let mut wrote = wrote;
                    for r in &rows {
                        if geojson {
                            if wrote {
                                chunk.push_str(GEOJSON_SEPARATOR);
                            }
                            chunk.push_str(&r.feature().to_string());
                        } else {
                            chunk.push_str(&r.csv());
                        }
                        wrote = true;
                    }
                    if next.is_none() && geojson {
                        chunk.push_str(GEOJSON_END);
                    }
                    Some((Ok::<_, std::io::Error>(chunk), next.map(|n| (n, wrote))))
                }
                Err(e) => {
                    // The status is sent already: cut the body short, so the file is
                    // visibly incomplete rather than silently short.
                    tracing::error!(error = %e, "open data export failed");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        }
    });
    let body = futures_util::stream::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }),
        pages,
    );
    let content_type = if geojson {
        "application/geo+json; charset=utf-8"
    } else {
        "text/csv; charset=utf-8"
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"phananh-{name}\""),
            ),
            (header::CACHE_CONTROL, "public, max-age=300".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// The UTC bounds of a day in the city.
fn local_day(
    day: NaiveDate,
) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let tz = phananh_domain::calendar::city_tz();
    let start = day.and_hms_opt(0, 0, 0)?.and_local_timezone(tz).single()?;
    let end = day
        .succ_opt()?
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(tz)
        .single()?;
    Some((
        start.with_timezone(&chrono::Utc),
        end.with_timezone(&chrono::Utc),
    ))
}

#[derive(serde::Deserialize, Default)]
pub(super) struct MonthQuery {
    /// "YYYY-MM"; the last full month when absent.
    #[serde(default)]
    month: Option<String>,
}

/// `/stats/units`: the units ranked by on-time share over a month, as the city publishes
/// in the press.
pub(super) async fn unit_ranking(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<MonthQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let today = phananh_domain::calendar::to_local(state.app.clock.now()).date_naive();
    let last_month = today
        .with_day(1)
        .and_then(|d| d.pred_opt())
        .and_then(|d| d.with_day(1));
    let first = q
        .month
        .as_deref()
        .and_then(|m| NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").ok())
        .or(last_month);
    let Some(first) = first else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    let (Some((from, _)), Some((to, _))) = (local_day(first), next.and_then(local_day)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ranking = match state.app.public_unit_ranking(from, to).await {
        Ok(r) => r,
        Err(e) => return crate::layout::error_page(&e, lang, None),
    };
    let catalog = state.app.catalog().await;
    let month = first.format("%m/%Y").to_string();
    let pct = |x: Option<f64>| {
        x.map(|v| format!("{:.0} %", v * 100.0))
            .unwrap_or_else(|| "—".into())
    };
    page(lang.t("Xếp hạng đơn vị", "Units ranked"), lang, None, html! {
        h1 { (lang.t("Xếp hạng đơn vị theo tỷ lệ xử lý đúng hạn", "Units ranked by on-time share")) " – " (month) }
        form method="get" action="/stats/units" class="filters" {
            label for="month" { (lang.t("Tháng", "Month")) }
            input id="month" name="month" type="month" value=(first.format("%Y-%m"));
            button type="submit" { (lang.t("Xem", "Show")) }
        }
        table {
            thead { tr {
                th { "#" } th { (lang.t("Đơn vị", "Unit")) } th { (lang.t("Tiếp nhận", "Received")) }
                th { (lang.t("Đã xử lý", "Resolved")) } th { (lang.t("Đúng hạn", "On time")) } th { (lang.t("Quá hạn", "Overdue")) }
            } }
            tbody {
                @for (i, f) in ranking.iter().enumerate() {
                    tr { td { (i + 1) } td { (catalog.unit_name(&f.unit)) } td class="num" { (f.received) }
                        td class="num" { (f.resolved) } td class="num" { (pct(f.on_time_share())) } td class="num" { (f.overdue) } }
                }
                @if ranking.is_empty() { tr { td colspan="6" class="muted" { (lang.t("Chưa có số liệu.", "No figures yet.")) } } }
            }
        }
        p class="muted" { (lang.t("Tính trên các hồ sơ đơn vị nhận trong tháng (kể cả chuyển đến, mở lại); đúng hạn là tỷ lệ đã xử lý trước hạn.",
            "Over the reports each unit received in the month (transfers in and reopenings included); on time is the share resolved by the deadline.")) }
        p { a href="/open-data/" { (lang.t("Dữ liệu mở", "Open data")) } " · " a href="/stats" { (lang.t("Thống kê", "Statistics")) } }
    })
    .into_response()
}
