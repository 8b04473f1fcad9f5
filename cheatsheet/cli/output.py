"""One place for how the CLI prints: rich for people, JSON for scripts, errors on stderr."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any


class _LazyConsole:
    """A rich Console made on first use: importing rich.console costs ~13 ms that
    `cheatsheet --help` and `cheatsheet list --json` should not pay."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


# clig.dev: respect NO_COLOR; rich does, and we never force colour on a pipe.
console = _LazyConsole(highlight=False)
error_console = _LazyConsole(
    stderr=True, highlight=False, no_color=bool(os.environ.get("NO_COLOR"))
)


def _default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    return str(value)


def __getattr__(name: str) -> Any:
    """`JsonOption`, the one `--json` flag of every command, made on first import: this module
    imports no typer, so that `check` (cheatsheet.cli.quick) prints without it."""
    if name == "JsonOption":
        import typer

        option = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
        globals()["JsonOption"] = option
        return option
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def emit_json(payload: Any) -> None:
    """Machine output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(payload, default=_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_error(message: str) -> None:
    from rich.markup import escape

    # escaped: "pip install 'cheatsheet[models]'" must not lose its [models] to rich markup
    error_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)


def plain_table(headers: list[str], rows: list[list[str]], title: str | None = None) -> None:
    """Aligned text columns without rich: `cheatsheet list` is on the fast path (rich.table and
    rich.console cost ~20 ms to import). Bold headers only on a colour terminal."""
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    out = []
    if title:
        out.append(title)
    header = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    out.append(f"\033[1m{header}\033[0m" if colour else header)
    for row in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    sys.stdout.write("\n".join(out) + "\n")


def hanging(label: str, text: str, width: int | None = None, label_width: int = 10) -> str:
    """`label text` wrapped to the terminal with a hanging indent under the text.

    Breaks only at spaces, so a LaTeX or Unicode formula is never split inside a token."""
    import textwrap

    width = width or console.width
    indent = " " * (2 + label_width)
    first = "  " + label.ljust(label_width)
    return textwrap.fill(
        text,
        width=max(width, len(indent) + 20),
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
