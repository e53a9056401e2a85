"""The four renderers on a synthetic release: same numbers everywhere, offline HTML, CJK PDF, the public edition."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from release_helpers import assert_same_numbers, html_data, need, xlsx_tables
from release_synthetic import OFFICIAL_NAME

from anju.release import RENDERERS, Release, render_all
from anju.release.charts_echarts import echarts_option
from anju.release.render_xlsx import sheet_names


def test_registry_has_the_four_formats() -> None:
    assert {k: r.filename for k, r in RENDERERS.items()} == {
        "html": "index.html", "pdf": "report.pdf", "xlsx": "tables.xlsx", "json": "release.json"}


def test_all_four_files_written(synthetic_out: Path) -> None:
    for name in ("index.html", "report.pdf", "tables.xlsx", "release.json"):
        assert (synthetic_out / name).stat().st_size > 1000, name


def test_json_equals_html_equals_xlsx(synthetic: Release, synthetic_out: Path) -> None:
    js = assert_same_numbers(synthetic, synthetic_out)
    # and the JSON holds the model's numbers exactly
    r = synthetic.tables["ranking_theft"]
    assert [row["rate"] for row in js["tables"]["ranking_theft"]["rows"]] == r.data["rate"].tolist()


def test_chart_options_draw_the_table_numbers(synthetic: Release, synthetic_out: Path) -> None:
    html = html_data(synthetic_out / "index.html")
    charts = {c["key"]: c for c in html["charts"]}
    assert set(charts) == {f.key for f in synthetic.figures}
    # the map colours each community by its index from the safety_index table
    t = synthetic.tables["safety_index"]
    layer = synthetic.geo["community"]
    names = layer.name_of()
    want = {names[i]: v for i, v in zip(t.data["community_id"], t.data["index"], strict=True)}
    got = {d["name"]: d["value"] for d in charts["index_map"]["option"]["series"][0]["data"]}
    assert got == want
    # the registered map has every community and the names the series joins on
    gj = html["maps"]["anju-community"]
    assert sorted(f["properties"]["name"] for f in gj["features"]) == sorted(want)
    # the ranking chart shows rate and interval of the ranking table, first row at the top
    opt = charts["ranking_theft"]["option"]
    rk = synthetic.tables["ranking_theft"].data
    assert opt["yAxis"]["data"] == rk["community"].tolist()[::-1]
    assert opt["series"][2]["data"] == rk["rate"].tolist()[::-1]
    assert opt["series"][0]["data"] == rk["upper"].tolist()[::-1]
    assert opt["series"][1]["data"] == rk["lower"].tolist()[::-1]
    # hour x weekday: every cell once, with its count
    m = charts["hour_weekday"]["option"]
    hw = synthetic.tables["hour_weekday"].data
    assert len(m["series"][0]["data"]) == len(hw) == 168
    assert sum(d[2] for d in m["series"][0]["data"]) == hw["count"].sum()
    # a chart built directly equals the embedded one
    fig = next(f for f in synthetic.figures if f.key == "trend")
    assert echarts_option(fig, synthetic) == charts["trend"]["option"]


def test_html_is_self_contained(synthetic_out: Path) -> None:
    text = (synthetic_out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text
    assert re.search(r"<script[^>]+src=", text) is None
    assert re.search(r"<link[^>]+href=", text) is None
    assert "@import" not in text
    assert "echarts" in text and "registerMap" in text and "wordCloud" in text
    # no URL that a browser would fetch on its own (ECharts carries a few inert URL strings in comments/licences)
    assert not re.search(r"""(src|href)\s*=\s*["']https?://""", text)


def test_english_edition(synthetic: Release, tmp_path: Path) -> None:
    en = synthetic.with_lang("en")
    render_all(en, tmp_path, ["html", "xlsx", "json"])
    text = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in text
    assert "Safety Index, 2025 H2" in text
    sheets = xlsx_tables(tmp_path / "tables.xlsx")
    assert "About" in sheets
    assert sheets[sheet_names(en)["trend"]][0] == ["Month", "This period", "Same months last year"]


def test_pdf_has_embedded_cjk_font_and_chinese_text(synthetic: Release, synthetic_out: Path) -> None:
    pdf = synthetic_out / "report.pdf"
    fonts = subprocess.run([need("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [ln for ln in fonts.splitlines() if "CJK" in ln and "SC" in ln]
    assert cjk, fonts
    assert all(ln.split()[-5] == "yes" for ln in cjk), fonts  # the "emb" column
    assert "JP" not in fonts  # lang="zh-CN" picks the simplified-Chinese face
    text = subprocess.run([need("pdftotext"), "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert synthetic.meta.title("zh") in text.replace("\n", "")
    pages = subprocess.run([need("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d* x 841\.\d*", pages), pages  # A4 in points


def test_pdf_first_page_renders(synthetic_out: Path, tmp_path: Path) -> None:
    from PIL import Image

    subprocess.run([need("pdftoppm"), "-f", "1", "-l", "1", "-r", "80", "-png", str(synthetic_out / "report.pdf"),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    im = np.asarray(Image.open(png).convert("L"))
    dark = int((im < 128).sum())
    assert dark > 2000  # text and KPI numbers were drawn


def test_public_edition_files(synthetic: Release, synthetic_public_out: Path) -> None:
    out = synthetic_public_out
    js = json.loads((out / "release.json").read_text(encoding="utf-8"))
    assert js["meta"]["public"] is True
    assert "fraud_examples" not in js["tables"]
    sup_cols = [c["key"] for c in js["tables"]["supervision"]["columns"]]
    assert "official" not in sup_cols
    counts = [r["count"] for r in js["tables"]["family_shares"]["rows"]]
    assert "<3" in counts and all(c == "<3" or c >= 3 or c == 0 for c in counts)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "公众版" in html
    for path in (out / "release.json", out / "index.html"):
        assert OFFICIAL_NAME not in path.read_text(encoding="utf-8")
    sheets = xlsx_tables(out / "tables.xlsx")
    assert not any(OFFICIAL_NAME in str(v) for rows in sheets.values() for r in rows for v in r)
    pdf_text = subprocess.run([need("pdftotext"), str(out / "report.pdf"), "-"], capture_output=True, text=True,
                              check=True).stdout
    assert OFFICIAL_NAME not in pdf_text
    assert "<3" in pdf_text


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_internal_edition_keeps_people(synthetic: Release, tmp_path: Path, fmt: str) -> None:
    render_all(synthetic, tmp_path, [fmt])
    if fmt == "json":
        assert OFFICIAL_NAME in (tmp_path / "release.json").read_text(encoding="utf-8")
    else:
        sheets = xlsx_tables(tmp_path / "tables.xlsx")
        assert any(v == OFFICIAL_NAME for rows in sheets.values() for r in rows for v in r)
