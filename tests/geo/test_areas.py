"""Area layers: loading, repair report, parent links, storage, and assignment against brute-force references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import shapely
from pyproj import Geod

from anju.errors import DataNotFoundError, EncodingError, GeoError
from anju.geo import coords
from anju.geo.areas import LAYERS, PARENT, AreaLayer, AreaSet, load_area_file
from anju.geo.projection import to_metric

X0, Y0 = 121.40, 31.20  # a corner in Shanghai


def _feature(props: dict[str, Any], geom: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props,
            "geometry": None if geom is None else json.loads(shapely.to_geojson(geom))}


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


def box(i: float, j: float, w: float = 0.01, h: float = 0.01) -> shapely.Polygon:
    return shapely.box(X0 + i * w, Y0 + j * h, X0 + (i + 1) * w, Y0 + (j + 1) * h)


def geod_area(g: Any) -> float:
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(g)[0])


# ---------------------------------------------------------------------------------------------------------------
def test_bow_tie_repaired_and_everything_reported(tmp_path: Path, data_dir: Path) -> None:
    bow = shapely.Polygon([(X0, Y0), (X0 + 0.01, Y0 + 0.01), (X0 + 0.01, Y0), (X0, Y0 + 0.01), (X0, Y0)])
    assert not shapely.is_valid(bow)
    feats = [
        _feature({"code": "B", "名称": "蝴蝶社区", "population": 1200, "rate": 0.5, "ok": True}, bow),
        _feature({"code": "A", "名称": "甲社区", "population": 800, "rate": 1, "ok": False}, box(2, 0)),
        _feature({"code": "P", "名称": "点", "population": 1, "rate": 0.1, "ok": True}, shapely.Point(X0, Y0)),
        _feature({"code": None, "名称": "无编号", "population": 5, "rate": 0.2, "ok": True}, box(4, 0)),
        _feature({"code": "A", "名称": "甲社区(二)", "population": 800, "rate": 1, "ok": False}, box(3, 0)),
        _feature({"code": "E", "名称": "空", "population": None, "rate": None, "ok": None}, None),
    ]
    src = write_geojson(tmp_path / "c.geojson", feats)
    rep = load_area_file(data_dir, src, layer="community", id_field="code", name_field="名称")
    assert rep.features_read == 6 and rep.features_loaded == 2
    assert rep.repaired_ids == ["B"]
    reasons = {d["id"]: d["reason"] for d in rep.dropped}
    assert set(reasons) == {"P", "#4", "E"} and "not a polygon" in reasons["P"]
    assert rep.merged_duplicate_ids == ["A"]
    table = pq.read_table(data_dir / "areas" / "community.parquet")
    assert table.column("area_id").to_pylist() == ["B", "A"]
    assert table.column("name").to_pylist() == ["蝴蝶社区", "甲社区"]
    g = shapely.from_wkb(table.column("geometry").to_pylist())
    assert shapely.is_valid(g).all() and g[0].geom_type == "MultiPolygon"
    # the bow tie is two triangles of a quarter box each; area checked against the ellipsoidal area
    assert geod_area(g[0]) == pytest.approx(geod_area(box(0, 0)) / 2, rel=1e-6)
    area = table.column("area_m2").to_numpy()
    assert area[0] == pytest.approx(geod_area(g[0]), rel=2e-3)
    assert area[1] == pytest.approx(2 * geod_area(box(2, 0)), rel=2e-3)  # the merged two-part area
    # attributes keep their types
    assert str(table.schema.field("population").type) == "int64"
    assert str(table.schema.field("rate").type) == "double"
    assert str(table.schema.field("ok").type) == "bool"
    meta = json.loads((data_dir / "areas" / "_meta.json").read_text("utf-8"))
    assert meta["metric_crs"] == "EPSG:32651"
    assert meta["layers"]["community"]["report"]["repaired_ids"] == ["B"]
    assert meta["layers"]["community"]["source_file"] == str(src.resolve())


def test_gcj02_input_converted_and_reload_replaces(tmp_path: Path, data_dir: Path) -> None:
    g = box(0, 0)
    gcj = shapely.transform(g, lambda xy: np.column_stack(coords.wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    src = write_geojson(tmp_path / "s.geojson", [_feature({"id": 7, "name": "七"}, gcj)])
    load_area_file(data_dir, src, layer="street", crs="GCJ02")
    areas = AreaSet.from_data_dir(data_dir)
    lay = areas.layers["street"]
    assert lay.ids.tolist() == ["7"] and lay.names.tolist() == ["七"]
    np.testing.assert_allclose(shapely.bounds(lay.geometries[0]), shapely.bounds(g), atol=1e-9)
    # a second load of the layer replaces it
    write_geojson(src, [_feature({"id": 1, "name": "一"}, box(0, 0)), _feature({"id": 2, "name": "二"}, box(1, 0))])
    load_area_file(data_dir, src, layer="street")
    assert AreaSet.from_data_dir(data_dir).layers["street"].ids.tolist() == ["1", "2"]
    assert AreaSet.from_data_dir(data_dir / "areas").layers["street"].ids.tolist() == ["1", "2"]


def _districts_and_streets(tmp_path: Path) -> tuple[Path, Path]:
    d = write_geojson(tmp_path / "d.geojson", [
        _feature({"adcode": 310101, "name": "东区"}, box(0, 0, 0.02, 0.02)),
        _feature({"adcode": 310102, "name": "西区"}, box(1, 0, 0.02, 0.02)),
    ])
    streets = [_feature({"sid": f"S{i}{j}", "区": "东区" if i < 2 else "西区"}, box(i, j)) for i in range(4)
               for j in range(2)]
    return d, write_geojson(tmp_path / "s.geojson", streets)


def test_parent_links_spatial_in_any_order(tmp_path: Path, data_dir: Path) -> None:
    d, s = _districts_and_streets(tmp_path)
    rep = load_area_file(data_dir, s, layer="street", id_field="sid")  # parent layer not loaded yet
    assert rep.parent_mode == "none" and rep.parents_linked == 0
    rep = load_area_file(data_dir, d, layer="district", id_field="adcode")
    assert rep.relinked_children == {"street": 8}
    lay = AreaSet.from_data_dir(data_dir).layers["street"]
    expect = {f"S{i}{j}": ("310101" if i < 2 else "310102") for i in range(4) for j in range(2)}
    assert dict(zip(lay.ids.tolist(), lay.parent_ids.tolist(), strict=True)) == expect
    # and the other way round: children loaded after their parents link spatially straight away
    rep = load_area_file(data_dir, s, layer="street", id_field="sid")
    assert rep.parent_mode == "spatial" and rep.parents_linked == 8 and rep.parents_missing == []


def test_parent_links_from_field_by_id_or_name(tmp_path: Path, data_dir: Path) -> None:
    d, s = _districts_and_streets(tmp_path)
    load_area_file(data_dir, d, layer="district", id_field="adcode")
    rep = load_area_file(data_dir, s, layer="street", id_field="sid", parent_field="区")  # names → ids
    assert rep.parent_mode == "field" and rep.parents_linked == 8
    lay = AreaSet.from_data_dir(data_dir).layers["street"]
    assert set(lay.parent_ids.tolist()) == {"310101", "310102"}
    with pytest.raises(GeoError, match="has no parent layer"):
        load_area_file(data_dir, d, layer="district", id_field="adcode", parent_field="name")


def test_errors_name_the_fix(tmp_path: Path, data_dir: Path) -> None:
    src = write_geojson(tmp_path / "x.geojson", [_feature({"foo": 1, "bar": "b"}, box(0, 0))])
    with pytest.raises(GeoError, match=r"valid layers: district, street, community, grid, station"):
        load_area_file(data_dir, src, layer="neighbourhood")
    with pytest.raises(GeoError, match=r"--id-field with one of: foo, bar"):
        load_area_file(data_dir, src, layer="community")
    with pytest.raises(GeoError, match=r"no property 'nope'.*available properties: foo, bar"):
        load_area_file(data_dir, src, layer="community", id_field="nope")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_area_file(data_dir, tmp_path / "missing.geojson", layer="community")
    projected = write_geojson(tmp_path / "p.geojson", [_feature({"id": 1}, shapely.box(350000, 3450000, 351000,
                                                                                          3451000))])
    with pytest.raises(GeoError, match="not lon/lat"):
        load_area_file(data_dir, projected, layer="community")
    assert AreaSet.from_data_dir(data_dir).layers == {} and AreaSet.from_data_dir(data_dir).bounds is None


def test_shapefile_encodings_and_prj(tmp_path: Path, data_dir: Path) -> None:
    import shapefile

    base = tmp_path / "gbk"
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON, encoding="gb18030") as w:
        w.field("CODE", "C", 10)
        w.field("NAME", "C", 40)
        w.field("POP", "N", 10, 0)
        w.field("RATE", "N", 10, 3)
        for k, (i, j) in enumerate([(0, 0), (1, 0)]):
            w.poly([list(box(i, j).exterior.coords)[::-1]])
            w.record(f"G{k}", f"网格{k}号", 100 + k, 0.25)
    rep = load_area_file(data_dir, base.with_suffix(".shp"), layer="grid", id_field="CODE", name_field="NAME")
    assert rep.encoding == "gb18030" and rep.features_loaded == 2  # no .cpg: UTF-8 fails, GB18030 works
    lay = AreaSet.from_data_dir(data_dir).layers["grid"]
    assert lay.names.tolist() == ["网格0号", "网格1号"]
    assert lay.attributes.column("POP").to_pylist() == [100, 101]
    assert lay.attributes.column("RATE").to_pylist() == [0.25, 0.25]
    with pytest.raises(EncodingError, match="--encoding"):
        load_area_file(data_dir, base.with_suffix(".shp"), layer="grid", id_field="CODE", encoding="utf-8")
    # a projected shapefile with its .prj is reprojected to lon/lat
    utm = tmp_path / "utm"
    x, y = to_metric([X0], [Y0], "EPSG:32651")
    with shapefile.Writer(str(utm), shapeType=shapefile.POLYGON) as w:
        w.field("ID", "N", 5, 0)
        w.poly([list(shapely.box(x[0], y[0], x[0] + 1000, y[0] + 1000).exterior.coords)[::-1]])
        w.record(1)
    from pyproj import CRS

    utm.with_suffix(".prj").write_text(CRS.from_epsg(32651).to_wkt("WKT1_ESRI"))
    rep = load_area_file(data_dir, utm.with_suffix(".shp"), layer="station", id_field="ID")
    corners = shapely.get_coordinates(AreaSet.from_data_dir(data_dir).layers["station"].geometries)
    assert np.hypot(corners[:, 0] - X0, corners[:, 1] - Y0).min() < 1e-7  # the SW corner is back at (X0, Y0)
    assert rep.area_km2 == pytest.approx(1.0, rel=1e-3)


def test_shanghai_streets_shapefile(shared_data: Path, data_dir: Path) -> None:
    sh = shared_data / "shanghai-geography"
    load_area_file(data_dir, sh / "shanghai_districts_datav.geojson", layer="district", id_field="adcode",
                   name_field="name", crs="gcj02")
    rep = load_area_file(data_dir, sh / "streets_stanford_dv960kb3448" / "shanghai1.shp", layer="street",
                         id_field="STREET", name_field="STREET", parent_field="AREA")
    assert rep.encoding == "utf-8" and rep.features_read == 214 and rep.features_loaded == 214
    assert rep.repaired_ids == ["徐行镇"]  # the one invalid polygon documented in PROVENANCE.md
    assert rep.parents_linked == 214  # district names (AREA) resolved to adcodes
    areas = AreaSet.from_data_dir(data_dir)
    st = areas.layers["street"]
    minhang = [n for n, p in zip(st.names.tolist(), st.parent_ids.tolist(), strict=True) if p == "310112"]
    assert len(minhang) == 13 and "七宝镇" in minhang
    assert areas.metric_crs == "EPSG:32651"
    assert st.attributes.column("NAME").to_pylist()[:1] == ["Wanxiang Town"]
    # the geocoded addresses fall in the street their AMap street_level names (PROVENANCE: 88.5 %)
    import pandas as pd

    df = pd.read_csv(sh / "covid2022_residential_addresses" / "geo.csv")
    lon, lat = coords.gcj02_to_wgs84(df.gcj02_lng, df.gcj02_lat)
    out = areas.assign(lon, lat, max_distance_m=0)
    names = dict(zip(st.ids.tolist(), st.names.tolist(), strict=True))
    got = np.array([names.get(i) for i in out["street_id"]], dtype=object)
    assert 0.85 < float(np.mean(got == df.street_level.to_numpy())) < 0.95
    dnames = dict(zip(areas.layers["district"].ids.tolist(), areas.layers["district"].names.tolist(), strict=True))
    dgot = np.array([dnames.get(i) for i in out["district_id"]], dtype=object)
    assert float(np.mean(dgot == df.district.to_numpy())) > 0.97


# ---------------------------------------------------------------------------------------------------------------
# Assignment
# ---------------------------------------------------------------------------------------------------------------
def _voronoi(n: int, seed: int, bbox: tuple[float, float, float, float]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(np.column_stack([rng.uniform(bbox[0], bbox[2], n), rng.uniform(bbox[1], bbox[3], n)]))
    frame = shapely.box(*bbox)
    return np.asarray(shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame)), frame))


def _layer(name: str, geoms: np.ndarray, parents: list[str | None] | None = None, prefix: str = "") -> AreaLayer:
    import pyarrow as pa

    ids = np.array([f"{prefix}{i}" for i in range(len(geoms))], dtype=object)
    par = np.array(parents if parents is not None else [None] * len(geoms), dtype=object)
    return AreaLayer(name, ids, ids.copy(), par, np.asarray(geoms, dtype=object),
                     pa.table({"area_id": ids.tolist(), "name": ids.tolist(), "parent_id": par.tolist()}))


def _brute(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Reference: lowest index of a polygon covering the point, by the plain shapely predicate."""
    pts = shapely.points(x, y)
    cov = shapely.covers(geoms[:, None], pts[None, :])
    return np.where(cov.any(axis=0), cov.argmax(axis=0), -1)


