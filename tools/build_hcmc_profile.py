#!/usr/bin/env python3
"""Build profiles/hcmc.json, the Ho Chi Minh City profile for phananh.

Input: the vn-admin data folder (see its SOURCES.md):
  hcmc-2025/wards/*.geojson                       168 ward boundaries (post 1 July 2025)
  codes/vn_units_2025_full.json                   current names (Vietnamese and English)
  codes/vn_units_legacy_2025-03-01_simplified.json old districts (to qualify old ward names)
  mapping/dvhcvn_20250701_merges_new_to_old.json  new ward -> old wards

Output: a compact JSON file in the "phananh-profile/1" format (see profiles/README.md).

Geometry processing:
  * shared boundaries are simplified once, so two neighbouring wards keep exactly the
    same simplified edge (no new gaps or overlaps between wards): vertices where the
    set of wards owning a vertex changes are fixed anchors, and every stretch between
    two anchors is simplified in a canonical direction with Douglas-Peucker;
  * coordinates are rounded to 5 decimals (about 1.1 m) afterwards;
  * every ring keeps at least 4 points (closed triangle); if simplification would go
    below that, the ring is simplified again with a smaller tolerance.

Standard library only; the output is deterministic (same input -> same bytes).

Usage:
  python3 tools/build_hcmc_profile.py [--data DIR] [--out FILE] [--tolerance DEG]
"""

import argparse
import glob
import json
import math
import os
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_DATA = "/work/shared/data/vn-admin"
DEFAULT_OUT = os.path.join(REPO, "profiles", "hcmc.json")
CITY_CODE = "79"

ATTRIBUTION = (
    "Ranh giới phường, xã / Ward boundaries: thanglequoc/vietnamese-provinces-database "
    "(MIT, Copyright (c) 2021 Thang Le Quoc), tag v4.2.0; the geometry \"was derived from "
    "the Vietnam Administrative Units Reference Map (https://sapnhap.bando.com.vn), "
    "published by the Vietnam Natural Resources, Environment and Cartography Publishing "
    "House under the Ministry of Agriculture and Environment\" (upstream rights not "
    "verified); simplified for phananh. "
    "Mã, tên đơn vị hành chính / Unit codes and names: thanglequoc/vietnamese-provinces-database (MIT). "
    "Đối chiếu phường, xã cũ - mới / Old-to-new ward mapping: dvhcvn/20250701 "
    "(MIT, Copyright (c) 2025 dvhcvn)."
)

# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------


def perp_dist2(p, a, b):
    """Squared distance from p to segment a-b (plain degrees, fine for ~5 m tolerances)."""
    ax, ay = a
    bx, by = b
    px, py = p
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    if len2 == 0.0:
        ex = px - ax
        ey = py - ay
        return ex * ex + ey * ey
    t = ((px - ax) * dx + (py - ay) * dy) / len2
    if t < 0.0:
        t = 0.0
    elif t > 1.0:
        t = 1.0
    ex = px - (ax + t * dx)
    ey = py - (ay + t * dy)
    return ex * ex + ey * ey


