//! The fields' extra questions (Open311 service attributes) on the HTML forms: the citizens'
//! form and the hotline screen render them with [`inputs`] and read the answers back with
//! [`answers`]. Which answers are required or valid is checked once, at intake
//! (`Attribute::check`), for every channel alike.
//!
//! Inputs are named `q.<field>.<question>`; a multiple-choice answer is one checkbox per
//! choice, named `q.<field>.<question>.<choice>`, so that forms read as a plain map keep
//! every choice. Every field's questions are in the page; the scripts show only the chosen
//! field's (without JavaScript all are shown, under the field's name), and only the chosen
//! field's answers are read.

use std::collections::BTreeMap;

use maud::{Markup, html};
use phananh_domain::profile::{Attribute, Field};

use crate::Lang;

/// The input name of `question` of `field`.
fn name(field: &str, question: &str) -> String {
    format!("q.{field}.{question}")
}

/// The questions of every field that has some, each group marked with its field's code
/// (`data-field`) so a script can show only the chosen one. `value` gives what was typed
/// (by input name), to keep answers when a form comes back with errors.
pub fn inputs(
    fields: &[Field],
    lang: Lang,
    value: impl Fn(&str) -> String,
    error: Option<String>,
) -> Markup {
    html! {
        @if let Some(e) = error { p class="error" id="attributes-error" role="alert" { (e) } }
        @for f in fields.iter().filter(|f| !f.attributes.is_empty()) {
            fieldset class="plain questions" data-field=(f.code) {
                legend { strong { (lang.t("Thêm về", "More about")) " " (lang.t(&f.name_vi, &f.name_en)) } }
                @for q in sorted(&f.attributes) {
                    (question(f, q, lang, &value))
                }
            }
        }
    }
}

fn sorted(attrs: &[Attribute]) -> Vec<&Attribute> {
    let mut v: Vec<&Attribute> = attrs.iter().collect();
    v.sort_by_key(|a| a.order);
    v
}

fn question(f: &Field, q: &Attribute, lang: Lang, value: &impl Fn(&str) -> String) -> Markup {
    let n = name(&f.code, &q.code);
    let text = if lang == Lang::En && !q.description_en.is_empty() {
        q.description_en.as_str()
    } else {
        q.description_vi.as_str()
    };
    let mark = if q.required { " *" } else { "" };
    html! {
        @match q.datatype.as_str() {
            "singlevaluelist" => {
                label for=(n) { (text) (mark) }
                select id=(n) name=(n) data-code=(q.code) aria-required=(q.required) {
                    option value="" { (lang.t("— Chọn —", "— Choose —")) }
                    @for v in &q.values {
                        option value=(v.key) selected[value(&n) == v.key] { (v.name) }
                    }
                }
            }
            "multivaluelist" => {
                fieldset class="plain" {
                    legend { (text) (mark) }
                    @for v in &q.values {
                        @let cn = format!("{n}.{}", v.key);
                        label {
                            input type="checkbox" name=(cn) value=(v.key) data-code=(q.code) checked[!value(&cn).is_empty()];
                            " " (v.name)
                        }
                    }
                }
            }
            "text" => {
                label for=(n) { (text) (mark) }
                textarea id=(n) name=(n) rows="2" maxlength="4000" data-code=(q.code) aria-required=(q.required) { (value(&n)) }
            }
            other => {
                label for=(n) { (text) (mark) }
                input id=(n) name=(n) data-code=(q.code) aria-required=(q.required) value=(value(&n))
                    type=(match other { "number" => "number", "datetime" => "datetime-local", _ => "text" })
                    step=[(other == "number").then_some("any")]
                    maxlength=[(other == "string").then_some("500")];
            }
        }
    }
}

/// The answers given, as (question, answer) in the reader's language and the questions'
/// order, with list answers by their names; answers to questions the field no longer asks
/// are shown by their codes.
pub fn answered(
    field: Option<&Field>,
    answers: &BTreeMap<String, Vec<String>>,
    lang: Lang,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let asked: Vec<&Attribute> = field.map(|f| sorted(&f.attributes)).unwrap_or_default();
    for q in &asked {
        if let Some(a) = answers.get(&q.code) {
            let text = if lang == Lang::En && !q.description_en.is_empty() {
                &q.description_en
            } else {
                &q.description_vi
            };
            let names: Vec<&str> = a
                .iter()
                .map(|v| {
                    q.values
                        .iter()
                        .find(|x| &x.key == v)
                        .map(|x| x.name.as_str())
                        .unwrap_or(v)
                })
                .collect();
            out.push((text.clone(), names.join(", ")));
        }
    }
    for (code, a) in answers {
        if !asked.iter().any(|q| &q.code == code) {
            out.push((code.clone(), a.join(", ")));
        }
    }
    out
}

