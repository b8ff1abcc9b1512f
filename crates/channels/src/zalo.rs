//! Zalo Official Account (OA): webhook signatures and events, consultation ("CS") message
//! bodies and their answers, the OAuth v4 refresh, and ZNS template messages.
//!
//! Zalo signs an event with a plain SHA-256 (not an HMAC) of `app_id + raw body + timestamp
//! + OA secret key`, in hex, in `X-ZEvent-Signature` (sometimes prefixed `mac=`); the
//! timestamp is the event's own `timestamp` field (milliseconds, a string), so it is the one
//! thing read from the body before the check (see [`signed_timestamp`]).
//!
//! Checked against the sources in the channel notes (docs/channels.md §3 of the shared
//! notes): the signature (a worked vector), the event shapes, the CS endpoint and the
//! `access_token` header. Not verified against developers.zalo.me and so kept in one place
//! here: the OAuth refresh form, the ZNS body (`phone` as 84…, `template_id`,
//! `template_data`, `tracking_id`) and the meaning of error codes in [`api_result`].

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::{Content, Inbound, Provider, WebhookError};

/// The hex SHA-256 Zalo puts in `X-ZEvent-Signature` (what the tests' fake Zalo signs with).
pub fn signature(app_id: &str, oa_secret: &str, body: &[u8], timestamp: &str) -> String {
    hex::encode(digest(app_id, oa_secret, body, timestamp))
}

fn digest(app_id: &str, oa_secret: &str, body: &[u8], timestamp: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(app_id.as_bytes());
    h.update(body);
    h.update(timestamp.as_bytes());
    h.update(oa_secret.as_bytes());
    h.finalize().into()
}

