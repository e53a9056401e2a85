"""`anju hotspots gistar | emerging | knox` through the real CLI, over a stand-in lake (an Ibis memtable with the
data-model columns) and a real area layer loaded with `anju.geo.areas.load_area_file`."""

from __future__ import annotations

import json

import ibis
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import anju.services.lake
from anju.cli import app
from anju.geo.projection import from_metric, to_metric

CRS = "EPSG:32651"
LON0, LAT0 = 121.40, 31.10


class _FakeLake:
    def __init__(self, df: pd.DataFrame, settings: object = None) -> None:
        self.df = df
        self.settings = settings

    def incidents(self) -> ibis.Table:
        return ibis.memtable(self.df)

    def close(self) -> None:
        pass

    def __enter__(self) -> _FakeLake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _events(seed: int = 0) -> pd.DataFrame:
    """~4000 thefts over a 3 × 3 km square in 2025 with a burglary cluster that repeats near in space and time."""
    rng = np.random.default_rng(seed)
    x0, y0 = to_metric([LON0], [LAT0], CRS)
    n = 3600
    x = x0[0] + rng.uniform(0, 3000, n)
    y = y0[0] + rng.uniform(0, 3000, n)
    t = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.uniform(0, 365, n), unit="D")
    fam = np.array(["theft"] * n, dtype=object)
    cat = rng.choice(["theft.burglary", "theft.bicycle"], n)
    # a hot spot around (2200, 2200) that grows through the year, with near repeats (same week, < 80 m)
    m = 400
    hx = x0[0] + 2200 + rng.normal(0, 60, m)
    hy = y0[0] + 2200 + rng.normal(0, 60, m)
    ht = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.sqrt(rng.uniform(0, 1, m)) * 364, unit="D")
    x, y = np.r_[x, hx, hx[:150] + 30], np.r_[y, hy, hy[:150] - 30]
    t = pd.DatetimeIndex(np.r_[t.to_numpy(), ht.to_numpy(), (ht[:150] + pd.Timedelta(days=2)).to_numpy()])
    fam = np.r_[fam, ["theft"] * (m + 150)]
    cat = np.r_[cat, ["theft.burglary"] * (m + 150)]
    lon, lat = from_metric(x, y, CRS)
    # communities: a 3 × 3 partition of the square, 1 km each
    col = np.clip(((x - x0[0]) // 1000).astype(int), 0, 2)
    row = np.clip(((y - y0[0]) // 1000).astype(int), 0, 2)
    return pd.DataFrame({"x": x, "y": y, "lon": lon, "lat": lat, "reported_at": t.floor("min"), "family": fam,
                         "category": cat, "community_id": [f"c{r}{c}" for r, c in zip(row, col, strict=True)]})


@pytest.fixture
def lake(monkeypatch, data_dir):
    df = _events()
    monkeypatch.setattr(anju.services.lake, "_open_engine", lambda settings: _FakeLake(df, settings))
    # a real community layer: 3 × 3 squares of 1 km (WGS-84 polygons via the metric CRS)
    from anju.geo.areas import load_area_file

    x0, y0 = to_metric([LON0], [LAT0], CRS)
    feats = []
    for r in range(3):
        for c in range(3):
            xs = x0[0] + 1000 * np.array([c, c + 1, c + 1, c, c])
            ys = y0[0] + 1000 * np.array([r, r, r + 1, r + 1, r])
            lon, lat = from_metric(xs, ys, CRS)
            feats.append({"type": "Feature", "properties": {"id": f"c{r}{c}", "name": f"社区{r}{c}"},
                          "geometry": {"type": "Polygon", "coordinates": [list(zip(lon, lat, strict=True))]}})
    path = data_dir / "communities.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    load_area_file(data_dir, path, layer="community", id_field="id", name_field="name")
    return df


def _run(data_dir, *args):
    res = CliRunner().invoke(app, ["-q", "-d", str(data_dir), "hotspots", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_gistar_grid_writes_geojson_with_the_planted_hot_spot(lake, data_dir, tmp_path):
    text = _run(data_dir, "gistar", "--period", "2025", "--category", "theft", "--cell-size", "150", "--out",
                str(tmp_path))
    assert "热点 99%" in text and "written" in text
    fc = json.loads((tmp_path / "gistar.geojson").read_text(encoding="utf-8"))
    props = pd.DataFrame([f["properties"] for f in fc["features"]])
    assert len(props) == 20 * 20 or len(props) == 21 * 21  # 3 km / 150 m, origin snapped to the grid
    hottest = props.sort_values("z", ascending=False).iloc[0]
    x, y = to_metric([hottest["lon"]], [hottest["lat"]], CRS)
    x0, y0 = to_metric([LON0], [LAT0], CRS)
    assert np.hypot(x[0] - x0[0] - 2200, y[0] - y0[0] - 2200) < 300
    assert hottest["bin"] == 3
    ring = np.array(fc["features"][0]["geometry"]["coordinates"][0])
    assert np.all(np.abs(ring[:, 0] - LON0) < 0.1) and np.all(np.abs(ring[:, 1] - LAT0) < 0.1)  # WGS-84


def test_gistar_on_community_polygons_to_csv(lake, data_dir, tmp_path):
    _run(data_dir, "gistar", "--period", "2025H2", "--areas", "community", "--out", str(tmp_path))
    df = pd.read_csv(tmp_path / "gistar.csv", encoding="utf-8-sig")
    fc = json.loads((tmp_path / "gistar.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["area_id"] for f in fc["features"]] == df["area_id"].tolist()
    assert set(df["area_id"]) == {f"c{r}{c}" for r in range(3) for c in range(3)}
    in_h2 = (lake["reported_at"] >= "2025-07-01") & (lake["reported_at"] < "2026-01-01")
    expected = lake[in_h2].groupby("community_id").size()
    assert df.set_index("area_id")["count"].to_dict() == expected.to_dict()
    assert df.loc[df["z"].idxmax(), "area_id"] == "c22"


def test_emerging_and_knox(lake, data_dir, tmp_path):
    text = _run(data_dir, "emerging", "--period", "2025", "--step", "14D", "--cell-size", "300", "--out",
                str(tmp_path))
    assert "模式 / patterns" in text
    em = pd.read_csv(tmp_path / "emerging.csv", encoding="utf-8-sig")
    assert {"cell", "lon", "lat", "category", "category_code", "trend_z"} <= set(em.columns)
    assert (em["category_code"] > 0).any()
    text = _run(data_dir, "knox", "--period", "2025", "--category", "theft.burglary", "--space-bands",
                "100,200,400", "--time-bands", "7,14", "--permutations", "49", "--seed", "1", "--out", str(tmp_path))
    assert "Knox" in text
    k = pd.read_csv(tmp_path / "knox.csv", encoding="utf-8-sig")
    near = k[(k["distance"] == "(0, 100] m") & (k["time"] == "[0, 7] d")].iloc[0]
    assert near["ratio"] > 1.2 and near["p"] <= 0.05  # the 150 planted repeats, diluted by the dense cluster


def test_cli_errors_are_clean(lake, data_dir):
    runner = CliRunner()
    res = runner.invoke(app, ["-d", str(data_dir), "--lang", "en", "hotspots", "gistar", "--period", "2025",
                              "--weights", "distance"])
    assert res.exit_code == 2 and "--distance" in res.stderr
    res = runner.invoke(app, ["-d", str(data_dir), "--lang", "en", "hotspots", "knox", "--period", "2025",
                              "--space-bands", "a,b"])
    assert res.exit_code == 2 and "comma-separated" in res.stderr
    res = runner.invoke(app, ["-d", str(data_dir), "--lang", "en", "hotspots", "gistar", "--period", "2019"])
    assert res.exit_code == 2 and "no incidents" in res.stderr
