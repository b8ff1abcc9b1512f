//! Video and voice notes: checked and remuxed without metadata by `phananh_photos::media`
//! (ffmpeg), kept in the photo store under random keys with a row in `media`, linked to a
//! report when it is filed. Like photos, a file is private until a report uses it, served
//! to the public only while its report is published, to staff who may see the report,
//! and deleted after [`crate::photos::UPLOAD_TTL`] when no report used it.
//!
//! Every channel calls [`App::store_media`] (or [`App::store_evidence`] when it does not
//! know whether a file is a photo or a recording) and puts the key in
//! [`crate::intake::IntakeRequest::media`].

use chrono::Datelike;
pub use phananh_photos::media::MediaKind;
use phananh_photos::media::{MediaError, MediaLimits, SNIFF_BYTES, sniff};
use phananh_storage::{MediaRow, NewMedia};

use crate::photos::{StoredPhoto, UPLOAD_TTL, UPLOAD_USABLE};
use crate::{App, AppError};

/// Video and voice notes a report may carry.
pub const MAX_MEDIA: usize = 2;

/// The largest part of a file sent for one `Range` request.
pub const MAX_RANGE: u64 = 4 * 1024 * 1024;

/// A kept video or voice note.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredMedia {
    pub key: String,
    pub kind: &'static str,
    pub content_type: &'static str,
    pub poster: Option<String>,
    pub size_bytes: u64,
    pub duration_ms: u64,
}

/// A photo or a recording, whichever the bytes were.
#[derive(Debug, Clone)]
pub enum Evidence {
    Photo(StoredPhoto),
    Media(StoredMedia),
}

/// Whether a file's first bytes are a video or voice note of an accepted type.
pub fn is_recording(head: &[u8]) -> bool {
    sniff(&head[..head.len().min(SNIFF_BYTES)]).is_some()
}

/// Extensions of the kept copies (see `phananh_photos::media`).
const EXTENSIONS: &[&str] = &[
    "mp4", "m4a", "mov", "3gp", "webm", "weba", "ogg", "amr", "aac",
];

/// Whether `key` looks like one this module made: `m/YYYY/MM/<32 hex>.<ext>`, or its
/// poster `….poster.jpg`.
pub fn is_media_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    if parts.len() != 4 || parts[0] != "m" || parts[1].len() != 4 || parts[2].len() != 2 {
        return false;
    }
    if !parts[1]
        .chars()
        .chain(parts[2].chars())
        .all(|c| c.is_ascii_digit())
    {
        return false;
    }
    let name = parts[3];
    let Some((id, ext)) = name.split_once('.') else {
        return false;
    };
    id.len() == 32
        && id.chars().all(|c| c.is_ascii_hexdigit())
        && (EXTENSIONS.contains(&ext) || ext == "poster.jpg")
}

/// The poster's key for a media key.
pub fn poster_key(key: &str) -> String {
    let base = key.rsplit_once('.').map_or(key, |(b, _)| b);
    format!("{base}.poster.jpg")
}

fn media_error(e: MediaError) -> AppError {
    if let MediaError::Unavailable(why) = &e {
        return AppError::Internal(format!("media tools: {why}"));
    }
    let text = e.to_string();
    let (vi, en) = text.split_once(" / ").unwrap_or((&text, &text));
    AppError::invalid("media", e.code(), vi, en)
}

/// A byte range asked for (`Range: bytes=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From a byte to another (inclusive) or to the end.
    From(u64, Option<u64>),
    /// The last n bytes.
    Suffix(u64),
}

impl ByteRange {
    /// One range of a `Range` header (`bytes=0-99`, `bytes=100-`, `bytes=-50`); anything
    /// else (several ranges, other units) is `None` and the whole file is sent.
    pub fn parse(header: &str) -> Option<ByteRange> {
        let spec = header.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() {
            return b.parse().ok().map(ByteRange::Suffix);
        }
        let start = a.parse().ok()?;
        let end = if b.is_empty() {
            None
        } else {
            Some(b.parse().ok()?)
        };
        if end.is_some_and(|e| e < start) {
            return None;
        }
        Some(ByteRange::From(start, end))
    }

