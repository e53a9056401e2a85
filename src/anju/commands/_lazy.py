"""The root command group that imports a command's module only when that command runs or its help is shown.

Each ``anju.commands.<part>`` module imports what its verbs need (pandas, DuckDB, Ibis, scikit-learn…); importing
all of them cost ~2–3 s of CPU per ``anju`` process, paid again by every command, every ``--help`` and every test
that starts the CLI. :class:`LazyGroup` lists the commands from :data:`anju.commands.COMMANDS` (name, module,
one-line help) and imports a module when one of its commands is resolved: ``anju status`` imports
``anju.commands.lake`` only, ``anju --help`` imports none.
"""

from __future__ import annotations

import importlib
from difflib import get_close_matches
from functools import cache
from typing import Any

import typer
import typer.main
from typer._click import exceptions as cx  # typer ships its own click
from typer._click.core import Command, Context
from typer.core import TyperCommand

from anju.commands import COMMANDS, CommandEntry
from anju.commands._errors import AnjuGroup

__all__ = ["LazyGroup", "module_commands"]

_BY_NAME: dict[str, CommandEntry] = {entry.name: entry for entry in COMMANDS}
_LISTING = "anju.listing_commands"  # ctx.meta key: set while the root help is formatted


@cache
def module_commands(module: str) -> dict[str, Command]:
    """The click commands that ``anju.commands.<module>.register`` adds, built once per process.

    Command objects only describe a command (every run has its own context), so sharing them between the apps
    that ``typer.main.get_command`` builds (one per ``CliRunner.invoke``) is safe.
    """
    sub = typer.Typer()
    importlib.import_module(f"anju.commands.{module}").register(sub)
    return dict(typer.main.get_group(sub).commands)


class LazyGroup(AnjuGroup):
    """:class:`AnjuGroup` (one clean message per error) whose commands are imported on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        """Commands defined in ``anju.cli`` (``versions``) first, then :data:`~anju.commands.COMMANDS` in order,
        whichever are imported already."""
        return [*(name for name in self.commands if name not in _BY_NAME), *_BY_NAME]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The command ``cmd_name``, importing its module; while the root help lists commands, a stand-in with
        the table's one-line help instead (nothing imported)."""
        cmd = self.commands.get(cmd_name)
        if cmd is not None:
            return cmd
        entry = _BY_NAME.get(cmd_name)
        if entry is None:
            return None
        if ctx.meta.get(_LISTING):
            return TyperCommand(name=entry.name, help=entry.help)
        cmd = module_commands(entry.module)[cmd_name]
        self.commands[cmd_name] = cmd
        return cmd

    def load_all(self, ctx: Context | None = None) -> dict[str, Command]:
        """Every command, all modules imported (for tests and tools that walk the whole command tree)."""
        ctx = ctx or Context(self, info_name="anju")
        found = {name: self.get_command(ctx, name) for name in self.list_commands(ctx)}
        return {name: cmd for name, cmd in found.items() if cmd is not None}

    def format_help(self, ctx: Context, formatter: Any) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        """Click's resolution, with "did you mean" suggestions drawn from every command, imported or not."""
        try:
            return super().resolve_command(ctx, args)
        except cx.UsageError as exc:
            if self.suggest_commands and args and "Did you mean" not in exc.message:
                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(map(repr, matches))}?"
            raise
