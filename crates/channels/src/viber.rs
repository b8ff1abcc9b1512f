//! Viber REST Bot API: callback signatures and parsing, and `send_message` bodies.

use serde_json::{Value, json};

use crate::{Content, Inbound, Provider, WebhookError, hmac_sha256_matches};

/// Checks `X-Viber-Content-Signature` (or the `sig` query parameter some SDKs use): hex
/// HMAC-SHA256 of the raw body under the bot's auth token.
pub fn verify_signature(auth_token: &str, body: &[u8], signature: Option<&str>) -> bool {
    match signature {
        Some(sig) if !auth_token.is_empty() => {
            hmac_sha256_matches(auth_token.as_bytes(), body, sig)
        }
        _ => false,
    }
}

/// What a callback asks of us.
#[derive(Debug, Clone, PartialEq)]
pub enum Callback {
    /// Something the citizen did: stored, then processed.
    Inbound(Inbound),
    /// `webhook` (set_webhook's check), `delivered`, `seen`, `failed`: answered 200, nothing kept.
    Ignored(String),
}

pub fn parse(body: &[u8]) -> Result<Callback, WebhookError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let event = v["event"]
        .as_str()
        .ok_or_else(|| WebhookError::Malformed("no event".into()))?;
    let at_ms = v["timestamp"].as_i64().unwrap_or(0);
    // message_token is a 64-bit number; keep its digits exactly.
    let token = match &v["message_token"] {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    let inbound = |user: &str, message_id: String, content: Content| {
        Callback::Inbound(Inbound {
            provider: Provider::Viber,
            user: user.to_string(),
            message_id,
            at_ms,
            content,
        })
    };
    let missing = |what: &str| WebhookError::Malformed(format!("{event} without {what}"));
    Ok(match event {
        "message" => {
            let user = v["sender"]["id"]
                .as_str()
                .ok_or_else(|| missing("sender.id"))?;
            let token = token.ok_or_else(|| missing("message_token"))?;
            let m = &v["message"];
            let kind = m["type"].as_str().unwrap_or("");
            let content = match kind {
                "text" => {
                    let text = m["text"].as_str().unwrap_or_default().to_string();
                    // Keyboard buttons come back as text with our payload in it.
                    match text.strip_prefix("#") {
                        Some(payload)
                            if payload.contains(':')
                                || payload.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
                        {
                            Content::Choice {
                                payload: payload.to_string(),
                                text,
                            }
                        }
                        _ => Content::Text { text },
                    }
                }
                "picture" => match m["media"].as_str() {
                    Some(url) => Content::Image { url: url.into() },
                    None => Content::Unsupported {
                        what: "picture without media".into(),
                    },
                },
                // Viber delivers videos as `video`; voice notes and other recordings come as
                // a `file`, which its bytes decide on once downloaded.
                "video" | "file" => match m["media"].as_str() {
                    Some(url) => Content::Media {
                        kind: kind.into(),
                        url: url.into(),
                    },
                    None => Content::Unsupported {
                        what: format!("{kind} without media"),
                    },
                },
                "location" => {
                    match (m["location"]["lat"].as_f64(), m["location"]["lon"].as_f64()) {
                        (Some(lat), Some(lon)) => Content::Location { lat, lon },
                        _ => Content::Unsupported {
                            what: "location".into(),
                        },
                    }
                }
                "contact" => match m["contact"]["phone_number"].as_str() {
                    Some(phone) if !phone.trim().is_empty() => Content::Contact {
                        phone: phone.to_string(),
                        name: m["contact"]["name"]
                            .as_str()
                            .filter(|n| !n.trim().is_empty())
                            .map(String::from),
                    },
                    _ => Content::Unsupported {
                        what: "contact".into(),
                    },
                },
                other => Content::Unsupported { what: other.into() },
            };
            inbound(user, token, content)
        }
        "conversation_started" => {
            let user = v["user"]["id"].as_str().ok_or_else(|| missing("user.id"))?;
            let token = token.unwrap_or_else(|| format!("started:{user}:{at_ms}"));
            let subscribed = v["subscribed"].as_bool().unwrap_or(false);
            inbound(user, token, Content::Started { subscribed })
        }
        "subscribed" => {
            let user = v["user"]["id"].as_str().ok_or_else(|| missing("user.id"))?;
            inbound(
                user,
                format!("subscribed:{user}:{at_ms}"),
                Content::Subscribed,
            )
        }
        "unsubscribed" => {
            let user = v["user_id"].as_str().ok_or_else(|| missing("user_id"))?;
            inbound(
                user,
                format!("unsubscribed:{user}:{at_ms}"),
                Content::Unsubscribed,
            )
        }
        other => Callback::Ignored(other.to_string()),
    })
}

/// A `send_message` body. Choices become a keyboard whose buttons send `#PAYLOAD` back.
pub fn send_body(
    receiver: &str,
    sender_name: &str,
    text: &str,
    choices: &[(String, String)],
) -> Value {
    let mut body = json!({
        "receiver": receiver,
        "min_api_version": 1,
        "sender": { "name": crate::messenger::truncate(sender_name, 28) },
        "tracking_data": "",
        "type": "text",
        "text": crate::messenger::truncate(text, 7000),
    });
    if !choices.is_empty() {
        body["keyboard"] = keyboard(choices);
    }
    body
}

/// The welcome answered in the body of `conversation_started` (no receiver).
pub fn welcome_body(sender_name: &str, text: &str, choices: &[(String, String)]) -> Value {
    let mut body = send_body("", sender_name, text, choices);
    if let Some(o) = body.as_object_mut() {
        o.remove("receiver");
    }
    body
}

