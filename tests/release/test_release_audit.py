"""The downgrading audit in the release: same numbers as anju.text.audit, and never in the public edition."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from anju.analytics.periods import Period
from anju.config import load_settings
from anju.deployment import load_deployment
from anju.geo.areas import load_area_file
from anju.ingest.pipeline import ingest_file
from anju.ingest.sample import cn110_sample, write_csv
from anju.lake import connect
from anju.services.release import build_release
from anju.text.audit import downgrade_audit

PLANTED = 25


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("audit")
    data = root / "data"
    settings = load_settings(data_dir=data, quiet=True)
    lon0, lat0, d = 121.40, 31.12, 0.2
    box = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "D1", "name": "测试区"},
           "geometry": {"type": "Polygon", "coordinates": [[[lon0 - d, lat0 - d], [lon0 + d, lat0 - d],
                                                            [lon0 + d, lat0 + d], [lon0 - d, lat0 + d],
                                                            [lon0 - d, lat0 - d]]]}}]}
    (root / "district.geojson").write_text(json.dumps(box, ensure_ascii=False), encoding="utf-8")
    load_area_file(data, root / "district.geojson", layer="district", id_field="id", name_field="name")
    t = cn110_sample(4000, seed=7, start="2024-01-01", days=730)
    # plant records coded as a neighbour dispute whose text says someone was injured, all inside 2025H2
    cols = {name: t.column(name).to_pylist() for name in t.column_names}
    for i in range(PLANTED):
        cols["报警时间"][i] = f"2025年9月{i % 28 + 1}日 21时15分"
        cols["警情类别"][i] = "纠纷"
        cols["警情细类"][i] = "邻里纠纷"
        cols["简要案情"][i] = "邻居双方因噪音发生争吵，报警人称被对方打伤，头部流血"
    planted = pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()})
    csv = write_csv(planted, root / "calls.csv", encoding="gbk")
    ingest_file(settings, csv, profile="cn110")
    return data


def test_release_audit_matches_the_audit_function(lake_dir: Path) -> None:
    settings = load_settings(data_dir=lake_dir, quiet=True)
    dep = load_deployment(settings)
    out = build_release(dep, "2025H2", formats=["json"])
    table = json.loads((out / "release.json").read_text(encoding="utf-8"))["tables"]["downgrade_audit"]
    released = sum(int(r["flagged"]) for r in table["rows"])
    p = Period.parse("2025H2")
    with connect(settings) as lake:
        df = lake.incidents().to_pandas()
    current = df[(df["reported_at"] >= pd.Timestamp(p.start)) & (df["reported_at"] < pd.Timestamp(p.end))]
    direct = downgrade_audit(current, rules=dep.audit_rules)
    assert released == int(direct["flagged"].sum())
    assert released >= PLANTED  # every planted downgrade is caught
    examples = " ".join(r["examples"] for r in table["rows"])
    assert "被对方打伤" in examples


def test_public_edition_has_no_audit(lake_dir: Path) -> None:
    settings = load_settings(data_dir=lake_dir, quiet=True)
    out = build_release(load_deployment(settings), "2025H2", public=True, formats=["json"])
    tables = json.loads((out / "release.json").read_text(encoding="utf-8"))["tables"]
    assert "downgrade_audit" not in tables
    assert "被对方打伤" not in (out / "release.json").read_text(encoding="utf-8")
