//! The storage contract, one suite for every backend: SQLite always, PostgreSQL when
//! `PHANANH_TEST_POSTGRES_URL` is set (each test gets a schema of its own there).

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use phananh_domain::event::EventKind;
use phananh_domain::model::{Actor, Channel, Reporter, Status};
use phananh_domain::procedure::State;
use phananh_domain::profile::{CalendarDays, City, Field, Profile, Unit, UnitKind, Ward};
use phananh_domain::routing::Rule;
use phananh_storage::{NewJob, NewReport, ReportFilter, Store, StoreError};

struct TestDb {
    name: &'static str,
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    TestDb {
        name: "sqlite",
        store: Store::open(path.to_str().unwrap()).await.unwrap(),
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<TestDb> {
    let url = std::env::var("PHANANH_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let schema = format!("t_{}", hex_id());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url)
        .await
        .expect("PostgreSQL test server reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    Some(TestDb {
        name: "postgres",
        store: Store::open(&url).await.unwrap(),
        _dir: None,
    })
}

fn hex_id() -> String {
    format!("{:016x}", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

async fn all() -> Vec<TestDb> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}

fn t(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

fn profile() -> Profile {
    let square = |x: f64, x1: f64| serde_json::json!({"type": "MultiPolygon", "coordinates": [[[[x, 10.0], [x1, 10.0], [x1, 10.1], [x, 10.1], [x, 10.0]]]]});
    let unit = |code: &str, kind| Unit {
        code: code.into(),
        name_vi: format!("Đơn vị {code}"),
        name_en: format!("Unit {code}"),
        kind,
        parent: None,
        ward: None,
        email: None,
        phone: None,
        sample: true,
        webhook_url: None,
        forward_open311: None,
        forward_email: None,
        duty_phone: (code == "ROADS").then(|| "0901000111".into()),
        duty_email: None,
    };
    Profile {
        format: phananh_domain::profile::FORMAT.into(),
        city: City {
            code: "99".into(),
            name_vi: "Thành phố Thử".into(),
            name_en: "Test City".into(),
            timezone: "Asia/Ho_Chi_Minh".into(),
            center: [10.05, 106.05],
            bbox: [106.0, 10.0, 106.2, 10.1],
        },
        attribution: Some("test".into()),
        wards: vec![
            Ward {
                code: "00001".into(),
                name_vi: "Phường Một".into(),
                name_en: "Mot Ward".into(),
                short_vi: "Một".into(),
                old_names: vec!["Phường 1 cũ".into()],
                geometry: square(106.0, 106.1),
            },
            Ward {
                code: "00002".into(),
                name_vi: "Phường Hai".into(),
                name_en: "Hai Ward".into(),
                short_vi: "Hai".into(),
                old_names: vec![],
                geometry: square(106.1, 106.2),
            },
        ],
        units: vec![
            unit("TRIAGE", UnitKind::Triage),
            unit("ROADS", UnitKind::Department),
            unit("WATER", UnitKind::Company),
        ],
        fields: vec![Field {
            code: "traffic".into(),
            name_vi: "Giao thông".into(),
            name_en: "Traffic".into(),
            icon: "🚦".into(),
            ack_hours: 8,
            resolve_days: 5,
            keywords: vec!["o ga".into()],
            attributes: vec![],
            review: false,
            urgent: false,
            urgent_hours: 3,
            urgent_keywords: vec!["cây đổ".into()],
            duplicate_radius_m: 300,
        }],
        rules: vec![Rule {
            id: 0,
            field: "traffic".into(),
            ward: None,
            unit: "ROADS".into(),
            priority: 0,
        }],
        calendar: CalendarDays {
            extra_days_off: BTreeSet::from([chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()]),
            makeup_working_days: BTreeSet::new(),
        },
    }
}

fn new_report(unit: &str, at: DateTime<Utc>, key: Option<&str>) -> NewReport {
    NewReport {
        field: "traffic".into(),
        description: "Ổ gà lớn trước số 12".into(),
        lat: Some(10.05),
        lon: Some(106.05),
        address: Some("12 Lê Lợi".into()),
        ward: Some("00001".into()),
        channel: Channel::Web,
        status: Status::Assigned,
        unit: unit.into(),
        due_at: Some(at + Duration::days(7)),
        created_at: at,
        publication: Default::default(),
        urgent: false,
        events: vec![
            (
                Actor::citizen(),
                EventKind::Created {
                    field: "traffic".into(),
                    channel: Channel::Web,
                    ward: Some("00001".into()),
                    unit: "TRIAGE".into(),
                    review: false,
                },
            ),
            (
                Actor::system(),
                EventKind::Assigned {
                    unit: unit.into(),
                    assignee: None,
                    due_at: Some(at + Duration::days(7)),
                    reason: None,
                },
            ),
        ],
        reporter: Some(Reporter {
            name: Some("Nguyễn Văn A".into()),
            phone: Some("0912345678".into()),
            email: None,
            channel_identity: None,
            consent: true,
        }),
        jobs: vec![NewJob {
            dedupe_key: Some("notify:{report}".into()),
            ..NewJob::new("test.job", serde_json::json!({}), at)
        }],
        idempotency: key.map(|k| (k.to_string(), "hash-a".to_string())),
        extra: Default::default(),
        photos: vec!["p/2026/03/0123456789abcdef0123456789abcdef.jpg".into()],
        media: Vec::new(),
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_schemas_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twice.db");
    let a = Store::open(path.to_str().unwrap()).await.unwrap();
    a.close().await;
    let b = Store::open(path.to_str().unwrap()).await.unwrap();
    let sqlite_cols = b.schema_columns().await.unwrap();
    assert!(
        sqlite_cols
            .iter()
            .any(|(t, c)| t == "reports" && c == "due_at")
    );
    if let Some(pg) = postgres().await {
        let pg_cols = pg.store.schema_columns().await.unwrap();
        let s: BTreeSet<_> = sqlite_cols.into_iter().collect();
        let p: BTreeSet<_> = pg_cols.into_iter().collect();
        assert_eq!(s, p, "SQLite and PostgreSQL schemas drifted apart");
    }
}

#[tokio::test]
async fn profile_round_trips() {
    for db in all().await {
        let s = &db.store;
        assert!(s.export_profile().await.unwrap().is_none(), "{}", db.name);
        let v0 = s.profile_version().await.unwrap();
        let p = profile();
        s.import_profile(&p).await.unwrap();
        let back = s.export_profile().await.unwrap().unwrap();
        assert_eq!(back.wards, p.wards, "{}", db.name);
        assert_eq!(back.fields, p.fields);
        assert_eq!(back.calendar, p.calendar);
        assert_eq!(back.units.len(), 3);
        let roads = back.units.iter().find(|u| u.code == "ROADS").unwrap();
        assert_eq!(
            roads.duty_phone.as_deref(),
            Some("0901000111"),
            "{}",
            db.name
        );
        assert_eq!(back.rules.len(), 1);
        assert!(s.profile_version().await.unwrap() > v0);
        // Importing again replaces, it does not add, and keeps every unit and field active.
        s.import_profile(&p).await.unwrap();
        assert_eq!(s.rules().await.unwrap().len(), 1);
        assert_eq!(s.units().await.unwrap().len(), 3, "{}", db.name);
        assert_eq!(s.fields().await.unwrap().len(), 1);
        // A unit left out of a new profile is kept for old reports but no longer listed.
        let mut smaller = p.clone();
        smaller.units.retain(|u| u.code != "WATER");
        s.import_profile(&smaller).await.unwrap();
        assert_eq!(s.units().await.unwrap().len(), 2);
        let id = s
            .add_rule(&Rule {
                id: 0,
                field: "traffic".into(),
                ward: Some("00002".into()),
                unit: "WATER".into(),
                priority: 1,
            })
            .await
            .unwrap();
        assert_eq!(s.rules().await.unwrap().len(), 2);
        s.delete_rule(id).await.unwrap();
        assert!(matches!(s.delete_rule(id).await, Err(StoreError::NotFound)));
    }
}

#[tokio::test]
async fn a_filed_report_has_its_history_reporter_and_jobs() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let at = t(2026, 3, 2, 2);
        let c = s.submit(new_report("ROADS", at, None)).await.unwrap();
        assert!(!c.replayed);
        let r = s.report_by_code(&c.code).await.unwrap().unwrap();
        assert_eq!(r.id, c.id);
        assert_eq!(r.status, Status::Assigned);
        assert_eq!(r.last_seq, 2);
        assert_eq!(r.created_at, at);
        let events = s.events(r.id).await.unwrap();
        assert_eq!(events.len(), 2, "{}", db.name);
        let state = State::fold(&events).unwrap();
        assert_eq!(
            (state.status, state.unit.as_str(), state.due_at),
            (r.status, r.unit.as_str(), r.due_at)
        );
        let p = s.reporter(r.id).await.unwrap().unwrap();
        assert_eq!(p.phone.as_deref(), Some("0912345678"));
        assert_eq!(s.photo_keys(r.id).await.unwrap().len(), 1);
        let jobs = s.jobs_for_report(r.id).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].payload["code"], c.code.as_str());
        let found = s
            .reports_by_contact(Some("0912345678"), None, 10)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
    }
}

/// A report without a map point and then one with a point, one after the other on the
/// same connection: on PostgreSQL the second must not reuse a statement prepared with the
/// first's NULL bound as another float type (sqlx's `Any` binds a NULL `f64` as `float4`).
#[tokio::test]
async fn reports_with_and_without_a_point_alternate() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let at = t(2026, 3, 2, 2);
        for i in 0..6 {
            let mut r = new_report("ROADS", at, None);
            if i % 2 == 0 {
                (r.lat, r.lon) = (None, None);
            }
            let c = s
                .submit(r)
                .await
                .unwrap_or_else(|e| panic!("{} report {i}: {e}", db.name));
            let r = s.report_by_code(&c.code).await.unwrap().unwrap();
            assert_eq!(r.lat.is_some(), i % 2 == 1, "{}", db.name);
        }
    }
}

