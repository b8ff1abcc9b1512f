//! `email.inbound`: turns one kept email into a report, an answer to a report, or an item
//! in the operators' queue. Nothing is ever answered automatically from here: the only
//! email a citizen gets back is the `citizen.notify` receipt of a filed report, so an
//! auto-reply, a bounce or a loop can never start a conversation between robots.

use mail_parser::{Message, MessageParser, MimeHeaders};
use phananh_app::intake::IntakeRequest;
use phananh_domain::jobs::EmailInbound;
use phananh_domain::model::{Actor, Channel, Status};
use phananh_domain::procedure::Command;
use phananh_storage::{InboundEmail, Job, NewUnfiled, UNVERIFIED_SENDER};

use crate::email_auth::{self, Status as AuthStatus};
use crate::{JobError, Worker, retry};

pub(crate) async fn inbound(w: &Worker, job: &Job, p: &EmailInbound) -> Result<(), JobError> {
    let id = p.id;
    let store = &w.app;
    let Some(mail) = store.email(id).await.map_err(retry)? else {
        return Err(JobError::Permanent(format!("no email {id}")));
    };
    if mail.processed {
        return Ok(());
    }
    // On the last attempt a DNS failure counts as a failed check (a person gets it).
    let last_try = job.attempts >= job.max_attempts;
    let outcome = process(w, &mail, last_try).await?;
    tracing::info!(id, message_id = %mail.message_id, %outcome, "email processed");
    store.email_done(id, &outcome).await.map_err(retry)
}

/// How much of an email's subject and text is matched for a field and a place, in bytes.
pub const MAX_MATCHED: usize = 4096;

/// The first `max` bytes of `s`, cut at a character boundary.
pub fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The readable text of a message: the plain body, or the HTML one as text.
fn text_of(m: &Message) -> String {
    m.body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default()
        .replace("\r\n", "\n")
}

/// What [`read_mail`] makes of a raw message: the decision `email.inbound` takes before it
/// looks anything up in the database (the fuzz target `email` and the proptests drive it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailDecision {
    /// Not a readable message.
    Unreadable,
    /// An auto-reply, a bounce, a list or a loop: never answered.
    Automatic(String),
    /// An answer about the report with this code (if it exists).
    Reply(String),
    /// A new report in this field, with the address line if one was given.
    New {
        field: String,
        address: Option<String>,
    },
    /// No field, or several: for the operators.
    Unclear,
}

#[derive(Debug, Clone)]
pub struct MailReading {
    pub sender: String,
    pub subject: Option<String>,
    pub text: String,
    /// Image attachments (counted, not decoded).
    pub images: usize,
    pub decision: MailDecision,
}

/// Parses a raw message and takes the filing decision, with the fields' folded keywords
/// (`(code, keywords)`), without I/O. Mirrors the steps of `process`.
pub fn read_mail(raw: &[u8], own: Option<&str>, fields: &[(String, Vec<String>)]) -> MailReading {
    let Some(m) = MessageParser::default().parse(raw) else {
        return MailReading {
            sender: String::new(),
            subject: None,
            text: String::new(),
            images: 0,
            decision: MailDecision::Unreadable,
        };
    };
    let sender = m
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let subject = m.subject().map(|s| s.trim().to_string());
    let text = text_of(&m);
    let images = m
        .attachments()
        .filter(|p| {
            p.content_type()
                .is_some_and(|c| c.ctype().eq_ignore_ascii_case("image"))
        })
        .count();
    let decision = if let Some(why) = automatic(&m, &sender, own) {
        MailDecision::Automatic(why)
    } else {
        let code = reply_code(&m, subject.as_deref());
        if let Some(code) = code {
            let _ = strip_quote(&text);
            MailDecision::Reply(code)
        } else {
            let all = format!("{}\n{}", subject.as_deref().unwrap_or_default(), text);
            let words = format!(" {} ", phananh_geo_fold(&all));
            let hits: Vec<&String> = fields
                .iter()
                .filter(|(_, kws)| {
                    kws.iter().any(|k| {
                        !k.is_empty() && words.contains(&format!(" {} ", phananh_geo_fold(k)))
                    })
                })
                .map(|(code, _)| code)
                .collect();
            if hits.len() == 1 {
                MailDecision::New {
                    field: hits[0].clone(),
                    address: address_in(&text),
                }
            } else {
                MailDecision::Unclear
            }
        }
    };
    MailReading {
        sender,
        subject,
        text,
        images,
        decision,
    }
}

