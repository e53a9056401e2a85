"""Small synthetic incident tables with the lake schema (docs/data-model.md), built in the tests themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anju.taxonomy import load_taxonomy

LAKE_COLUMNS = {
    "record_key": "string", "import_id": "string", "source": "string", "source_row": "int64",
    "reported_at": "datetime64[us]", "year": "int32", "month": "int32", "category": "string", "family": "string",
    "category_known": "bool", "source_category": "string", "source_subcategory": "string", "lon": "float64",
    "lat": "float64", "x": "float64", "y": "float64", "h3_9": "Int64", "district_id": "string",
    "street_id": "string", "community_id": "string", "grid_id": "string", "station_id": "string",
    "police_district_id": "string", "assign_method": "string", "address": "string", "text": "string",
    "unit": "string", "loss_yuan": "float64", "caller_hash": "object", "phone_hash": "object",  # 32-byte digests
    "caller_masked": "string", "phone_masked": "string",
}


def lake_frame(rows: dict[str, object] | pd.DataFrame) -> pd.DataFrame:
    """Fill the lake columns not given; derive family, year, month from category and reported_at."""
    df = pd.DataFrame(rows).copy()
    n = len(df)
    df["reported_at"] = pd.to_datetime(df["reported_at"])
    if "family" not in df:
        df["family"] = df["category"].str.split(".").str[0]
    df["year"] = df["reported_at"].dt.year
    df["month"] = df["reported_at"].dt.month
    defaults = {"record_key": [f"t:{i}" for i in range(n)], "import_id": "imp1", "source": "test",
                "source_row": np.arange(1, n + 1), "category_known": True, "district_id": "D1"}
    for c, v in defaults.items():
        if c not in df:
            df[c] = v
    if "street_id" not in df and "community_id" in df:
        df["street_id"] = df["community_id"].map(lambda c: None if c is None else f"S{str(c)[1:2]}")
    for c, dtype in LAKE_COLUMNS.items():
        if c not in df:
            df[c] = pd.Series([None] * n, dtype=dtype if dtype not in ("bool",) else object)
        else:
            df[c] = df[c].astype(dtype)
    return df[list(LAKE_COLUMNS)]


def random_incidents(n: int = 4000, *, seed: int = 0, communities: int = 12,
                     start: str = "2024-01-01", end: str = "2026-01-01") -> pd.DataFrame:
    """Random calls over two years, all taxonomy leaves, some unassigned, times spread over the day."""
    rng = np.random.default_rng(seed)
    tax = load_taxonomy()
    codes = np.array(list(tax.categories))
    t0, t1 = pd.Timestamp(start).value, pd.Timestamp(end).value
    ts = pd.to_datetime(rng.integers(t0, t1, n)).floor("min")
    comm = rng.choice([f"C{i:02d}" for i in range(communities)] + [None], n,
                      p=[0.95 / communities] * communities + [0.05])
    cats = rng.choice(codes, n)
    x = rng.normal(0, 1500, n)
    y = rng.normal(0, 1200, n)
    loss = np.where(np.char.startswith(cats.astype(str), "fraud") & (rng.random(n) < 0.7),
                    np.round(rng.lognormal(8, 1, n), 2), np.nan)
    return lake_frame({"reported_at": ts, "category": cats, "community_id": comm, "x": x, "y": y,
                       "lon": 121.4 + x / 95000, "lat": 31.1 + y / 111000, "loss_yuan": loss})


def areas_for(df: pd.DataFrame, *, seed: int = 1) -> pd.DataFrame:
    """Community attributes for the ids in df: population, households (one tiny community)."""
    rng = np.random.default_rng(seed)
    ids = sorted(x for x in df["community_id"].dropna().unique())
    pop = rng.integers(2000, 12000, len(ids)).astype(float)
    pop[0] = 60.0
    return pd.DataFrame({"area_id": ids, "name": [f"小区{i}" for i in ids],
                         "parent_id": [f"S{i[1:2]}" for i in ids], "population": pop,
                         "households": np.round(pop / 2.6)})
