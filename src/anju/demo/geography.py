"""The demo district's geography: outline, streets, communities, grids, stations, roads and the night-life zone.

Everything is built in a local metric CRS (UTM 51N) from one seed, then written as WGS-84 GeoJSON layers that the
real loader (:func:`anju.geo.areas.load_area_file`) reads. Besides polygons the district carries the point pools the
call generator draws from: buildings inside each community (≥ 30 m from its edge, so a jittered call stays in its
community), dense points along the main roads and inside the night-life zone, each tagged with its community.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

from anju.demo import names as N

__all__ = [
    "CENTRE",
    "KINDS",
    "KIND_ZH",
    "LAYER_FILES",
    "METRIC_CRS",
    "District",
    "Layer",
    "build_district",
    "district_for",
    "write_layers",
]

CENTRE = (121.40, 31.10)  # lon, lat (WGS-84) of the district's centre
METRIC_CRS = "EPSG:32651"  # UTM zone 51N
KINDS = ("old", "resettlement", "commodity", "villa", "village")
KIND_ZH = {"old": "老旧小区", "resettlement": "动迁安置房", "commodity": "商品房", "villa": "别墅区", "village": "村居"}
LAYER_FILES = {
    "district": "district.geojson",
    "street": "street.geojson",
    "community": "community.geojson",
    "grid": "grid.geojson",
    "station": "station.geojson",
    "police_district": "police_district.geojson",
}
NIGHTLIFE_FILE = "nightlife.geojson"
N_CENTRAL, N_OUTER = 4, 8
COMMUNITIES_PER_STREET = {"central": 12, "outer": 9}  # 4*12 + 8*9 = 120
N_HOT = 5
N_FRAUD_HOT = 3

_TO_WGS = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


@dataclass
class Layer:
    """One area layer: ids, names, parent ids, metric geometries and attribute columns."""

    name: str
    ids: list[str]
    names: list[str]
    parent_ids: list[str | None]
    geoms: np.ndarray  # shapely geometries, metric CRS
    attrs: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class District:
    """The whole synthetic district (metric CRS) plus the point pools calls are drawn from."""

    seed: int
    layers: dict[str, Layer]
    comm_station: np.ndarray  # community index -> station index
    comm_street: np.ndarray  # community index -> street index
    comm_road: np.ndarray  # community index -> road index of its address
    comm_lane: np.ndarray  # community index -> 弄 number
    roads: list[shapely.LineString]
    road_names: list[str]
    # buildings (address points): metric x, y, community index, 号 number; b_start[c]:b_start[c+1] are c's
    b_x: np.ndarray
    b_y: np.ndarray
    b_comm: np.ndarray
    b_no: np.ndarray
    b_start: np.ndarray
    # points along the main roads and inside the night-life zone, with their community
    rp_x: np.ndarray
    rp_y: np.ndarray
    rp_comm: np.ndarray
    rp_road: np.ndarray
    rp_cross: np.ndarray  # nearest other road (for "A路近B路" addresses)
    rp_no: np.ndarray  # a plausible door number along the road
    zp_x: np.ndarray
    zp_y: np.ndarray
    zp_comm: np.ndarray
    zp_feature: np.ndarray  # which zone feature (0 bar street, 1 KTV street)
    zone_names: list[str]
    zone_geoms: list[shapely.Geometry]
    hot: np.ndarray  # community indices planted as theft hot spots (risk profile)
    fraud_hot: np.ndarray  # community indices planted as fraud hot spots (elderly share)
    giant: int  # the one giant community (上海康城-like)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # derived lookup tables

    @property
    def communities(self) -> Layer:
        return self.layers["community"]

    @property
    def n_communities(self) -> int:
        return len(self.layers["community"])

    @property
    def zone(self) -> shapely.Geometry:
        return shapely.union_all(self.zone_geoms)

    def station_names(self) -> list[str]:
        return self.layers["station"].names


# ----------------------------------------------------------------------------------------------------------------
# geometry helpers


def _random_points_in(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform points inside a polygon (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        m = max(64, int((n - have) * 2.5))
        pts = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        ok = shapely.contains_xy(poly, pts[:, 0], pts[:, 1])
        out.append(pts[ok])
        have += int(ok.sum())
    return np.concatenate(out)[:n]


def _voronoi_in(poly: shapely.Geometry, seeds: np.ndarray) -> np.ndarray:
    """Voronoi cells of seeds (in seed order) clipped to poly."""
    mp = shapely.multipoints(seeds)
    env = shapely.box(*shapely.buffer(poly, 2000).bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(mp, extend_to=env, ordered=True))
    clipped = shapely.intersection(cells, poly)
    return np.array([_largest_polygon(g) for g in clipped], dtype=object)


def _largest_polygon(g: shapely.Geometry, min_area: float = 1.0) -> shapely.Geometry:
    """Keep only polygonal parts larger than ``min_area`` (clipping can leave slivers/lines)."""
    parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and p.area > min_area]
    if not parts:
        return g
    if len(parts) == 1:
        return parts[0]
    return shapely.MultiPolygon(parts)


def _lloyd(poly: shapely.Geometry, seeds: np.ndarray, iterations: int) -> np.ndarray:
    for _ in range(iterations):
        cells = _voronoi_in(poly, seeds)
        cent = shapely.centroid(cells)
        seeds = np.column_stack([shapely.get_x(cent), shapely.get_y(cent)])
    return seeds


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    """An irregular blob of about 7.5 km × 6 km semi-axes around the centre (metric CRS)."""
    cx, cy = _TO_METRIC.transform(*CENTRE)
    theta = np.linspace(0, 2 * np.pi, 97)[:-1]
    r = np.ones_like(theta)
    for k in (2, 3, 5, 7):
        r += rng.uniform(0.02, 0.07) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    x = cx + 7500.0 * r * np.cos(theta)
    y = cy + 6000.0 * r * np.sin(theta)
    return shapely.Polygon(np.column_stack([x, y]))


def _roads(outline: shapely.Polygon, rng: np.random.Generator) -> tuple[list[shapely.LineString], list[str]]:
    """Five east–west and five north–south gently curving main roads, clipped to the outline."""
    minx, miny, maxx, maxy = outline.bounds
    order = rng.permutation(len(N.ROAD_NAMES))
    lines: list[shapely.LineString] = []
    names: list[str] = []
    t = np.linspace(0, 1, 60)
    k = 0
    for horizontal in (True, False):
        lo, hi = (miny, maxy) if horizontal else (minx, maxx)
        positions = np.linspace(lo, hi, 7)[1:-1] + rng.uniform(-400, 400, 5)
        for pos in positions:
            amp, ph, per = rng.uniform(80, 350), rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.4)
            if horizontal:
                xs = minx - 100 + t * (maxx - minx + 200)
                ys = pos + amp * np.sin(2 * np.pi * t / per + ph)
            else:
                ys = miny - 100 + t * (maxy - miny + 200)
                xs = pos + amp * np.sin(2 * np.pi * t / per + ph)
            clipped = shapely.intersection(shapely.LineString(np.column_stack([xs, ys])), outline)
            parts = [p for p in shapely.get_parts(clipped) if p.geom_type == "LineString"]
            if not parts:
                continue
            lines.append(max(parts, key=lambda p: p.length))
            names.append(N.ROAD_NAMES[order[k]])
            k += 1
    return lines, names


def _pair_streets(street_geoms: np.ndarray, rng: np.random.Generator) -> list[tuple[int, int]]:
    """A perfect matching of the 12 streets into 6 adjacent pairs (one police station each)."""
    n = len(street_geoms)
    shared = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            length = shapely.length(shapely.intersection(shapely.boundary(street_geoms[i]),
                                                          shapely.boundary(street_geoms[j])))
            shared[i, j] = shared[j, i] = length
    cent = shapely.centroid(street_geoms)
    cxy = np.column_stack([shapely.get_x(cent), shapely.get_y(cent)])

    def solve(free: list[int]) -> list[tuple[int, int]] | None:
        if not free:
            return []
        i = free[0]
        cands = [j for j in free[1:] if shared[i, j] > 50.0]
        cands.sort(key=lambda j: -shared[i, j])
        for j in cands:
            rest = solve([k for k in free if k not in (i, j)])
            if rest is not None:
                return [(i, j), *rest]
        return None

    pairs = solve(list(range(n)))
    if pairs is None:  # fall back to nearest centroids
        free = list(range(n))
        pairs = []
        while free:
            i = free.pop(0)
            j = min(free, key=lambda k: float(np.hypot(*(cxy[i] - cxy[k]))))
            free.remove(j)
            pairs.append((i, j))
    return pairs


def _kmeans_groups(xy: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster points into k non-empty groups (farthest-point init + a few Lloyd steps)."""
    first = int(rng.integers(len(xy)))
    centres = [xy[first]]
    for _ in range(k - 1):
        d = np.min([np.hypot(*(xy - c).T) for c in centres], axis=0)
        centres.append(xy[int(np.argmax(d))])
    c = np.array(centres)
    labels = np.zeros(len(xy), dtype=int)
    for _ in range(8):
        d = np.hypot(xy[:, None, 0] - c[None, :, 0], xy[:, None, 1] - c[None, :, 1])
        labels = np.argmin(d, axis=1)
        for g in range(k):
            if np.any(labels == g):
                c[g] = xy[labels == g].mean(axis=0)
    # guarantee non-empty groups
    for g in range(k):
        if not np.any(labels == g):
            counts = np.bincount(labels, minlength=k)
            big = int(np.argmax(counts))
            idx = np.flatnonzero(labels == big)
            labels[idx[0]] = g
    return labels


