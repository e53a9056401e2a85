"""The daily briefing (每日警情通报与勤务方案): per station, the alert level of each community and police district
with its reason, the 三高 and a patrol plan per shift — contiguous patrol areas, hot boxes with Koper stops and the
number of units assumed ("等级运行、动态布警", 警力跟着警情走).

Everything is computed from data before the briefing day (the alerts look at the day before it), so re-running a
day gives the same briefing (the stop lengths are drawn from a generator seeded by day, station and shift).

It reuses the analytics that exist: :func:`anju.forecast.alerts.alert_levels` (Poisson control limits),
:func:`anju.forecast.threehighs.three_highs`, :class:`anju.forecast.models.ProspectiveHotspot` (the shift's risk
surface), :func:`anju.forecast.patrol.koper_schedule` (10–16-minute stops revisited within two hours) and
:func:`anju.duty.districting.patrol_districts` (SKATER, spopt).
"""

from __future__ import annotations

import tomllib
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, Field, ValidationError

from anju.analytics.timeofday import timed_mask
from anju.config import read_config_text
from anju.duty.districting import patrol_districts
from anju.duty.dosage import PLAN_COLUMNS
from anju.errors import ConfigError
from anju.forecast.alerts import LEVELS, alert_levels
from anju.forecast.events import Window, parse_shift
from anju.forecast.models import ProspectiveHotspot
from anju.forecast.patrol import koper_schedule
from anju.forecast.threehighs import three_highs
from anju.geo.regular_grid import RegularGrid
from anju.taxonomy import Taxonomy

__all__ = ["Briefing", "BriefingConfig", "build_briefing", "history_days", "load_briefing_config"]


class AlertConfig(BaseModel):
    model_config = {"extra": "forbid"}
    windows: list[int] = Field(default_factory=lambda: [1, 7])
    weeks: int = 8
    min_count: int = 3
    levels: list[str] = Field(default_factory=lambda: ["community_id", "police_district_id"])


class ThreeHighsConfig(BaseModel):
    model_config = {"extra": "forbid"}
    days: int = Field(default=28, ge=1)
    top: int = Field(default=5, ge=1)
    hour_band: int = 2


class SurgeConfig(BaseModel):
    model_config = {"extra": "forbid"}
    level: int = Field(default=2, ge=1, le=3)
    units: int = Field(default=1, ge=0)


class PatrolConfig(BaseModel):
    model_config = {"extra": "forbid"}
    shifts: list[str] = Field(default_factory=lambda: ["day", "evening", "night"])
    cell_size_m: float = Field(default=150.0, gt=10)
    lookback_days: float = Field(default=56.0, gt=0)
    bandwidth_m: float = Field(default=400.0, gt=0)
    stop_minutes: tuple[float, float] = (10.0, 16.0)
    revisit_minutes: float = 120.0
    speed_kmh: float = Field(default=15.0, gt=0)
    risk_weight: float = Field(default=1.0, ge=0)
    min_communities: int = Field(default=2, ge=1)
    units: dict[str, int] = Field(default_factory=lambda: {"day": 2, "evening": 3, "night": 2})
    surge: SurgeConfig = Field(default_factory=lambda: SurgeConfig())


class BriefingConfig(BaseModel):
    """The briefing's rules (``anju/duty/data/briefing.toml``)."""

    model_config = {"extra": "forbid"}
    alerts: AlertConfig = Field(default_factory=lambda: AlertConfig())
    three_highs: ThreeHighsConfig = Field(default_factory=lambda: ThreeHighsConfig())
    patrol: PatrolConfig = Field(default_factory=lambda: PatrolConfig())


def load_briefing_config(path: str | Path | None = None) -> BriefingConfig:
    """Read and validate a briefing configuration (the shipped default when ``path`` is None)."""
    if path is None:
        text = resources.files("anju.duty").joinpath("data/briefing.toml").read_text(encoding="utf-8")
        where: Any = "anju/duty/data/briefing.toml"
    else:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"briefing configuration not found: {p}.", key="config")
        text, where = read_config_text(p), p
    try:
        cfg = BriefingConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=where,
                          zh=f"不是有效的 TOML（{exc}）；请修正该行") from None
    except ValidationError as exc:
        e = exc.errors()[0]
        raise ConfigError(f"{e['msg']}; got {e.get('input')!r}", path=where,
                          key=".".join(str(x) for x in e["loc"])) from None
    for s in cfg.patrol.shifts:
        sh = parse_shift(s)
        if sh is None or sh.name not in cfg.patrol.units:
            raise ConfigError(f"shift {s!r} needs a unit count under [patrol.units].", path=where, key="patrol.units")
    return cfg


