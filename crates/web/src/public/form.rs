//! The report form: shown empty or pre-filled by a chat, posted as multipart with photos.

use std::collections::HashMap;

use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use phananh_app::intake::IntakeRequest;
use phananh_app::{AppError, FieldError};
use phananh_domain::model::{Actor, Channel};

use crate::layout::page;
use crate::session::{ClientIp, add_cookie, lang_of};
use crate::{AppState, Lang};

const FORM_COOKIE: &str = "phananh_form";

/// The report form's caps: five photos of at most 10 MB each and one video or voice note
/// of at most the media limit (50 MB by default), streamed to disk; text fields of at most
/// [`MAX_FORM_TEXT`] bytes, at most [`MAX_FORM_FIELDS`] parts. The whole body is capped
/// at their sum ([`max_form_body`]).
const MAX_FORM_TEXT: usize = 32 * 1024;
const MAX_FORM_FIELDS: usize = 64;

/// The largest body the form may send with these limits.
pub(super) fn max_form_body(app: &phananh_app::App) -> usize {
    let media = usize::try_from(app.media_limits.max_bytes).unwrap_or(usize::MAX);
    (phananh_app::photos::MAX_PHOTOS * app.photo_limits.max_bytes)
        .saturating_add(media)
        .saturating_add(256 * 1024)
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
    let media_mb = state.app.media_limits.max_bytes / (1024 * 1024);
    let media_secs = state.app.media_limits.max_duration.as_secs();
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
            (crate::questions::inputs(&catalog.fields, lang, |n| typed.get(n).to_string(), typed.error("attributes", lang)))
            label for="description" { (lang.t("2. Mô tả", "2. Describe it")) }
            (error_line(typed.error("description", lang), "description-error"))
            textarea id="description" name="description" required maxlength="5000" rows="4"
                placeholder=(lang.t("Ví dụ: ổ gà lớn giữa làn xe máy trước số 12", "e.g. a deep pothole in the motorbike lane outside no. 12")) { (typed.get("description")) }
            label for="photo" { (lang.t("3. Ảnh (tối đa 5, mỗi ảnh ≤ 10 MB)", "3. Photos (up to 5, 10 MB each)")) }
            (error_line(typed.error("photos", lang), "photo-error"))
            input id="photo" name="photo" type="file" accept="image/*" capture="environment" multiple;
            label for="media" { (lang.t(&format!("Video hoặc ghi âm (một tệp, ≤ {media_mb} MB, ≤ {media_secs} giây)"), &format!("A video or voice note (one file, up to {media_mb} MB and {media_secs} seconds)"))) }
            (error_line(typed.error("media", lang), "media-error"))
            input id="media" name="media" type="file" accept="video/mp4,video/quicktime,video/3gpp,video/webm,audio/mp4,audio/aac,audio/ogg,audio/webm,audio/amr,video/*,audio/*";
            p class="muted" { (lang.t("Ảnh được xử lý lại, video và ghi âm được đóng gói lại, xóa toàn bộ thông tin vị trí, thiết bị trước khi lưu. Nhận video MP4, MOV, 3GP, WebM và ghi âm M4A, AAC, OGG, AMR.", "Photos are re-encoded, videos and voice notes re-packaged, and stripped of location and device data before they are kept. MP4, MOV, 3GP and WebM videos and M4A, AAC, OGG and AMR voice notes are accepted.")) }
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
        script src="/static/questions.js" {}
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
pub(super) async fn form_page(
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

pub(super) async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let lang = lang_of(&headers);
    let mut typed = Typed::default();
    // The body's cap follows the configured limits (the route's own cap is lifted).
    let limit = max_form_body(&state.app);
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        typed.errors.push(FieldError::new(
            "photos",
            "upload_failed",
            "Tải lên bị gián đoạn hoặc quá lớn, vui lòng thử lại",
            "The upload was cut off or too large; try again",
        ));
        return render_form(&state, lang, &typed, StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    let (parts, body) = request.into_parts();
    let limited = axum::extract::Request::from_parts(
        parts,
        axum::body::Body::new(http_body_util::Limited::new(body, limit)),
    );
    let mut multipart =
        match <Multipart as axum::extract::FromRequest<AppState>>::from_request(limited, &state)
            .await
        {
            Ok(m) => m,
            Err(r) => return r.into_response(),
        };
    let mut photos: Vec<std::fs::File> = Vec::new();
    let mut media: Option<std::fs::File> = None;
    let max_photo = state.app.photo_limits.max_bytes;
    let max_media = usize::try_from(state.app.media_limits.max_bytes).unwrap_or(usize::MAX);
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
        } else if name == "media" {
            if media.is_some() {
                if !typed.errors.iter().any(|e| e.code == "too_many_media") {
                    typed.errors.push(FieldError::new(
                        "media",
                        "too_many_media",
                        "Chỉ gửi được một video hoặc ghi âm qua biểu mẫu",
                        "The form takes one video or voice note",
                    ));
                }
                continue;
            }
            match crate::spool::to_file(field, max_media).await {
                Ok(f) => media = f,
                Err(crate::spool::SpoolError::TooLarge) => {
                    let mb = max_media / (1024 * 1024);
                    typed.errors.push(FieldError::new(
                        "media",
                        "media_too_large",
                        &format!("Tệp video hoặc ghi âm lớn hơn {mb} MB"),
                        &format!("The video or voice file is larger than {mb} MB"),
                    ));
                    return render_form(&state, lang, &typed, StatusCode::PAYLOAD_TOO_LARGE).await;
                }
                Err(_) => {
                    typed.errors.push(FieldError::new(
                        "media",
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
    if !crate::csrf::cookie_ok(&headers, FORM_COOKIE, typed.get("csrf")) {
        return crate::layout::csrf_failed(lang, None);
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
    // The form's photos and recording count against the same upload quota as the API's.
    if !photos.iter().chain(media.iter()).all(|p| {
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
            Err(e) => return crate::layout::error_page(&e, lang, None),
        }
    }
    let mut media_keys = Vec::new();
    if let Some(f) = media {
        match state.app.store_media_file(f).await {
            Ok(m) => media_keys.push(m.key),
            Err(AppError::Validation(mut e)) => typed.errors.append(&mut e),
            Err(e) => return crate::layout::error_page(&e, lang, None),
        }
    }
    if !typed.errors.is_empty() {
        return render_form(&state, lang, &typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let opt = |k: &str| Some(typed.get(k).trim().to_string()).filter(|s| !s.is_empty());
    let number = |k: &str| opt(k).and_then(|v| v.parse::<f64>().ok());
    let attributes = {
        let catalog = state.app.catalog().await;
        crate::questions::answers(
            catalog.field(typed.get("field")),
            typed.values.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
    };
    let request = IntakeRequest {
        attributes,
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
        media: media_keys,
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
        Err(e) => crate::layout::error_page(&e, lang, None),
    }
}
