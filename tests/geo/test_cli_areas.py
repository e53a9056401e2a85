"""`anju areas load` / `anju areas list` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from typer.testing import CliRunner

from anju.cli import app

runner = CliRunner()


def _write(path: Path) -> Path:
    bow = shapely.Polygon([(121.4, 31.2), (121.41, 31.21), (121.41, 31.2), (121.4, 31.21), (121.4, 31.2)])
    feats = [{"type": "Feature", "properties": {"code": c, "名称": n, "households": h},
              "geometry": json.loads(shapely.to_geojson(g))}
             for c, n, h, g in [("C1", "一社区", 300, bow), ("C2", "二社区", 500, shapely.box(121.42, 31.2, 121.43,
                                                                                               31.21))]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), "utf-8")
    return path


def test_load_and_list(tmp_path: Path) -> None:
    src = _write(tmp_path / "c.geojson")
    d = tmp_path / "data"
    r = runner.invoke(app, ["-d", str(d), "areas", "load", str(src), "--layer", "community", "--id-field", "code",
                            "--name-field", "名称", "--crs", "wgs84"])
    assert r.exit_code == 0, r.output
    assert "2 / 2" in r.output and "C1" in r.output  # features, and the repaired bow tie named
    assert (d / "areas" / "community.parquet").exists()
    r = runner.invoke(app, ["-d", str(d), "areas", "list"])
    assert r.exit_code == 0 and "community" in r.output and "EPSG:32651" in r.output


def test_errors(tmp_path: Path) -> None:
    src = _write(tmp_path / "c.geojson")
    d = tmp_path / "data"
    r = runner.invoke(app, ["-d", str(d), "--lang", "en", "areas", "load", str(src), "--layer", "town"])
    assert r.exit_code == 2 and "valid layers" in r.stderr
    r = runner.invoke(app, ["-d", str(d), "--lang", "en", "areas", "load", str(src), "--layer", "community",
                            "--id-field", "编号"])
    assert r.exit_code == 2 and "available properties: code, 名称, households" in r.stderr
    r = runner.invoke(app, ["-d", str(d), "--lang", "en", "areas", "load", str(tmp_path / "no.geojson"), "--layer",
                            "grid"])
    assert r.exit_code == 2 and "does not exist" in r.stderr
    r = runner.invoke(app, ["-d", str(d), "areas", "list"])
    assert r.exit_code == 0 and "anju areas load" in r.output
