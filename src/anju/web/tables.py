"""Paging, filtering, sorting and Excel export of the tables the pages show.

One :class:`TableQuery` (from ``?q=&sort=&desc=&page=&per=``) applies to in-memory rows (release tables) or to a
SQLAlchemy select (operations records): the sort key is checked against the table's own columns, so a request can
never inject an ORDER BY expression, and filters are bound parameters.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Query
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

__all__ = ["Col", "Page", "TableQuery", "page_rows", "page_select", "table_query", "xlsx_bytes"]

MAX_PER = 500


@dataclass(frozen=True)
class Col:
    """A shown column: key in the row dicts, headers, and whether it is searched by ``q``."""

    key: str
    zh: str
    en: str
    search: bool = False
    kind: str = "text"

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class TableQuery:
    q: str = ""
    sort: str | None = None
    desc: bool = False
    page: int = 1
    per: int = 50


def table_query(
    q: str = Query("", max_length=100, description="filter text"),
    sort: str | None = Query(None, max_length=40, description="column key to sort by"),
    desc: bool = Query(False),
    page: int = Query(1, ge=1, le=100_000),
    per: int = Query(50, ge=1, le=MAX_PER),
) -> TableQuery:
    """FastAPI dependency reading the table parameters of a list page or API call."""
    return TableQuery(q=q.strip(), sort=sort, desc=desc, page=page, per=per)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    count: int
    tq: TableQuery

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.tq.per))


def _sort_value(v: Any) -> tuple[int, Any]:
    if v is None:
        return (2, 0)
    if isinstance(v, (int, float)):
        return (0, v)
    return (1, str(v))


def page_rows(rows: Sequence[dict[str, Any]], cols: Sequence[Col], tq: TableQuery, *, paged: bool = True) -> Page:
    """Filter (``q`` in any searchable column, case-insensitive), sort (a known column only) and page rows."""
    out = list(rows)
    if tq.q:
        needle = tq.q.casefold()
        keys = [c.key for c in cols if c.search] or [c.key for c in cols]
        out = [r for r in out if any(needle in str(r.get(k) or "").casefold() for k in keys)]
    if tq.sort and tq.sort in {c.key for c in cols}:
        key = tq.sort
        nulls = [r for r in out if r.get(key) is None]
        vals = sorted((r for r in out if r.get(key) is not None), key=lambda r: _sort_value(r[key]),
                      reverse=tq.desc)
        out = vals + nulls
    count = len(out)
    if paged:
        start = (tq.page - 1) * tq.per
        out = out[start:start + tq.per]
    return Page(out, count, tq)


def page_select(session: Session, stmt: Select[Any], columns: dict[str, Any], search: Sequence[Any], tq: TableQuery,
                *, default_order: Sequence[Any] = (), paged: bool = True) -> tuple[list[Any], int]:
    """Apply ``tq`` to a select: ``q`` as bound LIKE parameters on ``search`` columns, ``sort`` only among
    ``columns`` (key → column), then count and page. Returns (rows, total)."""
    if tq.q and search:
        pattern = f"%{tq.q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(*[c.ilike(pattern) for c in search]))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if tq.sort in columns:
        col = columns[tq.sort]
        stmt = stmt.order_by(col.desc() if tq.desc else col.asc())
    elif default_order:
        stmt = stmt.order_by(*default_order)
    if paged:
        stmt = stmt.offset((tq.page - 1) * tq.per).limit(tq.per)
    return list(session.scalars(stmt).all()), int(total)


def xlsx_bytes(title: str, cols: Sequence[Col], rows: Sequence[dict[str, Any]], lang: str) -> bytes:
    """An Excel workbook of the rows (one sheet, headers in ``lang``); text is written as text, never formulas."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet((title or "data")[:31].replace("/", "-"))
    bold = wb.add_format({"bold": True})
    for j, c in enumerate(cols):
        ws.write_string(0, j, c.label(lang), bold)
    for i, r in enumerate(rows, start=1):
        for j, c in enumerate(cols):
            v = r.get(c.key)
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, (int, float)) and math.isfinite(float(v)):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, str(v))
    wb.close()
    return buf.getvalue()
