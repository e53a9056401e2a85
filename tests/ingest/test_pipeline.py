"""End-to-end ingest of small files made here: every quarantine reason, idempotence, duplicates, PII, areas."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anju.config import Settings, deployment_secret
from anju.errors import DataNotFoundError, ProfileError
from anju.geo.coords import wgs84_to_gcj02
from anju.ingest import check_file, ingest_file
from anju.ingest.sample import CN110_COLUMNS, cn110_sample, write_csv
from anju.lake import connect
from anju.lake.schema import INCIDENT_SCHEMA

GOOD_TIME = "2024年3月2日 14时30分"


def gcj(lon: float, lat: float) -> tuple[str, str]:
    x, y = wgs84_to_gcj02([lon], [lat])
    return f"{x[0]:.7f}", f"{y[0]:.7f}"


def row(key: str, **kw: str | None) -> dict[str, str | None]:
    lon, lat = gcj(121.37, 31.09)  # inside community c1
    base: dict[str, str | None] = {
        "接警编号": key, "报警时间": GOOD_TIME, "警情类别": "盗窃", "警情细类": "入室盗窃", "简要案情": "报警人称家中被盗。",
        "案发地址": "闵行区莘庄路1号", "经度": lon, "纬度": lat, "报警人": "张三", "报警电话": "13812345678",
        "管辖单位": "莘庄派出所", "涉案金额": None,
    }
    base.update(kw)
    return base


def write_rows(path: Path, rows: list[dict[str, str | None]], encoding: str = "gbk") -> Path:
    table = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in CN110_COLUMNS})
    return write_csv(table, path, encoding=encoding)


def crafted_rows() -> list[dict[str, str | None]]:
    far = gcj(116.40, 39.90)  # Beijing: far outside the areas' bounds
    near_outside = gcj(121.4005, 31.09)  # ~50 m east of c2 → nearest within 200 m
    outside = gcj(121.41, 31.09)  # ~1 km east of c2: inside the padded bounds, outside every area
    return [
        row("A1", 简要案情="报警人欧阳小明称被骗，电话13987654321，身份证310101199001011234", 报警人="欧阳小明",
            报警电话="+86 139-8765-4321", 警情类别="诈骗", 警情细类="刷单返利诈骗", 涉案金额="1.2万"),  # 1 ok
        row("A2", 报警时间=None),  # 2 missing_time
        row("A3", 报警时间="2024年13月45日 10时00分"),  # 3 bad_time
        row("A4", 报警时间="1985年1月1日 10时00分"),  # 4 impossible_date
        row("A5", 报警时间="2099年1月1日 10时00分"),  # 5 impossible_date (future)
        row("A6", 报警时间="2023年2月30日 10时00分"),  # 6 bad_time (no 30 February)
        row("A7", 经度="abc"),  # 7 bad_coords
        row("A8", 纬度="90"),  # 8 bad_coords
        row("A9", 经度=far[0], 纬度=far[1]),  # 9 coords_out_of_bounds
        row("A10", 经度=outside[0], 纬度=outside[1]),  # 10 outside_areas
        row("", 报警人="李四"),  # 11 missing_key
        row("A1", 报警人="王五"),  # 12 duplicate_key (of row 1)
        row("A13", 警情类别="外星事件", 警情细类="飞碟"),  # 13 unknown category → kept
        row("A14", 经度=None, 纬度=None),  # 14 no coordinates → kept, unassigned
        row("A15", 经度=near_outside[0], 纬度=near_outside[1], 报警时间="2024/3/5 08:15"),  # 15 nearest
        row("A16", 报警时间="2024-03-06T09:00:00+08:00"),  # 16 ISO with offset
    ]


EXPECTED_REASONS = {2: "missing_time", 3: "bad_time", 4: "impossible_date", 5: "impossible_date", 6: "bad_time",
                    7: "bad_coords", 8: "bad_coords", 9: "coords_out_of_bounds", 10: "outside_areas",
                    11: "missing_key", 12: "duplicate_key"}


@pytest.fixture
def crafted(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "calls.csv", crafted_rows())


def test_every_reason_with_exact_rows(settings: Settings, communities, crafted: Path) -> None:
    rep = ingest_file(settings, crafted, profile="cn110")
    assert rep.encoding == "gb18030"
    assert rep.rows_read == 16
    assert rep.rows_loaded == 16 - len(EXPECTED_REASONS)
    assert rep.rows_quarantined == len(EXPECTED_REASONS)
    expected_counts: dict[str, int] = {}
    for r in EXPECTED_REASONS.values():
        expected_counts[r] = expected_counts.get(r, 0) + 1
    assert rep.quarantine_by_reason == expected_counts
    assert rep.unknown_categories == {"外星事件 | 飞碟": 1}
    assert rep.unassigned_by_level == {"community": 1}  # row 14 has no coordinates

    with connect(settings) as lake:
        q = lake.quarantine().execute()
        got = dict(zip(q["source_row"], q["reason"], strict=True))
        assert got == EXPECTED_REASONS
        assert set(q["source_file"]) == {"calls.csv"}
        assert all(q["detail"].str.len() > 5)
        inc = lake.incidents().execute().set_index("source_row").sort_index()
    assert list(inc.index) == [1, 13, 14, 15, 16]
    assert inc.loc[13, "category"] == "other.unknown" and not inc.loc[13, "category_known"]
    assert inc.loc[1, "category"] == "fraud.rebate" and inc.loc[1, "family"] == "fraud"
    assert inc.loc[1, "loss_yuan"] == 12000.0
    assert inc.loc[1, "community_id"] == "c1" and inc.loc[1, "assign_method"] == "polygon"
    assert inc.loc[15, "community_id"] == "c2" and inc.loc[15, "assign_method"] == "nearest"
    assert inc.loc[14, "community_id"] is None or inc.loc[14, "community_id"] != inc.loc[14, "community_id"]
    assert str(inc.loc[15, "reported_at"]) == "2024-03-05 08:15:00"
    assert str(inc.loc[16, "reported_at"]) == "2024-03-06 09:00:00"
    assert str(inc.loc[1, "reported_at_utc"]) == "2024-03-02 06:30:00+00:00"
    assert (inc["year"] == 2024).all() and (inc["month"] == 3).all()
    # WGS-84 back from GCJ-02 within a few centimetres
    assert abs(inc.loc[1, "lon"] - 121.37) < 1e-6 and abs(inc.loc[1, "lat"] - 31.09) < 1e-6
    assert inc.loc[1, "record_key"] == "cn110:A1"
    # personal data: masked + HMAC of the normalised value with the deployment secret
    key = deployment_secret(settings)
    assert inc.loc[1, "caller_masked"] == "欧阳**"
    assert inc.loc[1, "phone_masked"] == "139****4321"
    assert inc.loc[1, "phone_hash"] == hmac.new(key, b"13987654321", hashlib.sha256).digest()
    assert inc.loc[1, "caller_hash"] == hmac.new(key, "欧阳小明".encode(), hashlib.sha256).digest()
    assert inc.loc[1, "text"] == "报警人欧阳**称被骗，电话139****4321，身份证3101**********1234"


def test_schema_matches_the_data_model(settings: Settings, crafted: Path) -> None:
    ingest_file(settings, crafted, profile="cn110")
    with connect(settings) as lake:
        schema = lake.incidents().schema()
        assert list(schema.names) == INCIDENT_SCHEMA.names
        arrow = lake.incidents().to_pyarrow()
    assert arrow.schema.field("reported_at").type == pa.timestamp("us")
    assert arrow.schema.field("reported_at_utc").type.tz == "UTC"
    assert arrow.schema.field("year").type == pa.int32()
    for f in lake_files(settings, "incidents"):
        file_schema = pq.read_schema(f)
        assert "year" not in file_schema.names and "month" not in file_schema.names  # Hive keys live in paths


def ngrams(text: str) -> set[str]:
    """All substrings of 2–4 characters (Chinese names are 2–4 characters long)."""
    return {text[i:i + k] for k in (2, 3, 4) for i in range(len(text) - k + 1)}


def lake_files(settings: Settings, table: str) -> list[Path]:
    return sorted((settings.paths.lake / table).rglob("*.parquet"))


def test_no_personal_data_in_clear_anywhere(settings: Settings, tmp_path: Path) -> None:
    t = cn110_sample(3000, seed=7)
    # make some rows quarantined so the quarantine's raw JSON is checked too
    times = t.column("报警时间").to_pylist()
    for i in range(0, 3000, 10):
        times[i] = "不是时间"
    t = t.set_column(1, "报警时间", pa.array(times, pa.string()))
    path = write_csv(t, tmp_path / "pii.csv", encoding="gb18030")
    rep = ingest_file(settings, path, profile="cn110")
    assert rep.quarantine_by_reason == {"bad_time": 300}
    phones = set(t.column("报警电话").to_pylist())
    names = {n for n in t.column("报警人").to_pylist() if len(n) >= 2}
    files = lake_files(settings, "incidents") + lake_files(settings, "quarantine")
    assert files
    # 1. every string value read back from every file
    values: list[str] = []
    for f in files:
        tab = pq.read_table(f)
        for col in tab.columns:
            if pa.types.is_string(col.type):
                values.extend(v for v in col.to_pylist() if v)
    blob = "\n".join(values)
    assert not phones & set(re.findall(r"\d{11}", blob))
    assert not names & ngrams(blob), sorted(names & ngrams(blob))[:5]
    assert "3101" in blob and "**********" in blob  # ID numbers from the texts appear only masked
    # 2. the raw bytes (footers, statistics, uncompressed pages) of every file
    for f in files:
        data = f.read_bytes()
        assert not phones & {m.decode() for m in re.findall(rb"\d{11}", data)}, f
        runs = "\n".join(m.decode() for m in re.findall(rb"(?:[\xe4-\xe9][\x80-\xbf]{2}){2,}", data))
        assert not names & ngrams(runs), f
    # 3. the manifest too
    manifest = settings.paths.manifest.read_text(encoding="utf-8")
    assert not any(p in manifest for p in phones)


def test_same_file_twice_changes_nothing(settings: Settings, crafted: Path) -> None:
    first = ingest_file(settings, crafted, profile="cn110")
    manifest_before = settings.paths.manifest.read_bytes()
    files_before = {p: p.stat().st_mtime_ns for p in settings.paths.lake.rglob("*.parquet")}
    again = ingest_file(settings, crafted, profile="cn110")
    assert again.skipped_duplicate_file
    assert again.import_id == first.import_id and again.rows_loaded == first.rows_loaded
    assert settings.paths.manifest.read_bytes() == manifest_before
    assert {p: p.stat().st_mtime_ns for p in settings.paths.lake.rglob("*.parquet")} == files_before


def test_file_identity_is_blake3(settings: Settings, crafted: Path) -> None:
    from blake3 import blake3

    ingest_file(settings, crafted, profile="cn110")
    entry = json.loads(settings.paths.manifest.read_text(encoding="utf-8"))["imports"][0]
    assert entry["file_blake3"] == blake3(crafted.read_bytes()).hexdigest()
    assert "file_sha256" not in entry


def test_a_file_imported_under_sha256_is_still_recognised(settings: Settings, crafted: Path) -> None:
    """Imports recorded before BLAKE3 carry only ``file_sha256``: re-importing that file is still a no-op."""
    first = ingest_file(settings, crafted, profile="cn110")
    path = settings.paths.manifest
    data = json.loads(path.read_text(encoding="utf-8"))
    entry = data["imports"][0]
    del entry["file_blake3"]
    entry["file_sha256"] = hashlib.sha256(crafted.read_bytes()).hexdigest()
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = ingest_file(settings, crafted, profile="cn110")
    assert again.skipped_duplicate_file and again.import_id == first.import_id
    entry["file_sha256"] = "0" * 64  # a different file of the same size is imported
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    other = ingest_file(settings, crafted, profile="cn110")
    assert not other.skipped_duplicate_file and other.import_id != first.import_id


def test_keys_already_in_the_lake_are_quarantined(settings: Settings, tmp_path: Path) -> None:
    a = write_rows(tmp_path / "a.csv", [row("K1"), row("K2"), row("K3")])
    b = write_rows(tmp_path / "b.csv", [row("K3", 报警人="赵六"), row("K4"), row("K4")], encoding="utf-8")
    ra = ingest_file(settings, a, profile="cn110")
    rb = ingest_file(settings, b, profile="cn110")
    assert ra.rows_loaded == 3
    assert rb.rows_loaded == 1 and rb.quarantine_by_reason == {"duplicate_key": 2}
    with connect(settings) as lake:
        keys = sorted(lake.incidents().record_key.execute())
        q = lake.quarantine().execute()
    assert keys == ["cn110:K1", "cn110:K2", "cn110:K3", "cn110:K4"]
    qb = q[q.source_file == "b.csv"].sort_values("source_row")
    assert list(qb.source_row) == [1, 3]
    raw = json.loads(qb.iloc[0]["raw"])
    assert raw["报警人"] == "赵*" and raw["报警电话"] == "138****5678"


def test_without_areas_everything_is_unassigned(settings: Settings, tmp_path: Path) -> None:
    path = write_csv(cn110_sample(500, seed=3), tmp_path / "s.csv")
    rep = ingest_file(settings, path, profile="cn110")
    assert rep.rows_loaded == 500
    assert rep.unassigned_by_level == {"no_areas": 500}
    assert rep.metric_crs == "EPSG:32651"
    with connect(settings) as lake:
        t = lake.incidents().execute()
    assert t["community_id"].isna().all()
    assert t["x"].between(3e5, 4e5).all() and t["h3_9"].notna().all()


def test_xlsx_through_the_pipeline(settings: Settings, tmp_path: Path) -> None:
    import xlsxwriter

    t = cn110_sample(50, seed=11)
    p = tmp_path / "calls.xlsx"
    wb = xlsxwriter.Workbook(p)
    ws = wb.add_worksheet("警情")
    ws.write_row(0, 0, t.column_names)
    for r, rec in enumerate(t.to_pylist(), start=1):
        for c, name in enumerate(t.column_names):
            v = rec[name]
            if name == "报警电话":
                ws.write_number(r, c, int(v))  # Excel stores numbers as floats; must come back without ".0"
            elif name in ("经度", "纬度"):
                ws.write_number(r, c, float(v))
            elif v is not None:
                ws.write_string(r, c, v)
    wb.close()
    rep = ingest_file(settings, p, profile="cn110")
    assert rep.rows_loaded == 50, rep
    with connect(settings) as lake:
        inc = lake.incidents().execute().sort_values("source_row")
    key = deployment_secret(settings)
    first_phone = t.column("报警电话")[0].as_py()
    assert inc.iloc[0]["phone_hash"] == hmac.new(key, first_phone.encode(), hashlib.sha256).digest()
    assert list(inc["source_row"]) == list(range(1, 51))


def test_profile_check_writes_nothing(settings: Settings, crafted: Path) -> None:
    rep = check_file(settings, crafted, profile="cn110", rows=100)
    assert not settings.paths.lake.exists() and not settings.paths.secret_file.exists()
    reasons = {f["row"]: f["reason"] for f in rep.failures}
    # no areas loaded here: row 9 is only out of bounds if bounds exist, row 10 loads
    expected = {k: v for k, v in EXPECTED_REASONS.items() if k not in (9, 10)}
    assert reasons == expected
    assert rep.resolved["time"] == "报警时间" and rep.resolved["caller"] == "报警人"
    assert rep.samples["caller"][0] == "欧阳**"  # never the clear name
    assert rep.samples["text"][0] == "报警人欧阳**称被骗，电话139****4321，身份证3101**********1234"
    assert rep.parsed["time"][0] == "2024-03-02 14:30:00"


def test_profile_errors_name_the_column(settings: Settings, tmp_path: Path) -> None:
    t = cn110_sample(5).rename_columns(["编号", *cn110_sample(5).column_names[1:]])
    p = write_csv(t, tmp_path / "nokey.csv")
    with pytest.raises(ProfileError, match=r"cn110\.toml: \[columns\.record_key\]: column any of '接警编号'.*"
                                           r"not in file; available: 编号, 报警时间"):
        ingest_file(settings, p, profile="cn110")
    assert not any(settings.paths.lake.rglob("*.parquet"))
    with pytest.raises(DataNotFoundError):
        ingest_file(settings, tmp_path / "missing.csv", profile="cn110")


def test_batches_and_files(settings: Settings, tmp_path: Path) -> None:
    small = settings.model_copy(update={"batch_rows": 2000})
    t = cn110_sample(9000, seed=5, days=60)
    p = write_csv(t, tmp_path / "big.csv")
    rep = ingest_file(small, p, profile="cn110")
    assert rep.rows_loaded == 9000
    files = lake_files(small, "incidents")
    months = {f.parent for f in files}
    assert len(files) == len(months)  # one file per month for one import
    with connect(small) as lake:
        got = lake.incidents().execute()
    assert sorted(got["source_row"]) == list(range(1, 9001))
    expected = t.column("接警编号").to_pylist()
    by_row = dict(zip(got["source_row"], got["record_key"], strict=True))
    assert all(by_row[i + 1] == "cn110:" + expected[i] for i in range(0, 9000, 97))
    assert np.isfinite(got["lon"]).all()
