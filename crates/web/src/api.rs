//! The JSON API, `/api/v1`. `POST /api/v1/reports` is the intake every channel builds on.

use crate::routes::{Routes, get, post};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use phananh_app::AppError;
use phananh_app::intake::IntakeRequest;
use phananh_app::query::ReportQuery;
use phananh_domain::event::{Event, EventKind};
use phananh_domain::model::{Actor, ActorKind, Channel, Report, Reporter, Status};
use phananh_domain::procedure::{Action, Command};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::session::{ClientIp, MaybeStaff, Staff};

pub fn routes() -> Routes {
    Routes::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/reports", post(create_report))
        .route("/api/v1/reports/{code}", get(public_report))
        .route("/api/v1/photos", post(upload_photo))
        .route("/photos/{*key}", get(photo))
        .route("/media/{*key}", get(media))
        .route("/api/v1/fields", get(fields))
        .route("/api/v1/wards", get(wards))
        .route("/api/v1/staff/reports", get(staff_list))
        .route("/api/v1/staff/reports/{code}", get(staff_report))
        .route("/api/v1/staff/reports/{code}/actions", post(staff_action))
        .route("/api/v1/staff/reports/bulk", post(staff_bulk))
        .route(
            "/api/v1/staff/reports/{code}/templates",
            get(staff_templates),
        )
        .route(
            "/api/v1/staff/reports/{code}/duplicates",
            get(staff_duplicates),
        )
        .route(
            "/api/v1/staff/reports/{code}/moderation",
            post(staff_moderation),
        )
}

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

/// JSON bodies that do not parse get our error format, in Vietnamese and English.
fn json_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let (code, vi) = if status == StatusCode::PAYLOAD_TOO_LARGE {
        (ErrorCode::BodyTooLarge, "Nội dung gửi lên quá lớn")
    } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        (
            ErrorCode::UnsupportedMediaType,
            "Cần gửi JSON (Content-Type: application/json)",
        )
    } else {
        (
            ErrorCode::MalformedJson,
            "Dữ liệu JSON không đúng định dạng",
        )
    };
    ApiError::new(status, code, format!("{vi} / {}", rejection.body_text()))
}

/// The answer to a filing: the tracking code and where the report went.
#[derive(Serialize)]
struct Received {
    code: String,
    status: Status,
    status_label: &'static str,
    unit: String,
    unit_name: String,
    ward: Option<String>,
    ward_name: Option<String>,
    due_at: Option<DateTime<Utc>>,
    replayed: bool,
    url: String,
    message: String,
}

/// Which channel a submission counts as: web and api by default; a staff session may file
/// for the hotline. Integrators get their own channel with API keys (Open311).
#[derive(Deserialize)]
struct IntakeBody {
    #[serde(flatten)]
    request: IntakeRequest,
    #[serde(default)]
    channel: Option<String>,
}

