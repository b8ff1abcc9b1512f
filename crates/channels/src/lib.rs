//! Chat channels: what Messenger and Viber send us and what we send them, and the
//! conversation that turns a chat into a report. Nothing here does I/O: the web crate
//! verifies and stores deliveries, the worker runs the conversation and sends the replies.

pub mod conversation;
pub mod messenger;
pub mod viber;

use serde::{Deserialize, Serialize};

/// The chat platforms phananh speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Messenger,
    Viber,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Messenger => "messenger",
            Provider::Viber => "viber",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "messenger" => Some(Provider::Messenger),
            "viber" => Some(Provider::Viber),
            _ => None,
        }
    }
}

/// One thing a citizen did in a chat, in the same form for every platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    pub provider: Provider,
    /// The platform's id of the person (Messenger PSID, Viber user id).
    pub user: String,
    /// The platform's id of this delivery (`mid`, `message_token`): the dedupe key.
    pub message_id: String,
    /// When the platform says it happened (unix ms), to put events back in order.
    pub at_ms: i64,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
    },
    /// A quick reply, postback or keyboard button: what we put in its payload.
    Choice {
        payload: String,
        text: String,
    },
    Image {
        url: String,
    },
    Location {
        lat: f64,
        lon: f64,
    },
    /// Viber: the person opened the chat (may not be subscribed yet).
    Started {
        subscribed: bool,
    },
    Subscribed,
    Unsubscribed,
    /// Something we cannot use (a sticker, a file, a video...): answered with a prompt.
    Unsupported {
        what: String,
    },
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// Missing or wrong signature: 403, nothing stored.
    BadSignature,
    /// Not JSON, or not the shape the platform documents: 400.
    Malformed(String),
}

/// HMAC-SHA256 of `body` under `key`, checked in constant time against `hex_sig`.
pub(crate) fn hmac_sha256_matches(key: &[u8], body: &[u8], hex_sig: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Ok(expected) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Hex HMAC-SHA256, as the platforms sign (and as the tests' fake platforms sign).
pub fn hmac_sha256_hex(key: &[u8], body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
