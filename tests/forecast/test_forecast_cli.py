"""The forecast CLI verbs end to end on a real small lake: the session's demo district (tests/conftest.py), read
through the real engine and service path (no stand-in lake). The demo's data directory is shared and read-only, so
every command writes with ``--out`` under ``tmp_path``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from anju.cli import app

DAY = "2025-12-01"


@pytest.fixture(scope="module")
def demo_dir(demo: Any) -> Path:
    return Path(demo.data_dir)


@pytest.fixture(scope="module")
def rows(demo_dir: Path) -> pd.DataFrame:
    """The lake's incidents read straight from its Parquet files (an independent path to check counts against)."""
    files = str(demo_dir / "lake" / "incidents" / "**" / "*.parquet")
    with duckdb.connect() as con:
        return con.execute("SELECT reported_at, category, family, source_category, station_id, x, y FROM "
                           "read_parquet(?, union_by_name = true, hive_partitioning = true)", [files]).df()


def run(demo_dir: Path, *args: str) -> str:
    res = CliRunner().invoke(app, ["--data-dir", str(demo_dir), "--quiet", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def training_events(text: str) -> int:
    m = re.search(r"training events: (\d+)", text)
    assert m, text
    return int(m.group(1))


def test_forecast_writes_surface(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc"
    text = run(demo_dir, "forecast", "--model", "kde", "--category", "theft", "--shift", "夜班", "--date", DAY,
               "--horizon", "1D", "--out", str(out))
    assert "风险最高的网格" in text
    risk = pd.read_csv(out / "risk.csv")
    assert {"cell_id", "risk", "rank", "lon", "lat"} <= set(risk.columns)
    assert risk["rank"].is_monotonic_increasing and (risk["risk"] >= 0).all() and risk["risk"].max() > 0
    assert risk["lon"].between(121.2, 121.7).all() and risk["lat"].between(30.8, 31.3).all()  # the demo district
    gj = json.loads((out / "risk.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == int((risk["risk"] > 0).sum())
    assert (out / "risk.png").stat().st_size > 10_000


@pytest.mark.parametrize("category, column, value", [("theft.burglary", "category", "theft.burglary"),
                                                     ("theft", "family", "theft"), ("盗窃", "family", "theft"),
                                                     ("入室盗窃", "category", "theft.burglary")])
def test_a_category_is_a_family_or_any_taxonomy_node(demo_dir: Path, tmp_path: Path, rows: pd.DataFrame,
                                                     category: str, column: str, value: str) -> None:
    """``--category theft.burglary`` (a leaf) forecasts burglaries: the model trains on exactly the lake's burglaries
    of the year before the forecast day (counted here from the Parquet files), not on "no incidents"; the Chinese
    labels (盗窃, 入室盗窃) mean the same family and leaf."""
    text = run(demo_dir, "forecast", "--model", "naive", "--category", category, "--date", DAY, "--out",
               str(tmp_path / "out"))
    t = pd.to_datetime(rows["reported_at"])
    day = pd.Timestamp(DAY)
    expected = rows[(rows[column] == value) & (t >= day - pd.Timedelta(days=365)) & (t < day)
                    & rows["x"].notna()]
    assert training_events(text) == len(expected) > 0


def test_a_category_may_be_named_as_the_source_spelt_it(demo_dir: Path, tmp_path: Path, rows: pd.DataFrame,
                                                        demo: Any) -> None:
    """A source category that is no taxonomy code or label (the 110 system's own name) selects exactly the lake's
    rows with that ``source_category``, for forecasts and for hot-spot maps alike."""
    tax = demo.deployment.taxonomy
    labels = {f.zh for f in tax.families.values()} | {c.zh for c in tax.categories.values()}
    t = pd.to_datetime(rows["reported_at"])
    day = pd.Timestamp(DAY)
    recent = rows[(t >= day - pd.Timedelta(days=365)) & (t < day) & rows["x"].notna()]
    names = recent["source_category"].dropna().value_counts()
    names = names[[n not in labels and n not in tax.families and n not in tax.categories for n in names.index]]
    assert len(names) > 0, "the demo should carry source names that differ from the taxonomy's labels"
    name = str(names.index[0])
    text = run(demo_dir, "forecast", "--model", "naive", "--category", name, "--date", DAY, "--out",
               str(tmp_path / "src"))
    assert training_events(text) == int(names.iloc[0]) > 0
    text = run(demo_dir, "hotspots", "gistar", "--period", "2025", "--category", name, "--out", str(tmp_path / "hs"))
    in_2025 = rows[(t.dt.year == 2025) & (rows["source_category"] == name) & rows["x"].notna()]
    m = re.search(r"([\d,]+) 起警情", text)
    assert m and int(m.group(1).replace(",", "")) == len(in_2025) > 0, text
    res = CliRunner().invoke(app, ["--data-dir", str(demo_dir), "--lang", "en", "forecast", "--model", "naive",
                                   "--category", "no-such-source-name", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "source category" in res.stderr and "Traceback" not in res.output


def test_forecast_defaults_to_the_day_after_the_data(demo_dir: Path, tmp_path: Path, rows: pd.DataFrame) -> None:
    text = run(demo_dir, "forecast", "--model", "naive", "--out", str(tmp_path / "n"))
    day = pd.Timestamp(rows["reported_at"].max()).normalize() + pd.Timedelta(days=1)
    assert f"{day:%Y-%m-%d}" in text and (tmp_path / "n" / "risk.csv").exists()


def test_forecast_without_model_chooses_by_backtest(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "auto"
    text = run(demo_dir, "forecast", "--category", "dispute", "--horizon", "7D", "--hot-area", "0.5km2",
               "--grid-rotation", "15", "--grid-offset", "75,0", "--date", DAY, "--out", str(out))
    assert "模型选择" in text and "naive-365d" in text and "random" in text and "blend-" in text  # baselines beside
    chosen = [line for line in text.splitlines() if line.startswith("选用 ")]
    assert len(chosen) == 1
    name = chosen[0].split()[1].rstrip(":：")
    assert name in text and (out / "risk.csv").exists()
    risk = pd.read_csv(out / "risk.csv")
    assert risk["lon"].between(121.2, 121.7).all() and risk["lat"].between(30.8, 31.3).all()  # rotated back


def test_long_memory_adds_five_and_seven_year_candidates(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "long"
    args = ("forecast", "--category", "dispute", "--horizon", "7D", "--date", DAY)
    text = run(demo_dir, *args, "--long-memory", "--out", str(out))
    assert "naive-2555d" in text and "naive-1825d" in text and "blend-2555d" in text and "naive-365d" in text
    assert "naive-2555d" not in run(demo_dir, *args, "--out", str(tmp_path / "short"))
    assert (out / "risk.csv").exists()


def test_backtest_writes_report(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bt"
    text = run(demo_dir, "backtest", "--models", "naive,random,prospective,sepp,blend", "--category", "dispute",
               "--start", "2025-10-06", "--end", "2025-12-29", "--out", str(out))
    assert "PAI" in text
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["model"]) == {"naive", "random", "prospective", "sepp", "blend"}
    at5 = summary[summary["coverage"] == 0.05].set_index("model")["pai"]
    assert at5["blend"] > 2 * at5["random"] and at5["prospective"] > 2 * at5["random"]  # real structure is found
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "http" not in html.split("<body>")[1]  # self-contained
    assert (out / "curves.png").exists()


def test_backtest_scores_a_hot_area_on_the_district(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bth"
    text = run(demo_dir, "backtest", "--models", "naive,retrospective", "--start", "2025-10-06", "--end",
               "2025-12-29", "--hot-area", "0.2mi2", "--study-area", "district", "--ties", "cell_id", "--out",
               str(out))
    assert "km²" in text
    summary = pd.read_csv(out / "summary.csv")
    hot = summary[summary["coverage"].isna()]
    assert len(hot) == 2 and np.allclose(hot["hot_area_m2"], 0.2 * 1609.344**2)
    assert (hot["area_share"] > 0).all() and (hot["area_share"] < 0.01).all() and "tied" in summary


def test_patrol_plan(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "patrol"
    text = run(demo_dir, "patrol", "plan", "--station", "PS01", "--shift", "夜班", "--units", "3",
               "--category", "theft.burglary", "--date", DAY, "--out", str(out))
    assert "巡逻方案" in text and "覆盖预计警情" in text
    areas = pd.read_csv(out / "areas.csv")
    assert len(areas) == 3 and (areas["max_revisit_gap_min"] <= 120).all()
    sched = pd.read_csv(out / "schedule.csv", parse_dates=["arrive", "depart"])
    assert sched["arrive"].min() >= pd.Timestamp(f"{DAY} 00:00")
    assert sched["depart"].max() <= pd.Timestamp(f"{DAY} 08:00")


def test_alerts_and_sangao(demo_dir: Path, tmp_path: Path, demo: Any) -> None:
    run(demo_dir, "alerts", "--on", DAY, "--min-level", "0", "--out", str(tmp_path))
    res = pd.read_csv(tmp_path / "alerts.csv")
    assert {"unit_level", "unit_id", "level", "reason"} <= set(res.columns)
    assert res["level"].between(0, 3).all()
    assert set(res.loc[res["unit_level"] == "station_id", "unit_id"]) == {f"PS0{i}" for i in range(1, 7)}
    main = sorted(demo.truth["nightlife"]["main_community_ids"])
    station = {c["id"]: c["station_id"] for c in demo.truth["communities"]}[main[0]]
    text = run(demo_dir, "sangao", "--period", "2025H2", "--station", station, "--top", "5")
    assert "三高" in text and "高发时段" in text and "酒后纠纷" in text  # the planted night-life disputes
    assert run(demo_dir, "three-highs", "--period", "2025H2", "--station", station, "--top", "5") == text


def test_errors_are_clean(demo_dir: Path) -> None:
    res = CliRunner().invoke(app, ["--data-dir", str(demo_dir), "--lang", "en", "forecast", "--model", "oracle"])
    assert res.exit_code == 2 and "unknown model 'oracle'" in res.stderr and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["--data-dir", str(demo_dir), "forecast", "--shift", "午班"])
    assert res.exit_code == 2 and "早班/中班/夜班" in res.stderr and res.stderr.startswith("错误")


@pytest.mark.parametrize("args, message", [
    (["--hot-area", "3 acres"], "--hot-area"),
    (["--hot-area", "nij", "--cell-size", "300"], "NIJ"),
    (["--grid-offset", "east"], "--grid-offset"),
    (["--study-area", "county"], "--study-area"),
    (["--category", "theft.nosuchthing"], "theft.burglary"),
    (["--long-memory"], "--long-memory"),
])
def test_options_fail_clearly(demo_dir: Path, args: list[str], message: str) -> None:
    res = CliRunner().invoke(app, ["--data-dir", str(demo_dir), "--lang", "en", "forecast", "--model", "naive",
                                   *args])
    assert res.exit_code == 2 and message in res.stderr and "Traceback" not in res.output
