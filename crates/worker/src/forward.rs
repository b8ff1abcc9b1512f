//! Forwarding to units that keep their own systems, over Open311 GeoReport v2: their
//! reports are filed there, and what the unit does there comes back into the common
//! procedure and the public history.

use chrono::{DateTime, Utc};
use phananh_domain::jobs::UnitForward;
use phananh_domain::model::{Actor, ActorKind, Status};
use phananh_domain::procedure::Command;
use serde_json::Value;

use crate::guard::admin_url;
use crate::{JobError, Worker, http_error};

fn status_error(url: &str, status: reqwest::StatusCode) -> JobError {
    let url = admin_url(url);
    if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
        JobError::Permanent(format!("POST {url}: {status}"))
    } else {
        JobError::Retry(format!("POST {url}: {status}"))
    }
}

/// Files a report in its unit's own Open311 system (job `unit.open311.forward`).
///
/// The request carries an `Idempotency-Key`, so a retry after a timeout (the unit's system
/// got the report but the answer was lost) does not file it twice there, if that system
/// honours the header as phananh does. No personal data is sent.
pub(crate) async fn file(w: &Worker, job: &UnitForward) -> Result<(), JobError> {
    let unit = job.unit.as_str();
    let catalog = w.app.catalog().await;
    let Some(fwd) = catalog.unit(unit).and_then(|u| u.forward_open311.clone()) else {
        return Err(JobError::Permanent(format!(
            "unit {unit} has no Open311 system"
        )));
    };
    let report = w.job_report(&job.report).await?;
    let service_code = fwd
        .service_codes
        .get(&report.field)
        .cloned()
        .unwrap_or_else(|| report.field.clone());
    let mut form: Vec<(String, String)> = vec![
        ("api_key".into(), fwd.api_key.clone()),
        ("service_code".into(), service_code),
        (
            "description".into(),
            format!("{} (phananh {})", report.description, report.code),
        ),
    ];
    if let Some(j) = &fwd.jurisdiction_id {
        form.push(("jurisdiction_id".into(), j.clone()));
    }
    if let (Some(lat), Some(lon)) = (report.lat, report.lon) {
        form.push(("lat".into(), lat.to_string()));
        form.push(("long".into(), lon.to_string()));
    }
    let address = report
        .address
        .clone()
        .or_else(|| report.ward.as_deref().map(|w| catalog.ward_name(w)));
    if let Some(a) = address {
        form.push(("address_string".into(), a));
    }
    for (k, values) in &report.extra.attributes {
        for v in values {
            form.push((format!("attribute[{k}][]"), v.clone()));
        }
    }
    if let Some(m) = report.extra.media_urls.first() {
        form.push(("media_url".into(), m.clone()));
    }
    let url = format!("{}/requests.json", fwd.url.trim_end_matches('/'));
    // Set by an admin, so trusted (not put through the guard), and logged.
    tracing::info!(unit, url = %admin_url(&url), "filing in a unit's Open311 system");
    let shown = admin_url(&url);
    let response = w
        .http
        .post(&url)
        .header("idempotency-key", format!("phananh:{}:{unit}", report.code))
        .form(&form)
        .send()
        .await
        .map_err(|e| JobError::Retry(format!("POST {shown}: {}", http_error(e))))?;
    let status = response.status();
    if !status.is_success() {
        return Err(status_error(&url, status));
    }
    let body: Value = response.json().await.map_err(|e| {
        JobError::Retry(format!(
            "POST {shown}: unreadable answer: {}",
            http_error(e)
        ))
    })?;
    let external = body[0]["service_request_id"]
        .as_str()
        .or_else(|| body[0]["token"].as_str())
        .ok_or_else(|| JobError::Retry(format!("POST {shown}: no service_request_id in {body}")))?
        .to_string();
    w.app
        .record_forward(report.id, unit, &external)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let note = Command::Comment {
        text: format!(
            "Đã chuyển vào hệ thống riêng của đơn vị, mã {external} / filed in the unit's own system as {external}"
        ),
        public: false,
    };
    if let Err(e) = w.app.apply(report, Actor::system(), note).await {
        tracing::warn!(error = %e, "could not note the forward in the history");
    }
    Ok(())
}

