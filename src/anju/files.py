"""File helpers shared by every part of anju."""

from __future__ import annotations

import hashlib
import mmap
import os
import stat
from pathlib import Path

__all__ = ["file_sha256"]

_BLOCK = 16 << 20  # 16 MiB


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes (hex): the identity of an import, a demo file or a model file.

    A regular file is hashed through read-only memory maps of one block at a time: the bytes are hashed where the
    page cache holds them, with no copy into a buffer — ``read(2)`` of a multi-GB import cost about as much system
    time as the hashing itself (docs/performance.md, ``## ingest``) — and each block is unmapped once hashed, so
    the process's resident set does not grow by the file's size. Anything that cannot be mapped (empty files,
    pipes) is read in blocks.
    """
    with Path(path).open("rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return hashlib.file_digest(fh, "sha256").hexdigest()
        h = hashlib.sha256()
        for start in range(0, st.st_size, _BLOCK):  # _BLOCK is a multiple of the mapping granularity
            with mmap.mmap(fh.fileno(), min(_BLOCK, st.st_size - start), access=mmap.ACCESS_READ,
                           offset=start) as mm:
                h.update(mm)  # hashlib releases the interpreter lock while it hashes the block
        return h.hexdigest()
