//! Video and voice notes as evidence: through the web form and email, without the place
//! the phone wrote in them, played on the staff report page, on the public page only while
//! the report is published. Needs ffmpeg (`.ci/run` installs it): these tests fail without.

use chrono::Duration;
use phananh_domain::access::Role;
use phananh_domain::model::Actor;
use phananh_domain::procedure::Command;
use phananh_photos::sample::media as sample;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::support::{self, *};

/// The `src` of the first `<video>` or `<audio>` on a page.
fn player_src(html: &str, tag: &str) -> Option<String> {
    let at = html.find(&format!("<{tag} "))?;
    let rest = &html[at..];
    let src = rest.find("src=\"")? + 5;
    let end = rest[src..].find('"')?;
    Some(rest[src..src + end].to_string())
}

async fn reject(t: &TestApp, code: &str) {
    let report = t.store().report_by_code(code).await.unwrap().unwrap();
    t.app()
        .apply(
            report,
            Actor::staff(1, "Cán bộ"),
            Command::Reject {
                reason: "Không thuộc thẩm quyền".into(),
            },
        )
        .await
        .unwrap();
}

/// What a visitor and a member of staff see of a report's recordings.
async fn check_pages(t: &TestApp, code: &str, tag: &str, content_type: &str) -> String {
    let admin = t.staff(Role::Admin, None).await;
    let page = admin
        .page(t, &format!("/console/reports/{code}"))
        .await
        .text()
        .await
        .unwrap();
    let src = player_src(&page, tag).unwrap_or_else(|| panic!("a <{tag}> on the staff page"));
    assert!(src.starts_with("/media/m/"), "{src}");
    let staff_get = admin.page(t, &src).await;
    assert_eq!(staff_get.status(), StatusCode::OK);
    assert_eq!(staff_get.headers()["content-type"], content_type);
    assert_eq!(staff_get.headers()["accept-ranges"], "bytes");
    let bytes = staff_get.bytes().await.unwrap();
    assert!(
        !sample::contains(&bytes, b"10.7769"),
        "no place in the kept copy"
    );
    // Players ask for parts.
    let part = t
        .client
        .get(t.url(&src))
        .header("cookie", &admin.cookie)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 0-99/{}", bytes.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), bytes.slice(0..100));
    let outside = t
        .client
        .get(t.url(&src))
        .header("cookie", &admin.cookie)
        .header("range", format!("bytes={}-", bytes.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // Published: the public sees and plays it too.
    let public = t.get(&format!("/r/{code}")).await.text().await.unwrap();
    assert_eq!(player_src(&public, tag).as_deref(), Some(src.as_str()));
    let anon = t.get(&src).await;
    assert_eq!(anon.status(), StatusCode::OK);
    assert!(
        anon.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );

    // Rejected: not published, so gone for the public; staff still play it.
    reject(t, code).await;
    let public = t.get(&format!("/r/{code}")).await.text().await.unwrap();
    assert!(
        player_src(&public, tag).is_none(),
        "no <{tag}> on the public page"
    );
    assert!(!public.contains("/media/"), "no link to it either");
    assert_eq!(t.get(&src).await.status(), StatusCode::NOT_FOUND);
    let staff_page = admin
        .page(t, &format!("/console/reports/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(player_src(&staff_page, tag).as_deref(), Some(src.as_str()));
    let again = admin.page(t, &src).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.headers()["cache-control"],
        "private, no-store",
        "not kept by caches once private"
    );
    // Staff of a unit that does not handle the report do not see it; its own unit does.
    let unit = t.store().report_by_code(code).await.unwrap().unwrap().unit;
    let other_unit = if unit == "UBND-26743" {
        "UBND-26740"
    } else {
        "UBND-26743"
    };
    let other = t.staff(Role::UnitStaff, Some(other_unit)).await;
    assert_eq!(other.page(t, &src).await.status(), StatusCode::NOT_FOUND);
    let own = t.staff(Role::UnitStaff, Some(&unit)).await;
    assert_eq!(own.page(t, &src).await.status(), StatusCode::OK);
    src
}

#[tokio::test]
async fn a_video_filed_through_the_web_form_is_played_to_staff_without_its_place() {
    if !phananh_photos::sample::media::available() {
        return;
    }
    for t in apps().await {
        let page = t.get("/new").await;
        let cookie = format!(
            "phananh_form={}",
            support::set_cookie_value(&page, "phananh_form").unwrap()
        );
        let html = page.text().await.unwrap();
        assert!(
            html.contains("name=\"media\""),
            "the form has a file input for it"
        );
        let csrf = support::hidden_csrf(&html);
        let send = |media: Vec<u8>, name: &'static str, mime: &'static str, key: &'static str| {
            let form = Form::new()
                .text("csrf", csrf.clone())
                .text("key", key)
                .text("field", "sidewalk")
                .text("description", "Quán lấn chiếm vỉa hè, có video")
                .text("lat", "10.7725")
                .text("lon", "106.6980")
                .part(
                    "media",
                    Part::bytes(media).file_name(name).mime_str(mime).unwrap(),
                );
            t.client
                .post(t.url("/new"))
                .header("cookie", cookie.clone())
                .multipart(form)
                .send()
        };
        // A text file named like a video: refused by its bytes, with a reason.
        let r = send(
            b"this is not a video at all".to_vec(),
            "clip.mp4",
            "video/mp4",
            "media-key-0",
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Tệp không phải video MP4, MOV, 3GP, WebM"),
            "{html}"
        );

        // A phone's MP4 with the place in it.
        let video = sample::mp4_with_location();
        assert!(sample::contains(&video, b"10.7769"));
        let r = send(video, "VID_0001.mp4", "video/mp4", "media-key-1")
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let code = location
            .trim_start_matches("/r/")
            .trim_end_matches("?new=1")
            .to_string();
        let report = t.store().report_by_code(&code).await.unwrap().unwrap();
        let rows = t.store().report_media(report.id).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].kind, "video");
        assert!(rows[0].poster_key.is_some());
        let kept = t.app().photos.get(&rows[0].key).unwrap();
        assert!(!sample::contains(&kept, b"10.7769"));
        assert!(!sample::contains(&kept, b"\xA9xyz"));
        let src = check_pages(&t, &code, "video", "video/mp4").await;
        assert_eq!(src, format!("/media/{}", rows[0].key));
        // The poster, a JPEG without metadata, follows the same rule.
        let poster = format!("/media/{}", rows[0].poster_key.as_deref().unwrap());
        assert_eq!(t.get(&poster).await.status(), StatusCode::NOT_FOUND);
        let admin = t.staff(Role::Admin, None).await;
        let p = admin.page(&t, &poster).await;
        assert_eq!(p.headers()["content-type"], "image/jpeg");
        assert!(p.bytes().await.unwrap().starts_with(&[0xFF, 0xD8]));
    }
}

