"""End to end: ``anju demo`` through the real CLI, areas loader and ingest pipeline into a fresh data directory."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from anju.demo.truth import truth as planted_truth

pytestmark = pytest.mark.skipif(importlib.util.find_spec("anju.ingest.pipeline") is None,
                                reason="anju.ingest.pipeline (ingest part) is not available yet")


def _anju(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "anju.cli", *args], capture_output=True, text=True, check=False,
                          timeout=600)


def _invoke(*args: str):
    """Run the real Typer app in-process (no interpreter start-up; used for the quick follow-up calls)."""
    from typer.testing import CliRunner

    from anju.cli import app

    return CliRunner().invoke(app, list(args))


def _lake_rows(data_dir: Path) -> int:
    files = list((data_dir / "lake" / "incidents").rglob("*.parquet"))
    return duckdb.sql(f"select count(*) from read_parquet({[str(f) for f in files]!r})").fetchall()[0][0]


def test_anju_demo_end_to_end(tmp_path: Path) -> None:
    data_dir = tmp_path / "anju-data"
    res = _anju("--data-dir", str(data_dir), "--quiet", "demo", "--scale", "0.02", "--end", "2025")
    assert res.returncode == 0, res.stderr
    assert "闵安区" in res.stdout and "120" in res.stdout
    truth = json.loads((data_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
    real = truth["realized"]
    manifest = json.loads((data_dir / "lake" / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["imports"]) == 1
    imp = manifest["imports"][0]
    assert imp["rows_read"] == real["rows"]
    assert imp["rows_loaded"] == real["expected_loaded"] == _lake_rows(data_dir)
    assert imp["quarantine_by_reason"] == {k: v for k, v in real["expected_quarantine_anju"].items() if v}
    assert sum(imp["unknown_categories"].values()) == real["dirty_rows"]["unknown_category"]
    assert imp["unassigned_by_level"]["community"] == real["dirty_rows"]["missing_coords"]
    for layer in ("district", "street", "community", "grid", "station", "police_district"):
        assert (data_dir / "areas" / f"{layer}.parquet").exists()
    # the lake agrees with the generator's tally (what other parts' tests rely on) family by family
    rows = duckdb.sql(
        f"select year, family, count(*) n from read_parquet('{data_dir}/lake/incidents/*/*/*.parquet', "
        "hive_partitioning=true, hive_types={'year': INTEGER, 'month': INTEGER}) group by all").fetchall()
    got = {(str(y), f): n for y, f, n in rows}
    want = {(y, f): n for y, fams in real["loaded_by_year_family"].items() for f, n in fams.items()}
    assert got == want
    # personal data never lands in the lake in clear
    phones = duckdb.sql(f"select count(*) from read_parquet('{data_dir}/lake/incidents/*/*/*.parquet') "
                        "where regexp_matches(text, '1[3-9][0-9]{9}')").fetchall()[0][0]
    assert phones == 0
    # the planted truth needs no generation and matches what was written
    t = planted_truth(42, 0.02, end_year=2025)
    assert t["supervised"]["community_ids"] == truth["supervised"]["community_ids"]
    assert t["hot"]["community_ids"] == truth["hot"]["community_ids"]

    # re-running the same demo changes nothing
    before = (data_dir / "lake" / "manifest.json").read_bytes()
    csv_mtime = (data_dir / "demo" / "calls.csv").stat().st_mtime_ns
    res2 = _invoke("--data-dir", str(data_dir), "--quiet", "demo", "--scale", "0.02", "--end", "2025")
    assert res2.exit_code == 0, res2.output
    assert (data_dir / "lake" / "manifest.json").read_bytes() == before
    assert (data_dir / "demo" / "calls.csv").stat().st_mtime_ns == csv_mtime

    # a different demo into the same data directory is refused with a clear message
    res3 = _invoke("--data-dir", str(data_dir), "--quiet", "--lang", "en", "demo", "--scale", "0.03", "--end", "2025")
    assert res3.exit_code == 2 and "Traceback" not in res3.output
    assert "--data-dir" in res3.stderr and "seed=42" in res3.stderr
    assert (data_dir / "lake" / "manifest.json").read_bytes() == before


def test_anju_demo_no_ingest_and_bad_scale(tmp_path: Path) -> None:
    out = tmp_path / "files"
    res = _invoke("--data-dir", str(tmp_path / "d"), "--quiet", "demo", "--scale", "0.005", "--years", "1",
                  "--end", "2025", "--out", str(out), "--no-ingest")
    assert res.exit_code == 0, res.output
    assert (out / "calls.csv").exists() and (out / "community.geojson").exists()
    assert not (tmp_path / "d" / "lake").exists()
    bad = _invoke("--data-dir", str(tmp_path / "d"), "demo", "--scale", "0", "--no-ingest")
    assert bad.exit_code == 2 and "--scale" in bad.stderr
