//! Response templates (`phananh_domain::templates`): administrators keep them; staff pick
//! one in an action's form, rendered for the report at hand; a template marked automatic is
//! the public response the system adds after its step ([`App::auto_response`]).
//!
//! Templates are read from the store per request (a small table, one indexed query), so an
//! edit takes effect at once without a catalog reload.

use phananh_domain::access::Principal;
use phananh_domain::model::{Actor, Report};
use phananh_domain::procedure::{Action, Command};
use phananh_domain::templates::{self, Placeholders, Template, TemplateError};
use serde::Serialize;

use crate::admin::{admin_only, opt};
use crate::{App, AppError, Catalog};

/// A template as an administrator types it (an empty id: a new one; an empty field: any).
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub id: String,
    pub field: String,
    pub action: String,
    pub name: String,
    pub text_vi: String,
    pub text_en: String,
    pub automatic: bool,
}

/// A template filled in for one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub id: i64,
    pub action: Action,
    pub name: String,
    /// Whether it is the field's own (`false`: for any field).
    pub field_specific: bool,
    pub automatic: bool,
    pub text_vi: String,
    pub text_en: String,
    /// Vietnamese, then English: what goes in the text box.
    pub text: String,
}

/// The placeholders' values for `report`, in Vietnamese and in English.
pub fn placeholders(catalog: &Catalog, report: &Report) -> (Placeholders, Placeholders) {
    let unit = catalog.unit(&report.unit);
    let field = catalog.field(&report.field);
    let due = templates::format_due(report.due_at);
    let vi = Placeholders {
        code: report.code.clone(),
        unit_name: unit
            .map(|u| u.name_vi.clone())
            .unwrap_or_else(|| report.unit.clone()),
        due: due.clone(),
        field_name: field
            .map(|f| f.name_vi.clone())
            .unwrap_or_else(|| report.field.clone()),
    };
    let en = Placeholders {
        code: report.code.clone(),
        unit_name: unit
            .map(|u| u.name_en.clone())
            .unwrap_or_else(|| report.unit.clone()),
        due,
        field_name: field
            .map(|f| f.name_en.clone())
            .unwrap_or_else(|| report.field.clone()),
    };
    (vi, en)
}

fn rendered(t: &Template, vi: &Placeholders, en: &Placeholders) -> Rendered {
    Rendered {
        id: t.id,
        action: t.action,
        name: t.name.clone(),
        field_specific: t.field.is_some(),
        automatic: t.automatic,
        text_vi: templates::render(&t.text_vi, vi),
        text_en: templates::render(&t.text_en, en),
        text: t.render_both(vi, en),
    }
}

fn template_error(e: TemplateError) -> AppError {
    let field = match e {
        TemplateError::NameRequired | TemplateError::NameTooLong => "name",
        TemplateError::TextRequired | TemplateError::TextTooLong => "text_vi",
        TemplateError::AutomaticComment => "automatic",
    };
    let code = match e {
        TemplateError::NameRequired | TemplateError::TextRequired => "required",
        TemplateError::NameTooLong | TemplateError::TextTooLong => "too_long",
        TemplateError::AutomaticComment => "automatic_comment",
    };
    let message = e.to_string();
    let (vi, en) = message
        .split_once(" / ")
        .unwrap_or((message.as_str(), message.as_str()));
    AppError::invalid(field, code, vi, en)
}

impl App {
    /// Every template (administrators).
    pub async fn templates(&self, who: &Principal) -> Result<Vec<Template>, AppError> {
        admin_only(who)?;
        Ok(self.store.templates().await?)
    }

    /// One template (administrators), to edit it.
    pub async fn template(&self, who: &Principal, id: i64) -> Result<Template, AppError> {
        admin_only(who)?;
        self.store.template(id).await?.ok_or(AppError::NotFound)
    }

    /// Adds a template, or changes the one with this id; returns its id.
    pub async fn save_template(&self, who: &Principal, f: TemplateInput) -> Result<i64, AppError> {
        admin_only(who)?;
        let id = match opt(&f.id) {
            None => 0,
            Some(id) => id
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or(AppError::NotFound)?,
        };
        let field = opt(&f.field);
        if let Some(code) = &field
            && self.catalog().await.field(code).is_none()
        {
            return Err(AppError::invalid(
                "field",
                "unknown_field",
                "Không có lĩnh vực này",
                "No such field",
            ));
        }
        let action = Action::parse(f.action.trim()).ok_or_else(|| {
            AppError::invalid(
                "action",
                "unknown_action",
                "Bước xử lý không hợp lệ",
                "Unknown step",
            )
        })?;
        let template = Template {
            id,
            field,
            action,
            name: f.name.trim().to_string(),
            // Line endings as browsers send them (CRLF) become plain newlines.
            text_vi: f.text_vi.replace("\r\n", "\n").trim().to_string(),
            text_en: f.text_en.replace("\r\n", "\n").trim().to_string(),
            automatic: f.automatic,
        };
        template.check().map_err(template_error)?;
        Ok(self.store.save_template(&template).await?)
    }

    pub async fn delete_template(&self, who: &Principal, id: i64) -> Result<(), AppError> {
        admin_only(who)?;
        Ok(self.store.delete_template(id).await?)
    }

    /// The templates for every step on `report`, rendered for it, the field's own first in
    /// each step; "not found" when this person may not see the report.
    pub async fn report_templates(
        &self,
        who: &Principal,
        report: &Report,
    ) -> Result<Vec<Rendered>, AppError> {
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        let all = self.store.templates_for_field(&report.field).await?;
        let catalog = self.catalog().await;
        let (vi, en) = placeholders(&catalog, report);
        Ok(Action::ALL
            .into_iter()
            .flat_map(|a| templates::applicable(&all, &report.field, a))
            .map(|t| rendered(t, &vi, &en))
            .collect())
    }

    /// The templates for one step (or every step) on the report with this code, rendered.
    pub async fn templates_for(
        &self,
        who: &Principal,
        code: &str,
        action: Option<Action>,
    ) -> Result<Vec<Rendered>, AppError> {
        let report = self.find(code).await?;
        let mut all = self.report_templates(who, &report).await?;
        if let Some(action) = action {
            all.retain(|t| t.action == action);
        }
        Ok(all)
    }

    /// After `action` was taken on `report` (as it is now): the field's automatic response
    /// to that step, if it has one, appended as a public comment by the system. A comment
    /// never calls for one, and the response is appended with [`App::apply_step`], which
    /// never looks for another: no loop. Returns the report after it (or as given).
    pub(crate) async fn auto_response(
        &self,
        report: Report,
        action: Action,
    ) -> Result<Report, AppError> {
        if action == Action::Comment {
            return Ok(report);
        }
        let all = self.store.templates_for_field(&report.field).await?;
        let Some(t) = templates::automatic(&all, &report.field, action) else {
            return Ok(report);
        };
        let catalog = self.catalog().await;
        let (vi, en) = placeholders(&catalog, &report);
        let text = t.render_both(&vi, &en);
        self.apply_step(
            report,
            Actor::system(),
            Command::Comment { text, public: true },
        )
        .await
    }
}
