//! Administration: units, fields, routing rules, staff accounts, calendar days, integrators'
//! API keys and the outbox's dead letters. Every use case here takes the signed-in person
//! and answers "not found" to anyone who is not an administrator, as the admin pages do.
//!
//! Edits to the profile (units, fields, rules, calendar) take effect when the catalog
//! reloads ([`App::refresh_catalog`]).

use chrono::NaiveDate;
use phananh_domain::access::{Principal, Role};
use phananh_domain::profile::{Field, Unit, UnitKind};
use phananh_domain::routing::Rule;
use phananh_storage::JobStatus;

use crate::query::{ApiKey, Job, User};
use crate::{App, AppError};

/// How many jobs of each list the outbox page shows.
const OUTBOX_ROWS: i64 = 200;

/// A unit as an administrator types it (every field as text; empty means none).
#[derive(Debug, Clone, Default)]
pub struct UnitInput {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: String,
    pub ward: String,
    pub email: String,
    pub phone: String,
    pub webhook_url: String,
    /// Who is alerted at once about an urgent case (empty: the unit's own phone and email).
    pub duty_phone: String,
    pub duty_email: String,
}

/// A field (category) as an administrator types it.
#[derive(Debug, Clone, Default)]
pub struct FieldInput {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub icon: String,
    pub ack_hours: String,
    pub resolve_days: String,
    /// Comma-separated.
    pub keywords: String,
    /// Reports wait for a moderator before their words and photos are public.
    pub review: bool,
    /// Every report of this field is urgent.
    pub urgent: bool,
    /// Clock hours an urgent case of this field has (empty: the default).
    pub urgent_hours: String,
    /// Comma-separated words that make a report of this field urgent.
    pub urgent_keywords: String,
    /// Metres within which reports of this field are likely duplicates (empty: keep the
    /// field's, or the default for a new field).
    pub duplicate_radius_m: String,
}

/// A routing rule as an administrator types it (an empty ward: city-wide).
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub field: String,
    pub ward: String,
    pub unit: String,
    pub priority: String,
}

/// The outbox as the admin page shows it.
pub struct Outbox {
    /// Jobs that failed for good and wait for a person.
    pub dead: Vec<Job>,
    /// Jobs waiting to run.
    pub pending: Vec<Job>,
}

/// A trimmed text, or None when empty.
pub fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn required(s: &str, field: &str) -> Result<String, AppError> {
    opt(s).ok_or_else(|| {
        AppError::invalid(
            field,
            "required",
            &format!("Thiếu {field}"),
            &format!("{field} is required"),
        )
    })
}

/// A whole number from 0 to `max`; `field` names the input in the error.
pub fn number(s: &str, field: &str, max: u32) -> Result<u32, AppError> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            AppError::invalid(
                field,
                "invalid_number",
                &format!("{field}: cần số từ 0 đến {max}"),
                &format!("{field}: a number from 0 to {max}"),
            )
        })
}

/// A role by its code.
pub fn parse_role(s: &str) -> Result<Role, AppError> {
    Role::parse(s).ok_or_else(|| {
        AppError::invalid(
            "role",
            "invalid_role",
            "Vai trò không hợp lệ",
            "Invalid role",
        )
    })
}

