//! The city profile: everything that makes phananh one city's system rather than another's
//! is data (units, fields, wards, routing rules, calendar), edited by admins at runtime and
//! moved whole with `phananh profile export|import`.

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::routing::Rule;

pub const FORMAT: &str = "phananh-profile/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub format: String,
    pub city: City,
    #[serde(default)]
    pub attribution: Option<String>,
    pub wards: Vec<Ward>,
    pub units: Vec<Unit>,
    pub fields: Vec<Field>,
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub calendar: CalendarDays,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct City {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub timezone: String,
    /// [lat, lon] where maps open.
    pub center: [f64; 2],
    /// [min lon, min lat, max lon, max lat].
    pub bbox: [f64; 4],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ward {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub short_vi: String,
    #[serde(default)]
    pub old_names: Vec<String>,
    /// A GeoJSON geometry (MultiPolygon or Polygon).
    pub geometry: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Triage,
    Department,
    WardCommittee,
    Company,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Triage => "triage",
            UnitKind::Department => "department",
            UnitKind::WardCommittee => "ward_committee",
            UnitKind::Company => "company",
        }
    }
    pub fn parse(s: &str) -> Option<UnitKind> {
        [
            UnitKind::Triage,
            UnitKind::Department,
            UnitKind::WardCommittee,
            UnitKind::Company,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
    pub fn label_vi(self) -> &'static str {
        match self {
            UnitKind::Triage => "Bàn điều phối",
            UnitKind::Department => "Sở, ban, ngành",
            UnitKind::WardCommittee => "UBND phường, xã",
            UnitKind::Company => "Doanh nghiệp, đơn vị dịch vụ",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: UnitKind,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub ward: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// A plausible example, not the city's real organisation chart.
    #[serde(default)]
    pub sample: bool,
    /// Where the unit receives signed webhooks for its reports, if it keeps its own system.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// The unit's own Open311 system: its reports are filed there, and its status comes back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_open311: Option<Open311Forward>,
    /// A mailbox that receives each report that comes to the unit (for units that work
    /// from email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_email: Option<String>,
    /// The on-duty contact alerted at once, day and night, when an urgent report arrives
    /// (the unit's phone and email when not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty_email: Option<String>,
}

/// A unit's own Open311 GeoReport v2 endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Open311Forward {
    /// The base URL, e.g. `https://cskh.example.vn/open311/v2`.
    pub url: String,
    pub api_key: String,
    #[serde(default)]
    pub jurisdiction_id: Option<String>,
    /// Our field code → their service code (a field not listed keeps its own code).
    #[serde(default)]
    pub service_codes: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub icon: String,
    /// Working hours to acknowledge.
    pub ack_hours: u32,
    /// Working days to resolve.
    pub resolve_days: u32,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Extra questions asked when filing in this field (Open311 service attributes).
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    /// Reports' text and photos are published only after a moderator reviewed them
    /// (public order, noise: they often name neighbours or show faces); otherwise at once.
    #[serde(default, skip_serializing_if = "is_false")]
    pub review: bool,
    /// Every report of this field is urgent (khẩn cấp): its deadline is counted in hours.
    #[serde(default, skip_serializing_if = "is_false")]
    pub urgent: bool,
    /// Hours on the clock (nights and holidays included) an urgent report has to be resolved.
    #[serde(default = "default_urgent_hours")]
    pub urgent_hours: u32,
    /// Words in a description that make a report of this field urgent (e.g. "cây đổ",
    /// "hở nắp"), the rule the city keeps as data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urgent_keywords: Vec<String>,
    /// How far apart two reports of this field may be and still be the same problem, in
    /// metres (the likely duplicates on a report's page).
    #[serde(default = "default_duplicate_radius_m")]
    pub duplicate_radius_m: u32,
}

fn default_urgent_hours() -> u32 {
    crate::urgent::DEFAULT_HOURS
}

fn default_duplicate_radius_m() -> u32 {
    crate::duplicates::DEFAULT_RADIUS_M
}

/// One extra question of a field (an Open311 service definition attribute).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub code: String,
    /// string, number, datetime, text, singlevaluelist or multivaluelist.
    pub datatype: String,
    #[serde(default)]
    pub required: bool,
    pub description_vi: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub order: u32,
    /// The allowed answers of a list question.
    #[serde(default)]
    pub values: Vec<AttributeValue>,
    /// The answer is personal data (a customer code on a bill, a licence plate): staff see
    /// it, the public pages, Open311 and the open data never do.
    #[serde(default, skip_serializing_if = "is_false")]
    pub private: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

pub const ATTRIBUTE_TYPES: [&str; 6] = [
    "string",
    "number",
    "datetime",
    "text",
    "singlevaluelist",
    "multivaluelist",
];

impl Attribute {
    /// Checks the answers given for this question; an error in Vietnamese and English.
    pub fn check(&self, answers: &[String]) -> Result<(), String> {
        let answers: Vec<&str> = answers
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .collect();
        if answers.is_empty() {
            return if self.required {
                Err(format!(
                    "thiếu câu trả lời cho «{}» / attribute {} is required",
                    self.description_vi, self.code
                ))
            } else {
                Ok(())
            };
        }
        if self.datatype != "multivaluelist" && answers.len() > 1 {
            return Err(format!(
                "«{}» chỉ nhận một giá trị / attribute {} takes one value",
                self.description_vi, self.code
            ));
        }
        for a in &answers {
            let ok = match self.datatype.as_str() {
                "number" => a.parse::<f64>().is_ok_and(f64::is_finite),
                "datetime" => chrono::DateTime::parse_from_rfc3339(a).is_ok(),
                "singlevaluelist" | "multivaluelist" => self.values.iter().any(|v| v.key == *a),
                "string" => a.chars().count() <= 500,
                _ => a.chars().count() <= 4000,
            };
            if !ok {
                return Err(format!(
                    "giá trị «{a}» không hợp lệ cho «{}» / invalid value for attribute {}",
                    self.description_vi, self.code
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDays {
    #[serde(default)]
    pub extra_days_off: BTreeSet<NaiveDate>,
    #[serde(default)]
    pub makeup_working_days: BTreeSet<NaiveDate>,
}

impl Profile {
    /// The triage desk's code (the first triage unit).
    pub fn triage_unit(&self) -> Option<&str> {
        self.units
            .iter()
            .find(|u| u.kind == UnitKind::Triage)
            .map(|u| u.code.as_str())
    }

    /// Everything wrong with the profile, in Vietnamese and English; empty when valid.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.format != FORMAT {
            out.push(format!(
                "định dạng không hỗ trợ / unsupported format: {}",
                self.format
            ));
        }
        let units: HashSet<&str> = self.units.iter().map(|u| u.code.as_str()).collect();
        let fields: HashSet<&str> = self.fields.iter().map(|f| f.code.as_str()).collect();
        let wards: HashSet<&str> = self.wards.iter().map(|w| w.code.as_str()).collect();
        for (what, n, total) in [
            ("đơn vị / unit", units.len(), self.units.len()),
            ("lĩnh vực / field", fields.len(), self.fields.len()),
            ("phường, xã / ward", wards.len(), self.wards.len()),
        ] {
            if n != total {
                out.push(format!("mã {what} bị trùng / duplicate {what} code"));
            }
        }
        if self.triage_unit().is_none() {
            out.push("thiếu bàn điều phối / no triage unit".into());
        }
        for u in &self.units {
            if let Some(p) = &u.parent
                && !units.contains(p.as_str())
            {
                out.push(format!(
                    "đơn vị {}: đơn vị cha {p} không có / unknown parent",
                    u.code
                ));
            }
            if let Some(w) = &u.ward
                && !wards.contains(w.as_str())
            {
                out.push(format!(
                    "đơn vị {}: phường {w} không có / unknown ward",
                    u.code
                ));
            }
        }
        for r in &self.rules {
            if !fields.contains(r.field.as_str()) {
                out.push(format!(
                    "quy tắc: lĩnh vực {} không có / unknown field",
                    r.field
                ));
            }
            if !units.contains(r.unit.as_str()) {
                out.push(format!(
                    "quy tắc: đơn vị {} không có / unknown unit",
                    r.unit
                ));
            }
            if let Some(w) = &r.ward
                && !wards.contains(w.as_str())
            {
                out.push(format!("quy tắc: phường {w} không có / unknown ward"));
            }
        }
        out
    }
}
