//! Telegram Bot API: the webhook's secret token, update parsing, and the bodies of
//! `sendMessage`, `setWebhook` and `getFile`, with the reading of the API's answers.
//!
//! Telegram does not sign updates: `setWebhook` takes a `secret_token`, which Telegram
//! presents in `X-Telegram-Bot-Api-Secret-Token` with every update. The bot token goes in
//! the URL path of every call (`/bot<token>/<method>`, `/file/bot<token>/<path>`): the
//! platform's wire format, so callers never log or show a Bot API URL.

use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::{Content, Inbound, Provider, WebhookError};

/// The header Telegram presents the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// How a Telegram photo is referred to until it is downloaded: `telegram-file:<file_id>`.
pub const FILE_PREFIX: &str = "telegram-file:";

/// Largest text of one `sendMessage`, in characters.
const MAX_TEXT: usize = 4096;

/// Whether `header` is the configured secret token. Both sides are hashed first and the
/// digests compared in constant time, so neither the token's bytes nor its length can be
/// guessed from response times. No secret configured: nothing is trusted.
pub fn verify_secret_token(secret_token: &str, header: Option<&str>) -> bool {
    use sha2::{Digest, Sha256};
    let Some(given) = header else {
        return false;
    };
    let a = Sha256::digest(secret_token.as_bytes());
    let b = Sha256::digest(given.as_bytes());
    !secret_token.is_empty() && bool::from(a.ct_eq(&b))
}