/// The answers to `field`'s questions in a form read as name → value: each question's
/// answers, by question code. Other fields' inputs are ignored. A date and time from a
/// browser (`2026-12-03T09:30`, no offset) is read as Vietnam's time.
pub fn answers<'a>(
    field: Option<&Field>,
    form: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(field) = field else {
        return out;
    };
    let prefix = format!("q.{}.", field.code);
    for (k, v) in form {
        let Some(rest) = k.strip_prefix(&prefix) else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        // `rest` is the question's code, or `code.choice` for a multiple-choice answer.
        let Some(q) = field.attributes.iter().find(|a| {
            rest == a.code
                || (a.datatype == "multivaluelist"
                    && rest
                        .strip_prefix(a.code.as_str())
                        .and_then(|r| r.strip_prefix('.'))
                        .is_some())
        }) else {
            continue;
        };
        let v = if q.datatype == "datetime" && v.len() == 16 && v.as_bytes().get(10) == Some(&b'T')
        {
            format!("{v}:00+07:00")
        } else {
            v.to_string()
        };
        out.entry(q.code.clone()).or_default().push(v);
    }
    // Forms read as maps come in no order: list answers go in the question's order.
    for q in &field.attributes {
        if let Some(a) = out.get_mut(&q.code) {
            a.sort_by_key(|v| q.values.iter().position(|x| &x.key == v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use phananh_domain::profile::AttributeValue;

    fn field() -> Field {
        Field {
            code: "trees".into(),
            name_vi: "Cây xanh".into(),
            name_en: "Trees".into(),
            icon: "🌳".into(),
            ack_hours: 8,
            resolve_days: 5,
            keywords: vec![],
            attributes: vec![
                Attribute {
                    code: "state".into(),
                    datatype: "singlevaluelist".into(),
                    required: true,
                    description_vi: "Tình trạng cây".into(),
                    description_en: "The tree".into(),
                    order: 2,
                    private: false,
                    values: vec![
                        AttributeValue {
                            key: "fallen".into(),
                            name: "Đã đổ / fallen".into(),
                        },
                        AttributeValue {
                            key: "leaning".into(),
                            name: "Nghiêng / leaning".into(),
                        },
                    ],
                },
                Attribute {
                    code: "hazards".into(),
                    datatype: "multivaluelist".into(),
                    required: false,
                    description_vi: "Nguy hiểm".into(),
                    description_en: "Hazards".into(),
                    order: 1,
                    private: false,
                    values: vec![
                        AttributeValue {
                            key: "wires".into(),
                            name: "Dây điện".into(),
                        },
                        AttributeValue {
                            key: "road".into(),
                            name: "Chắn đường".into(),
                        },
                    ],
                },
                Attribute {
                    code: "seen".into(),
                    datatype: "datetime".into(),
                    required: false,
                    description_vi: "Lúc".into(),
                    description_en: String::new(),
                    order: 3,
                    private: false,
                    values: vec![],
                },
            ],
            review: false,
            urgent: false,
            urgent_hours: 4,
            urgent_keywords: vec![],
            duplicate_radius_m: 150,
        }
    }

    #[test]
    fn only_the_chosen_fields_answers_are_read_with_every_choice() {
        let f = field();
        let form = [
            ("q.trees.state", "fallen"),
            ("q.trees.hazards.road", "road"),
            ("q.trees.hazards.wires", "wires"),
            ("q.trees.seen", "2026-12-03T09:30"),
            ("q.trees.unknown", "x"),
            ("q.trees.state2", "x"),
            ("q.lighting.pole", "HL-12"),
            ("q.trees.hazards", ""),
            ("description", "cây đổ"),
        ];
        let a = answers(Some(&f), form);
        assert_eq!(a["state"], vec!["fallen"]);
        assert_eq!(a["hazards"], vec!["wires", "road"]);
        assert_eq!(a["seen"], vec!["2026-12-03T09:30:00+07:00"]);
        assert_eq!(a.len(), 3, "{a:?}");
        // What is read passes the intake's own check.
        for q in &f.attributes {
            q.check(a.get(&q.code).map(Vec::as_slice).unwrap_or(&[]))
                .unwrap();
        }
        assert!(answers(None, form).is_empty());
    }

    #[test]
    fn answers_read_in_the_questions_words() {
        let f = field();
        let mut a = BTreeMap::new();
        a.insert("state".to_string(), vec!["leaning".to_string()]);
        a.insert(
            "hazards".to_string(),
            vec!["wires".to_string(), "road".to_string()],
        );
        a.insert("gone".to_string(), vec!["x".to_string()]);
        let shown = answered(Some(&f), &a, Lang::En);
        assert_eq!(
            shown,
            vec![
                ("Hazards".to_string(), "Dây điện, Chắn đường".to_string()),
                ("The tree".to_string(), "Nghiêng / leaning".to_string()),
                ("gone".to_string(), "x".to_string()),
            ]
        );
        assert_eq!(answered(Some(&f), &a, Lang::Vi)[1].0, "Tình trạng cây");
    }

    #[test]
    fn the_inputs_keep_what_was_typed_in_the_questions_order() {
        let f = field();
        let html = inputs(
            std::slice::from_ref(&f),
            Lang::Vi,
            |n| {
                match n {
                    "q.trees.state" => "leaning",
                    "q.trees.hazards.road" => "road",
                    _ => "",
                }
                .to_string()
            },
            Some("thiếu".into()),
        )
        .into_string();
        assert!(html.contains(r#"data-field="trees""#), "{html}");
        assert!(
            html.contains(r#"<option value="leaning" selected>"#),
            "{html}"
        );
        assert!(
            html.contains(
                r#"name="q.trees.hazards.road" value="road" data-code="hazards" checked"#
            ),
            "{html}"
        );
        assert!(
            !html.contains(
                r#"name="q.trees.hazards.wires" value="wires" data-code="hazards" checked"#
            )
        );
        assert!(html.contains(r#"type="datetime-local""#));
        assert!(html.contains("Tình trạng cây *"), "the required mark");
        assert!(
            html.find("Nguy hiểm") < html.find("Tình trạng cây"),
            "by order"
        );
        assert!(html.contains("attributes-error"));
        // A field without questions shows nothing.
        let mut plain = f.clone();
        plain.attributes.clear();
        assert!(
            !inputs(&[plain], Lang::Vi, |_| String::new(), None)
                .into_string()
                .contains("fieldset")
        );
    }
}
