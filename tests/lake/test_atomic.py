"""Kill a real `anju ingest` half-way: the lake must read exactly as before, and a re-run must succeed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anju.config import load_settings
from anju.ingest import ingest_file
from anju.ingest.sample import cn110_sample, write_csv
from anju.lake import connect

SECRET = "atomic-test-secret-5be0a91c"


def snapshot(settings) -> tuple[int, list[str], bytes, int]:
    with connect(settings) as lake:
        n = lake.incidents().count().execute()
        keys = sorted(lake.incidents().record_key.execute())
        q = lake.quarantine().count().execute()
    return n, keys, settings.paths.manifest.read_bytes(), q


@pytest.mark.slow
def test_killed_import_leaves_the_lake_as_it_was(data_dir: Path, tmp_path: Path) -> None:
    settings = load_settings(data_dir=data_dir, secret=SECRET, quiet=True)
    base = write_csv(cn110_sample(3000, seed=1), tmp_path / "base.csv")
    ingest_file(settings, base, profile="cn110")
    before = snapshot(settings)

    n_big = 250_000
    big = write_csv(cn110_sample(n_big, seed=2, first_id=1_000_000), tmp_path / "big.csv", encoding="gbk")
    env = {**os.environ, "ANJU_SECRET": SECRET, "ANJU_BATCH_ROWS": "10000", "ANJU_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "anju.cli", "-q", "ingest", str(big), "--profile", "cn110"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    staging = settings.paths.staging
    deadline = time.monotonic() + 300
    staged: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        staged = list(staging.glob("*/incidents/**/*.parquet")) if staging.exists() else []
        if len(staged) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"the import finished before it could be killed: {proc.stderr.read()!r}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert staged and any(p.exists() for p in staged)  # it really was half-way: staged files are left behind

    assert snapshot(settings) == before  # readers see exactly the lake before the killed import

    rep = ingest_file(settings, big, profile="cn110")  # the re-run cleans up and succeeds
    assert rep.rows_loaded == n_big and rep.rows_quarantined == 0
    assert not any(staging.iterdir())
    n, keys, _, q = snapshot(settings)
    assert n == before[0] + n_big and q == before[3]
    assert len(set(keys)) == len(keys)
    on_disk = {p.relative_to(settings.paths.lake).as_posix() for p in settings.paths.incidents.rglob("*.parquet")}
    with connect(settings) as lake:
        assert on_disk == set(lake.manifest.files("incidents"))  # no orphan left in the partitions
