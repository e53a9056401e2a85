"""The bad-input corpus: source files as hostile exports write them, generated (no blobs checked in).

Each :class:`Case` is a file plus what a correct import does with it: the data lines it holds, and either the
error an import must stop with (nothing written) or how many rows load and which quarantine reasons appear.
``python tests/ingest/bad_inputs.py DIR`` writes the corpus to DIR and prints it; the tests build it in a
temporary folder (tests/ingest/test_bad_inputs.py).
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from anju.ingest.sample import CN110_COLUMNS, cn110_sample

__all__ = ["MAKERS", "Case", "build"]


@dataclass
class Case:
    """One bad input and what a correct import does with it."""

    name: str
    file: str
    data_lines: int
    #: the import must fail with an error containing each of these (and write nothing)
    error: tuple[str, ...] = ()
    #: rows that must load (exactly)
    loaded: int | None = None
    #: quarantine reasons that must appear, with their exact counts
    reasons: dict[str, int] = field(default_factory=dict)
    #: extra options of ingest_file
    options: dict[str, str] = field(default_factory=dict)


def _rows(n: int, seed: int) -> list[list[str]]:
    t = cn110_sample(n, seed=seed, days=60)
    cols = [t.column(c).to_pylist() for c in CN110_COLUMNS]
    return [["" if cols[j][i] is None else cols[j][i] for j in range(len(cols))] for i in range(n)]


def _csv_text(rows: list[list[str]], quoting: int = csv.QUOTE_MINIMAL) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=quoting, lineterminator="\n", escapechar="\\" if quoting == csv.QUOTE_NONE else None)
    w.writerow(CN110_COLUMNS)
    w.writerows(rows)
    return buf.getvalue()


TEXT = CN110_COLUMNS.index("简要案情")


def _stray_quote_unquoted(d: Path) -> Case:
    # an unquoted export (no field is ever quoted) whose row 71 text starts with a quote
    rows = _rows(1000, 1)
    for r in rows:
        r[TEXT] = r[TEXT].replace(",", "，")
    rows[70][TEXT] = '"' + rows[70][TEXT]
    (d / "stray_quote_unquoted.csv").write_text(_csv_text(rows, csv.QUOTE_NONE).replace("\\\"", '"'),
                                                encoding="utf-8")
    return Case("stray_quote_unquoted", "stray_quote_unquoted.csv", 1000, loaded=999,
                reasons={"quoting_out_of_sync": 1})


def _stray_quote_minimal(d: Path) -> Case:
    # a QUOTE_MINIMAL export: some texts carry an ASCII comma (so they are quoted); one text starts with a quote
    # character that the exporting system did not escape
    rows = _rows(3000, 2)
    for i, r in enumerate(rows):
        r[TEXT] = r[TEXT].replace("，", ",") if i % 40 == 0 else r[TEXT].replace(",", "，")
    text = _csv_text(rows)
    lines = text.split("\n")
    k = 1 + 1234  # data row 1234 (line 1 is the header)
    cells = lines[k].split(",")
    cells[TEXT] = '"' + cells[TEXT]
    lines[k] = ",".join(cells)
    (d / "stray_quote_minimal.csv").write_text("\n".join(lines), encoding="utf-8")
    return Case("stray_quote_minimal", "stray_quote_minimal.csv", 3000, loaded=2999,
                reasons={"quoting_out_of_sync": 1})


def _unclosed_quote_big(d: Path) -> Case:
    # an unclosed quote early in a file larger than the parser's block, with no other quote after it: the parser
    # cannot hold the record, so every line from there on is read one by one
    rows = _rows(30_000, 3)
    for r in rows:
        r[TEXT] = r[TEXT].replace(",", "，")
    rows[99][TEXT] = '"' + rows[99][TEXT]
    (d / "unclosed_quote_big.csv").write_text(_csv_text(rows, csv.QUOTE_NONE).replace("\\\"", '"'),
                                              encoding="utf-8")
    return Case("unclosed_quote_big", "unclosed_quote_big.csv", 30_000, loaded=29_999,
                reasons={"quoting_out_of_sync": 1})


def _huge_field(d: Path) -> Case:
    rows = _rows(500, 4)
    rows[199][TEXT] = "很长的案情" * 900_000  # 13.5 MB in one field
    (d / "huge_field.csv").write_text(_csv_text(rows), encoding="utf-8")
    return Case("huge_field", "huge_field.csv", 500, loaded=499, reasons={"field_too_long": 1})


def _truncated_gz(d: Path) -> Case:
    data = gzip.compress(_csv_text(_rows(5000, 5)).encode())
    (d / "truncated.csv.gz").write_bytes(data[: len(data) * 2 // 3])
    return Case("truncated_gz", "truncated.csv.gz", 5000, error=("truncated.csv.gz", "truncated"))


def _blank_lines(d: Path) -> Case:
    text = _csv_text(_rows(300, 6)).split("\n")
    text.insert(50, "")
    text.insert(120, "")
    text.insert(121, ",,,,,,,,,,,")
    (d / "blank_lines.csv").write_text("\n".join(text), encoding="utf-8")
    return Case("blank_lines", "blank_lines.csv", 303, loaded=300, reasons={})


def _encoding(name: str, encoding: str, bom: bytes = b"") -> Callable[[Path], Case]:
    def make(d: Path) -> Case:
        text = _csv_text(_rows(400, 7)).encode(encoding)
        (d / f"{name}.csv").write_bytes(bom + text)
        return Case(name, f"{name}.csv", 400, loaded=400)
    return make


def _xlsx_duplicate_header(d: Path) -> Case:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(d / "dup_header.xlsx"))
    ws = wb.add_worksheet()
    header = list(CN110_COLUMNS)
    header[CN110_COLUMNS.index("管辖单位")] = "报警人"  # the caller column twice
    ws.write_row(0, 0, header)
    for i, r in enumerate(_rows(20, 8), start=1):
        ws.write_row(i, 0, r)
    wb.close()
    return Case("xlsx_duplicate_header", "dup_header.xlsx", 20, error=("dup_header.xlsx", "报警人"))


def _xlsx_merged(d: Path) -> Case:
    import xlsxwriter

    rows = _rows(30, 9)
    wb = xlsxwriter.Workbook(str(d / "merged.xlsx"))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, CN110_COLUMNS)
    for i, r in enumerate(rows, start=1):
        ws.write_row(i, 0, r)
    unit = CN110_COLUMNS.index("管辖单位")
    ws.merge_range(1, unit, 10, unit, rows[0][unit])  # one unit for the first ten rows, as report exports do
    wb.close()
    return Case("xlsx_merged_cells", "merged.xlsx", 30, loaded=30)


def _parquet_duplicate(d: Path) -> Case:
    t = pa.table([pa.array(["J1", "J2"]), pa.array(["2024-03-01 10:00", "2024-03-01 11:00"]),
                  pa.array(["J1", "J2"])], names=["接警编号", "报警时间", "接警编号"])
    pq.write_table(t, d / "dup_columns.parquet")
    return Case("parquet_duplicate_columns", "dup_columns.parquet", 2, error=("dup_columns.parquet", "接警编号"))


def _parquet_nested(d: Path, mapped: bool) -> Case:
    t = cn110_sample(50, seed=10, days=30)
    nested = pa.array([[1, 2]] * 50, pa.list_(pa.int64()))
    blob = pa.array([b"\x00\xff"] * 50, pa.binary())
    if mapped:  # the caller column is a struct: mapped, so a clear error
        t = t.set_column(CN110_COLUMNS.index("报警人"), "报警人",
                         pa.array([{"name": "张三"}] * 50, pa.struct([("name", pa.string())])))
    t = t.append_column("附件", blob).append_column("标签", nested)
    name = "nested_mapped.parquet" if mapped else "nested_unmapped.parquet"
    pq.write_table(t, d / name)
    if mapped:
        return Case("parquet_nested_mapped", name, 50, error=(name, "报警人", "struct"))
    return Case("parquet_nested_unmapped", name, 50, loaded=50)


MAKERS: list[Callable[[Path], Case]] = [
    _stray_quote_unquoted, _stray_quote_minimal, _unclosed_quote_big, _huge_field, _truncated_gz, _blank_lines,
    _encoding("utf8_bom", "utf-8", b"\xef\xbb\xbf"), _encoding("utf16_bom", "utf-16"),
    _encoding("utf16le_bom", "utf-16-le", b"\xff\xfe"), _encoding("gbk", "gbk"),
    _xlsx_duplicate_header, _xlsx_merged, _parquet_duplicate,
    lambda d: _parquet_nested(d, False), lambda d: _parquet_nested(d, True),
]


def build(d: Path) -> list[Case]:
    """Write every case into ``d``; returns them."""
    d.mkdir(parents=True, exist_ok=True)
    return [make(d) for make in MAKERS]


if __name__ == "__main__":  # pragma: no cover - a manual aid
    for c in build(Path(sys.argv[1] if len(sys.argv) > 1 else "bad-inputs")):
        print(f"{c.name:28s} {c.file:28s} lines={c.data_lines:<6d} "
              + (f"error={c.error}" if c.error else f"loaded={c.loaded} reasons={c.reasons}"))
