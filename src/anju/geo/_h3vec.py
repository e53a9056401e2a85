"""Vectorised H3 ``latlng_to_cell`` (NumPy), exact against the ``h3`` library.

h3-py 4.x only has scalar calls (~0.7 s per million points in a Python loop). H3's own algorithm is: pick the
icosahedron face whose centre is nearest the point, project the point gnomonically onto that face, rotate and scale
it into the face's hexagonal lattice at the resolution, round to the hexagon containing it (face, i, j, k), and then
turn (face, ijk) into the 64-bit index with lookup tables. The index is a pure function of (face, ijk), so we do
the geometric part for all points in NumPy, group the points by (face, ijk) — a district has a few thousand distinct
cells at resolution 9 — and ask ``h3`` for the index of *one* representative point per group.

The lattice geometry (face centres, the orientation of each face's lattice modulo 60°) is read from ``h3`` itself at
first use: the face centres are the centres of the face-centred resolution-0 cells, and the lattice orientation is
the azimuth from a face centre to its neighbouring resolution-2 cell centres. Points within 1e-9 lattice units
(~0.2 µm at resolution 9) of a hexagon edge, or almost equidistant from two face centres, go to ``h3`` directly, so
floating-point ties cannot disagree with the library.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from anju.errors import GeoError

__all__ = ["latlng_to_cells"]

_RES0_U_GNOMONIC = 0.38196601125010500003  # (3 − √5) / 2
_SQRT7 = 2.6457513110645905905016157536392604257102
_AP7_ROT = 0.333473172251832115336090755351601070065900389  # asin(√(3/28))
_SQRT3_2 = 0.8660254037844386467637231707529361834714
_TWO_PI = 2.0 * np.pi
_MARGIN = 1e-9
_FACE_TIE = 1e-12
_CHUNK = 131072  # points per vectorised pass: temporaries stay in cache


@lru_cache(maxsize=1)
def _faces() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(lat, lng, xyz, axis azimuth mod 60°) of the 20 icosahedron faces, derived from the h3 library."""
    import h3

    lat = np.zeros(20)
    lng = np.zeros(20)
    by_face: dict[int, list[str]] = {}
    for c in h3.get_res0_cells():
        f = h3.get_icosahedron_faces(c)
        if len(f) == 1:
            by_face.setdefault(int(f[0]), []).append(c)
    if sorted(by_face) != list(range(20)):
        raise GeoError("unexpected h3 library: cannot find the face-centred resolution-0 cells")
    for f, cells in by_face.items():
        pts = np.array([np.radians(h3.cell_to_latlng(c)) for c in cells])
        xyz = np.column_stack([np.cos(pts[:, 0]) * np.cos(pts[:, 1]), np.cos(pts[:, 0]) * np.sin(pts[:, 1]),
                               np.sin(pts[:, 0])])
        centre = int(np.argmax(xyz @ xyz.mean(axis=0)))  # the face-centred cell sits at the middle of the others
        lat[f], lng[f] = pts[centre]
    xyz = np.column_stack([np.cos(lat) * np.cos(lng), np.cos(lat) * np.sin(lng), np.sin(lat)])
    axis = np.zeros(20)
    for f in range(20):
        c2 = h3.latlng_to_cell(float(np.degrees(lat[f])), float(np.degrees(lng[f])), 2)
        nb = [n for n in h3.grid_ring(c2, 1)]
        az = []
        for n in nb:
            la, ln = np.radians(h3.cell_to_latlng(n))
            az.append(_azimuth(lat[f], lng[f], la, ln) % (np.pi / 3.0))
        a = np.array(az)
        # all six neighbours give the same angle modulo 60° (up to rounding near 0/60°)
        a = np.where(a > np.pi / 3.0 - 1e-9, a - np.pi / 3.0, a)
        axis[f] = float(np.median(a))
    return lat, lng, xyz, axis


@lru_cache(maxsize=2)
def _face_consts(res: int) -> tuple[NDArray[np.float64], ...]:
    """cos/sin of each face centre's lat and lng and of its lattice axis at the resolution's class."""
    flat, flng, _, faxis = _faces()
    axis = faxis - (_AP7_ROT if res % 2 == 1 else 0.0)
    return np.cos(flat), np.sin(flat), np.cos(flng), np.sin(flng), np.cos(axis), np.sin(axis)


