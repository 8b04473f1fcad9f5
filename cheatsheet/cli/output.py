"""One place for how the CLI prints: rich for people, JSON for scripts, errors on stderr."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console

# clig.dev: respect NO_COLOR; rich does, and we never force colour on a pipe.
console = Console(highlight=False)
error_console = Console(stderr=True, highlight=False, no_color=bool(os.environ.get("NO_COLOR")))


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


def emit_json(payload: Any) -> None:
    """Machine output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(payload, default=_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit_json_line(payload: Any) -> None:
    """One JSON object per line, for streams of results."""
    sys.stdout.write(json.dumps(payload, default=_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_error(message: str) -> None:
    error_console.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