BBOX = (121.30, 31.10, 121.40, 31.19)


def test_assign_matches_brute_force_including_edges() -> None:
    comm = _voronoi(120, 1, BBOX)
    areas = AreaSet({"community": _layer("community", comm)})
    rng = np.random.default_rng(4)
    x = rng.uniform(BBOX[0] - 0.01, BBOX[2] + 0.01, 6000)
    y = rng.uniform(BBOX[1] - 0.01, BBOX[3] + 0.01, 6000)
    # plus every polygon vertex: points on shared edges and corners, where the lowest index must win
    v = shapely.get_coordinates(comm)
    x, y = np.concatenate([x, v[:, 0]]), np.concatenate([y, v[:, 1]])
    out = areas.assign(x, y, max_distance_m=0)
    ref = _brute(comm, x, y)
    expect = np.array([str(i) if i >= 0 else None for i in ref], dtype=object)
    assert (out["community_id"] == expect).all()
    assert set(out) == {"community_id", "assign_method"}
    assert ((out["assign_method"] == "polygon") == (ref >= 0)).all()
    assert (out["assign_method"][ref < 0] == None).all()  # noqa: E711
    # the raster lookup really was used, and agrees with the exact path
    idx = areas.layers["community"].index
    assert 0 < idx.mixed_share < 0.3
    np.testing.assert_array_equal(idx.locate(x, y), idx.locate_exact(x, y))


