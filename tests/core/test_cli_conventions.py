"""The CLI conventions: one spelling per option, bilingual help on every option, one meaning per short flag."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import typer.main

from anju.cli import app

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, cmd
    if hasattr(cmd, "commands"):  # a group (typer ships its own click, so no isinstance on click's classes)
        # the root imports its command modules on first use: load_all() imports every one
        for name, sub in (cmd.load_all() if hasattr(cmd, "load_all") else cmd.commands).items():
            yield from _commands(sub, (*path, name))


def _options() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    out = []
    for path, cmd in _commands(root):
        for p in cmd.params:
            if getattr(p, "param_type_name", "") == "option" and "--help" not in p.opts:
                out.append((" ".join(("anju", *path)), p))
    return out


def test_every_option_has_chinese_and_english_help() -> None:
    assert len(_options()) > 100
    missing = [f"{where} {'/'.join(p.opts)}" for where, p in _options()
               if not (p.help and CJK.search(p.help) and LATIN.search(p.help))]
    assert not missing, missing


def test_a_short_flag_has_one_meaning() -> None:
    meanings: dict[str, set[str]] = defaultdict(set)
    for _, p in _options():
        longs = [o for o in p.opts if o.startswith("--")]
        for o in p.opts:
            if re.fullmatch(r"-[A-Za-z]", o):
                meanings[o].add(longs[0])
    clash = {k: v for k, v in meanings.items() if len(v) > 1}
    assert not clash, clash


def test_one_vocabulary() -> None:
    names = {o for _, p in _options() for o in p.opts}
    assert not names & {"--family", "--cell", "--level"}, "use --category, --cell-size, --areas/--by"
    by_command: dict[str, set[str]] = defaultdict(set)
    for where, p in _options():
        by_command[where] |= set(p.opts)
    for cmd in ("anju release", "anju hotspots gistar", "anju hotspots emerging", "anju hotspots knox", "anju sangao",
                "anju three-highs", "anju text audit"):
        assert "--period" in by_command[cmd], cmd
    for where, p in _options():
        if "--out" in p.opts:
            assert "目录" in (p.help or "") and "directory" in (p.help or ""), where
        if "--cell-size" in p.opts:
            assert "米" in (p.help or "") and "metres" in (p.help or ""), where
