"""The safety index (平安指数): a documented composite 0–100 per community and street (higher = safer).

Three sub-scores, each a ratio ``R`` (1 = the district's level, or no change) mapped to 0–100 by
``S(R) = 100 / (1 + (R / h)^k)``, combined with the weights of ``index.toml``:

1. **rate** — the severity-weighted incident rate per resident, shrunk towards the district (Poisson–gamma, prior
   strength fitted on the comparison period), relative to the district: ``R = (W_i + a) / (W E_i / E + a)``;
2. **preventable** — the same for preventable (可防性) incidents (the area's share of the district's preventable
   incidents relative to its share of residents);
3. **trend** — severity-weighted incidents now against the comparison period, exposure-adjusted and smoothed:
   ``ρ = (W_i + k) / (W'_i t / t' + k)``.

Every sub-score falls when an incident with positive severity is added to an area in the release period, so the index
is monotone: more harm never raises it. Formula, weights and reasons: ``docs/safety-index.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from anju.analytics._common import (
    AnalyticsError,
    area_column,
    areas_frame,
    as_period,
    in_period,
    rollup_attributes,
    tag_periods,
)
from anju.analytics.periods import Period, resolve_comparison
from anju.analytics.shrinkage import fit_gamma_prior
from anju.taxonomy import Taxonomy

__all__ = ["IndexConfig", "index_from_counts", "safety_index", "score_ratio"]

_MAX_STRENGTH = 1e9


class _Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate: float = Field(default=0.60, ge=0)
    preventable: float = Field(default=0.25, ge=0)
    trend: float = Field(default=0.15, ge=0)

    @model_validator(mode="after")
    def _positive(self) -> _Weights:
        if self.rate + self.preventable + self.trend <= 0:
            raise ValueError("at least one weight must be positive")
        return self


class _Score(BaseModel):
    model_config = ConfigDict(extra="forbid")
    half_point: float = Field(default=1.5, gt=0)
    steepness: float = Field(default=2.0, gt=0)
    trend_half_point: float = Field(default=1.5, gt=0)
    trend_steepness: float = Field(default=2.0, gt=0)


class _Shrinkage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prior: Literal["ml", "mom"] = "ml"
    trend_pseudo: float = Field(default=10.0, gt=0)
    min_population: float = Field(default=1.0, ge=0)


class Grade(BaseModel):
    """A grade band: index ≥ ``min``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min: float = Field(ge=0, le=100)
    code: str
    zh: str
    en: str


class IndexConfig(BaseModel):
    """Weights and scales of the safety index (``index.toml``)."""

    model_config = ConfigDict(extra="forbid")
    weights: _Weights = _Weights()
    score: _Score = _Score()
    shrinkage: _Shrinkage = _Shrinkage()
    grade: list[Grade] = Field(default_factory=lambda: [
        Grade(min=85, code="A", zh="优", en="Excellent"), Grade(min=70, code="B", zh="良", en="Good"),
        Grade(min=55, code="C", zh="中", en="Fair"), Grade(min=0, code="D", zh="差", en="Poor")])

    @model_validator(mode="after")
    def _grades(self) -> IndexConfig:
        if not self.grade or min(g.min for g in self.grade) > 0:
            raise ValueError("grades must include one with min = 0 so every index gets a grade")
        self.grade = sorted(self.grade, key=lambda g: -g.min)
        return self


def score_ratio(r: ArrayLike, half_point: float = 1.5, steepness: float = 2.0) -> NDArray[np.float64]:
    """Map a ratio (1 = district level / no change) to 0–100: ``100 / (1 + (r / half_point)^steepness)``.

    Strictly decreasing in ``r``; 100 at 0, 50 at ``half_point``.

    Examples
    --------
    >>> score_ratio([0.0, 1.0, 1.5, 3.0]).round(1).tolist()
    [100.0, 69.2, 50.0, 20.0]
    """
    rr = np.asarray(r, dtype=float)
    return 100.0 / (1.0 + (np.maximum(rr, 0.0) / half_point) ** steepness)


def _strength(counts_ic: NDArray[np.float64], weights_c: NDArray[np.float64], e: NDArray[np.float64],
              method: str) -> float:
    """Prior strength ``a`` (in weighted units) from one period: fit a gamma prior to the quasi-Poisson counts.

    A weighted count ``W = Σ w_c y_c`` is over-dispersed by ``φ = Σ w² y / Σ w y``; ``W / φ`` behaves like a Poisson
    count. The fitted shape ``α`` of its rate prior, times ``φ``, is the number of weighted pseudo-incidents the
    prior is worth.
    """
    w_i = counts_ic @ weights_c
    tot = w_i.sum()
    if tot <= 0:
        return float("nan")
    phi = float((counts_ic.sum(axis=0) @ weights_c**2) / tot)
    pr = fit_gamma_prior(w_i / phi, e, method=method)  # type: ignore[arg-type]
    return float(min(pr.alpha * phi, _MAX_STRENGTH))


