//! Counts: the public statistics, the supervisors' weekly figures, and the gauges and
//! health check of operations.

use chrono::{DateTime, Utc};

use crate::performance::check_period;
use crate::query::Stats;
use crate::{App, AppError};

impl App {
    /// The public statistics of reports filed in `[from, to)` (whole local days), from the
    /// counts kept with every change. The period is capped like every period a person gives.
    pub async fn public_stats(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Stats, AppError> {
        check_period("from", from, to)?;
        Ok(self.store.stats(from, to).await?)
    }

    /// The city's wards as GeoJSON features with their figures over `[from, to)`: reports,
    /// finished, finished on time, and the on-time share (null when none finished). Public:
    /// counts only.
    pub async fn public_ward_map(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<serde_json::Value, AppError> {
        check_period("from", from, to)?;
        let figures: std::collections::HashMap<String, (i64, i64, i64)> = self
            .store
            .ward_figures(from, to)
            .await?
            .into_iter()
            .map(|(w, a, b, c)| (w, (a, b, c)))
            .collect();
        let catalog = self.catalog().await;
        let features: Vec<serde_json::Value> = catalog
            .wards
            .iter()
            .zip(&catalog.ward_geometry)
            .map(|(w, geometry)| {
                let (reports, finished, on_time) =
                    figures.get(&w.code).copied().unwrap_or_default();
                serde_json::json!({
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {
                        "code": w.code, "name": w.name_vi, "reports": reports,
                        "finished": finished, "on_time": on_time,
                        "on_time_share": (finished > 0).then(|| on_time as f64 / finished as f64),
                    },
                })
            })
            .collect();
        Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
    }

    /// Reports filed per week and field in `[from, to)` (whole local days): (week start as
    /// unix ms, field, count), rejected ones left out.
    pub async fn weekly_by_field(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(i64, String, i64)>, AppError> {
        Ok(self.store.weekly_by_field(from, to).await?)
    }

    /// Whether the database answers.
    pub async fn health(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }

    /// Reports by status, for the operations gauges: (status, count).
    pub async fn reports_by_status(&self) -> Result<Vec<(String, i64)>, AppError> {
        Ok(self.store.count_by_status().await?)
    }

    /// Jobs in the outbox by status, for the operations gauges: (status, count).
    pub async fn jobs_by_status(&self) -> Result<Vec<(String, i64)>, AppError> {
        Ok(self.store.count_jobs_by_status().await?)
    }
}
