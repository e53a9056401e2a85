"""Geography: coordinate systems, metric projection, area layers, point assignment and grid cells.

* :mod:`anju.geo.coords` — WGS-84 ↔ GCJ-02 ↔ BD-09, vectorised (iterative GCJ-02 inverse).
* :mod:`anju.geo.projection` — the deployment's metric CRS (UTM) and cached pyproj transforms.
* :mod:`anju.geo.areas` — area layers (district ← street ← community ← grid; station ← police district): load,
  repair, link, store, and :meth:`~anju.geo.areas.AreaSet.assign` points to areas.
* :mod:`anju.geo.grid` — H3 cells (vectorised, identical to ``h3``) and packed square metric cells.

Submodules are imported explicitly (``from anju.geo.coords import convert``) so that light users do not pay for
pyarrow/pyproj imports. See docs/geo.md.
"""
