//! SMS: the syntax citizens text to the short code, texts that fit GSM-7 without accents,
//! Twilio's request signatures, and the gateway settings. No I/O.

use serde::{Deserialize, Serialize};

use crate::conversation::{FieldChoice, tracking_code_in};

/// How phananh receives and sends SMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// Bearer token an SMS gateway presents on `POST /webhooks/sms`.
    pub inbound_token: String,
    /// Twilio's auth token, to check `X-Twilio-Signature` on `/webhooks/twilio/sms`.
    pub twilio_auth_token: String,
    /// "json" (a generic gateway: POST {to, from, text, client_id} with a bearer token) or
    /// "twilio" (the Messages resource, HTTP Basic with the account SID and token).
    pub gateway_kind: String,
    /// Where to send: the generic gateway's URL, or Twilio's API base.
    pub gateway_url: String,
    pub gateway_token: String,
    pub twilio_account_sid: String,
    /// The sender: the short code or brand name (≤ 11 characters).
    pub sender: String,
    /// Segments an outgoing SMS may use.
    pub max_segments: usize,
    /// SMPP 3.4 to the telco's SMSC (`gateway_kind = "smpp"`): host:port, and the bind.
    pub smpp_address: String,
    pub smpp_system_id: String,
    pub smpp_password: String,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            inbound_token: String::new(),
            twilio_auth_token: String::new(),
            gateway_kind: "json".into(),
            gateway_url: String::new(),
            gateway_token: String::new(),
            twilio_account_sid: String::new(),
            sender: "1022".into(),
            max_segments: 2,
            smpp_address: String::new(),
            smpp_system_id: String::new(),
            smpp_password: String::new(),
        }
    }
}

impl SmsConfig {
    pub fn can_send(&self) -> bool {
        if self.gateway_kind == "smpp" {
            !self.smpp_address.is_empty()
        } else {
            !self.gateway_url.is_empty()
        }
    }
}

/// Folds Vietnamese to plain ASCII, keeping case (đ→d, Đ→D, ư→u…), and drops what some
/// carriers refuse (`% # & [ ] { } \ < @`) or GSM-7 cannot carry.
pub fn to_gsm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let folded = phananh_geo::text::fold(&c.to_string());
        let mut it = folded.chars();
        let base = match (it.next(), it.next()) {
            (Some(b), None) => b,
            _ => ' ',
        };
        let base = if c.is_uppercase() {
            base.to_ascii_uppercase()
        } else {
            base
        };
        let keep = base.is_ascii_alphanumeric()
            || matches!(
                base,
                ' ' | '.'
                    | ','
                    | ':'
                    | ';'
                    | '!'
                    | '?'
                    | '-'
                    | '('
                    | ')'
                    | '/'
                    | '\''
                    | '"'
                    | '+'
                    | '='
                    | '*'
                    | '\n'
            );
        out.push(if keep { base } else { ' ' });
    }
    // Collapse runs of spaces (not newlines).
    let mut collapsed = String::with_capacity(out.len());
    let mut prev_space = false;
    for c in out.chars() {
        if c == ' ' {
            if !prev_space {
                collapsed.push(c);
            }
            prev_space = true;
        } else {
            collapsed.push(c);
            prev_space = false;
        }
    }
    collapsed.trim().to_string()
}

/// GSM-7 text cut to `segments` (160 characters for one, 153 per part when concatenated).
pub fn fit(text: &str, segments: usize) -> String {
    let t = to_gsm(text);
    let max = if segments <= 1 { 160 } else { 153 * segments };
    if t.chars().count() <= max {
        return t;
    }
    let mut cut: String = t.chars().take(max - 3).collect();
    if let Some(i) = cut.rfind(' ') {
        cut.truncate(i);
    }
    cut.push_str("...");
    cut
}

/// The text of an incoming short message: UCS-2 (data_coding 8) as phones send Vietnamese
/// with accents, anything else as ASCII/Latin-1 (GSM default alphabet texts arrive so).
pub fn decode_short_message(data_coding: u8, bytes: &[u8]) -> String {
    match data_coding {
        8 => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => bytes.iter().map(|&b| b as char).collect(),
        },
    }
}

