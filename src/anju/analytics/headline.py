"""Headline figures of a release (发布会要点): totals, key families, shares and their changes, each with its test.

Counts are compared with the exact Poisson test of :mod:`anju.analytics.change` (exposure = period days); shares
(the dispute share, the night share) with Fisher's exact test on the 2 × 2 table; the fraud loss is the sum of
:func:`anju.analytics.words.fraud_techniques` (same function, same number) and is not tested.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from anju.analytics._common import as_period, in_period, tag_periods
from anju.analytics.change import VERDICTS, Method, change_table
from anju.analytics.periods import Period, resolve_comparison
from anju.analytics.timeofday import has_time
from anju.analytics.window import NightWindow, as_window
from anju.taxonomy import Taxonomy

__all__ = ["headline"]

_LABELS = {
    "total": ("警情总量", "All calls"),
    "police": ("警务类警情", "Police matters"),
    "preventable": ("可防性案件", "Preventable cases"),
    "theft": ("盗窃类警情", "Theft"),
    "fraud": ("诈骗类警情", "Fraud"),
    "dispute": ("纠纷类警情", "Disputes"),
    "night": ("夜间警情", "Night calls"),
    "dispute_share": ("纠纷类警情占比", "Dispute share"),
    "night_share": ("夜间警情占比", "Night share"),
    "fraud_loss_yuan": ("诈骗损失（元）", "Fraud losses (yuan)"),
}


def _summary(incidents: ir.Table, periods: list[Period], window: NightWindow) -> list[pd.DataFrame]:
    if periods[0] == periods[1] or (periods[0].start < periods[1].end and periods[1].start < periods[0].end):
        out = []
        for p in periods:
            t = in_period(incidents, p)
            t = t.mutate(night=window.expr(t), timed=_timed(t))
            out.append(t.group_by(["category", "family", "night", "timed"]).aggregate(n=ibis._.count()).to_pandas())
        return out
    t = tag_periods(incidents, periods)
    t = t.mutate(night=window.expr(t), timed=_timed(t))
    df = t.group_by(["_period", "category", "family", "night", "timed"]).aggregate(n=ibis._.count()).to_pandas()
    return [df[df["_period"] == i].reset_index(drop=True) for i in range(len(periods))]


def _timed(t: ir.Table) -> ir.BooleanValue:
    """Whether the row carries a time of day (the night share's denominator; see anju.analytics.timeofday)."""
    keep = has_time(t)
    return ibis.literal(True) if keep is None else keep.fill_null(True)


def _metrics(s: pd.DataFrame, tax: Taxonomy) -> dict[str, float]:
    n = s["n"].astype(float)
    police = s["category"].map(lambda c: tax[c].police if c in tax else True).astype(bool)
    prevent = s["category"].map(lambda c: tax[c].preventable if c in tax else False).astype(bool)
    total = float(n.sum())
    m = {
        "total": total,
        "police": float(n[police].sum()),
        "preventable": float(n[prevent].sum()),
        "theft": float(n[s["family"] == "theft"].sum()),
        "fraud": float(n[s["family"] == "fraud"].sum()),
        "dispute": float(n[s["family"] == "dispute"].sum()),
        "night": float(n[s["night"].astype(bool)].sum()),
        "timed": float(n[s["timed"].astype(bool)].sum()),
    }
    return m


def _share_row(name: str, a: float, n: float, a0: float, n0: float, alpha: float) -> dict[str, Any]:
    v = a / n if n else np.nan
    v0 = a0 / n0 if n0 else np.nan
    p = np.nan
    if n and n0:
        p = float(stats.fisher_exact([[a, n - a], [a0, n0 - a0]]).pvalue)
    sig = bool(p < alpha) if np.isfinite(p) else False
    direction = "up" if v > v0 else ("down" if v < v0 else "flat")
    key = (direction if direction != "flat" else "none") if sig else "none"
    return {"metric": name, "unit": "share", "value": v, "value_prev": v0, "change": v - v0, "change_pct": np.nan,
            "p_value": p, "significant": sig, "small": bool(min(a, a0) < 5), "direction": direction,
            "verdict_zh": VERDICTS[key][0], "verdict_en": VERDICTS[key][1]}


def headline(
    incidents: ir.Table,
    period: Period | str,
    *,
    comparison: Period | str | None = "yoy",
    taxonomy: Taxonomy,
    night: NightWindow | str | bool | None = None,
    method: Method = "binom",
    alpha: float = 0.05,
    include_loss: bool = True,
) -> pd.DataFrame:
    """Headline metrics of a period against the comparison period.

    Returns one row per metric (``total``, ``police``, ``preventable``, ``theft``, ``fraud``, ``dispute``,
    ``night``, ``dispute_share``, ``night_share``, ``fraud_loss_yuan``): ``metric``, ``label_zh``, ``label_en``,
    ``unit`` (``count|share|yuan``), ``value``, ``value_prev``, ``change`` (difference; for shares in fractions),
    ``change_pct`` (counts and yuan only), ``p_value``, ``q_value`` (Benjamini–Hochberg over the seven counts, the
    headline's family of tests; NaN for shares and money), ``significant`` (counts: ``q_value < alpha``), ``small``, ``direction``, ``verdict_zh``,
    ``verdict_en``. ``.attrs``: ``period``, ``comparison``, ``window``, ``date_only_excluded`` (rows of the
    period with a date only: not night calls, and left out of the night share's denominator).
    """
    tax = taxonomy
    p = as_period(period)
    c = resolve_comparison(p, comparison) or p.same_period_last_year()
    w = as_window(night if night is not None else True)
    assert w is not None
    s_cur, s_prev = _summary(incidents, [p, c], w)
    cur, prev = _metrics(s_cur, tax), _metrics(s_prev, tax)
    names = ["total", "police", "preventable", "theft", "fraud", "dispute", "night"]
    cnt = pd.DataFrame({"metric": names, "unit": "count", "count": [cur[k] for k in names],
                        "count_prev": [prev[k] for k in names]})
    cnt = change_table(cnt, exposure=p.days, exposure_prev=c.days, method=method, alpha=alpha)
    cnt = cnt.rename(columns={"count": "value", "count_prev": "value_prev"})
    cnt = cnt.drop(columns=["ratio_low_pct", "ratio_high_pct"])
    rows = [
        _share_row("dispute_share", cur["dispute"], cur["total"], prev["dispute"], prev["total"], alpha),
        _share_row("night_share", cur["night"], cur["timed"], prev["night"], prev["timed"], alpha),
    ]
    if include_loss:
        from anju.analytics.words import fraud_techniques

        loss = float(fraud_techniques(incidents, p, taxonomy=tax)["loss_total"].sum())
        loss0 = float(fraud_techniques(incidents, c, taxonomy=tax)["loss_total"].sum())
        rows.append({"metric": "fraud_loss_yuan", "unit": "yuan", "value": loss, "value_prev": loss0,
                     "change": loss - loss0,
                     "change_pct": ((loss / p.days) / (loss0 / c.days) - 1) * 100 if loss0 > 0 else np.nan,
                     "p_value": np.nan, "significant": False, "small": False,
                     "direction": "up" if loss > loss0 else ("down" if loss < loss0 else "flat"),
                     "verdict_zh": "未检验", "verdict_en": "not tested"})
    out = pd.concat([cnt, pd.DataFrame(rows)], ignore_index=True)
    out.insert(1, "label_zh", [_LABELS[m][0] for m in out["metric"]])
    out.insert(2, "label_en", [_LABELS[m][1] for m in out["metric"]])
    out.attrs.update(period=p.code, comparison=c.code, window=w.label(),
                     date_only_excluded=int(cur["total"] - cur["timed"]))
    return out
