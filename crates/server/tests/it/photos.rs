//! Photos: metadata stripped, and travelling with the report.

use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn photos_lose_their_metadata_and_travel_with_the_report() {
    for t in apps().await {
        let jpeg = phananh_photos::sample::phone_jpeg();
        assert!(jpeg.windows(4).any(|w| w == b"Exif"));
        let r = t
            .client
            .post(t.url("/api/v1/photos"))
            .header("content-type", "image/jpeg")
            .body(jpeg)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let up: Value = r.json().await.unwrap();
        let key = up["photo"].as_str().unwrap().to_string();
        assert_eq!(
            (up["width"].as_u64(), up["height"].as_u64()),
            (Some(20), Some(40)),
            "upright"
        );
        // Refused: not an image (whatever its declared type), too big, a key we never gave.
        let r = t
            .client
            .post(t.url("/api/v1/photos"))
            .header("content-type", "image/jpeg")
            .body("not a photo")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["fields"][0]["code"],
            "photo_not_an_image"
        );
        let r = t
            .client
            .post(t.url("/api/v1/photos"))
            .body(vec![0u8; 12 * 1024 * 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let r = t
            .client
            .post(t.url("/api/v1/reports"))
            .json(
                &json!({"field": "traffic", "description": "x", "ward": "26740",
            "photos": ["p/2026/03/00000000000000000000000000000000.jpg"]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["fields"][0]["code"],
            "unknown_photo"
        );
        // Filed with the photo: public JSON links it; the file served has no EXIF.
        let filed = t.file(json!({"field": "traffic", "description": "Ổ gà có ảnh", "ward": "26740", "photos": [key]})).await;
        let code = filed["code"].as_str().unwrap();
        let public: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        let url = public["photos"][0]["url"].as_str().unwrap().to_string();
        let served = t.get(&url).await;
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        let bytes = served.bytes().await.unwrap();
        assert!(
            !bytes.windows(4).any(|w| w == b"Exif"),
            "no EXIF in what the public gets"
        );
        let thumb = t
            .get(public["photos"][0]["thumb_url"].as_str().unwrap())
            .await;
        assert_eq!(thumb.status(), StatusCode::OK);
        assert_eq!(
            t.get("/photos/../../etc/passwd").await.status(),
            StatusCode::NOT_FOUND
        );
        // A resolution with a photo, shown in the history and on the staff page.
        let sup = t.staff(Role::Supervisor, None).await;
        let up: Value = t
            .client
            .post(t.url("/api/v1/photos"))
            .body(phananh_photos::sample::phone_jpeg())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let done = up["photo"].as_str().unwrap();
        assert_eq!(
            sup.act(
                &t,
                code,
                json!({"action": "resolve", "note": "Đã vá", "photo": done})
            )
            .await
            .status(),
            StatusCode::OK
        );
        let public: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        let last = public["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["photo"]["url"], format!("/photos/{done}"));
        let page = sup
            .page(&t, &format!("/console/reports/{code}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(&phananh_app::photos::thumb_key(&key)));
        t.stop().await;
    }
}
