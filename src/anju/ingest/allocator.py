"""Process-wide allocator settings for a process that imports data: entered at the process entry, never in a library.

An import allocates and frees a few hundred MB per batch. With pyarrow's default mimalloc pool the freed pages go
back to the kernel and are faulted in again, which cost ~1.5 µs of system time per row (docs/performance.md); jemalloc
keeps them (the system allocator where pyarrow has no jemalloc). NumPy, DuckDB and Python objects use glibc's
malloc, which gives every thread of the pipeline its own arena and keeps freed blocks in each: ~0.25 GB more peak
memory at 10 M rows than with two arenas (same CPU time).

Both are process-wide, so a library call must not change them behind a long-running server's back: the ``anju``
command's ``main`` (and a worker's entry) wraps its run in :func:`process_allocators`, which restores the previous
Arrow pool and glibc's default arena limit on exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Callable, Iterator

import pyarrow as pa

__all__ = ["process_allocators"]

_M_ARENA_MAX = -8  # glibc malloc.h


@contextlib.contextmanager
def process_allocators() -> Iterator[None]:
    """jemalloc for Arrow buffers and at most two glibc malloc arenas, for the duration of the block.

    An explicit ``ARROW_DEFAULT_MEMORY_POOL`` is respected. Buffers keep the pool they came from, so restoring the
    previous default afterwards is safe. glibc cannot report the arena limit in force, so on exit it goes back to
    glibc's default (0, "8 × cores"), which is what a process starts with unless ``MALLOC_ARENA_MAX`` is set; when
    that variable is set the limit is left alone.
    """
    old = pa.default_memory_pool()
    pool = None
    if old.backend_name == "mimalloc" and not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        for make in (pa.jemalloc_memory_pool, pa.system_memory_pool):
            try:
                pool = make()
                break
            except (NotImplementedError, pa.ArrowException):  # pragma: no cover - a build without jemalloc
                continue
    mallopt = None if os.environ.get("MALLOC_ARENA_MAX") else _mallopt()
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, 2)
    if pool is not None:
        pa.set_memory_pool(pool)
    try:
        yield
    finally:
        if pool is not None:
            pa.set_memory_pool(old)
        if mallopt is not None:
            mallopt(_M_ARENA_MAX, 0)


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt`` (None on other C libraries)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - musl and others
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]
