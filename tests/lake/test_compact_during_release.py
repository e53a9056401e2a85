"""`anju lake compact` during a full `anju release`, as two real processes.

The release is frozen (SIGSTOP) at the moment it holds the lake open, a compaction runs to the end in another
process and switches the manifest to merged files, then the release is let go (SIGCONT): it must finish on the
snapshot it opened — every file of that snapshot still on disk — and show the same numbers as a release made after
the compaction. Killed (SIGKILL) instead while frozen, it leaves the retired files to the next write, which deletes
them. A copy of the shared small demo district keeps the test to a few seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from anju.config import load_settings
from anju.ingest import ingest_file
from anju.ingest.sample import cn110_sample, write_csv
from anju.lake import connect
from anju.lake.manifest import Manifest, lake_lock
from anju.lake.store import clean_orphans, compact

PERIOD = "2025H2"


def _reader_open(lake_dir: Path) -> bool:
    """Whether some process holds the lake open (a shared lock on lake/.readers), tested without waiting."""
    with (lake_dir / ".readers").open("a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def _anju(data_dir: Path, *args: str, **kw: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "ANJU_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "anju.cli", "-q", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.fixture
def lake_copy(demo: Any, tmp_path: Path) -> Path:
    """A private copy of the demo's data directory with a second import, so that months have several files."""
    data = tmp_path / "anju-data"
    shutil.copytree(demo.settings.data_dir, data)
    s = load_settings(data_dir=data, quiet=True)
    lon, lat = _demo_centre(s)
    t = cn110_sample(600, seed=9, days=150, first_id=7_000_000, start="2025-07-01", centre=(lon, lat))
    rep = ingest_file(s, write_csv(t, tmp_path / "extra.csv"), profile="cn110")
    assert rep.rows_loaded > 0
    return data


def _demo_centre(s: Any) -> tuple[float, float]:
    with connect(s) as lake:
        row = lake.duckdb.execute("SELECT median(lon), median(lat) FROM incidents").fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def _stop_when_reading(proc: subprocess.Popen[str], lake_dir: Path) -> None:
    deadline = time.monotonic() + 120
    while not _reader_open(lake_dir):
        assert proc.poll() is None, f"release ended before it read the lake: {proc.communicate()}"
        assert time.monotonic() < deadline, "release never opened the lake"
        time.sleep(0.002)
    proc.send_signal(signal.SIGSTOP)


def _compact_cli(data_dir: Path) -> str:
    c = _anju(data_dir, "--lang", "en", "lake", "compact")
    out, err = c.communicate(timeout=120)
    assert c.returncode == 0, err
    return out


def _compact(data_dir: Path) -> dict[str, int]:
    """The same compaction in this process (the CLI's start-up is the slow part of a test)."""
    lake_dir = data_dir / "lake"
    with lake_lock(lake_dir):
        manifest = Manifest.load(lake_dir / "manifest.json")
        clean_orphans(lake_dir, manifest)
        return compact(lake_dir, manifest)


def test_release_finishes_on_its_snapshot_while_compaction_runs(lake_copy: Path, tmp_path: Path) -> None:
    lake_dir = lake_copy / "lake"
    before = Manifest.load(lake_dir / "manifest.json").files("incidents")
    out = tmp_path / "during"
    rel = _anju(lake_copy, "release", "--period", PERIOD, "--formats", "json", "--out", str(out))
    try:
        _stop_when_reading(rel, lake_dir)
        msg = _compact_cli(lake_copy)  # runs to the end while the release is frozen with the lake open
        after = Manifest.load(lake_dir / "manifest.json")
        assert "compacted" in msg and len(after.files("incidents")) < len(before)
        retired = after.data.get("retired", [])
        assert retired and all((lake_dir / f).exists() for f in retired)  # kept for the frozen reader
    finally:
        with contextlib.suppress(ProcessLookupError):
            rel.send_signal(signal.SIGCONT)
    _, err = rel.communicate(timeout=300)
    assert rel.returncode == 0, err  # no IOException: the files of its snapshot were all there
    assert "Traceback" not in err

    rel_json = json.loads((out / "release.json").read_text(encoding="utf-8"))
    total = {r["metric"]: r["value"] for r in rel_json["tables"]["headline"]["rows"]}["total"]
    s = load_settings(data_dir=lake_copy, quiet=True)
    with connect(s) as lake:  # the compacted lake: the release's snapshot had the same rows
        row = lake.duckdb.execute("SELECT count(*) FROM incidents WHERE reported_at >= '2025-07-01' "
                                  "AND reported_at < '2026-01-01'").fetchone()
    assert row is not None and int(total) == int(row[0]) > 0
    # no reader now: the next compaction deletes the retired files
    _compact(lake_copy)
    m = Manifest.load(lake_dir / "manifest.json")
    assert m.data.get("retired") == [] and not any((lake_dir / f).exists() for f in retired)


def test_release_killed_during_compaction_leaves_a_sound_lake(lake_copy: Path, tmp_path: Path) -> None:
    lake_dir = lake_copy / "lake"
    s = load_settings(data_dir=lake_copy, quiet=True)
    with connect(s) as lake:
        n = int(lake.incidents().count().execute())
    rel = _anju(lake_copy, "release", "--period", PERIOD, "--out", str(tmp_path / "killed"))
    try:
        _stop_when_reading(rel, lake_dir)
        _compact(lake_copy)
        retired = Manifest.load(lake_dir / "manifest.json").data.get("retired", [])
        assert retired and all((lake_dir / f).exists() for f in retired)
    finally:
        rel.kill()  # SIGKILL works on a stopped process; the kernel drops its reader lock
        rel.communicate(timeout=60)
    assert not (tmp_path / "killed").exists()  # a killed release leaves no half-written folder
    assert not _reader_open(lake_dir)
    _compact(lake_copy)  # the next write sweeps what the dead reader held
    m = Manifest.load(lake_dir / "manifest.json")
    assert m.data.get("retired") == [] and not any((lake_dir / f).exists() for f in retired)
    with connect(s) as lake:
        assert int(lake.incidents().count().execute()) == n  # same rows, none twice, none lost
        assert lake.incidents().record_key.nunique().execute() == n
