//! Intake: every channel files reports through [`App::submit`].
//!
//! validate → place (ward by point, by ward code, or by name in the address) → route →
//! due date → one group-committed transaction (report, events, reporter, jobs) → receipt.

use chrono::{DateTime, Utc};
use phananh_domain::event::EventKind;
use phananh_domain::model::{Actor, Channel, Reporter, Status};
use phananh_domain::routing::route;
use phananh_storage::{NewJob, NewReport};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{App, AppError, FieldError};

pub const MAX_DESCRIPTION: usize = 5000;
pub const MAX_ADDRESS: usize = 500;
pub const MAX_NAME: usize = 200;
pub const MAX_IDEMPOTENCY_KEY: usize = 200;
/// Caps on the other free-text inputs, checked with the ones above before any other work.
pub const MAX_SHORT_INPUT: usize = 254;
pub const MAX_MEDIA_URL: usize = 2000;
pub const MAX_ATTRIBUTES: usize = 50;
pub const MAX_ATTRIBUTE_ANSWER: usize = 1000;

/// Whether `s` has more than `max` characters, looking at no more than `4 * max + 4`
/// bytes of it (a character takes at most four).
fn longer_than(s: &str, max: usize) -> bool {
    s.len() > max && (s.len() > 4 * max || s.chars().count() > max)
}

/// Every input over its cap, found before any matching or lookup: a long text costs no
/// more than its length check, and is answered at once.
pub fn check_lengths(req: &IntakeRequest, idempotency_key: Option<&str>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut too_long = |field: &str, max: usize, vi: &str, en: &str| {
        errors.push(FieldError::new(
            field,
            "too_long",
            &format!("{vi} dài quá {max} ký tự"),
            &format!("{en} is longer than {max} characters"),
        ))
    };
    if longer_than(req.description.trim(), MAX_DESCRIPTION) {
        too_long("description", MAX_DESCRIPTION, "Mô tả", "The description");
    }
    if req
        .address
        .as_deref()
        .is_some_and(|a| longer_than(a.trim(), MAX_ADDRESS))
    {
        too_long("address", MAX_ADDRESS, "Địa chỉ", "The address");
    }
    if req
        .name
        .as_deref()
        .is_some_and(|n| longer_than(n.trim(), MAX_NAME))
    {
        too_long("name", MAX_NAME, "Họ tên", "The name");
    }
    for (field, value, vi, en) in [
        ("field", Some(req.field.as_str()), "Lĩnh vực", "The field"),
        ("ward", req.ward.as_deref(), "Phường, xã", "The ward"),
        (
            "phone",
            req.phone.as_deref(),
            "Số điện thoại",
            "The phone number",
        ),
        ("email", req.email.as_deref(), "Email", "The email address"),
    ] {
        if value.is_some_and(|v| longer_than(v, MAX_SHORT_INPUT)) {
            too_long(field, MAX_SHORT_INPUT, vi, en);
        }
    }
    if req
        .media_url
        .as_deref()
        .is_some_and(|u| longer_than(u, MAX_MEDIA_URL))
    {
        too_long("media_url", MAX_MEDIA_URL, "Đường dẫn ảnh", "media_url");
    }
    if idempotency_key.is_some_and(|k| k.len() > MAX_IDEMPOTENCY_KEY) {
        too_long(
            "idempotency_key",
            MAX_IDEMPOTENCY_KEY,
            "Khóa Idempotency-Key",
            "The Idempotency-Key",
        );
    }
    if req.attributes.len() > MAX_ATTRIBUTES
        || req.attributes.iter().any(|(k, v)| {
            longer_than(k, MAX_SHORT_INPUT)
                || v.len() > MAX_ATTRIBUTES
                || v.iter().any(|a| longer_than(a, MAX_ATTRIBUTE_ANSWER))
        })
    {
        too_long(
            "attributes",
            MAX_ATTRIBUTE_ANSWER,
            "Câu trả lời",
            "An answer",
        );
    }
    if req.photos.len() > crate::photos::MAX_PHOTOS {
        errors.push(FieldError::new(
            "photos",
            "too_many_photos",
            &format!("Tối đa {} ảnh", crate::photos::MAX_PHOTOS),
            &format!("At most {} photos", crate::photos::MAX_PHOTOS),
        ));
    }
    if req.media.len() > crate::media::MAX_MEDIA {
        errors.push(FieldError::new(
            "media",
            "too_many_media",
            &format!("Tối đa {} video hoặc ghi âm", crate::media::MAX_MEDIA),
            &format!("At most {} videos or voice notes", crate::media::MAX_MEDIA),
        ));
    }
    errors
}

