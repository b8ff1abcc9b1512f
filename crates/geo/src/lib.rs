//! Wards and place names.
//!
//! - [`WardIndex`]: which ward a point lies in (point-in-polygon, with a nearest-ward
//!   fallback for river slivers and the coast).
//! - [`WardNames`]: which ward a typed name or a free-text address means.
//! - [`text`]: Vietnamese text folding (lower case, no diacritics) for matching.

mod index;
mod names;
pub mod text;

use std::fmt;

pub use geo::{MultiPolygon, Polygon};
pub use index::{WardHit, WardIndex, WardShape};
pub use names::{WardName, WardNames};

/// A geometry that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeoError {
    /// Not a GeoJSON geometry object.
    Invalid(String),
    /// A GeoJSON geometry of another type than Polygon or MultiPolygon.
    Unsupported(String),
}

impl fmt::Display for GeoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeoError::Invalid(e) => {
                write!(
                    f,
                    "hình học GeoJSON không hợp lệ / invalid GeoJSON geometry: {e}"
                )
            }
            GeoError::Unsupported(t) => write!(
                f,
                "chỉ hỗ trợ Polygon và MultiPolygon / only Polygon and MultiPolygon are supported, got {t}"
            ),
        }
    }
}

impl std::error::Error for GeoError {}

/// Reads a GeoJSON geometry object (`{"type": "MultiPolygon" | "Polygon", "coordinates": …}`)
/// into a [`MultiPolygon`] (a Polygon becomes a MultiPolygon of one).
pub fn multipolygon_from_geojson(value: &serde_json::Value) -> Result<MultiPolygon<f64>, GeoError> {
    use serde::Deserialize;
    let g = geojson::Geometry::deserialize(value).map_err(|e| GeoError::Invalid(e.to_string()))?;
    match &g.value {
        geojson::GeometryValue::MultiPolygon { .. } => {
            MultiPolygon::<f64>::try_from(&g.value).map_err(|e| GeoError::Invalid(e.to_string()))
        }
        geojson::GeometryValue::Polygon { .. } => Polygon::<f64>::try_from(&g.value)
            .map(|p| MultiPolygon::new(vec![p]))
            .map_err(|e| GeoError::Invalid(e.to_string())),
        other => Err(GeoError::Unsupported(other.type_name().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_polygon_and_multipolygon() {
        let ring = json!([[106.0, 10.0], [106.1, 10.0], [106.1, 10.1], [106.0, 10.0]]);
        let mp = multipolygon_from_geojson(
            &json!({"type": "MultiPolygon", "coordinates": [[ring.clone()]]}),
        )
        .unwrap();
        assert_eq!(mp.0.len(), 1);
        assert_eq!(mp.0[0].exterior().0.len(), 4);
        let p =
            multipolygon_from_geojson(&json!({"type": "Polygon", "coordinates": [ring]})).unwrap();
        assert_eq!(p, mp);
        let e = multipolygon_from_geojson(&json!({"type": "Point", "coordinates": [106.0, 10.0]}));
        assert_eq!(e, Err(GeoError::Unsupported("Point".into())));
        assert!(matches!(
            multipolygon_from_geojson(&json!({"type": "Polygon"})),
            Err(GeoError::Invalid(_))
        ));
        assert!(multipolygon_from_geojson(&json!("nonsense")).is_err());
    }
}
