//! Sends deadline reminders to the unit and escalations to its managers and the city's
//! supervisors, by email. Vietnamese first.

use phananh_domain::access::Role;
use phananh_domain::calendar::to_local;
use phananh_domain::jobs::{CommitteeReport, Deadline};

use crate::email::send_mail;
use crate::{JobError, Worker, retry};

pub(crate) async fn remind(w: &Worker, job: &Deadline) -> Result<(), JobError> {
    send(w, job, false).await
}

pub(crate) async fn escalate(w: &Worker, job: &Deadline) -> Result<(), JobError> {
    send(w, job, true).await
}

async fn send(w: &Worker, job: &Deadline, escalate: bool) -> Result<(), JobError> {
    let report = w.job_report(&job.report).await?;
    let unit = job.unit.clone();
    // Dealt with meanwhile (resolved, moved, paused, new deadline): nothing to say.
    let still = report.unit == unit
        && report.paused_at.is_none()
        && matches!(report.status.as_str(), "assigned" | "in_progress")
        && report.due_at.map(|d| d.timestamp()) == Some(job.due_at.timestamp());
    if !still {
        return Ok(());
    }
    let catalog = w.app.catalog().await;
    let users = w.app.staff_accounts().await.map_err(retry)?;
    let mut to: Vec<String> = Vec::new();
    if escalate {
        for u in users.iter().filter(|u| u.active) {
            let manager = u.role == Role::UnitManager && u.unit.as_deref() == Some(unit.as_str());
            if manager || u.role == Role::Supervisor {
                to.push(u.email.clone());
            }
        }
    } else {
        if let Some(e) = catalog.unit(&unit).and_then(|u| u.email.clone()) {
            to.push(e);
        }
        for u in users
            .iter()
            .filter(|u| u.active && u.unit.as_deref() == Some(unit.as_str()))
        {
            if matches!(u.role, Role::UnitManager | Role::UnitStaff)
                && report.assignee.is_none_or(|a| a == u.id)
            {
                to.push(u.email.clone());
            }
        }
    }
    to.sort();
    to.dedup();
    if to.is_empty() {
        return Err(JobError::Permanent(format!(
            "nobody to tell about {} ({unit})",
            report.code
        )));
    }
    let due = report
        .due_at
        .map(|d| to_local(d).format("%H:%M %d/%m/%Y").to_string())
        .unwrap_or_default();
    let link = format!(
        "{}/console/reports/{}",
        w.config.public_url.trim_end_matches('/'),
        report.code
    );
    let unit_name = catalog.unit_name(&unit);
    let (subject, body) = if escalate {
        (
            format!("[1022] QUÁ HẠN: phản ánh {} – {unit_name}", report.code),
            format!(
                "Phản ánh {code} ({field}) của {unit_name} đã quá hạn xử lý ({due}).\n\nXem và đôn đốc: {link}\n\n---\nOVERDUE: report {code} with {unit_name} was due {due}. {link}\n",
                code = report.code,
                field = catalog.field_name(&report.field),
            ),
        )
    } else {
        (
            format!("[1022] Sắp đến hạn: phản ánh {} – hạn {due}", report.code),
            format!(
                "Phản ánh {code} ({field}) sắp đến hạn xử lý: {due}.\n\nCập nhật kết quả: {link}\n\n---\nReminder: report {code} is due {due}. {link}\n",
                code = report.code,
                field = catalog.field_name(&report.field),
            ),
        )
    };
    for address in to {
        send_mail(w, &address, subject.clone(), body.clone(), None).await?;
    }
    Ok(())
}

/// Builds the committee's workbook for the period in the job and emails it.
pub(crate) async fn committee_report(w: &Worker, job: &CommitteeReport) -> Result<(), JobError> {
    let (from, to) = (job.from, job.to);
    let label = job.label.clone();
    if w.config.committee_emails.is_empty() {
        return Err(JobError::Permanent(
            "no recipients for the committee's report ([reports] committee_emails)".into(),
        ));
    }
    let bytes = w
        .app
        .committee_workbook(
            &phananh_app::committee::committee_principal(),
            from,
            to,
            &label,
        )
        .await
        .map_err(retry)?;
    let pdf = w
        .app
        .committee_pdf(
            &phananh_app::committee::committee_principal(),
            from,
            to,
            &label,
        )
        .await
        .map_err(retry)?;
    let filename = format!("bao-cao-don-vi-{}.xlsx", to_local(from).format("%Y-%m-%d"));
    for to in &w.config.committee_emails {
        crate::email::send_mail_with_attachment(
            w,
            to,
            format!("[1022] Báo cáo tiến độ xử lý phản ánh – {label}"),
            format!(
                "Kính gửi Ủy ban nhân dân Thành phố,\n\nĐính kèm báo cáo tiến độ xử lý phản ánh của các đơn vị ({label}): xếp hạng theo tỷ lệ đúng hạn và danh sách hồ sơ quá hạn.\n\n---\nAttached: the units' report for {label}.\n"
            ),
            vec![
                (
                    filename.clone(),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    bytes.clone(),
                ),
                (filename.replace(".xlsx", ".pdf"), "application/pdf", pdf.clone()),
            ],
        )
        .await?;
    }
    Ok(())
}
