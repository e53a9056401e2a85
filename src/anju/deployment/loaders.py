"""The loaders of the deployment's TOML files: each reads the shipped file and the data directory's override.

Only :func:`anju.deployment.load_deployment` calls these; analytics receive the validated objects and never read a
file. Errors name the file, the key and the value.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from anju.analytics.index import IndexConfig
from anju.analytics.rankings import RankingDef
from anju.config import merge_tables, read_toml, validate_config
from anju.errors import ConfigError
from anju.taxonomy import Taxonomy

__all__ = ["default_index_path", "default_rankings_path", "load_index_config", "load_rankings"]


def default_index_path() -> Path:
    """The shipped index.toml."""
    return Path(str(resources.files("anju") / "data" / "index.toml"))


def load_index_config(path: str | Path | None = None, *, data_dir: str | Path | None = None) -> IndexConfig:
    """The shipped index.toml (or ``path``), with keys overridden by ``<data_dir>/index.toml`` if present.

    Examples
    --------
    >>> cfg = load_index_config()
    >>> cfg.weights.rate, [g.zh for g in cfg.grade]
    (0.6, ['优', '良', '中', '差'])
    """
    files = [Path(path) if path is not None else default_index_path()]
    if data_dir is not None and (Path(data_dir) / "index.toml").exists():
        files.append(Path(data_dir) / "index.toml")
    raw: dict[str, Any] = {}
    for f in files:
        if not f.exists():
            raise ConfigError("index file not found", path=f)
        raw = merge_tables(raw, read_toml(f))
    return validate_config(IndexConfig, raw, path=files[-1])


def default_rankings_path() -> Path:
    """The shipped rankings.toml."""
    return Path(str(resources.files("anju") / "data" / "rankings.toml"))


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError("rankings file not found", path=path)
    raw = read_toml(path)
    extra = set(raw) - {"ranking", "meta"}
    if extra:
        raise ConfigError(f"unknown top-level keys {sorted(extra)}; expected [ranking.<id>] tables", path=path)
    tables = raw.get("ranking", {})
    if not isinstance(tables, dict):
        raise ConfigError("expected [ranking.<id>] tables", path=path, key="ranking")
    return tables


def _validate(path: Path, rid: str, body: Any, taxonomy: Taxonomy) -> RankingDef:
    if not isinstance(body, dict):
        raise ConfigError("expected a table of settings", path=path, key=f"ranking.{rid}")
    d = validate_config(RankingDef, {"id": rid, **body}, path=path, key_prefix=f"ranking.{rid}")
    for f in d.families:
        if f not in taxonomy.families:
            raise ConfigError(f"unknown family {f!r}; known families: {', '.join(taxonomy.families)}", path=path,
                              key=f"ranking.{rid}.families")
    for c in d.categories:
        if c not in taxonomy:
            raise ConfigError(f"unknown category code {c!r}; see docs/taxonomy.md", path=path,
                              key=f"ranking.{rid}.categories")
    if not d.leaf_codes(taxonomy):
        raise ConfigError("selects no category at all", path=path, key=f"ranking.{rid}")
    return d


def load_rankings(
    path: str | Path | None = None,
    *,
    data_dir: str | Path | None = None,
    taxonomy: Taxonomy,
    include_disabled: bool = False,
) -> dict[str, RankingDef]:
    """Ranking definitions: the shipped file (or ``path``) merged by id with ``<data_dir>/rankings.toml``.

    A deployment entry replaces the shipped entry of the same id entirely; ``enabled = false`` removes it.
    Errors name the file and the key, e.g. ``rankings.toml: [ranking.thief_favourite.per]: Input should be
    'households', 'residents' or 'none' (got 'homes')``.

    Examples
    --------
    >>> from anju.taxonomy import load_taxonomy
    >>> defs = load_rankings(taxonomy=load_taxonomy())
    >>> defs["thief_favourite"].zh, defs["thief_favourite"].per
    ('最受小偷欢迎小区', 'households')
    """
    tax = taxonomy
    files = [Path(path) if path is not None else default_rankings_path()]
    if data_dir is not None and (Path(data_dir) / "rankings.toml").exists():
        files.append(Path(data_dir) / "rankings.toml")
    out: dict[str, RankingDef] = {}
    for f in files:
        if not f.exists():
            raise ConfigError("rankings file not found", path=f)
        for rid, body in _read(f).items():
            out[rid] = _validate(f, rid, body, tax)
    return out if include_disabled else {k: v for k, v in out.items() if v.enabled}
