//! Photos: processed by `phananh_photos` (no metadata survives), kept in the photo store
//! under random keys, linked to reports when the report is filed.
//!
//! An upload is private until a report (or a resolution) uses it: its URL answers 404, so
//! the server is no free image host. Uploads nothing used within [`UPLOAD_TTL`] are deleted
//! by [`App::purge_unattached_photos`], which the server's upkeep runs.

use chrono::Datelike;
use phananh_photos::{PhotoError, process};

use crate::{App, AppError};

/// A kept photo: the full picture and its thumbnail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredPhoto {
    pub key: String,
    pub thumb: String,
    pub width: u32,
    pub height: u32,
    /// Where it was taken, for a staff member's photo whose camera wrote it (never kept
    /// for citizens' photos).
    pub position: Option<phananh_domain::model::Point>,
}

/// Photos a report may carry.
pub const MAX_PHOTOS: usize = 5;

/// How long an upload waits for a report to use it before it is deleted.
pub const UPLOAD_TTL: chrono::Duration = chrono::Duration::hours(24);

/// An upload may be used by a report until this long after it was made: an hour less than
/// [`UPLOAD_TTL`], so a report filed just as the purge runs never points at a deleted file.
pub const UPLOAD_USABLE: chrono::Duration = chrono::Duration::hours(23);

/// A photo as served: the bytes, and whether anyone may see it (and caches may keep it).
pub struct ServedPhoto {
    pub bytes: Vec<u8>,
    pub public: bool,
}

/// The thumbnail's key for a photo key.
pub fn thumb_key(key: &str) -> String {
    format!("{}.thumb.jpg", key.trim_end_matches(".jpg"))
}

/// Whether `key` looks like one this module made (so clients cannot point at other files).
pub fn is_photo_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    parts.len() == 4
        && parts[0] == "p"
        && parts[1].len() == 4
        && parts[2].len() == 2
        && parts[1]
            .chars()
            .chain(parts[2].chars())
            .all(|c| c.is_ascii_digit())
        && parts[3].len() == 36
        && parts[3].ends_with(".jpg")
        && parts[3][..32].chars().all(|c| c.is_ascii_hexdigit())
}

fn photo_error(e: PhotoError) -> AppError {
    let text = e.to_string();
    let (vi, en) = text.split_once(" / ").unwrap_or((&text, &text));
    AppError::invalid("photos", e.code(), vi, en)
}

