//! What callers ask of the data, in their own terms: a [`ReportQuery`] for lists, which
//! `app` turns into the store's filter, and the plain value types the answers come in.
//! Callers (the web layer, channels) never build storage types.

use chrono::{DateTime, Utc};
use phananh_domain::model::Status;
use phananh_storage::ReportFilter;

use crate::{App, AppError};

/// Plain values in the answers of the use cases (rows, pages, outcomes). Re-exported so
/// that callers need not depend on the store.
pub use phananh_storage::{
    ApiKey, Call, FollowOutcome, Job, Page, Stats, UNVERIFIED_SENDER, Unfiled, User,
};

/// Which reports a list shows. Every criterion narrows the list; an empty one does not.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub unit: Option<String>,
    pub statuses: Vec<Status>,
    pub field: Option<String>,
    pub ward: Option<String>,
    /// Only open reports whose due date is before this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    /// [min lon, min lat, max lon, max lat]
    pub bbox: Option<[f64; 4]>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub updated_from: Option<DateTime<Utc>>,
    pub updated_to: Option<DateTime<Utc>>,
    /// Only these tracking codes (empty: any).
    pub codes: Vec<String>,
    /// Only these fields (empty: any), on top of `field`.
    pub fields: Vec<String>,
    /// Leave out reports that are not published (public lists; see `Status::is_published`).
    pub hide_rejected: bool,
    /// Urgent cases first (the staff queues).
    pub urgent_first: bool,
    /// Only reports assigned to this staff member.
    pub assignee: Option<i64>,
    /// The soonest deadline first.
    pub due_first: bool,
    pub limit: i64,
    pub offset: i64,
}

impl From<ReportQuery> for ReportFilter {
    fn from(q: ReportQuery) -> ReportFilter {
        ReportFilter {
            unit: q.unit,
            statuses: q.statuses,
            field: q.field,
            ward: q.ward,
            overdue_at: q.overdue_at,
            bbox: q.bbox,
            created_from: q.created_from,
            created_to: q.created_to,
            updated_from: q.updated_from,
            updated_to: q.updated_to,
            codes: q.codes,
            fields: q.fields,
            hide_rejected: q.hide_rejected,
            publication: None,
            urgent_first: q.urgent_first,
            assignee: q.assignee,
            due_first: q.due_first,
            limit: q.limit,
            offset: q.offset,
        }
    }
}

impl App {
    /// How many people follow a report (its "the same problem" count). Public.
    pub async fn follower_count(&self, report_id: i64) -> Result<i64, AppError> {
        Ok(self.store.follower_count(report_id).await?)
    }

    /// The calls a report came from. They carry the caller's number: only for people who
    /// may see the report's personal data.
    pub async fn report_calls(
        &self,
        who: &phananh_domain::access::Principal,
        report_id: i64,
    ) -> Result<Vec<Call>, AppError> {
        if !who.sees_personal_data() {
            return Ok(Vec::new());
        }
        Ok(self.store.calls_of_report(report_id).await?)
    }

    /// The active staff of a unit (whom a report there may be given to).
    pub async fn unit_staff(&self, unit: &str) -> Result<Vec<User>, AppError> {
        Ok(self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active && u.unit.as_deref() == Some(unit))
            .collect())
    }
}