/// The timestamp the signature covers, exactly as written: the body's `timestamp` (a
/// string of milliseconds, or a number), else the `X-ZEvent-Timestamp` header. Only that
/// field is read (serde skips the rest); `None` when there is none.
pub fn signed_timestamp(body: &[u8], header: Option<&str>) -> Option<String> {
    #[derive(Deserialize)]
    struct Stamp {
        timestamp: Option<Value>,
    }
    let from_body = serde_json::from_slice::<Stamp>(body)
        .ok()
        .and_then(|s| s.timestamp)
        .and_then(|t| match t {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    from_body.or_else(|| header.map(|h| h.trim().to_string()))
}

/// Checks `X-ZEvent-Signature` (hex, an optional leading `mac=`) over the raw body, in
/// constant time. No app id or OA secret configured: nothing is trusted.
pub fn verify_signature(
    app_id: &str,
    oa_secret: &str,
    body: &[u8],
    timestamp: &str,
    header: Option<&str>,
) -> bool {
    let Some(sig) = header.map(str::trim) else {
        return false;
    };
    let sig = sig.strip_prefix("mac=").unwrap_or(sig).trim();
    if app_id.is_empty() || oa_secret.is_empty() {
        return false;
    }
    let Ok(given) = hex::decode(sig) else {
        return false;
    };
    let expected = digest(app_id, oa_secret, body, timestamp);
    given.len() == expected.len()
        && bool::from(subtle::ConstantTimeEq::ct_eq(&given[..], &expected[..]))
}

/// Whether an event stamped `timestamp` (milliseconds, as signed) is within `window_secs`
/// of `now_ms`, either way: an old delivery replayed, or one from the future, is refused.
pub fn is_fresh(timestamp: &str, now_ms: i64, window_secs: i64) -> bool {
    match timestamp.trim().parse::<i64>() {
        Ok(ts) => now_ms.abs_diff(ts) <= window_secs.max(0).unsigned_abs().saturating_mul(1000),
        Err(_) => false,
    }
}

/// What a delivery asks of us.
#[derive(Debug, Clone, PartialEq)]
pub enum Callback {
    /// Something the citizen did: stored, then processed.
    Inbound(Inbound),
    /// Echoes of our messages (`oa_send_*`), receipts (`user_received_message`,
    /// `user_seen_message`) and the like: answered 200, nothing kept.
    Ignored(String),
}

/// A string id, or a number kept digit for digit (Zalo's ids are 64-bit and larger).
fn id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A coordinate written as a number or as a string.
fn coordinate(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    f.is_finite().then_some(f)
}

/// Reads one Zalo OA event (each delivery carries one).
pub fn parse(body: &[u8]) -> Result<Callback, WebhookError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let event = v["event_name"]
        .as_str()
        .ok_or_else(|| WebhookError::Malformed("no event_name".into()))?;
    let at_ms = match &v["timestamp"] {
        Value::String(s) => s.trim().parse().unwrap_or(0),
        Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    };
    let missing = |what: &str| WebhookError::Malformed(format!("{event} without {what}"));
    let inbound = |user: String, message_id: String, content: Content| {
        Callback::Inbound(Inbound {
            provider: Provider::Zalo,
            user,
            message_id,
            at_ms,
            content,
        })
    };
    match event {
        "follow" | "unfollow" => {
            let user = id(&v["follower"]["id"])
                .or_else(|| id(&v["sender"]["id"]))
                .ok_or_else(|| missing("follower.id"))?;
            // No message id: one (un)follow per person and instant.
            let key = format!("{event}:{user}:{at_ms}");
            let content = if event == "follow" {
                Content::Subscribed
            } else {
                Content::Unsubscribed
            };
            return Ok(inbound(user, key, content));
        }
        e if !e.starts_with("user_send_") => return Ok(Callback::Ignored(e.to_string())),
        _ => {}
    }
    let user = id(&v["sender"]["id"]).ok_or_else(|| missing("sender.id"))?;
    let m = &v["message"];
    let message_id = id(&m["msg_id"])
        .or_else(|| id(&m["mid"]))
        .ok_or_else(|| missing("message.msg_id"))?;
    let first = m["attachments"].as_array().and_then(|a| a.first());
    let payload = first.map(|a| &a["payload"]).unwrap_or(&Value::Null);
    let url = payload["url"].as_str().filter(|u| !u.is_empty());
    // What cannot go into a report as it is (a file, a recording, a video) keeps its link in
    // the chat's log, where staff see it; the citizen is told what can be used.
    let kept = |kind: &str| Content::Unsupported {
        what: match url {
            Some(u) => format!("{kind} {u}"),
            None => kind.to_string(),
        },
    };
    let content = match event {
        "user_send_text" => {
            let text = m["text"].as_str().unwrap_or_default().to_string();
            if text.trim().is_empty() {
                Content::Unsupported {
                    what: "empty".into(),
                }
            } else {
                Content::Text { text }
            }
        }
        "user_send_image" => match url {
            Some(u) => Content::Image { url: u.into() },
            None => Content::Unsupported {
                what: "image without url".into(),
            },
        },
        "user_send_location" => {
            let c = &payload["coordinates"];
            let lat = coordinate(&c["latitude"]).or_else(|| coordinate(&c["lat"]));
            let lon = coordinate(&c["longitude"])
                .or_else(|| coordinate(&c["long"]))
                .or_else(|| coordinate(&c["lon"]));
            match (lat, lon) {
                (Some(lat), Some(lon)) if lat.abs() <= 90.0 && lon.abs() <= 180.0 => {
                    Content::Location { lat, lon }
                }
                _ => Content::Unsupported {
                    what: "location".into(),
                },
            }
        }
        "user_send_file" => kept("file"),
        // Recordings are evidence: downloaded (through the guard) and checked by their
        // bytes when the report is filed.
        "user_send_audio" | "user_send_video" => match url {
            Some(u) => Content::Media {
                kind: event.trim_start_matches("user_send_").into(),
                url: u.into(),
            },
            None => kept(event.trim_start_matches("user_send_")),
        },
        "user_send_sticker" => Content::Unsupported {
            what: "sticker".into(),
        },
        other => Content::Unsupported {
            what: other.trim_start_matches("user_send_").to_string(),
        },
    };
    Ok(inbound(user, message_id, content))
}

/// The text of a CS message: the answer, then its choices written out (Zalo's CS text
/// messages carry no quick replies). Fields are numbered, as the conversation accepts a
/// field's number; the other choices are words it accepts ("Gửi", "Hủy", "Xong"...).
pub fn message_text(text: &str, choices: &[(String, String)]) -> String {
    let mut out = text.to_string();
    if choices.iter().all(|(p, _)| p.starts_with("FIELD:")) {
        for (i, (_, title)) in choices.iter().enumerate() {
            out.push_str(&format!("\n{}. {title}", i + 1));
        }
    } else {
        let words: Vec<String> = choices.iter().map(|(_, t)| format!("«{t}»")).collect();
        out.push_str(&format!("\n→ {}", words.join(" / ")));
    }
    crate::messenger::truncate(&out, MAX_TEXT)
}

/// The longest CS text Zalo takes, in characters.
pub const MAX_TEXT: usize = 2000;

/// A consultation message (`POST /v3.0/oa/message/cs`, `access_token` header).
pub fn send_body(user_id: &str, text: &str, choices: &[(String, String)]) -> Value {
    json!({
        "recipient": { "user_id": user_id },
        "message": { "text": message_text(text, choices) },
    })
}

/// What an OpenAPI or ZNS error code means for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The access token expired or was revoked: refresh it and try again.
    Token,
    /// Too many calls for now: try later.
    RateLimited,
    /// Zalo will not deliver it (outside the reply window, quota used up, the person does
    /// not follow the OA or has no Zalo, a template problem...): not worth retrying.
    Refused,
}

