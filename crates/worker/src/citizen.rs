//! Telling citizens what happened to a report, on the channel they can be reached on.
//!
//! `citizen.notify` (one per public event) decides who hears about it: the reporter, when
//! they left an email, and everyone who follows the report. It queues one `citizen.email`
//! per person, each with its own dedupe key, so a retried fan-out never writes twice and a
//! failing address does not hold up the others. Payloads name the person ("reporter" or a
//! follower id), not their address: the outbox holds no personal data. The reporter of a
//! duplicate merged into the report follows it, and hears on their own channel: by email,
//! in their chat, or by SMS.

use phananh_domain::calendar::to_local;
use phananh_domain::event::{Event, EventKind};
use phananh_domain::jobs::{ChatMessage, CitizenEmail, CitizenNotify, FollowConfirm, ReportRef};
use phananh_domain::model::{Channel, Report};
use phananh_storage::{Job, NewJob};

use crate::email::send_mail;
use crate::{JobError, Worker, retry};

pub(crate) async fn notify(w: &Worker, job: &CitizenNotify) -> Result<(), JobError> {
    let report = w.job_report(&job.report).await?;
    let seq = job.seq;
    let about = ReportRef::new(report.id, &report.code);
    let store = &w.app;
    let mut jobs = Vec::new();
    let mut seen = Vec::new();
    let mut email_job = |to: String, address: String| {
        if seen.contains(&address) {
            return;
        }
        seen.push(address);
        jobs.push(NewJob::citizen_email(&about, seq, &to, w.app.clock.now()));
    };
    let reporter = store.reporter_of(report.id).await.map_err(retry)?;
    if let Some(email) = reporter.as_ref().and_then(|r| r.email.clone()) {
        email_job("reporter".into(), email);
    }
    // Followers joined after the report was filed: they hear of the steps, not the receipt.
    // The reporter of a duplicate merged into this report hears on their own channel.
    let mut merged = Vec::new();
    if seq > 1 {
        for f in store.followers_of(report.id).await.map_err(retry)? {
            if let Some(duplicate) = f.duplicate_id {
                let Some(r) = store.reporter_of(duplicate).await.map_err(retry)? else {
                    continue;
                };
                match r.email.clone() {
                    Some(email) => email_job(format!("follower:{}", f.id), email),
                    None => merged.push((f.id, duplicate, r)),
                }
            } else if let Some(email) = f.email {
                email_job(format!("follower:{}", f.id), email);
            }
        }
    }
    if !merged.is_empty() {
        let events = store.report_events(report.id).await.map_err(retry)?;
        if let Some(event) = events.iter().find(|e| e.seq == seq) {
            let catalog = w.app.catalog().await;
            let what = catalog.describe(&event.kind, false, true);
            let base = w.config.public_url.trim_end_matches('/');
            let now = w.app.clock.now();
            // One notice per chat or phone: the report's own reporter hears already, and
            // two duplicates from one person make one follower to tell.
            let mut reached: Vec<String> = reporter
                .iter()
                .flat_map(|r| [r.channel_identity.clone(), r.phone.clone()])
                .flatten()
                .collect();
            for (follower, duplicate, r) in merged {
                let address = r.channel_identity.clone().or_else(|| r.phone.clone());
                if let Some(a) = address {
                    if reached.contains(&a) {
                        continue;
                    }
                    reached.push(a);
                }
                let dup_code = store
                    .report_by_id(duplicate)
                    .await
                    .map_err(retry)?
                    .map(|d| d.code)
                    .unwrap_or_default();
                let chat = r
                    .channel_identity
                    .as_deref()
                    .and_then(|id| id.split_once(':'))
                    .and_then(|(p, user)| {
                        Some((phananh_channels::Provider::parse(p)?, user.to_string()))
                    });
                if let Some((provider, user)) = chat {
                    let text = format!(
                        "Phản ánh {code} (cùng vấn đề với phản ánh {dup_code} của bạn): {what}\n\
                         Trạng thái: {status}. Chi tiết: {base}/r/{code}",
                        code = report.code,
                        status = report.status.label_vi(),
                    );
                    let message = ChatMessage {
                        text,
                        choices: vec![],
                    };
                    jobs.push(
                        NewJob::chat_update(
                            provider.as_str(),
                            &user,
                            vec![message],
                            report.id,
                            seq,
                            now,
                        )
                        .for_follower(follower),
                    );
                } else if let Some(phone) = r.phone
                    && w.config.sms.can_send()
                {
                    let text = format!(
                        "1022: Phan anh {code} (trung voi {dup_code} cua ban): {what}. Chi tiet: {base}/r/{code}",
                        code = report.code,
                    );
                    let text = phananh_channels::sms::fit(&text, w.config.sms.max_segments);
                    jobs.push(
                        NewJob::sms_update(&phone, &text, report.id, seq, now)
                            .for_follower(follower),
                    );
                }
            }
        }
    }
    // A report filed in a chat hears back in that chat (its receipt went there already).
    let chat = reporter
        .as_ref()
        .and_then(|r| r.channel_identity.as_deref())
        .and_then(|id| id.split_once(':'))
        .and_then(|(p, user)| Some((phananh_channels::Provider::parse(p)?, user.to_string())));
    if let Some((provider, user)) = chat
        && seq > 1
    {
        let events = store.report_events(report.id).await.map_err(retry)?;
        if let Some(event) = events.iter().find(|e| e.seq == seq) {
            let catalog = w.app.catalog().await;
            let mut text = format!(
                "Phản ánh {code}: {what}\nTrạng thái: {status}. Chi tiết: {base}/r/{code}",
                code = report.code,
                what = catalog.describe_for_reporter(&event.kind, false),
                status = report.status.label_vi(),
                base = w.config.public_url.trim_end_matches('/'),
            );
            if let Some(link) = rating_link(w, &report, event).await? {
                text.push_str(&format!("\nĐánh giá kết quả (1–5 sao): {link}"));
            }
            let message = ChatMessage {
                text,
                choices: vec![],
            };
            jobs.push(NewJob::chat_update(
                provider.as_str(),
                &user,
                vec![message],
                report.id,
                seq,
                w.app.clock.now(),
            ));
        }
    }
    // By SMS: reports sent by SMS, and reporters who left a phone but no email (the
    // receipt with the tracking code and each step, without accents, in one or two parts).
    let phone = reporter.as_ref().and_then(|r| r.phone.clone());
    let by_sms = report.channel == Channel::Sms
        || reporter
            .as_ref()
            .is_some_and(|r| r.email.is_none() && r.channel_identity.is_none());
    // Reported by phone (the hotline, a text) with a ZNS template for the unit: the notice
    // goes through Zalo's ZNS to that number first, by SMS when ZNS refuses or fails.
    let zns_template = matches!(report.channel, Channel::Hotline | Channel::Sms)
        .then(|| w.config.chat.zns_template(&report.unit))
        .flatten();
    if let Some(phone) = phone
        && by_sms
        && (w.config.sms.can_send() || zns_template.is_some())
    {
        let events = store.report_events(report.id).await.map_err(retry)?;
        if let Some(event) = events.iter().find(|e| e.seq == seq) {
            let catalog = w.app.catalog().await;
            let base = w.config.public_url.trim_end_matches('/');
            let text = if let EventKind::Created { .. } = event.kind {
                format!(
                    "1022: Da tiep nhan phan anh. Ma ho so: {code}. Tra cuu: {base}/r/{code} hoac nhan tin ma ho so.",
                    code = report.code
                )
            } else if let Some(link) = rating_link(w, &report, event).await? {
                // The rating link matters more than the details page here.
                format!(
                    "1022: Phan anh {code} da xu ly xong. Danh gia ket qua: {link}",
                    code = report.code
                )
            } else {
                format!(
                    "1022: Phan anh {code}: {what}. Chi tiet: {base}/r/{code}",
                    code = report.code,
                    what = catalog.describe_for_reporter(&event.kind, false),
                )
            };
            let text = phananh_channels::sms::fit(&text, w.config.sms.max_segments);
            if let Some(template) = zns_template {
                let mut data = serde_json::Map::new();
                data.insert("code".into(), report.code.clone().into());
                data.insert("status".into(), report.status.label_vi().into());
                let detail = catalog.describe_for_reporter(&event.kind, false);
                // ZNS parameters are short: the first 400 characters.
                let detail: String = detail.chars().take(400).collect();
                data.insert("detail".into(), detail.into());
                data.insert(
                    "date".into(),
                    to_local(event.at).format("%d/%m/%Y").to_string().into(),
                );
                jobs.push(NewJob::zns_update(
                    &phone,
                    template,
                    data,
                    &text,
                    &about,
                    seq,
                    w.app.clock.now(),
                ));
            } else {
                jobs.push(NewJob::sms_update(
                    &phone,
                    &text,
                    report.id,
                    seq,
                    w.app.clock.now(),
                ));
            }
        }
    }
    store.queue_jobs(&jobs).await.map_err(retry)
}

