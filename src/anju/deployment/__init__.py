"""The deployment: every configuration file of one district, loaded once, validated, and passed explicitly.

A :class:`Deployment` is built by :func:`load_deployment` from the :class:`~anju.config.Settings` (which name the data
directory). It holds the taxonomy, the safety-index weights, the ranking definitions, the text-audit rules, the
segmenter (dictionary and stop words), the night window and the analysis thresholds. Each comes from the file shipped
in the package, overridden by the deployment's own file in the data directory when there is one:

=============================  ===========================================  =====================================
what                           deployment file (in the data directory)       how it combines with the shipped one
=============================  ===========================================  =====================================
taxonomy                       ``taxonomy.toml``                             replaces it
safety-index weights           ``index.toml``                                key by key
rankings                       ``rankings.toml``                             entry by id (``enabled = false`` drops)
text-audit rules               ``text/downgrade_rules.toml``                 replaces it
segmenter dictionary           ``text/user_dict.txt``                        adds words
stop words                     ``text/stopwords.txt``                        adds words
night window, thresholds       ``analysis.toml``                             key by key
=============================  ===========================================  =====================================

The release, every CLI command, the web app and the worker take the same object, so a deployment's file changes
every surface the same way. Analytics never read a file: services hand them the parts they need (``dep.taxonomy``,
``dep.index``…) as required arguments. The object is immutable and shared safely between requests; nothing in it is
a module-level cache. See docs/configuration.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from anju.config import DataDir, Settings, merge_tables, read_toml, validate_config
from anju.errors import ConfigError

if TYPE_CHECKING:
    from anju.analytics.index import IndexConfig
    from anju.analytics.rankings import RankingDef
    from anju.analytics.window import NightWindow
    from anju.taxonomy import Taxonomy
    from anju.text.audit import AuditRules
    from anju.text.segment import Segmenter

__all__ = ["ANALYSIS_FILE", "AnalysisConfig", "Deployment", "config_files", "load_analysis_config",
           "load_deployment"]

ANALYSIS_FILE = "analysis.toml"


class _Night(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: str = "21:00-03:00"

    @field_validator("window")
    @classmethod
    def _parse(cls, v: str) -> str:
        from anju.analytics.window import NightWindow

        try:
            NightWindow.parse(v)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return v


class _Heat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cell_m: float = Field(default=150.0, gt=0, description="Cell size of the release's heat map (m).")
    bandwidth_m: float = Field(default=300.0, gt=0, description="Kernel bandwidth of the release's heat map (m).")
    min_share: float = Field(default=0.05, ge=0, lt=1, description="Heat cells below this share of the maximum are left out.")


class _Release(BaseModel):
    model_config = ConfigDict(extra="forbid")
    top_terms: int = Field(default=80, ge=1, description="Terms in the release's word cloud.")
    supervision_n: int = Field(default=10, ge=1, description="Areas on the release's supervision list.")


class AnalysisConfig(BaseModel):
    """The night window and the thresholds of the release (``analysis.toml``)."""

    model_config = ConfigDict(extra="forbid")
    night: _Night = _Night()
    heat: _Heat = _Heat()
    release: _Release = _Release()


def default_analysis_path() -> Path:
    """The shipped analysis.toml."""
    return Path(str(resources.files("anju") / "data" / ANALYSIS_FILE))


def load_analysis_config(data_dir: str | Path | None = None) -> AnalysisConfig:
    """The shipped ``analysis.toml`` with keys overridden by ``<data_dir>/analysis.toml`` when present."""
    files = [default_analysis_path()]
    if data_dir is not None and (Path(data_dir) / ANALYSIS_FILE).exists():
        files.append(Path(data_dir) / ANALYSIS_FILE)
    raw: dict[str, Any] = {}
    for f in files:
        raw = merge_tables(raw, read_toml(f))
    return validate_config(AnalysisConfig, raw, path=files[-1])


def config_files(data_dir: str | Path) -> dict[str, Path]:
    """The deployment files a data directory may hold, by what they configure (present or not)."""
    root = Path(data_dir)
    return {
        "taxonomy": root / "taxonomy.toml",
        "index": root / "index.toml",
        "rankings": root / "rankings.toml",
        "audit_rules": root / "text" / "downgrade_rules.toml",
        "user_dict": root / "text" / "user_dict.txt",
        "stopwords": root / "text" / "stopwords.txt",
        "analysis": root / ANALYSIS_FILE,
    }


@dataclass(frozen=True)
class Deployment:
    """One district's validated configuration; build it with :func:`load_deployment`.

    Attributes
    ----------
    settings : the settings it was built from (data directory, language, engine…).
    taxonomy : the call-type taxonomy.
    index : the safety-index weights, scales and grades.
    rankings : the enabled ranking definitions, by id (read-only mapping).
    audit_rules : the rules of the text audit (downgraded codes), resolved against ``taxonomy``.
    segmenter : the Chinese segmenter with the deployment's dictionary and stop words.
    analysis : night window and release thresholds.
    sources : the deployment files that were found and used, by what they configure.
    """

    settings: Settings
    taxonomy: Taxonomy
    index: IndexConfig
    rankings: Mapping[str, RankingDef]
    audit_rules: AuditRules
    segmenter: Segmenter
    analysis: AnalysisConfig
    sources: Mapping[str, Path] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    @property
    def paths(self) -> DataDir:
        return self.settings.paths

    @property
    def lang(self) -> str:
        return self.settings.lang

    @property
    def night(self) -> NightWindow:
        """The night window of every night figure (rankings with ``night = true``, the release's night section)."""
        from anju.analytics.window import NightWindow

        return NightWindow.parse(self.analysis.night.window)

    @property
    def model_store(self) -> Path:
        """The only folder text models (joblib) are loaded from: ``<data_dir>/models``."""
        return self.paths.models

    def describe(self) -> list[tuple[str, str]]:
        """``(what, source)`` pairs: which file each part came from (``shipped`` when the deployment has none)."""
        return [(k, str(self.sources.get(k, "shipped"))) for k in config_files(self.data_dir)]


def load_deployment(settings: Settings) -> Deployment:
    """Load and validate every configuration file of ``settings.data_dir`` (shipped defaults where absent).

    A problem raises :class:`~anju.errors.ConfigError` (or :class:`~anju.errors.TaxonomyError`) naming the file, the
    key and the value, e.g. ``…/index.toml: [weights.rate]: Input should be greater than or equal to 0 (got -1)``.

    Examples
    --------
    >>> from anju.config import load_settings
    >>> dep = load_deployment(load_settings(data_dir="/tmp/anju-doc-deployment"))
    >>> dep.index.weights.rate, dep.night.label(), "thief_favourite" in dep.rankings
    (0.6, '21:00–03:00', True)
    """
    from anju.deployment.loaders import load_index_config, load_rankings
    from anju.taxonomy import load_taxonomy
    from anju.text.audit import load_audit_rules
    from anju.text.segment import Segmenter

    root = Path(settings.data_dir)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"the data directory {root} is a file; pass a folder with --data-dir", key="data_dir")
    files = config_files(root)
    found = {k: p for k, p in files.items() if p.exists()}
    taxonomy = load_taxonomy(data_dir=root)
    index = load_index_config(data_dir=root)
    rankings = load_rankings(data_dir=root, taxonomy=taxonomy)
    rules = load_audit_rules(taxonomy=taxonomy, data_dir=root)
    analysis = load_analysis_config(root)
    # a ranking "at night" (night = true) counts the deployment's night window, like every other night figure
    rankings = {k: d.model_copy(update={"night": analysis.night.window}) if d.night is True else d
                for k, d in rankings.items()}
    try:
        segmenter = Segmenter(data_dir=root)
    except ValueError as exc:  # ConfigError/DataNotFoundError from the dictionary readers already name the file
        raise ConfigError(str(exc)) from exc
    return Deployment(settings=settings, taxonomy=taxonomy, index=index, rankings=MappingProxyType(dict(rankings)),
                      audit_rules=rules, segmenter=segmenter, analysis=analysis,
                      sources=MappingProxyType(found))