async fn create_report(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeStaff(staff): MaybeStaff,
    headers: HeaderMap,
    body: Result<Json<IntakeBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    if staff.is_none() && !state.limits.intake(ip) {
        return Err(ApiError::rate_limited());
    }
    if let Some(s) = &staff {
        if !s.principal.can_file_reports() {
            return Err(AppError::Forbidden.into());
        }
        // Checked before the CSRF token too: a script holding a session is stopped either way.
        if !state.limits.staff_filing(s.principal.user_id) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::StaffRateLimited,
                "Bạn đã tiếp nhận quá nhiều phản ánh trong thời gian ngắn, vui lòng thử lại sau ít phút / \
                 you filed too many reports in a short time; try again in a few minutes",
            ));
        }
    }
    let Json(body) = body.map_err(json_error)?;
    if staff.is_none()
        && !state
            .limits
            .contact(body.request.phone.as_deref(), body.request.email.as_deref())
    {
        return Err(ApiError::rate_limited());
    }
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_string))
        .transpose()
        .map_err(|_| {
            ApiError::bad_request(
                ErrorCode::InvalidIdempotencyKey,
                "Idempotency-Key không hợp lệ / invalid Idempotency-Key",
            )
        })?;
    let channel = match body.channel.as_deref() {
        None | Some("web") => Channel::Web,
        Some("api") => Channel::Api,
        Some(other) => match (Channel::parse(other), &staff) {
            // Operators file for the channel the citizen used (a call, a letter...).
            (Some(c), Some(s)) if s.principal.can_file_for_channel() => c,
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidChannel,
                    "Kênh không hợp lệ cho yêu cầu này / channel not allowed for this request",
                ));
            }
        },
    };
    if let Some(s) = &staff
        && !crate::csrf::header_ok(s, &headers)
    {
        return Err(ApiError::csrf());
    }
    let actor = match &staff {
        Some(s) => Actor::staff(s.principal.user_id, &s.principal.name),
        None => Actor::citizen(),
    };
    let receipt = state
        .app
        .submit(body.request, channel, actor, None, key)
        .await?;
    let status = if receipt.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let catalog = state.app.catalog().await;
    let body = Received {
        status: receipt.status,
        status_label: receipt.status.label_vi(),
        unit_name: catalog.unit_name(&receipt.unit),
        unit: receipt.unit,
        ward_name: receipt.ward.as_deref().map(|w| catalog.ward_name(w)),
        ward: receipt.ward,
        due_at: receipt.due_at,
        replayed: receipt.replayed,
        url: format!("/api/v1/reports/{}", receipt.code),
        message: format!(
            "Đã tiếp nhận phản ánh. Mã hồ sơ của bạn: {} / Report received, tracking code {}",
            receipt.code, receipt.code
        ),
        code: receipt.code,
    };
    let mut response = (status, Json(body)).into_response();
    if receipt.replayed {
        response.headers_mut().insert(
            "idempotency-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

/// Uploads one photo (the request body is the image); returns its key to put in a report's
/// `photos` or a resolution's `photo`. Anonymous uploads count against the intake limit and
/// the address's upload quota (number and bytes per hour). The photo stays private (404 at
/// its URL) until a report or a resolution uses it, and is deleted after 24 hours if none does.
///
/// The body is streamed to a temporary file and cut off past the photo limit (10 MB);
/// a `Content-Length` over it is refused before anything is read.
async fn upload_photo(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeStaff(staff): MaybeStaff,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    if let Some(s) = &staff
        && !s.principal.can_upload_photos()
    {
        return Err(AppError::Forbidden.into());
    }
    if staff.is_none() && !state.limits.intake(ip) {
        return Err(ApiError::rate_limited());
    }
    if staff.is_none() && !state.limits.upload(ip) {
        return Err(upload_quota());
    }
    let max = state.app.photo_limits.max_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PhotoTooLarge,
            "Ảnh lớn hơn 10 MB / the photo is larger than 10 MB",
        )
    };
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let file = match crate::spool::to_file(body.into_data_stream(), max).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return Err(ApiError::bad_request(
                ErrorCode::PhotoMissing,
                "Chưa có ảnh trong yêu cầu / the request has no photo",
            ));
        }
        Err(crate::spool::SpoolError::TooLarge) => return Err(too_large()),
        Err(crate::spool::SpoolError::Read) => {
            return Err(ApiError::bad_request(
                ErrorCode::UploadFailed,
                "Tải lên bị gián đoạn, vui lòng thử lại / the upload was cut off; try again",
            ));
        }
        Err(crate::spool::SpoolError::Io(e)) => {
            return Err(phananh_app::AppError::Internal(format!("spooling a photo: {e}")).into());
        }
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(max as u64);
    if staff.is_none() && !state.limits.upload_bytes(ip, len as usize) {
        return Err(upload_quota());
    }
    // A staff member's photo (a resolution taken on site) keeps where it was taken.
    let stored = match &staff {
        Some(_) => state.app.store_staff_photo_file(file).await?,
        None => state.app.store_photo_file(file).await?,
    };
    Ok((
        StatusCode::CREATED,
        Json(Uploaded {
            url: format!("/photos/{}", stored.key),
            thumb_url: format!("/photos/{}", stored.thumb),
            photo: stored.key,
            thumb: stored.thumb,
            width: stored.width,
            height: stored.height,
            position: stored.position,
        }),
    )
        .into_response())
}

