"""Fixtures for the ingest tests: settings on a fresh data directory and a small community layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anju.config import Settings, load_settings

SECRET = "test-deployment-secret-4f1c9a7e2b"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load_settings(data_dir=data_dir, secret=SECRET, quiet=True)


def square(x0: float, y0: float, size: float) -> list[list[list[float]]]:
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


@pytest.fixture
def communities(settings: Settings, tmp_path: Path) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Four 0.02° WGS-84 squares (c1..c4) covering lon 121.36–121.40, lat 31.08–31.12, loaded as `community`."""
    from anju.geo.areas import load_area_file

    boxes = []
    feats = []
    for i, (x0, y0) in enumerate([(121.36, 31.08), (121.38, 31.08), (121.36, 31.10), (121.38, 31.10)]):
        cid = f"c{i + 1}"
        boxes.append((cid, (x0, y0, x0 + 0.02, y0 + 0.02)))
        feats.append({"type": "Feature", "properties": {"id": cid, "name": f"社区{i + 1}"},
                      "geometry": {"type": "Polygon", "coordinates": square(x0, y0, 0.02)}})
    p = tmp_path / "communities.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    load_area_file(settings.data_dir, p, layer="community", id_field="id", name_field="name")
    return boxes
