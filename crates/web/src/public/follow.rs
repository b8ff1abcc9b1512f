//! "Is this the same problem?": the form asks for open reports of the chosen field near the
//! chosen position, and a citizen can follow one of them instead of filing it again.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::html;
use phananh_app::AppError;
use phananh_app::query::FollowOutcome;
use phananh_domain::model::Status;
use serde::{Deserialize, Serialize};

use crate::csrf::{Csrf, csrf_form};
use crate::error::ApiError;
use crate::layout::page;
use crate::session::{ClientIp, lang_of};
use crate::{AppState, Lang};

#[derive(Deserialize)]
pub(super) struct NearbyQuery {
    field: String,
    lat: f64,
    lon: f64,
}

/// `GET /api/v1/public/nearby?field=&lat=&lon=`: open reports of that field around the
/// point, nearest first. Public data only.
/// An open report near the point, for "is this the same problem?".
#[derive(Serialize)]
struct NearbyItem {
    code: String,
    field_name: String,
    status: Status,
    status_label: &'static str,
    status_label_en: &'static str,
    description: String,
    distance_m: i64,
    created_at: DateTime<Utc>,
    followers: i64,
    url: String,
}

#[derive(Serialize)]
pub(super) struct NearbyAnswer {
    radius_m: f64,
    items: Vec<NearbyItem>,
}