/// What a channel hands to intake.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IntakeRequest {
    pub field: String,
    pub description: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub address: Option<String>,
    /// A ward code, when the person chose the ward from a list.
    #[serde(default)]
    pub ward: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub consent: bool,
    /// Answers to the field's extra questions, by attribute code.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
    /// Links to photos or videos hosted elsewhere (Open311 `media_url`).
    #[serde(default)]
    pub media_url: Option<String>,
    /// Keys of photos uploaded first (`POST /api/v1/photos`), at most five. Not part of
    /// the idempotency hash: a double tap uploads the same photos again under new keys.
    #[serde(default, skip_serializing)]
    pub photos: Vec<String>,
    /// Keys of video and voice notes kept first ([`App::store_media`]), at most
    /// [`crate::media::MAX_MEDIA`]; like photos, not part of the idempotency hash.
    #[serde(default, skip_serializing)]
    pub media: Vec<String>,
    /// The operator marked the case urgent. Never read from a citizen's request (and
    /// honoured only when a staff member files): citizens' words make it urgent through
    /// the field's urgent keywords.
    #[serde(skip)]
    pub urgent: bool,
}

/// What the citizen gets back.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub id: i64,
    pub code: String,
    pub status: Status,
    pub unit: String,
    pub ward: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub replayed: bool,
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Vietnamese phone numbers: keeps digits, turns +84/84 into a leading 0.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    let local =
        if raw.trim_start().starts_with('+') || (digits.starts_with("84") && digits.len() == 11) {
            digits
                .strip_prefix("84")
                .map(|d| format!("0{d}"))
                .unwrap_or(digits)
        } else {
            digits
        };
    (8..=12).contains(&local.len()).then_some(local)
}

pub(crate) fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(char::is_whitespace)
}

