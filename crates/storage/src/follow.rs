//! Citizens following a report: "this is the same problem" instead of a second report.
//! Their contacts are personal data, kept apart from the public record like `reporters`.

use chrono::{DateTime, Utc};

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
}

impl Store {
    /// Records a follower. Following again with the same email renews the subscription
    /// (and keeps its first token); returns the follower's token.
    pub async fn follow(
        &self,
        report_id: i64,
        email: Option<&str>,
        phone: Option<&str>,
        token: &str,
        at: DateTime<Utc>,
    ) -> Result<String> {
        let mut tx = self.write.begin().await?;
        if let Some(email) = email {
            let existing: Option<(String,)> =
                sqlx::query_as("SELECT token FROM followers WHERE report_id = $1 AND email = $2")
                    .bind(report_id)
                    .bind(email)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((token,)) = existing {
                sqlx::query(
                    "UPDATE followers SET cancelled_at = NULL, phone = COALESCE($1, phone) \
                     WHERE report_id = $2 AND email = $3",
                )
                .bind(phone)
                .bind(report_id)
                .bind(email)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(token);
            }
        }
        sqlx::query(
            "INSERT INTO followers (report_id, email, phone, token, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(report_id)
        .bind(email)
        .bind(phone)
        .bind(token)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token.to_string())
    }

    /// Followers who still want news of the report.
    pub async fn followers(&self, report_id: i64) -> Result<Vec<Follower>> {
        let rows: Vec<(i64, i64, Option<String>, Option<String>, String, i64)> = sqlx::query_as(
            "SELECT id, report_id, email, phone, token, created_at FROM followers \
             WHERE report_id = $1 AND cancelled_at IS NULL ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, report_id, email, phone, token, at)| Follower {
                id,
                report_id,
                email,
                phone,
                token,
                created_at: from_ms(at),
            })
            .collect())
    }

    /// How many people said "the same problem" (a public figure; no contacts).
    pub async fn follower_count(&self, report_id: i64) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM followers WHERE report_id = $1 AND cancelled_at IS NULL",
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