pub(crate) async fn email(w: &Worker, job: &Job, p: &CitizenEmail) -> Result<(), JobError> {
    let report = w.job_report(&p.report).await?;
    let seq = p.seq;
    let to = p.to.as_str();
    let store = &w.app;
    let (address, unsubscribe) = if to == "reporter" {
        let email = store
            .reporter_of(report.id)
            .await
            .map_err(retry)?
            .and_then(|r| r.email);
        (email, None)
    } else if let Some(id) = to
        .strip_prefix("follower:")
        .and_then(|i| i.parse::<i64>().ok())
    {
        // A follower who left since the job was queued hears nothing more (and the reporter
        // of a duplicate no longer merged into this report).
        let f = store
            .followers_of(report.id)
            .await
            .map_err(retry)?
            .into_iter()
            .find(|f| f.id == id);
        let email = match f.as_ref().and_then(|f| f.duplicate_id) {
            Some(duplicate) => store
                .reporter_of(duplicate)
                .await
                .map_err(retry)?
                .and_then(|r| r.email),
            None => f.as_ref().and_then(|f| f.email.clone()),
        };
        (email, f.map(|f| f.token))
    } else {
        return Err(JobError::Permanent(format!("unknown recipient {to}")));
    };
    let Some(address) = address else {
        return Ok(());
    };
    let events = store.report_events(report.id).await.map_err(retry)?;
    let Some(event) = events.iter().find(|e| e.seq == seq) else {
        return Err(JobError::Permanent(format!(
            "report {} has no event {seq}",
            report.code
        )));
    };
    let (subject, body) = compose(w, &report, event, unsubscribe.as_deref()).await;
    send_mail(
        w,
        &address,
        subject,
        body,
        Some(format!("<{}.{seq}.{}@phananh>", report.code, job.id)),
    )
    .await
}

