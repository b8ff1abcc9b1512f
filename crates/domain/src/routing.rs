//! Routing: (field, ward) → the unit that must fix it.
//!
//! Rules have precedence: a rule for the report's ward beats a city-wide rule for the
//! field; among equals the higher `priority` wins, then the older rule. What no rule places
//! goes to the triage desk, where an operator decides.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(default)]
    pub id: i64,
    pub field: String,
    /// `None`: city-wide.
    #[serde(default)]
    pub ward: Option<String>,
    pub unit: String,
    #[serde(default)]
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub unit: String,
    /// The rule that placed it; `None` when it went to the triage desk.
    pub rule: Option<i64>,
    pub reason_vi: String,
}

/// Picks the responsible unit. `ward` is `None` when the location could not be placed.
pub fn route(rules: &[Rule], field: &str, ward: Option<&str>, triage_unit: &str) -> Route {
    let best = rules
        .iter()
        .filter(|r| r.field == field)
        .filter(|r| match (&r.ward, ward) {
            (None, _) => true,
            (Some(rw), Some(w)) => rw == w,
            (Some(_), None) => false,
        })
        .max_by(|a, b| {
            (a.ward.is_some(), a.priority, -a.id).cmp(&(b.ward.is_some(), b.priority, -b.id))
        });
    match best {
        Some(r) => Route {
            unit: r.unit.clone(),
            rule: Some(r.id),
            reason_vi: match &r.ward {
                Some(_) => "theo quy tắc định tuyến của phường, xã".to_string(),
                None => "theo quy tắc định tuyến toàn thành phố".to_string(),
            },
        },
        None => Route {
            unit: triage_unit.to_string(),
            rule: None,
            reason_vi: "không có quy tắc phù hợp, chuyển bàn điều phối".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, field: &str, ward: Option<&str>, unit: &str, priority: i32) -> Rule {
        Rule {
            id,
            field: field.into(),
            ward: ward.map(Into::into),
            unit: unit.into(),
            priority,
        }
    }

    #[test]
    fn ward_rule_beats_city_rule() {
        let rules = vec![
            rule(1, "sidewalk", None, "SXD", 10),
            rule(2, "sidewalk", Some("26743"), "UBND-26743", 0),
        ];
        assert_eq!(
            route(&rules, "sidewalk", Some("26743"), "T").unit,
            "UBND-26743"
        );
        assert_eq!(route(&rules, "sidewalk", Some("26740"), "T").unit, "SXD");
        assert_eq!(route(&rules, "sidewalk", None, "T").unit, "SXD");
    }

    #[test]
    fn priority_then_age_break_ties() {
        let rules = vec![
            rule(1, "water", None, "A", 0),
            rule(2, "water", None, "B", 5),
            rule(3, "water", None, "C", 5),
        ];
        assert_eq!(route(&rules, "water", None, "T").unit, "B");
    }

    #[test]
    fn no_rule_goes_to_triage() {
        let rules = vec![rule(1, "water", Some("1"), "A", 0)];
        let r = route(&rules, "water", Some("2"), "TONGDAI1022");
        assert_eq!(r.unit, "TONGDAI1022");
        assert_eq!(r.rule, None);
        assert_eq!(route(&rules, "other", None, "T").unit, "T");
    }
}
