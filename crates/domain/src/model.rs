//! The public report record and the small vocabularies around it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a report came from. The citizen hears back on the same channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Api,
    Hotline,
    Sms,
    Email,
    Messenger,
    Viber,
    Zalo,
    Telegram,
    Open311,
    Camera,
}

impl Channel {
    pub const ALL: [Channel; 11] = [
        Channel::Web,
        Channel::Api,
        Channel::Hotline,
        Channel::Sms,
        Channel::Email,
        Channel::Messenger,
        Channel::Viber,
        Channel::Zalo,
        Channel::Telegram,
        Channel::Open311,
        Channel::Camera,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::Hotline => "hotline",
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Messenger => "messenger",
            Channel::Viber => "viber",
            Channel::Zalo => "zalo",
            Channel::Telegram => "telegram",
            Channel::Open311 => "open311",
            Channel::Camera => "camera",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Channel::Web => "Web portal",
            Channel::Hotline => "Hotline",
            Channel::Sms => "SMS",
            Channel::Email => "Email",
            other => other.label_vi(),
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Channel::Web => "Cổng thông tin",
            Channel::Api => "API",
            Channel::Hotline => "Tổng đài",
            Channel::Sms => "Tin nhắn SMS",
            Channel::Email => "Thư điện tử",
            Channel::Messenger => "Facebook Messenger",
            Channel::Viber => "Viber",
            Channel::Zalo => "Zalo",
            Channel::Telegram => "Telegram",
            Channel::Open311 => "Open311",
            Channel::Camera => "Camera",
        }
    }
}

/// Where a report stands in the common procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At the triage desk, waiting for a unit.
    New,
    /// A unit has it (and maybe a staff member); the unit's clock runs.
    Assigned,
    InProgress,
    /// The unit asked the citizen for information; the clock is paused.
    InfoRequested,
    Resolved,
    Closed,
    Rejected,
    /// Closed as a duplicate of another report (`Report::duplicate_of`): the problem is
    /// handled, and counted, once, on the original. Undoing the merge restores the status
    /// it had before.
    Duplicate,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::New,
        Status::Assigned,
        Status::InProgress,
        Status::InfoRequested,
        Status::Resolved,
        Status::Closed,
        Status::Rejected,
        Status::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::InfoRequested => "info_requested",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Status::New => "Mới tiếp nhận",
            Status::Assigned => "Đã chuyển đơn vị",
            Status::InProgress => "Đang xử lý",
            Status::InfoRequested => "Chờ bổ sung thông tin",
            Status::Resolved => "Đã xử lý",
            Status::Closed => "Đã đóng",
            Status::Rejected => "Từ chối",
            Status::Duplicate => "Trùng hồ sơ khác",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Assigned => "Assigned",
            Status::InProgress => "In progress",
            Status::InfoRequested => "Waiting for information",
            Status::Resolved => "Resolved",
            Status::Closed => "Closed",
            Status::Rejected => "Rejected",
            Status::Duplicate => "Duplicate",
        }
    }

    /// Open reports still count against a unit's deadline.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Status::Resolved | Status::Closed | Status::Rejected | Status::Duplicate
        )
    }

    /// Whether a report in this status is published: its content on the status page, the
    /// map and lists, the public API and Open311. A rejected report (spam, abuse, not the
    /// city's business) is not: it is in no list, and by its tracking code its reporter
    /// sees only that it was rejected and why. The one definition every public view uses.
    pub fn is_published(self) -> bool {
        self != Status::Rejected
    }
}

/// Whether a report's words and photos are public yet. A field that needs review (public
/// order, noise: reports that name neighbours, photos with faces and plates) files its
/// reports as `Review`; the public then sees the field, ward, status, dates and map point,
/// but no text and no photo, until a moderator publishes them (or hides the report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publication {
    #[default]
    Published,
    Review,
    Hidden,
}

impl Publication {
    pub fn as_str(self) -> &'static str {
        match self {
            Publication::Published => "published",
            Publication::Review => "review",
            Publication::Hidden => "hidden",
        }
    }

    pub fn parse(s: &str) -> Option<Publication> {
        [
            Publication::Published,
            Publication::Review,
            Publication::Hidden,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Publication::Published => "Đã công khai",
            Publication::Review => "Chờ kiểm duyệt",
            Publication::Hidden => "Không công khai",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Publication::Published => "Published",
            Publication::Review => "Waiting for review",
            Publication::Hidden => "Hidden from the public",
        }
    }
}

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Citizen,
    Staff,
    System,
    Integrator,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Citizen => "citizen",
            ActorKind::Staff => "staff",
            ActorKind::System => "system",
            ActorKind::Integrator => "integrator",
        }
    }
    pub fn parse(s: &str) -> Option<ActorKind> {
        [
            ActorKind::Citizen,
            ActorKind::Staff,
            ActorKind::System,
            ActorKind::Integrator,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// Staff user id, integrator name, ... (never a citizen's phone or email).
    pub id: Option<String>,
    /// Display name for staff; "Người phản ánh" for citizens.
    pub name: Option<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            kind: ActorKind::System,
            id: None,
            name: None,
        }
    }
    pub fn citizen() -> Actor {
        Actor {
            kind: ActorKind::Citizen,
            id: None,
            name: None,
        }
    }
    pub fn staff(id: i64, name: &str) -> Actor {
        Actor {
            kind: ActorKind::Staff,
            id: Some(id.to_string()),
            name: Some(name.to_string()),
        }
    }
}

/// A point on the map, WGS84.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// Metres to `other` (haversine; a city is small enough for a sphere).
    pub fn distance_m(&self, other: &Point) -> f64 {
        const R: f64 = 6_371_000.0;
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * R * h.sqrt().min(1.0).asin()
    }

    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }
}

/// The public record of a report: nothing in it is personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: i64,
    pub code: String,
    pub field: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub ward: Option<String>,
    pub channel: Channel,
    pub status: Status,
    pub unit: String,
    pub assignee: Option<i64>,
    pub due_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub duplicate_of: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Number of events in the history (the last sequence number).
    pub last_seq: i64,
    /// Whether the words and photos are public yet (moderation).
    #[serde(default)]
    pub publication: Publication,
    /// The text the public sees instead of the citizen's own, when a moderator edited it
    /// (the original stays for staff).
    #[serde(default)]
    pub public_text: Option<String>,
    /// Answers to the field's extra questions, and media links given at intake.
    #[serde(default)]
    pub extra: ReportExtra,
    /// An urgent case: hours on the clock, the duty contact alerted, first in the queues.
    #[serde(default)]
    pub urgent: bool,
}

impl Report {
    /// Whether the public may see this report's words, photos and recordings: it is
    /// published (not rejected) and its content was not held back by moderation. The one
    /// rule every public view of content uses.
    pub fn content_is_public(&self) -> bool {
        self.status.is_published() && self.publication == Publication::Published
    }
}

/// What some channels add to a report: answers to the field's extra questions (Open311
/// attributes) and links to media. Public, like the rest of the record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportExtra {
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_urls: Vec<String>,
}

/// Personal data of the person who reported, kept apart from the public record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The identity on the channel used (Messenger PSID, Viber id, ...).
    pub channel_identity: Option<String>,
    /// Consent to be contacted about this report.
    pub consent: bool,
}

impl Reporter {
    pub fn is_anonymous(&self) -> bool {
        self.name.is_none()
            && self.phone.is_none()
            && self.email.is_none()
            && self.channel_identity.is_none()
    }
}