/// The outcome of a Zalo OpenAPI or ZNS answer (`{"error": 0, "message": "Success", "data":
/// {...}}`): `Ok` with the data, or the failure with Zalo's message.
pub fn api_result(answer: &Value) -> Result<&Value, (Failure, String)> {
    let code = answer["error"].as_i64().unwrap_or(-1);
    if code == 0 {
        return Ok(&answer["data"]);
    }
    let message = answer["message"]
        .as_str()
        .or(answer["error_description"].as_str())
        .unwrap_or("")
        .to_string();
    let failure = match code {
        // Access token invalid or expired.
        -216 | -124 | -14014 => Failure::Token,
        // Request rate limits.
        -32 | -223 => Failure::RateLimited,
        _ => Failure::Refused,
    };
    Err((failure, format!("Zalo error {code}: {message}")))
}

/// A token pair from `POST /v4/oa/access_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token lives (Zalo writes it as a string: "90000").
    pub expires_in: i64,
}

/// The form of a refresh (`secret_key: <app secret>` goes in a header).
pub fn refresh_form(app_id: &str, refresh_token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("refresh_token", refresh_token.to_string()),
        ("app_id", app_id.to_string()),
        ("grant_type", "refresh_token".to_string()),
    ]
}

/// Why a refresh failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshError {
    /// Zalo refused the refresh token (used already, expired, revoked): the chain is broken
    /// and an operator must authorise the OA again.
    Refused(String),
    /// Not an answer we can read: try again later.
    Unreadable(String),
}

/// Reads the answer to a refresh.
pub fn parse_token_answer(body: &[u8]) -> Result<TokenPair, RefreshError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| RefreshError::Unreadable(e.to_string()))?;
    let text = |k: &str| v[k].as_str().map(str::to_string).filter(|s| !s.is_empty());
    match (text("access_token"), text("refresh_token")) {
        (Some(access_token), Some(refresh_token)) => {
            let expires_in = match &v["expires_in"] {
                Value::String(s) => s.trim().parse().unwrap_or(0),
                Value::Number(n) => n.as_i64().unwrap_or(0),
                _ => 0,
            };
            Ok(TokenPair {
                access_token,
                refresh_token,
                // Unknown: assume an hour rather than "already expired".
                expires_in: if expires_in > 0 { expires_in } else { 3600 },
            })
        }
        _ if v.get("error").is_some() => Err(RefreshError::Refused(format!(
            "Zalo OAuth error {}: {} {}",
            v["error"],
            v["error_name"].as_str().unwrap_or(""),
            v["error_description"]
                .as_str()
                .or(v["message"].as_str())
                .unwrap_or("")
        ))),
        _ => Err(RefreshError::Unreadable("no token in the answer".into())),
    }
}

/// A phone number as ZNS wants it: digits with the country code 84, no `+` nor leading 0
/// ("0912 345 678" → "84912345678"). `None` when it is not a Vietnamese number.
pub fn zns_phone(phone: &str) -> Option<String> {
    let digits: String = phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let digits = digits.strip_prefix('+').unwrap_or(&digits);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let national = if let Some(rest) = digits.strip_prefix("84") {
        rest
    } else {
        digits.strip_prefix('0')?
    };
    (9..=10)
        .contains(&national.len())
        .then(|| format!("84{national}"))
}

