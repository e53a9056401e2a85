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


def _rows(lake: Lake, sql: str) -> list[dict[str, Any]]:
    cur = lake.duckdb.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def year_family_counts(lake: Lake) -> dict[tuple[int, str], int]:
    """Incidents per (year, family): the one count behind ``anju status`` and ``anju demo``'s summary."""
    return {(int(r["year"]), str(r["family"])): int(r["n"]) for r in
            _rows(lake, "SELECT year, family, count(*) AS n FROM incidents GROUP BY ALL ORDER BY year, family")}


def lake_status(lake: Lake, taxonomy: Taxonomy, lang: str = "zh") -> LakeStatus:
    """Summarise a lake: totals, per month, per family/category (with labels), per source, imports, quarantine."""
    tot = _rows(lake, "SELECT count(*) AS n, min(reported_at) AS first, max(reported_at) AS last FROM incidents")[0]
    by_month = _rows(lake, "SELECT year, month, count(*) AS rows FROM incidents GROUP BY ALL ORDER BY year, month")
    by_cat = _rows(lake, "SELECT family, category, count(*) AS rows, sum(CASE WHEN category_known THEN 0 ELSE 1 END)"
                         " AS unknown FROM incidents GROUP BY ALL ORDER BY family, rows DESC")
    for r in by_cat:
        r["family_label"] = taxonomy.label(r["family"], lang) if r["family"] in taxonomy.families else r["family"]
        r["category_label"] = taxonomy.label(r["category"], lang) if r["category"] in taxonomy else r["category"]
    by_source = _rows(lake, "SELECT source, count(*) AS rows, min(reported_at) AS first, max(reported_at) AS last "
                            "FROM incidents GROUP BY ALL ORDER BY source")
    qr = _rows(lake, "SELECT reason, count(*) AS rows FROM quarantine GROUP BY ALL ORDER BY rows DESC")
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
