"""Each deployment configuration file changes the release, the CLI and the service the web API calls the same way.

The shared demo district is copied, every file of :func:`anju.deployment.config_files` is overridden in the copy,
and the same numbers are read from three surfaces: ``anju release`` (release.json written by the CLI), the service
:func:`anju.services.release.release_model` (what the platform's overview shows), and the other CLI verbs and
services that use the file (``anju text audit``/``services.text.audit``, ``anju status``/``services.status``).
Each override must move its number away from the shipped deployment's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from anju.cli import app
from anju.config import load_settings
from anju.deployment import config_files, load_deployment
from anju.errors import ConfigError
from anju.release import render_all
from anju.services.lake import Selection, open_lake, resolve_period
from anju.services.release import release_model
from anju.services.status import status
from anju.services.text import audit
from anju.taxonomy.loader import default_taxonomy_path
from anju.text.segment import package_stopwords_path

pytestmark = pytest.mark.slow

PERIOD = "2025H2"
NEW_WORD = "电动车被盗案"


def _tables(release: Any, out: Path) -> dict[str, Any]:
    render_all(release, out, ["json"])
    return json.loads((out / "release.json").read_text(encoding="utf-8"))


def _cli(*args: str) -> str:
    res = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def shipped(demo: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shared demo's release with the shipped configuration (release.json form)."""
    with open_lake(demo.deployment) as lake:
        rel = release_model(demo.deployment, lake, PERIOD)
        aud = audit(demo.deployment, lake, Selection(period=resolve_period(lake, PERIOD)))
    return {"json": _tables(rel, tmp_path_factory.mktemp("shipped")), "audit": int(aud["flagged"].sum())}


