"""The lake service: one selection vocabulary (period incl. ``latest``, category family or node, area)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from anju.analytics._common import AnalyticsError
from anju.analytics.periods import Period
from anju.services.lake import Selection, category_codes, incident_frame, open_lake, resolve_period, select
from shipped import TAX

pytestmark = pytest.mark.slow


def test_category_vocabulary() -> None:
    assert category_codes(TAX, "theft") == ("family", ["theft"])
    assert category_codes(TAX, "theft.burglary") == ("category", ["theft.burglary"])
    with pytest.raises(AnalyticsError, match=r"theft\.burglary"):
        category_codes(TAX, "thieves")


def test_selection_matches_pandas(demo: Any) -> None:
    dep = demo.deployment
    with open_lake(dep) as lake:
        latest = resolve_period(lake, "latest")
        every = lake.incidents().to_pandas()
        sel = Selection(period=latest, category="theft.burglary", area="community:" + str(
            every["community_id"].dropna().iloc[0]))
        got = select(dep, lake, sel).to_pandas()
        frame, crs = incident_frame(dep, lake, Selection(period=Period.parse("2025-07"), category="theft"))
    last = pd.Timestamp(every["reported_at"].max())
    assert latest == Period.parse(f"{last.year}H{1 if last.month <= 6 else 2}")
    t = pd.to_datetime(every["reported_at"])
    want = every[(t >= pd.Timestamp(latest.start)) & (t < pd.Timestamp(latest.end))
                 & (every["category"] == "theft.burglary") & (every["community_id"] == sel.area.split(":")[1])]
    assert len(got) == len(want) > 0
    july = every[(t >= "2025-07-01") & (t < "2025-08-01") & (every["family"] == "theft") & every["x"].notna()]
    assert len(frame) == len(july) and crs is not None and crs.startswith("EPSG:")
