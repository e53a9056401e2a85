"""Timings of the public-submission path, written only when ``ANJU_INTAKE_TRACE`` names a directory (the load
benchmark sets it; a deployment leaves it unset and pays one attribute test per submission).

Why: the benchmark's latency percentiles depend on how loaded the machine is; where a submission waits inside the
server (the writer's queue, the database lock, the commit, the event loop's wake-up) does not, and it is what a fix
has to move. Each web process appends tab-separated lines to ``<dir>/intake-<pid>.tsv`` (monotonic clock seconds,
comparable across processes on Linux):

* ``s  entry queued start locked commit committed resumed batch`` — one submission: the endpoint began, it was handed
  to the writer, its batch began, the write lock was held, the commit began and ended, the endpoint resumed;
* ``r  start end n`` — one routing batch of the routing pump;
* ``l  at lag`` — the event loop woke ``lag`` seconds late for a 10 ms timer (only lags over 5 ms);
* ``g  start duration generation cpu`` — a garbage collection of the process (only those over 1 ms of wall time;
  ``cpu`` is the collecting thread's CPU time, so a pause stretched by a busy machine shows as wall ≫ cpu).

The lines are buffered and flushed about once a second and at exit.
"""

from __future__ import annotations

import atexit
import gc
import os
import threading
import time
from pathlib import Path

__all__ = ["TRACE", "Trace"]


class Trace:
    """A buffered, thread-safe line writer; ``enabled`` is False (and every call a no-op) without the variable."""

    def __init__(self, directory: str | None) -> None:
        self.enabled = bool(directory)
        self._dir = Path(directory) if directory else None
        self._lines: list[str] = []
        self._lock = threading.RLock()  # re-entrant: a collection (the gc callback) may start inside add()
        self._last = time.monotonic()
        self._gc_start = self._gc_cpu = 0.0
        if self.enabled:
            atexit.register(self.flush)
            gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start, self._gc_cpu = time.perf_counter(), time.thread_time()
        elif (took := time.perf_counter() - self._gc_start) > 0.001:
            self.add("g", self._gc_start, took, info.get("generation", -1), time.thread_time() - self._gc_cpu)

    def add(self, kind: str, *values: float | int) -> None:
        """Record one line (``kind`` then the values); flushes when the last flush is a second old."""
        if not self.enabled:
            return
        line = kind + "\t" + "\t".join(f"{v:.6f}" if isinstance(v, float) else str(v) for v in values) + "\n"
        with self._lock:
            self._lines.append(line)
            due = time.monotonic() - self._last > 1.0
        if due:
            self.flush()

    def flush(self) -> None:
        """Append the buffered lines to this process's file."""
        if self._dir is None:
            return
        with self._lock:
            lines, self._lines = self._lines, []
            self._last = time.monotonic()
        if lines:
            with open(self._dir / f"intake-{os.getpid()}.tsv", "a", encoding="utf-8") as f:
                f.writelines(lines)


TRACE = Trace(os.environ.get("ANJU_INTAKE_TRACE"))
"""The process's trace (read from the environment when the module is imported)."""
