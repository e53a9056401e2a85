"""Alert levels (警情预警等级) per community and station: recent counts against a baseline with a Poisson control
limit, so that "勤务随警情变化同步浮动" has a documented trigger.

For a unit (community, station…), a family (or all incidents) and a window of ``w`` days ending on day ``D``
(``w = 1``: the day itself; ``w = 7``: the last seven days):

* baseline ``b = (Σ_k c_k + 0.5) / K`` with ``c_k`` the count in the same window ``k`` weeks earlier, ``k = 1…K``
  (same weekdays, so the weekly cycle cancels; the 0.5 keeps a never-seen unit from alerting on one event);
* seasonality: ``s`` = the district-wide daily rate of the family one year earlier (364 days, same weekdays) in the
  whole weeks around the window, ±1 week, over its rate in the K-week baseline span, shrunk as
  ``(count + 5) / (expected + 5)`` and clipped to [2/3, 3/2]; ``s = 1`` without a year of history;
* expected ``λ = s · b``; the upper tail ``p = P(X ≥ observed | X ~ Poisson(λ))``;
* level 3 (红) if ``p < 0.001``, 2 (橙) if ``p < 0.01``, 1 (黄) if ``p < 0.05``, else 0 — and only when the count
  is at least ``min_count`` and above ``λ``.

The limit treats the baseline as known; with K = 8 weeks its own noise is small next to a single window's
(see ``docs/methods/alerts.md`` for the rule, its false-alarm rate and references).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from ibis import _
from scipy import stats

from anju.errors import ConfigError
from anju.forecast.tables import as_ibis, category_label, require, time_column

__all__ = ["LEVELS", "alert_levels", "daily_counts"]

LEVELS = {0: ("正常", "normal"), 1: ("黄色关注", "yellow"), 2: ("橙色预警", "orange"), 3: ("红色预警", "red")}
_ALPHAS = (0.05, 0.01, 0.001)
_WEEKDAYS_ZH = "一二三四五六日"


def daily_counts(events: Any, *, by: str, start: Any, end: Any) -> pd.DataFrame:
    """Events per unit, family and day in ``[start, end)`` (Ibis group-by, run by the table's engine)."""
    t = as_ibis(events)
    require(t, by, "family")
    tc = time_column(t)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    t = t.filter(t[tc] >= lo.to_pydatetime(), t[tc] < hi.to_pydatetime(), t[by].notnull())
    expr = t.group_by([t[by].cast("string").name("unit"), t.family.name("family"),
                       t[tc].date().name("day")]).aggregate(n=_.count())
    df = expr.to_pandas()
    df["day"] = pd.to_datetime(df["day"])
    return df


def alert_levels(
    events: Any,
    *,
    on: Any,
    by: str | Sequence[str] = ("community_id", "station_id"),
    families: Sequence[str] | None = None,
    windows: Sequence[int] = (1, 7),
    weeks: int = 8,
    min_count: int = 3,
    seasonal: bool = True,
    lang: str = "zh",
    taxonomy: Any,
) -> pd.DataFrame:
    """Alert level 0–3 with a reason for every unit × family × window, on day ``on``.

    Parameters
    ----------
    events : Ibis table or DataFrame
        Incidents with ``reported_at`` (or ``t``), ``family`` and the unit columns in ``by``.
    on : date
        The last day of the windows (inclusive).
    by : column name(s)
        Unit levels, e.g. ``community_id`` and ``station_id``; results are stacked with a ``unit_level`` column.
    families : sequence of family codes, optional
        Families to check (default: every family present); ``"all"`` (all incidents together) is always added.
    windows : sequence of int
        Window lengths in days.
    weeks : int
        K, the number of earlier same-weekday windows in the baseline.
    min_count : int
        Smallest count that may raise an alert.
    seasonal : bool
        Apply the year-ago seasonal ratio.
    lang : "zh" or "en"
        Language of the reason.
    taxonomy : Taxonomy
        The deployment's taxonomy (labels of the families in the reasons).

    Returns
    -------
    DataFrame: unit_level, unit_id, family, window_days, observed, baseline, seasonal, expected, ucl95, ucl99,
    p_value, level, level_name, reason — sorted by level (highest first) then p-value.
    """
    if int(weeks) < 1:
        raise ConfigError(f"weeks must be ≥ 1. Got {weeks!r}.", key="weeks")
    if not windows or any(int(w) < 1 or int(w) > 28 for w in windows):
        raise ConfigError(f"windows must be day counts in 1–28. Got {windows!r}.", key="windows")
    day = pd.Timestamp(on).normalize()
    levels = [by] if isinstance(by, str) else list(by)
    wmax = max(int(w) for w in windows)
    span = 7 * int(weeks) + wmax + (364 if seasonal else 0)
    first = day - pd.Timedelta(days=span)
    frames = []
    for level_col in levels:
        counts = daily_counts(events, by=level_col, start=first, end=day + pd.Timedelta(days=1))
        frames.append(_alerts_for(counts, level_col, day, first, families, windows, int(weeks), int(min_count),
                                  seasonal, lang, taxonomy))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out.sort_values(["level", "p_value"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _alerts_for(counts: pd.DataFrame, level_col: str, day: pd.Timestamp, first: pd.Timestamp,
                families: Sequence[str] | None, windows: Sequence[int], weeks: int, min_count: int,
                seasonal: bool, lang: str, taxonomy: Any) -> pd.DataFrame:
    n_days = int((day - first).days) + 1
    fams = sorted(set(counts["family"].dropna())) if families is None else list(families)
    fams = [f for f in fams if f != "all"] + ["all"]
    units = sorted(set(counts["unit"]))
    if not units:
        return pd.DataFrame()
    ui = {u: i for i, u in enumerate(units)}
    fi = {f: i for i, f in enumerate(fams)}
    cube = np.zeros((len(units), len(fams), n_days))
    d = ((counts["day"] - first).dt.days).to_numpy()
    known = counts["family"].isin(fi).to_numpy()
    u_idx = counts["unit"].map(ui).to_numpy()
    np.add.at(cube, (u_idx[known], counts["family"][known].map(fi).to_numpy(), d[known]), counts["n"][known])
    np.add.at(cube, (u_idx, np.full(len(counts), fi["all"]), d), counts["n"].to_numpy())
    total = cube.sum(axis=0)  # district-wide per family and day, for the seasonal ratio
    last = n_days - 1

    def window_sum(arr: np.ndarray, end_idx: int, w: int) -> np.ndarray:
        lo = end_idx - w + 1
        if lo < 0:
            return np.full(arr.shape[:-1], np.nan)
        return arr[..., lo:end_idx + 1].sum(axis=-1)

    rows = []
    for w in (int(x) for x in windows):
        obs = window_sum(cube, last, w)
        past = np.stack([window_sum(cube, last - 7 * k, w) for k in range(1, weeks + 1)], axis=-1)
        k_eff = np.sum(np.isfinite(past[0, 0]))
        base = (np.nansum(past, axis=-1) + 0.5) / max(k_eff, 1)
        season = np.ones(len(fams))
        ly = last - 364  # the same weekday one year earlier
        if seasonal and ly - 7 * weeks - w + 1 >= 0:
            weeks_in = 7 * (-(-w // 7) + 2)  # whole weeks around the window, ±1 week: smooth and weekday-balanced
            lo_t = ly + 7 - weeks_in + 1
            ly_rate = total[:, lo_t:ly + 8].sum(axis=-1) / weeks_in
            base_lo = ly - 7 * weeks - w + 1
            ly_base_rate = total[:, base_lo:ly - w + 1].sum(axis=-1) / (ly - w + 1 - base_lo)
            season = np.clip((ly_rate * weeks_in + 5.0) / (ly_base_rate * weeks_in + 5.0), 2.0 / 3.0, 1.5)
        expected = base * season[None, :]
        p = stats.poisson.sf(obs - 1, expected)
        ucl95 = stats.poisson.ppf(1 - 0.05, expected) + 1
        ucl99 = stats.poisson.ppf(1 - 0.01, expected) + 1
        ucl999 = stats.poisson.ppf(1 - 0.001, expected) + 1
        for u, unit in enumerate(units):
            for f, fam in enumerate(fams):
                o = float(obs[u, f])
                if k_eff == 0:
                    lvl, reason = 0, "历史不足,无法计算基线" if lang == "zh" else "not enough history for a baseline"
                    rows.append(_row(level_col, unit, fam, w, o, np.nan, 1.0, np.nan, np.nan, np.nan, 1.0, 0,
                                     reason, lang))
                    continue
                pv = float(p[u, f])
                lvl = sum(pv < a for a in _ALPHAS) if (o >= min_count and o > expected[u, f]) else 0
                limit = float((ucl95, ucl95, ucl99, ucl999)[lvl][u, f])
                reason = _reason(fam, w, o, float(base[u, f]), float(season[f]), float(expected[u, f]),
                                 limit, lvl, int(k_eff), day, lang, taxonomy)
                rows.append(_row(level_col, unit, fam, w, o, float(base[u, f]), float(season[f]),
                                 float(expected[u, f]), float(ucl95[u, f]), float(ucl99[u, f]), pv, lvl, reason,
                                 lang))
    return pd.DataFrame(rows)


def _row(level_col: str, unit: str, fam: str, w: int, obs: float, base: float, season: float, expected: float,
         ucl95: float, ucl99: float, p: float, lvl: int, reason: str, lang: str) -> dict[str, Any]:
    return {
        "unit_level": level_col, "unit_id": unit, "family": fam, "window_days": w, "observed": int(obs),
        "baseline": base, "seasonal": season, "expected": expected, "ucl95": ucl95, "ucl99": ucl99,
        "p_value": p, "level": int(lvl), "level_name": LEVELS[int(lvl)][0 if lang == "zh" else 1], "reason": reason,
    }


def _reason(fam: str, w: int, obs: float, base: float, season: float, expected: float, limit: float,
            lvl: int, weeks: int, day: pd.Timestamp, lang: str, taxonomy: Any) -> str:
    """The reason in words; ``limit`` is the control limit of the level reached (95 % for level 0)."""
    label = category_label(fam, taxonomy, lang)
    pct = (obs / expected - 1.0) * 100.0 if expected > 0 else float("inf")
    conf = {1: "95%", 2: "99%", 3: "99.9%"}.get(lvl, "")
    if lang == "zh":
        when = f"当日({day.month}月{day.day}日 周{_WEEKDAYS_ZH[day.weekday()]})" if w == 1 else f"近{w}日"
        same = "同一星期几" if w == 1 else "同期"
        s = f",季节系数{season:.2f}" if abs(season - 1.0) > 1e-9 else ""
        head = f"{when}{label}警情{obs:.0f}起,基线{expected:.1f}起(前{weeks}周{same}均值{base:.1f}起{s})"
        if lvl == 0:
            return f"{head},未超过95%控制上限({limit:.0f}起)"
        return f"{head},较基线高出{pct:.0f}%,达到{conf}控制上限({limit:.0f}起)"
    when = f"on {day:%Y-%m-%d} ({day:%a})" if w == 1 else f"in the last {w} days"
    s = f", seasonal factor {season:.2f}" if abs(season - 1.0) > 1e-9 else ""
    head = (f"{label} incidents {when}: {obs:.0f}, expected {expected:.1f} "
            f"(mean of the same window in the previous {weeks} weeks {base:.1f}{s})")
    if lvl == 0:
        return f"{head}; below the 95% control limit ({limit:.0f})"
    return f"{head}; {pct:.0f}% above baseline, at or over the {conf} control limit ({limit:.0f})"