def history_days(cfg: BriefingConfig) -> int:
    """How many days before the briefing day the events must cover (alert baseline + seasonal year + forecast)."""
    a = cfg.alerts
    return int(max(7 * a.weeks + max(a.windows) + 364 + 14, cfg.patrol.lookback_days + 1, cfg.three_highs.days))


@dataclass
class Briefing:
    """One day's briefing. Tables are pandas DataFrames; :meth:`to_dict` gives the JSON form."""

    day: pd.Timestamp
    alerts: pd.DataFrame  # one row per community / police district: the highest level and its reason
    stations: pd.DataFrame  # station_id, level, level_name, units per shift
    three_highs: dict[str, dict[str, pd.DataFrame]]
    areas: pd.DataFrame  # station_id, shift, unit, community_id, risk
    plan: pd.DataFrame  # PLAN_COLUMNS + community_id, cell_id, risk
    stops: pd.DataFrame  # the Koper schedule: unit, visit, box_id, arrive, depart, stop_minutes
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (records; timestamps as ISO strings)."""
        def rec(df: pd.DataFrame) -> list[dict[str, Any]]:
            out = df.copy()
            for c in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[c]):
                    out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%S")
            return [{k: _plain(v) for k, v in r.items()} for r in out.to_dict("records")]

        return {
            "day": f"{self.day:%Y-%m-%d}", "meta": self.meta, "stations": rec(self.stations),
            "alerts": rec(self.alerts), "three_highs": {s: {k: rec(v) for k, v in d.items()}
                                                        for s, d in self.three_highs.items()},
            "areas": rec(self.areas), "plan": rec(self.plan), "stops": rec(self.stops),
        }


def _plain(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else round(float(v), 6)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _unit_alerts(al: pd.DataFrame, station_of: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The highest level per unit (ties: smallest p-value), with its station."""
    if al.empty:
        return pd.DataFrame(columns=["unit_level", "unit_id", "station_id", "level", "level_name", "family",
                                     "window_days", "observed", "expected", "p_value", "reason"])
    top = al.sort_values(["unit_level", "unit_id", "level", "p_value"], ascending=[True, True, False, True],
                         kind="stable").groupby(["unit_level", "unit_id"], sort=True).head(1)
    top = top.assign(station_id=[station_of.get(lv, {}).get(u) for lv, u in zip(top["unit_level"], top["unit_id"],
                                                                                   strict=True)])
    cols = ["unit_level", "unit_id", "station_id", "level", "level_name", "family", "window_days", "observed",
            "expected", "p_value", "reason"]
    return top[cols].sort_values(["level", "p_value", "unit_level", "unit_id"], ascending=[False, True, True, True],
                                 kind="stable").reset_index(drop=True)


