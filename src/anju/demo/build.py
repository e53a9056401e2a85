"""Build the demo district into a data directory through the real paths: generate, load areas, ingest.

:func:`run_demo` is what ``anju demo`` calls. It generates the files (or re-uses them when ``demo.json`` shows the
same parameters), loads the six GeoJSON layers with :func:`anju.geo.areas.load_area_file` (skipped when the data
directory already holds exactly these files) and ingests the GBK CSV with the ``cn110`` profile through
:func:`anju.ingest.pipeline.ingest_file` (idempotent by file hash). Re-running with the same seed and scale changes
nothing; running a different demo into a data directory that already holds one is refused, so two demos never mix
in one lake.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anju.config import Settings
from anju.demo.generate import DemoFiles, generate_files, read_manifest
from anju.demo.truth import GENERATOR_VERSION, default_end_year
from anju.errors import AnjuError

__all__ = ["LAYER_ORDER", "DemoResult", "default_out_dir", "run_demo"]

LAYER_ORDER = ("district", "street", "community", "grid", "station", "police_district")


@dataclass
class DemoResult:
    """What :func:`run_demo` did."""

    files: DemoFiles
    layers_loaded: list[str] = field(default_factory=list)
    layers_reused: bool = False
    import_report: Any = None  # anju.ingest ImportReport, None with --no-ingest
    duty: dict[str, Any] = field(default_factory=dict)  # duty imports (tracks, stop-checks, plan, registry)
    assessment_reports: list[Any] = field(default_factory=list)  # anju.assess.inputs InputReport per input


def default_out_dir(settings: Settings) -> Path:
    """``<data_dir>/demo``."""
    return Path(settings.data_dir) / "demo"


def _lake_imports(settings: Settings) -> list[dict[str, Any]]:
    path = settings.paths.manifest
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [i for i in data.get("imports", []) if isinstance(i, dict)]


def _check_not_mixing(settings: Settings, out_dir: Path, params: dict[str, Any]) -> None:
    """Refuse to ingest a second, different demo into a lake that already holds one (wherever its files are)."""
    imports = _lake_imports(settings)
    digests = {str(i[k]) for i in imports for k in ("file_blake3", "file_sha256") if i.get(k)}
    folders = {Path(out_dir)} | {Path(str(i["source_path"])).parent for i in imports if i.get("source_path")}
    for folder in folders:
        old = read_manifest(folder)
        if old is None or old.get("params") == params or (old.get("csv_blake3") or old.get("csv_sha256")) not in digests:
            continue
        p = old.get("params", {})
        raise AnjuError(
            f"the data directory {settings.data_dir} already holds the demo district with seed={p.get('seed')}, "
            f"scale={p.get('scale')}, years={p.get('years')} ending {p.get('end_year')} (files in {folder}); a "
            f"different demo (seed={params['seed']}, scale={params['scale']}) would mix two districts in one lake. "
            "Use another --data-dir (or delete this one) to build it.")


def _layers_current(settings: Settings, files: DemoFiles) -> bool:
    """True when every demo layer is loaded from exactly these (unchanged) files."""
    if not files.reused:
        return False
    meta_path = settings.paths.areas / "_meta.json"
    if not meta_path.exists():
        return False
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    layers = meta.get("layers", {})
    for name in LAYER_ORDER:
        m = layers.get(name)
        if not m or m.get("source_file") != str(files.layers[name].resolve()):
            return False
        if not (settings.paths.areas / f"{name}.parquet").exists():
            return False
    return True


def _read_truth(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError):
        return {}


def run_demo(settings: Settings, *, seed: int = 42, scale: float = 1.0, out_dir: Path | None = None,
             ingest: bool = True, end_year: int | None = None, years: int = 3,
             on_start: Callable[[int], None] | None = None, on_rows: Callable[[int], None] | None = None,
             on_stage: Callable[[str], None] | None = None, ingest_progress: Any = None) -> DemoResult:
    """Generate the demo district, load its areas and ingest its calls into ``settings.data_dir``."""
    out = Path(out_dir) if out_dir is not None else default_out_dir(settings)
    end = default_end_year() if end_year is None else end_year
    params = {"generator_version": GENERATOR_VERSION, "seed": seed, "scale": scale, "end_year": end, "years": years}
    if ingest:
        _check_not_mixing(settings, out, params)
    if on_stage:
        on_stage("generate")
    files = generate_files(out, seed=seed, scale=scale, end_year=end, years=years, on_start=on_start,
                           on_rows=on_rows)
    from anju.demo.assessment_data import ensure_assessment_inputs

    ensure_assessment_inputs(out, seed=seed, end_year=end, truth=files.truth or _read_truth(files.truth_path))
    result = DemoResult(files)
    if not ingest:
        return result
    from anju.geo.areas import load_area_file

    if on_stage:
        on_stage("areas")
    if _layers_current(settings, files):
        result.layers_reused = True
    else:
        settings.paths.ensure()
        for name in LAYER_ORDER:
            load_area_file(settings.data_dir, files.layers[name], layer=name, id_field="id", name_field="name",
                           parent_field="parent_id" if name not in ("district", "station") else None)
            result.layers_loaded.append(name)
    if on_stage:
        on_stage("ingest")
    from anju.ingest.pipeline import ingest_file

    result.import_report = ingest_file(settings, files.csv, profile="cn110", progress=ingest_progress)
    if on_stage:
        on_stage("duty")
    from anju.demo.duty import load_duty_demo

    result.duty = load_duty_demo(settings, out, seed=seed, scale=scale, end_year=end)
    from anju.assess.inputs import import_demo_inputs

    result.assessment_reports = import_demo_inputs(settings, out)
    return result

