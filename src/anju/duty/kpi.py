"""四率 and 见警率: duty KPIs per station and month, defined in TOML so each city can use its own set.

A definition file (default ``anju/duty/data/kpi.toml``) names *measures* — a count or a sum over the rows of one
input table, optionally filtered and lagged — and *KPIs* built from two measures:

* ``kind = "ratio"``: ``numerator / denominator × per``;
* ``kind = "decline"``: ``(denominator − numerator) / denominator × 100`` (e.g. this month against the same month
  last year), with the exact two-sided Poisson test of :func:`anju.analytics.change.poisson_test`.

Because every measure is rows of a table, :func:`rows_behind` returns exactly the rows a number was computed from.
Pure functions: tables in, tables out; reading the lake and the duty store is the caller's job.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError, model_validator

from anju.analytics.change import poisson_test
from anju.config import read_config_text
from anju.errors import ConfigError

__all__ = ["DISTRICT", "KpiDef", "KpiSet", "Measure", "compute_kpis", "load_kpis", "rows_behind"]

#: The station_id of the district-wide row.
DISTRICT = "全区"


class Measure(BaseModel):
    """A count or sum over one table's rows for a station (and month)."""

    model_config = {"extra": "forbid"}

    table: str
    agg: Literal["count", "sum"]
    column: str | None = None
    where: dict[str, bool | int | str] = Field(default_factory=dict)
    lag_months: int = Field(default=0, ge=0)
    monthly: bool = True

    @model_validator(mode="after")
    def _column_for_sum(self) -> Measure:
        if self.agg == "sum" and not self.column:
            raise ValueError("agg = 'sum' needs a column")
        return self


class KpiDef(BaseModel):
    """One KPI: two measures combined."""

    model_config = {"extra": "forbid"}

    code: str
    zh: str
    en: str
    kind: Literal["ratio", "decline"]
    numerator: str
    denominator: str
    per: float = 1.0
    unit: str = ""
    higher_is_better: bool = True
    method_zh: str = ""
    method_en: str = ""


class KpiSet(BaseModel):
    """A validated definition file."""

    model_config = {"extra": "forbid"}

    name: str
    measures: dict[str, Measure]
    kpi: list[KpiDef]

    @model_validator(mode="after")
    def _known_measures(self) -> KpiSet:
        for k in self.kpi:
            for m in (k.numerator, k.denominator):
                if m not in self.measures:
                    raise ValueError(f"kpi {k.code!r} uses measure {m!r}, which is not defined under [measures]")
        codes = [k.code for k in self.kpi]
        if len(set(codes)) != len(codes):
            raise ValueError(f"kpi codes must be unique; got {codes}")
        return self

    def get(self, code: str) -> KpiDef:
        for k in self.kpi:
            if k.code == code:
                return k
        raise ConfigError(f"unknown KPI {code!r}; defined: {[k.code for k in self.kpi]}.", key="kpi")


def load_kpis(path: str | Path | None = None) -> KpiSet:
    """Read and validate a KPI definition file (the shipped default when ``path`` is None)."""
    if path is None:
        text = resources.files("anju.duty").joinpath("data/kpi.toml").read_text(encoding="utf-8")
        where: Any = "anju/duty/data/kpi.toml"
    else:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"KPI definition file not found: {p}.", key="kpi")
        text, where = read_config_text(p), p
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=where,
                          zh=f"不是有效的 TOML（{exc}）；请修正该行") from None
    try:
        return KpiSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{first['msg']}; got {first.get('input')!r}", path=where, key=loc) from None


def _shift_month(month: str, back: int) -> str:
    return str(pd.Period(month, freq="M") - back)


def _rows(m: Measure, tables: dict[str, pd.DataFrame], month: str, station: str | None) -> pd.DataFrame:
    if m.table not in tables:
        raise ConfigError(f"measure needs the table {m.table!r}; given: {sorted(tables)}.", key="tables")
    t = tables[m.table]
    mask = np.ones(len(t), dtype=bool)
    if m.monthly:
        if "month" not in t.columns:
            raise ConfigError(f"table {m.table!r} has no 'month' column.", key=m.table)
        mask &= (t["month"].astype(str) == _shift_month(month, m.lag_months)).to_numpy()
    if station is not None and station != DISTRICT:
        mask &= (t["station_id"].astype(str) == station).to_numpy()
    for col, val in m.where.items():
        if col not in t.columns:
            raise ConfigError(f"table {m.table!r} has no column {col!r} for the filter.", key=m.table)
        mask &= (t[col] == val).fillna(False).to_numpy(bool)
    return t[mask]


def _value(m: Measure, rows: pd.DataFrame) -> float:
    return float(len(rows)) if m.agg == "count" else float(pd.to_numeric(rows[m.column]).sum())


def rows_behind(defs: KpiSet, tables: dict[str, pd.DataFrame], code: str, month: str,
                station: str | None = None) -> dict[str, pd.DataFrame]:
    """The rows each of a KPI's two measures was computed from, keyed ``numerator`` / ``denominator``."""
    k = defs.get(code)
    return {part: _rows(defs.measures[name], tables, month, station)
            for part, name in (("numerator", k.numerator), ("denominator", k.denominator))}


def compute_kpis(defs: KpiSet, tables: dict[str, pd.DataFrame], month: str, *, lang: str = "zh") -> pd.DataFrame:
    """Every KPI for every station and the district in ``month`` (``YYYY-MM``).

    Returns a long table: station_id, kpi, name, value, numerator, denominator, unit, p_value (decline only),
    rank (1 = best among stations; the district row has none), month.
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(month)):
        raise ConfigError(f"month must be YYYY-MM. Got {month!r}.", key="month")
    stations = sorted({str(s) for t in tables.values() if "station_id" in t.columns for s in t["station_id"].dropna()})
    out = []
    for k in defs.kpi:
        mn, md = defs.measures[k.numerator], defs.measures[k.denominator]
        for st in [*stations, DISTRICT]:
            num = _value(mn, _rows(mn, tables, month, st))
            den = _value(md, _rows(md, tables, month, st))
            p = np.nan
            if k.kind == "ratio":
                value = num / den * k.per if den > 0 else np.nan
            else:
                value = (den - num) / den * 100.0 if den > 0 else np.nan
                p = float(poisson_test([num], [den])[0])
            out.append({"station_id": st, "kpi": k.code, "name": k.zh if lang == "zh" else k.en, "value": value,
                        "numerator": num, "denominator": den, "unit": k.unit, "p_value": p, "month": month})
    df = pd.DataFrame(out)
    df["rank"] = np.nan
    for k in defs.kpi:
        sel = (df["kpi"] == k.code) & (df["station_id"] != DISTRICT) & df["value"].notna()
        df.loc[sel, "rank"] = df.loc[sel, "value"].rank(ascending=not k.higher_is_better, method="min")
    return df