/// What `setWebhook` accepts as a `secret_token`: 1–256 characters of `A-Z a-z 0-9 _ -`.
pub fn valid_secret_token(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The citizen actions in one update: none (edits, groups, channels, bots, updates
/// phananh does not use), one, or two (a photo with a caption: the photo, then the
/// caption as text). Each is keyed by the `update_id` (the caption by `<update_id>:caption`),
/// so a redelivered update is a no-op.
pub fn parse(body: &[u8]) -> Result<Vec<Inbound>, WebhookError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if !v.is_object() {
        return Err(WebhookError::Malformed("not an object".into()));
    }
    let update_id = v["update_id"]
        .as_i64()
        .ok_or_else(|| WebhookError::Malformed("no update_id".into()))?;
    let id = update_id.to_string();
    if let Some(m) = v.get("message") {
        return message(m, &id);
    }
    if let Some(m) = v.get("my_chat_member") {
        // The person blocked (kicked) or restarted the bot: who may be written to.
        let Some((user, at_ms)) = private_chat(m)? else {
            return Ok(vec![]);
        };
        let content = match m["new_chat_member"]["status"].as_str() {
            Some("kicked") | Some("left") => Content::Unsubscribed,
            Some("member") => Content::Subscribed,
            _ => return Ok(vec![]),
        };
        return Ok(vec![inbound(user, id, at_ms, content)]);
    }
    // edited_message, channel_post, callback_query (phananh sends no inline keyboards),
    // inline queries, polls...: nothing to keep.
    Ok(vec![])
}

fn inbound(user: String, message_id: String, at_ms: i64, content: Content) -> Inbound {
    Inbound {
        provider: Provider::Telegram,
        user,
        message_id,
        at_ms,
        content,
    }
}

/// (chat id, unix ms) of a private chat with a person; `None` for groups, channels and
/// bots; an error when the chat or the date is missing.
fn private_chat(m: &Value) -> Result<Option<(String, i64)>, WebhookError> {
    let chat = &m["chat"];
    let chat_id = chat["id"]
        .as_i64()
        .ok_or_else(|| WebhookError::Malformed("no chat.id".into()))?;
    let date = m["date"]
        .as_i64()
        .ok_or_else(|| WebhookError::Malformed("no date".into()))?;
    if chat["type"] != "private" || m["from"]["is_bot"] == true {
        return Ok(None);
    }
    Ok(Some((chat_id.to_string(), date.saturating_mul(1000))))
}

fn message(m: &Value, id: &str) -> Result<Vec<Inbound>, WebhookError> {
    let Some((user, at_ms)) = private_chat(m)? else {
        return Ok(vec![]);
    };
    let one = |content| Ok(vec![inbound(user.clone(), id.to_string(), at_ms, content)]);
    if let Some(text) = m["text"].as_str() {
        return one(text_content(text));
    }
    let image = if let Some(sizes) = m["photo"].as_array() {
        // Sizes come smallest first: the last is the largest.
        let file = sizes.last().and_then(|p| p["file_id"].as_str());
        Some(file.map(String::from))
    } else if m["document"]["mime_type"]
        .as_str()
        .is_some_and(|t| t.starts_with("image/"))
    {
        // A photo sent as a file, uncompressed.
        Some(m["document"]["file_id"].as_str().map(String::from))
    } else {
        None
    };
    if let Some(file) = image {
        let content = match file {
            Some(f) if !f.is_empty() => Content::Image {
                url: format!("{FILE_PREFIX}{f}"),
            },
            _ => Content::Unsupported {
                what: "photo without file_id".into(),
            },
        };
        let mut out = vec![inbound(user.clone(), id.to_string(), at_ms, content)];
        if let Some(caption) = m["caption"].as_str().filter(|c| !c.trim().is_empty()) {
            out.push(inbound(
                user,
                format!("{id}:caption"),
                at_ms,
                Content::Text {
                    text: caption.to_string(),
                },
            ));
        }
        return Ok(out);
    }
    // A venue carries its location too.
    let loc = m.get("location").or_else(|| m["venue"].get("location"));
    if let Some(l) = loc {
        return one(match (l["latitude"].as_f64(), l["longitude"].as_f64()) {
            (Some(lat), Some(lon)) => Content::Location { lat, lon },
            _ => Content::Unsupported {
                what: "location".into(),
            },
        });
    }
    if let Some(c) = m.get("contact") {
        let name = [c["first_name"].as_str(), c["last_name"].as_str()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        return one(match c["phone_number"].as_str() {
            Some(phone) if !phone.trim().is_empty() => Content::Contact {
                phone: phone.to_string(),
                name: (!name.is_empty()).then_some(name),
            },
            _ => Content::Unsupported {
                what: "contact without phone".into(),
            },
        });
    }
    // Voice notes and videos are evidence: resolved with `getFile` and checked by their
    // bytes when the report is filed.
    for (key, kind) in [
        ("voice", "audio"),
        ("audio", "audio"),
        ("video", "video"),
        ("video_note", "video"),
    ] {
        if let Some(f) = m.get(key) {
            let content = match f["file_id"].as_str().filter(|f| !f.is_empty()) {
                Some(f) => Content::Media {
                    kind: kind.into(),
                    url: format!("{FILE_PREFIX}{f}"),
                },
                None => Content::Unsupported {
                    what: format!("{key} without file_id"),
                },
            };
            let mut out = vec![inbound(user.clone(), id.to_string(), at_ms, content)];
            if let Some(caption) = m["caption"].as_str().filter(|c| !c.trim().is_empty()) {
                out.push(inbound(
                    user,
                    format!("{id}:caption"),
                    at_ms,
                    Content::Text {
                        text: caption.to_string(),
                    },
                ));
            }
            return Ok(out);
        }
    }
    let what = ["sticker", "animation", "document", "poll", "dice", "story"]
        .into_iter()
        .find(|k| m.get(*k).is_some())
        .unwrap_or("unknown");
    one(Content::Unsupported { what: what.into() })
}

/// Bot commands are choices the conversation knows; any other text is text.
fn text_content(text: &str) -> Content {
    let command = text
        .trim()
        .strip_prefix('/')
        .and_then(|c| c.split_whitespace().next())
        // "/start@PhanAnh1022Bot" in a chat with several bots.
        .map(|c| c.split('@').next().unwrap_or(c).to_ascii_lowercase());
    let payload = match command.as_deref() {
        Some("start") | Some("help") => "GET_STARTED",
        Some("new") => "NEW",
        Some("cancel") => "CANCEL",
        _ => {
            return Content::Text {
                text: text.to_string(),
            };
        }
    };
    Content::Choice {
        payload: payload.into(),
        text: text.to_string(),
    }
}

/// `chat_id` as the Bot API takes it: the number when the id is one.
fn chat_id(chat: &str) -> Value {
    chat.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(chat))
}

/// A `sendMessage` body. Choices become a reply keyboard whose buttons send their title
/// back as text (the conversation reads titles as the choices they stand for); without
/// choices, a keyboard shown earlier is removed.
pub fn send_body(chat: &str, text: &str, choices: &[(String, String)]) -> Value {
    let reply_markup = if choices.is_empty() {
        json!({ "remove_keyboard": true })
    } else {
        let buttons: Vec<Value> = choices
            .iter()
            .map(|(_, title)| json!({ "text": crate::messenger::truncate(title, 64) }))
            .collect();
        // Two to a row; three or fewer short ones fit on one.
        let per_row = if choices.len() <= 3 { 3 } else { 2 };
        let rows: Vec<Value> = buttons
            .chunks(per_row)
            .map(|r| Value::from(r.to_vec()))
            .collect();
        json!({ "keyboard": rows, "resize_keyboard": true, "one_time_keyboard": true })
    };
    json!({
        "chat_id": chat_id(chat),
        "text": crate::messenger::truncate(text, MAX_TEXT),
        "reply_markup": reply_markup,
    })
}

/// The `setWebhook` body: the updates phananh uses, with the secret token Telegram will
/// present.
pub fn set_webhook_body(url: &str, secret_token: &str) -> Value {
    json!({
        "url": url,
        "secret_token": secret_token,
        "allowed_updates": ["message", "my_chat_member"],
    })
}

/// The `getFile` body.
pub fn get_file_body(file_id: &str) -> Value {
    json!({ "file_id": file_id })
}

/// A `getFile` answer's `file_path`, when it is a plain relative path (it is put in the
/// download URL after the token): no `..`, no query, no scheme.
pub fn file_path(result: &Value) -> Option<&str> {
    let p = result["file_path"].as_str()?;
    let ok = !p.is_empty()
        && p.len() <= 512
        && !p.starts_with('/')
        && p.split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
    ok.then_some(p)
}

/// Why a Bot API call failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// Worth trying again later (429, 5xx).
    pub retry: bool,
    /// Telegram's `error_code` and `description` (never the token: it was only in the URL).
    pub message: String,
}

