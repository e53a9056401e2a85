"""Getis-Ord Gi* local hot spot statistic with FDR control and Esri-style confidence bins.

For each location ``i`` with value ``x_i`` (e.g. the incident count of a grid cell) and weights ``w_ij`` that include
``i`` itself (``w_ii > 0``), the standardised Gi* of Ord & Getis (1995, eq. 8–9) is

.. math::

    z_i = \\frac{\\sum_j w_{ij} x_j - \\bar x \\sum_j w_{ij}}
               {S \\sqrt{\\left[n \\sum_j w_{ij}^2 - (\\sum_j w_{ij})^2\\right] / (n - 1)}},
    \\qquad \\bar x = \\frac{1}{n}\\sum_j x_j,\\quad S = \\sqrt{\\frac{1}{n}\\sum_j x_j^2 - \\bar x^2}.

This is the formula ArcGIS's Hot Spot Analysis uses. It is invariant to scaling a row of ``W`` (so row
standardisation changes nothing), and for binary weights it equals PySAL's ``esda.G_Local(star=True,
transform="B")`` exactly (checked in ``tests/spatial/test_gistar.py``). ``p`` is two-sided from the normal
distribution; optional conditional permutations (Anselin 1995) give a pseudo p-value ``p_sim``.

Multiple testing: thousands of cells tested at 5 % give hundreds of false hot spots by chance, so
:func:`confidence_bins` applies the Benjamini–Hochberg (1995) false-discovery-rate procedure at each confidence
level, as ArcGIS does with "Apply False Discovery Rate (FDR) Correction".

References
----------
Getis, A. & Ord, J. K. (1992) The analysis of spatial association by use of distance statistics. *Geographical
Analysis* 24(3), 189–206. Ord, J. K. & Getis, A. (1995) Local spatial autocorrelation statistics: distributional
issues and an application. *Geographical Analysis* 27(4), 286–306. Benjamini, Y. & Hochberg, Y. (1995) Controlling
the false discovery rate. *JRSS B* 57(1), 289–300. Esri, ArcGIS Pro "How Hot Spot Analysis (Getis-Ord Gi*) works".
See ``docs/methods/gi-star.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from anju.errors import GeoError
from anju.geo.regular_grid import RegularGrid
from anju.spatial.weights import distance_band, grid_contiguity, with_self

__all__ = ["GiStarResult", "confidence_bins", "fdr_bh", "gi_star", "gi_star_z", "grid_hotspots"]

#: Significance levels of the Esri confidence bins ±1, ±2, ±3 (90, 95, 99 % confidence).
BIN_LEVELS = (0.10, 0.05, 0.01)


@dataclass(frozen=True)
class GiStarResult:
    """Result of :func:`gi_star`, one entry per location.

    Attributes
    ----------
    z : z-scores (positive = cluster of high values, a hot spot).
    p : two-sided p-values from the normal approximation.
    p_sim : two-sided pseudo p-values from conditional permutations, or None when ``permutations=0``.
    gi : the raw statistic ``G*_i = Σ_j w_ij x_j / Σ_j x_j``.
    expected : its expectation ``Σ_j w_ij / n`` under no association.
    """

    z: npt.NDArray[np.float64]
    p: npt.NDArray[np.float64]
    p_sim: npt.NDArray[np.float64] | None
    gi: npt.NDArray[np.float64]
    expected: npt.NDArray[np.float64]

    def bins(self, *, fdr: bool = True, use_sim: bool = False) -> npt.NDArray[np.int8]:
        """Esri confidence bins (−3…3) from ``p`` (or ``p_sim`` with ``use_sim=True``)."""
        if use_sim and self.p_sim is None:
            raise GeoError("GiStarResult.bins: use_sim=True needs gi_star(..., permutations=N) with N > 0.")
        p = self.p_sim if use_sim and self.p_sim is not None else self.p
        return confidence_bins(self.z, p, fdr=fdr)

    def to_frame(self, *, fdr: bool = True) -> pd.DataFrame:
        """A DataFrame with columns ``gi, expected, z, p, [p_sim], bin``."""
        data: dict[str, npt.NDArray[np.generic]] = {"gi": self.gi, "expected": self.expected, "z": self.z,
                                                    "p": self.p}
        if self.p_sim is not None:
            data["p_sim"] = self.p_sim
        data["bin"] = self.bins(fdr=fdr)
        return pd.DataFrame(data)


def _prepare(values: npt.ArrayLike, W: sp.sparray | sp.spmatrix, self_weight: float) -> tuple[
    npt.NDArray[np.float64], sp.csr_array
]:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise GeoError(f"gi_star: values must be one value per location (1-D); got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise GeoError("gi_star: values contain NaN or infinity; fill missing counts with 0 or drop the locations.")
    Wc = sp.csr_array(W, dtype=np.float64)
    if Wc.shape != (x.size, x.size):
        raise GeoError(
            f"gi_star: weights must be {x.size} × {x.size} to match the values; got {Wc.shape}. Build W for the "
            "same locations, in the same order."
        )
    if x.size < 3:
        raise GeoError(f"gi_star: needs at least 3 locations; got {x.size}.")
    if self_weight and not Wc.diagonal().any():
        Wc = with_self(Wc, self_weight)
    return x, Wc


def gi_star_z(
    lag: npt.NDArray[np.float64],
    sum_w: npt.NDArray[np.float64],
    sum_w2: npt.NDArray[np.float64],
    mean: float | npt.NDArray[np.float64],
    std: float | npt.NDArray[np.float64],
    n: float | npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Ord & Getis (1995) z-score from its pieces (broadcasting); 0 where it is undefined.

    ``lag = Σ_j w_ij x_j``, ``sum_w = Σ_j w_ij``, ``sum_w2 = Σ_j w_ij²``; ``mean``, ``std`` (population) and ``n``
    describe the reference set of values (the whole map, or for space-time cubes the global window). The z-score is
    undefined — returned as 0, no evidence of clustering — when the values are constant or a neighbourhood spans
    every location.
    """
    num = lag - mean * sum_w
    var = (n * sum_w2 - sum_w**2) / (n - 1)
    den = std * np.sqrt(np.maximum(var, 0.0))
    scale = np.maximum(np.abs(mean * sum_w), 1.0) * 1e-12
    ok = den > scale
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=ok)