fn keyboard(choices: &[(String, String)]) -> Value {
    json!({
        "Type": "keyboard",
        "DefaultHeight": false,
        "Buttons": choices.iter().take(24).map(|(payload, title)| json!({
            "Columns": 3, "Rows": 1, "ActionType": "reply",
            "ActionBody": format!("#{payload}"), "Text": title,
        })).collect::<Vec<_>>(),
    })
}

/// The `set_webhook` body: the events phananh uses, with names and photos of senders off.
pub fn set_webhook_body(url: &str) -> Value {
    json!({
        "url": url,
        "event_types": ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"],
        "send_name": false,
        "send_photo": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9";
    const BODY: &str = r#"{"event":"message","timestamp":1457764197627,"message_token":4912661846655238145,"sender":{"id":"01234567890A=","name":"John McClane","avatar":"http://avatar.example.com","country":"VN","language":"vi","api_version":8},"message":{"type":"location","location":{"lat":10.7769,"lon":106.7009}},"silent":false}"#;
    const SIG: &str = "abae870fb8b423fc35852a6ee1a010f62d5095eca333aaf67b56832489d53316";

    #[test]
    fn signatures_match_the_worked_vector() {
        assert!(verify_signature(TOKEN, BODY.as_bytes(), Some(SIG)));
        assert!(!verify_signature(TOKEN, BODY.as_bytes(), None));
        assert!(!verify_signature("other", BODY.as_bytes(), Some(SIG)));
        assert!(!verify_signature(TOKEN, b"{}", Some(SIG)));
        assert!(!verify_signature(TOKEN, BODY.as_bytes(), Some("zz")));
    }

    #[test]
    fn a_location_message_keeps_its_64_bit_token() {
        let Callback::Inbound(i) = parse(BODY.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(i.message_id, "4912661846655238145");
        assert_eq!(i.user, "01234567890A=");
        assert_eq!(
            i.content,
            Content::Location {
                lat: 10.7769,
                lon: 106.7009
            }
        );
    }

    #[test]
    fn callbacks() {
        let started = br#"{"event":"conversation_started","timestamp":1,"type":"open","user":{"id":"U="},"message_token":77,"subscribed":false}"#;
        let Callback::Inbound(i) = parse(started).unwrap() else {
            panic!()
        };
        assert_eq!(i.content, Content::Started { subscribed: false });
        let unsub = br#"{"event":"unsubscribed","timestamp":5,"user_id":"U="}"#;
        let Callback::Inbound(i) = parse(unsub).unwrap() else {
            panic!()
        };
        assert_eq!(i.content, Content::Unsubscribed);
        assert_eq!(
            parse(br#"{"event":"delivered","timestamp":1,"message_token":1,"user_id":"U="}"#)
                .unwrap(),
            Callback::Ignored("delivered".into())
        );
        assert_eq!(
            parse(br#"{"event":"webhook","timestamp":1}"#).unwrap(),
            Callback::Ignored("webhook".into())
        );
        let button = br##"{"event":"message","timestamp":2,"message_token":9,"sender":{"id":"U="},"message":{"type":"text","text":"#FIELD:traffic"}}"##;
        let Callback::Inbound(i) = parse(button).unwrap() else {
            panic!()
        };
        assert_eq!(
            i.content,
            Content::Choice {
                payload: "FIELD:traffic".into(),
                text: "#FIELD:traffic".into()
            }
        );
        let contact = br#"{"event":"message","timestamp":2,"message_token":11,"sender":{"id":"U="},"message":{"type":"contact","contact":{"name":"Lan","phone_number":"+84912345678"}}}"#;
        let Callback::Inbound(i) = parse(contact).unwrap() else {
            panic!()
        };
        assert_eq!(
            i.content,
            Content::Contact {
                phone: "+84912345678".into(),
                name: Some("Lan".into())
            }
        );
        let sticker = br#"{"event":"message","timestamp":2,"message_token":10,"sender":{"id":"U="},"message":{"type":"sticker","sticker_id":1}}"#;
        let Callback::Inbound(i) = parse(sticker).unwrap() else {
            panic!()
        };
        assert_eq!(
            i.content,
            Content::Unsupported {
                what: "sticker".into()
            }
        );
        // Videos and files (voice notes) are links to download, checked by their bytes later.
        for (kind, url) in [
            ("video", "https://dl-media.viber.com/v.mp4"),
            ("file", "https://dl-media.viber.com/a.m4a"),
        ] {
            let body = format!(
                r#"{{"event":"message","timestamp":2,"message_token":11,"sender":{{"id":"U="}},"message":{{"type":"{kind}","media":"{url}","size":1000}}}}"#
            );
            let Callback::Inbound(i) = parse(body.as_bytes()).unwrap() else {
                panic!()
            };
            assert_eq!(
                i.content,
                Content::Media {
                    kind: kind.into(),
                    url: url.into()
                }
            );
        }
        assert!(parse(b"{").is_err());
        assert!(parse(br#"{"event":"message","timestamp":2}"#).is_err());
    }

    #[test]
    fn send_and_welcome_bodies() {
        let b = send_body(
            "U=",
            "Tổng đài 1022",
            "Chọn lĩnh vực",
            &[("FIELD:water".into(), "Cấp nước".into())],
        );
        assert_eq!(b["receiver"], "U=");
        assert_eq!(b["keyboard"]["Buttons"][0]["ActionBody"], "#FIELD:water");
        let w = welcome_body("Tổng đài 1022", "Xin chào", &[]);
        assert!(w.get("receiver").is_none());
        assert_eq!(w["type"], "text");
    }
}
