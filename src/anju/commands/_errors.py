"""How the CLI shows an error: one paragraph on stderr, in the user's language, exit code 2, no traceback.

Every command runs inside :class:`AnjuGroup` (the root Typer group), which catches, while the click context still
knows the settings (and so ``--lang`` or ``lang`` in ``anju.toml``):

* :class:`~anju.errors.AnjuError` — anju's own errors, bilingual (:meth:`~anju.errors.AnjuError.message`);
* click's usage errors (bad option value, missing argument, unknown option), re-worded in Chinese by default;
* ``OSError`` with a file name (a missing, unreadable or unwritable file or directory), named with the path;

and prints the message as plain text (Rich markup escaped, so ``[columns.time]`` is shown). Anything else is a bug:
exit code 1, one paragraph naming the exception, and ``ANJU_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from typer._click import exceptions as cx  # typer ships its own click: its exception classes, not click's
from typer._click.core import Context
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit

from anju.errors import AnjuError

__all__ = ["EXIT_BAD_INPUT", "EXIT_BUG", "AnjuGroup", "describe", "lang_of"]

EXIT_BAD_INPUT = 2
EXIT_BUG = 1


def lang_of(ctx: Context | None, args: Sequence[str] = ()) -> str:
    """The language of messages: the loaded settings, else ``--lang`` on the command line, else ``ANJU_LANG``, else zh."""
    from anju.config import Settings

    root = ctx.find_root() if ctx is not None else None
    if root is not None and isinstance(root.obj, Settings):
        return root.obj.lang
    if root is not None and root.params.get("lang") in ("zh", "en"):
        return str(root.params["lang"])
    args = list(args)
    for i, a in enumerate(args):
        if a == "--lang" and i + 1 < len(args):
            return "en" if args[i + 1] == "en" else "zh"
        if a.startswith("--lang="):
            return "en" if a.split("=", 1)[1] == "en" else "zh"
    return "en" if os.environ.get("ANJU_LANG", "").strip().lower() == "en" else "zh"


def _usage(exc: cx.UsageError, lang: str) -> str:
    """A click usage error in the user's language, with how to get the command's help."""
    cmd = exc.ctx.command_path if exc.ctx is not None else "anju"
    detail = exc.format_message()
    if lang != "zh":
        return f"{detail} (see `{cmd} --help`)"
    if isinstance(exc, cx.MissingParameter):  # before BadParameter, its base class
        p = exc.param
        name = (p.opts[0] if p is not None and p.param_type_name == "option" and p.opts
                else (str(p.name or "").upper() if p is not None else ""))
        text = f"缺少{'选项' if p is not None and p.param_type_name == 'option' else '参数'} {name}"
    elif isinstance(exc, cx.BadParameter):
        hint = exc.param_hint or (exc.param.opts[0] if exc.param is not None and exc.param.opts else "")
        if isinstance(hint, (list, tuple)):
            hint = " / ".join(hint)
        text = f"{hint} 的取值无效（{exc.message}）"
    elif isinstance(exc, cx.NoSuchOption):
        text = f"没有选项 {exc.option_name}"
        if exc.possibilities:
            text += f"（是否想用 {', '.join(sorted(exc.possibilities))}？）"
    else:
        text = f"命令行用法有误（{detail}）"
    return f"{text}。运行 `{cmd} --help` 查看用法。"


def _os_error(exc: OSError, lang: str) -> str:
    """A file-system error (missing, unreadable or unwritable path) naming the path and what to check."""
    path = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    if lang == "zh":
        what = {FileNotFoundError: "文件或目录不存在", PermissionError: "没有读写权限", IsADirectoryError: "这是一个目录，需要文件",
                NotADirectoryError: "路径中有一段是文件而不是目录", FileExistsError: "该路径已存在且不是目录"}
        kind = next((v for k, v in what.items() if isinstance(exc, k)), "无法读写")
        return f"无法访问 {path}：{kind}（{reason}）。请检查路径是否正确、磁盘是否已满以及是否有读写权限。"
    return f"cannot access {path}: {reason}; check the path, free disk space and permissions."


def describe(exc: BaseException, lang: str) -> tuple[str, int]:
    """The one-paragraph message and exit code of ``exc`` (see the module docstring)."""
    if isinstance(exc, AnjuError):
        return exc.message(lang), EXIT_BAD_INPUT
    if isinstance(exc, cx.UsageError):
        return _usage(exc, lang), EXIT_BAD_INPUT
    if isinstance(exc, cx.ClickException):
        return exc.format_message(), EXIT_BAD_INPUT
    if isinstance(exc, OSError) and exc.filename is not None:
        return _os_error(exc, lang), EXIT_BAD_INPUT
    name = type(exc).__name__
    if lang == "zh":
        return (f"内部错误（{name}: {exc}）。这是 anju 的缺陷而不是您的输入问题；请设置环境变量 ANJU_DEBUG=1 重新运行"
                "以查看详细信息，并报告给维护人员。", EXIT_BUG)
    return (f"internal error ({name}: {exc}). This is a bug in anju, not a problem with your input; run again with "
            "ANJU_DEBUG=1 to see the traceback and report it.", EXIT_BUG)


def show(exc: BaseException, lang: str) -> int:
    """Print ``exc`` as one paragraph on stderr and return its exit code."""
    from anju.commands._common import err_console

    text, code = describe(exc, lang)
    label = "错误" if lang == "zh" else "error"
    # the message is plain text: escaped, so that "[columns.time]" is printed, not taken for Rich markup;
    # soft_wrap keeps it one line (one paragraph) however narrow the terminal
    err_console.print(f"[bold red]{label}:[/] {escape(' '.join(text.split()))}", highlight=False, soft_wrap=True)
    return code


class AnjuGroup(TyperGroup):
    """The root command group: every error of every command becomes one clear paragraph (see the module docstring)."""

    def make_context(self, info_name: str | None, args: list[str], parent: Context | None = None,
                     **extra: Any) -> Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except cx.NoArgsIsHelpError:
            raise
        except cx.UsageError as exc:  # a usage error of the root options themselves
            raise Exit(show(exc, lang_of(None, args))) from None

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (Exit, Abort, cx.NoArgsIsHelpError, KeyboardInterrupt, EOFError):
            raise
        except Exception as exc:
            if os.environ.get("ANJU_DEBUG") and not isinstance(exc, (AnjuError, cx.ClickException)):
                raise
            raise Exit(show(exc, lang_of(ctx))) from None
