//! The report to the City People's Committee: every unit's figures for a week or a month
//! and the cases overdue at its end, as an Excel workbook in Vietnamese. Built from the
//! histories (`unit_performance`), so any past period can be produced again.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use phananh_domain::access::Principal;
use phananh_domain::calendar::{city_tz, to_local};
use phananh_domain::performance::UnitFigures;
use rust_xlsxwriter::{Format, Workbook};

use crate::{App, AppError};

/// A reporting period: a whole local week (Monday to Sunday) or month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Week,
    Month,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "week" | "tuan" => Some(Period::Week),
            "month" | "thang" => Some(Period::Month),
            _ => None,
        }
    }

    /// The last complete period before `now`: [from, to) in UTC, and its label.
    pub fn last_complete(self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>, String) {
        let today = to_local(now).date_naive();
        let (start, end): (NaiveDate, NaiveDate) = match self {
            Period::Week => {
                let this_monday =
                    today - Duration::days(today.weekday().num_days_from_monday() as i64);
                (this_monday - Duration::days(7), this_monday)
            }
            Period::Month => {
                let first = today.with_day(1).expect("day 1");
                let prev = (first - Duration::days(1)).with_day(1).expect("day 1");
                (prev, first)
            }
        };
        let at = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(city_tz()).single())
                .map(|t| t.with_timezone(&Utc))
                .expect("a local midnight")
        };
        let label = match self {
            Period::Week => format!(
                "Tuần {} – {}",
                start.format("%d/%m/%Y"),
                (end - Duration::days(1)).format("%d/%m/%Y")
            ),
            Period::Month => format!("Tháng {}", start.format("%m/%Y")),
        };
        (at(start), at(end), label)
    }
}

/// An overdue case in the report.
pub struct OverdueCase {
    pub code: String,
    pub unit: String,
    pub field: String,
    pub due_at: DateTime<Utc>,
    pub days_late: i64,
}

/// What the committee's report holds.
pub struct CommitteeData {
    pub units: Vec<UnitFigures>,
    pub overdue: Vec<OverdueCase>,
}

