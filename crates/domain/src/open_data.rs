//! Open data: one row per public report, with no personal data and no words (the citizen's
//! text and the staff's notes are not in it at all), the same for every format. The row is
//! folded from the report and its history; writing it as CSV or GeoJSON is pure too.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::event::{Event, EventKind};
use crate::model::Report;
use crate::performance::{Outcome, accounts};

/// The licence when the city names none.
pub const DEFAULT_LICENCE: &str = "CC BY 4.0";

/// The columns, in order, with what each holds (Vietnamese, English): the data dictionary.
pub const COLUMNS: [(&str, &str, &str); 15] = [
    ("code", "Mã hồ sơ", "Tracking code"),
    ("field", "Mã lĩnh vực", "Field code"),
    ("field_name", "Tên lĩnh vực", "Field name (Vietnamese)"),
    (
        "ward",
        "Mã phường, xã (mã đơn vị hành chính)",
        "Ward code (administrative unit code)",
    ),
    ("ward_name", "Tên phường, xã", "Ward name"),
    (
        "unit",
        "Mã đơn vị đang xử lý",
        "Code of the unit handling it",
    ),
    (
        "unit_name",
        "Tên đơn vị đang xử lý",
        "Name of the unit handling it",
    ),
    (
        "channel",
        "Kênh tiếp nhận (web, hotline, sms, email, messenger, viber, zalo, telegram, open311…)",
        "Channel it came by",
    ),
    (
        "status",
        "Trạng thái (new, assigned, in_progress, info_requested, resolved, closed)",
        "Status",
    ),
    (
        "filed",
        "Thời điểm tiếp nhận (UTC, ISO 8601)",
        "When it was filed (UTC, ISO 8601)",
    ),
    (
        "acknowledged",
        "Thời điểm đơn vị đầu tiên tiếp nhận xử lý (trống nếu chưa)",
        "When the first unit took it up (empty if not yet)",
    ),
    (
        "resolved",
        "Thời điểm xử lý xong lần gần nhất (trống nếu chưa)",
        "When it was last resolved (empty if not yet)",
    ),
    ("due", "Hạn xử lý hiện tại", "Its current deadline"),
    (
        "on_time",
        "Xử lý đúng hạn (true/false; trống nếu chưa xử lý)",
        "Resolved on time (true/false; empty if not resolved)",
    ),
    (
        "rating",
        "Điểm người dân đánh giá, 1–5 (trống nếu chưa)",
        "The citizen's rating, 1–5 (empty if none)",
    ),
];

/// One public report as open data.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub code: String,
    pub field: String,
    pub field_name: String,
    pub ward: Option<String>,
    pub ward_name: Option<String>,
    pub unit: String,
    pub unit_name: String,
    pub channel: String,
    pub status: String,
    pub filed: DateTime<Utc>,
    pub acknowledged: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
    pub due: Option<DateTime<Utc>>,
    pub on_time: Option<bool>,
    pub rating: Option<u8>,
    /// The map point, as public as the map (GeoJSON only).
    pub point: Option<(f64, f64)>,
}

/// Names for codes, from the city's profile.
pub trait Names {
    fn field(&self, code: &str) -> String;
    fn ward(&self, code: &str) -> String;
    fn unit(&self, code: &str) -> String;
}

