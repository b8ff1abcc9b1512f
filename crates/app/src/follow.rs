//! "Is this the same problem?": open reports of a field near a point, and following one
//! instead of filing a second report. Followers hear of every public step by email.

use phananh_domain::model::{Report, Status};
use phananh_storage::FollowOutcome;

use crate::query::ReportQuery;

use crate::intake::valid_email;
use crate::{App, AppError};

/// How long a follower's confirmation link stays valid; unconfirmed subscriptions are
/// deleted after it.
pub const FOLLOW_CONFIRM_TTL: chrono::Duration = chrono::Duration::hours(48);

pub use phananh_domain::duplicates::distance_m;

/// An open report near the point, with how far it is.
#[derive(Debug, Clone)]
pub struct Nearby {
    pub report: Report,
    pub distance_m: f64,
}

impl App {
    /// Open reports of `field` within `radius_m` of the point, nearest first (at most 10).
    pub async fn nearby(
        &self,
        field: &str,
        lat: f64,
        lon: f64,
        radius_m: f64,
    ) -> Result<Vec<Nearby>, AppError> {
        if !(lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(AppError::invalid(
                "location",
                "invalid_position",
                "Vị trí không hợp lệ",
                "Invalid position",
            ));
        }
        let radius = radius_m.clamp(10.0, 2_000.0);
        let dlat = radius / 111_320.0;
        let dlon = radius / (111_320.0 * lat.to_radians().cos().max(0.01));
        let filter = ReportQuery {
            field: Some(field.to_string()),
            statuses: Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
            bbox: Some([lon - dlon, lat - dlat, lon + dlon, lat + dlat]),
            limit: 200,
            ..Default::default()
        };
        let page = self.public_list(filter).await?;
        let mut out: Vec<Nearby> = page
            .items
            .into_iter()
            .filter_map(|r| {
                let d = distance_m((lat, lon), (r.lat?, r.lon?));
                (d <= radius).then_some(Nearby {
                    report: r,
                    distance_m: d,
                })
            })
            .collect();
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        out.truncate(10);
        Ok(out)
    }

    /// "The same problem": the citizen follows the report, with an email to hear of each
    /// step, or without, just to be counted. An email must confirm first (double opt-in):
    /// a `follow.confirm` job mails it a link, and nothing else is sent to it until the link
    /// is used. The answer does not say whether the address followed already.
    pub async fn follow(&self, code: &str, email: Option<&str>) -> Result<FollowOutcome, AppError> {
        let report = self.find(code).await?;
        if !report.status.is_published() {
            return Err(AppError::NotFound);
        }
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_lowercase);
        if let Some(e) = &email
            && !valid_email(e)
        {
            return Err(AppError::invalid(
                "email",
                "invalid_email",
                "Địa chỉ email không hợp lệ",
                "The email address is not valid",
            ));
        }
        let now = self.clock.now();
        let outcome = self
            .store
            .follow(
                report.id,
                email.as_deref(),
                &crate::auth::random_token(),
                &crate::auth::random_token(),
                now,
                now - FOLLOW_CONFIRM_TTL,
                &report.code,
            )
            .await?;
        if matches!(outcome, FollowOutcome::ConfirmationSent { .. }) {
            self.jobs_queued.notify_one();
        }
        Ok(outcome)
    }

    /// Confirms a subscription from the link in its email (once, before it expires);
    /// returns the report's code.
    pub async fn confirm_follow(&self, token: &str) -> Result<String, AppError> {
        let now = self.clock.now();
        let id = self
            .store
            .confirm_follow(token, now, now - FOLLOW_CONFIRM_TTL)
            .await?
            .ok_or(AppError::NotFound)?;
        let report = self.store.report(id).await?.ok_or(AppError::NotFound)?;
        Ok(report.code)
    }

    /// Deletes subscriptions whose confirmation link expired unused. Returns how many.
    pub async fn purge_unconfirmed_followers(&self) -> Result<u64, AppError> {
        Ok(self
            .store
            .purge_unconfirmed_followers(self.clock.now() - FOLLOW_CONFIRM_TTL)
            .await?)
    }

    /// Ends a subscription from the link in an email; returns the report's code.
    pub async fn unfollow(&self, token: &str) -> Result<String, AppError> {
        let id = self
            .store
            .unfollow(token, self.clock.now())
            .await?
            .ok_or(AppError::NotFound)?;
        let report = self.store.report(id).await?.ok_or(AppError::NotFound)?;
        Ok(report.code)
    }
}

/// The job that tells the citizen (and the followers) about event `seq` of a report, on
/// the channel they used. The worker decides who hears what; one job per event. The
/// report is filled in by the caller ([`phananh_storage::NewJob::for_report`]).
pub fn citizen_job(
    event: &phananh_domain::event::EventKind,
    seq: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<phananh_storage::NewJob> {
    use phananh_domain::event::EventKind as E;
    let worth_telling = match event {
        E::Created { .. } => true,
        E::Started | E::StaffAssigned { .. } => false,
        // Written on the original by a merge: its own people need not hear of it.
        E::DuplicateLinked { .. } | E::DuplicateUnlinked { .. } => false,
        E::Commented { public, .. } => *public,
        other => other.is_public(),
    };
    worth_telling.then(|| phananh_storage::NewJob::citizen_notify(seq, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citizens_hear_of_public_steps_only() {
        use phananh_domain::event::EventKind as E;
        let now = chrono::Utc::now();
        assert!(citizen_job(&E::Started, 3, now).is_none());
        assert!(citizen_job(&E::StaffAssigned { assignee: None }, 3, now).is_none());
        let j = citizen_job(
            &E::Resolved {
                note: "xong".into(),
                photo: None,
                distance_m: None,
            },
            4,
            now,
        )
        .unwrap();
        assert_eq!(j.kind, "citizen.notify");
        assert_eq!(j.dedupe_key.as_deref(), Some("citizen.notify:{report}:4"));
    }
}
