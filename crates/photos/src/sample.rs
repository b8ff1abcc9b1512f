//! Sample photos for tests and demonstrations.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

fn encoded(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let _ = img.write_to(&mut out, format);
    out.into_inner()
}

/// A 40×20 JPEG, left half red, with an EXIF block that says "rotate 90° clockwise" and
/// carries a GPS latitude, as a phone camera writes it.
pub fn phone_jpeg() -> Vec<u8> {
    let img = RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let jpeg = encoded(&DynamicImage::ImageRgb8(img), ImageFormat::Jpeg);
    let mut tiff: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation = 6
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]); // GPS IFD at 38
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&[0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]); // GPSLatitudeRef = N
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A 32×24 JPEG whose EXIF block holds the GPS position (`lat`, `lon`), as a phone camera
/// writes it (degrees, minutes, seconds as rationals, with N/S and E/W references).
pub fn jpeg_at(lat: f64, lon: f64) -> Vec<u8> {
    let img = RgbImage::from_fn(32, 24, |x, y| Rgb([(x * 8) as u8, (y * 10) as u8, 90]));
    let jpeg = encoded(&DynamicImage::ImageRgb8(img), ImageFormat::Jpeg);
    let dms = |v: f64| {
        let v = v.abs();
        let d = v.trunc();
        let m = ((v - d) * 60.0).trunc();
        let s = ((v - d) * 60.0 - m) * 60.0;
        [
            (d as u32, 1u32),
            (m as u32, 1),
            ((s * 10_000.0).round() as u32, 10_000),
        ]
    };
    let mut tiff: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    // IFD0 at 8: one entry, the GPS IFD at 26.
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 26: four entries (2 + 48 + 4 bytes), values from 80.
    tiff.extend_from_slice(&4u16.to_le_bytes());
    let ns = if lat < 0.0 { b'S' } else { b'N' };
    let ew = if lon < 0.0 { b'W' } else { b'E' };
    tiff.extend_from_slice(&[0x01, 0x00, 2, 0, 2, 0, 0, 0, ns, 0, 0, 0]);
    tiff.extend_from_slice(&[0x02, 0x00, 5, 0, 3, 0, 0, 0, 80, 0, 0, 0]);
    tiff.extend_from_slice(&[0x03, 0x00, 2, 0, 2, 0, 0, 0, ew, 0, 0, 0]);
    tiff.extend_from_slice(&[0x04, 0x00, 5, 0, 3, 0, 0, 0, 104, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in dms(lat).into_iter().chain(dms(lon)) {
        tiff.extend_from_slice(&n.to_le_bytes());
        tiff.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Sample videos and voice notes, made with `ffmpeg` at test time. The tests that need them
/// ask [`media::available`] first: on a fresh machine without ffmpeg they skip with a
/// message; with `PHANANH_MEDIA_TESTS=1` (set by `.ci/run`, which installs ffmpeg) a missing
/// ffmpeg is an error instead.
pub mod media {
    use std::path::Path;
    use std::process::Command;

    /// Whether `ffmpeg` and `ffprobe` run here, without a word.
    pub fn present() -> bool {
        ["ffmpeg", "ffprobe"].iter().all(|tool| {
            Command::new(tool)
                .arg("-version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    }

    /// Whether a test that needs recordings can run: it says so when it cannot, and fails
    /// when `PHANANH_MEDIA_TESTS=1` asked for them.
    pub fn available() -> bool {
        if present() {
            return true;
        }
        assert!(
            std::env::var("PHANANH_MEDIA_TESTS").as_deref() != Ok("1"),
            "PHANANH_MEDIA_TESTS=1 but ffmpeg and ffprobe are missing (apt-get install ffmpeg)"
        );
        eprintln!(
            "test skipped: ffmpeg and ffprobe are not installed (apt-get install ffmpeg; \
             PHANANH_MEDIA_TESTS=1 makes this an error)"
        );
        false
    }

    /// Runs `ffmpeg` with `args` (test patterns from `lavfi`) into a file named `out`
    /// (its extension picks nothing: `-f` is among the args) and returns its bytes.
    pub fn ffmpeg(args: &[&str]) -> Vec<u8> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = dir.path().join("out");
        let result = Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
            .args(args)
            .arg(&out)
            .output()
            .unwrap_or_else(|e| {
                panic!("ffmpeg is needed for this test (apt-get install ffmpeg): {e}")
            });
        assert!(
            result.status.success(),
            "ffmpeg {args:?}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        std::fs::read(&out).expect("ffmpeg's output")
    }

    const PICTURE: [&str; 4] = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10"];
    const SOUND: [&str; 4] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000"];

    fn with(parts: &[&[&str]]) -> Vec<u8> {
        let args: Vec<&str> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        ffmpeg(&args)
    }

    fn secs(s: u32) -> String {
        s.to_string()
    }

    /// An H.264 + AAC MP4 of `seconds`.
    pub fn mp4(seconds: u32) -> Vec<u8> {
        let t = secs(seconds);
        with(&[
            &PICTURE,
            &SOUND,
            &[
                "-t", &t, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
            ],
            &["-f", "mp4"],
        ])
    }

    /// A QuickTime movie (an iPhone's), with the place in a `©xyz` atom as ffmpeg's MOV
    /// muxer writes it.
    pub fn mov_with_location() -> Vec<u8> {
        with(&[
            &PICTURE,
            &SOUND,
            &[
                "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
            ],
            &["-metadata", "location=+10.7769+106.7009/", "-f", "mov"],
        ])
    }

    /// A 3GP video (H.263 + AAC), as older phones record.
    pub fn three_gp() -> Vec<u8> {
        with(&[
            &["-f", "lavfi", "-i", "testsrc=size=176x144:rate=10"],
            &SOUND,
            &[
                "-t", "1", "-c:v", "h263", "-c:a", "aac", "-ar", "16000", "-f", "3gp",
            ],
        ])
    }

    /// A WebM video (VP8 + Opus), as a browser records.
    pub fn webm_video() -> Vec<u8> {
        with(&[
            &PICTURE,
            &["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
            &["-t", "1", "-c:v", "libvpx", "-c:a", "libopus", "-f", "webm"],
        ])
    }

    /// An Opus voice note in WebM (Chrome's `MediaRecorder`).
    pub fn webm_audio() -> Vec<u8> {
        with(&[
            &["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
            &["-t", "1", "-c:a", "libopus", "-f", "webm"],
        ])
    }

    /// An AAC voice note in M4A (iPhone's Voice Memos) of `seconds`.
    pub fn m4a(seconds: u32) -> Vec<u8> {
        let t = secs(seconds);
        with(&[&SOUND, &["-t", &t, "-c:a", "aac", "-f", "ipod"]])
    }

    /// Raw AAC in ADTS frames.
    pub fn aac() -> Vec<u8> {
        with(&[&SOUND, &["-t", "1", "-c:a", "aac", "-f", "adts"]])
    }

    /// An Ogg Opus voice note (WhatsApp's, Telegram's).
    pub fn ogg_opus() -> Vec<u8> {
        with(&[
            &["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
            &["-t", "1", "-c:a", "libopus", "-f", "ogg"],
        ])
    }

    /// An AMR-NB voice note (Android's recorder) of `seconds`: Debian's ffmpeg has no AMR
    /// encoder, so the frames are written here: 12.2 kbit/s frames (a table-of-contents
    /// byte, then 31 bytes of speech bits), 50 a second.
    pub fn amr(seconds: u32) -> Vec<u8> {
        let mut out = b"#!AMR\n".to_vec();
        for i in 0..seconds * 50 {
            out.push(0x3C);
            out.extend((0..31u32).map(|j| ((i * 31 + j) % 251) as u8));
        }
        out
    }

    /// An MP4 as an Android phone writes it: the place in a `©xyz` atom in `moov/udta`,
    /// and (as an iPhone writes it) `com.apple.quicktime.location.ISO6709` in `moov/meta`.
    pub fn mp4_with_location() -> Vec<u8> {
        let mut bytes = with(&[
            &PICTURE,
            &SOUND,
            &[
                "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
            ],
            &[
                "-metadata",
                "com.apple.quicktime.location.ISO6709=+10.7769+106.7009/",
                "-movflags",
                "+use_metadata_tags",
                "-f",
                "mp4",
            ],
        ]);
        add_xyz_atom(&mut bytes, "+10.7769+106.7009/");
        bytes
    }

    /// Appends `udta/©xyz` to the `moov` box, which must be the file's last box (ffmpeg
    /// writes it last unless asked for `faststart`).
    pub fn add_xyz_atom(mp4: &mut Vec<u8>, iso6709: &str) {
        let mut at = 0usize;
        let mut moov = None;
        while at + 8 <= mp4.len() {
            let size = be32(&mp4[at..at + 4]);
            if &mp4[at + 4..at + 8] == b"moov" {
                moov = Some(at);
            }
            assert!(size >= 8, "a box of size {size}");
            at += size;
        }
        let moov = moov.expect("a moov box");
        let moov_size = be32(&mp4[moov..moov + 4]);
        assert_eq!(moov + moov_size, mp4.len(), "moov is the last box");
        let text = iso6709.as_bytes();
        let mut xyz = Vec::new();
        xyz.extend(((8 + 4 + text.len()) as u32).to_be_bytes());
        xyz.extend(b"\xA9xyz");
        xyz.extend((text.len() as u16).to_be_bytes());
        xyz.extend(0x15C7u16.to_be_bytes()); // language
        xyz.extend(text);
        let mut udta = Vec::new();
        udta.extend(((8 + xyz.len()) as u32).to_be_bytes());
        udta.extend(b"udta");
        udta.extend(xyz);
        mp4.extend(&udta);
        let new_size = (moov_size + udta.len()) as u32;
        mp4[moov..moov + 4].copy_from_slice(&new_size.to_be_bytes());
    }

    fn be32(b: &[u8]) -> usize {
        b.iter().fold(0usize, |n, x| (n << 8) | *x as usize)
    }

    /// Whether `bytes` contain `needle`.
    pub fn contains(bytes: &[u8], needle: &[u8]) -> bool {
        bytes.windows(needle.len()).any(|w| w == needle)
    }

    /// `ffprobe`'s view of a file's tags (format and streams), as text.
    pub fn ffprobe_tags(path: &Path) -> String {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format_tags:stream_tags",
                "-of",
                "json",
            ])
            .arg(path)
            .output()
            .unwrap_or_else(|e| {
                panic!("ffprobe is needed for this test (apt-get install ffmpeg): {e}")
            });
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
