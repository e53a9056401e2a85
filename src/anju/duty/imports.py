"""Imports of duty records into ``<data_dir>/duty/``: patrol-unit GPS tracks, stop-and-check (盘查) records, the patrol
plan used, registry households and monthly utility use.

Every row is accounted for: it is loaded, or rejected with its row number (1 = first data row) and a reason; the
report says how many of each. A file is identified by the SHA-256 of its bytes: importing the same file twice
changes nothing. Coordinates may be in WGS-84, GCJ-02 or BD-09 (``crs``); they are stored as WGS-84 lon/lat plus
the deployment's metric x/y and the areas (community, grid, police district, station) they fall in.
Columns are found by their Chinese or English names (``unit``/``巡组``/``车辆``, ``time``/``定位时间``…).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anju.config import Settings
from anju.errors import ConfigError, DataNotFoundError

__all__ = ["ImportResult", "import_file", "read_store"]

KINDS = ("tracks", "stop_checks", "plan", "households", "utilities")

_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "tracks": {"unit": ("unit", "巡组", "车辆", "警组", "车牌"), "t": ("time", "t", "定位时间", "时间"),
               "lon": ("lon", "经度", "longitude"), "lat": ("lat", "纬度", "latitude")},
    "stop_checks": {"check_id": ("check_id", "盘查编号", "编号"), "t": ("time", "t", "盘查时间", "时间"),
                    "lon": ("lon", "经度"), "lat": ("lat", "纬度"), "result": ("result", "盘查结果", "结果"),
                    "arrest": ("arrest", "是否抓获", "抓获")},
    "plan": {c: (c,) for c in ("plan_id", "station_id", "shift", "shift_start", "shift_end", "unit", "box_id", "x",
                               "y", "radius_m", "planned_minutes", "planned_visits")},
    "households": {"household_id": ("household_id", "户编号"), "address_code": ("address_code", "地址编码"),
                   "community_id": ("community_id", "社区编码"), "registered": ("registered", "登记人数"),
                   "last_verified": ("last_verified", "最近核验日期")},
    "utilities": {"address_code": ("address_code", "地址编码"), "month": ("month", "月份"),
                  "water_m3": ("water_m3", "用水"), "power_kwh": ("power_kwh", "用电"), "gas_m3": ("gas_m3", "用气")},
}
_FAR_M = 20_000.0  # fixes further than this from the district's bounding box are rejected
_TRUE = {"是", "true", "1", "yes", "y", "t", "抓获"}
_FALSE = {"否", "false", "0", "no", "n", "f", ""}


@dataclass
class ImportResult:
    """What an import did."""

    kind: str
    path: Path
    sha256: str
    loaded: int = 0
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: bool = False  # the same file was imported before
    persons: pd.DataFrame = field(default_factory=pd.DataFrame)
    """households only: household_id, community_id, name, id_number of the loaded rows that carry them. Never
    written to the duty store; the caller puts them in the ops database (:func:`anju.duty.persons.store_persons`)."""

    @property
    def rows(self) -> int:
        return self.loaded + len(self.rejected)


def _read(path: Path) -> pd.DataFrame:
    from anju.files import reading_table

    with reading_table(path):
        return _read_table(path)


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path, engine="calamine", dtype=str)
    if suffix == ".csv":
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                raw.decode(enc)
            except UnicodeDecodeError:
                continue
            import io

            return pd.read_csv(io.BytesIO(raw), dtype=str, encoding=enc, keep_default_na=False)
        raise ConfigError(f"{path}: neither UTF-8 nor GB18030 text.", key="encoding")
    raise ConfigError(f"{path}: expected a .csv or .xlsx file. Got {suffix!r}.", key="path")


def _columns(df: pd.DataFrame, kind: str, path: Path) -> pd.DataFrame:
    out = {}
    lower = {c.strip().lower(): c for c in df.columns}
    for name, aliases in _ALIASES[kind].items():
        src = next((lower[a.lower()] for a in aliases if a.lower() in lower), None)
        if src is None:
            if kind == "utilities" and name == "gas_m3":
                continue
            raise ConfigError(f"{path}: no column for {name!r}; expected one of {list(aliases)}. Found "
                              f"{list(df.columns)}.", key=name)
        out[name] = df[src]
    if kind == "households":  # optional personal columns, split off in import_file (never stored here)
        from anju.duty.persons import PERSON_COLUMNS

        for name, aliases in PERSON_COLUMNS.items():
            src = next((lower[a.lower()] for a in aliases if a.lower() in lower), None)
            if src is not None:
                out[name] = df[src]
    return pd.DataFrame(out)


def _reject(reason: pd.Series, mask: pd.Series | np.ndarray, text: str) -> None:
    m = np.asarray(mask, dtype=bool) & reason.isna().to_numpy()
    reason[m] = text


def _prepare(settings: Settings, kind: str, df: pd.DataFrame, crs: str) -> tuple[pd.DataFrame, pd.Series]:
    """Typed rows and a reason per row (NA = loaded)."""
    reason = pd.Series(pd.NA, index=df.index, dtype="string")
    if kind in ("tracks", "stop_checks"):
        from anju.geo.areas import AreaSet
        from anju.geo.coords import convert
        from anju.geo.projection import to_metric

        key = "unit" if kind == "tracks" else "check_id"
        _reject(reason, df[key].fillna("").str.strip() == "", f"缺少{'巡组' if kind == 'tracks' else '编号'} / missing {key}")
        t = pd.to_datetime(df["t"], errors="coerce", format="mixed")
        _reject(reason, t.isna(), "时间无法解析 / unparseable time")
        lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)
        _reject(reason, ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lat) > 90) | (np.abs(lon) > 180),
                "坐标无效 / invalid coordinates")
        ok = reason.isna().to_numpy()
        wlon, wlat = np.full(len(df), np.nan), np.full(len(df), np.nan)
        if ok.any():
            a, b = convert(lon[ok], lat[ok], crs, "wgs84")
            wlon[ok], wlat[ok] = a, b
        areas = AreaSet.from_data_dir(settings.data_dir)
        assigned = areas.assign(np.nan_to_num(wlon, nan=0.0), np.nan_to_num(wlat, nan=0.0),
                                max_distance_m=settings.nearest_threshold_m)
        mcrs = areas.metric_crs
        assert mcrs is not None
        x, y = to_metric(np.nan_to_num(wlon), np.nan_to_num(wlat), mcrs)
        # a patrol may leave the district for a moment (fixes kept, no community); a fix far away is bad data
        box = areas.bounds
        assert box is not None
        bx, by = to_metric(np.array([box[0], box[2]]), np.array([box[1], box[3]]), mcrs)
        far = (x < bx.min() - _FAR_M) | (x > bx.max() + _FAR_M) | (y < by.min() - _FAR_M) | (y > by.max() + _FAR_M)
        _reject(reason, far, f"距辖区超过 {_FAR_M / 1000:.0f} 公里 / more than {_FAR_M / 1000:.0f} km from the district")
        out = pd.DataFrame({key: df[key].str.strip(), "t": t, "lon": wlon, "lat": wlat, "x": x, "y": y})
        for lv in ("community", "grid", "police_district", "station"):
            if f"{lv}_id" in assigned:
                out[f"{lv}_id"] = assigned[f"{lv}_id"]
        if kind == "stop_checks":
            arrest = df["arrest"].fillna("").str.strip().str.lower()
            _reject(reason, ~arrest.isin(_TRUE | _FALSE), "是否抓获应为 是/否 / arrest must be yes/no")
            out["arrest"] = arrest.isin(_TRUE)
            out["result"] = df["result"].fillna("")
        return out, reason
    if kind == "plan":
        out = df.copy()
        for c in ("x", "y", "radius_m", "planned_minutes", "planned_visits"):
            out[c] = pd.to_numeric(df[c], errors="coerce")
            _reject(reason, out[c].isna(), f"{c} 不是数字 / {c} is not a number")
        for c in ("shift_start", "shift_end"):
            out[c] = pd.to_datetime(df[c], errors="coerce", format="mixed")
            _reject(reason, out[c].isna(), f"{c} 时间无法解析 / unparseable {c}")
        _reject(reason, out["shift_end"] <= out["shift_start"], "班次结束早于开始 / shift ends before it starts")
        return out, reason
    if kind == "households":
        out = df.copy()
        out["registered"] = pd.to_numeric(df["registered"], errors="coerce")
        _reject(reason, df["household_id"].fillna("").str.strip() == "", "缺少户编号 / missing household_id")
        _reject(reason, out["registered"].isna() | (out["registered"] < 0), "登记人数无效 / invalid registered count")
        return out, reason
    if kind == "utilities":
        from anju.duty.registry import match_utilities

        addresses = read_store(settings, "households")
        if addresses.empty:
            raise DataNotFoundError("utility rows are matched to the standard addresses of the registry: import the "
                                    "registry households first (`anju duty import households FILE`).")
        u = df.assign(row=np.arange(1, len(df) + 1))
        matched, unmatched = match_utilities(u, addresses[["address_code", "community_id"]])
        reason[unmatched["row"].to_numpy() - 1] = unmatched["reason"].to_numpy()
        out = matched.set_index(matched["row"].to_numpy() - 1).reindex(df.index).drop(columns="row")
        return out, reason
    raise ConfigError(f"unknown import kind {kind!r}; choose one of {KINDS}.", key="kind")


def _store(settings: Settings, kind: str) -> Path:
    return Path(settings.data_dir) / "duty" / kind


def import_file(settings: Settings, path: str | Path, kind: str, *, crs: str = "wgs84") -> ImportResult:
    """Import one file of ``kind`` (tracks, stop_checks, plan, households, utilities)."""
    if kind not in KINDS:
        raise ConfigError(f"unknown import kind {kind!r}; choose one of {KINDS}.", key="kind")
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"file not found: {p}")
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    store = _store(settings, kind)
    target = store / f"{digest[:16]}.parquet"
    if target.exists():
        meta = json.loads((store / f"{digest[:16]}.json").read_text(encoding="utf-8"))
        rej = pd.DataFrame(meta.get("rejected", []))
        return ImportResult(kind, p, digest, loaded=int(meta["loaded"]), rejected=rej, skipped=True)
    raw = _columns(_read(p), kind, p)
    rows, reason = _prepare(settings, kind, raw, crs)
    bad = reason.notna().to_numpy()
    rejected = pd.DataFrame({"row": np.flatnonzero(bad) + 1, "reason": reason[bad].to_numpy()})
    good = rows[~bad].reset_index(drop=True)
    persons = pd.DataFrame()
    personal = [c for c in ("name", "id_number") if c in good.columns]
    if personal:
        persons = good[["household_id", "community_id", *personal]].copy()
        for c in ("name", "id_number"):
            if c not in persons:
                persons[c] = ""
        good = good.drop(columns=personal)
    good["source_row"] = np.flatnonzero(~bad) + 1
    good["import_id"] = digest[:16]
    store.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    good.to_parquet(tmp, index=False)
    meta = {"file": str(p), "sha256": digest, "kind": kind, "crs": crs, "loaded": len(good),
            "rejected": rejected.astype({"row": int}).to_dict("records")}
    (store / f"{digest[:16]}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.rename(target)  # the parquet appears last: a half import is never read
    return ImportResult(kind, p, digest, loaded=len(good), rejected=rejected, persons=persons)


def read_store(settings: Settings, kind: str) -> pd.DataFrame:
    """Everything imported of ``kind`` (empty DataFrame when nothing was)."""
    store = _store(settings, kind)
    files = sorted(store.glob("*.parquet")) if store.exists() else []
    if not files:
        return pd.DataFrame()
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    key = {"tracks": ["unit", "t"], "stop_checks": ["check_id"], "plan": ["plan_id"], "households": ["household_id"],
           "utilities": ["address_code", "month"]}[kind]
    return df.drop_duplicates(key, keep="last").reset_index(drop=True)


def as_plain(value: Any) -> Any:
    """JSON-friendly value (for reports)."""
    return value.item() if hasattr(value, "item") else value