/// A kept upload: its key (for a report's `photos`) and where it is served.
#[derive(Serialize)]
struct Uploaded {
    photo: String,
    thumb: String,
    width: u32,
    height: u32,
    url: String,
    thumb_url: String,
    /// Where a staff member's photo was taken (never for a citizen's).
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<phananh_domain::model::Point>,
}

/// The answer when an address used up its upload quota.
pub(crate) fn upload_quota() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::UploadQuotaExceeded,
        "Bạn đã tải lên quá nhiều ảnh trong giờ qua, vui lòng thử lại sau / \
         too many photos uploaded from your address in the last hour; try again later",
    )
}

/// A kept photo (already stripped of metadata when it was uploaded). Only photos of
/// published reports are public; staff see those of the reports they may see; an upload no
/// report uses yet is "not found" to everyone.
async fn photo(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let served = state
        .app
        .photo_bytes(&key, staff.as_ref().map(|s| &s.principal))
        .await?;
    // A day, not a year: a report rejected later stops being served by caches soon.
    let cache = if served.public {
        "public, max-age=86400"
    } else {
        "private, no-store"
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/jpeg"),
            (axum::http::header::CACHE_CONTROL, cache),
        ],
        served.bytes,
    )
        .into_response())
}

/// A kept video or voice note, or a video's poster (remuxed without metadata when it was
/// kept), by the rule photos follow: public while its report is published, to staff who
/// may see its report, "not found" otherwise. One `Range` (`bytes=a-b`, `a-`, `-n`) is
/// answered with 206 and at most 4 MB, as players ask for a video in parts.
async fn media(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    use axum::http::header;
    use phananh_app::media::{ByteRange, Part};
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(ByteRange::parse);
    let served = state
        .app
        .media_file(&key, staff.as_ref().map(|s| &s.principal), range)
        .await?;
    let cache = if served.public {
        "public, max-age=86400"
    } else {
        "private, no-store"
    };
    let mut response = served.bytes.into_response();
    let h = response.headers_mut();
    let value = |s: &str| {
        axum::http::HeaderValue::from_str(s)
            .unwrap_or_else(|_| axum::http::HeaderValue::from_static("application/octet-stream"))
    };
    h.insert(header::CONTENT_TYPE, value(&served.content_type));
    h.insert(header::CACHE_CONTROL, value(cache));
    h.insert(header::ACCEPT_RANGES, value("bytes"));
    match served.part {
        Part::Whole => {}
        Part::Range(first, last) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                value(&format!("bytes {first}-{last}/{}", served.total)),
            );
        }
        Part::Unsatisfiable => {
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                value(&format!("bytes */{}", served.total)),
            );
        }
    }
    Ok(response)
}

/// Where a photo and its thumbnail are served.
#[derive(Serialize)]
struct PhotoUrls {
    url: String,
    thumb_url: String,
}

fn photo_urls(key: &str) -> PhotoUrls {
    PhotoUrls {
        url: format!("/photos/{key}"),
        thumb_url: format!("/photos/{}", phananh_app::photos::thumb_key(key)),
    }
}

/// The public JSON of a report: no personal data, no staff names, no internal notes.
#[derive(Serialize)]
pub struct PublicReport<'a> {
    photos: Vec<PhotoUrls>,
    code: &'a str,
    field: &'a str,
    field_name: String,
    description: &'a str,
    lat: Option<f64>,
    lon: Option<f64>,
    ward: Option<&'a str>,
    ward_name: Option<String>,
    channel: Channel,
    status: Status,
    status_label: &'static str,
    unit: &'a str,
    unit_name: String,
    due_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The report this one duplicates (it was closed as the same problem).
    duplicate_of: Option<&'a str>,
    history: Vec<PublicStep>,
}

