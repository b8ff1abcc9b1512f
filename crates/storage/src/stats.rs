//! Counts for the public statistics page (no personal data is involved).
//!
//! Scanning a quarter of a million reports for every page view is too slow, so the counts
//! live in `report_counts`: one row per (local day filed, field, ward, unit, status, finished
//! on time) with the number of reports in that state. Every write to `reports` changes the
//! matching rows in the same transaction (intake adds, a transition moves one report from
//! its old row to its new one), so the table always agrees with the reports and a page reads
//! a few thousand rows instead of every report. Periods are counted in whole local days.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};

use crate::sql::{Val, bulk_insert};
use crate::{Backend, Result, Store, ms};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub total: i64,
    pub by_status: Vec<(String, i64)>,
    pub by_field: Vec<(String, i64)>,
    pub by_ward: Vec<(String, i64)>,
    pub by_unit: Vec<(String, i64)>,
    /// Reports resolved or closed, and of those the ones whose last update came before the due date.
    pub finished: i64,
    pub finished_on_time: i64,
    /// (week start as unix ms, reports filed that week)
    pub by_week: Vec<(i64, i64)>,
}

const DAY_MS: i64 = 86_400_000;

/// Statuses the statistics leave out: rejected reports, and duplicates (merged into their
/// original, which counts the problem once). `report_counts` keeps their rows, so undoing a
/// merge puts the report back where it was.
const NOT_COUNTED: [&str; 2] = ["rejected", "duplicate"];
/// The same, as SQL.
const COUNTED: &str = "status NOT IN ('rejected', 'duplicate')";
/// The city's offset from UTC (Vietnam keeps no daylight saving).
const LOCAL_OFFSET_MS: i64 = 7 * 3_600_000;

/// The local day number of an instant (days since 1970-01-01, UTC+7).
pub(crate) fn local_day(at_ms: i64) -> i64 {
    (at_ms + LOCAL_OFFSET_MS).div_euclid(DAY_MS)
}

/// One row of `report_counts`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CountKey {
    pub day: i64,
    pub field: String,
    pub ward: String,
    pub unit: String,
    pub status: String,
    pub on_time: bool,
}

impl CountKey {
    /// Where a report with these values is counted. "On time" is decided like the page
    /// always did: finished, with its last change no later than its due date.
    pub fn of(
        created_at: i64,
        field: &str,
        ward: Option<&str>,
        unit: &str,
        status: &str,
        due_at: Option<i64>,
        updated_at: i64,
    ) -> CountKey {
        let finished = matches!(status, "resolved" | "closed");
        CountKey {
            day: local_day(created_at),
            field: field.into(),
            ward: ward.unwrap_or("").into(),
            unit: unit.into(),
            status: status.into(),
            on_time: finished && due_at.is_some_and(|d| updated_at <= d),
        }
    }
}

/// Adds `deltas` to the counts inside the caller's transaction.
pub(crate) async fn add_counts(
    backend: Backend,
    tx: &mut Transaction<'static, Any>,
    deltas: HashMap<CountKey, i64>,
) -> Result<()> {
    let rows: Vec<Vec<Val>> = deltas
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(k, n)| {
            vec![
                Val::I(Some(k.day)),
                Val::S(Some(k.field)),
                Val::S(Some(k.ward)),
                Val::S(Some(k.unit)),
                Val::S(Some(k.status)),
                Val::I(Some(k.on_time as i64)),
                Val::I(Some(n)),
            ]
        })
        .collect();
    let _: Vec<(i64,)> = bulk_insert(
        backend,
        tx,
        "report_counts (day, field, ward, unit, status, on_time, n)",
        rows,
        "ON CONFLICT (day, field, ward, unit, status, on_time) DO UPDATE SET n = report_counts.n + excluded.n",
    )
    .await?;
    Ok(())
}

/// Sorted by count (largest first), then by key; at most `limit`.
fn ranked(map: HashMap<String, i64>, limit: usize) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = map.into_iter().filter(|(_, n)| *n > 0).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(limit);
    v
}

/// Folds count rows into the page's figures.
#[derive(Default)]
struct Tally {
    s: Stats,
    status: HashMap<String, i64>,
    field: HashMap<String, i64>,
    ward: HashMap<String, i64>,
    unit: HashMap<String, i64>,
    weeks: HashMap<i64, i64>,
}

impl Tally {
    fn add(&mut self, first_day: i64, k: CountKey, n: i64) {
        // Rejected reports are on no public page; a duplicate is counted once, as its
        // original.
        if NOT_COUNTED.contains(&k.status.as_str()) {
            return;
        }
        self.s.total += n;
        if matches!(k.status.as_str(), "resolved" | "closed") {
            self.s.finished += n;
            if k.on_time {
                self.s.finished_on_time += n;
            }
        }
        *self.status.entry(k.status).or_insert(0) += n;
        *self.field.entry(k.field).or_insert(0) += n;
        if !k.ward.is_empty() {
            *self.ward.entry(k.ward).or_insert(0) += n;
        }
        *self.unit.entry(k.unit).or_insert(0) += n;
        *self.weeks.entry((k.day - first_day) / 7).or_insert(0) += n;
    }

    fn finish(mut self, first_day: i64) -> Stats {
        self.s.by_status = ranked(self.status, 20);
        self.s.by_field = ranked(self.field, 100);
        self.s.by_ward = ranked(self.ward, 20);
        self.s.by_unit = ranked(self.unit, 20);
        let mut by_week: Vec<(i64, i64)> = self
            .weeks
            .into_iter()
            .map(|(w, n)| ((first_day + 7 * w) * DAY_MS - LOCAL_OFFSET_MS, n))
            .collect();
        by_week.sort();
        self.s.by_week = by_week;
        self.s
    }
}

