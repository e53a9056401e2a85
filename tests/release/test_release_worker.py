"""The PDF rendered in a worker process (RenderWorker) and the lazily imported renderers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from release_helpers import need

from anju.release import RENDERERS, Release, ReleaseError, RenderWorker, register_renderer, render_all


def _pdf_text(path: Path) -> str:
    return subprocess.run([need("pdftotext"), "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_importing_the_release_loads_no_renderer_library() -> None:
    """``release.json`` alone must not pay for WeasyPrint and matplotlib (imported on first use of their format)."""
    code = ("import sys, anju.release; from anju.release.renderers import RENDERERS; "
            "RENDERERS['json'].load(); "
            "print(sorted(m for m in ('weasyprint', 'matplotlib', 'xlsxwriter') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
    assert {k: r.module for k, r in RENDERERS.items()}["pdf"] == "anju.release.render_pdf"


@pytest.mark.parametrize("fork", [True, False], ids=["fork", "spawn"])
def test_worker_pdf_equals_local_pdf(synthetic: Release, tmp_path: Path, fork: bool) -> None:
    local = render_all(synthetic, tmp_path / "local", ["pdf", "json"])
    with RenderWorker(("pdf",), fork=fork) as worker:
        assert worker.takes("pdf") and not worker.takes("json")
        remote = render_all(synthetic, tmp_path / "remote", ["pdf", "json"], worker=worker)
    assert list(remote) == ["pdf", "json"]
    assert remote["pdf"].read_bytes()[:5] == b"%PDF-"
    # same pages, same words (the files differ only in creation metadata)
    assert _pdf_text(remote["pdf"]) == _pdf_text(local["pdf"])
    assert remote["json"].read_bytes() == local["json"].read_bytes()


def _boom(release: Release, path: Path) -> None:
    raise ReleaseError(f"boom while writing {path.name}")


def test_worker_failure_reaches_the_caller(synthetic: Release, tmp_path: Path) -> None:
    register_renderer("boom", "boom.txt")(_boom)
    try:
        with RenderWorker(("boom",)) as worker, pytest.raises(ReleaseError, match=r"boom while writing boom\.txt"):
            assert worker.takes("boom")
            render_all(synthetic, tmp_path, ["json", "boom"], worker=worker)
    finally:
        del RENDERERS["boom"]
    assert (tmp_path / "release.json").exists()  # the local formats were written meanwhile


def test_disabled_worker_renders_locally(synthetic: Release, tmp_path: Path) -> None:
    with RenderWorker(("pdf",), enabled=False) as worker:
        assert not worker.takes("pdf")
        out = render_all(synthetic, tmp_path, ["pdf"], worker=worker)
    assert out["pdf"].stat().st_size > 10_000
