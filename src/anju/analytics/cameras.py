"""Camera (技防探头) status per community and month: uptime, fault rate, open faults, repair times.

Inputs: an inventory (``community_id, camera_id, installed_at`` [, ``removed_at``]) and fault reports
(``camera_id, reported_at`` [, ``repaired_at``]; an empty repair time means still broken). A camera is *down* from
the report of a fault to its repair. For a month, uptime = 1 − down camera-time / installed camera-time, the fault
rate is the share of installed cameras down at the end of the month (the 上海康城 story: 107 cameras, under 20
working, is a fault rate above 80 %), and new faults / repairs are counted in the month. Interval overlaps are
computed on arrays (no loop over cameras).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anju.analytics._common import AnalyticsError, as_period
from anju.analytics.periods import Period

__all__ = ["camera_status"]


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, errors="coerce", format="mixed").astype("datetime64[ns]")


def camera_status(inventory: pd.DataFrame, faults: pd.DataFrame, month: Period | str) -> pd.DataFrame:
    """Per-community camera figures for ``month``.

    Returns ``community_id``, ``cameras`` (installed during the whole or part of the month), ``faulty_end``
    (down at the end of the month), ``camera_fault_rate`` (= faulty_end / cameras), ``camera_uptime``,
    ``new_faults``, ``repaired`` and ``mean_repair_days`` (of faults repaired in the month).

    Examples
    --------
    >>> inv = pd.DataFrame({"community_id": ["c", "c"], "camera_id": ["k1", "k2"],
    ...                     "installed_at": ["2020-01-01", "2020-01-01"]})
    >>> f = pd.DataFrame({"camera_id": ["k1"], "reported_at": ["2025-11-16"], "repaired_at": [None]})
    >>> camera_status(inv, f, "2025-11")[["cameras", "faulty_end", "camera_fault_rate", "camera_uptime"]
    ...                                  ].to_dict("records")
    [{'cameras': 2, 'faulty_end': 1, 'camera_fault_rate': 0.5, 'camera_uptime': 0.75}]
    """
    for df, cols, what in ((inventory, ("community_id", "camera_id", "installed_at"), "camera inventory"),
                           (faults, ("camera_id", "reported_at"), "camera fault")):
        absent = [c for c in cols if c not in df.columns]
        if absent:
            raise AnalyticsError(f"the {what} table lacks {', '.join(absent)}")
    p = as_period(month)
    t0, t1 = pd.Timestamp(p.start), pd.Timestamp(p.end)
    inv = inventory.drop_duplicates("camera_id").copy()
    inv["installed_at"] = _ts(inv["installed_at"])
    inv["removed_at"] = _ts(inv["removed_at"]) if "removed_at" in inv.columns else pd.NaT
    a = inv["installed_at"].clip(lower=t0)
    b = inv["removed_at"].fillna(t1).clip(upper=t1)
    inv["live_s"] = np.maximum((b - a).dt.total_seconds().fillna(0.0), 0.0)
    inv = inv[inv["live_s"] > 0]
    end_live = (inv["installed_at"] < t1) & (inv["removed_at"].isna() | (inv["removed_at"] >= t1))

    f = faults[faults["camera_id"].isin(inv["camera_id"])].copy()
    f["reported_at"] = _ts(f["reported_at"])
    f["repaired_at"] = _ts(f["repaired_at"]) if "repaired_at" in f.columns else pd.NaT
    bad = f["repaired_at"].notna() & (f["repaired_at"] < f["reported_at"])
    if bad.any():
        raise AnalyticsError(f"{int(bad.sum())} camera faults are repaired before they were reported "
                             f"(first: camera {f.loc[bad, 'camera_id'].iloc[0]}); fix the fault records")
    fa = f["reported_at"].clip(lower=t0)
    fb = f["repaired_at"].fillna(t1).clip(upper=t1)
    f["down_s"] = np.maximum((fb - fa).dt.total_seconds().fillna(0.0), 0.0)
    f["open_end"] = (f["reported_at"] < t1) & (f["repaired_at"].isna() | (f["repaired_at"] >= t1))
    f["new"] = (f["reported_at"] >= t0) & (f["reported_at"] < t1)
    f["fixed"] = f["repaired_at"].notna() & (f["repaired_at"] >= t0) & (f["repaired_at"] < t1)
    f["repair_days"] = np.where(f["fixed"], (f["repaired_at"] - f["reported_at"]).dt.total_seconds() / 86400,
                                np.nan)
    cam = f.groupby("camera_id").agg(down_s=("down_s", "sum"), open_end=("open_end", "any"))
    inv = inv.set_index("camera_id")
    inv["down_s"] = np.minimum(cam["down_s"].reindex(inv.index).fillna(0.0), inv["live_s"])
    inv["faulty_end"] = cam["open_end"].reindex(inv.index).fillna(False).astype(bool) & end_live.to_numpy()
    f["community_id"] = f["camera_id"].map(inv["community_id"])
    gi = inv.groupby("community_id").agg(cameras=("live_s", "size"), live_s=("live_s", "sum"),
                                         down_s=("down_s", "sum"), faulty_end=("faulty_end", "sum"))
    gf = f.groupby("community_id").agg(new_faults=("new", "sum"), repaired=("fixed", "sum"),
                                       mean_repair_days=("repair_days", "mean"))
    out = gi.join(gf)
    for c in ("new_faults", "repaired", "faulty_end", "cameras"):
        out[c] = out[c].fillna(0).astype("int64")
    out["camera_uptime"] = (1 - out["down_s"] / out["live_s"]).round(4)
    out["camera_fault_rate"] = (out["faulty_end"] / out["cameras"]).round(4)
    out["mean_repair_days"] = out["mean_repair_days"].round(1)
    return out.reset_index()[["community_id", "cameras", "faulty_end", "camera_fault_rate", "camera_uptime",
                              "new_faults", "repaired", "mean_repair_days"]]
