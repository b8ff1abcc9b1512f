//! Chat channels: what Messenger, Viber, Telegram and Zalo send us and what we send them, and the
//! conversation that turns a chat into a report. Nothing here does I/O: the web crate
//! verifies and stores deliveries, the worker runs the conversation and sends the replies.

pub mod conversation;
pub mod mac;
pub mod messenger;
pub mod open311;
pub mod sms;
pub mod telegram;
pub mod viber;
pub mod zalo;

use serde::{Deserialize, Serialize};

/// The chat platforms phananh speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Messenger,
    Viber,
    Telegram,
    Zalo,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Messenger => "messenger",
            Provider::Viber => "viber",
            Provider::Telegram => "telegram",
            Provider::Zalo => "zalo",
        }
    }

    /// The platform's name as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Provider::Messenger => "Messenger",
            Provider::Viber => "Viber",
            Provider::Telegram => "Telegram",
            Provider::Zalo => "Zalo",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "messenger" => Some(Provider::Messenger),
            "viber" => Some(Provider::Viber),
            "telegram" => Some(Provider::Telegram),
            "zalo" => Some(Provider::Zalo),
            _ => None,
        }
    }
}

/// One thing a citizen did in a chat, in the same form for every platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    pub provider: Provider,
    /// The platform's id of the person (Messenger PSID, Viber user id, Telegram chat id, Zalo
    /// user id).
    pub user: String,
    /// The platform's id of this delivery (`mid`, `message_token`, `update_id`, `msg_id`): the
    /// dedupe key.
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
    /// A photo: the platform's link to it, or for Telegram `telegram-file:<file_id>`
    /// (resolved with `getFile` when the report is filed).
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
    /// A shared contact card (Telegram, Viber): how to reach the citizen.
    Contact {
        phone: String,
        #[serde(default)]
        name: Option<String>,
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
    /// Telegram: the bot's token from @BotFather. The Bot API takes it in the URL path
    /// (`/bot<token>/method`), so no URL of a Bot API call is ever logged or shown.
    pub telegram_bot_token: String,
    /// Telegram: the `secret_token` given to `setWebhook`, which Telegram presents in
    /// `X-Telegram-Bot-Api-Secret-Token` (1–256 of `A-Z a-z 0-9 _ -`).
    pub telegram_secret_token: String,
    /// The Bot API base (methods at `<base>/bot<token>/<method>`, files at
    /// `<base>/file/bot<token>/<path>`).
    pub telegram_api_url: String,
    /// Hosts Telegram files may be downloaded from, as `messenger_media_hosts`.
    pub telegram_media_hosts: Vec<String>,
    /// For tests with local fakes only: also allow `http` and loopback addresses for the
    /// hosts listed above. Never set this in production.
    pub media_allow_loopback: bool,
    /// Zalo OA: the app's id (part of every webhook signature, and of the OAuth refresh).
    pub zalo_app_id: String,
    /// Zalo OA: the app secret (`secret_key` of the OAuth refresh).
    pub zalo_app_secret: String,
    /// Zalo OA: the OA secret key that signs webhook events.
    pub zalo_oa_secret: String,
    /// Zalo OA: the first refresh token (from authorising the OA). Used once, when no token
    /// is stored yet; after that the rotating pair lives in the database.
    pub zalo_refresh_token: String,
    /// Zalo OpenAPI base (CS messages, OA profile).
    pub zalo_openapi_url: String,
    /// Zalo OAuth base (`/v4/oa/access_token`).
    pub zalo_oauth_url: String,
    /// ZNS base (`/message/template`).
    pub zalo_zns_url: String,
    /// Hosts Zalo pictures may be downloaded from, as `messenger_media_hosts`.
    pub zalo_media_hosts: Vec<String>,
    /// A webhook event whose timestamp is further than this from now (either way) is refused.
    pub zalo_timestamp_window_secs: i64,
    /// CS messages are sent only this long after the citizen's last message or follow.
    pub zalo_reply_window_hours: i64,
    /// CS messages sent at most after the citizen's last message (0: no limit).
    pub zalo_reply_quota: i64,
    /// How long one process may hold the token refresh before another may take it over.
    pub zalo_refresh_lease_secs: i64,
    /// The ZNS template for status notices to citizens who reported by phone (city-wide).
    pub zalo_zns_template_id: String,
    /// Unit code → its own ZNS template, used instead of the city-wide one.
    pub zalo_zns_unit_templates: std::collections::BTreeMap<String, String>,
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
            telegram_bot_token: String::new(),
            telegram_secret_token: String::new(),
            telegram_api_url: "https://api.telegram.org".into(),
            // Telegram serves files from the Bot API host itself.
            telegram_media_hosts: vec!["api.telegram.org".into()],
            media_allow_loopback: false,
            zalo_app_id: String::new(),
            zalo_app_secret: String::new(),
            zalo_oa_secret: String::new(),
            zalo_refresh_token: String::new(),
            zalo_openapi_url: "https://openapi.zalo.me".into(),
            zalo_oauth_url: "https://oauth.zaloapp.com".into(),
            zalo_zns_url: "https://business.openapi.zalo.me".into(),
            // Where Zalo serves pictures (photo-*.zdn.vn, s*-ava-talk.zadn.vn...).
            zalo_media_hosts: vec![".zdn.vn".into(), ".zadn.vn".into()],
            zalo_timestamp_window_secs: 3600,
            zalo_reply_window_hours: 7 * 24,
            zalo_reply_quota: 8,
            zalo_refresh_lease_secs: 30,
            zalo_zns_template_id: String::new(),
            zalo_zns_unit_templates: Default::default(),
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
    pub fn telegram_enabled(&self) -> bool {
        !self.telegram_bot_token.is_empty() && !self.telegram_secret_token.is_empty()
    }
    /// Zalo events are taken (their signatures can be checked).
    pub fn zalo_enabled(&self) -> bool {
        !self.zalo_app_id.is_empty() && !self.zalo_oa_secret.is_empty()
    }
    /// Zalo messages can be sent (a token can be had).
    pub fn zalo_can_send(&self) -> bool {
        !self.zalo_app_id.is_empty() && !self.zalo_app_secret.is_empty()
    }
    /// The ZNS template for a unit's reports: its own, else the city's; none: no ZNS.
    pub fn zns_template(&self, unit: &str) -> Option<&str> {
        self.zalo_zns_unit_templates
            .get(unit)
            .map(String::as_str)
            .or(Some(self.zalo_zns_template_id.as_str()))
            .filter(|t| !t.is_empty() && self.zalo_can_send())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zns_templates_per_unit_then_city_wide() {
        let mut c = ChatConfig::default();
        c.zalo_zns_unit_templates.insert("Q1".into(), "T-Q1".into());
        assert_eq!(c.zns_template("Q1"), None, "no Zalo app: no ZNS");
        c.zalo_app_id = "A".into();
        c.zalo_app_secret = "S".into();
        assert_eq!(c.zns_template("Q1"), Some("T-Q1"));
        assert_eq!(c.zns_template("Q3"), None, "no city-wide template");
        c.zalo_zns_template_id = "T-CITY".into();
        assert_eq!(c.zns_template("Q3"), Some("T-CITY"));
        assert_eq!(c.zns_template("Q1"), Some("T-Q1"));
    }
}
