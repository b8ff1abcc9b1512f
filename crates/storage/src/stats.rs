//! Counts for the public statistics page, straight from the reports table (no personal
//! data is involved).

use chrono::{DateTime, Utc};

use crate::{Result, Store, ms};

#[derive(Debug, Clone, Default)]
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

const WEEK_MS: i64 = 7 * 86_400_000;

impl Store {
    /// Statistics over reports filed in `[from, to)`.
    pub async fn stats(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Stats> {
        let (f, t) = (ms(from), ms(to));
        let group = |col: &str, limit: i64| {
            format!(
                "SELECT {col}, COUNT(*) FROM reports WHERE created_at >= $1 AND created_at < $2 \
                 AND status <> 'rejected' AND {col} IS NOT NULL GROUP BY {col} ORDER BY 2 DESC, 1 LIMIT {limit}"
            )
        };
        let q = |sql: String| {
            let read = self.read.clone();
            async move {
                sqlx::query_as::<_, (String, i64)>(&sql)
                    .bind(f)
                    .bind(t)
                    .fetch_all(&read)
                    .await
            }
        };
        // Independent scans: run them side by side on the reader pool.
        let (by_status, by_field, by_ward, by_unit) = tokio::try_join!(
            q(group("status", 20)),
            q(group("field", 100)),
            q(group("ward", 20)),
            q(group("unit", 20)),
        )?;
        let (finished, on_time): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_at IS NOT NULL AND updated_at <= due_at THEN 1 ELSE 0 END), 0) \
             FROM reports WHERE created_at >= $1 AND created_at < $2 AND status IN ('resolved', 'closed')",
        )
        .bind(f)
        .bind(t)
        .fetch_one(&self.read)
        .await?;
        // Weeks counted from the start of the period; integer division works on both backends.
        let by_week: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT (created_at - $1) / $3, COUNT(*) FROM reports WHERE created_at >= $1 AND created_at < $2 \
             AND status <> 'rejected' GROUP BY 1 ORDER BY 1",
        )
        .bind(f)
        .bind(t)
        .bind(WEEK_MS)
        .fetch_all(&self.read)
        .await?;
        Ok(Stats {
            total: by_status.iter().map(|(_, n)| n).sum(),
            by_status,
            by_field,
            by_ward,
            by_unit,
            finished,
            finished_on_time: on_time,
            by_week: by_week
                .into_iter()
                .map(|(w, n)| (f + w * WEEK_MS, n))
                .collect(),
        })
    }
}