#[tokio::test]
async fn video_and_voice_notes_are_private_until_a_report_uses_them() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let at = t(2026, 3, 2, 2);
        let new = |key: &str, poster: Option<&str>| phananh_storage::NewMedia {
            key: key.into(),
            kind: if poster.is_some() { "video" } else { "audio" }.into(),
            content_type: "video/mp4".into(),
            poster_key: poster.map(String::from),
            size_bytes: 1234,
            duration_ms: 5000,
        };
        s.record_media(&new("m/v.mp4", Some("m/v.poster.jpg")), at)
            .await
            .unwrap();
        s.record_media(&new("m/a.ogg", None), at).await.unwrap();
        s.record_media(&new("m/old.ogg", None), at - Duration::days(2))
            .await
            .unwrap();
        let row = s.media_by_key("m/v.poster.jpg").await.unwrap().unwrap();
        assert_eq!(row.key, "m/v.mp4", "{}", db.name);
        assert_eq!(row.report_id, None);
        assert_eq!((row.size_bytes, row.duration_ms), (1234, 5000));
        let mut report = new_report("ROADS", at, None);
        report.media = vec!["m/v.mp4".into(), "m/a.ogg".into()];
        let c = s.submit(report).await.unwrap();
        let listed = s.report_media(c.id).await.unwrap();
        assert_eq!(listed.len(), 2, "{}", db.name);
        assert!(listed.iter().all(|m| m.report_id == Some(c.id)));
        // Another report cannot take a file a report already has.
        let mut other = new_report("ROADS", at, None);
        other.media = vec!["m/a.ogg".into()];
        let c2 = s.submit(other).await.unwrap();
        assert!(s.report_media(c2.id).await.unwrap().is_empty());
        // Only the unused, old one is stale; forgetting never touches a used one.
        let stale = s.stale_media(at - Duration::days(1), 10).await.unwrap();
        assert_eq!(stale.len(), 1, "{}", db.name);
        assert_eq!(stale[0].key, "m/old.ogg");
        s.forget_media("m/old.ogg").await.unwrap();
        s.forget_media("m/v.mp4").await.unwrap();
        assert!(s.media_by_key("m/old.ogg").await.unwrap().is_none());
        assert!(s.media_by_key("m/v.mp4").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn idempotency_keys_file_once_even_when_concurrent() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let at = t(2026, 3, 2, 2);
        let mut handles = Vec::new();
        for _ in 0..20 {
            let s = s.clone();
            handles.push(tokio::spawn(async move {
                s.submit(new_report("ROADS", at, Some("k-1"))).await
            }));
        }
        let mut codes = HashSet::new();
        let mut fresh = 0;
        for h in handles {
            let c = h.await.unwrap().unwrap();
            codes.insert(c.code);
            if !c.replayed {
                fresh += 1;
            }
        }
        assert_eq!(codes.len(), 1, "{}", db.name);
        assert_eq!(fresh, 1);
        let mut other = new_report("ROADS", at, Some("k-1"));
        other.idempotency = Some(("k-1".into(), "hash-b".into()));
        assert!(matches!(
            s.submit(other).await,
            Err(StoreError::IdempotencyMismatch)
        ));
        let page = s
            .list_reports(&ReportFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
    }
}

