"""Hot spots of a period's incidents: Getis-Ord Gi* (cells or area polygons), emerging hot spots, near repeat.

The statistics are the pure functions of :mod:`anju.spatial`; this module selects the incidents
(:func:`anju.services.lake.incident_frame`), builds the grid or reads the area layer, and returns a result the CLI
prints and writes, and the web app serves: a table, the matching WGS-84 geometries and a few figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anju.errors import ConfigError, DataNotFoundError, GeoError
from anju.geo.geojson import cells_wgs84
from anju.services.lake import Selection, incident_frame

if TYPE_CHECKING:
    from anju.deployment import Deployment
    from anju.lake.connection import Lake

__all__ = ["BIN_LABELS", "HotspotResult", "emerging", "gistar", "knox"]

BIN_LABELS = {3: ("热点 99%", "hot 99%"), 2: ("热点 95%", "hot 95%"), 1: ("热点 90%", "hot 90%"),
              0: ("不显著", "not significant"), -1: ("冷点 90%", "cold 90%"), -2: ("冷点 95%", "cold 95%"),
              -3: ("冷点 99%", "cold 99%")}


@dataclass
class HotspotResult:
    """A hot-spot table (one row per cell or area), its WGS-84 geometries (or None) and what was analysed."""

    frame: pd.DataFrame
    geoms: Any
    crs: str | None
    incidents: int
    unit: str
    """``cells`` or the area level."""
    meta: dict[str, Any] = field(default_factory=dict)


def _area_layer(dep: Deployment, layer: str) -> Any:
    from anju.geo.areas import AreaSet

    areas = AreaSet.from_data_dir(dep.data_dir)
    if layer not in areas.layers:
        raise DataNotFoundError(f"area layer {layer!r} is not loaded (loaded: {sorted(areas.layers) or 'none'}); "
                                f"load it with `anju areas load FILE --layer {layer}`.")
    return areas.layers[layer]


def _area_weights(geoms: Any, weights: str, distance: float | None, crs: str) -> Any:
    from anju.spatial.weights import distance_band, polygon_contiguity

    kind = weights.lower()
    if kind in ("queen", "rook"):
        return polygon_contiguity(geoms, kind=kind)
    if kind == "distance":
        import shapely

        from anju.geo.projection import to_metric

        if distance is None:
            raise ConfigError("--weights distance needs --distance <metres>.")
        c = shapely.centroid(geoms)
        x, y = to_metric(shapely.get_x(c), shapely.get_y(c), crs)
        return distance_band(x, y, distance)
    raise ConfigError(f"--weights must be queen, rook or distance; got {weights!r}.")


def _codes(df: pd.DataFrame, layer: str, ids: Any) -> np.ndarray:
    col = f"{layer}_id"
    if col not in df:
        raise DataNotFoundError(f"the lake has no column {col!r}; area layer {layer!r} is not part of the data model.")
    lookup = pd.Index(pd.Series(ids, dtype=object))
    return np.asarray(lookup.get_indexer(df[col].astype(object)), dtype=np.int64)


def _within_layer(dep: Deployment, within: str) -> str | None:
    """The area layer that bounds the grid: ``auto`` → district if loaded, ``none`` → no bound."""
    w = within.strip().lower()
    if w == "none":
        return None
    if w == "auto":
        from anju.geo.areas import read_meta

        return "district" if "district" in read_meta(dep.paths.areas).get("layers", {}) else None
    return within


def _cell_mask(dep: Deployment, grid: Any, layer: str, crs: str) -> np.ndarray:
    """Cells whose centre lies inside the union of the layer's polygons (a lake or a neighbour district is not a
    cold spot)."""
    import shapely

    from anju.geo.projection import from_metric

    lay = _area_layer(dep, layer)
    cx, cy = grid.centres()
    lon, lat = from_metric(cx, cy, crs)
    mask = np.asarray(shapely.contains_xy(shapely.union_all(lay.geometries), lon, lat), dtype=bool)
    if mask.sum() < 3:
        raise GeoError(f"only {int(mask.sum())} grid cells lie inside layer {layer!r}; check the layer or use "
                       "--within none.")
    return mask


def gistar(dep: Deployment, lake: Lake, selection: Selection, *, cell_size: float = 150.0, weights: str = "queen",
           distance: float | None = None, areas: str | None = None, within: str = "auto", permutations: int = 0,
           seed: int | None = None, fdr: bool = True) -> HotspotResult:
    """Gi* hot spots of the selected incidents on grid cells (``cell_size`` m) or on the polygons of ``areas``.

    The frame has ``count``, ``z``, ``p`` (``p_sim`` with permutations) and ``bin`` (−3…3, FDR-corrected unless
    ``fdr=False``) per cell (``cell``, ``lon``, ``lat``) or area (``area_id``, ``name``).
    """
    from anju.spatial.gistar import gi_star, grid_hotspots

    if weights.lower() == "distance" and distance is None:
        raise ConfigError("--weights distance needs --distance <metres> (e.g. --distance 300).")
    if areas and within not in ("auto", "none"):
        raise ConfigError("--within applies to grid cells; drop it when analysing --areas.")
    extra = (f"{areas}_id",) if areas else ()
    df, crs = incident_frame(dep, lake, selection, columns=extra)
    assert crs is not None
    if areas:
        layer = _area_layer(dep, areas)
        codes = _codes(df, areas, layer.ids)
        counts = np.bincount(codes[codes >= 0], minlength=len(layer.ids)).astype(float)
        W = _area_weights(layer.geometries, weights, distance, crs)
        res = gi_star(counts, W, permutations=permutations, seed=seed)
        frame = pd.DataFrame({"area_id": layer.ids, "name": layer.names, "count": counts, "z": res.z, "p": res.p})
        if res.p_sim is not None:
            frame["p_sim"] = res.p_sim
        frame["bin"] = res.bins(fdr=fdr, use_sim=res.p_sim is not None)
        return HotspotResult(frame, layer.geometries, crs, len(df), areas,
                             {"weights": weights, "fdr": fdr, "permutations": permutations})
    from anju.geo.projection import from_metric
    from anju.geo.regular_grid import RegularGrid

    grid = RegularGrid.from_points(df["x"], df["y"], cell_size)
    layer_name = _within_layer(dep, within)
    mask = _cell_mask(dep, grid, layer_name, crs) if layer_name else None
    grid, frame = grid_hotspots(df["x"], df["y"], grid=grid, weights=weights, distance=distance, mask=mask,
                                fdr=fdr, permutations=permutations, seed=seed)
    lon, lat = from_metric(frame["cx"].to_numpy(), frame["cy"].to_numpy(), crs)
    frame.insert(5, "lon", np.round(lon, 6))
    frame.insert(6, "lat", np.round(lat, 6))
    geoms = cells_wgs84(grid, frame["cell"].to_numpy(), crs)
    return HotspotResult(frame, geoms, crs, len(df), "cells",
                         {"weights": weights, "fdr": fdr, "permutations": permutations, "cell_size": cell_size})


def emerging(dep: Deployment, lake: Lake, selection: Selection, *, step: str = "7D", time_window: int = 1,
             global_window: str = "cube", cell_size: float = 150.0, weights: str = "queen",
             distance: float | None = None, areas: str | None = None, alpha: float = 0.10,
             trend_alpha: float = 0.05) -> HotspotResult:
    """Emerging hot spots (Esri's categories: new, intensifying, persistent…) over the selection's period."""
    from anju.geo.projection import from_metric
    from anju.spatial.cube import SpaceTimeCube
    from anju.spatial.emerging import emerging_hotspots

    if selection.period is None:
        raise ConfigError("emerging hot spots need a period (--period).")
    start, end = selection.period.start_datetime, selection.period.end_datetime
    extra = (f"{areas}_id",) if areas else ()
    df, crs = incident_frame(dep, lake, selection, columns=extra)
    assert crs is not None
    if areas:
        layer = _area_layer(dep, areas)
        cube = SpaceTimeCube.from_codes(_codes(df, areas, layer.ids), df["reported_at"], n_locations=len(layer.ids),
                                        step=step, start=start, end=end)
        W = _area_weights(layer.geometries, weights, distance, crs)
        geoms: Any = layer.geometries
        ident = pd.DataFrame({"area_id": layer.ids, "name": layer.names})
    else:
        cube = SpaceTimeCube.from_events(df["x"], df["y"], df["reported_at"], cell=cell_size, step=step, start=start,
                                         end=end)
        W = cube.weights(weights, distance=distance)
        assert cube.grid is not None
        geoms = cells_wgs84(cube.grid, cube.locations, crs)
        cx, cy = cube.grid.centres(cube.locations)
        lon, lat = from_metric(cx, cy, crs)
        ident = pd.DataFrame({"cell": cube.locations, "lon": np.round(lon, 6), "lat": np.round(lat, 6)})
    res = emerging_hotspots(cube.counts, W, time_window=time_window, global_window=global_window, alpha=alpha,
                            trend_alpha=trend_alpha)
    frame = pd.concat([ident, res.drop(columns=["location"])], axis=1)
    meta = {"counted": int(cube.counts.sum()), "locations": cube.n_locations, "steps": cube.n_steps, "step": step,
            "first": cube.edges[0].date(), "last": cube.edges[-1].date(), "dropped": cube.dropped}
    return HotspotResult(frame, geoms, crs, len(df), areas or "cells", meta)


def knox(dep: Deployment, lake: Lake, selection: Selection, *, space_bands: list[float], time_bands: list[float],
         permutations: int = 99, seed: int | None = None, metric: str = "euclidean",
         exact_time: bool = False) -> Any:
    """The near-repeat Knox test of the selection: a :class:`~anju.spatial.nearrepeat.KnoxResult`."""
    from anju.spatial.nearrepeat import knox_test, time_in_days

    df, _ = incident_frame(dep, lake, selection)
    t = time_in_days(df["reported_at"], whole_days=not exact_time)
    return knox_test(df["x"].to_numpy(float), df["y"].to_numpy(float), t, space_bands=space_bands,
                     time_bands=time_bands, permutations=permutations, seed=seed, metric=metric)
