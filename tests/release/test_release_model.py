"""The release object: validation, the public edition's disclosure rules, display formatting."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import shapely
from release_synthetic import OFFICIAL_NAME

from anju.release.model import (
    SMALL_COUNT,
    Column,
    Figure,
    GeoLayer,
    Release,
    ReleaseError,
    Table,
    format_value,
)


def test_synthetic_release_is_valid(synthetic: Release) -> None:
    synthetic.validate()
    assert {f.kind for f in synthetic.figures} >= {"choropleth", "heat", "interval", "matrix", "wordcloud"}


def test_figure_naming_a_missing_column_is_refused(synthetic: Release) -> None:
    bad = Figure("x", "pie", "family_shares", "categories", "x", "x", {"label": "family", "value": "nope"})
    with pytest.raises(ReleaseError, match="nope"):
        dataclasses.replace(synthetic, figures=(*synthetic.figures, bad))


def test_figure_naming_a_missing_table_or_layer_is_refused(synthetic: Release) -> None:
    with pytest.raises(ReleaseError, match="no table"):
        dataclasses.replace(synthetic, figures=(Figure("x", "pie", "ghost", "categories", "x", "x", {}),))
    bad_layer = Figure("m", "choropleth", "safety_index", "map", "m", "m",
                       {"layer": "street", "id": "community_id", "value": "index"})
    with pytest.raises(ReleaseError, match="street"):
        dataclasses.replace(synthetic, figures=(bad_layer,))


def test_table_missing_data_column_is_refused(synthetic: Release) -> None:
    t = synthetic.tables["trend"]
    broken = dataclasses.replace(t, data=t.data.drop(columns=["compare"]))
    with pytest.raises(ReleaseError, match="compare"):
        dataclasses.replace(synthetic, tables={**synthetic.tables, "trend": broken})


def test_public_masks_small_counts_only(synthetic: Release) -> None:
    pub = synthetic.public()
    raw = synthetic.tables["ranking_theft"].data
    shown = pub.tables["ranking_theft"].data
    for n, shown_n, rate in zip(raw["count"], shown["count"], shown["raw_rate"], strict=True):
        if 0 < n < 3:
            assert shown_n == SMALL_COUNT
            assert rate is None  # a raw rate would give the count away
        else:
            assert shown_n == n
            assert rate is not None
    # the shrunk rate and its interval are not derived from one count alone: kept
    assert shown["rate"].tolist() == raw["rate"].tolist()
    # zero is not a small count (it identifies nobody)
    t = Table("z", "z", "z", "categories", (Column("n", "n", kind="count", small=True),),
              pd.DataFrame({"n": [0, 1, 2, 3]}))
    r = Release(meta=synthetic.meta, tables={"z": t}).public()
    assert r.tables["z"].values("n") == [0, SMALL_COUNT, SMALL_COUNT, 3]


def test_public_drops_people_and_records(synthetic: Release) -> None:
    pub = synthetic.public()
    assert pub.meta.public and not synthetic.meta.public
    assert "official" not in pub.tables["supervision"].data.columns
    assert "fraud_examples" not in pub.tables
    for t in pub.tables.values():
        assert not t.data.astype(str).isin([OFFICIAL_NAME]).any().any()
    # figures survive when their table does
    assert [f.key for f in pub.figures] == [f.key for f in synthetic.figures]


def test_geo_layer_unique_display_names() -> None:
    g = GeoLayer("community", ["a", "b", "c"], ["新村", "新村", None],
                 [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1)])
    assert g.names == ["新村（a）", "新村（b）", "c"]
    gj = g.geojson()
    assert [f["properties"]["name"] for f in gj["features"]] == g.names
    assert gj["features"][0]["geometry"]["type"] == "Polygon"
    assert g.bounds == (0.0, 0.0, 3.0, 1.0)


@pytest.mark.parametrize(
    ("value", "kind", "lang", "expected"),
    [
        (12345, "count", "zh", "12,345"),
        (0.4823, "share", "zh", "48.2%"),
        (-5.18, "pct", "zh", "-5.2%"),
        (0.0004, "pvalue", "zh", "<0.001"),
        (True, "bool", "zh", "是"),
        (True, "bool", "en", "yes"),
        (np.nan, "rate", "zh", "—"),
        (SMALL_COUNT, "count", "zh", SMALL_COUNT),
        (np.float64(3.14159), "rate", "en", "3.14"),
    ],
)
def test_format_value(value: object, kind: str, lang: str, expected: str) -> None:
    assert format_value(value, Column("v", "v", kind=kind), lang) == expected  # type: ignore[arg-type]
