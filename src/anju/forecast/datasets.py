"""Readers for the public datasets the forecasts are validated on (see ``docs/forecasting.md``).

They turn a public file straight into model events (x, y in metres of the local UTM zone, t, family, category)
without the lake, so backtests on public data are reproducible from the raw file alone. Deployments read their own
incidents from the lake instead (``anju forecast`` / ``anju backtest``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from anju.errors import DataNotFoundError

__all__ = [
    "SF_FAMILIES",
    "chicago_boundary",
    "load_chicago_assaults",
    "load_sf_kaggle",
    "load_tempe_opioid_calls",
    "load_vancouver_thefts",
]

#: Kaggle SF categories → anju taxonomy families (for per-family backtests; the rest map to "other").
SF_FAMILIES: dict[str, str] = {
    "LARCENY/THEFT": "theft", "VEHICLE THEFT": "theft", "BURGLARY": "theft", "STOLEN PROPERTY": "theft",
    "RECOVERED VEHICLE": "theft",
    "ROBBERY": "robbery",
    "ASSAULT": "assault", "SEX OFFENSES FORCIBLE": "assault", "KIDNAPPING": "assault",
    "FRAUD": "fraud", "FORGERY/COUNTERFEITING": "fraud", "BAD CHECKS": "fraud", "EMBEZZLEMENT": "fraud",
    "EXTORTION": "fraud", "BRIBERY": "fraud",
    "VANDALISM": "public_order", "DRUG/NARCOTIC": "public_order", "PROSTITUTION": "public_order",
    "DRUNKENNESS": "public_order", "DISORDERLY CONDUCT": "public_order", "LOITERING": "public_order",
    "WEAPON LAWS": "public_order", "TRESPASS": "public_order", "LIQUOR LAWS": "public_order",
    "GAMBLING": "public_order", "PORNOGRAPHY/OBSCENE MAT": "public_order", "ARSON": "fire",
    "DRIVING UNDER THE INFLUENCE": "traffic",
}


def _project(lon: np.ndarray, lat: np.ndarray, crs: str | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    from anju.geo.projection import metric_crs_for, to_metric

    crs = crs or metric_crs_for(lon, lat)
    x, y = to_metric(np.asarray(lon, float), np.asarray(lat, float), crs)
    return np.asarray(x), np.asarray(y), crs


def _need(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"public dataset {path} does not exist; see docs/forecasting.md for where it lives.")
    return path


def load_sf_kaggle(path: str | Path, *, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Kaggle "San Francisco Crime Classification" train set → events (x, y, t, family, category, lon, lat).

    Drops the 67 rows at the placeholder location (Y = 90) and exact duplicate rows. Only alternate weeks are
    present (Kaggle kept the others for its test set): use
    :func:`~anju.forecast.evaluate.observed_origins` to pick backtest windows.
    """
    df = pd.read_csv(_need(path), usecols=["Dates", "Category", "X", "Y"], parse_dates=["Dates"])
    df = df[df["Y"] < 38.0].drop_duplicates()
    if start is not None:
        df = df[df["Dates"] >= pd.Timestamp(start)]
    if end is not None:
        df = df[df["Dates"] < pd.Timestamp(end)]
    x, y, crs = _project(df["X"].to_numpy(), df["Y"].to_numpy(), "EPSG:32610")
    out = pd.DataFrame({
        "x": x, "y": y, "t": df["Dates"].to_numpy(),
        "family": df["Category"].map(SF_FAMILIES).fillna("other").to_numpy(),
        "category": df["Category"].to_numpy(),
        "lon": df["X"].to_numpy(), "lat": df["Y"].to_numpy(),
    })
    out.attrs["crs"] = crs
    return out.sort_values("t", kind="stable").reset_index(drop=True)


def load_chicago_assaults(path: str | Path, *, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Chicago aggravated assaults 2010–2019 (crimemappingdata) → events (x, y, t, family, category, lon, lat)."""
    df = pd.read_csv(_need(path), parse_dates=["date"])
    df = df.drop_duplicates()
    if start is not None:
        df = df[df["date"] >= pd.Timestamp(start)]
    if end is not None:
        df = df[df["date"] < pd.Timestamp(end)]
    x, y, crs = _project(df["longitude"].to_numpy(), df["latitude"].to_numpy(), "EPSG:32616")
    out = pd.DataFrame({
        "x": x, "y": y, "t": df["date"].to_numpy(), "family": "assault",
        "category": df["loc_cat"].to_numpy(), "lon": df["longitude"].to_numpy(), "lat": df["latitude"].to_numpy(),
    })
    out.attrs["crs"] = crs
    return out.sort_values("t", kind="stable").reset_index(drop=True)


def chicago_boundary(path: str | Path, crs: str = "EPSG:32616") -> object:
    """The union of a GeoJSON layer's polygons (Chicago's 77 community areas, Vancouver's neighbourhoods), projected to ``crs``."""
    import shapely
    from pyproj import Transformer

    data = json.loads(_need(path).read_text(encoding="utf-8"))
    geoms = [shapely.geometry.shape(f["geometry"]) for f in data["features"]]
    union = shapely.union_all(geoms)
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(union, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def load_vancouver_thefts(path: str | Path) -> pd.DataFrame:
    """Vancouver thefts 2020 (crimemappingdata; X/Y already in UTM 10N metres, EPSG:26910) → events (x, y, t,
    family, category). Rows at X = 0 (no location) and exact duplicates are dropped."""
    df = pd.read_csv(_need(path)).drop_duplicates()
    df = df[(df["X"] > 0) & (df["Y"] > 0)]
    t = pd.to_datetime(pd.DataFrame({"year": df["YEAR"], "month": df["MONTH"], "day": df["DAY"],
                                     "hour": df["HOUR"], "minute": df["MINUTE"]}))
    out = pd.DataFrame({"x": df["X"].to_numpy(float), "y": df["Y"].to_numpy(float), "t": t.to_numpy(),
                        "family": "theft", "category": df["TYPE"].to_numpy()})
    out.attrs["crs"] = "EPSG:26910"
    return out.sort_values("t", kind="stable").reset_index(drop=True)


def load_tempe_opioid_calls(path: str | Path) -> pd.DataFrame:
    """Tempe (Arizona) EMS opioid calls 2017–2024 (crimemappingdata; Open Tempe, CC-BY) → events (x, y, t, family,
    category, lon, lat) in UTM 12N metres.

    Calls for service with a date only (``t`` at midnight, so per-shift forecasts refuse them) and locations the
    city randomised to about a quarter mile. Exact duplicate rows are dropped; ``category`` says whether naloxone
    was given (``narcan``, ``no narcan``, ``unknown``).
    """
    df = pd.read_csv(_need(path)).drop_duplicates()
    df = df.dropna(subset=["latitude", "longitude", "incident_date"])
    x, y, crs = _project(df["longitude"].to_numpy(), df["latitude"].to_numpy(), "EPSG:32612")
    given = df["narcan_given"].map({True: "narcan", False: "no narcan", "TRUE": "narcan", "FALSE": "no narcan"})
    out = pd.DataFrame({
        "x": x, "y": y, "t": pd.to_datetime(df["incident_date"]).to_numpy(), "family": "medical",
        "category": given.fillna("unknown").to_numpy(),
        "lon": df["longitude"].to_numpy(), "lat": df["latitude"].to_numpy(),
    })
    out.attrs["crs"] = crs
    return out.sort_values("t", kind="stable").reset_index(drop=True)
