"""The call-type taxonomy (警情分类): families, leaf categories and per-source code mappings.

Shipped as TOML in ``anju/taxonomy/data``; a deployment overrides it with ``<data_dir>/taxonomy.toml`` and adds
mappings in ``<data_dir>/mappings/<source>.toml``. See docs/taxonomy.md.
"""

from anju.taxonomy.loader import Category, Family, Taxonomy, load_taxonomy
from anju.taxonomy.mapping import SourceMapping, load_mapping

__all__ = ["Category", "Family", "SourceMapping", "Taxonomy", "load_mapping", "load_taxonomy"]
