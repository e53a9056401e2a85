"""Analytics of the Safety Index release: pure functions over the lake's incident table.

Tables (Ibis expressions, e.g. ``lake.incidents()`` of :func:`anju.services.lake.open_lake`) and parameters in, pandas tables out;
no file I/O, no printing. Aggregations are Ibis (DuckDB here, PySpark at scale); small-table statistics (tests,
shrinkage, index) are NumPy/SciPy. One function computes each number and every surface shows that number.
The public API and its columns are documented in ``docs/analytics.md``; heat maps live in :mod:`anju.spatial.kde`.

The names below are imported on first use (PEP 562): a command or service that needs one module (say the lake's
status) no longer pays for all of them (SciPy's statistics, the segmenter). Four functions are named like their
modules (``counts``, ``headline``, ``rankings``, ``supervision``); ``anju.analytics.counts`` stays the function, as
with the eager imports this package used to make (see :class:`_Package`).

Examples
--------
>>> import ibis, pandas as pd
>>> from anju.analytics import Period, counts
>>> from anju.taxonomy import load_taxonomy
>>> tax = load_taxonomy()  # a service passes the deployment's: Deployment.taxonomy
>>> t = ibis.memtable(pd.DataFrame({"reported_at": pd.to_datetime(["2025-07-03 22:10", "2025-08-01 09:00"]),
...     "category": ["dispute.drunk", "theft.burglary"], "family": ["dispute", "theft"],
...     "community_id": ["c1", "c1"]}))
>>> counts(t, Period.parse("2025H2"), by="family", taxonomy=tax)[["area_id", "family", "count"]].to_dict("records")
[{'area_id': 'c1', 'family': 'dispute', 'count': 1}, {'area_id': 'c1', 'family': 'theft', 'count': 1}]
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from anju._lazy import lazy_getattr

if TYPE_CHECKING:
    from anju.analytics._common import LEVELS, AnalyticsError, rollup_attributes
    from anju.analytics.change import bh_adjust, change_table, poisson_test, rate_ratio_ci
    from anju.analytics.counts import aggregate, compare, counts, counts_many, monthly, shares
    from anju.analytics.headline import headline
    from anju.analytics.index import IndexConfig, index_from_counts, safety_index, score_ratio
    from anju.analytics.night import WEEKDAY_LABELS, hour_weekday, night_counts
    from anju.analytics.periods import Period, PeriodError, in_period, resolve_comparison
    from anju.analytics.quality import data_warnings, excluded_rows
    from anju.analytics.rankings import RankingDef, ranking, rankings
    from anju.analytics.shrinkage import GammaPrior, eb_rates, fit_gamma_prior
    from anju.analytics.supervision import supervision, supervision_total
    from anju.analytics.window import DEFAULT_NIGHT, NightWindow
    from anju.analytics.words import distinctive_terms, fraud_techniques, rising_terms, top_terms

__all__ = [
    "DEFAULT_NIGHT",
    "LEVELS",
    "WEEKDAY_LABELS",
    "AnalyticsError",
    "GammaPrior",
    "IndexConfig",
    "NightWindow",
    "Period",
    "PeriodError",
    "RankingDef",
    "aggregate",
    "bh_adjust",
    "change_table",
    "compare",
    "counts",
    "counts_many",
    "data_warnings",
    "distinctive_terms",
    "eb_rates",
    "excluded_rows",
    "fit_gamma_prior",
    "fraud_techniques",
    "headline",
    "hour_weekday",
    "in_period",
    "index_from_counts",
    "monthly",
    "night_counts",
    "poisson_test",
    "ranking",
    "rankings",
    "rate_ratio_ci",
    "resolve_comparison",
    "rising_terms",
    "rollup_attributes",
    "safety_index",
    "score_ratio",
    "shares",
    "supervision",
    "supervision_total",
    "top_terms",
]

#: where each public name lives (imported on first use, see the module docstring)
_HOME = {name: module for module, names in {
    "_common": ("LEVELS", "AnalyticsError", "rollup_attributes"),
    "change": ("bh_adjust", "change_table", "poisson_test", "rate_ratio_ci"),
    "counts": ("aggregate", "compare", "counts", "counts_many", "monthly", "shares"),
    "headline": ("headline",),
    "index": ("IndexConfig", "index_from_counts", "safety_index", "score_ratio"),
    "night": ("WEEKDAY_LABELS", "hour_weekday", "night_counts"),
    "periods": ("Period", "PeriodError", "in_period", "resolve_comparison"),
    "quality": ("data_warnings", "excluded_rows"),
    "rankings": ("RankingDef", "ranking", "rankings"),
    "shrinkage": ("GammaPrior", "eb_rates", "fit_gamma_prior"),
    "supervision": ("supervision", "supervision_total"),
    "window": ("DEFAULT_NIGHT", "NightWindow"),
    "words": ("distinctive_terms", "fraud_techniques", "rising_terms", "top_terms"),
}.items() for name in names}
#: functions named like the module that holds them: ``anju.analytics.counts`` is the function, as it always was
_SHADOWED = frozenset(name for name, module in _HOME.items() if name == module)


__getattr__ = lazy_getattr(__name__, _HOME, globals())


class _Package(types.ModuleType):
    """The package object: importing a submodule named like one of its functions (``anju.analytics.counts``) does
    not replace the function in the package's namespace (the import system sets the submodule as an attribute of
    its package; the eager imports this package used to make overwrote it with the function)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return  # the submodule stays in sys.modules; the package's name means the function
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