#[tokio::test]
async fn concurrent_submissions_share_commits_and_all_land() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let at = t(2026, 3, 2, 2);
        let mut handles = Vec::new();
        for i in 0..300 {
            let s = s.clone();
            handles.push(tokio::spawn(async move {
                let mut r = new_report(if i % 2 == 0 { "ROADS" } else { "WATER" }, at, None);
                r.description = format!("report {i}");
                s.submit(r).await
            }));
        }
        let mut codes = HashSet::new();
        for h in handles {
            codes.insert(h.await.unwrap().unwrap().code);
        }
        assert_eq!(codes.len(), 300, "{}", db.name);
        let mut total = 0;
        let mut offset = 0;
        loop {
            let page = s
                .list_reports(&ReportFilter {
                    limit: 100,
                    offset,
                    ..Default::default()
                })
                .await
                .unwrap();
            total += page.items.len();
            offset += 100;
            if !page.has_more {
                break;
            }
        }
        assert_eq!(total, 300);
        let roads = s
            .list_reports(&ReportFilter {
                unit: Some("ROADS".into()),
                limit: 500,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(roads.items.len(), 150);
    }
}

#[tokio::test]
async fn appending_checks_the_sequence() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let at = t(2026, 3, 2, 2);
        let c = s.submit(new_report("ROADS", at, None)).await.unwrap();
        let r = s.report(c.id).await.unwrap().unwrap();
        let mut state = State::fold(&s.events(r.id).await.unwrap()).unwrap();
        state.apply(&EventKind::Started, at);
        let seq = s
            .append_event(
                r.id,
                2,
                at,
                &Actor::staff(1, "A"),
                &EventKind::Started,
                &state,
                &[],
            )
            .await
            .unwrap();
        assert_eq!(seq, 3);
        // A second writer that read the old sequence loses.
        let stale = s
            .append_event(
                r.id,
                2,
                at,
                &Actor::staff(2, "B"),
                &EventKind::Started,
                &state,
                &[],
            )
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{}", db.name);
        let r = s.report(c.id).await.unwrap().unwrap();
        assert_eq!(r.status, Status::InProgress);
        assert_eq!(r.last_seq, 3);
        assert_eq!(s.events(r.id).await.unwrap().len(), 3);
    }
}