impl App {
    /// Files a report from any channel and returns once it is durably committed.
    pub async fn submit(
        &self,
        req: IntakeRequest,
        channel: Channel,
        actor: Actor,
        channel_identity: Option<String>,
        idempotency_key: Option<String>,
    ) -> Result<Receipt, AppError> {
        let errors = check_lengths(&req, idempotency_key.as_deref());
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let catalog = self.catalog().await;
        let now = self.clock.now();
        let mut errors = Vec::new();

        let description = req.description.trim().to_string();
        if description.is_empty() {
            errors.push(FieldError::new(
                "description",
                "required",
                "Vui lòng mô tả vấn đề",
                "Please describe the problem",
            ));
        } else if description.chars().count() > MAX_DESCRIPTION {
            errors.push(FieldError::new(
                "description",
                "too_long",
                &format!("Mô tả dài quá {MAX_DESCRIPTION} ký tự"),
                &format!("The description is longer than {MAX_DESCRIPTION} characters"),
            ));
        }
        let field = catalog.field(req.field.trim());
        if field.is_none() {
            errors.push(FieldError::new(
                "field",
                "unknown_field",
                "Vui lòng chọn lĩnh vực trong danh sách",
                "Please choose a field from the list",
            ));
        }
        let address = trimmed(&req.address);
        if address
            .as_ref()
            .is_some_and(|a| a.chars().count() > MAX_ADDRESS)
        {
            errors.push(FieldError::new(
                "address",
                "too_long",
                &format!("Địa chỉ dài quá {MAX_ADDRESS} ký tự"),
                &format!("The address is longer than {MAX_ADDRESS} characters"),
            ));
        }

        // Place the report: a point first, then a chosen ward, then a ward named in the address.
        let mut ward: Option<String> = None;
        let (lat, lon) = match (req.lat, req.lon) {
            (Some(lat), Some(lon)) => {
                let p = phananh_domain::model::Point { lat, lon };
                if !p.is_valid() {
                    errors.push(FieldError::new(
                        "location",
                        "invalid_point",
                        "Tọa độ không hợp lệ",
                        "The coordinates are not valid",
                    ));
                } else if let Some(hit) = catalog.ward_index.locate(lat, lon) {
                    ward = Some(hit.code);
                } else {
                    errors.push(FieldError::new(
                        "location",
                        "outside_city",
                        &format!("Vị trí nằm ngoài {}", catalog.city.name_vi),
                        &format!("The location is outside {}", catalog.city.name_en),
                    ));
                }
                (Some(lat), Some(lon))
            }
            (None, None) => (None, None),
            _ => {
                errors.push(FieldError::new(
                    "location",
                    "incomplete_point",
                    "Cần cả vĩ độ và kinh độ",
                    "Both latitude and longitude are needed",
                ));
                (None, None)
            }
        };
        if ward.is_none()
            && let Some(code) = trimmed(&req.ward)
        {
            if catalog.ward(&code).is_some() {
                ward = Some(code);
            } else {
                errors.push(FieldError::new(
                    "ward",
                    "unknown_ward",
                    "Phường, xã không có trong danh sách",
                    "Unknown ward",
                ));
            }
        }
        if ward.is_none()
            && let Some(a) = &address
        {
            ward = catalog.ward_names.find_in_address(a);
        }
        if lat.is_none() && address.is_none() && trimmed(&req.ward).is_none() {
            errors.push(FieldError::new(
                "location",
                "location_required",
                "Vui lòng cho biết vị trí: chọn trên bản đồ hoặc nhập địa chỉ",
                "Please give a location: a point on the map or an address",
            ));
        }

        // Personal data.
        let name = trimmed(&req.name);
        if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
            errors.push(FieldError::new(
                "name",
                "too_long",
                "Họ tên quá dài",
                "The name is too long",
            ));
        }
        let phone = match trimmed(&req.phone) {
            Some(p) => match normalise_phone(&p) {
                Some(p) => Some(p),
                None => {
                    errors.push(FieldError::new(
                        "phone",
                        "invalid_phone",
                        "Số điện thoại không hợp lệ",
                        "The phone number is not valid",
                    ));
                    None
                }
            },
            None => None,
        };
        let email = match trimmed(&req.email) {
            Some(e) if valid_email(&e) => Some(e.to_lowercase()),
            Some(_) => {
                errors.push(FieldError::new(
                    "email",
                    "invalid_email",
                    "Địa chỉ email không hợp lệ",
                    "The email address is not valid",
                ));
                None
            }
            None => None,
        };
        if let Some(field) = field {
            for code in req.attributes.keys() {
                if !field.attributes.iter().any(|a| &a.code == code) {
                    errors.push(FieldError::new(
                        "attributes",
                        "unknown_attribute",
                        &format!("Lĩnh vực này không có câu hỏi «{code}»"),
                        &format!("This field has no attribute {code}"),
                    ));
                }
            }
            for a in &field.attributes {
                let answers = req.attributes.get(&a.code).cloned().unwrap_or_default();
                if let Err(msg) = a.check(&answers) {
                    let (vi, en) = msg.split_once(" / ").unwrap_or((&msg, &msg));
                    errors.push(FieldError::new("attributes", "invalid_attribute", vi, en));
                }
            }
        }
        let media_url = trimmed(&req.media_url);
        if media_url.as_deref().is_some_and(|u| {
            !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2000
        }) {
            errors.push(FieldError::new(
                "media_url",
                "invalid_url",
                "Đường dẫn ảnh phải bắt đầu bằng http(s)://",
                "media_url must be an http(s) URL",
            ));
        }
        if let Some(k) = &idempotency_key
            && (k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY)
        {
            errors.push(FieldError::new(
                "idempotency_key",
                "invalid_idempotency_key",
                "Khóa Idempotency-Key phải dài 1–200 ký tự",
                "The Idempotency-Key must be 1–200 characters",
            ));
        }
        if errors.is_empty()
            && let Err(AppError::Validation(mut e)) = self.check_photo_keys(&req.photos).await
        {
            errors.append(&mut e);
        }
        if errors.is_empty()
            && let Err(AppError::Validation(mut e)) = self.check_media_keys(&req.media).await
        {
            errors.append(&mut e);
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let Some(field) = field else {
            return Err(AppError::Internal("field vanished".into()));
        };

        let routed = route(
            &catalog.rules,
            &field.code,
            ward.as_deref(),
            &catalog.triage_unit,
        );
        let mut events = vec![(
            actor.clone(),
            EventKind::Created {
                field: field.code.clone(),
                channel,
                ward: ward.clone(),
                unit: catalog.triage_unit.clone(),
                review: field.review,
            },
        )];
        let urgent = phananh_domain::urgent::why(
            field,
            &description,
            req.urgent && actor.kind == phananh_domain::model::ActorKind::Staff,
        );
        if let Some(reason) = &urgent {
            events.push((
                Actor::system(),
                EventKind::MarkedUrgent {
                    reason: reason.clone(),
                    due_at: None,
                },
            ));
        }
        let (status, due_at) = if routed.rule.is_some() {
            let due = if urgent.is_some() {
                phananh_domain::urgent::due(now, field.urgent_hours)
            } else {
                catalog.calendar.due_date(now, field.resolve_days)
            };
            events.push((
                Actor::system(),
                EventKind::Assigned {
                    unit: routed.unit.clone(),
                    assignee: None,
                    due_at: Some(due),
                    reason: Some(routed.reason_vi.clone()),
                },
            ));
            (Status::Assigned, Some(due))
        } else {
            (Status::New, None)
        };

        let reporter = Reporter {
            name,
            phone,
            email,
            channel_identity,
            consent: req.consent,
        };
        let last = events.last().map(|(_, e)| e).expect("a created event");
        let mut jobs = unit_jobs(&catalog, &routed.unit, last, events.len() as i64, now);
        if urgent.is_some() {
            // The state the first events leave, so the alert goes where the report went.
            let state = phananh_domain::procedure::State::fold(
                &events
                    .iter()
                    .enumerate()
                    .map(|(i, (actor, kind))| phananh_domain::event::Event {
                        seq: i as i64 + 1,
                        at: now,
                        actor: actor.clone(),
                        kind: kind.clone(),
                    })
                    .collect::<Vec<_>>(),
            )
            .ok_or_else(|| AppError::Internal("no created event".into()))?;
            let marked = EventKind::MarkedUrgent {
                reason: String::new(),
                due_at: None,
            };
            jobs.extend(urgent_jobs(&marked, &state, events.len() as i64, now));
        }
        // The receipt with the tracking code, on the citizen's channel, when they left a way back.
        let reachable = reporter.email.is_some()
            || reporter.phone.is_some()
            || reporter.channel_identity.is_some();
        if reachable && let Some(job) = crate::follow::citizen_job(&events[0].1, 1, now) {
            jobs.push(job);
        }
        let idempotency = idempotency_key.map(|k| {
            let mut h = Sha256::new();
            h.update(serde_json::to_vec(&req).unwrap_or_default());
            h.update(channel.as_str());
            (
                format!("{}:{k}", channel.as_str()),
                hex::encode(h.finalize()),
            )
        });
        let created = self
            .store
            .submit(NewReport {
                field: field.code.clone(),
                description,
                lat,
                lon,
                address,
                ward: ward.clone(),
                channel,
                status,
                unit: routed.unit.clone(),
                due_at,
                created_at: now,
                events,
                reporter: (!reporter.is_anonymous()).then_some(reporter),
                jobs: jobs.clone(),
                idempotency,
                photos: req.photos.clone(),
                publication: if field.review {
                    phananh_domain::model::Publication::Review
                } else {
                    phananh_domain::model::Publication::Published
                },
                media: req.media.clone(),
                urgent: urgent.is_some(),
                extra: phananh_domain::model::ReportExtra {
                    attributes: req
                        .attributes
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.iter()
                                    .map(|s| s.trim().to_string())
                                    .filter(|s| !s.is_empty())
                                    .collect(),
                            )
                        })
                        .filter(|(_, v): &(String, Vec<String>)| !v.is_empty())
                        .collect(),
                    media_urls: media_url.into_iter().collect(),
                },
            })
            .await?;
        let metric = if created.replayed {
            &self.metrics.reports_replayed
        } else {
            &self.metrics.reports_created
        };
        metric.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if created.replayed {
            // Answer with the report as it is now.
            let r = self
                .store
                .report(created.id)
                .await?
                .ok_or(AppError::NotFound)?;
            return Ok(Receipt {
                id: r.id,
                code: r.code,
                status: r.status,
                unit: r.unit,
                ward: r.ward,
                due_at: r.due_at,
                replayed: true,
            });
        }
        if !jobs.is_empty() {
            self.jobs_queued.notify_one();
        }
        Ok(Receipt {
            id: created.id,
            code: created.code,
            status,
            unit: routed.unit,
            ward,
            due_at,
            replayed: false,
        })
    }
}