impl App {
    /// The figures of every unit this person may see for `[from, to)`, slowest first, and
    /// the cases overdue now.
    pub async fn committee_data(
        &self,
        who: &Principal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<CommitteeData, AppError> {
        let mut units = self.unit_performance(who, from, to).await?;
        units.sort_by(|a, b| {
            a.on_time_share()
                .unwrap_or(2.0)
                .total_cmp(&b.on_time_share().unwrap_or(2.0))
                .then_with(|| b.overdue.cmp(&a.overdue))
        });
        let catalog = self.catalog().await;
        let now = self.clock.now();
        let overdue: Vec<OverdueCase> = self
            .store
            .reports_due_before(now, 10_000)
            .await?
            .into_iter()
            .filter(|r| who.can_view(&r.unit))
            .filter_map(|r| {
                let due = r.due_at?;
                Some(OverdueCase {
                    days_late: catalog.calendar.working_days_between(due, now),
                    code: r.code,
                    unit: r.unit,
                    field: r.field,
                    due_at: due,
                })
            })
            .collect();
        Ok(CommitteeData { units, overdue })
    }

    /// The committee's workbook for `[from, to)`, as bytes (.xlsx).
    pub async fn committee_workbook(
        &self,
        who: &Principal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        label: &str,
    ) -> Result<Vec<u8>, AppError> {
        let data = self.committee_data(who, from, to).await?;
        let catalog = self.catalog().await;
        build_workbook(&data.units, &data.overdue, label, &catalog)
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// The same report as a PDF (A4, Vietnamese, the DejaVu Sans font embedded).
    pub async fn committee_pdf(
        &self,
        who: &Principal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        label: &str,
    ) -> Result<Vec<u8>, AppError> {
        let data = self.committee_data(who, from, to).await?;
        let catalog = self.catalog().await;
        build_pdf(&data, label, &catalog)
    }
}

fn build_workbook(
    units: &[UnitFigures],
    overdue: &[OverdueCase],
    label: &str,
    catalog: &crate::Catalog,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0%");
    let one = Format::new().set_num_format("0.0");
    let sheet = book.add_worksheet();
    sheet.set_name("Xep hang don vi")?;
    sheet.write_string_with_format(0, 0, "BÁO CÁO TIẾN ĐỘ XỬ LÝ PHẢN ÁNH CỦA CÁC ĐƠN VỊ", &bold)?;
    sheet.write_string(1, 0, label)?;
    let heads = [
        "Đơn vị",
        "Mã đơn vị",
        "Tiếp nhận",
        "Đã xử lý",
        "Đúng hạn",
        "Tỷ lệ đúng hạn",
        "Đang quá hạn",
        "Trung vị thời gian xử lý (giờ)",
        "Bị mở lại",
        "Lượt đánh giá",
        "Điểm hài lòng (1–5)",
        "Tỷ lệ nhận việc đúng hạn",
    ];
    for (c, h) in heads.iter().enumerate() {
        sheet.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    for (i, f) in units.iter().enumerate() {
        let r = 4 + i as u32;
        sheet.write_string(r, 0, catalog.unit_name(&f.unit))?;
        sheet.write_string(r, 1, &f.unit)?;
        sheet.write_number(r, 2, f.received)?;
        sheet.write_number(r, 3, f.resolved)?;
        sheet.write_number(r, 4, f.resolved_on_time)?;
        if let Some(s) = f.on_time_share() {
            sheet.write_number_with_format(r, 5, s, &pct)?;
        }
        sheet.write_number(r, 6, f.overdue)?;
        if let Some(h) = f.median_hours {
            sheet.write_number_with_format(r, 7, h, &one)?;
        }
        sheet.write_number(r, 8, f.reopened)?;
        sheet.write_number(r, 9, f.ratings)?;
        if let Some(s) = f.average_score() {
            sheet.write_number_with_format(r, 10, s, &one)?;
        }
        if let Some(s) = f.ack_share() {
            sheet.write_number_with_format(r, 11, s, &pct)?;
        }
    }
    sheet.set_column_width(0, 40)?;
    let cases = book.add_worksheet();
    cases.set_name("Ho so qua han")?;
    cases.write_string_with_format(0, 0, "HỒ SƠ QUÁ HẠN", &bold)?;
    for (c, h) in [
        "Mã hồ sơ",
        "Đơn vị",
        "Lĩnh vực",
        "Hạn xử lý",
        "Số ngày làm việc quá hạn",
    ]
    .iter()
    .enumerate()
    {
        cases.write_string_with_format(2, c as u16, *h, &bold)?;
    }
    for (i, o) in overdue.iter().enumerate() {
        let r = 3 + i as u32;
        cases.write_string(r, 0, &o.code)?;
        cases.write_string(r, 1, catalog.unit_name(&o.unit))?;
        cases.write_string(r, 2, catalog.field_name(&o.field))?;
        cases.write_string(
            r,
            3,
            to_local(o.due_at).format("%d/%m/%Y %H:%M").to_string(),
        )?;
        cases.write_number(r, 4, o.days_late as f64)?;
    }
    cases.set_column_width(1, 40)?;
    book.save_to_buffer()
}

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Lays the report out on A4 pages: a title, the units' table, the overdue cases.
/// Where the PDF's bars start and how long a full (100 %) one is, in mm.
const BAR_X: f32 = 100.0;
const BAR_W: f32 = 80.0;

fn build_pdf(
    data: &CommitteeData,
    label: &str,
    catalog: &crate::Catalog,
) -> Result<Vec<u8>, AppError> {
    use printpdf::{
        Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
        TextItem,
    };
    let font = ParsedFont::from_bytes(FONT, 0, &mut Vec::new())
        .ok_or_else(|| AppError::Internal("the PDF font could not be read".into()))?;
    let mut doc = PdfDocument::new("Báo cáo tiến độ xử lý phản ánh");
    let font_id = doc.add_font(&font);
    // One line of cells: (x in mm, text).
    let mut lines: Vec<(f32, Vec<(f32, String)>)> = Vec::new();
    let title = |t: &str| (12.0, vec![(15.0, t.to_string())]);
    lines.push((
        14.0,
        vec![(
            15.0,
            "BÁO CÁO TIẾN ĐỘ XỬ LÝ PHẢN ÁNH CỦA CÁC ĐƠN VỊ".to_string(),
        )],
    ));
    lines.push(title(label));
    lines.push(title(""));
    let cols = [15.0, 95.0, 112.0, 128.0, 146.0, 163.0, 180.0];
    let header = [
        "Đơn vị",
        "Tiếp nhận",
        "Đã xử lý",
        "Đúng hạn",
        "Quá hạn",
        "Mở lại",
        "Hài lòng",
    ];
    lines.push((
        9.0,
        cols.iter()
            .zip(header)
            .map(|(x, h)| (*x, h.to_string()))
            .collect(),
    ));
    let pct = |v: Option<f64>| {
        v.map(|x| format!("{:.0}%", x * 100.0))
            .unwrap_or_else(|| "—".into())
    };
    for f in &data.units {
        let name: String = catalog.unit_name(&f.unit).chars().take(45).collect();
        let cells = [
            name,
            f.received.to_string(),
            f.resolved.to_string(),
            pct(f.on_time_share()),
            f.overdue.to_string(),
            f.reopened.to_string(),
            f.average_score()
                .map(|s| format!("{s:.1}/5"))
                .unwrap_or_else(|| "—".into()),
        ];
        lines.push((9.0, cols.iter().copied().zip(cells).collect()));
    }
    // The units' on-time share as bars (the chart the dashboard draws), for the units that
    // resolved anything, slowest first as in the table: (line index, share 0–1).
    let mut bars: std::collections::HashMap<usize, f64> = std::collections::HashMap::new();
    let charted: Vec<&UnitFigures> = data
        .units
        .iter()
        .filter(|f| f.on_time_share().is_some())
        .take(60)
        .collect();
    if !charted.is_empty() {
        lines.push(title(""));
        lines.push(title("TỶ LỆ XỬ LÝ ĐÚNG HẠN THEO ĐƠN VỊ"));
        for f in charted {
            let share = f.on_time_share().unwrap_or(0.0);
            let name: String = catalog.unit_name(&f.unit).chars().take(42).collect();
            bars.insert(lines.len(), share);
            lines.push((
                9.0,
                vec![(15.0, name), (BAR_X + BAR_W + 3.0, pct(Some(share)))],
            ));
        }
    }
    lines.push(title(""));
    lines.push(title(&format!("HỒ SƠ QUÁ HẠN ({})", data.overdue.len())));
    let ocols = [15.0, 40.0, 130.0, 165.0];
    lines.push((
        9.0,
        ocols
            .iter()
            .zip(["Mã hồ sơ", "Đơn vị", "Hạn xử lý", "Ngày quá hạn"])
            .map(|(x, h)| (*x, h.to_string()))
            .collect(),
    ));
    for o in data.overdue.iter().take(2_000) {
        let cells = [
            o.code.clone(),
            catalog.unit_name(&o.unit).chars().take(50).collect(),
            to_local(o.due_at).format("%d/%m/%Y").to_string(),
            o.days_late.to_string(),
        ];
        lines.push((9.0, ocols.iter().copied().zip(cells).collect()));
    }
    // Pages of A4, 15 mm margins, lines of their font size plus a little.
    let mut pages = Vec::new();
    let mut ops = Vec::new();
    let mut y = 282.0f32;
    for (i, (size, cells)) in lines.into_iter().enumerate() {
        let step = size * 0.3528 * 1.5;
        if y - step < 15.0 {
            pages.push(PdfPage::new(Mm(210.0), Mm(297.0), std::mem::take(&mut ops)));
            y = 282.0;
        }
        y -= step;
        if let Some(share) = bars.get(&i) {
            // A grey track and a bar green when in time, amber below 75 %, red below 50 %.
            let rect = |x: f32, w: f32| printpdf::Rect {
                x: Mm(x).into(),
                y: Mm(y - 0.4).into(),
                width: Mm(w.max(0.01)).into(),
                height: Mm(3.0).into(),
                mode: Some(printpdf::PaintMode::Fill),
                winding_order: None,
            };
            let rgb = |r: f32, g: f32, b: f32| {
                printpdf::Color::Rgb(printpdf::Rgb {
                    r,
                    g,
                    b,
                    icc_profile: None,
                })
            };
            ops.push(Op::SetFillColor {
                col: rgb(0.9, 0.91, 0.92),
            });
            ops.push(Op::DrawRectangle {
                rectangle: rect(BAR_X, BAR_W),
            });
            ops.push(Op::SetFillColor {
                col: if *share >= 0.75 {
                    rgb(0.10, 0.50, 0.22)
                } else if *share >= 0.5 {
                    rgb(0.83, 0.60, 0.13)
                } else {
                    rgb(0.81, 0.13, 0.18)
                },
            });
            ops.push(Op::DrawRectangle {
                rectangle: rect(BAR_X, BAR_W * *share as f32),
            });
            ops.push(Op::SetFillColor {
                col: rgb(0.0, 0.0, 0.0),
            });
        }
        for (x, text) in cells {
            if text.is_empty() {
                continue;
            }
            ops.push(Op::StartTextSection);
            ops.push(Op::SetTextCursor {
                pos: Point {
                    x: Mm(x).into(),
                    y: Mm(y).into(),
                },
            });
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(font_id.clone()),
                size: Pt(size),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(text)],
            });
            ops.push(Op::EndTextSection);
        }
    }
    pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
    Ok(doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut Vec::new()))
}