@pytest.fixture(scope="module")
def overridden(demo: Any, shipped: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the demo data directory with every configuration file overridden, seen through three surfaces."""
    root = tmp_path_factory.mktemp("overrides")
    data = root / "anju-data"
    shutil.copytree(demo.data_dir, data, ignore=shutil.ignore_patterns("demo", "releases"))
    files = config_files(data)
    (data / "text").mkdir(exist_ok=True)
    files["index"].write_text("[weights]\nrate = 1.0\npreventable = 0.0\ntrend = 0.0\n", encoding="utf-8")
    files["rankings"].write_text(
        '[ranking.easily_defrauded]\nzh = "停用"\nen = "off"\nenabled = false\n\n'
        '[ranking.burglary_only]\nzh = "入室盗窃榜"\nen = "Burglaries"\ncategories = ["theft.burglary"]\n'
        'per = "none"\ntop = 5\n', encoding="utf-8")
    tax = default_taxonomy_path().read_text(encoding="utf-8")
    files["taxonomy"].write_text(tax.replace('zh = "盗窃"', 'zh = "偷盗"', 1), encoding="utf-8")
    shipped_rules = (Path(str(package_stopwords_path())).parent / "downgrade_rules.toml").read_text(encoding="utf-8")
    # a deployment rule that reads every quarrel as an injury: many dispute records become flagged
    files["audit_rules"].write_text(shipped_rules + '\n[[rule]]\nname = "quarrel"\nindicates = "assault.injury"\n'
                                    'cues = ["争吵", "吵架", "纠纷"]\n', encoding="utf-8")
    top_term = shipped["json"]["tables"]["terms"]["rows"][0]["term"]
    files["stopwords"].write_text(f"# deployment stop words\n{top_term}\n", encoding="utf-8")
    files["user_dict"].write_text(f"{NEW_WORD} 100000 n\n", encoding="utf-8")
    files["analysis"].write_text('[night]\nwindow = "22:00-04:00"\n\n[heat]\ncell_m = 200.0\n\n'
                                 "[release]\nsupervision_n = 5\n", encoding="utf-8")
    settings = load_settings(data_dir=data, quiet=True)
    dep = load_deployment(settings)
    assert set(dep.sources) == set(files)  # every file was found and used
    with open_lake(dep) as lake:
        service = _tables(release_model(dep, lake, PERIOD), root / "service")
        service_audit = audit(dep, lake, Selection(period=resolve_period(lake, PERIOD)))
        service_status = status(dep, lake)
    _cli("-q", "-d", str(data), "release", "--period", PERIOD, "--formats", "json", "--out", str(root / "cli"))
    cli = json.loads((root / "cli" / "release.json").read_text(encoding="utf-8"))
    _cli("-q", "-d", str(data), "text", "audit", "--period", PERIOD, "--out", str(root / "audit"))
    cli_audit = pd.read_csv(root / "audit" / "downgrade_audit.csv", encoding="utf-8-sig")
    cli_status = _cli("-d", str(data), "status")
    return {"dep": dep, "service": service, "cli": cli, "service_audit": service_audit, "cli_audit": cli_audit,
            "service_status": service_status, "cli_status": cli_status, "top_term": top_term}


def test_cli_and_service_show_the_same_release(overridden: dict[str, Any]) -> None:
    cli, svc = overridden["cli"], overridden["service"]
    assert cli["tables"] == svc["tables"]
    meta = {k: v for k, v in cli["meta"].items() if k != "generated_at"}
    assert meta == {k: v for k, v in svc["meta"].items() if k != "generated_at"}


def test_index_weights(overridden: dict[str, Any], shipped: dict[str, Any]) -> None:
    mine = pd.DataFrame(overridden["service"]["tables"]["index_community"]["rows"]).set_index("area_id")
    base = pd.DataFrame(shipped["json"]["tables"]["index_community"]["rows"]).set_index("area_id")
    # rate only: the index is the rate score, and it moved against the shipped 0.60/0.25/0.15 weights
    pd.testing.assert_series_equal(mine["index"], mine["score_rate"], check_names=False, atol=0.051)
    assert (mine["index"] - base.loc[mine.index, "index"]).abs().max() > 1.0


def test_rankings(overridden: dict[str, Any], shipped: dict[str, Any]) -> None:
    tables = overridden["service"]["tables"]
    assert "ranking_easily_defrauded" in shipped["json"]["tables"]
    assert "ranking_easily_defrauded" not in tables
    rows = tables["ranking_burglary_only"]["rows"]
    assert 0 < len(rows) <= 5 and "ranking_burglary_only" in overridden["cli"]["tables"]


def test_taxonomy_labels(overridden: dict[str, Any], shipped: dict[str, Any]) -> None:
    def theft_label(js: dict[str, Any]) -> str:
        rows = js["tables"]["families"]["rows"]
        return next(r["label"] for r in rows if r["family"] == "theft")

    assert theft_label(shipped["json"]) == "盗窃"
    assert theft_label(overridden["service"]) == theft_label(overridden["cli"]) == "偷盗"
    svc = {r["family"]: r["family_label"] for r in overridden["service_status"].by_category}
    assert svc["theft"] == "偷盗" and "偷盗" in overridden["cli_status"]


def test_audit_rules(overridden: dict[str, Any], shipped: dict[str, Any]) -> None:
    released = sum(int(r["flagged"]) for r in overridden["service"]["tables"]["downgrade_audit"]["rows"])
    assert released == int(overridden["service_audit"]["flagged"].sum()) == int(overridden["cli_audit"]["flagged"].sum())
    assert released > shipped["audit"]  # the deployment's extra rule flags quarrels
    assert int(overridden["cli_audit"]["flagged_assault"].sum()) > 0


def test_segmenter_dictionary_and_stop_words(overridden: dict[str, Any], shipped: dict[str, Any]) -> None:
    terms = [r["term"] for r in overridden["service"]["tables"]["terms"]["rows"]]
    assert overridden["top_term"] not in terms
    assert overridden["top_term"] in [r["term"] for r in shipped["json"]["tables"]["terms"]["rows"]]
    assert overridden["dep"].segmenter.cut(f"报警称{NEW_WORD}") == ["报警", "称", NEW_WORD] or \
        NEW_WORD in overridden["dep"].segmenter.cut(f"报警称{NEW_WORD}")


def test_night_window_and_thresholds(overridden: dict[str, Any], shipped: dict[str, Any]) -> None:
    meta, base = overridden["service"]["meta"], shipped["json"]["meta"]
    assert base["night_window"] == "21:00–03:00" and meta["night_window"] == "22:00–04:00"
    assert meta["extra"]["heat_cell_m"] == 200.0 and base["extra"]["heat_cell_m"] == 150.0
    assert len(overridden["service"]["tables"]["supervision"]["rows"]) == 5
    night = overridden["service"]["tables"]["night_streets"]["rows"]
    assert sum(r["count_night"] for r in night) != sum(
        r["count_night"] for r in shipped["json"]["tables"]["night_streets"]["rows"])


def test_a_bad_file_names_file_key_and_value(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "analysis.toml").write_text('[heat]\ncell_m = -5\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_deployment(load_settings(data_dir=data))
    msg = str(exc.value)
    assert "analysis.toml" in msg and "heat.cell_m" in msg and "-5" in msg
    (data / "analysis.toml").write_text('[night]\nwindow = "22:00-22:00"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"night\.window"):
        load_deployment(load_settings(data_dir=data))
    (data / "analysis.toml").unlink()
    (data / "index.toml").write_text("[weights]\nrate = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"index.toml.*weights.rate"):
        load_deployment(load_settings(data_dir=data))


def test_unknown_engine_is_refused_clearly(tmp_path: Path) -> None:
    # --engine spark itself is tested in tests/lake/test_spark.py (one Spark session per test run)
    res = CliRunner().invoke(app, ["-d", str(tmp_path / "d"), "--lang", "en", "--engine", "presto", "status"])
    assert res.exit_code == 2 and "engine" in res.stderr and "presto" in res.stderr and "Traceback" not in res.output
