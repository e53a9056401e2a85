"""The CLI verbs end to end over a stand-in lake (the engine factory returning synthetic lake-schema rows)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest
from fcsynth import make_events
from pyproj import Transformer
from typer.testing import CliRunner

import anju.services.lake
from anju.cli import app
from anju.errors import DataNotFoundError


class FakeLake:
    """Synthetic rows in the lake's schema behind the :class:`~anju.lake.connection.Lake` interface."""

    def __init__(self, df: pd.DataFrame, settings: object) -> None:
        self.settings = settings
        self.raw = duckdb.connect()
        frame = df  # noqa: F841 - read by DuckDB's replacement scan
        self.raw.execute("CREATE TABLE incidents AS SELECT * FROM frame")
        self.con = ibis.duckdb.from_connection(self.raw)

    def incidents(self) -> ibis.Table:
        return self.con.table("incidents")

    def areas(self, layer: str) -> ibis.Table:
        raise DataNotFoundError(f"area layer {layer!r} is not loaded")

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> FakeLake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(scope="module")
def lake_df() -> pd.DataFrame:
    ev = make_events(6000, seed=9, days=240, start="2024-01-01")
    x = ev["x"].to_numpy() + 350_000.0
    y = ev["y"].to_numpy() + 3_450_000.0
    lon, lat = Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True).transform(x, y)
    rng = np.random.default_rng(0)
    cats = {"theft": "theft.burglary", "assault": "assault.fight", "fraud": "fraud.rebate"}
    return pd.DataFrame({
        "reported_at": ev["t"].astype("datetime64[us]"),
        "x": x, "y": y, "lon": lon, "lat": lat,
        "family": ev["family"].astype(str), "category": ev["family"].map(cats).astype(str),
        "station_id": np.where(ev["x"] < 1500, "S1", "S2"),
        "community_id": [f"C{int(a // 1000)}{int(b // 1000)}" for a, b in zip(ev["x"], ev["y"], strict=True)],
        "unused": rng.random(len(ev)),
    })


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, lake_df: pd.DataFrame) -> CliRunner:
    monkeypatch.setattr(anju.services.lake, "_open_engine", lambda settings: FakeLake(lake_df, settings))
    return CliRunner()


