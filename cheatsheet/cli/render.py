"""Math in a terminal, always from the course's LaTeX (a formula's display form, a step's
course_latex): laid out in 2D when it fits (formulas.latex_layout), else one readable Unicode
line (`ᾱ`, `√`, `Σ`, `∫`, superscripts; never sympy code like `Integral(sqrt(2)*...`) wrapped
at operators with a hanging indent.

    render.fit_latex(latex, width=80, indent=4)       # str, every line <= width
    render.fit_relation(lhs, "=", rhs, width=80)      # a derivation step
    render.fit_expression(expr, width=80, indent=4)   # a sympy expression, via course_latex
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

from formulas.notation import latex_text


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


_RELATIONS = {"=": "=", "<=": r"\leq", ">=": r"\geq", "<": "<", ">": ">", "!=": r"\neq"}


def fit_latex(latex: str, width: int | None = None, indent: int = 4) -> str:
    """`latex` laid out in two dimensions (formulas.latex_layout) when every line fits in
    `width - indent` columns, else its one Unicode line (latex_text) wrapped at operators with
    a hanging indent. Both read the same LaTeX the exports render. A 2D form too wide is first
    set on several 2D rows broken at its top-level =, + and - (latex_rows)."""
    from formulas.latex_layout import latex_rows

    width = terminal_width(width)
    whole = _laid_out(latex, width, indent)
    if whole is not None:
        return whole
    try:  # too wide: 2D rows broken at its top-level =, +, -
        rows = latex_rows(latex, width - indent, indent=4)
    except Exception:  # noqa: BLE001 - as above
        rows = None
    if rows:
        return "\n".join((" " * indent + row).rstrip() for row in rows)
    return wrap_hanging(latex_text(latex), width=width, indent=4, first_indent=indent)


def _laid_out(latex: str, width: int, indent: int) -> str | None:
    """The 2D layout of `latex`, indented, when every line fits in `width - indent` columns."""
    from formulas.latex_layout import latex_lines
    from formulas.latex_layout import width as columns_of

    try:
        lines = latex_lines(latex)
    except Exception:  # noqa: BLE001 - a layout gap must not hide the formula: one line then
        return None
    if max(columns_of(line) for line in lines) > width - indent:
        return None
    return "\n".join((" " * indent + line).rstrip() for line in lines)


def fit_relation(
    lhs: str | None, relation: str, rhs: str, width: int | None = None, indent: int = 4
) -> str:
    """`lhs relation rhs` (LaTeX sides) on one 2D line when it fits, else the sides stacked
    with the relation between them; `lhs` None prints `= rhs` (a chain's next step)."""
    width = terminal_width(width)
    symbol = _RELATIONS.get(relation, relation)
    whole = f"{lhs} {symbol} {rhs}" if lhs is not None else f"{symbol} {rhs}"
    fitted = _laid_out(whole, width, indent)
    if fitted is not None:
        return fitted
    shown = latex_text(symbol)
    parts = [fit_latex(lhs, width, indent)] if lhs is not None else []
    parts += [" " * max(0, indent - 2) + shown, fit_latex(rhs, width, indent)]
    return "\n".join(parts)


def expression_latex(expr: Any) -> str:
    """The course's LaTeX of a sympy expression, a cached rendering (its "latex") or text."""
    if isinstance(expr, dict):
        return expr.get("latex") or ""
    if isinstance(expr, str):
        return expr
    from formulas.notation import course_latex

    return course_latex(expr)


def fit_expression(expr: Any, width: int | None = None, indent: int = 4) -> str:
    """A sympy expression or a cached rendering, fitted like its course LaTeX (fit_latex)."""
    return fit_latex(expression_latex(expr), width, indent)
