//! Which ward a point lies in.
//!
//! Exact point-in-polygon first (bounding boxes filter the wards, and each ring keeps
//! its edges sorted into horizontal bands so that a lookup only tests the few edges
//! near the point's latitude). A point in no ward (a river sliver, a gap between
//! simplified boundaries, just off the coast) goes to the nearest ward within
//! [`WardIndex::max_distance_m`]; further away it is outside the city.

use geo::{LineString, MultiPolygon};

/// Metres per degree of latitude (mean Earth radius 6,371,008.8 m).
const M_PER_DEG: f64 = 111_195.08;

/// A ward's code and boundary, as given to [`WardIndex::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct WardShape {
    pub code: String,
    pub geometry: MultiPolygon<f64>,
}

/// The ward found for a point.
#[derive(Debug, Clone, PartialEq)]
pub struct WardHit {
    pub code: String,
    /// `true`: the point lies inside the ward's boundary. `false`: it lies in no ward
    /// and this is the nearest one.
    pub exact: bool,
    /// Distance from the point to the ward's boundary in metres; 0 when `exact`.
    pub distance_m: f64,
}

#[derive(Debug, Clone, Copy)]
struct BBox {
    min_x: f64,
    min_y: f64,
    max_x: f64,
    max_y: f64,
}

impl BBox {
    const EMPTY: BBox = BBox {
        min_x: f64::INFINITY,
        min_y: f64::INFINITY,
        max_x: f64::NEG_INFINITY,
        max_y: f64::NEG_INFINITY,
    };

    fn add(&mut self, x: f64, y: f64) {
        self.min_x = self.min_x.min(x);
        self.min_y = self.min_y.min(y);
        self.max_x = self.max_x.max(x);
        self.max_y = self.max_y.max(y);
    }

    fn merge(&mut self, o: &BBox) {
        self.min_x = self.min_x.min(o.min_x);
        self.min_y = self.min_y.min(o.min_y);
        self.max_x = self.max_x.max(o.max_x);
        self.max_y = self.max_y.max(o.max_y);
    }

    fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.min_x && x <= self.max_x && y >= self.min_y && y <= self.max_y
    }

    /// Contains the point once grown by `dx` degrees of longitude and `dy` of latitude.
    fn near(&self, x: f64, y: f64, dx: f64, dy: f64) -> bool {
        x >= self.min_x - dx && x <= self.max_x + dx && y >= self.min_y - dy && y <= self.max_y + dy
    }

    /// Squared distance in metres from a point to the box (0 inside).
    fn dist2_m(&self, x: f64, y: f64, kx: f64, ky: f64) -> f64 {
        let dx = if x < self.min_x {
            self.min_x - x
        } else if x > self.max_x {
            x - self.max_x
        } else {
            0.0
        } * kx;
        let dy = if y < self.min_y {
            self.min_y - y
        } else if y > self.max_y {
            y - self.max_y
        } else {
            0.0
        } * ky;
        dx * dx + dy * dy
    }
}

/// One closed ring: its points (x = lon, y = lat, last == first) and, per horizontal
/// band, the edges that reach into it (edge `k` runs from `pts[k]` to `pts[k + 1]`).
#[derive(Debug, Clone)]
struct Ring {
    pts: Vec<[f64; 2]>,
    bbox: BBox,
    band_y0: f64,
    band_inv_h: f64,
    /// Band `b` holds `edges[band_start[b]..band_start[b + 1]]`.
    band_start: Vec<u32>,
    edges: Vec<u32>,
}

