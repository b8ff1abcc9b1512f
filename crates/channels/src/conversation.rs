//! The reporting conversation, the same on every chat platform: choose a field, describe,
//! send photos, give the place, confirm, get the tracking code. A pure state machine: it
//! takes what the citizen did and answers with replies and at most one effect for the
//! worker to carry out (file the report, look a code up). Vietnamese by default; English
//! when the citizen writes in English.

use phananh_geo::text::fold_words;
use serde::{Deserialize, Serialize};

use crate::Content;

pub const MAX_PHOTOS: usize = 5;
/// Video and voice notes a chat report may carry.
pub const MAX_MEDIA: usize = 2;
const MIN_DESCRIPTION: usize = 10;
/// The longest chat message read, in characters (the description's cap at intake).
pub const MAX_TEXT: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    fn t<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    #[default]
    Idle,
    Field,
    Describe,
    Photos,
    Location,
    Confirm,
}

/// The report being put together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub field: Option<String>,
    pub description: String,
    /// The platform's links to the photos, downloaded when the report is filed.
    pub photos: Vec<String>,
    /// The platform's links to video and voice notes, downloaded when the report is filed.
    #[serde(default)]
    pub media: Vec<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub ward: Option<String>,
}

/// Where a citizen is in the conversation (kept per platform and person).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub step: Step,
    pub draft: Draft,
    pub lang: Lang,
}

/// One message to send back. `choices` are (payload, title): quick replies on Messenger,
/// a keyboard on Viber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    #[serde(default)]
    pub choices: Vec<(String, String)>,
}

impl Reply {
    fn text(s: impl Into<String>) -> Reply {
        Reply {
            text: s.into(),
            choices: vec![],
        }
    }
}

/// What the worker must do after the replies.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// File this report; the worker answers with the tracking code.
    File(Draft),
    /// Tell the citizen where this report stands.
    LookUp(String),
}

/// A field the citizen can choose.
#[derive(Debug, Clone)]
pub struct FieldChoice {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// Folded keywords that point to this field in free text.
    pub keywords: Vec<String>,
}

/// What the conversation needs to know of the city.
pub struct Context<'a> {
    pub fields: &'a [FieldChoice],
    /// A typed address → (ward code, ward name), when it names a ward.
    pub find_ward: &'a (dyn Fn(&str) -> Option<(String, String)> + Sync),
    /// The web form, for people who would rather use it (with a map).
    pub form_url: &'a str,
}

/// The tracking code in a message (`ABCD-2345`, case and spaces forgiven), if any.
pub fn tracking_code_in(text: &str) -> Option<String> {
    let t = text.trim().to_uppercase().replace(' ', "");
    let c: Vec<char> = t.chars().collect();
    (c.len() == 9
        && c[4] == '-'
        && c.iter()
            .enumerate()
            .all(|(i, ch)| i == 4 || ch.is_ascii_alphanumeric()))
    .then_some(t)
}

/// Whether a text looks English rather than Vietnamese (no diacritics, English words).
fn looks_english(text: &str) -> bool {
    if !text.is_ascii() {
        return false;
    }
    let words = fold_words(text);
    let english = [
        "hello", "hi", "the", "is", "there", "report", "a", "broken", "please", "street", "light",
        "pothole", "flood", "water", "help",
    ];
    words.split(' ').filter(|w| english.contains(w)).count() >= 1
        && !words
            .split(' ')
            .any(|w| ["toi", "khong", "duong", "bi", "o", "ga", "chao", "xin"].contains(&w))
}

fn command(text: &str) -> Option<&'static str> {
    let w = fold_words(text);
    match w.as_str() {
        "huy" | "huy bo" | "cancel" | "stop" => Some("cancel"),
        "bat dau lai" | "lam lai" | "restart" | "start over" => Some("restart"),
        _ => None,
    }
}

