"""Distributed ingest on Spark (``anju --engine spark ingest``): the same lake rows as the DuckDB ingest.

A small export cut from the demo district's calls, with dirt planted (repeated keys within the file and against
the lake, an empty key, unreadable and impossible times, bad and far-away coordinates, an unknown category, a
malformed line), is imported into two copies of a data directory — one by each engine — after the same earlier
import (DuckDB) that the file partly repeats. The imports' lake rows, quarantine rows and reports must be equal.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark", reason="the spark extra is not installed (make setup installs it)")
if shutil.which("java") is None:  # pragma: no cover - make setup installs openjdk-17-jre-headless
    pytest.skip("no Java runtime (apt install openjdk-17-jre-headless)", allow_module_level=True)

from anju.config import Settings, load_settings
from anju.ingest.pipeline import ingest_file
from anju.lake.manifest import Manifest

pytestmark = pytest.mark.slow

SECRET = "spark-ingest-test-secret-5d2e"


@pytest.fixture(scope="module")
def exports(demo: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(earlier, dirty)``: 300 demo calls, and 800 calls overlapping them by 100, with dirt planted."""
    d = tmp_path_factory.mktemp("spark-ingest-files")
    t = pacsv.read_csv(demo.result.files.csv, read_options=pacsv.ReadOptions(encoding="gb18030"),
                       convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=False,
                                                            auto_dict_encode=False))
    t = t.cast(pa.schema([(n, pa.string()) for n in t.column_names]))
    header = t.column_names
    rows = t.slice(0, 1000).to_pylist()

    def write(path: Path, recs: list[dict[str, Any]], extra_lines: list[str] = ()) -> Path:  # type: ignore[assignment]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(recs)
        for line in extra_lines:
            buf.write(line + "\n")
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path

    earlier = write(d / "earlier.csv", rows[:300])
    dirty = [dict(r) for r in rows[200:1000]]  # rows 200–299 are in the lake already
    dirty += [dict(r) for r in rows[500:510]]  # repeats within the file
    col = {k: k for k in header}
    key, when, cat, lon, lat = (col["接警编号"], col["报警时间"], col["警情类别"], col["经度"], col["纬度"])
    dirty[110][key] = ""
    dirty[120][when] = "昨天下午"
    dirty[121][when] = "1899-01-01 10:00:00"
    dirty[130][lon] = "abc"
    dirty[140][lon], dirty[140][lat] = "100.0", "20.0"
    for i in (150, 160):  # an unknown category (the sub-category too: a known one would map the row by itself)
        dirty[i][cat] = "外星人入侵"
        for sub in ("警情细类", "警情子类"):
            if sub in dirty[i]:
                dirty[i][sub] = "飞碟降落"
    bad_line = ",".join(["X"] * (len(header) + 3))
    return earlier, write(d / "dirty.csv", dirty, [bad_line])


def _data_dir(demo: Any, root: Path) -> Settings:
    shutil.copytree(demo.data_dir / "areas", root / "areas")
    return load_settings(data_dir=root, secret=SECRET, quiet=True)


def _import_rows(s: Settings, import_id: str) -> tuple[Any, Any]:
    m = Manifest.load(s.paths.manifest)
    inc = pa.concat_tables([pq.ParquetFile(s.paths.lake / f).read() for f in m.files("incidents")])
    inc = inc.filter(pc.equal(inc.column("import_id"), import_id)).drop_columns(["import_id"])
    qua = pa.concat_tables([pq.ParquetFile(s.paths.lake / f).read() for f in m.files("quarantine")])
    qua = qua.filter(pc.equal(qua.column("import_id"), import_id)).drop_columns(["import_id"])
    return inc.sort_by("source_row").to_pylist(), qua.sort_by("source_row").to_pylist()


