"""File helpers shared by every part of anju."""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

__all__ = ["file_blake3", "file_digest", "file_sha256", "fsync_dir", "reading_table"]

_BLOCK = 16 << 20  # 16 MiB

Algorithm = Literal["sha256", "blake3"]


def _hasher(algorithm: Algorithm) -> Any:
    if algorithm == "blake3":
        from blake3 import blake3

        return blake3(max_threads=1)  # one core: an import's other threads already use the second one
    return hashlib.sha256()


def file_digest(path: Path | str, algorithm: Algorithm) -> str:
    """Hex digest of a file's bytes with ``algorithm`` (``"sha256"`` or ``"blake3"``).

    A regular file is hashed through read-only memory maps of one block at a time: the bytes are hashed where the
    page cache holds them, with no copy into a buffer — ``read(2)`` of a multi-GB import cost about as much system
    time as the hashing itself (docs/performance.md, ``## ingest``) — and each block is unmapped once hashed, so
    the process's resident set does not grow by the file's size. Anything that cannot be mapped (empty files,
    pipes) is read in blocks. Both hashers release the interpreter lock while they hash a block.
    """
    h = _hasher(algorithm)
    with Path(path).open("rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            while block := fh.read(1 << 20):
                h.update(block)
            return str(h.hexdigest())
        for start in range(0, st.st_size, _BLOCK):  # _BLOCK is a multiple of the mapping granularity
            with mmap.mmap(fh.fileno(), min(_BLOCK, st.st_size - start), access=mmap.ACCESS_READ,
                           offset=start) as mm:
                h.update(mm)
        return str(h.hexdigest())


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes (hex): the identity of a model file, and of imports recorded before BLAKE3."""
    return file_digest(path, "sha256")


def file_blake3(path: Path | str) -> str:
    """BLAKE3 of a file's bytes (hex, 256 bits): the identity of an import.

    BLAKE3 is a cryptographic hash like SHA-256 but hashes ~7 GB/s on one core here against SHA-256's ~1.9 GB/s
    (with the CPU's SHA instructions), which is ~0.1 µs of CPU per row of a CSV import (docs/performance.md).
    """
    return file_digest(path, "blake3")


def fsync_dir(d: Path) -> None:
    """Flush a folder's entries (a rename or a new file in it) to disk; a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def reading_table(path: Path | str) -> Iterator[None]:
    """Turn what pandas and calamine raise on a bad table file into one clear :class:`~anju.errors.IngestError`.

    Every reader of a user's CSV/Excel file (text classify and training data, duty and assessment imports) reads
    inside this, so an empty file, a CSV renamed ``.xlsx`` or an unterminated quote is a message naming the file and
    the fix, never a parser traceback.
    """
    import pandas as pd
    from python_calamine import CalamineError

    from anju.errors import IngestError

    p = Path(path)
    try:
        yield
    except pd.errors.EmptyDataError:
        raise IngestError(f"{p} has no header row and no data; export the table again with its header",
                          zh=f"{p} 没有表头也没有数据；请带表头重新导出") from None
    except pd.errors.ParserError as exc:
        raise IngestError(f"{p} cannot be read as a table ({exc}); a quote that is never closed (\") usually "
                          "causes this: close or remove it, or export again with every text quoted",
                          zh=f"{p} 无法按表格读取（{exc}）；通常是某个引号（\"）没有闭合：请补全或删除该引号，"
                             "或重新导出并给每个文本加引号") from None
    except CalamineError as exc:
        raise IngestError(f"{p} is not a readable Excel workbook ({exc}); if it is a CSV file renamed to "
                          f"{p.suffix}, rename it back to .csv",
                          zh=f"{p} 不是可读取的 Excel 工作簿（{exc}）；如果它其实是改了扩展名的 CSV 文件，"
                             "请改回 .csv") from None
