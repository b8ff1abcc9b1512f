//! The city profile held in memory: what intake and the procedure consult on every
//! request. Rebuilt from the store when the profile version changes.

use std::collections::HashMap;

use phananh_domain::calendar::Calendar;
use phananh_domain::profile::{City, Field, Unit, Ward};
use phananh_domain::routing::Rule;
use phananh_geo::{WardIndex, WardNames, WardShape};
use phananh_storage::Store;

use crate::AppError;

/// A ward without its polygon (for lists and names).
#[derive(Debug, Clone)]
pub struct WardInfo {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub short_vi: String,
}

pub struct Catalog {
    pub version: i64,
    pub city: City,
    pub attribution: Option<String>,
    pub units: Vec<Unit>,
    pub fields: Vec<Field>,
    pub rules: Vec<Rule>,
    pub wards: Vec<WardInfo>,
    /// Each ward's boundary as GeoJSON, in the order of `wards` (the public ward map).
    pub ward_geometry: Vec<serde_json::Value>,
    pub calendar: Calendar,
    pub triage_unit: String,
    pub ward_index: WardIndex,
    pub ward_names: WardNames,
    unit_pos: HashMap<String, usize>,
    field_pos: HashMap<String, usize>,
    ward_pos: HashMap<String, usize>,
}

impl Catalog {
    pub async fn load(store: &Store) -> Result<Catalog, AppError> {
        let version = store.profile_version().await?;
        let profile = store.export_profile().await?.ok_or(AppError::NoProfile)?;
        Catalog::from_profile(
            version,
            profile.city,
            profile.attribution,
            profile.wards,
            profile.units,
            profile.fields,
            profile.rules,
            profile.calendar,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn from_profile(
        version: i64,
        city: City,
        attribution: Option<String>,
        wards: Vec<Ward>,
        units: Vec<Unit>,
        fields: Vec<Field>,
        rules: Vec<Rule>,
        days: phananh_domain::profile::CalendarDays,
    ) -> Result<Catalog, AppError> {
        let triage_unit = units
            .iter()
            .find(|u| u.kind == phananh_domain::profile::UnitKind::Triage)
            .map(|u| u.code.clone())
            .ok_or(AppError::NoProfile)?;
        let mut shapes = Vec::with_capacity(wards.len());
        for w in &wards {
            let geometry = phananh_geo::multipolygon_from_geojson(&w.geometry).map_err(|e| {
                AppError::Internal(format!("ward {} has a bad geometry: {e}", w.code))
            })?;
            shapes.push(WardShape {
                code: w.code.clone(),
                geometry,
            });
        }
        let ward_names = WardNames::new(
            wards
                .iter()
                .map(|w| phananh_geo::WardName {
                    code: w.code.clone(),
                    name: w.name_vi.clone(),
                    short: w.short_vi.clone(),
                    old_names: w.old_names.clone(),
                })
                .collect(),
        );
        let ward_geometry: Vec<serde_json::Value> =
            wards.iter().map(|w| w.geometry.clone()).collect();
        let infos: Vec<WardInfo> = wards
            .into_iter()
            .map(|w| WardInfo {
                code: w.code,
                name_vi: w.name_vi,
                name_en: w.name_en,
                short_vi: w.short_vi,
            })
            .collect();
        let calendar = Calendar {
            extra_days_off: days.extra_days_off,
            makeup_working_days: days.makeup_working_days,
            ..Calendar::default()
        };
        Ok(Catalog {
            version,
            city,
            attribution,
            unit_pos: units
                .iter()
                .enumerate()
                .map(|(i, u)| (u.code.clone(), i))
                .collect(),
            field_pos: fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.code.clone(), i))
                .collect(),
            ward_pos: infos
                .iter()
                .enumerate()
                .map(|(i, w)| (w.code.clone(), i))
                .collect(),
            units,
            fields,
            rules,
            wards: infos,
            ward_geometry,
            calendar,
            triage_unit,
            ward_index: WardIndex::new(shapes),
            ward_names,
        })
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.unit_pos.get(code).map(|&i| &self.units[i])
    }