impl Conversation {
    /// Takes one thing the citizen did; returns the replies and what to do.
    pub fn handle(&mut self, input: &Content, ctx: &Context) -> (Vec<Reply>, Option<Effect>) {
        if let Content::Text { text } = input
            && (text.len() > 4 * MAX_TEXT || text.chars().count() > MAX_TEXT)
        {
            // Refused before any matching: a report's description has the same cap.
            let l = self.lang;
            let mut replies = vec![Reply::text(l.t(
                "Tin nhắn dài quá 5000 ký tự, vui lòng gửi ngắn hơn.",
                "The message is longer than 5000 characters; please send a shorter one.",
            ))];
            if self.step != Step::Idle {
                replies.push(self.prompt(ctx));
            }
            return (replies, None);
        }
        if let Content::Text { text } = input {
            if self.step == Step::Idle && looks_english(text) {
                self.lang = Lang::En;
            }
            if let Some(code) = tracking_code_in(text) {
                return (vec![], Some(Effect::LookUp(code)));
            }
            match command(text) {
                Some("cancel") => {
                    let had = self.step != Step::Idle;
                    *self = Conversation {
                        lang: self.lang,
                        ..Default::default()
                    };
                    let l = self.lang;
                    let msg = if had {
                        l.t(
                            "Đã hủy phản ánh đang soạn. Nhắn bất kỳ lúc nào để gửi phản ánh mới.",
                            "The draft is cancelled. Write any time to report something new.",
                        )
                    } else {
                        l.t(
                            "Không có phản ánh nào đang soạn.",
                            "There is no draft to cancel.",
                        )
                    };
                    return (vec![Reply::text(msg)], None);
                }
                Some("restart") => {
                    *self = Conversation {
                        lang: self.lang,
                        step: Step::Field,
                        ..Default::default()
                    };
                    return (vec![self.ask_field(ctx, true)], None);
                }
                _ => {}
            }
        }
        if let Content::Choice { payload, .. } = input {
            match payload.as_str() {
                "CANCEL" => {
                    *self = Conversation {
                        lang: self.lang,
                        ..Default::default()
                    };
                    let msg = self
                        .lang
                        .t("Đã hủy phản ánh đang soạn.", "The draft is cancelled.");
                    return (vec![Reply::text(msg)], None);
                }
                "GET_STARTED" | "NEW" => {
                    *self = Conversation {
                        lang: self.lang,
                        step: Step::Field,
                        ..Default::default()
                    };
                    return (vec![self.ask_field(ctx, true)], None);
                }
                _ => {}
            }
        }
        match input {
            Content::Started { .. } => return (vec![self.welcome(ctx)], None),
            Content::Subscribed | Content::Unsubscribed => return (vec![], None),
            Content::Unsupported { .. } => {
                let l = self.lang;
                let msg = l.t(
                    "Xin lỗi, tổng đài chưa dùng được loại tin này. Bạn có thể gửi chữ, ảnh hoặc vị trí.",
                    "Sorry, we cannot use that kind of message. You can send text, photos or a location.",
                );
                let mut replies = vec![Reply::text(msg)];
                if self.step != Step::Idle {
                    replies.push(self.prompt(ctx));
                }
                return (replies, None);
            }
            _ => {}
        }
        // A video or voice note joins the draft at any step before the summary (and starts
        // one), like a photo.
        if let Content::Media { url, .. } = input
            && self.step != Step::Confirm
        {
            if self.step == Step::Idle {
                self.draft = Draft::default();
                self.step = Step::Field;
            }
            let l = self.lang;
            let text = if self.draft.media.len() < MAX_MEDIA {
                self.draft.media.push(url.clone());
                l.t("Đã nhận video/ghi âm.", "Video or voice note received.")
            } else {
                l.t(
                    "Đã đủ 2 video/ghi âm, tệp này không được thêm.",
                    "That is 2 videos or voice notes already; this one was not added.",
                )
            };
            return (vec![Reply::text(text), self.prompt(ctx)], None);
        }
        let l = self.lang;
        match self.step {
            Step::Idle => {
                // Free text starts a report; a long enough text is its description.
                self.draft = Draft::default();
                if let Content::Choice { payload, .. } = input
                    && let Some(code) = payload.strip_prefix("FIELD:")
                    && ctx.fields.iter().any(|f| f.code == code)
                {
                    // A button of the welcome message.
                    self.draft.field = Some(code.to_string());
                    return self.advance(ctx);
                }
                if let Content::Text { text } = input
                    && text.trim().chars().count() >= MIN_DESCRIPTION
                {
                    self.draft.description = text.trim().to_string();
                    if let Some(f) = guess_field(text, ctx) {
                        self.draft.field = Some(f);
                    }
                }
                if let Content::Image { url } = input {
                    self.draft.photos.push(url.clone());
                }
                if let Content::Location { lat, lon } = input {
                    self.draft.lat = Some(*lat);
                    self.draft.lon = Some(*lon);
                }
                self.step = Step::Field;
                (vec![self.ask_field(ctx, true)], None)
            }
            Step::Field => {
                let chosen = match input {
                    Content::Choice { payload, .. } => payload.strip_prefix("FIELD:").map(String::from),
                    Content::Text { text } => field_named(text, ctx),
                    _ => None,
                };
                match chosen.filter(|c| ctx.fields.iter().any(|f| &f.code == c)) {
                    Some(code) => {
                        self.draft.field = Some(code);
                        self.advance(ctx)
                    }
                    None => (vec![self.ask_field(ctx, false)], None),
                }
            }
            Step::Describe => match input {
                Content::Text { text } if text.trim().chars().count() >= MIN_DESCRIPTION => {
                    self.draft.description = text.trim().to_string();
                    self.advance(ctx)
                }
                Content::Image { url } => {
                    self.add_photo(url);
                    (vec![self.prompt(ctx)], None)
                }
                _ => (
                    vec![Reply::text(l.t(
                        "Vui lòng mô tả rõ hơn (ít nhất 10 ký tự): vấn đề gì, ở đâu, từ khi nào.",
                        "Please describe it a little more (at least 10 characters): what, where, since when.",
                    ))],
                    None,
                ),
            },
            Step::Photos => match input {
                Content::Image { url } => {
                    let added = self.add_photo(url);
                    let text = if added {
                        format!(
                            "{} {}/{MAX_PHOTOS}. {}",
                            l.t("Đã nhận ảnh", "Photo received"),
                            self.draft.photos.len(),
                            l.t("Gửi thêm ảnh, hoặc bấm «Xong».", "Send more, or tap «Done».")
                        )
                    } else {
                        l.t("Đã đủ 5 ảnh.", "That is 5 photos already.").to_string()
                    };
                    let mut r = Reply::text(text);
                    r.choices = vec![("PHOTOS_DONE".into(), l.t("Xong", "Done").into())];
                    if self.draft.photos.len() >= MAX_PHOTOS {
                        self.step = Step::Location;
                        return (vec![r, self.prompt(ctx)], None);
                    }
                    (vec![r], None)
                }
                Content::Location { lat, lon } => {
                    self.draft.lat = Some(*lat);
                    self.draft.lon = Some(*lon);
                    self.step = Step::Confirm;
                    (vec![self.summary(ctx)], None)
                }
                Content::Choice { payload, .. } if payload == "PHOTOS_DONE" || payload == "SKIP" => {
                    self.step = Step::Location;
                    (vec![self.prompt(ctx)], None)
                }
                Content::Text { text } if ["xong", "bo qua", "khong", "done", "skip", "no"].contains(&fold_words(text).as_str()) => {
                    self.step = Step::Location;
                    (vec![self.prompt(ctx)], None)
                }
                _ => (vec![self.prompt(ctx)], None),
            },
            Step::Location => match input {
                Content::Location { lat, lon } => {
                    self.draft.lat = Some(*lat);
                    self.draft.lon = Some(*lon);
                    self.step = Step::Confirm;
                    (vec![self.summary(ctx)], None)
                }
                Content::Text { text } => match (ctx.find_ward)(text) {
                    Some((code, _)) => {
                        self.draft.address = Some(text.trim().to_string());
                        self.draft.ward = Some(code);
                        self.step = Step::Confirm;
                        (vec![self.summary(ctx)], None)
                    }
                    None => (
                        vec![Reply::text(format!(
                            "{} {}",
                            l.t(
                                "Chưa xác định được phường, xã từ địa chỉ này. Vui lòng ghi rõ số nhà, tên đường và phường (ví dụ: 12 Lê Lợi, phường Sài Gòn), hoặc gửi vị trí, hoặc dùng biểu mẫu có bản đồ:",
                                "We could not tell the ward from that address. Please give the number, street and ward (e.g. 12 Le Loi, Sai Gon ward), send a location, or use the form with a map:",
                            ),
                            self.form_link(ctx)
                        ))],
                        None,
                    ),
                },
                Content::Image { url } => {
                    self.add_photo(url);
                    (vec![self.prompt(ctx)], None)
                }
                _ => (vec![self.prompt(ctx)], None),
            },
            Step::Confirm => {
                let yes = match input {
                    Content::Choice { payload, .. } => payload == "CONFIRM",
                    Content::Text { text } => ["dong y", "gui", "ok", "xac nhan", "co", "yes", "send", "confirm"].contains(&fold_words(text).as_str()),
                    _ => false,
                };
                if yes {
                    let draft = std::mem::take(&mut self.draft);
                    self.step = Step::Idle;
                    (vec![], Some(Effect::File(draft)))
                } else {
                    (vec![self.summary(ctx)], None)
                }
            }
        }
    }

