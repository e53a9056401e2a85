"""File helpers shared by every part of anju."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["file_sha256"]


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes (hex), read in blocks: the identity of an import, a demo file or a model file."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
