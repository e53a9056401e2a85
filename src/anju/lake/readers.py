"""Live readers of a lake, so that compaction never deletes a file one of them may still read.

Every open :class:`~anju.lake.connection.Lake` holds a shared ``flock`` on ``lake/.readers`` (released on close, or
by the kernel when its process dies). Compaction switches the manifest to the merged files at once, but the
replaced files are only *retired* (listed in the manifest under ``retired``); they are deleted by
:func:`sweep_retired` when it can take the exclusive lock, i.e. when no reader is open — at the end of the
compaction, or at a later import or compaction. A reader therefore always works on the snapshot of the manifest it
opened with, and every file of that snapshot stays on disk while it is open.
"""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import IO, Any

__all__ = ["hold_reader", "release_reader", "sweep_retired"]


def hold_reader(lake_dir: Path) -> IO[Any] | None:
    """Take the shared reader lock of ``lake_dir`` (None when the lake folder does not exist yet)."""
    if not lake_dir.exists():
        return None
    fh = (lake_dir / ".readers").open("a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
    except OSError:  # pragma: no cover - a file system without locks: nothing to protect with
        fh.close()
        return None
    return fh


def release_reader(fh: IO[Any] | None) -> None:
    if fh is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


def sweep_retired(lake_dir: Path, manifest: Any) -> list[str]:
    """Delete the retired files of ``manifest`` if no reader is open (call while holding the writer lock).

    Returns the deleted paths (relative to the lake); nothing when a reader holds the lake.
    """
    retired = list(manifest.data.get("retired", []))
    if not retired:
        return []
    fh = (lake_dir / ".readers").open("a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []  # a reader may still read them: next time
        for rel in retired:
            (lake_dir / rel).unlink(missing_ok=True)
        manifest.data["retired"] = []
        manifest.save()
        return retired
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()
