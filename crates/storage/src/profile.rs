//! The city profile tables: wards, units, fields, routing rules, calendar days, settings.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use phananh_domain::profile::{CalendarDays, City, Field, Profile, Unit, UnitKind, Ward};
use phananh_domain::routing::Rule;
use sqlx::{Any, Row, Transaction};

use crate::{Result, Store, StoreError, json, parse_json};

/// How a unit's reports reach its own system, as stored in `units.forward`.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Forward {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open311: Option<phananh_domain::profile::Open311Forward>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

fn unit_from_row(row: &sqlx::any::AnyRow) -> Result<Unit> {
    let kind: String = row.try_get("kind")?;
    let forward: Forward = row
        .try_get::<Option<String>, _>("forward")?
        .map(|f| parse_json(&f))
        .transpose()?
        .unwrap_or_default();
    Ok(Unit {
        code: row.try_get("code")?,
        name_vi: row.try_get("name_vi")?,
        name_en: row.try_get("name_en")?,
        kind: UnitKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unit kind {kind}")))?,
        parent: row.try_get("parent")?,
        ward: row.try_get("ward")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        sample: row.try_get::<i64, _>("sample")? != 0,
        webhook_url: row.try_get("webhook_url")?,
        forward_open311: forward.open311,
        forward_email: forward.email,
        duty_phone: row.try_get("duty_phone")?,
        duty_email: row.try_get("duty_email")?,
    })
}

fn field_from_row(row: &sqlx::any::AnyRow) -> Result<Field> {
    let keywords: String = row.try_get("keywords")?;
    let attributes: String = row.try_get("attributes")?;
    Ok(Field {
        code: row.try_get("code")?,
        name_vi: row.try_get("name_vi")?,
        name_en: row.try_get("name_en")?,
        icon: row.try_get("icon")?,
        ack_hours: row.try_get::<i64, _>("ack_hours")?.max(0) as u32,
        resolve_days: row.try_get::<i64, _>("resolve_days")?.max(0) as u32,
        keywords: parse_json(&keywords)?,
        attributes: parse_json(&attributes)?,
        review: row.try_get::<i64, _>("review")? != 0,
        urgent: row.try_get::<i64, _>("urgent")? != 0,
        urgent_hours: row.try_get::<i64, _>("urgent_hours")?.clamp(1, 72) as u32,
        urgent_keywords: parse_json(&row.try_get::<String, _>("urgent_keywords")?)?,
        duplicate_radius_m: row
            .try_get::<i64, _>("duplicate_radius_m")?
            .clamp(10, 2_000) as u32,
    })
}