    fn add_photo(&mut self, url: &str) -> bool {
        if self.draft.photos.len() < MAX_PHOTOS {
            self.draft.photos.push(url.to_string());
            true
        } else {
            false
        }
    }

    /// After the field: the next thing that is missing.
    fn advance(&mut self, ctx: &Context) -> (Vec<Reply>, Option<Effect>) {
        self.step = if self.draft.description.chars().count() < MIN_DESCRIPTION {
            Step::Describe
        } else if self.draft.lat.is_some() || self.draft.ward.is_some() {
            Step::Confirm
        } else {
            Step::Photos
        };
        if self.step == Step::Confirm {
            return (vec![self.summary(ctx)], None);
        }
        (vec![self.prompt(ctx)], None)
    }

    /// What to ask at the current step.
    pub fn prompt(&self, ctx: &Context) -> Reply {
        let l = self.lang;
        match self.step {
            Step::Idle | Step::Field => self.ask_field(ctx, false),
            Step::Describe => Reply::text(l.t(
                "Vui lòng mô tả vấn đề: chuyện gì, ở đâu, từ khi nào.",
                "Please describe the problem: what, where, since when.",
            )),
            Step::Photos => Reply {
                text: l.t("Gửi ảnh (tối đa 5) nếu có, hoặc bấm «Bỏ qua».", "Send photos (up to 5) if you have any, or tap «Skip».").into(),
                choices: vec![("SKIP".into(), l.t("Bỏ qua", "Skip").into())],
            },
            Step::Location => Reply::text(format!(
                "{} {}",
                l.t(
                    "Vấn đề ở đâu? Gửi vị trí, hoặc nhập địa chỉ có tên phường (ví dụ: 12 Lê Lợi, phường Sài Gòn). Hoặc dùng biểu mẫu có bản đồ:",
                    "Where is it? Send a location, or type the address with its ward (e.g. 12 Le Loi, Sai Gon ward). Or use the form with a map:",
                ),
                self.form_link(ctx)
            )),
            Step::Confirm => self.summary(ctx),
        }
    }