def gi_star(
    values: npt.ArrayLike,
    W: sp.sparray | sp.spmatrix,
    *,
    self_weight: float = 1.0,
    permutations: int = 0,
    seed: int | np.random.Generator | None = None,
) -> GiStarResult:
    """Getis-Ord Gi* for every location.

    Parameters
    ----------
    values : array of float, shape (n,)
        The variable, e.g. incident counts per cell or per community.
    W : sparse (n, n)
        Spatial weights (see :mod:`anju.spatial.weights`). Gi* includes each location in its own neighbourhood: if
        ``W`` has an empty diagonal, ``self_weight`` is put on it (1 suits binary weights); a non-empty diagonal is
        used as given.
    self_weight : float
        Diagonal to add when ``W`` has none.
    permutations : int
        Number of conditional permutations for ``p_sim`` (0 = none; 99 or 999 are usual).
    seed : int or numpy Generator, optional
        Makes the permutations reproducible.

    Returns
    -------
    GiStarResult

    Examples
    --------
    >>> from anju.spatial.weights import grid_contiguity
    >>> rows, cols = np.divmod(np.arange(25), 5)
    >>> W = grid_contiguity(rows, cols, kind="queen")
    >>> counts = np.zeros(25); counts[[6, 7, 11, 12]] = [9, 8, 7, 9]
    >>> r = gi_star(counts, W)
    >>> int(np.argmax(r.z)), round(float(r.z.max()), 3)
    (6, 2.834)
    """
    x, Wc = _prepare(values, W, self_weight)
    n = x.size
    sum_w = np.asarray(Wc.sum(axis=1)).ravel()
    sum_w2 = np.asarray(Wc.power(2).sum(axis=1)).ravel()
    lag = Wc @ x
    mean = x.mean()
    std = float(np.sqrt(max((x * x).mean() - mean * mean, 0.0)))
    z = gi_star_z(lag, sum_w, sum_w2, mean, std, n)
    p = 2.0 * stats.norm.sf(np.abs(z))
    total = x.sum()
    gi = lag / total if total != 0 else np.full(n, np.nan)
    p_sim = _conditional_permutation(x, Wc, lag, permutations, seed) if permutations else None
    return GiStarResult(z=z, p=p, p_sim=p_sim, gi=gi, expected=sum_w / n)


