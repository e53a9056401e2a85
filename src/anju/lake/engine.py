"""The engine factory: the one place that turns ``Settings.engine`` into a lake connection.

``duckdb`` (the embedded default) opens a :class:`~anju.lake.connection.Lake`; ``spark`` is a documented setting
that is not built yet, so it is refused with a clear error instead of being silently ignored (the Spark issue fills
it in here, and nowhere else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anju.errors import ConfigError

if TYPE_CHECKING:
    from anju.config import Settings
    from anju.lake.connection import Lake

__all__ = ["ENGINES", "open_lake"]

ENGINES = ("duckdb", "spark")
"""Values of ``Settings.engine`` (``ANJU_ENGINE``, ``--engine``)."""


def open_lake(settings: Settings) -> Lake:
    """Open the lake of ``settings.data_dir`` on the engine ``settings.engine``; use it as a context manager.

    Examples
    --------
    >>> from anju.config import load_settings
    >>> with open_lake(load_settings(data_dir="/tmp/anju-doc-engine")) as lake:
    ...     lake.incidents().count().execute()
    0
    >>> try:
    ...     open_lake(load_settings(data_dir="/tmp/anju-doc-engine", engine="spark"))
    ... except ConfigError as exc:
    ...     str(exc).split(";")[0]
    "[engine]: engine 'spark' is not available in this version of anju"
    """
    engine = settings.engine
    if engine == "duckdb":
        from anju.lake.connection import Lake

        return Lake(settings)
    if engine == "spark":
        raise ConfigError("engine 'spark' is not available in this version of anju; use --engine duckdb (the "
                          "default) or unset ANJU_ENGINE / `engine` in anju.toml", key="engine")
    raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}", key="engine")
