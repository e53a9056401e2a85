"""The Arrow schemas of the lake's tables (docs/data-model.md is the human-readable twin).

``year`` and ``month`` are Hive partition keys: they live in the directory names, not in the files, so they are
absent from :data:`INCIDENT_FILE_SCHEMA` and present (as int32) in :data:`INCIDENT_SCHEMA`, the schema readers see.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "AREA_LEVELS",
    "INCIDENT_FILE_SCHEMA",
    "INCIDENT_SCHEMA",
    "QUARANTINE_REASONS",
    "QUARANTINE_SCHEMA",
]

#: Area-id columns, in the order of :data:`anju.geo.areas.LAYERS`.
AREA_LEVELS: tuple[str, ...] = ("district", "street", "community", "grid", "station", "police_district")

INCIDENT_FILE_SCHEMA = pa.schema(
    [
        pa.field("record_key", pa.string(), nullable=False),
        pa.field("import_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_row", pa.int64(), nullable=False),
        pa.field("reported_at", pa.timestamp("us"), nullable=False),
        pa.field("reported_at_utc", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("family", pa.string(), nullable=False),
        pa.field("category_known", pa.bool_(), nullable=False),
        pa.field("source_category", pa.string()),
        pa.field("source_subcategory", pa.string()),
        pa.field("lon", pa.float64()),
        pa.field("lat", pa.float64()),
        pa.field("x", pa.float64()),
        pa.field("y", pa.float64()),
        pa.field("h3_9", pa.int64()),
        *[pa.field(f"{level}_id", pa.string()) for level in AREA_LEVELS],
        pa.field("assign_method", pa.string()),
        pa.field("address", pa.string()),
        pa.field("text", pa.string()),
        pa.field("unit", pa.string()),
        pa.field("loss_yuan", pa.float64()),
        pa.field("caller_hash", pa.binary(32)),  # HMAC-SHA256 digest
        pa.field("phone_hash", pa.binary(32)),
        pa.field("caller_masked", pa.string()),
        pa.field("phone_masked", pa.string()),
        # what the source time said: "minute" (or finer), "hour", or "day" (a date only, placed at midnight);
        # null in files written before lake version 3 (see anju.lake.manifest)
        pa.field("time_precision", pa.string()),
    ]
)

INCIDENT_SCHEMA = INCIDENT_FILE_SCHEMA.insert(
    6, pa.field("year", pa.int32(), nullable=False)
).insert(7, pa.field("month", pa.int32(), nullable=False))

QUARANTINE_REASONS: dict[str, tuple[str, str]] = {
    # code: (zh, en), in the order the checks run (a row gets the first one it fails)
    "missing_key": ("缺少记录编号", "missing record key"),
    "missing_time": ("缺少时间", "missing time"),
    "bad_time": ("时间无法解析", "unparseable time"),
    "impossible_date": ("日期不合理", "impossible date"),
    "bad_coords": ("坐标无效", "invalid coordinates"),
    "coords_out_of_bounds": ("坐标超出辖区范围", "coordinates outside the district bounds"),
    "outside_areas": ("不在任何区域内", "outside every area"),
    "duplicate_key": ("记录编号重复", "duplicate record key"),
    "malformed_row": ("行格式错误", "malformed row"),
    "quoting_out_of_sync": ("引号不配对", "quotes out of sync"),
    "field_too_long": ("字段过长", "field too long"),
}

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("import_id", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_row", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("raw", pa.string()),
    ]
)
