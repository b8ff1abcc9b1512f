//! Chat deliveries and conversations. A webhook stores each event (deduplicated on the
//! platform's message id) with a job to process it, in one transaction, before it answers
//! the platform. The worker then takes a person's pending events in the platform's order,
//! runs the conversation, and commits the new state, the processed marks, the log and
//! the outgoing messages together, guarded by the conversation's version.

use chrono::{DateTime, Utc};

use crate::jobs::{NewJob, insert_job};
use crate::{Result, Store, StoreError, from_ms, ms};

/// An event to keep, as the webhook parsed it.
#[derive(Debug, Clone)]
pub struct NewChatEvent {
    pub provider: String,
    pub message_id: String,
    pub user_id: String,
    pub at: i64,
    /// The parsed event (JSON), what the worker reads.
    pub event: String,
    /// The delivery's raw body, for the record.
    pub raw: String,
}

/// A stored event waiting to be processed.
#[derive(Debug, Clone)]
pub struct ChatEvent {
    pub id: i64,
    pub message_id: String,
    pub at: i64,
    pub event: String,
}

/// A person's conversation.
#[derive(Debug, Clone, Default)]
pub struct ChatUser {
    pub state: String,
    pub version: i64,
    pub last_inbound_at: Option<DateTime<Utc>>,
    pub subscribed: bool,
}

impl Store {
    /// Keeps the new deliveries of any inbox-fed channel (chats, SMS) and queues their
    /// processing (`chat.inbound`, or `sms.inbound` for provider "sms"); deliveries kept
    /// already (a retry, a replay, a concurrent duplicate) are skipped. Returns how many
    /// were new.
    pub async fn inbox_receive(
        &self,
        events: &[NewChatEvent],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let mut tx = self.write.begin().await?;
        let mut new = 0;
        for e in events {
            let id: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO chat_inbox (provider, message_id, user_id, at, event, raw, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (provider, message_id) DO NOTHING RETURNING id",
            )
            .bind(&e.provider)
            .bind(&e.message_id)
            .bind(&e.user_id)
            .bind(e.at)
            .bind(&e.event)
            .bind(&e.raw)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((id,)) = id {
                new += 1;
                let job = NewJob::inbox(&e.provider, &e.user_id, id, now);
                insert_job(&mut tx, &job, self.now()).await?;
            }
        }
        tx.commit().await?;
        Ok(new)
    }

    /// A person's unprocessed events, in the platform's order.
    pub async fn chat_pending(&self, provider: &str, user: &str) -> Result<Vec<ChatEvent>> {
        let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT id, message_id, at, event FROM chat_inbox \
             WHERE provider = $1 AND user_id = $2 AND processed_at IS NULL ORDER BY at, id",
        )
        .bind(provider)
        .bind(user)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, message_id, at, event)| ChatEvent {
                id,
                message_id,
                at,
                event,
            })
            .collect())
    }

    pub async fn chat_user(&self, provider: &str, user: &str) -> Result<Option<ChatUser>> {
        let row: Option<(String, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT state, version, last_inbound_at, subscribed FROM chat_users \
             WHERE provider = $1 AND user_id = $2",
        )
        .bind(provider)
        .bind(user)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|(state, version, last, subscribed)| ChatUser {
            state,
            version,
            last_inbound_at: last.map(from_ms),
            subscribed: subscribed != 0,
        }))
    }

    /// Saves a conversation that was at `user.version` (0: new), marks `processed` done,
    /// logs `log` (inbound?, text) and queues `jobs`, all or nothing. Another worker that
    /// got there first makes this a `Conflict`.
    #[allow(clippy::too_many_arguments)]
    pub async fn chat_commit(
        &self,
        provider: &str,
        user_id: &str,
        user: &ChatUser,
        processed: &[i64],
        log: &[(bool, String, i64)],
        jobs: &[NewJob],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let next = user.version + 1;
        let changed = if user.version == 0 {
            sqlx::query(
                "INSERT INTO chat_users (provider, user_id, state, version, last_inbound_at, subscribed, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (provider, user_id) DO NOTHING",
            )
            .bind(provider)
            .bind(user_id)
            .bind(&user.state)
            .bind(next)
            .bind(user.last_inbound_at.map(ms))
            .bind(user.subscribed as i64)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query(
                "UPDATE chat_users SET state = $1, version = $2, last_inbound_at = $3, subscribed = $4, \
                 updated_at = $5 WHERE provider = $6 AND user_id = $7 AND version = $8",
            )
            .bind(&user.state)
            .bind(next)
            .bind(user.last_inbound_at.map(ms))
            .bind(user.subscribed as i64)
            .bind(ms(now))
            .bind(provider)
            .bind(user_id)
            .bind(user.version)
            .execute(&mut *tx)
            .await?
        };
        if changed.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "the conversation moved on meanwhile".into(),
            ));
        }
        for id in processed {
            sqlx::query("UPDATE chat_inbox SET processed_at = $1 WHERE id = $2")
                .bind(ms(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        for (inbound, text, at) in log {
            sqlx::query(
                "INSERT INTO chat_log (provider, user_id, inbound, text, at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(provider)
            .bind(user_id)
            .bind(*inbound as i64)
            .bind(text)
            .bind(*at)
            .execute(&mut *tx)
            .await?;
        }
        for job in jobs {
            insert_job(&mut tx, job, self.now()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds one outgoing line to the log (a staff reply, a status update).
    pub async fn chat_log_outbound(
        &self,
        provider: &str,
        user_id: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO chat_log (provider, user_id, inbound, text, at) VALUES ($1, $2, 0, $3, $4)",
        )
        .bind(provider)
        .bind(user_id)
        .bind(text)
        .bind(ms(at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The chat with a person, oldest first: (inbound?, text, at).
    pub async fn chat_log(
        &self,
        provider: &str,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<(bool, String, DateTime<Utc>)>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT inbound, text, at FROM chat_log WHERE provider = $1 AND user_id = $2 \
             ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(provider)
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let mut out: Vec<_> = rows
            .into_iter()
            .map(|(i, t, at)| (i != 0, t, from_ms(at)))
            .collect();
        out.reverse();
        Ok(out)
    }

    /// Marks events processed and queues what they led to, in one transaction (channels
    /// without a conversation state, like SMS). Events already processed are left alone;
    /// returns false if all of them were (another worker got there first).
    pub async fn inbox_done(
        &self,
        processed: &[i64],
        jobs: &[NewJob],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let mut marked = 0;
        for id in processed {
            marked += sqlx::query(
                "UPDATE chat_inbox SET processed_at = $1 WHERE id = $2 AND processed_at IS NULL",
            )
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        if marked == 0 && !processed.is_empty() {
            return Ok(false);
        }
        for job in jobs {
            insert_job(&mut tx, job, self.now()).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
