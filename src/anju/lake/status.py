"""What is in the lake: rows by year/month and by category, imports, quarantine — for ``anju status``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from anju.lake.connection import Lake
from anju.taxonomy import Taxonomy

__all__ = ["LakeStatus", "lake_status", "unparsed_counts", "year_family_counts"]


@dataclass
class LakeStatus:
    """Summary tables (lists of dicts, ready for display or JSON)."""

    rows: int
    first: Any
    last: Any
    by_month: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_source: list[dict[str, Any]]
    imports: list[dict[str, Any]]
    quarantine_by_reason: list[dict[str, Any]]
    files: int
    by_year_family: dict[tuple[int, str], int]
    #: values given but unreadable (kept empty), summed over the imports: ``[{"field": "loss", "rows": 3}, …]``
    unparsed_values: list[dict[str, Any]] = field(default_factory=list)


def _records(expr: Any) -> list[dict[str, Any]]:
    """Rows of an Ibis expression as plain Python values (int, str, datetime, None) on any engine."""
    import pandas as pd

    df = expr.to_pandas()
    out = []
    for rec in df.to_dict("records"):
        row: dict[str, Any] = {}
        for k, v in rec.items():
            if v is None or (not isinstance(v, (str, bytes)) and pd.isna(v)):
                row[k] = None
            elif isinstance(v, pd.Timestamp):
                row[k] = v.to_pydatetime()
            elif hasattr(v, "item"):  # numpy scalar
                row[k] = v.item()
            else:
                row[k] = v
        out.append(row)
    return out


def year_family_counts(lake: Lake) -> dict[tuple[int, str], int]:
    """Incidents per (year, family): the one count behind ``anju status`` and ``anju demo``'s summary."""
    t = lake.incidents()
    rows = _records(t.group_by(["year", "family"]).aggregate(n=t.count()).order_by(["year", "family"]))
    return {(int(r["year"]), str(r["family"])): int(r["n"]) for r in rows}


def lake_status(lake: Lake, taxonomy: Taxonomy, lang: str = "zh") -> LakeStatus:
    """Summarise a lake: totals, per month, per family/category (with labels), per source, imports, quarantine.

    Ibis expressions, so ``anju status`` reads the same numbers on DuckDB and Spark; ties are ordered by name.
    """
    import ibis

    t = lake.incidents()
    tot = _records(t.aggregate(n=t.count(), first=t.reported_at.min(), last=t.reported_at.max()))[0]
    by_month = _records(t.group_by(["year", "month"]).aggregate(rows=t.count()).order_by(["year", "month"]))
    cat = t.group_by(["family", "category"]).aggregate(
        rows=t.count(), unknown=(~t.category_known).cast("int64").sum())
    by_cat = _records(cat.order_by(["family", ibis.desc("rows"), "category"]))
    for r in by_cat:
        r["unknown"] = int(r["unknown"] or 0)
        r["family_label"] = taxonomy.label(r["family"], lang) if r["family"] in taxonomy.families else r["family"]
        r["category_label"] = taxonomy.label(r["category"], lang) if r["category"] in taxonomy else r["category"]
    by_source = _records(t.group_by("source").aggregate(rows=t.count(), first=t.reported_at.min(),
                                                        last=t.reported_at.max()).order_by("source"))
    q = lake.quarantine()
    qr = _records(q.group_by("reason").aggregate(rows=q.count()).order_by([ibis.desc("rows"), "reason"]))
    return LakeStatus(
        rows=int(tot["n"]), first=tot["first"], last=tot["last"], by_month=by_month, by_category=by_cat,
        by_source=by_source, imports=lake.imports(), quarantine_by_reason=qr,
        files=len(lake.manifest.files("incidents")), by_year_family=year_family_counts(lake),
        unparsed_values=unparsed_counts(lake.imports()),
    )


def unparsed_counts(imports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Values given but unreadable (kept empty), per field, summed over the imports' reports, largest first.

    >>> unparsed_counts([{"unparsed_values": {"loss": 2}}, {"unparsed_values": {"loss": 1}}, {}])
    [{'field': 'loss', 'rows': 3}]
    """
    total: Counter[str] = Counter()
    for i in imports:
        total.update({str(k): int(v) for k, v in (i.get("unparsed_values") or {}).items()})
    return [{"field": k, "rows": v} for k, v in total.most_common() if v]
