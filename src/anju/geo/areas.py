"""Area layers (district → street → community → grid; station → police district): load, store, assign.

Loading (:func:`load_area_file`) reads a GeoJSON or Shapefile, converts GCJ-02/BD-09 vertices to WGS-84, repairs
invalid polygons with ``shapely.make_valid`` (keeping the polygonal parts) and reports them, links every area to its
parent (from a field, by id or by name, else spatially: the parent polygon covering the child's representative
point), computes ``area_m2`` in the deployment's metric CRS and writes ``<data_dir>/areas/<layer>.parquet`` plus
``areas/_meta.json`` atomically. Loading a layer again replaces it; children that were linked spatially (or could
not be linked yet) are re-linked whenever their parent layer is (re)loaded, so the load order does not matter.

Assignment (:meth:`AreaSet.assign`) puts points in areas, per hierarchy:

1. the *finest* loaded layer by polygon (raster-accelerated point-in-polygon, see ``anju.geo._locate``);
2. each coarser level from its child's parent link where the child has one, and by its own polygons only for the
   points left over (no child, or a child without a parent link);
3. points still outside every polygon of a level go to the nearest polygon within ``max_distance_m`` (metric CRS),
   again finest level first with parents derived through the links;
4. the rest stay explicitly unassigned (None).

``assign_method`` reports how the *key level* was assigned — the community level if loaded, else the finest
loaded admin level, else the finest police level: "polygon", "nearest" or None.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from numpy.typing import ArrayLike, NDArray

from anju.errors import DataNotFoundError, GeoError
from anju.geo import coords
from anju.geo._locate import NearestIndex, PolygonIndex
from anju.geo.projection import metric_crs_for, transformer
from anju.geo.readers import read_features, reproject_to_lonlat

__all__ = [
    "HIERARCHIES",
    "LAYERS",
    "PARENT",
    "AreaLayer",
    "AreaSet",
    "LayerReport",
    "layer_summary",
    "load_area_file",
    "read_meta",
    "require_layers",
]

LAYERS = ("district", "street", "community", "grid", "station", "police_district")
PARENT: dict[str, str | None] = {
    "district": None, "street": "district", "community": "street", "grid": "community",
    "station": None, "police_district": "station",
}
CHILD: dict[str, str] = {p: c for c, p in PARENT.items() if p}
HIERARCHIES: tuple[tuple[str, ...], ...] = (("district", "street", "community", "grid"), ("station", "police_district"))
LAYER_LABELS = {
    "district": "区/县", "street": "街道/镇", "community": "社区/村", "grid": "网格",
    "station": "派出所", "police_district": "警务区",
}
RESERVED = ("area_id", "name", "parent_id", "geometry", "area_m2")
META_VERSION = 1
_ID_GUESSES = ("area_id", "id", "code", "adcode", "gid", "fid", "objectid", "编码", "代码", "编号")
_NAME_GUESSES = ("name", "名称", "name_zh", "zh_name", "street", "community", "district", "label")

ObjArray = NDArray[np.object_]


# ---------------------------------------------------------------------------------------------------------------
# Reports and layers
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class LayerReport:
    """What :func:`load_area_file` did; also stored in ``_meta.json``."""

    layer: str
    source_file: str
    crs: str
    encoding: str | None = None
    features_read: int = 0
    features_loaded: int = 0
    repaired_ids: list[str] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)  # {"id", "reason"}: non-polygon, empty, no id
    merged_duplicate_ids: list[str] = field(default_factory=list)
    parent_layer: str | None = None
    parent_mode: str = "none"  # "field", "spatial" or "none"
    parents_linked: int = 0
    parents_missing: list[str] = field(default_factory=list)  # child ids without a parent in the parent layer
    relinked_children: dict[str, int] = field(default_factory=dict)  # child layer → children now linked
    metric_crs: str = ""
    area_km2: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(eq=False)
class AreaLayer:
    """One loaded area layer. ``geometries`` are WGS-84 lon/lat; ``attributes`` has everything but geometry."""

    name: str
    ids: ObjArray
    names: ObjArray
    parent_ids: ObjArray
    geometries: ObjArray
    attributes: pa.Table
    _index: PolygonIndex | None = field(default=None, repr=False, compare=False)
    _nearest: dict[str, NearestIndex] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def index(self) -> PolygonIndex:
        """Cached point-in-polygon index."""
        if self._index is None:
            self._index = PolygonIndex(self.geometries)
        return self._index

    def nearest_index(self, crs: str) -> NearestIndex:
        """Cached nearest-polygon index on the geometries projected to ``crs``."""
        if crs not in self._nearest:
            self._nearest[crs] = NearestIndex(_project(self.geometries, crs))
        return self._nearest[crs]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in WGS-84."""
        b = shapely.total_bounds(self.geometries)
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _project(geoms: ObjArray, crs: str) -> ObjArray:
    t = transformer("EPSG:4326", crs)

    def fn(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, fn), dtype=object)


