//! Chat channels: what Messenger and Viber send us and what we send them, and the
//! conversation that turns a chat into a report. Nothing here does I/O: the web crate
//! verifies and stores deliveries, the worker runs the conversation and sends the replies.

pub mod conversation;
pub mod mac;
pub mod messenger;
pub mod open311;
pub mod sms;
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
    /// A video or a voice note (`kind`: "video" or "audio"), downloaded and checked by its
    /// bytes when the report is filed.
    Media {
        kind: String,
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
    let Ok(expected) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    mac::verify_hmac_sha256(key, &[body], &expected)
}

pub use mac::hmac_sha256_hex;

/// How phananh reaches the platforms. Secrets come from the config file or the
/// environment, never from the repository; base URLs point at the real APIs by default
/// and at local fakes in tests.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatConfig {
    /// Messenger: the token the GET handshake must present.
    pub messenger_verify_token: String,
    /// Messenger: the app secret (signatures in, `appsecret_proof` out).
    pub messenger_app_secret: String,
    /// Messenger: the Page access token for the Send API.
    pub messenger_page_token: String,
    pub messenger_page_id: String,
    /// Graph API base, with its version.
    pub graph_url: String,
    /// Viber: the bot's auth token (signs callbacks, authorises calls).
    pub viber_auth_token: String,
    pub viber_api_url: String,
    /// The name shown with the bot's messages on Viber (≤ 28 characters).
    pub viber_sender_name: String,
    /// Largest photo downloaded from a platform, in bytes.
    pub max_photo_bytes: usize,
    /// Hosts Messenger attachments may be downloaded from (`https` only). An entry
    /// starting with `.` matches that domain and every subdomain of it.
    pub messenger_media_hosts: Vec<String>,
    /// Hosts Viber pictures may be downloaded from, as `messenger_media_hosts`.
    pub viber_media_hosts: Vec<String>,
    /// For tests with local fakes only: also allow `http` and loopback addresses for the
    /// hosts listed above. Never set this in production.
    pub media_allow_loopback: bool,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            messenger_verify_token: String::new(),
            messenger_app_secret: String::new(),
            messenger_page_token: String::new(),
            messenger_page_id: String::new(),
            graph_url: "https://graph.facebook.com/v25.0".into(),
            viber_auth_token: String::new(),
            viber_api_url: "https://chatapi.viber.com/pa".into(),
            viber_sender_name: "Tổng đài 1022".into(),
            max_photo_bytes: 10 * 1024 * 1024,
            // Where Meta serves Messenger attachments (scontent-*.xx.fbcdn.net,
            // cdn.fbsbx.com, lookaside.fbsbx.com).
            messenger_media_hosts: vec![".fbcdn.net".into(), ".fbsbx.com".into()],
            // Where Viber serves pictures (dl-media.viber.com, media-direct.cdn.viber.com).
            viber_media_hosts: vec![".viber.com".into()],
            media_allow_loopback: false,
        }
    }
}

impl ChatConfig {
    pub fn messenger_enabled(&self) -> bool {
        !self.messenger_app_secret.is_empty()
    }
    pub fn viber_enabled(&self) -> bool {
        !self.viber_auth_token.is_empty()
    }
}
