//! Video and voice notes, the other evidence citizens send with a report.
//!
//! A file is accepted by what its bytes are (the container's magic numbers and header,
//! never its name or declared type): MP4, MOV, 3GP and WebM video; M4A, AAC (ADTS),
//! Ogg (Opus, Vorbis) and AMR voice. Its size is checked before anything is read, its
//! duration (from `ffprobe`) before anything is written. Then `ffmpeg` remuxes it
//! (`-map_metadata -1 -c copy`): the streams are copied as they are, and only the
//! container's own structure is written again, so every metadata atom a phone added
//! (the place in `©xyz` or `com.apple.quicktime.location.ISO6709`, the device, the time)
//! is left behind. A video also gets a poster frame, put through the photo pipeline
//! ([`crate::process`]) so it carries no metadata either.
//!
//! `ffmpeg` and `ffprobe` (Debian's `ffmpeg` package) run as subprocesses: no shell,
//! arguments only, inputs only from files this module wrote into its own temporary
//! directory, the demuxer forced to the one the sniffing chose, only the `file`
//! protocol, and a timeout after which the process is killed.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Limits on what is accepted, and where the tools are.
#[derive(Debug, Clone)]
pub struct MediaLimits {
    pub max_bytes: u64,
    pub max_duration: Duration,
    /// Each `ffprobe` / `ffmpeg` run is killed after this.
    pub timeout: Duration,
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
}

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits {
            max_bytes: 50 * 1024 * 1024,
            max_duration: Duration::from_secs(120),
            timeout: Duration::from_secs(60),
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("Tệp video hoặc ghi âm lớn hơn {0} MB / the video or voice file is larger than {0} MB")]
    TooLarge(u64),
    #[error(
        "Video hoặc ghi âm dài hơn {0} giây / the video or voice recording is longer than {0} seconds"
    )]
    TooLong(u64),
    #[error(
        "Tệp không phải video MP4, MOV, 3GP, WebM hay ghi âm M4A, AAC, OGG, AMR / the file is not an MP4, MOV, 3GP or WebM video nor an M4A, AAC, OGG or AMR recording"
    )]
    NotMedia,
    #[error("Tệp bị hỏng hoặc không đọc được / the file is broken or cannot be read: {0}")]
    Broken(String),
    #[error("Xử lý tệp quá lâu / processing the file took too long")]
    Timeout,
    /// The tools are missing or failed to start: the server's fault, not the citizen's.
    #[error(
        "Máy chủ chưa xử lý được video, ghi âm / the server cannot process video or audio: {0}"
    )]
    Unavailable(String),
}

impl MediaError {
    /// A stable code for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::TooLarge(_) => "media_too_large",
            MediaError::TooLong(_) => "media_too_long",
            MediaError::NotMedia => "media_not_supported",
            MediaError::Broken(_) => "media_broken",
            MediaError::Timeout => "media_timeout",
            MediaError::Unavailable(_) => "media_unavailable",
        }
    }
}

/// A video or a voice recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Video,
    Audio,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    pub fn parse(s: &str) -> Option<MediaKind> {
        match s {
            "video" => Some(MediaKind::Video),
            "audio" => Some(MediaKind::Audio),
            _ => None,
        }
    }
}

/// A container recognised by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// ISO base media with an MP4 brand.
    Mp4,
    /// QuickTime (`ftyp qt  `).
    Mov,
    /// 3GPP / 3GPP2 (phones' video and Android voice recorders).
    ThreeGp,
    /// ISO base media with an audio brand (`M4A `).
    M4a,
    /// Matroska with the `webm` doctype (browsers' recordings).
    WebM,
    /// Ogg whose first stream is Opus or Vorbis.
    Ogg,
    /// AMR narrow- or wide-band.
    Amr,
    /// Raw AAC in ADTS frames.
    Aac,
}

