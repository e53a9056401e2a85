"""The demo release as a police leader reads it (issue 16): the worst places shown, like compared with like, every
number explained — checked against independent computations on the lake's Parquet files, in the PDF's text and in
headless Chromium (one-shot section screenshots, no waiting for the page to settle).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from release_helpers import CHROMIUM, CHROMIUM_ARGS, html_data, need
from scipy import stats
from statsmodels.stats.multitest import multipletests

from anju.release import Release, render_all
from anju.release.model import EDITIONS, SECTIONS
from anju.services.lake import open_lake
from anju.services.release import release_model

pytestmark = pytest.mark.slow

PERIOD = "2025H2"
_COUNT = re.compile(r"^(\d{1,3}(,\d{3})*|<3|—)$")


@pytest.fixture(scope="module")
def rel(demo: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo district's 2025H2 release (internal and public) rendered to files."""
    root = tmp_path_factory.mktemp("release-reading")
    with open_lake(demo.deployment) as lake:
        release = release_model(demo.deployment, lake, PERIOD)
    render_all(release, root / "internal")
    render_all(release.public(), root / "public", ["html", "json", "pdf"])
    return {"release": release, "root": root, "settings": demo.settings, "deployment": demo.deployment}


def _lake(settings: Any) -> pd.DataFrame:
    """Every committed incident, read straight from Parquet (independent of anju.lake and anju.analytics)."""
    glob = str(settings.paths.incidents / "*" / "*" / "*.parquet")
    df = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning = true, "
                    "hive_types = {'year': INTEGER, 'month': INTEGER})").df()
    manifest = json.loads(settings.paths.manifest.read_text(encoding="utf-8"))
    df = df[df["import_id"].isin([i["import_id"] for i in manifest["imports"]])]
    df["t"] = pd.to_datetime(df["reported_at"])
    return df


