"""Rich rendering of a worked example: each block a small matrix table with its rule and a check
mark (checked against torch autograd)."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from cheatsheet.backprop.core import Block, WorkedExample, fmt_number


def matrix_table(tensor: Any, exact: bool = False, hidden: set[tuple[int, ...]] | None = None):
    """A matrix (or vector, or scalar) as a boxed table of numbers; hidden entries show '?'."""
    arr = np.asarray(tensor, dtype=object)
    if arr.ndim == 0:
        return Text("?" if hidden is not None and () in hidden else fmt_number(arr.item(), exact))
    rows = arr.reshape(1, -1) if arr.ndim == 1 else arr.reshape(-1, arr.shape[-1])
    table = Table(show_header=False, box=box.SQUARE, padding=(0, 1), show_edge=True)
    for _ in range(rows.shape[1]):
        table.add_column(justify="right")
    for i, row in enumerate(rows):
        cells = []
        for j, value in enumerate(row):
            index = (j,) if arr.ndim == 1 else (i, j)
            cells.append(
                "?" if hidden is not None and index in hidden else fmt_number(value, exact)
            )
        table.add_row(*cells)
    return table


def mark(block: Block) -> str:
    if block.checked is None:
        return "[dim]·[/]"
    return "[green]✓[/]" if block.checked else "[bold red]✗[/]"


def block_view(block: Block, exact: bool, hidden: set[tuple[int, ...]] | None = None):
    shape = "x".join(str(d) for d in np.shape(block.tensor)) or "scalar"
    head = Text.from_markup(f"{mark(block)} [bold]{block.name}[/] [dim]({shape})[/]  ")
    head.append(block.rule)
    return Group(head, matrix_table(block.tensor, exact, hidden))


def render(
    example: WorkedExample,
    console: Console,
    upto: int | None = None,
    hide: dict[str, set[tuple[int, ...]]] | None = None,
) -> None:
    """Print the example's blocks in order (only the first `upto` if given)."""
    console.print(f"[bold]{example.title}[/]  [dim]{_options(example.options)}[/]")
    phase = None
    for n, block in enumerate(example.blocks):
        if upto is not None and n >= upto:
            break
        if block.phase != phase:
            phase = block.phase
            console.rule(f"[bold]{phase}[/]", align="left")
        console.print(block_view(block, example.exact, (hide or {}).get(block.name)))
    if upto is None:
        checked = [b for b in example.blocks if b.checked is not None]
        good = sum(bool(b.checked) for b in checked)
        colour = "green" if good == len(checked) else "red"
        console.print(
            f"[{colour}]{good}/{len(checked)} blocks checked against torch autograd (float64)[/]"
        )
        for note in example.notes:
            console.print(f"[cyan]note:[/] {note}")
        for erratum in example.errata:
            console.print(f"[bold yellow]sheet erratum:[/] {erratum['what']}")


def _options(options: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in options.items())