/// `follow.confirm`: the link a new follower must open before they hear anything. The
/// payload names the follower, not the address; a subscription confirmed or gone since
/// the job was queued gets nothing.
pub(crate) async fn confirm_follow(w: &Worker, job: &FollowConfirm) -> Result<(), JobError> {
    let id = job.follower_id;
    let Some((report_id, address, token)) = w.app.follower_to_confirm(id).await.map_err(retry)?
    else {
        return Ok(());
    };
    let report = w
        .app
        .report_by_id(report_id)
        .await
        .map_err(retry)?
        .ok_or_else(|| JobError::Permanent(format!("no report {report_id}")))?;
    let base = w.config.public_url.trim_end_matches('/');
    let code = &report.code;
    let link = format!("{base}/follow/confirm/{token}");
    let hours = phananh_app::follow::FOLLOW_CONFIRM_TTL.num_hours();
    let body = format!(
        "Có người (có thể là bạn) đã đăng ký nhận thông báo về phản ánh {code} bằng địa chỉ email này.\n\n\
         Để xác nhận, mở liên kết sau trong {hours} giờ tới: {link}\n\n\
         Nếu không phải bạn, hãy bỏ qua email này: bạn sẽ không nhận thêm email nào.\n\n---\n\
         Someone (perhaps you) asked for news of report {code} at this address. To confirm, open \
         this link within {hours} hours: {link}\nIf it was not you, ignore this email: nothing more will be sent.\n"
    );
    send_mail(
        w,
        &address,
        format!("[1022] Xác nhận theo dõi phản ánh {code} / Confirm following a report"),
        body,
        None,
    )
    .await
}

