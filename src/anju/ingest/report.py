"""The import report: what an ingest read, loaded and quarantined, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table

from anju.lake.schema import QUARANTINE_REASONS

__all__ = ["LEVEL_LABELS", "UNPARSED_LABELS", "ImportReport"]

LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "district": ("区县", "district"),
    "street": ("街道/镇", "street/town"),
    "community": ("社区", "community"),
    "grid": ("网格", "grid"),
    "station": ("派出所", "police station"),
    "police_district": ("警区", "police district"),
    "no_areas": ("未加载区域", "no areas loaded"),
}


#: labels (zh, en) of the fields whose unreadable values are counted (``unparsed_values``)
UNPARSED_LABELS = {"loss": ("涉案金额", "loss amounts")}


@dataclass
class ImportReport:
    """Outcome of :func:`anju.ingest.pipeline.ingest_file` (also what the manifest records for the import)."""

    import_id: str
    source: str
    source_file: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    unknown_categories: dict[str, int] = field(default_factory=dict)
    unassigned_by_level: dict[str, int] = field(default_factory=dict)
    skipped_duplicate_file: bool = False
    encoding: str | None = None
    seconds: float = 0.0
    metric_crs: str | None = None
    #: data lines of the source counted independently of the parser (rows for Excel/Parquet)
    data_lines: int = 0
    #: empty lines (nothing to load)
    blank_lines: int = 0
    #: lines re-read one by one after the quoting went out of sync
    lines_reread: int = 0
    #: what the reader changed on the way (zh / en)
    notes: list[str] = field(default_factory=list)
    #: loaded rows with a value given but unreadable (kept as null), per field: e.g. ``{"loss": 3}``
    unparsed_values: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, entry: dict[str, Any], *, skipped: bool = False) -> ImportReport:
        """The report of an import already in the manifest (``skipped`` when the file was imported again)."""
        names = set(cls.__dataclass_fields__)
        kw = {k: v for k, v in entry.items() if k in names}
        kw["skipped_duplicate_file"] = skipped
        kw.setdefault("seconds", 0.0)
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def to_table(self, lang: str = "zh") -> Table:
        """A Rich table for the terminal (Chinese first, English beside)."""
        zh = lang == "zh"

        def lab(z: str, e: str) -> str:
            return f"{z} / {e}" if zh else e

        title = lab("导入报告", "import report") + f" — {self.source_file} ({self.source})"
        t = Table(title=title, show_header=True, header_style="bold")
        t.add_column(lab("项目", "item"))
        t.add_column(lab("行数", "rows"), justify="right")
        if self.skipped_duplicate_file:
            t.add_row(lab("此文件已导入过，未做任何改动", "file already imported; nothing changed"),
                      self.import_id)
        if self.data_lines:
            t.add_row(lab("数据行（独立计数）", "data lines (counted apart)"), f"{self.data_lines:,}")
        if self.blank_lines:
            t.add_row(lab("空行", "empty lines"), f"{self.blank_lines:,}")
        if self.lines_reread:
            t.add_row(lab("逐行重读（引号不配对）", "re-read line by line (quotes out of sync)"),
                      f"{self.lines_reread:,}")
        t.add_row(lab("读取", "rows read"), f"{self.rows_read:,}")
        t.add_row(lab("入库", "loaded"), f"{self.rows_loaded:,}")
        t.add_row(lab("隔离", "quarantined"), f"{self.rows_quarantined:,}")
        for code, count in sorted(self.quarantine_by_reason.items(), key=lambda kv: -kv[1]):
            z, e = QUARANTINE_REASONS.get(code, (code, code))
            t.add_row(f"  └ {lab(z, e)} ({code})", f"{count:,}")
        total_unknown = sum(self.unknown_categories.values())
        t.add_row(lab("未知类别（归入其他/未分类）", "unknown categories (kept as other.unknown)"),
                  f"{total_unknown:,}")
        for cat, count in sorted(self.unknown_categories.items(), key=lambda kv: -kv[1])[:10]:
            t.add_row(f"  └ {cat}", f"{count:,}")
        if len(self.unknown_categories) > 10:
            t.add_row(f"  └ … {len(self.unknown_categories) - 10} " + lab("种其他", "more"), "")
        for level, count in self.unassigned_by_level.items():
            z, e = LEVEL_LABELS.get(level, (level, level))
            t.add_row(lab(f"未分配到{z}", f"unassigned ({e})"), f"{count:,}")
        if self.seconds and not self.skipped_duplicate_file:
            t.add_row(lab("用时", "time"), f"{self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)")
        for fld, count in sorted(self.unparsed_values.items()):
            z, e = UNPARSED_LABELS.get(fld, (fld, fld))
            t.add_row(lab(f"无法识别的{z}（留空）", f"unreadable {e} (kept empty)"), f"{count:,}")
        for note in self.notes:
            z, _, e = note.partition(" / ")
            t.add_row(lab("说明：" + z, "note: " + (e or z)), "")
        t.caption = f"import_id = {self.import_id}"
        return t