def _conditional_permutation(
    x: npt.NDArray[np.float64],
    W: sp.csr_array,
    lag: npt.NDArray[np.float64],
    permutations: int,
    seed: int | np.random.Generator | None,
) -> npt.NDArray[np.float64]:
    """Two-sided pseudo p-values: keep ``x_i`` fixed, draw its neighbours' values from the other ``n − 1``.

    Vectorised: one set of ``permutations × k_max`` distinct draws from ``range(n − 1)`` is rotated by a random
    offset per location (so each location sees uniformly random neighbour sets), then shifted past ``i``.
    """
    if permutations < 1:
        raise GeoError(f"gi_star: permutations must be a positive integer or 0; got {permutations!r}.")
    rng = np.random.default_rng(seed)
    n = x.size
    off = sp.csr_array(W - sp.diags_array(W.diagonal()))
    off.eliminate_zeros()
    deg = np.diff(off.indptr)
    kmax = int(deg.max()) if n else 0
    if kmax == 0:
        return np.ones(n)
    if kmax > n - 1:
        raise GeoError("gi_star: a location has more neighbours than there are other locations.")
    # padded neighbour weights, shape (n, kmax)
    wpad = np.zeros((n, kmax))
    pos = np.arange(off.indices.size) - np.repeat(off.indptr[:-1], deg)
    wpad[np.repeat(np.arange(n), deg), pos] = off.data
    observed = lag - W.diagonal() * x  # neighbour part of the lag
    rids = np.stack([rng.choice(n - 1, size=kmax, replace=False) for _ in range(permutations)])  # (P, kmax)
    shift = rng.integers(0, n - 1, size=n)
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    tol = 1e-9 * max(float(np.abs(x).max()), 1.0)
    chunk = max(1, 4_000_000 // (permutations * kmax))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        cells = np.arange(start, stop)
        idx = (rids[None, :, :] + shift[cells, None, None]) % (n - 1)
        idx += idx >= cells[:, None, None]
        sims = np.einsum("cpk,ck->cp", x[idx], wpad[start:stop])
        obs = observed[start:stop, None]
        ge[start:stop] = (sims >= obs - tol).sum(axis=1)
        le[start:stop] = (sims <= obs + tol).sum(axis=1)
    return np.minimum(1.0, 2.0 * (np.minimum(ge, le) + 1) / (permutations + 1))


def fdr_bh(p: npt.ArrayLike, alpha: float = 0.05) -> npt.NDArray[np.bool_]:
    """Benjamini–Hochberg: which hypotheses to reject keeping the false discovery rate at ``alpha``.

    Sort the ``m`` p-values, find the largest ``k`` with ``p_(k) ≤ k·alpha/m`` and reject the ``k`` smallest.
    NaN p-values are never rejected and do not count in ``m``.

    Examples
    --------
    >>> fdr_bh([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216], 0.05).tolist()
    [True, True, False, False, False, False, False, False, False, False]
    """
    pa = np.asarray(p, dtype=np.float64)
    if not 0 < alpha < 1:
        raise GeoError(f"fdr_bh: alpha must be in (0, 1); got {alpha!r}.")
    out = np.zeros(pa.shape, dtype=bool)
    ok = np.isfinite(pa)
    m = int(ok.sum())
    if m == 0:
        return out
    ps = np.sort(pa[ok])
    below = ps <= alpha * np.arange(1, m + 1) / m
    if not below.any():
        return out
    cutoff = ps[np.nonzero(below)[0][-1]]
    out[ok] = pa[ok] <= cutoff
    return out


def confidence_bins(
    z: npt.ArrayLike, p: npt.ArrayLike, *, fdr: bool = True, levels: tuple[float, float, float] = BIN_LEVELS
) -> npt.NDArray[np.int8]:
    """Esri's Gi_Bin: ±3, ±2, ±1 for hot/cold spots at 99, 95, 90 % confidence; 0 not significant.

    With ``fdr=True`` each level's threshold comes from :func:`fdr_bh` at that level (ArcGIS's "FDR correction");
    otherwise a location is significant at level ``a`` when ``p < a``. The sign is the sign of ``z``.

    Examples
    --------
    >>> confidence_bins([3.0, -2.0, 1.7, 0.5], [0.0027, 0.0455, 0.0891, 0.617], fdr=False).tolist()
    [3, -2, 1, 0]
    """
    za = np.asarray(z, dtype=np.float64)
    pa = np.asarray(p, dtype=np.float64)
    if za.shape != pa.shape:
        raise GeoError(f"confidence_bins: z and p must have the same shape; got {za.shape} and {pa.shape}.")
    level = np.zeros(za.shape, dtype=np.int8)
    for a in sorted(levels, reverse=True):
        sig = fdr_bh(pa, a) if fdr else (np.isfinite(pa) & (pa < a))
        level += sig.astype(np.int8)
    return (np.sign(za).astype(np.int8) * level).astype(np.int8)


def grid_hotspots(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    cell: float = 150.0,
    grid: RegularGrid | None = None,
    weights: str = "queen",
    distance: float | None = None,
    mask: npt.ArrayLike | None = None,
    fdr: bool = True,
    permutations: int = 0,
    seed: int | np.random.Generator | None = None,
) -> tuple[RegularGrid, pd.DataFrame]:
    """Gi* hot spots of points (metric ``x``, ``y``) counted on a regular grid.

    Parameters
    ----------
    x, y : array of float
        Event coordinates in metres; NaN rows are ignored.
    cell : float
        Cell size in metres when ``grid`` is not given.
    grid : RegularGrid, optional
        A fixed grid (e.g. shared with a forecast); events outside it are ignored.
    weights : {"queen", "rook", "distance"}
        Neighbourhood: contiguity, or all cells whose centres lie within ``distance`` metres.
    distance : float, optional
        Required for ``weights="distance"``.
    mask : array of bool, optional
        One flag per grid cell: which cells belong to the study area (e.g. centre inside the district). Cells
        outside are dropped before the statistic (a lake is not a cold spot). Default: every cell of the grid.
    fdr, permutations, seed
        As in :func:`confidence_bins` and :func:`gi_star`. With permutations the bins come from the pseudo
        p-values ``p_sim``, whose floor is ``2 / (permutations + 1)``: use 999 or more for 99 % bins.

    Returns
    -------
    (grid, DataFrame)
        One row per analysed cell: ``cell, row, col, cx, cy, count, z, p, [p_sim], bin``.
    """
    g = grid if grid is not None else RegularGrid.from_points(x, y, cell)
    counts = g.counts(x, y).ravel()
    cells = np.arange(g.n_cells)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != (g.n_cells,):
            raise GeoError(f"grid_hotspots: mask must have one flag per grid cell ({g.n_cells}); got {m.shape}.")
        cells = cells[m]
    kind = weights.lower()
    if kind in ("queen", "rook"):
        W = grid_contiguity(*g.rowcol(cells), kind=kind, self_weight=1.0)
    elif kind == "distance":
        if distance is None or not distance > 0:
            raise GeoError("grid_hotspots: weights='distance' needs distance=<metres> (e.g. 2 × the cell size).")
        cx, cy = g.centres(cells)
        W = distance_band(cx, cy, distance, self_weight=1.0)
    else:
        raise GeoError(f"grid_hotspots: weights must be 'queen', 'rook' or 'distance'; got {weights!r}.")
    res = gi_star(counts[cells], W, permutations=permutations, seed=seed)
    row, col = g.rowcol(cells)
    cx, cy = g.centres(cells)
    frame = pd.DataFrame({"cell": cells, "row": row, "col": col, "cx": cx, "cy": cy, "count": counts[cells],
                          "z": res.z, "p": res.p})
    if res.p_sim is not None:
        frame["p_sim"] = res.p_sim
    frame["bin"] = res.bins(fdr=fdr, use_sim=res.p_sim is not None)
    return g, frame
