"""End to end on the demo district (generator → ingest → lake → forecast part), checked against the generator's
planted facts (``demo/truth.json``): the 三高 of the nightlife station, and forecasts that beat random."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from anju.cli import app
from shipped import TAX

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_dir(demo: Any) -> Path:
    """The shared demo district (tests/conftest.py)."""
    return Path(demo.data_dir)


@pytest.fixture(scope="module")
def lake(demo: Any):  # type: ignore[no-untyped-def]
    from anju.services.lake import open_lake

    with open_lake(demo.deployment) as lk:
        yield lk


def test_three_highs_find_the_planted_nightlife_zone(demo_dir: Path, lake) -> None:  # type: ignore[no-untyped-def]
    from anju.forecast.threehighs import three_highs

    truth = json.loads((demo_dir / "demo" / "truth.json").read_text(encoding="utf-8"))
    main = set(truth["nightlife"]["main_community_ids"])
    station = {c["id"]: c["station_id"] for c in truth["communities"]}[sorted(main)[0]]
    th = three_highs(lake.incidents(), start="2025-07-01", end="2026-01-01", station=station, top=5, taxonomy=TAX)
    top = th.combos.iloc[0]
    assert top["area_id"] in main
    assert top["label"] == "酒后纠纷"
    assert top["start_hour"] in (20, 22, 0)  # the planted drunk-dispute peak is 22–23 h
    assert th.areas["area_id"].iloc[0] in main


def test_forecasts_beat_random_on_the_demo(lake) -> None:  # type: ignore[no-untyped-def]
    from anju.forecast import (
        NaiveHotspot,
        ProspectiveHotspot,
        RandomHotspot,
        RetrospectiveHotspot,
        backtest,
        rolling_origins,
        summarize,
    )
    from anju.geo.regular_grid import RegularGrid

    t = lake.incidents()
    df = t.filter(t.x.notnull()).select("x", "y", "reported_at", "family").to_pandas()
    grid = RegularGrid.from_points(df["x"], df["y"], 150.0, mask="occupied", dilate=1)
    models = {"naive": NaiveHotspot(family="dispute", period_days=28.0),
              "random": RandomHotspot(random_state=0, family="dispute"),
              "retrospective": RetrospectiveHotspot(family="dispute", bandwidth_m=150.0),
              "prospective": ProspectiveHotspot(family="dispute")}
    res = backtest(models, df, grid, rolling_origins("2025-09-01", "2025-12-29", "28D"), "28D")
    s = summarize(res, baseline="naive").set_index(["model", "coverage"])["pai_pooled"]
    for m in ("naive", "retrospective", "prospective"):
        assert s[(m, 0.05)] > 1.5 * s[("random", 0.05)], m


def test_patrol_plan_cli_on_the_demo(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    res = CliRunner().invoke(app, ["--data-dir", str(demo_dir), "--quiet", "patrol", "plan", "--station", "PS02",
                                   "--shift", "中班", "--units", "2", "--date", "2025-12-20", "--out", str(out)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    sched = pd.read_csv(out / "schedule.csv", parse_dates=["arrive"])
    assert sched["arrive"].min() >= pd.Timestamp("2025-12-20 16:00")
    assert sched["lon"].between(121.0, 122.0).all()  # the demo district is in Shanghai
