//! Bulk steps from a queue: one command for many reports. Each report is still one event,
//! decided by the procedure and permitted for this person on its own; what fails for one
//! report is reported for it and does not stop the others.

use phananh_domain::access::Principal;
use phananh_domain::procedure::{Action, Command};
use serde::Serialize;

use crate::{App, AppError};

/// At most this many reports in one bulk step.
pub const MAX_REPORTS: usize = 100;

/// What happened to one report of a bulk step.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub code: String,
    pub ok: bool,
    /// The machine-readable reason it was refused (`AppError::code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// The reason, Vietnamese then English.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn too_many() -> AppError {
    AppError::invalid(
        "codes",
        "too_many",
        &format!("Mỗi lần tối đa {MAX_REPORTS} hồ sơ"),
        &format!("At most {MAX_REPORTS} reports at a time"),
    )
}

impl App {
    /// Takes `command` on every report in `codes` (in order, each once) for `who`.
    /// Fails as a whole only when the request itself is wrong (no reports, too many, a step
    /// that is not a bulk step); a report `who` may not see is "not found", like anywhere.
    pub async fn bulk(
        &self,
        who: &Principal,
        codes: &[String],
        command: Command,
    ) -> Result<Vec<Outcome>, AppError> {
        if !Action::BULK.contains(&command.action()) {
            return Err(AppError::invalid(
                "action",
                "not_a_bulk_step",
                "Thao tác này không làm hàng loạt được",
                "This step cannot be taken on many reports at once",
            ));
        }
        // The count is checked before any work on the list (the dedup below is quadratic).
        if codes.len() > MAX_REPORTS {
            return Err(too_many());
        }
        let mut unique: Vec<String> = Vec::new();
        for c in codes.iter().map(|c| c.trim().to_uppercase()) {
            if !c.is_empty() && !unique.contains(&c) {
                unique.push(c);
            }
        }
        if unique.is_empty() {
            return Err(AppError::invalid(
                "codes",
                "required",
                "Chưa chọn hồ sơ nào",
                "No report was selected",
            ));
        }
        let mut out = Vec::with_capacity(unique.len());
        for code in unique {
            let result = self.act(who, &code, command.clone()).await;
            out.push(match result {
                Ok(_) => Outcome {
                    code,
                    ok: true,
                    error: None,
                    message: None,
                },
                // Another unit's report is not there for this person (never "forbidden").
                Err(e) => Outcome {
                    code,
                    ok: false,
                    error: Some(e.code()),
                    message: Some(e.message()),
                },
            });
        }
        Ok(out)
    }
}
