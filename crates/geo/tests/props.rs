//! Properties the fuzz target fuzz/fuzz_targets/ward_names.rs checks at length, on a fixed
//! budget for CI: the address → ward matcher takes any text without panicking, over the
//! real city's names, and takes a 1 MB address (timed in release by bench/fuzz.sh).

#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use phananh_geo::{WardName, WardNames};
use proptest::prelude::*;

fn names() -> &'static (WardNames, Vec<String>) {
    static NAMES: OnceLock<(WardNames, Vec<String>)> = OnceLock::new();
    NAMES.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../profiles/hcmc.json");
        let profile: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut all = Vec::new();
        let mut words = Vec::new();
        for w in profile["wards"].as_array().unwrap() {
            let s = |k: &str| w[k].as_str().unwrap().to_string();
            let old: Vec<String> = w["old_names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect();
            words.push(s("name_vi"));
            words.extend(old.iter().cloned());
            all.push(WardName {
                code: s("code"),
                name: s("name_vi"),
                short: s("short_vi"),
                old_names: old,
            });
        }
        (WardNames::new(all), words)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_matched_without_panic(text in "\\PC{0,400}") {
        let (n, _) = names();
        let _ = n.find_in_address(&text);
        let _ = n.search(&text, 10);
    }

    #[test]
    fn addresses_made_of_ward_names(picks in proptest::collection::vec((any::<prop::sample::Index>(), "[ ,.0-9a-zA-Zđ]{0,12}"), 0..12)) {
        let (n, words) = names();
        let text: String = picks.iter().map(|(i, glue)| format!("{}{glue}", i.get(words))).collect();
        if let Some(code) = n.find_in_address(&text) {
            prop_assert!(!code.is_empty());
        }
        let _ = n.search(&text, 10);
    }
}

/// A 1 MB address: random text, and the city's names over and over (the worst case of a
/// matcher that compares every name match with every other).
#[test]
fn one_megabyte_addresses() {
    let (n, words) = names();
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 1_048_576 {
        text.push_str(&words[i % words.len()]);
        text.push_str(", ");
        i += 7;
    }
    let _ = n.find_in_address(&text);
    let _ = n.search(&text, 10);
    let _ = n.find_in_address(&"phường ".repeat(150_000));
    let _ = n.find_in_address(&"x".repeat(1_048_576));
}
