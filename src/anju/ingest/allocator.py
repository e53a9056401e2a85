"""Process-wide allocator settings for a process that imports data: entered at the process entry, never in a library.

An import allocates and frees a few hundred MB per batch. With pyarrow's default mimalloc pool the freed pages go
back to the kernel and are faulted in again, which cost ~1.5 µs of system time per row (docs/performance.md); jemalloc
keeps them (the system allocator where pyarrow has no jemalloc). NumPy, DuckDB and Python objects use glibc's
malloc, which gives every thread of the pipeline its own arena and keeps freed blocks in each: ~0.25 GB more peak
memory at 10 M rows than with two arenas (same CPU time).

pyarrow's jemalloc returns freed pages to the kernel after one second (its built-in ``dirty_decay_ms:1000``); a
300 000-row batch takes longer than that, so every batch faulted its pages in afresh — on a virtual machine a first
touch of a page costs several microseconds. During an import the decay is :data:`IMPORT_DECAY_MS` (pages freed by one
batch are reused by the next: a third fewer page faults, ~0.15 GB more peak memory at 10 M rows).

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

__all__ = ["IMPORT_DECAY_MS", "process_allocators"]

_M_ARENA_MAX = -8  # glibc malloc.h
#: jemalloc's dirty/muzzy page decay during an import (ms)
IMPORT_DECAY_MS = 10_000
#: pyarrow's own setting (``dirty_decay_ms:1000,muzzy_decay_ms:1000`` compiled into its jemalloc), restored on exit
_ARROW_DECAY_MS = 1_000


@contextlib.contextmanager
def process_allocators() -> Iterator[None]:
    """jemalloc for Arrow buffers (freed pages kept :data:`IMPORT_DECAY_MS`) and at most two glibc malloc arenas,
    for the duration of the block.

    An explicit ``ARROW_DEFAULT_MEMORY_POOL`` is respected, and so is an explicit ``JE_ARROW_MALLOC_CONF`` (then the
    decay is left alone); on exit the decay goes back to pyarrow's built-in one second. Buffers keep the pool they came from, so restoring the
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
    decay = pool is not None and pool.backend_name == "jemalloc" and not os.environ.get("JE_ARROW_MALLOC_CONF")
    if decay:
        decay = _set_decay(IMPORT_DECAY_MS)
    try:
        yield
    finally:
        if decay:
            _set_decay(_ARROW_DECAY_MS)
        if pool is not None:
            pa.set_memory_pool(old)
        if mallopt is not None:
            mallopt(_M_ARENA_MAX, 0)


def _set_decay(ms: int) -> bool:
    """jemalloc's dirty and muzzy decay for Arrow's arenas; False where pyarrow cannot set it."""
    try:
        pa.jemalloc_set_decay_ms(ms)
    except (NotImplementedError, pa.ArrowException):  # pragma: no cover - a build without jemalloc
        return False
    return True


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