/// Segments an ASCII text takes.
pub fn segments(text: &str) -> usize {
    let n = text.chars().count();
    if n <= 160 { 1 } else { n.div_ceil(153) }
}

/// What a text message asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum SmsRequest {
    /// A tracking code: where does my report stand?
    LookUp(String),
    /// A report: its field, what the citizen wrote, and the place if marked ("tai …").
    Report {
        field: String,
        description: String,
        address: Option<String>,
    },
    /// "HD", "help", or text we cannot read: answer with the syntax.
    Help,
    /// Longer than [`MAX_SMS_BYTES`]: not read at all (a person looks at it).
    TooLong,
}

/// The longest text [`parse`] reads, in bytes. A long SMS of ten parts is about 1,600
/// characters; the description a report may carry is 5,000. Anything longer is not a text a
/// phone sends, and is refused before any word is looked at.
pub const MAX_SMS_BYTES: usize = 16 * 1024;

/// Reads `<KEYWORD> <description> [TAI <address>]`, accents or not, any case. The keyword
/// is a field's keyword written as one word ("OGA" for "ổ gà", "NGAP", "DEN"…) or as words.
pub fn parse(text: &str, fields: &[FieldChoice]) -> SmsRequest {
    if text.len() > MAX_SMS_BYTES {
        return SmsRequest::TooLong;
    }
    let original = text.trim();
    if let Some(code) = tracking_code_in(original) {
        return SmsRequest::LookUp(code);
    }
    let words: Vec<&str> = original.split_whitespace().collect();
    let folded: Vec<String> = words
        .iter()
        .map(|w| phananh_geo::text::fold_words(w).replace(' ', ""))
        .collect();
    if folded.is_empty() || matches!(folded[0].as_str(), "hd" | "help" | "huongdan" | "?") {
        return SmsRequest::Help;
    }
    // The longest keyword the message starts with: run together as a code ("OGA", dropped
    // from the description) or as the words themselves (kept: they describe the problem).
    let mut best: Option<(&FieldChoice, usize, usize)> = None; // (field, words to drop, key length)
    for f in fields {
        let mut keys: Vec<String> = f
            .keywords
            .iter()
            .map(|k| phananh_geo::text::fold_words(k))
            .collect();
        keys.push(f.code.clone());
        for k in keys.iter().filter(|k| !k.is_empty()) {
            let kw: Vec<&str> = k.split(' ').collect();
            let drop = if folded[0] == k.replace(' ', "") && (kw.len() > 1 || *k == f.code) {
                Some(1)
            } else if folded.len() >= kw.len()
                && folded[..kw.len()].iter().zip(&kw).all(|(a, b)| a == b)
            {
                Some(0)
            } else {
                None
            };
            if let Some(d) = drop
                && best.is_none_or(|(_, _, len)| k.len() > len)
            {
                best = Some((f, d, k.len()));
            }
        }
    }
    let Some((field, used, _)) = best else {
        return SmsRequest::Help;
    };
    let rest: Vec<&str> = words[used..].to_vec();
    if rest.is_empty() || (used == 0 && rest.len() <= 1) {
        return SmsRequest::Help;
    }
    // "tai", "tại", "dc", "đc", "@" start the address.
    let marker = rest.iter().position(|w| {
        matches!(
            phananh_geo::text::fold_words(w).as_str(),
            "tai" | "dc" | "dia chi"
        ) || w.starts_with('@')
    });
    let (description, address) = match marker {
        Some(i) if i + 1 < rest.len() || rest[i].len() > 1 => {
            let mut addr = rest[i + 1..].join(" ");
            if let Some(a) = rest[i].strip_prefix('@')
                && !a.is_empty()
            {
                addr = format!("{a} {addr}");
            }
            (
                rest[..i].join(" "),
                Some(addr.trim().to_string()).filter(|a| !a.is_empty()),
            )
        }
        _ => (rest.join(" "), None),
    };
    SmsRequest::Report {
        field: field.code.clone(),
        description: if description.is_empty() {
            rest.join(" ")
        } else {
            description
        },
        address,
    }
}

