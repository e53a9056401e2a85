"""The assessment's input tables: read, validate and store them, every row accounted.

Seven kinds, each with its own import (CSV in UTF-8/GB18030 or Excel): patrol plans and scans (电子巡更), the camera
inventory and fault reports, resident registrations (住户信息采集), the survey frame and the survey answers. Each data
row ends up in exactly one bucket: ``loaded`` (new), ``unchanged`` (already stored, or repeated in the file — the same
file imported twice changes nothing) or ``rejected`` with its line number and reason. A file that cannot be read, or
lacks a required column, is refused as a whole and stores nothing.

Stored tables are Parquet files under ``<data_dir>/assessment/inputs/<kind>.parquet`` (the scan logs run to hundreds
of thousands of rows a month, lake-like data rather than records to edit). Columns that would hold personal data
(names, phone numbers, ID numbers) are never stored: the survey frame carries a pseudonymous ``resident_ref``.
Validation is vectorised per column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from anju.config import Settings
from anju.errors import AnjuError

__all__ = ["KINDS", "InputError", "InputReport", "community_ids", "import_demo_inputs", "import_folder", "import_input", "read_input", "stored", "stored_dir"]


class InputError(AnjuError, ValueError):
    """An assessment input file cannot be imported as a whole (unreadable, missing columns)."""


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("patrol_plan", "巡更计划", ("community_id", "checkpoints", "day_slots", "night_slots"), ("community_id",),
         {"community_id": ("小区编码",), "checkpoints": ("巡更点数",), "day_slots": ("白班巡逻时间",),
          "night_slots": ("夜班巡逻时间",)}),
    Kind("patrol_scans", "巡更记录", ("community_id", "guard_id", "checkpoint", "scanned_at"),
         ("community_id", "guard_id", "checkpoint", "scanned_at"),
         {"community_id": ("小区编码",), "guard_id": ("保安编号",), "checkpoint": ("巡更点",),
          "scanned_at": ("打卡时间", "巡更时间")}),
    Kind("cameras", "探头台账", ("community_id", "camera_id", "installed_at"), ("camera_id",),
         {"community_id": ("小区编码",), "camera_id": ("探头编号",), "installed_at": ("安装日期",)}),
    Kind("camera_faults", "探头故障", ("camera_id", "reported_at", "repaired_at"), ("camera_id", "reported_at"),
         {"camera_id": ("探头编号",), "reported_at": ("报修时间", "故障时间"), "repaired_at": ("修复时间",)}),
    Kind("registrations", "住户信息采集", ("month", "community_id", "building", "households", "registered_households",
                                     "stale_households"), ("month", "community_id", "building"),
         {"month": ("月份",), "community_id": ("小区编码",), "building": ("楼号", "楼栋"), "households": ("户数",),
          "registered_households": ("已采集户数",), "stale_households": ("逾期未核实户数",)}),
    Kind("survey_frame", "访评抽样框", ("community_id", "building", "resident_ref"), ("resident_ref",),
         {"community_id": ("小区编码",), "building": ("楼号", "楼栋"), "resident_ref": ("居民编号",)}),
    Kind("survey_answers", "电话访评结果", ("month", "community_id", "building", "resident_ref", "reached",
                                     "feel_safe", "satisfied", "saw_patrol"), ("month", "resident_ref"),
         {"month": ("月份",), "community_id": ("小区编码",), "building": ("楼号", "楼栋"),
          "resident_ref": ("居民编号",), "reached": ("接通",), "feel_safe": ("安全感",), "satisfied": ("满意",),
          "saw_patrol": ("见到巡逻",)}),
)}
"""The input kinds: stored columns (all required except the survey questions and ``repaired_at``) and row key."""

OPTIONAL = {"repaired_at", "feel_safe", "satisfied", "saw_patrol", "night_slots", "day_slots"}
PERSONAL = re.compile(r"(phone|mobile|name|id_?card|电话|手机|姓名|身份证)", re.I)
_SLOTS = re.compile(r"^\s*(\d{1,2}:\d{2}\s*([;,；]\s*\d{1,2}:\d{2}\s*)*)?$")


@dataclass
class InputReport:
    """What an import did with every data row: ``loaded + unchanged + len(rejected) == rows``."""

    kind: str
    file: str
    rows: int = 0
    loaded: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line in the file, reason)
    dropped_columns: list[str] = field(default_factory=list)

    @property
    def accounted(self) -> bool:
        return self.loaded + self.unchanged + len(self.rejected) == self.rows


def stored_dir(settings: Settings) -> Path:
    """``<data_dir>/assessment/inputs``."""
    return Path(settings.data_dir) / "assessment" / "inputs"


def read_input(path: str | Path) -> pd.DataFrame:
    """A CSV (UTF-8, else GB18030) or Excel sheet as strings."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    from anju.files import reading_table

    try:
        if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            with reading_table(p):
                return pd.read_excel(p, dtype=str, engine="calamine").fillna("")
        try:
            return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="gb18030")
    except (ValueError, OSError) as exc:
        raise InputError(f"{p}: cannot be read as CSV or Excel ({exc})") from exc


