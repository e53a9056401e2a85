"""Monthly community assessment (零发案 / 控案先进 考评): scores, titles, key lists and movement.

Pure functions over small tables. :func:`score_month` turns one row of inputs per community (preventable cases from
the lake, information collection, patrol compliance, camera uptime, survey satisfaction) into points per indicator,
deductions, a total out of 100, a rank and a title, with the rubric version that was used. :func:`key_lists` names
the key communities (most preventable cases over three years), key streets and the most frequent preventable case
types; :func:`movement` compares two months; :func:`commendations` draws the quarterly 表彰 list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from anju.analytics._common import AnalyticsError, as_period
from anju.analytics.counts import counts_many
from anju.analytics.periods import Period
from anju.analytics.rubric import Rubric
from anju.taxonomy import Taxonomy

__all__ = ["commendations", "key_lists", "month_cases", "movement", "score_month"]

TITLE_ZERO = "zero_case"
TITLE_CONTROL = "control"


def month_cases(incidents: ir.Table, month: Period | str, *, areas: Any = None,
                taxonomy: Taxonomy) -> pd.DataFrame:
    """Preventable cases per community in ``month`` and in the same month last year.

    Returns ``area_id``, [``name``, ``parent_id``], ``preventable``, ``preventable_prev`` (one row per community of
    ``areas``; unassigned calls are left out).
    """
    p = as_period(month)
    if p.kind != "month":
        raise AnalyticsError(f"the assessment is monthly; got the period {p.code!r} (use e.g. '2025-11')")
    prev = p.same_period_last_year()
    now, last = counts_many(incidents, [p, prev], level="community", by="preventable", areas=areas,
                            taxonomy=taxonomy)
    def pick(df: pd.DataFrame) -> pd.Series:
        d = df[df["area_id"].notna() & df["preventable"].astype(bool)]
        return d.groupby("area_id")["count"].sum()
    base = now[now["area_id"].notna()].drop_duplicates("area_id")
    cols = [c for c in ("area_id", "name", "parent_id") if c in base.columns]
    out = base[cols].reset_index(drop=True)
    out["preventable"] = pick(now).reindex(out["area_id"]).fillna(0).astype("int64").to_numpy()
    out["preventable_prev"] = pick(last).reindex(out["area_id"]).fillna(0).astype("int64").to_numpy()
    return out


def _indicator_points(ind: Any, x: pd.Series) -> np.ndarray:
    v = pd.to_numeric(x, errors="coerce").to_numpy(float)
    if ind.kind == "cases":
        pts = ind.weight - ind.per_case * v
    else:
        pts = ind.weight * (v - ind.zero) / (ind.full - ind.zero)
    pts = np.clip(pts, 0.0, ind.weight)
    return np.where(np.isnan(v), 0.0, pts)


def score_month(inputs: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Score one month: points per indicator, deductions, total, rank and title per community.

    Parameters
    ----------
    inputs : pandas.DataFrame
        One row per community: ``area_id`` and the rubric's inputs (``preventable``, ``preventable_prev``,
        ``collection_rate`` …). A missing value scores no points for its indicator and is listed in ``missing``.
    rubric : Rubric
        The version in force that month (:func:`anju.analytics.rubric.rubric_for`).

    Returns
    -------
    pandas.DataFrame
        The inputs plus ``pts_<indicator>`` and ``ded_<deduction>`` columns, ``score`` (0–100), ``rank`` (1 = best;
        ties share the rank), ``yoy_change`` (preventable cases vs the same month last year, a fraction),
        ``title`` (``zero_case`` / ``control`` / empty), ``title_zh``, ``missing`` and ``.attrs['rubric']``.

    Examples
    --------
    >>> from anju.analytics.rubric import load_rubrics, rubric_for
    >>> r = rubric_for("2025-11", load_rubrics())
    >>> df = pd.DataFrame({"area_id": ["a", "b"], "preventable": [0, 3], "preventable_prev": [2, 10],
    ...     "collection_rate": [0.96, 0.90], "patrol_compliance": [0.97, 0.8], "camera_uptime": [0.99, 0.9],
    ...     "satisfaction_rate": [0.95, 0.9], "fast_scan_share": [0, 0.1], "stale_share": [0.1, 0.1]})
    >>> s = score_month(df, r)
    >>> s[["area_id", "score", "rank", "title"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'area_id': 'a', 'score': 100.0, 'rank': 1, 'title': 'zero_case'},
     {'area_id': 'b', 'score': 56.33, 'rank': 2, 'title': ''}]
    """
    if "area_id" not in inputs.columns:
        raise AnalyticsError("the assessment inputs need an 'area_id' column")
    needed = {i.input for i in rubric.indicator} | {"preventable_prev"}
    absent = sorted(c for c in needed if c not in inputs.columns)
    if absent:
        raise AnalyticsError(f"the assessment inputs lack {', '.join(absent)} (rubric {rubric.version}); add the "
                             "column (empty values score no points)")
    out = inputs.copy().reset_index(drop=True)
    missing = pd.Series([[] for _ in range(len(out))], index=out.index, dtype=object)
    total = np.zeros(len(out))
    for ind in rubric.indicator:
        pts = _indicator_points(ind, out[ind.input])
        out[f"pts_{ind.id}"] = np.round(pts, 2)
        total += pts
        for i in np.flatnonzero(out[ind.input].isna().to_numpy()):
            missing[i] = [*missing[i], ind.id]
    for d in rubric.deduction:
        v = pd.to_numeric(out[d.input], errors="coerce") if d.input in out.columns else pd.Series(np.nan,
                                                                                                   index=out.index)
        hit = (v > d.above) if d.above is not None else (v < d.below)
        ded = np.where(hit.fillna(False).to_numpy(bool), d.points, 0.0)
        out[f"ded_{d.id}"] = ded
        total -= ded
    out["score"] = np.round(np.clip(total, 0, 100), 2)
    out["missing"] = missing
    cases = pd.to_numeric(out["preventable"], errors="coerce")
    prev = pd.to_numeric(out["preventable_prev"], errors="coerce")
    out["yoy_change"] = np.where(prev > 0, (cases - prev) / prev.where(prev > 0, 1), np.nan)
    t = rubric.titles
    zero = (cases <= t.zero_case.max_cases).fillna(False).to_numpy(bool)
    ctrl = ((prev >= t.control.min_prev) & (cases <= (1 - t.control.min_drop) * prev)
            & (out["score"] >= t.control.min_score)).fillna(False).to_numpy(bool)
    out["title"] = np.where(zero, TITLE_ZERO, np.where(ctrl, TITLE_CONTROL, ""))
    out["title_zh"] = np.where(zero, t.zero_case.zh, np.where(ctrl, t.control.zh, ""))
    out["title_en"] = np.where(zero, t.zero_case.en, np.where(ctrl, t.control.en, ""))
    out["rank"] = out["score"].rank(method="min", ascending=False).astype("int64")
    out = out.sort_values(["rank", "area_id"], kind="stable").reset_index(drop=True)
    out.attrs["rubric"] = rubric.version
    return out


