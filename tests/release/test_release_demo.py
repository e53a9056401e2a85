"""The release of a small demo district, end to end: lake → analytics → Release → four files.

Checks the files agree with each other, with an independent pandas computation on the lake's Parquet files and
with what the demo generator planted; the public edition through the CLI; and the page in headless Chromium.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from release_helpers import assert_same_numbers, check_offline_page, html_data

from anju.config import Settings
from anju.release import Release, render_all
from anju.release.model import SMALL_COUNT
from anju.services.lake import open_lake
from anju.services.release import release_model

pytestmark = pytest.mark.slow

PERIOD = "2025H2"


@pytest.fixture(scope="module")
def demo(demo: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shared demo district (tests/conftest.py), its release model and the four rendered files."""
    root = tmp_path_factory.mktemp("release-demo")
    with open_lake(demo.deployment) as lake:
        release = release_model(demo.deployment, lake, PERIOD)
    out = root / "release"
    render_all(release, out)
    return {"settings": demo.settings, "deployment": demo.deployment, "release": release, "out": out,
            "truth": demo.truth, "root": root}


def _incidents(settings: Settings, start: str = "2025-07-01", end: str = "2026-01-01") -> pd.DataFrame:
    """The lake's rows of a period, read straight from the Parquet files (independent of anju.lake/analytics)."""
    glob = str(settings.paths.incidents / "*" / "*" / "*.parquet")
    df = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning = true, "
                    "hive_types = {'year': INTEGER, 'month': INTEGER})").df()
    manifest = json.loads(settings.paths.manifest.read_text(encoding="utf-8"))
    df = df[df["import_id"].isin([i["import_id"] for i in manifest["imports"]])]
    t = pd.to_datetime(df["reported_at"])
    return df[(t >= start) & (t < end)]


def test_four_files_and_same_numbers(demo: dict[str, Any]) -> None:
    out: Path = demo["out"]
    for name in ("index.html", "report.pdf", "tables.xlsx", "release.json"):
        assert (out / name).stat().st_size > 10_000, name
    js = assert_same_numbers(demo["release"], out)
    assert js["meta"]["period"] == PERIOD and js["meta"]["compare"] == "2024H2"
    sections = {t["section"] for t in js["tables"].values()}
    assert sections >= {"headline", "map", "heat", "rankings", "categories", "time", "words", "fraud", "supervision"}


def test_counts_match_pandas(demo: dict[str, Any]) -> None:
    release: Release = demo["release"]
    inc = _incidents(demo["settings"])
    head = release.tables["headline"].data.set_index("metric")
    assert head.loc["total", "value"] == len(inc)
    fam = release.tables["families"].data.set_index("family")["count"]
    want = inc["family"].value_counts()
    assert fam[fam > 0].sort_index().to_dict() == want.sort_index().to_dict()
    hw = release.tables["hour_weekday"].data
    t = pd.to_datetime(inc["reported_at"])
    ref = pd.crosstab(t.dt.day_of_week, t.dt.hour)
    labels = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    got = hw.assign(wd=hw["weekday"].map(labels.index)).pivot(index="wd", columns="hour", values="count")
    assert np.array_equal(got.reindex_like(ref).fillna(0).to_numpy(), ref.to_numpy())
    # the map colours every community by its index
    html = html_data(demo["out"] / "index.html")
    chart = next(c for c in html["charts"] if c["key"] == "map_community")
    assert len(chart["option"]["series"][0]["data"]) == len(release.geo["community"]) == 120


def test_supervision_list_is_the_base_year_top_ten(demo: dict[str, Any]) -> None:
    base = _incidents(demo["settings"], "2024-01-01", "2025-01-01")
    ref = base[base["family"] == "theft"].groupby("community_id").size().sort_values(ascending=False)
    sup = demo["release"].tables["supervision"].data
    assert sup["count_base"].tolist() == ref.head(10).tolist()
    assert sup["rank_base"].tolist() == list(range(1, 11))
    clear = ref[ref > ref.iloc[10]].index  # communities above any tie at the 10th place
    assert set(clear) <= set(sup["area_id"])
    this = _incidents(demo["settings"])
    now = this[this["family"] == "theft"].groupby("community_id").size()
    assert sup["count"].tolist() == [int(now.get(a, 0)) for a in sup["area_id"]]


def test_planted_patterns_show(demo: dict[str, Any]) -> None:
    release: Release = demo["release"]
    truth = demo["truth"]
    thieves = release.tables["ranking_thief_favourite"].data
    assert len(set(thieves["area_id"]) & set(truth["hot"]["community_ids"])) >= 3
    sup = release.tables["supervision"].data
    # the planted list is drawn from expected counts; at this small scale chance moves a few places
    assert len(set(sup["area_id"]) & set(truth["supervised"]["community_ids"])) >= 5
    fraud = release.tables["fraud"].data.set_index("category")
    planted = pd.Series(truth["fraud"]["proportions"])
    assert fraud["count"].idxmax() == planted.idxmax()