/// One step of a report's public history, in Vietnamese and English.
#[derive(Serialize)]
struct PublicStep {
    at: DateTime<Utc>,
    #[serde(rename = "type")]
    kind: &'static str,
    by: ActorKind,
    text: String,
    text_en: String,
    photo: Option<PhotoUrls>,
}

pub fn public_json<'a>(
    report: &'a Report,
    events: &[Event],
    photos: &[String],
    catalog: &phananh_app::Catalog,
) -> PublicReport<'a> {
    PublicReport {
        photos: photos.iter().map(|k| photo_urls(k)).collect(),
        code: &report.code,
        field: &report.field,
        field_name: catalog.field_name(&report.field),
        description: &report.description,
        lat: report.lat,
        lon: report.lon,
        ward: report.ward.as_deref(),
        ward_name: report.ward.as_deref().map(|w| catalog.ward_name(w)),
        channel: report.channel,
        status: report.status,
        status_label: report.status.label_vi(),
        unit: &report.unit,
        unit_name: catalog.unit_name(&report.unit),
        due_at: report.due_at,
        created_at: report.created_at,
        updated_at: report.updated_at,
        duplicate_of: report.duplicate_of.as_deref(),
        history: events
            .iter()
            .map(|e| PublicStep {
                at: e.at,
                kind: e.kind.type_name(),
                by: e.actor.kind,
                text: catalog.describe(&e.kind, false, true),
                text_en: catalog.describe(&e.kind, true, true),
                photo: match &e.kind {
                    EventKind::Resolved { photo: Some(k), .. } => Some(photo_urls(k)),
                    _ => None,
                },
            })
            .collect(),
    }
}

async fn public_report(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let (report, events) = state.app.public_report(&code).await?;
    let photos = state.app.public_photos(&report).await?;
    let catalog = state.app.catalog().await;
    Ok(Json(public_json(&report, &events, &photos, &catalog)).into_response())
}

/// A field as forms list it.
#[derive(Serialize)]
struct FieldInfo<'a> {
    code: &'a str,
    name_vi: &'a str,
    name_en: &'a str,
    icon: &'a str,
    resolve_days: u32,
}

async fn fields(State(state): State<AppState>) -> Response {
    let c = state.app.catalog().await;
    let list: Vec<FieldInfo> = c
        .fields
        .iter()
        .map(|f| FieldInfo {
            code: &f.code,
            name_vi: &f.name_vi,
            name_en: &f.name_en,
            icon: &f.icon,
            resolve_days: f.resolve_days,
        })
        .collect();
    Json(list).into_response()
}

/// A ward as forms list it.
#[derive(Serialize)]
struct WardInfo<'a> {
    code: &'a str,
    name_vi: &'a str,
    name_en: &'a str,
}

async fn wards(State(state): State<AppState>) -> Response {
    let c = state.app.catalog().await;
    let list: Vec<WardInfo> = c
        .wards
        .iter()
        .map(|w| WardInfo {
            code: &w.code,
            name_vi: &w.name_vi,
            name_en: &w.name_en,
        })
        .collect();
    Json(list).into_response()
}

