//! Duplicates: the same problem reported twice (from any channel). Staff see a report's
//! likely duplicates, close one as a duplicate of the other and undo that. A merge is one
//! event on the duplicate, written with its links in one transaction: the duplicate's
//! reporter follows the original (and hears of it on their own channel), its photos are
//! linked to the original, and the statistics count the problem once.

use phananh_domain::access::Principal;
use phananh_domain::duplicates::{DEFAULT_RADIUS_M, Likely, bbox, likely_duplicates};
use phananh_domain::model::{Report, Status};
use phananh_storage::ReportFilter;

use crate::{App, AppError};

impl App {
    /// The likely duplicates of report `code` (see [`phananh_domain::duplicates`]) that this
    /// person may see, nearest first; not found outside their unit.
    pub async fn likely_duplicates(
        &self,
        who: &Principal,
        code: &str,
    ) -> Result<Vec<Likely>, AppError> {
        let report = self.find(code).await?;
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        let (Some(lat), Some(lon)) = (report.lat, report.lon) else {
            return Ok(Vec::new());
        };
        let radius = self
            .catalog()
            .await
            .field(&report.field)
            .map_or(DEFAULT_RADIUS_M, |f| f.duplicate_radius_m);
        let filter = ReportFilter {
            bbox: Some(bbox(lat, lon, f64::from(radius))),
            fields: vec![report.field.clone()],
            statuses: Status::ALL
                .into_iter()
                .filter(|s| !matches!(s, Status::Rejected | Status::Duplicate))
                .collect(),
            unit: who.scope().map(str::to_string),
            limit: 500,
            ..Default::default()
        };
        let near = self.store.list_reports(&filter).await?.items;
        let mut found = likely_duplicates(&report, near, radius, self.clock.now());
        found.truncate(20);
        Ok(found)
    }

    /// The reports merged into report `code` that this person may see (the original's page
    /// lists them).
    pub async fn merged_duplicates(
        &self,
        who: &Principal,
        report: &Report,
    ) -> Result<Vec<Report>, AppError> {
        Ok(self
            .store
            .duplicates_of(&report.code)
            .await?
            .into_iter()
            .filter(|r| who.can_view(&r.unit))
            .collect())
    }

    /// Checks the original of a merge of `duplicate` into `of` and returns its tracking
    /// code as stored. The original must exist and be visible to this person, be another
    /// report, neither rejected nor itself a duplicate; and a report that others are merged
    /// into is not merged itself (no chains, no circles).
    pub(crate) async fn check_original(
        &self,
        who: &Principal,
        duplicate: &Report,
        of: &str,
    ) -> Result<String, AppError> {
        let refuse = |code: &str, vi: &str, en: &str| AppError::invalid("of", code, vi, en);
        let original = match self.find(of).await {
            Ok(r) if who.can_view(&r.unit) => r,
            Ok(_) | Err(AppError::NotFound) => {
                return Err(refuse(
                    "unknown_original",
                    "Không tìm thấy hồ sơ gốc",
                    "The original report was not found",
                ));
            }
            Err(e) => return Err(e),
        };
        if original.id == duplicate.id {
            return Err(refuse(
                "same_report",
                "Không thể đánh dấu hồ sơ trùng với chính nó",
                "A report cannot be a duplicate of itself",
            ));
        }
        match original.status {
            Status::Duplicate => {
                return Err(refuse(
                    "original_is_duplicate",
                    "Hồ sơ gốc cũng là hồ sơ trùng; hãy chọn hồ sơ mà nó trùng với",
                    "The original is itself a duplicate; choose the report it duplicates",
                ));
            }
            Status::Rejected => {
                return Err(refuse(
                    "original_rejected",
                    "Hồ sơ gốc đã bị từ chối",
                    "The original report was rejected",
                ));
            }
            _ => {}
        }
        if !self.store.duplicates_of(&duplicate.code).await?.is_empty() {
            return Err(refuse(
                "has_duplicates",
                "Đã có hồ sơ khác gộp vào hồ sơ này; hãy hủy các lần gộp đó trước",
                "Other reports are merged into this one; undo those merges first",
            ));
        }
        Ok(original.code)
    }
}
