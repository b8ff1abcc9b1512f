//! The operators' queue of messages that could not become reports by themselves.

use chrono::{DateTime, Utc};

use crate::{Result, Store, from_ms, ms};

/// A message to keep for an operator.
#[derive(Debug, Clone)]
pub struct NewUnfiled {
    /// The channel it came on ("sms", "email"...).
    pub channel: String,
    /// Who sent it: a phone number or an email address (personal data).
    pub sender: String,
    pub subject: Option<String>,
    /// The readable text.
    pub body: String,
    /// The original, as received.
    pub raw: String,
    /// Why it was not filed by itself.
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Unfiled {
    pub id: i64,
    pub channel: String,
    pub sender: String,
    pub subject: Option<String>,
    pub body: String,
    pub raw: String,
    pub reason: String,
    pub received_at: DateTime<Utc>,
    pub handled_at: Option<DateTime<Utc>>,
    pub report_code: Option<String>,
    pub note: Option<String>,
}

const COLUMNS: &str =
    "id, channel, sender, subject, body, raw, reason, received_at, handled_at, report_code, note";

type Row = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn from_row(r: Row) -> Unfiled {
    Unfiled {
        id: r.0,
        channel: r.1,
        sender: r.2,
        subject: r.3,
        body: r.4,
        raw: r.5,
        reason: r.6,
        received_at: from_ms(r.7),
        handled_at: r.8.map(from_ms),
        report_code: r.9,
        note: r.10,
    }
}

impl Store {
    pub async fn unfiled_add(&self, m: &NewUnfiled, at: DateTime<Utc>) -> Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO unfiled (channel, sender, subject, body, raw, reason, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&m.channel)
        .bind(&m.sender)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(&m.raw)
        .bind(&m.reason)
        .bind(ms(at))
        .fetch_one(&self.write)
        .await?;
        Ok(id)
    }

    /// Open items first, oldest first; handled ones after, newest first.
    pub async fn unfiled_list(&self, open_only: bool, limit: i64) -> Result<Vec<Unfiled>> {
        let filter = if open_only {
            "WHERE handled_at IS NULL"
        } else {
            ""
        };
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM unfiled {filter} \
             ORDER BY CASE WHEN handled_at IS NULL THEN 0 ELSE 1 END, \
             CASE WHEN handled_at IS NULL THEN received_at ELSE -received_at END LIMIT {}",
            limit.clamp(1, 500)
        ))
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    pub async fn unfiled(&self, id: i64) -> Result<Option<Unfiled>> {
        let row: Option<Row> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM unfiled WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(from_row))
    }

    /// Marks an item handled (filed as `report_code`, or set aside with `note`). Returns
    /// false if someone handled it first.
    pub async fn unfiled_handle(
        &self,
        id: i64,
        by: i64,
        report_code: Option<&str>,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE unfiled SET handled_at = $1, handled_by = $2, report_code = $3, note = $4 \
             WHERE id = $5 AND handled_at IS NULL",
        )
        .bind(ms(at))
        .bind(by)
        .bind(report_code)
        .bind(note)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn unfiled_open_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM unfiled WHERE handled_at IS NULL")
            .fetch_one(&self.read)
            .await?;
        Ok(n)
    }
}
