//! The hotline: operators file reports during a call, see the caller's earlier reports, and
//! work the queue of messages that could not be filed by themselves.

use phananh_domain::access::Principal;
use phananh_domain::model::{Actor, Channel, Report};
use phananh_storage::Unfiled;

use crate::intake::{IntakeRequest, Receipt, normalise_phone};
use crate::{App, AppError};

/// What the exchange says about a call.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CallEvent {
    /// "ringing", "answered" or "ended".
    pub event: String,
    pub call_id: String,
    pub caller: String,
    /// The operator who answered: their email, or an extension listed in `[hotline] extensions`.
    #[serde(default)]
    pub operator: Option<String>,
}

/// Who should see the caller pop up: one operator, or everyone on the hotline screen when
/// the exchange named nobody we know.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallPopup {
    pub operator_id: Option<i64>,
    pub call_id: String,
    pub caller: String,
}

/// The caller as the operator sees them.
pub struct Caller {
    pub phone: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub reports: Vec<Report>,
}

fn operator_only(who: &Principal) -> Result<(), AppError> {
    if who.can_use_hotline() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

impl App {
    /// Records a call event and, when a call is answered, pops the caller up (on
    /// `App::calls`); answers who was shown it.
    pub async fn call_event(
        &self,
        e: &CallEvent,
        extensions: &std::collections::HashMap<String, String>,
    ) -> Result<Option<CallPopup>, AppError> {
        if !matches!(e.event.as_str(), "ringing" | "answered" | "ended") {
            return Err(AppError::invalid(
                "event",
                "unknown_event",
                "Sự kiện cuộc gọi không hợp lệ",
                "Unknown call event",
            ));
        }
        if e.call_id.trim().is_empty() || e.caller.trim().is_empty() {
            return Err(AppError::invalid(
                "call_id",
                "missing",
                "Thiếu mã cuộc gọi hoặc số gọi đến",
                "call_id and caller are required",
            ));
        }
        let named = e
            .operator
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty());
        let email = named.map(|o| extensions.get(o).map(String::as_str).unwrap_or(o));
        let operator_id = match email {
            Some(em) => self
                .store
                .user_by_email(&em.to_lowercase())
                .await?
                .filter(|u| u.active)
                .map(|u| u.id),
            None => None,
        };
        if named.is_some() && operator_id.is_none() {
            tracing::warn!(operator = ?named, call = %e.call_id, "call event for an unknown operator: shown to every operator");
        }
        self.store
            .call_event(
                &e.call_id,
                e.caller.trim(),
                &e.event,
                operator_id,
                named,
                self.clock.now(),
            )
            .await?;
        let popup = (e.event == "answered").then(|| CallPopup {
            operator_id,
            call_id: e.call_id.clone(),
            caller: e.caller.trim().to_string(),
        });
        if let Some(p) = &popup {
            // Nobody listening (no operator on the screen) is not an error.
            let _ = self.calls.send(p.clone());
        }
        Ok(popup)
    }

    /// The caller's earlier reports and the contact they gave last time.
    pub async fn caller(&self, who: &Principal, phone: &str) -> Result<Caller, AppError> {
        operator_only(who)?;
        let phone = normalise_phone(phone).ok_or_else(|| {
            AppError::invalid(
                "phone",
                "invalid_phone",
                "Số điện thoại không hợp lệ",
                "Not a phone number",
            )
        })?;
        let reports = self
            .store
            .reports_by_contact(Some(&phone), None, 20)
            .await?;
        let last = match reports.first() {
            Some(r) => self.store.reporter(r.id).await?,
            None => None,
        };
        Ok(Caller {
            phone,
            name: last.as_ref().and_then(|r| r.name.clone()),
            email: last.and_then(|r| r.email),
            reports,
        })
    }

    /// An operator files a report for a caller (or from a message in the queue); the call
    /// or the queued message is linked to it.
    pub async fn file_for_caller(
        &self,
        who: &Principal,
        request: IntakeRequest,
        channel: Channel,
        call_id: Option<&str>,
        unfiled_id: Option<i64>,
        idempotency_key: Option<String>,
    ) -> Result<Receipt, AppError> {
        operator_only(who)?;
        let receipt = self
            .submit(
                request,
                channel,
                Actor::staff(who.user_id, &who.name),
                None,
                idempotency_key,
            )
            .await?;
        if let Some(call) = call_id.filter(|c| !c.is_empty()) {
            self.store.call_attach(call, receipt.id).await?;
        }
        if let Some(id) = unfiled_id {
            self.store
                .unfiled_handle(id, who.user_id, Some(&receipt.code), None, self.clock.now())
                .await?;
        }
        Ok(receipt)
    }

    pub async fn unfiled_queue(
        &self,
        who: &Principal,
        all: bool,
    ) -> Result<Vec<Unfiled>, AppError> {
        operator_only(who)?;
        Ok(self.store.unfiled_list(!all, 200).await?)
    }

    pub async fn unfiled_item(&self, who: &Principal, id: i64) -> Result<Unfiled, AppError> {
        operator_only(who)?;
        self.store.unfiled(id).await?.ok_or(AppError::NotFound)
    }

    /// Sets a message aside without a report (spam, not for the city…), with a note.
    pub async fn dismiss_unfiled(
        &self,
        who: &Principal,
        id: i64,
        note: &str,
    ) -> Result<(), AppError> {
        operator_only(who)?;
        let note = note.trim();
        if note.is_empty() {
            return Err(AppError::invalid(
                "note",
                "note_required",
                "Vui lòng ghi lý do",
                "Please give a reason",
            ));
        }
        if !self
            .store
            .unfiled_handle(id, who.user_id, None, Some(note), self.clock.now())
            .await?
        {
            return Err(AppError::Conflict("đã được xử lý / already handled".into()));
        }
        Ok(())
    }
}

/// The telephone exchange's access (`[hotline]`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotlineConfig {
    /// Bearer token the exchange presents on `POST /api/v1/pbx/calls`.
    pub pbx_token: String,
    /// Extension → operator email, for exchanges that name operators by extension.
    pub extensions: std::collections::HashMap<String, String>,
    /// Asterisk Manager Interface (`host:5038`): phananh logs in and listens for calls.
    pub ami_address: String,
    pub ami_username: String,
    pub ami_secret: String,
}
