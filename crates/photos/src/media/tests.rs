//! Sniffing, limits and remuxing, on real files made by ffmpeg at test time (see
//! `crate::sample::media`). These tests need `ffmpeg` and fail without it.

use super::*;
use crate::sample::media as sample;

fn limits() -> MediaLimits {
    MediaLimits::default()
}

fn run_process(bytes: &[u8], limits: &MediaLimits) -> Result<ProcessedMedia, MediaError> {
    process(&mut &bytes[..], bytes.len() as u64, limits)
}

#[test]
fn every_accepted_type_is_recognised_by_its_bytes() {
    if !sample::available() {
        return;
    }
    let cases: Vec<(&str, Vec<u8>, Container)> = vec![
        ("mp4", sample::mp4(1), Container::Mp4),
        ("mov", sample::mov_with_location(), Container::Mov),
        ("3gp", sample::three_gp(), Container::ThreeGp),
        ("webm video", sample::webm_video(), Container::WebM),
        ("webm audio", sample::webm_audio(), Container::WebM),
        ("m4a", sample::m4a(1), Container::M4a),
        ("aac", sample::aac(), Container::Aac),
        ("ogg opus", sample::ogg_opus(), Container::Ogg),
        ("amr", sample::amr(1), Container::Amr),
    ];
    for (name, bytes, want) in cases {
        assert_eq!(
            sniff(&bytes[..bytes.len().min(SNIFF_BYTES)]),
            Some(want),
            "{name}"
        );
    }
}

#[test]
fn anything_else_is_refused_whatever_its_name() {
    if !sample::available() {
        return;
    }
    // A text file renamed .mp4, a GIF, a Windows program, a JPEG, a HEIC photo, a
    // Matroska (not WebM) file, an MP3, an Ogg Theora video.
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend(vec![0u8; 48]);
    exe.extend(b"This program cannot be run in DOS mode.");
    let mut heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec();
    heic.extend(vec![0u8; 32]);
    let mkv = sample::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "1",
        "-c:a",
        "libopus",
        "-f",
        "matroska",
    ]);
    let mp3_like = b"\xFF\xFB\x90\x64\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    let mut theora = b"OggS\x00\x02".to_vec();
    theora.extend(vec![0u8; 20]);
    theora.push(1);
    theora.push(42);
    theora.extend(b"\x80theora");
    for (name, bytes) in [
        ("text", b"just some text, named video.mp4\n".to_vec()),
        ("gif", gif),
        ("exe", exe),
        ("jpeg", crate::sample::phone_jpeg()),
        ("heic", heic),
        ("mkv", mkv),
        ("mp3", mp3_like),
        ("ogg theora", theora),
        ("empty", Vec::new()),
    ] {
        assert_eq!(sniff(&bytes), None, "{name}");
        assert_eq!(
            run_process(&bytes, &limits()).unwrap_err(),
            MediaError::NotMedia,
            "{name}"
        );
    }
    let e = MediaError::NotMedia.to_string();
    assert!(
        e.contains("không phải video") && e.contains("is not an MP4"),
        "{e}"
    );
}

#[test]
fn every_accepted_type_is_remuxed_with_its_kind_and_type() {
    if !sample::available() {
        return;
    }
    let cases: Vec<(&str, Vec<u8>, MediaKind, &str)> = vec![
        ("mp4", sample::mp4(1), MediaKind::Video, "video/mp4"),
        (
            "mov",
            sample::mov_with_location(),
            MediaKind::Video,
            "video/quicktime",
        ),
        ("3gp", sample::three_gp(), MediaKind::Video, "video/3gpp"),
        (
            "webm video",
            sample::webm_video(),
            MediaKind::Video,
            "video/webm",
        ),
        (
            "webm audio",
            sample::webm_audio(),
            MediaKind::Audio,
            "audio/webm",
        ),
        ("m4a", sample::m4a(1), MediaKind::Audio, "audio/mp4"),
        ("aac", sample::aac(), MediaKind::Audio, "audio/aac"),
        ("ogg", sample::ogg_opus(), MediaKind::Audio, "audio/ogg"),
        ("amr", sample::amr(1), MediaKind::Audio, "audio/amr"),
    ];
    for (name, bytes, kind, content_type) in cases {
        let p = run_process(&bytes, &limits()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.kind, kind, "{name}");
        assert_eq!(p.content_type, content_type, "{name}");
        assert!(!p.bytes.is_empty(), "{name}");
        assert!(
            (0.5..=1.6).contains(&p.duration.as_secs_f64()),
            "{name}: {:?}",
            p.duration
        );
        // The kept copy is still the same kind of file.
        assert!(
            sniff(&p.bytes[..p.bytes.len().min(SNIFF_BYTES)]).is_some(),
            "{name}"
        );
        match kind {
            MediaKind::Video => {
                let poster = p.poster_jpeg.as_deref().expect("a poster");
                assert!(poster.starts_with(&[0xFF, 0xD8]), "{name}: a JPEG poster");
                let img = image::load_from_memory(poster).unwrap();
                assert!(img.width() >= 64, "{name}");
            }
            MediaKind::Audio => assert!(p.poster_jpeg.is_none(), "{name}"),
        }
    }
}

