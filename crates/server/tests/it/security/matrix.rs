//! The role × route matrix: every (method, path) the binary serves, asked by every role,
//! on a report of the role's own unit and on one of another unit. The list of routes comes
//! from the router itself (`phananh_web::route_table`), so a route added without a row in
//! [`TABLE`] fails this test, and so does a row whose route is gone.
//!
//! Adding a route: add one line to [`TABLE`] with what each role must get (see "Cells").
//! `PHANANH_MATRIX_PRINT=1 cargo test -p phananh --test it security::matrix -- --nocapture` prints
//! what every case gets today, as table lines, to start from (then judge each cell!).

use std::collections::{BTreeMap, BTreeSet};

use phananh_app::Clock;
use phananh_domain::access::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Who asks. `None`: an anonymous visitor.
const ROLES: [Option<Role>; 7] = [
    None,
    Some(Role::Admin),
    Some(Role::Triage),
    Some(Role::UnitManager),
    Some(Role::UnitStaff),
    Some(Role::Supervisor),
    Some(Role::Oversight),
];

/// The methods tried on every path; those a path does not serve must answer 405.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

// Cells, one per role in the order of `ROLES` (anonymous, admin, triage, unit manager,
// unit staff, supervisor, oversight):
//   ok     passed authorization: 2xx, a redirect elsewhere than /login, or a 4xx about the
//          request itself (400, 409, 413, 415, 422): the handler ran for this role
//   login  redirected to /login
//   401 403 404 405 429   that status
//   a|b    for paths with a variant parameter: a on the first variant, b on the second
//          ({code}: a report of the unit manager's and unit staff's own unit | of another
//          unit; {*key}: a photo attached to a report | an upload attached to none)
// A `*` row applies one cell to every role.
//
// Known-open holes (issue 11 findings owned by other tracks) are written with the value the
// fix must give, and listed in KNOWN_OPEN with what the server answers today; the test fails
// when a known-open case starts to match (remove it from KNOWN_OPEN then).
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str)] = &[
    // Public pages and data.
    ("GET",  "/",                                    "ok ok ok ok ok ok ok"),
    ("GET",  "/static/{*path}",                      "*ok"),
    ("GET",  "/manifest.webmanifest",                "*ok"),
    ("GET",  "/sw.js",                               "*ok"),
    ("GET",  "/mine",                                "*ok"),
    ("GET",  "/lookup",                              "*ok"),
    ("GET",  "/new",                                 "*ok"),
    // Staff filings must count against per-user limits; oversight never writes (finding 8).
    ("POST", "/new",                                 "ok ok ok ok ok ok 403"),
    ("GET",  "/r/{code}",                            "*ok"),
    ("GET",  "/map",                                 "*ok"),
    ("GET",  "/stats",                               "*ok"),
    ("GET",  "/stats/units",                         "*ok"),
    // Open data: public reports without personal data or words.
    ("GET",  "/open-data/",                          "*ok"),
    ("GET",  "/open-data/{file}",                    "*ok"),
    ("GET",  "/api/v1/public/reports",               "*ok"),
    ("GET",  "/api/v1/public/nearby",                "*ok"),
    ("GET",  "/api/v1/public/wards.geojson",         "*ok"),
    // 403: the public forms' own CSRF check (the `phananh_form` cookie), which the matrix
    // does not fetch; the forms' own tests cover the allowed case.
    ("POST", "/r/{code}/follow", "*403"),
    ("GET",  "/r/{code}/rate",                       "*ok"),
    ("POST", "/r/{code}/rate", "*403"),
    ("POST", "/api/v1/reports/{code}/rating",        "*ok"),
    ("GET",  "/unfollow/{token}",                    "*ok"),
    ("POST", "/unfollow/{token}",                    "*404"),
    ("GET",  "/lang/{code}",                         "*ok"),
    ("GET",  "/api/v1/openapi.json",                 "*ok"),
    ("POST", "/api/v1/reports",                      "ok ok ok ok ok ok 403"),
    ("GET",  "/api/v1/reports/{code}",               "*ok"),
    ("POST", "/api/v1/photos",                       "ok ok ok ok ok ok 403"),
    // An upload attached to no report is not public (finding 6).
    ("GET",  "/photos/{*key}",                       "*ok|404"),
    // The same for video and voice notes (and their posters).
    ("GET",  "/media/{*key}",                        "*ok|404"),
    ("GET",  "/api/v1/fields",                       "*ok"),
    ("GET",  "/api/v1/wards",                        "*ok"),
    // Operations.
    ("GET",  "/healthz",                             "*ok"),
    ("GET",  "/metrics",                             "*ok"),
    // Integrations: authenticated by signature, token or API key, never by a session.
    ("GET",  "/webhooks/messenger",                  "*403"),
    ("POST", "/webhooks/messenger",                  "*403"),
    ("POST", "/webhooks/viber",                      "*403"),
    ("POST", "/webhooks/telegram",                   "*403"),
    ("POST", "/webhooks/zalo",                       "*403"),
    ("POST", "/webhooks/sms",                        "*403"),
    ("POST", "/webhooks/twilio/sms",                 "*403"),
    ("POST", "/api/v1/pbx/calls",                    "*401"),
    ("GET",  "/open311/v2/{file}",                   "*ok"),
    // requests.json without an api_key
    ("POST", "/open311/v2/{file}", "*403"),
    ("GET",  "/open311/v2/services/{file}",          "*ok"),
    ("GET",  "/open311/v2/requests/{file}",          "*ok"),
    // an unknown token
    ("GET", "/open311/v2/tokens/{file}", "*404"),
    // Signing in and out.
    ("GET",  "/login",                               "*ok"),
    ("POST", "/login",                               "*ok"),
    // signed out, sent to /login
    ("POST", "/logout", "*login"),
    // staff only; visitors use /lang/{code}
    ("POST", "/lang", "login ok ok ok ok ok ok"),
    // The staff JSON API.
    ("GET",  "/api/v1/staff/reports",                "401 ok ok ok ok ok ok"),
    ("GET",  "/api/v1/staff/reports/{code}",         "401 ok ok ok|404 ok|404 ok ok"),
    ("POST", "/api/v1/staff/reports/{code}/actions", "401 ok ok ok|404 ok|404 ok 403"),
    // Likely duplicates: read-only, scoped like the report.
    ("GET",  "/api/v1/staff/reports/{code}/duplicates", "401 ok ok ok|404 ok|404 ok ok"),
    // Per report inside: another unit's report is "not_found" in the answer.
    ("POST", "/api/v1/staff/reports/bulk",           "401 ok ok ok ok ok 403"),
    // Reading the response templates of a report: whoever may see the report.
    ("GET",  "/api/v1/staff/reports/{code}/templates", "401 ok ok ok|404 ok|404 ok ok"),
    ("POST", "/api/v1/staff/reports/{code}/moderation", "401 ok ok ok|404 ok|404 403 403"),
    // The console.
    ("GET",  "/console",                             "login ok ok ok ok ok ok"),
    ("GET", "/console/triage", "login ok ok 404 404 ok 404"),
    ("GET",  "/console/reports/{code}",              "login ok ok ok|404 ok|404 ok ok"),
    ("POST", "/console/reports/{code}/actions",      "login ok ok ok|404 ok|404 ok 403"),
    ("POST", "/console/bulk",                        "login ok ok ok ok ok 403"),
    // Anyone signed in has a (maybe empty) list of their own tasks.
    ("GET",  "/console/tasks",                       "login ok ok ok ok ok ok"),
    ("POST", "/console/reports/{code}/chat",         "login ok ok ok|404 ok|404 ok 403"),
    ("POST", "/console/reports/{code}/moderation",   "login ok ok ok|404 ok|404 403 403"),
    ("GET",  "/console/moderation",                  "login ok ok ok ok 403 403"),
    ("GET",  "/console/hotline",                     "login ok ok 404 404 404 404"),
    ("POST", "/console/hotline",                     "login ok ok 404 404 404 404"),
    ("GET",  "/console/hotline/caller",              "login ok ok 404 404 404 404"),
    ("GET",  "/console/hotline/events",              "login ok ok 404 404 404 404"),
    ("GET", "/console/unfiled", "login ok ok 403 403 403 403"),
    ("POST", "/console/unfiled/{id}/dismiss", "login ok ok 403 403 403 403"),
    ("GET", "/console/performance", "login ok 403 ok 403 ok ok"),
    ("GET", "/console/performance/report.xlsx", "login ok 403 ok 403 ok ok"),
    ("GET", "/console/performance/report.pdf", "login ok 403 ok 403 ok ok"),
    ("GET",  "/console/admin",                       "login ok 404 404 404 404 404"),
    ("GET",  "/console/admin/units",                 "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/units",                 "login ok 404 404 404 404 404"),
    ("GET",  "/console/admin/fields",                "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/fields",                "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/fields/questions",      "login ok 404 404 404 404 404"),
    ("GET",  "/console/admin/rules",                 "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/rules",                 "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/rules/{id}/delete",     "login ok 404 404 404 404 404"),
    ("GET",  "/console/admin/templates",             "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/templates",             "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/templates/{id}/delete", "login ok 404 404 404 404 404"),
    ("GET",  "/console/admin/users",                 "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/users",                 "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/users/{id}",            "login ok 404 404 404 404 404"),
    ("GET",  "/console/admin/calendar",              "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/calendar",              "login ok 404 404 404 404 404"),
    ("GET",  "/console/admin/jobs",                  "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/jobs/{id}/retry",       "login ok 404 404 404 404 404"),
    ("GET",  "/console/admin/apikeys",               "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/apikeys",               "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/apikeys/{id}/revoke",   "login ok 404 404 404 404 404"),
    ("POST", "/console/admin/users/{id}/reset",      "login ok 404 404 404 404 404"),
    // Every member of staff changes their own password (oversight too).
    ("GET",  "/console/password",                    "login ok ok ok ok ok ok"),
    ("POST", "/console/password",                    "login ok ok ok ok ok ok"),
    // Links sent by email: the token is the proof, whoever holds it.
    // (the matrix's token was given to nobody).
    ("GET",  "/reset/{token}",                       "*404"),
    ("POST", "/reset/{token}",                       "*404"),
    ("GET",  "/follow/confirm/{token}",              "*ok"),
    ("POST", "/follow/confirm/{token}",              "*404"),
];

