"""What is in the lake: totals, rows by year/month, by category and source, imports and quarantine reasons.

``anju status`` prints it; the platform's data page shows it. Labels come from the deployment's taxonomy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anju.lake.status import LakeStatus, lake_status

if TYPE_CHECKING:
    from anju.deployment import Deployment
    from anju.lake.connection import Lake

__all__ = ["LakeStatus", "status"]


def status(dep: Deployment, lake: Lake, *, lang: str | None = None) -> LakeStatus:
    """The :class:`~anju.lake.status.LakeStatus` of ``lake`` with labels in ``lang`` (default: the deployment's)."""
    return lake_status(lake, dep.taxonomy, lang or dep.lang)
