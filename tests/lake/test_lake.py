"""The lake: empty-lake reads, manifest-only visibility, orphan cleanup, compaction, areas, status, locking."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anju.config import Settings, load_settings
from anju.errors import DataNotFoundError, LakeError
from anju.ingest import ingest_file
from anju.ingest.sample import cn110_sample, write_csv
from anju.lake import connect
from anju.lake.manifest import Manifest, lake_lock
from anju.lake.schema import INCIDENT_SCHEMA, QUARANTINE_SCHEMA
from anju.lake.status import lake_status
from anju.lake.store import clean_orphans, compact
from anju.taxonomy import load_taxonomy


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load_settings(data_dir=data_dir, secret="lake-test-secret-8d2f0c61", quiet=True)


def sample_file(tmp_path: Path, name: str, n: int, seed: int, first_id: int = 0, days: int = 90) -> Path:
    return write_csv(cn110_sample(n, seed=seed, first_id=first_id, days=days), tmp_path / name)


def test_empty_lake_has_the_schema(settings: Settings) -> None:
    with connect(settings) as lake:
        inc = lake.incidents()
        assert list(inc.schema().names) == INCIDENT_SCHEMA.names
        assert inc.count().execute() == 0
        assert list(lake.quarantine().schema().names) == QUARANTINE_SCHEMA.names
        assert lake.imports() == []
        with pytest.raises(DataNotFoundError, match="anju areas load"):
            lake.areas("community")
    assert not settings.paths.lake.exists()  # reading creates nothing


def test_readers_see_only_manifest_files(settings: Settings, tmp_path: Path) -> None:
    rep = ingest_file(settings, sample_file(tmp_path, "a.csv", 2000, 1), profile="cn110")
    # an orphan from a killed import sits in a partition and in staging
    part = next(settings.paths.incidents.rglob("*.parquet"))
    orphan = part.parent / "part-20990101T000000Z-dead00-0.parquet"
    pq.write_table(pq.read_table(part), orphan)
    staged = settings.paths.staging / "20990101T000000Z-dead00" / "incidents" / "year=2022" / "month=1"
    staged.mkdir(parents=True)
    pq.write_table(pq.read_table(part), staged / "part-x.parquet")
    with connect(settings) as lake:
        assert lake.incidents().count().execute() == rep.rows_loaded == 2000
        assert lake.incidents().import_id.nunique().execute() == 1
    with lake_lock(settings.paths.lake):
        removed = clean_orphans(settings.paths.lake, Manifest.load(settings.paths.manifest))
    assert not orphan.exists() and not staged.exists()
    assert any("dead00-0.parquet" in r for r in removed)
    with connect(settings) as lake:
        assert lake.incidents().count().execute() == 2000


def test_a_second_import_appends_and_refresh_sees_it(settings: Settings, tmp_path: Path) -> None:
    ingest_file(settings, sample_file(tmp_path, "a.csv", 1500, 1), profile="cn110")
    lake = connect(settings)
    assert lake.incidents().count().execute() == 1500
    ingest_file(settings, sample_file(tmp_path, "b.csv", 700, 2, first_id=10_000), profile="cn110")
    assert lake.incidents().count().execute() == 1500  # a snapshot until refreshed
    assert lake.refresh().incidents().count().execute() == 2200
    assert [i["source_file"] for i in lake.imports()] == ["a.csv", "b.csv"]
    lake.close()


def test_compaction_keeps_every_row_once(settings: Settings, tmp_path: Path) -> None:
    for k in range(3):
        ingest_file(settings, sample_file(tmp_path, f"f{k}.csv", 800, k, first_id=k * 10_000, days=60),
                    profile="cn110")
    with connect(settings) as lake:
        before = lake.incidents().order_by("record_key").to_pyarrow()
    files_before = len(Manifest.load(settings.paths.manifest).files("incidents"))
    with lake_lock(settings.paths.lake):
        out = compact(settings.paths.lake, Manifest.load(settings.paths.manifest))
    assert out["files_before"] == files_before > out["files_after"]
    months = {p.parent for p in settings.paths.incidents.rglob("*.parquet")}
    assert len(list(settings.paths.incidents.rglob("*.parquet"))) == len(months) == out["files_after"]
    with connect(settings) as lake:
        after = lake.incidents().order_by("record_key").to_pyarrow()
    assert after.equals(before)


def test_areas_without_geometry(settings: Settings, tmp_path: Path) -> None:
    from anju.geo.areas import load_area_file

    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "c1", "name": "一村", "population": 1200},
         "geometry": {"type": "Polygon", "coordinates": [[[121, 31], [121.01, 31], [121.01, 31.01], [121, 31]]]}}]}
    p = tmp_path / "c.geojson"
    p.write_text(json.dumps(gj), encoding="utf-8")
    load_area_file(settings.data_dir, p, layer="community", id_field="id", name_field="name")
    with connect(settings) as lake:
        t = lake.areas("community")
        assert "geometry" not in t.columns
        df = t.execute()
    assert df["area_id"].tolist() == ["c1"] and df["population"].tolist() == [1200]


def test_status_summary(settings: Settings, tmp_path: Path) -> None:
    t = cn110_sample(1000, seed=4, days=40)
    times = t.column("报警时间").to_pylist()
    times[0] = None
    t = t.set_column(1, "报警时间", pa.array(times, pa.string()))
    rep = ingest_file(settings, write_csv(t, tmp_path / "s.csv"), profile="cn110")
    with connect(settings) as lake:
        st = lake_status(lake, load_taxonomy())
    assert st.rows == rep.rows_loaded == 999
    assert sum(r["rows"] for r in st.by_month) == 999
    assert sum(r["rows"] for r in st.by_category) == 999
    assert st.quarantine_by_reason == [{"reason": "missing_time", "rows": 1}]
    by_cat = {r["category"]: r["rows"] for r in st.by_category}
    from collections import Counter

    want = Counter(t.column("警情细类").to_pylist()[1:])
    tax = load_taxonomy()
    assert {tax[c].zh: n for c, n in by_cat.items()} == dict(want)


def test_one_writer_at_a_time(settings: Settings, tmp_path: Path) -> None:
    with lake_lock(settings.paths.lake), pytest.raises(LakeError, match="another import"):
        ingest_file(settings, sample_file(tmp_path, "a.csv", 10, 1), profile="cn110")


def test_corrupt_manifest_is_reported(settings: Settings, tmp_path: Path) -> None:
    settings.paths.lake.mkdir(parents=True)
    settings.paths.manifest.write_text("{not json", encoding="utf-8")
    with pytest.raises(LakeError, match="not valid JSON"):
        connect(settings)


def test_a_version_1_lake_is_refused_with_the_way_out(settings: Settings) -> None:
    settings.paths.lake.mkdir(parents=True)
    settings.paths.manifest.write_text('{"version": 1, "imports": [], "files": {}}', encoding="utf-8")
    with pytest.raises(LakeError, match=r"older anju.*new data directory"):
        connect(settings)


def test_hash_columns_are_digests_in_duckdb(settings: Settings, tmp_path: Path) -> None:
    ingest_file(settings, sample_file(tmp_path, "a.csv", 40, 3), profile="cn110")
    with connect(settings) as lake:
        types = dict(lake.duckdb.sql("SELECT column_name, column_type FROM (DESCRIBE incidents)").fetchall())
        lengths = lake.duckdb.sql("SELECT DISTINCT octet_length(phone_hash), length(hex(phone_hash)) "
                                  "FROM incidents WHERE phone_hash IS NOT NULL").fetchall()
    assert types["caller_hash"] == types["phone_hash"] == "BLOB"
    assert lengths == [(32, 64)]


def test_parquet_layout_statistics_and_raw_digests(settings: Settings, tmp_path: Path) -> None:
    ingest_file(settings, sample_file(tmp_path, "a.csv", 60, 5), profile="cn110")
    files = Manifest.load(settings.paths.manifest).files("incidents")
    meta = pq.ParquetFile(settings.paths.lake / files[0]).metadata
    names = meta.schema.names
    rg = meta.row_group(0)

    def col(name: str) -> pq.ColumnChunkMetaData:
        return rg.column(names.index(name))

    for name in ("reported_at", "record_key", "source_row"):  # prune by time and key
        assert col(name).is_stats_set and col(name).statistics.has_min_max, name
    for name in ("text", "address", "category", "lon", "caller_hash"):  # never prune: no statistics
        assert not col(name).is_stats_set, name
    for name in ("caller_hash", "phone_hash"):
        assert col(name).physical_type == "FIXED_LEN_BYTE_ARRAY"
        assert col(name).compression == "UNCOMPRESSED"
    assert col("text").compression == "ZSTD"
