"""Real data through the shipped profiles, checked against independent pandas computations.

* SF Kaggle train.csv.gz (878,017 rows) through ``sf-kaggle`` with a 1 km grid as the only area layer (there is no
  SF area file in the shared data; a grid exercises polygon assignment on every real point and has an independent
  answer: the floor of the metric coordinates).
* Both Chicago samples (portal headers and snake_case headers) through ``chicago`` with the 77 community areas,
  and the lake's ``community_id`` compared with the records' own Community Area column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anju.config import Settings
from anju.ingest import ingest_file
from anju.lake import connect
from real_data_helpers import sf_grid


def lake_frame(settings: Settings, columns: list[str]) -> pd.DataFrame:
    with connect(settings) as lake:
        return lake.incidents().select(*columns).execute()


def quarantine_frame(settings: Settings) -> pd.DataFrame:
    with connect(settings) as lake:
        return lake.quarantine().execute()


@pytest.mark.slow
def test_sf_kaggle_counts_match_pandas(settings: Settings, shared_data: Path, tmp_path: Path) -> None:
    from anju.geo.areas import load_area_file

    src = shared_data / "sf-crime-kaggle" / "train.csv.gz"
    crs, gx0, gy0 = sf_grid(tmp_path / "grid.geojson")
    load_area_file(settings.data_dir, tmp_path / "grid.geojson", layer="grid", id_field="id")
    rep = ingest_file(settings, src, profile="sf-kaggle")

    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    assert rep.rows_read == len(df) == 878_017
    dummy = df["Y"].astype(float) >= 90  # the 67 rows with X=-120.5, Y=90
    valid = df[~dummy]
    # no id column: a row is keyed by its time, category, description and block plus the occurrence of those
    # values in the file, so the repeated rows (2,323 exact repeats) load like any other
    assert int(valid.duplicated().sum()) == 2_323
    expected = valid
    assert int(dummy.sum()) == 67
    assert rep.quarantine_by_reason == {"bad_coords": 67}
    assert rep.rows_loaded == len(expected)
    assert rep.unknown_categories == {}  # every SF category is in the mapping
    assert rep.unassigned_by_level == {"grid": 0}
    assert rep.metric_crs == crs  # x/y are in the areas' UTM zone (10N), the one the grid was drawn in

    got = lake_frame(settings, ["year", "source_category", "category", "source_row", "x", "y", "grid_id",
                                "reported_at"])
    want_year_cat = expected.groupby([expected["Dates"].str[:4].astype(int), "Category"]).size()
    got_year_cat = got.groupby(["year", "source_category"]).size()
    got_year_cat.index.names = want_year_cat.index.names
    pd.testing.assert_series_equal(got_year_cat.sort_index(), want_year_cat.sort_index(), check_names=False, check_index_type=False)
    # only the categories deliberately mapped to "other" end up there; theft techniques are split out
    assert set(got.loc[got["category"] == "other.unknown", "source_category"]) == {
        "WARRANTS", "SECONDARY CODES", "OTHER OFFENSES"}
    theft = got.loc[got["source_category"] == "LARCENY/THEFT", "category"].value_counts()
    assert theft.index[0] == "theft.from_vehicle"  # GRAND/PETTY THEFT FROM LOCKED AUTO dominate SF thefts
    assert {"theft.pickpocket", "theft.shop", "theft.nonmotor", "theft.other"} <= set(theft.index)
    # quarantined rows are exactly the pandas ones, by row number
    q = quarantine_frame(settings)
    assert set(q.loc[q.reason == "bad_coords", "source_row"]) == set(np.flatnonzero(dummy) + 1)
    assert set(q["reason"]) == {"bad_coords"}
    # grid assignment against the floor of the metric coordinates (the lake's x/y are in the grid's UTM zone)
    ix = np.floor((got["x"] - gx0) / 1000).astype(int).astype(str)
    iy = np.floor((got["y"] - gy0) / 1000).astype(int).astype(str)
    agree = (ix + "_" + iy == got["grid_id"]).mean()
    assert agree > 0.9999, agree
    # local wall-clock times are the file's own
    first = got.loc[got.source_row == 1, "reported_at"].iloc[0]
    assert str(first) == df.loc[0, "Dates"]


CHICAGO_FILES = ("rcrimeanalysis_crimes_2017_2019.csv", "x0000000001_crimes_reduced_sample.csv")


@pytest.mark.slow
def test_chicago_samples_and_community_agreement(settings: Settings, shared_data: Path) -> None:
    from anju.geo.areas import load_area_file

    load_area_file(settings.data_dir, shared_data / "chicago-boundaries" / "community_areas.geojson",
                   layer="community", id_field="area_numbe", name_field="community")
    frames = []
    reports = []
    for name in CHICAGO_FILES:
        path = shared_data / "chicago-crime-samples" / name
        reports.append(ingest_file(settings, path, profile="chicago"))
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df.columns = [c.lower().replace(" ", "_") for c in df.columns]
        df["file"] = name
        df["row"] = np.arange(1, len(df) + 1)
        df["key"] = "chicago:" + df["id"].str.replace(r"\.0$", "", regex=True)
        frames.append(df)
    first, second = frames
    assert [r.rows_read for r in reports] == [25_000, 8_071]
    overlap = set(first["key"]) & set(second["key"])
    assert len(overlap) == 27
    assert reports[1].quarantine_by_reason.get("duplicate_key", 0) == 27
    assert reports[0].unknown_categories == {} and reports[1].unknown_categories == {}

    q = quarantine_frame(settings)
    assert set(q["reason"]) <= {"duplicate_key", "outside_areas"}
    outside = q[q.reason == "outside_areas"]
    assert len(outside) < 0.002 * (25_000 + 8_071)
    # the pandas reference: every row minus the quarantined ones (by file and row number)
    allrows = pd.concat(frames, ignore_index=True)
    qkeys = set(zip(q["source_file"], q["source_row"], strict=True))
    kept = allrows[[(f, r) not in qkeys for f, r in zip(allrows["file"], allrows["row"], strict=True)]]
    assert len(kept) == sum(r.rows_loaded for r in reports)
    dup_rows = q[q.reason == "duplicate_key"]
    assert set(second.loc[second["row"].isin(dup_rows["source_row"]), "key"]) == overlap

    got = lake_frame(settings, ["record_key", "year", "source_category", "category", "community_id",
                                "assign_method", "lon", "reported_at"])
    years = pd.to_datetime(kept["date"], format="mixed").dt.year
    want = kept.groupby([years.rename("year"), "primary_type"]).size()
    have = got.groupby(["year", "source_category"]).size()
    have.index.names = want.index.names
    pd.testing.assert_series_equal(have.sort_index(), want.sort_index(), check_names=False, check_index_type=False)
    assert set(got.loc[got.source_category == "DECEPTIVE PRACTICE", "category"]) <= {
        "fraud.other", "fraud.fake_acquaintance"}
    assert (got.loc[got.source_category == "BURGLARY", "category"] == "theft.burglary").all()

    # polygon assignment vs the records' own Community Area column
    ref = kept.set_index("key")["community_area"].str.replace(r"\.0$", "", regex=True)
    m = got.set_index("record_key").join(ref.rename("own"))
    has_both = m["own"].ne("") & m["community_id"].notna()
    agreement = float((m.loc[has_both, "own"] == m.loc[has_both, "community_id"]).mean())
    no_coords = int(m["lon"].isna().sum())
    print(f"\nChicago community agreement: {agreement:.4f} over {int(has_both.sum())} rows; "
          f"{no_coords} rows without coordinates; {len(outside)} outside every area (> 200 m)")
    assert agreement > 0.97
    assert no_coords == 106  # the 2001-2024 sample's rows without coordinates are kept, unassigned
    assert m.loc[m["lon"].isna(), "community_id"].isna().all()