def _community_names(kinds: list[str], giant: int, rng: np.random.Generator) -> list[str]:
    prefixes = rng.permutation(np.array(N.COMMUNITY_PREFIXES, dtype=object))
    used: set[str] = set()
    out: list[str] = []
    pi = 0
    for i, kind in enumerate(kinds):
        while True:
            pre = str(prefixes[pi % len(prefixes)])
            pi += 1
            if i == giant:
                name = pre + "康城"
            else:
                sufs = N.COMMUNITY_SUFFIXES[kind]
                name = pre + str(sufs[int(rng.integers(len(sufs)))])
            if name not in used:
                used.add(name)
                out.append(name)
                break
    return out


def _beta(rng: np.random.Generator, mean: np.ndarray, conc: float) -> np.ndarray:
    return rng.beta(mean * conc, (1 - mean) * conc)


# ----------------------------------------------------------------------------------------------------------------
# the district


def build_district(seed: int = 42) -> District:
    """Build the demo district for a seed (independent of scale and of the call generator's random streams).

    Examples
    --------
    >>> d = build_district(42)
    >>> len(d.layers["street"]), len(d.layers["community"]), len(d.layers["station"])
    (12, 120, 6)
    """
    rng = np.random.default_rng([seed, 1])
    outline = _outline(rng)
    cx, cy = _TO_METRIC.transform(*CENTRE)

    # streets: 4 central 街道 around the centre, 8 outer 镇 on a ring
    ang_c = np.arange(N_CENTRAL) * (2 * np.pi / N_CENTRAL) + rng.uniform(-0.2, 0.2, N_CENTRAL) + 0.4
    ang_o = np.arange(N_OUTER) * (2 * np.pi / N_OUTER) + rng.uniform(-0.15, 0.15, N_OUTER)
    seeds = np.vstack([
        np.column_stack([cx + 1900 * np.cos(ang_c), cy + 1600 * np.sin(ang_c)]),
        np.column_stack([cx + 5300 * np.cos(ang_o), cy + 4300 * np.sin(ang_o)]),
    ])
    street_geoms = _voronoi_in(outline, seeds)
    n_streets = len(street_geoms)
    street_kind = np.array(["街道"] * N_CENTRAL + ["镇"] * N_OUTER)

    # communities: Voronoi cells inside each street, relaxed twice (irregular but not slivers)
    comm_geoms: list[shapely.Geometry] = []
    comm_street: list[int] = []
    for s in range(n_streets):
        n_c = COMMUNITIES_PER_STREET["central" if s < N_CENTRAL else "outer"]
        pts = _lloyd(street_geoms[s], _random_points_in(street_geoms[s], n_c, rng), 2)
        cells = _voronoi_in(street_geoms[s], pts)
        comm_geoms.extend(cells)
        comm_street.extend([s] * n_c)
    comm_geom_arr = np.array(comm_geoms, dtype=object)
    comm_street_arr = np.array(comm_street)
    nc = len(comm_geom_arr)
    cent = shapely.centroid(comm_geom_arr)
    cxy = np.column_stack([shapely.get_x(cent), shapely.get_y(cent)])
    dist_centre = np.hypot(cxy[:, 0] - cx, cxy[:, 1] - cy)

    # roads
    roads, road_names = _roads(outline, rng)
    road_arr = np.array(roads, dtype=object)

    # night-life zone: a bar street along the E–W road nearest the centre and a KTV street across it
    central_street = int(np.argmin([np.hypot(*(np.array(shapely.centroid(g).coords[0]) - (cx, cy)))
                                    for g in street_geoms[:N_CENTRAL]]))
    sc = shapely.centroid(street_geoms[central_street])
    n_h = 5 if len(roads) >= 10 else len(roads) // 2
    d_roads = shapely.distance(road_arr, sc)
    ew = int(np.argmin(d_roads[:n_h]))
    ns = n_h + int(np.argmin(d_roads[n_h:]))
    ew_line = roads[ew]
    zc = ew_line.interpolate(ew_line.project(sc))
    pos = ew_line.project(zc)
    bar = shapely.buffer(_substring(ew_line, pos - 550, pos + 550), 90, cap_style="flat")
    ns_line = roads[ns]
    if ns_line.distance(zc) < 1600:
        p2 = ns_line.project(zc)
        ktv = shapely.buffer(_substring(ns_line, p2 - 350, p2 + 350), 70, cap_style="flat")
    else:
        zcx, zcy = zc.x, zc.y
        ktv = shapely.buffer(shapely.LineString([(zcx + 150, zcy - 350), (zcx + 150, zcy + 350)]), 70,
                             cap_style="flat")
    zone_geoms = [shapely.intersection(bar, outline), shapely.intersection(shapely.difference(ktv, bar), outline)]
    zone_names = [f"{road_names[ew]}酒吧街", f"{road_names[ns]}KTV娱乐街"]
    zone_all = shapely.union_all(zone_geoms)
    zone_centre = shapely.centroid(zone_all)
    dist_zone = shapely.distance(comm_geom_arr, zone_centre)

    # ---- community attributes
    central = comm_street_arr < N_CENTRAL
    p_central = np.array([0.40, 0.10, 0.45, 0.0, 0.05])
    p_outer = np.array([0.15, 0.30, 0.30, 0.10, 0.15])
    kind_idx = np.where(central, rng.choice(5, nc, p=p_central), rng.choice(5, nc, p=p_outer))
    areas = shapely.area(comm_geom_arr)
    giant = int(np.argmax(np.where(kind_idx == 2, areas, -1)))
    hh_median = np.array([2500, 3500, 3000, 600, 1800])[kind_idx]
    households = np.clip(np.round(hh_median * np.exp(rng.normal(0, 0.45, nc))), 300, 9000)
    households[giant] = 12000
    pph = np.array([2.4, 2.9, 2.7, 2.9, 3.4])[kind_idx] * np.exp(rng.normal(0, 0.05, nc))
    floating = np.clip(_beta(rng, np.array([0.30, 0.40, 0.25, 0.10, 0.62])[kind_idx], 18), 0.02, 0.80)
    rental = np.clip(floating * 0.9 + 0.05 + rng.normal(0, 0.05, nc), 0.02, 0.95)
    fee = np.clip(_beta(rng, np.array([0.70, 0.60, 0.90, 0.95, 0.50])[kind_idx], 20), 0.25, 0.99)
    committee = rng.random(nc) < np.array([0.6, 0.4, 0.9, 0.9, 0.1])[kind_idx]
    cam_rate = np.array([25, 20, 40, 80, 10])[kind_idx]
    cameras = np.maximum(8, np.round(households * cam_rate / 1000 * np.exp(rng.normal(0, 0.2, nc))))
    broken_share = np.clip(_beta(rng, np.array([0.28, 0.32, 0.12, 0.08, 0.40])[kind_idx], 14), 0.0, 0.50)
    guard_rate = np.array([3.0, 3.0, 6.0, 12.0, 1.5])[kind_idx]
    guards = np.maximum(1, rng.poisson(households * guard_rate / 1000))
    elderly = np.clip(_beta(rng, np.array([0.33, 0.24, 0.16, 0.20, 0.12])[kind_idx], 25), 0.03, 0.40)
    shops = np.round(households / 1000 * 12 * (1 + 3 * np.exp(-dist_centre / 2500)) * np.exp(rng.normal(0, 0.3, nc)))
    shops += np.round(60 * np.exp(-dist_zone / 600))

    # planted theft hot spots: small rental-heavy communities away from the centre with a poor risk profile
    cand = np.flatnonzero((kind_idx != 2) & (kind_idx != 3) & (np.arange(nc) != giant))
    cand = cand[np.argsort(-dist_centre[cand])][: max(N_HOT * 4, 20)]
    hot = np.sort(rng.choice(cand, N_HOT, replace=False))
    households[hot] = np.round(rng.uniform(450, 900, N_HOT))
    floating[hot] = rng.uniform(0.85, 0.95, N_HOT)
    rental[hot] = rng.uniform(0.82, 0.95, N_HOT)
    fee[hot] = rng.uniform(0.28, 0.42, N_HOT)
    broken_share[hot] = rng.uniform(0.55, 0.68, N_HOT)
    committee[hot] = False
    guards[hot] = np.maximum(1, np.round(households[hot] / 1000))
    # planted fraud hot spots (耳根子最软): old estates with many elderly residents
    cand_f = np.setdiff1d(np.flatnonzero(kind_idx == 0), np.append(hot, giant))
    if len(cand_f) < N_FRAUD_HOT:
        cand_f = np.setdiff1d(np.arange(nc), np.append(hot, giant))
    fraud_hot = np.sort(rng.choice(cand_f, N_FRAUD_HOT, replace=False))
    elderly[fraud_hot] = rng.uniform(0.45, 0.55, N_FRAUD_HOT)

    population = np.round(households * pph * (1 + 0.5 * floating))
    cameras_broken = np.round(cameras * broken_share)
    kinds = [KINDS[k] for k in kind_idx]

    # ids and names
    d_id = N.DISTRICT_CODE
    street_ids = [f"{d_id}{s + 1:03d}" for s in range(n_streets)]
    comm_ids: list[str] = []
    per_street = np.zeros(n_streets, dtype=int)
    for s in comm_street_arr:
        per_street[s] += 1
        comm_ids.append(f"{street_ids[s]}{per_street[s]:03d}")
    comm_names = _community_names(kinds, giant, rng)

    # grids: 2–4 Voronoi cells per community
    g_ids: list[str] = []
    g_names: list[str] = []
    g_parent: list[str | None] = []
    g_geoms: list[shapely.Geometry] = []
    for c in range(nc):
        k = int(rng.integers(2, 5))
        poly = comm_geom_arr[c]
        pts = _lloyd(poly, _random_points_in(poly, k, rng), 1)
        cells = _voronoi_in(poly, pts)
        for j, g in enumerate(cells):
            g_ids.append(f"{comm_ids[c]}-{j + 1}")
            g_names.append(f"{comm_names[c]}第{j + 1}网格")
            g_parent.append(comm_ids[c])
            g_geoms.append(g)

    # stations (two adjacent streets each) and police districts (3–5 groups of communities)
    pairs = _pair_streets(street_geoms, rng)
    street_station = np.zeros(n_streets, dtype=int)
    for si, (a, b) in enumerate(pairs):
        street_station[a] = street_station[b] = si
    station_ids = [f"PS{i + 1:02d}" for i in range(len(pairs))]
    station_names = [N.STREET_NAMES[min(a, b)].removesuffix("街道").removesuffix("镇") + "派出所" for a, b in pairs]
    station_geoms = np.array([shapely.union_all(street_geoms[[a, b]]) for a, b in pairs], dtype=object)
    comm_station = street_station[comm_street_arr]
    pd_ids: list[str] = []
    pd_names: list[str] = []
    pd_parent: list[str | None] = []
    pd_geoms: list[shapely.Geometry] = []
    for si in range(len(pairs)):
        members = np.flatnonzero(comm_station == si)
        k = int(rng.integers(3, 6))
        labels = _kmeans_groups(cxy[members], k, rng)
        for g in range(k):
            pd_ids.append(f"{station_ids[si]}-{g + 1:02d}")
            pd_names.append(f"{station_names[si]}第{g + 1}警务区")
            pd_parent.append(station_ids[si])
            pd_geoms.append(shapely.union_all(comm_geom_arr[members[labels == g]]))

    # community address: nearest main road, 弄 numbers increasing along it
    d_cr = shapely.distance(road_arr[None, :], cent[:, None])
    comm_road = np.argmin(d_cr, axis=1)
    along = np.array([roads[comm_road[c]].project(cent[c]) for c in range(nc)])
    comm_lane = np.zeros(nc, dtype=int)
    for r in range(len(roads)):
        idx = np.flatnonzero(comm_road == r)
        if len(idx):
            lane = 5 * np.round(along[idx] / 25.0).astype(int) + 8 + rng.integers(0, 4, len(idx))
            for _ in range(len(idx)):  # make lanes unique along the road
                lane_sorted = np.sort(lane)
                if len(np.unique(lane)) == len(lane):
                    break
                dup = lane == lane_sorted[np.flatnonzero(np.diff(lane_sorted) == 0)[0]]
                lane[np.flatnonzero(dup)[1:]] += 3
            comm_lane[idx] = lane

    # buildings: ≥ 30 m inside the community so a ≤ 20 m jitter never leaves it
    bx: list[np.ndarray] = []
    by: list[np.ndarray] = []
    bc: list[np.ndarray] = []
    bn: list[np.ndarray] = []
    for c in range(nc):
        n_b = int(np.clip(round(households[c] / 80), 10, 160))
        inner = shapely.buffer(comm_geom_arr[c], -30.0)
        if inner.is_empty or inner.area < 2000:
            inner = shapely.buffer(comm_geom_arr[c], -22.0)
        pts = _random_points_in(inner, n_b, rng)
        order = np.lexsort((pts[:, 0], -np.round(pts[:, 1] / 60)))
        pts = pts[order]
        bx.append(pts[:, 0])
        by.append(pts[:, 1])
        bc.append(np.full(n_b, c))
        bn.append(np.arange(1, n_b + 1))
    b_x, b_y = np.concatenate(bx), np.concatenate(by)
    b_comm, b_no = np.concatenate(bc), np.concatenate(bn)
    b_start = np.concatenate([[0], np.cumsum(np.bincount(b_comm, minlength=nc))])

    comm_tree = shapely.STRtree(comm_geom_arr)
    comm_boundaries = shapely.boundary(comm_geom_arr)

    def tag(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Community of each point; points within 2 m of a community border are dropped (keep mask)."""
        pts = shapely.points(xs, ys)
        pi, ci = comm_tree.query(pts, predicate="within")
        comm = np.full(len(xs), -1)
        comm[pi] = ci
        ok = comm >= 0
        near = np.zeros(len(xs), dtype=bool)
        near[ok] = shapely.distance(pts[ok], comm_boundaries[comm[ok]]) < 2.0
        return comm, ok & ~near

    # road points every 5 m
    rx: list[np.ndarray] = []
    ry: list[np.ndarray] = []
    rr: list[np.ndarray] = []
    for r, line in enumerate(roads):
        dists = np.arange(5.0, line.length, 5.0)
        pts = shapely.line_interpolate_point(line, dists)
        rx.append(shapely.get_x(pts))
        ry.append(shapely.get_y(pts))
        rr.append(np.full(len(dists), r))
    rp_x, rp_y, rp_road = np.concatenate(rx), np.concatenate(ry), np.concatenate(rr)
    rp_comm, keep = tag(rp_x, rp_y)
    rp_x, rp_y, rp_road, rp_comm = rp_x[keep], rp_y[keep], rp_road[keep], rp_comm[keep]
    rpts = shapely.points(rp_x, rp_y)
    d_other = shapely.distance(road_arr[None, :], rpts[:, None])
    d_other[np.arange(len(rp_x)), rp_road] = np.inf
    rp_cross = np.argmin(d_other, axis=1)
    rp_along = shapely.line_locate_point(road_arr[rp_road], rpts)
    rp_no = (2 * np.round(rp_along / 12.0) + 1 + (rp_x > 0) % 2).astype(int)

    # night-life zone points
    zx: list[np.ndarray] = []
    zy: list[np.ndarray] = []
    zf: list[np.ndarray] = []
    for fi, zg in enumerate(zone_geoms):
        n_z = 4000 if fi == 0 else 2000
        pts = _random_points_in(zg, n_z, rng)
        zx.append(pts[:, 0])
        zy.append(pts[:, 1])
        zf.append(np.full(n_z, fi))
    zp_x, zp_y, zp_feature = np.concatenate(zx), np.concatenate(zy), np.concatenate(zf)
    zp_comm, keep = tag(zp_x, zp_y)
    zp_x, zp_y, zp_feature, zp_comm = zp_x[keep], zp_y[keep], zp_feature[keep], zp_comm[keep]

    # assemble layers
    district_geom = outline
    layers = {
        "district": Layer("district", [d_id], [N.DISTRICT_NAME], [None], np.array([district_geom], dtype=object),
                          {"population": np.array([population.sum()]), "households": np.array([households.sum()])}),
        "street": Layer(
            "street", street_ids, list(N.STREET_NAMES[:n_streets]), [d_id] * n_streets, street_geoms,
            {"kind": street_kind,
             "population": np.bincount(comm_street_arr, population, n_streets),
             "households": np.bincount(comm_street_arr, households, n_streets)}),
        "community": Layer(
            "community", comm_ids, comm_names, [street_ids[s] for s in comm_street_arr], comm_geom_arr,
            {"kind": np.array([KIND_ZH[k] for k in kinds]),
             "households": households.astype(np.int64),
             "population": population.astype(np.int64),
             "floating_share": np.round(floating, 3),
             "rental_rate": np.round(rental, 3),
             "fee_collection_rate": np.round(fee, 3),
             "has_owners_committee": committee,
             "cameras": cameras.astype(np.int64),
             "cameras_broken": cameras_broken.astype(np.int64),
             "guards": guards.astype(np.int64),
             "elderly_share": np.round(elderly, 3),
             "shops": shops.astype(np.int64),
             "address": np.array([f"{road_names[comm_road[c]]}{comm_lane[c]}弄" for c in range(nc)])}),
        "grid": Layer("grid", g_ids, g_names, g_parent, np.array(g_geoms, dtype=object)),
        "station": Layer("station", station_ids, station_names, [None] * len(pairs), station_geoms,
                         {"unit": np.array([N.BUREAU + s for s in station_names])}),
        "police_district": Layer("police_district", pd_ids, pd_names, pd_parent, np.array(pd_geoms, dtype=object)),
    }
    return District(
        seed=seed, layers=layers, comm_station=comm_station, comm_street=comm_street_arr, comm_road=comm_road,
        comm_lane=comm_lane, roads=roads, road_names=road_names,
        b_x=b_x, b_y=b_y, b_comm=b_comm, b_no=b_no, b_start=b_start,
        rp_x=rp_x, rp_y=rp_y, rp_comm=rp_comm, rp_road=rp_road, rp_cross=rp_cross, rp_no=rp_no,
        zp_x=zp_x, zp_y=zp_y, zp_comm=zp_comm, zp_feature=zp_feature, zone_names=zone_names,
        zone_geoms=zone_geoms, hot=hot, fraud_hot=fraud_hot, giant=giant,
    )


@functools.lru_cache(maxsize=4)
def district_for(seed: int) -> District:
    """:func:`build_district` cached per process: a built district is only read (its ``cache`` holds derived
    lookup tables), so generation, truth and tests can share it."""
    return build_district(seed)


def _substring(line: shapely.LineString, start: float, end: float) -> shapely.LineString:
    """The part of a line between two distances along it (clamped)."""
    start, end = max(0.0, start), min(line.length, end)
    d = np.linspace(start, end, 40)
    return shapely.LineString(shapely.get_coordinates(shapely.line_interpolate_point(line, d)))


# ----------------------------------------------------------------------------------------------------------------
# output


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """Metric geometries → WGS-84 lon/lat geometries."""

    def f(xy: np.ndarray) -> np.ndarray:
        lon, lat = _TO_WGS.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([np.round(lon, 7), np.round(lat, 7)])

    out = shapely.transform(geoms, f)
    bad = np.flatnonzero(~shapely.is_valid(out))
    for i in bad:  # rounding to 1e-7° can pinch a sliver of a union; repair so files load without repairs
        out[i] = _largest_polygon(shapely.make_valid(out[i]), min_area=0.0)
    return out


def metric_to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metric (UTM 51N) coordinates → WGS-84 lon/lat arrays."""
    lon, lat = _TO_WGS.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def _jsonable(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _feature_collection(layer: Layer, name: str) -> dict[str, object]:
    geoms = to_wgs84(layer.geoms)
    feats = []
    for i in range(len(layer)):
        props: dict[str, object] = {"id": layer.ids[i], "name": layer.names[i], "parent_id": layer.parent_ids[i]}
        for k, col in layer.attrs.items():
            props[k] = _jsonable(col[i])
        feats.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geoms[i]))})
    return {"type": "FeatureCollection", "name": name, "features": feats}


def write_layers(district: District, out_dir: Path) -> dict[str, Path]:
    """Write every area layer and the night-life zone as WGS-84 GeoJSON; return ``{layer: path}``.

    Properties of each feature: ``id``, ``name``, ``parent_id`` and the layer's attributes; load them with
    ``load_area_file(data_dir, path, layer=..., id_field="id", name_field="name", parent_field="parent_id")``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for layer_name, file_name in LAYER_FILES.items():
        fc = _feature_collection(district.layers[layer_name], layer_name)
        p = out_dir / file_name
        _write_json(p, fc)
        paths[layer_name] = p
    zone = Layer("nightlife", [f"NL{i + 1}" for i in range(len(district.zone_geoms))], district.zone_names,
                 [None] * len(district.zone_geoms), np.array(district.zone_geoms, dtype=object),
                 {"kind": np.array(["夜间经济区"] * len(district.zone_geoms))})
    p = out_dir / NIGHTLIFE_FILE
    _write_json(p, _feature_collection(zone, "nightlife"))
    paths["nightlife"] = p
    return paths


def _write_json(path: Path, obj: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)
