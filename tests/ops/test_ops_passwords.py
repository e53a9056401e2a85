"""argon2 password hashes."""

from __future__ import annotations

import pytest

from anju.errors import OpsError
from anju.ops.passwords import check_password_rule, hash_password, verify_password


def test_hash_and_verify() -> None:
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$")
    assert "correct horse" not in h
    assert hash_password("correct horse battery") != h  # salted
    assert verify_password("correct horse battery", h) == (True, None)
    assert verify_password("wrong horse battery", h)[0] is False
    assert verify_password("x", "not-a-hash") == (False, None)


def test_password_rule() -> None:
    check_password_rule("a-long-enough-pass", username="bob")
    with pytest.raises(OpsError, match="too short"):
        check_password_rule("short")
    with pytest.raises(OpsError, match="username"):
        check_password_rule("stationuser", username="StationUser")
