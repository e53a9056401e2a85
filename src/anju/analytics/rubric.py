"""The monthly community assessment rubric (考评细则): indicators, weights, thresholds, deductions and title rules.

Rubrics are TOML files (``analytics/data/rubrics/*.toml`` shipped; ``<data_dir>/rubrics/*.toml`` per deployment),
validated with pydantic, and *versioned*: each file has a ``version`` and the month it takes effect from, and a month
is always scored with the version in force then (:func:`rubric_for`), so re-scoring an old month after a rubric
change gives the old result. A deployment file with the same ``version`` as a shipped one replaces it.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from anju.config import read_toml, validate_config
from anju.errors import ConfigError

__all__ = [
    "INPUTS",
    "Commendation",
    "Deduction",
    "Indicator",
    "KeyLists",
    "Rubric",
    "Titles",
    "default_rubric_dir",
    "load_rubric",
    "load_rubrics",
    "rubric_for",
]

INPUTS = ("preventable", "collection_rate", "stale_share", "patrol_compliance", "night_compliance",
          "fast_scan_share", "camera_uptime", "camera_fault_rate", "satisfaction_rate", "feel_safe_rate")
"""The per-community monthly inputs a rubric may refer to (columns of the assessment input table)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_input(v: str) -> str:
    if v not in INPUTS:
        raise ValueError(f"unknown input {v!r}; expected one of {', '.join(INPUTS)}")
    return v


KnownInput = Annotated[str, AfterValidator(_known_input)]
"""The name of an assessment input (one of :data:`INPUTS`), checked when a rubric is loaded."""


class Indicator(_Strict):
    """One scored item: ``cases`` deducts per case from its weight; ``rate`` scales linearly between two values."""

    id: str
    zh: str
    en: str
    kind: Literal["cases", "rate"]
    input: KnownInput
    weight: float = Field(gt=0)
    per_case: float | None = Field(default=None, gt=0)
    full: float | None = None
    zero: float | None = None

    @model_validator(mode="after")
    def _params(self) -> Indicator:
        if self.kind == "cases" and self.per_case is None:
            raise ValueError("a 'cases' indicator needs per_case (points deducted per case)")
        if self.kind == "rate":
            if self.full is None or self.zero is None:
                raise ValueError("a 'rate' indicator needs full and zero (the values scoring full and no points)")
            if not self.full > self.zero:
                raise ValueError(f"full ({self.full}) must be above zero ({self.zero})")
        return self


class Deduction(_Strict):
    """Points taken off when an input is above ``above`` (or below ``below``)."""

    id: str
    zh: str
    en: str
    input: KnownInput
    points: float = Field(gt=0)
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Deduction:
        if (self.above is None) == (self.below is None):
            raise ValueError("a deduction needs exactly one of above / below")
        return self


class ZeroCase(_Strict):
    zh: str
    en: str
    max_cases: int = Field(default=0, ge=0)


class Control(_Strict):
    zh: str
    en: str
    min_drop: float = Field(gt=0, le=1)
    min_prev: int = Field(default=1, ge=1)
    min_score: float = Field(ge=0, le=100)


class Titles(_Strict):
    """零发案 (at most ``max_cases`` preventable cases) and 控案先进 (a same-month drop and a score)."""

    zero_case: ZeroCase
    control: Control


class Commendation(_Strict):
    """Quarterly 表彰: a title in ``months_with_title`` months of the quarter and a mean score ≥ ``min_score``."""

    months_with_title: int = Field(default=3, ge=1, le=3)
    min_score: float = Field(default=85, ge=0, le=100)


class KeyLists(_Strict):
    """Lengths of the bulletin's key lists (重点小区 over ``years``, 重点街镇, most frequent preventable types)."""

    communities: int = Field(default=10, ge=1)
    years: int = Field(default=3, ge=1, le=10)
    streets: int = Field(default=5, ge=1)
    types: int = Field(default=7, ge=1)


class Rubric(_Strict):
    """A validated rubric version."""

    version: str
    effective_from: str
    zh: str
    en: str
    issuer_zh: str
    issuer_en: str
    indicator: tuple[Indicator, ...]
    deduction: tuple[Deduction, ...] = ()
    titles: Titles
    commendation: Commendation = Commendation()
    key: KeyLists = KeyLists()

    @field_validator("effective_from")
    @classmethod
    def _month(cls, v: str) -> str:
        try:
            dt.date.fromisoformat(v + "-01")
        except ValueError:
            raise ValueError(f"expected a month YYYY-MM; got {v!r}") from None
        return v

    @model_validator(mode="after")
    def _weights(self) -> Rubric:
        ids = [i.id for i in self.indicator]
        if len(set(ids)) != len(ids):
            raise ValueError(f"indicator ids must be unique; got {ids}")
        total = sum(i.weight for i in self.indicator)
        if abs(total - 100) > 1e-9:
            raise ValueError(f"indicator weights must add up to 100; they add up to {total:g}")
        return self

    @property
    def start(self) -> dt.date:
        """First day of the first month this version applies to."""
        return dt.date.fromisoformat(self.effective_from + "-01")


def default_rubric_dir() -> Path:
    """The shipped rubric versions."""
    return Path(str(resources.files("anju.analytics") / "data" / "rubrics"))


def load_rubric(path: str | Path) -> Rubric:
    """One rubric file, validated; errors name the file and the key (``indicator.2.full``).

    Examples
    --------
    >>> r = load_rubric(default_rubric_dir() / "2025.1.toml")
    >>> r.version, [i.id for i in r.indicator], r.titles.control.min_drop
    ('2025.1', ['preventable', 'collection', 'patrol', 'cameras', 'survey'], 0.4)
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError("rubric file not found", path=p)
    return validate_config(Rubric, read_toml(p), path=p)


def load_rubrics(data_dir: str | Path | None = None) -> list[Rubric]:
    """Every rubric version, shipped and deployment, oldest first; a deployment version replaces a shipped one."""
    by_version: dict[str, Rubric] = {}
    dirs = [default_rubric_dir()]
    if data_dir is not None:
        dirs.append(Path(data_dir) / "rubrics")
    for d in dirs:
        for f in sorted(d.glob("*.toml")) if d.is_dir() else []:
            r = load_rubric(f)
            by_version[r.version] = r
    out = sorted(by_version.values(), key=lambda r: (r.start, r.version))
    starts = [r.start for r in out]
    if len(set(starts)) != len(starts):
        dup = sorted({s for s in starts if starts.count(s) > 1})
        raise ConfigError(f"two rubric versions take effect in the same month ({dup[0]:%Y-%m}); give each version "
                          "its own effective_from", key="effective_from")
    return out


def rubric_for(month: str | dt.date, rubrics: list[Rubric]) -> Rubric:
    """The version in force in ``month`` (``YYYY-MM`` or a date): the latest ``effective_from`` not after it.

    Examples
    --------
    >>> rubric_for("2025-11", load_rubrics()).version
    '2025.1'
    """
    day = month if isinstance(month, dt.date) else dt.date.fromisoformat(str(month)[:7] + "-01")
    ok = [r for r in rubrics if r.start <= day]
    if not ok:
        first = min((r.effective_from for r in rubrics), default="none")
        raise ConfigError(f"no assessment rubric is in force in {day:%Y-%m} (the earliest takes effect {first}); "
                          "add a version with an earlier effective_from under <data_dir>/rubrics/")
    return max(ok, key=lambda r: r.start)