/// The row of `report` (already known to be public) and its whole history.
pub fn row(report: &Report, history: &[Event], names: &impl Names) -> Row {
    let accounts = accounts(history);
    let acknowledged = accounts.iter().find_map(|a| a.acked_at);
    let resolved = history.iter().rev().find_map(|e| match e.kind {
        EventKind::Resolved { .. } => Some(e.at),
        _ => None,
    });
    // The latest resolution's account says whether it was in time.
    let on_time = accounts.iter().rev().find_map(|a| match a.outcome {
        Outcome::Resolved { on_time, .. } => Some(on_time),
        _ => None,
    });
    let rating = history.iter().rev().find_map(|e| match e.kind {
        EventKind::Rated { score, .. } => Some(score),
        _ => None,
    });
    Row {
        code: report.code.clone(),
        field: report.field.clone(),
        field_name: names.field(&report.field),
        ward: report.ward.clone(),
        ward_name: report.ward.as_deref().map(|w| names.ward(w)),
        unit: report.unit.clone(),
        unit_name: names.unit(&report.unit),
        channel: report.channel.as_str().to_string(),
        status: report.status.as_str().to_string(),
        filed: report.created_at,
        acknowledged,
        resolved,
        due: report.due_at,
        on_time,
        rating,
        point: report.lat.zip(report.lon),
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV header line.
pub fn csv_header() -> String {
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    format!("{}\r\n", names.join(","))
}

impl Row {
    fn values(&self) -> [String; 15] {
        [
            self.code.clone(),
            self.field.clone(),
            self.field_name.clone(),
            self.ward.clone().unwrap_or_default(),
            self.ward_name.clone().unwrap_or_default(),
            self.unit.clone(),
            self.unit_name.clone(),
            self.channel.clone(),
            self.status.clone(),
            time(Some(self.filed)),
            time(self.acknowledged),
            time(self.resolved),
            time(self.due),
            self.on_time.map(|b| b.to_string()).unwrap_or_default(),
            self.rating.map(|r| r.to_string()).unwrap_or_default(),
        ]
    }

    /// The row as one CSV line.
    pub fn csv(&self) -> String {
        let v: Vec<String> = self.values().iter().map(|s| csv_field(s)).collect();
        format!("{}\r\n", v.join(","))
    }

    /// The row as a GeoJSON feature (a null geometry when the report has no map point).
    pub fn feature(&self) -> Value {
        let mut props = serde_json::Map::new();
        for ((name, _, _), value) in COLUMNS.iter().zip(self.values()) {
            props.insert(
                (*name).into(),
                match *name {
                    "on_time" => self.on_time.map_or(Value::Null, Value::Bool),
                    "rating" => self.rating.map_or(Value::Null, |r| json!(r)),
                    _ if value.is_empty() => Value::Null,
                    _ => Value::String(value),
                },
            );
        }
        json!({
            "type": "Feature",
            "geometry": self.point.map_or(Value::Null, |(lat, lon)| json!({"type": "Point", "coordinates": [lon, lat]})),
            "properties": props,
        })
    }
}

/// The start of a GeoJSON feature collection streamed one feature at a time; features are
/// joined with [`GEOJSON_SEPARATOR`] and the collection closed with [`GEOJSON_END`].
pub fn geojson_start(licence: &str) -> String {
    format!(
        "{{\"type\":\"FeatureCollection\",\"licence\":{},\"features\":[\n",
        Value::String(licence.to_string())
    )
}
pub const GEOJSON_SEPARATOR: &str = ",\n";
pub const GEOJSON_END: &str = "\n]}\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Actor, Channel, Publication, ReportExtra, Status};
    use chrono::TimeZone;

    struct N;
    impl Names for N {
        fn field(&self, c: &str) -> String {
            format!("Lĩnh vực {c}")
        }
        fn ward(&self, c: &str) -> String {
            format!("Phường, \"{c}\"")
        }
        fn unit(&self, c: &str) -> String {
            format!("Đơn vị {c}")
        }
    }

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    #[test]
    fn a_row_has_the_dates_the_outcome_and_no_words() {
        let report = Report {
            id: 1,
            code: "ABCD-2345".into(),
            field: "lighting".into(),
            description: "Nhà ông Nguyễn Văn A, số 0912345678".into(),
            lat: Some(10.77),
            lon: Some(106.7),
            address: Some("12 Lê Lợi".into()),
            ward: Some("26743".into()),
            channel: Channel::Web,
            status: Status::Resolved,
            unit: "Q1".into(),
            assignee: Some(3),
            due_at: Some(at(9, 10)),
            paused_at: None,
            duplicate_of: None,
            created_at: at(2, 2),
            updated_at: at(4, 2),
            last_seq: 4,
            extra: ReportExtra::default(),
            publication: Publication::Published,
            public_text: None,
            urgent: false,
        };
        let ev = |seq, at, kind| Event {
            seq,
            at,
            actor: Actor::system(),
            kind,
        };
        let history = vec![
            ev(
                1,
                at(2, 2),
                EventKind::Created {
                    field: "lighting".into(),
                    channel: Channel::Web,
                    ward: Some("26743".into()),
                    unit: "TRIAGE".into(),
                    review: false,
                },
            ),
            ev(
                2,
                at(2, 2),
                EventKind::Assigned {
                    unit: "Q1".into(),
                    assignee: None,
                    due_at: Some(at(9, 10)),
                    reason: None,
                },
            ),
            ev(3, at(3, 2), EventKind::Started),
            ev(
                4,
                at(4, 2),
                EventKind::Resolved {
                    note: "Đã thay bóng cho nhà ông A".into(),
                    photo: None,
                    distance_m: None,
                },
            ),
        ];
        let r = row(&report, &history, &N);
        assert_eq!(r.acknowledged, Some(at(3, 2)));
        assert_eq!(r.resolved, Some(at(4, 2)));
        assert_eq!(r.on_time, Some(true));
        assert_eq!(r.rating, None);
        let line = r.csv();
        assert_eq!(
            line,
            "ABCD-2345,lighting,Lĩnh vực lighting,26743,\"Phường, \"\"26743\"\"\",Q1,Đơn vị Q1,web,resolved,\
             2026-03-02T02:00:00Z,2026-03-03T02:00:00Z,2026-03-04T02:00:00Z,2026-03-09T10:00:00Z,true,\r\n"
        );
        assert_eq!(csv_header().split(',').count(), COLUMNS.len());
        let f = r.feature();
        assert_eq!(f["geometry"]["coordinates"], json!([106.7, 10.77]));
        assert_eq!(f["properties"]["on_time"], true);
        assert_eq!(f["properties"]["rating"], Value::Null);
        // No words and no personal data in any format.
        for text in [line, f.to_string()] {
            for secret in ["Nguyễn", "0912345678", "Lê Lợi", "thay bóng"] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
    }
}