/// Administrators only; everyone else is told "not found".
pub(crate) fn admin_only(who: &Principal) -> Result<(), AppError> {
    if who.can_admin() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

impl App {
    /// Adds a unit, or changes the one with this code (its forwarding settings are kept).
    pub async fn save_unit(&self, who: &Principal, f: UnitInput) -> Result<(), AppError> {
        admin_only(who)?;
        let code = required(&f.code, "code")?;
        let name_vi = required(&f.name_vi, "name_vi")?;
        let kind = UnitKind::parse(&f.kind).ok_or_else(|| {
            AppError::invalid(
                "kind",
                "invalid_kind",
                "Loại đơn vị không hợp lệ",
                "Invalid kind",
            )
        })?;
        let catalog = self.catalog().await;
        let ward = opt(&f.ward);
        if ward.as_deref().is_some_and(|w| catalog.ward(w).is_none()) {
            return Err(AppError::invalid(
                "ward",
                "unknown_ward",
                "Phường không có",
                "Unknown ward",
            ));
        }
        let webhook_url = opt(&f.webhook_url);
        if webhook_url
            .as_deref()
            .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")))
        {
            return Err(AppError::invalid(
                "webhook_url",
                "invalid_url",
                "Địa chỉ webhook phải bắt đầu bằng http(s)://",
                "The webhook URL must start with http(s)://",
            ));
        }
        let duty_phone = match opt(&f.duty_phone) {
            Some(p) => Some(crate::intake::normalise_phone(&p).ok_or_else(|| {
                AppError::invalid(
                    "duty_phone",
                    "invalid_phone",
                    "Số trực không hợp lệ",
                    "The duty phone number is not valid",
                )
            })?),
            None => None,
        };
        let duty_email = opt(&f.duty_email);
        if duty_email
            .as_deref()
            .is_some_and(|e| !crate::intake::valid_email(e))
        {
            return Err(AppError::invalid(
                "duty_email",
                "invalid_email",
                "Email trực không hợp lệ",
                "The duty email address is not valid",
            ));
        }
        let unit = Unit {
            name_en: opt(&f.name_en).unwrap_or_else(|| name_vi.clone()),
            code,
            name_vi,
            kind,
            parent: None,
            ward,
            email: opt(&f.email),
            phone: opt(&f.phone),
            sample: false,
            webhook_url,
            forward_open311: catalog
                .unit(f.code.trim())
                .and_then(|u| u.forward_open311.clone()),
            forward_email: catalog
                .unit(f.code.trim())
                .and_then(|u| u.forward_email.clone()),
            duty_phone,
            duty_email,
        };
        Ok(self.store.save_unit(&unit).await?)
    }

    /// Adds a field, or changes the one with this code (its attributes are kept).
    pub async fn save_field(&self, who: &Principal, f: FieldInput) -> Result<(), AppError> {
        admin_only(who)?;
        let name_vi = required(&f.name_vi, "name_vi")?;
        let existing = self.catalog().await.field(f.code.trim()).cloned();
        let field = Field {
            code: required(&f.code, "code")?,
            name_en: opt(&f.name_en).unwrap_or_else(|| name_vi.clone()),
            name_vi,
            icon: opt(&f.icon).unwrap_or_else(|| "📌".into()),
            ack_hours: number(&f.ack_hours, "ack_hours", 720)?,
            resolve_days: number(&f.resolve_days, "resolve_days", 365)?,
            keywords: f.keywords.split(',').filter_map(opt).collect(),
            attributes: existing
                .as_ref()
                .map(|f| f.attributes.clone())
                .unwrap_or_default(),
            review: f.review,
            urgent: f.urgent,
            urgent_hours: if f.urgent_hours.trim().is_empty() {
                phananh_domain::urgent::DEFAULT_HOURS
            } else {
                number(&f.urgent_hours, "urgent_hours", 72)?.max(1)
            },
            urgent_keywords: f.urgent_keywords.split(',').filter_map(opt).collect(),
            duplicate_radius_m: if f.duplicate_radius_m.trim().is_empty() {
                existing
                    .as_ref()
                    .map_or(phananh_domain::duplicates::DEFAULT_RADIUS_M, |f| {
                        f.duplicate_radius_m
                    })
            } else {
                number(&f.duplicate_radius_m, "duplicate_radius_m", 2_000)?.max(10)
            },
        };
        Ok(self.store.save_field(&field).await?)
    }

    /// Replaces a field's extra questions with those in `text`
    /// (`phananh_domain::questions::parse`'s format); an empty text removes them.
    pub async fn save_field_questions(
        &self,
        who: &Principal,
        code: &str,
        text: &str,
    ) -> Result<(), AppError> {
        admin_only(who)?;
        let Some(mut field) = self.catalog().await.field(code.trim()).cloned() else {
            return Err(AppError::invalid(
                "code",
                "unknown_field",
                "Không có lĩnh vực này",
                "No such field",
            ));
        };
        field.attributes = phananh_domain::questions::parse(text).map_err(|e| {
            let (vi, en) = e.split_once(" / ").unwrap_or((&e, &e));
            AppError::invalid("questions", "invalid_questions", vi, en)
        })?;
        Ok(self.store.save_field(&field).await?)
    }

    /// Adds a routing rule between a known field, ward (or the whole city) and unit.
    pub async fn add_rule(&self, who: &Principal, f: RuleInput) -> Result<(), AppError> {
        admin_only(who)?;
        let c = self.catalog().await;
        let rule = Rule {
            id: 0,
            field: required(&f.field, "field")?,
            ward: opt(&f.ward),
            unit: required(&f.unit, "unit")?,
            priority: opt(&f.priority)
                .map(|p| p.parse::<i32>())
                .transpose()
                .map_err(|_| {
                    AppError::invalid(
                        "priority",
                        "invalid_number",
                        "Độ ưu tiên phải là số nguyên",
                        "Priority must be a whole number",
                    )
                })?
                .unwrap_or(0),
        };
        if c.field(&rule.field).is_none()
            || c.unit(&rule.unit).is_none()
            || rule.ward.as_deref().is_some_and(|w| c.ward(w).is_none())
        {
            return Err(AppError::invalid(
                "rule",
                "unknown_reference",
                "Lĩnh vực, phường hoặc đơn vị không có",
                "Unknown field, ward or unit",
            ));
        }
        self.store.add_rule(&rule).await?;
        Ok(())
    }

    pub async fn delete_rule(&self, who: &Principal, id: i64) -> Result<(), AppError> {
        admin_only(who)?;
        Ok(self.store.delete_rule(id).await?)
    }

    /// Every staff account.
    pub async fn users(&self, who: &Principal) -> Result<Vec<User>, AppError> {
        admin_only(who)?;
        Ok(self.store.users().await?)
    }

    /// One staff account.
    pub async fn user(&self, who: &Principal, id: i64) -> Result<User, AppError> {
        admin_only(who)?;
        self.store.user(id).await?.ok_or(AppError::NotFound)
    }

    /// Changes an account's role, unit and whether it may sign in.
    pub async fn update_user(
        &self,
        who: &Principal,
        id: i64,
        role: &str,
        unit: &str,
        active: bool,
    ) -> Result<(), AppError> {
        admin_only(who)?;
        let role = parse_role(role)?;
        let unit = self.check_role_unit(role, opt(unit).as_deref()).await?;
        self.store
            .update_user(id, role, unit.as_deref(), active)
            .await?;
        Ok(())
    }

    /// Marks a day (`YYYY-MM-DD`) as an extra day off (`kind` "off"), a make-up working day
    /// ("makeup"), or neither (empty).
    pub async fn set_calendar_day(
        &self,
        who: &Principal,
        day: &str,
        kind: &str,
    ) -> Result<(), AppError> {
        admin_only(who)?;
        let day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").map_err(|_| {
            AppError::invalid(
                "day",
                "invalid_date",
                "Ngày không hợp lệ (YYYY-MM-DD)",
                "Invalid date (YYYY-MM-DD)",
            )
        })?;
        let kind = match kind {
            "off" => Some("off"),
            "makeup" => Some("makeup"),
            "" => None,
            _ => {
                return Err(AppError::invalid(
                    "kind",
                    "invalid_kind",
                    "Loại ngày không hợp lệ",
                    "Invalid kind",
                ));
            }
        };
        self.store.set_calendar_day(day, kind).await?;
        Ok(())
    }

    /// The dead letters and the jobs waiting, the first [`OUTBOX_ROWS`] of each.
    pub async fn outbox(&self, who: &Principal) -> Result<Outbox, AppError> {
        admin_only(who)?;
        Ok(Outbox {
            dead: self.store.jobs(Some(JobStatus::Dead), OUTBOX_ROWS).await?,
            pending: self
                .store
                .jobs(Some(JobStatus::Pending), OUTBOX_ROWS)
                .await?,
        })
    }

    /// Puts a dead job back in the queue, due now, and wakes the worker.
    pub async fn retry_job(&self, who: &Principal, id: i64) -> Result<(), AppError> {
        admin_only(who)?;
        let result = self.store.retry_job(id, self.clock.now()).await;
        self.jobs_queued.notify_one();
        Ok(result?)
    }

    /// Every integrator's key (hashes and prefixes only; a key is shown once, when created).
    pub async fn api_keys(&self, who: &Principal) -> Result<Vec<ApiKey>, AppError> {
        admin_only(who)?;
        Ok(self.store.api_keys().await?)
    }

    pub async fn revoke_api_key(&self, who: &Principal, id: i64) -> Result<(), AppError> {
        admin_only(who)?;
        Ok(self.store.revoke_api_key(id).await?)
    }
}
