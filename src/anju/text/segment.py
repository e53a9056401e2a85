"""The segmentation service: rjieba with a police-domain dictionary and stop words, jieba where its extras are needed.

rjieba (a binding of jieba-rs) segments about 30× faster than jieba and gives the same tokens, so every bulk path
uses it. It has ``add_word`` but no loader for dictionary files, so :class:`Segmenter` reads the shipped
``data/police_dict.txt`` (and any deployment file) once and adds each word to its *own* ``rjieba.Jieba`` instance —
the process-wide default is never touched, so two segmenters with different dictionaries can live side by side.
jieba is loaded lazily, only for what rjieba lacks (TextRank keywords via :meth:`Segmenter.jieba`), with the same
words.

Dictionary files use jieba's format, one entry a line: ``word [freq] [tag]`` (``#`` starts a comment). Without a
frequency the segmenter picks the smallest one that keeps the word whole. Deployments extend the dictionary with
``<data_dir>/text/user_dict.txt`` and the stop words with ``<data_dir>/text/stopwords.txt``.
"""

from __future__ import annotations

import logging
import re
import string
import threading
import warnings
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from anju.errors import ConfigError, DataNotFoundError
from anju.text.normalize import MASKED_PHONE, normalize_one

__all__ = [
    "Segmenter",
    "package_dictionary_path",
    "package_stopwords_path",
    "read_dictionary",
    "read_stopwords",
]

_PUNCT = set(string.punctuation) | set("，。、；：？！…—–·‘’“”「」『』《》〈〉【】〔〕（）［］｛｝～￥%‰℃°§№☆★○●◎◇◆□■△▲※→←↑↓〓　 \t\n\r")
_MASKED_SPLIT = re.compile(r"((?<![0-9])1[3-9][0-9]\*{4}[0-9]{4}(?![0-9]))")
_KEEP_MIXED = re.compile(r"\w")


def package_dictionary_path() -> Path:
    """Path of the shipped police-domain dictionary."""
    return Path(str(resources.files("anju.text") / "data" / "police_dict.txt"))


def package_stopwords_path() -> Path:
    """Path of the shipped stop-word list."""
    return Path(str(resources.files("anju.text") / "data" / "stopwords.txt"))


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    if not path.exists():
        raise DataNotFoundError(f"dictionary file {path} does not exist; create it or pass another path")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"is not UTF-8 ({exc}); save it as UTF-8", path=path) from exc
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            yield no, line


def read_dictionary(path: str | Path) -> list[tuple[str, int | None, str | None]]:
    """Entries ``(word, freq or None, tag or None)`` of a jieba-format dictionary file.

    Raises :class:`~anju.errors.ConfigError` naming the file and line when a frequency is not a positive integer.
    """
    p = Path(path)
    out: list[tuple[str, int | None, str | None]] = []
    for no, line in _lines(p):
        parts = line.split()
        word, freq, tag = parts[0], None, None
        rest = parts[1:]
        if rest and rest[0].isdigit():
            freq = int(rest.pop(0))
            if freq <= 0:
                raise ConfigError(f"line {no}: frequency of {word!r} must be a positive integer; got {freq}",
                                  path=p)
        elif rest and re.fullmatch(r"[-+]?\d+(\.\d+)?", rest[0]):
            raise ConfigError(f"line {no}: frequency of {word!r} must be a positive integer; got {rest[0]!r}",
                              path=p)
        if rest:
            tag = rest[0]
        out.append((word, freq, tag))
    return out


def read_stopwords(path: str | Path) -> set[str]:
    """The words of a stop-word file (one a line, ``#`` comments)."""
    return {line.split()[0] for _, line in _lines(Path(path))}