    /// (first, last) byte for a file of `total` bytes, at most [`MAX_RANGE`] of them;
    /// `None` when the range is outside the file.
    pub fn resolve(self, total: u64) -> Option<(u64, u64)> {
        if total == 0 {
            return None;
        }
        let (start, end) = match self {
            ByteRange::From(s, e) => (s, e.unwrap_or(total - 1).min(total - 1)),
            ByteRange::Suffix(0) => return None,
            ByteRange::Suffix(n) => (total.saturating_sub(n), total - 1),
        };
        if start >= total {
            return None;
        }
        Some((start, end.min(start + MAX_RANGE - 1)))
    }
}

/// What part of a file is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Whole,
    /// Bytes first..=last.
    Range(u64, u64),
    /// The range asked for is outside the file.
    Unsatisfiable,
}

/// A recording (or its poster) as served.
pub struct ServedMedia {
    pub bytes: Vec<u8>,
    pub content_type: String,
    /// Whether anyone may see it (and caches may keep it).
    pub public: bool,
    pub total: u64,
    pub part: Part,
}

/// A report's recordings as its pages show them.
#[derive(Debug, Clone)]
pub struct MediaItem {
    pub key: String,
    pub kind: MediaKind,
    pub content_type: String,
    pub poster: Option<String>,
    pub duration_ms: i64,
}

impl From<MediaRow> for MediaItem {
    fn from(r: MediaRow) -> Self {
        MediaItem {
            kind: MediaKind::parse(&r.kind).unwrap_or(MediaKind::Audio),
            key: r.key,
            content_type: r.content_type,
            poster: r.poster_key,
            duration_ms: r.duration_ms,
        }
    }
}

impl App {
    /// Checks, remuxes and keeps one video or voice note; returns its key (for
    /// `IntakeRequest::media`). Refusals (type, size, duration, broken) are validation
    /// errors with a Vietnamese and an English message.
    pub async fn store_media(&self, bytes: Vec<u8>) -> Result<StoredMedia, AppError> {
        let len = bytes.len() as u64;
        phananh_photos::media::check_size(len, &self.media_limits).map_err(media_error)?;
        self.store_media_from(len, move || {
            Ok(Box::new(std::io::Cursor::new(bytes)) as Box<dyn std::io::Read + Send>)
        })
        .await
    }

    /// [`App::store_media`] for a file spooled to disk (its size checked before it is read).
    pub async fn store_media_file(&self, mut file: std::fs::File) -> Result<StoredMedia, AppError> {
        let len = file
            .metadata()
            .map_err(|e| AppError::Internal(format!("a spooled file: {e}")))?
            .len();
        phananh_photos::media::check_size(len, &self.media_limits).map_err(media_error)?;
        self.store_media_from(len, move || {
            use std::io::Seek;
            file.rewind()?;
            Ok(Box::new(file) as Box<dyn std::io::Read + Send>)
        })
        .await
    }

    /// A photo or a recording, by what the bytes are: channels that cannot tell (an
    /// email attachment, a chat's "file") hand every attachment here.
    pub async fn store_evidence(&self, bytes: Vec<u8>) -> Result<Evidence, AppError> {
        if sniff(&bytes[..bytes.len().min(SNIFF_BYTES)]).is_some() {
            self.store_media(bytes).await.map(Evidence::Media)
        } else {
            self.store_photo(bytes).await.map(Evidence::Photo)
        }
    }

