//! Citizens following a report: "this is the same problem" instead of a second report.
//! Their contacts are personal data, kept apart from the public record like `reporters`.

use chrono::{DateTime, Utc};

use phananh_domain::jobs::ReportRef;

use crate::jobs::{NewJob, insert_job};
use crate::{Result, Store, from_ms, ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follower {
    pub id: i64,
    pub report_id: i64,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Secret of the unsubscribe link.
    pub token: String,
    pub created_at: DateTime<Utc>,
    /// The reporter of this duplicate (merged into the report) follows it: they hear on
    /// their own channel (email, SMS, chat), and have no contact of their own here.
    pub duplicate_id: Option<i64>,
}

/// What following did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowOutcome {
    /// Counted, no email: nothing to confirm.
    Counted,
    /// A new (or renewed) subscription waits for its confirmation; the job was queued.
    ConfirmationSent { follower_id: i64 },
    /// This address already follows the report, or already has a link waiting: nothing
    /// was sent (so the form cannot be used to flood someone's mailbox).
    NothingSent,
}

impl Store {
    /// Records a follower. Without an email the follower is only counted. With one, the
    /// subscription waits for the address to confirm (`confirm_token`, by the email that
    /// a `follow.confirm` job sends); an address that follows
    /// already, or has an unexpired link waiting (created at or after `pending_since`),
    /// gets nothing more. A cancelled or expired subscription starts over.
    #[allow(clippy::too_many_arguments)]
    pub async fn follow(
        &self,
        report_id: i64,
        email: Option<&str>,
        token: &str,
        confirm_token: &str,
        at: DateTime<Utc>,
        pending_since: DateTime<Utc>,
        code: &str,
    ) -> Result<FollowOutcome> {
        let mut tx = self.write.begin().await?;
        let Some(email) = email else {
            sqlx::query(
                "INSERT INTO followers (report_id, email, phone, token, created_at, confirmed_at) \
                 VALUES ($1, NULL, NULL, $2, $3, $3)",
            )
            .bind(report_id)
            .bind(token)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(FollowOutcome::Counted);
        };
        type Row = (i64, Option<i64>, Option<i64>, i64);
        let existing: Option<Row> = sqlx::query_as(
            "SELECT id, confirmed_at, cancelled_at, created_at FROM followers \
             WHERE report_id = $1 AND email = $2",
        )
        .bind(report_id)
        .bind(email)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match existing {
            Some((_, Some(_), None, _)) => return Ok(FollowOutcome::NothingSent),
            Some((_, None, None, created)) if created >= ms(pending_since) => {
                return Ok(FollowOutcome::NothingSent);
            }
            Some((id, ..)) => {
                sqlx::query(
                    "UPDATE followers SET cancelled_at = NULL, confirmed_at = NULL, \
                     confirm_token = $1, created_at = $2 WHERE id = $3",
                )
                .bind(confirm_token)
                .bind(ms(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO followers (report_id, email, phone, token, created_at, confirm_token) \
                     VALUES ($1, $2, NULL, $3, $4, $5) RETURNING id",
                )
                .bind(report_id)
                .bind(email)
                .bind(token)
                .bind(ms(at))
                .bind(confirm_token)
                .fetch_one(&mut *tx)
                .await?;
                id
            }
        };
        let job = NewJob::follow_confirm(&ReportRef::new(report_id, code), id, at);
        insert_job(&mut tx, &job, self.now()).await?;
        tx.commit().await?;
        Ok(FollowOutcome::ConfirmationSent { follower_id: id })
    }

    /// A subscription waiting for its confirmation: (report, email, confirmation token).
    pub async fn follower_to_confirm(&self, id: i64) -> Result<Option<(i64, String, String)>> {
        let row: Option<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT report_id, email, confirm_token FROM followers \
             WHERE id = $1 AND confirmed_at IS NULL AND cancelled_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.and_then(|(r, e, t)| Some((r, e?, t?))))
    }

    /// Confirms a subscription by its link's token, once: the token is spent. Links made
    /// before `valid_since` have expired. Returns the report it was for.
    pub async fn confirm_follow(
        &self,
        confirm_token: &str,
        at: DateTime<Utc>,
        valid_since: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write.begin().await?;
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, report_id FROM followers WHERE confirm_token = $1 \
             AND confirmed_at IS NULL AND cancelled_at IS NULL AND created_at >= $2",
        )
        .bind(confirm_token)
        .bind(ms(valid_since))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, report_id)) = row else {
            return Ok(None);
        };
        sqlx::query("UPDATE followers SET confirmed_at = $1, confirm_token = NULL WHERE id = $2")
            .bind(ms(at))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(report_id))
    }

    /// Deletes subscriptions never confirmed, made before `before`. Returns how many.
    pub async fn purge_unconfirmed_followers(&self, before: DateTime<Utc>) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM followers WHERE confirmed_at IS NULL AND created_at < $1")
                .bind(ms(before))
                .execute(&self.write)
                .await?;
        Ok(done.rows_affected())
    }

    /// Followers who confirmed and still want news of the report.
    pub async fn followers(&self, report_id: i64) -> Result<Vec<Follower>> {
        type Row = (
            i64,
            i64,
            Option<String>,
            Option<String>,
            String,
            i64,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, report_id, email, phone, token, created_at, duplicate_id FROM followers \
             WHERE report_id = $1 AND cancelled_at IS NULL AND confirmed_at IS NOT NULL ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, report_id, email, phone, token, at, duplicate_id)| Follower {
                    id,
                    report_id,
                    email,
                    phone,
                    token,
                    created_at: from_ms(at),
                    duplicate_id,
                },
            )
            .collect())
    }

    /// How many people said "the same problem" (a public figure; no contacts).
    pub async fn follower_count(&self, report_id: i64) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM followers WHERE report_id = $1 AND cancelled_at IS NULL \
             AND confirmed_at IS NOT NULL",
        )
        .bind(report_id)
        .fetch_one(&self.read)
        .await?;
        Ok(n)
    }

    /// Ends a subscription by its link's token; returns the report it was for.
    pub async fn unfollow(&self, token: &str, at: DateTime<Utc>) -> Result<Option<i64>> {
        let mut tx = self.write.begin().await?;
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT report_id FROM followers WHERE token = $1")
                .bind(token)
                .fetch_optional(&mut *tx)
                .await?;
        if row.is_some() {
            sqlx::query(
                "UPDATE followers SET cancelled_at = $1 WHERE token = $2 AND cancelled_at IS NULL",
            )
            .bind(ms(at))
            .bind(token)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(row.map(|(id,)| id))
    }
}
