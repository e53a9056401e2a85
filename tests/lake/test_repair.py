"""Compaction while a reader is open, a damaged manifest (clear error, `anju lake check` / `repair`), and a
version-2 lake (before time_precision) read and upgraded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from anju.cli import app
from anju.config import Settings, load_settings
from anju.errors import LakeError
from anju.ingest import ingest_file
from anju.ingest.sample import cn110_sample, write_csv
from anju.lake import connect
from anju.lake.manifest import Manifest, lake_lock
from anju.lake.store import compact

SECRET = "repair-test-secret-7e1d0b93c2"


@pytest.fixture
def lake(data_dir: Path, tmp_path: Path) -> Settings:
    s = load_settings(data_dir=data_dir, secret=SECRET, quiet=True)
    for seed in (1, 2, 3):  # three imports over the same months: several files per month
        ingest_file(s, write_csv(cn110_sample(400, seed=seed, days=40, first_id=seed * 10_000),
                                 tmp_path / f"{seed}.csv"))
    return s


def _cli(s: Settings, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["-d", str(s.data_dir), "-q", *args], env={"ANJU_SECRET": SECRET})


def test_compaction_keeps_the_files_an_open_reader_reads(lake: Settings) -> None:
    reader = connect(lake)
    before = reader.incidents().count().execute()
    old = Manifest.load(lake.paths.manifest).files("incidents")
    with lake_lock(lake.paths.lake):
        out = compact(lake.paths.lake, Manifest.load(lake.paths.manifest))
    assert out["files_after"] < out["files_before"]
    assert all((lake.paths.lake / f).exists() for f in old)  # retired, not deleted: the reader still reads them
    assert reader.incidents().count().execute() == before  # the reader's snapshot works after the compaction
    reader.close()
    with connect(lake) as fresh:
        assert fresh.incidents().count().execute() == before  # the new manifest: same rows, no duplicates
    with lake_lock(lake.paths.lake):  # no reader now: the next write sweeps the retired files
        from anju.lake.store import clean_orphans

        clean_orphans(lake.paths.lake, Manifest.load(lake.paths.manifest))
    assert not any((lake.paths.lake / f).exists() for f in old)
    assert Manifest.load(lake.paths.manifest).data.get("retired") == []


@pytest.mark.parametrize("damage", ["truncated", "wrong_types", "missing_file"])
def test_damaged_manifest_is_a_clear_error_and_repair_mends_it(lake: Settings, damage: str) -> None:
    m = lake.paths.manifest
    with connect(lake) as lk:
        total = lk.incidents().count().execute()
    data = json.loads(m.read_text(encoding="utf-8"))
    gone = None
    if damage == "truncated":
        m.write_text(m.read_text(encoding="utf-8")[:200], encoding="utf-8")
    elif damage == "wrong_types":
        data["imports"] = "oops"
        m.write_text(json.dumps(data), encoding="utf-8")
    else:
        gone = lake.paths.lake / data["files"]["incidents"][0]
        gone.unlink()
    with pytest.raises(LakeError) as info:
        connect(lake)
    msg = str(info.value)
    assert "anju lake repair" in msg and (str(m) in msg or (gone is not None and str(gone) in msg))

    # a command run as a person runs it: one clean message on stderr naming the repair, no traceback
    env = {**os.environ, "ANJU_SECRET": SECRET, "COLUMNS": "300"}
    done = subprocess.run([sys.executable, "-m", "anju.cli", "-d", str(lake.data_dir), "status"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "anju lake repair" in " ".join(done.stderr.split())  # Rich wraps long lines
    res = _cli(lake, "lake", "check")
    assert res.exit_code == 2 and "anju lake repair" in res.output
    res = _cli(lake, "lake", "repair")
    assert res.exit_code == 0, res.output
    assert _cli(lake, "lake", "check").exit_code == 0
    with connect(lake) as lk:
        n = lk.incidents().count().execute()
    if damage == "missing_file":
        assert 0 < n < total  # the missing file's rows are gone, the rest readable
    else:  # the copy before the last save is restored: the last import is undone (import it again)
        assert n == total - 400
        assert "import its file again" in " ".join(res.output.split())


def test_rebuild_when_no_previous_copy(lake: Settings) -> None:
    with connect(lake) as lk:
        total = lk.incidents().count().execute()
    lake.paths.manifest.write_text("{", encoding="utf-8")
    lake.paths.manifest.with_name("manifest.prev.json").unlink()
    assert _cli(lake, "lake", "repair").exit_code == 0
    m = Manifest.load(lake.paths.manifest)
    assert len(m.imports) == 3 and all(i.get("rebuilt") for i in m.imports)
    with connect(lake) as lk:
        assert lk.incidents().count().execute() == total


def test_a_version_2_lake_is_read_and_upgraded(lake: Settings, tmp_path: Path) -> None:
    # turn the lake into what anju wrote before time_precision: no such column, manifest version 2
    m = lake.paths.manifest
    data = json.loads(m.read_text(encoding="utf-8"))
    for rel in data["files"]["incidents"]:
        p = lake.paths.lake / rel
        pq.write_table(pq.read_table(p).drop_columns(["time_precision"]), p)
    data["version"] = 2
    data.pop("key_fingerprint", None)
    m.write_text(json.dumps(data), encoding="utf-8")
    with connect(lake) as lk:
        old = lk.incidents().select("record_key", "time_precision").execute()
    assert len(old) == 1200 and old["time_precision"].isna().all()  # readable; precision unknown
    ingest_file(lake, write_csv(cn110_sample(100, seed=9, days=40, first_id=90_000), tmp_path / "9.csv"))
    assert json.loads(m.read_text(encoding="utf-8"))["version"] == 3
    with connect(lake) as lk:
        both = lk.incidents().select("time_precision").execute()
    assert len(both) == 1300 and (both["time_precision"] == "minute").sum() == 100
    with lake_lock(lake.paths.lake):  # compaction rewrites old and new files together
        compact(lake.paths.lake, Manifest.load(m))
    with connect(lake) as lk:
        assert lk.incidents().count().execute() == 1300
