"""Short garbage-collector pauses in a serving process: the long-lived heap is frozen out of full collections.

Why: a web process holds ≈ 320,000 objects tracked by the garbage collector once the platform is imported (pandas,
scikit-learn, SQLAlchemy, FastAPI, the lake view, the text router). CPython's full (generation 2) collection walks
all of them — ≈ 0.17 s of CPU, during which every thread of the process stops — and the churn of a busy endpoint
(objects that outlive a young collection because their request is still in flight) triggers one every few seconds.
Under 200 public submissions a second that pause is the largest single cause of the latency tail (traced with
``ANJU_INTAKE_TRACE``: five full collections of 0.66–0.89 s in 30 s on a loaded machine). ``gc.freeze()`` moves the
objects alive at that moment to the permanent generation, which collections skip; they are still freed by reference
counting, only a reference cycle among them is never collected. (CPython documents ``gc.freeze`` for pre-fork
servers; the same property keeps a server's full collections short.)

Only the serving entry points opt in (``anju serve`` and each ``--workers`` process): tests and CLI commands build
many apps in one process and must keep collecting them.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_loaded", "freeze_startup_heap", "frozen"]

_serving = False


def freeze_startup_heap() -> int:
    """In a server process, once the app is built: collect the garbage of start-up, then freeze what remains (and
    later loads, see :func:`freeze_loaded`). Returns the number of frozen objects."""
    global _serving
    _serving = True
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def freeze_loaded() -> None:
    """After a lazy load of long-lived objects (the resident desk and its router model, the overview's numbers) in a
    serving process: freeze what is alive now. No collection, so it may run on a request's path (``gc.freeze`` only
    splices lists). Does nothing outside a server process."""
    if _serving:
        gc.freeze()


def frozen() -> bool:
    """Whether this process opted in (a server process)."""
    return _serving
