//! Tracking codes: short, read aloud over the phone, typed from an SMS.
//!
//! Eight characters from a 29-letter alphabet with no look-alikes (no 0/O, 1/I/L, U/V),
//! written `XXXX-XXXX`. The last character is a check character (weighted sum modulo 29,
//! a prime, so any single wrong character and any swap of two neighbours is detected):
//! a code misheard on the phone is refused instead of finding someone else's report.
//! Seven random characters give 29^7 ≈ 1.7e10 codes; a collision is caught by the unique
//! index and retried with a new code.

use std::fmt;
use std::str::FromStr;

const ALPHABET: &[u8; 29] = b"23456789ABCDEFGHJKMNPQRSTWXYZ";
const BODY: usize = 7;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("mã hồ sơ phải có 8 ký tự / a tracking code has 8 characters")]
    Length,
    #[error("mã hồ sơ có ký tự không hợp lệ / invalid character in tracking code")]
    Character,
    #[error("mã hồ sơ sai (ký tự kiểm tra) / tracking code check failed")]
    Check,
}

fn index_of(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == c)
}

fn check_char(body: &[usize]) -> usize {
    body.iter()
        .enumerate()
        .map(|(i, &v)| (i + 2) * v)
        .sum::<usize>()
        % ALPHABET.len()
}

impl TrackingCode {
    /// Builds a code from random bits (the caller owns the randomness: no I/O here).
    pub fn from_random(mut bits: u64) -> TrackingCode {
        let mut body = [0usize; BODY];
        for slot in body.iter_mut() {
            *slot = (bits % ALPHABET.len() as u64) as usize;
            bits /= ALPHABET.len() as u64;
        }
        let check = check_char(&body);
        let mut s = String::with_capacity(9);
        for (i, v) in body.iter().chain(std::iter::once(&check)).enumerate() {
            if i == 4 {
                s.push('-');
            }
            s.push(ALPHABET[*v] as char);
        }
        TrackingCode(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TrackingCode {
    type Err = CodeError;

    /// Accepts what people type: lower case, spaces or dashes anywhere, and the usual
    /// confusions (O→0 is not in the alphabet, so O is read as 0 → refused by check).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let chars: Vec<u8> = input
            .bytes()
            .filter(|b| !matches!(b, b'-' | b' ' | b'.' | b'\t'))
            .map(|b| b.to_ascii_uppercase())
            .collect();
        if chars.len() != BODY + 1 {
            return Err(CodeError::Length);
        }
        let mut values = Vec::with_capacity(BODY + 1);
        for c in &chars {
            values.push(index_of(*c).ok_or(CodeError::Character)?);
        }
        if check_char(&values[..BODY]) != values[BODY] {
            return Err(CodeError::Check);
        }
        let mut s = String::with_capacity(9);
        for (i, c) in chars.iter().enumerate() {
            if i == 4 {
                s.push('-');
            }
            s.push(*c as char);
        }
        Ok(TrackingCode(s))
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_normalises_input() {
        for bits in [0u64, 1, 12345, u64::MAX, 0xdead_beef_cafe] {
            let code = TrackingCode::from_random(bits);
            assert_eq!(code.as_str().len(), 9);
            let typed = code.as_str().to_lowercase().replace('-', " ");
            assert_eq!(typed.parse::<TrackingCode>().unwrap(), code);
        }
    }

    #[test]
    fn no_ambiguous_characters() {
        for c in b"01ILOUV" {
            assert!(!ALPHABET.contains(c));
        }
    }

    #[test]
    fn every_single_substitution_and_adjacent_swap_is_detected() {
        let code = TrackingCode::from_random(987_654_321_123);
        let raw: Vec<u8> = code.as_str().bytes().filter(|&b| b != b'-').collect();
        for pos in 0..raw.len() {
            for &a in ALPHABET {
                if a == raw[pos] {
                    continue;
                }
                let mut bad = raw.clone();
                bad[pos] = a;
                let s = String::from_utf8(bad).unwrap();
                assert!(s.parse::<TrackingCode>().is_err(), "{s} accepted");
            }
        }
        for pos in 0..raw.len() - 1 {
            if raw[pos] == raw[pos + 1] {
                continue;
            }
            let mut bad = raw.clone();
            bad.swap(pos, pos + 1);
            let s = String::from_utf8(bad).unwrap();
            assert!(s.parse::<TrackingCode>().is_err(), "{s} accepted");
        }
    }

    #[test]
    fn refuses_wrong_length_and_characters() {
        assert_eq!("ABC".parse::<TrackingCode>(), Err(CodeError::Length));
        assert_eq!(
            "ABCD-EFG0".parse::<TrackingCode>(),
            Err(CodeError::Character)
        );
    }
}