async fn put_unit(tx: &mut Transaction<'static, Any>, u: &Unit) -> Result<()> {
    sqlx::query(
        "INSERT INTO units (code, name_vi, name_en, kind, parent, ward, email, phone, sample, webhook_url, active, forward, duty_phone, duty_email) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13) ON CONFLICT (code) DO UPDATE SET \
         name_vi = excluded.name_vi, name_en = excluded.name_en, kind = excluded.kind, parent = excluded.parent, \
         ward = excluded.ward, email = excluded.email, phone = excluded.phone, sample = excluded.sample, \
         webhook_url = excluded.webhook_url, forward = excluded.forward, active = 1, \
         duty_phone = excluded.duty_phone, duty_email = excluded.duty_email",
    )
    .bind(&u.code)
    .bind(&u.name_vi)
    .bind(&u.name_en)
    .bind(u.kind.as_str())
    .bind(&u.parent)
    .bind(&u.ward)
    .bind(&u.email)
    .bind(&u.phone)
    .bind(u.sample as i64)
    .bind(&u.webhook_url)
    .bind(json(&Forward {
        open311: u.forward_open311.clone(),
        email: u.forward_email.clone(),
    }))
    .bind(&u.duty_phone)
    .bind(&u.duty_email)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn put_field(tx: &mut Transaction<'static, Any>, f: &Field, position: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO fields (code, name_vi, name_en, icon, ack_hours, resolve_days, keywords, position, active, attributes, review, \
         urgent, urgent_hours, urgent_keywords, duplicate_radius_m) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $13, $14) ON CONFLICT (code) DO UPDATE SET \
         name_vi = excluded.name_vi, name_en = excluded.name_en, icon = excluded.icon, \
         ack_hours = excluded.ack_hours, resolve_days = excluded.resolve_days, keywords = excluded.keywords, \
         attributes = excluded.attributes, review = excluded.review, urgent = excluded.urgent, \
         urgent_hours = excluded.urgent_hours, urgent_keywords = excluded.urgent_keywords, \
         duplicate_radius_m = excluded.duplicate_radius_m",
    )
    .bind(&f.code)
    .bind(&f.name_vi)
    .bind(&f.name_en)
    .bind(&f.icon)
    .bind(f.ack_hours as i64)
    .bind(f.resolve_days as i64)
    .bind(json(&f.keywords))
    .bind(position)
    .bind(json(&f.attributes))
    .bind(i64::from(f.review))
    .bind(i64::from(f.urgent))
    .bind(i64::from(f.urgent_hours))
    .bind(json(&f.urgent_keywords))
    .bind(i64::from(f.duplicate_radius_m))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn bump_version(tx: &mut Transaction<'static, Any>) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('profile_version', '1') ON CONFLICT (key) DO UPDATE \
         SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)",
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Replaces the whole profile in one transaction. Reports keep the unit and field codes
    /// they have; units and fields missing from the new profile are kept but marked inactive.
    pub async fn import_profile(&self, p: &Profile) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM wards").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM rules").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM calendar_days")
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE units SET active = 0")
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE fields SET active = 0")
            .execute(&mut *tx)
            .await?;
        for w in &p.wards {
            sqlx::query(
                "INSERT INTO wards (code, name_vi, name_en, short_vi, old_names, geometry) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&w.code)
            .bind(&w.name_vi)
            .bind(&w.name_en)
            .bind(&w.short_vi)
            .bind(json(&w.old_names))
            .bind(w.geometry.to_string())
            .execute(&mut *tx)
            .await?;
        }
        for u in &p.units {
            put_unit(&mut tx, u).await?;
        }
        for (i, f) in p.fields.iter().enumerate() {
            put_field(&mut tx, f, i as i64).await?;
            sqlx::query("UPDATE fields SET active = 1, position = $1 WHERE code = $2")
                .bind(i as i64)
                .bind(&f.code)
                .execute(&mut *tx)
                .await?;
        }
        for r in &p.rules {
            sqlx::query("INSERT INTO rules (field, ward, unit, priority) VALUES ($1, $2, $3, $4)")
                .bind(&r.field)
                .bind(&r.ward)
                .bind(&r.unit)
                .bind(r.priority as i64)
                .execute(&mut *tx)
                .await?;
        }
        for (days, kind) in [
            (&p.calendar.extra_days_off, "off"),
            (&p.calendar.makeup_working_days, "makeup"),
        ] {
            for d in days {
                sqlx::query("INSERT INTO calendar_days (day, kind) VALUES ($1, $2)")
                    .bind(d.to_string())
                    .bind(kind)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let city = serde_json::json!({
            "city": p.city,
            "attribution": p.attribution,
        });
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('city', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(city.to_string())
        .execute(&mut *tx)
        .await?;
        bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The whole profile as it is now (active units and fields only).
    pub async fn export_profile(&self) -> Result<Option<Profile>> {
        let Some(city) = self.setting("city").await? else {
            return Ok(None);
        };
        let city: serde_json::Value = parse_json(&city)?;
        let city_info: City = serde_json::from_value(city["city"].clone())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(Profile {
            format: phananh_domain::profile::FORMAT.into(),
            city: city_info,
            attribution: city["attribution"].as_str().map(String::from),
            wards: self.wards().await?,
            units: self.units().await?,
            fields: self.fields().await?,
            rules: self.rules().await?,
            calendar: self.calendar_days().await?,
        }))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Remembers that our report is `external_id` in `unit`'s own system.
    pub async fn record_forward(
        &self,
        report_id: i64,
        unit: &str,
        external_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO forwards (report_id, unit, external_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (report_id, unit) DO UPDATE SET external_id = excluded.external_id",
        )
        .bind(report_id)
        .bind(unit)
        .bind(external_id)
        .bind(crate::ms(self.now()))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Our report id for `external_id` in `unit`'s system.
    pub async fn forwarded_report(&self, unit: &str, external_id: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT report_id FROM forwards WHERE unit = $1 AND external_id = $2",
        )
        .bind(unit)
        .bind(external_id)
        .fetch_optional(&self.read)
        .await?)
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Grows whenever the profile changes, so other processes know to reload it.
    pub async fn profile_version(&self) -> Result<i64> {
        Ok(self
            .setting("profile_version")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    pub async fn wards(&self) -> Result<Vec<Ward>> {
        let rows = sqlx::query(
            "SELECT code, name_vi, name_en, short_vi, old_names, geometry FROM wards ORDER BY code",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let old: String = row.try_get("old_names")?;
                let geometry: String = row.try_get("geometry")?;
                Ok(Ward {
                    code: row.try_get("code")?,
                    name_vi: row.try_get("name_vi")?,
                    name_en: row.try_get("name_en")?,
                    short_vi: row.try_get("short_vi")?,
                    old_names: parse_json(&old)?,
                    geometry: parse_json(&geometry)?,
                })
            })
            .collect()
    }

    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows = sqlx::query(
            "SELECT code, name_vi, name_en, kind, parent, ward, email, phone, sample, webhook_url, forward, \
             duty_phone, duty_email FROM units WHERE active = 1 ORDER BY kind, code",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(unit_from_row).collect()
    }

    pub async fn fields(&self) -> Result<Vec<Field>> {
        let rows = sqlx::query(
            "SELECT code, name_vi, name_en, icon, ack_hours, resolve_days, keywords, attributes, review, \
             urgent, urgent_hours, urgent_keywords, duplicate_radius_m FROM fields WHERE active = 1 \
             ORDER BY position, code",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(field_from_row).collect()
    }

    pub async fn rules(&self) -> Result<Vec<Rule>> {
        let rows: Vec<(i64, String, Option<String>, String, i64)> =
            sqlx::query_as("SELECT id, field, ward, unit, priority FROM rules ORDER BY id")
                .fetch_all(&self.read)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, field, ward, unit, priority)| Rule {
                id,
                field,
                ward,
                unit,
                priority: priority as i32,
            })
            .collect())
    }

    pub async fn calendar_days(&self) -> Result<CalendarDays> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT day, kind FROM calendar_days ORDER BY day")
                .fetch_all(&self.read)
                .await?;
        let mut off = BTreeSet::new();
        let mut makeup = BTreeSet::new();
        for (day, kind) in rows {
            let d: NaiveDate = day
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("calendar day {day}")))?;
            if kind == "makeup" {
                makeup.insert(d);
            } else {
                off.insert(d);
            }
        }
        Ok(CalendarDays {
            extra_days_off: off,
            makeup_working_days: makeup,
        })
    }

    pub async fn save_unit(&self, u: &Unit) -> Result<()> {
        let mut tx = self.write.begin().await?;
        put_unit(&mut tx, u).await?;
        bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn save_field(&self, f: &Field) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let position: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM fields")
            .fetch_one(&mut *tx)
            .await?;
        put_field(&mut tx, f, position).await?;
        sqlx::query("UPDATE fields SET active = 1 WHERE code = $1")
            .bind(&f.code)
            .execute(&mut *tx)
            .await?;
        bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_rule(&self, r: &Rule) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rules (field, ward, unit, priority) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&r.field)
        .bind(&r.ward)
        .bind(&r.unit)
        .bind(r.priority as i64)
        .fetch_one(&mut *tx)
        .await?;
        bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn delete_rule(&self, id: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let r = sqlx::query("DELETE FROM rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds (`kind` = "off" or "makeup") or removes (`kind` = None) a calendar day.
    pub async fn set_calendar_day(&self, day: NaiveDate, kind: Option<&str>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM calendar_days WHERE day = $1")
            .bind(day.to_string())
            .execute(&mut *tx)
            .await?;
        if let Some(kind) = kind {
            sqlx::query("INSERT INTO calendar_days (day, kind) VALUES ($1, $2)")
                .bind(day.to_string())
                .bind(kind)
                .execute(&mut *tx)
                .await?;
        }
        bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
