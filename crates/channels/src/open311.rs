//! The Open311 GeoReport v2 `POST requests` form: what another portal sends us, read into
//! one value with no I/O. The web route checks the key, the jurisdiction and the service in
//! the standard's order, then takes the details (or their first error) from here.

use std::collections::BTreeMap;

/// Longest description accepted, in characters (the standard leaves it to the server).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// A `POST requests` form, read.
#[derive(Debug, Clone, PartialEq)]
pub struct PostForm {
    pub api_key: Option<String>,
    pub jurisdiction_id: Option<String>,
    pub service_code: Option<String>,
    pub account_id: Option<String>,
    pub device_id: Option<String>,
    /// Everything else, or the first thing wrong with it.
    pub details: Result<PostDetails, PostError>,
}

/// The report itself, as the form gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct PostDetails {
    /// Both coordinates, or neither.
    pub point: Option<(f64, f64)>,
    pub address: Option<String>,
    pub description: Option<String>,
    /// `attribute[code]=v` and `attribute[code][]=v1&attribute[code][]=v2`.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// `first_name` and `last_name`, joined.
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub media_url: Option<String>,
}

/// What is wrong with a form's details, first found first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostError {
    /// `lat` or `long` is not a number (the parameter's name).
    NotANumber(&'static str),
    /// Neither a point nor `address_string`.
    NoLocation,
    DescriptionTooLong,
    /// An `attribute[…]` parameter that is not `attribute[code]` or `attribute[code][]`.
    MalformedAttribute(String),
}

impl PostError {
    /// The message for the integrator, Vietnamese first.
    pub fn message(&self) -> String {
        match self {
            PostError::NotANumber(k) => format!("{k}: cần một số / {k} must be a number"),
            PostError::NoLocation => "Cần lat và long, hoặc address_string / lat and long, or address_string, are required".into(),
            PostError::DescriptionTooLong => format!(
                "description dài quá {MAX_DESCRIPTION_CHARS} ký tự / description is longer than 4,000 characters"
            ),
            PostError::MalformedAttribute(k) => {
                format!("Tham số không đúng dạng / malformed attribute parameter {k}")
            }
        }
    }
}

/// Query or form pairs, keeping repeats (`attribute[x][]=a&attribute[x][]=b`).
pub fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `key`, trimmed, when it is not empty.
pub fn get1<'a>(p: &'a [(String, String)], key: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Reads a form body. Linear in its length; the route caps the body before this runs.
pub fn parse_post(body: &[u8]) -> PostForm {
    let p = pairs(body);
    let own = |k: &str| get1(&p, k).map(String::from);
    PostForm {
        api_key: own("api_key"),
        jurisdiction_id: own("jurisdiction_id"),
        service_code: own("service_code"),
        account_id: own("account_id"),
        device_id: own("device_id"),
        details: details(&p),
    }
}

fn details(p: &[(String, String)]) -> Result<PostDetails, PostError> {
    let number = |k: &'static str| {
        get1(p, k)
            .map(|v| v.parse::<f64>().map_err(|_| PostError::NotANumber(k)))
            .transpose()
    };
    let lat = number("lat")?;
    let lon = number("long")?;
    let point = lat.zip(lon);
    let address = get1(p, "address_string").map(String::from);
    if point.is_none() && address.is_none() {
        return Err(PostError::NoLocation);
    }
    let description = get1(p, "description").map(String::from);
    if description
        .as_deref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        return Err(PostError::DescriptionTooLong);
    }
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in p {
        if let Some(rest) = k.strip_prefix("attribute[") {
            let code = rest
                .strip_suffix("][]")
                .or_else(|| rest.strip_suffix(']'))
                .filter(|c| !c.is_empty() && !c.contains(['[', ']']))
                .ok_or_else(|| PostError::MalformedAttribute(k.clone()))?;
            attributes
                .entry(code.to_string())
                .or_default()
                .push(v.clone());
        }
    }
    let name = [get1(p, "first_name"), get1(p, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(PostDetails {
        point,
        address,
        description,
        attributes,
        name: (!name.is_empty()).then_some(name),
        phone: get1(p, "phone").map(String::from),
        email: get1(p, "email").map(String::from),
        media_url: get1(p, "media_url").map(String::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_form() {
        let f = parse_post(
            b"api_key=k&service_code=traffic&lat=10.77&long=106.70&description=H%E1%BB%91+s%C3%A2u\
              &first_name=An&last_name=Nguyen&attribute[size]=big&attribute[kind][]=a&attribute[kind][]=b&account_id=7",
        );
        assert_eq!(f.api_key.as_deref(), Some("k"));
        assert_eq!(f.service_code.as_deref(), Some("traffic"));
        assert_eq!(f.account_id.as_deref(), Some("7"));
        let d = f.details.unwrap();
        assert_eq!(d.point, Some((10.77, 106.70)));
        assert_eq!(d.description.as_deref(), Some("Hố sâu"));
        assert_eq!(d.name.as_deref(), Some("An Nguyen"));
        assert_eq!(d.attributes["kind"], vec!["a", "b"]);
        assert_eq!(d.attributes["size"], vec!["big"]);
    }

    #[test]
    fn errors_in_the_standards_order() {
        let d = |b: &[u8]| parse_post(b).details;
        assert_eq!(d(b"lat=x&long=1"), Err(PostError::NotANumber("lat")));
        assert_eq!(d(b"lat=1&long=y"), Err(PostError::NotANumber("long")));
        // One coordinate is no point.
        assert_eq!(d(b"lat=1"), Err(PostError::NoLocation));
        assert!(d(b"lat=1&address_string=1+Le+Loi").unwrap().point.is_none());
        let long = format!("address_string=a&description={}", "x".repeat(4001));
        assert_eq!(d(long.as_bytes()), Err(PostError::DescriptionTooLong));
        for bad in [
            "attribute[]",
            "attribute[a",
            "attribute[a][b]",
            "attribute[[x]]",
        ] {
            let body = format!("address_string=a&{bad}=1");
            assert!(
                matches!(d(body.as_bytes()), Err(PostError::MalformedAttribute(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn blank_values_are_absent() {
        let f = parse_post(b"api_key=+&service_code=&address_string=%20x%20");
        assert_eq!(f.api_key, None);
        assert_eq!(f.service_code, None);
        assert_eq!(f.details.unwrap().address.as_deref(), Some("x"));
    }
}