/// Why a message must not be answered (auto-reply, bounce, list, loop), if it must not.
pub fn automatic(m: &Message, sender: &str, own: Option<&str>) -> Option<String> {
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    if let Some(v) = header("Auto-Submitted")
        && v != "no"
    {
        return Some(format!("Auto-Submitted: {v}"));
    }
    for h in ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"] {
        if header(h).is_some() {
            return Some(format!("{h} header"));
        }
    }
    if let Some(v) = header("Precedence")
        && ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str())
    {
        return Some(format!("Precedence: {v}"));
    }
    if let Some(v) = header("Return-Path")
        && v.replace(' ', "") == "<>"
    {
        return Some("empty Return-Path (a bounce)".into());
    }
    if m.is_content_type("multipart", "report") {
        return Some("multipart/report (a delivery or read report)".into());
    }
    let local = sender.split('@').next().unwrap_or_default();
    if ["mailer-daemon", "postmaster", "noreply", "no-reply"].contains(&local) {
        return Some(format!("sent by {local}"));
    }
    if sender.is_empty() {
        return Some("no sender".into());
    }
    if own.is_some_and(|o| o.eq_ignore_ascii_case(sender)) {
        return Some("sent by our own address (a loop)".into());
    }
    None
}

/// A tracking code in a subject (`[1022] Phản ánh ABCD-2345 …`).
pub fn code_in_subject(subject: &str) -> Option<String> {
    subject
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find_map(phananh_channels::conversation::tracking_code_in)
}

/// The report code in a Message-ID we sent: `<CODE.seq.job@phananh>`.
pub fn code_in_message_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, host) = id.split_once('@')?;
    if host != "phananh" {
        return None;
    }
    phananh_channels::conversation::tracking_code_in(local.split('.').next()?)
}

/// The reply's own text, without the quoted message below it.
fn strip_quote(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('>') {
            continue;
        }
        // "Vào ... đã viết:" / "On ... wrote:" opens the quoted part.
        if (t.ends_with("wrote:") || t.ends_with("đã viết:")) && !out.is_empty() {
            break;
        }
        if t == "---" || t.starts_with("-----Original Message") {
            break;
        }
        out.push(line);
    }
    out.join("\n").trim().to_string()
}

/// An address line in the text ("Địa chỉ: …", "Address: …").
fn address_in(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (label, rest) = l.split_once(':')?;
        let label = phananh_geo_fold(label);
        (label == "dia chi" || label == "address")
            .then(|| rest.trim().to_string())
            .filter(|a| !a.is_empty())
    })
}

fn phananh_geo_fold(s: &str) -> String {
    phananh_geo::text::fold_words(s)
}

async fn unfiled(
    w: &Worker,
    mail: &InboundEmail,
    sender: &str,
    subject: Option<String>,
    body: String,
    reason: String,
) -> Result<String, JobError> {
    let raw = String::from_utf8_lossy(&mail.raw).into_owned();
    let item = NewUnfiled {
        channel: "email".into(),
        sender: sender.to_string(),
        subject,
        body,
        raw,
        reason: reason.clone(),
    };
    let id = w.app.unfiled_add(&item).await.map_err(retry)?;
    tracing::warn!(message_id = %mail.message_id, %reason, unfiled = id, "email queued for a person");
    Ok(format!("unfiled {id}: {reason}"))
}

