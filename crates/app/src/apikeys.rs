//! Integrators' API keys: shown once when created, stored as hashes, revocable.

use phananh_storage::ApiKey;

use crate::auth::{random_token, token_hash};
use crate::{App, AppError};

pub const DEFAULT_RATE_PER_MINUTE: u32 = 120;

impl App {
    /// Creates a key for an integrator; returns (id, the key to hand over once).
    pub async fn create_api_key(
        &self,
        name: &str,
        rate_per_minute: Option<u32>,
    ) -> Result<(i64, String), AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "name",
                "invalid_name",
                "Tên đối tác cần 1–100 ký tự",
                "The integrator's name needs 1–100 characters",
            ));
        }
        let key = format!("pa_{}", random_token());
        let prefix: String = key.chars().take(10).collect();
        let id = self
            .store
            .create_api_key(
                name,
                &token_hash(&key),
                &prefix,
                rate_per_minute.unwrap_or(DEFAULT_RATE_PER_MINUTE),
            )
            .await?;
        Ok((id, key))
    }

    /// The active key matching `key`, if any.
    pub async fn api_key(&self, key: &str) -> Result<Option<ApiKey>, AppError> {
        if key.is_empty() || key.len() > 200 {
            return Ok(None);
        }
        Ok(self.store.api_key_by_hash(&token_hash(key)).await?)
    }
}