#[tokio::test]
async fn recordings_no_report_used_are_private_and_deleted_after_a_day() {
    if !phananh_photos::sample::media::available() {
        return;
    }
    let t = spawn(Options::default()).await;
    let kept = t.app().store_media(sample::ogg_opus()).await.unwrap();
    assert_eq!(kept.kind, "audio");
    let src = format!("/media/{}", kept.key);
    assert_eq!(t.get(&src).await.status(), StatusCode::NOT_FOUND);
    let admin = t.staff(Role::Admin, None).await;
    assert_eq!(admin.page(&t, &src).await.status(), StatusCode::NOT_FOUND);
    t.clock.advance(Duration::hours(23));
    assert_eq!(t.app().purge_unattached_media().await.unwrap(), 0);
    t.clock.advance(Duration::hours(2));
    assert_eq!(t.app().purge_unattached_media().await.unwrap(), 1);
    assert!(
        t.app().photos.get(&kept.key).is_err(),
        "the file is deleted"
    );
    assert!(t.store().media_by_key(&kept.key).await.unwrap().is_none());
    // Too late to file with it.
    let late = t
        .client
        .post(t.url("/api/v1/reports"))
        .json(
            &serde_json::json!({"field": "traffic", "description": "Ổ gà", "ward": "26740",
            "media": [kept.key]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
    t.stop().await;
}

#[tokio::test]
async fn an_emailed_video_and_voice_note_are_kept_as_evidence() {
    if !phananh_photos::sample::media::available() {
        return;
    }
    let t = spawn(Options::default()).await;
    let store = &t.store();
    let d = crate::support::mail::MailDomains::new(&["example.vn"]);
    let w = phananh_worker::Worker::new(
        t.app().clone(),
        phananh_worker::WorkerConfig {
            email_auth: d.auth(0),
            ..phananh_worker::WorkerConfig::default()
        },
    );
    let video = crate::support::mail::base64(&sample::mov_with_location(), true);
    // Sent as a generic file: its bytes say it is a voice note.
    let voice = crate::support::mail::base64(&sample::m4a(1), true);
    let raw = format!(
        "From: Dân <dan@example.vn>\r\nTo: 1022@example.gov.vn\r\nSubject: Ổ gà\r\n\
         Message-ID: <media-1@example.vn>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Ổ gà lớn giữa đường\r\nĐịa chỉ: 12 Lê Lợi, phường Bến Thành\r\n\
         --b\r\nContent-Type: video/quicktime\r\nContent-Disposition: attachment; filename=\"IMG_0002.MOV\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{video}\r\n\
         --b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"Ghi am.m4a\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{voice}\r\n\
         --b\r\nContent-Type: audio/mpeg\r\nContent-Disposition: attachment; filename=\"not-audio.mp3\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nbm90IGF1ZGlv\r\n--b--\r\n"
    );
    let raw = d.signed(raw.as_bytes());
    let now = t.app().clock.now();
    store
        .email_receive(
            "media-1@example.vn",
            "test",
            raw.len(),
            &raw,
            false,
            None,
            now,
        )
        .await
        .unwrap();
    drain(&w).await;
    let outcome = store
        .email_outcome("media-1@example.vn")
        .await
        .unwrap()
        .unwrap();
    let code = outcome.strip_prefix("report ").expect(&outcome).to_string();
    let report = store.report_by_code(&code).await.unwrap().unwrap();
    let rows = store.report_media(report.id).await.unwrap();
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.kind.as_str(), r.content_type.as_str()))
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&("video", "video/quicktime")), "{kinds:?}");
    assert!(kinds.contains(&("audio", "audio/mp4")), "{kinds:?}");
    // The third "recording" was not one: refused, and said so in the report.
    assert!(
        report.description.contains("1 attachment(s) refused"),
        "{}",
        report.description
    );
    let admin = t.staff(Role::Admin, None).await;
    let page = admin
        .page(&t, &format!("/console/reports/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(player_src(&page, "audio").is_some(), "the voice note plays");
    check_pages(&t, &code, "video", "video/quicktime").await;
    t.stop().await;
}

#[tokio::test]
async fn the_form_refuses_a_recording_over_the_limit_before_reading_it_all() {
    if !phananh_photos::sample::media::available() {
        return;
    }
    const MB: usize = 1024 * 1024;
    let t = spawn(Options::default()).await;
    // One recording part over 50 MB: 413 at the cap, with the reason.
    let form = Form::new().text("field", "traffic").part(
        "media",
        Part::bytes(vec![0u8; 51 * MB]).file_name("long.mp4"),
    );
    let r = t
        .client
        .post(t.url("/new"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("lớn hơn 50 MB"));
    // A body announced over the form's cap (5 photos + a recording) is refused from its
    // headers.
    let r = t
        .client
        .post(t.url("/new"))
        .header("content-type", "multipart/form-data; boundary=x")
        .header("content-length", (101 * MB).to_string())
        .body(vec![0u8; 1024])
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE),
        // The server may answer and close before the client has sent what it announced.
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    t.stop().await;
}