def run(runner: CliRunner, data_dir: Path, *args: str) -> str:
    res = runner.invoke(app, ["--data-dir", str(data_dir), "--quiet", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_forecast_writes_surface(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc"
    text = run(runner, data_dir, "forecast", "--model", "kde", "--category", "theft", "--shift", "夜班",
               "--date", "2024-08-20", "--horizon", "1D", "--out", str(out))
    assert "风险最高的网格" in text
    risk = pd.read_csv(out / "risk.csv")
    assert {"cell_id", "risk", "rank", "lon", "lat"} <= set(risk.columns)
    assert risk["rank"].is_monotonic_increasing and (risk["risk"] >= 0).all()
    assert risk["lon"].between(120, 124).all() and risk["lat"].between(30, 32).all()
    gj = json.loads((out / "risk.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == int((risk["risk"] > 0).sum())
    assert (out / "risk.png").stat().st_size > 10_000


def test_forecast_defaults_to_the_day_after_the_data(runner: CliRunner, data_dir: Path,
                                                     lake_df: pd.DataFrame) -> None:
    run(runner, data_dir, "forecast", "--model", "naive")
    day = pd.Timestamp(lake_df["reported_at"].max()).normalize() + pd.Timedelta(days=1)
    assert (data_dir / "forecasts" / f"naive-{day:%Y%m%d}" / "risk.csv").exists()


def test_backtest_writes_report(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bt"
    text = run(runner, data_dir, "backtest", "--models", "naive,random,prospective,sepp", "--start", "2024-07-01",
               "--end", "2024-08-26", "--out", str(out))
    assert "PAI" in text
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["model"]) == {"naive", "random", "prospective", "sepp"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "http" not in html.split("<body>")[1]  # self-contained
    assert (out / "curves.png").exists()


def test_patrol_plan(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "patrol"
    text = run(runner, data_dir, "patrol", "plan", "--station", "S1", "--shift", "夜班", "--units", "3",
               "--date", "2024-08-20", "--out", str(out))
    assert "巡逻方案" in text and "覆盖预计警情" in text
    areas = pd.read_csv(out / "areas.csv")
    assert len(areas) == 3 and (areas["max_revisit_gap_min"] <= 120).all()
    sched = pd.read_csv(out / "schedule.csv", parse_dates=["arrive", "depart"])
    assert sched["arrive"].min() >= pd.Timestamp("2024-08-20 00:00")
    assert sched["depart"].max() <= pd.Timestamp("2024-08-20 08:00")


def test_alerts_and_sangao(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    run(runner, data_dir, "alerts", "--on", "2024-08-20", "--min-level", "0", "--out", str(tmp_path))
    csv = tmp_path / "alerts.csv"
    res = pd.read_csv(csv)
    assert {"unit_level", "unit_id", "level", "reason"} <= set(res.columns)
    assert res["level"].between(0, 3).all()
    text = run(runner, data_dir, "sangao", "--period", "2024-07", "--station", "S1", "--top", "5")
    assert "三高" in text and "高发时段" in text
    assert run(runner, data_dir, "three-highs", "--period", "2024-07", "--station", "S1", "--top", "5") == text


def test_errors_are_clean(runner: CliRunner, data_dir: Path) -> None:
    res = runner.invoke(app, ["--data-dir", str(data_dir), "--lang", "en", "forecast", "--model", "oracle"])
    assert res.exit_code == 2 and "unknown model 'oracle'" in res.stderr and "Traceback" not in res.output
    res = runner.invoke(app, ["--data-dir", str(data_dir), "forecast", "--shift", "午班"])
    assert res.exit_code == 2 and "早班/中班/夜班" in res.stderr and res.stderr.startswith("错误")


def test_forecast_without_model_chooses_by_backtest(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "auto"
    text = run(runner, data_dir, "forecast", "--horizon", "7D", "--hot-area", "0.5km2", "--grid-rotation", "15",
               "--grid-offset", "75,0", "--out", str(out))
    assert "模型选择" in text and "naive-365d" in text and "random" in text  # baselines beside the winner
    chosen = [line for line in text.splitlines() if line.startswith("选用 ")]
    assert len(chosen) == 1
    name = chosen[0].split()[1].rstrip(":：")
    assert name in text and (out / "risk.csv").exists()
    risk = pd.read_csv(out / "risk.csv")
    assert risk["lon"].between(120, 124).all() and risk["lat"].between(30, 32).all()  # rotated back


def test_backtest_scores_a_hot_area(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bth"
    text = run(runner, data_dir, "backtest", "--models", "naive,retrospective", "--start", "2024-07-01",
               "--end", "2024-08-26", "--hot-area", "0.2mi2", "--ties", "cell_id", "--out", str(out))
    assert "km²" in text
    summary = pd.read_csv(out / "summary.csv")
    hot = summary[summary["coverage"].isna()]
    assert len(hot) == 2 and np.allclose(hot["hot_area_m2"], 0.2 * 1609.344**2)
    assert (hot["area_share"] * 0 == 0).all() and "tied" in summary


@pytest.mark.parametrize("args, message", [
    (["--hot-area", "3 acres"], "--hot-area"),
    (["--hot-area", "nij", "--cell-size", "300"], "NIJ"),
    (["--grid-offset", "east"], "--grid-offset"),
    (["--study-area", "county"], "--study-area"),
    (["--study-area", "district"], "not loaded"),
])
def test_scoring_options_fail_clearly(runner: CliRunner, data_dir: Path, args: list[str], message: str) -> None:
    res = runner.invoke(app, ["--data-dir", str(data_dir), "--lang", "en", "forecast", "--model", "naive", *args])
    assert res.exit_code == 2 and message in res.stderr and "Traceback" not in res.output
