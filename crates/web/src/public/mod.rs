//! Pages for citizens: the home page with a lookup, the report form (works without
//! JavaScript; with it the phone's GPS and a map pin fill the position), and the status page
//! of a report. No personal data is ever shown here.

use std::collections::HashMap;

use crate::routes::{Routes, get};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use phananh_app::intake::IntakeRequest;
use phananh_app::{AppError, FieldError};
use phananh_domain::model::{Actor, Channel};
use serde::Deserialize;

use crate::console::{page, status_badge, when};
use crate::session::{ClientIp, MaybeStaff, add_cookie, cookie, lang_of, same_token};
use crate::{AppState, Lang};

mod follow;
mod rate;

const FORM_COOKIE: &str = "phananh_form";

/// The report form's caps: five photos of at most 10 MB each (streamed to disk), text
/// fields of at most [`MAX_FORM_TEXT`] bytes, at most [`MAX_FORM_FIELDS`] parts.
const MAX_FORM_BODY: usize = phananh_app::photos::MAX_PHOTOS * 10 * 1024 * 1024 + 256 * 1024;
const MAX_FORM_TEXT: usize = 32 * 1024;
const MAX_FORM_FIELDS: usize = 64;

mod pwa;
pub use pwa::head as pwa_head;

pub fn routes() -> Routes {
    Routes::new()
        .merge(pwa::routes())
        .route("/", get(home))
        .route("/lookup", get(lookup))
        .route(
            "/new",
            get(form_page)
                .post(submit)
                .layer(DefaultBodyLimit::max(MAX_FORM_BODY)),
        )
        .route("/r/{code}", get(status_page))
        .route("/map", get(map_page))
        .route("/stats", get(stats_page))
        .route("/api/v1/public/reports", get(public_list))
        .route("/api/v1/public/nearby", get(follow::nearby))
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

/// What the person typed, kept when the form comes back with errors.
#[derive(Default)]
struct Typed {
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl Typed {
    fn get(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    fn error(&self, field: &str, lang: Lang) -> Option<String> {
        let msgs: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| {
                e.field == field
                    || (field == "location" && (e.field == "ward" || e.field == "address"))
            })
            .map(|e| {
                if lang == Lang::En {
                    e.message_en.as_str()
                } else {
                    e.message_vi.as_str()
                }
            })
            .collect();
        (!msgs.is_empty()).then(|| msgs.join(". "))
    }
}

fn error_line(msg: Option<String>, id: &str) -> Markup {
    html! { @if let Some(m) = msg { p class="error" id=(id) role="alert" { (m) } } }
}

async fn render_form(state: &AppState, lang: Lang, typed: &Typed, status: StatusCode) -> Response {
    let catalog = state.app.catalog().await;
    let csrf = phananh_app::auth::random_token();
    let key = typed
        .values
        .get("key")
        .cloned()
        .unwrap_or_else(phananh_app::auth::random_token);
    let [lat0, lon0] = catalog.city.center;
    let body = html! {
        h1 { (lang.t("Gửi phản ánh", "Report a problem")) }
        @if !typed.errors.is_empty() {
            div class="error" role="alert" { (lang.t("Vui lòng kiểm tra các mục được đánh dấu bên dưới.", "Please check the marked items below.")) }
        }
        form method="post" action="/new" enctype="multipart/form-data" class="card" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="key" value=(key);
            // A field people do not see; bots fill it.
            div class="offscreen" aria-hidden="true" {
                label for="website" { "Website" } input id="website" name="website" tabindex="-1" autocomplete="off";
            }
            fieldset class="plain" {
                legend { strong { (lang.t("1. Lĩnh vực", "1. What is it about?")) } }
                (error_line(typed.error("field", lang), "field-error"))
                div class="fields" {
                    @for f in &catalog.fields {
                        label class="field-choice" {
                            input type="radio" name="field" value=(f.code) required checked[typed.get("field") == f.code];
                            " " span aria-hidden="true" { (f.icon) } " " (lang.t(&f.name_vi, &f.name_en))
                        }
                    }
                }
            }
            label for="description" { (lang.t("2. Mô tả", "2. Describe it")) }
            (error_line(typed.error("description", lang), "description-error"))
            textarea id="description" name="description" required maxlength="5000" rows="4"
                placeholder=(lang.t("Ví dụ: ổ gà lớn giữa làn xe máy trước số 12", "e.g. a deep pothole in the motorbike lane outside no. 12")) { (typed.get("description")) }
            label for="photo" { (lang.t("3. Ảnh (tối đa 5, mỗi ảnh ≤ 10 MB)", "3. Photos (up to 5, 10 MB each)")) }
            (error_line(typed.error("photos", lang), "photo-error"))
            input id="photo" name="photo" type="file" accept="image/*" capture="environment" multiple;
            p class="muted" { (lang.t("Ảnh được xử lý lại và xóa toàn bộ thông tin vị trí, thiết bị trước khi lưu.", "Photos are re-encoded and stripped of location and device data before they are kept.")) }
            fieldset class="plain" {
                legend { strong { (lang.t("4. Vị trí", "4. Where?")) } }
                (error_line(typed.error("location", lang), "location-error"))
                p id="loc-status" class="muted" data-gps=(lang.t("Vị trí từ GPS:", "GPS position:")) data-moved=(lang.t("Vị trí đã chọn:", "Chosen position:"))
                    data-nogps=(lang.t("Không lấy được GPS: chọn trên bản đồ hoặc nhập địa chỉ.", "No GPS: pick on the map or type an address.")) {
                    (lang.t("Đang lấy vị trí từ điện thoại… (hoặc chạm vào bản đồ)", "Getting your phone's position… (or tap the map)"))
                }
                input type="hidden" id="lat" name="lat" value=(typed.get("lat"));
                input type="hidden" id="lon" name="lon" value=(typed.get("lon"));
                div id="map" data-lat=(lat0) data-lon=(lon0) data-tiles=(state.config.tile_url) data-attribution=(state.config.tile_attribution) {}
                label for="address" { (lang.t("Địa chỉ (nếu không có vị trí)", "Address (if there is no position)")) }
                input id="address" name="address" maxlength="500" value=(typed.get("address")) class="wide" autocomplete="street-address";
                label for="ward" { (lang.t("Phường, xã", "Ward")) }
                select id="ward" name="ward" {
                    option value="" { (lang.t("— Tự xác định theo vị trí —", "— From the position —")) }
                    @for w in &catalog.wards { option value=(w.code) selected[typed.get("ward") == w.code] { (w.name_vi) } }
                }
            }
            div id="nearby" class="notice" hidden aria-live="polite"
                data-title=(lang.t("Có phản ánh cùng loại ở gần đây. Nếu là cùng một vấn đề, bạn có thể theo dõi phản ánh đó thay vì gửi mới:", "Reports of the same kind are open nearby. If it is the same problem, follow it instead of filing a new one:"))
                data-follow=(lang.t("Cùng vấn đề — theo dõi", "Same problem — follow"))
                data-away=(lang.t("cách", "away")) {}
            fieldset class="plain gap" {
                legend { strong { (lang.t("5. Liên hệ (không bắt buộc)", "5. Contact (optional)")) } }
                p class="muted" { (lang.t("Họ tên, số điện thoại, email chỉ dùng để đơn vị xử lý liên hệ và báo kết quả cho bạn; không bao giờ được công khai. Để trống nếu muốn gửi ẩn danh.",
                    "Your name, phone and email are used only by the unit handling the report to reach you and tell you the result; they are never published. Leave them empty to report anonymously.")) }
                (error_line(typed.error("name", lang), "name-error"))
                label for="name" { (lang.t("Họ tên", "Name")) } input id="name" name="name" maxlength="200" value=(typed.get("name")) autocomplete="name";
                (error_line(typed.error("phone", lang), "phone-error"))
                label for="phone" { (lang.t("Điện thoại", "Phone")) } input id="phone" name="phone" type="tel" value=(typed.get("phone")) autocomplete="tel";
                (error_line(typed.error("email", lang), "email-error"))
                label for="email" { "Email" } input id="email" name="email" type="email" value=(typed.get("email")) autocomplete="email";
            }
            p { button type="submit" { (lang.t("Gửi phản ánh", "Send the report")) } }
        }
        link rel="stylesheet" href="/static/leaflet/leaflet.css";
        script src="/static/leaflet/leaflet.js" {}
        script src="/static/report.js" {}
        script src="/static/nearby.js" {}
    };
    let mut r = (
        status,
        page(lang.t("Gửi phản ánh", "Report a problem"), lang, None, body),
    )
        .into_response();
    add_cookie(
        &mut r,
        FORM_COOKIE,
        &csrf,
        7200,
        state.config.secure_cookies,
    );
    r
}

/// The form, with what a chat already gathered when it sends the citizen here
/// (`?field=…&description=…&address=…`).
async fn form_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(prefill): Query<HashMap<String, String>>,
) -> Response {
    let mut typed = Typed::default();
    for k in ["field", "description", "address"] {
        if let Some(v) = prefill.get(k) {
            typed
                .values
                .insert(k.to_string(), v.chars().take(5000).collect());
        }
    }
    render_form(&state, lang_of(&headers), &typed, StatusCode::OK).await
}