/// Urgent reports lead a staff queue, newest first among them, then the rest; marking one
/// urgent later moves it up.
#[tokio::test]
async fn urgent_reports_lead_the_queue() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let old = s
            .submit(new_report("ROADS", t(2026, 3, 2, 1), None))
            .await
            .unwrap();
        let mut urgent = new_report("ROADS", t(2026, 3, 2, 2), None);
        urgent.urgent = true;
        let urgent = s.submit(urgent).await.unwrap();
        let new = s
            .submit(new_report("ROADS", t(2026, 3, 2, 3), None))
            .await
            .unwrap();
        let list = |urgent_first| async move {
            s.list_reports(&ReportFilter {
                unit: Some("ROADS".into()),
                urgent_first,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|r| (r.code, r.urgent))
            .collect::<Vec<_>>()
        };
        assert_eq!(
            list(true).await,
            [
                (urgent.code.clone(), true),
                (new.code.clone(), false),
                (old.code.clone(), false)
            ],
            "{}",
            db.name
        );
        assert_eq!(list(false).await[0].0, new.code);
        // Marked urgent later: the flag follows the state.
        let r = s.report(old.id).await.unwrap().unwrap();
        let mut state = State::fold(&s.events(r.id).await.unwrap()).unwrap();
        let marked = EventKind::MarkedUrgent {
            reason: "cây đổ".into(),
            due_at: Some(t(2026, 3, 2, 5)),
        };
        state.apply(&marked, t(2026, 3, 2, 4));
        s.append_event(
            r.id,
            r.last_seq,
            t(2026, 3, 2, 4),
            &Actor::system(),
            &marked,
            &state,
            &[],
        )
        .await
        .unwrap();
        let first_two: Vec<String> = list(true)
            .await
            .into_iter()
            .take(2)
            .map(|(c, _)| c)
            .collect();
        // Both urgent now: the newer first among them, the routine one after.
        assert_eq!(
            first_two,
            [urgent.code.clone(), old.code.clone()],
            "{}",
            db.name
        );
        assert_eq!(
            s.report(old.id).await.unwrap().unwrap().due_at,
            Some(t(2026, 3, 2, 5))
        );
    }
}

#[tokio::test]
async fn filters_narrow_the_list() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let at = t(2026, 3, 2, 2);
        s.submit(new_report("ROADS", at, None)).await.unwrap();
        let mut late = new_report("WATER", at, None);
        late.due_at = Some(at + Duration::days(1));
        late.ward = Some("00002".into());
        late.lat = Some(10.05);
        late.lon = Some(106.15);
        s.submit(late).await.unwrap();
        let f = |f: ReportFilter| async move {
            s.list_reports(&ReportFilter { limit: 10, ..f })
                .await
                .unwrap()
                .items
                .len()
        };
        assert_eq!(f(ReportFilter::default()).await, 2, "{}", db.name);
        assert_eq!(
            f(ReportFilter {
                ward: Some("00002".into()),
                ..Default::default()
            })
            .await,
            1
        );
        assert_eq!(
            f(ReportFilter {
                field: Some("other".into()),
                ..Default::default()
            })
            .await,
            0
        );
        assert_eq!(
            f(ReportFilter {
                statuses: vec![Status::New],
                ..Default::default()
            })
            .await,
            0
        );
        assert_eq!(
            f(ReportFilter {
                overdue_at: Some(at + Duration::days(2)),
                ..Default::default()
            })
            .await,
            1
        );
        assert_eq!(
            f(ReportFilter {
                bbox: Some([106.1, 10.0, 106.2, 10.1]),
                ..Default::default()
            })
            .await,
            1
        );
        // A small box goes through the spatial index (R*Tree, GiST): the same answers.
        let all = f(ReportFilter::default()).await;
        assert_eq!(
            f(ReportFilter {
                bbox: Some([106.046, 10.046, 106.054, 10.054]),
                ..Default::default()
            })
            .await,
            all - 1,
            "{}",
            db.name
        );
        assert_eq!(
            f(ReportFilter {
                bbox: Some([106.056, 10.046, 106.064, 10.054]),
                ..Default::default()
            })
            .await,
            0
        );
        assert_eq!(
            f(ReportFilter {
                created_from: Some(at + Duration::hours(1)),
                ..Default::default()
            })
            .await,
            0
        );
    }
}

