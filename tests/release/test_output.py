"""Release output is whole or absent: the folder swap, the writer lock, a kill at each file, and the PDF worker
that dies with its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from anju.release.output import OutputLockedError, atomic_folder


def _write_release(folder: Path, period: str, files: int = 4) -> None:
    for i in range(files):
        (folder / f"f{i}.json").write_text(f'{{"period": "{period}", "file": {i}}}', encoding="utf-8")


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def test_swap_replaces_the_whole_folder_and_a_failure_keeps_the_previous(tmp_path: Path) -> None:
    target = tmp_path / "releases" / "2025H1"
    with atomic_folder(target) as tmp:
        assert tmp.parent == target.parent and tmp != target and not any(tmp.iterdir())
        _write_release(tmp, "2025H1", files=5)
        assert not target.exists()  # nothing visible until the end
    first = _contents(target)
    assert len(first) == 5
    with pytest.raises(RuntimeError), atomic_folder(target) as tmp:
        _write_release(tmp, "2025H2", files=2)
        raise RuntimeError("renderer failed")
    assert _contents(target) == first  # the previous release, untouched
    with atomic_folder(target) as tmp:
        _write_release(tmp, "2025H2", files=2)
    assert _contents(target) == {f"f{i}.json": f'{{"period": "2025H2", "file": {i}}}' for i in range(2)}
    assert sorted(p.name for p in target.parent.iterdir()) == [".2025H1.lock", "2025H1"]  # no temp left


def test_a_second_writer_of_the_same_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "r"
    with atomic_folder(target) as tmp:
        _write_release(tmp, "a")
        with pytest.raises(OutputLockedError, match="another release is writing"), atomic_folder(target):
            pass
    assert _contents(target)["f0.json"].startswith('{"period": "a"')
    with atomic_folder(tmp_path / "other"):  # another folder is not locked
        pass


_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from anju.release.output import atomic_folder
    target, period = Path(sys.argv[1]), sys.argv[2]
    with atomic_folder(target) as tmp:
        for i in range(4):
            (tmp / f"f{i}.json").write_text('{"period": "%s", "file": %d' % (period, i), encoding="utf-8")
            time.sleep(0.05)
            with (tmp / f"f{i}.json").open("a", encoding="utf-8") as fh:
                fh.write("}")
            print(i, flush=True)
            time.sleep(0.2)
""")


@pytest.mark.parametrize("kill_after", [0, 1, 2, 3])
def test_killed_at_each_file_leaves_the_previous_release(tmp_path: Path, kill_after: int) -> None:
    target = tmp_path / "2025H1"
    with atomic_folder(target) as tmp:
        _write_release(tmp, "old")
    before = _contents(target)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), "new"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for _ in range(kill_after + 1):
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _contents(target) == before  # never a mix of two periods, never a half-written file
    with atomic_folder(target) as tmp:  # the next run clears what the killed one left
        _write_release(tmp, "next", files=1)
    assert [p.name for p in target.parent.iterdir() if ".tmp-" in p.name] == []


_PDF_PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from anju.release.renderers import RenderWorker, register_renderer

    @register_renderer("slowtest", "slow.pdf")
    def slow(release, path):
        time.sleep(2.0)
        Path(path).write_text("late", encoding="utf-8")

    out = Path(sys.argv[1])
    with RenderWorker(("slowtest",)) as worker:
        assert worker.takes("slowtest")
        fut = worker.submit(None, out, "slowtest")
        print("submitted", flush=True)
        fut.result()
""")


def test_the_pdf_worker_dies_with_its_parent(tmp_path: Path) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("the render worker only runs with two or more CPUs")
    out = tmp_path / "slow.pdf"
    proc = subprocess.Popen([sys.executable, "-c", _PDF_PARENT, str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "submitted"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(3.0)  # longer than the render would take
    assert not out.exists()  # the worker was killed with its parent, before writing
