//! The fields' extra questions as an administrator types them: one question per line,
//!
//! ```text
//! code | type | flags | Vietnamese question | English question | key=Name; key=Name
//! ```
//!
//! `type` is one of [`ATTRIBUTE_TYPES`]; `flags` is empty or any of `required` and
//! `private` (comma-separated); the last part lists the answers of a list question. Empty
//! lines and lines starting with `#` are skipped. The order of the lines is the order asked.
//! [`format`] writes the same text back, so the admin page shows what is in force.

use crate::profile::{ATTRIBUTE_TYPES, Attribute, AttributeValue};

/// At most this many questions per field, and answers per question.
pub const MAX_QUESTIONS: usize = 20;
pub const MAX_CHOICES: usize = 30;

/// The questions in `text`, or the first problem (Vietnamese / English) with its line.
pub fn parse(text: &str) -> Result<Vec<Attribute>, String> {
    let mut out: Vec<Attribute> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if out.len() == MAX_QUESTIONS {
            return Err(format!(
                "tối đa {MAX_QUESTIONS} câu hỏi / at most {MAX_QUESTIONS} questions"
            ));
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        if parts.len() < 4 || parts.len() > 6 {
            return Err(format!(
                "dòng {n}: cần «mã | kiểu | tùy chọn | câu hỏi tiếng Việt | câu hỏi tiếng Anh | lựa chọn» / line {n}: expected «code | type | flags | Vietnamese | English | choices»"
            ));
        }
        let code = parts[0];
        let valid_code = !code.is_empty()
            && code.len() <= 64
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_code {
            return Err(format!(
                "dòng {n}: mã «{code}» chỉ gồm chữ thường không dấu, số và _ / line {n}: code must be lowercase letters, digits and _"
            ));
        }
        if out.iter().any(|a| a.code == code) {
            return Err(format!(
                "dòng {n}: mã «{code}» bị trùng / line {n}: duplicate code"
            ));
        }
        let datatype = parts[1];
        if !ATTRIBUTE_TYPES.contains(&datatype) {
            return Err(format!(
                "dòng {n}: kiểu «{datatype}» không hợp lệ ({}) / line {n}: unknown type",
                ATTRIBUTE_TYPES.join(", ")
            ));
        }
        let (mut required, mut private) = (false, false);
        for flag in parts[2].split(',').map(str::trim).filter(|f| !f.is_empty()) {
            match flag {
                "required" => required = true,
                "private" => private = true,
                other => {
                    return Err(format!(
                        "dòng {n}: tùy chọn «{other}» không hợp lệ (required, private) / line {n}: unknown flag"
                    ));
                }
            }
        }
        let description_vi = parts[3];
        if description_vi.is_empty() || description_vi.chars().count() > 300 {
            return Err(format!(
                "dòng {n}: thiếu câu hỏi tiếng Việt (tối đa 300 ký tự) / line {n}: the Vietnamese question is missing or too long"
            ));
        }
        let description_en = parts.get(4).copied().unwrap_or("");
        let mut values = Vec::new();
        for choice in parts
            .get(5)
            .copied()
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let Some((key, name)) = choice.split_once('=') else {
                return Err(format!(
                    "dòng {n}: lựa chọn «{choice}» cần dạng khóa=Tên / line {n}: a choice is key=Name"
                ));
            };
            let (key, name) = (key.trim(), name.trim());
            if key.is_empty()
                || name.is_empty()
                || values.iter().any(|v: &AttributeValue| v.key == key)
            {
                return Err(format!(
                    "dòng {n}: lựa chọn «{choice}» trống hoặc trùng / line {n}: empty or duplicate choice"
                ));
            }
            values.push(AttributeValue {
                key: key.into(),
                name: name.into(),
            });
        }
        let is_list = datatype.ends_with("valuelist");
        if is_list && values.is_empty() {
            return Err(format!(
                "dòng {n}: câu hỏi dạng danh sách cần các lựa chọn / line {n}: a list question needs choices"
            ));
        }
        if !is_list && !values.is_empty() {
            return Err(format!(
                "dòng {n}: chỉ câu hỏi dạng danh sách mới có lựa chọn / line {n}: only list questions have choices"
            ));
        }
        if values.len() > MAX_CHOICES {
            return Err(format!(
                "dòng {n}: tối đa {MAX_CHOICES} lựa chọn / line {n}: at most {MAX_CHOICES} choices"
            ));
        }
        out.push(Attribute {
            code: code.into(),
            datatype: datatype.into(),
            required,
            description_vi: description_vi.into(),
            description_en: description_en.into(),
            order: u32::try_from(out.len() + 1).unwrap_or(u32::MAX),
            values,
            private,
        });
    }
    Ok(out)
}

/// `questions` as [`parse`] reads them, in the order asked.
pub fn format(questions: &[Attribute]) -> String {
    let mut sorted: Vec<&Attribute> = questions.iter().collect();
    sorted.sort_by_key(|a| a.order);
    let mut out = String::new();
    for a in sorted {
        let flags: Vec<&str> = [(a.required, "required"), (a.private, "private")]
            .into_iter()
            .filter_map(|(on, f)| on.then_some(f))
            .collect();
        let choices: Vec<String> = a
            .values
            .iter()
            .map(|v| format!("{}={}", v.key, v.name))
            .collect();
        out.push_str(&format!(
            "{} | {} | {} | {} | {}",
            a.code,
            a.datatype,
            flags.join(","),
            a.description_vi,
            a.description_en
        ));
        if !choices.is_empty() {
            out.push_str(&format!(" | {}", choices.join("; ")));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# trees\n\
        tree_state | singlevaluelist | required | Tình trạng cây | The tree | fallen=Đã đổ; leaning=Nghiêng\n\
        \n\
        meter | string | private | Mã khách hàng | Customer code\n\
        count | number |  | Số cây\n";

    #[test]
    fn questions_are_read_in_order_and_written_back_the_same() {
        let q = parse(TEXT).unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].code, "tree_state");
        assert!(q[0].required && !q[0].private);
        assert_eq!(q[0].values[1].key, "leaning");
        assert_eq!(q[0].values[1].name, "Nghiêng");
        assert!(q[1].private && !q[1].required);
        assert_eq!(q[2].description_en, "");
        assert_eq!(q.iter().map(|a| a.order).collect::<Vec<_>>(), [1, 2, 3]);
        let again = parse(&format(&q)).unwrap();
        assert_eq!(again, q);
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        for (text, says) in [
            ("a | string", "line 1"),
            ("Bad | string | | Hỏi", "code must be"),
            ("a | colour | | Hỏi", "unknown type"),
            ("a | string | must | Hỏi", "unknown flag"),
            ("a | string | | ", "Vietnamese question"),
            ("a | singlevaluelist | | Hỏi", "needs choices"),
            ("a | string | | Hỏi | Ask | x=X", "only list questions"),
            ("a | singlevaluelist | | Hỏi | Ask | x", "key=Name"),
            (
                "a | singlevaluelist | | Hỏi | Ask | x=X; x=Y",
                "duplicate choice",
            ),
            (
                "a | string | | Hỏi\n\na | number | | Hỏi",
                "line 3: duplicate code",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        let many: String = (0..=MAX_QUESTIONS)
            .map(|i| format!("q{i} | string | | Hỏi\n"))
            .collect();
        assert!(parse(&many).unwrap_err().contains("at most"));
    }
}
