"""Readers: encodings (detected and given), gzip, XLSX, Parquet, exact row numbers, malformed rows."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anju.errors import EncodingError, IngestError
from anju.ingest.readers import _good_row_numbers, detect_encoding, open_source

HEADER = "接警编号,报警时间,简要案情\n"
ROWS = ["J1,2024年3月2日 14时30分,报警人称电动车被盗", "J2,2024年3月3日 9时5分,\"纠纷，邻里\"", "J3,,噪音扰民"]


def read_all(path: Path, **kw) -> tuple[pa.Table, np.ndarray, list]:
    with open_source(path, **kw) as r:
        batches = list(r)
        cols = r.columns
    tables = [b.table for b in batches]
    table = pa.concat_tables(tables) if tables else pa.table({c: [] for c in cols})
    rows = np.concatenate([b.row_numbers for b in batches]) if batches else np.zeros(0, np.int64)
    return table, rows, [m for b in batches for m in b.malformed]


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
])
def test_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes((HEADER + "\n".join(ROWS) + "\n").encode(encoding))
    with open_source(p) as r:
        assert r.encoding == expected
        assert r.columns == ["接警编号", "报警时间", "简要案情"]  # no BOM left on the first name
        table = pa.concat_tables([b.table for b in r])
    assert table.column("简要案情").to_pylist() == ["报警人称电动车被盗", "纠纷，邻里", "噪音扰民"]
    assert table.column("报警时间").to_pylist()[2] is None  # empty → null
    assert all(pa.types.is_string(f.type) for f in table.schema)


def test_gbk_with_rare_characters_needs_gb18030(tmp_path: Path) -> None:
    # 𠮷 (U+20BB7) exists only in GB18030; "auto" must still read it.
    p = tmp_path / "rare.csv"
    p.write_bytes((HEADER + "J1,2024年3月2日 14时30分,吉祥的𠮷字\n").encode("gb18030"))
    table, _, _ = read_all(p)
    assert table.column("简要案情")[0].as_py() == "吉祥的𠮷字"


def test_detect_on_sample() -> None:
    assert detect_encoding("纯中文".encode("gbk")) == "gb18030"
    assert detect_encoding("纯中文".encode()[:-1]) == "utf-8"  # a cut multibyte char at the end is fine


def test_explicit_wrong_encoding_says_what_to_try(tmp_path: Path) -> None:
    p = tmp_path / "gbk.csv"
    p.write_bytes((HEADER + "\n".join(ROWS) + "\n").encode("gbk"))
    with pytest.raises(EncodingError, match="try --encoding gb18030"):
        read_all(p, encoding="utf-8")


def test_late_decode_failure_is_an_encoding_error(tmp_path: Path) -> None:
    # valid UTF-8 for the whole detection sample, then one GBK row far beyond it
    body = "".join(f"J{i},2024年3月2日 14时30分,正常文本{i}\n" for i in range(120_000))
    p = tmp_path / "mixed.csv"
    p.write_bytes((HEADER + body).encode("utf-8") + "J9,2024年3月2日 14时30分,坏行\n".encode("gbk"))
    with pytest.raises(EncodingError, match="try --encoding"):
        read_all(p)


def test_gzip_csv(tmp_path: Path) -> None:
    p = tmp_path / "x.csv.gz"
    with gzip.open(p, "wb") as fh:
        fh.write((HEADER + "\n".join(ROWS) + "\n").encode("gbk"))
    table, rows, _ = read_all(p)
    assert table.num_rows == 3 and rows.tolist() == [1, 2, 3]
    assert table.column("接警编号").to_pylist() == ["J1", "J2", "J3"]


def test_row_numbers_across_batches_with_malformed_rows(tmp_path: Path) -> None:
    lines = []
    bad = {7, 2500, 2501, 4999, 5000}
    for i in range(1, 5001):
        lines.append(f"J{i},t{i}" if i in bad else f"J{i},t{i},\"文本\n第二行 {i}\"" if i % 1000 == 0
                     else f"J{i},t{i},文本{i}")
    p = tmp_path / "m.csv"
    p.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    table, rows, malformed = read_all(p, batch_rows=1200)

    def line(i: int) -> int:  # record i's first data line: each two-line record before it adds a line
        return i + (i - 1) // 1000

    assert sorted(m.row for m in malformed) == sorted(line(i) for i in bad)
    assert all(m.text == f"J{i},t{i}" for m, i in zip(sorted(malformed, key=lambda m: m.row), sorted(bad),
                                                       strict=True))
    assert len(rows) == table.num_rows == 5000 - len(bad)
    keys = table.column("接警编号").to_pylist()
    assert all(r == line(int(k[1:])) for k, r in zip(keys, rows.tolist(), strict=True))  # exact line numbers
    assert table.column("简要案情").to_pylist()[rows.tolist().index(line(1000))] == "文本\n第二行 1000"


def test_good_row_numbers_merge() -> None:
    assert _good_row_numbers(1, 5, [2, 4, 9]).tolist() == [1, 3, 5, 6, 7]
    assert _good_row_numbers(10, 3, []).tolist() == [10, 11, 12]


def test_skip_rows_and_delimiter(tmp_path: Path) -> None:
    p = tmp_path / "t.txt"
    p.write_text("XX分局110警情导出\n" + HEADER.replace(",", "\t") + "\n".join(r.replace(",", "\t")
                 for r in ["J1\t2024年3月2日 14时30分\t甲", "J2\t2024年3月3日 9时5分\t乙"]) + "\n", encoding="utf-8")
    table, rows, _ = read_all(p, delimiter="\t", skip_rows=1)
    assert table.column("接警编号").to_pylist() == ["J1", "J2"] and rows.tolist() == [1, 2]


def test_xlsx_values_become_text(tmp_path: Path) -> None:
    import datetime as dt

    import xlsxwriter

    p = tmp_path / "x.xlsx"
    wb = xlsxwriter.Workbook(p)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["编号", "时间", "电话", "金额", "空"])
    ws.write_row(1, 0, ["A1", "2024年3月2日 14时30分", 13812345678, 12.5, ""])
    ws.write_datetime(2, 1, dt.datetime(2024, 3, 3, 9, 5), wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
    ws.write_string(2, 0, "A2")
    ws.write_number(2, 2, 2164381234)
    wb.close()
    table, rows, _ = read_all(p)
    assert table.column_names == ["编号", "时间", "电话", "金额", "空"]
    assert table.column("电话").to_pylist() == ["13812345678", "2164381234"]
    assert table.column("时间").to_pylist() == ["2024年3月2日 14时30分", "2024-03-03 09:05:00"]
    assert table.column("金额").to_pylist() == ["12.5", None]
    assert rows.tolist() == [1, 2]


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    import datetime as dt

    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "phone": pa.array([13812345678.0, None]),
        "lon": pa.array([121.5, 121.25]),
        "t": pa.array([dt.datetime(2024, 3, 2, 14, 30), dt.datetime(2024, 3, 3)], pa.timestamp("ms")),
    }), p)
    table, rows, _ = read_all(p, batch_rows=1)
    assert table.column("id").to_pylist() == ["1", "2"]
    assert table.column("phone").to_pylist() == ["13812345678", None]
    assert table.column("lon").to_pylist() == ["121.5", "121.25"]
    assert table.column("t").to_pylist() == ["2024-03-02 14:30:00", "2024-03-03 00:00:00"]
    assert rows.tolist() == [1, 2]


def test_unsupported_and_empty_files(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(IngestError, match="unsupported file type"):
        open_source(p)
    e = tmp_path / "empty.csv"
    e.write_text("")
    with pytest.raises(IngestError, match="empty"):
        open_source(e)


def test_progress_counts_bytes(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text(HEADER + "\n".join(f"J{i},t,文本" for i in range(50_000)) + "\n", encoding="utf-8")
    with open_source(p, batch_rows=10_000) as r:
        seen = []
        for _ in r:
            seen.append(r.bytes_read)
        assert r.bytes_read == r.total_bytes == p.stat().st_size
    assert seen == sorted(seen)


def test_gbk_transcoded_in_blocks_that_cut_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anju.ingest import readers

    monkeypatch.setattr(readers._IconvStream, "BLOCK", 7)  # odd block size: cuts 2-byte GBK and 4-byte GB18030
    rows = [f"J{i},2024年3月{i % 28 + 1}日 14时30分,第{i}号吉祥的𠮷字，邻里纠纷" for i in range(300)]
    p = tmp_path / "blocks.csv"
    p.write_bytes((HEADER + "\n".join(rows) + "\n").encode("gb18030"))
    table, nums, _ = read_all(p, encoding="gb18030")
    assert table.column("简要案情").to_pylist() == [r.split(",")[2] for r in rows]
    assert nums.tolist() == list(range(1, 301))


def test_invalid_gbk_byte_late_in_the_file_names_its_offset(tmp_path: Path) -> None:
    body = "".join(f"J{i},2024年3月2日 14时30分,正常文本{i}\n" for i in range(120_000)).encode("gbk")  # > sample
    p = tmp_path / "bad.csv"
    p.write_bytes(HEADER.encode("gbk") + body + b"J9,x,\xff\xfe\n")
    with pytest.raises(EncodingError, match=r"not valid gb18030.*byte \d+.*try --encoding utf-8"):
        read_all(p, encoding="gb18030")
    p.write_bytes(HEADER.encode("gbk") + body + b"J9,x,\x81")  # cut in the middle of the last character
    with pytest.raises(EncodingError, match="incomplete"):
        read_all(p, encoding="gb18030")


def _stream_bytes(data: bytes, encoding: str, *, native: bool, block: int) -> bytes | str:
    """All the UTF-8 of ``data`` through :class:`_IconvStream` (or the error message)."""
    import io

    from anju.ingest import readers

    s = readers._IconvStream.open(io.BytesIO(data), encoding, Path("x.csv"), native=native)
    assert s is not None and (s._table is not None) == native
    s.BLOCK = block
    try:
        return s.read()
    except EncodingError as exc:
        return str(exc)
    finally:
        s.close()


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
@pytest.mark.parametrize("block", [5, 7, 64, 4 << 20])
def test_double_byte_table_gives_iconvs_output_and_errors(encoding: str, block: int) -> None:
    # the C kernel's table path (up to the first code it lacks, then iconv) against iconv alone: same UTF-8 for
    # every two-byte code, four-byte GB18030 characters, ASCII and block cuts, and the same error at the same offset
    from anju.ingest import kernels

    if kernels.native() is None:
        pytest.skip("C kernel not built")
    every = b"".join(bytes([a, b]) for a in range(0x81, 0xFF) for b in range(0x40, 0xFF) if b != 0x7F)
    valid = every.decode(encoding, errors="ignore").encode(encoding)  # the two-byte codes Python knows
    rng = np.random.default_rng(3)
    parts = [valid[2 * i : 2 * i + 2] for i in rng.integers(0, len(valid) // 2, 3000)]
    parts += [b"abc,123\n"] * 300
    if encoding == "gb18030":
        parts += ["𠮷€".encode("gb18030"), b"\x81\x30\x81\x30"] * 50  # four-byte sequences
    order = rng.permutation(len(parts))
    good = b"".join(parts[i] for i in order)
    native = _stream_bytes(good, encoding, native=True, block=block)
    assert native == _stream_bytes(good, encoding, native=False, block=block)
    if encoding == "gb18030":  # (glibc's GBK lacks a few codes Python's has: there only the equality above holds)
        assert isinstance(native, bytes) and len(native) > len(good)
        assert native == good.decode(encoding).encode()  # and Python's codec agrees
    for bad in (good[:1001] + b"\xff" + good[1001:], good + b"\x81", good[:2000] + b"\x80\x40" + good[2000:]):
        a = _stream_bytes(bad, encoding, native=True, block=block)
        assert a == _stream_bytes(bad, encoding, native=False, block=block)
        assert isinstance(a, str) and "byte" in a