/// The local days `[first, end)` that cover `[from, to)`.
fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> (i64, i64) {
    (local_day(ms(from)), local_day(ms(to) - 1) + 1)
}

impl Store {
    /// Statistics over reports filed in `[from, to)`, widened to whole local days.
    /// Rejected reports are left out, as on every public page, and so are merged
    /// duplicates (the problem counts once, as its original). The database sums the counts
    /// (four independent queries, side by side on the reader pool), so only a few hundred
    /// rows come back even for a year.
    pub async fn stats(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Stats> {
        let (first, end) = days(from, to);
        const RANGE: &str = "FROM report_counts WHERE day >= $1 AND day < $2";
        let by_field_status = format!(
            "SELECT field, status, on_time, CAST(SUM(n) AS BIGINT) {RANGE} GROUP BY field, status, on_time"
        );
        let top = |col: &str| {
            format!(
                "SELECT {col}, CAST(SUM(n) AS BIGINT) {RANGE} AND {COUNTED} AND {col} <> '' \
                 GROUP BY {col} HAVING SUM(n) > 0 ORDER BY 2 DESC, 1 LIMIT 20"
            )
        };
        let weeks = format!(
            "SELECT (day - $1) / 7, CAST(SUM(n) AS BIGINT) {RANGE} AND {COUNTED} GROUP BY 1 ORDER BY 1"
        );
        let read = &self.read;
        let (top_ward, top_unit) = (top("ward"), top("unit"));
        let (cells, wards, units, by_week) = tokio::try_join!(
            sqlx::query_as::<_, (String, String, i64, i64)>(&by_field_status)
                .bind(first)
                .bind(end)
                .fetch_all(read),
            sqlx::query_as::<_, (String, i64)>(&top_ward)
                .bind(first)
                .bind(end)
                .fetch_all(read),
            sqlx::query_as::<_, (String, i64)>(&top_unit)
                .bind(first)
                .bind(end)
                .fetch_all(read),
            sqlx::query_as::<_, (i64, i64)>(&weeks)
                .bind(first)
                .bind(end)
                .fetch_all(read),
        )?;
        let mut t = Tally::default();
        for (field, status, on_time, n) in cells {
            let key = CountKey {
                day: first,
                field,
                ward: String::new(),
                unit: String::new(),
                status,
                on_time: on_time != 0,
            };
            t.add(first, key, n);
        }
        let mut s = t.finish(first);
        s.by_ward = wards;
        s.by_unit = units;
        s.by_week = by_week
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(w, n)| ((first + 7 * w) * DAY_MS - LOCAL_OFFSET_MS, n))
            .collect();
        Ok(s)
    }

    /// Per ward, over reports filed in `[from, to)` (whole local days, rejected left out):
    /// (ward code, reports, finished, finished on time). Every ward with a report.
    pub async fn ward_figures(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, i64, i64, i64)>> {
        let (first, end) = days(from, to);
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT ward, status, on_time, CAST(SUM(n) AS BIGINT) FROM report_counts \
             WHERE day >= $1 AND day < $2 AND status <> 'rejected' AND ward <> '' \
             GROUP BY ward, status, on_time",
        )
        .bind(first)
        .bind(end)
        .fetch_all(&self.read)
        .await?;
        let mut by: HashMap<String, (i64, i64, i64)> = HashMap::new();
        for (ward, status, on_time, n) in rows {
            let e = by.entry(ward).or_default();
            e.0 += n;
            if matches!(status.as_str(), "resolved" | "closed") {
                e.1 += n;
                if on_time != 0 {
                    e.2 += n;
                }
            }
        }
        let mut out: Vec<(String, i64, i64, i64)> =
            by.into_iter().map(|(w, (a, b, c))| (w, a, b, c)).collect();
        out.sort();
        Ok(out)
    }

    /// The same statistics computed from the reports themselves, row by row: what
    /// `report_counts` must always agree with (the storage contract tests check it).
    pub async fn stats_from_reports(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Stats> {
        let (first, end) = days(from, to);
        let rows: Vec<(
            i64,
            String,
            Option<String>,
            String,
            String,
            Option<i64>,
            i64,
        )> = sqlx::query_as(
            "SELECT created_at, field, ward, unit, status, due_at, updated_at FROM reports \
                 WHERE created_at >= $1 AND created_at < $2",
        )
        .bind(first * DAY_MS - LOCAL_OFFSET_MS)
        .bind(end * DAY_MS - LOCAL_OFFSET_MS)
        .fetch_all(&self.read)
        .await?;
        let mut t = Tally::default();
        for (created, field, ward, unit, status, due, updated) in rows {
            let key = CountKey::of(
                created,
                &field,
                ward.as_deref(),
                &unit,
                &status,
                due,
                updated,
            );
            t.add(first, key, 1);
        }
        Ok(t.finish(first))
    }

    /// Reports filed per week and field in `[from, to)` (whole local days): (week start as
    /// unix ms, field, count), rejected ones and duplicates left out.
    pub async fn weekly_by_field(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(i64, String, i64)>> {
        let (first, end) = days(from, to);
        let sql = format!(
            "SELECT (day - $1) / 7, field, CAST(SUM(n) AS BIGINT) FROM report_counts \
             WHERE day >= $1 AND day < $2 AND {COUNTED} GROUP BY 1, 2 ORDER BY 1, 2"
        );
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(&sql)
            .bind(first)
            .bind(end)
            .fetch_all(&self.read)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(w, f, n)| ((first + 7 * w) * DAY_MS - LOCAL_OFFSET_MS, f, n))
            .collect())
    }
}