/// The email about one event: Vietnamese first, English after.
async fn compose(
    w: &Worker,
    report: &Report,
    event: &Event,
    unsubscribe: Option<&str>,
) -> (String, String) {
    let catalog = w.app.catalog().await;
    let base = w.config.public_url.trim_end_matches('/');
    let link = format!("{base}/r/{}", report.code);
    let code = &report.code;
    let due = report
        .due_at
        .map(|d| to_local(d).format("%d/%m/%Y").to_string())
        .unwrap_or_else(|| "—".into());
    // Followers read the public wording; the reporter is told the unit's questions.
    let describe = |kind: &EventKind, en: bool| {
        if unsubscribe.is_some() {
            catalog.describe(kind, en, true)
        } else {
            catalog.describe_for_reporter(kind, en)
        }
    };
    let mut body = if let EventKind::Created { .. } = event.kind {
        format!(
            "Cảm ơn bạn đã gửi phản ánh. Thành phố đã tiếp nhận và chuyển đến đơn vị có trách nhiệm.\n\n\
             Mã hồ sơ: {code}\nLĩnh vực: {field}\nĐơn vị xử lý: {unit}\nHạn xử lý dự kiến: {due}\n\n\
             Theo dõi kết quả: {link}\n\n---\n\
             Thank you for your report. Tracking code: {code}. Follow it at {link}\n",
            field = catalog.field_name(&report.field),
            unit = catalog.unit_name(&report.unit),
        )
    } else {
        format!(
            "Phản ánh {code} có cập nhật mới:\n\n{vi}\n\nTrạng thái: {status_vi}\nXem chi tiết: {link}\n\n---\n\
             Report {code} has an update: {en}\nStatus: {status_en}. Details: {link}\n",
            vi = describe(&event.kind, false),
            en = describe(&event.kind, true),
            status_vi = report.status.label_vi(),
            status_en = report.status.label_en(),
        )
    };
    if unsubscribe.is_none()
        && let Ok(Some(link)) = rating_link(w, report, event).await
    {
        body.push_str(&format!(
            "\nĐánh giá kết quả xử lý (1–5 sao, hoặc báo chưa khắc phục): {link}\nRate the result: {link}\n"
        ));
    }
    if let Some(token) = unsubscribe {
        body.push_str(&format!(
            "\nNgừng nhận thông báo về phản ánh này / Stop these emails: {base}/unfollow/{token}\n"
        ));
    }
    let subject = if let EventKind::Created { .. } = event.kind {
        format!("[1022] Đã tiếp nhận phản ánh {code} / Report received")
    } else {
        format!(
            "[1022] Phản ánh {code}: {} / {}",
            report.status.label_vi(),
            report.status.label_en()
        )
    };
    (subject, body)
}

/// The reporter's rating link, when the event is the report's resolution.
async fn rating_link(
    w: &Worker,
    report: &Report,
    event: &Event,
) -> Result<Option<String>, JobError> {
    if !matches!(event.kind, EventKind::Resolved { .. }) {
        return Ok(None);
    }
    w.app
        .rating_link(&w.config.public_url, &report.code)
        .await
        .map(Some)
        .map_err(retry)
}
