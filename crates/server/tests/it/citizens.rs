//! Citizens on the public pages: the web form, following a report, the public map, list
//! and statistics, and codes and progress by email.

use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, *};

#[tokio::test]
async fn citizens_report_through_the_web_form_and_follow_it() {
    use reqwest::multipart::{Form, Part};
    let t = spawn(Options::default()).await;
    let page = t.get("/new").await;
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = format!(
        "phananh_form={}",
        support::set_cookie_value(&page, "phananh_form").unwrap()
    );
    let html = page.text().await.unwrap();
    let csrf = support::hidden_csrf(&html);
    assert!(html.contains("Lấn chiếm vỉa hè") && html.contains("capture=\"environment\""));
    // A chat can send the citizen here with its draft filled in.
    let prefilled = t
        .get("/new?field=trees&description=C%C3%A2y%20%C4%91%E1%BB%95%20%3Cb%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        prefilled.contains("value=\"trees\" required checked"),
        "the field is chosen"
    );
    assert!(
        prefilled.contains("Cây đổ &lt;b&gt;"),
        "the description is filled in, escaped"
    );
    let send = |fields: Vec<(&'static str, String)>, photo: Option<Vec<u8>>, cookie: String| {
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        if let Some(p) = photo {
            form = form.part(
                "photo",
                Part::bytes(p)
                    .file_name("IMG_0001.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        }
        t.client
            .post(t.url("/new"))
            .header("cookie", cookie)
            .multipart(form)
            .send()
    };
    let base = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("key", "form-key-1".to_string()),
            ("field", "sidewalk".to_string()),
        ]
    };
    // Errors come back next to the fields, in Vietnamese, with what was typed kept.
    let mut bad = base(&csrf);
    bad.extend([
        ("description", "".to_string()),
        ("phone", "12".to_string()),
        ("address", "12 Lê Lợi".to_string()),
    ]);
    let r = send(bad, None, cookie.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Vui lòng mô tả vấn đề") && html.contains("Số điện thoại không hợp lệ"),
        "{html}"
    );
    assert!(html.contains("value=\"12 Lê Lợi\""), "the address is kept");
    // A photo that is not an image.
    let mut wrong = base(&csrf);
    wrong.extend([
        ("description", "x".to_string()),
        ("ward", "26740".to_string()),
    ]);
    let r = send(wrong, Some(b"not an image".to_vec()), cookie.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("không phải ảnh"));
    // Without the form's cookie: refused.
    let mut ok = base(&csrf);
    ok.extend([
        ("description", "Quán lấn chiếm vỉa hè".to_string()),
        ("lat", "10.7725".to_string()),
        ("lon", "106.6980".to_string()),
        ("phone", "0912345678".to_string()),
    ]);
    let r = send(ok.clone(), None, "phananh_form=other".into())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Filed, with a photo; sent twice (a double tap), filed once.
    let r = send(
        ok.clone(),
        Some(phananh_photos::sample::phone_jpeg()),
        cookie.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/r/") && location.ends_with("?new=1"));
    let again = send(
        ok,
        Some(phananh_photos::sample::phone_jpeg()),
        cookie.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        again.headers()["location"].to_str().unwrap(),
        location,
        "the same report"
    );
    let status = t.get(&location).await.text().await.unwrap();
    let code = location
        .trim_start_matches("/r/")
        .trim_end_matches("?new=1");
    assert!(status.contains(code) && status.contains("Ủy ban nhân dân Phường Bến Thành"));
    assert!(
        !status.contains("0912345678"),
        "no personal data on the status page"
    );
    assert!(status.contains(".thumb.jpg"), "the photo is shown");
    let reports = t
        .store()
        .list_reports(&phananh_storage::ReportFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(reports.items.len(), 1);
    // The honeypot: a bot's post files nothing.
    let mut bot = base(&csrf);
    bot.extend([
        ("description", "spam".to_string()),
        ("ward", "26740".to_string()),
        ("website", "http://spam.example".to_string()),
        ("key", "bot".to_string()),
    ]);
    let r = send(bot, None, cookie.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        t.store()
            .list_reports(&phananh_storage::ReportFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // Lookup by a code typed in lower case; an unknown code is a clear 404.
    let r = t
        .get(&format!("/lookup?code={}", code.to_lowercase()))
        .await;
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/r/{code}")
    );
    let r = t.get("/r/ABCD-2345").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Mã hồ sơ không đúng"));
    let home = t
        .client
        .get(t.url("/"))
        .header("accept-language", "en-US")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Gửi phản ánh") && home.contains("/lookup"),
        "Vietnamese first, whatever the browser says"
    );
    // Switching to English: a cookie, and back to the page.
    let r = t
        .client
        .get(t.url("/lang/en"))
        .header("referer", t.url("/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), "/new");
    let lang = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let en = t
        .client
        .get(t.url("/new"))
        .header("cookie", lang)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Report a problem") && en.contains("Tiếng Việt"));
    t.stop().await;
}

#[tokio::test]
async fn public_map_list_and_statistics_without_personal_data() {
    for t in apps().await {
        let (lat, lon) = BEN_THANH_MARKET;
        let a = t.file(json!({"field": "sidewalk", "description": "Lấn chiếm", "lat": lat, "lon": lon, "phone": "0912345678", "name": "Bí Mật"})).await;
        t.file(json!({"field": "traffic", "description": "Ổ gà", "ward": "26740"}))
            .await;
        let spam = t
            .file(json!({"field": "other", "description": "quảng cáo", "ward": "26740"}))
            .await;
        let sup = t.staff(Role::Supervisor, None).await;
        assert_eq!(
            sup.act(
                &t,
                spam["code"].as_str().unwrap(),
                json!({"action": "reject", "reason": "Rác"})
            )
            .await
            .status(),
            StatusCode::OK
        );
        assert_eq!(
            sup.act(
                &t,
                a["code"].as_str().unwrap(),
                json!({"action": "resolve", "note": "Đã dọn"})
            )
            .await
            .status(),
            StatusCode::OK
        );

        let all: Value = t.get("/api/v1/public/reports").await.json().await.unwrap();
        let text = all.to_string();
        assert_eq!(
            all["items"].as_array().unwrap().len(),
            2,
            "rejected reports are not public"
        );
        assert!(!text.contains("0912345678") && !text.contains("Bí Mật"));
        let f = |q: &str| {
            let t = &t;
            let q = q.to_string();
            async move {
                t.get(&format!("/api/v1/public/reports?{q}"))
                    .await
                    .json::<Value>()
                    .await
                    .unwrap()["items"]
                    .as_array()
                    .unwrap()
                    .len()
            }
        };
        assert_eq!(f("field=sidewalk").await, 1);
        assert_eq!(f("status=open").await, 1);
        assert_eq!(f("status=closed").await, 1);
        assert_eq!(f("ward=26740").await, 1);
        assert_eq!(f("bbox=106.69,10.76,106.71,10.78").await, 1);
        assert_eq!(f("from=2026-03-03").await, 0);
        assert_eq!(f("to=2026-03-02").await, 2);
        assert_eq!(
            t.get("/api/v1/public/reports?bbox=1,2,3").await.status(),
            StatusCode::BAD_REQUEST
        );

        let map = t.get("/map?field=sidewalk").await.text().await.unwrap();
        assert!(map.contains(a["code"].as_str().unwrap()) && map.contains("markercluster"));
        assert!(!map.contains(spam["code"].as_str().unwrap()) && !map.contains("0912345678"));
        let stats = t
            .get("/stats?from=2026-03-01&to=2026-03-31")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            stats.contains("Tổng số phản ánh: <strong>2</strong>"),
            "{stats}"
        );
        assert!(stats.contains("Lấn chiếm vỉa hè") && stats.contains("Hạ tầng giao thông"));
        assert!(
            stats.contains("100%"),
            "the one resolved report was on time"
        );
        t.stop().await;
    }
}

/// The email with `needle`, its quoted-printable soft breaks undone.
fn mail_with(mails: &[String], to: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m.contains(&format!("To: {to}")))
        .map(|m| m.replace("=\n", ""))
        .collect()
}

#[tokio::test]
async fn citizens_get_their_code_by_email_and_followers_hear_of_each_step() {
    use phananh_worker::{Worker, WorkerConfig};
    for t in apps().await {
        let (port, got) = smtp_sink(0).await;
        let worker = Worker::new(
            t.app().clone(),
            WorkerConfig {
                smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
                public_url: "https://1022.example.vn".into(),
                ..WorkerConfig::default()
            },
        );
        let r = t.file(json!({"field": "lighting", "description": "Đèn đường tắt cả dãy phố", "lat": 10.7769, "lon": 106.7009,
            "email": "dan@example.vn", "name": "Trần Dân"})).await;
        let code = r["code"].as_str().unwrap().to_string();
        drain(&worker).await;
        let receipt = mail_with(&got.lock().unwrap(), "dan@example.vn");
        assert_eq!(receipt.len(), 1, "one receipt");
        assert!(
            receipt[0].contains(&code)
                && receipt[0].contains(&format!("https://1022.example.vn/r/{code}")),
            "{}",
            receipt[0]
        );

        // Someone else reports the same lamp: the form finds it nearby.
        let near: Value = t
            .get("/api/v1/public/nearby?field=lighting&lat=10.7770&lon=106.7010")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(near["items"][0]["code"], code.as_str(), "{near}");
        assert!(near["items"][0]["distance_m"].as_i64().unwrap() < 30);
        assert!(
            !near.to_string().contains("Trần Dân") && !near.to_string().contains("dan@example.vn")
        );
        let far: Value = t
            .get("/api/v1/public/nearby?field=lighting&lat=10.80&lon=106.70")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            far["items"].as_array().unwrap().len(),
            0,
            "another street: {far}"
        );
        let other: Value = t
            .get("/api/v1/public/nearby?field=trees&lat=10.7770&lon=106.7010")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(other["items"].as_array().unwrap().len(), 0, "another field");
        assert_eq!(
            t.get("/api/v1/public/nearby?field=lighting").await.status(),
            StatusCode::BAD_REQUEST
        );

        // ... and follows it instead of filing it again, with an email.
        let page = t.get(&format!("/r/{code}")).await;
        let cookie = format!(
            "phananh_follow={}",
            support::set_cookie_value(&page, "phananh_follow").unwrap()
        );
        let html = page.text().await.unwrap();
        let csrf = support::hidden_csrf(&html);
        let follow = |csrf: String, email: &'static str, cookie: String| {
            t.client
                .post(t.url(&format!("/r/{code}/follow")))
                .header("cookie", cookie)
                .form(&[("csrf", csrf), ("email", email.to_string())])
                .send()
        };
        let forged = follow("wrong".into(), "hang@example.vn", cookie.clone())
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let bad = follow(csrf.clone(), "not-an-email", cookie.clone())
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text().await.unwrap().contains("email không hợp lệ"));
        let ok = follow(csrf.clone(), "hang@example.vn", cookie.clone())
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        // The address confirms first (double opt-in).
        drain(&worker).await;
        let confirmation = mail_with(&got.lock().unwrap(), "hang@example.vn");
        assert_eq!(confirmation.len(), 1, "the confirmation link");
        let confirm = confirmation[0]
            .split("https://1022.example.vn/follow/confirm/")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let confirmed = t
            .client
            .post(t.url(&format!("/follow/confirm/{confirm}")))
            .send()
            .await
            .unwrap();
        assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
        let page = t
            .get(&format!("/r/{code}?followed=1"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Bạn đang theo dõi") && page.contains("1 người đang theo dõi"));
        assert!(!page.contains("hang@example.vn"), "followers stay private");

        // The unit resolves it: the reporter and the follower hear of it, once each.
        let staff = t.staff(Role::UnitStaff, Some("CT-CHIEUSANG")).await;
        let resp = staff
            .act(
                &t,
                &code,
                json!({"action": "resolve", "note": "Đã thay bóng đèn"}),
            )
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{}",
            resp.text().await.unwrap()
        );
        drain(&worker).await;
        drain(&worker).await;
        let mails = got.lock().unwrap().clone();
        let to_dan = mail_with(&mails, "dan@example.vn");
        let to_hang = mail_with(&mails, "hang@example.vn");
        assert_eq!(to_dan.len(), 2, "receipt and resolution");
        assert_eq!(to_hang.len(), 2, "the confirmation and the resolution");
        assert!(
            to_hang[1].contains("Đã thay bóng đèn") || to_hang[1].contains("=?utf-8?"),
            "{}",
            to_hang[1]
        );
        let link = to_hang[1]
            .split("https://1022.example.vn/unfollow/")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        assert!(
            !to_dan[1].contains("/unfollow/"),
            "the reporter is not a follower"
        );

        // The follower leaves; the next step reaches only the reporter.
        assert_eq!(
            t.get(&format!("/unfollow/{link}")).await.status(),
            StatusCode::OK
        );
        let left = t
            .client
            .post(t.url(&format!("/unfollow/{link}")))
            .send()
            .await
            .unwrap();
        assert_eq!(left.status(), StatusCode::OK);
        assert_eq!(
            t.client
                .post(t.url("/unfollow/nonsense"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
        let triage = t.staff(Role::Triage, None).await;
        let resp = triage.act(&t, &code, json!({"action": "close"})).await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{}",
            resp.text().await.unwrap()
        );
        drain(&worker).await;
        drain(&worker).await;
        let mails = got.lock().unwrap().clone();
        assert_eq!(mail_with(&mails, "hang@example.vn").len(), 2);
        assert_eq!(mail_with(&mails, "dan@example.vn").len(), 3);
        t.stop().await;
    }
}
