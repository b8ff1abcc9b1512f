//! Uploads streamed to disk: a photo is written to an unnamed temporary file as it
//! arrives, never held whole in memory while a slow client sends it, and cut off as
//! soon as it passes its cap.

use std::io;

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

/// Why an upload could not be kept.
#[derive(Debug)]
pub enum SpoolError {
    /// More than the cap.
    TooLarge,
    /// The client stopped sending, was too slow, or sent a broken body.
    Read,
    /// The temporary file could not be written.
    Io(io::Error),
}

impl From<io::Error> for SpoolError {
    fn from(e: io::Error) -> Self {
        SpoolError::Io(e)
    }
}

/// Writes `stream` to a temporary file (deleted when dropped), at most `max` bytes.
/// `None` for an empty stream.
pub async fn to_file<S, E>(mut stream: S, max: usize) -> Result<Option<std::fs::File>, SpoolError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut file: Option<tokio::fs::File> = None;
    let mut written = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| SpoolError::Read)?;
        if chunk.is_empty() {
            continue;
        }
        written += chunk.len();
        if written > max {
            return Err(SpoolError::TooLarge);
        }
        let f = match &mut file {
            Some(f) => f,
            None => {
                let std_file = tokio::task::spawn_blocking(tempfile::tempfile)
                    .await
                    .map_err(io::Error::other)??;
                file.insert(tokio::fs::File::from_std(std_file))
            }
        };
        f.write_all(&chunk).await?;
    }
    match file {
        None => Ok(None),
        Some(mut f) => {
            f.flush().await?;
            Ok(Some(f.into_std().await))
        }
    }
}

/// Reads `stream` into a string of at most `max` bytes (a form's text field).
pub async fn to_text<S, E>(mut stream: S, max: usize) -> Result<String, SpoolError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| SpoolError::Read)?;
        if bytes.len() + chunk.len() > max {
            return Err(SpoolError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| SpoolError::Read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(n: usize, size: usize) -> impl Stream<Item = Result<Bytes, ()>> + Unpin {
        futures_util::stream::iter((0..n).map(move |_| Ok(Bytes::from(vec![b'x'; size]))))
    }

    #[tokio::test]
    async fn files_within_the_cap_and_refuses_beyond() {
        use std::io::{Read, Seek};
        let mut f = to_file(chunks(4, 1000), 4000).await.unwrap().unwrap();
        f.rewind().unwrap();
        let mut back = Vec::new();
        f.read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), 4000);
        assert!(matches!(
            to_file(chunks(5, 1000), 4000).await,
            Err(SpoolError::TooLarge)
        ));
        assert!(to_file(chunks(0, 1000), 4000).await.unwrap().is_none());
        assert_eq!(to_text(chunks(2, 3), 6).await.unwrap(), "xxxxxx");
        assert!(matches!(
            to_text(chunks(3, 3), 6).await,
            Err(SpoolError::TooLarge)
        ));
    }
}
