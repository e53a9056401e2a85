"""The hashing key of a lake: checked against the fingerprint the lake remembers, never silently replaced.

Caller names and phone numbers are stored as HMACs under the deployment key (``ANJU_SECRET`` or
``<data_dir>/secret.key``). A different key makes every new hash stop matching the old ones — repeat callers vanish
without a word — so:

* the lake's manifest records the key's **fingerprint** (an HMAC of a fixed label under the key: it identifies the
  key without revealing it) at the first import;
* an import with a missing key (no ``ANJU_SECRET`` and no ``secret.key``) into a lake that has imports is refused,
  as is one whose key has another fingerprint; the message says how to restore the key;
* an empty or weak key (shorter than 16 characters, or a well-known default) is refused;
* a key file that others may read gets a warning.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
import warnings
from typing import Any

from anju.config import Settings, deployment_secret
from anju.errors import ConfigError

__all__ = ["MIN_KEY_CHARS", "fingerprint", "lake_key"]

MIN_KEY_CHARS = 16
_WEAK = {"changeme", "secret", "anju", "password", "123456", "0000000000000000"}
_LABEL = b"anju lake key fingerprint v1"


def fingerprint(key: bytes) -> str:
    """16 hex digits that identify ``key`` (an HMAC of a fixed label: the key cannot be recovered from it)."""
    return hmac.new(key, _LABEL, hashlib.sha256).hexdigest()[:16]


def lake_key(settings: Settings, manifest_data: dict[str, Any]) -> bytes:
    """The deployment key for writing into a lake whose manifest is ``manifest_data``, checked.

    Raises
    ------
    ConfigError
        The key is missing while the lake has imports, differs from the lake's, or is empty or weak.
    """
    path = settings.paths.secret_file
    remembered = manifest_data.get("key_fingerprint")
    has_data = bool(manifest_data.get("imports"))
    if not settings.secret and not path.exists() and (remembered or has_data):
        raise ConfigError(
            f"哈希密钥丢失：{path} 不存在，也未设置 ANJU_SECRET；而数据湖已有导入。请从备份恢复该文件（或设置原来的 "
            f"ANJU_SECRET）后重试，切勿生成新密钥，否则来电人哈希将无法与已有数据对应 / the hashing key is missing: "
            f"{path} does not exist and ANJU_SECRET is not set, but the lake already holds imports. Restore the file "
            "from a backup (or set the original ANJU_SECRET) and try again; a new key would make every caller hash "
            "stop matching the lake's", key="secret")
    if path.exists() and not settings.secret:
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            warnings.warn(f"{path}: 密钥文件可被其他用户读取，请执行 chmod 600 / the key file is readable by other "
                          "users; run chmod 600 on it", UserWarning, stacklevel=2)
    key = deployment_secret(settings)
    text = key.decode("utf-8", "replace").strip()
    if len(text) < MIN_KEY_CHARS or text.lower() in _WEAK or len(set(text)) < 4:
        where = "ANJU_SECRET" if settings.secret else str(path)
        raise ConfigError(
            f"哈希密钥过弱或为空（{where}）：至少 {MIN_KEY_CHARS} 个字符的随机串 / the hashing key in {where} is empty "
            f"or weak; use a random string of at least {MIN_KEY_CHARS} characters (e.g. `openssl rand -hex 32`)",
            key="secret")
    if remembered and fingerprint(key) != remembered:
        raise ConfigError(
            f"哈希密钥与数据湖不符（湖的密钥指纹 {remembered}，当前 {fingerprint(key)}）。请恢复原来的 secret.key 或 "
            f"ANJU_SECRET / the hashing key does not match the lake's (lake key fingerprint {remembered}, this key "
            f"{fingerprint(key)}): restore the original {path.name} or ANJU_SECRET; with another key caller hashes "
            "would stop matching", key="secret")
    return key
