"""The C kernels behind one facade (anju.ingest.kernels): the pure path gives the same lake, a build without the
extension works, ``anju versions`` says which kernels run, and the process-wide allocators are restored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from anju.config import Settings
from anju.ingest import ingest_file, kernels
from anju.ingest.sample import cn110_sample, write_csv
from anju.lake import connect

SECRET = "test-deployment-secret-4f1c9a7e2b"  # as tests/ingest/conftest.py

# Runs an ingest in a fresh interpreter where importing anju.ingest._native fails, exactly as on a machine where
# the package was installed without a C compiler (a None entry in sys.modules makes the import raise ImportError).
_NO_EXTENSION = """
import sys
sys.modules["anju.ingest._native"] = None
from anju.config import load_settings
from anju.ingest import ingest_file, kernels
assert kernels.native() is None and "not built" in kernels.describe(), kernels.describe()
s = load_settings(data_dir=sys.argv[1], secret=sys.argv[3], quiet=True).model_copy(update={"batch_rows": 1200})
ingest_file(s, sys.argv[2], profile="cn110", encoding=sys.argv[4])
"""


def _lake(s: Settings) -> object:
    with connect(s) as lake:
        df = lake.incidents().execute().drop(columns=["import_id"])
    return df.sort_values("source_row").reset_index(drop=True)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_a_build_without_the_c_extension_gives_the_same_lake(settings: Settings, tmp_path: Path,
                                                            encoding: str) -> None:
    # texts carrying phone and ID numbers (masks' digit scan), callers (HMAC, replace_each), GBK (the table): once
    # with the C kernels in this process, once in a process where the extension cannot be imported
    if kernels.native() is None:
        pytest.skip("anju.ingest._native was not built here: both runs would take the pure path")
    t = cn110_sample(3000, seed=11, days=40)
    p = write_csv(t, tmp_path / f"{encoding}.csv", encoding=encoding)
    fast = settings.model_copy(update={"data_dir": tmp_path / "c", "batch_rows": 1200})
    ingest_file(fast, p, profile="cn110", encoding=encoding)
    slow_dir = tmp_path / "py"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", _NO_EXTENSION, str(slow_dir), str(p), SECRET, encoding],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    a, b = _lake(fast), _lake(settings.model_copy(update={"data_dir": slow_dir}))
    assert len(a) == 3000
    assert a["text"].str.contains(r"\*{4}", regex=True).any()  # some numbers in the texts were masked
    assert a["caller_hash"].notna().any()
    assert a.equals(b)


def test_the_switch_selects_the_pure_path_in_process() -> None:
    from anju.ingest.pii import Hasher, _digit_runs, _text_flags

    arr = pa.array(["联系138.1234.5678", "无", None, "１２３", "编号 12-34-567", "报警人：张三"], pa.string())
    with kernels.use_native(False):
        assert kernels.native() is None
        assert set(kernels.active().values()) <= set(kernels.KERNELS.values())
        assert not Hasher(b"k").native
        slow = _digit_runs(arr, 7, separated=True).to_pylist()
        assert _text_flags(arr, names=True) == (None, None)  # mask_array runs its own prefilters
    assert slow == [True, False, False, False, True, False]
    if kernels.native() is not None:
        assert Hasher(b"k").native
        assert _digit_runs(arr, 7, separated=True).to_pylist() == slow
        named, wide = _text_flags(arr, names=True)
        assert named is not None and wide is not None
        assert named.tolist() == [False, False, False, False, False, True]
        assert wide.tolist() == [False, False, False, True, False, False]
        assert kernels.active()["hmac_sha256"].startswith("C")


def test_versions_names_the_active_kernels() -> None:
    from typer.testing import CliRunner

    from anju.cli import app

    out = CliRunner().invoke(app, ["versions"])
    assert out.exit_code == 0
    line = next(x for x in out.output.splitlines() if x.startswith("kernels"))
    for k in kernels.KERNELS:
        assert f"{k}=" in line
    assert ("C extension built" in line) == (kernels.native() is not None)


def test_process_allocators_are_restored_and_not_set_by_an_import(settings: Settings, tmp_path: Path) -> None:
    from anju.ingest.allocator import process_allocators

    before = pa.default_memory_pool().backend_name
    p = write_csv(cn110_sample(200, seed=3), tmp_path / "a.csv")
    ingest_file(settings, p)  # a library call: leaves the process's allocator alone
    assert pa.default_memory_pool().backend_name == before
    with process_allocators():
        inside = pa.default_memory_pool().backend_name
    assert pa.default_memory_pool().backend_name == before
    assert inside != "mimalloc" or before != "mimalloc"  # mimalloc's page churn is what it avoids


def test_process_allocators_keep_freed_arrow_pages_during_an_import_and_restore_pyarrows_decay(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # jemalloc's page decay is raised for the import (a batch's freed pages are reused by the next instead of being
    # faulted in afresh) and put back to pyarrow's built-in second on exit; the real setter runs, its calls are noted
    from anju.ingest import allocator

    if pa.default_memory_pool().backend_name != "mimalloc":
        pytest.skip("the allocators are switched only from pyarrow's default mimalloc pool")
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("pyarrow built without jemalloc")
    monkeypatch.delenv("JE_ARROW_MALLOC_CONF", raising=False)
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    real = pa.jemalloc_set_decay_ms
    calls: list[int] = []

    def noted(ms: int) -> None:
        calls.append(ms)
        real(ms)

    monkeypatch.setattr(pa, "jemalloc_set_decay_ms", noted)
    with allocator.process_allocators():
        assert calls == [allocator.IMPORT_DECAY_MS]
    assert calls == [allocator.IMPORT_DECAY_MS, 1000]
    monkeypatch.setenv("JE_ARROW_MALLOC_CONF", "dirty_decay_ms:500")  # the operator's own setting is left alone
    with allocator.process_allocators():
        pass
    assert calls == [allocator.IMPORT_DECAY_MS, 1000]