/// Cases where the server answers otherwise today because an issue 11 finding owned by
/// another track is still open: (method, path, role or "anonymous", variant, what it gets
/// today, the finding). Remove a line when its fix is merged.
#[rustfmt::skip]
const KNOWN_OPEN: &[(&str, &str, &str, &str, &str, &str)] = &[
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Got {
    Ok,
    Login,
    Status(u16),
}

impl Got {
    fn parse(cell: &str) -> Got {
        match cell {
            "ok" => Got::Ok,
            "login" => Got::Login,
            n => Got::Status(n.parse().unwrap_or_else(|_| panic!("bad cell {cell:?}"))),
        }
    }

    fn show(self) -> String {
        match self {
            Got::Ok => "ok".into(),
            Got::Login => "login".into(),
            Got::Status(n) => n.to_string(),
        }
    }
}

fn role_name(role: Option<Role>) -> &'static str {
    role.map_or("anonymous", Role::as_str)
}

/// Oversight writes nothing: every method but GET gets 403 before routing, except on the
/// paths of one's own session (signing in and out, language, one's own password).
fn oversight_refused(method: &str, path: &str) -> bool {
    const OWN: [&str; 5] = ["/login", "/logout", "/lang", "/console/password", "/reset/"];
    method != "GET" && !OWN.iter().any(|p| path == *p || path.starts_with(p))
}

