"""The shipped configuration as one Deployment, for tests that call analytics functions directly.

Services pass the deployment's parts (``dep.taxonomy``, ``dep.index``…); these tests pass the shipped ones, built
once per test process from an empty data directory (importable by name: pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import tempfile

from anju.config import load_settings
from anju.deployment import load_deployment

DEP = load_deployment(load_settings(data_dir=tempfile.mkdtemp(prefix="anju-shipped-")))
TAX = DEP.taxonomy
INDEX = DEP.index
DEFS = dict(DEP.rankings)
SEG = DEP.segmenter
RULES = DEP.audit_rules