def test_hierarchy_derived_through_parent_links() -> None:
    comm = _voronoi(30, 2, BBOX)
    streets = _voronoi(5, 3, BBOX)
    # street of each community by representative point; grids = community ∩ squares, parent = community
    rep = shapely.point_on_surface(comm)
    street_of = _brute(streets, shapely.get_x(rep), shapely.get_y(rep))
    sq = np.array([shapely.box(BBOX[0] + i * 0.01, BBOX[1] + j * 0.01, BBOX[0] + (i + 1) * 0.01,
                               BBOX[1] + (j + 1) * 0.01) for i in range(10) for j in range(9)])
    grids, gpar = [], []
    for k, c in enumerate(comm):
        for s in sq:
            piece = shapely.intersection(c, s)
            if shapely.area(piece) > 0 and piece.geom_type in ("Polygon", "MultiPolygon"):
                grids.append(piece)
                gpar.append(f"c{k}")
    grids_a = np.array(grids, dtype=object)
    # leave a hole in the grid layer: drop the grids of community 0 (their points must still get a community)
    keep = np.array([p != "c0" for p in gpar])
    areas = AreaSet({
        "street": _layer("street", streets, prefix="s"),
        "community": _layer("community", comm, [f"s{i}" for i in street_of], prefix="c"),
        "grid": _layer("grid", grids_a[keep], [p for p, k in zip(gpar, keep, strict=True) if k], prefix="g"),
    })
    rng = np.random.default_rng(8)
    x, y = rng.uniform(BBOX[0], BBOX[2], 5000), rng.uniform(BBOX[1], BBOX[3], 5000)
    out = areas.assign(x, y, max_distance_m=0)
    assert set(out) == {"street_id", "community_id", "grid_id", "assign_method"}
    c_ref = _brute(comm, x, y)
    assert (out["community_id"] == np.array([f"c{i}" for i in c_ref], dtype=object)).all()
    g_ref = _brute(grids_a[keep], x, y)
    assert (out["grid_id"] == np.array([f"g{i}" if i >= 0 else None for i in g_ref], dtype=object)).all()
    assert (out["grid_id"][c_ref == 0] == None).all() and (c_ref == 0).any()  # noqa: E711
    # streets come from the community's parent link (not from the street polygons) where the link exists
    assert (out["street_id"] == np.array([f"s{street_of[i]}" for i in c_ref], dtype=object)).all()
    assert (out["assign_method"] == "polygon").all()