def _relative(w_i: NDArray[np.float64], e: NDArray[np.float64], a: float) -> NDArray[np.float64]:
    """Shrunk rate relative to the district: ``(W_i + a) / (W E_i / E + a)``; 1 where there is nothing at all."""
    big_w, big_e = w_i.sum(), e.sum()
    expected = big_w * e / big_e
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (w_i + a) / (expected + a)
    return np.where(big_w > 0, r, 1.0)


def index_from_counts(
    cur: ArrayLike,
    prev: ArrayLike,
    population: ArrayLike,
    *,
    severity: ArrayLike,
    preventable: ArrayLike,
    days: float = 1.0,
    days_prev: float = 1.0,
    config: IndexConfig | None = None,
) -> pd.DataFrame:
    """The pure core of :func:`safety_index` on arrays: areas × categories counts of both periods.

    Parameters
    ----------
    cur, prev : array_like, shape (areas, categories)
        Counts in the release period and in the comparison period.
    population : array_like, shape (areas,)
        Residents per area.
    severity, preventable : array_like, shape (categories,)
        Taxonomy severity weights and preventable flags of the columns.
    days, days_prev : float
        Period lengths (the trend is exposure-adjusted).

    Returns
    -------
    pandas.DataFrame
        One row per area: ``index``, ``score_rate``, ``score_preventable``, ``score_trend``, ``relative_risk``,
        ``preventable_ratio``, ``trend_ratio``, ``weighted``, ``weighted_prev``, ``preventable_count``, ``count``,
        ``count_prev``; NaN index for areas below ``min_population``. ``.attrs`` holds the prior strengths.
    """
    cfg = config or IndexConfig()
    y = np.atleast_2d(np.asarray(cur, dtype=float))
    y0 = np.atleast_2d(np.asarray(prev, dtype=float))
    pop = np.asarray(population, dtype=float)
    sev = np.asarray(severity, dtype=float)
    prevent = np.asarray(preventable, dtype=bool).astype(float)
    if y.shape != y0.shape or y.shape[0] != pop.shape[0] or y.shape[1] != sev.shape[0]:
        raise AnalyticsError(f"shapes disagree: cur {y.shape}, prev {y0.shape}, population {pop.shape}, "
                             f"severity {sev.shape}")
    ok = np.isfinite(pop) & (pop >= max(cfg.shrinkage.min_population, 1e-9))
    e = np.where(ok, pop / 1000.0, 0.0)
    method = cfg.shrinkage.prior

    # prior strengths from the comparison period (fallback: this period) — keeps the index monotone in this period
    a_w = _strength(y0[ok], sev, e[ok], method) if ok.any() else float("nan")
    a_p = _strength(y0[ok], prevent, e[ok], method) if ok.any() else float("nan")
    prior_from = "comparison"
    if not np.isfinite(a_w) or not np.isfinite(a_p):
        prior_from = "current"
        if not np.isfinite(a_w):
            a_w = _strength(y[ok], sev, e[ok], method) if ok.any() else 1.0
        if not np.isfinite(a_p):
            a_p = _strength(y[ok], prevent, e[ok], method) if ok.any() else 1.0
        a_w = a_w if np.isfinite(a_w) else 1.0
        a_p = a_p if np.isfinite(a_p) else 1.0

    w = y @ sev
    w0 = y0 @ sev
    p_cnt = y @ prevent
    rel = np.full(len(pop), np.nan)
    rel_p = np.full(len(pop), np.nan)
    if ok.any():
        rel[ok] = _relative(w[ok], e[ok], a_w)
        rel_p[ok] = _relative(p_cnt[ok], e[ok], a_p)
    k = cfg.shrinkage.trend_pseudo
    trend = (w + k) / (w0 * (days / days_prev) + k)

    sc = cfg.score
    s_rate = score_ratio(rel, sc.half_point, sc.steepness)
    s_prev = score_ratio(rel_p, sc.half_point, sc.steepness)
    s_trend = score_ratio(trend, sc.trend_half_point, sc.trend_steepness)
    wt = cfg.weights
    total = wt.rate + wt.preventable + wt.trend
    index = (wt.rate * s_rate + wt.preventable * s_prev + wt.trend * s_trend) / total
    index = np.where(ok, index, np.nan)
    grades = cfg.grade
    gi = [next((g for g in grades if v >= g.min), grades[-1]) if np.isfinite(v) else None for v in index]
    out = pd.DataFrame({
        "index": index,
        "grade": [g.code if g else None for g in gi],
        "grade_zh": [g.zh if g else None for g in gi],
        "grade_en": [g.en if g else None for g in gi],
        "score_rate": np.where(ok, s_rate, np.nan),
        "score_preventable": np.where(ok, s_prev, np.nan),
        "score_trend": np.where(ok, s_trend, np.nan),
        "relative_risk": rel,
        "preventable_ratio": rel_p,
        "trend_ratio": trend,
        "weighted": w,
        "weighted_prev": w0,
        "preventable_count": p_cnt.astype(np.int64),
        "count": y.sum(axis=1).astype(np.int64),
        "count_prev": y0.sum(axis=1).astype(np.int64),
    })
    out.attrs["prior"] = {"strength_weighted": a_w, "strength_preventable": a_p, "fitted_on": prior_from}
    return out


