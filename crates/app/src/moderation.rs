//! Moderation: the queue of reports waiting for review, and the moderators' steps (publish,
//! edit the public text, hide or redact a photo, hide the report). Each step is an event in
//! the history; the rules are `phananh_domain::moderation`.

use phananh_domain::access::Principal;
use phananh_domain::model::{Actor, Publication, Report};
use phananh_domain::moderation::{Step, decide};
use phananh_storage::{Page, ReportFilter};

use crate::{App, AppError};

/// A report's photos as moderators see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeratedPhoto {
    pub key: String,
    pub hidden: bool,
    /// The redacted copy the public sees instead, if any.
    pub public_copy: Option<String>,
}

impl App {
    /// Reports waiting for review, oldest first: every unit's for the triage desk and
    /// administrators, their own unit's for a unit's staff.
    pub async fn moderation_queue(
        &self,
        who: &Principal,
        offset: i64,
    ) -> Result<Page<Report>, AppError> {
        if !who.can_use_moderation_queue() {
            return Err(AppError::Forbidden);
        }
        let filter = ReportFilter {
            publication: Some(Publication::Review),
            unit: match who.role {
                phananh_domain::access::Role::UnitManager
                | phananh_domain::access::Role::UnitStaff => who.unit.clone(),
                _ => None,
            },
            limit: 50,
            offset,
            ..ReportFilter::default()
        };
        let mut page = self.store.list_reports(&filter).await?;
        page.items.reverse();
        Ok(page)
    }

    /// A report's photos with their moderation state (staff who may view the report).
    pub async fn moderated_photos(
        &self,
        who: &Principal,
        report: &Report,
    ) -> Result<Vec<ModeratedPhoto>, AppError> {
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        Ok(self
            .store
            .photos_for_moderation(report.id)
            .await?
            .into_iter()
            .map(|(key, hidden, public_copy)| ModeratedPhoto {
                key,
                hidden,
                public_copy,
            })
            .collect())
    }

    /// Takes a moderation step on report `code`. Another unit's report is not found; a role
    /// that may see but not moderate it is refused.
    pub async fn moderate(
        &self,
        who: &Principal,
        code: &str,
        step: Step,
    ) -> Result<Report, AppError> {
        let mut report = self.find(code).await?;
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        if !who.can_moderate(&report.unit) {
            return Err(AppError::Forbidden);
        }
        // A photo step names one of this report's own photos.
        let photo = match &step {
            Step::HidePhoto { photo } | Step::RedactPhoto { photo, .. } => Some(photo.clone()),
            _ => None,
        };
        if let Some(p) = &photo {
            let photos = self.store.photos_for_moderation(report.id).await?;
            if !photos.iter().any(|(k, _, _)| k == p) {
                return Err(AppError::invalid(
                    "photo",
                    "unknown_photo",
                    "Ảnh không thuộc hồ sơ này",
                    "That photo is not one of this report's",
                ));
            }
        }
        // The redacted copy is rendered before the event that names it is appended; if
        // the append fails, the copy is an orphan file, never a public one.
        let (size, copy) = match &step {
            Step::RedactPhoto { photo, boxes } => {
                let size = self.photo_size(photo).await?;
                phananh_domain::moderation::check_boxes(boxes, size).map_err(moderation_error)?;
                (size, Some(self.redacted_copy(photo, boxes).await?.key))
            }
            _ => (None, None),
        };
        let actor = Actor::staff(who.user_id, &who.name);
        let catalog = self.catalog().await;
        for _ in 0..3 {
            let events = self.store.events(report.id).await?;
            let state = self.checked_state(&report, &events)?;
            let event = decide(&state, &step, copy.as_deref(), size).map_err(moderation_error)?;
            let now = self.clock.now();
            if let Some(done) = self
                .append(&report, &actor, event, state, now, &catalog)
                .await?
            {
                return Ok(done);
            }
            report = self
                .store
                .report(report.id)
                .await?
                .ok_or(AppError::NotFound)?;
        }
        Err(AppError::Conflict("too many concurrent changes".into()))
    }
}

fn moderation_error(e: phananh_domain::moderation::ModerationError) -> AppError {
    let text = e.to_string();
    let (vi, en) = text.split_once(" / ").unwrap_or((&text, &text));
    AppError::invalid("moderation", "invalid_moderation", vi, en)
}