def test_nearest_fallback_threshold_and_nan() -> None:
    b = box(0, 0)
    areas = AreaSet({"community": _layer("community", np.array([b]), prefix="c"),
                     "station": _layer("station", np.array([box(0, 0, 0.1, 0.1)]), prefix="p")})
    assert areas.metric_crs == "EPSG:32651"
    # points 50 m and 150 m east of the box's east edge (in metres, via the metric CRS), inside, NaN
    crs = areas.metric_crs
    ex, ey = to_metric([X0 + 0.01], [Y0 + 0.005], crs)
    from anju.geo.projection import from_metric

    lon, lat = from_metric(ex + np.array([50.0, 150.0]), ey + np.array([0.0, 0.0]), crs)
    lon = np.concatenate([lon, [X0 + 0.005, np.nan, X0]])
    lat = np.concatenate([lat, [Y0 + 0.005, Y0, np.nan]])
    out = areas.assign(lon, lat, max_distance_m=100)
    assert out["community_id"].tolist() == ["c0", None, "c0", None, None]
    assert out["assign_method"].tolist() == ["nearest", None, "polygon", None, None]
    assert out["station_id"].tolist() == ["p0", "p0", "p0", None, None]
    out = areas.assign(lon, lat, max_distance_m=200)
    assert out["community_id"].tolist()[:2] == ["c0", "c0"]
    out = areas.assign(lon, lat, max_distance_m=0)
    assert out["community_id"].tolist()[:2] == [None, None]
    empty = AreaSet({})
    assert empty.metric_crs is None and empty.bounds is None
    assert empty.assign([1.0], [2.0], max_distance_m=100)["assign_method"].tolist() == [None]