    pub fn field(&self, code: &str) -> Option<&Field> {
        self.field_pos.get(code).map(|&i| &self.fields[i])
    }

    pub fn ward(&self, code: &str) -> Option<&WardInfo> {
        self.ward_pos.get(code).map(|&i| &self.wards[i])
    }

    /// An event as the reporter hears of it: the public wording, except that a question
    /// from the unit is told in full (it is addressed to them).
    pub fn describe_for_reporter(
        &self,
        event: &phananh_domain::event::EventKind,
        en: bool,
    ) -> String {
        match event {
            phananh_domain::event::EventKind::InfoRequested { question } => {
                if en {
                    format!("The unit handling your report asks: {question}")
                } else {
                    format!("Đơn vị xử lý đề nghị bạn bổ sung: {question}")
                }
            }
            other => self.describe(other, en, true),
        }
    }

    /// An event as people read it, with names instead of codes. `public` hides what the
    /// public timeline must not repeat (the question to the citizen and the answer).
    pub fn describe(
        &self,
        event: &phananh_domain::event::EventKind,
        en: bool,
        public: bool,
    ) -> String {
        use phananh_domain::event::EventKind as E;
        let t = |vi: String, e: String| if en { e } else { vi };
        let unit = |c: &str| {
            self.unit(c)
                .map(|u| {
                    if en {
                        u.name_en.clone()
                    } else {
                        u.name_vi.clone()
                    }
                })
                .unwrap_or_else(|| c.to_string())
        };
        // Words written with an event that were not written for the public are left out
        // of the public wording (see `EventKind::visibility`), whatever the caller passes.
        let shown = |text: &str| -> Option<String> {
            let public_text = matches!(
                event.visibility(),
                phananh_domain::event::Visibility::Public { text: true }
            );
            (!text.trim().is_empty() && (!public || public_text)).then(|| text.to_string())
        };
        let with = |head: String, text: &str| match shown(text) {
            Some(r) => format!("{head}: {r}"),
            None => head,
        };
        match event {
            E::Created { .. } => t("Tiếp nhận phản ánh".into(), "Report received".into()),
            E::Assigned {
                unit: u, reason, ..
            } => match reason.as_deref().and_then(shown) {
                Some(r) if !en => format!("Chuyển đến {}: {r}", unit(u)),
                _ => t(
                    format!("Chuyển đến {}", unit(u)),
                    format!("Assigned to {}", unit(u)),
                ),
            },
            E::StaffAssigned { assignee: Some(_) } => t(
                "Phân công cán bộ xử lý".into(),
                "Staff member assigned".into(),
            ),
            E::StaffAssigned { assignee: None } => t(
                "Bỏ phân công cán bộ".into(),
                "Staff member unassigned".into(),
            ),
            E::Started => t("Bắt đầu xử lý".into(), "Work started".into()),
            E::MarkedDuplicate { of } => t(
                format!(
                    "Trùng với hồ sơ {of}: hồ sơ này được đóng, việc xử lý tiếp tục ở hồ sơ {of}"
                ),
                format!("Duplicate of report {of}: closed here, handled in report {of}"),
            ),
            E::DuplicateLinked { code } => t(
                format!("Hồ sơ {code} (cùng vấn đề) được gộp vào hồ sơ này"),
                format!("Report {code} (the same problem) was merged into this one"),
            ),
            E::DuplicateUnlinked { code } => t(
                format!("Hủy gộp hồ sơ {code} khỏi hồ sơ này"),
                format!("Report {code} is no longer merged into this one"),
            ),
            E::DuplicateUndone { of, .. } => t(
                format!("Hủy gộp với hồ sơ {of}: hồ sơ được xử lý tiếp như trước"),
                format!("No longer merged into report {of}: handled as before"),
            ),
            E::MarkedUrgent { reason, .. } => with(
                t(
                    "Xác định là vụ việc khẩn cấp".into(),
                    "Marked urgent".into(),
                ),
                reason,
            ),
            E::InfoRequested { question } if !public => t(
                format!("Đề nghị người phản ánh bổ sung: {question}"),
                format!("Information requested: {question}"),
            ),
            E::InfoRequested { .. } => t(
                "Đề nghị người phản ánh bổ sung thông tin".into(),
                "Information requested from the reporter".into(),
            ),
            E::InfoProvided { answer, .. } if !public => t(
                format!("Người phản ánh bổ sung: {answer}"),
                format!("The reporter answered: {answer}"),
            ),
            E::InfoProvided { .. } => t(
                "Người phản ánh đã bổ sung thông tin".into(),
                "The reporter provided information".into(),
            ),
            E::Resolved { note, .. } => t(format!("Đã xử lý: {note}"), format!("Resolved: {note}")),
            E::Closed { .. } => t("Đóng hồ sơ".into(), "Closed".into()),
            E::Rejected { reason } => {
                t(format!("Từ chối: {reason}"), format!("Rejected: {reason}"))
            }
            E::ReturnedToTriage {
                unit: u, reason, ..
            } => with(
                t(
                    format!("{} trả về bàn điều phối", unit(u)),
                    format!("{} returned it to triage", unit(u)),
                ),
                reason,
            ),
            E::Transferred {
                from, to, reason, ..
            } => with(
                t(
                    format!("{} chuyển sang {}", unit(from), unit(to)),
                    format!("{} transferred it to {}", unit(from), unit(to)),
                ),
                reason,
            ),
            E::Reopened { reason, .. } => {
                t(format!("Mở lại: {reason}"), format!("Reopened: {reason}"))
            }
            E::Commented { text, .. } => shown(text).unwrap_or_default(),
            E::Rated {
                score,
                fixed,
                comment,
                ..
            } => {
                let mut s = if *fixed {
                    t(
                        format!("Người dân đánh giá {score}/5: đã khắc phục"),
                        format!("Rated {score}/5 by the citizen: fixed"),
                    )
                } else {
                    t(
                        format!("Người dân đánh giá {score}/5: chưa khắc phục, mở lại cho đơn vị"),
                        format!("Rated {score}/5 by the citizen: not fixed, reopened"),
                    )
                };
                // The citizen's words stay with staff.
                if let (Some(c), false) = (comment, public) {
                    s.push_str(&format!(" — “{c}”"));
                }
                s
            }
            E::Published => t(
                "Nội dung, ảnh được công khai sau kiểm duyệt".into(),
                "Text and photos published after review".into(),
            ),
            E::PublicTextEdited { text } => t(
                format!("Sửa nội dung công khai: {text}"),
                format!("Public text edited: {text}"),
            ),
            E::PhotoHidden { .. } => t(
                "Ẩn một ảnh khỏi trang công khai".into(),
                "A photo hidden from the public".into(),
            ),
            E::PhotoRedacted { boxes, .. } => t(
                format!("Che {} vùng trên một ảnh công khai", boxes.len()),
                format!("{} areas of a public photo covered", boxes.len()),
            ),
            E::HiddenFromPublic { reason } => t(
                format!("Không công khai phản ánh: {reason}"),
                format!("Hidden from the public: {reason}"),
            ),
        }
    }

    pub fn unit_name(&self, code: &str) -> String {
        self.unit(code)
            .map(|u| u.name_vi.clone())
            .unwrap_or_else(|| code.to_string())
    }

    pub fn ward_name(&self, code: &str) -> String {
        self.ward(code)
            .map(|w| w.name_vi.clone())
            .unwrap_or_else(|| code.to_string())
    }

    pub fn field_name(&self, code: &str) -> String {
        self.field(code)
            .map(|f| f.name_vi.clone())
            .unwrap_or_else(|| code.to_string())
    }
}
