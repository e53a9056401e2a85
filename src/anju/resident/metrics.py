"""Resident-service analytics: per-department handling times and SLA compliance, reopen rate, satisfaction with
intervals, reports versus 110 dispute calls per community and month, mediation outcomes.

Pure functions over pandas tables (the work orders come from the ops database, the 110 counts from the lake); they
print nothing and read nothing. Every page and export shows these numbers, computed once here.

Shares come with 95 % Wilson score intervals (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it over the Wald
interval for small counts), so a department rated by five residents is not ranked above one rated by five hundred.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["department_performance", "diversion_by_community_month", "mediation_outcomes", "wilson_interval"]


def wilson_interval(k: object, n: object, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes in ``n`` trials (arrays); NaN where ``n`` is 0.

    >>> lo, hi = wilson_interval(8, 10)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.49, 0.943)
    """
    kk = np.asarray(k, dtype=float)
    nn = np.asarray(n, dtype=float)
    z = norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = kk / nn
        den = 1 + z * z / nn
        centre = (p + z * z / (2 * nn)) / den
        half = z * np.sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / den
    lo = np.where(nn > 0, centre - half, np.nan)
    hi = np.where(nn > 0, centre + half, np.nan)
    return lo, hi


def department_performance(orders: pd.DataFrame, *, now: pd.Timestamp) -> pd.DataFrame:
    """Per department: orders, median hours to sign and to close, SLA compliance, reopen rate, satisfaction.

    ``orders`` has one row per work order with ``department``, ``created_at``, ``signed_at``, ``closed_at``,
    ``deadline`` (timestamps, NaT when not reached), ``reopened`` (count) and ``satisfied`` (True / False / None).
    An order meets its SLA when it was closed by its deadline; an open order past its deadline counts as missed;
    open orders still within their deadline are not counted yet.
    """
    df = orders.copy()
    for c in ("created_at", "signed_at", "closed_at", "deadline"):
        df[c] = pd.to_datetime(df[c], utc=True)
    now_utc = pd.Timestamp(now).tz_convert("UTC") if pd.Timestamp(now).tzinfo else pd.Timestamp(now, tz="UTC")
    df["h_sign"] = (df["signed_at"] - df["created_at"]).dt.total_seconds() / 3600
    df["h_close"] = (df["closed_at"] - df["created_at"]).dt.total_seconds() / 3600
    closed = df["closed_at"].notna()
    df["sla_due"] = closed | (df["deadline"] < now_utc)
    df["sla_met"] = closed & (df["closed_at"] <= df["deadline"])
    df["was_reopened"] = df["reopened"].fillna(0) > 0
    sat = df["satisfied"].astype("object")
    df["rated"] = sat.notna()
    df["happy"] = sat.eq(True)
    g = df.groupby("department", sort=True)
    out = pd.DataFrame({
        "orders": g.size(),
        "closed": g["closed_at"].count(),
        "median_hours_to_sign": g["h_sign"].median(),
        "median_hours_to_close": g["h_close"].median(),
        "sla_due": g["sla_due"].sum(),
        "sla_met": g["sla_met"].sum(),
        "reopened": g["was_reopened"].sum(),
        "rated": g["rated"].sum(),
        "satisfied": g["happy"].sum(),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sla_rate"] = out["sla_met"] / out["sla_due"].where(out["sla_due"] > 0)
        out["reopen_rate"] = out["reopened"] / out["closed"].where(out["closed"] > 0)
        out["satisfaction"] = out["satisfied"] / out["rated"].where(out["rated"] > 0)
    out["satisfaction_lo"], out["satisfaction_hi"] = wilson_interval(out["satisfied"], out["rated"])
    out["sla_lo"], out["sla_hi"] = wilson_interval(out["sla_met"], out["sla_due"])
    return out.reset_index()


def diversion_by_community_month(reports: pd.DataFrame, calls: pd.DataFrame) -> pd.DataFrame:
    """Plate reports and 110 dispute calls per community and month, and the share diverted from 110.

    ``reports``: ``community_code``, ``created_at``, ``police`` (bool: routed to the police). ``calls``:
    ``community_code``, ``month`` (``YYYY-MM``), ``dispute_calls`` (from the lake). The diverted share is the
    non-police plate reports over those plus the 110 dispute calls: how much of the dispute demand reached the
    responsible body without a police call.
    """
    r = reports.copy()
    r["month"] = pd.to_datetime(r["created_at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m")
    r["diverted"] = ~r["police"].astype(bool)
    g = r.groupby(["community_code", "month"]).agg(reports=("diverted", "size"), diverted=("diverted", "sum"))
    c = calls.groupby(["community_code", "month"])["dispute_calls"].sum()
    out = g.join(c, how="outer").fillna(0).astype("int64")
    den = out["diverted"] + out["dispute_calls"]
    out["diverted_share"] = (out["diverted"] / den.where(den > 0)).astype(float)
    return out.reset_index().sort_values(["community_code", "month"], ignore_index=True)


def mediation_outcomes(referrals: pd.DataFrame) -> pd.DataFrame:
    """Per outcome of the mediation referrals (``outcome``; None = pending): count and share of decided ones, with
    the settled share's Wilson interval in the ``settled`` row."""
    dec = referrals["outcome"].dropna()
    counts = dec.value_counts().rename_axis("outcome").reset_index(name="n")
    total = int(counts["n"].sum())
    counts["share"] = counts["n"] / total if total else np.nan
    lo, hi = wilson_interval(counts["n"], np.full(len(counts), total))
    counts["lo"], counts["hi"] = lo, hi
    pending = int(referrals["outcome"].isna().sum())
    return pd.concat([counts, pd.DataFrame([{"outcome": "pending", "n": pending, "share": np.nan, "lo": np.nan,
                                             "hi": np.nan}])], ignore_index=True)