def _matrices(incidents: ir.Table, periods: list[Period], acol: str, ids: Sequence[Any], codes: Sequence[str]
              ) -> list[NDArray[np.float64]]:
    """Areas × categories count matrices of each period (one query when the periods do not overlap)."""
    if len(set(periods)) == len(periods):
        try:
            t = tag_periods(incidents, periods)
        except AnalyticsError:
            t = None
        if t is not None:
            t = t.filter(t[acol].notnull())
            df = t.group_by(["_period", acol, "category"]).aggregate(n=ibis._.count()).to_pandas()
            return [_to_matrix(df[df["_period"] == i], acol, ids, codes) for i in range(len(periods))]
    out = []
    for p in periods:
        t = in_period(incidents, p)
        t = t.filter(t[acol].notnull())
        out.append(_to_matrix(t.group_by([acol, "category"]).aggregate(n=ibis._.count()).to_pandas(), acol, ids,
                              codes))
    return out


def _to_matrix(df: pd.DataFrame, acol: str, ids: Sequence[Any], codes: Sequence[str]) -> NDArray[np.float64]:
    m = np.zeros((len(ids), len(codes)))
    if len(df):
        ai = pd.Index(ids).get_indexer(df[acol])
        ci = pd.Index(codes).get_indexer(df["category"])
        good = (ai >= 0) & (ci >= 0)
        np.add.at(m, (ai[good], ci[good]), df["n"].to_numpy(float)[good])
    return m


def safety_index(
    incidents: ir.Table,
    period: Period | str,
    *,
    areas: Any,
    level: str = "community",
    comparison: Period | str | None = "yoy",
    config: IndexConfig,
    taxonomy: Taxonomy,
    child_areas: Any = None,
) -> pd.DataFrame:
    """The safety index of every area of ``level`` for a period (higher = safer).

    Parameters
    ----------
    areas : table
        Attributes of ``level`` with ``population`` (``lake.areas(level)``).
    comparison : "yoy", "pop", Period or str
        The comparison period for the trend and the prior (default 同比).
    child_areas : table, optional
        The level below (e.g. communities for streets): fills missing ``population`` by summing children.

    Returns
    -------
    pandas.DataFrame
        ``area_id``, ``name``, ``population``, then the columns of :func:`index_from_counts`, and ``rank``
        (1 = safest), sorted by rank. ``.attrs``: ``period``, ``comparison``, ``prior``, ``config``.
    """
    tax = taxonomy
    cfg = config
    p = as_period(period)
    c = resolve_comparison(p, comparison) or p.same_period_last_year()
    acol = area_column(level)
    assert acol is not None
    a = rollup_attributes(areas, child_areas) if child_areas is not None else areas_frame(areas)
    if a is None or "population" not in a.columns:
        raise AnalyticsError(f"the safety index needs the {level} table with a 'population' column "
                             "(or child_areas to sum it from)")
    codes = list(tax.categories)
    sev = np.array([tax[x].severity for x in codes])
    prevent = np.array([tax[x].preventable for x in codes])
    ids = a["area_id"].tolist()
    cur, prev = _matrices(incidents, [p, c], acol, ids, codes)
    core = index_from_counts(cur, prev, a["population"].to_numpy(float), severity=sev, preventable=prevent,
                             days=p.days, days_prev=c.days, config=cfg)
    out = pd.concat([a[["area_id", "name", "population"]].reset_index(drop=True), core], axis=1)
    out["rank"] = out["index"].rank(ascending=False, method="min").astype("Int64")
    out = out.sort_values(["index", "area_id"], ascending=[False, True], na_position="last").reset_index(drop=True)
    out.attrs.update(period=p.code, comparison=c.code, prior=core.attrs["prior"], config=cfg.model_dump())
    return out