def build_briefing(events: pd.DataFrame, communities: pd.DataFrame, day: Any, *,
                   taxonomy: Taxonomy, config: BriefingConfig | None = None, lang: str = "zh") -> Briefing:
    """The briefing for ``day`` from incidents before it.

    Parameters
    ----------
    events : DataFrame
        Incidents with reported_at, family, category, x, y (metric), community_id, police_district_id, station_id;
        at least :func:`history_days` days before ``day`` for seasonal alerts (less history just switches the
        seasonal factor off for the missing year).
    communities : DataFrame
        community_id, station_id, geometry (shapely polygons in the same metric CRS as x/y), optionally name.
    day : date of the briefing.
    """
    cfg = config or BriefingConfig()
    d = pd.Timestamp(day).normalize()
    need = ["reported_at", "family", "category", "x", "y", "community_id", "station_id"]
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise ConfigError(f"the briefing needs incident columns {need}; missing {missing}.", key="events")
    ev = events[pd.to_datetime(events["reported_at"]) < d]
    if ev.empty:
        raise ConfigError(f"no incidents before {d:%Y-%m-%d}: a briefing needs history.", key="events")
    com = communities.reset_index(drop=True)
    station_of: dict[str, dict[str, str]] = {}
    for lv in cfg.alerts.levels:
        if lv in ev.columns:
            m = ev.dropna(subset=[lv, "station_id"]).groupby(lv)["station_id"].agg(lambda s: s.mode().iloc[0])
            station_of[lv] = {str(k): str(v) for k, v in m.items()}
    station_of["community_id"] = {str(c): str(s) for c, s in zip(com["community_id"], com["station_id"], strict=True)}
    levels = [lv for lv in cfg.alerts.levels if lv in ev.columns]
    al = alert_levels(ev, on=d - pd.Timedelta(days=1), by=levels, windows=cfg.alerts.windows,
                      weeks=cfg.alerts.weeks, min_count=cfg.alerts.min_count, lang=lang, taxonomy=taxonomy)
    alerts = _unit_alerts(al, station_of)

    stations = sorted(com["station_id"].dropna().astype(str).unique())
    st_level = {s: int(alerts.loc[alerts["station_id"] == s, "level"].max()) if (alerts["station_id"] == s).any()
                else 0 for s in stations}
    shifts = [parse_shift(s) for s in cfg.patrol.shifts]
    st_rows = []
    for s in stations:
        surge = cfg.patrol.surge.units if st_level[s] >= cfg.patrol.surge.level else 0
        row: dict[str, Any] = {"station_id": s, "level": st_level[s],
                               "level_name": LEVELS[st_level[s]][0 if lang == "zh" else 1]}
        for sh in shifts:
            assert sh is not None
            row[f"units_{sh.name}"] = cfg.patrol.units[sh.name] + surge
        st_rows.append(row)
    st_df = pd.DataFrame(st_rows)

    th_start = d - pd.Timedelta(days=cfg.three_highs.days)
    th: dict[str, dict[str, pd.DataFrame]] = {}
    for s in stations:
        sel = ev[(ev["station_id"] == s) & (pd.to_datetime(ev["reported_at"]) >= th_start)]
        if sel.empty:
            continue
        r = three_highs(sel, start=th_start, end=d, station=s, top=cfg.three_highs.top,
                        hour_band=cfg.three_highs.hour_band, lang=lang, taxonomy=taxonomy)
        th[s] = {"areas": r.areas, "hours": r.hours, "categories": r.categories, "combos": r.combos}

    area_frames, plan_frames, stop_frames = [], [], []
    recent = ev[pd.to_datetime(ev["reported_at"]) >= d - pd.Timedelta(days=cfg.patrol.lookback_days + 1)]
    for s in stations:
        c = com[com["station_id"].astype(str) == s]
        geoms = np.asarray(c["geometry"].to_list(), dtype=object)
        union = shapely.union_all(geoms)
        bx0, by0, bx1, by1 = union.bounds
        grid = RegularGrid.from_bounds(bx0, by0, bx1, by1, cfg.patrol.cell_size_m).restrict_to(union)
        xc, yc = grid.centres()
        cell_comm = np.full(grid.n_cells, -1)
        for i, g in enumerate(geoms):
            cell_comm[shapely.contains_xy(g, xc.ravel(), yc.ravel())] = i
        sev = recent[recent["station_id"] == s].rename(columns={"reported_at": "t"})
        for sh in shifts:
            assert sh is not None
            units = int(st_df.loc[st_df["station_id"] == s, f"units_{sh.name}"].iloc[0])
            start = d + pd.Timedelta(hours=sh.start_hour)
            window = Window(start, start + pd.Timedelta(hours=sh.hours))
            if sev.empty:
                surface = np.zeros(grid.shape)
            else:
                model = ProspectiveHotspot(bandwidth_m=cfg.patrol.bandwidth_m, lookback_days=cfg.patrol.lookback_days,
                                           shift=sh.name, shift_weight=0.25).fit(sev)
                surface = np.where(grid.mask, model.predict(grid, window), 0.0)
            flat = surface.ravel()
            comm_risk = np.bincount(cell_comm[cell_comm >= 0], flat[cell_comm >= 0], minlength=len(c))
            districts = patrol_districts(c["community_id"].astype(str).tolist(), geoms, comm_risk, units,
                                         risk_weight=cfg.patrol.risk_weight,
                                         min_communities=cfg.patrol.min_communities)
            area_of_comm = districts["area"].to_numpy()
            cells_by_area = []
            area_ids = sorted(set(area_of_comm.tolist()))
            for a in area_ids:
                members = np.flatnonzero(area_of_comm == a)
                cells = np.flatnonzero(np.isin(cell_comm, members) & grid.mask.ravel())
                cells_by_area.append(cells)
            # Koper's cycle holds at most revisit / (longest stop + 2 min travel) boxes: hand the schedule only
            # each area's riskiest cells (it tries every prefix, so long lists cost time and change nothing)
            n_boxes = max(1, int(cfg.patrol.revisit_minutes // (cfg.patrol.stop_minutes[1] + 2.0)))
            cells_by_area = [cells[np.argsort(-flat[cells], kind="stable")[:n_boxes]] for cells in cells_by_area]
            keep = [i for i, cells in enumerate(cells_by_area) if cells.size]
            seed = zlib.crc32(f"{d:%Y-%m-%d}|{s}|{sh.name}".encode())
            sched = koper_schedule([cells_by_area[i] for i in keep], surface, grid, start=start, hours=sh.hours,
                                   stop_minutes=(cfg.patrol.stop_minutes[0], cfg.patrol.stop_minutes[1]), revisit_minutes=cfg.patrol.revisit_minutes,
                                   speed_kmh=cfg.patrol.speed_kmh, random_state=seed)
            sched["area"] = [area_ids[keep[u - 1]] for u in sched["unit"]]
            unit_label = [f"{s}-{sh.name}-{a}" for a in sched["area"]]
            sched = sched.assign(station_id=s, shift=sh.name, unit=unit_label,
                                 box_id=[f"{s}-{sh.name}-{cid}" for cid in sched["cell_id"]])
            stop_frames.append(sched)
            area_frames.append(districts.assign(station_id=s, shift=sh.name,
                                                unit=[f"{s}-{sh.name}-{a}" for a in districts["area"]]))
            if len(sched):
                g = sched.groupby(["unit", "box_id", "cell_id"], sort=True).agg(
                    x=("x", "first"), y=("y", "first"), planned_minutes=("stop_minutes", "sum"),
                    planned_visits=("visit", "count"), risk=("risk", "first")).reset_index()
                cid_idx = cell_comm[g["cell_id"].to_numpy()]
                g = g.assign(
                    plan_id=[f"{d:%Y%m%d}-{b}" for b in g["box_id"]], station_id=s, shift=sh.name,
                    shift_start=window.start, shift_end=window.end,
                    radius_m=cfg.patrol.cell_size_m / np.sqrt(2.0),
                    community_id=[str(c["community_id"].iloc[i]) if i >= 0 else None for i in cid_idx])
                plan_frames.append(g)
    plan = (pd.concat(plan_frames, ignore_index=True) if plan_frames
            else pd.DataFrame(columns=[*PLAN_COLUMNS, "community_id", "cell_id", "risk"]))
    plan = plan[[*PLAN_COLUMNS, "community_id", "cell_id", "risk"]]
    areas = pd.concat(area_frames, ignore_index=True) if area_frames else pd.DataFrame()
    stops = pd.concat(stop_frames, ignore_index=True) if stop_frames else pd.DataFrame()
    if len(stops):
        stops = stops[["station_id", "shift", "unit", "visit", "box_id", "cell_id", "x", "y", "arrive", "depart",
                       "stop_minutes", "risk"]]
    meta = {"data_through": f"{d - pd.Timedelta(days=1):%Y-%m-%d}", "events": len(ev),
            "date_only_excluded": int((~timed_mask(ev)).sum()),  # left out of 三高 hours and shift plans
            "config": cfg.model_dump(mode="json"), "method": "alerts: Poisson control limits; areas: SKATER "
            "(spopt) over communities; stops: Koper 10–16 min, revisit ≤ 2 h"}
    return Briefing(day=d, alerts=alerts, stations=st_df, three_highs=th, areas=areas, plan=plan, stops=stops,
                    meta=meta)