/// Reads a Bot API answer: `{"ok":true,"result":…}` or
/// `{"ok":false,"error_code":…,"description":…,"parameters":{"retry_after":…}}`.
pub fn api_result(status: u16, body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if (200..300).contains(&status) && v["ok"] == true {
        return Ok(v["result"].clone());
    }
    let code = v["error_code"].as_i64().unwrap_or(i64::from(status));
    let description = v["description"]
        .as_str()
        .map(|d| crate::messenger::truncate(d, 200))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let retry = code == 429 || status == 429 || status >= 500 || code >= 500;
    let mut message = format!("Telegram {code}: {description}");
    if let Some(after) = v["parameters"]["retry_after"].as_i64() {
        message.push_str(&format!(" (retry after {after} s)"));
    }
    Err(ApiError { retry, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "phananh-Telegram_secret-1";

    fn update(body: &str) -> Vec<Inbound> {
        parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn the_secret_token_is_compared_whole() {
        assert!(verify_secret_token(SECRET, Some(SECRET)));
        assert!(!verify_secret_token(SECRET, None));
        assert!(!verify_secret_token(SECRET, Some("")));
        assert!(!verify_secret_token(
            SECRET,
            Some(&SECRET[..SECRET.len() - 1])
        ));
        assert!(!verify_secret_token(SECRET, Some(&format!("{SECRET}x"))));
        assert!(!verify_secret_token(SECRET, Some(&SECRET.to_uppercase())));
        assert!(!verify_secret_token("", Some("")), "no secret, no trust");
        assert!(valid_secret_token(SECRET));
        assert!(!valid_secret_token(""));
        assert!(!valid_secret_token("has space"));
        assert!(!valid_secret_token(&"a".repeat(257)));
    }

    #[test]
    fn text_photo_location_contact() {
        let t = update(
            r#"{"update_id":10000,"message":{"message_id":1365,"from":{"id":1111111,"is_bot":false,"first_name":"Lan","language_code":"vi"},"chat":{"id":1111111,"first_name":"Lan","type":"private"},"date":1441645532,"text":"Ổ gà trước chợ"}}"#,
        );
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].message_id, "10000");
        assert_eq!(t[0].user, "1111111");
        assert_eq!(t[0].at_ms, 1_441_645_532_000);
        assert_eq!(
            t[0].content,
            Content::Text {
                text: "Ổ gà trước chợ".into()
            }
        );
        let p = update(
            r#"{"update_id":10001,"message":{"message_id":1366,"from":{"id":1111111,"is_bot":false,"first_name":"Lan"},"chat":{"id":1111111,"type":"private"},"date":1441645533,"photo":[{"file_id":"AgAD-small","file_unique_id":"s","width":90,"height":67,"file_size":1200},{"file_id":"AgAD-large","file_unique_id":"l","width":1280,"height":960,"file_size":120000}],"caption":"Ổ gà lớn giữa đường"}}"#,
        );
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].content,
            Content::Image {
                url: "telegram-file:AgAD-large".into()
            }
        );
        assert_eq!(p[1].message_id, "10001:caption");
        assert_eq!(
            p[1].content,
            Content::Text {
                text: "Ổ gà lớn giữa đường".into()
            }
        );
        let l = update(
            r#"{"update_id":10002,"message":{"message_id":1367,"from":{"id":1111111,"is_bot":false},"chat":{"id":1111111,"type":"private"},"date":1441645534,"location":{"latitude":10.7769,"longitude":106.7009,"horizontal_accuracy":12.5}}}"#,
        );
        assert_eq!(
            l[0].content,
            Content::Location {
                lat: 10.7769,
                lon: 106.7009
            }
        );
        let c = update(
            r#"{"update_id":10003,"message":{"message_id":1368,"from":{"id":1111111,"is_bot":false},"chat":{"id":1111111,"type":"private"},"date":1441645535,"contact":{"phone_number":"84912345678","first_name":"Lan","last_name":"Nguyễn","user_id":1111111}}}"#,
        );
        assert_eq!(
            c[0].content,
            Content::Contact {
                phone: "84912345678".into(),
                name: Some("Lan Nguyễn".into())
            }
        );
        let d = update(
            r#"{"update_id":10004,"message":{"message_id":1369,"from":{"id":1,"is_bot":false},"chat":{"id":1,"type":"private"},"date":1,"document":{"file_id":"BQAD","mime_type":"image/jpeg"}}}"#,
        );
        assert_eq!(
            d[0].content,
            Content::Image {
                url: "telegram-file:BQAD".into()
            }
        );
    }

    #[test]
    fn commands_stickers_groups_and_blocks() {
        let cmd = |t: &str| {
            let body = json!({"update_id": 1, "message": {"message_id": 1, "from": {"id": 5, "is_bot": false},
                "chat": {"id": 5, "type": "private"}, "date": 1, "text": t}});
            update(&body.to_string()).remove(0).content
        };
        assert!(
            matches!(cmd("/start"), Content::Choice { payload, .. } if payload == "GET_STARTED")
        );
        assert!(
            matches!(cmd("/start@PhanAnhBot abc"), Content::Choice { payload, .. } if payload == "GET_STARTED")
        );
        assert!(matches!(cmd("/cancel"), Content::Choice { payload, .. } if payload == "CANCEL"));
        assert!(matches!(cmd("/weather"), Content::Text { .. }));
        let sticker = update(
            r#"{"update_id":2,"message":{"message_id":2,"from":{"id":5,"is_bot":false},"chat":{"id":5,"type":"private"},"date":2,"sticker":{"file_id":"x"}}}"#,
        );
        assert_eq!(
            sticker[0].content,
            Content::Unsupported {
                what: "sticker".into()
            }
        );
        // Voice notes and videos are recordings to fetch with getFile.
        for (key, kind) in [
            ("voice", "audio"),
            ("video", "video"),
            ("video_note", "video"),
            ("audio", "audio"),
        ] {
            let body = json!({"update_id": 9, "message": {"message_id": 9, "from": {"id": 5, "is_bot": false},
                "chat": {"id": 5, "type": "private"}, "date": 1, key: {"file_id": "AwAD-1", "duration": 3}}});
            assert_eq!(
                update(&body.to_string())[0].content,
                Content::Media {
                    kind: kind.into(),
                    url: "telegram-file:AwAD-1".into()
                },
                "{key}"
            );
        }
        // Groups, bots and edits are not conversations phananh keeps.
        assert!(
            update(r#"{"update_id":3,"message":{"message_id":3,"from":{"id":5,"is_bot":false},"chat":{"id":-100,"type":"group"},"date":3,"text":"hi"}}"#)
                .is_empty()
        );
        assert!(
            update(r#"{"update_id":4,"message":{"message_id":4,"from":{"id":7,"is_bot":true},"chat":{"id":7,"type":"private"},"date":3,"text":"hi"}}"#)
                .is_empty()
        );
        assert!(update(r#"{"update_id":5,"edited_message":{"message_id":1}}"#).is_empty());
        let blocked = update(
            r#"{"update_id":6,"my_chat_member":{"chat":{"id":5,"type":"private"},"from":{"id":5,"is_bot":false},"date":9,"old_chat_member":{"status":"member"},"new_chat_member":{"status":"kicked"}}}"#,
        );
        assert_eq!(blocked[0].content, Content::Unsubscribed);
        assert_eq!(blocked[0].message_id, "6");
    }

    #[test]
    fn malformed_updates_are_refused() {
        for body in [
            "",
            "[]",
            "{",
            r#"{"message":{}}"#,
            r#"{"update_id":"1"}"#,
            r#"{"update_id":1,"message":{"chat":{"type":"private"},"date":1,"text":"x"}}"#,
            r#"{"update_id":1,"message":{"chat":{"id":1,"type":"private"},"text":"x"}}"#,
        ] {
            assert!(
                matches!(parse(body.as_bytes()), Err(WebhookError::Malformed(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn outgoing_bodies_and_answers() {
        let b = send_body(
            "1111111",
            "Chọn lĩnh vực",
            &[
                ("FIELD:traffic".into(), "Hạ tầng giao thông".into()),
                ("FIELD:water".into(), "Cấp nước".into()),
                ("FIELD:trees".into(), "Cây xanh".into()),
                ("FIELD:other".into(), "Khác".into()),
            ],
        );
        assert_eq!(b["chat_id"], 1111111);
        assert_eq!(
            b["reply_markup"]["keyboard"][0][0]["text"],
            "Hạ tầng giao thông"
        );
        assert_eq!(b["reply_markup"]["keyboard"][1][1]["text"], "Khác");
        assert_eq!(b["reply_markup"]["one_time_keyboard"], true);
        let plain = send_body("42", &"x".repeat(5000), &[]);
        assert_eq!(plain["reply_markup"]["remove_keyboard"], true);
        assert_eq!(plain["text"].as_str().unwrap().chars().count(), 4096);
        let w = set_webhook_body("https://1022.example.vn/webhooks/telegram", SECRET);
        assert_eq!(w["secret_token"], SECRET);
        assert_eq!(get_file_body("AgAD")["file_id"], "AgAD");

        assert_eq!(
            file_path(&json!({"file_path": "photos/file_12.jpg"})),
            Some("photos/file_12.jpg")
        );
        for bad in [
            "",
            "/etc/passwd",
            "photos/../../x",
            "a//b",
            "p.jpg?x=1",
            "https://evil/x",
        ] {
            assert_eq!(file_path(&json!({ "file_path": bad })), None, "{bad}");
        }

        assert_eq!(
            api_result(200, br#"{"ok":true,"result":{"file_path":"a.jpg"}}"#).unwrap()["file_path"],
            "a.jpg"
        );
        let blocked = api_result(
            403,
            br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
        )
        .unwrap_err();
        assert!(!blocked.retry && blocked.message.contains("blocked"));
        let flood = api_result(
            429,
            br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#,
        )
        .unwrap_err();
        assert!(flood.retry);
        assert!(
            api_result(502, b"<html>bad gateway</html>")
                .unwrap_err()
                .retry
        );
        assert!(
            !api_result(
                200,
                br#"{"ok":false,"error_code":400,"description":"Bad Request"}"#
            )
            .unwrap_err()
            .retry
        );
    }
}
