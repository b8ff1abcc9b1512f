//! Likely duplicates: other reports of the same problem, from any channel. A report's
//! likely duplicates are the reports of the same field within the field's radius (150 m
//! unless the field says otherwise), still open or resolved in the last 30 days, nearest
//! first. Staff decide; nothing here merges anything.

use chrono::{DateTime, Duration, Utc};

use crate::model::{Report, Status};

/// The radius of a field that names none, in metres.
pub const DEFAULT_RADIUS_M: u32 = 150;

/// How long a resolved report is still a likely original.
pub const RESOLVED_WITHIN: Duration = Duration::days(30);

/// Metres between two points `(lat, lon)` (haversine; the city is small enough for a
/// sphere).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    use crate::model::Point;
    Point { lat: a.0, lon: a.1 }.distance_m(&Point { lat: b.0, lon: b.1 })
}

/// The box `[min lon, min lat, max lon, max lat]` that holds every point within
/// `radius_m` of `(lat, lon)` (a little more: the search then measures exactly).
pub fn bbox(lat: f64, lon: f64, radius_m: f64) -> [f64; 4] {
    let dlat = radius_m / 111_000.0;
    let dlon = radius_m / (111_000.0 * lat.to_radians().cos().max(0.01));
    [lon - dlon, lat - dlat, lon + dlon, lat + dlat]
}

/// A likely duplicate of a report, with how far it is and how old.
#[derive(Debug, Clone, PartialEq)]
pub struct Likely {
    pub report: Report,
    pub distance_m: f64,
    /// Whole days since it was filed.
    pub age_days: i64,
}

/// Whether `other` may be the original of a duplicate: not rejected, not merged itself,
/// open, or resolved or closed no longer than [`RESOLVED_WITHIN`] before `now`.
pub fn may_be_original(other: &Report, now: DateTime<Utc>) -> bool {
    match other.status {
        Status::Rejected | Status::Duplicate => false,
        Status::Resolved | Status::Closed => other.updated_at >= now - RESOLVED_WITHIN,
        _ => true,
    }
}

/// The likely duplicates of `report` among `others`: the same field, within `radius_m`,
/// [`may_be_original`]; nearest first (then newest). A report without a map point has
/// none.
pub fn likely_duplicates(
    report: &Report,
    others: impl IntoIterator<Item = Report>,
    radius_m: u32,
    now: DateTime<Utc>,
) -> Vec<Likely> {
    let (Some(lat), Some(lon)) = (report.lat, report.lon) else {
        return Vec::new();
    };
    let mut out: Vec<Likely> = others
        .into_iter()
        .filter(|o| o.id != report.id && o.field == report.field && may_be_original(o, now))
        .filter_map(|o| {
            let d = distance_m((lat, lon), (o.lat?, o.lon?));
            (d <= f64::from(radius_m)).then(|| Likely {
                age_days: (now - o.created_at).num_days().max(0),
                distance_m: d,
                report: o,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then_with(|| b.report.created_at.cmp(&a.report.created_at))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Channel, Publication, ReportExtra};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 31, 3, 0, 0).unwrap()
    }

    fn report(id: i64, field: &str, at: (f64, f64), status: Status, days_ago: i64) -> Report {
        let when = now() - Duration::days(days_ago);
        Report {
            id,
            code: format!("CODE-{id:04}"),
            field: field.into(),
            description: String::new(),
            lat: Some(at.0),
            lon: Some(at.1),
            address: None,
            ward: None,
            channel: Channel::Sms,
            status,
            unit: "SXD".into(),
            assignee: None,
            due_at: None,
            paused_at: None,
            duplicate_of: None,
            created_at: when,
            updated_at: when,
            last_seq: 1,
            extra: ReportExtra::default(),
            publication: Publication::Published,
            public_text: None,
            urgent: false,
        }
    }

    // Ben Thanh market; 0.00045° of latitude is about 50 m.
    const P: (f64, f64) = (10.7725, 106.6980);

    #[test]
    fn distances_in_the_city() {
        // Ben Thanh market to the Opera House: about 740 m.
        let d = distance_m(P, (10.7767, 106.7032));
        assert!((600.0..800.0).contains(&d), "{d}");
        assert_eq!(distance_m(P, P), 0.0);
        let [w, s, e, n] = bbox(P.0, P.1, 150.0);
        for corner in [(s, P.1), (n, P.1), (P.0, w), (P.0, e)] {
            assert!(distance_m(P, corner) >= 150.0, "{corner:?}");
        }
    }

    #[test]
    fn the_same_field_near_by_open_or_lately_resolved_nearest_first() {
        let me = report(1, "roads", P, Status::New, 0);
        let near = (P.0 + 0.00045, P.1);
        let nearer = (P.0 + 0.0002, P.1);
        let others = vec![
            me.clone(),
            report(2, "roads", near, Status::Assigned, 3),
            report(3, "roads", nearer, Status::Resolved, 29),
            // Too far, another field, resolved too long ago, rejected, merged, no point.
            report(4, "roads", (P.0 + 0.002, P.1), Status::New, 1),
            report(5, "lighting", near, Status::New, 1),
            report(6, "roads", near, Status::Closed, 31),
            report(7, "roads", near, Status::Rejected, 1),
            report(8, "roads", near, Status::Duplicate, 1),
            Report {
                lat: None,
                lon: None,
                ..report(9, "roads", near, Status::New, 1)
            },
            // Open for a long time: still the same problem.
            report(10, "roads", (P.0 - 0.0013, P.1), Status::InProgress, 90),
        ];
        let got = likely_duplicates(&me, others.clone(), DEFAULT_RADIUS_M, now());
        let ids: Vec<i64> = got.iter().map(|l| l.report.id).collect();
        assert_eq!(ids, vec![3, 2, 10]);
        assert!(
            (got[0].distance_m - 22.2).abs() < 1.0,
            "{}",
            got[0].distance_m
        );
        assert!(
            (got[1].distance_m - 50.0).abs() < 1.0,
            "{}",
            got[1].distance_m
        );
        assert_eq!(
            got.iter().map(|l| l.age_days).collect::<Vec<_>>(),
            vec![29, 3, 90]
        );
        // A wider radius for a field that asks for one; a report without a point has none.
        assert_eq!(likely_duplicates(&me, others.clone(), 300, now()).len(), 4);
        let nowhere = Report { lat: None, ..me };
        assert!(likely_duplicates(&nowhere, others, 150, now()).is_empty());
    }
}