/// What the worker must send to `unit` after `event` (number `seq`) on one of its reports:
/// a signed webhook if it has one, and the report itself to its own Open311 system when
/// the report has just come to it. The report is filled in by the caller
/// ([`NewJob::for_report`]).
pub fn unit_jobs(
    catalog: &crate::Catalog,
    unit: &str,
    event: &phananh_domain::event::EventKind,
    seq: i64,
    now: DateTime<Utc>,
) -> Vec<NewJob> {
    use phananh_domain::event::EventKind;
    let Some(u) = catalog.unit(unit) else {
        return Vec::new();
    };
    let mut jobs = Vec::new();
    if u.webhook_url.is_some() {
        jobs.push(NewJob::unit_webhook(unit, event.type_name(), seq, now));
    }
    let arrived = match event {
        EventKind::Assigned { unit: to, .. } | EventKind::Transferred { to, .. } => to == unit,
        _ => false,
    };
    if arrived && u.forward_open311.is_some() {
        jobs.push(NewJob::unit_open311_forward(unit, now));
    }
    if arrived && u.forward_email.is_some() {
        jobs.push(NewJob::unit_email_forward(unit, seq, now));
    }
    jobs
}

/// The alert to the duty contact of the unit that has an urgent case after `event` (event
/// `seq`), and the escalation if nobody takes it up (see `phananh_domain::urgent`).
pub fn urgent_jobs(
    event: &phananh_domain::event::EventKind,
    after: &phananh_domain::procedure::State,
    seq: i64,
    now: DateTime<Utc>,
) -> Vec<NewJob> {
    if !phananh_domain::urgent::alerts(event, after) {
        return Vec::new();
    }
    let mut jobs = vec![NewJob::urgent_alert(&after.unit, seq, now)];
    if after.status != Status::InProgress {
        jobs.push(NewJob::urgent_escalate(&after.unit, seq, now));
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised() {
        assert_eq!(
            normalise_phone("+84 912 345 678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalise_phone("0912.345.678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalise_phone("84912345678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(normalise_phone("12"), None);
    }

    #[test]
    fn emails_are_checked() {
        assert!(valid_email("a@b.vn"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("a b@c.vn"));
    }
}
