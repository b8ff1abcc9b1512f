//! Errors of the use cases. Every error a person can see carries a Vietnamese message first
//! and an English one, plus a machine-readable code for APIs.

use phananh_domain::procedure::ProcedureError;
use phananh_storage::StoreError;
use serde::Serialize;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message_vi: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, vi: &str, en: &str) -> FieldError {
        FieldError {
            field: field.into(),
            code: code.into(),
            message_vi: vi.into(),
            message_en: en.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// Not found, or not visible to this person (the same answer, on purpose).
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    Procedure(#[from] ProcedureError),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("idempotency key reused for another request")]
    IdempotencyMismatch,
    #[error("wrong email or password")]
    BadCredentials,
    #[error("no profile loaded")]
    NoProfile,
    #[error("storage: {0}")]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::IdempotencyMismatch => AppError::IdempotencyMismatch,
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    pub fn invalid(field: &str, code: &str, vi: &str, en: &str) -> AppError {
        AppError::Validation(vec![FieldError::new(field, code, vi, en)])
    }

    /// A stable code for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "invalid_input",
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::Procedure(ProcedureError::NotAllowed { .. }) => "transition_not_allowed",
            AppError::Procedure(ProcedureError::TextRequired) => "reason_required",
            AppError::Procedure(ProcedureError::SameUnit) => "same_unit",
            AppError::Procedure(ProcedureError::TriageTarget) => "triage_target",
            AppError::Procedure(ProcedureError::AlreadyRated) => "already_rated",
            AppError::Procedure(ProcedureError::BadScore) => "score_out_of_range",
            AppError::Procedure(ProcedureError::AlreadyUrgent) => "already_urgent",
            AppError::Procedure(ProcedureError::OriginalRequired) => "original_required",
            AppError::Conflict(_) => "conflict",
            AppError::IdempotencyMismatch => "idempotency_key_reused",
            AppError::BadCredentials => "bad_credentials",
            AppError::NoProfile => "no_profile",
            AppError::Store(_) | AppError::Internal(_) => "internal",
        }
    }

    /// What a person reads (Vietnamese, then English).
    pub fn message(&self) -> String {
        match self {
            AppError::Validation(errs) => errs
                .iter()
                .map(|e| format!("{} / {}", e.message_vi, e.message_en))
                .collect::<Vec<_>>()
                .join("; "),
            AppError::NotFound => "Không tìm thấy / Not found".into(),
            AppError::Forbidden => "Bạn không có quyền thực hiện thao tác này / You may not do this".into(),
            AppError::Procedure(e) => e.to_string(),
            AppError::Conflict(m) => format!("Xung đột dữ liệu, vui lòng thử lại / Conflict, please retry: {m}"),
            AppError::IdempotencyMismatch => {
                "Khóa Idempotency-Key đã dùng cho một yêu cầu khác / Idempotency-Key already used for another request".into()
            }
            AppError::BadCredentials => "Sai email hoặc mật khẩu / Wrong email or password".into(),
            AppError::NoProfile => "Chưa nạp hồ sơ thành phố / No city profile loaded".into(),
            AppError::Store(_) | AppError::Internal(_) => {
                "Lỗi hệ thống, vui lòng thử lại sau / Internal error, please try again later".into()
            }
        }
    }
}