impl Worker {
    /// Asks every unit with its own Open311 system what changed since the last time, and
    /// moves our reports along: work started there → in progress; closed there → resolved,
    /// with their status notes as the resolution. Returns how many reports moved.
    pub async fn poll_forwards(&self) -> usize {
        let catalog = self.app.catalog().await;
        let mut moved = 0;
        for unit in catalog.units.iter().filter(|u| u.forward_open311.is_some()) {
            match self.poll_unit(&unit.code, &unit.name_vi).await {
                Ok(n) => moved += n,
                Err(e) => {
                    tracing::warn!(unit = %unit.code, error = %e, "polling the unit's Open311 system failed")
                }
            }
        }
        moved
    }

    async fn poll_unit(&self, unit: &str, unit_name: &str) -> Result<usize, String> {
        let catalog = self.app.catalog().await;
        let Some(fwd) = catalog.unit(unit).and_then(|u| u.forward_open311.clone()) else {
            return Ok(0);
        };
        let cursor_key = format!("forward_poll:{unit}");
        let store = &self.app;
        let since: DateTime<Utc> = store
            .setting(&cursor_key)
            .await
            .map_err(|e| e.to_string())?
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| self.app.clock.now() - chrono::Duration::days(30));
        let url = format!("{}/requests.json", fwd.url.trim_end_matches('/'));
        let shown = admin_url(&url);
        tracing::debug!(unit, url = %shown, "asking a unit's Open311 system what changed");
        let mut query = vec![
            ("updated_after".to_string(), since.to_rfc3339()),
            ("extensions".to_string(), "true".to_string()),
            (
                "start_date".to_string(),
                (since - chrono::Duration::days(90)).to_rfc3339(),
            ),
        ];
        if let Some(j) = &fwd.jurisdiction_id {
            query.push(("jurisdiction_id".into(), j.clone()));
        }
        let response = self
            .http
            .get(&url)
            .query(&query)
            .send()
            .await
            .map_err(|e| format!("GET {shown}: {}", http_error(e)))?;
        if !response.status().is_success() {
            return Err(format!("GET {shown}: {}", response.status()));
        }
        let list: Value = response
            .json()
            .await
            .map_err(|e| format!("GET {shown}: {}", http_error(e)))?;
        let mut newest = since;
        let mut moved = 0;
        for req in list.as_array().into_iter().flatten() {
            let Some(external) = req["service_request_id"].as_str() else {
                continue;
            };
            if let Some(t) = req["updated_datetime"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            {
                newest = newest.max(t.with_timezone(&Utc));
            }
            let Ok(Some(report_id)) = store.forwarded_report(unit, external).await else {
                continue;
            };
            let Ok(Some(report)) = store.report_by_id(report_id).await else {
                continue;
            };
            if report.unit != unit {
                continue; // it has moved on to another unit meanwhile
            }
            let notes = req["status_notes"]
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty());
            let command = match (req["status"].as_str(), report.status) {
                (Some("closed"), Status::Assigned | Status::InProgress) => Command::Resolve {
                    note: notes
                        .unwrap_or("Đơn vị báo đã xử lý / the unit reports it fixed")
                        .to_string(),
                    photo: None,
                    position: None,
                    photo_position: None,
                },
                (Some("open"), Status::Assigned)
                    if req["updated_datetime"] != req["requested_datetime"] =>
                {
                    Command::Start
                }
                _ => continue,
            };
            let actor = Actor {
                kind: ActorKind::Integrator,
                id: Some(unit.to_string()),
                name: Some(unit_name.to_string()),
            };
            match self.app.apply(report, actor, command).await {
                Ok(_) => moved += 1,
                Err(e) => {
                    tracing::warn!(unit, external, error = %e, "status from the unit not applied")
                }
            }
        }
        store
            .set_setting(&cursor_key, &newest.to_rfc3339())
            .await
            .map_err(|e| e.to_string())?;
        Ok(moved)
    }
}