def test_night_map_shows_the_night_life_zone(demo: dict[str, Any]) -> None:
    """The planted night-life zone (a bar street and a KTV street, docs/demo-district.md) is where the night map
    peaks: its hottest cell lies in the zone, and the cells within 150 m of the zone carry at least twice the share
    of the night map's density that they carry of the all-day map's (drunk disputes cluster there at night)."""
    import shapely

    from anju.geo.projection import to_metric
    from anju.services.lake import metric_crs

    gj = json.loads((Path(demo["settings"].data_dir) / "demo" / "nightlife.geojson").read_text(encoding="utf-8"))
    crs = metric_crs(demo["deployment"])
    zone = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in gj["features"]])
    zone = shapely.transform(zone, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1], crs)))
    js = json.loads((demo["out"] / "release.json").read_text(encoding="utf-8"))
    share = {}
    for key in ("heat_night", "heat_all"):
        cells = pd.DataFrame(js["tables"][key]["rows"]).sort_values("density", ascending=False)
        x, y = to_metric(cells["lon"].to_numpy(float), cells["lat"].to_numpy(float), crs)
        dist = shapely.distance(zone, shapely.points(x, y))
        if key == "heat_night":
            assert dist[0] == 0.0, "the night map's hottest cell is outside the night-life zone"
        share[key] = cells["density"].to_numpy()[dist <= 150].sum() / cells["density"].sum()
    assert share["heat_night"] >= 2 * share["heat_all"] > 0


def _strings(obj: Any) -> set[str]:
    """Every string value in a JSON document."""
    if isinstance(obj, str):
        return {obj}
    if isinstance(obj, dict):
        return set().union(*(_strings(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*(_strings(v) for v in obj)) if obj else set()
    return set()


def test_no_people_in_any_file(demo: dict[str, Any]) -> None:
    glob = str(demo["settings"].paths.incidents / "*" / "*" / "*.parquet")
    people = duckdb.sql(f"select distinct caller_masked, phone_masked from read_parquet('{glob}')").df()
    names = set(people["caller_masked"].dropna())
    assert len(names) > 100 and people["phone_masked"].notna().any()
    out: Path = demo["out"]
    shown = _strings(json.loads((out / "release.json").read_text(encoding="utf-8"))) | _strings(
        html_data(out / "index.html"))
    assert not names & shown
    phone = re.compile(r"(?<![\d.])1[3-9]\d(?:[*]{4}|\d{4})\d{4}(?!\d)")
    page = (out / "index.html").read_text(encoding="utf-8").split('<script type="application/json"')[0]
    for text in ((out / "release.json").read_text(encoding="utf-8"), page, "\n".join(shown)):
        assert not phone.search(text)
    assert phone.search("报警人 138****5678")  # the pattern does find a masked phone


def test_public_edition_via_cli(demo: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from anju.cli import app

    out = demo["root"] / "public"
    res = CliRunner().invoke(app, ["-q", "-d", str(demo["settings"].data_dir), "release", "--period", PERIOD,
                                   "--public", "--formats", "json,html,xlsx", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(out)
    js = json.loads((out / "release.json").read_text(encoding="utf-8"))
    assert js["meta"]["public"] is True
    internal: Release = demo["release"]
    masked = 0
    for key, t in internal.tables.items():
        if t.record_level:  # record-level tables (e.g. the downgrading audit) never reach the public edition
            assert key not in js["tables"], key
            continue
        rows = js["tables"][key]["rows"]
        for c in t.columns:
            if c.small:
                vals = [r[c.key] for r in rows]
                assert not [v for v in vals if v in (1, 2)], (key, c.key)
                masked += vals.count(SMALL_COUNT)
            if c.guard and any(t.column(c.guard).small for _ in [0]):
                for r in rows:
                    if r[c.guard] == SMALL_COUNT:
                        assert r[c.key] is None, (key, c.key)
    assert masked > 0  # a small demo has small counts, so the rule was exercised


@pytest.mark.browser
def test_demo_page_in_browser(demo: dict[str, Any], tmp_path: Path) -> None:
    shot = tmp_path / "release-demo.png"
    check_offline_page(demo["out"] / "index.html", shot, len(demo["release"].figures))


def test_cli_refuses_bad_input_cleanly(demo: dict[str, Any], capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from anju.cli import main

    data_dir = str(demo["settings"].data_dir)
    for args, words in (
        (["release", "--period", "2031H1", "--formats", "json"], ["2031H1", "the lake covers"]),
        (["release", "--period", "2025X9"], ["2025X9", "2025H2"]),
        (["release", "--lang", "fr"], ["--lang", "fr"]),
        (["release", "--formats", "docx"], ["docx", "html"]),
        (["release", "--by", "beat", "--formats", "json"], ["--by beat", "--by unit"]),
    ):
        monkeypatch.setattr(sys, "argv", ["anju", "-q", "-d", data_dir, *args])
        with pytest.raises(SystemExit) as exc:
            main()
        assert exc.value.code == 2, args
        err = " ".join(capsys.readouterr().err.split())
        assert all(w in err for w in words), (args, err)
        assert "Traceback" not in err


def test_release_by_unit_via_cli(demo: dict[str, Any]) -> None:
    """``--by unit`` groups the per-area sections by 管辖单位 as the records give it; counts match the lake."""
    from typer.testing import CliRunner

    from anju.cli import app

    out = demo["root"] / "by-unit"
    res = CliRunner().invoke(app, ["-q", "-d", str(demo["settings"].data_dir), "release", "--period", PERIOD,
                                   "--by", "unit", "--formats", "json,xlsx", "--out", str(out)])
    assert res.exit_code == 0, res.output
    js = json.loads((out / "release.json").read_text(encoding="utf-8"))
    rows = pd.DataFrame(js["tables"]["counts_unit"]["rows"]).set_index("area_id")["count"]
    df = _incidents(demo["settings"])
    ref = df["unit"].dropna().value_counts()
    pd.testing.assert_series_equal(rows[rows > 0].sort_index(), ref.sort_index(), check_names=False)
    assert rows.index.str.endswith("派出所").all()  # the demo's units are its police stations