impl Ring {
    fn new(line: &LineString<f64>) -> Option<Ring> {
        let mut pts: Vec<[f64; 2]> = line
            .0
            .iter()
            .filter(|c| c.x.is_finite() && c.y.is_finite())
            .map(|c| [c.x, c.y])
            .collect();
        pts.dedup();
        if pts.len() < 3 {
            return None;
        }
        if pts.first() != pts.last() {
            pts.push(pts[0]);
        }
        if pts.len() < 4 {
            return None;
        }
        let mut bbox = BBox::EMPTY;
        for p in &pts {
            bbox.add(p[0], p[1]);
        }
        let n_edges = pts.len() - 1;
        let n_bands = (n_edges / 4).clamp(1, 4096);
        let height = bbox.max_y - bbox.min_y;
        let band_inv_h = if height > 0.0 {
            n_bands as f64 / height
        } else {
            0.0
        };
        let band_of = |y: f64| -> usize {
            let b = ((y - bbox.min_y) * band_inv_h) as isize;
            b.clamp(0, n_bands as isize - 1) as usize
        };
        // Counting pass, then filling pass (compressed rows).
        let mut counts = vec![0u32; n_bands + 1];
        for k in 0..n_edges {
            let (a, b) = (pts[k][1], pts[k + 1][1]);
            for band in band_of(a.min(b))..=band_of(a.max(b)) {
                counts[band + 1] += 1;
            }
        }
        for b in 0..n_bands {
            counts[b + 1] += counts[b];
        }
        let mut fill = counts.clone();
        let mut edges = vec![0u32; counts[n_bands] as usize];
        for k in 0..n_edges {
            let (a, b) = (pts[k][1], pts[k + 1][1]);
            for band in band_of(a.min(b))..=band_of(a.max(b)) {
                edges[fill[band] as usize] = k as u32;
                fill[band] += 1;
            }
        }
        Some(Ring {
            pts,
            bbox,
            band_y0: bbox.min_y,
            band_inv_h,
            band_start: counts,
            edges,
        })
    }

    fn n_bands(&self) -> usize {
        self.band_start.len() - 1
    }

    fn band_of(&self, y: f64) -> usize {
        let b = ((y - self.band_y0) * self.band_inv_h) as isize;
        b.clamp(0, self.n_bands() as isize - 1) as usize
    }

    fn band(&self, b: usize) -> &[u32] {
        &self.edges[self.band_start[b] as usize..self.band_start[b + 1] as usize]
    }

    /// Whether a horizontal ray from the point to +x crosses this ring an odd number of times.
    fn crossings_odd(&self, x: f64, y: f64) -> bool {
        if !self.bbox.contains(x, y) {
            return false;
        }
        let mut inside = false;
        for &k in self.band(self.band_of(y)) {
            let [x1, y1] = self.pts[k as usize];
            let [x2, y2] = self.pts[k as usize + 1];
            if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
                inside = !inside;
            }
        }
        inside
    }

    /// Smallest squared distance (m²) from the point to an edge, if below `best`.
    fn min_dist2_m(&self, x: f64, y: f64, kx: f64, ky: f64, mut best: f64) -> f64 {
        if self.bbox.dist2_m(x, y, kx, ky) >= best {
            return best;
        }
        let reach = best.sqrt() / ky;
        let lo = self.band_of(y - reach);
        let hi = self.band_of(y + reach);
        for b in lo..=hi {
            for &k in self.band(b) {
                let [x1, y1] = self.pts[k as usize];
                let [x2, y2] = self.pts[k as usize + 1];
                let d = seg_dist2_m(x, y, x1, y1, x2, y2, kx, ky);
                if d < best {
                    best = d;
                }
            }
        }
        best
    }
}

/// Squared distance in metres from (x, y) to the segment (x1, y1)–(x2, y2), in a local
/// equirectangular projection around the point (good to well under 1 % at a few km).
#[allow(clippy::too_many_arguments)]
fn seg_dist2_m(x: f64, y: f64, x1: f64, y1: f64, x2: f64, y2: f64, kx: f64, ky: f64) -> f64 {
    let ax = (x1 - x) * kx;
    let ay = (y1 - y) * ky;
    let bx = (x2 - x) * kx;
    let by = (y2 - y) * ky;
    let dx = bx - ax;
    let dy = by - ay;
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let px = ax + t * dx;
    let py = ay + t * dy;
    px * px + py * py
}

#[derive(Debug, Clone)]
struct Poly {
    bbox: BBox,
    /// Exterior first, then holes.
    rings: Vec<Ring>,
}