/// The expectation of one row for role index `i` and variant `v` (0 or 1).
fn expected(cells: &str, i: usize, v: usize) -> Got {
    let cell = if let Some(all) = cells.strip_prefix('*') {
        all.to_string()
    } else {
        let cells: Vec<&str> = cells.split_whitespace().collect();
        assert_eq!(cells.len(), ROLES.len(), "a cell per role in {cells:?}");
        cells[i].to_string()
    };
    let parts: Vec<&str> = cell.split('|').collect();
    Got::parse(parts[v.min(parts.len() - 1)])
}

fn classify(status: StatusCode, location: Option<&str>) -> Got {
    if status.is_redirection() && location.is_some_and(|l| l.starts_with("/login")) {
        return Got::Login;
    }
    match status.as_u16() {
        200..=399 | 400 | 409 | 413 | 415 | 422 => Got::Ok,
        n => Got::Status(n),
    }
}

/// Real values for the path parameters: one or two variants per path.
struct Fixtures {
    own_code: String,
    other_code: String,
    attached_photo: String,
    orphan_photo: String,
    attached_media: String,
    orphan_media: String,
    unfollow_token: String,
    unfiled_id: i64,
    rule_id: i64,
    template_id: i64,
    user_id: i64,
    apikey_id: i64,
    job_id: i64,
}

