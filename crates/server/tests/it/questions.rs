//! The fields' extra questions, asked on every intake and enforced the same way: the
//! Ho Chi Minh City profile's own questions, the citizens' form (without JavaScript), the
//! hotline screen, the JSON API and Open311's service definitions. (The chats ask them in
//! `chat::`.)

use reqwest::StatusCode;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::support::{self, Options, TestApp, spawn};
use phananh_domain::access::Role;

/// The attributes stored with a report, as staff see them.
async fn attributes(t: &TestApp, code: &str) -> Value {
    let admin = t.staff(Role::Admin, None).await;
    let full: Value = admin
        .api_get(t, &format!("/api/v1/staff/reports/{code}"))
        .await
        .json()
        .await
        .unwrap();
    full["attributes"].clone()
}

#[tokio::test]
async fn the_city_profile_asks_real_questions_and_open311_describes_them() {
    let t = spawn(Options::default()).await;
    let services: Value = t
        .get("/open311/v2/services.json")
        .await
        .json()
        .await
        .unwrap();
    let metadata = |code: &str| {
        services
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service_code"] == code)
            .unwrap()["metadata"]
            .clone()
    };
    for code in ["lighting", "water", "trees", "traffic"] {
        assert_eq!(metadata(code), true, "{code}");
    }
    assert_eq!(metadata("noise"), false);
    let def: Value = t
        .get("/open311/v2/services/trees.json")
        .await
        .json()
        .await
        .unwrap();
    let a = &def["attributes"][0];
    assert_eq!(a["code"], "tree_state");
    assert_eq!(a["datatype"], "singlevaluelist");
    let keys: Vec<&str> = a["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["fallen", "leaning", "blocking", "other"]);

    // The form shows each field's questions; an answer is kept with the report.
    let html = t.get("/new").await.text().await.unwrap();
    for q in [
        "q.lighting.pole_number",
        "q.water.customer_code",
        "q.trees.tree_state",
        "q.traffic.lanes_blocked",
    ] {
        assert!(html.contains(&format!("name=\"{q}\"")), "{q}");
    }
    assert!(html.contains("Số hiệu ghi trên cột đèn"));
    let r = t
        .file(
            json!({"field": "trees", "description": "Cây nghiêng sắp đổ", "ward": "26740",
            "attributes": {"tree_state": ["leaning"]}}),
        )
        .await;
    let code = r["code"].as_str().unwrap();
    assert_eq!(attributes(&t, code).await["tree_state"][0], "leaning");
    let status = t.get(&format!("/r/{code}")).await.text().await.unwrap();
    assert!(
        status.contains("Tình trạng cây") && status.contains("Cây nghiêng, có nguy cơ ngã"),
        "the answer, in words, on the public page"
    );

    // The customer code on a water bill is personal data: staff see it, the public never.
    let r = t
        .file(
            json!({"field": "water", "description": "Mất nước hai ngày", "ward": "26740",
            "attributes": {"customer_code": ["PB09123456"]}}),
        )
        .await;
    let code = r["code"].as_str().unwrap();
    assert_eq!(attributes(&t, code).await["customer_code"][0], "PB09123456");
    let admin = t.staff(Role::Admin, None).await;
    let console = admin
        .page(&t, &format!("/console/reports/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(console.contains("Mã khách hàng") && console.contains("PB09123456"));
    for path in [
        format!("/r/{code}"),
        format!("/open311/v2/requests/{code}.json?extensions=true"),
        format!("/open311/v2/requests.json?service_request_id={code}&extensions=true"),
        format!("/api/v1/reports/{code}"),
    ] {
        let body = t.get(&path).await.text().await.unwrap();
        assert!(
            !body.contains("PB09123456"),
            "{path} leaks the customer code"
        );
    }
}

#[tokio::test]
async fn required_questions_are_enforced_on_the_form_the_hotline_and_the_api() {
    for t in support::apps().await {
        t.add_pothole_field().await;

        // The JSON API: a clear, machine-readable error.
        let r = t
            .client
            .post(t.url("/api/v1/reports"))
            .json(&json!({"field": "pothole", "description": "Ổ gà", "ward": "26740"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: Value = r.json().await.unwrap();
        let f = &e["error"]["fields"][0];
        assert_eq!(f["field"], "attributes", "{e}");
        assert_eq!(f["code"], "invalid_attribute", "{e}");
        assert!(
            f["message_vi"]
                .as_str()
                .unwrap()
                .contains("Kích thước ổ gà"),
            "{e}"
        );

        // The citizens' form, posted without JavaScript: all fields' questions are sent,
        // only the chosen field's are read.
        let page = t.get("/new").await;
        let cookie = format!(
            "phananh_form={}",
            support::set_cookie_value(&page, "phananh_form").unwrap()
        );
        let html = page.text().await.unwrap();
        assert!(html.contains("name=\"q.pothole.size\"") && html.contains("Kích thước ổ gà *"));
        let csrf = support::hidden_csrf(&html);
        let send = |extra: Vec<(&'static str, &'static str)>| {
            let mut form = Form::new()
                .text("csrf", csrf.clone())
                .text("key", format!("q-{}", extra.len()))
                .text("field", "pothole")
                .text("description", "Ổ gà sâu trước số 5")
                .text("ward", "26740")
                .text("q.trees.tree_state", "fallen");
            for (k, v) in extra {
                form = form.text(k, v);
            }
            t.client
                .post(t.url("/new"))
                .header("cookie", cookie.clone())
                .multipart(form)
                .send()
        };
        let r = send(vec![("q.pothole.size", "")]).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("thiếu câu trả lời cho «Kích thước ổ gà»"),
            "a clear error next to the questions"
        );
        assert!(html.contains("id=\"attributes-error\""));
        let r = send(vec![
            ("q.pothole.size", "large"),
            ("q.pothole.lanes.left", "left"),
            ("q.pothole.lanes.right", "right"),
        ])
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let code = r.headers()["location"]
            .to_str()
            .unwrap()
            .trim_start_matches("/r/")
            .trim_end_matches("?new=1")
            .to_string();
        let a = attributes(&t, &code).await;
        assert_eq!(a, json!({"size": ["large"], "lanes": ["left", "right"]}));

        // The hotline screen: the questions are on it, and the same rule holds.
        let operator = t.staff(Role::Triage, None).await;
        let screen = operator
            .page(&t, "/console/hotline")
            .await
            .text()
            .await
            .unwrap();
        assert!(screen.contains("name=\"q.pothole.size\""));
        assert!(screen.contains("/static/questions.js"));
        let base = [
            ("phone", "0900000011"),
            ("field", "pothole"),
            ("description", "Ổ gà ở ngã tư"),
            ("ward_name", "Sài Gòn"),
        ];
        let r = operator.form(&t, "/console/hotline", &base).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("Kích thước ổ gà"));
        let mut with = base.to_vec();
        with.push(("q.pothole.size", "small"));
        let r = operator.form(&t, "/console/hotline", &with).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let code = r.headers()["location"]
            .to_str()
            .unwrap()
            .split("filed=")
            .nth(1)
            .unwrap()
            .to_string();
        assert_eq!(attributes(&t, &code).await, json!({"size": ["small"]}));
        t.stop().await;
    }
}

#[tokio::test]
async fn admins_edit_a_fields_questions_without_a_release() {
    let t = spawn(Options::default()).await;
    let admin = t.staff(Role::Admin, None).await;
    let page = admin
        .page(&t, "/console/admin/fields")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("tree_state | singlevaluelist |  | Tình trạng cây"),
        "the questions in force, as text"
    );
    // A mistake is named with its line; nothing changes.
    let r = admin
        .form(
            &t,
            "/console/admin/fields/questions",
            &[("code", "noise"), ("questions", "hours | string\n")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("dòng 1"));
    let r = admin
        .form(
            &t,
            "/console/admin/fields/questions",
            &[
                ("code", "noise"),
                (
                    "questions",
                    "source | singlevaluelist | required | Nguồn gây ồn | Source | karaoke=Karaoke; works=Công trình\n",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // At once on the form, in Open311 and at intake.
    let form = t.get("/new").await.text().await.unwrap();
    assert!(form.contains("name=\"q.noise.source\"") && form.contains("Nguồn gây ồn *"));
    let def: Value = t
        .get("/open311/v2/services/noise.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(def["attributes"][0]["code"], "source");
    assert_eq!(def["attributes"][0]["required"], true);
    let r = t
        .client
        .post(t.url("/api/v1/reports"))
        .json(&json!({"field": "noise", "description": "Hát karaoke tới 1 giờ sáng", "ward": "26740"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .file(
            json!({"field": "noise", "description": "Hát karaoke tới 1 giờ sáng", "ward": "26740",
            "attributes": {"source": ["karaoke"]}}),
        )
        .await;
    assert!(r["code"].is_string());
}
