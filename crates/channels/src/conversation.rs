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
/// The longest contact name kept (the report's cap).
const MAX_NAME: usize = 200;
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
    /// One of the field's extra questions (`Draft::asked` says which are done).
    Question,
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
    /// How to reach the citizen, when they shared a contact or typed a phone number.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The photo question was answered («Xong», «Bỏ qua»): not asked again.
    #[serde(default)]
    pub photos_done: bool,
    /// Answers to the field's extra questions, by question code.
    #[serde(default)]
    pub answers: std::collections::BTreeMap<String, Vec<String>>,
    /// The extra questions already answered or skipped.
    #[serde(default)]
    pub asked: Vec<String>,
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
    File(Box<Draft>),
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
    /// The field's extra questions, in the order asked.
    pub questions: Vec<Question>,
}

/// One extra question of a field, as a chat asks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub code: String,
    pub text_vi: String,
    pub text_en: String,
    pub required: bool,
    /// (key, name) of the answers of a list question (quick replies); empty: free text.
    pub choices: Vec<(String, String)>,
}

/// The longest free-text answer kept (the intake's cap for a short answer).
const MAX_ANSWER: usize = 500;

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
    ///
    /// Whatever a message carries is kept at any step: a photo (up to five), a location,
    /// a contact, a description, an address. Questions already answered are skipped, and
    /// the conversation ends with a summary of all of it to confirm.
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
                    let r = if payload == "GET_STARTED" {
                        self.welcome(ctx)
                    } else {
                        self.ask_field(ctx, true)
                    };
                    return (vec![r], None);
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
                    "Xin lỗi, tổng đài chưa dùng được loại tin này. Bạn có thể gửi chữ, ảnh, vị trí hoặc số điện thoại.",
                    "Sorry, we cannot use that kind of message. You can send text, photos, a location or a phone number.",
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
        // A field button (or its title typed) chooses the field at any step.
        let field_chosen = match input {
            Content::Choice { payload, .. } => payload
                .strip_prefix("FIELD:")
                .filter(|c| ctx.fields.iter().any(|f| &f.code == c))
                .map(String::from),
            // A number is a field only when the list was asked for.
            Content::Text { text } => field_exact(text, ctx, self.step == Step::Field),
            _ => None,
        };
        if self.step != Step::Idle
            && let Some(code) = field_chosen.clone()
        {
            self.draft.field = Some(code);
            return self.advance(ctx, None);
        }
        match self.step {
            Step::Idle => {
                // Anything else starts a report, and what it carries is kept.
                self.draft = Draft::default();
                self.step = Step::Field;
                if let Some(code) = field_chosen {
                    self.draft.field = Some(code);
                    return self.advance(ctx, None);
                }
                let noted = self.keep(input, ctx);
                let mut r = self.ask_field(ctx, true);
                if let Some(n) = noted {
                    r.text = format!("{n}\n{}", r.text);
                }
                (vec![r], None)
            }
            Step::Field => {
                let noted = self.keep(input, ctx);
                // A reply that names a field by one of its keywords chooses it.
                let guessed = match input {
                    Content::Text { text } => guess_field(text, ctx),
                    _ => None,
                };
                if let Some(code) = guessed {
                    self.draft.field = Some(code);
                    return self.advance(ctx, noted);
                }
                let mut r = self.ask_field(ctx, noted.is_some());
                if let Some(n) = noted {
                    r.text = format!("{n}\n{}", r.text);
                }
                (vec![r], None)
            }
            Step::Describe => match self.keep(input, ctx) {
                Some(n) if self.draft.description.chars().count() >= MIN_DESCRIPTION => {
                    self.advance(ctx, Some(n))
                }
                Some(n) => (vec![self.noted(n, ctx)], None),
                None => (
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
                    if self.draft.photos.len() >= MAX_PHOTOS {
                        self.draft.photos_done = true;
                        let n = l.t("Đã đủ 5 ảnh.", "That is 5 photos.").to_string();
                        return self.advance(ctx, Some(n));
                    }
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
                    (vec![r], None)
                }
                Content::Choice { payload, .. } if payload == "PHOTOS_DONE" || payload == "SKIP" => {
                    self.draft.photos_done = true;
                    self.advance(ctx, None)
                }
                Content::Text { text } if ["xong", "bo qua", "khong", "khong co", "done", "skip", "no"].contains(&fold_words(text).as_str()) => {
                    self.draft.photos_done = true;
                    self.advance(ctx, None)
                }
                _ => match self.keep(input, ctx) {
                    // A place given here answers the next question too.
                    Some(n) if self.has_place() => self.advance(ctx, Some(n)),
                    Some(n) => (vec![self.noted(n, ctx)], None),
                    None => (vec![self.prompt(ctx)], None),
                },
            },
            Step::Location => match input {
                Content::Text { text } if phone_in(text).is_none() => match (ctx.find_ward)(text) {
                    Some((code, _)) => {
                        self.draft.address = Some(text.trim().to_string());
                        self.draft.ward = Some(code);
                        self.advance(ctx, None)
                    }
                    None => (
                        vec![Reply::text(format!(
                            "{}{} {}",
                            // Not an address we can place, but kept: it may help the unit.
                            self.keep(input, ctx).map(|n| format!("{n}\n")).unwrap_or_default(),
                            l.t(
                                "Chưa xác định được phường, xã từ địa chỉ này. Vui lòng ghi rõ số nhà, tên đường và phường (ví dụ: 12 Lê Lợi, phường Sài Gòn), hoặc gửi vị trí, hoặc dùng biểu mẫu có bản đồ:",
                                "We could not tell the ward from that address. Please give the number, street and ward (e.g. 12 Le Loi, Sai Gon ward), send a location, or use the form with a map:",
                            ),
                            self.form_link(ctx)
                        ))],
                        None,
                    ),
                },
                _ => match self.keep(input, ctx) {
                    Some(n) if self.has_place() => self.advance(ctx, Some(n)),
                    Some(n) => (vec![self.noted(n, ctx)], None),
                    None => (vec![self.prompt(ctx)], None),
                },
            },
            Step::Question => {
                let Some(q) = self.next_question(ctx).cloned() else {
                    return self.advance(ctx, None);
                };
                let skip = match input {
                    Content::Choice { payload, .. } => payload == "SKIP",
                    Content::Text { text } => ["bo qua", "khong", "khong biet", "skip", "no"].contains(&fold_words(text).as_str()),
                    _ => false,
                };
                if skip && !q.required {
                    self.draft.asked.push(q.code);
                    return self.advance(ctx, None);
                }
                // An optional question is passed over by anything that is not its answer (a
                // photo, a new place, «Gửi»): the message is taken at the next step.
                let answer = Self::answer_of(&q, input).filter(|_| !skip && !is_yes(input));
                if !q.required && answer.is_none() {
                    self.draft.asked.push(q.code);
                    self.advance(ctx, None);
                    return self.handle(input, ctx);
                }
                // «Bỏ qua» is never the answer itself, even to a free question.
                if let Some(a) = answer {
                    self.draft.answers.insert(q.code.clone(), vec![a]);
                    self.draft.asked.push(q.code);
                    return self.advance(ctx, None);
                }
                // A required question, and something else (a photo, the place): kept, and
                // the question asked again.
                let noted = match input {
                    Content::Text { .. } => None,
                    other => self.keep(other, ctx),
                };
                let mut r = self.ask(&q);
                r.text = match noted {
                    Some(n) => format!("{n}\n{}", r.text),
                    None => format!(
                        "{}\n{}",
                        l.t("Câu hỏi này cần được trả lời.", "This question needs an answer."),
                        r.text
                    ),
                };
                (vec![r], None)
            }
            Step::Confirm => {
                let yes = is_yes(input);
                if yes {
                    let draft = std::mem::take(&mut self.draft);
                    self.step = Step::Idle;
                    (vec![], Some(Effect::File(Box::new(draft))))
                } else {
                    // Something more before confirming: kept, and the summary shown again.
                    let noted = self.keep(input, ctx);
                    self.advance(ctx, noted)
                }
            }
        }
    }

    /// Keeps what a message carries, whatever was asked: a photo, a location, a contact
    /// (a shared card or a phone number typed alone), a description, then an address
    /// naming a ward, then more description. Returns what to tell the citizen, or `None`
    /// when there was nothing to keep.
    fn keep(&mut self, input: &Content, ctx: &Context) -> Option<String> {
        let l = self.lang;
        match input {
            Content::Image { url } => Some(if self.add_photo(url) {
                format!(
                    "{} {}/{MAX_PHOTOS}.",
                    l.t("Đã nhận ảnh", "Photo received"),
                    self.draft.photos.len()
                )
            } else {
                l.t("Đã đủ 5 ảnh.", "That is 5 photos already.").to_string()
            }),
            Content::Location { lat, lon } => {
                self.draft.lat = Some(*lat);
                self.draft.lon = Some(*lon);
                Some(l.t("Đã nhận vị trí.", "Location received.").to_string())
            }
            Content::Contact { phone, name } => Some(match phone_in(phone) {
                Some(p) => {
                    self.draft.phone = Some(p);
                    if let Some(n) = name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                        self.draft.name = Some(n.chars().take(MAX_NAME).collect());
                    }
                    l.t("Đã nhận số điện thoại liên hệ.", "Contact number received.")
                        .to_string()
                }
                None => l
                    .t(
                        "Số điện thoại này không hợp lệ nên chưa được lưu.",
                        "That phone number is not valid; it was not kept.",
                    )
                    .to_string(),
            }),
            Content::Text { text } => {
                let text = text.trim();
                if let Some(p) = phone_in(text) {
                    self.draft.phone = Some(p);
                    return Some(
                        l.t("Đã nhận số điện thoại liên hệ.", "Contact number received.")
                            .to_string(),
                    );
                }
                if text.chars().count() < MIN_DESCRIPTION {
                    return None;
                }
                let d = &mut self.draft;
                if d.description.chars().count() < MIN_DESCRIPTION {
                    d.description = text.to_string();
                    if d.field.is_none() {
                        d.field = guess_field(text, ctx);
                    }
                    return Some(
                        l.t("Đã ghi nhận nội dung.", "Description noted.")
                            .to_string(),
                    );
                }
                if !self.has_place()
                    && let Some((code, _)) = (ctx.find_ward)(text)
                {
                    self.draft.address = Some(text.to_string());
                    self.draft.ward = Some(code);
                    return Some(l.t("Đã nhận địa chỉ.", "Address received.").to_string());
                }
                let d = &mut self.draft;
                let more = format!("{}\n{text}", d.description);
                d.description = more.chars().take(MAX_TEXT).collect();
                Some(
                    l.t("Đã ghi thêm vào nội dung.", "Added to the description.")
                        .to_string(),
                )
            }
            _ => None,
        }
    }

    fn has_place(&self) -> bool {
        self.draft.lat.is_some() || self.draft.ward.is_some()
    }

    /// What was kept, then the current question again.
    fn noted(&self, noted: String, ctx: &Context) -> Reply {
        let mut r = self.prompt(ctx);
        r.text = format!("{noted}\n{}", r.text);
        r
    }

    fn add_photo(&mut self, url: &str) -> bool {
        if self.draft.photos.len() < MAX_PHOTOS {
            self.draft.photos.push(url.to_string());
            true
        } else {
            false
        }
    }

    /// The first question not answered yet (the summary when all are), after `noted`.
    fn advance(&mut self, ctx: &Context, noted: Option<String>) -> (Vec<Reply>, Option<Effect>) {
        let d = &self.draft;
        self.step = if d.field.is_none() {
            Step::Field
        } else if d.description.chars().count() < MIN_DESCRIPTION {
            Step::Describe
        } else if self.next_question(ctx).is_some() {
            Step::Question
        } else if !self.has_place() && d.photos.is_empty() && !d.photos_done {
            Step::Photos
        } else if !self.has_place() {
            Step::Location
        } else {
            Step::Confirm
        };
        let r = match noted {
            Some(n) => self.noted(n, ctx),
            None => self.prompt(ctx),
        };
        (vec![r], None)
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
            Step::Question => match self.next_question(ctx) {
                Some(q) => self.ask(q),
                None => self.summary(ctx),
            },
            Step::Confirm => self.summary(ctx),
        }
    }

    /// The field's first extra question not yet answered or skipped. Required questions
    /// come right after the description; optional ones once the place is known, just
    /// before the summary, so they never hold up what a report needs.
    fn next_question<'c>(&self, ctx: &'c Context) -> Option<&'c Question> {
        let field = self.draft.field.as_deref()?;
        let placed = self.has_place();
        ctx.fields
            .iter()
            .find(|f| f.code == field)?
            .questions
            .iter()
            .find(|q| !self.draft.asked.contains(&q.code) && (q.required || placed))
    }

    fn ask(&self, q: &Question) -> Reply {
        let l = self.lang;
        let text = if l == Lang::En && !q.text_en.is_empty() {
            &q.text_en
        } else {
            &q.text_vi
        };
        let mut choices: Vec<(String, String)> = q
            .choices
            .iter()
            .map(|(k, n)| (format!("ANSWER:{k}"), n.clone()))
            .collect();
        let text = if q.required {
            text.to_string()
        } else {
            choices.push(("SKIP".into(), l.t("Bỏ qua", "Skip").into()));
            format!("{text} {}", l.t("(không bắt buộc)", "(optional)"))
        };
        Reply { text, choices }
    }

    /// The answer `input` gives to question `q`, if it is one: a quick reply, a list
    /// answer typed (its name, key or number), or for a free question the text itself.
    fn answer_of(q: &Question, input: &Content) -> Option<String> {
        match input {
            Content::Choice { payload, .. } => payload
                .strip_prefix("ANSWER:")
                .filter(|k| q.choices.iter().any(|(key, _)| key == k))
                .map(String::from),
            Content::Text { text } if q.choices.is_empty() => {
                let t = text.trim();
                (!t.is_empty() && t.chars().count() <= MAX_ANSWER).then(|| t.to_string())
            }
            Content::Text { text } => {
                let w = fold_words(text);
                if let Ok(n) = w.parse::<usize>() {
                    return q.choices.get(n.checked_sub(1)?).map(|(k, _)| k.clone());
                }
                q.choices
                    .iter()
                    .find(|(k, n)| fold_words(n) == w || fold_words(k) == w)
                    .map(|(k, _)| k.clone())
            }
            _ => None,
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
            (Some(la), Some(lo), Some(a)) => format!("{a} ({la:.5}, {lo:.5})"),
            (Some(la), Some(lo), None) => format!("{la:.5}, {lo:.5}"),
            (_, _, Some(a)) => a.clone(),
            _ => "—".into(),
        };
        let mut contact = match (&d.name, &d.phone) {
            (Some(n), Some(p)) => format!("\n• {}: {n}, {p}", l.t("Liên hệ", "Contact")),
            (None, Some(p)) => format!("\n• {}: {p}", l.t("Liên hệ", "Contact")),
            _ => String::new(),
        };
        // The answers to the field's questions, in their words.
        if let Some(f) = d
            .field
            .as_deref()
            .and_then(|c| ctx.fields.iter().find(|f| f.code == c))
        {
            for q in &f.questions {
                if let Some(a) = d.answers.get(&q.code).and_then(|a| a.first()) {
                    let name = q
                        .choices
                        .iter()
                        .find(|(k, _)| k == a)
                        .map_or(a.as_str(), |(_, n)| n.as_str());
                    let text = if l == Lang::En && !q.text_en.is_empty() {
                        &q.text_en
                    } else {
                        &q.text_vi
                    };
                    contact.push_str(&format!("\n• {text}: {name}"));
                }
            }
        }
        Reply {
            text: format!(
                "{}\n• {}: {field}\n• {}: {}\n• {}: {}{}\n• {}: {place}{contact}\n{}",
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

/// A field named exactly in a reply: its name in either language (what a keyboard
/// button sends back), its code, or with `numbers` its place in the list ("2").
fn field_exact(text: &str, ctx: &Context, numbers: bool) -> Option<String> {
    let w = fold_words(text);
    if w.is_empty() {
        return None;
    }
    if let Ok(n) = w.parse::<usize>() {
        return if numbers {
            ctx.fields.get(n.checked_sub(1)?).map(|f| f.code.clone())
        } else {
            None
        };
    }
    ctx.fields
        .iter()
        .find(|f| fold_words(&f.name_vi) == w || fold_words(&f.name_en) == w || f.code == w)
        .map(|f| f.code.clone())
}

/// A phone number, when the text is one and nothing else (digits, spaces, `+ . - ( )`),
/// in the form reports keep: digits, +84/84 turned into a leading 0, 8 to 12 digits.
pub fn phone_in(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || " +.-()".contains(c))
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let local = if t.starts_with('+') || (digits.starts_with("84") && digits.len() == 11) {
        digits
            .strip_prefix("84")
            .map(|d| format!("0{d}"))
            .unwrap_or(digits)
    } else {
        digits
    };
    (8..=12).contains(&local.len()).then_some(local)
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

/// «Gửi / Send»: the citizen confirms the summary (a button or the words).
fn is_yes(input: &Content) -> bool {
    match input {
        Content::Choice { payload, .. } => payload == "CONFIRM",
        Content::Text { text } => [
            "dong y", "gui", "ok", "xac nhan", "co", "yes", "send", "confirm",
        ]
        .contains(&fold_words(text).as_str()),
        _ => false,
    }
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
                questions: vec![],
            },
            FieldChoice {
                code: "lighting".into(),
                name_vi: "Chiếu sáng".into(),
                name_en: "Street lighting".into(),
                keywords: vec!["den duong".into()],
                questions: vec![],
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
    fn the_fields_questions_are_asked_after_the_description() {
        let f = vec![FieldChoice {
            code: "trees".into(),
            name_vi: "Cây xanh".into(),
            name_en: "Trees".into(),
            keywords: vec!["cay do".into()],
            questions: vec![
                Question {
                    code: "tree_state".into(),
                    text_vi: "Tình trạng cây".into(),
                    text_en: "The tree".into(),
                    required: true,
                    choices: vec![
                        ("fallen".into(), "Đã ngã".into()),
                        ("leaning".into(), "Nghiêng".into()),
                    ],
                },
                Question {
                    code: "pole".into(),
                    text_vi: "Số hiệu cột gần nhất".into(),
                    text_en: String::new(),
                    required: false,
                    choices: vec![],
                },
            ],
        }];
        let ctx = Context {
            fields: &f,
            find_ward: &ward,
            form_url: "https://1022.example/new",
        };
        let choose = |c: &mut Conversation| {
            c.handle(&text("Cây đổ chắn ngang đường Lê Lợi"), &ctx);
            c.handle(
                &Content::Choice {
                    payload: "FIELD:trees".into(),
                    text: String::new(),
                },
                &ctx,
            );
        };
        let mut c = Conversation::default();
        choose(&mut c);
        // The field chosen, the description given: the first question, with its answers
        // as quick replies; required, so no «Bỏ qua».
        assert_eq!(c.step, Step::Question);
        let r = c.prompt(&ctx);
        assert!(r.text.starts_with("Tình trạng cây"), "{}", r.text);
        assert_eq!(
            r.choices,
            vec![
                ("ANSWER:fallen".to_string(), "Đã ngã".to_string()),
                ("ANSWER:leaning".to_string(), "Nghiêng".to_string())
            ]
        );
        // Not an answer: asked again, saying it is needed; a photo meanwhile is kept.
        let (r, _) = c.handle(&text("bỏ qua"), &ctx);
        assert!(r[0].text.contains("cần được trả lời"), "{}", r[0].text);
        let (r, _) = c.handle(
            &Content::Image {
                url: "https://x/1.jpg".into(),
            },
            &ctx,
        );
        assert!(r[0].text.contains("Tình trạng cây"));
        assert_eq!(c.draft.photos.len(), 1);
        // A keyboard sends the answer's title back.
        c.handle(&text("nghiêng"), &ctx);
        assert_eq!(c.draft.answers["tree_state"], vec!["leaning"]);
        // The optional one waits until the place is known.
        assert_eq!(c.step, Step::Location, "the photo was already sent");
        c.handle(
            &Content::Location {
                lat: 10.77,
                lon: 106.7,
            },
            &ctx,
        );
        // Then it is asked, with «Bỏ qua».
        assert_eq!(c.step, Step::Question);
        let r = c.prompt(&ctx);
        assert!(r.text.contains("không bắt buộc"), "{}", r.text);
        assert_eq!(r.choices.last().unwrap().0, "SKIP");
        c.handle(&text("Bỏ qua"), &ctx);
        assert!(!c.draft.answers.contains_key("pole"));
        assert_eq!(c.step, Step::Confirm);
        let summary = c.prompt(&ctx);
        assert!(
            summary.text.contains("• Tình trạng cây: Nghiêng"),
            "{}",
            summary.text
        );
        let (_, e) = c.handle(&text("Gửi"), &ctx);
        let Some(Effect::File(d)) = e else {
            panic!("filed")
        };
        assert_eq!(d.answers["tree_state"], vec!["leaning"]);
        // A number picks from the list too, and a free question takes the text.
        let place = Content::Location {
            lat: 10.77,
            lon: 106.7,
        };
        let mut c = Conversation::default();
        choose(&mut c);
        c.handle(&text("1"), &ctx);
        c.handle(&text("Bỏ qua"), &ctx);
        c.handle(&place, &ctx);
        c.handle(&text("HL-12"), &ctx);
        assert_eq!(c.draft.answers["tree_state"], vec!["fallen"]);
        assert_eq!(c.draft.answers["pole"], vec!["HL-12"]);
        assert_eq!(c.step, Step::Confirm);
        // «Gửi» while an optional question waits passes it over and files the report.
        let mut c = Conversation::default();
        choose(&mut c);
        c.handle(&text("1"), &ctx);
        c.handle(&text("Bỏ qua"), &ctx);
        c.handle(&place, &ctx);
        assert_eq!(c.step, Step::Question);
        let (_, e) = c.handle(&text("gửi"), &ctx);
        let Some(Effect::File(d)) = e else {
            panic!("«Gửi» files the report")
        };
        assert!(!d.answers.contains_key("pole"));
        // So does a photo: kept, and the summary shown.
        let mut c = Conversation::default();
        choose(&mut c);
        c.handle(&text("1"), &ctx);
        c.handle(&text("Bỏ qua"), &ctx);
        c.handle(&place, &ctx);
        c.handle(
            &Content::Image {
                url: "https://x/2.jpg".into(),
            },
            &ctx,
        );
        assert_eq!(c.step, Step::Confirm);
        assert_eq!(c.draft.photos.len(), 1);
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

    fn image(u: &str) -> Content {
        Content::Image { url: u.into() }
    }

    fn field(code: &str) -> Content {
        Content::Choice {
            payload: format!("FIELD:{code}"),
            text: String::new(),
        }
    }

    const HERE: Content = Content::Location {
        lat: 10.7769,
        lon: 106.7009,
    };

    #[test]
    fn photo_location_and_text_before_the_field_are_all_kept() {
        let mut c = Conversation::default();
        let (r, _) = say(&mut c, image("https://cdn/1.jpg"));
        assert_eq!(c.step, Step::Field);
        assert!(
            r[0].text.starts_with("Đã nhận ảnh 1/5.") && r[0].choices[0].0 == "FIELD:traffic",
            "{r:?}"
        );
        let (r, _) = say(&mut c, HERE);
        assert_eq!(c.step, Step::Field, "the field is still asked");
        assert!(r[0].text.starts_with("Đã nhận vị trí."), "{r:?}");
        let (r, _) = say(&mut c, text("Cây đổ chắn ngang lối đi sau cơn mưa"));
        assert_eq!(c.step, Step::Field);
        assert!(r[0].text.starts_with("Đã ghi nhận nội dung."), "{r:?}");
        // The field was the only question left: straight to the summary of everything.
        let (r, _) = say(&mut c, field("traffic"));
        assert_eq!(c.step, Step::Confirm);
        let summary = &r[0].text;
        assert!(
            summary.contains("Cây đổ chắn ngang")
                && summary.contains("Ảnh: 1")
                && summary.contains("10.77690, 106.70090"),
            "{summary}"
        );
        let (_, e) = say(&mut c, text("Đồng ý"));
        let Some(Effect::File(d)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(d.photos, vec!["https://cdn/1.jpg".to_string()]);
        assert_eq!((d.lat, d.lon), (Some(10.7769), Some(106.7009)));
        assert_eq!(d.description, "Cây đổ chắn ngang lối đi sau cơn mưa");
        assert_eq!(d.field.as_deref(), Some("traffic"));
    }

    #[test]
    fn questions_already_answered_are_skipped() {
        // Photos first: after the field and the description, the place is asked, not photos.
        let mut c = Conversation::default();
        say(&mut c, image("p1"));
        say(&mut c, image("p2"));
        say(&mut c, field("lighting"));
        assert_eq!(c.step, Step::Describe);
        let (r, _) = say(&mut c, text("Đèn đường tắt cả dãy phố"));
        assert_eq!(c.step, Step::Location, "{r:?}");
        // A photo while the place is asked is kept, and the place asked again.
        let (r, _) = say(&mut c, image("p3"));
        assert_eq!(c.step, Step::Location);
        assert!(r[0].text.starts_with("Đã nhận ảnh 3/5."), "{r:?}");
        let (r, _) = say(&mut c, text("12 Le Loi, phuong Sai Gon"));
        assert_eq!(c.step, Step::Confirm);
        assert!(r[0].text.contains("Ảnh: 3"), "{r:?}");

        // An address after the description, before the field: the place is known.
        let mut c = Conversation::default();
        say(&mut c, text("Ổ gà sâu giữa làn xe máy"));
        say(&mut c, text("trước số 12 Lê Lợi, phường Sài Gòn"));
        assert_eq!(c.draft.ward.as_deref(), Some("26740"));
        let (r, _) = say(&mut c, field("traffic"));
        assert_eq!(c.step, Step::Confirm, "{r:?}");

        // A location while photos are asked answers the place too.
        let mut c = Conversation::default();
        say(&mut c, field("traffic"));
        say(&mut c, text("Ổ gà sâu giữa làn xe máy"));
        assert_eq!(c.step, Step::Photos);
        say(&mut c, HERE);
        assert_eq!(c.step, Step::Confirm);

        // A description sent while the description is asked, then more text: added to it.
        let mut c = Conversation::default();
        say(&mut c, field("traffic"));
        say(&mut c, image("p1"));
        assert_eq!(c.step, Step::Describe, "a photo does not describe");
        say(&mut c, text("Ổ gà sâu giữa làn xe máy"));
        assert_eq!(c.step, Step::Location);
        let (r, _) = say(&mut c, HERE);
        assert_eq!(c.step, Step::Confirm);
        assert!(r[0].text.contains("Ảnh: 1"));
        let (r, _) = say(&mut c, text("Đã có người ngã xe tối qua"));
        assert_eq!(c.step, Step::Confirm);
        assert!(
            r[0].text.starts_with("Đã ghi thêm vào nội dung.")
                && r[0]
                    .text
                    .contains("Ổ gà sâu giữa làn xe máy\nĐã có người ngã xe tối qua"),
            "{r:?}"
        );
    }

    #[test]
    fn contacts_are_kept_and_shown() {
        let mut c = Conversation::default();
        say(
            &mut c,
            Content::Contact {
                phone: "+84 912 345 678".into(),
                name: Some("Nguyễn Thị Lan".into()),
            },
        );
        assert_eq!(c.draft.phone.as_deref(), Some("0912345678"));
        assert_eq!(c.draft.name.as_deref(), Some("Nguyễn Thị Lan"));
        say(&mut c, field("lighting"));
        say(&mut c, text("Cây đổ chắn ngang đường Lê Lợi"));
        // A number typed alone is a contact, not a description nor an address.
        let (r, _) = say(&mut c, text("0987 654 321"));
        assert_eq!(c.step, Step::Photos);
        assert!(r[0].text.starts_with("Đã nhận số điện thoại"), "{r:?}");
        assert_eq!(c.draft.phone.as_deref(), Some("0987654321"));
        let (r, _) = say(&mut c, HERE);
        assert!(
            r[0].text.contains("Liên hệ: Nguyễn Thị Lan, 0987654321"),
            "{r:?}"
        );
        // A card without a usable number is said so, and not kept.
        let mut c = Conversation::default();
        let (r, _) = say(
            &mut c,
            Content::Contact {
                phone: "12".into(),
                name: None,
            },
        );
        assert!(r[0].text.contains("không hợp lệ"), "{r:?}");
        assert_eq!(c.draft.phone, None);
        assert_eq!(phone_in("84912345678").as_deref(), Some("0912345678"));
        assert_eq!(phone_in("028 3823 4567").as_deref(), Some("02838234567"));
        assert_eq!(phone_in("12/5/2024"), None);
        assert_eq!(phone_in("call 0912345678"), None);
    }

    #[test]
    fn keyboard_titles_are_the_choices_they_stand_for() {
        // Reply keyboards (Telegram) send the button's title back as text.
        let mut c = Conversation::default();
        let (r, _) = say(
            &mut c,
            Content::Choice {
                payload: "GET_STARTED".into(),
                text: "/start".into(),
            },
        );
        assert!(r[0].text.starts_with("Xin chào"), "the welcome: {r:?}");
        let (_, _) = say(&mut c, text("Giao thông"));
        assert_eq!(
            (c.step, c.draft.field.as_deref()),
            (Step::Describe, Some("traffic"))
        );
        say(&mut c, text("Ổ gà sâu giữa làn xe máy"));
        say(&mut c, text("Bỏ qua"));
        assert_eq!(c.step, Step::Location);
        say(&mut c, HERE);
        let (_, e) = say(&mut c, text("Gửi"));
        assert!(matches!(e, Some(Effect::File(_))));
        // At the start a field's name chooses it, a number does not.
        let mut c = Conversation::default();
        say(&mut c, text("Chiếu sáng"));
        assert_eq!(c.draft.field.as_deref(), Some("lighting"));
        let mut c = Conversation::default();
        say(&mut c, text("2"));
        assert_eq!((c.step, c.draft.field.as_deref()), (Step::Field, None));
        say(&mut c, text("2"));
        assert_eq!(c.draft.field.as_deref(), Some("lighting"));
    }

    #[test]
    fn drafts_saved_before_these_rules_still_read() {
        let old = r#"{"step":"photos","draft":{"field":"traffic","description":"Ổ gà sâu giữa làn xe","photos":[],"lat":null,"lon":null,"address":null,"ward":null},"lang":"vi"}"#;
        let c: Conversation = serde_json::from_str(old).unwrap();
        assert_eq!(c.step, Step::Photos);
        assert!(!c.draft.photos_done && c.draft.phone.is_none());
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

            /// Photos, a location, a contact and a description sent in any order before the
            /// field are all on the report filed after it, whatever else is asked.
            #[test]
            fn everything_sent_first_is_filed(first in prop::collection::vec(
                prop_oneof![
                    (0u8..20).prop_map(|i| Content::Image { url: format!("https://cdn.example/{i}.jpg") }),
                    (10.0f64..11.0, 106.0f64..107.0).prop_map(|(lat, lon)| Content::Location { lat, lon }),
                    "09[0-9]{8}".prop_map(|p| Content::Contact { phone: p, name: None }),
                    "(Ổ gà|Cây đổ|Nước ngập) [a-zà-ỹ ]{10,40}".prop_map(|t| Content::Text { text: t }),
                ],
                1..10,
            ), choice in prop_oneof![Just("FIELD:traffic"), Just("FIELD:lighting")]) {
                let mut c = Conversation::default();
                for m in &first {
                    say(&mut c, m.clone());
                }
                say(&mut c, Content::Choice { payload: choice.into(), text: String::new() });
                let mut filed = None;
                for _ in 0..6 {
                    let answer = match c.step {
                        Step::Describe => text("Mô tả thêm về sự việc ở đây"),
                        Step::Photos => Content::Choice { payload: "PHOTOS_DONE".into(), text: String::new() },
                        Step::Location => Content::Location { lat: 10.5, lon: 106.5 },
                        _ => Content::Choice { payload: "CONFIRM".into(), text: String::new() },
                    };
                    if let (_, Some(Effect::File(d))) = say(&mut c, answer) {
                        filed = Some(d);
                        break;
                    }
                }
                let d = filed.expect("filed");
                let photos: Vec<String> = first.iter().filter_map(|m| match m {
                    Content::Image { url } => Some(url.clone()),
                    _ => None,
                }).take(MAX_PHOTOS).collect();
                prop_assert_eq!(&d.photos, &photos);
                if let Some(Content::Location { lat, lon }) = first.iter().rev().find(|m| matches!(m, Content::Location { .. })) {
                    prop_assert_eq!((d.lat, d.lon), (Some(*lat), Some(*lon)));
                }
                if let Some(Content::Contact { phone, .. }) = first.iter().rev().find(|m| matches!(m, Content::Contact { .. })) {
                    prop_assert_eq!(d.phone.as_ref(), Some(phone));
                }
                if let Some(Content::Text { text }) = first.iter().find(|m| matches!(m, Content::Text { .. })) {
                    prop_assert!(d.description.starts_with(text.trim()), "{:?}", d);
                }
                prop_assert_eq!(d.field.as_deref(), Some(&choice[6..]));
            }
        }
    }
}