impl Container {
    /// The demuxer `ffprobe`/`ffmpeg` are forced to (never guessed by them).
    fn demuxer(self) -> &'static str {
        match self {
            Container::Mp4 | Container::Mov | Container::ThreeGp | Container::M4a => "mov",
            Container::WebM => "matroska",
            Container::Ogg => "ogg",
            Container::Amr => "amr",
            Container::Aac => "aac",
        }
    }

    /// Containers that only ever carry sound here.
    fn audio_only(self) -> bool {
        matches!(
            self,
            Container::M4a | Container::Ogg | Container::Amr | Container::Aac
        )
    }

    /// (muxer, file extension, content type) of the kept copy.
    fn output(self, kind: MediaKind) -> (&'static str, &'static str, &'static str) {
        match (self, kind) {
            (Container::Mp4, MediaKind::Video) => ("mp4", "mp4", "video/mp4"),
            (Container::Mp4 | Container::M4a, _) => ("mp4", "m4a", "audio/mp4"),
            (Container::Mov, _) => ("mov", "mov", "video/quicktime"),
            (Container::ThreeGp, MediaKind::Video) => ("3gp", "3gp", "video/3gpp"),
            (Container::ThreeGp, MediaKind::Audio) => ("3gp", "3gp", "audio/3gpp"),
            (Container::WebM, MediaKind::Video) => ("webm", "webm", "video/webm"),
            (Container::WebM, MediaKind::Audio) => ("webm", "weba", "audio/webm"),
            (Container::Ogg, _) => ("ogg", "ogg", "audio/ogg"),
            (Container::Amr, _) => ("amr", "amr", "audio/amr"),
            (Container::Aac, _) => ("adts", "aac", "audio/aac"),
        }
    }
}

/// How many bytes of a file's start [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 4096;

/// The container `head` (a file's first bytes) starts, if it is one we accept.
pub fn sniff(head: &[u8]) -> Option<Container> {
    if head.starts_with(b"#!AMR\n") || head.starts_with(b"#!AMR-WB\n") {
        return Some(Container::Amr);
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return (ebml_doctype(head)? == b"webm").then_some(Container::WebM);
    }
    if head.starts_with(b"OggS") {
        return ogg_first_packet(head).and_then(|p| {
            (p.starts_with(b"OpusHead") || p.starts_with(b"\x01vorbis")).then_some(Container::Ogg)
        });
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return iso_brand(head);
    }
    let adts = match head.strip_prefix(b"ID3") {
        Some(_) if head.len() >= 10 => {
            let size = head[6..10]
                .iter()
                .fold(0usize, |n, b| (n << 7) | (*b as usize & 0x7F));
            let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
            head.get(10 + size + footer..)?
        }
        Some(_) => return None,
        None => head,
    };
    is_adts(adts).then_some(Container::Aac)
}

/// ISO base media (`ftyp` first): the brand says MP4, QuickTime, 3GP or M4A. HEIF images
/// and anything else are not ours.
fn iso_brand(head: &[u8]) -> Option<Container> {
    let major = &head[8..12];
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = size.clamp(16, head.len().max(16)).min(head.len());
    let compatible: Vec<&[u8]> = head.get(16..end).unwrap_or(&[]).chunks_exact(4).collect();
    const MP4: &[&[u8]] = &[
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41",
        b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"MSNV", b"mmp4", b"XAVC",
    ];
    match major {
        b"qt  " => Some(Container::Mov),
        b"M4A " | b"M4B " | b"F4A " => Some(Container::M4a),
        m if m.starts_with(b"3gp") || m.starts_with(b"3g2") => Some(Container::ThreeGp),
        m if MP4.contains(&m) => Some(Container::Mp4),
        // An unknown major brand: an MP4 only if it says it is compatible with one (HEIF
        // images name `mif1`/`heic`, never these).
        _ if compatible.iter().any(|b| MP4[..11].contains(b)) => Some(Container::Mp4),
        _ => None,
    }
}

/// An EBML variable-length integer at the start of `b`: (value with the marker removed,
/// length), or the raw element ID when `keep_marker`.
fn vint(b: &[u8], keep_marker: bool) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || b.len() < len {
        return None;
    }
    let mut v = if keep_marker {
        first as u64
    } else {
        (first as u64) & (0xFF >> len)
    };
    for x in &b[1..len] {
        v = (v << 8) | *x as u64;
    }
    Some((v, len))
}

