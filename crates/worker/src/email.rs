//! Forwarding by email, for units that work from a mailbox: each report that comes to the
//! unit is sent there over SMTP, Vietnamese first, with a Message-ID that later replies can
//! be threaded on. No personal data: staff find the reporter's contact in the console.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use phananh_domain::calendar::to_local;
use phananh_domain::jobs::UnitForward;
use phananh_storage::Job;

use crate::{JobError, Worker};

pub(crate) async fn send(w: &Worker, job: &Job, p: &UnitForward) -> Result<(), JobError> {
    let unit = p.unit.as_str();
    let catalog = w.app.catalog().await;
    let Some(to) = catalog.unit(unit).and_then(|u| u.forward_email.clone()) else {
        return Err(JobError::Permanent(format!(
            "unit {unit} has no forwarding mailbox"
        )));
    };
    let report = w.job_report(&p.report).await?;
    let field = catalog.field_name(&report.field);
    let ward = report
        .ward
        .as_deref()
        .map(|w| catalog.ward_name(w))
        .unwrap_or_else(|| "—".into());
    let due = report
        .due_at
        .map(|d| to_local(d).format("%H:%M %d/%m/%Y").to_string())
        .unwrap_or_else(|| "—".into());
    let location = match (report.lat, report.lon) {
        (Some(lat), Some(lon)) => format!(
            "{lat:.6}, {lon:.6} (https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon})"
        ),
        _ => "—".into(),
    };
    let link = format!(
        "{}/console/reports/{}",
        w.config.public_url.trim_end_matches('/'),
        report.code
    );
    let body = format!(
        "Kính gửi {unit_name},\n\n\
         Tổng đài 1022 chuyển đến đơn vị phản ánh sau để xử lý.\n\n\
         Mã hồ sơ: {code}\nLĩnh vực: {field}\nPhường, xã: {ward}\nĐịa chỉ: {address}\nVị trí: {location}\n\
         Hạn xử lý: {due}\n\nNội dung:\n{description}\n\n\
         Xem và cập nhật kết quả: {link}\n\n\
         ---\nReport {code} ({field}) for {unit_name}, due {due}. Details and updates: {link}\n",
        unit_name = catalog.unit_name(unit),
        code = report.code,
        address = report.address.as_deref().unwrap_or("—"),
        description = report.description,
    );
    send_mail(
        w,
        &to,
        format!("[1022] Phản ánh {} – {field} – {ward}", report.code),
        body,
        Some(format!("<{}.{}.{}@phananh>", report.code, unit, job.id)),
    )
    .await
}

/// Sends one plain-text email over the configured SMTP server. Permanent SMTP answers
/// (a bad address) dead-letter the job; others are retried.
pub(crate) async fn send_mail(
    w: &Worker,
    to: &str,
    subject: String,
    body: String,
    message_id: Option<String>,
) -> Result<(), JobError> {
    let Some(smtp_url) = w.config.smtp_url.clone() else {
        return Err(JobError::Permanent(
            "no SMTP server configured ([smtp] url / PHANANH_SMTP_URL)".into(),
        ));
    };
    let from: Mailbox = w
        .config
        .smtp_from
        .parse()
        .map_err(|e| JobError::Permanent(format!("bad [smtp] from address: {e}")))?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| JobError::Permanent(format!("bad address {to}: {e}")))?;
    let mut builder = Message::builder().from(from).to(to);
    // Replies come back to the 1022 mailbox, where they are attached to the report.
    if let Some(reply_to) = w.config.email_address.as_deref()
        && let Ok(reply_to) = reply_to.parse::<Mailbox>()
    {
        builder = builder.reply_to(reply_to);
    }
    let message = builder
        .subject(subject)
        .message_id(message_id)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| JobError::Permanent(format!("could not build the email: {e}")))?;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp_url)
        .map_err(|e| JobError::Permanent(format!("bad SMTP url: {e}")))?
        .timeout(Some(w.config.http_timeout))
        .build();
    match mailer.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(JobError::Permanent(format!("SMTP: {e}"))),
        Err(e) => Err(JobError::Retry(format!("SMTP: {e}"))),
    }
}

/// Sends an email with attachments: (file name, content type, bytes).
pub(crate) async fn send_mail_with_attachment(
    w: &Worker,
    to: &str,
    subject: String,
    body: String,
    attachments: Vec<(String, &str, Vec<u8>)>,
) -> Result<(), JobError> {
    use lettre::message::{Attachment, MultiPart, SinglePart};
    let Some(smtp_url) = w.config.smtp_url.clone() else {
        return Err(JobError::Permanent(
            "no SMTP server configured ([smtp] url / PHANANH_SMTP_URL)".into(),
        ));
    };
    let from: Mailbox = w
        .config
        .smtp_from
        .parse()
        .map_err(|e| JobError::Permanent(format!("bad [smtp] from address: {e}")))?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| JobError::Permanent(format!("bad address {to}: {e}")))?;
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body));
    for (filename, content_type, bytes) in attachments {
        let content_type = ContentType::parse(content_type)
            .map_err(|e| JobError::Permanent(format!("bad content type: {e}")))?;
        parts = parts.singlepart(Attachment::new(filename).body(bytes, content_type));
    }
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .multipart(parts)
        .map_err(|e| JobError::Permanent(format!("could not build the email: {e}")))?;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp_url)
        .map_err(|e| JobError::Permanent(format!("bad SMTP url: {e}")))?
        .timeout(Some(w.config.http_timeout))
        .build();
    match mailer.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(JobError::Permanent(format!("SMTP: {e}"))),
        Err(e) => Err(JobError::Retry(format!("SMTP: {e}"))),
    }
}
