"""The one place for anju's exceptions.

Every error anju raises on purpose is an :class:`AnjuError`; the CLI turns it into a one-paragraph message in the
user's language and exit code 2 (bad input), never a traceback. Subclasses also inherit the matching builtin (like
scikit-learn's ``NotFittedError(ValueError, AttributeError)``) so callers that catch ``ValueError`` or
``FileNotFoundError`` keep working. Messages say what was wrong, the value, what was expected and how to fix it.

Languages: ``str(exc)`` is the English message (what logs and tests match on); ``zh=`` gives the Chinese text, and
:meth:`AnjuError.message` picks one by language. An error raised without a Chinese text is still shown in Chinese
by its kind (:attr:`AnjuError.lead_zh`, e.g. "配置有误") followed by the English detail, so no message is ever shown
in English alone to a Chinese user.
"""

from __future__ import annotations

import re

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
    "split_bilingual",
]


class AnjuError(Exception):
    """Base class of every error anju raises deliberately.

    ``message`` is the English text; ``zh`` the same in Chinese (optional, see the module docstring).
    """

    #: The kind of error in Chinese, shown before the English detail when no Chinese text was given.
    lead_zh = "操作未能完成"

    def __init__(self, message: str = "", *, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh
        self.en: str | None = None
        if zh is None:
            self.zh, self.en = split_bilingual(message)

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` (``zh`` or ``en``)."""
        en = self.en or str(self)
        if lang != "zh":
            return en
        return self.zh if self.zh else f"{self.lead_zh}：{en}"


_BILINGUAL = re.compile(r"(?<=[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef）)]) / (?=[A-Za-z(\[`'\"])")


def split_bilingual(message: str) -> tuple[str | None, str | None]:
    """``(message, "prefix: English")`` of a message written as ``prefix: 中文 / English``, else (None, None).

    Several messages are written in both languages at once: a short Chinese statement, then the English detail
    with the fix (commands such as `anju lake repair`). English readers get the English part alone; Chinese
    readers keep the whole message, so the fix is never lost.
    """
    m = _BILINGUAL.search(message)
    if m is None:
        return None, None
    zh, rest = message[:m.start()], message[m.end():]
    colon = zh.find(": ")
    prefix = zh[:colon + 2] if colon >= 0 and re.match(r"[\u4e00-\u9fff]", zh[colon + 2:colon + 3]) else ""
    return message, prefix + rest


class ConfigError(AnjuError, ValueError):
    """A configuration file (TOML) or setting is invalid; the message names the file, the key and the problem."""

    lead_zh = "配置或参数有误"

    def __init__(self, message: str, *, path: object | None = None, key: str | None = None,
                 zh: str | None = None) -> None:
        where = where_zh = ""
        if path is not None:
            where, where_zh = f"{path}", f"文件 {path}"
            if key:
                where += f": [{key}]"
                where_zh += f" 的 [{key}]"
            where += ": "
            where_zh += "："
        elif key:
            where = f"[{key}]: "
            where_zh = f"[{key}]："
        super().__init__(where + message, zh=(where_zh + zh) if zh else None)
        self.path = path
        self.key = key
        self.where_zh = where_zh
        self.detail = message

    def message(self, lang: str = "en") -> str:
        if lang == "zh" and not self.zh:
            return f"{self.where_zh}{self.lead_zh}：{self.detail}"
        return super().message(lang)


class TaxonomyError(ConfigError):
    """The taxonomy file is invalid (duplicate code, unknown parent, bad flag…)."""

    lead_zh = "警情分类表有误"


class ProfileError(ConfigError):
    """A source profile is invalid or does not fit the file it is applied to."""

    lead_zh = "数据源配置有误"


class DataNotFoundError(AnjuError, FileNotFoundError):
    """A file, layer, import or period that was asked for does not exist."""

    lead_zh = "找不到所需的文件或数据"


class EncodingError(AnjuError, ValueError):
    """A text file could not be decoded with the detected or given encoding."""

    lead_zh = "文件编码无法识别"


class IngestError(AnjuError, RuntimeError):
    """An import could not proceed (nothing was written to the lake)."""

    lead_zh = "导入未能完成（数据湖未改动）"


class LakeError(AnjuError, RuntimeError):
    """The lake or its manifest is unreadable or inconsistent."""

    lead_zh = "数据湖无法读取或不一致"


class GeoError(AnjuError, ValueError):
    """Bad geometry, an unknown coordinate system, or a CRS mismatch."""

    lead_zh = "地理数据有误"


class NotFittedError(AnjuError, ValueError, AttributeError):
    """A model was used before ``fit``."""

    lead_zh = "模型尚未训练"


class ModelError(AnjuError, RuntimeError):
    """A model file is missing, modified, or was made by an incompatible version."""

    lead_zh = "模型文件缺失、被改动或版本不兼容"


class KDEError(AnjuError, ValueError):
    """Invalid heat-map parameters (cell size, bandwidth, extent)."""

    lead_zh = "热力图参数有误"


class ReleaseError(AnjuError, ValueError):
    """A release object is inconsistent (a figure names a missing table or column, a table lacks a column…)."""

    lead_zh = "发布内容不一致"


class AnalyticsError(AnjuError, ValueError):
    """A parameter of an analytic is invalid (unknown level, category, missing attribute…)."""

    lead_zh = "分析参数有误"


class PeriodError(AnjuError, ValueError):
    """A period text that cannot be parsed or a comparison that cannot be resolved."""

    lead_zh = "时段有误"


class OpsError(AnjuError, RuntimeError):
    """The operations database refused an operation (bad record, broken audit chain, unknown job…)."""

    lead_zh = "业务数据库拒绝了该操作"


class AccessDeniedError(AnjuError, PermissionError):
    """A user asked to read or write something outside their role's permissions or their data scope."""

    lead_zh = "无权执行该操作"