async fn process(w: &Worker, mail: &InboundEmail, last_try: bool) -> Result<String, JobError> {
    let parsed = MessageParser::default().parse(&mail.raw[..]);
    let Some(m) = parsed else {
        return unfiled(
            w,
            mail,
            "",
            None,
            String::new(),
            "không đọc được thư / the message could not be parsed".into(),
        )
        .await;
    };
    let from = m.from().and_then(|a| a.first());
    let sender = from
        .and_then(|a| a.address())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let name = from.and_then(|a| a.name()).map(|n| n.trim().to_string());
    let subject = m.subject().map(|s| s.trim().to_string());
    let text = text_of(&m);
    // Who really sent it (SPF, DKIM, DMARC); kept on the row whatever happens next.
    let auth = &w.config.email_auth;
    let verdict = email_auth::verify(auth, &mail.raw, &sender, mail.envelope.as_ref()).await;
    if verdict.status == AuthStatus::TempError && !last_try {
        return Err(JobError::Retry(format!(
            "email authentication: {}",
            verdict.detail
        )));
    }
    let record = verdict.record(&sender);
    w.app
        .email_auth_record(mail.id, &record)
        .await
        .map_err(retry)?;
    if verdict.status != AuthStatus::Pass {
        // Never files, adds to a report or gets a receipt: a person looks at it.
        let reason = format!(
            "{UNVERIFIED_SENDER} (SPF/DKIM/DMARC), không tự tạo phản ánh / sender not \
             authenticated, not filed: {} (spf={}; dkim={}; dmarc={})",
            verdict.detail, verdict.spf, verdict.dkim, verdict.dmarc
        );
        let reason = if mail.truncated {
            format!("{reason}; thư quá lớn, chỉ giữ phần đầu / too large, headers kept")
        } else {
            reason
        };
        return unfiled(w, mail, &sender, subject, text, reason).await;
    }
    if mail.truncated {
        let reason = format!(
            "thư quá lớn ({} MB), chỉ giữ phần đầu thư / too large ({} bytes), headers kept",
            mail.size / 1_000_000,
            mail.size
        );
        return unfiled(w, mail, &sender, subject, text, reason).await;
    }
    if let Some(why) = automatic(&m, &sender, w.config.email_address.as_deref()) {
        return unfiled(
            w,
            mail,
            &sender,
            subject,
            text,
            format!("thư tự động, không trả lời / automatic message, not answered: {why}"),
        )
        .await;
    }
    // Per address and per domain, over the hour before this message (kept in the
    // database, so every process and a restart count the same).
    let since = mail.received_at - chrono::Duration::hours(1);
    let (by_sender, by_domain) = w
        .app
        .email_sender_counts(&record.sender, &record.sender_domain, since, mail.id)
        .await
        .map_err(retry)?;
    let over = |n: i64, limit: u32| limit > 0 && n >= i64::from(limit);
    if over(by_sender, auth.per_sender_per_hour) || over(by_domain, auth.per_domain_per_hour) {
        let reason = format!(
            "quá nhiều thư từ người gửi này trong một giờ, không tự xử lý / too many emails \
             from this sender in an hour ({by_sender} from {}, {by_domain} from {}), not acted on",
            record.sender, record.sender_domain
        );
        return unfiled(w, mail, &sender, subject, text, reason).await;
    }
    // A reply to a report: the code in the subject, or our Message-ID in the thread.
    let code = reply_code(&m, subject.as_deref());
    if let Some(code) = code {
        let report = w.app.report_by_code(&code).await.map_err(retry)?;
        if let Some(report) = report {
            return attach(w, mail, report, &sender, subject, &text).await;
        }
    }
    // A new report, when a field can be recognised.
    let catalog = w.app.catalog().await;
    // Only the start of a message is matched: a field and a place are named there, and
    // a 25 MB body must cost no more than a short one.
    let all = prefix(
        &format!(
            "{}\n{}",
            subject.as_deref().unwrap_or_default(),
            prefix(&text, MAX_MATCHED)
        ),
        MAX_MATCHED,
    )
    .to_string();
    let words = format!(" {} ", phananh_geo_fold(&all));
    let hits: Vec<&String> = catalog
        .fields
        .iter()
        .filter(|f| {
            f.keywords
                .iter()
                .any(|k| !k.is_empty() && words.contains(&format!(" {} ", phananh_geo_fold(k))))
        })
        .map(|f| &f.code)
        .collect();
    if hits.len() != 1 {
        let reason = if hits.is_empty() {
            "không nhận ra lĩnh vực / no field recognised".to_string()
        } else {
            "nhiều lĩnh vực có thể / several fields possible".to_string()
        };
        return unfiled(w, mail, &sender, subject, text, reason).await;
    }
    let field = hits[0].clone();
    let address = address_in(prefix(&text, MAX_MATCHED));
    let ward = phananh_app::chat::ward_in_address(&catalog, address.as_deref().unwrap_or(&all))
        .map(|(code, _)| code);
    drop(catalog);
    // A description over the cap cannot be filed: say so before decoding any photo.
    let description_chars =
        subject.as_deref().map_or(0, |s| s.chars().count() + 2) + text.trim().chars().count();
    if description_chars > phananh_app::intake::MAX_DESCRIPTION {
        let max = phananh_app::intake::MAX_DESCRIPTION;
        let reason = format!(
            "thư dài quá {max} ký tự, cần người đọc / longer than {max} characters, needs a person"
        );
        return unfiled(w, mail, &sender, subject, text, reason).await;
    }
    // Images counted first; only the first five are decoded.
    let images: Vec<_> = m
        .attachments()
        .filter(|part| {
            part.content_type()
                .is_some_and(|c| c.ctype().eq_ignore_ascii_case("image"))
        })
        .collect();
    let mut photos = Vec::new();
    let mut refused = images.len().saturating_sub(phananh_app::photos::MAX_PHOTOS);
    for part in images.into_iter().take(phananh_app::photos::MAX_PHOTOS) {
        match w.app.store_photo(part.contents().to_vec()).await {
            Ok(p) => photos.push(p.key),
            Err(e) => {
                tracing::warn!(message_id = %mail.message_id, error = %e, "email photo refused");
                refused += 1;
            }
        }
    }
    // Video and voice notes: declared as video/audio, or recognised by their bytes
    // (phones send them as application/octet-stream too); the first two are kept.
    let recordings: Vec<_> = m
        .attachments()
        .filter(|part| {
            let declared = part.content_type().is_some_and(|c| {
                c.ctype().eq_ignore_ascii_case("video") || c.ctype().eq_ignore_ascii_case("audio")
            });
            let image = part
                .content_type()
                .is_some_and(|c| c.ctype().eq_ignore_ascii_case("image"));
            declared || (!image && phananh_app::media::is_recording(part.contents()))
        })
        .collect();
    let mut media = Vec::new();
    refused += recordings
        .len()
        .saturating_sub(phananh_app::media::MAX_MEDIA);
    for part in recordings.into_iter().take(phananh_app::media::MAX_MEDIA) {
        match w.app.store_media(part.contents().to_vec()).await {
            Ok(r) => media.push(r.key),
            Err(phananh_app::AppError::Validation(e)) => {
                let why = e.first().map(|e| e.message_en.clone()).unwrap_or_default();
                tracing::warn!(message_id = %mail.message_id, %why, "email recording refused");
                refused += 1;
            }
            // ffmpeg missing or the store failing: try the whole message again later.
            Err(e) => return Err(retry(e)),
        }
    }
    let mut description = match subject.as_deref() {
        Some(s) if !s.is_empty() => format!("{s}\n\n{}", text.trim()),
        _ => text.trim().to_string(),
    };
    if refused > 0 {
        description.push_str(&format!(
            "\n\n[{refused} tệp đính kèm không hợp lệ / {refused} attachment(s) refused]"
        ));
    }
    let request = IntakeRequest {
        field,
        description,
        address,
        ward,
        name,
        email: Some(sender.clone()),
        consent: true,
        photos,
        media,
        ..IntakeRequest::default()
    };
    match w
        .app
        .submit(
            request,
            Channel::Email,
            Actor::citizen(),
            Some(format!("email:{sender}")),
            Some(format!("email:{}", mail.message_id)),
        )
        .await
    {
        Ok(receipt) => Ok(format!("report {}", receipt.code)),
        Err(phananh_app::AppError::Validation(errors)) => {
            let why: Vec<String> = errors
                .iter()
                .map(|e| format!("{} / {}", e.message_vi, e.message_en))
                .collect();
            unfiled(w, mail, &sender, subject, text, why.join("; ")).await
        }
        Err(e) => Err(retry(e)),
    }
}