def test_layer_constants() -> None:
    assert LAYERS == ("district", "street", "community", "grid", "station", "police_district")
    assert PARENT["grid"] == "community" and PARENT["police_district"] == "station" and PARENT["district"] is None


def test_nearest_index_matches_query_nearest() -> None:
    from anju.geo._locate import NearestIndex, lowest_match

    comm = _voronoi(40, 6, BBOX)
    metric = np.asarray(shapely.transform(comm, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1],
                                                                                       "EPSG:32651"))))
    ni = NearestIndex(metric)
    b = shapely.total_bounds(metric)
    rng = np.random.default_rng(11)
    x = rng.uniform(b[0] - 2000, b[2] + 2000, 4000)
    y = rng.uniform(b[1] - 2000, b[3] + 2000, 4000)
    x[:3] = np.nan
    for dist in (50.0, 300.0, 5000.0):
        got = ni.nearest(x, y, dist)
        ok = np.flatnonzero(np.isfinite(x))
        ref = np.full(x.size, -1)
        pairs = ni.tree.query_nearest(shapely.points(x[ok], y[ok]), max_distance=dist, all_matches=True)
        ref[ok] = lowest_match(pairs, ok.size)
        np.testing.assert_array_equal(got, ref)
        assert (got[:3] == -1).all()


def test_raster_index_on_axis_aligned_edges() -> None:
    """Boxes whose edges may coincide with raster cell edges; points exactly on those edges and corners."""
    from anju.geo._locate import PolygonIndex

    boxes = np.array([box(i, j) for i in range(8) for j in range(6) if (i + j) % 5 != 0], dtype=object)
    idx = PolygonIndex(boxes)
    rng = np.random.default_rng(12)
    ex = X0 + rng.integers(0, 9, 3000) * 0.01
    ey = Y0 + rng.uniform(-0.005, 0.065, 3000)
    x = np.concatenate([ex, rng.uniform(X0 - 0.005, X0 + 0.085, 3000), X0 + np.arange(9) * 0.01])
    y = np.concatenate([ey, Y0 + rng.integers(0, 7, 3000) * 0.01, Y0 + np.arange(9) * 0.01])
    np.testing.assert_array_equal(idx.locate(x, y), _brute(boxes, x, y))
    assert idx.mixed_share < 0.1
