//! Video and voice notes: a row per kept file, written when it is uploaded (no report
//! yet: private), given its report when the report is filed (in the filing transaction,
//! see `intake`), forgotten after a day if no report used it.

use chrono::{DateTime, Utc};

use crate::{Result, Store, from_ms, ms};

/// A file just kept.
#[derive(Debug, Clone)]
pub struct NewMedia {
    pub key: String,
    /// "video" or "audio".
    pub kind: String,
    pub content_type: String,
    /// A video's poster frame (a JPEG in the same store).
    pub poster_key: Option<String>,
    pub size_bytes: i64,
    pub duration_ms: i64,
}

/// A kept file, as listed with its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRow {
    pub key: String,
    pub report_id: Option<i64>,
    pub kind: String,
    pub content_type: String,
    pub poster_key: Option<String>,
    pub size_bytes: i64,
    pub duration_ms: i64,
    pub created_at: DateTime<Utc>,
}

type Row = (
    String,
    Option<i64>,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
);

const COLUMNS: &str =
    "storage_key, report_id, kind, content_type, poster_key, size_bytes, duration_ms, created_at";

fn row(r: Row) -> MediaRow {
    MediaRow {
        key: r.0,
        report_id: r.1,
        kind: r.2,
        content_type: r.3,
        poster_key: r.4,
        size_bytes: r.5,
        duration_ms: r.6,
        created_at: from_ms(r.7),
    }
}

impl Store {
    /// Records a fresh file (no report yet).
    pub async fn record_media(&self, m: &NewMedia, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO media (storage_key, kind, content_type, poster_key, size_bytes, duration_ms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&m.key)
        .bind(&m.kind)
        .bind(&m.content_type)
        .bind(m.poster_key.clone())
        .bind(m.size_bytes)
        .bind(m.duration_ms)
        .bind(ms(at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The file kept under `key`, or whose poster `key` is.
    pub async fn media_by_key(&self, key: &str) -> Result<Option<MediaRow>> {
        let r: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM media WHERE storage_key = $1 OR poster_key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        Ok(r.map(row))
    }

    /// The files filed with a report, oldest first.
    pub async fn report_media(&self, report_id: i64) -> Result<Vec<MediaRow>> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM media WHERE report_id = $1 ORDER BY created_at, storage_key"
        ))
        .bind(report_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// Files no report used, kept before `before`, oldest first (at most `limit`): the
    /// caller deletes their files, then [`Store::forget_media`].
    pub async fn stale_media(&self, before: DateTime<Utc>, limit: i64) -> Result<Vec<MediaRow>> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM media WHERE report_id IS NULL AND created_at < $1 \
             ORDER BY created_at LIMIT $2"
        ))
        .bind(ms(before))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// Forgets a file no report uses (its files deleted).
    pub async fn forget_media(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM media WHERE storage_key = $1 AND report_id IS NULL")
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
