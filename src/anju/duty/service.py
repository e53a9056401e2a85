"""Duty use cases over a data directory: read the lake and the area layers, run the pure duty functions, and keep
their outputs in ``<data_dir>/duty/`` (briefings, imported tracks and stop-checks).

The briefing of a day is written to ``duty/briefings/<YYYY-MM-DD>/`` (``briefing.json``, ``plan.csv``,
``briefing.xlsx``) by writing aside and renaming, so a reader never sees half a briefing. Re-running a day
recomputes it; the output is identical for the same lake (the daily job is idempotent), and ``force=False`` skips a
day whose briefing exists for the same lake manifest.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anju.analytics.timeofday import PRECISION_COLUMN
from anju.config import Settings
from anju.duty.briefing import Briefing, BriefingConfig, build_briefing, history_days, load_briefing_config
from anju.errors import DataNotFoundError

if TYPE_CHECKING:
    from anju.deployment import Deployment

__all__ = [
    "briefing_dir",
    "briefing_job",
    "clean_stored_tracks",
    "duty_dir",
    "guard_rounds",
    "kpi_tables",
    "load_communities",
    "month_bounds",
    "ops_session_if_any",
    "plans_used",
    "read_briefing",
    "read_events",
    "registry_worklist",
    "run_briefing",
    "stored_adjustments",
    "write_briefing",
]

_EVENT_COLUMNS = ("record_key", "reported_at", "family", "category", "x", "y", "community_id", "police_district_id",
                  "grid_id", "station_id", PRECISION_COLUMN)  # shifts and 三高 leave date-only rows out by it


def duty_dir(settings: Settings) -> Path:
    """``<data_dir>/duty``."""
    return Path(settings.data_dir) / "duty"


def briefing_dir(settings: Settings, day: Any) -> Path:
    """Where the briefing of ``day`` lives."""
    return duty_dir(settings) / "briefings" / f"{pd.Timestamp(day):%Y-%m-%d}"


def load_communities(settings: Settings) -> pd.DataFrame:
    """Communities with station, households and metric geometry, from the loaded area layers.

    A community's station is the station polygon holding its representative point (the layers need not name it).
    """
    import shapely

    from anju.geo.area_layers import project_geometries
    from anju.geo.areas import AreaSet, require_layers

    areas = AreaSet.from_data_dir(settings.data_dir)
    require_layers(areas, "community", "station")
    crs = areas.metric_crs
    assert crs is not None
    com = areas.layers["community"]
    st = areas.layers["station"]
    cg = project_geometries(com.geometries, crs)
    sg = project_geometries(st.geometries, crs)
    rp = shapely.point_on_surface(cg)
    station = np.full(len(com), None, dtype=object)
    for i, g in enumerate(sg):
        station[shapely.contains(g, rp)] = str(st.ids[i])
    attrs = com.attributes.to_pandas()
    out = pd.DataFrame({"community_id": [str(x) for x in com.ids], "name": list(com.names), "station_id": station,
                        "geometry": list(cg)})
    if "households" in attrs.columns:
        out["households"] = pd.to_numeric(attrs["households"], errors="coerce").to_numpy()
    out.attrs["metric_crs"] = crs
    return out


def read_events(settings: Settings, start: Any, end: Any) -> pd.DataFrame:
    """Incidents in ``[start, end)`` with the columns the duty functions use (x/y metric)."""
    from anju.deployment import load_deployment
    from anju.services.lake import open_lake

    with open_lake(load_deployment(settings)) as lake:
        t = lake.incidents()
        t = t.filter(t.reported_at >= pd.Timestamp(start).to_pydatetime(),
                     t.reported_at < pd.Timestamp(end).to_pydatetime())
        df = t.select(*[c for c in _EVENT_COLUMNS if c in t.columns]).to_pandas()
    df["reported_at"] = pd.to_datetime(df["reported_at"])
    return df[np.isfinite(df["x"].to_numpy(float)) & np.isfinite(df["y"].to_numpy(float))]


def _manifest_digest(settings: Settings) -> str:
    import hashlib

    p = settings.paths.manifest
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else ""


def run_briefing(settings: Settings, day: Any, *, config_path: str | Path | None = None, force: bool = False,
                 lang: str | None = None) -> tuple[Briefing | None, Path]:
    """Build and store the briefing of ``day``; returns ``(briefing, folder)`` (briefing None when skipped)."""
    cfg: BriefingConfig = load_briefing_config(config_path)
    d = pd.Timestamp(day).normalize()
    folder = briefing_dir(settings, d)
    digest = _manifest_digest(settings)
    meta_path = folder / "briefing.json"
    if not force and meta_path.exists():
        old = json.loads(meta_path.read_text(encoding="utf-8"))
        if old.get("meta", {}).get("lake_manifest") == digest and old.get("meta", {}).get("config") == \
                cfg.model_dump(mode="json"):
            return None, folder
    events = read_events(settings, d - pd.Timedelta(days=history_days(cfg)), d)
    if events.empty:
        raise DataNotFoundError(f"the lake holds no incidents before {d:%Y-%m-%d}; run `anju ingest` (or "
                                "`anju demo`) first, or choose a later --date.")
    com = load_communities(settings)
    from anju.deployment import load_deployment

    b = build_briefing(events, com, d, config=cfg, lang=lang or settings.lang,
                       taxonomy=load_deployment(settings).taxonomy)
    b.meta["lake_manifest"] = digest
    write_briefing(b, folder)
    return b, folder


def write_briefing(b: Briefing, folder: Path) -> None:
    """Write ``briefing.json``, ``plan.csv`` and ``briefing.xlsx`` into ``folder`` atomically."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        (tmp / "briefing.json").write_text(json.dumps(b.to_dict(), ensure_ascii=False, indent=1, sort_keys=True),
                                           encoding="utf-8")
        b.plan.to_csv(tmp / "plan.csv", index=False, date_format="%Y-%m-%dT%H:%M:%S")
        with pd.ExcelWriter(tmp / "briefing.xlsx", engine="xlsxwriter") as xw:
            b.stations.to_excel(xw, sheet_name="派出所等级", index=False)
            b.alerts.to_excel(xw, sheet_name="预警等级", index=False)
            rows = [df.assign(station_id=s, table=k) for s, d in b.three_highs.items() for k, df in d.items()]
            (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()).to_excel(xw, sheet_name="三高",
                                                                                      index=False)
            b.areas.to_excel(xw, sheet_name="巡区", index=False)
            b.plan.to_excel(xw, sheet_name="巡逻热点", index=False)
            b.stops.to_excel(xw, sheet_name="驻留安排", index=False)
        if folder.exists():
            old = folder.with_name(folder.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_briefing(settings: Settings, day: Any) -> dict[str, Any]:
    """The stored briefing of ``day`` (JSON form)."""
    p = briefing_dir(settings, day) / "briefing.json"
    if not p.exists():
        raise DataNotFoundError(f"no briefing for {pd.Timestamp(day):%Y-%m-%d}; run `anju briefing --date "
                                f"{pd.Timestamp(day):%Y-%m-%d}` first.")
    data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    return data


# ---- patrols, KPIs, registry --------------------------------------------------------------------------------------
def clean_stored_tracks(settings: Settings, start: Any, end: Any, rules: Any = None) -> Any:
    """The imported tracks in ``[start, end)``, cleaned (:func:`anju.duty.tracks.clean_tracks`)."""
    from anju.duty.imports import read_store
    from anju.duty.tracks import clean_tracks

    tr = read_store(settings, "tracks")
    if tr.empty:
        raise DataNotFoundError("no patrol tracks imported; run `anju duty import tracks FILE` (the demo imports "
                                "its own).")
    tr = tr[(tr["t"] >= pd.Timestamp(start)) & (tr["t"] < pd.Timestamp(end))]
    return clean_tracks(tr, rules)


def plans_used(settings: Settings, start: Any, end: Any, adjustments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The plan actually used for shifts starting in ``[start, end)``.

    An imported (issued) plan for a station and shift replaces the briefing's plan for it; shifts with no imported
    plan use the stored briefing's plan with the station's recorded adjustments applied
    (:func:`anju.duty.adjust.apply_adjustments`; ``adjustments`` from :func:`anju.duty.adjust.day_adjustments`).
    """
    from anju.duty.dosage import PLAN_COLUMNS
    from anju.duty.imports import read_store

    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    imported = read_store(settings, "plan")
    frames = []
    if not imported.empty:
        imported = imported[(imported["shift_start"] >= lo) & (imported["shift_start"] < hi)]
        frames.append(imported.assign(source="imported"))
    root = duty_dir(settings) / "briefings"
    for day in pd.date_range(lo.normalize(), hi, freq="D"):
        p = root / f"{day:%Y-%m-%d}" / "plan.csv"
        if p.exists():
            b = pd.read_csv(p, parse_dates=["shift_start", "shift_end"], dtype={"community_id": str})
            b = b[(b["shift_start"] >= lo) & (b["shift_start"] < hi)]
            if adjustments is not None and len(adjustments):
                from anju.duty.adjust import apply_adjustments

                mine = adjustments[pd.to_datetime(adjustments["day"]) == day]
                if len(mine):
                    b = apply_adjustments(b, mine).assign(source="adjusted")
            frames.append(b.assign(source=b.get("source", "briefing")))
    if not frames:
        return pd.DataFrame(columns=[*PLAN_COLUMNS, "source"])
    allp = pd.concat(frames, ignore_index=True)
    allp["shift_start"] = pd.to_datetime(allp["shift_start"])
    key = allp["station_id"].astype(str) + "|" + allp["shift_start"].astype(str)
    has_import = set(key[allp["source"] == "imported"])
    keep = (allp["source"] == "imported") | ~key.isin(has_import)
    return allp[keep].reset_index(drop=True)


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day of ``month`` and of the next month."""
    p = pd.Period(month, freq="M")
    return p.start_time, (p + 1).start_time


def kpi_tables(dep: Deployment, month: str, adjustments: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The input tables of :func:`anju.duty.kpi.compute_kpis` for ``month`` (and the same month a year earlier).

    Takes the :class:`~anju.deployment.Deployment` like the other services: its taxonomy says which call types are
    preventable (the deployment's own taxonomy file when it has one)."""
    from anju.duty.dosage import dosage, visibility
    from anju.duty.imports import read_store

    settings = dep.settings
    lo, hi = month_bounds(month)
    ly_lo, ly_hi = month_bounds(str(pd.Period(month, freq="M") - 12))
    prev = set(dep.taxonomy.codes(preventable=True))
    inc = pd.concat([read_events(settings, ly_lo, ly_hi), read_events(settings, lo, hi)], ignore_index=True)
    inc["month"] = inc["reported_at"].dt.strftime("%Y-%m")
    inc["preventable"] = inc["category"].isin(prev)
    com = load_communities(settings)
    communities = com.drop(columns="geometry")
    station_of = dict(zip(com["community_id"], com["station_id"], strict=True))
    tables: dict[str, pd.DataFrame] = {"incidents": inc, "communities": communities}
    plan = plans_used(settings, lo, hi, adjustments)
    stops = read_store(settings, "stop_checks")
    try:
        track = clean_stored_tracks(settings, lo, hi + pd.Timedelta(hours=8))
    except DataNotFoundError:
        track = None
    if track is not None and len(plan):
        d = dosage(track, plan)
        d["month"] = pd.to_datetime(d["shift_start"]).dt.strftime("%Y-%m")
        tables["dosage"] = d
    else:
        tables["dosage"] = pd.DataFrame(columns=["station_id", "month", "planned_minutes", "credited_minutes"])
    if track is not None and len(track.fixes):
        v = visibility(track, areas=com["community_id"].tolist())
        v = v[(v["day"] >= lo) & (v["day"] < hi)]
        v["station_id"] = v["community_id"].map(station_of)
        v["month"] = v["day"].dt.strftime("%Y-%m")
        tables["visibility"] = v
    else:
        tables["visibility"] = pd.DataFrame(columns=["station_id", "month", "hours_with_visit", "hours"])
    if not stops.empty:
        stops = stops.assign(month=pd.to_datetime(stops["t"]).dt.strftime("%Y-%m"))
    else:
        stops = pd.DataFrame(columns=["check_id", "station_id", "month", "arrest"])
    tables["stop_checks"] = stops
    return tables


def registry_worklist(settings: Settings, as_of: Any, *, lang: str | None = None) -> pd.DataFrame:
    """Registry flags with evidence (:func:`anju.duty.registry.registry_flags`) over the imported registry."""
    from anju.duty.imports import read_store
    from anju.duty.registry import registry_flags

    hh = read_store(settings, "households")
    ut = read_store(settings, "utilities")
    if hh.empty:
        raise DataNotFoundError("no registry imported; run `anju duty import households FILE` and "
                                "`anju duty import utilities FILE`.")
    return registry_flags(hh, ut if not ut.empty else pd.DataFrame(columns=["address_code", "month", "water_m3",
                                                                            "power_kwh"]),
                          as_of=as_of, lang=lang or settings.lang)


def briefing_job(settings: Settings, params: dict[str, Any], report: Any) -> dict[str, Any]:
    """The worker job of the morning briefing (``date``, default today): the same call as ``anju briefing``.

    Signature of an ``anju.worker.jobs`` handler; registered there as the ``briefing`` job kind.
    """
    day = pd.Timestamp(params.get("date") or pd.Timestamp.now().normalize())
    report(0.05, f"building the briefing of {day:%Y-%m-%d}")
    b, folder = run_briefing(settings, day, force=bool(params.get("force", False)))
    return {"day": f"{day:%Y-%m-%d}", "folder": str(folder), "rebuilt": b is not None,
            "plan_rows": None if b is None else len(b.plan)}


def stored_adjustments(settings: Settings, start: Any, end: Any) -> pd.DataFrame | None:
    """Briefing adjustments of the days in ``[start, end)`` from the ops database; None when it has none yet
    (no database file, or not migrated), so the CLI works on a data directory without the platform."""
    from sqlalchemy.exc import SQLAlchemyError

    from anju.ops import db

    url = db.database_url(settings)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    from anju.duty.adjust import day_adjustments

    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            return day_adjustments(session, start, until=pd.Timestamp(end) - pd.Timedelta(days=1))
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


@contextmanager
def ops_session_if_any(settings: Settings) -> Iterator[Any]:
    """A session on the ops database when it exists and is migrated, else None (the CLI works on a data directory
    without the platform)."""
    from sqlalchemy import inspect

    from anju.ops import db

    url = db.database_url(settings)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        yield None
        return
    engine = db.make_engine(url)
    try:
        if "resident_person" not in inspect(engine).get_table_names():
            yield None
            return
        with db.session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def guard_rounds(settings: Settings, community_id: str, *, days: int = 30, last: int = 10) -> dict[str, Any] | None:
    """The property company's guard patrols (电子巡更) of one community over the ``days`` up to the district's latest
    scan: the assessment's own compliance numbers (:func:`anju.analytics.patrol.patrol_compliance`, the one function
    the monthly assessment uses) and the ``last`` rounds with the checkpoints they missed. None without patrol logs.

    One window for every community, so a community whose guards stopped scanning shows its missed rounds instead of
    an older window of its own. All communities are computed at once (≈ 0.5 s at demo scale) and kept until the
    stored patrol tables change (their size and modification time), so a community page does not recompute them.
    """
    from anju.assess.inputs import stored_dir

    folder = stored_dir(settings)
    files = [folder / f"{k}.parquet" for k in ("patrol_plan", "patrol_scans")]
    if not all(f.exists() for f in files):
        return None
    stamp = tuple((st.st_size, st.st_mtime_ns) for st in (f.stat() for f in files))
    every = _guard_rounds_all(str(folder), days, last, stamp)
    return copy.deepcopy(every.get(community_id))


def guard_window(scans: pd.DataFrame, days: int = 30) -> tuple[dt.date, dt.date]:
    """First and last day of the guard-rounds window: the ``days`` up to the latest scan in ``scans``."""
    at = pd.to_datetime(scans["scanned_at"], format="mixed")
    return (at.max() - pd.Timedelta(days=days - 1)).date(), at.max().date()


@lru_cache(maxsize=8)
def _guard_rounds_all(folder: str, days: int, last: int, _stamp: tuple[Any, ...]) -> dict[str, dict[str, Any]]:
    from anju.analytics.patrol import patrol_compliance, patrol_rounds

    plans, scans = (pd.read_parquet(Path(folder) / f"{k}.parquet") for k in ("patrol_plan", "patrol_scans"))
    if plans.empty or scans.empty:
        return {}
    plans["community_id"] = plans["community_id"].astype(str)
    scans["community_id"] = scans["community_id"].astype(str)
    first_day, last_day = guard_window(scans, days)
    scans = scans[pd.to_datetime(scans["scanned_at"], format="mixed").dt.date >= first_day]
    comp = patrol_compliance(scans, plans, first_day, last_day)
    comp = comp.set_index(comp["community_id"].astype(str)) if len(comp) else comp
    rounds = patrol_rounds(scans).sort_values("start", ascending=False)
    planned_of = plans.groupby("community_id")["checkpoints"].first().astype(int).to_dict()
    keys = ("scheduled", "done", "late", "missed", "night_scheduled", "night_missed", "coverage", "fast_scan_share",
            "patrol_compliance", "night_compliance", "guards")
    by_community = {str(c): rs for c, rs in rounds.groupby(rounds["community_id"].astype(str), sort=False)}
    out: dict[str, dict[str, Any]] = {}
    for cid, planned in planned_of.items():  # a planned community without rounds shows its missed rounds too
        row = comp.loc[cid].to_dict() if cid in comp.index else {}
        rs = by_community.get(str(cid), rounds.iloc[:0])
        recent = [{"start": f"{r.start:%Y-%m-%d %H:%M}", "end": f"{r.end:%H:%M}", "guard": str(r.guard_id),
                   "walked": int(r.checkpoints), "missed": max(planned - int(r.checkpoints), 0),
                   "fast_scans": int(r.fast_scans)} for r in rs.head(last).itertuples()]
        out[str(cid)] = {"from": first_day.isoformat(), "to": last_day.isoformat(), "checkpoints": planned,
                         **{k: (None if pd.isna(row.get(k)) else float(row[k])) for k in keys if k in row},
                         "recent": recent}
    return out
