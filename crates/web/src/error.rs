//! Errors as HTTP answers: JSON with a machine-readable code for `/api`, a page for people.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use phananh_app::{AppError, FieldError};
use phananh_domain::procedure::ProcedureError;
use serde::Serialize;

/// Every machine-readable error code the JSON API answers with (`error.code`). Clients
/// branch on these; they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // From the use cases (`AppError`).
    InvalidInput,
    NotFound,
    Forbidden,
    TransitionNotAllowed,
    ReasonRequired,
    SameUnit,
    TriageTarget,
    AlreadyRated,
    ScoreOutOfRange,
    AlreadyUrgent,
    OriginalRequired,
    Conflict,
    IdempotencyKeyReused,
    BadCredentials,
    NoProfile,
    Internal,
    // From the HTTP layer.
    Unauthenticated,
    /// A machine caller without the right bearer token.
    Unauthorized,
    CsrfFailed,
    ReadOnlyRole,
    RateLimited,
    StaffRateLimited,
    UploadQuotaExceeded,
    BodyTooLarge,
    UnsupportedMediaType,
    MalformedJson,
    InvalidJson,
    InvalidQuery,
    InvalidFilter,
    InvalidStatus,
    InvalidChannel,
    InvalidIdempotencyKey,
    PhotoMissing,
    PhotoTooLarge,
    UploadFailed,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidInput => "invalid_input",
            NotFound => "not_found",
            Forbidden => "forbidden",
            TransitionNotAllowed => "transition_not_allowed",
            ReasonRequired => "reason_required",
            SameUnit => "same_unit",
            TriageTarget => "triage_target",
            AlreadyRated => "already_rated",
            ScoreOutOfRange => "score_out_of_range",
            AlreadyUrgent => "already_urgent",
            OriginalRequired => "original_required",
            Conflict => "conflict",
            IdempotencyKeyReused => "idempotency_key_reused",
            BadCredentials => "bad_credentials",
            NoProfile => "no_profile",
            Internal => "internal",
            Unauthenticated => "unauthenticated",
            Unauthorized => "unauthorized",
            CsrfFailed => "csrf_failed",
            ReadOnlyRole => "read_only_role",
            RateLimited => "rate_limited",
            StaffRateLimited => "staff_rate_limited",
            UploadQuotaExceeded => "upload_quota_exceeded",
            BodyTooLarge => "body_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            MalformedJson => "malformed_json",
            InvalidJson => "invalid_json",
            InvalidQuery => "invalid_query",
            InvalidFilter => "invalid_filter",
            InvalidStatus => "invalid_status",
            InvalidChannel => "invalid_channel",
            InvalidIdempotencyKey => "invalid_idempotency_key",
            PhotoMissing => "photo_missing",
            PhotoTooLarge => "photo_too_large",
            UploadFailed => "upload_failed",
        }
    }
}

impl From<&AppError> for ErrorCode {
    fn from(e: &AppError) -> ErrorCode {
        match e {
            AppError::Validation(_) => ErrorCode::InvalidInput,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::Forbidden => ErrorCode::Forbidden,
            AppError::Procedure(ProcedureError::NotAllowed { .. }) => {
                ErrorCode::TransitionNotAllowed
            }
            AppError::Procedure(ProcedureError::TextRequired) => ErrorCode::ReasonRequired,
            AppError::Procedure(ProcedureError::SameUnit) => ErrorCode::SameUnit,
            AppError::Procedure(ProcedureError::TriageTarget) => ErrorCode::TriageTarget,
            AppError::Procedure(ProcedureError::AlreadyRated) => ErrorCode::AlreadyRated,
            AppError::Procedure(ProcedureError::BadScore) => ErrorCode::ScoreOutOfRange,
            AppError::Procedure(ProcedureError::AlreadyUrgent) => ErrorCode::AlreadyUrgent,
            AppError::Procedure(ProcedureError::OriginalRequired) => ErrorCode::OriginalRequired,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::IdempotencyMismatch => ErrorCode::IdempotencyKeyReused,
            AppError::BadCredentials => ErrorCode::BadCredentials,
            AppError::NoProfile => ErrorCode::NoProfile,
            AppError::Store(_) | AppError::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// An error of the JSON API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "Vui lòng đăng nhập / Please log in",
        )
    }

