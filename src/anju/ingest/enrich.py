"""Geographic enrichment of a batch: parse coordinates, convert to WGS-84, project, assign areas, H3 cells.

Thin glue over :mod:`anju.geo` (the geo part owns the maths): :func:`anju.geo.coords.convert` for GCJ-02/BD-09,
:func:`anju.geo.projection.from_metric` for projected sources, :func:`anju.geo.projection.to_metric` with the
deployment's metric CRS, :meth:`anju.geo.areas.AreaSet.assign` and :func:`anju.geo.grid.h3_cells`.

Without loaded areas ingest still works: area ids stay null and x/y use the UTM zone of the first batch's points
(kept for the whole import and recorded in the manifest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anju.geo.areas import AreaSet
from anju.geo.coords import convert
from anju.geo.grid import h3_cells
from anju.geo.projection import from_metric, metric_crs_for, to_metric
from anju.lake.schema import AREA_LEVELS

__all__ = ["BOUNDS_PAD_M", "GeoContext", "parse_numbers"]

#: How far outside the loaded areas' bounding box a point may lie before it is "out of bounds" (metres); between
#: the box and the areas themselves a point is assigned to the nearest area within the threshold or quarantined as
#: ``outside_areas``.
BOUNDS_PAD_M = 2000.0

_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def parse_numbers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Strings → float64 (NaN where null or not a number) and a mask of present-but-unparseable values.

    A number is ``_NUMBER`` after trimming (Unicode) whitespace. The whole array goes through Arrow's cast in one
    call; only when that raises (some value is not a plain number) or gives a NaN/infinity (Arrow reads ``nan`` and
    ``inf``, which are not numbers here) does the slow path run: trim, regex, cast.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    try:
        nums = pc.cast(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    else:
        f = np.asarray(nums.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
        if np.isfinite(f).sum() == len(values) - values.null_count:  # Arrow also reads "nan" and "inf": not ours
            return f, np.zeros(len(values), dtype=bool)
    v = pc.utf8_trim_whitespace(values)
    present = pc.is_valid(v)
    ok = pc.match_substring_regex(v, _NUMBER)
    nums = pc.cast(pc.if_else(ok, v, pa.scalar(None, pa.string())), pa.float64())
    f = nums.fill_null(np.nan).to_numpy(zero_copy_only=False)
    bad = pc.and_(present, pc.invert(ok.fill_null(False))).to_numpy(zero_copy_only=False)
    return np.asarray(f, dtype=np.float64), np.asarray(bad, dtype=bool)


@dataclass
class GeoContext:
    """Everything geographic an import needs, built once per import."""

    system: str
    areas: AreaSet | None
    nearest_m: float
    profile_bounds: tuple[float, float, float, float] | None = None
    metric_crs: str | None = None
    stats: dict[str, int] = field(default_factory=dict)
    id_arrays: dict[str, pa.Array] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, data_dir: Any, *, system: str, nearest_m: float,
              profile_bounds: tuple[float, float, float, float] | None) -> GeoContext:
        areas = AreaSet.from_data_dir(data_dir)
        if not areas.layers:
            return cls(system, None, nearest_m, profile_bounds)
        return cls(system, areas, nearest_m, profile_bounds, areas.metric_crs)

    @property
    def levels(self) -> list[str]:
        """Loaded levels, in :data:`AREA_LEVELS` order."""
        return [lv for lv in AREA_LEVELS if self.areas is not None and lv in self.areas.layers]

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """WGS-84 box outside which coordinates are out of bounds: the areas' box padded, else the profile's."""
        if self.areas is not None and self.areas.bounds is not None:
            minx, miny, maxx, maxy = self.areas.bounds
            dlat = BOUNDS_PAD_M / 111_320.0
            dlon = BOUNDS_PAD_M / (111_320.0 * max(np.cos(np.radians(max(abs(miny), abs(maxy)))), 0.05))
            return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)
        return self.profile_bounds

    def to_wgs84(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Source coordinates → (lon, lat, bad): WGS-84 degrees and a mask of impossible values.

        Impossible: non-finite, outside ±180/±90 (±90 exactly is a known placeholder), or (0, 0).
        """
        if self.system.startswith("EPSG:"):
            ok = np.isfinite(a) & np.isfinite(b)
            lon = np.full(a.shape, np.nan)
            lat = np.full(a.shape, np.nan)
            if ok.any():
                lon[ok], lat[ok] = from_metric(a[ok], b[ok], self.system)
        elif self.system == "wgs84":
            lon, lat = a, b
        else:
            ok = np.isfinite(a) & np.isfinite(b) & (np.abs(a) <= 180) & (np.abs(b) < 90)
            lon = np.full(a.shape, np.nan)
            lat = np.full(a.shape, np.nan)
            if ok.any():
                lon[ok], lat[ok] = convert(a[ok], b[ok], self.system, "wgs84")
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) >= 90) \
                | ((lon == 0) & (lat == 0))
        return lon, lat, bad

    def outside_bounds(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Mask of finite points outside :attr:`bounds` (all False when there are no bounds)."""
        b = self.bounds
        if b is None:
            return np.zeros(lon.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            return np.isfinite(lon) & ((lon < b[0]) | (lon > b[2]) | (lat < b[1]) | (lat > b[3]))

    def enrich(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, Any]:
        """x/y (metres), h3_9 (-1 → null later), ``<level>_id`` (string arrays, null = unassigned) for every level,
        ``<level>_idx`` (row in the layer, -1 = unassigned) for every loaded level, and ``assign_method``.

        ``lon``/``lat`` are WGS-84 with NaN where missing. Ids are taken from the layers' id arrays by position
        (:meth:`~anju.geo.areas.AreaSet.assign_indices`), so no Python object is made per row.
        """
        n = lon.size
        have = np.isfinite(lon) & np.isfinite(lat)
        x = np.full(n, np.nan)
        y = np.full(n, np.nan)
        if have.any():
            if self.metric_crs is None:
                self.metric_crs = metric_crs_for(lon[have], lat[have])
            x[have], y[have] = to_metric(lon[have], lat[have], self.metric_crs)
        out: dict[str, Any] = {"x": x, "y": y, "h3_9": h3_cells(lon, lat, 9)}
        method = np.zeros(n, dtype=np.int8)
        idx: dict[str, np.ndarray] = {}
        if self.areas is not None:
            if have.any():
                idx, method = self.areas.assign_indices(lon, lat, max_distance_m=self.nearest_m)
            else:
                idx = {lv: np.full(n, -1, dtype=np.int64) for lv in self.areas.layers}
        for lv in AREA_LEVELS:
            if lv in idx:
                out[f"{lv}_idx"] = idx[lv]
                out[f"{lv}_id"] = _take(self._ids(lv), idx[lv])
            else:
                out[f"{lv}_id"] = pa.nulls(n, pa.string())
        out["assign_method"] = _take(_METHODS, method.astype(np.int64) - 1)
        return out

    def _ids(self, level: str) -> pa.Array:
        """The layer's area ids as an Arrow string array (cached)."""
        cache = self.id_arrays
        if level not in cache:
            assert self.areas is not None
            cache[level] = pa.array(self.areas.layers[level].ids, pa.string())
        return cache[level]

    def unassigned(self, enriched: dict[str, Any]) -> np.ndarray:
        """Rows with coordinates but no area at any loaded level (all False when no areas are loaded)."""
        levels = self.levels
        if not levels:
            return np.zeros(len(enriched["x"]), dtype=bool)
        none = np.ones(len(enriched["x"]), dtype=bool)
        for lv in levels:
            none &= enriched[f"{lv}_idx"] < 0
        return none & np.isfinite(enriched["x"])


_METHODS = pa.array(["polygon", "nearest"], pa.string())


def _take(values: pa.Array, positions: np.ndarray) -> pa.Array:
    """``values[positions]`` with null where the position is negative."""
    neg = positions < 0
    if not neg.any():
        return values.take(pa.array(positions, pa.int64()))
    return values.take(pa.array(positions, pa.int64(), mask=neg))