/// The `DocType` of an EBML header ("webm", "matroska").
fn ebml_doctype(head: &[u8]) -> Option<&[u8]> {
    let (_, id_len) = vint(head, true)?;
    let (size, size_len) = vint(&head[id_len..], false)?;
    let start = id_len + size_len;
    let end = start.saturating_add(size as usize).min(head.len());
    let mut at = start;
    while at < end {
        let (id, l1) = vint(&head[at..], true)?;
        let (len, l2) = vint(&head[at + l1..], false)?;
        let data = at + l1 + l2;
        let stop = data.checked_add(len as usize)?;
        if id == 0x4282 {
            return head.get(data..stop);
        }
        at = stop;
    }
    None
}

/// The start of the first packet of an Ogg stream's first page.
fn ogg_first_packet(head: &[u8]) -> Option<&[u8]> {
    // Version 0, a beginning-of-stream page.
    if head.len() < 27 || head[4] != 0 || head[5] & 0x02 == 0 {
        return None;
    }
    let segments = head[26] as usize;
    head.get(27 + segments..)
}

/// ADTS frames: a 12-bit sync word, layer 0, a valid sample rate and frame length, and the
/// next frame's sync word where the first says it is (when the head reaches it).
fn is_adts(b: &[u8]) -> bool {
    let frame = |b: &[u8]| -> Option<usize> {
        if b.len() < 7 || b[0] != 0xFF || b[1] & 0xF6 != 0xF0 || (b[2] >> 2) & 0x0F > 12 {
            return None;
        }
        let len = (((b[3] & 0x03) as usize) << 11) | ((b[4] as usize) << 3) | (b[5] as usize >> 5);
        (len >= 7).then_some(len)
    };
    let Some(len) = frame(b) else { return false };
    match b.get(len..) {
        Some(next) if next.len() >= 7 => frame(next).is_some(),
        _ => true,
    }
}

/// What `ffprobe` says of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Seconds, when the container says (a browser's WebM recording may not).
    pub duration: Option<f64>,
    pub video: bool,
    pub audio: bool,
}

/// A file ready to keep: the remuxed copy, and a poster for a video.
#[derive(Debug, Clone)]
pub struct ProcessedMedia {
    pub kind: MediaKind,
    pub container: Container,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// The kept copy's file extension.
    pub ext: &'static str,
    pub duration: Duration,
    /// A frame of a video as JPEG, through the photo pipeline.
    pub poster_jpeg: Option<Vec<u8>>,
}

/// A file's size against the limit; checked before anything is read.
pub fn check_size(len: u64, limits: &MediaLimits) -> Result<(), MediaError> {
    if len > limits.max_bytes {
        return Err(MediaError::TooLarge(limits.max_bytes / (1024 * 1024)));
    }
    Ok(())
}

/// A duration against the limit.
pub fn check_duration(seconds: f64, limits: &MediaLimits) -> Result<(), MediaError> {
    // A few milliseconds over (container rounding) are forgiven.
    if !seconds.is_finite() || seconds > limits.max_duration.as_secs_f64() + 0.5 {
        return Err(MediaError::TooLong(limits.max_duration.as_secs()));
    }
    Ok(())
}