    pub fn csrf() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::CsrfFailed,
            "Phiên làm việc không hợp lệ, vui lòng tải lại trang / Invalid CSRF token, reload the page",
        )
    }

    pub fn rate_limited() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "Bạn gửi quá nhiều yêu cầu, vui lòng thử lại sau ít phút / Too many requests, try again in a few minutes",
        )
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
}

pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::Procedure(phananh_domain::procedure::ProcedureError::NotAllowed { .. }) => {
            StatusCode::CONFLICT
        }
        AppError::Procedure(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::BadCredentials => StatusCode::UNAUTHORIZED,
        AppError::NoProfile | AppError::Store(_) | AppError::Internal(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = status_of(&e);
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        }
        ApiError {
            status,
            code: ErrorCode::from(&e),
            message: e.message(),
            fields: match e {
                AppError::Validation(f) => f,
                _ => Vec::new(),
            },
        }
    }
}

/// The body of every API error: `{"error": {"code", "message", "fields"}}`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: ErrorCode,
    message: &'a str,
    fields: &'a [FieldError],
}

/// A short error without fields, `{"error": {"code", "message"?}}`, for machine callers
/// (the telephone exchange).
pub fn bare_error(status: StatusCode, code: ErrorCode, message: Option<String>) -> Response {
    #[derive(Serialize)]
    struct Body {
        error: Detail,
    }
    #[derive(Serialize)]
    struct Detail {
        code: ErrorCode,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    }
    (
        status,
        Json(Body {
            error: Detail { code, message },
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                fields: &self.fields,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_names() {
        for code in [
            ErrorCode::InvalidInput,
            ErrorCode::TransitionNotAllowed,
            ErrorCode::IdempotencyKeyReused,
            ErrorCode::CsrfFailed,
            ErrorCode::UploadQuotaExceeded,
            ErrorCode::InvalidIdempotencyKey,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
    }

    /// The use cases name their errors too (`AppError::code`, for channels that are not
    /// HTTP); the API's codes for them are the same words.
    #[test]
    fn use_case_errors_keep_their_codes() {
        let errors = [
            AppError::invalid("f", "c", "vi", "en"),
            AppError::NotFound,
            AppError::Forbidden,
            AppError::Procedure(ProcedureError::NotAllowed {
                action: phananh_domain::procedure::Action::Close,
                status: phananh_domain::model::Status::New,
            }),
            AppError::Procedure(ProcedureError::TextRequired),
            AppError::Procedure(ProcedureError::SameUnit),
            AppError::Procedure(ProcedureError::TriageTarget),
            AppError::Procedure(ProcedureError::AlreadyRated),
            AppError::Procedure(ProcedureError::BadScore),
            AppError::Procedure(ProcedureError::AlreadyUrgent),
            AppError::Procedure(ProcedureError::OriginalRequired),
            AppError::Conflict("x".into()),
            AppError::IdempotencyMismatch,
            AppError::BadCredentials,
            AppError::NoProfile,
            AppError::Internal("x".into()),
        ];
        for e in &errors {
            assert_eq!(ErrorCode::from(e).as_str(), e.code(), "{e:?}");
        }
    }

    #[test]
    fn the_body_has_code_message_and_fields() {
        let e = ApiError::from(AppError::invalid("email", "invalid_email", "Sai", "Wrong"));
        let body = ErrorBody {
            error: ErrorDetail {
                code: e.code,
                message: &e.message,
                fields: &e.fields,
            },
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["error"]["code"], "invalid_input");
        assert_eq!(v["error"]["message"], "Sai / Wrong");
        assert_eq!(v["error"]["fields"][0]["field"], "email");
    }
}
