"""The ops CLI: upgrade, import, seed-demo, audit verify (exit 1 on tampering) — run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from anju.ops.db import head_revision, make_engine

from .test_ops_imports import xlsx


def anju(data_dir: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("ANJU_DATABASE_URL", None)
    if url:
        env["ANJU_DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "anju.cli", "--data-dir", str(data_dir), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_sqlite_default(tmp_path: Path) -> None:
    d = tmp_path / "data"
    r = anju(d, "ops", "upgrade")
    assert r.returncode == 0, r.stderr
    assert (d / "ops.sqlite3").exists() and head_revision() in r.stdout
    f = xlsx(tmp_path / "orgs.xlsx", ["编码", "名称", "类型"], [["B", "分局", "分局"], ["X", "x", "??"]])
    r = anju(d, "ops", "import", "organisations", str(f))
    assert r.returncode == 0, r.stderr
    assert "第 3 行被拒" in r.stderr
    r = anju(d, "--lang", "en", "audit", "verify")
    assert r.returncode == 0 and "intact: 1 rows" in r.stdout
    r = anju(d, "ops", "import", "cameras", str(f))
    assert r.returncode == 2 and "unknown import kind" in r.stderr and "Traceback" not in r.stderr

    # tampering (with the triggers dropped, as a DBA could) is detected and exits 1
    engine = make_engine(f"sqlite:///{d / 'ops.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(text("UPDATE audit_event SET actor_name = 'someone-else'"))
    engine.dispose()
    r = anju(d, "audit", "verify")
    assert r.returncode == 1 and "seq 1: content" in r.stderr


def test_cli_seed_demo_on_both_backends(ops_url: str, tmp_path: Path) -> None:
    r = anju(tmp_path / "data", "ops", "seed-demo", "--seed", "42", url=ops_url)
    assert r.returncode == 0, r.stderr
    assert "Demo-admin-" in r.stdout and "community_police" in r.stdout
    r3 = anju(tmp_path / "data", "audit", "verify", url=ops_url)
    assert r3.returncode == 0, r3.stderr
