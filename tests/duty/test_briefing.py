"""The daily briefing on the demo: levels with reasons, 三高, contiguous patrol areas, one per unit; idempotent."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pandas as pd
import pytest
import shapely

from anju.duty.briefing import load_briefing_config
from anju.duty.service import load_communities, read_briefing, run_briefing
from anju.errors import ConfigError

DAY = "2025-12-31"


@pytest.fixture(scope="module")
def briefing(duty_demo: dict[str, Any]) -> Any:
    b, folder = run_briefing(duty_demo["settings"], DAY, force=True)
    return b, folder


def test_levels_and_reasons(briefing: Any) -> None:
    b, _ = briefing
    assert set(b.alerts["unit_level"]) == {"community_id", "police_district_id"}
    assert b.alerts["unit_id"].is_unique or b.alerts.groupby("unit_level")["unit_id"].is_unique.all()
    raised = b.alerts[b.alerts["level"] >= 1]
    assert len(raised) and raised["reason"].str.contains("控制上限").all()
    assert (raised["observed"] > raised["expected"]).all()
    # each station's level is the highest level of its units, and a surge adds a unit on every shift
    for r in b.stations.itertuples():
        assert r.level == b.alerts.loc[b.alerts["station_id"] == r.station_id, "level"].max()
        assert r.units_evening == 3 + (1 if r.level >= 2 else 0)
    assert set(b.three_highs) == set(b.stations["station_id"])


def test_one_contiguous_area_per_unit(briefing: Any, duty_demo: dict[str, Any]) -> None:
    b, _ = briefing
    com = load_communities(duty_demo["settings"]).set_index("community_id")
    for (st, shift), g in b.areas.groupby(["station_id", "shift"]):
        units = int(b.stations.set_index("station_id").loc[st, f"units_{shift}"])
        assert g["unit"].nunique() == units
        assert set(g["community_id"]) == set(com.index[com["station_id"] == st])  # the whole territory, once
        for _, a in g.groupby("unit"):
            geoms = com.loc[a["community_id"], "geometry"].to_list()
            graph = nx.Graph()
            graph.add_nodes_from(range(len(geoms)))
            graph.add_edges_from((i, j) for i in range(len(geoms)) for j in range(i + 1, len(geoms))
                                 if shapely.distance(geoms[i], geoms[j]) < 2.0)
            assert nx.is_connected(graph), (st, shift)


def test_plan_boxes_lie_in_their_unit_area_with_koper_stops(briefing: Any) -> None:
    b, _ = briefing
    assert len(b.plan) and b.stops["stop_minutes"].between(10, 16).all()
    area_of = b.areas.set_index(["unit", "community_id"]).index
    assert all((u, c) in area_of for u, c in zip(b.plan["unit"], b.plan["community_id"], strict=True))
    # each box is revisited within the two-hour bound (travel between boxes included)
    for _, g in b.stops.groupby(["unit", "box_id"]):
        arr = pd.to_datetime(g["arrive"]).sort_values()
        assert (arr.diff().dropna() <= pd.Timedelta(minutes=120)).all()


def test_daily_job_is_idempotent(briefing: Any, duty_demo: dict[str, Any]) -> None:
    _, folder = briefing
    first = (folder / "briefing.json").read_bytes()
    skipped, _ = run_briefing(duty_demo["settings"], DAY)
    assert skipped is None  # current for this lake and configuration: not rebuilt
    run_briefing(duty_demo["settings"], DAY, force=True)
    assert (folder / "briefing.json").read_bytes() == first
    assert read_briefing(duty_demo["settings"], DAY)["day"] == DAY


def test_bad_configuration_names_the_key(tmp_path: Any) -> None:
    p = tmp_path / "b.toml"
    p.write_text("[patrol]\nshifts = ['day', 'graveyard']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="shift"):
        load_briefing_config(p)
    p.write_text("[patrol]\ncell_size_m = 'big'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"patrol\.cell_size_m"):
        load_briefing_config(p)
