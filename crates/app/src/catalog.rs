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