/// The syntax, as the help answer.
pub fn help_text(fields: &[FieldChoice]) -> String {
    let keys: Vec<String> = fields
        .iter()
        .filter_map(|f| f.keywords.first())
        .map(|k| {
            phananh_geo::text::fold_words(k)
                .replace(' ', "")
                .to_uppercase()
        })
        .take(8)
        .collect();
    fit(
        &format!(
            "1022: Soan <TU KHOA> <noi dung> TAI <dia chi, phuong>. Tu khoa: {}. Tra cuu: gui ma ho so.",
            keys.join(", ")
        ),
        2,
    )
}

/// Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1 of the full URL followed by every
/// parameter name and value, sorted by name (and by value for repeated names).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    use base64::Engine;
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut msg = url.to_string();
    for (k, v) in sorted {
        msg.push_str(k);
        msg.push_str(v);
    }
    let tag = crate::mac::hmac_sha1(auth_token.as_bytes(), msg.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag)
}

/// Checks a Twilio signature against the URL as configured, with and without the
/// default port (Twilio signs whichever form it called).
pub fn verify_twilio(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> bool {
    let Some(sig) = signature else { return false };
    if auth_token.is_empty() {
        return false;
    }
    let mut candidates = vec![url.to_string()];
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if let Some(rest) = url.strip_prefix(scheme) {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            if let Some(h) = host.strip_suffix(port) {
                candidates.push(format!("{scheme}{h}{path}"));
            } else if !host.contains(':') {
                candidates.push(format!("{scheme}{host}{port}{path}"));
            }
        }
    }
    candidates.iter().any(|u| {
        let expected = twilio_signature(auth_token, u, params);
        // Constant time: compare the MACs of both strings.
        crate::hmac_sha256_hex(b"cmp", expected.as_bytes())
            == crate::hmac_sha256_hex(b"cmp", sig.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<FieldChoice> {
        let f = |code: &str, kw: &[&str]| FieldChoice {
            code: code.into(),
            name_vi: code.into(),
            name_en: code.into(),
            keywords: kw.iter().map(|s| s.to_string()).collect(),
            questions: vec![],
        };
        vec![
            f("traffic", &["giao thong", "o ga", "ho ga"]),
            f("drainage", &["ngap", "ngap nuoc"]),
            f("lighting", &["den duong", "chieu sang"]),
        ]
    }

    #[test]
    fn the_twilio_vector() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            twilio_signature("12345", url, &params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert!(verify_twilio(
            "12345",
            url,
            &params,
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        // Twilio may have called the URL with its port written out.
        assert!(verify_twilio(
            "12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &params,
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        assert!(!verify_twilio(
            "12345",
            url,
            &params[1..],
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        assert!(!verify_twilio(
            "other",
            url,
            &params,
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        assert!(!verify_twilio("12345", url, &params, None));
    }

    #[test]
    fn short_messages_in_either_coding() {
        let ucs2: Vec<u8> = "Ổ gà"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(decode_short_message(8, &ucs2), "Ổ gà");
        assert_eq!(decode_short_message(0, b"OGA o ga"), "OGA o ga");
        assert_eq!(
            decode_short_message(3, &[0x4f, 0xe0]),
            "Oà",
            "Latin-1 when not UTF-8"
        );
    }

    #[test]
    fn replies_without_accents_in_two_segments() {
        assert_eq!(
            to_gsm("Phản ánh ĐÃ được tiếp nhận: đường Lê Lợi #12 [x] <y> @z 50%"),
            "Phan anh DA duoc tiep nhan: duong Le Loi 12 x y z 50"
        );
        let long = "Đơn vị đã xử lý xong phản ánh của bạn. ".repeat(20);
        let t = fit(&long, 2);
        assert!(t.is_ascii() && t.chars().count() <= 306 && t.ends_with("..."));
        assert_eq!(segments(&t), 2);
        assert_eq!(segments("ngan"), 1);
    }

    #[test]
    fn the_syntax_citizens_text() {
        let f = fields();
        assert_eq!(
            parse(" abcd-2345 ", &f),
            SmsRequest::LookUp("ABCD-2345".into())
        );
        assert_eq!(
            parse("OGA o ga lon giua duong TAI 12 Le Loi phuong Sai Gon", &f),
            SmsRequest::Report {
                field: "traffic".into(),
                description: "o ga lon giua duong".into(),
                address: Some("12 Le Loi phuong Sai Gon".into())
            }
        );
        assert_eq!(
            parse(
                "Ngập nước sâu 50cm tại hẻm 45 Nguyễn Trãi, phường Bến Thành",
                &f
            ),
            SmsRequest::Report {
                field: "drainage".into(),
                description: "Ngập nước sâu 50cm".into(),
                address: Some("hẻm 45 Nguyễn Trãi, phường Bến Thành".into())
            }
        );
        // Keyword as words; no address marker.
        assert!(
            matches!(parse("den duong tat ca day pho", &f), SmsRequest::Report { ref field, address: None, .. } if field == "lighting")
        );
        assert_eq!(parse("xin chao", &f), SmsRequest::Help);
        assert_eq!(parse("HD", &f), SmsRequest::Help);
        assert_eq!(
            parse("OGA", &f),
            SmsRequest::Help,
            "a keyword and nothing else"
        );
        let help = help_text(&f);
        assert!(
            help.is_ascii() && help.contains("GIAOTHONG") && segments(&help) <= 2,
            "{help}"
        );
    }

    /// A 1 MB text costs one pass: no step looks at the text more than a few times.
    #[test]
    fn a_megabyte_text_is_linear() {
        let f = fields();
        for unit in [
            "OGA o ga lon TAI 12 Le Loi ",
            "tai tai tai @ @ ",
            "ổ gà ngập nước ",
        ] {
            let text = unit.repeat(1_000_000 / unit.len());
            let started = std::time::Instant::now();
            assert_eq!(parse(&text, &f), SmsRequest::TooLong);
            // Below the cap the parser still reads everything.
            let _ = parse(&text[..text.floor_char_boundary(MAX_SMS_BYTES)], &f);
            let _ = fit(&text, 2);
            eprintln!(
                "sms parse + fit, {} bytes of {unit:?}: {:?}",
                text.len(),
                started.elapsed()
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(3),
                "{unit:?}: {:?}",
                started.elapsed()
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn any_text_parses_without_panic(text in any::<String>()) {
                let f = fields();
                match parse(&text, &f) {
                    SmsRequest::Report { field, description, address } => {
                        prop_assert!(f.iter().any(|c| c.code == field));
                        prop_assert!(description.len() <= text.len());
                        prop_assert!(address.is_none_or(|a| a.len() <= text.len()));
                    }
                    SmsRequest::LookUp(code) => prop_assert_eq!(code.len(), 9),
                    SmsRequest::Help => {}
                    SmsRequest::TooLong => prop_assert!(text.len() > MAX_SMS_BYTES),
                }
                let out = fit(&text, 2);
                prop_assert!(out.chars().count() <= 306);
                prop_assert!(out.is_ascii());
            }

            #[test]
            fn syntax_like_text_parses_without_panic(
                text in "(OGA|NGAP|DEN|o ga|den duong|hd|TAI|tai|tại|@|dc|đc|[A-Z0-9]{4}-[A-Z0-9]{4}| |,|phường|[a-zà-ỹ]{1,8}){0,40}"
            ) {
                let f = fields();
                if let SmsRequest::Report { description, .. } = parse(&text, &f) {
                    prop_assert!(!description.is_empty());
                }
            }

            #[test]
            fn short_messages_decode_without_panic(coding in 0u8..16, bytes in prop::collection::vec(any::<u8>(), 0..400)) {
                let _ = decode_short_message(coding, &bytes);
            }
        }
    }
}
