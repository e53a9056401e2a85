"""Use cases shared by the CLI, the release, the web app and the worker: one module per use case.

Every function takes the :class:`~anju.deployment.Deployment` (the one validated configuration) and, where it reads
incidents, an open lake (:func:`anju.services.lake.open_lake`) explicitly; none reads a configuration file or keeps
state between calls. Shells (CLI, web, worker) parse their input, call one service function and present its result;
they compute nothing. See docs/services.md.

=====================  ========================================================================================
module                 use case
=====================  ========================================================================================
``services.lake``      open the lake on the configured engine; resolve a period (``latest``); filter incidents
                       by period, category (family or any taxonomy node) and area; year × family counts
``services.status``    what is in the lake (``anju status``, the platform's data page)
``services.release``   the release model of a period (:class:`~anju.release.model.Release`) and its files
``services.hotspots``  Gi*, emerging hot spots and the near-repeat Knox test on the period's incidents
``services.forecast``  risk forecasts, backtests, patrol plans, alerts and the 三高 (sangao) list
``services.text``      the text audit (downgraded codes) and the text-model tasks
=====================  ========================================================================================
"""

from __future__ import annotations

__all__ = ["forecast", "hotspots", "lake", "release", "status", "text"]
