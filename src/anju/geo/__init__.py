"""Geography: coordinate systems, metric projection, area layers, point assignment and grid cells.

* :mod:`anju.geo.coords` — WGS-84 ↔ GCJ-02 ↔ BD-09, vectorised (iterative GCJ-02 inverse).
* :mod:`anju.geo.projection` — the deployment's metric CRS (UTM) and cached pyproj transforms.
* :mod:`anju.geo.areas` — area layers (district ← street ← community ← grid; station ← police district): load,
  repair, link, store, and :meth:`~anju.geo.areas.AreaSet.assign` points to areas. It re-exports the pieces kept in
  :mod:`~anju.geo.area_layers` (hierarchy, AreaLayer), :mod:`~anju.geo.area_loading` (load_area_file) and
  :mod:`~anju.geo.area_store` (Parquet and ``_meta.json``).
* :mod:`anju.geo.grid` — H3 cells (vectorised, identical to ``h3``) and packed square metric cells.
* :mod:`anju.geo.regular_grid` — :class:`~anju.geo.regular_grid.RegularGrid`, the bounded metric grid with a
  study-area mask that forecasts, hot-spot maps and space-time cubes share.

Submodules are imported explicitly (``from anju.geo.coords import convert``) so that light users do not pay for
pyarrow/pyproj imports. See docs/geo.md.
"""