    /// The web form with what the chat has so far filled in (field, description).
    pub fn form_link(&self, ctx: &Context) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(f) = &self.draft.field {
            q.append_pair("field", f);
        }
        if !self.draft.description.is_empty() {
            q.append_pair("description", &self.draft.description);
        }
        let q = q.finish();
        if q.is_empty() {
            ctx.form_url.to_string()
        } else {
            format!("{}?{q}", ctx.form_url)
        }
    }

    fn welcome(&self, ctx: &Context) -> Reply {
        let mut r = self.ask_field(ctx, true);
        r.text = format!(
            "{}\n{}",
            self.lang.t(
                "Xin chào! Đây là kênh tiếp nhận phản ánh của Tổng đài 1022. Nhắn mã hồ sơ (ví dụ ABCD-2345) để tra cứu.",
                "Hello! This is the 1022 city hotline. Send a tracking code (like ABCD-2345) to look a report up.",
            ),
            r.text
        );
        r
    }

    fn ask_field(&self, ctx: &Context, first: bool) -> Reply {
        let l = self.lang;
        let text = if first {
            l.t(
                "Bạn muốn phản ánh về lĩnh vực nào?",
                "What is your report about?",
            )
        } else {
            l.t(
                "Vui lòng chọn một lĩnh vực trong danh sách.",
                "Please choose one of the fields listed.",
            )
        };
        Reply {
            text: text.into(),
            choices: ctx
                .fields
                .iter()
                .take(12)
                .map(|f| {
                    (
                        format!("FIELD:{}", f.code),
                        l.t(&f.name_vi, &f.name_en).to_string(),
                    )
                })
                .collect(),
        }
    }

    fn summary(&self, ctx: &Context) -> Reply {
        let l = self.lang;
        let d = &self.draft;
        let field = d
            .field
            .as_deref()
            .and_then(|c| ctx.fields.iter().find(|f| f.code == c))
            .map(|f| l.t(&f.name_vi, &f.name_en).to_string())
            .unwrap_or_default();
        let place = match (d.lat, d.lon, &d.address) {
            (Some(la), Some(lo), _) => format!("{la:.5}, {lo:.5}"),
            (_, _, Some(a)) => a.clone(),
            _ => "—".into(),
        };
        Reply {
            text: format!(
                "{}\n• {}: {field}\n• {}: {}\n• {}: {}{}\n• {}: {place}\n{}",
                l.t("Kiểm tra lại phản ánh:", "Please check your report:"),
                l.t("Lĩnh vực", "Field"),
                l.t("Nội dung", "Description"),
                d.description,
                l.t("Ảnh", "Photos"),
                d.photos.len(),
                if d.media.is_empty() {
                    String::new()
                } else {
                    format!(", {} {}", d.media.len(), l.t("video/ghi âm", "video/voice"))
                },
                l.t("Vị trí", "Place"),
                l.t("Gửi phản ánh này?", "Send it?"),
            ),
            choices: vec![
                ("CONFIRM".into(), l.t("Gửi", "Send").into()),
                ("CANCEL".into(), l.t("Hủy", "Cancel").into()),
            ],
        }
    }
}

