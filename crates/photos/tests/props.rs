//! Properties the fuzz target fuzz/fuzz_targets/photo.rs checks at length, on a fixed budget
//! for CI: decoding takes any bytes without panicking (whatever the format sniffed), and a
//! 1 MB input of garbage or of a truncated real photo.

#![allow(clippy::unwrap_used)]

use phananh_photos::{PhotoLimits, process, sample};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = process(&bytes, &PhotoLimits::default());
    }

    #[test]
    fn damaged_real_photos(cut in 0usize..4096, flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16)) {
        let mut jpeg = sample::phone_jpeg();
        for (i, b) in &flips {
            let at = i.index(jpeg.len());
            jpeg[at] = *b;
        }
        jpeg.truncate(jpeg.len().saturating_sub(cut));
        let _ = process(&jpeg, &PhotoLimits::default());
    }

    #[test]
    fn headers_of_every_format(magic in prop::sample::select(vec![&b"\xff\xd8\xff\xe0"[..], b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBPVP8 ", b"\0\0\0\x18ftypheic", b"GIF89a"]), rest in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = magic.to_vec();
        bytes.extend(rest);
        let _ = process(&bytes, &PhotoLimits::default());
    }
}

#[test]
fn one_megabyte_inputs() {
    let mut garbage = vec![0u8; 1_048_576];
    let mut x: u32 = 12345;
    for b in &mut garbage {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 16) as u8;
    }
    let _ = process(&garbage, &PhotoLimits::default());
    let mut jpeg = sample::phone_jpeg();
    jpeg.truncate(jpeg.len() / 2);
    jpeg.resize(1_048_576, 0);
    let _ = process(&jpeg, &PhotoLimits::default());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(&garbage);
    assert!(process(&png, &PhotoLimits::default()).is_err());
}
