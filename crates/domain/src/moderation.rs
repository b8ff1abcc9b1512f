//! Moderation: what the public sees of a report's words and photos. Orthogonal to the
//! procedure (a report can be moderated in any status); each step is an event in the
//! history, like the procedure's. [`decide`] checks a step against the state and returns
//! the event to append; whether a named photo belongs to the report is checked by the
//! caller, which knows the photos.

use serde::{Deserialize, Serialize};

use crate::event::{EventKind, Rect};
use crate::model::Publication;
use crate::procedure::State;

/// At most this many rectangles on one photo, and this long a public text or a reason.
pub const MAX_BOXES: usize = 50;
pub const MAX_TEXT: usize = 5000;

/// A moderator's step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Publish the words and photos (after review, or again after hiding).
    Publish,
    /// Replace the text the public sees (the citizen's own stays for staff).
    EditText { text: String },
    /// Hide one photo from the public.
    HidePhoto { photo: String },
    /// Blur rectangles of one photo in its public copy.
    RedactPhoto { photo: String, boxes: Vec<Rect> },
    /// Hide the whole report from the public; the reporter is told `reason`.
    Hide { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModerationError {
    #[error("hồ sơ đã được công khai / the report is already published")]
    AlreadyPublished,
    #[error("hồ sơ đã bị ẩn / the report is already hidden")]
    AlreadyHidden,
    #[error(
        "cần nêu nội dung hoặc lý do (tối đa 5000 ký tự) / a text or reason is required (at most 5,000 characters)"
    )]
    TextRequired,
    #[error(
        "cần từ 1 đến 50 vùng che, nằm trong ảnh / between 1 and 50 boxes are needed, inside the photo"
    )]
    BadBoxes,
}

fn text(t: &str) -> Result<String, ModerationError> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > MAX_TEXT {
        Err(ModerationError::TextRequired)
    } else {
        Ok(t.to_string())
    }
}

/// Checks `step` against `state` and returns the event to append. For a redaction, `copy`
/// is the key of the public copy already rendered, and `size` the photo's (width, height).
pub fn decide(
    state: &State,
    step: &Step,
    copy: Option<&str>,
    size: Option<(u32, u32)>,
) -> Result<EventKind, ModerationError> {
    Ok(match step {
        Step::Publish => {
            if state.publication == Publication::Published {
                return Err(ModerationError::AlreadyPublished);
            }
            EventKind::Published
        }
        Step::EditText { text: t } => EventKind::PublicTextEdited { text: text(t)? },
        Step::HidePhoto { photo } => EventKind::PhotoHidden {
            photo: photo.clone(),
        },
        Step::RedactPhoto { photo, boxes } => {
            check_boxes(boxes, size)?;
            EventKind::PhotoRedacted {
                photo: photo.clone(),
                copy: copy.ok_or(ModerationError::BadBoxes)?.to_string(),
                boxes: boxes.clone(),
            }
        }
        Step::Hide { reason } => {
            if state.publication == Publication::Hidden {
                return Err(ModerationError::AlreadyHidden);
            }
            EventKind::HiddenFromPublic {
                reason: text(reason)?,
            }
        }
    })
}

/// Whether `boxes` are 1 to [`MAX_BOXES`] non-empty rectangles inside a photo of `size`.
pub fn check_boxes(boxes: &[Rect], size: Option<(u32, u32)>) -> Result<(), ModerationError> {
    let Some((w, h)) = size else {
        return Err(ModerationError::BadBoxes);
    };
    let inside = |r: &Rect| {
        r.w > 0
            && r.h > 0
            && r.x.checked_add(r.w).is_some_and(|x| x <= w)
            && r.y.checked_add(r.h).is_some_and(|y| y <= h)
    };
    if boxes.is_empty() || boxes.len() > MAX_BOXES || !boxes.iter().all(inside) {
        return Err(ModerationError::BadBoxes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::model::{Actor, Channel};

    fn state(review: bool) -> State {
        State::fold(&[Event {
            seq: 1,
            at: chrono::Utc::now(),
            actor: Actor::citizen(),
            kind: EventKind::Created {
                field: "noise".into(),
                channel: Channel::Web,
                ward: None,
                unit: "T".into(),
                review,
            },
        }])
        .unwrap()
    }

    #[test]
    fn a_review_field_starts_unpublished_and_each_step_moves_it() {
        let mut s = state(true);
        assert_eq!(s.publication, Publication::Review);
        assert_eq!(state(false).publication, Publication::Published);
        let e = decide(
            &s,
            &Step::EditText {
                text: " Tiếng ồn về đêm ".into(),
            },
            None,
            None,
        )
        .unwrap();
        s.apply(&e, chrono::Utc::now());
        assert_eq!(s.public_text.as_deref(), Some("Tiếng ồn về đêm"));
        assert_eq!(
            s.publication,
            Publication::Review,
            "editing does not publish"
        );
        let e = decide(&s, &Step::Publish, None, None).unwrap();
        s.apply(&e, chrono::Utc::now());
        assert_eq!(s.publication, Publication::Published);
        assert_eq!(
            decide(&s, &Step::Publish, None, None),
            Err(ModerationError::AlreadyPublished)
        );
        let e = decide(
            &s,
            &Step::Hide {
                reason: "Nêu tên người".into(),
            },
            None,
            None,
        )
        .unwrap();
        s.apply(&e, chrono::Utc::now());
        assert_eq!(s.publication, Publication::Hidden);
        assert_eq!(
            decide(&s, &Step::Hide { reason: "x".into() }, None, None),
            Err(ModerationError::AlreadyHidden)
        );
        // Published again after hiding.
        assert_eq!(
            decide(&s, &Step::Publish, None, None),
            Ok(EventKind::Published)
        );
        assert_eq!(
            decide(
                &s,
                &Step::Hide {
                    reason: "  ".into()
                },
                None,
                None
            )
            .unwrap_err(),
            ModerationError::AlreadyHidden
        );
        assert_eq!(
            decide(
                &state(false),
                &Step::Hide {
                    reason: "  ".into()
                },
                None,
                None
            )
            .unwrap_err(),
            ModerationError::TextRequired
        );
    }

    #[test]
    fn redaction_boxes_must_lie_inside_the_photo() {
        let r = |x, y, w, h| Rect { x, y, w, h };
        let ok = [r(0, 0, 10, 10), r(90, 40, 10, 10)];
        assert!(check_boxes(&ok, Some((100, 50))).is_ok());
        for bad in [
            vec![],
            vec![r(0, 0, 0, 10)],
            vec![r(95, 0, 10, 10)],
            vec![r(0, 45, 10, 10)],
            vec![r(u32::MAX, 0, 2, 2)],
            vec![r(0, 0, 1, 1); MAX_BOXES + 1],
        ] {
            assert_eq!(
                check_boxes(&bad, Some((100, 50))),
                Err(ModerationError::BadBoxes)
            );
        }
        assert!(check_boxes(&ok, None).is_err(), "no size: not a photo");
        let s = state(false);
        let step = Step::RedactPhoto {
            photo: "a.jpg".into(),
            boxes: ok.to_vec(),
        };
        assert!(matches!(
            decide(&s, &step, Some("b.jpg"), Some((100, 50))),
            Ok(EventKind::PhotoRedacted { copy, .. }) if copy == "b.jpg"
        ));
    }
}
