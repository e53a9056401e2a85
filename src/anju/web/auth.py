"""Logging in and out: password check, lockout, rate limits and server-side sessions.

- A new session (fresh random token) on every login, so a token planted before login is worthless (ASVS V7.2.4).
- Idle and absolute timeouts (checked in :mod:`anju.web.deps`); logout revokes the row (V7.4.1).
- After ``max_failed_logins`` wrong passwords in a row the account is locked for ``lockout_minutes``; an address
  with too many failures in the window must wait (V6.3.1, V2.4.1). Every attempt is stored (the login log).
- Unknown users and wrong passwords get the same answer and take the same time (a dummy hash is verified).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anju.ops import audit, passwords
from anju.ops.models import LoginAttempt, User, WebSession, utcnow
from anju.web.security import WebConfig, new_token, token_hash

__all__ = ["LoginFailed", "LoginResult", "login", "logout", "revoke_user_sessions"]


class LoginFailed(Exception):
    """Login refused; ``reason`` is ``bad_login``, ``locked`` or ``too_many`` (a key of the UI texts)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LoginResult:
    token: str
    web_session: WebSession
    user: User


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(passwords.hash_password("not-a-real-password-0000"))
    return _DUMMY_HASH[0]


def _record_attempt(session: Session, username: str, ip: str | None, ok: bool) -> None:
    session.add(LoginAttempt(username=username[:64], ip=ip, ok=ok, at=utcnow()))


def login(session: Session, username: str, password: str, *, ip: str | None, user_agent: str | None,
          config: WebConfig) -> LoginResult:
    """Check the password and open a new session; raises :class:`LoginFailed`. Commits."""
    now = utcnow()
    username = username.strip()[:64]
    window = now - timedelta(minutes=config.ip_window_minutes)
    if ip is not None:
        recent = session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.ip == ip, LoginAttempt.ok.is_(False), LoginAttempt.at >= window)) or 0
        if recent >= config.ip_attempts:
            _record_attempt(session, username, ip, False)
            audit.record(session, actor=None, action="login.rate_limited", target_type="user", target_id=username,
                         detail={"ip_failures": int(recent)}, ip=ip)
            session.commit()
            raise LoginFailed("too_many")
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        passwords.verify_password(password, _dummy_hash())  # same work as a real check
        _record_attempt(session, username, ip, False)
        audit.record(session, actor=None, action="login.failed", target_type="user", target_id=username,
                     detail={"reason": "unknown_or_inactive"}, ip=ip)
        session.commit()
        raise LoginFailed("bad_login")
    if user.locked_until is not None and user.locked_until > now:
        _record_attempt(session, username, ip, False)
        audit.record(session, actor=None, action="login.locked", target_type="user", target_id=str(user.id),
                     detail={"username": username}, ip=ip)
        session.commit()
        raise LoginFailed("locked")
    ok, new_hash = passwords.verify_password(password, user.password_hash)
    if not ok:
        user.failed_logins = (user.failed_logins or 0) + 1
        detail: dict[str, object] = {"failed_logins": user.failed_logins}
        if user.failed_logins >= config.max_failed_logins:
            user.locked_until = now + timedelta(minutes=config.lockout_minutes)
            user.failed_logins = 0
            detail["locked_until"] = user.locked_until.isoformat()
        _record_attempt(session, username, ip, False)
        audit.record(session, actor=None, action="login.failed", target_type="user", target_id=str(user.id),
                     detail=detail, ip=ip)
        session.commit()
        raise LoginFailed("locked" if "locked_until" in detail else "bad_login")
    if new_hash:
        user.password_hash = new_hash
    user.failed_logins = 0
    user.locked_until = None
    token = new_token()
    ws = WebSession(token_hash=token_hash(token), csrf_token=new_token(), user_id=user.id, created_at=now,
                    last_seen_at=now, expires_at=now + timedelta(hours=config.absolute_hours), ip=ip,
                    user_agent=(user_agent or "")[:300])
    session.add(ws)
    _record_attempt(session, username, ip, True)
    session.flush()
    audit.record(session, actor=user, action="login", target_type="session", target_id=str(ws.id), detail={},
                 ip=ip)
    session.commit()
    return LoginResult(token=token, web_session=ws, user=user)


def logout(session: Session, ws: WebSession, *, user: User, ip: str | None) -> None:
    """Revoke the session (its cookie no longer works anywhere). Commits."""
    ws.revoked_at = utcnow()
    audit.record(session, actor=user, action="logout", target_type="session", target_id=str(ws.id), detail={},
                 ip=ip)
    session.commit()


def revoke_user_sessions(session: Session, user_id: int) -> int:
    """Revoke every open session of a user (disabled account, role change, password reset); returns how many."""
    now = utcnow()
    rows = session.scalars(select(WebSession).where(WebSession.user_id == user_id,
                                                    WebSession.revoked_at.is_(None))).all()
    for ws in rows:
        ws.revoked_at = now
    return len(rows)
