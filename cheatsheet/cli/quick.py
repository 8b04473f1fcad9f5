"""`cheatsheet check`, the one command on a script's hot path, without typer.

`main` hands `check ID --answer TEXT` (with `--json` or `--seed N` at most) straight to
`run_check`: importing typer and building the command costs ~80 ms, a quarter of the symbolic
check's budget (issue 13: <= 1.3x the sympy import). Anything else (help, a repeated or unknown
option, a value that begins with '-', shell completion) is parsed by typer as before, and the
typer command runs the same `run_check`, so both paths print and exit alike.
"""

from __future__ import annotations

import os
import re
import sys

_INTEGER = re.compile(r"[+-]?\d+")


def parse_check(arguments: list[str]) -> tuple[str, str, int | None, bool] | None:
    """(question id, answer, seed, --json) of a plain `check` command line; None for anything
    that typer should parse."""
    if arguments[:1] != ["check"] or os.environ.get("_CHEATSHEET_COMPLETE"):
        return None
    rest = arguments[1:]
    values: dict[str, str] = {}
    positional: list[str] = []
    as_json = False
    index = 0
    while index < len(rest):
        token = rest[index]
        name, equals, value = token.partition("=")
        if name in ("--answer", "--seed"):
            if name in values:
                return None
            if not equals:
                if index + 1 >= len(rest) or rest[index + 1].startswith("-"):
                    return None
                index += 1
                value = rest[index]
            values[name] = value
        elif token == "--json" and not as_json:
            as_json = True
        elif token.startswith("-"):
            return None
        else:
            positional.append(token)
        index += 1
    if len(positional) != 1 or "--answer" not in values:
        return None
    seed = values.get("--seed")
    if seed is not None and not _INTEGER.fullmatch(seed):
        return None
    return positional[0], values["--answer"], None if seed is None else int(seed), as_json


def _coloured(text: str, ansi: str) -> str:
    """`text` in an ANSI colour at a terminal that allows colour (NO_COLOR is respected)."""
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        return f"\033[{ansi}m{text}\033[0m"
    return text


def run_check(question_id: str, answer: str, seed: int | None, as_json: bool) -> int:
    """Mark one answer: the exit code, 0 right, 1 wrong, 2 unreadable (with --json; without
    it an unreadable answer raises CheatsheetError, which exits 2 too)."""
    from formulas.errors import CheatsheetError
    from quizzes.catalog import Catalog
    from quizzes.engine import invalid_result, mark
    from quizzes.parser import AnswerError

    question = Catalog().find(question_id, seed=seed)
    try:
        result = mark(question, answer)
    except AnswerError as error:
        if as_json:
            from cheatsheet.cli.output import emit_json

            emit_json(invalid_result(question, answer, error).to_json())
            return 2
        raise CheatsheetError(f"invalid answer: {error}") from None
    if as_json:
        from cheatsheet.cli.output import emit_json

        emit_json(result.to_json())
    else:
        # plain writes: rich.console would cost check a third of its start-up
        sign = _coloured("✓", "32") if result.correct else _coloured("✗", "31")
        sys.stdout.write(f"{sign} {result.feedback}\n")
        if not result.correct:
            sys.stdout.write(f"  answer: {result.expected}\n")
    return 0 if result.correct else 1
