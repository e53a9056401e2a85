"""Source profiles: how one kind of export (a 110 system, a city data portal…) maps onto the lake.

A profile is a TOML file validated by pydantic. anju ships ``cn110``, ``chicago`` and ``sf-kaggle`` in
``anju/ingest/profiles/``; a deployment adds or overrides profiles in ``<data_dir>/profiles/NAME.toml``, and a path
to any ``.toml`` file works too. Onboarding a new export means writing a profile, never editing code — see
docs/ingest.md for the format and a worked example.

Each canonical field (``time``, ``category``, ``lon``…) names its source column, or a list of alternatives of
which the first present in the file is used (so one profile covers an export whose headers changed over the years).
Column names match exactly first, then ignoring case, spaces and underscores.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from anju.config import read_toml
from anju.errors import ProfileError
from anju.ingest.readers import DEFAULT_NULL_VALUES

__all__ = [
    "CANONICAL_FIELDS",
    "Profile",
    "ResolvedColumns",
    "load_profile",
    "shipped_profiles",
]

#: Canonical fields a profile can map, with what they mean (used in messages and `anju profile check`).
CANONICAL_FIELDS: dict[str, str] = {
    "record_key": "记录编号 / record id (unique per source)",
    "time": "报警时间 / date-time of the call or incident",
    "time_of_day": "时间(若与日期分列) / time of day when the export splits date and time",
    "category": "警情类别 / category",
    "subcategory": "警情细类 / sub-category or description",
    "text": "简要案情 / free-text summary (phone/ID numbers are masked)",
    "address": "案发地址 / address or block",
    "lon": "经度 / longitude (or projected x)",
    "lat": "纬度 / latitude (or projected y)",
    "caller": "报警人 / caller name (stored only hashed + masked)",
    "phone": "报警电话 / caller phone (stored only hashed + masked)",
    "unit": "管辖单位 / responsible unit or police district",
    "loss": "涉案金额 / loss amount in yuan",
}
REQUIRED_FIELDS = ("time", "category")
SPECIAL_TIME_FORMATS = ("iso", "epoch_s", "epoch_ms")
_GEO_SYSTEMS = ("wgs84", "gcj02", "bd09")


def _alternatives(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return list(v)
    raise ValueError("expected a column name or a list of alternative column names")


class ProfileMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    mapping: str | None = None
    source: str | None = Field(None, description="record-key prefix and `source` column; default: the name")


class ReadSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    encoding: str = "auto"
    delimiter: str = Field(",", min_length=1, max_length=1)
    skip_rows: int = Field(0, ge=0)
    sheet: str | int | None = None
    null_values: list[str] = list(DEFAULT_NULL_VALUES)


class ColumnsSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_key: list[str] = []
    time: list[str]
    time_of_day: list[str] = []
    category: list[str]
    subcategory: list[str] = []
    text: list[str] = []
    address: list[str] = []
    lon: list[str] = []
    lat: list[str] = []
    caller: list[str] = []
    phone: list[str] = []
    unit: list[str] = []
    loss: list[str] = []

    @field_validator("*", mode="before")
    @classmethod
    def _alts(cls, v: Any) -> list[str]:
        return _alternatives(v)

    @model_validator(mode="after")
    def _pairs(self) -> ColumnsSection:
        if bool(self.lon) != bool(self.lat):
            raise ValueError("map both `lon` and `lat`, or neither")
        return self


class TimeSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    formats: list[str] = ["iso"]
    timezone: str = "Asia/Shanghai"
    min_date: date = date(1990, 1, 1)
    max_future_days: float = Field(1.0, ge=0)

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("list at least one format")
        for f in v:
            if f not in SPECIAL_TIME_FORMATS and "%" not in f:
                raise ValueError(f"{f!r} is neither a strptime format (e.g. '%Y年%m月%d日 %H时%M分') nor one of "
                                 f"{list(SPECIAL_TIME_FORMATS)}")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as 'Asia/Shanghai'") from None
        return v


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: tuple[float, float]
    lat: tuple[float, float]

    @model_validator(mode="after")
    def _order(self) -> Bounds:
        if not (self.lon[0] < self.lon[1] and self.lat[0] < self.lat[1]):
            raise ValueError("bounds must be [min, max] for lon and lat")
        return self


class CoordsSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    system: str = "wgs84"
    bounds: Bounds | None = None

    @field_validator("system")
    @classmethod
    def _system(cls, v: str) -> str:
        key = v.strip().lower().replace("-", "").replace("_", "")
        if key in _GEO_SYSTEMS:
            return key
        if re.fullmatch(r"epsg:\d{4,6}", key):
            import pyproj

            try:
                crs = pyproj.CRS.from_user_input(key.upper())
            except pyproj.exceptions.CRSError:
                raise ValueError(f"unknown CRS {v!r}") from None
            if not crs.is_projected:
                raise ValueError(f"{v!r} is not a projected CRS; geographic sources use wgs84/gcj02/bd09")
            return key.upper()
        raise ValueError(f"expected one of {list(_GEO_SYSTEMS)} or a projected CRS like 'EPSG:26910'; got {v!r}")

    @property
    def projected(self) -> bool:
        return self.system.startswith("EPSG:")


#: fields that can identify a call in ``[key].fields`` (the record id itself cannot)
KEY_FIELDS = tuple(f for f in CANONICAL_FIELDS if f != "record_key")


class KeySection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hash: bool = False
    hash_columns: list[str] = []
    integer: bool = Field(False, description="normalise '123.0' to '123' (ids exported as floats)")
    #: identifying fields (canonical names): key = HMAC of their normalised values + occurrence number in the file
    fields: list[str] = []
    #: identifying fields compared without regard to case (``true``: all of them)
    casefold: bool | list[str] = False
    #: decimals kept of ``lon``/``lat`` in the key (4 ≈ 10 m)
    coord_decimals: int = Field(4, ge=0, le=9)

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        bad = [f for f in v if f not in KEY_FIELDS]
        if bad:
            raise ValueError(f"unknown field {bad[0]!r}; identifying fields are canonical field names: "
                             f"{', '.join(KEY_FIELDS)}")
        if len(set(v)) != len(v):
            raise ValueError("a field is listed twice")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> KeySection:
        if self.fields and (self.hash or self.hash_columns):
            raise ValueError("use either `fields` (identifying fields) or `hash`/`hash_columns` (the older hash of "
                             "the row's columns), not both")
        if isinstance(self.casefold, list):
            extra = [f for f in self.casefold if f not in self.fields]
            if extra:
                raise ValueError(f"`casefold` names {extra[0]!r}, which is not in `fields`")
        return self

    def folds(self, fld: str) -> bool:
        """Whether identifying field ``fld`` is compared without regard to case."""
        return self.casefold is True or (isinstance(self.casefold, list) and fld in self.casefold)


class PiiSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    extra_columns: list[str] = []


class _ProfileFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: ProfileMeta
    read: ReadSection = ReadSection.model_validate({})
    columns: ColumnsSection
    time: TimeSection = TimeSection.model_validate({})
    coords: CoordsSection = CoordsSection.model_validate({})
    key: KeySection = KeySection.model_validate({})
    pii: PiiSection = PiiSection.model_validate({})

    @model_validator(mode="after")
    def _key(self) -> _ProfileFile:
        if not self.key.hash and not self.key.fields and not self.columns.record_key:
            raise ValueError("map `columns.record_key`, or list the identifying fields in `key.fields` (or set "
                             "`key.hash = true` to key rows by a hash of columns)")
        if self.key.fields and self.columns.record_key:
            raise ValueError("`columns.record_key` and `key.fields` both given: a source with an id column is keyed "
                             "by it; drop one of the two")
        unmapped = [f for f in self.key.fields if not getattr(self.columns, f)]
        if unmapped:
            raise ValueError(f"`key.fields` lists {unmapped[0]!r}, which `columns` does not map")
        return self


class ResolvedColumns(dict[str, str | None]):
    """Canonical field → the source column found in the file (None when the profile's field is absent)."""


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


class Profile:
    """A validated source profile. Attributes mirror the TOML sections (``.read``, ``.columns``, ``.time``…)."""

    def __init__(self, spec: _ProfileFile, path: Path) -> None:
        self.spec = spec
        self.path = path
        self.name = spec.profile.name
        self.source = spec.profile.source or spec.profile.name
        self.mapping = spec.profile.mapping or spec.profile.name
        self.description = spec.profile.description
        self.read = spec.read
        self.columns = spec.columns
        self.time = spec.time
        self.coords = spec.coords
        self.key = spec.key
        self.pii = spec.pii

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, path={str(self.path)!r})"

    def error(self, key: str, message: str) -> ProfileError:
        """A :class:`ProfileError` naming this profile's file and ``key``."""
        return ProfileError(message, path=self.path.name if _is_shipped(self.path) else self.path, key=key)

    def resolve(self, header: list[str]) -> ResolvedColumns:
        """Find each mapped field's column in ``header``; raise naming the field if a required one is missing."""
        exact = {h: h for h in header}
        loose: dict[str, str] = {}
        for h in header:
            loose.setdefault(_norm(h), h)
        out = ResolvedColumns()
        for fld in CANONICAL_FIELDS:
            alts: list[str] = getattr(self.columns, fld)
            found = None
            for a in alts:
                found = exact.get(a) or loose.get(_norm(a))
                if found:
                    break
            if alts and found is None and (fld in REQUIRED_FIELDS or fld in self.key.fields
                                           or (fld == "record_key" and not self.key.hash)):
                hint = ""
                if len(header) == 1 and self.read.delimiter == ",":
                    hint = ("; the header has a single column — is there a title row above it ([read].skip_rows) "
                            "or another delimiter ([read].delimiter)?")
                if fld in self.key.fields and fld not in REQUIRED_FIELDS:
                    hint += "; it is an identifying field ([key].fields), so it must be present"
                raise self.error(
                    f"columns.{fld}",
                    f"column {_show(alts)} not in file; available: {', '.join(header)}{hint}",
                )
            out[fld] = found
        if bool(out["lon"]) != bool(out["lat"]):
            missing = "lat" if out["lon"] else "lon"
            raise self.error(f"columns.{missing}", f"column {_show(getattr(self.columns, missing))} not in file "
                                                   f"(its pair was found); available: {', '.join(header)}")
        for col in self.key.hash_columns:
            if col not in exact:
                raise self.error("key.hash_columns", f"column {col!r} not in file; available: {', '.join(header)}")
        return out

    def key_columns(self, header: list[str], resolved: ResolvedColumns) -> list[str]:
        """Source columns whose values make the record key."""
        if self.key.fields:
            return [str(resolved[f]) for f in self.key.fields]
        if not self.key.hash:
            col = resolved["record_key"]
            assert col is not None
            return [col]
        return list(self.key.hash_columns) or list(header)

    @cached_property
    def pii_columns(self) -> list[str]:
        """Source-column names (all alternatives) that hold personal data."""
        return [*self.columns.caller, *self.columns.phone, *self.pii.extra_columns]


