"""The safe-house siting page: an analyst picks k and the radius, sees the chosen candidates (the same plan as the CLI's
function) on our own boundary map, and exports them; other roles are refused."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

SEED = 42


@pytest.fixture(scope="module")
def siting_site(demo_district: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from anju.lake.connection import connect
    from anju.ops.db import make_engine, session_factory, upgrade_to_head
    from anju.ops.demo import seed_demo
    from anju.ops.models import SafeHouse

    d = demo_district()
    settings = d.settings
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('siting-ops')) / 'ops.sqlite3'}"
    upgrade_to_head(url)
    lake = connect(settings)
    calls = lake.duckdb.execute("SELECT lon, lat FROM incidents WHERE year = 2025 AND lon IS NOT NULL AND "
                                "(hour(reported_at) >= 21 OR hour(reported_at) < 3)").df()
    rng = np.random.default_rng(3)
    pick = calls.iloc[rng.choice(len(calls), 12, replace=False)]
    engine = make_engine(url)
    with session_factory(engine)() as s:
        seed_demo(s, settings, seed=SEED, end_year=2025)
        for i, (lon, lat) in enumerate(zip(pick["lon"], pick["lat"], strict=True)):
            s.add(SafeHouse(code=f"SH{i:02d}", name=f"候选点{i}", address=f"路{i}号", lon=float(lon), lat=float(lat),
                            status="active" if i == 0 else "candidate"))
        s.commit()
    engine.dispose()
    return {"settings": settings, "url": url}


def _login(site: dict[str, Any], role: str) -> TestClient:
    from anju.ops.demo import demo_password
    from anju.web import create_app

    c = TestClient(create_app(site["settings"], database_url=site["url"], upgrade=False))
    pre = c.get("/api/v1/auth/csrf").json()["csrf_token"]
    r = c.post("/api/v1/auth/login", json={"username": role, "password": demo_password(SEED, role)},
               headers={"X-CSRF-Token": pre})
    assert r.status_code == 200, r.text
    return c


def test_siting_page_plan_map_and_export(siting_site: dict[str, Any]) -> None:
    from anju.demo.resident import plan_demo_sites
    from anju.ops.db import make_engine, session_factory

    engine = make_engine(siting_site["url"])
    with session_factory(engine)() as s:
        plan = plan_demo_sites(s, siting_site["settings"], year=2025, k=3, radius_m=400)
    engine.dispose()
    c = _login(siting_site, "analyst")
    form = c.get("/resident/siting")
    assert form.status_code == 200 and 'id="siting-form"' in form.text and "siting-chosen" not in form.text
    page = c.get("/resident/siting", params={"k": 3, "radius": 400, "year": 2025, "run": 1})
    assert page.status_code == 200, page.text[:500]
    chosen = [row.split('"')[0] for row in page.text.split('data-site="')[1:]]
    assert sorted(chosen) == sorted(plan.selected) and len(chosen) == 3
    assert f"{plan.curve['covered'].iloc[-1]:.0f}" in page.text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text and 'class="chosen"' in page.text
    assert "http://" not in page.text.split("<svg", 1)[1].split("</svg>")[0].replace("http://www.w3.org", "")
    x = c.get("/resident/siting.csv", params={"k": 3, "radius": 400, "year": 2025})
    assert x.status_code == 200 and x.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(x.text.lstrip("\ufeff"))))
    assert sorted(r["site_id"] for r in rows) == sorted(plan.selected)
    assert sum(float(r["gain_calls"]) for r in rows) == pytest.approx(plan.curve["covered"].iloc[-1]
                                                                    - plan.covered_by_existing, abs=1.5)
    bad = c.get("/resident/siting", params={"k": 50, "run": 1})
    assert bad.status_code == 422
    too_many = c.get("/resident/siting", params={"k": 20, "radius": 400, "year": 2025, "run": 1})
    assert too_many.status_code == 200 and 'id="siting-error"' in too_many.text  # only 11 free candidates


def test_siting_page_is_for_planners(siting_site: dict[str, Any]) -> None:
    assert _login(siting_site, "station").get("/resident/siting").status_code == 403
    assert _login(siting_site, "community_police").get("/resident/siting.csv").status_code == 403
