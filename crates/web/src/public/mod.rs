//! Pages for citizens: the home page with a lookup (here), the report form (`form`: works
//! without JavaScript; with it the phone's GPS and a map pin fill the position), the status
//! page of a report (`status`), the map and public list (`map`), the statistics (`stats`).
//! No personal data is ever shown here.

use crate::routes::{Routes, get};
use axum::extract::{DefaultBodyLimit, Query};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::layout::page;
use crate::session::{MaybeStaff, lang_of};

mod follow;
mod rate;

mod form;
mod map;
mod open_data;
mod pwa;
mod stats;
mod status;

pub fn routes() -> Routes {
    Routes::new()
        .merge(pwa::routes())
        .route("/", get(home))
        .route("/lookup", get(lookup))
        .route(
            "/new",
            get(form::form_page)
                .post(form::submit)
                // The handler caps the body itself, at what the configured limits allow.
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/r/{code}", get(status::status_page))
        .route("/map", get(map::map_page))
        .route("/stats", get(stats::stats_page))
        .route("/stats/units", get(open_data::unit_ranking))
        .route("/open-data/", get(open_data::index))
        .route("/open-data/{file}", get(open_data::file))
        .route("/api/v1/public/reports", get(map::public_list))
        .route("/api/v1/public/nearby", get(follow::nearby))
        .route("/api/v1/public/wards.geojson", get(stats::wards_geojson))
        .route("/r/{code}/follow", crate::routes::post(follow::follow))
        .route("/r/{code}/rate", get(rate::rate_page).post(rate::rate_post))
        .route(
            "/api/v1/reports/{code}/rating",
            crate::routes::post(rate::rate_api),
        )
        .route(
            "/unfollow/{token}",
            get(follow::unfollow_page).post(follow::unfollow),
        )
        .route(
            "/follow/confirm/{token}",
            get(follow::confirm_page).post(follow::confirm),
        )
}

async fn home(MaybeStaff(staff): MaybeStaff, headers: HeaderMap) -> Response {
    if staff.is_some() {
        return Redirect::to("/console").into_response();
    }
    let lang = lang_of(&headers);
    page("phananh", lang, None, html! {
        h1 { (lang.t("Phản ánh về hạ tầng, môi trường, trật tự đô thị", "Report a problem in the city")) }
        div class="card" {
            p { (lang.t("Ổ gà, ngập nước, đèn đường hỏng, rác thải, lấn chiếm vỉa hè… Gửi phản ánh, thành phố chuyển đến đúng đơn vị và trả lời bạn.",
                "Potholes, flooding, broken street lights, rubbish, blocked pavements… Report it: the city sends it to the right unit and answers you.")) }
            p { a class="button" href="/new" { (lang.t("Gửi phản ánh", "Report a problem")) } " "
                a href="/map" { (lang.t("Bản đồ phản ánh", "Map of reports")) } " · "
                a href="/stats" { (lang.t("Thống kê", "Statistics")) } " · "
                a href="/mine" { (lang.t("Phản ánh của tôi", "My reports")) } }
        }
        form class="card filters" method="get" action="/lookup" {
            div { label for="code" { (lang.t("Tra cứu theo mã hồ sơ", "Look up a tracking code")) }
                input id="code" name="code" placeholder="ABCD-2345" autocomplete="off" required; }
            div { button type="submit" { (lang.t("Tra cứu", "Look up")) } }
        }
        p class="muted" { a href="/login" { (lang.t("Cán bộ đăng nhập", "Staff log in")) } " · " a href="/api/v1/openapi.json" { "API" } " · " a href="/open311/v2/discovery.json" { "Open311" } }
    })
    .into_response()
}

#[derive(Deserialize)]
struct Lookup {
    #[serde(default)]
    code: String,
}

async fn lookup(Query(q): Query<Lookup>) -> Response {
    match q.code.parse::<phananh_domain::code::TrackingCode>() {
        Ok(code) => Redirect::to(&format!("/r/{code}")).into_response(),
        Err(_) => Redirect::to(&format!(
            "/r/{}",
            q.code.trim().replace(['/', '?', '#'], "")
        ))
        .into_response(),
    }
}
