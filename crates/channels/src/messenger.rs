//! Facebook Messenger Platform: webhook verification and signatures, event parsing, and
//! the Send API's message shapes.

use serde_json::{Value, json};

use crate::{Content, Inbound, Provider, WebhookError, hmac_sha256_matches};

/// The GET handshake: answers the challenge when the token matches. The token is compared
/// in constant time, so its bytes cannot be guessed one by one from response times.
pub fn verify_subscription(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    verify_token: &str,
) -> Option<String> {
    let matches = token.is_some_and(|t| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            t.as_bytes(),
            verify_token.as_bytes(),
        ))
    });
    (mode == Some("subscribe") && !verify_token.is_empty() && matches)
        .then(|| challenge.unwrap_or_default().to_string())
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` over the raw body.
pub fn verify_signature(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    !app_secret.is_empty() && hmac_sha256_matches(app_secret.as_bytes(), body, sig)
}

/// The `appsecret_proof` Graph API calls carry: hex HMAC-SHA256 of the token.
pub fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    crate::hmac_sha256_hex(app_secret.as_bytes(), access_token.as_bytes())
}

/// Every citizen action in a (possibly batched) delivery. Echoes of our own messages,
/// delivery and read receipts are left out; so are events without an id to dedupe on.
pub fn parse(body: &[u8]) -> Result<Vec<Inbound>, WebhookError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if v["object"] != "page" {
        return Err(WebhookError::Malformed("object is not \"page\"".into()));
    }
    let entries = v["entry"]
        .as_array()
        .ok_or_else(|| WebhookError::Malformed("no entry array".into()))?;
    let mut out = Vec::new();
    for entry in entries {
        let events = entry["messaging"]
            .as_array()
            .or_else(|| entry["standby"].as_array());
        for e in events.into_iter().flatten() {
            if let Some(inbound) = parse_event(e) {
                out.push(inbound);
            }
        }
    }
    Ok(out)
}

fn parse_event(e: &Value) -> Option<Inbound> {
    let user = e["sender"]["id"].as_str()?.to_string();
    let at_ms = e["timestamp"].as_i64().unwrap_or(0);
    let (message_id, content) = if let Some(m) = e.get("message") {
        if m["is_echo"].as_bool() == Some(true) {
            return None;
        }
        let mid = m["mid"].as_str()?.to_string();
        let text = m["text"].as_str().unwrap_or_default().to_string();
        let content = if let Some(p) = m["quick_reply"]["payload"].as_str() {
            Content::Choice {
                payload: p.to_string(),
                text,
            }
        } else if let Some(a) = m["attachments"].as_array().and_then(|a| a.first()) {
            attachment(a)
        } else if !text.trim().is_empty() {
            Content::Text { text }
        } else {
            Content::Unsupported {
                what: "empty".into(),
            }
        };
        (mid, content)
    } else if let Some(p) = e.get("postback") {
        // Postbacks carry a mid since Graph v11; older ones are keyed by sender and time.
        let mid = p["mid"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| format!("postback:{user}:{at_ms}"));
        let content = Content::Choice {
            payload: p["payload"].as_str().unwrap_or_default().to_string(),
            text: p["title"].as_str().unwrap_or_default().to_string(),
        };
        (mid, content)
    } else {
        return None;
    };
    Some(Inbound {
        provider: Provider::Messenger,
        user,
        message_id,
        at_ms,
        content,
    })
}

fn attachment(a: &Value) -> Content {
    let kind = a["type"].as_str().unwrap_or("unknown");
    match kind {
        "image" => match a["payload"]["url"].as_str() {
            Some(url) => Content::Image { url: url.into() },
            None => Content::Unsupported {
                what: "image without url".into(),
            },
        },
        "video" | "audio" => match a["payload"]["url"].as_str() {
            Some(url) => Content::Media {
                kind: kind.into(),
                url: url.into(),
            },
            None => Content::Unsupported {
                what: format!("{kind} without url"),
            },
        },
        "location" => {
            let c = &a["payload"]["coordinates"];
            match (c["lat"].as_f64(), c["long"].as_f64()) {
                (Some(lat), Some(lon)) => Content::Location { lat, lon },
                _ => Content::Unsupported {
                    what: "location".into(),
                },
            }
        }
        other => Content::Unsupported { what: other.into() },
    }
}

/// A Send API body. Replies within 24 hours of the citizen's last message are `RESPONSE`;
/// later ones need a permitted tag (`tag`), or must not be sent at all.
pub fn send_body(psid: &str, text: &str, choices: &[(String, String)], tag: Option<&str>) -> Value {
    let mut message = json!({ "text": truncate(text, 1900) });
    if !choices.is_empty() {
        message["quick_replies"] = choices
            .iter()
            .take(13)
            .map(|(payload, title)| {
                json!({"content_type": "text", "title": truncate(title, 20), "payload": payload})
            })
            .collect();
    }
    let mut body = json!({
        "recipient": { "id": psid },
        "messaging_type": if tag.is_some() { "MESSAGE_TAG" } else { "RESPONSE" },
        "message": message,
    });
    if let Some(tag) = tag {
        body["tag"] = tag.into();
    }
    body
}

pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max_chars - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked vector of the channel notes (an app secret, exact bytes, the signature).
    const BODY: &str = r#"{"object":"page","entry":[{"id":"PAGE_ID","time":1458692752478,"messaging":[{"sender":{"id":"PSID_1"},"recipient":{"id":"PAGE_ID"},"timestamp":1458692752478,"message":{"mid":"mid.1457764197618:41d102a3e1ae206a38","text":"Ong nuoc vo o duong Le Loi"}}]}]}"#;
    const SIG: &str = "sha256=9e2d5528e12a52ceacae3365ef34bc5eef7514b5e22459c3eff7fb9afc150e06";

    #[test]
    fn signatures_are_checked_over_the_raw_bytes() {
        assert!(verify_signature(
            "test_app_secret",
            BODY.as_bytes(),
            Some(SIG)
        ));
        assert!(!verify_signature("other", BODY.as_bytes(), Some(SIG)));
        assert!(!verify_signature("test_app_secret", BODY.as_bytes(), None));
        assert!(!verify_signature("test_app_secret", b"{}", Some(SIG)));
        // The legacy sha1 header is not enough, nor a bare hex value.
        assert!(!verify_signature(
            "test_app_secret",
            BODY.as_bytes(),
            Some("sha1=98aa57e58ff35915d321dcd8d2e3f8cdb19c62f8")
        ));
        assert!(!verify_signature(
            "test_app_secret",
            BODY.as_bytes(),
            Some(&SIG[7..])
        ));
        // Re-serialised JSON does not match: the bytes are what is signed.
        let reserialised =
            serde_json::to_vec(&serde_json::from_str::<Value>(BODY).unwrap()).unwrap();
        assert_ne!(reserialised, BODY.as_bytes());
        assert!(!verify_signature(
            "test_app_secret",
            &reserialised,
            Some(SIG)
        ));
        assert!(
            !verify_signature("", BODY.as_bytes(), Some(SIG)),
            "no secret, no trust"
        );
    }

    #[test]
    fn appsecret_proof_vector() {
        assert_eq!(
            appsecret_proof("test_app_secret", "EAAB_TEST"),
            "dd4f73c72321e56d3ee40eab2227746186bd71e96c711f6ed5bc0ed19fe3dc85"
        );
    }

    #[test]
    fn the_handshake_needs_the_token() {
        let ok = verify_subscription(Some("subscribe"), Some("tok"), Some("123"), "tok");
        assert_eq!(ok.as_deref(), Some("123"));
        assert_eq!(
            verify_subscription(Some("subscribe"), Some("x"), Some("1"), "tok"),
            None
        );
        assert_eq!(
            verify_subscription(Some("subscribe"), Some(""), Some("1"), ""),
            None
        );
    }

    #[test]
    fn batched_entries_quick_replies_images_postbacks() {
        let body = r#"{"object":"page","entry":[
          {"id":"P","time":1,"messaging":[
            {"sender":{"id":"U1"},"recipient":{"id":"P"},"timestamp":10,"message":{"mid":"m1","text":"Giao thông","quick_reply":{"payload":"FIELD:traffic"}}},
            {"sender":{"id":"U1"},"recipient":{"id":"P"},"timestamp":11,"message":{"mid":"m2","attachments":[{"type":"image","payload":{"url":"https://cdn.example/p.jpg"}}]}},
            {"sender":{"id":"P"},"recipient":{"id":"U1"},"timestamp":12,"message":{"mid":"m3","is_echo":true,"text":"echo"}},
            {"sender":{"id":"U1"},"recipient":{"id":"P"},"timestamp":13,"delivery":{"watermark":12}}]},
          {"id":"P","time":2,"messaging":[
            {"sender":{"id":"U2"},"recipient":{"id":"P"},"timestamp":20,"postback":{"title":"Bắt đầu","payload":"GET_STARTED"}},
            {"sender":{"id":"U2"},"recipient":{"id":"P"},"timestamp":21,"message":{"mid":"m4","attachments":[{"type":"video","payload":{"url":"https://cdn.example/v.mp4"}}]}}]}]}"#;
        let events = parse(body.as_bytes()).unwrap();
        assert_eq!(events.len(), 4, "{events:?}");
        assert_eq!(
            events[0].content,
            Content::Choice {
                payload: "FIELD:traffic".into(),
                text: "Giao thông".into()
            }
        );
        assert_eq!(
            events[1].content,
            Content::Image {
                url: "https://cdn.example/p.jpg".into()
            }
        );
        assert_eq!(events[2].message_id, "postback:U2:20");
        assert_eq!(
            events[3].content,
            Content::Media {
                kind: "video".into(),
                url: "https://cdn.example/v.mp4".into()
            }
        );
    }

    #[test]
    fn malformed_deliveries_are_refused() {
        assert!(matches!(
            parse(b"not json"),
            Err(WebhookError::Malformed(_))
        ));
        assert!(matches!(
            parse(br#"{"object":"instagram","entry":[]}"#),
            Err(WebhookError::Malformed(_))
        ));
        assert!(matches!(
            parse(br#"{"object":"page"}"#),
            Err(WebhookError::Malformed(_))
        ));
        assert_eq!(
            parse(br#"{"object":"page","entry":[{"messaging":[{"foo":1}]}]}"#).unwrap(),
            vec![]
        );
    }

    #[test]
    fn send_bodies() {
        let choices = vec![(
            "FIELD:traffic".to_string(),
            "Giao thông đường bộ và cầu".to_string(),
        )];
        let b = send_body("U1", "Chọn lĩnh vực", &choices, None);
        assert_eq!(b["messaging_type"], "RESPONSE");
        assert_eq!(b["message"]["quick_replies"][0]["payload"], "FIELD:traffic");
        assert!(
            b["message"]["quick_replies"][0]["title"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 20
        );
        let t = send_body("U1", "x", &[], Some("ACCOUNT_UPDATE"));
        assert_eq!(t["messaging_type"], "MESSAGE_TAG");
        assert_eq!(t["tag"], "ACCOUNT_UPDATE");
    }
}
