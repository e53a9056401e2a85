"""Risk profile and progress of a supervised community: the numbers behind "why this community" and "is it working".

:func:`risk_profile` combines the community's dated ops profile (floating share, rental rate, fee collection,
cameras and their fault rate, guards per 1,000 households) with the lake over the 12 months before a date (theft per
1,000 households, night share, leading theft types, repeat addresses) and puts each beside the district median, so
the case file shows in what the community stands out. :func:`progress` follows the goal 同比: the same months since
the opening against a year earlier, with the exact test of :func:`anju.analytics.change.change_table`, the rank among
all communities and whether it left the top N.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from anju.analytics.change import change_table
from anju.analytics.counts import counts_many
from anju.analytics.periods import Period
from anju.analytics.timeofday import PRECISION_COLUMN, timed_mask
from anju.analytics.window import NightWindow
from anju.ops.models import Community, CommunityProfile
from anju.taxonomy import Taxonomy

__all__ = ["district_profiles", "lake_figures", "progress", "risk_profile"]



def district_profiles(session: Session, when: dt.date) -> pd.DataFrame:
    """Every community's profile in force on ``when`` with derived ratios (``camera_fault_rate``,
    ``guards_per_1000``), one row per community code."""
    # one query (not one per community): rows in force order, the last one per community wins — the same rule as
    # :func:`anju.ops.models.profile_as_of` (latest effective date ≤ when, then the last recorded)
    stmt = (select(Community.code, CommunityProfile)
            .join(CommunityProfile, CommunityProfile.community_id == Community.id)
            .where(CommunityProfile.effective_date <= when)
            .order_by(Community.code, CommunityProfile.effective_date, CommunityProfile.recorded_at,
                      CommunityProfile.id))
    latest = {code: p for code, p in session.execute(stmt)}
    df = pd.DataFrame([{"code": code, **p.facts()} for code, p in latest.items()])
    if df.empty:
        return df
    cams = pd.to_numeric(df["cameras"], errors="coerce")
    df["camera_fault_rate"] = np.where(cams > 0, pd.to_numeric(df["cameras_faulty"], errors="coerce") / cams, np.nan)
    hh = pd.to_numeric(df["households"], errors="coerce")
    df["guards_per_1000"] = np.where(hh > 0, pd.to_numeric(df["guards"], errors="coerce") / hh * 1000, np.nan)
    return df


def lake_figures(incidents: ibis.Table, end: dt.date, *, families: Sequence[str] = ("theft",),
                 households: pd.Series | None = None, night: NightWindow | None = None
                 ) -> tuple[pd.DataFrame, dict[str, list[tuple[str, int]]]]:
    """Per-community figures of the 12 months before ``end``: ``count``, ``night_share`` (in the deployment's night
    window ``night``, :attr:`anju.deployment.Deployment.night`; default 21:00–03:00), ``repeat_share`` (calls at
    an address with another call in the window) [, ``rate_households``]; and each community's top 3 leaf codes."""
    start = dt.date(end.year - 1, end.month, end.day) if not (end.month == 2 and end.day == 29) else \
        dt.date(end.year - 1, 2, 28)
    t = incidents.filter((incidents.reported_at >= start) & (incidents.reported_at < end)
                         & incidents.family.isin(list(families)) & incidents.community_id.notnull())
    df = t.select("community_id", "category", "address", "reported_at",
                  *[c for c in (PRECISION_COLUMN,) if c in t.columns]).to_pandas()
    if df.empty:
        return pd.DataFrame(columns=["community_id", "count", "night_share", "repeat_share"]), {}
    ts = pd.to_datetime(df["reported_at"])
    minute = (ts.dt.hour * 60 + ts.dt.minute).to_numpy()
    w = night or NightWindow()
    a, b = w.start_minute, w.end_minute
    inside = ((minute >= a) | (minute < b)) if w.crosses_midnight else ((minute >= a) & (minute < b))
    timed = timed_mask(df)  # a date-only call has no hour: neither night nor day in the night share
    df["night"] = pd.Series(inside.astype(float), index=df.index).where(timed)
    addr = df["address"].fillna("").astype(str)
    df["repeat"] = (addr != "") & df.assign(a=addr).groupby(["community_id", "a"])["a"].transform("size").gt(1)
    g = df.groupby("community_id").agg(count=("night", "size"), night_share=("night", "mean"),
                                       repeat_share=("repeat", "mean"))
    if households is not None:
        hh = households.reindex(g.index).astype(float)
        g["rate_households"] = g["count"] / hh * 1000
    top = (df.groupby(["community_id", "category"]).size().rename("n").reset_index()
           .sort_values(["community_id", "n", "category"], ascending=[True, False, True]))
    leading = {cid: [(str(c), int(n)) for c, n in zip(x["category"].head(3), x["n"].head(3), strict=True)]
               for cid, x in top.groupby("community_id")}
    return g.reset_index(), leading


