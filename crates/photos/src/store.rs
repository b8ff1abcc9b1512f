//! Where processed photos are kept. Keys are chosen by the caller (random, never the
//! citizen's file name) and must be plain: letters, digits, `-`, `_`, `.`, `/`.

use std::path::{Path, PathBuf};

/// A place to keep photos: a directory here; an S3-compatible bucket can implement it too.
pub trait PhotoStore: Send + Sync {
    fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()>;
    fn get(&self, key: &str) -> std::io::Result<Vec<u8>>;
    fn delete(&self, key: &str) -> std::io::Result<()>;
    /// The size of a kept file.
    fn size(&self, key: &str) -> std::io::Result<u64> {
        self.get(key).map(|b| b.len() as u64)
    }
    /// At most `len` bytes from `start` (a video served in parts, as players ask).
    fn get_range(&self, key: &str, start: u64, len: u64) -> std::io::Result<Vec<u8>> {
        let all = self.get(key)?;
        let start = (start as usize).min(all.len());
        let end = start.saturating_add(len as usize).min(all.len());
        Ok(all[start..end].to_vec())
    }
}

/// Photos as files under a directory, written atomically (temp file, fsync, rename).
pub struct FsPhotoStore {
    root: PathBuf,
}

impl FsPhotoStore {
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<FsPhotoStore> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(FsPhotoStore { root })
    }

    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        let ok = !key.is_empty()
            && !key.starts_with('/')
            && !key
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
        if !ok {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad photo key {key:?}"),
            ));
        }
        Ok(self.root.join(Path::new(key)))
    }
}

impl PhotoStore for FsPhotoStore {
    fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    }

    fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path(key)?)
    }

    fn delete(&self, key: &str) -> std::io::Result<()> {
        std::fs::remove_file(self.path(key)?)
    }

    fn size(&self, key: &str) -> std::io::Result<u64> {
        Ok(std::fs::metadata(self.path(key)?)?.len())
    }

    fn get_range(&self, key: &str, start: u64, len: u64) -> std::io::Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(self.path(key)?)?;
        f.seek(SeekFrom::Start(start))?;
        let mut out = Vec::new();
        f.take(len).read_to_end(&mut out)?;
        Ok(out)
    }
}
