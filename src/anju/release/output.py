"""A release folder is written whole or not at all: aside, then swapped in; one writer at a time.

:func:`atomic_folder` hands out a temporary folder beside the target (same file system). When the block ends
normally the temporary folder takes the target's place in one step — Linux ``renameat2(RENAME_EXCHANGE)`` swaps
the two folders atomically, elsewhere two renames a moment apart — and the previous release is removed. If the
block fails or the process is killed, the target is untouched: readers see the previous release (or none), never
0-byte files, half-written JSON or a mix of two periods. Leftover temporary folders of a killed run are removed by
the next run. A lock file beside the target makes a second release into the same folder fail at once with a
message (``fcntl`` locks die with their process, so a killed run never leaves a stale lock).

:func:`die_with_parent` is run by worker processes (the PDF renderer): on Linux the kernel kills the worker when the
process that started it dies, so a killed release leaves no orphan that writes ``report.pdf`` later.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import secrets
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from anju.errors import AnjuError
from anju.files import fsync_dir

__all__ = ["OutputLockedError", "atomic_folder", "die_with_parent"]


class OutputLockedError(AnjuError, RuntimeError):
    """Another process is writing the same output folder."""


_TMP = ".{name}.tmp-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces ``target`` as a whole (see the module doc)."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = (target.parent / f".{target.name}.lock").open("a+")
    try:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputLockedError(
                f"{target}: 另一个发布正在写入此目录，请等待其完成后再试 / another release is writing this folder; "
                "wait for it to finish and try again") from None
        prefix = _TMP.format(name=target.name)
        for stale in target.parent.glob(prefix + "*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        tmp = target.parent / (prefix + secrets.token_hex(4))
        tmp.mkdir()
        try:
            yield tmp
            _fsync_tree(tmp)
            _swap_in(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the old release after a swap, or the partial one
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
        lock.close()


def _swap_in(tmp: Path, target: Path) -> None:
    """Put ``tmp`` at ``target``; afterwards ``tmp`` holds the previous release (or nothing)."""
    if not target.exists():
        os.rename(tmp, target)
        tmp.mkdir()  # so that the caller's cleanup finds a folder
        fsync_dir(target.parent)
        return
    if _exchange(tmp, target):
        fsync_dir(target.parent)
        return
    old = target.parent / (tmp.name + "-old")  # pragma: no cover - kernels without renameat2
    os.rename(target, old)
    os.rename(tmp, target)
    os.rename(old, tmp)
    fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where that is not available."""
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):  # pragma: no cover - glibc < 2.28
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _fsync_tree(d: Path) -> None:
    for p in d.rglob("*"):
        if p.is_file():
            with contextlib.suppress(OSError):
                fd = os.open(p, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
    fsync_dir(d)


def die_with_parent() -> None:
    """In a worker process: ask the kernel for SIGKILL when the parent dies (Linux); exit if it already has."""
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent or parent == 1:  # the parent died before the request took effect
        os._exit(1)
