//! The open-data export: public reports as rows with no personal data and no words
//! (`phananh_domain::open_data`), read page by page in id order so an export of any size
//! streams with flat memory.

use chrono::{DateTime, Utc};
use phananh_domain::open_data::{Names, Row, row};

use crate::{App, AppError, Catalog};

/// Reports read per page of the export.
pub const PAGE: i64 = 1000;

impl Names for Catalog {
    fn field(&self, code: &str) -> String {
        self.field_name(code)
    }
    fn ward(&self, code: &str) -> String {
        self.ward_name(code)
    }
    fn unit(&self, code: &str) -> String {
        self.unit_name(code)
    }
}

impl App {
    /// The rows of the published reports after report id `after` (filed in `filed` when
    /// given), and the id to continue from (`None`: that was the last page). Public.
    pub async fn open_data_page(
        &self,
        after: i64,
        filed: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<(Vec<Row>, Option<i64>), AppError> {
        let reports = self
            .store
            .published_reports_after(after, filed, PAGE)
            .await?;
        let next = (reports.len() as i64 == PAGE)
            .then(|| reports.last().map(|r| r.id))
            .flatten();
        let ids: Vec<i64> = reports.iter().map(|r| r.id).collect();
        let mut histories: std::collections::HashMap<i64, Vec<phananh_domain::event::Event>> =
            self.store.events_of(&ids).await?.into_iter().collect();
        let catalog = self.catalog().await;
        let rows = reports
            .iter()
            .map(|r| row(r, &histories.remove(&r.id).unwrap_or_default(), &*catalog))
            .collect();
        Ok((rows, next))
    }

    /// Every unit's figures for the accounts opened in `[from, to)`, ranked by on-time
    /// share (units with nothing resolved last): the public monthly ranking. Only counts
    /// and shares, the same figures the City People's Committee gets.
    pub async fn public_unit_ranking(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<phananh_domain::performance::UnitFigures>, AppError> {
        let mut all = self
            .unit_performance(&crate::committee::committee_principal(), from, to)
            .await?;
        all.retain(|f| f.received > 0 || f.resolved > 0);
        all.sort_by(|a, b| {
            let share =
                |f: &phananh_domain::performance::UnitFigures| f.on_time_share().unwrap_or(-1.0);
            share(b)
                .total_cmp(&share(a))
                .then(b.resolved.cmp(&a.resolved))
                .then(a.unit.cmp(&b.unit))
        });
        Ok(all)
    }
}
