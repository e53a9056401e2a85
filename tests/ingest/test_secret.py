"""The lake's hashing key: remembered by fingerprint, never silently replaced; weak keys refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anju.config import load_settings
from anju.errors import ConfigError
from anju.ingest import ingest_file
from anju.ingest.sample import cn110_sample, write_csv
from anju.ingest.secret import fingerprint
from anju.lake.manifest import Manifest


def _csv(tmp_path: Path, seed: int) -> Path:
    return write_csv(cn110_sample(50, seed=seed, first_id=seed * 1000), tmp_path / f"s{seed}.csv")


def test_key_file_is_remembered_and_a_lost_or_other_key_is_refused(data_dir: Path, tmp_path: Path) -> None:
    s = load_settings(data_dir=data_dir, quiet=True)  # no ANJU_SECRET: the key file is created at the first import
    ingest_file(s, _csv(tmp_path, 1))
    key_file = s.paths.secret_file
    key = key_file.read_bytes().strip()
    assert Manifest.load(s.paths.manifest).data["key_fingerprint"] == fingerprint(key)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"

    key_file.unlink()  # lost: refused, with the way back, and no new key made
    with pytest.raises(ConfigError, match="Restore the file from a backup") as info:
        ingest_file(s, _csv(tmp_path, 2))
    assert str(key_file) in str(info.value)
    assert not key_file.exists()

    other = load_settings(data_dir=data_dir, secret="another-key-0123456789abcdef", quiet=True)
    with pytest.raises(ConfigError, match="does not match the lake") as info:
        ingest_file(other, _csv(tmp_path, 2))
    assert fingerprint(key) in str(info.value)

    key_file.write_bytes(key)  # restored: works again
    os.chmod(key_file, 0o600)
    assert ingest_file(s, _csv(tmp_path, 2)).rows_loaded == 50


@pytest.mark.parametrize("weak", ["", "short", "aaaaaaaaaaaaaaaaaaaa"])
def test_empty_or_weak_keys_are_refused(data_dir: Path, tmp_path: Path, weak: str) -> None:
    s = load_settings(data_dir=data_dir, quiet=True)
    s.paths.secret_file.parent.mkdir(parents=True, exist_ok=True)
    s.paths.secret_file.write_text(weak)
    os.chmod(s.paths.secret_file, 0o600)
    with pytest.raises(ConfigError, match="empty or weak"):
        ingest_file(s, _csv(tmp_path, 3))
    assert not Manifest.load(s.paths.manifest).imports


def test_a_key_file_others_can_read_gets_a_warning(data_dir: Path, tmp_path: Path) -> None:
    s = load_settings(data_dir=data_dir, quiet=True)
    s.paths.secret_file.parent.mkdir(parents=True, exist_ok=True)
    s.paths.secret_file.write_text("0f3a9c2e7b1d4a8f6e5c0b9a8d7f6e5c")
    os.chmod(s.paths.secret_file, 0o644)
    with pytest.warns(UserWarning, match="chmod 600"):
        ingest_file(s, _csv(tmp_path, 4))
