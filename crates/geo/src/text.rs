//! Vietnamese text normalisation for matching: lower case, no diacritics.
//!
//! Works on precomposed (NFC) and decomposed (NFD) input alike, without a Unicode
//! normalisation crate: combining marks U+0300–U+036F are dropped, and precomposed
//! Vietnamese letters go through a table.

/// Lower case, Vietnamese diacritics removed (`đ`/`Đ` → `d`), whitespace collapsed to
/// single spaces and trimmed. Punctuation is kept.
///
/// ```
/// assert_eq!(phananh_geo::text::fold("  Phường   Bến Thành "), "phuong ben thanh");
/// ```
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if is_combining_mark(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match base_letter(c) {
            Some(b) => out.push(b),
            None => out.extend(c.to_lowercase().filter(|&l| !is_combining_mark(l))),
        }
    }
    out
}

/// [`fold`], then every run of characters that are not letters or digits becomes one
/// space, and letters and digits are split apart (`"P.12"` → `"p 12"`, `"Q3"` → `"q 3"`).
/// The result is a list of words separated by single spaces.
///
/// ```
/// assert_eq!(phananh_geo::text::fold_words("12/3 Lê Lợi, P.Bến Thành, Q1"), "12 3 le loi p ben thanh q 1");
/// ```
pub fn fold_words(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    // 0: nothing yet or after a separator, 1: in letters, 2: in digits.
    let mut prev = 0u8;
    for c in folded.chars() {
        let class = if c.is_ascii_digit() || (c.is_numeric() && !c.is_alphabetic()) {
            2
        } else if c.is_alphanumeric() {
            1
        } else {
            0
        };
        if class == 0 {
            prev = 0;
            continue;
        }
        if !out.is_empty() && class != prev {
            out.push(' ');
        }
        out.push(c);
        prev = class;
    }
    out
}

/// The words of [`fold_words`].
pub fn words(s: &str) -> Vec<String> {
    fold_words(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// The lower-case ASCII base letter of a precomposed Vietnamese (and a few other
/// Latin) letters; `None` for anything else.
fn base_letter(c: char) -> Option<char> {
    let b = match c {
        'à' | 'á' | 'ả' | 'ã' | 'ạ' | 'ă' | 'ằ' | 'ắ' | 'ẳ' | 'ẵ' | 'ặ' | 'â' | 'ầ' | 'ấ' | 'ẩ'
        | 'ẫ' | 'ậ' | 'À' | 'Á' | 'Ả' | 'Ã' | 'Ạ' | 'Ă' | 'Ằ' | 'Ắ' | 'Ẳ' | 'Ẵ' | 'Ặ' | 'Â'
        | 'Ầ' | 'Ấ' | 'Ẩ' | 'Ẫ' | 'Ậ' | 'ä' | 'å' | 'Ä' | 'Å' => 'a',
        'è' | 'é' | 'ẻ' | 'ẽ' | 'ẹ' | 'ê' | 'ề' | 'ế' | 'ể' | 'ễ' | 'ệ' | 'È' | 'É' | 'Ẻ' | 'Ẽ'
        | 'Ẹ' | 'Ê' | 'Ề' | 'Ế' | 'Ể' | 'Ễ' | 'Ệ' | 'ë' | 'Ë' => 'e',
        'ì' | 'í' | 'ỉ' | 'ĩ' | 'ị' | 'Ì' | 'Í' | 'Ỉ' | 'Ĩ' | 'Ị' | 'î' | 'ï' | 'Î' | 'Ï' => {
            'i'
        }
        'ò' | 'ó' | 'ỏ' | 'õ' | 'ọ' | 'ô' | 'ồ' | 'ố' | 'ổ' | 'ỗ' | 'ộ' | 'ơ' | 'ờ' | 'ớ' | 'ở'
        | 'ỡ' | 'ợ' | 'Ò' | 'Ó' | 'Ỏ' | 'Õ' | 'Ọ' | 'Ô' | 'Ồ' | 'Ố' | 'Ổ' | 'Ỗ' | 'Ộ' | 'Ơ'
        | 'Ờ' | 'Ớ' | 'Ở' | 'Ỡ' | 'Ợ' | 'ö' | 'Ö' => 'o',
        'ù' | 'ú' | 'ủ' | 'ũ' | 'ụ' | 'ư' | 'ừ' | 'ứ' | 'ử' | 'ữ' | 'ự' | 'Ù' | 'Ú' | 'Ủ' | 'Ũ'
        | 'Ụ' | 'Ư' | 'Ừ' | 'Ứ' | 'Ử' | 'Ữ' | 'Ự' | 'û' | 'ü' | 'Û' | 'Ü' => 'u',
        'ỳ' | 'ý' | 'ỷ' | 'ỹ' | 'ỵ' | 'Ỳ' | 'Ý' | 'Ỷ' | 'Ỹ' | 'Ỵ' | 'ÿ' => 'y',
        'đ' | 'Đ' | 'ð' | 'Ð' => 'd',
        'ç' | 'Ç' => 'c',
        'ñ' | 'Ñ' => 'n',
        _ => return None,
    };
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_precomposed_vietnamese() {
        assert_eq!(fold("Phường Bến Thành"), "phuong ben thanh");
        assert_eq!(fold("Đặc khu Côn Đảo"), "dac khu con dao");
        assert_eq!(fold("Thành phố Hồ Chí Minh"), "thanh pho ho chi minh");
        assert_eq!(fold("Xã Thạnh An"), "xa thanh an");
        assert_eq!(fold("ĐƯỜNG NGUYỄN HUỆ"), "duong nguyen hue");
        assert_eq!(fold("Hoà Hưng / Hòa Hưng"), "hoa hung / hoa hung");
    }

    #[test]
    fn folds_decomposed_input() {
        // "Phường Bến Thành" in NFD: base letters followed by combining marks.
        let nfd = "Phu\u{031B}\u{0300}o\u{031B}ng Be\u{0302}\u{0301}n Tha\u{0300}nh";
        assert_eq!(fold(nfd), "phuong ben thanh");
        // "Đặc khu Côn Đảo" (Đ has no decomposition; the rest is decomposed).
        let nfd = "Đa\u{0323}\u{0306}c khu Co\u{0302}n Đa\u{0309}o";
        assert_eq!(fold(nfd), "dac khu con dao");
        // Mixed: precomposed letter followed by a stray combining mark.
        assert_eq!(fold("Bê\u{0301}n"), "ben");
    }

    #[test]
    fn collapses_whitespace() {
        assert_eq!(fold("  a \t\n b  "), "a b");
        assert_eq!(fold(""), "");
        assert_eq!(fold("   "), "");
    }

    #[test]
    fn words_split_punctuation_and_numbers() {
        assert_eq!(fold_words("P.12, Q.Tân Bình"), "p 12 q tan binh");
        assert_eq!(fold_words("TP.HCM"), "tp hcm");
        assert_eq!(fold_words("P1Q3"), "p 1 q 3");
        assert_eq!(words("  số 5, hẻm 3/2 "), vec!["so", "5", "hem", "3", "2"]);
    }
}
