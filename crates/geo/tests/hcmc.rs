//! Checks against the real Ho Chi Minh City profile (profiles/hcmc.json).

#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;
use std::time::Instant;

use phananh_geo::{WardIndex, WardName, WardNames, WardShape, multipolygon_from_geojson};

struct City {
    index: WardIndex,
    names: WardNames,
    /// (code, full name)
    wards: Vec<(String, String)>,
}

fn city() -> &'static City {
    static CITY: OnceLock<City> = OnceLock::new();
    CITY.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../profiles/hcmc.json");
        let text = std::fs::read_to_string(path).expect("profiles/hcmc.json");
        let profile: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(profile["format"], "phananh-profile/1");
        let mut shapes = Vec::new();
        let mut names = Vec::new();
        let mut wards = Vec::new();
        for w in profile["wards"].as_array().expect("wards") {
            let code = w["code"].as_str().unwrap().to_string();
            let geometry = multipolygon_from_geojson(&w["geometry"]).expect("geometry");
            shapes.push(WardShape {
                code: code.clone(),
                geometry,
            });
            names.push(WardName {
                code: code.clone(),
                name: w["name_vi"].as_str().unwrap().to_string(),
                short: w["short_vi"].as_str().unwrap().to_string(),
                old_names: w["old_names"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap().to_string())
                    .collect(),
            });
            wards.push((code, w["name_vi"].as_str().unwrap().to_string()));
        }
        City {
            index: WardIndex::new(shapes),
            names: WardNames::new(names),
            wards,
        }
    })
}

fn code_of(name: &str) -> &'static str {
    city()
        .wards
        .iter()
        .find(|(_, n)| n == name)
        .map(|(c, _)| c.as_str())
        .unwrap_or_else(|| panic!("no ward named {name}"))
}

fn exact(lat: f64, lon: f64, name: &str) {
    let hit = city()
        .index
        .locate(lat, lon)
        .unwrap_or_else(|| panic!("({lat}, {lon}) not placed"));
    assert_eq!(
        hit.code,
        code_of(name),
        "({lat}, {lon}) should be in {name}"
    );
    assert!(hit.exact, "({lat}, {lon}) should be inside {name}: {hit:?}");
    assert_eq!(hit.distance_m, 0.0);
}

#[test]
fn loads_168_wards() {
    let c = city();
    assert_eq!(c.index.len(), 168);
    assert_eq!(c.names.len(), 168);
    let phuong = c
        .wards
        .iter()
        .filter(|(_, n)| n.starts_with("Phường "))
        .count();
    let xa = c.wards.iter().filter(|(_, n)| n.starts_with("Xã ")).count();
    assert_eq!((phuong, xa), (113, 54));
    let [min_lon, min_lat, max_lon, max_lat] = c.index.bbox().unwrap();
    assert!(min_lat < 8.7 && max_lat > 11.4 && min_lon < 106.4 && max_lon > 107.5);
}

#[test]
fn landmarks() {
    exact(10.7725, 106.6980, "Phường Bến Thành"); // Bến Thành market
    assert_eq!(code_of("Phường Bến Thành"), "26743");
    exact(10.7798, 106.6990, "Phường Sài Gòn"); // Notre-Dame cathedral
    assert_eq!(code_of("Phường Sài Gòn"), "26740");
    exact(10.8185, 106.6588, "Phường Tân Sơn"); // Tân Sơn Nhất airport, terminals
    exact(10.3460, 107.0965, "Phường Vũng Tàu"); // Bãi Sau, Vũng Tàu
    exact(8.6830, 106.6080, "Đặc khu Côn Đảo"); // Côn Sơn town
    exact(10.7949, 106.7219, "Phường Thạnh Mỹ Tây"); // Landmark 81
    exact(10.9804, 106.6519, "Phường Thủ Dầu Một"); // Thủ Dầu Một centre
}

#[test]
fn river_and_sea_fall_back_to_the_nearest_ward() {
    let c = city();
    // Đồng Nai river by Cát Lái port: in no ward, about 35 m from Cát Lái.
    let hit = c.index.locate(10.7477, 106.7743).expect("placed");
    assert_eq!(hit.code, code_of("Phường Cát Lái"));
    assert!(!hit.exact);
    assert!(hit.distance_m > 0.0 && hit.distance_m < 200.0, "{hit:?}");
    // The sea about 500 m off Bãi Sau.
    let hit = c.index.locate(10.3380, 107.0980).expect("placed");
    assert_eq!(hit.code, code_of("Phường Vũng Tàu"));
    assert!(!hit.exact);
    assert!(hit.distance_m > 200.0 && hit.distance_m < 1000.0, "{hit:?}");
    // About 2.9 km out to sea: outside by default, placed with a larger radius.
    assert_eq!(c.index.locate(10.30, 107.10), None);
    let wide = c.index.clone().with_max_distance(5000.0);
    assert_eq!(
        wide.locate(10.30, 107.10).unwrap().code,
        code_of("Phường Vũng Tàu")
    );
}