def _between(df: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    return df[(df["t"] >= start) & (df["t"] < end)]


# ------------------------------------------------------------------------------------------------ content
def test_supervision_compares_the_same_months(rel: dict[str, Any]) -> None:
    """The list comes from the whole base year; the change from the same half-year a year earlier (同比)."""
    df = _lake(rel["settings"])
    theft = df[df["family"] == "theft"]
    base = _between(theft, "2024-01-01", "2025-01-01").groupby("community_id").size()
    same = _between(theft, "2024-07-01", "2025-01-01").groupby("community_id").size()
    now = _between(theft, "2025-07-01", "2026-01-01").groupby("community_id").size()
    sup = rel["release"].tables["supervision"].data
    assert sup["count_base"].tolist() == base.sort_values(ascending=False).head(10).tolist()
    assert sup["count_prev"].tolist() == [int(same.get(a, 0)) for a in sup["area_id"]]
    assert sup["count"].tolist() == [int(now.get(a, 0)) for a in sup["area_id"]]
    # a half-year against the same half-year: equal days, so the change is the plain ratio of the counts
    np.testing.assert_allclose(sup["change_pct"], (sup["count"] / sup["count_prev"] - 1) * 100, rtol=1e-12)
    p = [stats.binomtest(int(k), int(k + k0), 184 / 368).pvalue for k, k0 in zip(sup["count"], sup["count_prev"],
                                                                                   strict=True)]
    np.testing.assert_allclose(sup["p_value"], p, rtol=1e-9)
    np.testing.assert_allclose(sup["q_value"], multipletests(p, method="fdr_bh")[1], rtol=1e-9)
    assert sup["significant"].tolist() == (sup["q_value"] < 0.05).tolist()
    tot = rel["release"].tables["supervision_total"].data.iloc[0]
    k, k0 = int(sup["count"].sum()), int(sup["count_prev"].sum())
    assert (tot["count"], tot["count_prev"]) == (k, k0)
    assert tot["change_pct"] == pytest.approx((k / k0 - 1) * 100, rel=1e-12)
    assert tot["p_value"] == pytest.approx(stats.binomtest(k, k + k0, 0.5).pvalue, rel=1e-9)
    note = " ".join(n.zh for n in rel["release"].notes_in("supervision"))
    assert f"{k:,}" in note and f"{k0:,}" in note and "上年同期" in note


@pytest.mark.parametrize("key", ["streets", "categories", "families"])
def test_verdicts_follow_bh_q_per_table(rel: dict[str, Any], key: str) -> None:
    t = rel["release"].tables[key].data
    ok = t["p_value"].notna()
    np.testing.assert_allclose(t.loc[ok, "q_value"], multipletests(t.loc[ok, "p_value"], method="fdr_bh")[1],
                               rtol=1e-9)
    assert t.loc[ok, "significant"].tolist() == (t.loc[ok, "q_value"] < 0.05).tolist()


def test_every_family_and_street_is_printed(rel: dict[str, Any]) -> None:
    """No printed table drops rows silently: the families, streets and the worst communities are in the PDF."""
    release: Release = rel["release"]
    pdf = rel["root"] / "internal" / "report.pdf"
    text = subprocess.run([need("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for label in release.tables["families"].data["label"]:
        assert label in text, label
    streets = release.tables["streets"].data
    for name in streets["name"]:
        assert name in text, name
    worst = release.tables["index_community"].data.sort_values("index").head(3)
    for name in worst["name"]:
        assert name in text, name
    assert "中间" in text and "tables.xlsx" in text  # the cut table says where the rest is


def test_pdf_numbers_are_never_split(rel: dict[str, Any]) -> None:
    """pdftotext of the report: every count of the streets table appears whole; no line ends inside a number."""
    pdf = rel["root"] / "internal" / "report.pdf"
    text = subprocess.run([need("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    streets = rel["release"].tables["streets"].data
    for n in streets["count"]:
        assert f"{int(n):,}" in text
    lines = text.splitlines()
    for a, b in itertools.pairwise(lines):
        # a number cut after its thousands comma or between digits would end one line with "1," and start the
        # next at the margin with digits
        assert not (re.search(r"\d,$", a.rstrip()) and re.match(r"^\d{3}\b", b.strip())), (a, b)
    assert "docs/" not in text and "e+0" not in text


def test_public_edition_shows_only_its_sections(rel: dict[str, Any]) -> None:
    public = rel["release"].public()
    assert "audit" not in EDITIONS["public"] and set(EDITIONS["internal"]) == {s.key for s in SECTIONS}
    assert {t.section for t in public.tables.values()} <= set(EDITIONS["public"])
    assert not public.notes_in("audit") and not public.figures_in("audit")
    html = (rel["root"] / "public" / "index.html").read_text(encoding="utf-8")
    assert "降格" not in html and 'href="#s-audit"' not in html and "重于所录类别" not in html
    js = json.loads((rel["root"] / "public" / "release.json").read_text(encoding="utf-8"))
    assert js["edition"] == "public" and "audit" not in [s["key"] for s in js["sections"]]
    pdf = subprocess.run([need("pdftotext"), str(rel["root"] / "public" / "report.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    assert "降格" not in pdf
    internal = (rel["root"] / "internal" / "index.html").read_text(encoding="utf-8")
    assert 'href="#s-audit"' in internal


def test_audit_lists_real_candidates_with_names(rel: dict[str, Any]) -> None:
    t = rel["release"].tables["downgrade_audit"]
    assert "station" in [c.key for c in t.columns] and t.column("station").kind != "id"
    ex = " ".join(t.data["examples"])
    assert "other.unknown" not in ex and not re.search(r"[a-z]+\.[a-z_]+→", ex)
    for a, b, s in zip(t.data["flagged"], t.data["records"], t.data["flagged_of"], strict=True):
        assert s == f"{a:,} / {b:,}" and a > 0
    note = rel["release"].notes_in("audit")[0].zh
    df = _between(_lake(rel["settings"]), "2025-07-01", "2026-01-01")
    assert f"/ {int(df['category_known'].sum()):,}" in note


def test_method_appendix_states_exclusions(rel: dict[str, Any]) -> None:
    """The appendix counts the quarantined rows per reason, as the Parquet quarantine files hold them."""
    settings = rel["settings"]
    files = sorted(str(p) for p in (Path(settings.data_dir) / "lake" / "quarantine").rglob("*.parquet"))
    q = duckdb.sql(f"select reason, count(*) n from read_parquet({files!r}, hive_partitioning = false) "
                   "group by 1").df().set_index("reason")["n"]
    text = " ".join(n.zh for n in rel["release"].notes_in("method"))
    assert f"共有 {int(q.sum()):,} 行未通过校验" in text  # the demo has one import, behind every period
    from anju.lake.schema import QUARANTINE_REASONS

    for reason, n in q.items():
        assert f"{QUARANTINE_REASONS[reason][0]} {int(n):,} 行" in text
    assert "docs/" not in text and "界外警情计入总数" not in text


def test_trend_labels_name_both_months(rel: dict[str, Any]) -> None:
    with open_lake(rel["deployment"]) as lake:
        pop = release_model(rel["deployment"], lake, PERIOD, compare="2025H1")
    trend = pop.tables["trend"].data
    assert trend["month"].iloc[0] == "2025年7月 / 2025年1月"
    df = _lake(rel["settings"])
    jan = len(_between(df, "2025-01-01", "2025-02-01"))
    assert trend["compare"].iloc[0] == jan
    yoy = rel["release"].tables["trend"].data
    assert yoy["month"].iloc[0] == "2025年7月"


def test_words_count_the_whole_period(rel: dict[str, Any]) -> None:
    df = _between(_lake(rel["settings"]), "2025-07-01", "2026-01-01")
    texts = df["text"].dropna()
    texts = texts[texts.str.len() > 0]
    t = rel["release"].tables["terms"]
    assert f"{len(texts):,} 条案情文本" in t.note_zh
    terms = set(t.data["term"])
    assert not terms & {"双方", "号楼", "家住", "报警人"}
    assert not [w for w in terms if re.search(r"(路|弄|巷)$", w)]
    # a term's document count is at most the texts that contain it as a substring (segmentation can only split)
    for term, docs in zip(t.data["term"].head(10), t.data["docs"].head(10), strict=True):
        assert docs <= int(texts.str.contains(term, regex=False).sum())
    dist = rel["release"].tables["distinctive_terms"].data.set_index("family")
    assert "被骗" in dist.loc["fraud", "terms"] or "转账" in dist.loc["fraud", "terms"]


# ------------------------------------------------------------------------------------------------ browser
def test_sections_in_one_shot_screenshots(rel: dict[str, Any], tmp_path: Path) -> None:
    """Each section screenshotted right after load (no waiting): worst rows present, no developer paths, legends
    with units, counts as integers, and the word cloud already drawn."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make setup installs it)")
    html = rel["root"] / "internal" / "index.html"
    release: Release = rel["release"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(html.resolve().as_uri(), wait_until="load")
            ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
            assert ids == [f"s-{s.key}" for s in release.sections()
                           if release.tables_in(s.key) or release.figures_in(s.key) or release.notes_in(s.key)]
            for sid in ids:
                shot = tmp_path / f"{sid}.png"
                page.locator(f"#{sid}").screenshot(path=str(shot))
                assert shot.stat().st_size > 5_000, sid
            cloud_ink = page.evaluate("""() => {
                const c = document.querySelector('#chart-wordcloud canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let ink = 0; for (let i = 0; i < d.length; i += 4) { if (d[i + 3] > 0) { ink++; } } return ink; }""")
            body = page.inner_text("body")
            cells = page.evaluate("""() => Array.from(document.querySelectorAll('table[data-table]')).map(t => ({
                key: t.dataset.table,
                head: Array.from(t.querySelectorAll('th')).map(h => h.innerText),
                rows: Array.from(t.querySelectorAll('tbody tr:not(.gap)')).map(r =>
                    Array.from(r.querySelectorAll('td')).map(d => d.innerText))}))""")
        finally:
            browser.close()
    assert cloud_ink > 5_000
    assert "docs/" not in body and ".md" not in body
    tables = {c["key"]: c for c in cells}
    worst = release.tables["index_community"].data.sort_values("index")["name"].head(3).tolist()
    shown = [r[tables["index_community"]["head"].index("名称")] for r in tables["index_community"]["rows"]]
    assert shown[:3] == worst
    for key, t in tables.items():
        counts = [c.label("zh") for c in release.tables[key].columns if c.kind == "count" and not c.personal]
        for label in counts:
            if label not in t["head"]:
                continue
            col = t["head"].index(label)
            bad = [r[col] for r in t["rows"] if not _COUNT.match(r[col])]
            assert not bad, (key, label, bad[:3])
    data = html_data(html)
    opts = {c["key"]: c["option"] for c in data["charts"]}
    assert "起/平方公里" in opts["heat_all"]["visualMap"]["text"][0]
    assert opts["heat_all"]["visualMap"]["precision"] == 0
    legend = opts["map_community"]["visualMap"]
    assert legend["type"] == "piecewise" and "平安指数" in legend["text"][0]
    assert [p["label"][:1] for p in legend["pieces"]] == ["差", "中", "良", "优"]
    assert any(s.get("map") == "anju-street" for s in opts["map_community"]["series"])