#[test]
fn the_size_is_checked_before_anything_is_read() {
    if !sample::available() {
        return;
    }
    struct Never;
    impl Read for Never {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            panic!("read although the declared size is over the limit")
        }
    }
    let small = MediaLimits {
        max_bytes: 1024 * 1024,
        ..limits()
    };
    assert_eq!(
        process(&mut Never, 2 * 1024 * 1024, &small).unwrap_err(),
        MediaError::TooLarge(1)
    );
    // A reader that gives more than it said is cut off at the limit.
    let big = vec![0u8; 1024 * 1024 + 10];
    assert_eq!(
        process(&mut &big[..], 100, &small).unwrap_err(),
        MediaError::TooLarge(1)
    );
    assert!(check_size(1024 * 1024, &small).is_ok());
    let e = MediaError::TooLarge(50).to_string();
    assert!(
        e.contains("lớn hơn 50 MB") && e.contains("larger than 50 MB"),
        "{e}"
    );
}

#[test]
fn the_duration_is_limited() {
    if !sample::available() {
        return;
    }
    let short = MediaLimits {
        max_duration: Duration::from_secs(2),
        ..limits()
    };
    assert_eq!(
        run_process(&sample::m4a(4), &short).unwrap_err(),
        MediaError::TooLong(2)
    );
    assert_eq!(
        run_process(&sample::amr(4), &short).unwrap_err(),
        MediaError::TooLong(2)
    );
    assert_eq!(
        run_process(&sample::mp4(4), &short).unwrap_err(),
        MediaError::TooLong(2)
    );
    assert!(run_process(&sample::m4a(1), &short).is_ok());
    assert!(check_duration(120.2, &limits()).is_ok());
    assert!(check_duration(121.0, &limits()).is_err());
    assert!(check_duration(f64::NAN, &limits()).is_err());
}

#[test]
fn a_tool_that_hangs_is_killed() {
    if !sample::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let r = run(
        Path::new("sleep"),
        &["30".to_string()],
        dir.path(),
        Duration::from_millis(300),
    );
    assert_eq!(r.unwrap_err(), MediaError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
    let missing = MediaLimits {
        ffprobe: "/nonexistent/ffprobe".into(),
        ..limits()
    };
    assert!(matches!(
        run_process(&sample::amr(1), &missing).unwrap_err(),
        MediaError::Unavailable(_)
    ));
}

#[test]
fn a_broken_file_of_an_accepted_type_is_refused() {
    if !sample::available() {
        return;
    }
    let mut bytes = sample::mp4(1);
    bytes.truncate(40);
    assert!(matches!(
        run_process(&bytes, &limits()).unwrap_err(),
        MediaError::Broken(_)
    ));
}

/// The place a phone wrote in the file is not in the kept copy: neither in its bytes nor
/// in what ffprobe reads of it.
#[test]
fn the_location_is_gone_from_the_kept_copy() {
    if !sample::available() {
        return;
    }
    for (name, bytes) in [
        ("mp4", sample::mp4_with_location()),
        ("mov", sample::mov_with_location()),
    ] {
        assert!(sample::contains(&bytes, b"+10.7769+106.7009"), "{name}");
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("original");
        std::fs::write(&original, &bytes).unwrap();
        let before = sample::ffprobe_tags(&original);
        assert!(
            before.contains("10.7769"),
            "{name}: ffprobe reads the place: {before}"
        );
        if name == "mp4" {
            assert!(
                sample::contains(&bytes, b"\xA9xyz"),
                "the ©xyz atom is there"
            );
        }

        let p = run_process(&bytes, &limits()).unwrap();
        assert!(!sample::contains(&p.bytes, b"10.7769"), "{name}");
        assert!(!sample::contains(&p.bytes, b"106.7009"), "{name}");
        assert!(!sample::contains(&p.bytes, b"\xA9xyz"), "{name}");
        assert!(!sample::contains(&p.bytes, b"ISO6709"), "{name}");
        let kept = dir.path().join("kept");
        std::fs::write(&kept, &p.bytes).unwrap();
        let after = sample::ffprobe_tags(&kept);
        assert!(!after.contains("10.7769"), "{name}: {after}");
        assert!(!after.contains("location"), "{name}: {after}");
    }
}

#[test]
fn ffprobe_answers_are_read() {
    if !sample::available() {
        return;
    }
    let p = parse_probe(
        br#"{"streams":[{"codec_type":"video","disposition":{"attached_pic":1}},{"codec_type":"audio","disposition":{"attached_pic":0}}],"format":{"duration":"3.5"}}"#,
    )
    .unwrap();
    assert_eq!(
        p,
        Probe {
            duration: Some(3.5),
            video: false,
            audio: true
        }
    );
    let p = parse_probe(br#"{"streams":[{"codec_type":"video"}],"format":{}}"#).unwrap();
    assert_eq!(p.duration, None);
    assert!(p.video);
    assert!(parse_probe(b"not json").is_err());
}