#[test]
fn outside_the_city() {
    let c = city();
    assert_eq!(c.index.locate(21.03, 105.85), None); // Hà Nội
    assert_eq!(c.index.locate(10.03, 105.78), None); // Cần Thơ
    assert_eq!(c.index.locate(0.0, 0.0), None);
    assert_eq!(c.index.locate(f64::NAN, 106.7), None);
}

#[test]
fn lookups_are_fast() {
    let c = city();
    // A grid over the old city core and the outskirts, about 10,000 points.
    let mut points = Vec::new();
    for i in 0..100 {
        for j in 0..100 {
            points.push((10.60 + 0.005 * i as f64, 106.50 + 0.005 * j as f64));
        }
    }
    let start = Instant::now();
    let mut found = 0;
    for &(lat, lon) in &points {
        if c.index.locate(lat, lon).is_some() {
            found += 1;
        }
    }
    let per = start.elapsed() / points.len() as u32;
    println!(
        "{} lookups, {found} placed, {per:?} per lookup (unoptimised test build)",
        points.len()
    );
    // The grid reaches into Đồng Nai and Tây Ninh (formerly Long An).
    assert!(found > 5000);
    // Generous: this is a debug build; an optimised build is far faster.
    assert!(per.as_micros() < 500, "{per:?} per lookup");

    // The dense centre (all exact hits) and the sea off Vũng Tàu (nearest-ward fallback
    // or nothing).
    for (label, lat0, lon0, step) in [
        ("centre", 10.74, 106.64, 0.001),
        ("sea", 10.25, 107.05, 0.002),
    ] {
        let pts: Vec<(f64, f64)> = (0..50)
            .flat_map(|i| (0..50).map(move |j| (lat0 + step * i as f64, lon0 + step * j as f64)))
            .collect();
        let start = Instant::now();
        let mut exact = 0;
        let mut near = 0;
        for &(lat, lon) in &pts {
            match c.index.locate(lat, lon) {
                Some(h) if h.exact => exact += 1,
                Some(_) => near += 1,
                None => {}
            }
        }
        let per = start.elapsed() / pts.len() as u32;
        println!(
            "{label}: {} lookups, {exact} exact, {near} nearest, {per:?} per lookup",
            pts.len()
        );
        assert!(per.as_micros() < 500, "{per:?} per lookup");
    }
}

#[test]
fn every_ward_contains_a_point_of_its_own() {
    // A vertex of each ward's boundary, nudged towards the ward's bbox centre, should
    // land in that ward or a neighbour; and the ward must be findable at all: probe a
    // small grid inside its bbox until a point resolves to it.
    let c = city();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../profiles/hcmc.json");
    let profile: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for w in profile["wards"].as_array().unwrap() {
        let code = w["code"].as_str().unwrap();
        let mp = multipolygon_from_geojson(&w["geometry"]).unwrap();
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in &mp.0 {
            for c in &p.exterior().0 {
                x0 = x0.min(c.x);
                y0 = y0.min(c.y);
                x1 = x1.max(c.x);
                y1 = y1.max(c.y);
            }
        }
        let mut ok = false;
        'probe: for i in 1..40 {
            for j in 1..40 {
                let lon = x0 + (x1 - x0) * i as f64 / 40.0;
                let lat = y0 + (y1 - y0) * j as f64 / 40.0;
                if let Some(hit) = c.index.locate(lat, lon)
                    && hit.exact
                    && hit.code == code
                {
                    ok = true;
                    break 'probe;
                }
            }
        }
        assert!(ok, "ward {code} never found");
    }
}

