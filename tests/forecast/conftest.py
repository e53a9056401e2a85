"""Fixtures of the forecast tests."""

from __future__ import annotations

import pandas as pd
import pytest
from fcsynth import make_events


@pytest.fixture
def events() -> pd.DataFrame:
    """3,000 clustered events over 200 days from 2024-01-01 on a 3 × 3 km square."""
    return make_events()