impl Fixtures {
    fn concrete(&self, path: &str) -> Vec<String> {
        let (a, b) = if path.contains("{code}") && !path.starts_with("/lang/") {
            (
                path.replace("{code}", &self.own_code),
                path.replace("{code}", &self.other_code),
            )
        } else if path.starts_with("/media/") {
            (
                path.replace("{*key}", &self.attached_media),
                path.replace("{*key}", &self.orphan_media),
            )
        } else if path.contains("{*key}") {
            (
                path.replace("{*key}", &self.attached_photo),
                path.replace("{*key}", &self.orphan_photo),
            )
        } else {
            let id = if path.starts_with("/console/unfiled/") {
                self.unfiled_id
            } else if path.starts_with("/console/admin/rules/") {
                self.rule_id
            } else if path.starts_with("/console/admin/templates/") {
                self.template_id
            } else if path.starts_with("/console/admin/users/") {
                self.user_id
            } else if path.starts_with("/console/admin/apikeys/") {
                self.apikey_id
            } else {
                self.job_id
            };
            let p = path
                .replace("{code}", "en")
                .replace("{*path}", "app.css")
                .replace("{token}", &self.unfollow_token)
                .replace("{id}", &id.to_string())
                .replace(
                    "{file}",
                    &if path == "/open311/v2/{file}" {
                        "requests.json".to_string()
                    } else if path.contains("/requests/") {
                        format!("{}.json", self.own_code)
                    } else if path.contains("/tokens/") {
                        "none.json".to_string()
                    } else if path.starts_with("/open-data/") {
                        "all.csv".to_string()
                    } else {
                        "sidewalk.json".to_string()
                    },
                );
            let p = if p == "/console/hotline/caller" {
                format!("{p}?phone=0900000000")
            } else {
                p
            };
            assert!(
                !p.contains('{'),
                "the matrix has no value for a parameter of {path}: add one in Fixtures::concrete"
            );
            return vec![p];
        };
        vec![a, b]
    }
}

