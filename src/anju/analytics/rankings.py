"""Rankings (排行榜) defined in TOML, with empirical-Bayes shrinkage and rank changes.

A ranking names what is counted (families, leaf codes, preventable only, night only), per what (households,
residents or nothing) and at which area level; the shipped definitions are in ``anju/data/rankings.toml`` (loaded by :mod:`anju.deployment.loaders`)
(最受小偷欢迎小区, 耳根子最软居民区, dispute hot spots, night trouble, preventable cases). Rates are shrunk with the
Poisson–gamma model of :mod:`anju.analytics.shrinkage` and carry 95 % posterior intervals, so a tiny community cannot
top a list by chance; each entry shows its rank change against the comparison period.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from anju.analytics._common import (
    LEVELS,
    AnalyticsError,
    area_column,
    areas_frame,
    as_period,
    tag_periods,
)
from anju.analytics.counts import counts_many
from anju.analytics.periods import Period, resolve_comparison
from anju.analytics.shrinkage import eb_rates
from anju.analytics.window import NightWindow, as_window
from anju.taxonomy import Taxonomy

__all__ = ["RankingDef", "ranking", "rankings"]


class RankingDef(BaseModel):
    """One ranking definition (a ``[ranking.<id>]`` table of rankings.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str
    en: str
    description_zh: str = ""
    description_en: str = ""
    level: str = "community"
    families: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    preventable: bool | None = None
    per: Literal["households", "residents", "none"] = "residents"
    scale: float = Field(default=1000.0, gt=0)
    night: bool | str = False
    top: int = Field(default=10, ge=1)
    min_denominator: float = Field(default=0.0, ge=0)
    prior: Literal["ml", "mom"] = "ml"
    interval: float = Field(default=0.95, gt=0, lt=1)
    enabled: bool = True

    @field_validator("level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v not in LEVELS:
            raise ValueError(f"must be one of {', '.join(LEVELS)}")
        return v

    @field_validator("night")
    @classmethod
    def _night(cls, v: bool | str) -> bool | str:
        if isinstance(v, str):
            NightWindow.parse(v)
        return v

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang != "en" else self.en

    @property
    def denominator(self) -> str | None:
        """Area attribute used as denominator (``households``/``population``) or None."""
        return {"households": "households", "residents": "population", "none": None}[self.per]

    @property
    def window(self) -> NightWindow | None:
        return as_window(self.night)

    def leaf_codes(self, taxonomy: Taxonomy) -> list[str]:
        """The leaf codes this ranking counts.

        Examples
        --------
        >>> from anju.taxonomy import load_taxonomy
        >>> d = RankingDef(id="burglary", zh="入室盗窃", en="Burglaries", categories=("theft.burglary",))
        >>> d.leaf_codes(load_taxonomy()), d.denominator
        (['theft.burglary'], 'population')
        """
        tax = taxonomy
        chosen = [c for c in tax.categories if c in self.categories or tax.family_of(c) in self.families]
        if not self.families and not self.categories:
            chosen = list(tax.categories)
        if self.preventable is not None:
            chosen = [c for c in chosen if tax[c].preventable == self.preventable]
        return chosen


def _resolve(definition: RankingDef | str, definitions: Mapping[str, RankingDef] | None,
             taxonomy: Taxonomy) -> RankingDef:
    if isinstance(definition, RankingDef):
        return definition
    if definitions is None:
        raise AnalyticsError(f"ranking {definition!r} is named by id, so pass definitions= (the deployment's "
                             "rankings, anju.deployment.Deployment.rankings)")
    defs = definitions
    if definition not in defs:
        raise AnalyticsError(f"unknown ranking {definition!r}; defined: {', '.join(defs)}")
    return defs[definition]


def _score(df: pd.DataFrame, d: RankingDef) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rank all areas of one period: shrunk rate (or count), interval, rank."""
    from scipy import stats  # on first use: the deployment's loaders import this module for RankingDef

    df = df[df["area_id"].notna()].copy()
    df["area_id"] = df["area_id"].astype(object)
    y = df["count"].to_numpy(float)
    if d.denominator is None:
        df["denominator"] = np.nan
        df["rate_raw"] = y
        df["rate"] = y
        q = (1 - d.interval) / 2
        df["rate_low"] = np.where(y > 0, stats.chi2.ppf(q, 2 * y) / 2, 0.0)  # Garwood exact Poisson interval
        df["rate_high"] = stats.chi2.ppf(1 - q, 2 * y + 2) / 2
        prior: dict[str, Any] = {}
        mean = float(y.mean()) if len(y) else 0.0
    else:
        den = df[d.denominator].to_numpy(float)
        df["denominator"] = den
        df = df[np.isfinite(den) & (den > 0) & (den >= d.min_denominator)].copy()
        if df.empty:
            raise AnalyticsError(f"ranking {d.id!r}: no {d.level} has a positive {d.denominator!r}; load area "
                                 "attributes or use per = 'none'")
        e = df["denominator"].to_numpy(float) / d.scale
        eb = eb_rates(df["count"].to_numpy(float), e, method=d.prior, level=d.interval)
        for c in ("rate_raw", "rate", "rate_low", "rate_high", "weight"):
            df[c] = eb[c].to_numpy()
        prior = eb.attrs["prior"]
        mean = float(prior["mean"])
    df["above_average"] = df["rate_low"] > mean
    df = df.sort_values(["rate", "count", "area_id"], ascending=[False, False, True], kind="stable")
    # equal estimates share a rank (1, 2, 2, 4): a reader must not see an order the numbers do not give
    df["rank"] = df["rate"].rank(ascending=False, method="min").astype("int64")
    return df, prior


def _window_key(w: NightWindow | None) -> str:
    return "_all" if w is None else f"_n{w.start_minute}_{w.end_minute}"


def _leaf_table(incidents: ir.Table, periods: list[Period], level: str, windows: list[NightWindow | None]
                ) -> pd.DataFrame | None:
    """Counts per period × area × leaf × night flags in one query, shared by all rankings of a level."""
    if len(set(periods)) != len(periods):
        return None
    try:
        t = tag_periods(incidents, periods)
    except AnalyticsError:
        return None
    acol = area_column(level)
    assert acol is not None
    flags = {_window_key(w): w.expr(t) for w in windows if w is not None}
    t = t.mutate(**flags) if flags else t
    df = t.group_by(["_period", acol, "category", *flags]).aggregate(count=ibis._.count()).to_pandas()
    return df.rename(columns={acol: "area_id"})


def _from_leaves(leaves: pd.DataFrame, i: int, level: str, window: NightWindow | None, codes: list[str],
                 a: pd.DataFrame) -> pd.DataFrame:
    """The frame :func:`counts` would return (by=None, complete) from the shared leaf table."""
    sub = leaves[(leaves["_period"] == i) & leaves["category"].isin(codes) & leaves["area_id"].notna()]
    if window is not None:
        sub = sub[sub[_window_key(window)].astype(bool)]
    n = sub.groupby("area_id")["count"].sum()
    out = a.copy()
    out["count"] = out["area_id"].map(n).fillna(0).astype("int64").to_numpy()
    return out


def ranking(
    incidents: ir.Table,
    definition: RankingDef | str,
    period: Period | str,
    *,
    areas: Any,
    comparison: Period | str | None = "yoy",
    taxonomy: Taxonomy,
    night: NightWindow | str | bool | None = None,
    top: int | None = None,
    definitions: Mapping[str, RankingDef] | None = None,
    _leaves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One ranking for a period: the top entries by shrunk rate, with intervals and rank change.

    Parameters
    ----------
    incidents : ibis.Table
        The lake's incidents.
    definition : RankingDef or str
        A definition or its id in ``definitions`` (the deployment's rankings).
    period : Period or str
        The release period.
    areas : table
        Attributes of the definition's level (``lake.areas(level)``), with ``households``/``population`` when the
        ranking is per household/resident. Every area is ranked, including those without incidents.
    comparison : "yoy", "pop", Period, str or None
        Period whose ranks give ``rank_prev``/``rank_change``.
    night : NightWindow, str or bool, optional
        Overrides the definition's night window.
    top : int, optional
        Entries returned (default: the definition's ``top``; 0 = all).

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``area_id``, ``name``, ``count``, ``denominator``, ``rate_raw``, ``rate``, ``rate_low``,
        ``rate_high`` [, ``weight``], ``above_average`` (the interval lies above the overall rate/mean count: surely
        worse than average), ``count_prev``, ``rate_prev``, ``rank_prev``, ``rank_change`` (positive = moved
        up), ``new_entry`` (not in the comparison period's top). ``.attrs``: ``definition``, ``prior``, ``period``,
        ``comparison``, ``window``.
    """
    tax = taxonomy
    d = _resolve(definition, definitions, tax)
    p = as_period(period)
    c = resolve_comparison(p, comparison)
    window = as_window(night) if night is not None else d.window
    need = [d.denominator] if d.denominator else []
    a = areas_frame(areas, need=need)
    if a is None:
        raise AnalyticsError(f"ranking {d.id!r} needs the {d.level} area table (lake.areas({d.level!r}))")
    codes = d.leaf_codes(tax)
    periods = [p] if c is None else [p, c]
    if _leaves is not None:
        frames = [_from_leaves(_leaves, i, d.level, window, codes, a) for i in range(len(periods))]
    else:
        kw: dict[str, Any] = dict(level=d.level, by=None, areas=a, taxonomy=tax, night=window, categories=codes)
        frames = counts_many(incidents, periods, **kw)
    cur, prior = _score(frames[0], d)
    n_top = d.top if top is None else (top if top > 0 else len(cur))
    if c is not None:
        prev, _ = _score(frames[1], d)
        prev = prev[["area_id", "count", "rate", "rank"]].rename(
            columns={"count": "count_prev", "rate": "rate_prev", "rank": "rank_prev"})
        cur = cur.merge(prev, on="area_id", how="left")
        cur["rank_change"] = cur["rank_prev"] - cur["rank"]
        cur["new_entry"] = ~(cur["rank_prev"] <= n_top)
    else:
        for col in ("count_prev", "rate_prev", "rank_prev", "rank_change"):
            cur[col] = np.nan
        cur["new_entry"] = False
    cols = ["rank", "area_id", "name", "count", "denominator", "rate_raw", "rate", "rate_low", "rate_high"]
    cols += [x for x in ("weight",) if x in cur.columns] + ["above_average"]
    cols += ["count_prev", "rate_prev", "rank_prev", "rank_change", "new_entry"]
    out = cur[cols].head(n_top).reset_index(drop=True)
    for col in ("count_prev", "rank_prev", "rank_change"):
        out[col] = out[col].astype("Int64")
    out.attrs.update(definition=d.model_dump(), prior=prior, period=p.code,
                     comparison=c.code if c is not None else None, window=window.label() if window else None)
    return out


def rankings(
    incidents: ir.Table,
    period: Period | str,
    *,
    areas: Any,
    definitions: Mapping[str, RankingDef],
    taxonomy: Taxonomy,
    **kw: Any,
) -> dict[str, pd.DataFrame]:
    """Every enabled ranking of ``definitions`` (the deployment's) for a period, keyed by id. ``areas`` may be one
    table or a dict level → table."""
    tax = taxonomy
    defs = {k: v for k, v in definitions.items() if v.enabled}
    p = as_period(period)
    c = resolve_comparison(p, kw.get("comparison", "yoy"))
    night = kw.get("night")
    leaves: dict[str, pd.DataFrame | None] = {}
    for lv in {d.level for d in defs.values()}:
        wins = list({(as_window(night) if night is not None else d.window) for d in defs.values() if d.level == lv})
        leaves[lv] = _leaf_table(incidents, [p] if c is None else [p, c], lv, wins)
    out: dict[str, pd.DataFrame] = {}
    for rid, d in defs.items():
        if isinstance(areas, Mapping) and d.level not in areas:
            raise AnalyticsError(f"ranking {rid!r} ranks {d.level} areas, but no {d.level!r} table was given "
                                 f"(got {', '.join(areas)}); pass areas={{'{d.level}': lake.areas('{d.level}'), …}}")
        a = areas[d.level] if isinstance(areas, Mapping) else areas
        out[rid] = ranking(incidents, d, p, areas=a, taxonomy=tax, definitions=defs, _leaves=leaves[d.level], **kw)
    return out
