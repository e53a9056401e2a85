"""Date-only data through the real ingest, lake and CLI: times of day are unknown, so per-shift forecasts and SEPP
refuse clearly, and 三高 leaves out its hour ranking with a note instead of ranking everything at 00–02."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from anju.cli import app
from anju.config import Settings, load_settings
from anju.ingest import ingest_file
from anju.ingest.sample import cn110_sample, write_csv


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A real lake of 1,500 calls whose source times are dates only ("2022年1月6日")."""
    root = tmp_path_factory.mktemp("date-only")
    s = load_settings(data_dir=root / "data", secret="date-only-test-secret", quiet=True)
    t = cn110_sample(1500, seed=4, days=200)
    i = t.column_names.index("报警时间")
    dates = pa.array([re.sub(r"\s.*$", "", v) for v in t.column("报警时间").to_pylist()], pa.string())
    ingest_file(s, write_csv(t.set_column(i, "报警时间", dates), root / "calls.csv"))
    return s


def _invoke(s: Settings, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["--data-dir", str(s.data_dir), "--quiet", *args])


def test_sangao_leaves_out_the_hour_ranking(dated: Settings) -> None:
    res = _invoke(dated, "sangao", "--period", "2022")
    assert res.exit_code == 0, res.output
    assert "只有日期" in res.output and "carry a date but no time" in res.output
    assert "高发地区" in res.output and "高发类型" in res.output and "高发时段:" not in res.output


def test_shift_forecast_and_sepp_refuse(dated: Settings, tmp_path: Path) -> None:
    res = _invoke(dated, "--lang", "en", "forecast", "--model", "naive", "--shift", "夜班", "--out",
                  str(tmp_path / "a"))
    assert res.exit_code == 2 and "dates only" in res.stderr and "Traceback" not in res.output
    res = _invoke(dated, "--lang", "en", "forecast", "--model", "sepp", "--out", str(tmp_path / "b"))
    assert res.exit_code == 2 and "SEPP" in res.stderr and "retrospective" in res.stderr
    res = _invoke(dated, "forecast", "--model", "retrospective", "--out", str(tmp_path / "c"))
    assert res.exit_code == 0, res.output  # whole-day forecasts still work