fn require(staff: Option<Staff>) -> Result<Staff, ApiError> {
    staff.ok_or_else(ApiError::unauthorized)
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub status: Option<String>,
    pub field: Option<String>,
    pub ward: Option<String>,
    pub unit: Option<String>,
    pub overdue: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl ListQuery {
    pub fn filter(&self, now: chrono::DateTime<chrono::Utc>) -> Result<ReportQuery, ApiError> {
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let mut statuses = Vec::new();
        if let Some(s) = nonempty(&self.status) {
            for part in s.split(',') {
                statuses.push(Status::parse(part.trim()).ok_or_else(|| {
                    ApiError::bad_request(
                        ErrorCode::InvalidStatus,
                        format!("Trạng thái không hợp lệ / unknown status: {part}"),
                    )
                })?);
            }
        }
        let per_page = self.per_page.unwrap_or(50).clamp(1, 200);
        let page = self.page.unwrap_or(1).max(1);
        Ok(ReportQuery {
            unit: nonempty(&self.unit),
            statuses,
            field: nonempty(&self.field),
            ward: nonempty(&self.ward),
            overdue_at: matches!(self.overdue.as_deref(), Some("1" | "true" | "on")).then_some(now),
            limit: per_page,
            offset: (page - 1) * per_page,
            ..ReportQuery::default()
        })
    }
}

/// A report as staff see it in lists and after an action.
#[derive(Serialize)]
struct StaffReport<'a> {
    code: &'a str,
    field: &'a str,
    field_name: String,
    description: &'a str,
    lat: Option<f64>,
    lon: Option<f64>,
    address: Option<&'a str>,
    ward: Option<&'a str>,
    channel: Channel,
    status: Status,
    unit: &'a str,
    assignee: Option<i64>,
    due_at: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Answers to the field's extra questions, by question code.
    attributes: &'a std::collections::BTreeMap<String, Vec<String>>,
    /// Whether the words and photos are public yet, and the text the public sees.
    publication: phananh_domain::model::Publication,
    public_text: Option<&'a str>,
    /// An urgent case (deadline in clock hours, first in the queues).
    urgent: bool,
    /// The report this one was merged into, as a duplicate.
    duplicate_of: Option<&'a str>,
}

fn staff_json<'a>(r: &'a Report, catalog: &phananh_app::Catalog) -> StaffReport<'a> {
    StaffReport {
        code: &r.code,
        field: &r.field,
        field_name: catalog.field_name(&r.field),
        description: &r.description,
        lat: r.lat,
        lon: r.lon,
        address: r.address.as_deref(),
        ward: r.ward.as_deref(),
        channel: r.channel,
        status: r.status,
        unit: &r.unit,
        assignee: r.assignee,
        due_at: r.due_at,
        paused_at: r.paused_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
        attributes: &r.extra.attributes,
        publication: r.publication,
        public_text: r.public_text.as_deref(),
        urgent: r.urgent,
        duplicate_of: r.duplicate_of.as_deref(),
    }
}

/// A page of a staff list.
#[derive(Serialize)]
struct StaffPage<'a> {
    items: Vec<StaffReport<'a>>,
    has_more: bool,
}

/// One report with what this person may see and do.
#[derive(Serialize)]
struct StaffReportView<'a> {
    #[serde(flatten)]
    report: StaffReport<'a>,
    overdue: bool,
    reporter: Option<&'a Reporter>,
    actions: &'a [Action],
    photos: Vec<PhotoUrls>,
    history: Vec<StaffStep<'a>>,
}

/// One step of a report's full history.
#[derive(Serialize)]
struct StaffStep<'a> {
    seq: i64,
    at: DateTime<Utc>,
    actor: &'a Actor,
    event: &'a EventKind,
}

async fn staff_list(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let staff = require(staff)?;
    let filter = q.filter(state.app.clock.now())?;
    let page = state.app.staff_list(&staff.principal, filter).await?;
    let catalog = state.app.catalog().await;
    Ok(Json(StaffPage {
        items: page.items.iter().map(|r| staff_json(r, &catalog)).collect(),
        has_more: page.has_more,
    })
    .into_response())
}

async fn staff_report(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let staff = require(staff)?;
    let view = state.app.staff_report(&staff.principal, &code).await?;
    let catalog = state.app.catalog().await;
    Ok(Json(StaffReportView {
        report: staff_json(&view.report, &catalog),
        overdue: view.overdue,
        reporter: view.reporter.as_ref(),
        actions: &view.actions,
        photos: view.photos.iter().map(|k| photo_urls(k)).collect(),
        history: view
            .events
            .iter()
            .map(|e| StaffStep {
                seq: e.seq,
                at: e.at,
                actor: &e.actor,
                event: &e.kind,
            })
            .collect(),
    })
    .into_response())
}