def test_spark_ingest_gives_the_duckdb_lake_rows(spark: Any, demo: Any, exports: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    from anju.lake.spark_ingest import ingest_path

    earlier, dirty = exports
    out = {}
    for engine in ("duckdb", "spark"):
        s = _data_dir(demo, tmp_path / engine)
        ingest_file(s, earlier)  # the lake the dirty file partly repeats
        if engine == "duckdb":
            rep = ingest_file(s, dirty)
        else:
            (rep,) = ingest_path(s.model_copy(update={"engine": "spark"}), dirty)
        out[engine] = (rep, *_import_rows(s, rep.import_id))
    (rd, inc_d, q_d), (rs, inc_s, q_s) = out["duckdb"], out["spark"]
    # the dirt is there, and every reason is accounted the same way
    assert rd.quarantine_by_reason.get("duplicate_key") == 110
    for reason in ("missing_key", "bad_time", "impossible_date", "bad_coords", "malformed_row"):
        assert rd.quarantine_by_reason.get(reason, 0) >= 1, reason
    assert rd.unknown_categories and rd.rows_loaded > 600
    for f in ("rows_read", "rows_loaded", "rows_quarantined", "quarantine_by_reason", "unknown_categories",
              "unassigned_by_level", "data_lines", "blank_lines", "unparsed_values", "metric_crs", "encoding"):
        assert getattr(rs, f) == getattr(rd, f), f
    assert len(inc_s) == len(inc_d) == rd.rows_loaded
    assert inc_s == inc_d  # every column of every lake row: keys, times, areas, hashes, masked texts
    assert q_s == q_d  # reasons, details and the masked raw rows


def test_spark_ingest_is_idempotent_and_atomic(spark: Any, demo: Any, exports: tuple[Path, Path],
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import anju.lake.spark_ingest as si

    earlier, _ = exports
    s = _data_dir(demo, tmp_path / "d").model_copy(update={"engine": "spark"})

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("killed before the commit")

    monkeypatch.setattr(si, "_drain", boom)
    with pytest.raises(RuntimeError):
        si.ingest_file_spark(s, earlier)
    m = Manifest.load(s.paths.manifest)
    assert not m.imports and not m.files("incidents")  # nothing committed
    assert not list((s.paths.lake / "incidents").rglob("*.parquet")) if (s.paths.lake / "incidents").exists() \
        else True
    monkeypatch.undo()
    rep = si.ingest_file_spark(s, earlier)
    assert rep.rows_loaded == 300 and not (s.paths.lake / "_staging" / rep.import_id).exists()
    again = si.ingest_file_spark(s, earlier)
    assert again.skipped_duplicate_file and again.import_id == rep.import_id


def test_identity_key_profile_gives_the_duckdb_lake_rows(spark: Any, shared_data: Path, tmp_path: Path) -> None:
    """``[key].fields`` profiles (``sf-kaggle``): the occurrence number in each key is the same on both engines.

    Real SF rows (genuine repeat calls, dummy-coordinate rows that are quarantined but still counted), imported
    in batches of 1,001 rows so the numbering crosses batches; then a re-export of an overlapping part in another
    row order, whose rows already in the lake are duplicates by key.
    """
    import pandas as pd

    from anju.lake.spark_ingest import ingest_path

    df = pd.read_csv(shared_data / "sf-crime-kaggle" / "train.csv.gz", dtype=str, keep_default_na=False,
                     nrows=3000)
    # planted: repeat calls within and across batches, and dummy coordinates (quarantined, still counted)
    df = pd.concat([df.iloc[:1100], df.iloc[[10, 10, 1050]], df.iloc[1100:], df.iloc[[10, 2000]]],
                   ignore_index=True)
    df.loc[[20, 1500, 2500], "Y"] = "90.0"
    earlier, later = tmp_path / "sf-1.csv", tmp_path / "sf-2.csv"
    df.iloc[:1200].to_csv(earlier, index=False)
    df.iloc[800:].sample(frac=1.0, random_state=3).to_csv(later, index=False)
    ident = ["Dates", "Category", "Descript", "Address"]
    assert df.iloc[:1200].duplicated(ident).sum() >= 3
    out = {}
    for engine in ("duckdb", "spark"):
        s = load_settings(data_dir=tmp_path / engine, secret=SECRET, batch_rows=1001, quiet=True)
        reps = []
        for f in (earlier, later):
            if engine == "duckdb":
                reps.append(ingest_file(s, f, profile="sf-kaggle"))
            else:
                reps += ingest_path(s.model_copy(update={"engine": "spark"}), f, profile="sf-kaggle")
        out[engine] = [(r, *_import_rows(s, r.import_id)) for r in reps]
    for (rd, inc_d, q_d), (rs, inc_s, q_s) in zip(out["duckdb"], out["spark"], strict=True):
        for f in ("rows_read", "rows_loaded", "rows_quarantined", "quarantine_by_reason", "unknown_categories",
                  "unassigned_by_level", "data_lines", "unparsed_values"):
            assert getattr(rs, f) == getattr(rd, f), f
        assert inc_s == inc_d and q_s == q_d  # keys (with their occurrence numbers), every column, the quarantine
    (first, inc1, _), (second, _, _) = out["spark"]
    assert first.quarantine_by_reason.get("bad_coords", 0) + first.quarantine_by_reason.get(
        "coords_out_of_bounds", 0) >= 1
    assert any(not r["record_key"].endswith("-1") for r in inc1)  # repeat calls numbered 2, 3, …
    assert second.quarantine_by_reason.get("duplicate_key", 0) > 300  # the overlap, recognised by key


def test_cli_ingests_a_folder_on_either_engine(spark: Any, tmp_path: Path) -> None:
    """``anju ingest FOLDER`` imports each export (name order); ``--engine spark`` takes the distributed path."""
    from typer.testing import CliRunner

    from anju.cli import app
    from anju.ingest.sample import cn110_sample, write_csv

    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(cn110_sample(120, seed=1, days=30), folder / "a.csv", encoding="gbk")
    write_csv(cn110_sample(80, seed=2, days=30, first_id=5000), folder / "b.csv")
    (folder / "notes.md").write_text("not an export")
    env = {"ANJU_SECRET": SECRET, "COLUMNS": "200"}
    counts = {}
    for engine in ("duckdb", "spark"):
        d = tmp_path / f"data-{engine}"
        res = CliRunner().invoke(app, ["-d", str(d), "-q", "--engine", engine, "ingest", str(folder)], env=env)
        assert res.exit_code == 0, (res.output, res.exception)
        assert res.output.count("导入报告 / import report") == 2
        m = Manifest.load(d / "lake" / "manifest.json")
        counts[engine] = [(i["source_file"], i["rows_loaded"]) for i in m.imports]
        assert [i.get("engine") for i in m.imports] == ([None, None] if engine == "duckdb" else ["spark", "spark"])
    assert counts["duckdb"] == counts["spark"] and [f for f, _ in counts["spark"]] == ["a.csv", "b.csv"]
    assert sum(n for _, n in counts["spark"]) == 200
