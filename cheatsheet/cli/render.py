"""Math in a terminal: sympy's 2D pretty form when it fits, else one readable Unicode line
(`ᾱ`, `√`, `Σ`, `∫`, `·`, superscripts; never sympy code like `Integral(sqrt(2)*...`) wrapped
at operators with a hanging indent.

    render.fit_expression(expr, width=80, indent=4)   # str, every line <= width
    render.wrap_hanging(text, width=80, indent=4)     # any text, broken at operators/spaces
    render.terminal_width(override=None)              # --width, else the terminal, else 80

`derive`, `errata` and `show` print through these, so a formula never wraps mid-symbol and a
wide one never turns into a wall of wrap marks.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

from formulas.notation import unicode_line  # one printer for every caller


def terminal_width(override: int | None = None) -> int:
    """--width if given, else $COLUMNS / the terminal's width, else 80 (never below 30)."""
    if override:
        return max(30, int(override))
    columns = os.environ.get("COLUMNS")
    if columns and columns.isdigit():
        return max(30, int(columns))
    return max(30, shutil.get_terminal_size((80, 24)).columns)


# --------------------------------------------------------------------------------------------
# Wrapping

# Break points, best first: a relation, then + / -, then a product dot, then any space.
_BREAKS = (" = ", " ≤ ", " ≥ ", " + ", " - ", "·", " ")


def _depth_map(text: str) -> list[int]:
    depth, depths = 0, []
    for char in text:
        if char in "([{":
            depth += 1
        depths.append(depth)
        if char in ")]}":
            depth = max(0, depth - 1)
    return depths


def _best_break(text: str, limit: int) -> int | None:
    """Where to break `text` (<= limit): the shallowest operator (inside the fewest brackets),
    the rightmost of those, and not in the first third of the line; then a space; None when
    nothing fits."""
    depths = _depth_map(text)
    floor = limit // 3
    candidates: list[tuple[int, int, int]] = []  # (depth, space?, -position)
    for operator in _BREAKS:
        start = 0
        while True:
            index = text.find(operator, start)
            if index < 0 or index > limit:
                break
            if index >= floor:
                cut = index + (1 if operator[0] == " " else 0)
                rank = {"·": 1, " ": 2}.get(operator, 0)  # + - = before ·, · before a space
                candidates.append((depths[index], rank, -cut))
            start = index + 1
    if not candidates:
        return None
    depth, rank, negative_cut = min(candidates)
    return -negative_cut


def wrap_hanging(text: str, width: int = 80, indent: int = 4, first_indent: int = 0) -> str:
    """Math `text` broken into lines of at most `width` columns at operators (then spaces, then,
    only when nothing else fits, anywhere); continuation lines get a hanging indent."""
    lines = []
    prefix = " " * first_indent
    rest = text.strip()
    hanging = " " * (first_indent + indent)
    while rest:
        room = max(10, width - len(prefix))
        if len(rest) <= room:
            lines.append(prefix + rest)
            break
        cut = _best_break(rest, room) or room
        lines.append(prefix + rest[:cut].rstrip())
        rest = rest[cut:].strip()
        prefix = hanging
    return "\n".join(lines)


def wrap_words(text: str, width: int = 80, indent: int = 4) -> str:
    """Prose wrapped at spaces, continuation lines under the first word after a label."""
    import textwrap

    label, gap, body = re.match(r"(\S*:?)(\s*)(.*)", text, re.S).groups()
    return textwrap.fill(
        label + gap + " ".join(body.split()),
        width=width,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _renamed(expr: Any) -> Any:
    """`expr` with each symbol renamed as a reader writes it (mu_tilde_t -> μ̃_t, alphabar_t ->
    ᾱ_t) so that sympy's 2D printer shows the course's notation too. One function with the
    derivation reports' cached heading (formulas.proof.course_renamed)."""
    from formulas.proof import course_renamed

    return course_renamed(expr)


def fit_expression(expr: Any, width: int | None = None, indent: int = 4) -> str:
    """The 2D pretty form when every line fits in `width - indent` columns, else the one-line
    Unicode form wrapped with a hanging indent. `expr` is a sympy object, or a rendered dict
    with "pretty" and "text" (a cached derivation step), or plain text."""
    width = terminal_width(width)
    if isinstance(expr, dict):
        pretty, line = expr.get("pretty") or "", expr.get("unicode") or expr.get("text") or ""
    elif isinstance(expr, str):
        pretty, line = "", expr
    else:
        import sympy as sp

        pretty = sp.pretty(_renamed(expr), use_unicode=True, wrap_line=False)
        line = unicode_line(expr)
    room = width - indent
    # sympy wraps a wide 2D form itself (at 80 columns, with ↪ marks): that is not a fit.
    wrapped_by_sympy = "↪" in pretty
    if pretty and not wrapped_by_sympy and max(len(row) for row in pretty.split("\n")) <= room:
        return "\n".join(" " * indent + row for row in pretty.split("\n"))
    return wrap_hanging(line, width=width, indent=4, first_indent=indent)