def douglas_peucker(points, tol):
    """Douglas-Peucker on an open polyline; keeps both end points. Iterative."""
    n = len(points)
    if n <= 2:
        return list(points)
    tol2 = tol * tol
    keep = [False] * n
    keep[0] = keep[n - 1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        a = points[i]
        b = points[j]
        best = -1.0
        best_k = -1
        for k in range(i + 1, j):
            d = perp_dist2(points[k], a, b)
            if d > best:
                best = d
                best_k = k
        if best > tol2:
            keep[best_k] = True
            stack.append((i, best_k))
            stack.append((best_k, j))
    return [p for p, k in zip(points, keep) if k]


class Simplifier:
    """Simplifies rings so that boundaries shared by several wards stay identical."""

    def __init__(self, owners, tol):
        self.owners = owners  # vertex -> frozenset of ward codes
        self.tol = tol
        self.cache = {}

    def stretch(self, pts, tol):
        """Simplify an open stretch in a canonical direction (same result either way)."""
        forward = pts[0] < pts[-1] or (pts[0] == pts[-1] and pts <= pts[::-1])
        key = (tuple(pts) if forward else tuple(reversed(pts)), tol)
        out = self.cache.get(key)
        if out is None:
            out = douglas_peucker(list(key[0]), tol)
            self.cache[key] = out
        return list(out) if forward else list(reversed(out))

    def anchors(self, ring):
        """Indexes (into the open ring) of vertices that must be kept."""
        n = len(ring)
        own = [self.owners[p] for p in ring]
        idx = [
            i
            for i in range(n)
            if own[i] != own[i - 1] or own[i] != own[(i + 1) % n] or len(own[i]) > 2
        ]
        if len(idx) < 2:
            # A ring with one uniform owner set (an island, or a ward fully inside
            # another): pick anchors both sides can find, the smallest vertex and the
            # vertex farthest from it.
            first = min(range(n), key=lambda i: ring[i])
            fx, fy = ring[first]
            far = max(
                range(n),
                key=lambda i: ((ring[i][0] - fx) ** 2 + (ring[i][1] - fy) ** 2, ring[i]),
            )
            idx = sorted(set(idx) | {first, far})
            if len(idx) < 2:
                idx = sorted({0, n // 2})
        return idx

    def ring(self, ring, tol):
        """Simplify a closed ring (first == last); returns a closed ring."""
        open_ring = ring[:-1] if ring[0] == ring[-1] else list(ring)
        n = len(open_ring)
        if n < 4:
            return list(open_ring) + [open_ring[0]]
        idx = self.anchors(open_ring)
        out = []
        for k in range(len(idx)):
            i = idx[k]
            j = idx[(k + 1) % len(idx)]
            if j > i:
                seg = open_ring[i : j + 1]
            else:
                seg = open_ring[i:] + open_ring[: j + 1]
            part = self.stretch(seg, tol)
            out.extend(part[:-1])
        out.append(out[0])
        return out


def round_ring(ring):
    out = []
    for x, y in ring:
        p = [round(x, 5), round(y, 5)]
        if not out or out[-1] != p:
            out.append(p)
    if out[0] != out[-1]:
        out.append(list(out[0]))
    return out


def ring_area2(ring):
    """Twice the signed area (shoelace), in square degrees."""
    s = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        s += x1 * y2 - x2 * y1
    return s


def simplify_ring(simp, ring, tol):
    """Simplify and round one ring, keeping at least 4 points when the source has them.

    Returns None for a ring that is degenerate at 5 decimals (a sliver of a metre or
    less in the source, zero area once rounded): the caller drops it.
    """
    t = tol
    while True:
        r = round_ring(simp.ring(ring, t))
        if (len(r) >= 4 and ring_area2(r) != 0.0) or t == 0.0:
            break
        t = t / 4.0 if t > tol / 64.0 else 0.0
    if len(r) < 4 or ring_area2(r) == 0.0:
        return None
    return r


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def load_names(data):
    full = json.load(open(os.path.join(data, "codes", "vn_units_2025_full.json"), encoding="utf-8"))
    prov = [p for p in full if p["Code"] == CITY_CODE]
    if len(prov) != 1:
        sys.exit("province 79 not found in the code list")
    return prov[0], {w["Code"]: w for w in prov[0]["Wards"]}


UNIT_WORDS = ("Phường ", "Xã ", "Thị trấn ", "Huyện ", "Đặc khu ")


def core_name(name):
    """A unit name without its unit word, folded for comparison: "Xã Tân Định" -> "tân định"."""
    for w in UNIT_WORDS:
        if name.startswith(w):
            name = name[len(w) :]
            break
    return name.lower().replace("hoà", "hòa").replace("hoá", "hóa").replace("huỳ", "hùy")


def load_old_names(data, current_short):
    """new ward code -> list of old unit names.

    An old name is qualified by its old district ("Phường 12, Quận Tân Bình") when it
    would be ambiguous alone: its name without the unit word is shared by several old
    units or by a current ward other than the one it merged into, or it is a numbered
    ward ("Phường 12" says nothing by itself).
    """
    legacy = json.load(
        open(os.path.join(data, "codes", "vn_units_legacy_2025-03-01_simplified.json"), encoding="utf-8")
    )
    district_of = {}
    for p in legacy:
        for d in p["District"]:
            for w in d.get("Ward") or []:
                district_of[w["Code"]] = d["FullName"]
    merges = json.load(
        open(os.path.join(data, "mapping", "dvhcvn_20250701_merges_new_to_old.json"), encoding="utf-8")
    )
    prov = [p for p in merges["data"] if p["level1_id"] == CITY_CODE][0]
    # How many distinct old units carry each name (without the unit word).
    seen = {}
    for w in prov["level2s"]:
        for o in w["merges"]:
            seen[o["old_id"]] = core_name(o["name"])
    per_core = Counter(seen.values())
    current = {core_name(n): code for code, n in current_short.items()}
    out = {}
    for w in prov["level2s"]:
        names = []
        for o in w["merges"]:
            name = o["name"]
            core = core_name(name)
            numbered = core.isdigit()
            clash = core in current and current[core] != w["level2_id"]
            if (per_core[core] > 1 or numbered or clash) and o["old_id"] in district_of:
                name = "%s, %s" % (name, district_of[o["old_id"]])
            if name not in names:
                names.append(name)
        out[w["level2_id"]] = names
    return out


# ---------------------------------------------------------------------------
# Units, fields, rules (sample organisation)
# ---------------------------------------------------------------------------

TRIAGE = {
    "code": "TONGDAI1022",
    "name_vi": "Tổng đài 1022 – Bàn điều phối",
    "name_en": "1022 Hotline – Triage Desk",
    "kind": "triage",
    "parent": None,
    "ward": None,
    "email": None,
    "phone": "1022",
    "sample": False,
}

# (code, name_vi, name_en, kind, parent). All are samples: plausible, not the city's
# real organisation chart; e-mail addresses are fictional (example.invalid).
SAMPLE_UNITS = [
    ("SXD", "Sở Xây dựng", "Department of Construction", "department", None),
    (
        "SXD-HTKT",
        "Trung tâm Quản lý hạ tầng kỹ thuật",
        "Technical Infrastructure Management Centre",
        "department",
        "SXD",
    ),
    (
        "SXD-GTCC",
        "Trung tâm Quản lý giao thông công cộng",
        "Public Transport Management Centre",
        "department",
        "SXD",
    ),
    (
        "CT-THOATNUOC",
        "Công ty Thoát nước đô thị",
        "Urban Drainage Company",
        "company",
        "SXD-HTKT",
    ),
    (
        "CT-CHIEUSANG",
        "Công ty Chiếu sáng công cộng",
        "Public Lighting Company",
        "company",
        "SXD-HTKT",
    ),
    (
        "CT-CAYXANH",
        "Công ty Công viên cây xanh",
        "Parks and Trees Company",
        "company",
        "SXD-HTKT",
    ),
    (
        "SAWACO",
        "Tổng công ty Cấp nước Sài Gòn (SAWACO)",
        "Saigon Water Corporation (SAWACO)",
        "company",
        None,
    ),
    (
        "EVNHCMC",
        "Tổng công ty Điện lực TP.HCM (EVNHCMC)",
        "Ho Chi Minh City Power Corporation (EVNHCMC)",
        "company",
        None,
    ),
    ("SKHCN", "Sở Khoa học và Công nghệ", "Department of Science and Technology", "department", None),
    (
        "SNNMT",
        "Sở Nông nghiệp và Môi trường",
        "Department of Agriculture and Environment",
        "department",
        None,
    ),
    (
        "CT-MOITRUONG",
        "Công ty Môi trường đô thị",
        "Urban Environment Company",
        "company",
        "SNNMT",
    ),
    ("CATP", "Công an Thành phố Hồ Chí Minh", "Ho Chi Minh City Police", "department", None),
]

# (code, name_vi, name_en, icon, ack_hours, resolve_days, keywords). Keywords are lower
# case and unaccented, meant to be matched on word boundaries against folded text (some,
# like "rac" or "khac", are also the inside of longer words: "trach", "khach").
FIELDS = [
    (
        "traffic",
        "Hạ tầng giao thông",
        "Road infrastructure",
        "🚦",
        8,
        7,
        [
            "giao thong", "o ga", "ho ga", "mat duong", "duong hu", "duong bi lun", "sut lun",
            "nut duong", "bong troc", "den giao thong", "den tin hieu", "den do", "bien bao",
            "vach son", "cau hu", "cay cau", "mat cau", "lan can", "dai phan cach", "nap cong", "ket xe",
            "un tac", "pothole", "road", "traffic light",
        ],
    ),
    (
        "drainage",
        "Thoát nước, ngập nước",
        "Drainage and flooding",
        "🌊",
        4,
        5,
        [
            "ngap", "ngap nuoc", "ngap lut", "nuoc ngap", "trieu cuong", "thoat nuoc", "cong thoat nuoc",
            "cong nghet", "nghet cong", "tac cong", "mieng cong", "ho thu nuoc", "nap ho thu",
            "kenh rach", "nuoc thai", "cong bi ho", "mui hoi cong", "flood", "drain",
        ],
    ),
    (
        "water",
        "Cấp nước",
        "Water supply",
        "🚰",
        4,
        3,
        [
            "cap nuoc", "mat nuoc", "cup nuoc", "nuoc yeu", "nuoc duc", "nuoc ban", "nuoc co mui",
            "nuoc may", "be ong", "vo ong", "ro ri nuoc", "xi nuoc", "dong ho nuoc", "tru cuu hoa",
            "sawaco", "water supply", "no water", "pipe burst",
        ],
    ),
    (
        "lighting",
        "Chiếu sáng công cộng",
        "Street lighting",
        "💡",
        8,
        5,
        [
            "den duong", "chieu sang", "den chieu sang", "den hu", "den tat", "den khong sang",
            "cot den", "bong den", "toi om", "khong co den", "den chop", "street light",
            "streetlight",
        ],
    ),
    (
        "trees",
        "Cây xanh",
        "Trees",
        "🌳",
        4,
        3,
        [
            "cay xanh", "cay nga", "nga do", "cay do", "cay gay", "gay canh", "nhanh cay", "canh cay",
            "cay nghieng", "cay chet", "tia cay", "cat tia", "cong vien", "tree", "fallen tree",
        ],
    ),
    (
        "electricity",
        "Điện",
        "Electricity",
        "⚡",
        4,
        3,
        [
            "mat dien", "cup dien", "cat dien", "dien yeu", "chap dien", "ro dien",
            "dien giat", "day dien", "cot dien", "tram bien ap", "may bien the", "chay no",
            "evn", "power cut", "power outage",
        ],
    ),
    (
        "telecom",
        "Viễn thông",
        "Telecommunications",
        "📡",
        8,
        5,
        [
            "vien thong", "cap vien thong", "day cap", "cap treo", "cap dien thoai", "cap quang",
            "day internet", "cap chang chit", "bo cap", "cap roi", "cot anten", "internet",
            "song dien thoai", "telecom", "cable",
        ],
    ),
    (
        "transport",
        "Giao thông công cộng",
        "Public transport",
        "🚌",
        8,
        7,
        [
            "xe buyt", "xe bus", "tuyen buyt", "tram xe buyt", "tram dung", "nha cho", "metro",
            "tau dien", "duong sat do thi", "ben xe", "tai xe", "phu xe", "bo tram", "khong dung tram",
            "bus", "bus stop",
        ],
    ),
    (
        "public_order",
        "Trật tự công cộng",
        "Public order",
        "👮",
        4,
        5,
        [
            "trat tu", "an ninh", "mat trat tu", "tu tap", "danh nhau", "gay roi", "an xin",
            "cho tu phat", "dua xe", "trom", "cuop", "giu xe trai phep", "xay dung trai phep",
            "xay dung khong phep", "quang cao rao", "to roi", "public order",
        ],
    ),
    (
        "sanitation",
        "Vệ sinh môi trường, rác thải",
        "Sanitation and waste",
        "🗑️",
        8,
        3,
        [
            "rac", "rac thai", "bai rac", "do rac", "xa rac", "rac ton dong", "thung rac",
            "thu gom rac", "xe rac", "xac dong vat", "chuot", "ve sinh", "o nhiem", "mui hoi",
            "khoi bui", "dot rac", "xa thai", "phe thai xay dung", "xa ban", "garbage", "trash",
            "waste",
        ],
    ),
    (
        "sidewalk",
        "Lấn chiếm vỉa hè",
        "Sidewalk encroachment",
        "🚶",
        8,
        7,
        [
            "via he", "le duong", "lan chiem", "lan chiem via he", "chiem via he", "buon ban via he",
            "hang rong", "dau xe tren via he", "do xe via he", "mai che", "bang ron", "bac tam cap",
            "long duong", "sidewalk", "pavement",
        ],
    ),
    (
        "noise",
        "Tiếng ồn",
        "Noise",
        "🔊",
        8,
        5,
        [
            "tieng on", "on ao", "gay on", "karaoke", "hat karaoke", "loa keo", "nhac to", "mo nhac",
            "quan nhau", "quan bar", "thi cong ban dem", "cong trinh ban dem", "may khoan", "noise", "loud",
        ],
    ),
    (
        "other",
        "Khác",
        "Other",
        "📝",
        8,
        10,
        ["khac", "gop y", "phan anh khac", "other"],
    ),
]

# City-wide rules: field -> unit.
CITY_RULES = [
    ("traffic", "SXD"),
    ("drainage", "CT-THOATNUOC"),
    ("water", "SAWACO"),
    ("lighting", "CT-CHIEUSANG"),
    ("trees", "CT-CAYXANH"),
    ("electricity", "EVNHCMC"),
    ("telecom", "SKHCN"),
    ("transport", "SXD-GTCC"),
    # For the ward-level fields below, a ward rule wins whenever the ward is known;
    # these two city-wide rules only catch reports whose ward could not be placed.
    ("public_order", "CATP"),
    ("sanitation", "SNNMT"),
]

# Fields that the ward committee handles, one rule per ward.
# Extra questions asked when filing in a field (Open311 service attributes), by field.
QUESTIONS = {
    "lighting": [
        {
            "code": "pole_number",
            "datatype": "string",
            "required": False,
            "order": 1,
            "description_vi": "Số hiệu ghi trên cột đèn (nếu thấy)",
            "description_en": "The number printed on the pole (if you can see it)",
            "values": []
        }
    ],
    "water": [
        {
            "code": "customer_code",
            "datatype": "string",
            "required": False,
            "order": 1,
            "description_vi": "Mã khách hàng (danh bạ) trên hóa đơn tiền nước",
            "description_en": "The customer code on the water bill",
            "values": [],
            "private": True
        }
    ],
    "trees": [
        {
            "code": "tree_state",
            "datatype": "singlevaluelist",
            "required": False,
            "order": 1,
            "description_vi": "Tình trạng cây",
            "description_en": "What is wrong with the tree",
            "values": [
                {
                    "key": "fallen",
                    "name": "Cây đã ngã, đổ / Fallen"
                },
                {
                    "key": "leaning",
                    "name": "Cây nghiêng, có nguy cơ ngã / Leaning, may fall"
                },
                {
                    "key": "blocking",
                    "name": "Cành cây chắn đường, che đèn, biển báo / Branches block the road, a light or a sign"
                },
                {
                    "key": "other",
                    "name": "Khác / Something else"
                }
            ]
        }
    ],
    "traffic": [
        {
            "code": "lanes_blocked",
            "datatype": "singlevaluelist",
            "required": False,
            "order": 1,
            "description_vi": "Số làn xe bị chắn",
            "description_en": "Lanes blocked",
            "values": [
                {
                    "key": "none",
                    "name": "Không chắn làn nào / None"
                },
                {
                    "key": "one",
                    "name": "Một làn / One lane"
                },
                {
                    "key": "several",
                    "name": "Nhiều làn / Several lanes"
                },
                {
                    "key": "all",
                    "name": "Chắn hết đường / The whole road"
                }
            ]
        }
    ]
}

# Fields whose reports' text and photos are published only after a moderator's review:
# they often name neighbours or show faces and number plates.
REVIEW_FIELDS = ["public_order", "noise", "other"]

# Words that make a report of a field urgent (khẩn cấp): hours on the clock, the unit's
# duty contact alerted at once. Matched in the description, accents as typed.
URGENT_KEYWORDS = {
    "traffic": ["sụt lún", "hố sâu", "sập cầu", "đèn tín hiệu hỏng", "mất nắp cống", "hở nắp cống"],
    "drainage": ["mất nắp cống", "hở nắp cống", "hố ga hở", "ngập sâu"],
    "water": ["vỡ ống", "bể ống"],
    "lighting": ["dây điện rơi", "cột đèn đổ", "cột đèn nghiêng"],
    "trees": ["cây đổ", "cây ngã", "gãy cành", "nhánh cây gãy", "cây nghiêng"],
    "electricity": ["dây điện đứt", "dây điện rơi", "chập điện", "cháy trụ điện", "điện giật"],
}

WARD_FIELDS = ["sidewalk", "public_order", "noise", "sanitation"]


def committee_name(full_vi):
    return "Ủy ban nhân dân " + full_vi


def committee_name_en(ward):
    return "People's Committee of " + ward["FullNameEn"]


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--tolerance", type=float, default=0.00005, help="Douglas-Peucker tolerance in degrees")
    args = ap.parse_args()

    province, names = load_names(args.data)
    old_names = load_old_names(args.data, {c: w["Name"] for c, w in names.items()})

    files = sorted(glob.glob(os.path.join(args.data, "hcmc-2025", "wards", "*.geojson")))
    raw = []
    for fn in files:
        with open(fn, encoding="utf-8") as f:
            fc = json.load(f)
        if len(fc["features"]) != 1:
            sys.exit("%s: expected one feature" % fn)
        feat = fc["features"][0]
        code = feat["properties"]["code"]
        geom = feat["geometry"]
        if geom["type"] == "Polygon":
            polys = [geom["coordinates"]]
        elif geom["type"] == "MultiPolygon":
            polys = geom["coordinates"]
        else:
            sys.exit("%s: unsupported geometry %s" % (fn, geom["type"]))
        polys = [[[(float(x), float(y)) for x, y, *_ in ring] for ring in poly] for poly in polys]
        raw.append((code, polys))
    raw.sort(key=lambda t: t[0])
    if len(raw) != 168:
        print("warning: %d ward files (expected 168)" % len(raw), file=sys.stderr)

    owners_set = defaultdict(set)
    for code, polys in raw:
        for poly in polys:
            for ring in poly:
                for p in ring:
                    owners_set[p].add(code)
    owners = {p: frozenset(s) for p, s in owners_set.items()}
    simp = Simplifier(owners, args.tolerance)

    wards = []
    minx = miny = math.inf
    maxx = maxy = -math.inf
    n_in = n_out = 0
    dropped = []
    for code, polys in raw:
        w = names.get(code)
        if w is None:
            sys.exit("ward %s not in the code list" % code)
        mp = []
        for poly in polys:
            rings = []
            for k, ring in enumerate(poly):
                n_in += len(ring)
                r = simplify_ring(simp, ring, args.tolerance)
                if r is None:
                    dropped.append("%s %s" % (code, "exterior" if k == 0 else "hole"))
                    if k == 0:
                        break
                    continue
                n_out += len(r)
                rings.append(r)
                for x, y in r:
                    minx = min(minx, x)
                    maxx = max(maxx, x)
                    miny = min(miny, y)
                    maxy = max(maxy, y)
            if rings:
                mp.append(rings)
        if not mp:
            sys.exit("ward %s: no polygon left" % code)
        wards.append(
            {
                "code": code,
                "name_vi": w["FullName"],
                "name_en": w["FullNameEn"],
                "short_vi": w["Name"],
                "old_names": old_names.get(code, []),
                "geometry": {"type": "MultiPolygon", "coordinates": mp},
            }
        )

    units = [dict(TRIAGE)]
    for code, name_vi, name_en, kind, parent in SAMPLE_UNITS:
        units.append(
            {
                "code": code,
                "name_vi": name_vi,
                "name_en": name_en,
                "kind": kind,
                "parent": parent,
                "ward": None,
                "email": code.lower() + "@example.invalid",
                "phone": None,
                "sample": True,
            }
        )
    for w in wards:
        units.append(
            {
                "code": "UBND-" + w["code"],
                "name_vi": committee_name(w["name_vi"]),
                "name_en": committee_name_en(names[w["code"]]),
                "kind": "ward_committee",
                "parent": None,
                "ward": w["code"],
                "email": None,
                "phone": None,
                "sample": False,
            }
        )

    fields = [
        {
            "code": code,
            "name_vi": name_vi,
            "name_en": name_en,
            "icon": icon,
            "ack_hours": ack,
            "resolve_days": days,
            "keywords": kw,
            **({"attributes": QUESTIONS[code]} if code in QUESTIONS else {}),
            **({"review": True} if code in REVIEW_FIELDS else {}),
            **({"urgent_keywords": URGENT_KEYWORDS[code]} if code in URGENT_KEYWORDS else {}),
        }
        for code, name_vi, name_en, icon, ack, days, kw in FIELDS
    ]

    rules = [{"field": f, "ward": None, "unit": u} for f, u in CITY_RULES]
    for f in WARD_FIELDS:
        for w in wards:
            rules.append({"field": f, "ward": w["code"], "unit": "UBND-" + w["code"]})

    profile = {
        "format": "phananh-profile/1",
        "city": {
            "code": CITY_CODE,
            "name_vi": province["FullName"],
            "name_en": province["FullNameEn"],
            "timezone": "Asia/Ho_Chi_Minh",
            # Where maps open: the historic centre (Bến Thành / Nguyễn Huệ), not the
            # bbox centre, which lies in the sea because of Côn Đảo.
            "center": [10.7757, 106.7004],
            "bbox": [round(minx, 5), round(miny, 5), round(maxx, 5), round(maxy, 5)],
        },
        "attribution": ATTRIBUTION,
        "wards": wards,
        "units": units,
        "fields": fields,
        "rules": rules,
        "calendar": {"extra_days_off": [], "makeup_working_days": []},
    }
    check(profile)

    text = json.dumps(profile, ensure_ascii=False, separators=(",", ":"))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.write("\n")
    if dropped:
        print("dropped degenerate rings: " + ", ".join(dropped), file=sys.stderr)
    print(
        "%s: %d wards, %d units, %d fields, %d rules; %d -> %d points; %d bytes"
        % (args.out, len(wards), len(units), len(fields), len(rules), n_in, n_out, len(text.encode("utf-8")) + 1),
        file=sys.stderr,
    )


def check(profile):
    """Cheap consistency checks before writing."""
    units = {u["code"] for u in profile["units"]}
    fields = {f["code"] for f in profile["fields"]}
    wards = {w["code"] for w in profile["wards"]}
    assert len(units) == len(profile["units"]), "duplicate unit code"
    assert len(fields) == 13, "expected 13 fields"
    for u in profile["units"]:
        assert u["parent"] is None or u["parent"] in units, u
        assert u["ward"] is None or u["ward"] in wards, u
    for r in profile["rules"]:
        assert r["field"] in fields and r["unit"] in units, r
        assert r["ward"] is None or r["ward"] in wards, r
    for w in profile["wards"]:
        for poly in w["geometry"]["coordinates"]:
            for ring in poly:
                assert len(ring) >= 4 and ring[0] == ring[-1], (w["code"], len(ring))


if __name__ == "__main__":
    main()
