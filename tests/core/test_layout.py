"""Repository hygiene that CI should catch early."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_module_names_are_unique():
    # pytest's default import mode refuses two test modules with the same basename in different folders
    names = Counter(p.name for p in TESTS.rglob("*.py") if p.name not in {"conftest.py", "__init__.py"})
    dupes = sorted(n for n, c in names.items() if c > 1)
    assert not dupes, f"rename these test modules so their basenames are unique: {dupes}"
