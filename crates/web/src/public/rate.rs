//! The reporter rates the result: `/r/{code}/rate?t=…` (the link they receive when the
//! report is resolved) and `POST /api/v1/reports/{code}/rating`.

use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use phananh_app::AppError;
use serde::Deserialize;

use crate::csrf::{Csrf, csrf_form};
use crate::error::ApiError;
use crate::layout::page;
use crate::session::{add_cookie, lang_of};
use crate::{AppState, Lang};

const RATE_COOKIE: &str = "phananh_rate";

#[derive(Deserialize, Default)]
pub(super) struct TokenQuery {
    #[serde(default)]
    t: String,
}

fn form(lang: Lang, code: &str, token: &str, csrf: &str, error: Option<&str>) -> maud::Markup {
    html! {
        h1 { (lang.t("Đánh giá kết quả xử lý", "Rate the result")) " " span class="code" { (code) } }
        @if let Some(e) = error { div class="error" role="alert" { (e) } }
        form class="card" method="post" action={"/r/" (code) "/rate"} {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="t" value=(token);
            fieldset class="plain" {
                legend { strong { (lang.t("Vấn đề đã thực sự được khắc phục chưa?", "Is it really fixed?")) } }
                label { input type="radio" name="fixed" value="1" required; " " (lang.t("Đã khắc phục", "Yes, it is fixed")) }
                label { input type="radio" name="fixed" value="0"; " " (lang.t("Chưa khắc phục (mở lại phản ánh)", "No, not fixed (reopen the report)")) }
            }
            fieldset class="plain gap" {
                legend { strong { (lang.t("Mức độ hài lòng", "How satisfied are you?")) } }
                div class="fields" {
                    @for n in 1..=5u8 {
                        label class="field-choice" { input type="radio" name="score" value=(n) required; " " (n) " " span aria-hidden="true" { (("★").repeat(n as usize)) } }
                    }
                }
            }
            label for="comment" { (lang.t("Góp ý (không bắt buộc)", "Comment (optional)")) }
            textarea id="comment" name="comment" maxlength="1000" rows="3" {}
            p { button type="submit" { (lang.t("Gửi đánh giá", "Send")) } }
        }
    }
}

pub(super) async fn rate_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let csrf = phananh_app::auth::random_token();
    let mut r = page(
        lang.t("Đánh giá", "Rate"),
        lang,
        None,
        form(lang, &code, &q.t, &csrf, None),
    )
    .into_response();
    add_cookie(
        &mut r,
        RATE_COOKIE,
        &csrf,
        7200,
        state.config.secure_cookies,
    );
    r
}

#[derive(Deserialize)]
pub(super) struct RateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    t: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    fixed: String,
    #[serde(default)]
    comment: String,
}

pub(super) async fn rate_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Csrf(Form(f)): Csrf<Form<RateForm>>,
) -> Response {
    let lang = lang_of(&headers);
    let score: u8 = f.score.trim().parse().unwrap_or(0);
    let comment = Some(f.comment.clone()).filter(|c| !c.trim().is_empty());
    match state
        .app
        .rate(&code, &f.t, score, f.fixed == "1", comment)
        .await
    {
        Ok(()) => Redirect::to(&format!("/r/{code}?rated=1")).into_response(),
        Err(AppError::NotFound) => crate::layout::error_page(&AppError::NotFound, lang, None),
        Err(e) => {
            let status = crate::error::status_of(&e);
            let msg = match &e {
                AppError::Validation(errs) => errs
                    .iter()
                    .map(|x| lang.t(&x.message_vi, &x.message_en).to_string())
                    .collect::<Vec<_>>()
                    .join(". "),
                other => other.message(),
            };
            let csrf = phananh_app::auth::random_token();
            let mut r = (
                status,
                page(
                    lang.t("Đánh giá", "Rate"),
                    lang,
                    None,
                    form(lang, &code, &f.t, &csrf, Some(&msg)),
                ),
            )
                .into_response();
            add_cookie(
                &mut r,
                RATE_COOKIE,
                &csrf,
                7200,
                state.config.secure_cookies,
            );
            r
        }
    }
}

#[derive(Deserialize)]
pub(super) struct RatingBody {
    token: String,
    score: u8,
    fixed: bool,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(serde::Serialize)]
struct Rated {
    status: &'static str,
}

/// `POST /api/v1/reports/{code}/rating` — `{"token", "score": 1..5, "fixed", "comment"}`.
pub(super) async fn rate_api(
    State(state): State<AppState>,
    Path(code): Path<String>,
    body: Result<Json<RatingBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(b) = body
        .map_err(|e| ApiError::bad_request(crate::error::ErrorCode::InvalidJson, e.body_text()))?;
    state
        .app
        .rate(&code, &b.token, b.score, b.fixed, b.comment)
        .await?;
    Ok((StatusCode::CREATED, Json(Rated { status: "rated" })).into_response())
}

csrf_form!(RateForm, cookie = RATE_COOKIE);
