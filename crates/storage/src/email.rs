//! Emails received for the 1022 address. The reader (IMAP or the SMTP listener) keeps
//! each message whole with a job to process it, in one transaction, before it tells the
//! mailbox the message was read (or answers 250): a crash loses nothing, and a message
//! fetched twice is kept once (the Message-ID is unique).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use crate::jobs::{NewJob, insert_job};
use crate::{Result, Store, ms};

/// A kept email.
#[derive(Debug, Clone)]
pub struct InboundEmail {
    pub id: i64,
    pub message_id: String,
    pub source: String,
    /// The size as received, in bytes.
    pub size: i64,
    /// The message, or only its headers when it was too large to keep (`truncated`).
    pub raw: Vec<u8>,
    pub truncated: bool,
    pub processed: bool,
}

/// id, message_id, source, size, raw, truncated, processed_at.
type Row = (i64, String, String, i64, String, i64, Option<i64>);

impl Store {
    /// Keeps an email and queues its processing. Returns its id, or `None` when a
    /// message with this Message-ID was kept already.
    pub async fn email_receive(
        &self,
        message_id: &str,
        source: &str,
        size: usize,
        raw: &[u8],
        truncated: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write.begin().await?;
        let id: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO email_inbox (message_id, source, size, raw, truncated, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING RETURNING id",
        )
        .bind(message_id)
        .bind(source)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(STANDARD.encode(raw))
        .bind(i64::from(truncated))
        .bind(ms(now))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = id {
            let mut job = NewJob::new("email.inbound", serde_json::json!({ "id": id }), now);
            job.dedupe_key = Some(format!("email.inbound:{id}"));
            insert_job(&mut tx, &job).await?;
        }
        tx.commit().await?;
        Ok(id.map(|(id,)| id))
    }

    pub async fn email_get(&self, id: i64) -> Result<Option<InboundEmail>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, message_id, source, size, raw, truncated, processed_at \
             FROM email_inbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| InboundEmail {
            id: r.0,
            message_id: r.1,
            source: r.2,
            size: r.3,
            raw: STANDARD.decode(r.4.as_bytes()).unwrap_or_default(),
            truncated: r.5 != 0,
            processed: r.6.is_some(),
        }))
    }

    /// Records what became of an email ("report ABCD-2345", "unfiled 12: …").
    pub async fn email_done(&self, id: i64, outcome: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE email_inbox SET processed_at = $1, outcome = $2 WHERE id = $3")
            .bind(ms(now))
            .bind(outcome)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// What became of the email with this Message-ID, if it was processed.
    pub async fn email_outcome(&self, message_id: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT outcome FROM email_inbox WHERE message_id = $1")
                .bind(message_id)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.and_then(|r| r.0))
    }
}