impl Poly {
    fn contains(&self, x: f64, y: f64) -> bool {
        // Even-odd over all rings: inside the exterior and in no hole.
        self.bbox.contains(x, y)
            && self
                .rings
                .iter()
                .fold(false, |inside, r| inside ^ r.crossings_odd(x, y))
    }
}

#[derive(Debug, Clone)]
struct IndexedWard {
    code: String,
    bbox: BBox,
    polys: Vec<Poly>,
}

/// All wards of the city, ready for [`WardIndex::locate`].
#[derive(Debug, Clone)]
pub struct WardIndex {
    wards: Vec<IndexedWard>,
    /// How far from every ward a point may lie and still be placed in the nearest one
    /// (metres). Default [`WardIndex::DEFAULT_MAX_DISTANCE_M`].
    pub max_distance_m: f64,
}

impl WardIndex {
    /// Default for [`WardIndex::max_distance_m`]: 1,500 m.
    pub const DEFAULT_MAX_DISTANCE_M: f64 = 1500.0;

    /// Builds the index. Wards keep the given order, which decides between two wards
    /// that both contain a point (only possible where boundaries overlap). Wards with
    /// no usable polygon are kept but never found.
    pub fn new(shapes: Vec<WardShape>) -> WardIndex {
        let wards = shapes
            .into_iter()
            .map(|s| {
                let mut bbox = BBox::EMPTY;
                let polys: Vec<Poly> = s
                    .geometry
                    .0
                    .iter()
                    .filter_map(|p| {
                        let exterior = Ring::new(p.exterior())?;
                        let mut rings = vec![exterior];
                        rings.extend(p.interiors().iter().filter_map(Ring::new));
                        let pb = rings[0].bbox;
                        bbox.merge(&pb);
                        Some(Poly { bbox: pb, rings })
                    })
                    .collect();
                IndexedWard {
                    code: s.code,
                    bbox,
                    polys,
                }
            })
            .collect();
        WardIndex {
            wards,
            max_distance_m: Self::DEFAULT_MAX_DISTANCE_M,
        }
    }

    /// The same index with another [`WardIndex::max_distance_m`].
    pub fn with_max_distance(mut self, metres: f64) -> WardIndex {
        self.max_distance_m = metres;
        self
    }

    /// Number of wards.
    pub fn len(&self) -> usize {
        self.wards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.wards.is_empty()
    }

