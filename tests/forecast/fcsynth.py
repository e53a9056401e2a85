"""Synthetic events for the forecast tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_events(n: int = 3000, *, seed: int = 0, days: float = 200.0, start: str = "2024-01-01") -> pd.DataFrame:
    """Clustered events over a 3 × 3 km square: a few stable hot spots plus uniform noise, three families."""
    rng = np.random.default_rng(seed)
    centres = np.array([[600.0, 700.0], [2200.0, 2400.0], [1500.0, 900.0], [400.0, 2500.0]])
    k = rng.integers(0, len(centres) + 1, n)
    xy = rng.uniform(0, 3000, (n, 2))
    hot = k < len(centres)
    xy[hot] = centres[k[hot]] + rng.normal(0, 120, (hot.sum(), 2))
    xy = np.clip(xy, 0, 2999)
    t = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, days, n)), unit="D")
    fam = rng.choice(np.array(["theft", "assault", "fraud"], dtype=object), n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "t": t, "family": fam})
