//! What the public sees of reports. One definition of a published report
//! ([`Status::is_published`]) and one projection, used by every public view: the status
//! page, the JSON API, Open311, the map and the lists, the chat and SMS look-ups.

use phananh_domain::event::Event;
use phananh_domain::model::{ActorKind, Report, ReportExtra};
use phananh_storage::{Page, ReportFilter};

use crate::query::ReportQuery;

use crate::{App, AppError};
use phananh_domain::profile::Field;

/// The record as the public may see it: never the typed address (it may name people), the
/// answers to questions of its `field` marked private (`Attribute::private`) or who in the
/// unit works on it; for a report that is not published, only that it exists, where it
/// stands and its dates (its reporter looks it up by code to learn why it was rejected), not
/// its content or place.
pub fn project(mut r: Report, field: Option<&Field>) -> Report {
    r.address = None;
    r.assignee = None;
    if let Some(field) = field {
        r.extra.attributes.retain(|code, _| {
            !field
                .attributes
                .iter()
                .any(|a| &a.code == code && a.private)
        });
    }
    // Waiting for review, or hidden by a moderator: the field, ward, status, dates and map
    // point stay public (the citizen follows the report), its words do not.
    if r.publication != phananh_domain::model::Publication::Published {
        r.description = String::new();
        r.extra = ReportExtra::default();
    } else if let Some(text) = r.public_text.take() {
        r.description = text;
    }
    r.public_text = None;
    if !r.status.is_published() {
        r.description = String::new();
        r.lat = None;
        r.lon = None;
        r.ward = None;
        r.duplicate_of = None;
        r.extra = ReportExtra::default();
    }
    r
}

/// The public part of a history: the events the public may see, without the words that
/// were not written for the public (see `EventKind::visibility`) and without staff names.
pub fn public_events(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .filter_map(|mut e| {
            e.kind = e.kind.public_view()?;
            if e.actor.kind == ActorKind::Staff {
                e.actor.id = None;
                e.actor.name = None;
            }
            Some(e)
        })
        .collect()
}

impl App {
    /// The public view of one report: the projected record and its public history.
    pub async fn public_report(&self, code: &str) -> Result<(Report, Vec<Event>), AppError> {
        let report = self.find(code).await?;
        let events = public_events(self.store.events(report.id).await?);
        let catalog = self.catalog().await;
        let field = catalog.field(&report.field);
        Ok((project(report, field), events))
    }

    /// The photos the public may see with a report (none for one that is not published).
    pub async fn public_photos(&self, report: &Report) -> Result<Vec<String>, AppError> {
        if !report.content_is_public() {
            return Ok(Vec::new());
        }
        Ok(self.store.public_photo_keys(report.id).await?)
    }

    /// The first photo the public may see of each report that has one (none for reports
    /// that are not published), by report id, in one query.
    pub async fn public_first_photos(
        &self,
        reports: &[Report],
    ) -> Result<std::collections::HashMap<i64, String>, AppError> {
        let ids: Vec<i64> = reports
            .iter()
            .filter(|r| r.content_is_public())
            .map(|r| r.id)
            .collect();
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        Ok(self.store.first_photo_keys(&ids).await?)
    }

    /// The public histories of several reports (one query), in their order.
    pub async fn public_histories(&self, reports: &[Report]) -> Result<Vec<Vec<Event>>, AppError> {
        let ids: Vec<i64> = reports.iter().map(|r| r.id).collect();
        let mut all: std::collections::HashMap<i64, Vec<Event>> =
            self.store.events_of(&ids).await?.into_iter().collect();
        Ok(ids
            .iter()
            .map(|id| public_events(all.remove(id).unwrap_or_default()))
            .collect())
    }

    /// Published reports matching `filter`, projected: whatever the caller asked, reports
    /// that are not published are left out.
    pub async fn public_list(&self, query: ReportQuery) -> Result<Page<Report>, AppError> {
        let mut filter = ReportFilter::from(query);
        filter.hide_rejected = true;
        let asked = !filter.statuses.is_empty();
        filter.statuses.retain(|s| s.is_published());
        if asked && filter.statuses.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                has_more: false,
            });
        }
        let mut page = self.store.list_reports(&filter).await?;
        let catalog = self.catalog().await;
        page.items = page
            .items
            .into_iter()
            .map(|r| {
                let field = catalog.field(&r.field);
                project(r, field)
            })
            .collect();
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phananh_domain::model::{Publication, Status};

    #[test]
    fn rejected_reports_keep_only_their_status() {
        let r = Report {
            id: 1,
            code: "K7QM-3XP9".into(),
            field: "roads".into(),
            description: "Nhà ông A số 5 ...".into(),
            lat: Some(10.7),
            lon: Some(106.7),
            address: Some("5 Lê Lợi".into()),
            ward: Some("W1".into()),
            channel: phananh_domain::model::Channel::Web,
            status: Status::Rejected,
            unit: "TRIAGE".into(),
            assignee: Some(4),
            due_at: None,
            paused_at: None,
            duplicate_of: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            last_seq: 2,
            extra: ReportExtra::default(),
            publication: Publication::Published,
            public_text: None,
            urgent: false,
        };
        let p = project(r.clone(), None);
        assert!(p.description.is_empty() && p.lat.is_none() && p.ward.is_none());
        assert!(p.address.is_none() && p.assignee.is_none());
        let mut extra = ReportExtra::default();
        extra
            .attributes
            .insert("meter".into(), vec!["PB0123456".into()]);
        extra.attributes.insert("pole".into(), vec!["HL-12".into()]);
        let open = Report {
            status: Status::New,
            extra,
            ..r
        };
        let question = |code: &str, private: bool| phananh_domain::profile::Attribute {
            code: code.into(),
            datatype: "string".into(),
            required: false,
            description_vi: code.into(),
            description_en: code.into(),
            order: 0,
            values: vec![],
            private,
        };
        let field = Field {
            code: "roads".into(),
            name_vi: "Đường".into(),
            name_en: "Roads".into(),
            icon: String::new(),
            ack_hours: 8,
            resolve_days: 5,
            keywords: vec![],
            attributes: vec![question("meter", true), question("pole", false)],
            review: false,
            urgent: false,
            urgent_hours: 4,
            urgent_keywords: vec![],
            duplicate_radius_m: 150,
        };
        let p = project(open.clone(), Some(&field));
        assert_eq!(p.description, "Nhà ông A số 5 ...");
        assert!(p.address.is_none(), "the typed address is never public");
        assert!(
            !p.extra.attributes.contains_key("meter"),
            "a private answer"
        );
        assert_eq!(p.extra.attributes["pole"], vec!["HL-12"]);
        let p = project(open, None);
        assert_eq!(
            p.extra.attributes.len(),
            2,
            "no field: nothing known private"
        );
    }
}
