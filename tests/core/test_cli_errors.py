"""Every CLI command on a set of bad inputs: exit code 2, one paragraph, no traceback, in the chosen language.

The commands are enumerated from the Typer app, so a new command is covered automatically. Values for required
parameters come from :data:`GOOD` (by name) or a plain placeholder; each case then spoils one thing: a damaged
``anju.toml``, a non-numeric value for a numeric option, a missing / empty / binary / CSV-renamed-to-xlsx input
file, an impossible period or date, and an output directory that cannot be created. Assertions are on the printed
stderr, never on the exception object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from anju.cli import app

CJK = re.compile(r"[\u4e00-\u9fff]")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\([^)]*[\u4e00-\u9fff][^)]*\)")
ROOT = typer.main.get_command(app)

#: valid-looking values for required parameters, by parameter name
GOOD = {"date": "2025-07-01", "month": "2025-07", "task": "category", "layer": "community", "station": "S01",
        "shift": "day", "units": "2", "base": "2025H1", "period": "2025H2", "category": "theft", "from_": "2025-07-01",
        "to": "2025-07-31", "as_of": "2025-07-01", "case_id": "1", "community": "C001", "official": "张三",
        "what": "patrol", "outcome": "closed", "kind": "x"}
#: a valid first argument where a command takes a kind of file, so the file itself is what fails
KINDS = {("duty", "import"): "tracks", ("ops", "import"): "organisations", ("assess", "import"): "patrol_plan"}
PERIOD_OPTS = {"--period": "2025H3", "--base": "2025H3", "--compare": "2025Q5", "--month": "2025-13",
               "--date": "2025-02-30", "--as-of": "2025-02-30", "--from": "2025-02-30", "--to": "2025-02-30",
               "--start": "2025-02-30", "--end": "2025-02-30", "--on": "2025-02-30", "--opened": "2025-02-30"}
OUTPUT_OPTS = {"--out", "--into"}


def _commands(cmd: Any = ROOT, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(cmd, "commands"):  # typer ships its own click: no isinstance on click's classes
        # the root imports its command modules on first use: load_all() imports every one
        for name, sub in (cmd.load_all() if hasattr(cmd, "load_all") else cmd.commands).items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, cmd


COMMANDS = dict(_commands())


def _annotation(p: Any) -> Any:
    return p.type_descriptor.annotation


def _is_input_path(p: Any) -> bool:
    return _annotation(p) is Path and (p.param_type_name == "argument" or p.opts[0] not in OUTPUT_OPTS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny set of bad files and two data directories (one empty, one whose anju.toml is damaged)."""
    d = tmp_path_factory.mktemp("bad-inputs")
    (d / "empty.csv").write_bytes(b"")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (d / "renamed.xlsx").write_text("报警内容,时间\n电动车被盗,2025-07-01 10:00\n", encoding="utf-8")
    (d / "a-file").write_text("not a directory\n", encoding="utf-8")
    (d / "data").mkdir()
    (d / "damaged").mkdir()
    (d / "damaged" / "anju.toml").write_text('lang = "zh"\n[columns\ntime = "x"\n', encoding="utf-8")
    return {"dir": d, "missing": d / "missing.csv", "empty": d / "empty.csv", "binary": d / "binary.csv",
            "renamed": d / "renamed.xlsx", "blocked_out": d / "a-file" / "out", "data": d / "data",
            "damaged": d / "damaged"}


def _base(cmd: Any, corpus: dict[str, Path], cmd_path: tuple[str, ...] = (), /, **override: str) -> list[str]:
    """Arguments that fill every required parameter; ``override`` (by option text or argument name) replaces one."""
    args: list[str] = []
    opts: list[str] = []
    for p in cmd.params:
        key = p.opts[0] if p.param_type_name == "option" and p.opts else p.name
        if key in override:
            value = override[key]
        elif not p.required:
            continue
        elif _is_input_path(p):
            value = str(corpus["empty"])
        elif _annotation(p) is Path:
            value = str(corpus["dir"] / "out")
        elif p.name == "kind" and cmd_path in KINDS:
            value = KINDS[cmd_path]
        else:
            value = GOOD.get(p.name, "x")
        if p.param_type_name == "argument":
            args.append(value)
        else:
            opts += [key, value]
    return [*args, *opts]


def _cases() -> Iterator[Any]:
    for path, cmd in COMMANDS.items():
        name = " ".join(path)
        yield pytest.param(path, "damaged_toml", None, None, id=f"{name}:damaged-toml")
        for p in cmd.params:
            key = p.opts[0] if p.param_type_name == "option" and p.opts else p.name
            if _annotation(p) in (int, float):
                yield pytest.param(path, "value", key, "abc", id=f"{name}:{key}=abc")
            if _is_input_path(p):
                for bad in ("missing", "empty", "binary", "renamed"):
                    yield pytest.param(path, "file", key, bad, id=f"{name}:{key}={bad}")
            if key in PERIOD_OPTS:
                yield pytest.param(path, "value", key, PERIOD_OPTS[key], id=f"{name}:{key}={PERIOD_OPTS[key]}")
            if key in OUTPUT_OPTS:
                yield pytest.param(path, "file", key, "blocked_out", id=f"{name}:{key}=unwritable")


def _check(res: Any, lang: str) -> None:
    err = res.stderr
    assert res.exit_code == 2, (res.exit_code, err, res.stdout[-2000:], res.exception)
    assert "Traceback" not in res.output and "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.lstrip().startswith(("⠋", "⠙", "⠹"))]
    message = lines[-1]
    if lang == "zh":
        assert message.startswith("错误:") and CJK.search(message.removeprefix("错误:")), err
    else:  # English; Chinese only inside quotes (a value or an accepted spelling such as '2025年下半年')
        assert message.startswith("error:") and not CJK.search(QUOTED.sub("", message)), err


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("path", "kind", "key", "bad"), list(_cases()))
def test_bad_input_is_one_clear_paragraph(path: tuple[str, ...], kind: str, key: str | None, bad: str | None,
                                          lang: str, corpus: dict[str, Path]) -> None:
    cmd = COMMANDS[path]
    data = corpus["damaged"] if kind == "damaged_toml" else corpus["data"]
    override = {} if key is None or bad is None else {key: str(corpus[bad]) if kind == "file" else bad}
    argv = ["-q", "-d", str(data), "--lang", lang, *path, *_base(cmd, corpus, path, **override)]
    if kind == "damaged_toml":  # the language can then only come from the command line
        argv = ["-d", str(data), "--lang", lang, *path, *_base(cmd, corpus, path)]
    res = CliRunner().invoke(app, argv, env={"ANJU_SECRET": "a-test-secret-of-enough-length-0123456789"})
    _check(res, lang)


def test_every_command_is_covered() -> None:
    cases = {p.values[0] for p in _cases()}
    assert cases == set(COMMANDS) and len(COMMANDS) > 40


def test_markup_in_a_message_is_shown(tmp_path: Path) -> None:
    """A key in brackets is printed as written, not swallowed as Rich markup (``x.toml: : column …`` before)."""
    (tmp_path / "anju.toml").write_text('[anju]\nbatch_rows = 5\n', encoding="utf-8")
    for lang in ("zh", "en"):
        res = CliRunner().invoke(app, ["-d", str(tmp_path), "--lang", lang, "status"])
        assert res.exit_code == 2 and "anju.toml" in res.stderr and "[anju.batch_rows]" in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1  # one paragraph, however long
