import os
import re
from pathlib import Path

import pytest

from anju.config import SETTINGS_HELP, Settings, deployment_secret, load_settings
from anju.errors import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{name}`" in text, f"setting {name} missing from docs/configuration.md"
        assert SETTINGS_HELP[name], f"setting {name} has no description"


def test_precedence_flag_env_file(tmp_path, monkeypatch):
    (tmp_path / "anju.toml").write_text('[anju]\nlang = "en"\nnearest_threshold_m = 50\n', encoding="utf-8")
    monkeypatch.delenv("ANJU_LANG", raising=False)
    s = load_settings(data_dir=tmp_path)
    assert s.lang == "en" and s.nearest_threshold_m == 50
    monkeypatch.setenv("ANJU_NEAREST_THRESHOLD_M", "75")
    assert load_settings(data_dir=tmp_path).nearest_threshold_m == 75
    assert load_settings(data_dir=tmp_path, nearest_threshold_m=10).nearest_threshold_m == 10


def test_bad_file_value_names_file_and_key(tmp_path):
    (tmp_path / "anju.toml").write_text("[anju]\nnearest_threshold_m = -5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_settings(data_dir=tmp_path)
    msg = str(exc.value)
    assert "anju.toml" in msg and "nearest_threshold_m" in msg and "-5" in msg


def test_unknown_key_is_refused(tmp_path):
    (tmp_path / "anju.toml").write_text("[anju]\nlangauge = 'zh'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="langauge"):
        load_settings(data_dir=tmp_path)


def test_secret_is_created_once_and_private(tmp_path):
    s = load_settings(data_dir=tmp_path)
    k1 = deployment_secret(s)
    k2 = deployment_secret(load_settings(data_dir=tmp_path))
    assert k1 == k2 and len(k1) == 64
    assert os.stat(s.paths.secret_file).st_mode & 0o077 == 0


def test_guessable_secret_refused(tmp_path):
    with pytest.raises(ConfigError, match="secret"):
        deployment_secret(load_settings(data_dir=tmp_path, secret="changeme"))


def test_cli_help_and_versions():
    from typer.testing import CliRunner

    from anju.cli import app

    r = CliRunner().invoke(app, ["versions"])
    assert r.exit_code == 0, r.output
    assert re.search(r"duckdb\s+\d", r.output)
