"""Date-only rows (lake time precision ``day``) in time-of-day analyses: left out through one filter, and counted.

A real lake is built by ``anju ingest`` from a CSV that mixes full times and dates only (``2025年7月4日``); before
the filter, the three date-only calls sat at 00:00 inside the night window and the night shift.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from anju.cli import app
from anju.config import load_settings
from anju.deployment import load_deployment

SECRET = "a-test-secret-of-enough-length-0123456789"
TIMES = ["2025/7/1 22:05", "2025/7/2 23:30", "2025/7/3 10:00", "2025年7月4日", "2025年7月5日", "2025年7月6日"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A lake of 3 timed calls (2 of them at night) and 3 date-only calls, all burglaries in July 2025."""
    root = tmp_path_factory.mktemp("mixed-precision")
    rows = [["接警编号", "报警时间", "警情类别", "警情细类", "简要案情", "案发地址", "经度", "纬度", "报警人", "报警电话",
             "管辖单位", "涉案金额"]]
    for i, t in enumerate(TIMES):
        rows.append([f"J{i:04d}", t, "盗窃", "入室盗窃", "家中被盗", "闵行区漕宝路1号", f"{121.38 + i * 1e-3:.4f}",
                     "31.16", "", "", "七宝派出所", ""])
    src = root / "mixed.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    d = root / "data"
    res = CliRunner().invoke(app, ["-q", "-d", str(d), "ingest", str(src)], env={"ANJU_SECRET": SECRET})
    assert res.exit_code == 0, res.output
    dep = load_deployment(load_settings(data_dir=d, secret=SECRET))
    from anju.services.lake import open_lake

    with open_lake(dep) as lake:
        df = lake.incidents().to_pandas()
    assert sorted(df["time_precision"]) == ["day"] * 3 + ["minute"] * 3
    return SimpleNamespace(dep=dep, data_dir=d, frame=df)


def _incidents(mixed: Any) -> Any:
    import ibis

    return ibis.memtable(mixed.frame)


def test_night_counts_leave_date_only_rows_out(mixed: Any) -> None:
    from anju.analytics.night import night_counts

    nc = night_counts(_incidents(mixed), "2025-07", level=None, by=None, taxonomy=mixed.dep.taxonomy)
    assert int(nc["count_night"].sum()) == 2  # not 5: the midnight stamps of date-only rows are not night calls
    assert int(nc["count"].sum()) == 3 and nc["night_share"].iloc[0] == pytest.approx(2 / 3)
    assert nc.attrs["date_only_excluded"] == 3


def test_hour_profile_and_headline_night_share(mixed: Any) -> None:
    from anju.analytics.headline import headline
    from anju.analytics.night import hour_weekday

    m = hour_weekday(_incidents(mixed), "2025-07", taxonomy=mixed.dep.taxonomy)
    assert int(m.to_numpy().sum()) == 3 and int(m[0].sum()) == 0 and m.attrs["date_only_excluded"] == 3
    h = headline(_incidents(mixed), "2025-07", taxonomy=mixed.dep.taxonomy, include_loss=False).set_index("metric")
    assert h.loc["total", "value"] == 6 and h.loc["night", "value"] == 2
    assert h.loc["night_share", "value"] == pytest.approx(2 / 3)
    assert h.attrs["date_only_excluded"] == 3


def test_three_highs_hour_bands(mixed: Any) -> None:
    from anju.forecast.threehighs import three_highs

    th = three_highs(_incidents(mixed), start="2025-07-01", end="2025-08-01", area_col="station_id",
                     taxonomy=mixed.dep.taxonomy)
    assert th.total == 6 and int(th.hours["n"].sum()) == 3 and "00–02" not in th.hours["band"].tolist()
    assert th.meta["date_only_excluded"] == 3


def test_shift_selection_of_events(mixed: Any) -> None:
    from anju.forecast.events import as_events, parse_shift

    frame = mixed.frame.assign(x=range(6), y=range(6))
    ev = as_events(frame)
    night = parse_shift("夜班")  # 00:00–08:00: every midnight stamp would fall in it
    assert ev.date_only == 3 and int(ev.in_shift(night).sum()) == 0
    assert len(ev.select(shift=parse_shift("22:00-24:00"))) == 2
    assert int(as_events(frame.drop(columns="time_precision")).in_shift(night).sum()) == 3  # the old behaviour


def test_release_appendix_names_the_excluded_rows(mixed: Any) -> None:
    from anju.analytics.periods import Period
    from anju.release.sections import _data_notes

    inp = SimpleNamespace(incidents=_incidents(mixed), period=Period.parse("2025-07"), record_type=("110 警情",
                          "110 calls"), excluded=None, warnings=None, has_loss=True)
    notes = _data_notes(inp)  # type: ignore[arg-type]
    zh = [z for z, _ in notes if "只有日期" in z]
    en = [e for _, e in notes if "date but no time" in e]
    assert len(zh) == 1 and "3 行" in zh[0] and len(en) == 1 and "3 records" in en[0]


def test_sangao_cli_says_how_many(mixed: Any) -> None:
    res = CliRunner().invoke(app, ["-q", "-d", str(mixed.data_dir), "sangao", "--period", "2025-07", "--areas",
                                   "station"], env={"ANJU_SECRET": SECRET})
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "3 条警情只有日期" in said


def test_tables_without_precision_are_all_timed() -> None:
    import ibis

    from anju.analytics.timeofday import date_only_count, timed

    t = ibis.memtable(pd.DataFrame({"reported_at": pd.to_datetime(["2025-07-01 00:00"])}))
    assert date_only_count(t) == 0 and int(timed(t).count().to_pandas()) == 1
    v2 = ibis.memtable(pd.DataFrame({"reported_at": pd.to_datetime(["2025-07-01"]), "time_precision": [None]},
                                    ).astype({"time_precision": "string"}))
    assert int(timed(v2).count().to_pandas()) == 1  # a version-2 lake row is read as minute precision


def test_one_filter() -> None:
    """Every time-of-day module goes through anju.analytics.timeofday, none tests the precision itself."""
    src = Path(__file__).resolve().parents[2] / "src" / "anju"
    users = {p.relative_to(src).as_posix() for p in src.rglob("*.py") if "time_precision" in p.read_text("utf-8")}
    assert users <= {"analytics/timeofday.py", "lake/connection.py", "lake/schema.py", "lake/store.py",
                     "lake/manifest.py", "lake/spark.py"} | {u for u in users if u.startswith("ingest/")}, users