class Segmenter:
    """Chinese word segmentation with the police-domain dictionary, stop words removed.

    Parameters
    ----------
    user_dict
        Extra dictionary file(s) in jieba format (``word [freq] [tag]``), added after the shipped one.
    data_dir
        A deployment data directory; ``<data_dir>/text/user_dict.txt`` and ``<data_dir>/text/stopwords.txt`` are
        added when present.
    stopwords
        Extra stop words (on top of the shipped list).
    keep_stopwords
        Keep stop words (punctuation and whitespace are still dropped).
    normalize
        Run :func:`anju.text.normalize.normalize_one` first (width, traditional → simplified, whitespace, masked
        phones). Turn off only for text that is already normalised.
    hmm
        Use the HMM for words not in the dictionary (jieba's default).

    Examples
    --------
    >>> seg = Segmenter()
    >>> seg.cut("报警人称在闲鱼遭遇杀猪盘，被骗3万元，联系电话138****5678")
    ['闲鱼', '遭遇', '杀猪盘', '被骗', '3', '万元', '138****5678']
    """

    def __init__(
        self,
        user_dict: str | Path | Sequence[str | Path] | None = None,
        *,
        data_dir: str | Path | None = None,
        stopwords: Iterable[str] | None = None,
        keep_stopwords: bool = False,
        normalize: bool = True,
        hmm: bool = True,
    ) -> None:
        self.user_dict = user_dict
        self.data_dir = data_dir
        self.keep_stopwords = keep_stopwords
        self.normalize = normalize
        self.hmm = hmm
        files = [package_dictionary_path()]
        if user_dict is not None:
            files += [Path(user_dict)] if isinstance(user_dict, str | Path) else [Path(p) for p in user_dict]
        stop_files = [package_stopwords_path()]
        if data_dir is not None:
            for name, lst in (("user_dict.txt", files), ("stopwords.txt", stop_files)):
                p = Path(data_dir) / "text" / name
                if p.exists():
                    lst.append(p)
        self.dictionary_files = files
        self.entries: list[tuple[str, int | None, str | None]] = [e for f in files for e in read_dictionary(f)]
        self._rs: Any = None  # the rjieba instance, built on first cut (see _jieba_rs)
        self._rs_lock = threading.Lock()
        stop: set[str] = set()
        for f in stop_files:
            stop |= read_stopwords(f)
        if stopwords is not None:
            stop |= set(stopwords)
        #: the stop words in force (without the always-dropped punctuation)
        self.stopwords: frozenset[str] = frozenset(stop)
        self._drop = frozenset(_PUNCT) if keep_stopwords else frozenset(stop | _PUNCT)
        self._jieba: Any = None

    @property
    def _jieba_rs(self) -> Any:
        """The rjieba instance with the dictionary words, built on first use (~0.25 s CPU): loading a deployment
        validates the dictionary files (above) but commands that never segment do not pay for rjieba."""
        if self._rs is None:
            with self._rs_lock:
                if self._rs is None:
                    import rjieba

                    rs = rjieba.Jieba()
                    for word, freq, tag in self.entries:
                        rs.add_word(word, freq, tag)
                    self._rs = rs
        return self._rs

    # ------------------------------------------------------------------ pickling (Spark executors)
    def __getstate__(self) -> dict[str, Any]:
        """The segmenter travels by value — its dictionary entries and stop words, already read from the files —
        never the built rjieba/jieba instances or the lock: an executor need not see the driver's files."""
        state = dict(self.__dict__)
        state.update(_rs=None, _jieba=None, _rs_lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._rs_lock = threading.Lock()

    def fingerprint(self) -> str:
        """A digest of what decides the tokens (dictionary entries, stop words, options): two segmenters with the
        same fingerprint cut every text alike, so a worker process may reuse one it has already built."""
        import hashlib

        h = hashlib.blake2b(digest_size=16)
        h.update(repr((self.entries, sorted(self._drop), self.normalize, self.hmm)).encode("utf-8"))
        return h.hexdigest()

    # ------------------------------------------------------------------ cutting
    def raw_cut(self, text: str) -> list[str]:
        """All tokens of ``text`` (already normalised), stop words and punctuation included; masked phones whole."""
        if "*" in text and MASKED_PHONE.search(text):
            out: list[str] = []
            for i, part in enumerate(_MASKED_SPLIT.split(text)):
                if i % 2:
                    out.append(part)
                elif part:
                    out.extend(self._jieba_rs.cut(part, self.hmm))
            return out
        return self._jieba_rs.cut(text, self.hmm)

    def _filter(self, tokens: list[str]) -> list[str]:
        drop = self._drop
        return [w for w in tokens if w not in drop and (w.isalnum() or _keep(w))]

    def cut(self, text: str | None) -> list[str]:
        """Tokens of one text: normalised, segmented, stop words / punctuation / whitespace removed."""
        if not text:
            return []
        s = normalize_one(text) if self.normalize else text
        return self._filter(self.raw_cut(s))

    def cut_many(self, texts: Iterable[str | None]) -> list[list[str]]:
        """:meth:`cut` over a batch (one token list per text; ``[]`` for ``None`` or empty text)."""
        return [self.cut(t) for t in texts]

    def tag(self, text: str) -> list[tuple[str, str]]:
        """Part-of-speech tags ``(word, flag)`` (jieba's tag set; dictionary words carry their file tag)."""
        s = normalize_one(text) if self.normalize else text
        return [(w, t) for w, t in self._jieba_rs.tag(s, self.hmm) if w not in self._drop]

    def has_word(self, word: str) -> bool:
        """Whether ``word`` is in the segmenter's dictionary (built-in or added)."""
        return bool(self._jieba_rs.has_word(word))

    # ------------------------------------------------------------------ jieba (lazy)
    def jieba(self) -> Any:
        """A ``jieba.Tokenizer`` with the same added words, for jieba-only features (TextRank, posseg).

        Built on first use (about 1 s) and cached on the segmenter.
        """
        if self._jieba is None:
            with warnings.catch_warnings():  # jieba 0.42 has invalid escape sequences in its regexes
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", SyntaxWarning)
                import jieba
                import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            for word, freq, tag in self.entries:
                tok.add_word(word, freq, tag)
            self._jieba = tok
        return self._jieba

    def __repr__(self) -> str:
        return (f"Segmenter(words={len(self.entries)}, stopwords={len(self.stopwords)}, "
                f"files={[p.name for p in self.dictionary_files]})")


def _keep(token: str) -> bool:
    if MASKED_PHONE.fullmatch(token):
        return True
    return _KEEP_MIXED.search(token) is not None and not token.isspace()