/// A field named in a reply ("giao thong", "2", a keyword).
fn field_named(text: &str, ctx: &Context) -> Option<String> {
    let w = fold_words(text);
    if let Ok(n) = w.parse::<usize>() {
        return ctx.fields.get(n.checked_sub(1)?).map(|f| f.code.clone());
    }
    ctx.fields
        .iter()
        .find(|f| fold_words(&f.name_vi) == w || fold_words(&f.name_en) == w || f.code == w)
        .map(|f| f.code.clone())
        .or_else(|| guess_field(text, ctx))
}

/// The field whose keyword appears in a free text, if exactly one does.
fn guess_field(text: &str, ctx: &Context) -> Option<String> {
    let w = format!(" {} ", fold_words(text));
    let hits: Vec<&FieldChoice> = ctx
        .fields
        .iter()
        .filter(|f| {
            f.keywords
                .iter()
                .any(|k| !k.is_empty() && w.contains(&format!(" {} ", fold_words(k))))
        })
        .collect();
    (hits.len() == 1).then(|| hits[0].code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<FieldChoice> {
        vec![
            FieldChoice {
                code: "traffic".into(),
                name_vi: "Giao thông".into(),
                name_en: "Traffic".into(),
                keywords: vec!["o ga".into()],
            },
            FieldChoice {
                code: "lighting".into(),
                name_vi: "Chiếu sáng".into(),
                name_en: "Street lighting".into(),
                keywords: vec!["den duong".into()],
            },
        ]
    }

    fn ward(text: &str) -> Option<(String, String)> {
        fold_words(text)
            .contains("sai gon")
            .then(|| ("26740".to_string(), "Phường Sài Gòn".to_string()))
    }

    fn say(c: &mut Conversation, content: Content) -> (Vec<Reply>, Option<Effect>) {
        let f = fields();
        let ctx = Context {
            fields: &f,
            find_ward: &ward,
            form_url: "https://1022.example/new",
        };
        c.handle(&content, &ctx)
    }

    fn text(s: &str) -> Content {
        Content::Text { text: s.into() }
    }

    #[test]
    fn a_whole_report_by_chat() {
        let mut c = Conversation::default();
        let (r, e) = say(&mut c, text("Xin chào"));
        assert!(e.is_none());
        assert_eq!(r[0].choices[0].0, "FIELD:traffic");
        assert_eq!(c.step, Step::Field);
        let (r, _) = say(
            &mut c,
            Content::Choice {
                payload: "FIELD:traffic".into(),
                text: "Giao thông".into(),
            },
        );
        assert_eq!(c.step, Step::Describe, "{r:?}");
        let (r, _) = say(&mut c, text("ngắn"));
        assert!(r[0].text.contains("10 ký tự"));
        say(&mut c, text("Ổ gà lớn giữa đường trước chợ"));
        assert_eq!(c.step, Step::Photos);
        let (r, _) = say(
            &mut c,
            Content::Image {
                url: "https://cdn/1.jpg".into(),
            },
        );
        assert!(r[0].text.contains("1/5"));
        say(
            &mut c,
            Content::Choice {
                payload: "PHOTOS_DONE".into(),
                text: "Xong".into(),
            },
        );
        assert_eq!(c.step, Step::Location);
        let (r, _) = say(&mut c, text("gần nhà tôi"));
        assert!(
            r[0].text
                .contains("https://1022.example/new?field=traffic&description="),
            "no ward: the form's link, with the draft: {}",
            r[0].text
        );
        let (r, _) = say(&mut c, text("12 Le Loi, phuong Sai Gon"));
        assert_eq!(c.step, Step::Confirm);
        assert!(r[0].text.contains("12 Le Loi") && r[0].choices[0].0 == "CONFIRM");
        let (_, e) = say(
            &mut c,
            Content::Choice {
                payload: "CONFIRM".into(),
                text: "Gửi".into(),
            },
        );
        let Some(Effect::File(d)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(d.field.as_deref(), Some("traffic"));
        assert_eq!(d.ward.as_deref(), Some("26740"));
        assert_eq!(d.photos.len(), 1);
        assert_eq!(c.step, Step::Idle);
    }

    #[test]
    fn free_text_with_a_keyword_and_a_location_goes_straight_to_confirm() {
        let mut c = Conversation::default();
        say(&mut c, text("Đèn đường tắt cả dãy phố từ tối qua"));
        assert_eq!(
            c.step,
            Step::Field,
            "the field is still asked, with the guess kept"
        );
        assert_eq!(c.draft.field.as_deref(), Some("lighting"));
        say(&mut c, text("2"));
        assert_eq!(c.step, Step::Photos);
        say(
            &mut c,
            Content::Location {
                lat: 10.77,
                lon: 106.70,
            },
        );
        assert_eq!(c.step, Step::Confirm);
        let (_, e) = say(&mut c, text("Đồng ý"));
        assert!(matches!(e, Some(Effect::File(_))));
    }

    #[test]
    fn codes_cancel_restart_english_and_unusable_input() {
        let mut c = Conversation::default();
        let (_, e) = say(&mut c, text("abcd-2345"));
        assert_eq!(e, Some(Effect::LookUp("ABCD-2345".into())));
        let (r, _) = say(&mut c, text("Hello, there is a broken street light"));
        assert_eq!(c.lang, Lang::En);
        assert!(r[0].text.contains("What is your report about"));
        let (r, _) = say(
            &mut c,
            Content::Unsupported {
                what: "sticker".into(),
            },
        );
        assert_eq!(r.len(), 2, "a prompt, never silence: {r:?}");
        let (r, _) = say(&mut c, text("cancel"));
        assert!(r[0].text.contains("cancelled"));
        assert_eq!(c.step, Step::Idle);
        let (r, _) = say(&mut c, text("Hủy"));
        assert!(r[0].text.contains("no draft"));
        let (r, _) = say(&mut c, text("bắt đầu lại"));
        assert_eq!(c.step, Step::Field, "restart asks the field again");
        assert!(!r[0].choices.is_empty());
        say(
            &mut c,
            Content::Choice {
                payload: "FIELD:lighting".into(),
                text: String::new(),
            },
        );
        assert_eq!(c.step, Step::Describe);
        let mut v = Conversation::default();
        let (r, _) = say(&mut v, Content::Started { subscribed: false });
        assert!(r[0].text.starts_with("Xin chào"));
        let (_, e) = say(
            &mut v,
            Content::Choice {
                payload: "FIELD:nope".into(),
                text: "x".into(),
            },
        );
        assert!(e.is_none());
        // A button of the welcome message picks the field at once.
        let mut w = Conversation::default();
        say(
            &mut w,
            Content::Choice {
                payload: "FIELD:traffic".into(),
                text: String::new(),
            },
        );
        assert_eq!(
            (w.step, w.draft.field.as_deref()),
            (Step::Describe, Some("traffic"))
        );
    }

    #[test]
    fn five_photos_at_most() {
        let mut c = Conversation::default();
        say(&mut c, text("Cây đổ chắn ngang đường Lê Lợi"));
        say(
            &mut c,
            Content::Choice {
                payload: "FIELD:traffic".into(),
                text: String::new(),
            },
        );
        for i in 0..6 {
            say(
                &mut c,
                Content::Image {
                    url: format!("u{i}"),
                },
            );
        }
        assert_eq!(c.draft.photos.len(), 5);
        assert_eq!(c.step, Step::Location);
    }

    #[test]
    fn videos_and_voice_notes_join_the_draft_two_at_most() {
        let mut c = Conversation::default();
        say(&mut c, text("Cây đổ chắn ngang đường Lê Lợi"));
        say(
            &mut c,
            Content::Choice {
                payload: "FIELD:traffic".into(),
                text: String::new(),
            },
        );
        let step = c.step;
        for i in 0..3 {
            say(
                &mut c,
                Content::Media {
                    kind: "video".into(),
                    url: format!("v{i}"),
                },
            );
        }
        assert_eq!(c.draft.media, vec!["v0".to_string(), "v1".to_string()]);
        assert_eq!(c.step, step, "the conversation goes on where it was");
        // A draft kept before this version (no `media`) reads back.
        let old: Conversation = serde_json::from_str(
            r#"{"step":"photos","draft":{"field":"traffic","description":"x","photos":[],"lat":null,"lon":null,"address":null,"ward":null},"lang":"vi"}"#,
        )
        .unwrap();
        assert!(old.draft.media.is_empty());
    }

    #[test]
    fn tracking_codes_in_messages() {
        assert_eq!(
            tracking_code_in(" abcd-2345 ").as_deref(),
            Some("ABCD-2345")
        );
        assert_eq!(tracking_code_in("ABCD2345"), None);
        assert_eq!(tracking_code_in("hello there"), None);
    }

    #[test]
    fn overlong_messages_are_refused_before_any_matching() {
        let mut c = Conversation::default();
        let long = "ổ gà đường Lê Lợi phường Sài Gòn ".repeat(40_000);
        let (r, effect) = say(&mut c, text(&long));
        assert!(effect.is_none());
        assert!(r[0].text.contains("5000"), "{r:?}");
        assert_eq!(c.step, Step::Idle);
        assert!(c.draft.description.is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

            /// Any sequence of messages gets an answer or an effect, never a panic, and the
            /// draft stays within its caps.
            #[test]
            fn any_messages(msgs in prop::collection::vec(
                prop_oneof![
                    any::<String>().prop_map(|t| Content::Text { text: t }),
                    "(o ga|den duong|huy|xong|ok|sai gon|[a-z ]{0,30}){1,5}".prop_map(|t| Content::Text { text: t }),
                    "[A-Z0-9-]{0,12}".prop_map(|t| Content::Text { text: t }),
                    "(FIELD:traffic|CANCEL|NEW|CONFIRM|SKIP|x)".prop_map(|p| Content::Choice { payload: p, text: String::new() }),
                    Just(Content::Image { url: "https://cdn.example/p.jpg".into() }),
                    (-90.0f64..90.0, -180.0f64..180.0).prop_map(|(lat, lon)| Content::Location { lat, lon }),
                ],
                1..12,
            )) {
                let mut c = Conversation::default();
                for m in &msgs {
                    let (replies, effect) = say(&mut c, m.clone());
                    prop_assert!(!replies.is_empty() || effect.is_some() || matches!(m, Content::Subscribed | Content::Unsubscribed));
                    prop_assert!(c.draft.photos.len() <= MAX_PHOTOS);
                    prop_assert!(c.draft.description.chars().count() <= MAX_TEXT);
                }
            }
        }
    }
}