/// A moderation step (`{"step": "publish" | "edit_text" | "hide_photo" | "redact_photo" |
/// "hide", ...}`), as the console's forms take it.
async fn staff_moderation(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<Json<phananh_domain::moderation::Step>, JsonRejection>,
) -> Result<Response, ApiError> {
    let staff = require(staff)?;
    if !crate::csrf::header_ok(&staff, &headers) {
        return Err(ApiError::csrf());
    }
    let Json(step) = body.map_err(json_error)?;
    let report = state.app.moderate(&staff.principal, &code, step).await?;
    let catalog = state.app.catalog().await;
    Ok(Json(staff_json(&report, &catalog)).into_response())
}

/// One step on many reports: `{"codes": [...], "action": ..., ...the step's fields}`.
#[derive(Deserialize)]
struct BulkBody {
    codes: Vec<String>,
    #[serde(flatten)]
    command: Command,
}

#[derive(Serialize)]
struct BulkAnswer {
    results: Vec<phananh_app::bulk::Outcome>,
}

async fn staff_bulk(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    headers: HeaderMap,
    body: Result<Json<BulkBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let staff = require(staff)?;
    if !crate::csrf::header_ok(&staff, &headers) {
        return Err(ApiError::csrf());
    }
    let Json(body) = body.map_err(json_error)?;
    let results = state
        .app
        .bulk(&staff.principal, &body.codes, body.command)
        .await?;
    Ok(Json(BulkAnswer { results }).into_response())
}

/// One likely duplicate: the report, how far (metres) and how old (days).
#[derive(Serialize)]
struct LikelyDuplicate<'a> {
    #[serde(flatten)]
    report: StaffReport<'a>,
    distance_m: i64,
    age_days: i64,
}

#[derive(Serialize)]
struct LikelyDuplicates<'a> {
    items: Vec<LikelyDuplicate<'a>>,
}

/// The likely duplicates of a report this person may see, nearest first.
async fn staff_duplicates(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let staff = require(staff)?;
    let found = state.app.likely_duplicates(&staff.principal, &code).await?;
    let catalog = state.app.catalog().await;
    Ok(Json(LikelyDuplicates {
        items: found
            .iter()
            .map(|l| LikelyDuplicate {
                report: staff_json(&l.report, &catalog),
                distance_m: l.distance_m.round() as i64,
                age_days: l.age_days,
            })
            .collect(),
    })
    .into_response())
}

async fn staff_action(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<Json<Command>, JsonRejection>,
) -> Result<Response, ApiError> {
    let staff = require(staff)?;
    if !crate::csrf::header_ok(&staff, &headers) {
        return Err(ApiError::csrf());
    }
    let Json(command) = body.map_err(json_error)?;
    let report = state.app.act(&staff.principal, &code, command).await?;
    let catalog = state.app.catalog().await;
    Ok(Json(staff_json(&report, &catalog)).into_response())
}

#[derive(Deserialize, Default)]
struct TemplatesQuery {
    /// A step (`resolve`, `reject`, ...); none: every step.
    action: Option<String>,
}

/// The response templates for a report, rendered for it (code, unit, due date, field).
#[derive(Serialize)]
struct TemplatesList {
    items: Vec<phananh_app::templates::Rendered>,
}

/// The response templates for a step on a report, filled in for it; another unit's report
/// is not found, as everywhere in the staff API.
async fn staff_templates(
    State(state): State<AppState>,
    MaybeStaff(staff): MaybeStaff,
    Path(code): Path<String>,
    Query(q): Query<TemplatesQuery>,
) -> Result<Response, ApiError> {
    let staff = require(staff)?;
    let action = match q.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(Action::parse(a).ok_or_else(|| {
            AppError::invalid(
                "action",
                "unknown_action",
                "Bước xử lý không hợp lệ",
                "Unknown step",
            )
        })?),
    };
    let items = state
        .app
        .templates_for(&staff.principal, &code, action)
        .await?;
    Ok(Json(TemplatesList { items }).into_response())
}
