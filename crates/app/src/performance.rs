//! The supervisors' view of the units: figures folded from the report histories.

use chrono::{DateTime, Utc};
use phananh_domain::access::Principal;
use phananh_domain::performance::{UnitFigures, accounts_with, figures};

use crate::{App, AppError};

/// The kinds of events a unit's account is made of (see `phananh_domain::performance`).
const ACCOUNT_EVENTS: &[&str] = &[
    "created",
    "staff_assigned",
    "started",
    "assigned",
    "transferred",
    "returned_to_triage",
    "info_requested",
    "info_provided",
    "resolved",
    "rejected",
    "reopened",
    "rated",
    "marked_duplicate",
    "duplicate_undone",
    // An urgent mark shortens the deadline the unit is held to.
    "marked_urgent",
];

/// The longest period any figure, list or report may cover: five years. A longer one
/// (`from=0001-01-01`) would tie up the database for nothing anybody reads.
pub const MAX_PERIOD_DAYS: i64 = 5 * 366;

/// Checks a period `[from, to)` given by a person: not longer than [`MAX_PERIOD_DAYS`]
/// (a reversed period is empty, and costs nothing). `field` names the input in the error ("from", "start_date").
pub fn check_period(field: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), AppError> {
    if to - from > chrono::Duration::days(MAX_PERIOD_DAYS) {
        return Err(AppError::invalid(
            field,
            "period_too_long",
            "Khoảng thời gian dài quá 5 năm, vui lòng chọn ngắn hơn",
            "The period is longer than 5 years; choose a shorter one",
        ));
    }
    Ok(())
}

impl App {
    /// Every unit's figures for accounts opened in `[from, to)`, as of now. Supervisors,
    /// administrators and the oversight body see all units; a unit manager their own.
    pub async fn unit_performance(
        &self,
        who: &Principal,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<UnitFigures>, AppError> {
        let only = match who.performance_scope() {
            Some(only) => only.map(str::to_string),
            None => return Err(AppError::Forbidden),
        };
        check_period("from", from, to)?;
        let ids = self.store.reports_with_unit_activity(from, to).await?;
        let catalog = self.catalog().await;
        // Each field's hours to acknowledge, counted in working hours.
        let ack = |field: &str, at| {
            let hours = catalog
                .field(field)
                .map(|f| f.ack_hours)
                .filter(|h| *h > 0)?;
            Some(catalog.calendar.add_working_hours(at, hours))
        };
        // Chunks read side by side on the reader pool; folding is cheap next to reading.
        let mut reads = Vec::new();
        for chunk in ids.chunks(5000) {
            let store = self.store.clone();
            let chunk = chunk.to_vec();
            reads.push(tokio::spawn(async move {
                store.events_of_kinds(&chunk, ACCOUNT_EVENTS).await
            }));
        }
        let mut all = Vec::new();
        for read in reads {
            let histories = read
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
            for (_, history) in histories {
                all.extend(accounts_with(&history, ack));
            }
        }
        let mut out = figures(all, from, to, self.clock.now());
        if let Some(unit) = only {
            out.retain(|f| f.unit == unit);
        }
        Ok(out)
    }

    /// One unit's figures week by week over `[from, to)` (the on-time trend).
    pub async fn unit_trend(
        &self,
        who: &Principal,
        unit: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, UnitFigures)>, AppError> {
        check_period("from", from, to)?;
        let mut out = Vec::new();
        let mut start = from;
        while start < to {
            let end = (start + chrono::Duration::days(7)).min(to);
            let week = self.unit_performance(who, start, end).await?;
            let f = week
                .into_iter()
                .find(|f| f.unit == unit)
                .unwrap_or_else(|| UnitFigures {
                    unit: unit.to_string(),
                    ..Default::default()
                });
            out.push((start, f));
            start = end;
        }
        Ok(out)
    }

    /// Satisfaction by field in a period: (field, ratings, average).
    pub async fn satisfaction_by_field(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, usize, f64)>, AppError> {
        let mut by: std::collections::BTreeMap<String, (usize, u32)> = Default::default();
        for (_, field, score, _) in self.store.ratings_with_fields(from, to).await? {
            let e = by.entry(field).or_default();
            e.0 += 1;
            e.1 += score as u32;
        }
        Ok(by
            .into_iter()
            .map(|(f, (n, sum))| (f, n, sum as f64 / n as f64))
            .collect())
    }

    /// The citizens' scores in a period: (ratings, average, share "not fixed"). Public.
    pub async fn satisfaction(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(usize, Option<f64>, Option<f64>), AppError> {
        let r = self.store.ratings_between(from, to).await?;
        let n = r.len();
        if n == 0 {
            return Ok((0, None, None));
        }
        let avg = r.iter().map(|(_, s, _)| *s as f64).sum::<f64>() / n as f64;
        let not_fixed = r.iter().filter(|(_, _, f)| !f).count() as f64 / n as f64;
        Ok((n, Some(avg), Some(not_fixed)))
    }
}
