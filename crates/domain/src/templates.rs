//! Response templates (mẫu trả lời): ready texts for a step of the procedure, per field or
//! for any field, in Vietnamese and English, with placeholders filled from the report.
//!
//! - `{code}`: the tracking code; `{unit}`: the unit handling the report; `{due}`: its
//!   deadline, local time, "HH:MM dd/mm/yyyy"; `{field}`: the field's name.
//! - Any other `{x}` is left as written.
//!
//! A template marked `automatic` is the public response the system adds by itself when its
//! step is taken on a report of its field (see `App::apply`). A comment never triggers one,
//! so an automatic response cannot set off another.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::procedure::Action;

/// The longest text (each language) a template may hold, in characters.
pub const MAX_TEXT: usize = 2_000;
/// The longest name, in characters.
pub const MAX_NAME: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: i64,
    /// The field (category) code; `None`: any field.
    pub field: Option<String>,
    /// The step of the procedure it answers.
    pub action: Action,
    /// What staff see in the list.
    pub name: String,
    pub text_vi: String,
    /// May be empty: the Vietnamese text alone is used.
    pub text_en: String,
    /// Added by the system as a public response when the step is taken.
    pub automatic: bool,
}

/// The values of the placeholders, in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placeholders {
    pub code: String,
    pub unit_name: String,
    /// Already formatted ([`format_due`]).
    pub due: String,
    pub field_name: String,
}

/// Why a template cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("cần tên mẫu / a name is required")]
    NameRequired,
    #[error(
        "tên mẫu quá dài (tối đa {MAX_NAME} ký tự) / the name is too long (at most {MAX_NAME} characters)"
    )]
    NameTooLong,
    #[error("cần nội dung tiếng Việt / the Vietnamese text is required")]
    TextRequired,
    #[error(
        "nội dung quá dài (tối đa {MAX_TEXT} ký tự) / the text is too long (at most {MAX_TEXT} characters)"
    )]
    TextTooLong,
    #[error("ghi chú không thể có phản hồi tự động / a comment cannot have an automatic response")]
    AutomaticComment,
}

impl Template {
    /// Checks what an administrator typed (after trimming).
    pub fn check(&self) -> Result<(), TemplateError> {
        if self.name.trim().is_empty() {
            return Err(TemplateError::NameRequired);
        }
        if self.name.chars().count() > MAX_NAME {
            return Err(TemplateError::NameTooLong);
        }
        if self.text_vi.trim().is_empty() {
            return Err(TemplateError::TextRequired);
        }
        if self.text_vi.chars().count() > MAX_TEXT || self.text_en.chars().count() > MAX_TEXT {
            return Err(TemplateError::TextTooLong);
        }
        // The automatic response is itself a comment: one on comments could answer itself.
        if self.automatic && self.action == Action::Comment {
            return Err(TemplateError::AutomaticComment);
        }
        Ok(())
    }

    /// Both texts rendered, Vietnamese first, then English when there is one: what the
    /// citizen reads.
    pub fn render_both(&self, vi: &Placeholders, en: &Placeholders) -> String {
        let text_vi = render(&self.text_vi, vi);
        let text_en = render(&self.text_en, en);
        if text_en.trim().is_empty() {
            text_vi
        } else {
            format!("{text_vi}\n\n{text_en}")
        }
    }
}

