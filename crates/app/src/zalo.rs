//! Zalo OA: the stored token chain (see `phananh_storage::ZaloToken`), for the worker that
//! refreshes it and sends, and for `phananh chat zalo-check`. The calls to Zalo themselves
//! are in `phananh_worker::zalo`.

use chrono::{DateTime, Utc};
use phananh_storage::ZaloToken;

use crate::{App, AppError};

impl App {
    /// The current token pair, if any was ever stored.
    pub async fn zalo_token(&self) -> Result<Option<ZaloToken>, AppError> {
        Ok(self.store.zalo_token().await?)
    }

    /// Stores the configured first refresh token when no pair exists yet.
    pub async fn zalo_token_seed(&self, refresh_token: &str) -> Result<bool, AppError> {
        Ok(self
            .store
            .zalo_token_seed(refresh_token, self.clock.now())
            .await?)
    }

    /// An operator's new authorisation replaces the chain.
    pub async fn zalo_token_replace(&self, refresh_token: &str) -> Result<(), AppError> {
        Ok(self
            .store
            .zalo_token_replace(refresh_token, self.clock.now())
            .await?)
    }

    /// Takes the refresh lease on pair `id` for `lease`; false when someone else holds it
    /// or the pair is no longer current.
    pub async fn zalo_token_lease(
        &self,
        id: i64,
        holder: &str,
        lease: chrono::Duration,
    ) -> Result<bool, AppError> {
        let now = self.clock.now();
        Ok(self
            .store
            .zalo_token_lease(id, holder, now + lease, now)
            .await?)
    }

    pub async fn zalo_token_release(&self, id: i64, holder: &str) -> Result<(), AppError> {
        Ok(self.store.zalo_token_release(id, holder).await?)
    }

    /// Stores the pair a refresh of `old` returned, marking `old` used, in one transaction.
    pub async fn zalo_token_rotate(
        &self,
        old: i64,
        access_token: &str,
        refresh_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<i64, AppError> {
        Ok(self
            .store
            .zalo_token_rotate(
                old,
                access_token,
                refresh_token,
                expires_at,
                self.clock.now(),
            )
            .await?)
    }

    /// Messages sent to a chat user since `since` (Zalo's reply quota).
    pub async fn chat_outbound_since(
        &self,
        provider: &str,
        user: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, AppError> {
        Ok(self
            .store
            .chat_outbound_since(provider, user, since)
            .await?)
    }
}
