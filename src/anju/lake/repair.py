"""``anju lake check`` and ``anju lake repair``: find and mend a damaged manifest or missing files.

Check reports, without changing anything: a manifest that is not JSON or has the wrong layout, files it lists
that are missing, data files no import owns (left by a killed writer; removed at the next import). Repair, under
the writer lock:

1. a manifest that cannot be read is replaced by ``manifest.prev.json`` (the copy before its last save) when that
   one is sound — the last import or compaction is then undone, and its source file must be imported again
   (its data files, no longer listed, are removed at the next import); else rebuilt from the lake's files (each file's ``import_id`` column names its import; the
   imports' details — source file, counts — are lost and marked ``rebuilt``);
2. files listed but missing are dropped from the manifest (their rows are gone; the report says how many files).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from anju.errors import LakeError
from anju.lake.manifest import MANIFEST_VERSION, PREVIOUS_NAME, Manifest, lake_lock, layout_problem

__all__ = ["LakeCheck", "check_lake", "repair_lake"]


@dataclass
class LakeCheck:
    """What :func:`check_lake` found (``problems`` empty = sound) or :func:`repair_lake` did (``actions``)."""

    manifest: Path
    problems: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"not valid JSON ({exc})"
    problem = layout_problem(data)
    return (data, None) if problem is None else (None, problem)


def check_lake(lake_dir: Path, manifest_path: Path) -> LakeCheck:
    """Check the manifest and the files it lists; changes nothing."""
    out = LakeCheck(manifest_path)
    if not manifest_path.exists():
        return out
    data, problem = _read(manifest_path)
    if data is None:
        out.problems.append(f"{manifest_path}: {problem}")
        return out
    for table in ("incidents", "quarantine"):
        for rel in data.get("files", {}).get(table, []):
            if not (lake_dir / rel).exists():
                out.problems.append(f"{lake_dir / rel}: listed in the manifest ({table}) but missing")
    return out


def repair_lake(lake_dir: Path, manifest_path: Path) -> LakeCheck:
    """Mend what :func:`check_lake` finds (see the module doc); returns what was done."""
    out = LakeCheck(manifest_path)
    with lake_lock(lake_dir):
        if manifest_path.exists():
            data, problem = _read(manifest_path)
            if data is None:
                prev = manifest_path.with_name(PREVIOUS_NAME)
                prev_data, _ = _read(prev) if prev.exists() else (None, None)
                if prev_data is not None:
                    data = prev_data
                    out.actions.append(f"{manifest_path}: {problem}; restored the previous copy {prev.name}. "
                                       "An import committed after that copy is undone: import its file again")
                else:
                    data = _rebuild(lake_dir)
                    out.actions.append(f"{manifest_path}: {problem}; rebuilt from {len(data['imports'])} imports' "
                                       "files (import details lost)")
        else:
            return out
        for table in ("incidents", "quarantine"):
            files = data.setdefault("files", {}).setdefault(table, [])
            missing = [f for f in files if not (lake_dir / f).exists()]
            if missing:
                data["files"][table] = [f for f in files if f not in set(missing)]
                out.actions.append(f"dropped {len(missing)} missing {table} file(s) from the manifest: "
                                   + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
        if out.actions:
            Manifest(manifest_path, data).save()
    return out


def _rebuild(lake_dir: Path) -> dict[str, Any]:
    """A manifest from the data files on disk (outside staging): imports named by the files' import_id."""
    files: dict[str, list[str]] = {"incidents": [], "quarantine": []}
    imports: dict[str, dict[str, Any]] = {}
    for table in files:
        root = lake_dir / table
        if not root.exists():
            continue
        for f in sorted(root.rglob("*.parquet")):
            try:
                ids = pc.unique(pq.read_table(f, columns=["import_id"]).column("import_id")).to_pylist()
            except Exception as exc:  # a damaged data file: left out, said so
                raise LakeError(f"{f}: cannot read this data file while rebuilding the manifest ({exc}); move it "
                                "out of the lake and run `anju lake repair` again") from exc
            files[table].append(f.relative_to(lake_dir).as_posix())
            for i in ids:
                imports.setdefault(i, {"import_id": i, "rebuilt": True})
    return {"version": MANIFEST_VERSION, "imports": [imports[k] for k in sorted(imports)], "files": files}
