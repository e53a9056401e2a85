"""Load and validate the taxonomy TOML."""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from anju.config import read_toml
from anju.errors import TaxonomyError

__all__ = ["UNKNOWN", "Category", "Family", "Taxonomy", "default_taxonomy_path", "load_taxonomy"]

UNKNOWN = "other.unknown"


class Family(BaseModel):
    """A top-level family of call types (盗窃, 诈骗, 纠纷…)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str
    en: str


class Category(BaseModel):
    """A leaf category with its flags."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    family: str
    zh: str
    en: str
    preventable: bool
    severity: float = Field(ge=0, le=10)
    police: bool
    department: str | None = None
    keywords: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Category:
        if self.code.split(".")[0] != self.family:
            raise ValueError(f"code {self.code!r} must start with its family {self.family!r}")
        if not self.police and not self.department:
            raise ValueError(f"{self.code!r} is not a police matter, so it needs a responsible `department`")
        return self


class _TaxonomyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meta: dict[str, Any] = {}
    family: list[Family]
    category: list[Category]

    @field_validator("category")
    @classmethod
    def _unique(cls, cats: list[Category]) -> list[Category]:
        seen: set[str] = set()
        for c in cats:
            if c.code in seen:
                raise ValueError(f"duplicate category code {c.code!r}")
            seen.add(c.code)
        return cats


class Taxonomy:
    """Families and leaves, with lookups and an Arrow table for joins in the engine.

    Examples
    --------
    >>> tax = load_taxonomy()
    >>> tax["theft.burglary"].zh, tax["theft.burglary"].preventable
    ('入室盗窃', True)
    >>> tax.family_of("fraud.rebate")
    'fraud'
    """

    def __init__(self, families: list[Family], categories: list[Category], *, source: str = "") -> None:
        self.families = {f.code: f for f in families}
        self.categories = {c.code: c for c in categories}
        self.source = source
        for c in categories:
            if c.family not in self.families:
                raise TaxonomyError(f"category {c.code!r} names unknown family {c.family!r}", path=source,
                                    key="category")
        if UNKNOWN not in self.categories:
            raise TaxonomyError(f"the taxonomy must define the fallback leaf {UNKNOWN!r}", path=source,
                                key="category")

    def __getitem__(self, code: str) -> Category:
        try:
            return self.categories[code]
        except KeyError:
            raise TaxonomyError(f"unknown category code {code!r}", path=self.source) from None

    def __contains__(self, code: object) -> bool:
        return code in self.categories

    def __len__(self) -> int:
        return len(self.categories)

    def family_of(self, code: str) -> str:
        """Family code of a leaf code."""
        return self[code].family

    def codes(self, *, family: str | None = None, preventable: bool | None = None) -> list[str]:
        """Leaf codes, optionally filtered by family and preventable flag."""
        return [
            c.code
            for c in self.categories.values()
            if (family is None or c.family == family) and (preventable is None or c.preventable == preventable)
        ]

    def label(self, code: str, lang: str = "zh") -> str:
        """Display label of a leaf or family code."""
        if code in self.families:
            f = self.families[code]
            return f.zh if lang == "zh" else f.en
        c = self[code]
        return c.zh if lang == "zh" else c.en

    @cached_property
    def table(self) -> pa.Table:
        """One row per leaf: code, family, labels, flags — for joins with the incident table."""
        cats = list(self.categories.values())
        return pa.table(
            {
                "category": [c.code for c in cats],
                "family": [c.family for c in cats],
                "category_zh": [c.zh for c in cats],
                "category_en": [c.en for c in cats],
                "family_zh": [self.families[c.family].zh for c in cats],
                "family_en": [self.families[c.family].en for c in cats],
                "preventable": [c.preventable for c in cats],
                "severity": pa.array([c.severity for c in cats], pa.float64()),
                "police": [c.police for c in cats],
                "department": [c.department for c in cats],
            }
        )


def default_taxonomy_path() -> Path:
    """Path of the shipped taxonomy file."""
    return Path(str(resources.files("anju.taxonomy") / "data" / "taxonomy.toml"))


def load_taxonomy(path: str | Path | None = None, *, data_dir: str | Path | None = None) -> Taxonomy:
    """Load the taxonomy: ``path`` if given, else ``<data_dir>/taxonomy.toml`` if present, else the shipped one."""
    if path is None and data_dir is not None and (Path(data_dir) / "taxonomy.toml").exists():
        path = Path(data_dir) / "taxonomy.toml"
    p = Path(path) if path is not None else default_taxonomy_path()
    if not p.exists():
        raise TaxonomyError("file not found", path=p)
    raw = read_toml(p, error=TaxonomyError)
    try:
        parsed = _TaxonomyFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        key = ".".join(str(x) for x in loc)
        if len(loc) >= 2 and loc[0] in ("category", "family") and isinstance(loc[1], int):
            items = raw.get(loc[0], [])
            code = items[loc[1]].get("code") if loc[1] < len(items) and isinstance(items[loc[1]], dict) else None
            if code:
                key = f"{loc[0]} {code!r}" + ("." + ".".join(str(x) for x in loc[2:]) if len(loc) > 2 else "")
        raise TaxonomyError(f"{err['msg']} (got {err.get('input')!r})", path=p, key=key) from exc
    return Taxonomy(parsed.family, parsed.category, source=str(p))