/// Checks, remuxes and (for a video) makes the poster of a file of `len` bytes read from
/// `src`. `len` is checked before anything is read; at most `len` bytes are read.
pub fn process(
    src: &mut dyn Read,
    len: u64,
    limits: &MediaLimits,
) -> Result<ProcessedMedia, MediaError> {
    check_size(len, limits)?;
    let dir = tempfile::Builder::new()
        .prefix("phananh-media-")
        .tempdir()
        .map_err(|e| MediaError::Unavailable(format!("temporary directory: {e}")))?;
    let input = dir.path().join("in");
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    {
        let mut file = std::fs::File::create(&input)
            .map_err(|e| MediaError::Unavailable(format!("temporary file: {e}")))?;
        let mut limited = src.take(limits.max_bytes + 1);
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = limited
                .read(&mut buf)
                .map_err(|e| MediaError::Broken(format!("reading: {e}")))?;
            if n == 0 {
                break;
            }
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(n);
                head.extend_from_slice(&buf[..take]);
            }
            total += n as u64;
            check_size(total, limits)?;
            file.write_all(&buf[..n])
                .map_err(|e| MediaError::Unavailable(format!("temporary file: {e}")))?;
        }
        file.sync_all()
            .map_err(|e| MediaError::Unavailable(format!("temporary file: {e}")))?;
    }
    let container = sniff(&head).ok_or(MediaError::NotMedia)?;
    let probe = probe(&input, container, dir.path(), limits)?;
    if let Some(d) = probe.duration {
        check_duration(d, limits)?;
    }
    let kind = if probe.video && !container.audio_only() {
        MediaKind::Video
    } else if probe.audio {
        MediaKind::Audio
    } else {
        return Err(MediaError::Broken("no sound or picture".into()));
    };
    let (muxer, ext, content_type) = container.output(kind);
    let output = dir.path().join(format!("out.{ext}"));
    let mut args: Vec<String> = vec![
        "-nostdin".into(),
        "-hide_banner".into(),
        "-v".into(),
        "error".into(),
    ];
    args.extend(input_args(container, &input));
    match kind {
        // `V`: a picture stream, not cover art.
        MediaKind::Video => args.extend(["-map", "0:V:0", "-map", "0:a:0?"].map(String::from)),
        MediaKind::Audio => args.extend(["-map", "0:a:0"].map(String::from)),
    }
    args.extend(
        [
            "-map_metadata",
            "-1",
            "-map_chapters",
            "-1",
            "-c",
            "copy",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-flags:a",
            "+bitexact",
        ]
        .map(String::from),
    );
    if matches!(muxer, "mp4" | "mov" | "3gp") {
        // The index first: a browser starts playing before it has the whole file.
        args.extend(["-movflags", "+faststart"].map(String::from));
    }
    args.extend(["-f".into(), muxer.into(), "-y".into()]);
    args.push(output.to_string_lossy().into_owned());
    run(&limits.ffmpeg, &args, dir.path(), limits.timeout)?;
    // The kept copy is what counts: its duration (a recording without one in its header
    // has it now), and that it still has what the original had.
    let kept = probe_output(&output, muxer, dir.path(), limits)?;
    let duration = kept.duration.or(probe.duration).unwrap_or(0.0);
    check_duration(duration, limits)?;
    if (kind == MediaKind::Video && !kept.video) || (kind == MediaKind::Audio && !kept.audio) {
        return Err(MediaError::Broken("nothing left after remuxing".into()));
    }
    let poster_jpeg = match kind {
        MediaKind::Video => Some(poster(&output, muxer, duration, dir.path(), limits)?),
        MediaKind::Audio => None,
    };
    let bytes = std::fs::read(&output)
        .map_err(|e| MediaError::Unavailable(format!("reading the remuxed file: {e}")))?;
    Ok(ProcessedMedia {
        kind,
        container,
        bytes,
        content_type,
        ext,
        duration: Duration::from_secs_f64(duration.max(0.0)),
        poster_jpeg,
    })
}

/// The options that open an input: only local files, the chosen demuxer.
fn input_args(container: Container, path: &Path) -> Vec<String> {
    vec![
        "-protocol_whitelist".into(),
        "file".into(),
        "-f".into(),
        container.demuxer().into(),
        "-i".into(),
        path.to_string_lossy().into_owned(),
    ]
}

/// `ffprobe` on a file we wrote, with the demuxer forced.
pub fn probe(
    path: &Path,
    container: Container,
    dir: &Path,
    limits: &MediaLimits,
) -> Result<Probe, MediaError> {
    probe_with(path, container.demuxer(), dir, limits)
}

fn probe_output(
    path: &Path,
    muxer: &str,
    dir: &Path,
    limits: &MediaLimits,
) -> Result<Probe, MediaError> {
    let demuxer = match muxer {
        "mp4" | "mov" | "3gp" => "mov",
        "webm" => "matroska",
        "adts" => "aac",
        other => other,
    };
    probe_with(path, demuxer, dir, limits)
}