FIELDS = (
    ("floating_share", "流动人口占比", "Floating population share"),
    ("rental_rate", "出租率", "Rental rate"),
    ("fee_collection_rate", "物业费收缴率", "Property-fee collection rate"),
    ("cameras", "探头数", "Cameras"),
    ("camera_fault_rate", "探头故障率", "Camera fault rate"),
    ("guards_per_1000", "每千户保安", "Guards per 1,000 households"),
    ("rate_households", "近12个月每千户盗窃", "Thefts per 1,000 households (12 months)"),
    ("night_share", "夜间发案占比", "Night share"),
    ("repeat_share", "重复地址发案占比", "Share at repeat addresses"),
)
"""The risk factors of a profile: key, Chinese and English label."""


def risk_profile(session: Session, incidents: ibis.Table, community: Community, when: dt.date, *,
                 families: Sequence[str] = ("theft",), night: NightWindow | None = None) -> dict[str, Any]:
    """The community's risk factors on ``when``, each with the district median (JSON-able, for a snapshot)."""
    prof = district_profiles(session, when)
    hh = prof.set_index("code")["households"] if len(prof) else None
    lake, leading = lake_figures(incidents, when, families=families, households=hh, night=night)
    merged = prof.merge(lake, left_on="code", right_on="community_id", how="outer") if len(prof) else lake.rename(
        columns={"community_id": "code"})
    if "code" not in merged.columns:
        merged["code"] = merged["community_id"]
    merged["code"] = merged["code"].fillna(merged.get("community_id"))
    me = merged[merged["code"] == community.code]
    factors = []
    for key, zh, en in FIELDS:
        if key not in merged.columns:
            continue
        col = pd.to_numeric(merged[key], errors="coerce")
        value = float(pd.to_numeric(me[key], errors="coerce").iloc[0]) if len(me) else float("nan")
        med = float(col.median()) if col.notna().any() else float("nan")
        factors.append({"key": key, "zh": zh, "en": en, "value": None if np.isnan(value) else round(value, 4),
                        "median": None if np.isnan(med) else round(med, 4),
                        "ratio": None if np.isnan(value) or not med else round(value / med, 3)})
    return {"as_of": when.isoformat(), "community": community.code, "name": community.name,
            "families": list(families), "factors": factors,
            "leading_types": leading.get(community.code, []),
            "theft_12m": None if not len(me) or pd.isna(me.get("count", pd.Series([np.nan])).iloc[0])
            else int(me["count"].iloc[0])}


def progress(incidents: ibis.Table, code: str, opened: dt.date, as_of: dt.date, *, families: Sequence[str],
             goal_change: float, taxonomy: Taxonomy, n: int = 10, areas: Any = None) -> dict[str, Any]:
    """Goal tracking 同比: counts from the month of opening to ``as_of`` (exclusive) against the same span a year
    earlier, the exact test, the rank among all communities in the span and whether it left the top ``n``."""
    start = dt.date(opened.year, opened.month, 1)
    if as_of <= start:
        raise ValueError(f"the progress date {as_of} must be after the first month of supervision ({start})")
    span = Period(start, as_of, "range")
    prev = span.same_period_last_year()
    now, last = counts_many(incidents, [span, prev], level="community", by=None, families=list(families),
                            areas=areas, taxonomy=taxonomy)
    now = now[now["area_id"].notna()].sort_values(["count", "area_id"], ascending=[False, True])
    now["rank"] = np.arange(1, len(now) + 1)
    last = last[last["area_id"].notna()]
    c = int(now.loc[now["area_id"] == code, "count"].sum())
    c0 = int(last.loc[last["area_id"] == code, "count"].sum())
    ch = change_table(pd.DataFrame({"count": [c], "count_prev": [c0]}), exposure=span.days,
                      exposure_prev=prev.days, min_total=1).iloc[0]
    rank = int(now.loc[now["area_id"] == code, "rank"].iloc[0]) if (now["area_id"] == code).any() else len(now) + 1
    change = (c - c0) / c0 if c0 else float("nan")
    return {"span": span.code, "comparison": prev.code, "count": c, "count_prev": c0,
            "change": None if np.isnan(change) else round(change, 4),
            "p_value": None if pd.isna(ch.get("p_value")) else float(ch["p_value"]),
            "direction": str(ch.get("direction", "")), "rank": rank, "left_top_n": rank > n, "n": n,
            "goal_change": goal_change, "goal_met": bool(c0 > 0 and change <= goal_change)}
