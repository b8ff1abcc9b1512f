//! Rate limits on anonymous intake, on reports per phone or email, and on logins.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn reports_per_phone_or_email_are_limited_whatever_the_address() {
    let t = spawn(Options {
        contact_per_hour: 2,
        ..Options::default()
    })
    .await;
    let file = |phone: &str, email: Option<&str>| {
        let mut body = json!({"field": "traffic", "description": "Ổ gà trước nhà", "ward": "26740", "phone": phone});
        if let Some(e) = email {
            body["email"] = e.into();
        }
        t.client.post(t.url("/api/v1/reports")).json(&body).send()
    };
    assert_eq!(
        file("0912345678", None).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        file("0912 345 678", Some("a@example.vn"))
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    // The same number written another way is the same contact.
    let r = file("+84 912 345 678", None).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    // Another person is not held back; the email used once has one report left.
    assert_eq!(
        file("0987654321", Some("A@example.vn"))
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        file("0987654322", Some("a@example.vn"))
            .await
            .unwrap()
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    t.stop().await;
}

#[tokio::test]
async fn anonymous_intake_and_logins_are_rate_limited() {
    let t = spawn(Options {
        intake_per_minute: 3,
        login_per_minute: 3,
        ..Options::default()
    })
    .await;
    let body = json!({"field": "traffic", "description": "x", "ward": "26740"});
    for _ in 0..3 {
        assert_eq!(
            t.client
                .post(t.url("/api/v1/reports"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::CREATED
        );
    }
    let r = t
        .client
        .post(t.url("/api/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    let mut last = StatusCode::OK;
    for _ in 0..5 {
        last = t
            .login_attempt("nobody@example.org", "wrong password!")
            .await;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    t.stop().await;
}
