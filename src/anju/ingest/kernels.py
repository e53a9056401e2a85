"""The one facade over ingest's C kernels: which are active, and the switch to the pure-Python path.

anju has a small, optional C extension (``anju.ingest._native``) for the five batch operations that pyarrow and
DuckDB cannot vectorise well:

==================  ==============================================  ===========================================
kernel              what it does                                    without the C extension
==================  ==============================================  ===========================================
``hmac_sha256``     keyed hash of caller names and phone numbers    the same HMAC written out in DuckDB SQL
``digit_runs``      which texts may hold a personal number          the same test in RE2 (pyarrow)
``text_flags``      which texts may hold a name after 报警人/我叫…, RE2 (pyarrow) and a NumPy byte scan
                    and which hold full-width digits (one pass)
``replace_each``    the caller's own name masked in his call text   DuckDB's ``replace``
                    (rows without it found first and left uncopied)
``gbk_table``       GBK/GB18030 → UTF-8 by a table made by iconv    ``iconv(3)`` alone
==================  ==============================================  ===========================================

Everything else (UTF-8 validation, GCJ-02, number parsing, the masks of names and phone numbers) is pyarrow or
NumPy: measured end to end, C gave no gain there (docs/performance.md). A build without a C compiler works and
gives the same lake byte for byte in its data (``tests/ingest/test_kernels.py``).

``ANJU_KERNELS=python`` in the environment, or :func:`use_native` (tests, benchmarks), selects the pure path.
``anju versions`` prints :func:`describe`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

__all__ = ["KERNELS", "active", "describe", "native", "use_native"]

#: the kernels of the C extension, with the pure path each falls back to
KERNELS: dict[str, str] = {
    "hmac_sha256": "DuckDB SQL",
    "digit_runs": "pyarrow RE2",
    "text_flags": "pyarrow RE2 + NumPy",
    "replace_each": "DuckDB SQL",
    "gbk_table": "iconv(3)",
}

_built: ModuleType | None
try:
    from anju.ingest import _native as _built  # type: ignore[attr-defined,no-redef]
except ImportError:  # pragma: no cover - the package was installed without a C compiler
    _built = None

_enabled = os.environ.get("ANJU_KERNELS", "native").strip().lower() not in {"python", "off", "0", "none"}


def native(want: bool | None = None) -> Any:
    """The C module when it is built and enabled (and ``want`` is not False), else None."""
    if want is False or not _enabled:
        return None
    return _built


@contextlib.contextmanager
def use_native(on: bool) -> Iterator[None]:
    """Switch the C kernels on (when built) or off for the duration of the block (process-wide: tests, benchmarks)."""
    global _enabled
    old = _enabled
    _enabled = on
    try:
        yield
    finally:
        _enabled = old


def active() -> dict[str, str]:
    """``{kernel: implementation}`` as an import would run now, e.g. ``{"hmac_sha256": "C (SHA-NI)", ...}``."""
    mod = native()
    if mod is None:
        return dict(KERNELS)
    out = {k: "C" for k in KERNELS}
    out["hmac_sha256"] = "C (SHA-NI)" if mod.sha_ni() else "C (portable)"
    return out


def describe() -> str:
    """One line for ``anju versions``: which kernels run in C and which on the pure path (and why)."""
    if _built is None:
        why = "not built (no C compiler at install time)"
    elif not _enabled:
        why = "switched off (ANJU_KERNELS=python)"
    else:
        why = "built"
    return f"C extension {why}: " + ", ".join(f"{k}={v}" for k, v in active().items())
