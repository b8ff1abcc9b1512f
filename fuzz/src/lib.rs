//! What the fuzz targets share: the real city's ward names and fields, loaded once, and one
//! function per entry point so that the targets and the timing binary call the same code.

use std::sync::OnceLock;

use phananh_channels::conversation::FieldChoice;
use phananh_geo::{WardName, WardNames};

const PROFILE: &str = include_str!("../../profiles/hcmc.json");

pub struct City {
    pub names: WardNames,
    pub fields: Vec<FieldChoice>,
    pub keywords: Vec<(String, Vec<String>)>,
}

pub fn city() -> &'static City {
    static CITY: OnceLock<City> = OnceLock::new();
    CITY.get_or_init(|| {
        let p: serde_json::Value = serde_json::from_str(PROFILE).expect("profile");
        let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let names = WardNames::new(
            p["wards"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| WardName {
                    code: s(&w["code"]),
                    name: s(&w["name_vi"]),
                    short: s(&w["short_vi"]),
                    old_names: w["old_names"].as_array().unwrap().iter().map(s).collect(),
                })
                .collect(),
        );
        let mut fields = Vec::new();
        let mut keywords = Vec::new();
        for f in p["fields"].as_array().unwrap() {
            let kws: Vec<String> = f["keywords"].as_array().unwrap().iter().map(s).collect();
            keywords.push((s(&f["code"]), kws.clone()));
            fields.push(FieldChoice {
                code: s(&f["code"]),
                name_vi: s(&f["name_vi"]),
                name_en: s(&f["name_en"]),
                keywords: kws,
            });
        }
        City {
            names,
            fields,
            keywords,
        }
    })
}

pub fn sms(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = phananh_channels::sms::parse(&text, &city().fields);
    let _ = phananh_channels::sms::segments(&text);
    if let Some((&dcs, rest)) = data.split_first() {
        let _ = phananh_channels::sms::decode_short_message(dcs, rest);
    }
}

pub fn ward_names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = city().names.find_in_address(&text);
    let _ = city().names.search(&text, 10);
}

pub fn messenger(data: &[u8]) {
    let _ = phananh_channels::messenger::parse(data);
}

pub fn viber(data: &[u8]) {
    let _ = phananh_channels::viber::parse(data);
}

pub fn telegram(data: &[u8]) {
    let _ = phananh_channels::telegram::parse(data);
}

/// The Zalo parser, and the timestamp read before the signature check (the first byte
/// picks whether a header timestamp is offered too).
pub fn zalo(data: &[u8]) {
    let _ = phananh_channels::zalo::parse(data);
    let header = data.first().is_some_and(|b| b & 1 == 1).then_some("1699003881354");
    if let Some(ts) = phananh_channels::zalo::signed_timestamp(data, header) {
        let _ = phananh_channels::zalo::is_fresh(&ts, 1_699_003_881_354, 3600);
        let _ = phananh_channels::zalo::verify_signature("A", "S", data, &ts, Some("mac=00"));
    }
}

pub fn email(data: &[u8]) {
    let r = phananh_worker::read_mail(data, Some("1022@example.org"), &city().keywords);
    // The ward is looked for in the address line, or in the whole text.
    let _ = city()
        .names
        .find_in_address(&format!("{}\n{}", r.subject.unwrap_or_default(), r.text));
}

pub fn photo(data: &[u8]) {
    let _ = phananh_photos::process(data, &phananh_photos::PhotoLimits::default());
}

pub fn open311_form(data: &[u8]) {
    let _ = phananh_channels::open311::parse_post(data);
}