/// Replaces `{code}`, `{unit}`, `{due}` and `{field}`; leaves any other `{x}` as it is. One
/// pass over `text`: the values are never scanned again, so a value holding `{code}` stays.
pub fn render(text: &str, p: &Placeholders) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let hit = [
            ("{code}", p.code.as_str()),
            ("{unit}", p.unit_name.as_str()),
            ("{due}", p.due.as_str()),
            ("{field}", p.field_name.as_str()),
        ]
        .into_iter()
        .find(|(name, _)| tail.starts_with(name));
        match hit {
            Some((name, value)) => {
                out.push_str(value);
                rest = &tail[name.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A deadline as the templates write it: local time, "HH:MM dd/mm/yyyy"; "—" when none.
pub fn format_due(due: Option<DateTime<Utc>>) -> String {
    due.map(|d| {
        crate::calendar::to_local(d)
            .format("%H:%M %d/%m/%Y")
            .to_string()
    })
    .unwrap_or_else(|| "—".to_string())
}

/// The templates for a step on a report of `field`: those of the field first, then those
/// for any field, each group in the order given.
pub fn applicable<'a>(templates: &'a [Template], field: &str, action: Action) -> Vec<&'a Template> {
    let mut out: Vec<&Template> = templates
        .iter()
        .filter(|t| t.action == action && t.field.as_deref().is_none_or(|f| f == field))
        .collect();
    // Stable: keeps the given order within each group.
    out.sort_by_key(|t| t.field.is_none());
    out
}

/// The automatic response to a step on a report of `field`, if any: the field's own before
/// one for any field, the first of them when several are marked. Never one for a comment.
pub fn automatic<'a>(
    templates: &'a [Template],
    field: &str,
    action: Action,
) -> Option<&'a Template> {
    if action == Action::Comment {
        return None;
    }
    applicable(templates, field, action)
        .into_iter()
        .find(|t| t.automatic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn p() -> Placeholders {
        Placeholders {
            code: "HCM-26-AB12".into(),
            unit_name: "UBND phường Sài Gòn".into(),
            due: "17:00 05/03/2026".into(),
            field_name: "Vỉa hè".into(),
        }
    }

    fn t(id: i64, field: Option<&str>, action: Action, automatic: bool) -> Template {
        Template {
            id,
            field: field.map(String::from),
            action,
            name: format!("mẫu {id}"),
            text_vi: format!("văn bản {id}"),
            text_en: String::new(),
            automatic,
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            render("Hồ sơ {code} ({field}) do {unit} xử lý trước {due}.", &p()),
            "Hồ sơ HCM-26-AB12 (Vỉa hè) do UBND phường Sài Gòn xử lý trước 17:00 05/03/2026."
        );
        assert_eq!(render("{code}{code}", &p()), "HCM-26-AB12HCM-26-AB12");
    }

    #[test]
    fn unknown_and_broken_placeholders_stay() {
        assert_eq!(
            render("{name} {CODE} { code} {", &p()),
            "{name} {CODE} { code} {"
        );
        assert_eq!(render("{{code}}", &p()), "{HCM-26-AB12}");
        assert_eq!(render("", &p()), "");
        assert_eq!(render("không có gì", &p()), "không có gì");
    }

    #[test]
    fn values_are_not_rendered_again() {
        let mut v = p();
        v.unit_name = "{code}".into();
        assert_eq!(render("{unit}", &v), "{code}");
    }

    #[test]
    fn rendering_is_linear() {
        // 200,000 braces that are not placeholders, and as many that are: fast either way.
        let text = "{".repeat(200_000) + &"{due}".repeat(200_000);
        let start = std::time::Instant::now();
        let out = render(&text, &p());
        assert_eq!(out.len(), 200_000 + 200_000 * p().due.len());
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn due_in_local_time() {
        // 10:00 UTC is 17:00 in Ho Chi Minh City.
        let d = Utc.with_ymd_and_hms(2026, 3, 5, 10, 0, 0).unwrap();
        assert_eq!(format_due(Some(d)), "17:00 05/03/2026");
        assert_eq!(format_due(None), "—");
    }

    #[test]
    fn both_languages_vietnamese_first() {
        let mut tpl = t(1, None, Action::Resolve, false);
        tpl.text_vi = "Đã xử lý {code}.".into();
        tpl.text_en = "{code} was fixed.".into();
        let en = Placeholders {
            field_name: "Sidewalk".into(),
            ..p()
        };
        assert_eq!(
            tpl.render_both(&p(), &en),
            "Đã xử lý HCM-26-AB12.\n\nHCM-26-AB12 was fixed."
        );
        tpl.text_en = "  ".into();
        assert_eq!(tpl.render_both(&p(), &en), "Đã xử lý HCM-26-AB12.");
    }

    #[test]
    fn the_fields_own_come_first() {
        let all = vec![
            t(1, None, Action::Resolve, false),
            t(2, Some("sidewalk"), Action::Resolve, false),
            t(3, Some("water"), Action::Resolve, false),
            t(4, None, Action::Reject, false),
            t(5, Some("sidewalk"), Action::Resolve, false),
            t(6, None, Action::Resolve, false),
        ];
        let ids: Vec<i64> = applicable(&all, "sidewalk", Action::Resolve)
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, vec![2, 5, 1, 6]);
        let ids: Vec<i64> = applicable(&all, "other", Action::Resolve)
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, vec![1, 6]);
        assert!(applicable(&all, "sidewalk", Action::Start).is_empty());
    }

    #[test]
    fn the_automatic_response() {
        let all = vec![
            t(1, None, Action::Resolve, true),
            t(2, Some("sidewalk"), Action::Resolve, false),
            t(3, Some("sidewalk"), Action::Resolve, true),
            t(4, Some("water"), Action::Reject, true),
        ];
        assert_eq!(
            automatic(&all, "sidewalk", Action::Resolve).map(|t| t.id),
            Some(3)
        );
        assert_eq!(
            automatic(&all, "other", Action::Resolve).map(|t| t.id),
            Some(1)
        );
        assert_eq!(automatic(&all, "other", Action::Reject), None);
        assert_eq!(
            automatic(&all, "water", Action::Reject).map(|t| t.id),
            Some(4)
        );
        // A comment never has one, even if one were stored.
        let comment = vec![t(5, None, Action::Comment, true)];
        assert_eq!(automatic(&comment, "water", Action::Comment), None);
    }

    #[test]
    fn what_can_be_saved() {
        let ok = t(1, None, Action::Resolve, true);
        assert_eq!(ok.check(), Ok(()));
        let mut x = ok.clone();
        x.name = " ".into();
        assert_eq!(x.check(), Err(TemplateError::NameRequired));
        let mut x = ok.clone();
        x.name = "n".repeat(MAX_NAME + 1);
        assert_eq!(x.check(), Err(TemplateError::NameTooLong));
        let mut x = ok.clone();
        x.text_vi = "".into();
        assert_eq!(x.check(), Err(TemplateError::TextRequired));
        let mut x = ok.clone();
        // Characters, not bytes: 2,000 Vietnamese letters fit.
        x.text_vi = "ệ".repeat(MAX_TEXT);
        assert_eq!(x.check(), Ok(()));
        x.text_en = "e".repeat(MAX_TEXT + 1);
        assert_eq!(x.check(), Err(TemplateError::TextTooLong));
        let mut x = ok.clone();
        x.action = Action::Comment;
        assert_eq!(x.check(), Err(TemplateError::AutomaticComment));
        x.automatic = false;
        assert_eq!(x.check(), Ok(()));
    }
}
