"""The lake's manifest: the single source of truth about which imports (and files) are committed.

``lake/manifest.json`` is ``{"version": 3, "imports": [...], "files": {"incidents": [...], "quarantine": [...]}}``
with file paths relative to ``lake/``. It is rewritten whole, atomically (temp file, fsync, ``os.replace``), and
only after an import's files are in place — so a reader either sees an import completely or not at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from anju.errors import LakeError
from anju.files import fsync_dir

__all__ = ["MANIFEST_VERSION", "Manifest", "lake_lock"]

#: 2: caller_hash/phone_hash are 32-byte digests (version 1 stored them as 64 hex characters).
#: 3: incident files carry ``time_precision``. A version-2 lake is still read (its files listed under
#: ``legacy_files`` read the column as null) and becomes version 3 at its next write.
MANIFEST_VERSION = 3
#: versions this anju reads
READABLE_VERSIONS = (2, 3)


#: the copy of the manifest before its last save
PREVIOUS_NAME = "manifest.prev.json"


def layout_problem(data: Any) -> str | None:
    """What is wrong with a parsed manifest's layout (None when it is sound)."""
    if not isinstance(data, dict):
        return f"expected a JSON object, got {type(data).__name__}"
    if data.get("version") not in READABLE_VERSIONS:
        return f"version {data.get('version')!r} is not one of {READABLE_VERSIONS}"
    imports = data.get("imports")
    if not isinstance(imports, list) or not all(isinstance(i, dict) and isinstance(i.get("import_id"), str)
                                                for i in imports):
        return "'imports' must be a list of objects, each with an 'import_id' string"
    files = data.get("files", {})
    if not isinstance(files, dict) or not all(
            isinstance(v, list) and all(isinstance(f, str) for f in v) for v in files.values()):
        return "'files' must map 'incidents' and 'quarantine' to lists of file names"
    for key in ("retired", "legacy_files"):
        v = data.get(key, [])
        if not isinstance(v, list) or not all(isinstance(f, str) for f in v):
            return f"{key!r} must be a list of file names"
    return None


class Manifest:
    """An in-memory copy of ``manifest.json``; :meth:`save` writes it back atomically."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.data: dict[str, Any] = data or {"version": MANIFEST_VERSION, "imports": [],
                                             "files": {"incidents": [], "quarantine": []}}
        self.data.setdefault("files", {"incidents": [], "quarantine": []})

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        """Read the manifest (an empty one if the file does not exist yet)."""
        p = Path(path)
        if not p.exists():
            return cls(p)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LakeError(f"{p}: 数据湖清单已损坏 / the lake manifest is not valid JSON ({exc}). Run `anju lake "
                            "check` for details and `anju lake repair` to restore the previous copy or rebuild it "
                            "from the lake's files") from exc
        if isinstance(data, dict) and data.get("version") == 1:
            raise LakeError(f"{p}: this lake was written by an older anju (lake version 1: caller and phone hashes "
                            f"as hex text); this anju reads version {MANIFEST_VERSION} (32-byte digests). Import "
                            "the source files again into a new data directory (--data-dir), or run the older anju")
        problem = layout_problem(data)
        if problem is not None:
            raise LakeError(f"{p}: 数据湖清单格式错误 / the lake manifest is damaged: {problem}. Run `anju lake "
                            "check` for details and `anju lake repair` to restore the previous copy or rebuild it "
                            "from the lake's files")
        if data["version"] == 2:  # every file so far lacks time_precision; upgraded in memory, saved on write
            data["version"] = MANIFEST_VERSION
            data["legacy_files"] = sorted(set(data.get("files", {}).get("incidents", [])))
        return cls(p, data)

    @property
    def legacy_files(self) -> set[str]:
        """Incident files written before lake version 3 (no ``time_precision`` column)."""
        return set(self.data.get("legacy_files", []))

    @property
    def imports(self) -> list[dict[str, Any]]:
        """Committed imports, oldest first."""
        return list(self.data["imports"])

    @property
    def import_ids(self) -> set[str]:
        return {i["import_id"] for i in self.data["imports"]}

    def files(self, table: str) -> list[str]:
        """Committed files of ``table`` ("incidents" or "quarantine"), relative to the lake directory."""
        return list(self.data["files"].get(table, []))

    def find_file(self, *, blake3: str | None = None, sha256: str | None = None) -> dict[str, Any] | None:
        """The committed import of a file with this BLAKE3 digest (``file_blake3``) or, for imports recorded before
        imports were identified by BLAKE3, this SHA-256 digest (``file_sha256``), if any."""
        for imp in self.data["imports"]:
            if (blake3 is not None and imp.get("file_blake3") == blake3) or \
                    (sha256 is not None and imp.get("file_sha256") == sha256):
                return dict(imp)
        return None

    def add_import(self, entry: dict[str, Any], incident_files: list[str], quarantine_files: list[str]) -> None:
        """Record a committed import and its files (call :meth:`save` afterwards)."""
        self.data["imports"].append(entry)
        self.data["files"].setdefault("incidents", []).extend(incident_files)
        self.data["files"].setdefault("quarantine", []).extend(quarantine_files)

    def replace_files(self, table: str, old: list[str], new: list[str]) -> None:
        """Swap committed files (compaction)."""
        gone = set(old)
        kept = [f for f in self.data["files"].get(table, []) if f not in gone]
        self.data["files"][table] = kept + list(new)
        if "legacy_files" in self.data:
            self.data["legacy_files"] = [f for f in self.data["legacy_files"] if f not in gone]

    def save(self) -> None:
        """Write atomically: temp file in the same directory, fsync, ``os.replace``, fsync the directory.

        The manifest being replaced is kept as ``manifest.prev.json`` (what ``anju lake repair`` restores)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            with contextlib.suppress(OSError):
                shutil.copyfile(self.path, self.path.with_name(PREVIOUS_NAME))
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.data, fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(self.path.parent)


@contextlib.contextmanager
def lake_lock(lake_dir: Path) -> Iterator[None]:
    """Hold the lake's writer lock (``lake/.lock``); a second writer fails at once with a clear message.

    The lock is an OS file lock, so a killed writer releases it automatically.
    """
    lake_dir.mkdir(parents=True, exist_ok=True)
    fh = (lake_dir / ".lock").open("a+")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LakeError(f"{lake_dir}: another import or compaction is writing to this lake; wait for it "
                            "to finish and try again") from None
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()