def _rename(df: pd.DataFrame, kind: Kind) -> pd.DataFrame:
    names = {}
    for col in df.columns:
        c = str(col).strip()
        for target, alias in kind.aliases.items():
            if c == target or c in alias:
                names[col] = target
    return df.rename(columns=names)


def _bad(mask: pd.Series, reason: str, reasons: pd.Series) -> None:
    m = mask & (reasons == "")
    reasons[m] = reason


def _check(df: pd.DataFrame, kind: Kind, known: set[str] | None) -> pd.Series:
    """One reason per row ("" = valid), first problem wins."""
    r = pd.Series("", index=df.index, dtype=object)
    for c in kind.columns:
        if c not in OPTIONAL:
            _bad(df[c].str.strip() == "", f"{c} is empty", r)
    if known is not None and "community_id" in df.columns:
        _bad(~df["community_id"].str.strip().isin(known), "unknown community_id (not in the community layer)", r)

    def num(c: str, lo: float = 0) -> pd.Series:
        v = pd.to_numeric(df[c], errors="coerce")
        _bad(v.isna() | (v < lo) | (v != np.floor(v)), f"{c} must be a whole number ≥ {lo:g}", r)
        return v

    def when(c: str, optional: bool = False) -> pd.Series:
        v = pd.to_datetime(df[c].str.strip().replace("", None), errors="coerce", format="mixed")
        bad = v.isna() if not optional else (v.isna() & (df[c].str.strip() != ""))
        _bad(bad, f"{c} is not a date/time (e.g. 2025-11-03 22:05:00)", r)
        return v

    def month(c: str) -> None:
        _bad(~df[c].str.strip().str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])"), f"{c} must be YYYY-MM", r)

    def flag(c: str, optional: bool) -> None:
        v = df[c].str.strip()
        ok = v.isin(["0", "1"]) | ((v == "") if optional else False)
        _bad(~ok, f"{c} must be 1 (yes) or 0 (no)" + (" or empty" if optional else ""), r)

    n = kind.name
    if n == "patrol_plan":
        num("checkpoints", 1)
        for c in ("day_slots", "night_slots"):
            _bad(~df[c].str.fullmatch(_SLOTS), f"{c} must be times HH:MM separated by ';'", r)
    elif n == "patrol_scans":
        num("checkpoint", 1)
        when("scanned_at")
    elif n == "cameras":
        when("installed_at")
    elif n == "camera_faults":
        a, b = when("reported_at"), when("repaired_at", optional=True)
        _bad(b.notna() & a.notna() & (b < a), "repaired_at is before reported_at", r)
    elif n == "registrations":
        month("month")
        h, g, s = num("households"), num("registered_households"), num("stale_households")
        _bad(g > h, "registered_households exceeds households", r)
        _bad(s > g, "stale_households exceeds registered_households", r)
    elif n == "survey_answers":
        month("month")
        flag("reached", False)
        for q in ("feel_safe", "satisfied", "saw_patrol"):
            flag(q, True)
    return r


def _normalise(df: pd.DataFrame, kind: Kind) -> pd.DataFrame:
    out = df[list(kind.columns)].copy()
    for c in out.columns:
        out[c] = out[c].str.strip()
    n = kind.name
    if n == "patrol_plan":
        out["checkpoints"] = out["checkpoints"].astype(float).astype("int64")
    elif n == "patrol_scans":
        out["checkpoint"] = out["checkpoint"].astype(float).astype("int64")
        out["scanned_at"] = pd.to_datetime(out["scanned_at"], format="mixed").astype("datetime64[us]")
    elif n == "cameras":
        out["installed_at"] = pd.to_datetime(out["installed_at"], format="mixed").astype("datetime64[us]")
    elif n == "camera_faults":
        out["reported_at"] = pd.to_datetime(out["reported_at"], format="mixed").astype("datetime64[us]")
        out["repaired_at"] = pd.to_datetime(out["repaired_at"].replace("", None), format="mixed"
                                            ).astype("datetime64[us]")
    elif n == "registrations":
        for c in ("households", "registered_households", "stale_households"):
            out[c] = out[c].astype(float).astype("int64")
    elif n == "survey_answers":
        for c in ("reached", "feel_safe", "satisfied", "saw_patrol"):
            out[c] = pd.to_numeric(out[c].replace("", None)).astype("Int64")
    return out


