"""Near-repeat victimisation: the Knox test over space and time bands, as in Ratcliffe's Near Repeat Calculator.

Every pair of events is placed in a (distance band × time-gap band) cell of a table. If burglaries near an earlier
burglary come sooner than chance would have it, the short-distance, short-gap cells hold more pairs than expected.
"Expected" comes from Monte Carlo permutation: the event times are shuffled among the events (locations fixed),
which keeps both the spatial pattern and the overall time profile but breaks any link between them; the pair table
is recounted for each shuffle.

Conventions (Ratcliffe 2009, Near Repeat Calculator manual):

- space bands ``[0, b1], (b1, b2], …`` metres with an optional first band for the *same location* (distance 0,
  then ``(0, b1]``), plus a last band ``> b_last``;
- time bands ``[0, d1], (d1, d2], …`` days plus ``> d_last`` (with whole-day times, ``0–14`` and ``15–28`` days);
- ``ratio = observed / expected`` with ``expected`` the mean of the permuted tables, and the p-value
  ``(1 + #{permutations with count ≥ observed}) / (permutations + 1)`` (one-sided, so 99 permutations give
  p ≥ 0.01);
- ``expected_exact`` is the exact permutation expectation ``N_s · M_t / N`` (``N_s`` pairs in space band ``s``,
  ``M_t`` pairs of times in time band ``t``, ``N`` all pairs), which the Monte Carlo mean estimates.

Only pairs within the largest distance band are enumerated (``cKDTree.query_pairs``); the ``> b_last`` row follows
from the time-gap counts over *all* pairs, which no permutation changes. Each permutation is a re-indexing of the
times on that pair list.

References
----------
Knox, G. (1964) The detection of space-time interactions. *JRSS C* 13(1), 25–30. Johnson, S. D. et al. (2007)
Space–time patterns of risk: a cross national assessment of residential burglary victimization. *J. Quant.
Criminol.* 23, 201–219. Ratcliffe, J. H. (2009) *Near Repeat Calculator* (version 1.3), Temple University and the
National Institute of Justice. See ``docs/methods/near-repeat.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from anju.errors import GeoError

__all__ = ["KnoxResult", "knox_test", "time_in_days"]


@dataclass(frozen=True)
class KnoxResult:
    """Knox tables, rows = space bands, columns = time bands (the last row/column are the open ``>`` bands).

    Attributes
    ----------
    space_labels, time_labels : list of str
    observed : int array — pairs per cell.
    expected : float array — mean over permutations (``expected_exact`` when ``permutations=0``).
    expected_exact : float array — exact permutation expectation.
    ratio : observed / expected (the Near Repeat Calculator's "Knox ratio").
    p_values : one-sided Monte Carlo p-values for "more pairs than expected" (NaN without permutations).
    permutations, n_events, n_pairs : int
    """

    space_labels: list[str]
    time_labels: list[str]
    observed: npt.NDArray[np.int64]
    expected: npt.NDArray[np.float64]
    expected_exact: npt.NDArray[np.float64]
    ratio: npt.NDArray[np.float64]
    p_values: npt.NDArray[np.float64]
    permutations: int
    n_events: int
    n_pairs: int

    def table(self, what: str = "ratio") -> pd.DataFrame:
        """One of ``observed, expected, expected_exact, ratio, p_values`` as a labelled DataFrame."""
        if what not in ("observed", "expected", "expected_exact", "ratio", "p_values"):
            raise GeoError(f"KnoxResult.table: unknown table {what!r}; use observed, expected, ratio or p_values.")
        return pd.DataFrame(getattr(self, what), index=pd.Index(self.space_labels, name="distance"),
                            columns=pd.Index(self.time_labels, name="time"))

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per (space band, time band) with observed, expected, ratio and p."""
        s, t = np.meshgrid(np.arange(len(self.space_labels)), np.arange(len(self.time_labels)), indexing="ij")
        return pd.DataFrame({
            "distance": np.asarray(self.space_labels, dtype=object)[s.ravel()],
            "time": np.asarray(self.time_labels, dtype=object)[t.ravel()],
            "observed": self.observed.ravel(),
            "expected": self.expected.ravel(),
            "expected_exact": self.expected_exact.ravel(),
            "ratio": self.ratio.ravel(),
            "p": self.p_values.ravel(),
        })


def time_in_days(t: npt.ArrayLike, *, whole_days: bool = True) -> npt.NDArray[np.float64]:
    """Timestamps → days since 1970-01-01 (calendar dates when ``whole_days``, as the Near Repeat Calculator)."""
    ns = pd.to_datetime(pd.Series(np.asarray(t))).to_numpy(dtype="datetime64[ns]").view(np.int64)
    days = ns / 86_400e9
    return np.floor(days) if whole_days else days


def _edges(bands: Sequence[float], what: str, unit: str) -> npt.NDArray[np.float64]:
    e = np.asarray(bands, dtype=np.float64).ravel()
    if e.size == 0 or not np.isfinite(e).all() or (e <= 0).any() or (np.diff(e) <= 0).any():
        raise GeoError(
            f"knox_test: {what} must be increasing positive upper band limits in {unit}, e.g. "
            f"{'(100, 200, 300, 400)' if unit == 'metres' else '(7, 14, 21, 28)'}; got {list(bands)!r}."
        )
    return e


def _fmt(v: float) -> str:
    return f"{v:g}"


def _labels(edges: npt.NDArray[np.float64], unit: str, same: bool) -> list[str]:
    out = [f"0 {unit}"] if same else []
    lo = 0.0
    for i, e in enumerate(edges):
        left = "(" if (same or i > 0) else "["
        out.append(f"{left}{_fmt(lo)}, {_fmt(e)}] {unit}")
        lo = e
    out.append(f"> {_fmt(edges[-1])} {unit}")
    return out


def knox_test(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    space_bands: Sequence[float] = (100, 200, 300, 400, 500),
    time_bands: Sequence[float] = (7, 14, 21, 28, 35, 42),
    permutations: int = 99,
    seed: int | np.random.Generator | None = None,
    same_location: bool = True,
    metric: str = "euclidean",
) -> KnoxResult:
    """Knox test for space-time interaction (near repeats) with Monte Carlo p-values.

    Parameters
    ----------
    x, y : array of float
        Event locations in metres (a metric CRS).
    t : array of float or datetime
        Event times in days (e.g. :func:`time_in_days`); datetimes are converted to calendar days.
    space_bands : sequence of float
        Upper limits of the distance bands in metres; pairs farther than the last one form the ``>`` band.
    time_bands : sequence of float
        Upper limits of the time-gap bands in days.
    permutations : int
        Number of Monte Carlo shuffles of the times (0 = only the exact expectation, no p-values).
    seed : int or Generator, optional
        Reproducible shuffles.
    same_location : bool
        Give distance 0 its own first band (the calculator's "same location" row, i.e. repeat victimisation).
    metric : {"euclidean", "manhattan"}

    Returns
    -------
    KnoxResult

    Examples
    --------
    >>> r = knox_test([0, 50, 1000], [0, 0, 0], [0, 3, 40], space_bands=[100], time_bands=[7], permutations=0)
    >>> r.observed.tolist()
    [[0, 0], [1, 0], [0, 2]]
    """
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    t_arr = np.asarray(t)
    ta = (time_in_days(t_arr) if np.issubdtype(t_arr.dtype, np.datetime64) or t_arr.dtype == object
          else t_arr.astype(np.float64)).ravel()
    if not (xa.shape == ya.shape == ta.shape):
        raise GeoError(f"knox_test: x, y and t must have one value per event; got {xa.size}, {ya.size}, {ta.size}.")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all() and np.isfinite(ta).all()):
        raise GeoError("knox_test: x, y and t must be finite; drop events without coordinates or time first.")
    n = xa.size
    if n < 3:
        raise GeoError(f"knox_test: needs at least 3 events; got {n}.")
    if permutations < 0:
        raise GeoError(f"knox_test: permutations must be ≥ 0; got {permutations}.")
    p_norm = {"euclidean": 2, "manhattan": 1}.get(metric.lower())
    if p_norm is None:
        raise GeoError(f"knox_test: metric must be 'euclidean' or 'manhattan'; got {metric!r}.")
    s_edges = _edges(space_bands, "space_bands", "metres")
    t_edges = _edges(time_bands, "time_bands", "days")
    off = 1 if same_location else 0
    ns = s_edges.size + off + 1  # + the '>' row
    nt = t_edges.size + 1

    # pairs within the largest distance and their space band
    pts = np.column_stack([xa, ya])
    pairs = cKDTree(pts).query_pairs(float(s_edges[-1]), p=p_norm, output_type="ndarray")
    i = pairs[:, 0].astype(np.int64)
    j = pairs[:, 1].astype(np.int64)
    diff = pts[i] - pts[j]
    d = np.hypot(diff[:, 0], diff[:, 1]) if p_norm == 2 else np.abs(diff).sum(axis=1)
    keep = d <= s_edges[-1]
    i, j, d = i[keep], j[keep], d[keep]
    s_band = np.searchsorted(s_edges, d, side="left") + off
    if same_location:
        s_band[d == 0] = 0
    base = s_band * nt
    n_within_cells = (ns - 1) * nt
    del pairs, diff, keep, d

    # time gaps → band. Whole days: histogram of (space band, gap in days) then fold the gaps into bands
    # (one gather-free pass per permutation); otherwise a binary search per pair.
    whole = bool(np.all(ta == np.floor(ta))) and (ta.max() - ta.min()) < 1e5
    t0 = ta.min()

    # pairs per time band over ALL pairs (invariant under permutation of the times)
    ts = np.sort(ta)
    cum = np.array([(np.searchsorted(ts, ts + e, side="right") - np.arange(1, n + 1)).sum() for e in t_edges],
                   dtype=np.float64)
    n_all = n * (n - 1) // 2
    m_t = np.diff(np.concatenate([[0.0], cum, [float(n_all)]]))

    if whole:
        span = int(ta.max() - t0) + 1
        tval: npt.NDArray[np.int64] | npt.NDArray[np.float64] = (ta - t0).astype(np.int64)
        fold = np.zeros((span, nt))
        fold[np.arange(span), np.searchsorted(t_edges, np.arange(span), side="left")] = 1.0
        key_base = s_band * span
        buf_a = np.empty(i.size, dtype=np.int64)
        buf_b = np.empty(i.size, dtype=np.int64)

        def within_counts(tt: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            np.take(tt, i, out=buf_a)
            np.take(tt, j, out=buf_b)
            np.subtract(buf_a, buf_b, out=buf_a)
            np.abs(buf_a, out=buf_a)
            np.add(buf_a, key_base, out=buf_a)
            hist = np.bincount(buf_a, minlength=(ns - 1) * span).reshape(ns - 1, span)
            return hist @ fold
    else:
        tval = ta

        def within_counts(tt: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            band = np.searchsorted(t_edges, np.abs(tt[i] - tt[j]), side="left")
            return np.bincount(base + band, minlength=n_within_cells).reshape(ns - 1, nt).astype(np.float64)

    def table(tt: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        within = within_counts(tt)
        return np.vstack([within, m_t - within.sum(axis=0)])

    observed = table(tval)
    n_s = observed.sum(axis=1)
    expected_exact = np.outer(n_s, m_t) / n_all
    if permutations:
        rng = np.random.default_rng(seed)
        total = np.zeros_like(observed)
        at_least = np.zeros_like(observed)
        for _ in range(permutations):
            sim = table(tval[rng.permutation(n)])
            total += sim
            at_least += sim >= observed
        expected = total / permutations
        p_values = (1.0 + at_least) / (permutations + 1.0)
    else:
        expected = expected_exact.copy()
        p_values = np.full(observed.shape, np.nan)
    ratio = np.divide(observed, expected, out=np.full(observed.shape, np.nan), where=expected > 0)
    return KnoxResult(
        space_labels=_labels(s_edges, "m", same_location),
        time_labels=_labels(t_edges, "d", False),
        observed=observed.astype(np.int64),
        expected=expected,
        expected_exact=expected_exact,
        ratio=ratio,
        p_values=p_values,
        permutations=int(permutations),
        n_events=int(n),
        n_pairs=int(n_all),
    )