def _show(alts: list[str]) -> str:
    return repr(alts[0]) if len(alts) == 1 else "any of " + ", ".join(repr(a) for a in alts)


def _shipped_dir() -> Path:
    return Path(str(resources.files("anju.ingest") / "profiles"))


def _is_shipped(p: Path) -> bool:
    try:
        return p.resolve().parent == _shipped_dir().resolve()
    except OSError:
        return False


def shipped_profiles() -> list[str]:
    """Names of the profiles shipped with anju."""
    return sorted(p.stem for p in _shipped_dir().glob("*.toml"))


def _locate(name_or_path: str | Path, data_dir: str | Path | None) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists() or len(p.parts) > 1:
        if not p.is_file():
            raise ProfileError("profile file not found", path=p)
        return p
    name = str(name_or_path)
    if data_dir is not None:
        local = Path(data_dir) / "profiles" / f"{name}.toml"
        if local.is_file():
            return local
    shipped = _shipped_dir() / f"{name}.toml"
    if shipped.is_file():
        return shipped
    local_names = sorted(x.stem for x in (Path(data_dir) / "profiles").glob("*.toml")) if data_dir else []
    raise ProfileError(
        f"no profile named {name!r}; shipped: {shipped_profiles()}"
        + (f", in the data directory: {local_names}" if local_names else "")
        + "; or pass the path of a .toml file (see docs/ingest.md)"
    )


def load_profile(name_or_path: str | Path, *, data_dir: str | Path | None = None) -> Profile:
    """Load a profile by name (``<data_dir>/profiles/NAME.toml`` wins over the shipped one) or by path.

    Examples
    --------
    >>> p = load_profile("cn110")
    >>> p.coords.system, p.time.timezone, p.columns.time
    ('gcj02', 'Asia/Shanghai', ['报警时间', '接警时间'])
    """
    path = _locate(name_or_path, data_dir)
    shown: Path | str = path.name if _is_shipped(path) else path
    raw = read_toml(path, error=ProfileError, shown=shown)
    try:
        spec = _ProfileFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"]) or "profile"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/ingest.md for the profile format)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        got = err.get("input")
        got_s = "" if err["type"] in {"missing"} or isinstance(got, dict) else f"; got {got!r}"
        raise ProfileError(msg + got_s, path=shown, key=key) from exc
    return Profile(spec, path)
