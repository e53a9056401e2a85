"""The demo district's geography: layer sizes, nesting, attributes, GeoJSON and loading through anju.geo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from anju.demo.geography import KIND_ZH, build_district, metric_to_wgs84, write_layers


@pytest.fixture(scope="module")
def district():
    return build_district(42)


def test_layer_sizes(district) -> None:
    L = district.layers
    assert len(L["district"]) == 1
    assert len(L["street"]) == 12
    assert len(L["community"]) == 120
    assert len(L["station"]) == 6
    per_station = np.bincount([L["station"].ids.index(p) for p in L["police_district"].parent_ids])
    assert per_station.min() >= 3 and per_station.max() <= 5
    per_comm = np.bincount([L["community"].ids.index(p) for p in L["grid"].parent_ids], minlength=120)
    assert per_comm.min() >= 2 and per_comm.max() <= 4
    assert len(set(L["community"].names)) == 120  # names are unique
    assert all(n.endswith(("街道", "镇")) for n in L["street"].names)


def test_polygons_tile_and_nest(district) -> None:
    L = district.layers
    outline = L["district"].geoms[0]
    comms = L["community"].geoms
    assert shapely.is_valid(comms).all()
    # communities tile the district: no overlaps, no gaps
    assert shapely.area(comms).sum() == pytest.approx(outline.area, rel=1e-6)
    assert shapely.union_all(comms).area == pytest.approx(outline.area, rel=1e-6)
    streets = dict(zip(L["street"].ids, L["street"].geoms, strict=True))
    for g, parent in zip(comms, L["community"].parent_ids, strict=True):
        assert shapely.within(g, shapely.buffer(streets[parent], 0.5))
    cdict = dict(zip(L["community"].ids, comms, strict=True))
    for g, parent in zip(L["grid"].geoms, L["grid"].parent_ids, strict=True):
        assert shapely.within(g, shapely.buffer(cdict[parent], 0.5))
    # police districts partition their station, stations partition the district
    st = dict(zip(L["station"].ids, L["station"].geoms, strict=True))
    for sid, sg in st.items():
        parts = [g for g, p in zip(L["police_district"].geoms, L["police_district"].parent_ids, strict=True)
                 if p == sid]
        assert shapely.union_all(parts).area == pytest.approx(sg.area, rel=1e-6)
    assert sum(g.area for g in st.values()) == pytest.approx(outline.area, rel=1e-6)
    # the district sits around 121.40E, 31.10N with an area of roughly 100–200 km²
    lon, lat = metric_to_wgs84(np.array([outline.centroid.x]), np.array([outline.centroid.y]))
    assert abs(lon[0] - 121.40) < 0.03 and abs(lat[0] - 31.10) < 0.03
    assert 100e6 < outline.area < 200e6


def test_attributes(district) -> None:
    a = district.communities.attrs
    assert set(np.unique(a["kind"])) <= set(KIND_ZH.values())
    assert (a["households"] >= 300).all() and a["households"].max() == 12000  # one giant community
    assert (a["population"] > a["households"]).all()
    for col in ("floating_share", "rental_rate", "fee_collection_rate", "elderly_share"):
        assert ((a[col] >= 0) & (a[col] <= 1)).all(), col
    assert (a["cameras_broken"] <= a["cameras"]).all() and (a["guards"] >= 1).all()
    assert a["has_owners_committee"].dtype == bool and 0.2 < a["has_owners_committee"].mean() < 0.95
    hot = district.hot
    # planted hot spots have the poor risk profile the seeds describe (流动人口多, 探头坏, 物业费收不上来)
    assert (a["floating_share"][hot] >= 0.85).all()
    assert (a["cameras_broken"][hot] / a["cameras"][hot] >= 0.5).all()
    assert (a["fee_collection_rate"][hot] <= 0.45).all()
    assert not a["has_owners_committee"][hot].any()


def test_point_pools_lie_in_their_community(district) -> None:
    comms = district.communities.geoms
    b = shapely.points(district.b_x, district.b_y)
    # every building is ≥ 20 m inside its community, so a ≤ 15 m jitter cannot leave it
    inside = shapely.within(b, comms[district.b_comm])
    assert inside.all()
    assert (shapely.distance(b, shapely.boundary(comms[district.b_comm])) >= 20.0).all()
    for xs, ys, cs in ((district.rp_x, district.rp_y, district.rp_comm), (district.zp_x, district.zp_y,
                                                                          district.zp_comm)):
        pts = shapely.points(xs, ys)
        assert shapely.within(pts, comms[cs]).all()
    assert len(district.zp_x) > 3000 and shapely.within(shapely.points(district.zp_x, district.zp_y),
                                                         shapely.buffer(district.zone, 1)).all()


def test_deterministic(district) -> None:
    again = build_district(42)
    assert again.communities.names == district.communities.names
    assert shapely.equals_exact(again.communities.geoms, district.communities.geoms, tolerance=0).all()
    other = build_district(7)
    assert other.communities.names != district.communities.names


def test_geojson_loads_through_anju_geo(district, tmp_path: Path) -> None:
    from anju.geo.areas import AreaSet, load_area_file

    paths = write_layers(district, tmp_path / "out")
    fc = json.loads(paths["community"].read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 120
    props = fc["features"][0]["properties"]
    for key in ("id", "name", "parent_id", "households", "population", "floating_share", "rental_rate",
                "fee_collection_rate", "has_owners_committee", "cameras", "cameras_broken", "guards"):
        assert key in props
    xy = np.array(shapely.get_coordinates(shapely.from_geojson(json.dumps(fc["features"][0]["geometry"]))))
    assert (np.abs(xy[:, 0] - 121.40) < 0.15).all() and (np.abs(xy[:, 1] - 31.10) < 0.15).all()
    nl = json.loads(paths["nightlife"].read_text(encoding="utf-8"))
    assert {f["properties"]["name"] for f in nl["features"]} == set(district.zone_names)

    data_dir = tmp_path / "data"
    for layer in ("district", "street", "community", "grid", "station", "police_district"):
        rep = load_area_file(data_dir, paths[layer], layer=layer, id_field="id", name_field="name",
                             parent_field=None if layer in ("district", "station") else "parent_id")
        assert rep.features_loaded == len(district.layers[layer])
        assert not rep.repaired_ids and not rep.dropped
    areas = AreaSet.from_data_dir(data_dir)
    # buildings are assigned to the community the generator put them in (independent point-in-polygon)
    lon, lat = metric_to_wgs84(district.b_x, district.b_y)
    got = areas.assign(lon, lat, max_distance_m=0.0)
    want = np.array(district.communities.ids, dtype=object)[district.b_comm]
    assert (got["community_id"] == want).all()
    station_ids = np.array(district.layers["station"].ids, dtype=object)
    assert (got["station_id"] == station_ids[district.comm_station[district.b_comm]]).all()