def key_lists(incidents: ir.Table, month: Period | str, rubric: Rubric, *, communities: Any = None,
              streets: Any = None, taxonomy: Taxonomy) -> dict[str, pd.DataFrame]:
    """The bulletin's key lists over the ``rubric.key.years`` years ending with ``month``.

    Returns ``{"communities": …, "streets": …, "types": …}``: the communities and streets with most preventable
    cases (``area_id``, ``name``, ``count``, ``rank``) and the most frequent preventable case types (``category``,
    ``label_zh``, ``label_en``, ``count``, ``share`` of all preventable cases, ``rank``).
    """
    p = as_period(month)
    span = Period(Period.month(p.start.year - rubric.key.years, p.start.month).end, p.end, "range")

    def top(level: str, areas: Any, n: int) -> pd.DataFrame:
        (df,) = counts_many(incidents, [span], level=level, by="preventable", areas=areas, taxonomy=taxonomy)
        df = df[df["area_id"].notna() & df["preventable"].astype(bool)]
        cols = [c for c in ("area_id", "name") if c in df.columns]
        g = df.groupby(cols, dropna=False)["count"].sum().reset_index()
        g = g.sort_values(["count", "area_id"], ascending=[False, True], kind="stable").head(n)
        g["rank"] = np.arange(1, len(g) + 1)
        return g.reset_index(drop=True)

    (cat,) = counts_many(incidents, [span], level=None, by="category", taxonomy=taxonomy)
    prevent = set(taxonomy.codes(preventable=True))
    cat = cat[cat["category"].isin(prevent)]
    allp = float(cat["count"].sum())
    types = cat.sort_values(["count", "category"], ascending=[False, True], kind="stable").head(rubric.key.types)
    types = types[["category", "label_zh", "label_en", "count"]].reset_index(drop=True)
    types["share"] = types["count"] / allp if allp else np.nan
    types["rank"] = np.arange(1, len(types) + 1)
    out = {"communities": top("community", communities, rubric.key.communities),
           "streets": top("street", streets, rubric.key.streets), "types": types}
    for v in out.values():
        v.attrs["span"] = span.code
    return out


