"""Area layers (district → street → community → grid; station → police district): load, store, assign.

This module is the public face of the area layers and holds the loaded set with point assignment
(:class:`AreaSet`). The rest lives in small modules, re-exported here:

* :mod:`anju.geo.area_layers` — the hierarchies (:data:`LAYERS`, :data:`PARENT`, :data:`LAYER_LABELS`),
  :class:`AreaLayer` and :class:`LayerReport`;
* :mod:`anju.geo.area_loading` — :func:`load_area_file`: read a GeoJSON or Shapefile, convert GCJ-02/BD-09 vertices
  to WGS-84, repair invalid polygons, link parents, compute ``area_m2`` and store the layer;
* :mod:`anju.geo.area_store` — ``<data_dir>/areas/<layer>.parquet`` and ``_meta.json`` (:func:`read_meta`,
  :func:`layer_summary`).

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

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from anju.errors import DataNotFoundError, GeoError
from anju.geo.area_layers import (
    CHILD,
    HIERARCHIES,
    LAYER_LABELS,
    LAYERS,
    PARENT,
    AreaLayer,
    LayerReport,
    ObjArray,
    check_layer,
)
from anju.geo.area_loading import load_area_file
from anju.geo.area_store import layer_summary, read_layer, read_meta, resolve_areas_dir
from anju.geo.projection import metric_crs_for, transformer

__all__ = [
    "CHILD",
    "HIERARCHIES",
    "LAYERS",
    "LAYER_LABELS",
    "PARENT",
    "AreaLayer",
    "AreaSet",
    "LayerReport",
    "layer_summary",
    "load_area_file",
    "read_meta",
    "require_layers",
]


class AreaSet:
    """All loaded area layers of a data directory, with cached spatial indexes for assignment."""

    def __init__(self, layers: Mapping[str, AreaLayer], metric_crs: str | None = None) -> None:
        for name in layers:
            check_layer(name)
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
        areas_dir = resolve_areas_dir(data_dir)
        meta = read_meta(areas_dir)
        layers: dict[str, AreaLayer] = {}
        for name in LAYERS:
            p = areas_dir / f"{name}.parquet"
            if name in meta["layers"] and p.exists():
                layers[name] = read_layer(name, p)
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

        >>> import pyarrow as pa
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


def require_layers(areas: AreaSet, *names: str) -> None:
    """Raise :class:`DataNotFoundError` naming the missing layers and how to load them."""
    missing = [n for n in names if n not in areas.layers]
    if missing:
        raise DataNotFoundError(f"area layer(s) {', '.join(missing)} not loaded; run "
                                f"`anju areas load FILE --layer {missing[0]}`")