impl App {
    /// Queues the committee's report for the last complete period (once per period).
    pub async fn queue_committee_report(&self, period: Period) -> Result<(), AppError> {
        let (from, to, label) = period.last_complete(self.clock.now());
        let job = phananh_storage::NewJob::committee_report(from, to, &label, self.clock.now());
        self.store.enqueue(&[job]).await?;
        self.jobs_queued.notify_one();
        Ok(())
    }
}

/// Who the scheduled report is made as: it covers every unit.
pub fn committee_principal() -> Principal {
    Principal {
        user_id: 0,
        name: "phananh".into(),
        role: phananh_domain::access::Role::Supervisor,
        unit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_last_complete_week_and_month() {
        // Wednesday 4 March 2026, 10:00 in the city.
        let now = Utc.with_ymd_and_hms(2026, 3, 4, 3, 0, 0).unwrap();
        let (from, to, label) = Period::Week.last_complete(now);
        assert_eq!(
            to_local(from).format("%Y-%m-%d %H:%M").to_string(),
            "2026-02-23 00:00"
        );
        assert_eq!(to_local(to).format("%Y-%m-%d").to_string(), "2026-03-02");
        assert_eq!(label, "Tuần 23/02/2026 – 01/03/2026");
        let (from, to, label) = Period::Month.last_complete(now);
        assert_eq!(to_local(from).format("%Y-%m-%d").to_string(), "2026-02-01");
        assert_eq!(to_local(to).format("%Y-%m-%d").to_string(), "2026-03-01");
        assert_eq!(label, "Tháng 02/2026");
    }
}