def stored(settings: Settings, kind: str) -> pd.DataFrame | None:
    """The stored table of ``kind`` (None when nothing was imported)."""
    if kind not in KINDS:
        raise InputError(f"unknown input kind {kind!r}; expected one of {', '.join(KINDS)}")
    p = stored_dir(settings) / f"{kind}.parquet"
    return pd.read_parquet(p) if p.exists() else None


def import_input(settings: Settings, kind: str, path: str | Path, *, known_communities: set[str] | None = None,
                 frame: pd.DataFrame | None = None, on_rows: Callable[[int], None] | None = None,
                 allowed_communities: frozenset[str] | set[str] | None = None) -> InputReport:
    """Validate ``path`` as ``kind`` and add its new rows to the stored table.

    ``known_communities`` (the community layer's ids) rejects rows of unknown communities. ``frame`` replaces
    reading the file (for tests and callers that already hold the table as strings). ``allowed_communities`` (the
    importing user's data scope; None = whole district) rejects rows of other communities — for fault reports,
    of cameras not in the stored inventory of an allowed community.
    """
    if kind not in KINDS:
        raise InputError(f"unknown input kind {kind!r}; expected one of {', '.join(KINDS)}")
    k = KINDS[kind]
    raw = frame.astype(str) if frame is not None else read_input(path)
    rep = InputReport(kind=kind, file=str(path), rows=len(raw))
    raw = _rename(raw, k)
    rep.dropped_columns = [str(c) for c in raw.columns if PERSONAL.search(str(c)) and c not in k.columns]
    for c in k.columns:
        if c not in raw.columns and c in OPTIONAL:
            raw[c] = ""
    absent = [c for c in k.columns if c not in raw.columns]
    if absent:
        raise InputError(f"{path}: a {k.zh} ({kind}) file needs the columns {', '.join(k.columns)}; missing "
                         f"{', '.join(absent)} (Chinese headers accepted: "
                         + "; ".join(f"{c}={'/'.join(k.aliases.get(c, ()))}" for c in absent) + ")")
    raw = raw.reset_index(drop=True)
    for c in k.columns:
        raw[c] = raw[c].astype(str).replace({"nan": "", "None": "", "<NA>": ""})
    reasons = _check(raw, k, known_communities)
    if allowed_communities is not None:
        if "community_id" in raw.columns:
            _bad(~raw["community_id"].str.strip().isin(allowed_communities),
                 "community_id is outside your data scope", reasons)
        elif "camera_id" in raw.columns:
            cams = stored(settings, "cameras")
            ok = set() if cams is None else set(cams.loc[cams["community_id"].astype(str).isin(allowed_communities),
                                                         "camera_id"].astype(str))
            _bad(~raw["camera_id"].str.strip().isin(ok),
                 "camera_id is not in the inventory of a community in your data scope", reasons)
    bad = reasons != ""
    rep.rejected = [(int(i) + 2, str(reasons[i])) for i in np.flatnonzero(bad.to_numpy())]
    good = _normalise(raw[~bad], k)
    dup_in_file = good.duplicated(list(k.key), keep="first")
    good = good[~dup_in_file]
    old = stored(settings, kind)
    if old is not None and len(old):
        keyed = good.merge(old[list(k.key)].drop_duplicates(), on=list(k.key), how="left", indicator=True)
        new_mask = (keyed["_merge"] == "left_only").to_numpy()
        new = good[new_mask]
    else:
        new = good
    rep.loaded = len(new)
    rep.unchanged = int(dup_in_file.sum()) + (len(good) - len(new))
    if len(new):
        out = pd.concat([old, new], ignore_index=True) if old is not None else new.reset_index(drop=True)
        d = stored_dir(settings)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{kind}.parquet.tmp"
        out.to_parquet(tmp, index=False)
        tmp.replace(d / f"{kind}.parquet")
    if on_rows:
        on_rows(rep.rows)
    return rep


def import_folder(settings: Settings, folder: str | Path, *, known_communities: set[str] | None = None
                  ) -> list[InputReport]:
    """Import every ``<kind>.csv`` / ``<kind>.xlsx`` found in ``folder`` (the demo writes them so)."""
    out = []
    for kind in KINDS:
        for ext in (".csv", ".xlsx"):
            p = Path(folder) / f"{kind}{ext}"
            if p.exists():
                out.append(import_input(settings, kind, p, known_communities=known_communities))
    return out



def community_ids(settings: Settings) -> set[str] | None:
    """Ids of the loaded community layer (None when no layer is loaded: rows are then not checked against it)."""
    p = settings.paths.areas / "community.parquet"
    if not p.exists():
        return None
    return set(pd.read_parquet(p, columns=["area_id"])["area_id"].astype(str))


def import_demo_inputs(settings: Settings, demo_dir: str | Path) -> list[InputReport]:
    """Import the demo's generated inputs (``<demo dir>/assessment``); re-running changes nothing."""
    return import_folder(settings, Path(demo_dir) / "assessment", known_communities=community_ids(settings))