/// Adds a reply to its report: the answer the unit waits for, or a note in the history.
async fn attach(
    w: &Worker,
    mail: &InboundEmail,
    report: phananh_domain::model::Report,
    sender: &str,
    subject: Option<String>,
    text: &str,
) -> Result<String, JobError> {
    let answer = strip_quote(text);
    let code = report.code.clone();
    if answer.is_empty() {
        return unfiled(
            w,
            mail,
            sender,
            subject,
            text.to_string(),
            format!("thư trả lời trống cho {code} / empty reply to {code}"),
        )
        .await;
    }
    let reporter = w.app.reporter_of(report.id).await.map_err(retry)?;
    let is_reporter = reporter
        .and_then(|r| r.email)
        .is_some_and(|e| e.eq_ignore_ascii_case(sender));
    // The unit that keeps its own system answers from its forwarding address.
    let is_unit = w
        .app
        .catalog()
        .await
        .unit(&report.unit)
        .and_then(|u| u.forward_email.clone())
        .is_some_and(|e| e.trim().eq_ignore_ascii_case(sender));
    if !is_reporter && !is_unit {
        return unfiled(
            w,
            mail,
            sender,
            subject,
            text.to_string(),
            format!(
                "thư trả lời cho {code} không phải từ người phản ánh hay đơn vị xử lý, chưa gắn \
                 vào phản ánh / reply to {code} not from its reporter or its unit, not added"
            ),
        )
        .await;
    }
    let command = if report.status == Status::InfoRequested && is_reporter {
        Command::ProvideInfo { answer }
    } else {
        Command::Comment {
            text: format!("Email từ / from {sender}:\n{answer}"),
            public: false,
        }
    };
    let what = match command {
        Command::ProvideInfo { .. } => "info",
        _ => "comment",
    };
    match w.app.apply(report, Actor::citizen(), command).await {
        Ok(_) => Ok(format!("{what} on {code}")),
        Err(phananh_app::AppError::Validation(_)) | Err(phananh_app::AppError::Procedure(_)) => {
            unfiled(
                w,
                mail,
                sender,
                subject,
                text.to_string(),
                format!("không gắn được vào phản ánh {code} / could not be added to report {code}"),
            )
            .await
        }
        Err(e) => Err(retry(e)),
    }
}

