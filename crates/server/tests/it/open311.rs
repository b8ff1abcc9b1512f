//! Open311 GeoReport v2: discovery, service definitions, posting and reading requests,
//! and API keys with their own rate limits, created and revoked in the console.

use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn xml_text<'a>(node: roxmltree::Node<'a, 'a>, path: &[&str]) -> Option<&'a str> {
    let mut n = node;
    for name in path {
        n = n.children().find(|c| c.has_tag_name(*name))?;
    }
    Some(n.text().unwrap_or(""))
}

async fn open311_key(t: &TestApp, rate: u32) -> String {
    t.app()
        .create_api_key("Cổng đối tác thử", Some(rate))
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn open311_discovery_services_and_definitions() {
    for t in apps().await {
        t.add_pothole_field().await;
        let d: Value = t
            .get("/open311/v2/discovery.json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            d["endpoints"][0]["specification"],
            "http://wiki.open311.org/GeoReport_v2"
        );
        assert_eq!(
            d["endpoints"][0]["formats"],
            json!(["application/json", "text/xml"])
        );
        let xml = t
            .get("/open311/v2/discovery.xml")
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "discovery");
        let ep = doc
            .descendants()
            .find(|n| n.has_tag_name("endpoint"))
            .unwrap();
        assert_eq!(xml_text(ep, &["type"]), Some("production"));
        assert_eq!(
            ep.descendants()
                .filter(|n| n.has_tag_name("format"))
                .count(),
            2
        );

        let services: Value = t
            .get("/open311/v2/services.json")
            .await
            .json()
            .await
            .unwrap();
        let list = services.as_array().unwrap();
        assert_eq!(list.len(), 14);
        let traffic = list
            .iter()
            .find(|s| s["service_code"] == "traffic")
            .unwrap();
        for key in [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ] {
            assert!(traffic.get(key).is_some(), "service lacks {key}");
        }
        // Traffic asks how many lanes are blocked; noise asks nothing more.
        assert_eq!(traffic["metadata"], true);
        let noise = list.iter().find(|s| s["service_code"] == "noise").unwrap();
        assert_eq!(noise["metadata"], false);
        assert_eq!(traffic["type"], "realtime");
        let pothole = list
            .iter()
            .find(|s| s["service_code"] == "pothole")
            .unwrap();
        assert_eq!(pothole["metadata"], true);
        let xml = t
            .get("/open311/v2/services.xml")
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "services");
        let services: Vec<_> = doc
            .root_element()
            .children()
            .filter(|n| n.has_tag_name("service"))
            .collect();
        assert_eq!(services.len(), 14);
        assert!(
            services
                .iter()
                .any(|s| xml_text(*s, &["service_code"]) == Some("sidewalk"))
        );

        let def: Value = t
            .get("/open311/v2/services/pothole.json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(def["service_code"], "pothole");
        let a = &def["attributes"][0];
        assert_eq!(
            (
                a["variable"].as_bool(),
                a["code"].as_str(),
                a["datatype"].as_str(),
                a["required"].as_bool(),
                a["order"].as_i64()
            ),
            (
                Some(true),
                Some("size"),
                Some("singlevaluelist"),
                Some(true),
                Some(1)
            )
        );
        assert_eq!(a["description"], "Kích thước ổ gà");
        assert_eq!(
            a["values"],
            json!([{"key": "small", "name": "Nhỏ"}, {"key": "large", "name": "Lớn"}])
        );
        let xml = t
            .get("/open311/v2/services/pothole.xml")
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "service_definition");
        let attr = doc
            .descendants()
            .find(|n| n.has_tag_name("attribute"))
            .unwrap();
        assert_eq!(xml_text(attr, &["datatype"]), Some("singlevaluelist"));
        assert_eq!(xml_text(attr, &["required"]), Some("true"));
        let value = attr
            .descendants()
            .find(|n| n.has_tag_name("value"))
            .unwrap();
        assert_eq!(xml_text(value, &["key"]), Some("small"));

        let r = t.get("/open311/v2/services/nope.json").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e[0]["code"], 404);
        assert!(
            e[0]["description"]
                .as_str()
                .unwrap()
                .contains("service_code")
        );
        assert_eq!(
            t.get("/open311/v2/services.json?jurisdiction_id=elsewhere.example")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.get("/open311/v2/services.json?jurisdiction_id=79")
                .await
                .status(),
            StatusCode::OK
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn open311_post_and_get_requests() {
    for t in apps().await {
        t.add_pothole_field().await;
        let key = open311_key(&t, 1000).await;
        let post = |fmt: &'static str, form: Vec<(&'static str, String)>| {
            t.client
                .post(t.url(&format!("/open311/v2/requests.{fmt}")))
                .form(&form)
                .send()
        };
        let good = |k: &str| {
            vec![
                ("api_key", k.to_string()),
                ("service_code", "pothole".to_string()),
                ("lat", "10.7725".to_string()),
                ("long", "106.6980".to_string()),
                ("description", "Ổ gà sâu giữa đường".to_string()),
                ("attribute[size]", "large".to_string()),
                ("attribute[lanes][]", "left".to_string()),
                ("attribute[lanes][]", "right".to_string()),
                ("email", "dan@example.org".to_string()),
                ("phone", "0909123456".to_string()),
                ("first_name", "Lê".to_string()),
                ("last_name", "Văn C".to_string()),
                ("account_id", "acc-42".to_string()),
                ("media_url", "https://photos.example.org/1.jpg".to_string()),
            ]
        };
        // Refused: no key, a wrong key, no location, unknown service, malformed attribute,
        // a value not in the list, a missing required attribute, a description too long.
        let refusals: Vec<(Vec<(&'static str, String)>, StatusCode, &str)> = vec![
            (
                good("")
                    .into_iter()
                    .filter(|(k, _)| *k != "api_key")
                    .collect(),
                StatusCode::FORBIDDEN,
                "api_key",
            ),
            (good("pa_wrong"), StatusCode::FORBIDDEN, "api_key"),
            (
                good(&key)
                    .into_iter()
                    .filter(|(k, _)| *k != "lat" && *k != "long")
                    .collect(),
                StatusCode::BAD_REQUEST,
                "address_string",
            ),
            (
                good(&key)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == "service_code" {
                            (k, "nope".into())
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
                StatusCode::NOT_FOUND,
                "service_code",
            ),
            (
                good(&key)
                    .into_iter()
                    .chain([("attribute[size", "x".to_string())])
                    .collect(),
                StatusCode::BAD_REQUEST,
                "attribute",
            ),
            (
                good(&key)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == "attribute[size]" {
                            (k, "huge".into())
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
                StatusCode::BAD_REQUEST,
                "size",
            ),
            (
                good(&key)
                    .into_iter()
                    .filter(|(k, _)| *k != "attribute[size]")
                    .collect(),
                StatusCode::BAD_REQUEST,
                "size",
            ),
            (
                good(&key)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == "description" {
                            (k, "x".repeat(4001))
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
                StatusCode::BAD_REQUEST,
                "4",
            ),
            (
                good(&key)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == "lat" {
                            (k, "abc".into())
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
                StatusCode::BAD_REQUEST,
                "lat",
            ),
        ];
        for (form, status, mentions) in refusals {
            let r = post("json", form).await.unwrap();
            assert_eq!(r.status(), status);
            let e: Value = r.json().await.unwrap();
            assert_eq!(e[0]["code"], status.as_u16());
            assert!(
                e[0]["description"].as_str().unwrap().contains(mentions),
                "{e}"
            );
        }
        let xml_refusal = post("xml", vec![("service_code", "pothole".into())])
            .await
            .unwrap();
        assert_eq!(xml_refusal.status(), StatusCode::FORBIDDEN);
        let doc_text = xml_refusal.text().await.unwrap();
        let doc = roxmltree::Document::parse(&doc_text).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "errors");
        assert_eq!(
            xml_text(doc.root_element().first_element_child().unwrap(), &["code"]),
            Some("403")
        );
        let none = t
            .store()
            .list_reports(&phananh_storage::ReportFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(none.items.is_empty(), "nothing half-created");

        // Filed, in JSON and XML.
        let r = post("json", good(&key)).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let created: Value = r.json().await.unwrap();
        let id = created[0]["service_request_id"]
            .as_str()
            .unwrap()
            .to_string();
        // The id is known at once, so no token (the standard gives one or the other).
        assert!(created[0].get("token").is_none(), "{created}");
        assert_eq!(created[0]["account_id"], "acc-42");
        let r = post("xml", good(&key)).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let text = r.text().await.unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "service_requests");
        let id2 = xml_text(
            doc.root_element().first_element_child().unwrap(),
            &["service_request_id"],
        )
        .unwrap()
        .to_string();

        // The record: channel open311, the integrator as the actor, attributes kept.
        let admin = t.staff(Role::Admin, None).await;
        let full: Value = admin
            .api_get(&t, &format!("/api/v1/staff/reports/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(full["channel"], "open311");
        assert_eq!(full["history"][0]["actor"]["kind"], "integrator");
        assert_eq!(full["history"][0]["actor"]["id"], "Cổng đối tác thử");
        assert_eq!(full["unit"], "SXD");
        assert_eq!(full["reporter"]["name"], "Lê Văn C");

        // One request, both formats, field by field; no personal data.
        let one = t
            .get(&format!("/open311/v2/requests/{id}.json"))
            .await
            .text()
            .await
            .unwrap();
        for secret in ["dan@example.org", "0909123456", "Văn C", "acc-42"] {
            assert!(!one.contains(secret), "GET leaks {secret}");
        }
        let one: Value = serde_json::from_str(&one).unwrap();
        let req = &one[0];
        assert_eq!(req["service_request_id"], id.as_str());
        assert_eq!(req["status"], "open");
        assert_eq!(req["service_code"], "pothole");
        assert_eq!(req["service_name"], "Ổ gà");
        assert_eq!(req["description"], "Ổ gà sâu giữa đường");
        assert_eq!(
            req["agency_responsible"],
            t.app().catalog().await.unit_name("SXD")
        );
        assert_eq!(req["requested_datetime"], "2026-03-02T09:00:00+07:00");
        assert!(
            req["expected_datetime"]
                .as_str()
                .unwrap()
                .ends_with("+07:00")
        );
        assert_eq!(req["lat"], 10.7725);
        assert_eq!(req["long"], 106.698);
        assert_eq!(req["media_url"], "https://photos.example.org/1.jpg");
        assert!(req["address"].as_str().unwrap().contains("Bến Thành"));
        let xml = t
            .get(&format!("/open311/v2/requests/{id}.xml?extensions=true"))
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let r = doc.root_element().first_element_child().unwrap();
        assert_eq!(r.tag_name().name(), "request");
        assert_eq!(xml_text(r, &["status"]), Some("open"));
        assert_eq!(xml_text(r, &["lat"]), Some("10.7725"));
        assert_eq!(
            xml_text(r, &["extended_attributes", "channel"]),
            Some("open311")
        );
        assert_eq!(xml_text(r, &["extended_attributes", "ward"]), Some("26743"));
        assert_eq!(
            r.descendants().filter(|n| n.has_tag_name("note")).count(),
            2
        );
        assert_eq!(
            t.get("/open311/v2/requests/ABCD-2345.json").await.status(),
            StatusCode::NOT_FOUND
        );
        let tok: Value = t
            .get(&format!("/open311/v2/tokens/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(tok[0]["service_request_id"], id.as_str());

        // Lists with the standard filters and the common extensions.
        t.file(json!({"field": "traffic", "description": "Đèn hỏng", "ward": "26740"}))
            .await;
        let list = |q: String| {
            let t = &t;
            async move {
                t.get(&format!("/open311/v2/requests.json?{q}"))
                    .await
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(list(String::new()).await.as_array().unwrap().len(), 3);
        assert_eq!(
            list(format!("service_request_id={id},{id2}"))
                .await
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            list("service_code=pothole".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            list("service_code=pothole,traffic".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            list("status=closed".into()).await.as_array().unwrap().len(),
            0
        );
        assert_eq!(
            list("status=open".into()).await.as_array().unwrap().len(),
            3
        );
        assert_eq!(
            list("start_date=2026-03-03T00:00:00%2B07:00".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            list("end_date=2026-03-01T00:00:00Z".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            list("page_size=2&page=1".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            list("page_size=2&page=2".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            list("updated_after=2026-03-02T09:00:01%2B07:00".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            0
        );
        let ext = list("extensions=true&service_code=traffic".into()).await;
        assert_eq!(ext[0]["extended_attributes"]["channel"], "web");
        assert!(ext[0]["notes"].as_array().unwrap().len() >= 2);
        let bad = t
            .get("/open311/v2/requests.json?start_date=yesterday")
            .await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            t.get("/open311/v2/requests.json?status=maybe")
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
        let xml = t
            .get("/open311/v2/requests.xml")
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(
            doc.root_element()
                .children()
                .filter(|n| n.has_tag_name("request"))
                .count(),
            3
        );
        // Some client libraries send api_key in the query string of the POST: accepted,
        // and a wrong key there is refused like one in the form.
        let no_key: Vec<(&'static str, String)> = good("")
            .into_iter()
            .filter(|(k, _)| *k != "api_key")
            .collect();
        let r = t
            .client
            .post(t.url(&format!("/open311/v2/requests.json?api_key={key}")))
            .form(&no_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let by_query: Value = r.json().await.unwrap();
        assert!(by_query[0]["service_request_id"].is_string(), "{by_query}");
        let r = t
            .client
            .post(t.url("/open311/v2/requests.json?api_key=pa_wrong"))
            .form(&no_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // Closing the report shows in Open311 as closed, with the status notes.
        let sup = t.staff(Role::Supervisor, None).await;
        assert_eq!(
            sup.act(&t, &id, json!({"action": "resolve", "note": "Đã vá"}))
                .await
                .status(),
            StatusCode::OK
        );
        let now: Value = t
            .get(&format!("/open311/v2/requests/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(now[0]["status"], "closed");
        assert!(now[0]["status_notes"].as_str().unwrap().contains("Đã vá"));
        t.stop().await;
    }
}

#[tokio::test]
async fn open311_keys_have_their_own_rate_limits_and_can_be_revoked() {
    let t = spawn(Options::default()).await;
    let slow = open311_key(&t, 2).await;
    let form = |k: &str| {
        vec![
            ("api_key", k.to_string()),
            ("service_code", "traffic".to_string()),
            ("address_string", "12 Lê Lợi, phường Bến Thành".to_string()),
        ]
    };
    for _ in 0..2 {
        let r = t
            .client
            .post(t.url("/open311/v2/requests.json"))
            .form(&form(&slow))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form(&slow))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let fast = open311_key(&t, 100).await;
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form(&fast))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "another key is not slowed down"
    );
    let id = t.store().api_keys().await.unwrap().last().unwrap().id;
    t.store().revoke_api_key(id).await.unwrap();
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form(&fast))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    t.stop().await;
}

#[tokio::test]
async fn admins_create_and_revoke_api_keys_in_the_console() {
    let t = spawn(Options::default()).await;
    let admin = t.staff(Role::Admin, None).await;
    let page = admin
        .form(
            &t,
            "/console/admin/apikeys",
            &[("name", "Ứng dụng Y tế"), ("rate", "60")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let start = html.find("pa_").expect("the key is shown once");
    let key: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let form = vec![
        ("api_key", key.clone()),
        ("service_code", "traffic".to_string()),
        ("lat", "10.7725".into()),
        ("long", "106.698".into()),
    ];
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let list = admin
        .page(&t, "/console/admin/apikeys")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Ứng dụng Y tế") && !list.contains(&key),
        "the list shows the prefix only"
    );
    let id = t.store().api_keys().await.unwrap()[0].id;
    let r = admin
        .form(&t, &format!("/console/admin/apikeys/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let staff = t.staff(Role::UnitStaff, Some("UBND-26740")).await;
    assert_eq!(
        staff.page(&t, "/console/admin/apikeys").await.status(),
        StatusCode::NOT_FOUND
    );
    t.stop().await;
}