fn probe_with(
    path: &Path,
    demuxer: &str,
    dir: &Path,
    limits: &MediaLimits,
) -> Result<Probe, MediaError> {
    let args: Vec<String> = [
        "-hide_banner",
        "-v",
        "error",
        "-protocol_whitelist",
        "file",
        "-f",
        demuxer,
        "-show_entries",
        "format=duration:stream=codec_type:stream_disposition=attached_pic",
        "-of",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([path.to_string_lossy().into_owned()])
    .collect();
    let out = run(&limits.ffprobe, &args, dir, limits.timeout)?;
    parse_probe(&out)
}

/// Reads `ffprobe -of json`'s answer.
pub fn parse_probe(json: &[u8]) -> Result<Probe, MediaError> {
    let v: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| MediaError::Broken(format!("ffprobe's answer: {e}")))?;
    let duration = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d >= 0.0);
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let of = |t: &str| {
        streams.iter().any(|s| {
            s["codec_type"] == t && s["disposition"]["attached_pic"].as_i64().unwrap_or(0) == 0
        })
    };
    Ok(Probe {
        duration,
        video: of("video"),
        audio: of("audio"),
    })
}

/// A frame (a second in, or the middle of a shorter video) as JPEG without metadata.
fn poster(
    video: &Path,
    muxer: &str,
    duration: f64,
    dir: &Path,
    limits: &MediaLimits,
) -> Result<Vec<u8>, MediaError> {
    let demuxer = match muxer {
        "webm" => "matroska",
        _ => "mov",
    };
    let at = (duration / 2.0).clamp(0.0, 1.0);
    let png = dir.join("poster.png");
    let mut args: Vec<String> = vec![
        "-nostdin".into(),
        "-hide_banner".into(),
        "-v".into(),
        "error".into(),
        "-threads".into(),
        "1".into(),
        "-ss".into(),
        format!("{at:.3}"),
        "-protocol_whitelist".into(),
        "file".into(),
        "-f".into(),
        demuxer.into(),
        "-i".into(),
        video.to_string_lossy().into_owned(),
    ];
    args.extend(
        [
            "-map",
            "0:V:0",
            "-frames:v",
            "1",
            "-map_metadata",
            "-1",
            "-c:v",
            "png",
            "-f",
            "image2",
            "-y",
        ]
        .map(String::from),
    );
    args.push(png.to_string_lossy().into_owned());
    run(&limits.ffmpeg, &args, dir, limits.timeout)?;
    let bytes =
        std::fs::read(&png).map_err(|_| MediaError::Broken("no picture for the poster".into()))?;
    let photo_limits = crate::PhotoLimits {
        max_bytes: bytes.len().max(1),
        ..crate::PhotoLimits::default()
    };
    crate::process(&bytes, &photo_limits)
        .map(|p| p.jpeg)
        .map_err(|e| MediaError::Broken(format!("poster: {e}")))
}

/// Runs a tool (no shell), its output and errors in files of `dir`, killed after
/// `timeout`. Returns what it wrote to its standard output.
fn run(
    program: &Path,
    args: &[String],
    dir: &Path,
    timeout: Duration,
) -> Result<Vec<u8>, MediaError> {
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let file = |p: &Path| {
        std::fs::File::create(p)
            .map_err(|e| MediaError::Unavailable(format!("temporary file: {e}")))
    };
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(file(&out_path)?)
        .stderr(file(&err_path)?)
        .spawn()
        .map_err(|e| MediaError::Unavailable(format!("{}: {e}", program.display())))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(MediaError::Timeout);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(MediaError::Unavailable(format!("waiting for a tool: {e}")));
            }
        }
    };
    if !status.success() {
        let err = std::fs::read(&err_path).unwrap_or_default();
        let text = String::from_utf8_lossy(&err);
        let first = text.lines().next().unwrap_or("").trim();
        // The tool's words, without our paths.
        let first = first.replace(&dir.to_string_lossy().into_owned(), "");
        let short: String = first.chars().take(200).collect();
        return Err(MediaError::Broken(if short.is_empty() {
            format!("exit status {status}")
        } else {
            short
        }));
    }
    std::fs::read(&out_path).map_err(|e| MediaError::Unavailable(format!("tool output: {e}")))
}

#[cfg(test)]
mod tests;
