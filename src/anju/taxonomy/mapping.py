"""Source-code mappings: a source's category names/codes → taxonomy leaf codes, vectorised."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anju.config import read_toml
from anju.errors import TaxonomyError
from anju.taxonomy.loader import UNKNOWN, Taxonomy

__all__ = ["SourceMapping", "load_mapping", "shipped_mappings"]


class SourceMapping:
    """Maps (category, subcategory) pairs of one source to leaf codes.

    Lookup order: ``[pair]`` "category|subcategory", then ``[subcategory]``, then ``[category]``; a miss gives
    ``other.unknown`` with ``known = False`` so the import report can count it.
    """

    def __init__(
        self,
        source: str,
        *,
        pair: dict[str, str],
        subcategory: dict[str, str],
        category: dict[str, str],
        path: str = "",
    ) -> None:
        self.source = source
        self.pair = pair
        self.subcategory = subcategory
        self.category = category
        self.path = path

    def validate(self, taxonomy: Taxonomy) -> SourceMapping:
        """Raise if a target code is not in the taxonomy."""
        for section, table in (("pair", self.pair), ("subcategory", self.subcategory), ("category", self.category)):
            for key, code in table.items():
                if code not in taxonomy:
                    raise TaxonomyError(f"maps {key!r} to unknown category code {code!r}", path=self.path,
                                        key=section)
        return self

    def map(self, category: pa.Array | list[str | None], subcategory: pa.Array | list[str | None] | None = None,
            ) -> tuple[np.ndarray, np.ndarray]:
        """Map arrays of source values to ``(codes, known)``: an object array of leaf codes and a bool mask."""
        cat = pc.utf8_trim_whitespace(pa.array(category, pa.string()))
        n = len(cat)
        out = np.full(n, None, dtype=object)
        if subcategory is not None:
            sub = pc.utf8_trim_whitespace(pa.array(subcategory, pa.string()))
            if self.pair:
                joined = pc.binary_join_element_wise(cat, sub, "|")
                _fill(out, joined, self.pair)
            _fill(out, sub, self.subcategory)
        _fill(out, cat, self.category)
        known = out.astype(bool)  # leaf codes are non-empty strings; None → False
        out[~known] = UNKNOWN
        return out, known


def _fill(out: np.ndarray, values: pa.Array, table: dict[str, str]) -> None:
    """Set out[i] = table[values[i]] where out[i] is still empty; vectorised through a dictionary encoding."""
    if not table:
        return
    enc = pc.dictionary_encode(values).combine_chunks() if isinstance(values, pa.ChunkedArray) else \
        pc.dictionary_encode(values)
    dictionary = enc.dictionary.to_pylist()
    lookup = np.array([table.get(v) if v is not None else None for v in dictionary] + [None], dtype=object)
    idx = enc.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False)
    mapped = lookup[idx]
    empty = ~out.astype(bool)
    out[empty] = mapped[empty]


def shipped_mappings() -> list[str]:
    """Names of the mappings shipped with anju."""
    d = resources.files("anju.taxonomy") / "data" / "mappings"
    return sorted(p.name.removesuffix(".toml") for p in d.iterdir() if p.name.endswith(".toml"))


def load_mapping(name_or_path: str | Path, *, taxonomy: Taxonomy | None = None,
                 data_dir: str | Path | None = None) -> SourceMapping:
    """Load a mapping by shipped name (``cn110``, ``chicago``, ``sf-kaggle``) or path; deployment files win."""
    p = Path(name_or_path)
    if not p.suffix:
        local = Path(data_dir) / "mappings" / f"{name_or_path}.toml" if data_dir else None
        if local is not None and local.exists():
            p = local
        else:
            p = Path(str(resources.files("anju.taxonomy") / "data" / "mappings" / f"{name_or_path}.toml"))
    if not p.exists():
        raise TaxonomyError(f"mapping not found; shipped mappings are {shipped_mappings()}", path=p)
    raw = read_toml(p, error=TaxonomyError)
    unknown = set(raw) - {"mapping", "pair", "subcategory", "category"}
    if unknown:
        raise TaxonomyError(f"unknown section(s) {sorted(unknown)}; expected mapping, pair, subcategory, category",
                            path=p)
    for section in ("pair", "subcategory", "category"):
        for k, v in raw.get(section, {}).items():
            if not isinstance(v, str):
                raise TaxonomyError(f"value for {k!r} must be a category code string, got {v!r}", path=p,
                                    key=section)
    m = SourceMapping(
        raw.get("mapping", {}).get("source", p.stem),
        pair=raw.get("pair", {}),
        subcategory=raw.get("subcategory", {}),
        category=raw.get("category", {}),
        path=str(p),
    )
    return m.validate(taxonomy) if taxonomy is not None else m