    /// Ward codes in index order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.wards.iter().map(|w| w.code.as_str())
    }

    /// `[min lon, min lat, max lon, max lat]` of all wards; `None` when there are none.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let mut b = BBox::EMPTY;
        for w in &self.wards {
            if !w.polys.is_empty() {
                b.merge(&w.bbox);
            }
        }
        (b.min_x <= b.max_x).then_some([b.min_x, b.min_y, b.max_x, b.max_y])
    }

    /// The ward containing the point; else the nearest ward within
    /// [`WardIndex::max_distance_m`] (`exact: false`); else `None` (outside the city).
    pub fn locate(&self, lat: f64, lon: f64) -> Option<WardHit> {
        if !lat.is_finite() || !lon.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return None;
        }
        let (x, y) = (lon, lat);
        for w in &self.wards {
            if w.bbox.contains(x, y) && w.polys.iter().any(|p| p.contains(x, y)) {
                return Some(WardHit {
                    code: w.code.clone(),
                    exact: true,
                    distance_m: 0.0,
                });
            }
        }
        self.nearest(x, y)
    }

    fn nearest(&self, x: f64, y: f64) -> Option<WardHit> {
        let max = self.max_distance_m;
        if max.is_nan() || max < 0.0 {
            return None;
        }
        let ky = M_PER_DEG;
        let kx = (M_PER_DEG * y.to_radians().cos()).max(1.0);
        let (dx, dy) = (max / kx, max / ky);
        // Slightly above max² so that a boundary exactly at max still counts.
        let mut best = max * max * (1.0 + 1e-12) + 1e-9;
        let mut found: Option<usize> = None;
        for (i, w) in self.wards.iter().enumerate() {
            if !w.bbox.near(x, y, dx, dy) || w.bbox.dist2_m(x, y, kx, ky) >= best {
                continue;
            }
            for p in &w.polys {
                if p.bbox.dist2_m(x, y, kx, ky) >= best {
                    continue;
                }
                for r in &p.rings {
                    let d = r.min_dist2_m(x, y, kx, ky, best);
                    if d < best {
                        best = d;
                        found = Some(i);
                    }
                }
            }
        }
        found.map(|i| WardHit {
            code: self.wards[i].code.clone(),
            exact: false,
            distance_m: best.sqrt(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Polygon, polygon};

    fn square(code: &str, x0: f64, y0: f64, size: f64) -> WardShape {
        let p: Polygon<f64> = polygon![
            (x: x0, y: y0),
            (x: x0 + size, y: y0),
            (x: x0 + size, y: y0 + size),
            (x: x0, y: y0 + size),
            (x: x0, y: y0),
        ];
        WardShape {
            code: code.into(),
            geometry: MultiPolygon::new(vec![p]),
        }
    }

    #[test]
    fn exact_nearest_and_outside() {
        // Two 0.01° squares with a 0.002° (~220 m) gap between them.
        let idx = WardIndex::new(vec![
            square("A", 106.0, 10.0, 0.01),
            square("B", 106.012, 10.0, 0.01),
        ]);
        let hit = idx.locate(10.005, 106.005).unwrap();
        assert_eq!(
            (hit.code.as_str(), hit.exact, hit.distance_m),
            ("A", true, 0.0)
        );
        let hit = idx.locate(10.005, 106.017).unwrap();
        assert_eq!((hit.code.as_str(), hit.exact), ("B", true));
        // In the gap, nearer to A (about 55 m from A, 164 m from B).
        let hit = idx.locate(10.005, 106.0105).unwrap();
        assert_eq!((hit.code.as_str(), hit.exact), ("A", false));
        assert!((hit.distance_m - 54.7).abs() < 1.0, "{}", hit.distance_m);
        // 0.02° (~2.2 km) north of both: outside.
        assert_eq!(idx.locate(10.03, 106.005), None);
        // With a larger radius it is placed.
        let idx = idx.with_max_distance(3000.0);
        assert!(idx.locate(10.03, 106.005).is_some());
        assert_eq!(idx.locate(f64::NAN, 106.0), None);
    }

    #[test]
    fn holes_are_not_inside() {
        let outer = LineString::from(vec![
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0),
            (0.0, 1.0),
            (0.0, 0.0),
        ]);
        let hole = LineString::from(vec![
            (0.4, 0.4),
            (0.6, 0.4),
            (0.6, 0.6),
            (0.4, 0.6),
            (0.4, 0.4),
        ]);
        let island = LineString::from(vec![
            (0.45, 0.45),
            (0.55, 0.45),
            (0.55, 0.55),
            (0.45, 0.55),
            (0.45, 0.45),
        ]);
        let idx = WardIndex::new(vec![
            WardShape {
                code: "RING".into(),
                geometry: MultiPolygon::new(vec![Polygon::new(outer, vec![hole])]),
            },
            WardShape {
                code: "ISLAND".into(),
                geometry: MultiPolygon::new(vec![Polygon::new(island, vec![])]),
            },
        ])
        .with_max_distance(5000.0);
        assert_eq!(idx.locate(0.2, 0.2).unwrap().code, "RING");
        assert_eq!(idx.locate(0.5, 0.5).unwrap().code, "ISLAND");
        // In the hole but not on the island: 0.02° (~2.2 km) from the hole's edge.
        let gap = idx.locate(0.42, 0.5).unwrap();
        assert_eq!((gap.code.as_str(), gap.exact), ("RING", false));
        assert!((gap.distance_m - 2224.0).abs() < 5.0, "{}", gap.distance_m);
        assert_eq!(idx.bbox(), Some([0.0, 0.0, 1.0, 1.0]));
    }
}
