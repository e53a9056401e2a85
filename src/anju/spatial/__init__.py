"""Spatial statistics: regular grids, spatial weights, Getis-Ord Gi* with FDR control, emerging hot spots,
near-repeat (Knox) tests, and binned kernel density (``kde``).

Submodules are imported explicitly (``from anju.spatial.gistar import gi_star``); this package imports nothing so
each module stays independent of the others. Methods and references: ``docs/methods/gi-star.md``,
``docs/methods/emerging-hotspots.md`` and ``docs/methods/near-repeat.md``.
"""
