//! Errors as HTTP answers: JSON with a machine-readable code for `/api`, a page for people.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use phananh_app::{AppError, FieldError};
use serde_json::json;

/// An error of the JSON API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
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
            "unauthenticated",
            "Vui lòng đăng nhập / Please log in",
        )
    }

    pub fn csrf() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "Phiên làm việc không hợp lệ, vui lòng tải lại trang / Invalid CSRF token, reload the page",
        )
    }

    pub fn rate_limited() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Bạn gửi quá nhiều yêu cầu, vui lòng thử lại sau ít phút / Too many requests, try again in a few minutes",
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
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
            code: e.code(),
            message: e.message(),
            fields: match e {
                AppError::Validation(f) => f,
                _ => Vec::new(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "fields": self.fields,
            }
        });
        (self.status, Json(body)).into_response()
    }
}