    async fn store_media_from(
        &self,
        len: u64,
        open: impl FnOnce() -> std::io::Result<Box<dyn std::io::Read + Send>> + Send + 'static,
    ) -> Result<StoredMedia, AppError> {
        let limits: MediaLimits = self.media_limits.clone();
        // One file at a time per core, like photos: ffmpeg's work and the copy in memory.
        let permit = self
            .decoding
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let processed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut src =
                open().map_err(|e| AppError::Internal(format!("reading a recording: {e}")))?;
            phananh_photos::media::process(&mut src, len, &limits).map_err(media_error)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        let now = crate::clock::Clock::now(&*self.clock);
        let key = format!(
            "m/{:04}/{:02}/{}.{}",
            now.year(),
            now.month(),
            hex::encode(rand::random::<[u8; 16]>()),
            processed.ext
        );
        let poster = processed.poster_jpeg.as_ref().map(|_| poster_key(&key));
        let store = self.photos.clone();
        let (k, p) = (key.clone(), poster.clone());
        let size_bytes = processed.bytes.len() as u64;
        let bytes = processed.bytes;
        let poster_jpeg = processed.poster_jpeg;
        tokio::task::spawn_blocking(move || {
            if let (Some(p), Some(jpeg)) = (&p, &poster_jpeg) {
                store.put(p, jpeg)?;
            }
            store.put(&k, &bytes)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("storing a recording: {e}")))?;
        let duration_ms = processed.duration.as_millis() as u64;
        self.store
            .record_media(
                &NewMedia {
                    key: key.clone(),
                    kind: processed.kind.as_str().into(),
                    content_type: processed.content_type.into(),
                    poster_key: poster.clone(),
                    size_bytes: size_bytes as i64,
                    duration_ms: duration_ms as i64,
                },
                now,
            )
            .await?;
        Ok(StoredMedia {
            key,
            kind: processed.kind.as_str(),
            content_type: processed.content_type,
            poster,
            size_bytes,
            duration_ms,
        })
    }

    /// Checks that media keys given with a report are ours, fresh and used by no report.
    pub async fn check_media_keys(&self, keys: &[String]) -> Result<(), AppError> {
        if keys.len() > MAX_MEDIA {
            return Err(AppError::invalid(
                "media",
                "too_many_media",
                &format!("Tối đa {MAX_MEDIA} video hoặc ghi âm"),
                &format!("At most {MAX_MEDIA} videos or voice notes"),
            ));
        }
        let since = self.clock.now() - UPLOAD_USABLE;
        for k in keys {
            let row = if is_media_key(k) && !k.ends_with(".poster.jpg") {
                self.store.media_by_key(k).await?
            } else {
                None
            };
            let usable =
                row.is_some_and(|r| r.key == *k && r.report_id.is_none() && r.created_at >= since);
            if !usable {
                return Err(AppError::invalid(
                    "media",
                    "unknown_media",
                    "Video hoặc ghi âm chưa được tải lên hoặc đã hết hạn, vui lòng tải lại",
                    "The video or voice note was not uploaded or has expired; upload it again",
                ));
            }
        }
        Ok(())
    }

    /// The recordings of a report this person may see (the staff report page).
    pub async fn report_media(
        &self,
        who: &phananh_domain::access::Principal,
        report: &phananh_domain::model::Report,
    ) -> Result<Vec<MediaItem>, AppError> {
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        Ok(self
            .store
            .report_media(report.id)
            .await?
            .into_iter()
            .map(MediaItem::from)
            .collect())
    }

    /// The recordings the public may see with a report: the rule photos follow (none for
    /// a report that is not published).
    pub async fn public_media(
        &self,
        report: &phananh_domain::model::Report,
    ) -> Result<Vec<MediaItem>, AppError> {
        if !report.content_is_public() {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .report_media(report.id)
            .await?
            .into_iter()
            .map(MediaItem::from)
            .collect())
    }

