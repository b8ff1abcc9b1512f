//! Urgent cases: the unit's duty contact is alerted at once, by SMS and email; if nobody
//! takes the case up within `phananh_domain::urgent::ACK_MINUTES`, the unit's managers and
//! the city's supervisors are told. Vietnamese first.

use phananh_domain::access::Role;
use phananh_domain::calendar::to_local;
use phananh_domain::jobs::{NewJob, Urgent};
use phananh_domain::model::{Report, Status};

use crate::email::send_mail;
use crate::{JobError, Worker, retry};

/// Whether the report is still an urgent case at the unit the job is about.
fn still_there(report: &Report, job: &Urgent) -> bool {
    report.urgent
        && report.unit == job.unit
        && matches!(
            report.status,
            Status::New | Status::Assigned | Status::InProgress
        )
}

fn link(w: &Worker, report: &Report) -> String {
    format!(
        "{}/console/reports/{}",
        w.config.public_url.trim_end_matches('/'),
        report.code
    )
}

fn due(report: &Report) -> String {
    report
        .due_at
        .map(|d| to_local(d).format("%H:%M %d/%m/%Y").to_string())
        .unwrap_or_else(|| "—".into())
}

pub(crate) async fn alert(w: &Worker, job: &Urgent) -> Result<(), JobError> {
    let report = w.job_report(&job.report).await?;
    if !still_there(&report, job) {
        return Ok(());
    }
    let catalog = w.app.catalog().await;
    let Some(unit) = catalog.unit(&job.unit) else {
        return Err(JobError::Permanent(format!("unit {} not found", job.unit)));
    };
    let phone = unit.duty_phone.clone().or_else(|| unit.phone.clone());
    let email = unit.duty_email.clone().or_else(|| unit.email.clone());
    if phone.is_none() && email.is_none() {
        return Err(JobError::Permanent(format!(
            "đơn vị {} chưa có số trực hay email / unit {} has no duty phone or email",
            job.unit, job.unit
        )));
    }
    let field = catalog.field_name(&report.field);
    let place = report
        .ward
        .as_deref()
        .map(|c| catalog.ward_name(c))
        .unwrap_or_default();
    if let Some(to) = &phone {
        // Short enough for one or two texts; the link has the rest.
        let text = format!(
            "[1022] KHAN CAP {code}: {field}, {place}. Han {due}. {link}",
            code = report.code,
            due = due(&report),
            link = link(w, &report),
        );
        w.app
            .queue_jobs(&[NewJob::sms_urgent(
                to,
                &text,
                report.id,
                &job.unit,
                job.seq,
                w.app.clock.now(),
            )])
            .await
            .map_err(retry)?;
    }
    if let Some(to) = &email {
        let subject = format!("[1022] KHẨN CẤP: phản ánh {} – {field}", report.code);
        let body = format!(
            "Phản ánh {code} ({field}, {place}) là vụ việc khẩn cấp, hạn xử lý {due}.\n\
             Vui lòng tiếp nhận ngay (bấm «Bắt đầu xử lý»); sau {mins} phút chưa tiếp nhận, lãnh đạo đơn vị và thành phố sẽ được báo.\n\n\
             {link}\n\n---\nURGENT: report {code} ({field}) is due {due}. Start work on it within {mins} minutes or your managers are told.\n",
            code = report.code,
            due = due(&report),
            mins = phananh_domain::urgent::ACK_MINUTES,
            link = link(w, &report),
        );
        send_mail(w, to, subject, body, None).await?;
    }
    Ok(())
}

pub(crate) async fn escalate(w: &Worker, job: &Urgent) -> Result<(), JobError> {
    let report = w.job_report(&job.report).await?;
    if !still_there(&report, job) {
        return Ok(());
    }
    let history = w.app.report_events(report.id).await.map_err(retry)?;
    if phananh_domain::urgent::taken_up(&history, job.seq) {
        return Ok(());
    }
    let catalog = w.app.catalog().await;
    let users = w.app.staff_accounts().await.map_err(retry)?;
    let mut to: Vec<String> = users
        .iter()
        .filter(|u| u.active)
        .filter(|u| {
            (u.role == Role::UnitManager && u.unit.as_deref() == Some(job.unit.as_str()))
                || u.role == Role::Supervisor
        })
        .map(|u| u.email.clone())
        .collect();
    to.sort();
    to.dedup();
    if to.is_empty() {
        return Err(JobError::Permanent(format!(
            "nobody to tell about urgent {} ({})",
            report.code, job.unit
        )));
    }
    let unit_name = catalog.unit_name(&job.unit);
    let field = catalog.field_name(&report.field);
    let subject = format!(
        "[1022] KHẨN CẤP CHƯA TIẾP NHẬN: {} – {unit_name}",
        report.code
    );
    let body = format!(
        "Phản ánh khẩn cấp {code} ({field}) đã chuyển đến {unit_name} hơn {mins} phút nhưng chưa được tiếp nhận. Hạn xử lý {due}.\n\n\
         Xem và chỉ đạo: {link}\n\n---\nURGENT, NOT TAKEN UP: report {code} reached {unit_name} over {mins} minutes ago and nobody has started it. Due {due}. {link}\n",
        code = report.code,
        mins = phananh_domain::urgent::ACK_MINUTES,
        due = due(&report),
        link = link(w, &report),
    );
    for address in to {
        send_mail(w, &address, subject.clone(), body.clone(), None).await?;
    }
    Ok(())
}