/// How many images may be decoded at once: one per core.
pub fn decode_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl App {
    /// Checks and keeps one photo; returns its keys.
    pub async fn store_photo(&self, bytes: Vec<u8>) -> Result<StoredPhoto, AppError> {
        self.store_photo_from(move || Ok(bytes)).await
    }

    /// [`App::store_photo`] for a photo spooled to a file (read only once a decoding slot
    /// is free, so queued uploads wait on disk, not in memory).
    pub async fn store_photo_file(&self, file: std::fs::File) -> Result<StoredPhoto, AppError> {
        self.store_photo_file_from(file, false).await
    }

    /// [`App::store_photo_file`] for a staff member's photo (a resolution taken on site):
    /// the position its camera wrote is kept with the upload, so resolving with it can say
    /// how far from the report's place it was taken.
    pub async fn store_staff_photo_file(
        &self,
        file: std::fs::File,
    ) -> Result<StoredPhoto, AppError> {
        self.store_photo_file_from(file, true).await
    }

    async fn store_photo_file_from(
        &self,
        mut file: std::fs::File,
        keep_position: bool,
    ) -> Result<StoredPhoto, AppError> {
        let max = self.photo_limits.max_bytes as u64;
        let mut stored = self
            .store_photo_from(move || {
                use std::io::{Read, Seek};
                file.rewind()?;
                let mut bytes = Vec::new();
                file.take(max + 1).read_to_end(&mut bytes)?;
                Ok(bytes)
            })
            .await?;
        match stored.position.filter(|_| keep_position) {
            Some(p) => {
                self.store
                    .set_upload_position(&stored.key, p.lat, p.lon)
                    .await?
            }
            None => stored.position = None,
        }
        Ok(stored)
    }

    /// Where a staff member's uploaded photo was taken, if its camera said so.
    pub(crate) async fn photo_position(
        &self,
        key: &str,
    ) -> Result<Option<phananh_domain::model::Point>, AppError> {
        Ok(self
            .store
            .upload_position(key)
            .await?
            .map(|(lat, lon)| phananh_domain::model::Point { lat, lon }))
    }

    async fn store_photo_from(
        &self,
        read: impl FnOnce() -> std::io::Result<Vec<u8>> + Send + 'static,
    ) -> Result<StoredPhoto, AppError> {
        let limits = self.photo_limits;
        let permit = self
            .decoding
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let processed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let bytes = read().map_err(|e| AppError::Internal(format!("reading a photo: {e}")))?;
            process(&bytes, &limits).map_err(photo_error)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        self.keep_photo(processed).await
    }

    /// Keeps a processed photo and its thumbnail under a fresh key.
    async fn keep_photo(
        &self,
        processed: phananh_photos::Processed,
    ) -> Result<StoredPhoto, AppError> {
        let now = crate::clock::Clock::now(&*self.clock);
        let key = format!(
            "p/{:04}/{:02}/{}.jpg",
            now.year(),
            now.month(),
            hex::encode(rand::random::<[u8; 16]>())
        );
        let thumb = thumb_key(&key);
        let store = self.photos.clone();
        let (k, t) = (key.clone(), thumb.clone());
        tokio::task::spawn_blocking(move || {
            store.put(&t, &processed.thumb_jpeg)?;
            store.put(&k, &processed.jpeg)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("storing a photo: {e}")))?;
        self.store.record_upload(&key, now).await?;
        Ok(StoredPhoto {
            key,
            thumb,
            width: processed.width,
            height: processed.height,
            // Handed back only; kept by the staff path alone.
            position: processed
                .gps
                .map(|(lat, lon)| phananh_domain::model::Point { lat, lon }),
        })
    }

    /// The width and height of a kept photo.
    pub(crate) async fn photo_size(&self, key: &str) -> Result<Option<(u32, u32)>, AppError> {
        let store = self.photos.clone();
        let key = key.to_string();
        let bytes = tokio::task::spawn_blocking(move || store.get(&key))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|_| AppError::NotFound)?;
        Ok(phananh_photos::dimensions(&bytes))
    }

    /// Keeps a copy of photo `key` with `boxes` painted over (see [`phananh_photos::redact`]).
    pub(crate) async fn redacted_copy(
        &self,
        key: &str,
        boxes: &[phananh_domain::event::Rect],
    ) -> Result<StoredPhoto, AppError> {
        let store = self.photos.clone();
        let limits = self.photo_limits;
        let key = key.to_string();
        let boxes: Vec<(u32, u32, u32, u32)> = boxes.iter().map(|r| (r.x, r.y, r.w, r.h)).collect();
        let permit = self
            .decoding
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let processed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let bytes = store.get(&key).map_err(|_| AppError::NotFound)?;
            phananh_photos::redact(&bytes, &boxes, &limits).map_err(photo_error)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        self.keep_photo(processed).await
    }

    /// Checks that photo keys given with a report or a resolution are ours and kept.
    pub async fn check_photo_keys(&self, keys: &[String]) -> Result<(), AppError> {
        if keys.len() > MAX_PHOTOS {
            return Err(AppError::invalid(
                "photos",
                "too_many_photos",
                &format!("Tối đa {MAX_PHOTOS} ảnh"),
                &format!("At most {MAX_PHOTOS} photos"),
            ));
        }
        let since = self.clock.now() - UPLOAD_USABLE;
        for k in keys {
            let store = self.photos.clone();
            let key = k.clone();
            let usable = is_photo_key(k)
                && (self.store.upload_pending(k, since).await?
                    || !self.store.photo_owners(k).await?.is_empty());
            let exists = usable
                && tokio::task::spawn_blocking(move || store.get(&key).is_ok())
                    .await
                    .unwrap_or(false);
            if !exists {
                return Err(AppError::invalid(
                    "photos",
                    "unknown_photo",
                    "Ảnh chưa được tải lên hoặc đã hết hạn, vui lòng tải lại",
                    "The photo was not uploaded or has expired; upload it again",
                ));
            }
        }
        Ok(())
    }

    /// A kept photo or thumbnail, for serving: to anyone if a published report uses it, to
    /// staff who may see a report that uses it; otherwise (an upload nothing uses yet, a
    /// rejected report's photo) "not found".
    pub async fn photo_bytes(
        &self,
        key: &str,
        viewer: Option<&phananh_domain::access::Principal>,
    ) -> Result<ServedPhoto, AppError> {
        let base = key
            .strip_suffix(".thumb.jpg")
            .map(|b| format!("{b}.jpg"))
            .unwrap_or_else(|| key.to_string());
        if !is_photo_key(&base) {
            return Err(AppError::NotFound);
        }
        let mut public = false;
        let mut staff = false;
        for owner in self.store.photo_owners(&base).await? {
            let Some(report) = self.store.report(owner.report_id).await? else {
                continue;
            };
            // Public: the report is published and its photos reviewed, and this photo was
            // neither hidden nor replaced by a redacted copy (the original stays for staff).
            // A photo linked from a duplicate is public only through its own report (where
            // moderation applies); the link lets the original's staff see it.
            let shown = match owner.role.as_str() {
                "report" => !owner.hidden && owner.public_key.is_none(),
                "duplicate" => false,
                _ => true,
            };
            if shown && report.content_is_public() {
                public = true;
                break;
            }
            staff |= viewer.is_some_and(|v| v.can_view(&report.unit));
        }
        if !public && !staff {
            return Err(AppError::NotFound);
        }
        let store = self.photos.clone();
        let key = key.to_string();
        let bytes = tokio::task::spawn_blocking(move || store.get(&key))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|_| AppError::NotFound)?;
        Ok(ServedPhoto { bytes, public })
    }

    /// Deletes the uploads no report used within [`UPLOAD_TTL`] (file, thumbnail and row)
    /// and forgets those that were used. Returns how many were deleted.
    pub async fn purge_unattached_photos(&self) -> Result<usize, AppError> {
        let before = self.clock.now() - UPLOAD_TTL;
        let mut deleted = 0;
        loop {
            let batch = self.store.stale_uploads(before, 200).await?;
            if batch.is_empty() {
                return Ok(deleted);
            }
            for (key, attached) in batch {
                if !attached {
                    let store = self.photos.clone();
                    let k = key.clone();
                    let removed = tokio::task::spawn_blocking(move || {
                        for f in [thumb_key(&k), k.clone()] {
                            match store.delete(&f) {
                                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                                    return Err(e);
                                }
                                _ => {}
                            }
                        }
                        Ok(())
                    })
                    .await
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                    if let Err(e) = removed {
                        // Keep the row: the next purge tries again.
                        return Err(AppError::Internal(format!("deleting photo {key}: {e}")));
                    }
                    deleted += 1;
                }
                self.store.forget_upload(&key).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_keys_are_accepted() {
        let k = "p/2026/03/0123456789abcdef0123456789abcdef.jpg";
        assert!(is_photo_key(k));
        assert_eq!(
            thumb_key(k),
            "p/2026/03/0123456789abcdef0123456789abcdef.thumb.jpg"
        );
        for bad in [
            "../etc/passwd",
            "p/2026/03/x.jpg",
            "q/2026/03/0123456789abcdef0123456789abcdef.jpg",
            "",
        ] {
            assert!(!is_photo_key(bad), "{bad}");
        }
    }
}
