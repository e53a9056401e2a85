"""Anti-abuse for public submissions: text hygiene, rate limits, duplicate detection, moderation flags.

* :func:`clean_text` keeps what the resident wrote (it is shown escaped, never interpreted) but refuses what no
  resident writes: more than the configured length, NUL and other control characters are dropped, the text is
  NFC-normalised, lone surrogates from odd encodings are replaced.
* :class:`RateLimiter` is a sliding-window counter per key (plate code, client address) held in the process; a
  refused request gets HTTP 429 with ``Retry-After``. One web process holds one limiter; with several processes each
  enforces its own share, and the database-side duplicate check still holds across them.
* :func:`similarity` / :func:`find_duplicate`: character-bigram Jaccard similarity of normalised texts; a report on
  the same plate within the window whose similarity reaches the threshold is a duplicate (linked, not dispatched
  twice).
* :func:`moderation_reasons`: why a report should wait for a moderator before it is dispatched (links, markup,
  repeated characters, contact-only spam).
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Iterable, Sequence

from anju.errors import AnjuError

__all__ = [
    "InputError",
    "RateLimiter",
    "clean_text",
    "find_duplicate",
    "moderation_reasons",
    "similarity",
]


class InputError(AnjuError, ValueError):
    """A submission that cannot be accepted as it is (the message says what to change)."""


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str | None, *, max_chars: int, required: bool = True, field: str = "内容") -> str:
    """The text to store: NFC, control and bidi-override characters removed, trimmed; raises :class:`InputError`
    when it is empty (and required) or longer than ``max_chars``."""
    s = "" if text is None else str(text)
    s = _SURROGATE.sub("\ufffd", s)  # lone surrogates (odd encodings) → U+FFFD
    s = unicodedata.normalize("NFC", _CONTROL.sub("", s)).strip()
    if required and not s:
        raise InputError(f"{field}不能为空 / {field} must not be empty")
    if len(s) > max_chars:
        raise InputError(f"{field}过长：{len(s)} 字，最多 {max_chars} 字 / too long: {len(s)} characters, "
                         f"at most {max_chars}")
    return s


class RateLimiter:
    """Sliding-window limit of ``limit`` events per ``window`` seconds per key; thread-safe.

    Examples
    --------
    >>> rl = RateLimiter(2, 60.0)
    >>> [rl.hit("plate-A", now=t) for t in (0.0, 1.0, 2.0, 61.5)]
    [True, True, False, True]
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = 0.0

    def hit(self, key: str, *, now: float | None = None) -> bool:
        """Count one event for ``key``; False when the key is over its limit (the event is not counted)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= t - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(t)
            if t - self._last_sweep > self.window * 10:  # bound memory: drop idle keys now and then
                self._last_sweep = t
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= t - self.window]:
                    del self._hits[k]
            return True

    def retry_after(self, key: str, *, now: float | None = None) -> int:
        """Seconds until ``key`` may send again (at least 1)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.get(key)
            if not q or len(q) < self.limit:
                return 1
            return max(1, int(q[0] + self.window - t + 0.999))


_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def _bigrams(text: str) -> set[str]:
    s = _PUNCT.sub("", unicodedata.normalize("NFKC", text).lower())
    if len(s) < 2:
        return {s} if s else set()
    return {s[i:i + 2] for i in range(len(s) - 1)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams of two texts (punctuation and spaces ignored), 0–1.

    >>> round(similarity("楼上装修噪音太大，请处理", "楼上装修噪音太大了请处理！"), 2)
    0.75
    """
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def find_duplicate(text: str, recent: Iterable[tuple[str, str]], *, threshold: float) -> str | None:
    """The id of the first of ``recent`` (id, text) pairs at least ``threshold`` similar to ``text``, else None.
    The caller passes the reports of the same plate within the duplicate window."""
    for rid, other in recent:
        if similarity(text, other) >= threshold:
            return rid
    return None


_URL = re.compile(r"(https?://|www\.|\.(com|cn|net|top|xyz)\b)", re.I)
_MARKUP = re.compile(r"<\s*/?\s*[a-z!][^>]*>|javascript:|on\w+\s*=", re.I)
_REPEAT = re.compile(r"(.)\1{9,}")
_CONTACT = re.compile(r"(加微|微信|vx|qq|薇信)[:：\s]*[\w-]{5,}", re.I)


def moderation_reasons(text: str) -> Sequence[str]:
    """Why a text should be held for a moderator (empty: none). Held reports are stored, never dropped."""
    out = []
    if _URL.search(text):
        out.append("link")
    if _MARKUP.search(text):
        out.append("markup")
    if _REPEAT.search(text):
        out.append("repeated_characters")
    if _CONTACT.search(text):
        out.append("advertising_contact")
    return out