#[tokio::test]
async fn jobs_are_claimed_once_retried_and_dead_lettered() {
    for db in all().await {
        let s = &db.store;
        let now = t(2026, 3, 2, 2);
        let mut jobs: Vec<NewJob> = (0..40)
            .map(|i| NewJob::new("k", serde_json::json!({ "i": i }), now))
            .collect();
        jobs.push(NewJob {
            dedupe_key: Some("same".into()),
            ..NewJob::new("k", serde_json::json!({}), now)
        });
        jobs.push(NewJob {
            dedupe_key: Some("same".into()),
            ..NewJob::new("k", serde_json::json!({}), now)
        });
        s.enqueue(&jobs).await.unwrap();
        // Two workers claiming at once never get the same job.
        let (a, b) = tokio::join!(
            s.claim_jobs("w1", now, Duration::seconds(60), 30),
            s.claim_jobs("w2", now, Duration::seconds(60), 30)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let ids_a: HashSet<i64> = a.iter().map(|j| j.id).collect();
        let ids_b: HashSet<i64> = b.iter().map(|j| j.id).collect();
        assert!(ids_a.is_disjoint(&ids_b), "{}", db.name);
        assert_eq!(
            ids_a.len() + ids_b.len(),
            41,
            "the dedupe key made two jobs one"
        );
        // Leased jobs are not claimed again until the lease runs out.
        assert!(
            s.claim_jobs("w3", now, Duration::seconds(60), 100)
                .await
                .unwrap()
                .is_empty()
        );
        let job = &a[0];
        s.complete_job(job.id, "w1").await.unwrap();
        let retry = &a[1];
        s.fail_job(retry.id, "w1", "boom", Some(now + Duration::seconds(30)))
            .await
            .unwrap();
        let dead = &a[2];
        s.fail_job(dead.id, "w1", "fatal", None).await.unwrap();
        // After the lease, w2's unfinished jobs and the retry come back to another worker.
        let later = now + Duration::seconds(61);
        let again = s
            .claim_jobs("w3", later, Duration::seconds(60), 100)
            .await
            .unwrap();
        let again_ids: HashSet<i64> = again.iter().map(|j| j.id).collect();
        assert!(again_ids.contains(&retry.id));
        assert!(!again_ids.contains(&job.id));
        assert!(!again_ids.contains(&dead.id));
        assert_eq!(again.iter().find(|j| j.id == retry.id).unwrap().attempts, 2);
        let dead_list = s
            .jobs(Some(phananh_storage::JobStatus::Dead), 10)
            .await
            .unwrap();
        assert_eq!(dead_list.len(), 1);
        assert_eq!(dead_list[0].last_error.as_deref(), Some("fatal"));
        s.retry_job(dead.id, later).await.unwrap();
        assert!(
            s.jobs(Some(phananh_storage::JobStatus::Dead), 10)
                .await
                .unwrap()
                .is_empty()
        );
        // Completing with a lease someone else now holds changes nothing.
        s.complete_job(retry.id, "w1").await.unwrap();
        assert_eq!(
            s.jobs(Some(phananh_storage::JobStatus::Done), 100)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn users_and_sessions() {
    for db in all().await {
        let s = &db.store;
        let id = s
            .create_user(
                "A@Example.org",
                "A",
                phananh_domain::access::Role::UnitStaff,
                Some("ROADS"),
                "hash",
            )
            .await
            .unwrap();
        assert!(matches!(
            s.create_user(
                "a@example.org",
                "B",
                phananh_domain::access::Role::Admin,
                None,
                "h"
            )
            .await,
            Err(StoreError::Conflict(_))
        ));
        let u = s.user_by_email("a@example.org").await.unwrap().unwrap();
        assert_eq!(u.id, id);
        let now = t(2026, 3, 2, 2);
        s.create_session("th", id, "csrf", "vi", now + Duration::hours(1))
            .await
            .unwrap();
        assert!(s.session("th", now).await.unwrap().is_some(), "{}", db.name);
        assert!(
            s.session("th", now + Duration::hours(2))
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        s.update_user(
            id,
            phananh_domain::access::Role::UnitStaff,
            Some("ROADS"),
            false,
        )
        .await
        .unwrap();
        assert!(
            s.session("th", now).await.unwrap().is_none(),
            "a disabled user has no session"
        );
    }
}

/// Applies `kind` to a report through `append_event`, as the app does.
async fn step(s: &phananh_storage::Store, id: i64, at: DateTime<Utc>, kind: EventKind) {
    let r = s.report(id).await.unwrap().unwrap();
    let mut state = State::fold(&s.events(id).await.unwrap()).unwrap();
    state.apply(&kind, at);
    s.append_event(
        id,
        r.last_seq,
        at,
        &Actor::staff(1, "A"),
        &kind,
        &state,
        &[],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn statistics_counts_agree_with_the_reports() {
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        // Reports over three weeks, filed late at night UTC (the next local day).
        let mut ids = Vec::new();
        for i in 0..21u32 {
            let at = t(2026, 3, 2 + i, 20);
            let unit = if i % 3 == 0 { "WATER" } else { "ROADS" };
            let mut r = new_report(unit, at, None);
            if i % 4 == 0 {
                r.ward = None;
            }
            ids.push((s.submit(r).await.unwrap().id, at));
        }
        let (from, to) = (t(2026, 3, 1, 0), t(2026, 4, 1, 0));
        let before = s.stats(from, to).await.unwrap();
        assert_eq!(
            before,
            s.stats_from_reports(from, to).await.unwrap(),
            "{}",
            db.name
        );
        assert_eq!(before.total, 21);
        // Some are started, some resolved on time or late, one moved, one rejected.
        for (n, (id, at)) in ids.iter().enumerate() {
            match n % 5 {
                0 => step(s, *id, *at + Duration::hours(1), EventKind::Started).await,
                1 => {
                    let kind = EventKind::Resolved {
                        note: "xong".into(),
                        photo: None,
                        distance_m: None,
                    };
                    step(s, *id, *at + Duration::days(1), kind).await
                }
                2 => {
                    let kind = EventKind::Resolved {
                        note: "muộn".into(),
                        photo: None,
                        distance_m: None,
                    };
                    step(s, *id, *at + Duration::days(30), kind).await
                }
                3 => {
                    let kind = EventKind::Transferred {
                        from: "ROADS".into(),
                        to: "WATER".into(),
                        reason: "nước".into(),
                        due_at: Some(*at + Duration::days(9)),
                    };
                    step(s, *id, *at + Duration::hours(2), kind).await
                }
                _ => {
                    step(
                        s,
                        *id,
                        *at,
                        EventKind::Rejected {
                            reason: "trùng".into(),
                        },
                    )
                    .await
                }
            }
        }
        let after = s.stats(from, to).await.unwrap();
        assert_eq!(
            after,
            s.stats_from_reports(from, to).await.unwrap(),
            "{}",
            db.name
        );
        assert_eq!(
            after.total,
            21 - 4,
            "rejected reports are left out ({})",
            db.name
        );
        assert_eq!(after.finished, 8, "{}", db.name);
        assert_eq!(after.finished_on_time, 4, "{}", db.name);
        let weeks: i64 = after.by_week.iter().map(|(_, n)| n).sum();
        assert_eq!(weeks, after.total);
        // Two open reports merged into a third: the problem counts once; the duplicates'
        // reporters follow the original and their photos are listed with it. Undoing one
        // merge puts it back, in the counts and the links.
        let original = s.report(ids[5].0).await.unwrap().unwrap();
        for (n, id) in [ids[0].0, ids[3].0].into_iter().enumerate() {
            let kind = EventKind::MarkedDuplicate {
                of: original.code.clone(),
            };
            step(s, id, ids[7].1 + Duration::hours(n as i64), kind).await;
            let r = s.report(id).await.unwrap().unwrap();
            assert_eq!(r.status, Status::Duplicate);
            assert_eq!(r.duplicate_of.as_deref(), Some(original.code.as_str()));
        }
        let merged = s.stats(from, to).await.unwrap();
        assert_eq!(
            merged,
            s.stats_from_reports(from, to).await.unwrap(),
            "{}",
            db.name
        );
        assert_eq!(merged.total, after.total - 2, "{}", db.name);
        let followers = s.followers(original.id).await.unwrap();
        assert_eq!(
            followers
                .iter()
                .filter_map(|f| f.duplicate_id)
                .collect::<Vec<_>>(),
            vec![ids[0].0, ids[3].0]
        );
        assert!(
            followers
                .iter()
                .all(|f| f.email.is_none() && f.phone.is_none())
        );
        assert_eq!(s.follower_count(original.id).await.unwrap(), 2);
        assert_eq!(s.linked_photo_keys(original.id).await.unwrap().len(), 2);
        assert_eq!(s.public_photo_keys(original.id).await.unwrap().len(), 3);
        assert_eq!(s.photo_keys(original.id).await.unwrap().len(), 1);
        assert_eq!(
            s.duplicates_of(&original.code)
                .await
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>(),
            vec![ids[0].0, ids[3].0]
        );
        let kind = EventKind::DuplicateUndone {
            of: original.code.clone(),
            status: Status::InProgress,
        };
        step(s, ids[0].0, ids[7].1 + Duration::hours(3), kind).await;
        let back = s.report(ids[0].0).await.unwrap().unwrap();
        assert_eq!((back.status, back.duplicate_of), (Status::InProgress, None));
        let undone = s.stats(from, to).await.unwrap();
        assert_eq!(
            undone,
            s.stats_from_reports(from, to).await.unwrap(),
            "{}",
            db.name
        );
        assert_eq!(undone.total, after.total - 1, "{}", db.name);
        let followers = s.followers(original.id).await.unwrap();
        assert_eq!(
            followers
                .iter()
                .filter_map(|f| f.duplicate_id)
                .collect::<Vec<_>>(),
            vec![ids[3].0]
        );
        assert_eq!(s.linked_photo_keys(original.id).await.unwrap().len(), 1);
        assert_eq!(s.duplicates_of(&original.code).await.unwrap().len(), 1);
        // The original's history tells both merges and the undo; its state is untouched.
        let history = s.events(original.id).await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|e| e.kind.type_name()).collect();
        assert!(
            kinds.ends_with(&["duplicate_linked", "duplicate_linked", "duplicate_unlinked"]),
            "{kinds:?}"
        );
        let now = s.report(original.id).await.unwrap().unwrap();
        assert_eq!(now.last_seq, history.len() as i64);
        assert_eq!(
            (now.status, now.updated_at),
            (original.status, original.updated_at)
        );
        assert_eq!(
            State::fold(&history).unwrap(),
            State::fold(&history[..history.len() - 3]).unwrap()
        );
        // A narrower window counts whole local days: 2026-03-02 20:00 UTC is March 3rd in the city.
        let one = s.stats(t(2026, 3, 2, 17), t(2026, 3, 3, 17)).await.unwrap();
        assert_eq!(one.total, 1, "{}", db.name);
        assert_eq!(
            one,
            s.stats_from_reports(t(2026, 3, 2, 17), t(2026, 3, 3, 17))
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn followers_confirm_once_renew_and_leave() {
    use phananh_storage::FollowOutcome;
    for db in all().await {
        let s = &db.store;
        s.import_profile(&profile()).await.unwrap();
        let at = t(2026, 3, 2, 2);
        let day_before = at - chrono::Duration::hours(48);
        // The report's code, for the `follow.confirm` job.
        let job = || "ABCD-2345";
        let id = s.submit(new_report("ROADS", at, None)).await.unwrap().id;
        let a = s
            .follow(
                id,
                Some("a@example.vn"),
                "tok-a",
                "conf-a",
                at,
                day_before,
                job(),
            )
            .await
            .unwrap();
        let FollowOutcome::ConfirmationSent { follower_id } = a else {
            panic!("{a:?}")
        };
        assert_eq!(
            s.follower_to_confirm(follower_id).await.unwrap(),
            Some((id, "a@example.vn".into(), "conf-a".into()))
        );
        s.follow(id, None, "tok-anon", "conf-anon", at, day_before, job())
            .await
            .unwrap();
        // Unconfirmed: not a follower yet, and asking again sends nothing more.
        assert_eq!(s.follower_count(id).await.unwrap(), 1, "{}", db.name);
        assert!(
            s.followers(id)
                .await
                .unwrap()
                .iter()
                .all(|f| f.email.is_none())
        );
        let again = s
            .follow(
                id,
                Some("a@example.vn"),
                "tok-a2",
                "conf-a2",
                at,
                day_before,
                job(),
            )
            .await
            .unwrap();
        assert_eq!(again, FollowOutcome::NothingSent, "{}", db.name);
        // The link works once, and only before it expires.
        assert_eq!(s.confirm_follow("conf-a", at, at).await.unwrap(), Some(id));
        assert_eq!(
            s.confirm_follow("conf-a", at, day_before).await.unwrap(),
            None
        );
        assert_eq!(s.follower_count(id).await.unwrap(), 2, "{}", db.name);
        assert_eq!(s.unfollow("tok-a", at).await.unwrap(), Some(id));
        assert_eq!(s.unfollow("nope", at).await.unwrap(), None);
        let left = s.followers(id).await.unwrap();
        assert_eq!(left.len(), 1, "{}", db.name);
        assert_eq!(left[0].email, None);
        // Following again after leaving needs a new confirmation.
        let renewed = s
            .follow(
                id,
                Some("a@example.vn"),
                "tok-a3",
                "conf-a3",
                at,
                day_before,
                job(),
            )
            .await
            .unwrap();
        assert!(matches!(renewed, FollowOutcome::ConfirmationSent { .. }));
        assert_eq!(s.follower_count(id).await.unwrap(), 1, "{}", db.name);
        let later = at + chrono::Duration::hours(49);
        assert_eq!(
            s.confirm_follow("conf-a3", later, later - chrono::Duration::hours(48))
                .await
                .unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            s.purge_unconfirmed_followers(later - chrono::Duration::hours(48))
                .await
                .unwrap(),
            1
        );
    }
}

#[tokio::test]
async fn the_zalo_token_chain_rotates_in_one_transaction_under_a_lease() {
    for db in all().await {
        let s = &db.store;
        let now = t(2026, 3, 2, 2);
        assert!(s.zalo_token().await.unwrap().is_none(), "{}", db.name);
        assert!(s.zalo_token_seed("RT0", now).await.unwrap());
        assert!(
            !s.zalo_token_seed("RT-other", now).await.unwrap(),
            "seeded once"
        );
        let first = s.zalo_token().await.unwrap().unwrap();
        assert_eq!(
            (first.refresh_token.as_str(), first.access_token.as_str()),
            ("RT0", "")
        );
        // One holder at a time; an expired lease can be taken over.
        let until = now + chrono::Duration::seconds(30);
        assert!(s.zalo_token_lease(first.id, "a", until, now).await.unwrap());
        assert!(!s.zalo_token_lease(first.id, "b", until, now).await.unwrap());
        let later = until + chrono::Duration::seconds(1);
        assert!(
            s.zalo_token_lease(first.id, "b", later + chrono::Duration::seconds(30), later)
                .await
                .unwrap()
        );
        s.zalo_token_release(first.id, "a").await.unwrap();
        assert_eq!(
            s.zalo_token()
                .await
                .unwrap()
                .unwrap()
                .refreshing_by
                .as_deref(),
            Some("b"),
            "only the holder releases"
        );
        // The rotation: the old pair used, the new one current, the lease gone.
        let expires = now + chrono::Duration::hours(25);
        let id = s
            .zalo_token_rotate(first.id, "AT1", "RT1", expires, later)
            .await
            .unwrap();
        let current = s.zalo_token().await.unwrap().unwrap();
        assert_eq!(current.id, id);
        assert_eq!(
            (
                current.access_token.as_str(),
                current.refresh_token.as_str()
            ),
            ("AT1", "RT1")
        );
        assert_eq!(current.access_expires_at, expires);
        assert!(current.refreshing_by.is_none());
        assert!(
            !s.zalo_token_lease(first.id, "c", later, later)
                .await
                .unwrap(),
            "a used pair is never refreshed again"
        );
        // An operator's new authorisation replaces the chain.
        s.zalo_token_replace("RT-NEW", later).await.unwrap();
        let replaced = s.zalo_token().await.unwrap().unwrap();
        assert_eq!(
            (replaced.refresh_token.as_str(), replaced.source.as_str()),
            ("RT-NEW", "operator")
        );
        // What Zalo's reply quota counts: messages sent after a moment.
        for (i, at) in [now, later, later + chrono::Duration::seconds(5)]
            .into_iter()
            .enumerate()
        {
            s.chat_log_outbound("zalo", "U1", &format!("m{i}"), at)
                .await
                .unwrap();
        }
        assert_eq!(
            s.chat_outbound_since("zalo", "U1", now).await.unwrap(),
            2,
            "{}",
            db.name
        );
        assert_eq!(s.chat_outbound_since("viber", "U1", now).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn templates_are_saved_listed_by_field_and_deleted() {
    use phananh_domain::procedure::Action;
    use phananh_domain::templates::Template;
    for db in all().await {
        let s = &db.store;
        let any = Template {
            id: 0,
            field: None,
            action: Action::Resolve,
            name: "Đã xử lý".into(),
            text_vi: "Hồ sơ {code} đã được {unit} xử lý.".into(),
            text_en: "Report {code} was handled by {unit}.".into(),
            automatic: true,
        };
        let a = s.save_template(&any).await.unwrap();
        let own = Template {
            id: 0,
            field: Some("traffic".into()),
            action: Action::Reject,
            name: "Không thuộc thẩm quyền".into(),
            text_vi: "Không thuộc thẩm quyền.".into(),
            text_en: String::new(),
            automatic: false,
        };
        let b = s.save_template(&own).await.unwrap();
        let other = Template {
            field: Some("water".into()),
            ..own.clone()
        };
        let c = s.save_template(&other).await.unwrap();
        assert!(a < b && b < c, "{}", db.name);
        let all = s.templates().await.unwrap();
        assert_eq!(all.len(), 3, "{}", db.name);
        assert_eq!(
            all[0],
            Template {
                id: a,
                ..any.clone()
            },
            "{}",
            db.name
        );
        assert_eq!(
            all[1],
            Template {
                id: b,
                ..own.clone()
            }
        );
        // A field's own and those for any field; not another field's.
        let ids: Vec<i64> = s
            .templates_for_field("traffic")
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, vec![a, b], "{}", db.name);
        // Editing keeps the id.
        let edited = Template {
            id: b,
            text_vi: "Đã sửa.".into(),
            automatic: true,
            field: None,
            ..own.clone()
        };
        assert_eq!(s.save_template(&edited).await.unwrap(), b);
        assert_eq!(s.template(b).await.unwrap(), Some(edited.clone()));
        assert!(matches!(
            s.save_template(&Template { id: 9999, ..edited }).await,
            Err(StoreError::NotFound)
        ));
        s.delete_template(a).await.unwrap();
        assert!(matches!(
            s.delete_template(a).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.template(a).await.unwrap(), None);
        assert_eq!(s.templates().await.unwrap().len(), 2, "{}", db.name);
    }
}
