//! HMAC, one implementation for every signature phananh makes or checks: the platforms'
//! webhook signatures (Messenger, Viber, Twilio), Messenger's `appsecret_proof`, the
//! webhooks phananh signs for units, and the tokens of rating links. Pure, so any crate
//! may use it.

use hmac::{Hmac, Mac};

/// HMAC-SHA256 under `key` of the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Hex HMAC-SHA256 of `body`, as the platforms sign (and as the tests' fake platforms sign).
pub fn hmac_sha256_hex(key: &[u8], body: &[u8]) -> String {
    hex::encode(hmac_sha256(key, &[body]))
}

/// Whether `tag` is the HMAC-SHA256 under `key` of the concatenation of `parts`, compared
/// in constant time.
pub fn verify_hmac_sha256(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.verify_slice(tag).is_ok()
}

/// HMAC-SHA1 of `msg` (Twilio signs with it).
pub fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_case_2() {
        let tag = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            tag
        );
        let tag = hex::decode(tag).unwrap();
        assert!(verify_hmac_sha256(
            b"Jefe",
            &[b"what do ya want ", b"for nothing?"],
            &tag
        ));
        assert!(!verify_hmac_sha256(b"Jefe", &[b"what do ya want"], &tag));
        assert!(!verify_hmac_sha256(
            b"Jefe",
            &[b"what do ya want for nothing?"],
            &tag[..31]
        ));
    }

    #[test]
    fn rfc_2202_sha1_case_2() {
        assert_eq!(
            hex::encode(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }
}