#[test]
fn names_current_old_and_in_addresses() {
    let n = &city().names;
    let top = |q: &str| n.search(q, 5).first().map(|(c, _)| c.clone());
    assert_eq!(top("Bến Thành").as_deref(), Some("26743"));
    assert_eq!(top("ben thanh").as_deref(), Some("26743"));
    assert_eq!(top("Phường Bến Thành").as_deref(), Some("26743"));
    assert_eq!(top("P. Ben Thanh").as_deref(), Some("26743"));
    assert_eq!(top("phuong sai gon").as_deref(), Some("26740"));
    assert_eq!(top("Bến Nghé").as_deref(), Some("26740")); // old name
    assert_eq!(
        top("Đặc khu Côn Đảo").as_deref(),
        Some(code_of("Đặc khu Côn Đảo"))
    );
    assert_eq!(top("con dao").as_deref(), Some(code_of("Đặc khu Côn Đảo")));
    // Xã Thanh An (old Bình Dương) and Xã Thạnh An (Cần Giờ) differ only by accents.
    assert_eq!(top("xã Thạnh An").as_deref(), Some(code_of("Xã Thạnh An")));
    assert_eq!(top("Thanh An").as_deref(), Some(code_of("Xã Thanh An")));
    let both = n.search("xa thanh an", 5);
    assert_eq!((both[0].1, both[1].1), (1.0, 1.0));
    let mut pair = [both[0].0.as_str(), both[1].0.as_str()];
    pair.sort();
    assert_eq!(pair, [code_of("Xã Thanh An"), code_of("Xã Thạnh An")]);
    assert!(both[2].1 < 1.0);
    assert_eq!(
        top("Thạnh Mỹ Tây").as_deref(),
        Some(code_of("Phường Thạnh Mỹ Tây"))
    );
    assert_eq!(
        top("thanh my tay").as_deref(),
        Some(code_of("Phường Thạnh Mỹ Tây"))
    );
    // NFD input.
    assert_eq!(
        top("Be\u{0302}\u{0301}n Tha\u{0300}nh").as_deref(),
        Some("26743")
    );
    // Prefix while typing, and a typo.
    assert_eq!(
        top("tan son nha").as_deref(),
        Some(code_of("Phường Tân Sơn Nhất"))
    );
    assert_eq!(top("ben tanh").as_deref(), Some("26743"));
    // "Tân Sơn" exactly, then the longer names starting with it.
    let r = n.search("tan son", 10);
    assert_eq!(r[0].0, code_of("Phường Tân Sơn"));
    assert!(r.iter().any(|(c, _)| c == code_of("Phường Tân Sơn Nhất")));
    assert!(n.search("qwxz", 5).is_empty());

    let f = |a: &str| n.find_in_address(a);
    assert_eq!(
        f("12 Lê Lợi, phường Bến Thành, TP.HCM").as_deref(),
        Some("26743")
    );
    assert_eq!(f("12 le loi ben thanh").as_deref(), Some("26743"));
    assert_eq!(
        f("12 Lê Lợi, P.Bến Thành, Q.1, TP. Hồ Chí Minh").as_deref(),
        Some("26743")
    );
    assert_eq!(
        f("01 Công xã Paris, phường Bến Nghé, quận 1").as_deref(),
        Some("26740")
    );
    assert_eq!(
        f("208 Nguyễn Hữu Cảnh, Phường 22, Quận Bình Thạnh").as_deref(),
        Some(code_of("Phường Thạnh Mỹ Tây"))
    );
    assert_eq!(
        f("208 Nguyen Huu Canh, P22, Binh Thanh").as_deref(),
        Some(code_of("Phường Thạnh Mỹ Tây"))
    );
    assert_eq!(
        f("Sân bay Tân Sơn Nhất, phường Tân Sơn").as_deref(),
        Some(code_of("Phường Tân Sơn"))
    );
    assert_eq!(
        f("Bãi Sau, phường Vũng Tàu").as_deref(),
        Some(code_of("Phường Vũng Tàu"))
    );
    assert_eq!(
        f("Côn Sơn, đặc khu Côn Đảo").as_deref(),
        Some(code_of("Đặc khu Côn Đảo"))
    );
    assert_eq!(
        f("ấp 3, xã Thạnh An, huyện Cần Giờ").as_deref(),
        Some(code_of("Xã Thạnh An"))
    );
    assert_eq!(
        f("xã Thanh An, Dầu Tiếng").as_deref(),
        Some(code_of("Xã Thanh An"))
    );
    assert_eq!(f("xa thanh an"), None); // which one?
    // A district is not a ward; nothing recognisable; a split old ward.
    assert_eq!(f("Quận Bình Thạnh, TP.HCM"), None);
    assert_eq!(f("Hà Nội"), None);
    assert_eq!(f("Phường Đa Kao, Quận 1"), None);
}
