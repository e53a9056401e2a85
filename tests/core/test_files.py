"""anju.files' digests against hashlib / blake3 on the whole bytes, for the mapped and the read paths."""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from pathlib import Path

import pytest
from blake3 import blake3

from anju import files
from anju.files import file_blake3, file_sha256


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 100_003])
def test_file_sha256_matches_hashlib(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    assert file_sha256(p) == hashlib.sha256(data).hexdigest()


def test_file_sha256_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_BLOCK", mmap.ALLOCATIONGRANULARITY)  # many blocks, the last one partial
    data = os.urandom(5 * mmap.ALLOCATIONGRANULARITY + 123)
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    assert file_sha256(str(p)) == hashlib.sha256(data).hexdigest()


def test_file_sha256_of_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = b"anju" * 1000

    def write() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert file_sha256(fifo) == hashlib.sha256(data).hexdigest()
    finally:
        writer.join(timeout=10)


@pytest.mark.parametrize("size", [0, 1, 1024, 1025, 100_003])
def test_file_blake3_matches_blake3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(files, "_BLOCK", mmap.ALLOCATIONGRANULARITY)
    data = os.urandom(size)
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    assert file_blake3(p) == blake3(data).hexdigest()
    assert file_blake3(p) != file_sha256(p)