/// A ZNS template message (`POST /message/template`, `access_token` header);
/// `tracking_id` is ours (the job), echoed in Zalo's delivery reports.
pub fn zns_body(
    phone: &str,
    template_id: &str,
    data: &Map<String, Value>,
    tracking_id: &str,
) -> Value {
    json!({
        "phone": phone,
        "template_id": template_id,
        "template_data": data,
        "tracking_id": tracking_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked vector of the channel notes (docs/channels.md §3.1).
    const APP_ID: &str = "2553928453557884079";
    const OA_SECRET: &str = "OA_SECRET_KEY_TEST";
    const BODY: &str = r#"{"app_id":"2553928453557884079","user_id_by_app":"979122185046046317","event_name":"user_send_text","timestamp":"1699003881354","sender":{"id":"6142494823000000001"},"recipient":{"id":"3662729599332560487"},"message":{"text":"Den duong hong","msg_id":"cb31dff1c39642cc1b83"}}"#;
    const SIG: &str = "99b2ca478624a5e0eb629c2a7690a9b04f8558fd54c930a19dc2aa86e107cce7";

    #[test]
    fn the_worked_vector() {
        let ts = signed_timestamp(BODY.as_bytes(), None).unwrap();
        assert_eq!(ts, "1699003881354");
        assert_eq!(signature(APP_ID, OA_SECRET, BODY.as_bytes(), &ts), SIG);
        assert!(verify_signature(
            APP_ID,
            OA_SECRET,
            BODY.as_bytes(),
            &ts,
            Some(SIG)
        ));
        // A leading mac=, upper case hex, spaces: accepted.
        let mac = format!(" mac={} ", SIG.to_uppercase());
        assert!(verify_signature(
            APP_ID,
            OA_SECRET,
            BODY.as_bytes(),
            &ts,
            Some(&mac)
        ));
    }

    #[test]
    fn wrong_or_missing_signatures_are_refused() {
        let b = BODY.as_bytes();
        let ts = "1699003881354";
        assert!(!verify_signature(APP_ID, OA_SECRET, b, ts, None));
        assert!(!verify_signature(APP_ID, OA_SECRET, b, ts, Some("")));
        assert!(!verify_signature(APP_ID, "other", b, ts, Some(SIG)));
        assert!(!verify_signature("1", OA_SECRET, b, ts, Some(SIG)));
        assert!(!verify_signature(
            APP_ID,
            OA_SECRET,
            b,
            "1699003881355",
            Some(SIG)
        ));
        assert!(!verify_signature(APP_ID, OA_SECRET, b"{}", ts, Some(SIG)));
        assert!(!verify_signature(
            APP_ID,
            OA_SECRET,
            b,
            ts,
            Some(&SIG[..62])
        ));
        assert!(!verify_signature(APP_ID, OA_SECRET, b, ts, Some("zz")));
        assert!(
            !verify_signature("", "", b, ts, Some(SIG)),
            "no secret, no trust"
        );
        // Not an HMAC: the HMAC-SHA256 of the same bytes under the OA secret does not pass.
        let mut signed = APP_ID.as_bytes().to_vec();
        signed.extend_from_slice(b);
        signed.extend_from_slice(ts.as_bytes());
        let hmac = crate::hmac_sha256_hex(OA_SECRET.as_bytes(), &signed);
        assert!(!verify_signature(APP_ID, OA_SECRET, b, ts, Some(&hmac)));
        // Re-serialised JSON differs from the signed bytes.
        let reserialised =
            serde_json::to_vec(&serde_json::from_str::<Value>(BODY).unwrap()).unwrap();
        assert!(!verify_signature(
            APP_ID,
            OA_SECRET,
            &reserialised,
            ts,
            Some(SIG)
        ));
    }

    #[test]
    fn the_timestamp_comes_from_the_body_or_the_header() {
        assert_eq!(
            signed_timestamp(br#"{"timestamp":1699003881354}"#, Some("9")).as_deref(),
            Some("1699003881354")
        );
        assert_eq!(
            signed_timestamp(br#"{"event_name":"x"}"#, Some(" 42 ")).as_deref(),
            Some("42")
        );
        assert_eq!(signed_timestamp(b"not json", None), None);
        assert!(is_fresh("1699003881354", 1_699_003_881_354 + 299_000, 300));
        assert!(!is_fresh("1699003881354", 1_699_003_881_354 + 301_000, 300));
        assert!(!is_fresh("1699003881354", 1_699_003_881_354 - 301_000, 300));
        assert!(!is_fresh("soon", 0, 300));
    }

    fn inbound(body: &str) -> Inbound {
        match parse(body.as_bytes()).unwrap() {
            Callback::Inbound(i) => i,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_text_keeps_its_ids_as_written() {
        let i = inbound(BODY);
        assert_eq!(i.provider, Provider::Zalo);
        assert_eq!(i.user, "6142494823000000001");
        assert_eq!(i.message_id, "cb31dff1c39642cc1b83");
        assert_eq!(i.at_ms, 1_699_003_881_354);
        assert_eq!(
            i.content,
            Content::Text {
                text: "Den duong hong".into()
            }
        );
        // `mid` instead of `msg_id`, numeric ids.
        let i = inbound(
            r#"{"event_name":"user_send_text","timestamp":"5","sender":{"id":6142494823000000001},"message":{"text":"x","mid":"m1"}}"#,
        );
        assert_eq!(
            (i.user.as_str(), i.message_id.as_str()),
            ("6142494823000000001", "m1")
        );
    }

    #[test]
    fn images_locations_and_what_is_kept_as_a_link() {
        let ev = |name: &str, payload: &str| {
            inbound(&format!(
                r#"{{"event_name":"{name}","timestamp":"7","sender":{{"id":"U"}},"message":{{"msg_id":"m","attachments":[{{"type":"x","payload":{payload}}}]}}}}"#
            ))
            .content
        };
        assert_eq!(
            ev(
                "user_send_image",
                r#"{"thumbnail":"t","url":"https://f1.zdn.vn/a.jpg"}"#
            ),
            Content::Image {
                url: "https://f1.zdn.vn/a.jpg".into()
            }
        );
        // The three coordinate shapes seen in the wild, as strings or numbers.
        for c in [
            r#"{"coordinates":{"latitude":"10.7769","longitude":"106.7009"}}"#,
            r#"{"coordinates":{"latitude":10.7769,"longitude":106.7009}}"#,
            r#"{"coordinates":{"lat":10.7769,"long":"106.7009"}}"#,
        ] {
            assert_eq!(
                ev("user_send_location", c),
                Content::Location {
                    lat: 10.7769,
                    lon: 106.7009
                },
                "{c}"
            );
        }
        assert_eq!(
            ev(
                "user_send_location",
                r#"{"coordinates":{"latitude":"x","longitude":1}}"#
            ),
            Content::Unsupported {
                what: "location".into()
            }
        );
        assert_eq!(
            ev(
                "user_send_location",
                r#"{"coordinates":{"latitude":100,"longitude":1}}"#
            ),
            Content::Unsupported {
                what: "location".into()
            }
        );
        assert_eq!(
            ev("user_send_file", r#"{"url":"https://f2.zdn.vn/v.pdf"}"#),
            Content::Unsupported {
                what: "file https://f2.zdn.vn/v.pdf".into()
            }
        );
        for (name, kind) in [("user_send_audio", "audio"), ("user_send_video", "video")] {
            assert_eq!(
                ev(name, r#"{"url":"https://f2.zdn.vn/v.mp4"}"#),
                Content::Media {
                    kind: kind.into(),
                    url: "https://f2.zdn.vn/v.mp4".into()
                }
            );
            assert_eq!(
                ev(name, r#"{}"#),
                Content::Unsupported { what: kind.into() }
            );
        }
        assert_eq!(
            ev("user_send_sticker", r#"{"id":"1","url":"https://s"}"#),
            Content::Unsupported {
                what: "sticker".into()
            }
        );
        assert_eq!(
            ev("user_send_business_card", "{}"),
            Content::Unsupported {
                what: "business_card".into()
            }
        );
    }

    #[test]
    fn follows_ignored_events_and_malformed_deliveries() {
        let f = inbound(
            r#"{"event_name":"follow","timestamp":"9","app_id":"A","oa_id":"O","follower":{"id":"U1"},"source":"oa_profile"}"#,
        );
        assert_eq!(
            (f.user.as_str(), f.message_id.as_str()),
            ("U1", "follow:U1:9")
        );
        assert_eq!(f.content, Content::Subscribed);
        let u = inbound(r#"{"event_name":"unfollow","timestamp":"10","follower":{"id":"U1"}}"#);
        assert_eq!(u.content, Content::Unsubscribed);
        assert_eq!(
            parse(br#"{"event_name":"user_seen_message","timestamp":"1"}"#).unwrap(),
            Callback::Ignored("user_seen_message".into())
        );
        assert_eq!(
            parse(br#"{"event_name":"oa_send_text","timestamp":"1","message":{"msg_id":"x"}}"#)
                .unwrap(),
            Callback::Ignored("oa_send_text".into())
        );
        for bad in [
            &b"{"[..],
            br#"{"timestamp":"1"}"#,
            br#"{"event_name":"user_send_text","sender":{"id":"U"},"message":{"text":"x"}}"#,
            br#"{"event_name":"user_send_text","message":{"text":"x","msg_id":"m"}}"#,
            br#"{"event_name":"follow","timestamp":"1"}"#,
        ] {
            assert!(
                matches!(parse(bad), Err(WebhookError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn cs_bodies_write_the_choices_out() {
        let fields = vec![
            ("FIELD:traffic".to_string(), "Giao thông".to_string()),
            ("FIELD:lighting".to_string(), "Chiếu sáng".to_string()),
        ];
        let b = send_body("U1", "Bạn muốn phản ánh về lĩnh vực nào?", &fields);
        assert_eq!(b["recipient"]["user_id"], "U1");
        assert_eq!(
            b["message"]["text"],
            "Bạn muốn phản ánh về lĩnh vực nào?\n1. Giao thông\n2. Chiếu sáng"
        );
        let confirm = vec![
            ("CONFIRM".to_string(), "Gửi".to_string()),
            ("CANCEL".to_string(), "Hủy".to_string()),
        ];
        assert_eq!(
            send_body("U1", "Gửi phản ánh này?", &confirm)["message"]["text"],
            "Gửi phản ánh này?\n→ «Gửi» / «Hủy»"
        );
        assert_eq!(send_body("U1", "x", &[])["message"]["text"], "x");
        let long = "ả".repeat(3000);
        let t = send_body("U1", &long, &[]);
        assert_eq!(
            t["message"]["text"].as_str().unwrap().chars().count(),
            MAX_TEXT
        );
    }

    #[test]
    fn api_answers() {
        let ok =
            json!({"data": {"message_id": "m", "user_id": "U"}, "error": 0, "message": "Success"});
        assert_eq!(api_result(&ok).unwrap()["message_id"], "m");
        let token = json!({"error": -216, "message": "Access token is invalid"});
        assert_eq!(api_result(&token).unwrap_err().0, Failure::Token);
        let window = json!({"error": -230, "message": "User has not interacted with the OA in the past 7 days"});
        let (f, why) = api_result(&window).unwrap_err();
        assert_eq!(f, Failure::Refused);
        assert!(why.contains("-230") && why.contains("7 days"));
        assert_eq!(api_result(&json!({})).unwrap_err().0, Failure::Refused);
        assert_eq!(
            api_result(&json!({"error": -32})).unwrap_err().0,
            Failure::RateLimited
        );
    }

    #[test]
    fn token_answers() {
        let ok = br#"{"access_token":"AT2","refresh_token":"RT2","expires_in":"90000"}"#;
        assert_eq!(
            parse_token_answer(ok).unwrap(),
            TokenPair {
                access_token: "AT2".into(),
                refresh_token: "RT2".into(),
                expires_in: 90000
            }
        );
        let n = br#"{"access_token":"a","refresh_token":"r","expires_in":3600}"#;
        assert_eq!(parse_token_answer(n).unwrap().expires_in, 3600);
        let refused = br#"{"error":-14014,"error_name":"Invalid refresh token","error_description":"refresh token is used"}"#;
        let Err(RefreshError::Refused(why)) = parse_token_answer(refused) else {
            panic!()
        };
        assert!(why.contains("-14014"), "{why}");
        assert!(matches!(
            parse_token_answer(b"<html>"),
            Err(RefreshError::Unreadable(_))
        ));
        assert_eq!(
            refresh_form("A", "R")[2],
            ("grant_type", "refresh_token".to_string())
        );
    }

    #[test]
    fn zns_phones_and_bodies() {
        assert_eq!(zns_phone("0912 345 678").as_deref(), Some("84912345678"));
        assert_eq!(zns_phone("+84 912-345-678").as_deref(), Some("84912345678"));
        assert_eq!(zns_phone("84912345678").as_deref(), Some("84912345678"));
        assert_eq!(zns_phone("912345678"), None);
        assert_eq!(zns_phone("0912"), None);
        assert_eq!(zns_phone("+1 415 555 0100"), None);
        assert_eq!(zns_phone("số 0912345678"), None);
        let mut data = Map::new();
        data.insert("code".into(), "ABCD-2345".into());
        let b = zns_body("84912345678", "T1", &data, "job-7");
        assert_eq!(b["template_data"]["code"], "ABCD-2345");
        assert_eq!(b["phone"], "84912345678");
        assert_eq!(b["tracking_id"], "job-7");
    }
}
