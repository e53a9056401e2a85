"""Deployment settings and the layout of the data directory.

One pydantic-settings class, built by :func:`load_settings` and passed down (never a module-level singleton, so
tests can run many data directories side by side). Values come from, in order: explicit arguments (CLI flags),
environment variables ``ANJU_*``, the data directory's ``anju.toml``, and the defaults below.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from anju.errors import ConfigError

__all__ = ["SETTINGS_HELP", "DataDir", "Settings", "deployment_secret", "load_settings", "merge_tables",
           "read_config_text", "read_toml", "validate_config"]

DEFAULT_DATA_DIR = Path("anju-data")


class Settings(BaseSettings):
    """Settings of one anju deployment. Every field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="ANJU_", extra="forbid")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where the lake, areas, profiles and secret live.")
    lang: Literal["zh", "en"] = Field("zh", description="Language of reports, UI and CLI messages.")
    engine: Literal["duckdb", "spark"] = Field("duckdb", description="Query engine for analytics.")
    spark_master: str = Field(
        "local[2]", description="Spark master for --engine spark: local[N], spark://host:7077, yarn, or a Spark "
                                "Connect URL sc://host:15002."
    )
    timezone: str = Field("Asia/Shanghai", description="Default time zone of source timestamps.")
    nearest_threshold_m: float = Field(
        200.0, ge=0, description="Points outside every polygon snap to the nearest area within this distance (m)."
    )
    batch_rows: int = Field(300_000, gt=1000, description="Rows per ingest batch (bounds memory).")
    secret: str | None = Field(
        None, description="HMAC secret for personal data; default: generated once into <data_dir>/secret.key."
    )
    quiet: bool = Field(False, description="Silence progress bars.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the operations database (e.g. postgresql+psycopg://user@host/anju); "
                          "default: SQLite <data_dir>/ops.sqlite3."
    )

    @cached_property
    def paths(self) -> DataDir:
        """The data directory's layout."""
        return DataDir(self.data_dir)


SETTINGS_HELP: dict[str, str] = {
    name: (field.description or "") for name, field in Settings.model_fields.items()
}


class DataDir:
    """Paths inside a data directory; creates nothing until asked to."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def settings_file(self) -> Path:
        return self.root / "anju.toml"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def incidents(self) -> Path:
        return self.lake / "incidents"

    @property
    def quarantine(self) -> Path:
        return self.lake / "quarantine"

    @property
    def manifest(self) -> Path:
        return self.lake / "manifest.json"

    @property
    def staging(self) -> Path:
        return self.lake / "_staging"

    @property
    def areas(self) -> Path:
        return self.root / "areas"

    @property
    def profiles(self) -> Path:
        return self.root / "profiles"

    @property
    def taxonomy(self) -> Path:
        return self.root / "taxonomy.toml"

    @property
    def secret_file(self) -> Path:
        return self.root / "secret.key"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    def ensure(self) -> DataDir:
        """Create the directory skeleton (idempotent)."""
        for p in (self.lake, self.incidents, self.quarantine, self.areas, self.profiles):
            p.mkdir(parents=True, exist_ok=True)
        return self


def read_toml(path: Path, *, error: type[ConfigError] = ConfigError, shown: object | None = None) -> dict[str, Any]:
    """Read a UTF-8 TOML configuration file; a decode or syntax error becomes ``error`` naming the file.

    Every configuration loader (settings, taxonomy, mappings, profiles, rankings, rules) reads through here so a
    broken file always gets the same clear message. ``shown`` is how the file is named in the message.
    """
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"is not valid UTF-8 TOML: {exc}", path=shown if shown is not None else path,
                    zh=f"不是有效的 UTF-8 TOML（{exc}）；请修正该行或恢复原文件") from exc


def read_config_text(path: Path, *, error: type[ConfigError] = ConfigError) -> str:
    """The text of a UTF-8 configuration file; a file that is not UTF-8 text becomes ``error`` naming the file."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 TOML", path=path,
                    zh=f"不是 UTF-8 文本（第 {exc.start} 字节）；请另存为 UTF-8 编码的 TOML") from None


def merge_tables(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the keys of ``over`` laid on top, table by table (how a deployment file overrides a shipped one)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge_tables(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


M = TypeVar("M", bound=BaseModel)


def validate_config(model: type[M], raw: Any, *, path: object, key_prefix: str = "",
                    error: type[ConfigError] = ConfigError) -> M:
    """Validate ``raw`` (parsed TOML) with a pydantic ``model``; the first problem becomes ``error`` naming the
    file, the key (``key_prefix`` + the field path) and the value that was given."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        sub = ".".join(str(x) for x in err["loc"])
        key = ".".join(k for k in (key_prefix, sub) if k) or None
        raise error(f"{err['msg']} (got {err.get('input')!r})", path=path, key=key,
                    zh=f"取值无效（{err['msg']}），实际为 {err.get('input')!r}；请按文档修正") from exc


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from overrides (non-None values), ``ANJU_*`` variables and ``<data_dir>/anju.toml``.

    Examples
    --------
    >>> s = load_settings(data_dir="/tmp/anju-doc-example")
    >>> s.lang, s.engine
    ('zh', 'duckdb')
    """
    explicit = {k: v for k, v in overrides.items() if v is not None}
    data_dir = Path(explicit.get("data_dir") or os.environ.get("ANJU_DATA_DIR") or DEFAULT_DATA_DIR)
    file_values: dict[str, Any] = {}
    settings_file = data_dir / "anju.toml"
    if settings_file.exists():
        file_values = read_toml(settings_file).get("anju", {})
    env_names = {name for name in Settings.model_fields if f"ANJU_{name.upper()}" in os.environ}
    merged = {k: v for k, v in file_values.items() if k not in env_names}
    merged.update(explicit)
    merged["data_dir"] = data_dir
    try:
        return Settings(**merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        got = first.get("input")
        if key in explicit:  # a command-line option (--lang, --engine…) or an argument of the caller
            where_en, where_zh, path, toml_key = f"--{key.replace('_', '-')} ", f"--{key.replace('_', '-')} ", None, None
        elif key in env_names:
            where_en, where_zh, path, toml_key = f"ANJU_{key.upper()}: ", f"环境变量 ANJU_{key.upper()}：", None, None
        else:
            where_en = where_zh = ""
            path, toml_key = settings_file, f"anju.{key}"
        raise ConfigError(f"{where_en}{first['msg']} (got {got!r})", path=path, key=toml_key,
                          zh=f"{where_zh}取值无效（{first['msg']}），实际为 {got!r}") from exc


def deployment_secret(settings: Settings) -> bytes:
    """The per-deployment HMAC key: ``settings.secret`` if set, else ``secret.key`` (created once, mode 0600)."""
    if settings.secret:
        if settings.secret in {"changeme", "secret", "anju"}:
            raise ConfigError("refusing a default/guessable secret; set ANJU_SECRET to a long random string",
                              key="secret")
        return settings.secret.encode("utf-8")
    path = settings.paths.secret_file
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
