"""The CLI verbs of ingest and lake: ingest, profile check/list, status, lake compact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from anju.cli import app
from anju.ingest.sample import cn110_sample, write_csv

ENV = {"ANJU_SECRET": "cli-test-secret-51c0e2aa", "COLUMNS": "200"}


def run(data_dir: Path, *args: str):
    result = CliRunner().invoke(app, ["-d", str(data_dir), "-q", *args], env=ENV)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_ingest_status_check_compact(data_dir: Path, tmp_path: Path) -> None:
    a = write_csv(cn110_sample(400, seed=1, days=50), tmp_path / "a.csv", encoding="gbk")
    b = write_csv(cn110_sample(300, seed=2, days=50, first_id=5000), tmp_path / "b.csv")
    out = run(data_dir, "ingest", str(a), "--profile", "cn110")
    assert "导入报告 / import report" in out and "400" in out
    out = run(data_dir, "ingest", str(a))
    assert "已导入过" in out  # same file again: nothing changes
    run(data_dir, "ingest", str(b), "-p", "cn110", "--encoding", "utf-8")
    out = run(data_dir, "status", "--months", "0")
    assert "700 条警情" in out and "2 次导入" in out and "cn110" in out
    out = run(data_dir, "profile", "check", str(b), "--rows", "50")
    assert "would load" in out and "duplicate_key" in out  # b's rows are in the lake already
    out = run(data_dir, "lake", "compact")
    assert "compacted" in out
    assert "700 条警情" in run(data_dir, "status")
    out = run(data_dir, "profile", "list")
    assert "chicago" in out and "sf-kaggle" in out


def test_errors_are_one_clean_message(data_dir: Path, tmp_path: Path) -> None:
    p = write_csv(cn110_sample(5), tmp_path / "x.csv")
    env = {**os.environ, **ENV, "ANJU_DATA_DIR": str(data_dir)}
    r = subprocess.run([sys.executable, "-m", "anju.cli", "ingest", str(p), "--profile", "nope"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "no profile named 'nope'" in r.stderr and "Traceback" not in r.stderr
    result = CliRunner().invoke(app, ["-d", str(data_dir), "--lang", "en", "ingest", str(p), "--encoding", "klingon"],
                                env=ENV)
    assert result.exit_code == 2 and "unknown encoding 'klingon'" in result.stderr