async fn fixtures(t: &TestApp) -> Fixtures {
    let own = t
        .file(json!({"field": "sidewalk", "description": "Lấn chiếm vỉa hè (ma trận)", "ward": "26743"}))
        .await;
    let other = t
        .file(json!({"field": "sidewalk", "description": "Lấn chiếm vỉa hè (đơn vị khác)", "ward": "26740"}))
        .await;
    let upload = |bytes: Vec<u8>| async move {
        let r = t
            .client
            .post(t.url("/api/v1/photos"))
            .header("content-type", "image/jpeg")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["photo"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let attached = upload(phananh_photos::sample::phone_jpeg()).await;
    let orphan = upload(phananh_photos::sample::phone_jpeg()).await;
    let with_photo = t
        .file(json!({"field": "traffic", "description": "Ổ gà có ảnh", "ward": "26740", "photos": [attached]}))
        .await;
    // Voice notes need ffmpeg; without it (a fresh machine) the /media rows are not asked.
    let (attached_media, orphan_media) = if phananh_photos::sample::media::available() {
        let voice = || phananh_photos::sample::media::amr(1);
        let attached_media = t.app().store_media(voice()).await.unwrap().key;
        let orphan_media = t.app().store_media(voice()).await.unwrap().key;
        t.file(json!({"field": "traffic", "description": "Ổ gà có ghi âm", "ward": "26740", "media": [attached_media]}))
            .await;
        (attached_media, orphan_media)
    } else {
        (String::new(), String::new())
    };
    let public: Value = t
        .get(&format!(
            "/api/v1/reports/{}",
            with_photo["code"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    let attached_photo = public["photos"][0]["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/photos/")
        .to_string();
    let store = &t.store();
    // Email links (unfollow, confirm a follow, reset a password) carry their own proof; a
    // token nobody was given must open nothing, for every role alike.
    let unfollow_token = "khong-co-token".to_string();
    let unfiled_id = store
        .unfiled_add(
            &phananh_storage::NewUnfiled {
                channel: "sms".into(),
                sender: "0900000000".into(),
                subject: None,
                body: "không rõ".into(),
                raw: "không rõ".into(),
                reason: "matrix".into(),
            },
            t.clock.now(),
        )
        .await
        .unwrap();
    let rule_id = store
        .add_rule(&phananh_domain::routing::Rule {
            id: 0,
            field: "sidewalk".into(),
            ward: Some("26758".into()),
            unit: "UBND-26758".into(),
            priority: 0,
        })
        .await
        .unwrap();
    let template_id = store
        .save_template(&phananh_domain::templates::Template {
            id: 0,
            field: None,
            action: phananh_domain::procedure::Action::Resolve,
            name: "Ma trận".into(),
            text_vi: "Hồ sơ {code}".into(),
            text_en: String::new(),
            automatic: false,
        })
        .await
        .unwrap();
    let user_id = t
        .app()
        .add_user(
            "matrix-target@example.org",
            "Mục tiêu",
            Role::UnitStaff,
            Some("UBND-26758"),
            "correct horse battery",
        )
        .await
        .unwrap();
    let (apikey_id, _) = t.app().create_api_key("Ma trận", None).await.unwrap();
    store
        .enqueue(&[phananh_storage::NewJob {
            kind: "matrix.noop".into(),
            payload: json!({}),
            dedupe_key: None,
            run_at: t.clock.now(),
            max_attempts: 1,
            report_id: None,
        }])
        .await
        .unwrap();
    // A dead job, which is what an admin may retry.
    let claimed = store
        .claim_jobs("matrix", t.clock.now(), chrono::Duration::minutes(5), 100)
        .await
        .unwrap();
    let job_id = claimed.iter().find(|j| j.kind == "matrix.noop").unwrap().id;
    store
        .fail_job(job_id, "matrix", "matrix", None)
        .await
        .unwrap();
    Fixtures {
        own_code: own["code"].as_str().unwrap().into(),
        other_code: other["code"].as_str().unwrap().into(),
        attached_photo,
        orphan_photo: orphan,
        attached_media,
        orphan_media,
        unfollow_token,
        unfiled_id,
        rule_id,
        template_id,
        user_id,
        apikey_id,
        job_id,
    }
}

async fn ask(
    t: &TestApp,
    who: Option<&StaffClient>,
    method: &str,
    path: &str,
) -> (StatusCode, Option<String>) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = t.client.request(method.clone(), t.url(path));
    if let Some(s) = who {
        req = req
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf);
    }
    if method != Method::GET {
        let csrf = who.map_or("", |s| s.csrf.as_str());
        req = if path.starts_with("/api/v1/staff/") && path.ends_with("/moderation") {
            // A valid step, so that the unit scope and the role are what decide.
            req.json(&json!({"step": "edit_text", "text": "ma trận"}))
        } else if path.starts_with("/console/reports/") && path.ends_with("/moderation") {
            req.form(&[("csrf", csrf), ("step", "edit_text"), ("text", "ma trận")])
        } else if path.starts_with("/api/v1/staff/") {
            // A valid command, so that the unit scope is what decides.
            req.json(&json!({"action": "comment", "text": "ma trận"}))
        } else if path.starts_with("/api/v1/") {
            req.json(&json!({"csrf": csrf}))
        } else if path.starts_with("/console/reports/") {
            let text = "ma trận";
            req.form(&[
                ("csrf", csrf),
                ("action", "comment"),
                ("text", text),
                ("note", text),
            ])
        } else {
            req.form(&[("csrf", csrf)])
        };
    }
    let resp = tokio::time::timeout(std::time::Duration::from_secs(20), req.send())
        .await
        .unwrap_or_else(|_| panic!("{path} does not answer"))
        .unwrap();
    let location = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_string);
    (resp.status(), location)
}

#[tokio::test]
async fn role_route_matrix() {
    let routes: BTreeSet<(&str, &str)> = phananh_web::route_table().into_iter().collect();
    let rows: BTreeMap<(&str, &str), &str> = TABLE.iter().map(|(m, p, c)| ((*m, *p), *c)).collect();
    assert_eq!(rows.len(), TABLE.len(), "a route has two rows in TABLE");
    let missing: Vec<_> = routes.iter().filter(|r| !rows.contains_key(r)).collect();
    let stale: Vec<_> = rows.keys().filter(|r| !routes.contains(r)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes served without a row in the matrix: {missing:?}; rows for routes not served: {stale:?}"
    );
    let known: BTreeMap<(&str, &str, &str, &str), (&str, &str)> = KNOWN_OPEN
        .iter()
        .map(|(m, p, r, v, got, why)| ((*m, *p, *r, *v), (*got, *why)))
        .collect();
    let print = std::env::var("PHANANH_MATRIX_PRINT").is_ok();

    let t = spawn(Options::default()).await;
    let fx = fixtures(&t).await;
    let mut sessions: Vec<Option<StaffClient>> = Vec::new();
    for role in ROLES {
        sessions.push(match role {
            None => None,
            Some(r) if r.needs_unit() => Some(t.staff(r, Some("UBND-26743")).await),
            Some(r) => Some(t.staff(r, None).await),
        });
    }

    // Every served path with every method; /logout last, as it ends the sessions.
    let mut paths: Vec<&str> = routes
        .iter()
        .map(|(_, p)| *p)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    paths.sort_by_key(|p| *p == "/logout");
    let (mut cases, mut unexpected_allows) = (0, 0);
    let mut failures = Vec::new();
    let mut still_open = BTreeSet::new();
    for path in paths {
        if path.starts_with("/media/") && fx.attached_media.is_empty() {
            continue;
        }
        for method in METHODS {
            let row = rows.get(&(method, path)).copied();
            let mut printed = Vec::new();
            for (v, concrete) in fx.concrete(path).iter().enumerate() {
                let variant = if fx.concrete(path).len() == 1 {
                    ""
                } else if v == 0 {
                    "a"
                } else {
                    "b"
                };
                let mut line = Vec::new();
                for (i, role) in ROLES.iter().enumerate() {
                    let (status, location) = ask(&t, sessions[i].as_ref(), method, concrete).await;
                    let got = classify(status, location.as_deref());
                    let want = if *role == Some(Role::Oversight) && oversight_refused(method, path)
                    {
                        // The read-only role is refused every write before routing (finding 8).
                        Got::Status(403)
                    } else {
                        row.map_or(Got::Status(405), |c| expected(c, i, v))
                    };
                    cases += 1;
                    line.push(got.show());
                    let key = (method, path, role_name(*role), variant);
                    match known.get(&key) {
                        Some((today, _)) if got == Got::parse(today) && got != want => {
                            still_open.insert(key);
                            continue;
                        }
                        Some(_) => failures.push(format!(
                            "{method} {concrete} as {}: known-open case now gets {} (want {}): update KNOWN_OPEN",
                            role_name(*role),
                            got.show(),
                            want.show()
                        )),
                        None if got != want => {
                            if got == Got::Ok {
                                unexpected_allows += 1;
                            }
                            failures.push(format!(
                                "{method} {concrete} as {}: got {} ({status}), want {}",
                                role_name(*role),
                                got.show(),
                                want.show()
                            ));
                        }
                        None => {}
                    }
                }
                printed.push(line);
            }
            if print && row.is_some() {
                let cells: Vec<String> = (0..ROLES.len())
                    .map(|i| {
                        let c: Vec<&str> = printed.iter().map(|l| l[i].as_str()).collect();
                        if c.len() == 2 && c[0] != c[1] {
                            format!("{}|{}", c[0], c[1])
                        } else {
                            c[0].to_string()
                        }
                    })
                    .collect();
                println!("    ({method:?}, {path:?}, \"{}\"),", cells.join(" "));
            }
        }
    }
    eprintln!(
        "role × route matrix: {} routes, {cases} cases, {unexpected_allows} unexpected allows, {} other mismatches, {} known-open",
        routes.len(),
        failures.len() - unexpected_allows,
        still_open.len()
    );
    for (m, p, r, v) in &still_open {
        let (_, why) = known[&(*m, *p, *r, *v)];
        eprintln!("  known open: {m} {p} {v} as {r}: {why}");
    }
    assert!(
        failures.is_empty(),
        "{} cases differ from the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
    t.stop().await;
}
