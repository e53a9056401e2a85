"""Password hashing with argon2 (pwdlib), and the password rule.

Hashes carry their parameters, so :func:`verify_password` also says when a stored hash should be upgraded to the
current parameters (rehash on the next successful login).
"""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from anju.errors import OpsError

__all__ = ["MIN_LENGTH", "check_password_rule", "hash_password", "verify_password"]

MIN_LENGTH = 10
"""Minimum password length (ASVS 6.2.1 asks for at least 8; 15 recommended for single-factor logins)."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


def check_password_rule(password: str, *, username: str | None = None) -> None:
    """Raise :class:`~anju.errors.OpsError` for a password that is too short or equal to the username."""
    if len(password) < MIN_LENGTH:
        raise OpsError(f"password too short: {len(password)} characters; at least {MIN_LENGTH} are required")
    if username and password.casefold() == username.casefold():
        raise OpsError("password must not equal the username")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (a fresh random salt each time)."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """``(ok, new_hash)``: whether ``password`` matches, and a replacement hash when the stored one uses outdated
    parameters (None otherwise). A malformed stored hash never matches."""
    try:
        return _hasher().verify_and_update(password, password_hash)
    except Exception:  # malformed or unknown hash format: treat as a failed login, never as a crash
        return False, None