    /// A recording or its poster, for serving (the whole file or one range of it): to
    /// anyone while its report is published, to staff who may see its report; otherwise
    /// (no report uses it yet, a rejected report's) "not found".
    pub async fn media_file(
        &self,
        key: &str,
        viewer: Option<&phananh_domain::access::Principal>,
        range: Option<ByteRange>,
    ) -> Result<ServedMedia, AppError> {
        if !is_media_key(key) {
            return Err(AppError::NotFound);
        }
        let row = self
            .store
            .media_by_key(key)
            .await?
            .ok_or(AppError::NotFound)?;
        let report_id = row.report_id.ok_or(AppError::NotFound)?;
        let report = self
            .store
            .report(report_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let public = report.content_is_public();
        if !public && !viewer.is_some_and(|v| v.can_view(&report.unit)) {
            return Err(AppError::NotFound);
        }
        let content_type = if row.key == key {
            row.content_type
        } else {
            "image/jpeg".to_string()
        };
        let store = self.photos.clone();
        let key = key.to_string();
        let (bytes, total, part) = tokio::task::spawn_blocking(move || {
            let total = store.size(&key)?;
            match range.map(|r| r.resolve(total)) {
                None => Ok::<_, std::io::Error>((store.get(&key)?, total, Part::Whole)),
                Some(None) => Ok((Vec::new(), total, Part::Unsatisfiable)),
                Some(Some((first, last))) => Ok((
                    store.get_range(&key, first, last - first + 1)?,
                    total,
                    Part::Range(first, last),
                )),
            }
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|_| AppError::NotFound)?;
        Ok(ServedMedia {
            bytes,
            content_type,
            public,
            total,
            part,
        })
    }

    /// Deletes the recordings no report used within [`UPLOAD_TTL`] (file, poster, row).
    /// Returns how many were deleted.
    pub async fn purge_unattached_media(&self) -> Result<usize, AppError> {
        let before = self.clock.now() - UPLOAD_TTL;
        let mut deleted = 0;
        loop {
            let batch = self.store.stale_media(before, 200).await?;
            if batch.is_empty() {
                return Ok(deleted);
            }
            for row in batch {
                let store = self.photos.clone();
                let files: Vec<String> = std::iter::once(row.key.clone())
                    .chain(row.poster_key.clone())
                    .collect();
                let removed = tokio::task::spawn_blocking(move || {
                    for f in files {
                        match store.delete(&f) {
                            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                            _ => {}
                        }
                    }
                    Ok(())
                })
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
                if let Err(e) = removed {
                    return Err(AppError::Internal(format!(
                        "deleting recording {}: {e}",
                        row.key
                    )));
                }
                self.store.forget_media(&row.key).await?;
                deleted += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_keys_are_accepted() {
        let k = "m/2026/03/0123456789abcdef0123456789abcdef.mp4";
        assert!(is_media_key(k));
        assert_eq!(
            poster_key(k),
            "m/2026/03/0123456789abcdef0123456789abcdef.poster.jpg"
        );
        assert!(is_media_key(&poster_key(k)));
        for bad in [
            "../etc/passwd",
            "m/2026/03/x.mp4",
            "m/2026/03/0123456789abcdef0123456789abcdef.exe",
            "p/2026/03/0123456789abcdef0123456789abcdef.jpg",
            "m/2026/03/0123456789abcdef0123456789abcdef",
            "",
        ] {
            assert!(!is_media_key(bad), "{bad}");
        }
    }

    #[test]
    fn ranges_are_read_and_bounded() {
        assert_eq!(
            ByteRange::parse("bytes=0-99"),
            Some(ByteRange::From(0, Some(99)))
        );
        assert_eq!(
            ByteRange::parse("bytes=100-"),
            Some(ByteRange::From(100, None))
        );
        assert_eq!(ByteRange::parse("bytes=-50"), Some(ByteRange::Suffix(50)));
        assert_eq!(ByteRange::parse("bytes=0-1,5-6"), None);
        assert_eq!(ByteRange::parse("items=0-1"), None);
        assert_eq!(ByteRange::parse("bytes=9-1"), None);
        assert_eq!(ByteRange::From(0, Some(99)).resolve(50), Some((0, 49)));
        assert_eq!(ByteRange::From(10, None).resolve(50), Some((10, 49)));
        assert_eq!(ByteRange::Suffix(10).resolve(50), Some((40, 49)));
        assert_eq!(ByteRange::Suffix(100).resolve(50), Some((0, 49)));
        assert_eq!(ByteRange::From(50, None).resolve(50), None);
        assert_eq!(ByteRange::Suffix(0).resolve(50), None);
        assert_eq!(
            ByteRange::From(0, None).resolve(100 * 1024 * 1024),
            Some((0, MAX_RANGE - 1))
        );
    }
}
