"""Pages and their JSON twins show the release's numbers; tables page, sort, filter and export; language switch;
the overview is computed at most once per data change."""

from __future__ import annotations

import io
import math
import re

import pytest
from openpyxl import load_workbook

from anju.web.lake_view import LakeView

pytestmark = pytest.mark.usefixtures("web_db")


def _close(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return a == b


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_overview_numbers_equal_the_release(client, release_json) -> None:
    client.login_as("leader")
    ov = client.get("/api/v1/overview").json()
    assert ov["period"] == release_json["meta"]["period"]
    ref = {r["metric"]: r for r in release_json["tables"]["headline"]["rows"]}
    got = {r["metric"]: r for r in ov["headline"]}
    assert set(got) == set(ref) and len(ref) >= 5
    for m, r in ref.items():
        assert _close(got[m]["value"], r["value"]) and _close(got[m]["change_pct"], r["change_pct"]), m
    ref_idx = {r["area_id"]: r["index"] for r in release_json["tables"]["index_community"]["rows"]}
    got_idx = {r["area_id"]: r["index"] for r in ov["index"]}
    assert got_idx.keys() == ref_idx.keys() and all(_close(got_idx[k], ref_idx[k]) for k in ref_idx)
    assert [r["current"] for r in ov["trend"]] == [r["current"] for r in release_json["tables"]["trend"]["rows"]]
    lowest = sorted(ref_idx.items(), key=lambda kv: (kv[1], kv[0]))[:10]
    assert [r["area_id"] for r in ov["problems"]] == [k for k, _ in lowest]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_overview_page_shows_the_release_numbers(client, release_json) -> None:
    client.login_as("admin")
    html = client.get("/").text
    for r in release_json["tables"]["headline"]["rows"]:
        m = re.search(rf'data-metric="{r["metric"]}" data-value="([^"]*)"', html)
        assert m is not None and _close(float(m.group(1)), r["value"]), r["metric"]
    total = next(r for r in release_json["tables"]["headline"]["rows"] if r["metric"] == "total")["value"]
    assert f"{round(total):,}" in html
    assert 'id="map"' in html and "/api/v1/geo/communities.geojson" in html


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_community_numbers_equal_the_release(client, release_json) -> None:
    client.login_as("analyst")
    row = release_json["tables"]["index_community"]["rows"][-1]
    c = client.get(f"/api/v1/communities/{row['area_id']}").json()
    assert _close(c["index"], row["index"]) and c["rank"] == row["rank"] and c["count"] == row["count"]
    for r in c["rankings"]:
        ref = next(x for x in release_json["tables"][r["ranking"]]["rows"] if x["area_id"] == row["area_id"])
        assert _close(r["rate"], ref["rate"]) and _close(r["rate_low"], ref["rate_low"]) and r["rank"] == ref["rank"]
    assert len(c["monthly"]) >= 12 and sum(m["count"] for m in c["monthly"]) >= c["count"]
    assert c["profiles"], "the demo seeds a profile history for every community"
    page = client.get(f"/communities/{row['area_id']}")
    assert page.status_code == 200 and f'data-value="{row["index"]}"' in page.text


def test_every_page_renders_for_admin(client) -> None:
    client.login_as("admin")
    for path in ("/", "/rankings", "/communities", "/releases", "/imports", "/notices", "/tasks", "/users",
                 "/audit", "/api/v1/docs"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/v1/overview" in spec["paths"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_english_switch(client) -> None:
    client.login_as("leader")
    zh = client.get("/rankings").text
    en = client.get("/rankings?lang=en")
    assert "排行榜" in zh and "Rankings" in en.text and "anju_lang=en" in en.headers["set-cookie"]
    assert "Rankings" in client.get("/rankings").text  # the cookie keeps the choice


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_table_paging_sorting_filtering_and_excel_export(client, release_json) -> None:
    client.login_as("analyst")
    rows = release_json["tables"]["index_community"]["rows"]
    p1 = client.get("/api/v1/communities?per=7&page=2&sort=index").json()
    expected = sorted(rows, key=lambda r: (r["index"] is None, r["index"]))[7:14]
    assert p1["count"] == len(rows) and [r["area_id"] for r in p1["data"]] == [r["area_id"] for r in expected]
    street = rows[0]["street"]
    f = client.get("/api/v1/communities", params={"q": street, "per": 500}).json()
    assert f["count"] == sum(1 for r in rows if street in (r["street"] or "") or street in (r["name"] or ""))
    assert client.get("/api/v1/communities?sort=index;drop table").status_code == 200  # unknown key: ignored
    x = client.get("/communities.xlsx", params={"q": street, "sort": "index", "desc": "true"})
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][1] == "编号" and len(values) - 1 == f["count"]
    idx = [v[4] for v in values[1:]]
    assert idx == sorted(idx, reverse=True)
    key = client.get("/api/v1/rankings").json()["data"][0]["key"]
    r = client.get(f"/rankings/{key}.xlsx")
    assert r.status_code == 200 and len(list(load_workbook(io.BytesIO(r.content)).active.iter_rows())) == \
        len(release_json["tables"][key]["rows"]) + 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_release_archive_and_sandboxed_files(client) -> None:
    client.login_as("leader")
    rels = client.get("/api/v1/releases").json()
    assert rels["count"] == 1 and "release.json" in rels["data"][0]["files"]
    name = rels["data"][0]["name"]
    html = client.get(f"/releases/{name}/index.html")
    assert html.status_code == 200 and html.headers["content-security-policy"].startswith("sandbox")
    assert client.get(f"/releases/{name}/tables.xlsx").status_code == 200
    for bad in (f"/releases/{name}/..%2F..%2Fsecret.key", "/releases/..%2F/secret.key", f"/releases/{name}/x.txt"):
        assert client.get(bad).status_code == 404


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_overview_is_computed_once_per_data_change(web_demo, tmp_path, client) -> None:
    import shutil

    from anju.config import load_settings

    copy = tmp_path / "data"
    shutil.copytree(web_demo, copy, ignore=shutil.ignore_patterns("cache", "demo", "releases"))
    settings = load_settings(data_dir=copy, quiet=True)
    lake = LakeView(settings, persist=False)
    client.app.state.anju.lake = lake
    client.login_as("leader")
    for _ in range(3):
        assert client.get("/api/v1/overview").status_code == 200
        assert client.get("/").status_code == 200
    assert lake.builds == 1
    key = lake.data_key()
    manifest = settings.paths.manifest
    manifest.write_text(manifest.read_text(encoding="utf-8").rstrip() + "\n\n", encoding="utf-8")
    assert lake.data_key() != key  # new manifest bytes: a data change
    assert client.get("/api/v1/overview").status_code == 200
    assert client.get("/api/v1/overview").status_code == 200
    assert lake.builds == 2
