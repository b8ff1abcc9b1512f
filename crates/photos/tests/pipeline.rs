#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage, Rgba, RgbaImage};
use phananh_photos::sample::phone_jpeg;
use phananh_photos::{FsPhotoStore, PhotoError, PhotoLimits, PhotoStore, process};

fn encoded(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn exif_and_gps_are_stripped_and_orientation_applied() {
    let input = phone_jpeg();
    assert!(contains(&input, b"Exif"));
    let p = process(&input, &PhotoLimits::default()).unwrap();
    assert_eq!((p.width, p.height), (20, 40), "turned upright");
    assert!(
        !contains(&p.jpeg, b"Exif") && !contains(&p.thumb_jpeg, b"Exif"),
        "metadata gone"
    );
    let out = image::load_from_memory(&p.jpeg).unwrap().to_rgb8();
    // After a 90° clockwise turn the red (left) half is at the top.
    let top = out.get_pixel(10, 5).0;
    let bottom = out.get_pixel(10, 35).0;
    assert!(top[0] > 200 && top[2] < 60, "{top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "{bottom:?}");
    assert_eq!(p.source_format, "jpeg");
}

#[test]
fn the_cameras_position_is_read_before_it_is_stripped() {
    // A street in Ho Chi Minh City, and one south and west of Greenwich.
    for (lat, lon) in [(10.7725, 106.698), (-33.8568, -151.2153)] {
        let input = phananh_photos::sample::jpeg_at(lat, lon);
        let (la, lo) = phananh_photos::gps_position(&input).unwrap();
        assert!(
            (la - lat).abs() < 1e-6 && (lo - lon).abs() < 1e-6,
            "{la}, {lo}"
        );
        let p = process(&input, &PhotoLimits::default()).unwrap();
        assert_eq!(p.gps, Some((la, lo)));
        assert!(
            phananh_photos::gps_position(&p.jpeg).is_none(),
            "gone from the copy"
        );
    }
    // A latitude reference alone is no position; nor is a photo without EXIF.
    assert!(phananh_photos::gps_position(&phone_jpeg()).is_none());
    assert!(
        process(&phone_jpeg(), &PhotoLimits::default())
            .unwrap()
            .gps
            .is_none()
    );
    assert!(phananh_photos::gps_position(b"not an image").is_none());
}

#[test]
fn png_and_webp_become_jpeg_with_a_thumbnail() {
    let png = encoded(
        &DynamicImage::ImageRgba8(RgbaImage::from_pixel(1000, 500, Rgba([0, 128, 0, 0]))),
        ImageFormat::Png,
    );
    let p = process(&png, &PhotoLimits::default()).unwrap();
    assert_eq!(image::guess_format(&p.jpeg).unwrap(), ImageFormat::Jpeg);
    assert_eq!((p.width, p.height), (1000, 500));
    let thumb = image::load_from_memory(&p.thumb_jpeg).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 160));
    // Transparent pixels become white, not black.
    assert!(
        image::load_from_memory(&p.jpeg)
            .unwrap()
            .to_rgb8()
            .get_pixel(5, 5)
            .0
            .iter()
            .all(|c| *c > 240)
    );
    let webp = encoded(
        &DynamicImage::ImageRgba8(RgbaImage::from_pixel(30, 30, Rgba([1, 2, 3, 255]))),
        ImageFormat::WebP,
    );
    assert_eq!(
        process(&webp, &PhotoLimits::default())
            .unwrap()
            .source_format,
        "webp"
    );
}

#[test]
fn big_photos_are_scaled_down() {
    let png = encoded(
        &DynamicImage::ImageRgb8(RgbImage::new(3000, 1000)),
        ImageFormat::Png,
    );
    let p = process(&png, &PhotoLimits::default()).unwrap();
    assert_eq!((p.width, p.height), (2048, 683));
}

#[test]
fn what_is_refused_and_why() {
    let limits = PhotoLimits::default();
    assert_eq!(
        process(b"hello, this is not a photo", &limits).unwrap_err(),
        PhotoError::NotAnImage
    );
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    assert_eq!(process(gif, &limits).unwrap_err(), PhotoError::NotAnImage);
    let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic";
    assert_eq!(process(heic, &limits).unwrap_err(), PhotoError::Heic);
    let big = vec![0u8; limits.max_bytes + 1];
    assert_eq!(
        process(&big, &limits).unwrap_err(),
        PhotoError::TooLarge(10)
    );
    let png = encoded(
        &DynamicImage::ImageRgb8(RgbImage::new(20, 20)),
        ImageFormat::Png,
    );
    let tiny = PhotoLimits {
        max_pixels: 100,
        ..limits
    };
    assert!(matches!(
        process(&png, &tiny).unwrap_err(),
        PhotoError::TooManyPixels(_)
    ));
    let jpeg = phone_jpeg();
    let broken = &jpeg[..jpeg.len() / 2];
    let e = process(broken, &limits).unwrap_err();
    assert_eq!(e.code(), "photo_broken", "{e}");
    assert!(e.to_string().starts_with("Ảnh bị hỏng"));
}

#[test]
fn the_store_keeps_files_under_its_root_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsPhotoStore::new(dir.path().join("photos")).unwrap();
    store.put("2026/03/abc.jpg", b"x").unwrap();
    assert_eq!(store.get("2026/03/abc.jpg").unwrap(), b"x");
    for bad in [
        "../x.jpg",
        "/etc/passwd",
        "a/../../b",
        "",
        "a b.jpg",
        "a//b",
    ] {
        assert!(store.put(bad, b"x").is_err(), "{bad}");
    }
    store.delete("2026/03/abc.jpg").unwrap();
    assert!(store.get("2026/03/abc.jpg").is_err());
}
