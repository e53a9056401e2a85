"""The one place for anju's exceptions.

Every error anju raises on purpose is an :class:`AnjuError`; the CLI turns it into a clean message and exit code 1.
Subclasses also inherit the matching builtin (like scikit-learn's ``NotFittedError(ValueError, AttributeError)``)
so callers that catch ``ValueError`` or ``FileNotFoundError`` keep working. Messages say what was wrong, the value,
what was expected and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "AnalyticsError",
    "AnjuError",
    "ConfigError",
    "DataNotFoundError",
    "EncodingError",
    "GeoError",
    "IngestError",
    "KDEError",
    "LakeError",
    "ModelError",
    "NotFittedError",
    "OpsError",
    "PeriodError",
    "ProfileError",
    "ReleaseError",
    "TaxonomyError",
]


class AnjuError(Exception):
    """Base class of every error anju raises deliberately."""


class ConfigError(AnjuError, ValueError):
    """A configuration file (TOML) or setting is invalid; the message names the file, the key and the problem."""

    def __init__(self, message: str, *, path: object | None = None, key: str | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}"
            if key:
                where += f": [{key}]"
            where += ": "
        elif key:
            where = f"[{key}]: "
        super().__init__(where + message)
        self.path = path
        self.key = key


class TaxonomyError(ConfigError):
    """The taxonomy file is invalid (duplicate code, unknown parent, bad flag…)."""


class ProfileError(ConfigError):
    """A source profile is invalid or does not fit the file it is applied to."""


class DataNotFoundError(AnjuError, FileNotFoundError):
    """A file, layer, import or period that was asked for does not exist."""


class EncodingError(AnjuError, ValueError):
    """A text file could not be decoded with the detected or given encoding."""


class IngestError(AnjuError, RuntimeError):
    """An import could not proceed (nothing was written to the lake)."""


class LakeError(AnjuError, RuntimeError):
    """The lake or its manifest is unreadable or inconsistent."""


class GeoError(AnjuError, ValueError):
    """Bad geometry, an unknown coordinate system, or a CRS mismatch."""


class NotFittedError(AnjuError, ValueError, AttributeError):
    """A model was used before ``fit``."""


class ModelError(AnjuError, RuntimeError):
    """A model file is missing, modified, or was made by an incompatible version."""


class KDEError(AnjuError, ValueError):
    """Invalid heat-map parameters (cell size, bandwidth, extent)."""


class ReleaseError(AnjuError, ValueError):
    """A release object is inconsistent (a figure names a missing table or column, a table lacks a column…)."""


class AnalyticsError(AnjuError, ValueError):
    """A parameter of an analytic is invalid (unknown level, category, missing attribute…)."""


class PeriodError(AnjuError, ValueError):
    """A period text that cannot be parsed or a comparison that cannot be resolved."""
class OpsError(AnjuError, RuntimeError):
    """The operations database refused an operation (bad record, broken audit chain, unknown job…)."""


class AccessDeniedError(AnjuError, PermissionError):
    """A user asked to read or write something outside their role's permissions or their data scope."""
