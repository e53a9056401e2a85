"""The demo district (闵安区): a synthetic but realistic district and three years of 110 calls, from one seed.

``anju demo`` builds it through the real paths (GeoJSON layers → :func:`anju.geo.areas.load_area_file`, a GBK cn110
CSV → :func:`anju.ingest.pipeline.ingest_file`). What is planted — and must be found by the analytics — is documented
in docs/demo-district.md and returned by :func:`truth`.

Examples
--------
>>> from anju.demo import truth
>>> t = truth(42, end_year=2025)
>>> t["fraud"]["costliest_by_mean"], t["nightlife"]["drunk_dispute_peak_hours"]
('fraud.investment', [22, 23])
"""

from anju.demo.build import DemoResult, default_out_dir, run_demo
from anju.demo.generate import DemoFiles, generate_files, read_manifest
from anju.demo.geography import District, build_district, write_layers
from anju.demo.model import Plan, build_plan
from anju.demo.truth import default_end_year, truth

__all__ = [
    "DemoFiles",
    "DemoResult",
    "District",
    "Plan",
    "build_district",
    "build_plan",
    "default_end_year",
    "default_out_dir",
    "generate_files",
    "read_manifest",
    "run_demo",
    "truth",
    "write_layers",
]