/// The tracking code a message answers: in its subject, or in one of our Message-IDs named
/// by `In-Reply-To` / `References`.
fn reply_code(m: &mail_parser::Message<'_>, subject: Option<&str>) -> Option<String> {
    let mut thread: Vec<String> = Vec::new();
    for h in [m.in_reply_to(), m.references()] {
        if let Some(list) = h.as_text_list() {
            thread.extend(list.iter().map(|s| s.to_string()));
        } else if let Some(t) = h.as_text() {
            thread.push(t.to_string());
        }
    }
    subject
        .and_then(code_in_subject)
        .or_else(|| thread.iter().find_map(|id| code_in_message_id(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_prefix_is_matched() {
        assert_eq!(prefix("abc", 10), "abc");
        assert_eq!(prefix("abcdef", 3), "abc");
        // "ổ" takes three bytes: never cut inside it.
        assert_eq!(prefix("aổb", 2), "a");
        let body = "ổ gà ".repeat(1_000_000);
        assert!(prefix(&body, MAX_MATCHED).len() <= MAX_MATCHED);
    }

    #[test]
    fn replies_name_their_report() {
        assert_eq!(
            code_in_subject("Re: [1022] Phản ánh abcd-2345: Đã tiếp nhận").as_deref(),
            Some("ABCD-2345")
        );
        assert_eq!(code_in_subject("Re: [1022] đèn đường"), None);
        assert_eq!(
            code_in_message_id("<ABCD-2345.1.77@phananh>").as_deref(),
            Some("ABCD-2345")
        );
        assert_eq!(code_in_message_id("<ABCD-2345.1.77@elsewhere.test>"), None);
    }

    #[test]
    fn quoted_text_is_left_out_of_answers() {
        let t = "Số nhà 12A.\n\nOn Mon, 1022 wrote:\n> Số nhà chính xác?\n";
        assert_eq!(strip_quote(t), "Số nhà 12A.");
        assert_eq!(
            address_in("Xin chào\nĐịa chỉ: 12 Lê Lợi, Bến Thành\n").as_deref(),
            Some("12 Lê Lợi, Bến Thành")
        );
    }

    #[test]
    fn automatic_mail_is_recognised() {
        fn parse(raw: &str) -> Message<'_> {
            MessageParser::default().parse(raw.as_bytes()).unwrap()
        }
        let m = parse("From: a@b.test\r\nAuto-Submitted: auto-replied\r\n\r\nx\r\n");
        assert!(automatic(&m, "a@b.test", None).is_some());
        let m =
            parse("From: a@b.test\r\nAuto-Submitted: no\r\nReturn-Path: <a@b.test>\r\n\r\nx\r\n");
        assert!(automatic(&m, "a@b.test", Some("1022@x.test")).is_none());
        let m = parse("From: a@b.test\r\nReturn-Path: <>\r\n\r\nx\r\n");
        assert!(automatic(&m, "a@b.test", None).is_some());
        assert!(automatic(&m, "1022@x.test", Some("1022@X.test")).is_some());
    }

    #[test]
    fn legacy_vietnamese_charsets_are_decoded() {
        // "Đèn" in windows-1258: Đ = 0xD0, e, combining grave = 0xCC, n.
        let raw = b"From: a@b.test\r\nSubject: x\r\nContent-Type: text/plain; charset=windows-1258\r\n\r\n\xD0e\xCCn\r\n";
        let m = MessageParser::default().parse(&raw[..]).unwrap();
        let text = text_of(&m);
        assert_eq!(phananh_geo_fold(&text), "den", "{text:?}");
    }
}