def _azimuth(lat1: float | NDArray[np.float64], lng1: float | NDArray[np.float64],
             lat2: float | NDArray[np.float64], lng2: float | NDArray[np.float64]) -> NDArray[np.float64]:
    """H3's ``_geoAzimuthRads``: azimuth from point 1 to point 2 (radians)."""
    return np.asarray(np.arctan2(np.cos(lat2) * np.sin(lng2 - lng1),
                                 np.cos(lat1) * np.sin(lat2) - np.sin(lat1) * np.cos(lat2) * np.cos(lng2 - lng1)))


def _pos(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """H3's ``_posAngleRads``: map to [0, 2π)."""
    r = np.where(a < 0.0, a + _TWO_PI, a)
    return np.where(r >= _TWO_PI, r - _TWO_PI, r)


def _scalar(lat: NDArray[np.float64], lng: NDArray[np.float64], res: int) -> NDArray[np.int64]:
    import h3.api.basic_int as h3i

    return np.fromiter((h3i.latlng_to_cell(a, b, res) for a, b in zip(lat.tolist(), lng.tolist(), strict=True)),
                       dtype=np.uint64, count=lat.size).view(np.int64)


def _candidate_faces(px: NDArray[np.float64], py: NDArray[np.float64], pz: NDArray[np.float64],
                     fxyz: NDArray[np.float64]) -> list[int]:
    """Faces that can be nearest for some point: a cheap bound from the batch's centre and angular radius."""
    c = np.array([px.mean(), py.mean(), pz.mean()])
    norm = float(np.linalg.norm(c))
    if norm < 0.5:  # points spread over a hemisphere or more: try every face
        return list(range(20))
    c /= norm
    rho = float(np.arccos(np.clip((px * c[0] + py * c[1] + pz * c[2]).min(), -1.0, 1.0))) + 1e-9
    ang = np.arccos(np.clip(fxyz @ c, -1.0, 1.0))
    f0 = int(np.argmin(ang))
    # a point within rho of c has angle ≤ ang[f0] + rho to face f0 and ≥ ang[g] − rho to face g
    keep = np.flatnonzero(ang - rho <= ang[f0] + rho + 1e-9)
    return [f0, *(int(g) for g in keep if g != f0)]


def _buckets(latr: NDArray[np.float64], lngr: NDArray[np.float64], res: int
             ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """(face, i, j) of each point's hexagon, and a flag for points too close to a hexagon edge or a face tie."""
    fxyz = _faces()[2]
    cl = np.cos(latr)
    sl = np.sin(latr)
    cg = np.cos(lngr)
    sg = np.sin(lngr)
    px, py, pz = cl * cg, cl * sg, sl
    faces = _candidate_faces(px, py, pz, fxyz)
    f0 = faces[0]
    best = px * fxyz[f0, 0] + py * fxyz[f0, 1] + pz * fxyz[f0, 2]
    second = np.full(latr.size, -np.inf)
    face = np.full(latr.size, f0, dtype=np.int64)
    for f in faces[1:]:
        d = px * fxyz[f, 0] + py * fxyz[f, 1] + pz * fxyz[f, 2]
        closer = d > best
        second = np.where(closer, best, np.maximum(second, d))
        best = np.where(closer, d, best)
        face[closer] = f
    tie = (best - second) < _FACE_TIE
    # H3: r = acos(1 − sqd/2) with sqd the squared chord to the face centre; tan r = sin r / cos r
    sqd = (px - fxyz[face, 0]) ** 2 + (py - fxyz[face, 1]) ** 2 + (pz - fxyz[face, 2]) ** 2
    cos_r = 1.0 - sqd * 0.5
    tan_r = np.sqrt(np.maximum(1.0 - cos_r * cos_r, 0.0)) / cos_r
    # azimuth from the face centre (H3 _geoAzimuthRads) as (sin, cos) without further trigonometry
    consts = _face_consts(res)
    per_point: list[Any] = [float(c[f0]) for c in consts] if len(faces) == 1 else [c[face] for c in consts]
    cfl, sfl, cfg, sfg, ca, sa = per_point
    sin_dl = sg * cfg - cg * sfg
    cos_dl = cg * cfg + sg * sfg
    a = cl * sin_dl
    b = cfl * sl - sfl * cl * cos_dl
    h = np.sqrt(a * a + b * b)
    h = np.where(h > 0.0, h, 1.0)
    scale = tan_r * (_SQRT7**res / _RES0_U_GNOMONIC)
    # theta = axis − azimuth: cos θ = cos ax cos az + sin ax sin az, sin θ = sin ax cos az − cos ax sin az
    x = scale * (ca * b + sa * a) / h
    y = scale * (sa * b - ca * a) / h
    # lattice centre = q·(1, 0) + r·(½, √3/2) (axes 60° apart); cube rounding (q, r, s = −q − r) finds the hexagon
    fr = y / _SQRT3_2
    fq = x - 0.5 * fr
    fs = -fq - fr
    rq, rr, rs = np.rint(fq), np.rint(fr), np.rint(fs)
    dq, dr, ds = np.abs(rq - fq), np.abs(rr - fr), np.abs(rs - fs)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    # back to H3's 120° axes: centre = i·(1, 0) + j·(−½, √3/2) with i = q + r, j = r
    bi = rq + rr
    bj = rr
    dx = x - (bi - 0.5 * bj)
    dy = y - bj * _SQRT3_2
    reach = np.maximum(np.abs(dx), np.maximum(np.abs(dx * 0.5 + dy * _SQRT3_2), np.abs(dy * _SQRT3_2 - dx * 0.5)))
    # tolerance: ulp-level differences from H3's own arithmetic (relative 1e-13), plus acos's loss near r = 0
    tol = _MARGIN + scale * (1e-13 + 1e-15 / np.maximum(sqd, 1e-300))
    edge = (0.5 - reach) < tol
    return face, bi.astype(np.int64), bj.astype(np.int64), tie | edge | (reach > 0.5 + 1e-6)


def _group(face: NDArray[np.int64], bi: NDArray[np.int64], bj: NDArray[np.int64]
           ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(first index of each distinct (face, i, j), group number of every point); a dense table when compact."""
    n = face.size
    span_i = int(bi.max() - bi.min()) + 1
    span_j = int(bj.max() - bj.min()) + 1
    span_f = int(face.max() - face.min()) + 1
    size = span_f * span_i * span_j
    if size <= 4 * n + 1_000_000:
        dense = ((face - face.min()) * span_i + (bi - bi.min())) * span_j + (bj - bj.min())
        table = np.full(size, -1, dtype=np.int64)
        table[dense[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)  # first occurrence wins
        present = np.flatnonzero(table >= 0)
        rank = np.full(size, -1, dtype=np.int64)
        rank[present] = np.arange(present.size, dtype=np.int64)
        return table[present], rank[dense]
    key = (face << 50) | ((bi + (1 << 24)) << 25) | (bj + (1 << 24))
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return first.astype(np.int64), inv.astype(np.int64)


def latlng_to_cells(lon: ArrayLike, lat: ArrayLike, res: int = 9) -> NDArray[np.int64]:
    """H3 index (int64) of each (lon, lat) in degrees at ``res``; -1 where either is NaN or infinite."""
    if not isinstance(res, int | np.integer) or not 0 <= int(res) <= 15:
        raise GeoError(f"H3 resolution must be an integer 0..15; got {res!r}")
    res = int(res)
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    if lo.shape != la.shape:
        raise GeoError(f"lon and lat must have the same shape; got {lo.shape} and {la.shape}")
    shape = lo.shape
    lo = lo.ravel()
    la = la.ravel()
    out = np.full(lo.size, -1, dtype=np.int64)
    ok = np.flatnonzero(np.isfinite(lo) & np.isfinite(la))
    if ok.size == 0:
        return out.reshape(shape)
    latr = np.radians(la[ok])
    lngr = np.radians(lo[ok])
    parts = [_buckets(latr[s : s + _CHUNK], lngr[s : s + _CHUNK], res) for s in range(0, ok.size, _CHUNK)]
    face, bi, bj, unsure = (np.concatenate([p[k] for p in parts]) for k in range(4))
    sure = np.flatnonzero(~unsure)
    if sure.size:
        first, inv = _group(face[sure], bi[sure], bj[sure])
        rep = sure[first]
        cells = _scalar(la[ok][rep], lo[ok][rep], res)
        out[ok[sure]] = cells[inv]
    hard = np.flatnonzero(unsure)
    if hard.size:
        out[ok[hard]] = _scalar(la[ok][hard], lo[ok][hard], res)
    return out.reshape(shape)