# ---------------------------------------------------------------------------------------------------------------
# The set of loaded layers
# ---------------------------------------------------------------------------------------------------------------
class AreaSet:
    """All loaded area layers of a data directory, with cached spatial indexes for assignment."""

    def __init__(self, layers: Mapping[str, AreaLayer], metric_crs: str | None = None) -> None:
        for name in layers:
            _check_layer(name)
        self.layers: dict[str, AreaLayer] = {n: layers[n] for n in LAYERS if n in layers}
        if metric_crs is None and self.layers:
            b = self.bounds
            assert b is not None
            metric_crs = metric_crs_for([b[0], b[2]], [b[1], b[3]])
        self._metric_crs = metric_crs
        self._parent_index: dict[str, NDArray[np.int64]] = {}

    @classmethod
    def from_data_dir(cls, data_dir: str | Path | Any) -> AreaSet:
        """Load every layer under ``<data_dir>/areas`` (an empty set if nothing was loaded yet).

        ``data_dir`` may be the data directory, its ``areas`` folder, a :class:`~anju.config.DataDir` or
        :class:`~anju.config.Settings`.
        """
        areas_dir = _areas_dir(data_dir)
        meta = read_meta(areas_dir)
        layers: dict[str, AreaLayer] = {}
        for name in LAYERS:
            p = areas_dir / f"{name}.parquet"
            if name in meta["layers"] and p.exists():
                layers[name] = _read_layer(name, p)
        return cls(layers, meta.get("metric_crs") or None)

    @property
    def metric_crs(self) -> str | None:
        """The deployment's metric CRS (e.g. ``"EPSG:32651"``); None when no layer is loaded."""
        return self._metric_crs

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) of all layers in WGS-84, or None when empty."""
        if not self.layers:
            return None
        b = np.array([lay.bounds for lay in self.layers.values()])
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    def __contains__(self, name: object) -> bool:
        return name in self.layers

    def __len__(self) -> int:
        return len(self.layers)

    def parent_index(self, name: str) -> NDArray[np.int64]:
        """Row of each area's parent in the parent layer (-1 when unlinked or the parent layer is not loaded)."""
        if name not in self._parent_index:
            lay = self.layers[name]
            parent = PARENT[name]
            out = np.full(len(lay), -1, dtype=np.int64)
            if parent and parent in self.layers:
                pos = {v: i for i, v in enumerate(self.layers[parent].ids.tolist())}
                out = np.fromiter((pos.get(v, -1) if v is not None else -1 for v in lay.parent_ids.tolist()),
                                  dtype=np.int64, count=len(lay))
            self._parent_index[name] = out
        return self._parent_index[name]

    def key_level(self) -> str | None:
        """The level that ``assign_method`` describes (community, else the finest admin, else finest police)."""
        if "community" in self.layers:
            return "community"
        for h in HIERARCHIES:
            loaded = [lv for lv in h if lv in self.layers]
            if loaded:
                return loaded[-1]
        return None

    def assign(self, lon: ArrayLike, lat: ArrayLike, *, max_distance_m: float) -> dict[str, ObjArray]:
        """Area ids of WGS-84 points for every loaded level, plus ``assign_method`` (see module docstring).

        Returns ``{"<level>_id": object array of ids or None, ..., "assign_method": object array}``.

        >>> import shapely
        >>> lay = AreaLayer("community", np.array(["c1"], dtype=object), np.array(["一"], dtype=object),
        ...                 np.array([None], dtype=object), np.array([shapely.box(121.0, 31.0, 121.01, 31.01)]),
        ...                 pa.table({"area_id": ["c1"]}))
        >>> out = AreaSet({"community": lay}).assign([121.005, 121.0105, 122.0], [31.005, 31.005, 31.0],
        ...                                          max_distance_m=100)
        >>> out["community_id"].tolist(), out["assign_method"].tolist()
        (['c1', 'c1', None], ['polygon', 'nearest', None])
        """
        idx, method_code = self.assign_indices(lon, lat, max_distance_m=max_distance_m)
        out: dict[str, ObjArray] = {}
        for lv, lay in self.layers.items():
            table = np.empty(len(lay) + 1, dtype=object)
            table[:-1] = lay.ids
            table[-1] = None
            out[f"{lv}_id"] = table[idx[lv]]
        methods = np.array([None, "polygon", "nearest"], dtype=object)
        out["assign_method"] = methods[method_code]
        return out

    def assign_indices(self, lon: ArrayLike, lat: ArrayLike, *, max_distance_m: float
                       ) -> tuple[dict[str, NDArray[np.int64]], NDArray[np.int8]]:
        """What :meth:`assign` computes, as positions instead of ids (no Python objects, for batch pipelines).

        Returns ``({level: row of the area in layers[level], -1 when unassigned}, method)`` with ``method`` 0 (none),
        1 (polygon) or 2 (nearest) for the :meth:`key_level`.
        """
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise GeoError(f"lon and lat must have the same length; got {x.size} and {y.size}")
        n = x.size
        valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        idx: dict[str, NDArray[np.int64]] = {}
        how: dict[str, NDArray[np.int8]] = {}  # 0 none, 1 polygon, 2 nearest
        for h in HIERARCHIES:
            loaded = [lv for lv in h if lv in self.layers]
            for lv in loaded:
                idx[lv] = np.full(n, -1, dtype=np.int64)
                how[lv] = np.zeros(n, dtype=np.int8)
            # pass 1: polygons, finest first, ancestors through parent links
            for lv in reversed(loaded):
                todo = valid
                child = CHILD.get(lv)
                if child in idx:
                    todo = self._derive(lv, child, idx, how, valid, stage=1)
                if todo.size:
                    found = self.layers[lv].index.locate(x[todo], y[todo])
                    hit = found >= 0
                    idx[lv][todo[hit]] = found[hit]
                    how[lv][todo[hit]] = 1
            # pass 2: nearest within the threshold, in metric coordinates
            if max_distance_m > 0 and self._metric_crs:
                for lv in reversed(loaded):
                    missing = valid[idx[lv][valid] < 0]
                    child = CHILD.get(lv)
                    if child in idx and missing.size:
                        missing = self._derive(lv, child, idx, how, missing, stage=2)
                    if missing.size:
                        mx, my = self._metric(x, y, missing)
                        found = self.layers[lv].nearest_index(self._metric_crs).nearest(mx, my, max_distance_m)
                        hit = found >= 0
                        idx[lv][missing[hit]] = found[hit]
                        how[lv][missing[hit]] = 2
        key = self.key_level()
        method = how[key] if key is not None else np.zeros(n, dtype=np.int8)
        return {lv: idx[lv] for lv in self.layers}, method

    def _derive(self, lv: str, child: str, idx: dict[str, NDArray[np.int64]], how: dict[str, NDArray[np.int8]],
                rows: NDArray[np.intp], *, stage: int) -> NDArray[np.intp]:
        """Fill level ``lv`` from the child's parent links on ``rows``; return the rows still to do."""
        ci = idx[child][rows]
        has = (ci >= 0) & (how[child][rows] == stage)
        pidx = np.full(rows.size, -1, dtype=np.int64)
        pidx[has] = self.parent_index(child)[ci[has]]
        ok = pidx >= 0
        idx[lv][rows[ok]] = pidx[ok]
        how[lv][rows[ok]] = stage
        return rows[~ok]

    def _metric(self, x: NDArray[np.float64], y: NDArray[np.float64], rows: NDArray[np.intp]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        assert self._metric_crs is not None
        t = transformer("EPSG:4326", self._metric_crs)
        mx, my = t.transform(x[rows], y[rows])
        return np.asarray(mx, dtype=np.float64), np.asarray(my, dtype=np.float64)


def _check_layer(name: str) -> str:
    if name not in LAYERS:
        raise GeoError(f"unknown area layer {name!r}; valid layers: {', '.join(LAYERS)} "
                       f"({', '.join(f'{k}={v}' for k, v in LAYER_LABELS.items())})")
    return name


def _areas_dir(data_dir: Any) -> Path:
    paths = getattr(data_dir, "paths", None)
    if paths is not None:
        return Path(paths.areas)
    if hasattr(data_dir, "areas") and not isinstance(data_dir, str | Path):
        return Path(data_dir.areas)
    p = Path(data_dir)
    if p.name == "areas" and (p / "_meta.json").exists():
        return p
    return p / "areas"


# ---------------------------------------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------------------------------------
def read_meta(areas_dir: str | Path) -> dict[str, Any]:
    """``areas/_meta.json`` as a dict (an empty skeleton when absent)."""
    p = Path(areas_dir) / "_meta.json"
    if not p.exists():
        return {"version": META_VERSION, "metric_crs": None, "layers": {}}
    try:
        meta = json.loads(p.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise GeoError(f"{p} is not valid JSON ({exc}); reload the layers with `anju areas load`") from exc
    meta.setdefault("layers", {})
    return dict(meta)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_meta(areas_dir: Path, meta: dict[str, Any]) -> None:
    meta["version"] = META_VERSION
    meta["layers"] = {k: meta["layers"][k] for k in LAYERS if k in meta["layers"]}
    _atomic_write_bytes(areas_dir / "_meta.json",
                        json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8"))


def _read_layer(name: str, path: Path) -> AreaLayer:
    table = pq.read_table(path)
    geoms = shapely.from_wkb(np.asarray(table.column("geometry").to_pylist(), dtype=object))
    attrs = table.drop_columns(["geometry"])
    ids = np.asarray(attrs.column("area_id").to_pylist(), dtype=object)
    names = np.asarray(attrs.column("name").to_pylist(), dtype=object)
    parents = np.asarray(attrs.column("parent_id").to_pylist(), dtype=object)
    return AreaLayer(name, ids, names, parents, np.asarray(geoms, dtype=object), attrs)


def _layer_table(ids: Iterable[str], names: Iterable[str | None], parents: Iterable[str | None], geoms: ObjArray,
                 area_m2: NDArray[np.float64], attrs: dict[str, pa.Array]) -> pa.Table:
    cols: dict[str, pa.Array] = {
        "area_id": pa.array(list(ids), pa.string()),
        "name": pa.array(list(names), pa.string()),
        "parent_id": pa.array(list(parents), pa.string()),
        "geometry": pa.array(shapely.to_wkb(geoms).tolist(), pa.binary()),
        "area_m2": pa.array(area_m2, pa.float64()),
    }
    cols.update(attrs)
    return pa.table(cols)


def _write_table(path: Path, table: pa.Table) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    _atomic_write_bytes(path, sink.getvalue().to_pybytes())


# ---------------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------------
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
    _check_layer(layer)
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
    areas_dir = _areas_dir(data_dir)
    meta = read_meta(areas_dir)
    others = {n: _read_layer(n, areas_dir / f"{n}.parquet") for n in meta["layers"]
              if n != layer and (areas_dir / f"{n}.parquet").exists()}
    all_bounds = [shapely.total_bounds(final_geoms)] + [np.array(o.bounds) for o in others.values()]
    bb = np.array(all_bounds)
    metric = metric_crs_for([bb[:, 0].min(), bb[:, 2].max()], [bb[:, 1].min(), bb[:, 3].max()])
    area_m2 = shapely.area(_project(final_geoms, metric))
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

    table = _layer_table(final_ids, names, parents, final_geoms, area_m2, attrs)
    areas_dir.mkdir(parents=True, exist_ok=True)
    _write_table(areas_dir / f"{layer}.parquet", table)
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
        _write_table(areas_dir / f"{child_name}.parquet", ctable)
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
                             pa.array(shapely.area(_project(o.geometries, metric)), pa.float64()))
            _write_table(areas_dir / f"{n}.parquet", t)

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
    _write_meta(areas_dir, meta)
    return report


def layer_summary(data_dir: str | Path | Any) -> list[dict[str, Any]]:
    """One dict per loaded layer (name, features, source, loaded_at, parents linked/missing) for listings."""
    areas_dir = _areas_dir(data_dir)
    meta = read_meta(areas_dir)
    rows = []
    for name, m in meta["layers"].items():
        rep = m.get("report", {})
        rows.append({
            "layer": name, "label": LAYER_LABELS.get(name, name), "features": m.get("features"),
            "source_file": m.get("source_file"), "loaded_at": m.get("loaded_at"), "crs": m.get("crs"),
            "parent_mode": m.get("parent_mode"), "parents_linked": rep.get("parents_linked", 0),
            "parents_missing": len(rep.get("parents_missing", [])), "repaired": len(rep.get("repaired_ids", [])),
            "area_km2": rep.get("area_km2"), "metric_crs": meta.get("metric_crs"),
        })
    return rows


def require_layers(areas: AreaSet, *names: str) -> None:
    """Raise :class:`DataNotFoundError` naming the missing layers and how to load them."""
    missing = [n for n in names if n not in areas.layers]
    if missing:
        raise DataNotFoundError(f"area layer(s) {', '.join(missing)} not loaded; run "
                                f"`anju areas load FILE --layer {missing[0]}`")