pub(super) async fn nearby(
    State(state): State<AppState>,
    q: Result<Query<NearbyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<NearbyAnswer>, ApiError> {
    let Query(q) = q.map_err(|_| {
        ApiError::bad_request(
            crate::error::ErrorCode::InvalidQuery,
            "Cần field, lat, lon / field, lat and lon are required",
        )
    })?;
    let found = state
        .app
        .nearby(&q.field, q.lat, q.lon, state.config.nearby_radius_m)
        .await?;
    let catalog = state.app.catalog().await;
    let mut items = Vec::new();
    for n in found {
        let r = &n.report;
        items.push(NearbyItem {
            code: r.code.clone(),
            field_name: catalog.field_name(&r.field),
            status: r.status,
            status_label: r.status.label_vi(),
            status_label_en: r.status.label_en(),
            description: r.description.chars().take(160).collect(),
            distance_m: n.distance_m.round() as i64,
            created_at: r.created_at,
            followers: state.app.follower_count(r.id).await.unwrap_or(0),
            url: format!("/r/{}", r.code),
        });
    }
    Ok(axum::Json(NearbyAnswer {
        radius_m: state.config.nearby_radius_m,
        items,
    }))
}

#[derive(Deserialize)]
pub(super) struct FollowForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub(super) const FOLLOW_COOKIE: &str = "phananh_follow";

csrf_form!(FollowForm, cookie = FOLLOW_COOKIE);

/// `POST /r/{code}/follow`: "the same problem" — count me, and email me each step if I
/// leave an address.
pub(super) async fn follow(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(code): Path<String>,
    Csrf(Form(form)): Csrf<Form<FollowForm>>,
) -> Response {
    let lang = lang_of(&headers);
    if !state.limits.intake(ip) {
        return message(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            lang.t(
                "Bạn thao tác quá nhanh, vui lòng thử lại sau ít phút.",
                "Too many requests; try again in a few minutes.",
            ),
            &code,
        );
    }
    let email = Some(form.email.as_str()).filter(|e| !e.trim().is_empty());
    match state.app.follow(&code, email).await {
        Ok(FollowOutcome::Counted) => {
            Redirect::to(&format!("/r/{code}?followed=1")).into_response()
        }
        // The same answer whether a link was sent now or earlier: the page does not tell
        // who follows what.
        Ok(_) => Redirect::to(&format!("/r/{code}?confirm=1")).into_response(),
        Err(AppError::Validation(errors)) => {
            let text = errors
                .iter()
                .map(|e| lang.t(&e.message_vi, &e.message_en).to_string())
                .collect::<Vec<_>>()
                .join(". ");
            message(lang, StatusCode::UNPROCESSABLE_ENTITY, &text, &code)
        }
        Err(e) => crate::layout::error_page(&e, lang, None),
    }
}

fn message(lang: Lang, status: StatusCode, text: &str, code: &str) -> Response {
    (
        status,
        page(
            lang.t("Theo dõi phản ánh", "Follow a report"),
            lang,
            None,
            html! {
                div class="error" role="alert" { (text) }
                p { a href={"/r/" (code)} { (lang.t("Quay lại phản ánh", "Back to the report")) } }
            },
        ),
    )
        .into_response()
}

/// `GET /unfollow/{token}`: asks before stopping (mail scanners open links).
pub(super) async fn unfollow_page(headers: HeaderMap, Path(token): Path<String>) -> Response {
    let lang = lang_of(&headers);
    page(lang.t("Ngừng theo dõi", "Stop following"), lang, None, html! {
        h1 { (lang.t("Ngừng nhận thông báo", "Stop the emails")) }
        form class="card" method="post" action={"/unfollow/" (token)} {
            p { (lang.t("Bạn sẽ không nhận email về phản ánh này nữa.", "You will get no more emails about this report.")) }
            button type="submit" { (lang.t("Ngừng theo dõi", "Stop following")) }
        }
    })
    .into_response()
}

/// `POST /unfollow/{token}`: the token is the secret, so no other check is needed.
pub(super) async fn unfollow(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    match state.app.unfollow(&token).await {
        Ok(code) => page(lang.t("Đã ngừng theo dõi", "Stopped"), lang, None, html! {
            div class="notice" role="status" { (lang.t("Bạn đã ngừng nhận thông báo về phản ánh", "You will no longer get emails about report")) " " span class="code" { (code) } "." }
            p { a href={"/r/" (code)} { (lang.t("Xem phản ánh", "See the report")) } }
        })
        .into_response(),
        Err(AppError::NotFound) => (StatusCode::NOT_FOUND, page(lang.t("Không tìm thấy", "Not found"), lang, None, html! {
            div class="error" role="alert" { (lang.t("Liên kết không đúng hoặc đã hết hiệu lực.", "That link is not valid.")) }
        }))
        .into_response(),
        Err(e) => crate::layout::error_page(&e, lang, None),
    }
}

/// `GET /follow/confirm/{token}`: asks before confirming (mail scanners open links).
pub(super) async fn confirm_page(headers: HeaderMap, Path(token): Path<String>) -> Response {
    let lang = lang_of(&headers);
    page(lang.t("Xác nhận theo dõi", "Confirm following"), lang, None, html! {
        h1 { (lang.t("Xác nhận nhận thông báo", "Confirm the emails")) }
        form class="card" method="post" action={"/follow/confirm/" (token)} {
            p { (lang.t("Bạn sẽ nhận email mỗi khi phản ánh này có cập nhật. Mỗi email có liên kết để ngừng nhận.",
                "You will get an email at each update of this report. Each email has a link to stop them.")) }
            button type="submit" { (lang.t("Xác nhận", "Confirm")) }
        }
    })
    .into_response()
}

/// `POST /follow/confirm/{token}`: the token is the secret, and it works once.
pub(super) async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    match state.app.confirm_follow(&token).await {
        Ok(code) => Redirect::to(&format!("/r/{code}?followed=1")).into_response(),
        Err(AppError::NotFound) => (StatusCode::NOT_FOUND, page(lang.t("Không tìm thấy", "Not found"), lang, None, html! {
            div class="error" role="alert" { (lang.t("Liên kết không đúng, đã được dùng hoặc đã hết hạn.", "That link is not valid, was used already or has expired.")) }
        }))
        .into_response(),
        Err(e) => crate::layout::error_page(&e, lang, None),
    }
}
