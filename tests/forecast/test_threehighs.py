"""三高 against a pandas reference, on pandas input and on a DuckDB table through Ibis."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from anju.errors import ConfigError
from anju.forecast.threehighs import three_highs
from shipped import TAX


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 4000
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 120, n), unit="D")
    return pd.DataFrame({
        "reported_at": t,
        "community_id": rng.choice([f"c{i}" for i in range(12)], n, p=np.r_[0.3, np.full(11, 0.7 / 11)]),
        "station_id": rng.choice(["s1", "s2"], n),
        "category": rng.choice(["theft.burglary", "fraud.rebate", "dispute.neighbour"], n, p=[0.5, 0.3, 0.2]),
        "family": "x",
    })


def test_matches_pandas_reference(calls: pd.DataFrame) -> None:
    th = three_highs(calls, start="2024-02-01", end="2024-04-01", station="s1", hour_band=3, top=5, taxonomy=TAX)
    sel = calls[(calls.reported_at >= "2024-02-01") & (calls.reported_at < "2024-04-01") & (calls.station_id == "s1")]
    assert th.total == len(sel)
    ref_areas = sel.groupby("community_id").size().sort_values(ascending=False)
    assert th.areas["area_id"].iloc[0] == ref_areas.index[0] == "c0"
    assert th.areas["n"].tolist() == ref_areas.head(5).tolist()
    band = (sel.reported_at.dt.hour // 3) * 3
    ref_combo = sel.assign(b=band).groupby(["community_id", "b", "category"]).size()
    top = ref_combo.sort_values(ascending=False).head(5)
    assert th.combos["n"].tolist() == top.tolist()
    assert th.hours["n"].sum() <= th.total and th.hours["band"].iloc[0].count("–") == 1
    assert th.categories["label"].iloc[0] == "入室盗窃"
    assert th.areas["share"].iloc[0] == pytest.approx(ref_areas.iloc[0] / len(sel))


def test_runs_on_duckdb_table(calls: pd.DataFrame) -> None:
    import duckdb

    raw = duckdb.connect()
    frame = calls.assign(reported_at=calls.reported_at.astype("datetime64[us]"))  # noqa: F841 - read by DuckDB
    raw.execute("CREATE TABLE incidents AS SELECT * FROM frame")
    t = ibis.duckdb.from_connection(raw).table("incidents")
    a = three_highs(t, start="2024-01-01", end="2024-05-01", top=4, taxonomy=TAX)
    b = three_highs(calls, start="2024-01-01", end="2024-05-01", top=4, taxonomy=TAX)
    pd.testing.assert_frame_equal(a.combos, b.combos)


def test_bad_band(calls: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="hour_band"):
        three_highs(calls, start="2024-01-01", end="2024-02-01", hour_band=5, taxonomy=TAX)
