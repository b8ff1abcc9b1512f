//! Zalo OA tokens. Zalo's refresh token works once, so the pair is a chain: each refresh
//! stores the new pair and marks the old one used in one transaction (a crash before the
//! commit leaves the old pair current, a crash after it leaves the new one). Only the
//! holder of a lease on the current pair calls Zalo, so two processes never spend the same
//! refresh token.

use chrono::{DateTime, Utc};

use crate::{Result, Store, from_ms, ms};

/// The current token pair.
#[derive(Debug, Clone)]
pub struct ZaloToken {
    pub id: i64,
    /// Empty until the first refresh of a pair an operator supplied.
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: DateTime<Utc>,
    /// "config", "operator" or "refresh".
    pub source: String,
    pub created_at: DateTime<Utc>,
    /// Who holds the refresh lease, and until when.
    pub refreshing_by: Option<String>,
    pub refreshing_until: Option<DateTime<Utc>>,
}

type Row = (
    i64,
    String,
    String,
    i64,
    String,
    i64,
    Option<String>,
    Option<i64>,
);

impl Store {
    /// The newest pair not used yet (read on the writer, so a pair committed a moment ago by
    /// another connection is seen).
    pub async fn zalo_token(&self) -> Result<Option<ZaloToken>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, access_token, refresh_token, access_expires_at, source, created_at, \
             refreshing_by, refreshing_until FROM zalo_tokens WHERE used_at IS NULL \
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(
            |(id, access, refresh, expires, source, created, by, until)| ZaloToken {
                id,
                access_token: access,
                refresh_token: refresh,
                access_expires_at: from_ms(expires),
                source,
                created_at: from_ms(created),
                refreshing_by: by,
                refreshing_until: until.map(from_ms),
            },
        ))
    }

    /// Stores the configured first refresh token, if no pair was ever stored. Returns
    /// whether it did.
    pub async fn zalo_token_seed(&self, refresh_token: &str, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO zalo_tokens (access_token, refresh_token, access_expires_at, source, created_at) \
             SELECT '', $1, 0, 'config', $2 WHERE NOT EXISTS (SELECT 1 FROM zalo_tokens)",
        )
        .bind(refresh_token)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An operator authorised the OA again: the new refresh token replaces every pair.
    pub async fn zalo_token_replace(&self, refresh_token: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE zalo_tokens SET used_at = $1 WHERE used_at IS NULL")
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO zalo_tokens (access_token, refresh_token, access_expires_at, source, created_at) \
             VALUES ('', $1, 0, 'operator', $2)",
        )
        .bind(refresh_token)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the refresh lease on pair `id` for `holder` until `until`, if the pair is still
    /// current and nobody else holds an unexpired lease. Returns whether it did.
    pub async fn zalo_token_lease(
        &self,
        id: i64,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE zalo_tokens SET refreshing_by = $1, refreshing_until = $2 \
             WHERE id = $3 AND used_at IS NULL \
             AND (refreshing_until IS NULL OR refreshing_until < $4 OR refreshing_by = $1)",
        )
        .bind(holder)
        .bind(ms(until))
        .bind(id)
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease back (the refresh failed; the pair stays current).
    pub async fn zalo_token_release(&self, id: i64, holder: &str) -> Result<()> {
        sqlx::query(
            "UPDATE zalo_tokens SET refreshing_by = NULL, refreshing_until = NULL \
             WHERE id = $1 AND refreshing_by = $2",
        )
        .bind(id)
        .bind(holder)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The refresh of pair `old` succeeded: marks it used and stores the new pair, in one
    /// transaction. Zalo answered with a pair, so it is the newest valid one even if `old`
    /// was marked meanwhile; it is stored either way. Returns the new pair's id.
    pub async fn zalo_token_rotate(
        &self,
        old: i64,
        access_token: &str,
        refresh_token: &str,
        access_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE zalo_tokens SET used_at = $1, refreshing_by = NULL, refreshing_until = NULL \
             WHERE id = $2 AND used_at IS NULL",
        )
        .bind(ms(now))
        .bind(old)
        .execute(&mut *tx)
        .await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO zalo_tokens (access_token, refresh_token, access_expires_at, source, created_at) \
             VALUES ($1, $2, $3, 'refresh', $4) RETURNING id",
        )
        .bind(access_token)
        .bind(refresh_token)
        .bind(ms(access_expires_at))
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Messages sent to a chat user since `since` (their log's outgoing lines): what Zalo's
    /// reply quota counts.
    pub async fn chat_outbound_since(
        &self,
        provider: &str,
        user_id: &str,
        since: DateTime<Utc>,
    ) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM chat_log WHERE provider = $1 AND user_id = $2 AND inbound = 0 AND at > $3",
        )
        .bind(provider)
        .bind(user_id)
        .bind(ms(since))
        .fetch_one(&self.read)
        .await?;
        Ok(n)
    }
}