def movement(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Month-on-month movement: ``score_prev``, ``rank_prev``, ``rank_change`` (positive = moved up),
    ``title_prev``, ``title_gained``/``title_lost``."""
    out = current.copy()
    if previous is None or previous.empty:
        out["score_prev"] = np.nan
        out["rank_prev"] = pd.NA
        out["rank_change"] = pd.NA
        out["title_prev"] = ""
    else:
        prev = previous.set_index("area_id")
        out["score_prev"] = prev["score"].reindex(out["area_id"]).to_numpy()
        out["rank_prev"] = prev["rank"].reindex(out["area_id"]).astype("Int64").to_numpy()
        out["rank_change"] = (out["rank_prev"] - out["rank"]).astype("Int64")
        out["title_prev"] = prev["title"].reindex(out["area_id"]).fillna("").to_numpy()
    out["title_gained"] = (out["title"] != "") & (out["title_prev"] == "")
    out["title_lost"] = (out["title"] == "") & (out["title_prev"] != "")
    return out


def commendations(months: Sequence[pd.DataFrame], rubric: Rubric) -> pd.DataFrame:
    """The quarterly 表彰 list from the three monthly score tables of a quarter.

    A community is commended when it held a title in at least ``rubric.commendation.months_with_title`` of the
    months and its mean score is at least ``min_score``. Returns ``area_id``, [``name``], ``months_with_title``,
    ``titles`` (the monthly titles, in order), ``mean_score``; best first.
    """
    if not months:
        return pd.DataFrame(columns=["area_id", "months_with_title", "titles", "mean_score"])
    frames = []
    for i, m in enumerate(months):
        cols = [c for c in ("area_id", "name") if c in m.columns]
        frames.append(m[[*cols, "score", "title"]].assign(_m=i))
    allm = pd.concat(frames, ignore_index=True)
    keys = [c for c in ("area_id", "name") if c in allm.columns]
    g = allm.sort_values("_m").groupby(keys, dropna=False).agg(
        months_with_title=("title", lambda s: int((s != "").sum())),
        titles=("title", lambda s: list(s)),
        mean_score=("score", "mean"),
        n=("_m", "count"),
    ).reset_index()
    c = rubric.commendation
    ok = (g["months_with_title"] >= c.months_with_title) & (g["mean_score"] >= c.min_score) & (g["n"] == len(months))
    g = g[ok].drop(columns="n").sort_values(["months_with_title", "mean_score", "area_id"],
                                             ascending=[False, False, True], kind="stable")
    g["mean_score"] = g["mean_score"].round(2)
    return g.reset_index(drop=True)
