//! Emails received for the 1022 address. The reader (IMAP or the SMTP listener) keeps
//! each message whole with a job to process it, in one transaction, before it tells the
//! mailbox the message was read (or answers 250): a crash loses nothing, and a message
//! fetched twice is kept once (the Message-ID is unique).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use crate::jobs::{NewJob, insert_job};
use crate::{Result, Store, from_ms, ms};

/// How the reasons of unfiled emails whose sender could not be authenticated begin: the
/// console does not offer such a sender as the reporter's address.
pub const UNVERIFIED_SENDER: &str = "Người gửi chưa được xác thực";

/// The SMTP envelope of a message, as our listener saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailEnvelope {
    /// The connecting client's address.
    pub peer_ip: String,
    /// What it said in HELO/EHLO.
    pub helo: String,
    /// MAIL FROM (empty for a bounce).
    pub mail_from: String,
}

/// The authentication verdict of one email (SPF, DKIM, DMARC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailAuthRecord {
    /// The From address (lowercase) and its domain.
    pub sender: String,
    pub sender_domain: String,
    /// "pass" or "fail".
    pub auth: String,
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
    /// Why, in a few words.
    pub detail: String,
}

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
    /// The SMTP envelope (the inbound listener), or `None` (IMAP).
    pub envelope: Option<EmailEnvelope>,
    pub received_at: DateTime<Utc>,
    /// The verdict, once processed.
    pub auth: Option<EmailAuthRecord>,
}

/// id, message_id, source, size, raw, truncated, processed_at, received_at.
type Row = (i64, String, String, i64, String, i64, Option<i64>, i64);
/// peer_ip, helo, mail_from, sender, sender_domain, auth, spf, dkim, dmarc, auth_detail.
type AuthRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Keeps an email and queues its processing. Returns its id, or `None` when a
    /// message with this Message-ID was kept already.
    #[allow(clippy::too_many_arguments)] // one row's columns, each named at the call
    pub async fn email_receive(
        &self,
        message_id: &str,
        source: &str,
        size: usize,
        raw: &[u8],
        truncated: bool,
        envelope: Option<&EmailEnvelope>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write.begin().await?;
        let id: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO email_inbox (message_id, source, size, raw, truncated, received_at, \
             peer_ip, helo, mail_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (message_id) DO NOTHING RETURNING id",
        )
        .bind(message_id)
        .bind(source)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(STANDARD.encode(raw))
        .bind(i64::from(truncated))
        .bind(ms(now))
        .bind(envelope.map(|e| e.peer_ip.clone()))
        .bind(envelope.map(|e| e.helo.clone()))
        .bind(envelope.map(|e| e.mail_from.clone()))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = id {
            insert_job(&mut tx, &NewJob::email_inbound(id, now), self.now()).await?;
        }
        tx.commit().await?;
        Ok(id.map(|(id,)| id))
    }

    pub async fn email_get(&self, id: i64) -> Result<Option<InboundEmail>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, message_id, source, size, raw, truncated, processed_at, received_at \
             FROM email_inbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let a: AuthRow = sqlx::query_as(
            "SELECT peer_ip, helo, mail_from, sender, sender_domain, auth, spf, dkim, dmarc, \
             auth_detail FROM email_inbox WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        let envelope = a.0.clone().map(|peer_ip| EmailEnvelope {
            peer_ip,
            helo: a.1.clone().unwrap_or_default(),
            mail_from: a.2.clone().unwrap_or_default(),
        });
        let auth = a.5.clone().map(|auth| EmailAuthRecord {
            sender: a.3.unwrap_or_default(),
            sender_domain: a.4.unwrap_or_default(),
            auth,
            spf: a.6.unwrap_or_default(),
            dkim: a.7.unwrap_or_default(),
            dmarc: a.8.unwrap_or_default(),
            detail: a.9.unwrap_or_default(),
        });
        Ok(Some(InboundEmail {
            id: r.0,
            message_id: r.1,
            source: r.2,
            size: r.3,
            raw: STANDARD.decode(r.4.as_bytes()).unwrap_or_default(),
            truncated: r.5 != 0,
            processed: r.6.is_some(),
            envelope,
            received_at: from_ms(r.7),
            auth,
        }))
    }

    /// Keeps the authentication verdict of an email on its row.
    pub async fn email_auth_record(&self, id: i64, a: &EmailAuthRecord) -> Result<()> {
        sqlx::query(
            "UPDATE email_inbox SET sender = $1, sender_domain = $2, auth = $3, spf = $4, \
             dkim = $5, dmarc = $6, auth_detail = $7 WHERE id = $8",
        )
        .bind(&a.sender)
        .bind(&a.sender_domain)
        .bind(&a.auth)
        .bind(&a.spf)
        .bind(&a.dkim)
        .bind(&a.dmarc)
        .bind(&a.detail)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The verdict kept for the email with this Message-ID.
    pub async fn email_auth_of(&self, message_id: &str) -> Result<Option<EmailAuthRecord>> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM email_inbox WHERE message_id = $1")
                .bind(message_id)
                .fetch_optional(&self.read)
                .await?;
        match row {
            Some((id,)) => Ok(self.email_get(id).await?.and_then(|m| m.auth)),
            None => Ok(None),
        }
    }

    /// How many authenticated emails came from `sender`, and from `domain`, received at
    /// or after `since` and before the email `before_id` (so a re-run counts the same).
    pub async fn email_sender_counts(
        &self,
        sender: &str,
        domain: &str,
        since: DateTime<Utc>,
        before_id: i64,
    ) -> Result<(i64, i64)> {
        let by_sender: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM email_inbox WHERE sender = $1 AND auth = 'pass' \
             AND received_at >= $2 AND id < $3",
        )
        .bind(sender)
        .bind(ms(since))
        .bind(before_id)
        .fetch_one(&self.read)
        .await?;
        let by_domain: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM email_inbox WHERE sender_domain = $1 AND auth = 'pass' \
             AND received_at >= $2 AND id < $3",
        )
        .bind(domain)
        .bind(ms(since))
        .bind(before_id)
        .fetch_one(&self.read)
        .await?;
        Ok((by_sender.0, by_domain.0))
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
