"""`cheatsheet check ID --answer TEXT` runs without typer (cheatsheet.cli.quick, issue 13's
start-up budget): it must print and exit exactly as the typer command does, and leave every
other command line to typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cheatsheet.cli import quick
from cheatsheet.cli.quick import parse_check

ROOT = Path(__file__).resolve().parents[1]
BANKS = ROOT / "tests" / "data" / "banks"
SYMBOLIC = "fx-vae-kl-closed-form"
RIGHT = "1/2*(sigma^2 + mu^2 - 1 - log(sigma^2))"


@pytest.mark.parametrize(
    ("arguments", "parsed"),
    [
        (["check", "q", "--answer", "x"], ("q", "x", None, False)),
        (["check", "--answer", "x", "q", "--json"], ("q", "x", None, True)),
        (["check", "q", "--answer=-1", "--seed", "3"], ("q", "-1", 3, False)),
        (["check", "q", "--answer", "a = b", "--seed=+4"], ("q", "a = b", 4, False)),
    ],
)
def test_plain_check_lines_are_parsed_without_typer(arguments, parsed):
    assert parse_check(arguments) == parsed


@pytest.mark.parametrize(
    "arguments",
    [
        ["check", "q"],  # no --answer: typer's usage error
        ["check", "--answer", "x"],
        ["check", "q", "r", "--answer", "x"],
        ["check", "q", "--answer", "x", "--answer", "y"],
        ["check", "q", "--answer", "-1"],  # a value that looks like an option
        ["check", "q", "--answer"],
        ["check", "q", "--answer", "x", "--seed", "two"],
        ["check", "q", "--answer", "x", "--json", "--json"],
        ["check", "q", "--answer", "x", "--help"],
        ["check", "-h"],
        ["check", "--", "q", "--answer", "x"],
        ["quiz", "q", "--answer", "x"],
        [],
    ],
)
def test_anything_else_is_left_to_typer(arguments):
    assert parse_check(arguments) is None


def test_completion_is_left_to_typer(monkeypatch):
    monkeypatch.setenv("_CHEATSHEET_COMPLETE", "complete_bash")
    assert parse_check(["check", "q", "--answer", "x"]) is None


def _main(arguments: list[str], capsys) -> tuple[int, str, str]:
    from cheatsheet.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(arguments)
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.mark.parametrize(
    "arguments",
    [
        ["check", SYMBOLIC, "--answer", RIGHT],
        ["check", SYMBOLIC, "--answer", "sigma^2 + mu^2 - 1 - log(sigma^2)"],
        ["check", SYMBOLIC, "--answer", "sqrt("],
        ["check", SYMBOLIC, "--answer", "sqrt(", "--json"],
        ["check", "--json", SYMBOLIC, f"--answer={RIGHT}"],
        ["check", "fx-vae-kl-value", "--answer", "0"],
        ["check", "fx-vae-kl-valu", "--answer", "0"],
        ["check", "alpha-bar-draw@2", "--answer", "1"],
        ["check", "alpha-bar-draw", "--seed", "2", "--answer", "1", "--json"],
        ["check", "alpha-bar-draw@x", "--answer", "1"],
    ],
)
def test_the_quick_path_prints_and_exits_as_typer_does(arguments, capsys, monkeypatch):
    monkeypatch.setenv("CHEATSHEET_BANKS", str(BANKS))
    monkeypatch.setenv("NO_COLOR", "1")
    assert parse_check(arguments) is not None
    fast = _main(arguments, capsys)
    monkeypatch.setattr(quick, "parse_check", lambda arguments: None)
    assert _main(arguments, capsys) == fast
    assert fast[0] in (0, 1, 2) and (fast[1] or fast[2])


def test_check_imports_no_typer(tmp_path):
    code = (
        "import sys\n"
        "from cheatsheet.cli import main\n"
        f"try:\n    main(['check', {SYMBOLIC!r}, '--answer', {RIGHT!r}])\n"
        "except SystemExit as done:\n    print(done.code, 'typer' in sys.modules)\n"
    )
    env = {**os.environ, "CHEATSHEET_HOME": str(tmp_path), "CHEATSHEET_BANKS": str(BANKS)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert out.stdout.split()[-2:] == ["0", "False"], out.stdout + out.stderr
    assert out.stdout.startswith("✓ Correct")
