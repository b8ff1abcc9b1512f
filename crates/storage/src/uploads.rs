//! Photos uploaded before the report that uses them: kept private until a report or a
//! resolution attaches them, and forgotten (their files deleted by the caller) after a day.

use chrono::{DateTime, Utc};

use crate::{Result, Store, ms};

/// A report a stored photo belongs to (as its own photo or its resolution's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoOwner {
    pub report_id: i64,
    pub role: String,
    /// A moderator hid it from the public.
    pub hidden: bool,
    /// A moderator redacted it: the public sees this copy instead.
    pub public_key: Option<String>,
}

impl Store {
    /// Records a fresh upload (not yet attached to anything).
    pub async fn record_upload(&self, key: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO uploads (storage_key, created_at) VALUES ($1, $2)")
            .bind(key)
            .bind(ms(at))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Keeps where upload `key` was taken (a staff member's photo; see the migration).
    pub async fn set_upload_position(&self, key: &str, lat: f64, lon: f64) -> Result<()> {
        sqlx::query("UPDATE uploads SET gps_lat = $1, gps_lon = $2 WHERE storage_key = $3")
            .bind(lat)
            .bind(lon)
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Where upload `key` was taken, if that was kept.
    pub async fn upload_position(&self, key: &str) -> Result<Option<(f64, f64)>> {
        let row: Option<(Option<f64>, Option<f64>)> =
            sqlx::query_as("SELECT gps_lat, gps_lon FROM uploads WHERE storage_key = $1")
                .bind(key)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.and_then(|(lat, lon)| lat.zip(lon)))
    }

    /// Whether `key` is an upload made at or after `since` that may still be attached.
    pub async fn upload_pending(&self, key: &str, since: DateTime<Utc>) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT created_at FROM uploads WHERE storage_key = $1 AND created_at >= $2",
        )
        .bind(key)
        .bind(ms(since))
        .fetch_optional(&self.read)
        .await?;
        Ok(row.is_some())
    }

    /// The reports that use photo `key` (the photo itself, or the photo its thumbnail is of).
    pub async fn photo_owners(&self, key: &str) -> Result<Vec<PhotoOwner>> {
        let rows: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT report_id, role, hidden, public_key FROM photos WHERE storage_key = $1 ORDER BY id",
        )
        .bind(key)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(report_id, role, hidden, public_key)| PhotoOwner {
                report_id,
                role,
                hidden: hidden != 0,
                public_key,
            })
            .collect())
    }

    /// Uploads made before `before`, oldest first (at most `limit`), with whether a report
    /// uses each: the caller deletes the files of those no report uses, then forgets them.
    pub async fn stale_uploads(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(String, bool)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT u.storage_key, (SELECT COUNT(*) FROM photos p WHERE p.storage_key = u.storage_key) \
             FROM uploads u WHERE u.created_at < $1 ORDER BY u.created_at LIMIT $2",
        )
        .bind(ms(before))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(k, n)| (k, n > 0)).collect())
    }

    /// Forgets an upload (attached to a report, or its files deleted).
    pub async fn forget_upload(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM uploads WHERE storage_key = $1")
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
