//! The photo pipeline every channel uses (web form, chat apps, email, staff resolutions).
//!
//! A photo is accepted by what its bytes are, never by its name or declared type; it is
//! decoded under size, pixel and memory limits, turned upright by its EXIF orientation, then
//! re-encoded as JPEG. Re-encoding writes only pixels: EXIF (GPS position, camera, time),
//! XMP and every other metadata the citizen's phone added is gone. A thumbnail is made too.
//!
//! [`PhotoStore`] is where the results live: a directory by default; an S3-compatible
//! store can implement the same trait.

pub mod media;
pub mod sample;
mod store;

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

pub use store::{FsPhotoStore, PhotoStore};

/// Limits on what is accepted.
#[derive(Debug, Clone, Copy)]
pub struct PhotoLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
    /// Memory the decoder may allocate.
    pub max_alloc: u64,
    /// Longest side of the stored photo (larger ones are scaled down).
    pub max_side: u32,
    /// Longest side of the thumbnail.
    pub thumb_side: u32,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        PhotoLimits {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_alloc: 512 * 1024 * 1024,
            max_side: 2048,
            thumb_side: 320,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("Ảnh lớn hơn {0} MB / the photo is larger than {0} MB")]
    TooLarge(usize),
    #[error("Ảnh quá nhiều điểm ảnh (tối đa {0} triệu) / the photo has more than {0} megapixels")]
    TooManyPixels(u64),
    #[error(
        "Ảnh HEIC chưa được hỗ trợ: hãy chọn JPEG trong cài đặt máy ảnh (\"Tương thích nhất\") / HEIC is not supported yet: choose JPEG (\"Most compatible\") in the camera settings"
    )]
    Heic,
    #[error("Tệp không phải ảnh JPEG, PNG hoặc WebP / the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("Ảnh bị hỏng hoặc không đọc được / the image is broken or cannot be read: {0}")]
    Broken(String),
}

impl PhotoError {
    /// A stable code for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::TooLarge(_) => "photo_too_large",
            PhotoError::TooManyPixels(_) => "photo_too_many_pixels",
            PhotoError::Heic => "photo_heic_unsupported",
            PhotoError::NotAnImage => "photo_not_an_image",
            PhotoError::Broken(_) => "photo_broken",
        }
    }
}

/// A photo ready to keep: JPEG bytes without metadata, upright.
#[derive(Debug, Clone)]
pub struct Processed {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub thumb_jpeg: Vec<u8>,
    /// What the bytes were.
    pub source_format: &'static str,
    /// (latitude, longitude) the camera wrote into the EXIF block, read before it is
    /// stripped (personal data: kept only where a caller has a use for it).
    pub gps: Option<(f64, f64)>,
}

pub const CONTENT_TYPE: &str = "image/jpeg";

/// HEIF/HEIC files are ISO-BMFF with an `ftyp` box naming a HEIF brand.
fn is_heif(bytes: &[u8]) -> bool {
    bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(
            &bytes[8..12],
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif"
        )
}

/// Checks, decodes, turns upright and re-encodes a photo.
pub fn process(bytes: &[u8], limits: &PhotoLimits) -> Result<Processed, PhotoError> {
    if bytes.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge(limits.max_bytes / (1024 * 1024)));
    }
    if is_heif(bytes) {
        return Err(PhotoError::Heic);
    }
    let format = image::guess_format(bytes).map_err(|_| PhotoError::NotAnImage)?;
    let name = match format {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
        ImageFormat::WebP => "webp",
        _ => return Err(PhotoError::NotAnImage),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| PhotoError::Broken(e.to_string()))?;
    let (w, h) = decoder.dimensions();
    if w as u64 * h as u64 > limits.max_pixels {
        return Err(PhotoError::TooManyPixels(limits.max_pixels / 1_000_000));
    }
    let orientation = decoder
        .orientation()
        .map_err(|e| PhotoError::Broken(e.to_string()))?;
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| PhotoError::Broken(e.to_string()))?;
    img.apply_orientation(orientation);
    if img.width().max(img.height()) > limits.max_side {
        img = img.resize(
            limits.max_side,
            limits.max_side,
            image::imageops::FilterType::Triangle,
        );
    }
    // JPEG has no alpha: flatten onto white, as people expect for screenshots and PNGs.
    let rgb = DynamicImage::ImageRgb8(flatten(&img));
    let jpeg = encode(&rgb, 85)?;
    let thumb = rgb.thumbnail(limits.thumb_side, limits.thumb_side);
    let thumb_jpeg = encode(&thumb, 80)?;
    Ok(Processed {
        jpeg,
        width: rgb.width(),
        height: rgb.height(),
        thumb_jpeg,
        source_format: name,
        gps: gps_position(bytes),
    })
}

/// The position in a photo's EXIF block (`GPSLatitude`/`GPSLongitude` with their
/// references), as (latitude, longitude) in degrees; `None` when there is none or it is
/// not a position on Earth. Reads only the EXIF segment (linear in the file's size, which
/// the caller has capped).
pub fn gps_position(bytes: &[u8]) -> Option<(f64, f64)> {
    use exif::{In, Tag, Value};
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()?;
    let degrees = |tag: Tag, reference: Tag, negative: u8| -> Option<f64> {
        let f = exif.get_field(tag, In::PRIMARY)?;
        let Value::Rational(parts) = &f.value else {
            return None;
        };
        let [d, m, s] = parts.get(..3)? else {
            return None;
        };
        let value = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let sign = match &exif.get_field(reference, In::PRIMARY)?.value {
            Value::Ascii(v) if v.first().and_then(|r| r.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        value.is_finite().then_some(sign * value)
    };
    let lat = degrees(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = degrees(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// The width and height of a photo we keep (a JPEG written by [`process`]).
pub fn dimensions(jpeg: &[u8]) -> Option<(u32, u32)> {
    ImageReader::with_format(Cursor::new(jpeg), ImageFormat::Jpeg)
        .into_dimensions()
        .ok()
}

/// A copy of a kept photo with the rectangles `(x, y, width, height)` painted over in
/// solid black: a blur can sometimes be undone, a fill cannot. Rectangles are clipped to
/// the photo. The copy is re-encoded like any kept photo, with its thumbnail.
pub fn redact(
    jpeg: &[u8],
    boxes: &[(u32, u32, u32, u32)],
    limits: &PhotoLimits,
) -> Result<Processed, PhotoError> {
    if jpeg.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge(limits.max_bytes / (1024 * 1024)));
    }
    let mut reader = ImageReader::with_format(Cursor::new(jpeg), ImageFormat::Jpeg);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);
    let img = reader
        .decode()
        .map_err(|e| PhotoError::Broken(e.to_string()))?;
    let mut rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    for &(x, y, bw, bh) in boxes {
        let (x1, y1) = (x.saturating_add(bw).min(w), y.saturating_add(bh).min(h));
        for py in y.min(h)..y1 {
            for px in x.min(w)..x1 {
                rgb.put_pixel(px, py, image::Rgb([0, 0, 0]));
            }
        }
    }
    let rgb = DynamicImage::ImageRgb8(rgb);
    let jpeg = encode(&rgb, 85)?;
    let thumb = rgb.thumbnail(limits.thumb_side, limits.thumb_side);
    Ok(Processed {
        jpeg,
        width: w,
        height: h,
        thumb_jpeg: encode(&thumb, 80)?,
        source_format: "jpeg",
        gps: None,
    })
}

fn flatten(img: &DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = p[3] as u16;
        let mix = |c: u8| ((c as u16 * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(encoder)
        .map_err(|e| PhotoError::Broken(e.to_string()))?;
    Ok(out)
}
