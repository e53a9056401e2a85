"""Reading, repairing and linking an area file: :func:`load_area_file`.

Reads a GeoJSON or Shapefile, converts GCJ-02/BD-09 vertices to WGS-84, repairs invalid polygons with
``shapely.make_valid`` (keeping the polygonal parts) and reports them, links every area to its parent (from a field,
by id or by name, else spatially: the parent polygon covering the child's representative point), computes
``area_m2`` in the deployment's metric CRS and writes ``<data_dir>/areas/<layer>.parquet`` plus ``areas/_meta.json``
atomically. Loading a layer again replaces it; children that were linked spatially (or could not be linked yet) are
re-linked whenever their parent layer is (re)loaded, so the load order does not matter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from numpy.typing import NDArray

from anju.errors import GeoError
from anju.geo import coords
from anju.geo.area_layers import (
    CHILD,
    PARENT,
    AreaLayer,
    LayerReport,
    ObjArray,
    check_layer,
    project_geometries,
)
from anju.geo.area_store import layer_table, read_layer, read_meta, resolve_areas_dir, write_meta, write_table
from anju.geo.projection import metric_crs_for
from anju.geo.readers import read_features, reproject_to_lonlat

__all__ = ["RESERVED", "load_area_file"]

#: Column names of the stored table; a source property with one of these names is kept as ``src_<name>``.
RESERVED = ("area_id", "name", "parent_id", "geometry", "area_m2")
_ID_GUESSES = ("area_id", "id", "code", "adcode", "gid", "fid", "objectid", "编码", "代码", "编号")
_NAME_GUESSES = ("name", "名称", "name_zh", "zh_name", "street", "community", "district", "label")


def _id_str(v: Any) -> str | None:
    """Canonical text of an id/parent value: 12.0 → "12", " a " → "a", None/NaN/"" → None."""
    if v is None:
        return None
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, bytes):
        v = v.decode("utf-8", errors="replace")
    s = str(v).strip()
    return s or None


def _pick_field(given: str | None, keys: list[str], guesses: Iterable[str], what: str, path: Path,
                required: bool) -> str | None:
    if given:
        if given in keys:
            return given
        lower = {k.lower(): k for k in keys}
        if given.lower() in lower:
            return lower[given.lower()]
        raise GeoError(f"{path.name}: no property {given!r} for the {what}; available properties: "
                       f"{', '.join(keys) or '(none)'}")
    lower = {k.lower(): k for k in keys}
    for g in guesses:
        if g in lower:
            return lower[g]
    if required:
        raise GeoError(f"{path.name}: cannot tell which property is the area {what}; pass --id-field with one of: "
                       f"{', '.join(keys) or '(no properties)'}")
    return None


def _polygonal(g: Any) -> Any:
    """The polygonal part of a geometry (Polygon/MultiPolygon) or None."""
    if g is None or shapely.is_empty(g):
        return None
    t = shapely.get_type_id(g)
    if t in (3, 6):  # Polygon, MultiPolygon
        return g
    if t == 7:  # GeometryCollection
        parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
        polys = [q for p in parts for q in shapely.get_parts(p)]
        if not polys:
            return None
        return polys[0] if len(polys) == 1 else shapely.multipolygons(polys)
    return None


def _attr_column(values: list[Any]) -> pa.Array:
    """A typed Arrow column: numbers stay numbers, booleans booleans, mixed/other → text."""
    vals = [None if (isinstance(v, float) and math.isnan(v)) else v for v in values]
    present = [v for v in vals if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(vals, pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        try:
            return pa.array(vals, pa.int64())
        except (OverflowError, pa.ArrowInvalid):
            pass
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in vals], pa.float64())
    if all(isinstance(v, str) for v in present):
        return pa.array(vals, pa.string())
    try:
        return pa.array(vals)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else (json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list)
                                                  else str(v)) for v in vals], pa.string())


def _resolve_parent_refs(refs: list[str | None], parent: AreaLayer | None) -> list[str | None]:
    """Map parent references (ids, or unique names) to parent ids; unresolved refs stay as given."""
    if parent is None:
        return refs
    ids = set(parent.ids.tolist())
    by_name: dict[str, str | None] = {}
    for pid, pname in zip(parent.ids.tolist(), parent.names.tolist(), strict=True):
        if pname is None:
            continue
        by_name[pname] = None if pname in by_name else pid  # ambiguous names resolve to nothing
    out: list[str | None] = []
    for r in refs:
        if r is None or r in ids:
            out.append(r)
        else:
            out.append(by_name.get(r) or r)
    return out


def _spatial_parents(geoms: ObjArray, parent: AreaLayer) -> list[str | None]:
    """Parent id of each geometry: the parent covering its representative point, else the one it overlaps most."""
    reps = shapely.point_on_surface(geoms)
    rx, ry = shapely.get_x(reps), shapely.get_y(reps)
    found = parent.index.locate_exact(np.asarray(rx, dtype=np.float64), np.asarray(ry, dtype=np.float64))
    for i in np.flatnonzero(found < 0):
        cand = parent.index.tree.query(geoms[i], predicate="intersects")
        if cand.size:
            areas = shapely.area(shapely.intersection(parent.geometries[cand], geoms[i]))
            if areas.max() > 0:
                found[i] = int(cand[int(np.argmax(areas))])
    pid = parent.ids.tolist()
    return [pid[j] if j >= 0 else None for j in found.tolist()]


def load_area_file(
    data_dir: str | Path | Any,
    path: str | Path,
    *,
    layer: str,
    id_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    crs: str = "wgs84",
    encoding: str | None = None,
) -> LayerReport:
    """Load an area file as ``layer`` into ``<data_dir>/areas`` (replacing that layer); see the module docstring.

    ``crs`` is the coordinate system of lon/lat vertices (``wgs84``, ``gcj02`` or ``bd09``). A file that declares a
    projected CRS (``.prj``, GeoJSON ``crs``) is reprojected to WGS-84 first and must then be ``wgs84``.
    """
    check_layer(layer)
    system = coords.normalize_system(crs)
    path = Path(path)
    raw = read_features(path, encoding=encoding)
    report = LayerReport(layer=layer, source_file=str(path.resolve()), crs=system, encoding=raw.encoding,
                         features_read=len(raw.properties), parent_layer=PARENT[layer])
    if not raw.properties:
        raise GeoError(f"{path.name} has no features; nothing to load as layer {layer!r}")
    geoms = raw.geometries
    if raw.source_crs is not None:
        if system != "wgs84":
            raise GeoError(f"{path.name} declares a projected CRS; its vertices are not {system} lon/lat. "
                           "Drop --crs (or pass --crs wgs84) for projected files")
        geoms = reproject_to_lonlat(geoms, raw.source_crs)
    keys: list[str] = list(dict.fromkeys(k for p in raw.properties for k in p))
    has_fid = any(f is not None for f in raw.feature_ids)
    if id_field is None and has_fid and not any(k.lower() in _ID_GUESSES for k in keys):
        id_values = [_id_str(f) for f in raw.feature_ids]
        id_key = None
    else:
        id_key = _pick_field(id_field, keys, _ID_GUESSES, "id field", path, required=True)
        assert id_key is not None
        id_values = [_id_str(p.get(id_key)) for p in raw.properties]
    name_key = _pick_field(name_field, keys, _NAME_GUESSES, "name field", path, required=False)
    parent_key = _pick_field(parent_field, keys, (), "parent field", path, required=False) if parent_field else None
    if parent_field and PARENT[layer] is None:
        raise GeoError(f"layer {layer!r} has no parent layer; drop --parent-field "
                       f"(hierarchy: district ← street ← community ← grid; station ← police_district)")

    # -- coordinates: check lon/lat and convert to WGS-84 ------------------------------------------------------
    present = np.array([g is not None for g in geoms], dtype=bool)
    if present.any():
        b = shapely.total_bounds(geoms[present])
        if not (-180.0 <= b[0] <= 180.0 and -180.0 <= b[2] <= 180.0 and -90.0 <= b[1] <= 90.0
                and -90.0 <= b[3] <= 90.0):
            raise GeoError(f"{path.name}: coordinates {b.round(1).tolist()} are not lon/lat degrees; the file seems "
                           "projected but declares no CRS (add its .prj, or reproject it to WGS-84)")
    if system != "wgs84" and present.any():
        def conv(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.column_stack(coords.convert(xy[:, 0], xy[:, 1], system, "wgs84"))
        geoms = np.asarray(shapely.transform(geoms, conv), dtype=object)

    # -- ids, repair, polygon filter -----------------------------------------------------------------------------
    keep_rows: list[int] = []
    clean: list[Any] = []
    for i, (fid, g) in enumerate(zip(id_values, geoms.tolist(), strict=True)):
        label = fid if fid is not None else f"#{i + 1}"
        if fid is None:
            report.dropped.append({"id": label, "reason": f"no id (property {id_key!r} empty)"})
            continue
        if g is None or shapely.is_empty(g):
            report.dropped.append({"id": label, "reason": "no geometry"})
            continue
        if shapely.get_type_id(g) not in (3, 6, 7):
            report.dropped.append({"id": label, "reason": f"not a polygon ({shapely.get_type_id(g)}: {g.geom_type})"})
            continue
        if not shapely.is_valid(g):
            fixed = _polygonal(shapely.make_valid(g))
            if fixed is None or shapely.area(fixed) <= 0:
                report.dropped.append({"id": label, "reason": "invalid polygon with no area after repair"})
                continue
            report.repaired_ids.append(label)
            g = fixed
        else:
            g = _polygonal(g)
            if g is None:
                report.dropped.append({"id": label, "reason": "geometry collection without polygons"})
                continue
        keep_rows.append(i)
        clean.append(g)
    if not keep_rows:
        raise GeoError(f"{path.name}: no polygon features left to load as {layer!r} "
                       f"({len(report.dropped)} dropped: {report.dropped[:3]})")

    # -- merge duplicate ids (multi-part areas written as several features) --------------------------------------
    order: dict[str, list[int]] = {}
    for k, i in enumerate(keep_rows):
        order.setdefault(str(id_values[i]), []).append(k)
    final_ids = list(order)
    final_geoms = np.empty(len(final_ids), dtype=object)
    first_rows: list[int] = []
    for j, (aid, ks) in enumerate(order.items()):
        first_rows.append(keep_rows[ks[0]])
        if len(ks) == 1:
            final_geoms[j] = clean[ks[0]]
        else:
            report.merged_duplicate_ids.append(aid)
            final_geoms[j] = _polygonal(shapely.make_valid(shapely.union_all([clean[k] for k in ks])))
    props = [raw.properties[i] for i in first_rows]
    names = [(_id_str(p.get(name_key)) if name_key else None) or aid for p, aid in zip(props, final_ids, strict=True)]

    # -- attributes ------------------------------------------------------------------------------------------------
    attrs: dict[str, pa.Array] = {}
    for key in keys:
        col = key if key not in RESERVED else f"src_{key}"
        attrs[col] = _attr_column([p.get(key) for p in props])

    # -- metric CRS and area --------------------------------------------------------------------------------------
    areas_dir = resolve_areas_dir(data_dir)
    meta = read_meta(areas_dir)
    others = {n: read_layer(n, areas_dir / f"{n}.parquet") for n in meta["layers"]
              if n != layer and (areas_dir / f"{n}.parquet").exists()}
    all_bounds = [shapely.total_bounds(final_geoms)] + [np.array(o.bounds) for o in others.values()]
    bb = np.array(all_bounds)
    metric = metric_crs_for([bb[:, 0].min(), bb[:, 2].max()], [bb[:, 1].min(), bb[:, 3].max()])
    area_m2 = shapely.area(project_geometries(final_geoms, metric))
    report.metric_crs = metric
    report.features_loaded = len(final_ids)
    report.area_km2 = round(float(area_m2.sum()) / 1e6, 3)

    # -- parent links --------------------------------------------------------------------------------------------
    parent_name = PARENT[layer]
    parent_layer = others.get(parent_name) if parent_name else None
    if parent_key:
        report.parent_mode = "field"
        parents = _resolve_parent_refs([_id_str(p.get(parent_key)) for p in props], parent_layer)
    elif parent_layer is not None:
        report.parent_mode = "spatial"
        parents = _spatial_parents(final_geoms, parent_layer)
    else:
        report.parent_mode = "none"
        parents = [None] * len(final_ids)
    if parent_name:
        pset = set(parent_layer.ids.tolist()) if parent_layer is not None else None
        for aid, pid in zip(final_ids, parents, strict=True):
            if pid is not None and (pset is None or pid in pset):
                report.parents_linked += 1
            elif parent_layer is not None or report.parent_mode == "field":
                report.parents_missing.append(aid)

    table = layer_table(final_ids, names, parents, final_geoms, area_m2, attrs)
    areas_dir.mkdir(parents=True, exist_ok=True)
    write_table(areas_dir / f"{layer}.parquet", table)
    this = AreaLayer(layer, np.asarray(final_ids, dtype=object), np.asarray(names, dtype=object),
                     np.asarray(parents, dtype=object), final_geoms, table.drop_columns(["geometry"]))

    # -- children whose links depend on this layer ----------------------------------------------------------------
    child_name = CHILD.get(layer)
    if child_name and child_name in others:
        child = others[child_name]
        cmeta = meta["layers"].get(child_name, {})
        if cmeta.get("parent_mode") == "field":
            new_parents = _resolve_parent_refs(child.parent_ids.tolist(), this)
        else:
            new_parents = _spatial_parents(child.geometries, this)
            cmeta["parent_mode"] = "spatial"
        final_set = set(final_ids)
        linked = sum(1 for p in new_parents if p is not None and p in final_set)
        report.relinked_children[child_name] = linked
        ctable = pq.read_table(areas_dir / f"{child_name}.parquet")
        ctable = ctable.set_column(ctable.schema.get_field_index("parent_id"), "parent_id",
                                   pa.array(new_parents, pa.string()))
        write_table(areas_dir / f"{child_name}.parquet", ctable)
        if cmeta:
            crep = cmeta.setdefault("report", {})
            crep["parents_linked"] = linked
            crep["parents_missing"] = [a for a, p in zip(child.ids.tolist(), new_parents, strict=True)
                                       if p is None or p not in final_set]
            crep["parent_mode"] = cmeta["parent_mode"]

    # -- keep every layer's area in one metric CRS --------------------------------------------------------------
    if meta.get("metric_crs") and meta["metric_crs"] != metric:
        for n, o in others.items():
            t = pq.read_table(areas_dir / f"{n}.parquet")
            t = t.set_column(t.schema.get_field_index("area_m2"), "area_m2",
                             pa.array(shapely.area(project_geometries(o.geometries, metric)), pa.float64()))
            write_table(areas_dir / f"{n}.parquet", t)

    meta["metric_crs"] = metric
    meta["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    meta["layers"][layer] = {
        "source_file": report.source_file,
        "loaded_at": meta["updated_at"],
        "features": report.features_loaded,
        "crs": system,
        "encoding": raw.encoding,
        "id_field": id_key,
        "name_field": name_key,
        "parent_field": parent_key,
        "parent_mode": report.parent_mode,
        "report": report.to_dict(),
    }
    write_meta(areas_dir, meta)
    return report

