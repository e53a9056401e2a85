"""The CLI imports a command's module only when that command runs or its help is shown (anju.commands._lazy).

``anju --help`` must list every command with the same help as when all modules are imported, without importing
any of them; the table in ``anju.commands.COMMANDS`` must match what the modules register.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections import defaultdict
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from anju.cli import app
from anju.commands import COMMAND_MODULES, COMMANDS
from anju.commands._lazy import module_commands

#: a fresh interpreter runs ``anju ARGS`` through the real entry point, then prints which modules it imported
_PROBE = """
import json, sys
sys.argv = ["anju", *sys.argv[1:]]
from anju.cli import main
try:
    main()
except SystemExit:
    pass
heavy = ("pandas", "ibis", "duckdb", "scipy", "sklearn", "geopandas", "rjieba")
from anju.commands import COMMAND_MODULES
print(json.dumps({"commands": sorted(m for m in COMMAND_MODULES if "anju.commands." + m in sys.modules),
                  "heavy": sorted(m for m in heavy if m in sys.modules)}))
"""


def _probe(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _first_paragraph(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


def _panel_words(text: str, title: str) -> list[str]:
    """The words inside one Rich panel of a help text (line wrapping depends on the terminal width)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if f"─ {title} ─" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("╰"))
    return " ".join(line.strip("│ ") for line in lines[start + 1:end]).split()


def test_root_help_imports_no_command_module() -> None:
    seen = _probe("--help")
    assert seen == {"commands": [], "heavy": []}


@pytest.mark.parametrize(("args", "module"), [(("lake", "--help"), "lake"), (("hotspots", "gistar", "--help"),
                                                                           "spatial")])
def test_a_command_imports_its_module_only(args: tuple[str, ...], module: str) -> None:
    seen = _probe(*args)
    assert seen == {"commands": [module], "heavy": []}  # a command's help needs its signature, not its libraries


def test_the_table_matches_what_the_modules_register() -> None:
    by_module: dict[str, set[str]] = defaultdict(set)
    for entry in COMMANDS:
        by_module[entry.module].add(entry.name)
    assert set(COMMAND_MODULES) == set(by_module)
    for module, names in by_module.items():
        real = module_commands(module)
        assert set(real) == names, module  # a command registered but missing from the table is never listed
        for name in names:
            entry = next(e for e in COMMANDS if e.name == name)
            assert _first_paragraph(real[name].help) == _first_paragraph(entry.help), name


def _root_help(root: Any, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        root.main(["--help"], prog_name="anju")
    assert done.value.code == 0
    return capsys.readouterr().out


def test_lazy_listing_equals_the_fully_imported_one(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    lazy = typer.main.get_command(app)
    lazy_help = _root_help(lazy, capsys)
    assert list(lazy.commands) == ["versions"]  # listing imported nothing
    full = typer.main.get_command(app)
    loaded = full.load_all()  # type: ignore[attr-defined]
    assert list(loaded) == ["versions", *(e.name for e in COMMANDS)]
    full_help = _root_help(full, capsys)
    # the same words in the same order (names, help), whether the help came from the table or the imported commands
    assert _panel_words(lazy_help, "Commands") == _panel_words(full_help, "Commands")
    assert len(_panel_words(full_help, "Commands")) > 100


def test_a_mistyped_command_is_matched_against_every_command() -> None:
    res = CliRunner().invoke(app, ["--lang", "en", "hotspot", "gistar"])
    assert res.exit_code == 2
    assert "hotspots" in res.stderr and "Traceback" not in res.stderr


def test_analytics_names_are_the_functions_whatever_the_import_order() -> None:
    """``anju.analytics`` imports its names on first use; four functions share their module's name."""
    code = ("import sys; import anju.analytics.counts, anju.analytics.headline, anju.analytics.rankings, "
            "anju.analytics.supervision; from anju.analytics import counts, headline, rankings, supervision; "
            "import anju.analytics as a; "
            "print([callable(f) and f.__module__ == 'anju.analytics.' + f.__name__ for f in "
            "(counts, headline, rankings, supervision, a.counts, a.headline, a.rankings, a.supervision)])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == str([True] * 8)


def test_loading_a_deployment_needs_no_scipy_or_segmenter() -> None:
    """``anju status`` and every command that only reads the configuration skip SciPy and rjieba."""
    code = ("import sys, tempfile; from anju.config import load_settings; from anju.deployment import load_deployment; "
            "dep = load_deployment(load_settings(data_dir=tempfile.mkdtemp())); "
            "print(sorted(m for m in ('scipy', 'rjieba', 'sklearn') if m in sys.modules)); "
            "print(dep.segmenter.cut('报警人称在闲鱼遭遇杀猪盘'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    first, second = out.stdout.strip().splitlines()
    assert first == "[]"
    assert "杀猪盘" in second  # the segmenter still works when first used