async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let lang = lang_of(&headers);
    let mut typed = Typed::default();
    let mut photos: Vec<std::fs::File> = Vec::new();
    let max_photo = state.app.photo_limits.max_bytes;
    let mut parts = 0;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                let e = FieldError::new(
                    "photos",
                    "upload_failed",
                    "Tải lên bị gián đoạn hoặc quá lớn, vui lòng thử lại",
                    "The upload was cut off or too large; try again",
                );
                typed.errors.push(e);
                break;
            }
        };
        parts += 1;
        let name = field.name().unwrap_or("").to_string();
        if parts > MAX_FORM_FIELDS {
            typed.errors.push(FieldError::new(
                "description",
                "too_many_parts",
                "Biểu mẫu có quá nhiều phần",
                "The form has too many parts",
            ));
            return render_form(&state, lang, &typed, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        if name == "photo" {
            if photos.len() >= phananh_app::photos::MAX_PHOTOS {
                // Not read at all: one error, whatever the size.
                if !typed.errors.iter().any(|e| e.code == "too_many_photos") {
                    typed.errors.push(FieldError::new(
                        "photos",
                        "too_many_photos",
                        "Tối đa 5 ảnh",
                        "At most 5 photos",
                    ));
                }
                continue;
            }
            match crate::spool::to_file(field, max_photo).await {
                Ok(Some(f)) => photos.push(f),
                Ok(None) => {}
                Err(crate::spool::SpoolError::TooLarge) => {
                    typed.errors.push(FieldError::new(
                        "photos",
                        "photo_too_large",
                        "Ảnh lớn hơn 10 MB",
                        "The photo is larger than 10 MB",
                    ));
                    return render_form(&state, lang, &typed, StatusCode::PAYLOAD_TOO_LARGE).await;
                }
                Err(_) => {
                    typed.errors.push(FieldError::new(
                        "photos",
                        "upload_failed",
                        "Tải lên bị gián đoạn hoặc quá lớn, vui lòng thử lại",
                        "The upload was cut off or too large; try again",
                    ));
                    break;
                }
            }
        } else {
            match crate::spool::to_text(field, MAX_FORM_TEXT).await {
                Ok(text) => {
                    typed.values.insert(name, text);
                }
                Err(crate::spool::SpoolError::TooLarge) => {
                    // Answered at once: nothing this long is read, let alone matched.
                    let field = if name == "address" {
                        "address"
                    } else {
                        "description"
                    };
                    typed.errors.push(FieldError::new(
                        field,
                        "too_long",
                        "Nội dung quá dài",
                        "The text is too long",
                    ));
                    return render_form(&state, lang, &typed, StatusCode::PAYLOAD_TOO_LARGE).await;
                }
                Err(_) => {}
            }
        }
    }
    let expected = cookie(&headers, FORM_COOKIE).unwrap_or_default();
    if !same_token(&expected, typed.get("csrf")) {
        return crate::console::csrf_failed(lang, None);
    }
    if !typed.get("website").is_empty() {
        // A bot filled the hidden field: answer as if all went well, file nothing.
        return Redirect::to("/").into_response();
    }
    if !state.limits.intake(ip) {
        typed.errors.push(FieldError::new(
            "description",
            "rate_limited",
            "Bạn gửi quá nhiều phản ánh, vui lòng thử lại sau ít phút",
            "Too many reports, try again in a few minutes",
        ));
        return render_form(&state, lang, &typed, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let contact = |k: &str| Some(typed.get(k).trim()).filter(|v| !v.is_empty());
    if !state.limits.contact(contact("phone"), contact("email")) {
        typed.errors.push(FieldError::new(
            "phone",
            "rate_limited",
            "Số điện thoại hoặc email này đã gửi nhiều phản ánh trong giờ qua, vui lòng thử lại sau",
            "This phone number or email has sent many reports in the last hour; try again later",
        ));
        return render_form(&state, lang, &typed, StatusCode::TOO_MANY_REQUESTS).await;
    }
    if !typed.errors.is_empty() {
        return render_form(&state, lang, &typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // The form's photos count against the same upload quota as the API's.
    if !photos.iter().all(|p| {
        let len = p.metadata().map(|m| m.len() as usize).unwrap_or(usize::MAX);
        state.limits.upload(ip) && state.limits.upload_bytes(ip, len)
    }) {
        typed.errors.push(FieldError::new(
            "photos",
            "upload_quota_exceeded",
            "Bạn đã tải lên quá nhiều ảnh trong giờ qua, vui lòng thử lại sau",
            "Too many photos uploaded from your address in the last hour; try again later",
        ));
        return render_form(&state, lang, &typed, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let mut keys = Vec::new();
    for p in photos {
        match state.app.store_photo_file(p).await {
            Ok(s) => keys.push(s.key),
            Err(AppError::Validation(mut e)) => typed.errors.append(&mut e),
            Err(e) => return crate::console::error_page(&e, lang, None),
        }
    }
    if !typed.errors.is_empty() {
        return render_form(&state, lang, &typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let opt = |k: &str| Some(typed.get(k).trim().to_string()).filter(|s| !s.is_empty());
    let number = |k: &str| opt(k).and_then(|v| v.parse::<f64>().ok());
    let request = IntakeRequest {
        field: typed.get("field").to_string(),
        description: typed.get("description").to_string(),
        lat: number("lat"),
        lon: number("lon"),
        address: opt("address"),
        ward: opt("ward"),
        name: opt("name"),
        phone: opt("phone"),
        email: opt("email"),
        consent: opt("phone").is_some() || opt("email").is_some(),
        photos: keys,
        ..IntakeRequest::default()
    };
    let key = opt("key");
    match state
        .app
        .submit(request, Channel::Web, Actor::citizen(), None, key)
        .await
    {
        Ok(receipt) => Redirect::to(&format!("/r/{}?new=1", receipt.code)).into_response(),
        Err(AppError::Validation(errors)) => {
            typed.errors = errors;
            render_form(&state, lang, &typed, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => crate::console::error_page(&e, lang, None),
    }
}

#[derive(Deserialize, Default)]
struct StatusQuery {
    new: Option<String>,
    followed: Option<String>,
    confirm: Option<String>,
    rated: Option<String>,
}

async fn status_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<StatusQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let (report, events) = match state.app.public_report(&code).await {
        Ok(r) => r,
        Err(_) => {
            return (StatusCode::NOT_FOUND, page(lang.t("Không tìm thấy", "Not found"), lang, None, html! {
                h1 { (lang.t("Không tìm thấy hồ sơ", "No such report")) }
                div class="error" role="alert" { (lang.t("Mã hồ sơ không đúng. Mã gồm 8 ký tự, ví dụ ABCD-2345.", "That tracking code is not right. It has 8 characters, like ABCD-2345.")) }
                p { a href="/" { (lang.t("Về trang chủ", "Home")) } }
            })).into_response();
        }
    };
    let catalog = state.app.catalog().await;
    let photos = state.app.public_photos(&report).await.unwrap_or_default();
    let followers = state.app.store.follower_count(report.id).await.unwrap_or(0);
    let csrf = phananh_app::auth::random_token();
    let mut response = page(&report.code, lang, None, html! {
        @if q.rated.is_some() {
            div class="notice" role="status" { (lang.t("Cảm ơn bạn đã đánh giá. Nếu vấn đề chưa được khắc phục, phản ánh đã được mở lại cho đơn vị xử lý.", "Thank you for rating. If it was not fixed, the report was reopened for the unit.")) }
        }
        @if q.confirm.is_some() {
            div class="notice" role="status" { (lang.t("Vui lòng mở email của bạn và bấm vào liên kết xác nhận. Bạn chỉ nhận thông báo sau khi xác nhận.", "Check your email and open the confirmation link. You will hear of updates only after confirming.")) }
        }
        @if q.followed.is_some() {
            div class="notice" role="status" { (lang.t("Bạn đang theo dõi phản ánh này. Nếu đã để lại email, bạn sẽ nhận thông báo mỗi khi có cập nhật.", "You follow this report. If you left an email, you will hear of every update.")) }
        }
        @if q.new.is_some() {
            div class="notice" role="status" {
                p { (lang.t("Đã tiếp nhận phản ánh của bạn. Mã hồ sơ:", "Your report was received. Tracking code:")) }
                p class="big" { span class="code" { (report.code) } }
                p { (lang.t("Hãy lưu mã này để tra cứu kết quả.", "Keep this code to follow your report.")) }
            }
        }
        h1 { (lang.t("Phản ánh", "Report")) " " span class="code" { (report.code) } " " (status_badge(report.status, lang)) }
        div class="card" {
            dl class="facts" {
                dt { (lang.t("Lĩnh vực", "Field")) } dd { (catalog.field_name(&report.field)) }
                @if report.status.is_published() {
                    dt { (lang.t("Nội dung", "Description")) } dd { (report.description) }
                    dt { (lang.t("Phường, xã", "Ward")) } dd { (report.ward.as_deref().map(|w| catalog.ward_name(w)).unwrap_or_else(|| "—".into())) }
                }
                dt { (lang.t("Đơn vị xử lý", "Handled by")) } dd { (catalog.unit_name(&report.unit)) }
                dt { (lang.t("Hạn xử lý", "Due")) } dd { (report.due_at.map(when).unwrap_or_else(|| "—".into())) }
                dt { (lang.t("Tiếp nhận", "Received")) } dd { (when(report.created_at)) }
            }
            @if !photos.is_empty() {
                div class="photos" { @for k in &photos { a href={"/photos/" (k)} { img src={"/photos/" (phananh_app::photos::thumb_key(k))} alt=(lang.t("Ảnh phản ánh", "Photo")) loading="lazy"; } } }
            }
        }
        h2 { (lang.t("Quá trình xử lý", "What happened")) }
        div class="card" {
            ol class="history" {
                @for e in &events {
                    li {
                        div class="when" { (when(e.at)) }
                        div { (catalog.describe(&e.kind, lang == Lang::En, true)) }
                        @if let phananh_domain::event::EventKind::Resolved { photo: Some(k), .. } = &e.kind {
                            a href={"/photos/" (k)} { img src={"/photos/" (phananh_app::photos::thumb_key(k))} alt=(lang.t("Ảnh kết quả xử lý", "Photo of the result")) loading="lazy" class="thumb"; }
                        }
                    }
                }
            }
        }
        @if report.status.is_open() {
            h2 id="follow" { (lang.t("Bạn cũng gặp vấn đề này?", "Same problem for you?")) }
            form class="card" method="post" action={"/r/" (report.code) "/follow"} {
                p { (lang.t("Theo dõi thay vì gửi phản ánh mới. Để lại email nếu muốn nhận thông báo khi có cập nhật (không bao giờ công khai).",
                    "Follow it instead of filing a new report. Leave an email to hear of each update (never published).")) }
                @if followers > 0 { p class="muted" { (followers) " " (lang.t("người đang theo dõi phản ánh này", "people follow this report")) } }
                input type="hidden" name="csrf" value=(csrf);
                label for="follow-email" { "Email" }
                input id="follow-email" name="email" type="email" autocomplete="email";
                p { button type="submit" { (lang.t("Cùng vấn đề — theo dõi", "Same problem — follow")) } }
            }
        }
        p { a href="/new" { (lang.t("Gửi phản ánh khác", "Report another problem")) } }
        p { a href="/mine" { (lang.t("Phản ánh của tôi trên thiết bị này", "My reports on this device")) } }
    })
    .into_response();
    add_cookie(
        &mut response,
        follow::FOLLOW_COOKIE,
        &csrf,
        7200,
        state.config.secure_cookies,
    );
    response
}

/// Filters of the public list and map.
#[derive(Deserialize, Default, Clone)]
struct PublicQuery {
    field: Option<String>,
    ward: Option<String>,
    /// open, closed, or a status of the procedure.
    status: Option<String>,
    /// YYYY-MM-DD, local dates.
    from: Option<String>,
    to: Option<String>,
    bbox: Option<String>,
    /// Tracking codes, comma-separated, at most 100 ("my reports" on a device).
    codes: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// The start of a typed local date (`YYYY-MM-DD`), or of the next day when `end`.
pub(crate) fn local_day(s: &Option<String>, end: bool) -> Option<chrono::DateTime<chrono::Utc>> {
    let d = chrono::NaiveDate::parse_from_str(s.as_deref()?.trim(), "%Y-%m-%d").ok()?;
    let d = if end { d.succ_opt()? } else { d };
    let local = d
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(phananh_domain::calendar::city_tz())
        .single()?;
    Some(local.with_timezone(&chrono::Utc))
}

impl PublicQuery {
    fn filter(&self) -> Result<phananh_storage::ReportFilter, String> {
        use phananh_domain::model::Status;
        let some = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let per_page = self.per_page.unwrap_or(50).clamp(1, 500);
        let mut f = phananh_storage::ReportFilter {
            field: some(&self.field),
            ward: some(&self.ward),
            created_from: local_day(&self.from, false),
            created_to: local_day(&self.to, true),
            hide_rejected: true,
            limit: per_page,
            offset: (self.page.unwrap_or(1).max(1) - 1) * per_page,
            ..Default::default()
        };
        if let Some(from) = f.created_from
            && let Err(e) = phananh_app::performance::check_period(
                "from",
                from,
                f.created_to.unwrap_or_else(chrono::Utc::now),
            )
        {
            return Err(e.message());
        }
        match some(&self.status).as_deref() {
            None => {}
            Some("open") => f.statuses = Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
            Some("closed") => f.statuses = vec![Status::Resolved, Status::Closed],
            Some(s) => f.statuses = vec![Status::parse(s).ok_or_else(|| format!("status {s}"))?],
        }
        if let Some(c) = some(&self.codes) {
            let codes: Vec<&str> = c
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            if codes.is_empty() || codes.len() > 100 {
                return Err("codes (1 to 100)".into());
            }
            for c in codes {
                let code = c
                    .parse::<phananh_domain::code::TrackingCode>()
                    .map_err(|_| format!("code {}", c.chars().take(20).collect::<String>()))?;
                f.codes.push(code.to_string());
            }
        }
        if let Some(b) = some(&self.bbox) {
            let v: Vec<f64> = b.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            if v.len() != 4 || v.iter().any(|x| !x.is_finite()) {
                return Err("bbox".into());
            }
            f.bbox = Some([v[0], v[1], v[2], v[3]]);
        }
        Ok(f)
    }

    /// The same filters as a query string (for the map's requests and paging links).
    fn query_string(&self, page: Option<i64>) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("field", &self.field),
            ("ward", &self.ward),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                let clean: String = v
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                    .collect();
                parts.push(format!("{k}={clean}"));
            }
        }
        if let Some(p) = page {
            parts.push(format!("page={p}"));
        }
        parts.join("&")
    }
}

/// Reports for the public map and list: no personal data, no rejected reports.
async fn public_list(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    let filter = q.filter().map_err(|what| {
        crate::error::ApiError::bad_request(
            "invalid_filter",
            format!("Bộ lọc không hợp lệ / invalid filter: {what}"),
        )
    })?;
    let page = state.app.public_list(filter).await?;
    let catalog = state.app.catalog().await;
    Ok(axum::Json(serde_json::json!({
        "items": page.items.iter().map(|r| serde_json::json!({
            "code": r.code, "field": r.field, "field_name": catalog.field_name(&r.field),
            "status": r.status, "status_label": r.status.label_vi(), "lat": r.lat, "lon": r.lon,
            "ward": r.ward, "ward_name": r.ward.as_deref().map(|w| catalog.ward_name(w)),
            "unit_name": catalog.unit_name(&r.unit), "created_at": r.created_at,
        })).collect::<Vec<_>>(),
        "has_more": page.has_more,
    })))
}

async fn map_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let catalog = state.app.catalog().await;
    let filter = match q.filter() {
        Ok(f) => f,
        Err(_) => PublicQuery::default().filter().unwrap_or_default(),
    };
    let page_data = state
        .app
        .public_list(filter)
        .await
        .unwrap_or(phananh_storage::Page {
            items: vec![],
            has_more: false,
        });
    let page_no = q.page.unwrap_or(1).max(1);
    let [lat0, lon0] = catalog.city.center;
    let sel = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    page(lang.t("Bản đồ phản ánh", "Map of reports"), lang, None, html! {
        h1 { (lang.t("Bản đồ phản ánh", "Map of reports")) }
        form class="card filters" method="get" action="/map" {
            div { label for="f" { (lang.t("Lĩnh vực", "Field")) } select id="f" name="field" { option value="" { (lang.t("Tất cả", "All")) }
                @for f in &catalog.fields { option value=(f.code) selected[sel(&q.field, &f.code)] { (lang.t(&f.name_vi, &f.name_en)) } } } }
            div { label for="w" { (lang.t("Phường, xã", "Ward")) } select id="w" name="ward" { option value="" { (lang.t("Tất cả", "All")) }
                @for w in &catalog.wards { option value=(w.code) selected[sel(&q.ward, &w.code)] { (w.name_vi) } } } }
            div { label for="s" { (lang.t("Trạng thái", "Status")) } select id="s" name="status" {
                option value="" { (lang.t("Tất cả", "All")) }
                option value="open" selected[sel(&q.status, "open")] { (lang.t("Đang xử lý", "Open")) }
                option value="closed" selected[sel(&q.status, "closed")] { (lang.t("Đã xử lý", "Resolved")) } } }
            div { label for="from" { (lang.t("Từ ngày", "From")) } input id="from" name="from" type="date" value=(q.from.clone().unwrap_or_default()); }
            div { label for="to" { (lang.t("Đến ngày", "To")) } input id="to" name="to" type="date" value=(q.to.clone().unwrap_or_default()); }
            div { button type="submit" { (lang.t("Lọc", "Filter")) } }
        }
        div id="map" data-lat=(lat0) data-lon=(lon0) data-tiles=(state.config.tile_url) data-attribution=(state.config.tile_attribution)
            data-filters=(q.query_string(None)) class="tall" {}
        table {
            thead { tr { th { (lang.t("Mã", "Code")) } th { (lang.t("Lĩnh vực", "Field")) } th { (lang.t("Phường, xã", "Ward")) } th { (lang.t("Trạng thái", "Status")) } th { (lang.t("Tiếp nhận", "Received")) } } }
            tbody {
                @for r in &page_data.items {
                    tr { td { a class="code" href={"/r/" (r.code)} { (r.code) } } td { (catalog.field_name(&r.field)) }
                        td { (r.ward.as_deref().map(|w| catalog.ward_name(w)).unwrap_or_default()) } td { (status_badge(r.status, lang)) } td { (when(r.created_at)) } }
                }
                @if page_data.items.is_empty() { tr { td colspan="5" class="muted" { (lang.t("Không có phản ánh nào.", "No reports.")) } } }
            }
        }
        nav class="pager" {
            @if page_no > 1 { a href={"/map?" (q.query_string(Some(page_no - 1)))} { "← " (lang.t("Trang trước", "Previous")) } }
            @if page_data.has_more { a href={"/map?" (q.query_string(Some(page_no + 1)))} { (lang.t("Trang sau", "Next")) " →" } }
        }
        link rel="stylesheet" href="/static/leaflet/leaflet.css";
        link rel="stylesheet" href="/static/markercluster/MarkerCluster.css";
        link rel="stylesheet" href="/static/markercluster/MarkerCluster.Default.css";
        script src="/static/leaflet/leaflet.js" {}
        script src="/static/markercluster/leaflet.markercluster.js" {}
        script src="/static/map.js" {}
    })
    .into_response()
}

fn bars(rows: &[(String, i64)], label: impl Fn(&str) -> String) -> Markup {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    html! {
        table class="bars" {
            tbody { @for (k, n) in rows {
                tr { th scope="row" { (label(k)) } td { div class={"bar w" ((n * 100 / max).clamp(0, 100))} {} } td class="num" { (n) } }
            } }
        }
    }
}

async fn stats_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let now = state.app.clock.now();
    let from = local_day(&q.from, false).unwrap_or(now - chrono::Duration::days(84));
    let to = local_day(&q.to, true).unwrap_or(now);
    if let Err(e) = phananh_app::performance::check_period("from", from, to) {
        return crate::console::error_page(&e, lang, None);
    }
    let stats = match state.app.store.stats(from, to).await {
        Ok(s) => s,
        Err(e) => return crate::console::error_page(&AppError::from(e), lang, None),
    };
    let catalog = state.app.catalog().await;
    let (ratings, score, not_fixed) = state
        .app
        .satisfaction(from, to)
        .await
        .unwrap_or((0, None, None));
    let on_time = if stats.finished > 0 {
        stats.finished_on_time * 100 / stats.finished
    } else {
        0
    };
    let weeks: Vec<(String, i64)> = stats
        .by_week
        .iter()
        .map(|(w, n)| {
            (
                when(chrono::DateTime::from_timestamp_millis(*w).unwrap_or_default())
                    .split(' ')
                    .nth(1)
                    .unwrap_or("")
                    .to_string(),
                *n,
            )
        })
        .collect();
    page(lang.t("Thống kê", "Statistics"), lang, None, html! {
        h1 { (lang.t("Thống kê phản ánh", "Report statistics")) }
        form class="card filters" method="get" action="/stats" {
            div { label for="from" { (lang.t("Từ ngày", "From")) } input id="from" name="from" type="date" value=(q.from.clone().unwrap_or_default()); }
            div { label for="to" { (lang.t("Đến ngày", "To")) } input id="to" name="to" type="date" value=(q.to.clone().unwrap_or_default()); }
            div { button type="submit" { (lang.t("Xem", "Show")) } }
        }
        div class="card" {
            p { (lang.t("Tổng số phản ánh:", "Reports:")) " " strong { (stats.total) } " · "
                (lang.t("Đã xử lý đúng hạn:", "Resolved on time:")) " " strong { (on_time) "%" } " "
                span class="muted" { "(" (stats.finished_on_time) "/" (stats.finished) ")" } }
            @if let (Some(avg), Some(nf)) = (score, not_fixed) {
                p { (lang.t("Mức hài lòng của người dân:", "Citizens' satisfaction:")) " " strong { (format!("{avg:.1}")) "/5" } " "
                    span class="muted" { "(" (ratings) " " (lang.t("lượt đánh giá", "ratings")) "; " (format!("{:.0}%", nf * 100.0)) " " (lang.t("báo chưa khắc phục", "said not fixed")) ")" } }
            }
            p class="muted" { (when(from)) " – " (when(to)) }
        }
        @if stats.total == 0 {
            p class="muted" { (lang.t("Chưa có phản ánh nào trong khoảng thời gian này.", "No reports in this period.")) }
        }
        div class="grid" hidden[stats.total == 0] {
            div { h2 { (lang.t("Theo lĩnh vực", "By field")) } (bars(&stats.by_field, |k| catalog.field_name(k))) }
            div { h2 { (lang.t("Theo trạng thái", "By status")) }
                (bars(&stats.by_status, |k| phananh_domain::model::Status::parse(k).map(|s| lang.t(s.label_vi(), s.label_en()).to_string()).unwrap_or_else(|| k.to_string()))) }
            div { h2 { (lang.t("Theo tuần", "By week")) } (bars(&weeks, |k| k.to_string())) }
            div { h2 { (lang.t("Phường, xã nhiều phản ánh nhất", "Wards with most reports")) } (bars(&stats.by_ward, |k| catalog.ward_name(k))) }
            div { h2 { (lang.t("Theo đơn vị xử lý", "By unit")) } (bars(&stats.by_unit, |k| catalog.unit_name(k))) }
        }
    })
    .into_response()
}
