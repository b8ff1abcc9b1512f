//! API keys of integrators (Open311). Only the SHA-256 of a key is stored.

use chrono::{DateTime, Utc};

use crate::{Result, Store, StoreError, from_ms, ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    pub rate_per_minute: u32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

type Row = (i64, String, String, i64, i64, i64, Option<i64>);

fn from_row((id, name, prefix, rate, active, created_at, revoked_at): Row) -> ApiKey {
    ApiKey {
        id,
        name,
        prefix,
        rate_per_minute: rate.clamp(0, u32::MAX as i64) as u32,
        active: active != 0,
        created_at: from_ms(created_at),
        revoked_at: revoked_at.map(from_ms),
    }
}

const COLUMNS: &str = "id, name, prefix, rate_per_minute, active, created_at, revoked_at";

impl Store {
    pub async fn create_api_key(
        &self,
        name: &str,
        key_hash: &str,
        prefix: &str,
        rate_per_minute: u32,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_keys (name, key_hash, prefix, rate_per_minute, active, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
        )
        .bind(name)
        .bind(key_hash)
        .bind(prefix)
        .bind(rate_per_minute as i64)
        .bind(ms(self.now()))
        .fetch_one(&self.write)
        .await?)
    }

    /// The active key with this hash.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND active = 1");
        let row: Option<Row> = sqlx::query_as(&sql)
            .bind(key_hash)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(from_row))
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY id");
        let rows: Vec<Row> = sqlx::query_as(&sql).fetch_all(&self.read).await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    pub async fn revoke_api_key(&self, id: i64) -> Result<()> {
        let r = sqlx::query(
            "UPDATE api_keys SET active = 0, revoked_at = $1 WHERE id = $2 AND active = 1",
        )
        .bind(ms(self.now()))
        .bind(id)
        .execute(&self.write)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
