"""Spatial weights as ``scipy.sparse`` CSR arrays: who is whose neighbour, and how much.

Row ``i`` of a weights matrix ``W`` lists the neighbours of observation ``i``; ``W[i, j]`` is the weight. All builders
return a ``scipy.sparse.csr_array`` of float64 with sorted indices and no explicit zeros, in the order of their
input. The diagonal is empty unless ``self_weight`` is given: Getis-Ord Gi* counts the observation itself, so for
it use ``self_weight=1`` (binary weights) or :func:`with_self`.

Builders
--------
- :func:`grid_contiguity` — queen (8 neighbours) or rook (4) contiguity between regular grid cells given by
  (row, col); cells missing from the input are simply not neighbours.
- :func:`polygon_contiguity` — queen (shares at least a point) or rook (shares a boundary segment) contiguity
  between polygons, found with a Shapely STRtree.
- :func:`distance_band` — neighbours within a fixed distance, binary or inverse-distance.
- :func:`knn_weights` — the ``k`` nearest neighbours (asymmetric unless ``symmetric=True``).

Helpers: :func:`row_standardise`, :func:`with_self`, :func:`islands`.

References: Getis, A. & Aldstadt, J. (2004) Constructing the spatial weights matrix using a local statistic,
*Geographical Analysis* 36(2); Anselin, L. & Rey, S. (2014) *Modern Spatial Econometrics in Practice*, ch. 3.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from anju.errors import GeoError

__all__ = [
    "distance_band",
    "grid_contiguity",
    "islands",
    "knn_weights",
    "polygon_contiguity",
    "row_standardise",
    "with_self",
]

_QUEEN = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_ROOK = ((-1, 0), (0, -1), (0, 1), (1, 0))


def _build(
    n: int, i: npt.NDArray[np.int64], j: npt.NDArray[np.int64], w: npt.ArrayLike, self_weight: float
) -> sp.csr_array:
    """CSR array from (i, j, w) triplets plus an optional diagonal; duplicates are summed."""
    w = np.broadcast_to(np.asarray(w, dtype=np.float64), i.shape)
    if self_weight:
        d = np.arange(n, dtype=np.int64)
        i = np.concatenate([i, d])
        j = np.concatenate([j, d])
        w = np.concatenate([w, np.full(n, float(self_weight))])
    m = sp.coo_array((w, (i, j)), shape=(n, n)).tocsr()
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    return sp.csr_array(m, dtype=np.float64)


def _check_kind(kind: str, caller: str) -> Literal["queen", "rook"]:
    k = kind.lower()
    if k not in ("queen", "rook"):
        raise GeoError(f"{caller}: kind must be 'queen' or 'rook'; got {kind!r}.")
    return k  # type: ignore[return-value]


def grid_contiguity(
    row: npt.ArrayLike, col: npt.ArrayLike, *, kind: str = "queen", self_weight: float = 0.0
) -> sp.csr_array:
    """Binary contiguity between regular grid cells given by integer ``(row, col)``.

    Parameters
    ----------
    row, col : array of int
        Cell positions; observation ``i`` is the cell ``(row[i], col[i])``. Must be unique.
    kind : {"queen", "rook"}
        Queen: the 8 cells sharing an edge or a corner; rook: the 4 sharing an edge.
    self_weight : float
        Weight put on the diagonal (1 for Gi*); 0 leaves it empty.

    Returns
    -------
    scipy.sparse.csr_array
        ``n × n`` weights in the input order.

    Examples
    --------
    >>> W = grid_contiguity([0, 0, 1, 1], [0, 1, 0, 1], kind="rook")
    >>> W.toarray().astype(int).tolist()
    [[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]]
    """
    offsets = _QUEEN if _check_kind(kind, "grid_contiguity") == "queen" else _ROOK
    r = np.asarray(row, dtype=np.int64).ravel()
    c = np.asarray(col, dtype=np.int64).ravel()
    if r.shape != c.shape:
        raise GeoError(f"grid_contiguity: row and col must have the same length; got {r.size} and {c.size}.")
    n = r.size
    if n == 0:
        return sp.csr_array((0, 0), dtype=np.float64)
    # Encode (row, col) as one int64 key on a padded lattice, then find neighbours by binary search.
    r0, c0 = r.min() - 1, c.min() - 1
    width = int(c.max() - c0 + 2)
    keys = (r - r0) * width + (c - c0)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if n > 1 and (np.diff(sorted_keys) == 0).any():
        raise GeoError("grid_contiguity: the (row, col) cells must be unique; found a repeated cell.")
    ii, jj = [], []
    for dr, dc in offsets:
        target = keys + dr * width + dc
        pos = np.searchsorted(sorted_keys, target)
        pos_c = np.minimum(pos, n - 1)
        hit = sorted_keys[pos_c] == target
        ii.append(np.nonzero(hit)[0])
        jj.append(order[pos_c[hit]])
    return _build(n, np.concatenate(ii), np.concatenate(jj), 1.0, self_weight)


def polygon_contiguity(
    geometries: npt.ArrayLike, *, kind: str = "queen", self_weight: float = 0.0, tolerance: float = 0.0
) -> sp.csr_array:
    """Binary contiguity between polygons.

    Queen neighbours share at least one boundary point (or overlap, as slightly messy real boundaries do); rook
    neighbours share a boundary segment of positive length (or overlap). With ``tolerance > 0`` polygons closer
    than that distance (in the geometries' units) also count as queen neighbours, which bridges digitising slivers.

    Parameters
    ----------
    geometries : array of shapely (Multi)Polygons
    kind : {"queen", "rook"}
    self_weight : float
        Diagonal weight (1 for Gi*).
    tolerance : float
        Snap distance for queen contiguity; 0 means exact.

    Examples
    --------
    >>> import shapely
    >>> polys = shapely.box([0, 1, 1, 5], [0, 0, 1, 5], [1, 2, 2, 6], [1, 1, 2, 6])
    >>> polygon_contiguity(polys).toarray().astype(int).tolist()
    [[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
    >>> polygon_contiguity(polys, kind="rook").toarray().astype(int).tolist()
    [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    """
    import shapely

    k = _check_kind(kind, "polygon_contiguity")
    geoms = np.asarray(geometries, dtype=object).ravel()
    n = geoms.size
    if n == 0:
        return sp.csr_array((0, 0), dtype=np.float64)
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        bad = int(np.nonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))[0][0])
        raise GeoError(f"polygon_contiguity: geometry {bad} is missing or empty; drop or repair it first.")
    tree = shapely.STRtree(geoms)
    if tolerance > 0 and k == "queen":
        pairs = tree.query(geoms, predicate="dwithin", distance=tolerance)
    else:
        pairs = tree.query(geoms, predicate="intersects")
    i, j = pairs[0].astype(np.int64), pairs[1].astype(np.int64)
    keep = i < j
    i, j = i[keep], j[keep]
    if k == "rook" and i.size:
        shared = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])))
        overlap = shapely.area(shapely.intersection(geoms[i], geoms[j]))
        ok = (shared > 0) | (overlap > 0)
        i, j = i[ok], j[ok]
    return _build(n, np.concatenate([i, j]), np.concatenate([j, i]), 1.0, self_weight)


def _points(x: npt.ArrayLike, y: npt.ArrayLike, caller: str) -> npt.NDArray[np.float64]:
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise GeoError(f"{caller}: x and y must have the same length; got {xa.size} and {ya.size}.")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise GeoError(f"{caller}: x and y must be finite metric coordinates; drop rows without coordinates.")
    return np.column_stack([xa, ya])


def distance_band(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    threshold: float,
    *,
    binary: bool = True,
    power: float = 1.0,
    min_distance: float = 1.0,
    self_weight: float = 0.0,
) -> sp.csr_array:
    """Neighbours within ``threshold`` metres (distance ≤ threshold), binary or inverse-distance.

    Parameters
    ----------
    x, y : array of float
        Metric coordinates (e.g. cell centres or polygon centroids).
    threshold : float
        Neighbourhood distance in metres.
    binary : bool
        True → weight 1; False → weight ``1 / max(d, min_distance) ** power``.
    power : float
        Distance-decay exponent for inverse-distance weights.
    min_distance : float
        Floor on the distance for inverse weights, so coincident points get a finite weight.
    self_weight : float
        Diagonal weight (1 for binary Gi*).

    Examples
    --------
    >>> distance_band([0, 100, 250], [0, 0, 0], 150).toarray().astype(int).tolist()
    [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    if not threshold > 0:
        raise GeoError(f"distance_band: threshold must be a positive distance in metres; got {threshold!r}.")
    pts = _points(x, y, "distance_band")
    n = len(pts)
    pairs = cKDTree(pts).query_pairs(float(threshold), output_type="ndarray").astype(np.int64)
    i, j = pairs[:, 0], pairs[:, 1]
    if binary:
        w: npt.ArrayLike = 1.0
    else:
        d = np.hypot(*(pts[i] - pts[j]).T)
        w = 1.0 / np.maximum(d, min_distance) ** power
        w = np.concatenate([w, w])
    return _build(n, np.concatenate([i, j]), np.concatenate([j, i]), w, self_weight)


def knn_weights(
    x: npt.ArrayLike, y: npt.ArrayLike, k: int, *, symmetric: bool = False, self_weight: float = 0.0
) -> sp.csr_array:
    """Binary weights to each point's ``k`` nearest other points.

    k-nearest-neighbour relations are not symmetric; ``symmetric=True`` makes ``j`` a neighbour of ``i`` whenever
    either is among the other's nearest (rows then hold ``k`` or more neighbours).

    Examples
    --------
    >>> knn_weights([0, 1, 3, 10], [0, 0, 0, 0], 1).toarray().astype(int).tolist()
    [[0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    """
    pts = _points(x, y, "knn_weights")
    n = len(pts)
    if not (isinstance(k, int | np.integer) and 1 <= k < n):
        raise GeoError(f"knn_weights: k must be an integer in [1, {n - 1}] for {n} points; got {k!r}.")
    _, idx = cKDTree(pts).query(pts, k=min(k + 1, n))
    idx = np.asarray(idx, dtype=np.int64).reshape(n, -1)
    not_self = idx != np.arange(n)[:, None]
    # keep the first k non-self hits per row (self may be displaced by coincident points)
    keep = not_self & (np.cumsum(not_self, axis=1) <= k)
    i = np.repeat(np.arange(n), keep.sum(axis=1))
    j = idx[keep]
    W = _build(n, i, j, 1.0, 0.0)
    if symmetric:
        W = sp.csr_array(((W + W.T) > 0).astype(np.float64))
    return with_self(W, self_weight) if self_weight else W


def row_standardise(W: sp.sparray | sp.spmatrix) -> sp.csr_array:
    """Divide each row by its sum (rows without neighbours stay zero)."""
    W = sp.csr_array(W, dtype=np.float64)
    s = np.asarray(W.sum(axis=1)).ravel()
    inv = np.divide(1.0, s, out=np.zeros_like(s), where=s != 0)
    return sp.csr_array(sp.diags_array(inv) @ W)


def with_self(W: sp.sparray | sp.spmatrix, value: float | npt.ArrayLike = 1.0) -> sp.csr_array:
    """A copy of ``W`` with its diagonal set to ``value`` (scalar or one value per row): the Gi* self weight."""
    W = sp.csr_array(W, dtype=np.float64)
    n = W.shape[0]
    diag = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
    out = sp.csr_array(W - sp.diags_array(W.diagonal()) + sp.diags_array(diag))
    out.eliminate_zeros()
    out.sort_indices()
    return out


def islands(W: sp.sparray | sp.spmatrix) -> npt.NDArray[np.int64]:
    """Indices of observations with no neighbour other than themselves."""
    W = sp.csr_array(W)
    off = W - sp.diags_array(W.diagonal())
    off = sp.csr_array(off)
    off.eliminate_zeros()
    return np.nonzero(np.diff(off.indptr) == 0)[0].astype(np.int64)
