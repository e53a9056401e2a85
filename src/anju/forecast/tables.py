"""Small helpers shared by the table-based functions (三高, alerts): accept pandas or Ibis, find the time column,
label categories."""

from __future__ import annotations

from typing import Any

import pandas as pd

from anju.errors import ConfigError

__all__ = ["as_ibis", "category_label", "require", "time_column"]


def as_ibis(events: Any) -> Any:
    """An Ibis table from an Ibis table, a pandas DataFrame or a pyarrow table (in-memory DuckDB)."""
    import ibis
    import pyarrow as pa

    if isinstance(events, ibis.expr.types.Table):
        return events
    if isinstance(events, pd.DataFrame):
        events = pa.Table.from_pandas(events, preserve_index=False)
    if isinstance(events, pa.Table):
        # DuckDB (through Ibis) holds microseconds; truncate nanosecond timestamps instead of refusing them
        fields = [pa.field(f.name, pa.timestamp("us", f.type.tz)) if pa.types.is_timestamp(f.type) and
                  f.type.unit == "ns" else f for f in events.schema]
        return ibis.memtable(events.cast(pa.schema(fields), safe=False))
    raise ConfigError(f"must be an Ibis table or a pandas DataFrame. Got {type(events).__name__}.", key="events")


def time_column(table: Any) -> str:
    """``reported_at`` (the lake's column) or ``t`` (the forecast models' column)."""
    for name in ("reported_at", "t"):
        if name in table.columns:
            return name
    raise ConfigError(f"events need a 'reported_at' (or 't') column. Got {list(table.columns)}.", key="events")


def require(table: Any, *names: str) -> None:
    """Raise when a column is missing, naming it and what is there."""
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise ConfigError(f"events are missing column(s) {missing}. Got {list(table.columns)}.", key="events")


def category_label(code: str, taxonomy: Any, lang: str = "zh") -> str:
    """Label of a category or family code in ``taxonomy`` (the code itself when unknown, ``全部`` for ``all``)."""
    if code == "all":
        return "全部" if lang == "zh" else "all"
    if code not in taxonomy.families and code not in taxonomy:
        return str(code)
    return str(taxonomy.label(code, lang))
