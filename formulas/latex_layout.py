"""LaTeX laid out in two dimensions for a terminal: fractions over a bar, sums with their limits
above and below, roots, raised exponents, tall brackets, matrices and cases.

    latex_layout(r"\\frac{\\mu^{2}}{2} + \\sum_{i=1}^{N} x_{i}")  # -> list of lines

    μ²      N
    ── +    Σ   x_i
    2     i=1

The terminal prints every formula from LaTeX: a formula's display LaTeX (the form proved equal
to its statement, formulas.notation.DISPLAY / course_latex) and each derivation step's course
LaTeX. So what `show` and `derive` draw is what the exports render, never sympy's own 2D
printer with its registry names. Anything flat (no fraction, limit, matrix or raised exponent)
is exactly `latex_text`'s one line, and every flat piece of a 2D layout is `latex_text` of that
piece: one reading of LaTeX for the terminal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from formulas.notation import SUBSCRIPT, SUPERSCRIPT, _group, _script, latex_text


def width(text: str) -> int:
    """Columns a terminal gives `text`: combining accents (x̂, μ̃) take none."""
    return sum(0 if unicodedata.combining(character) else 1 for character in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def _center(text: str, columns: int) -> str:
    spare = columns - width(text)
    return " " * (spare // 2) + text + " " * (spare - spare // 2)


@dataclass
class Box:
    """A block of equal-width lines; `baseline` is the row that lines up with the text around
    it (a fraction's bar, a sum's sign)."""

    lines: list[str]
    baseline: int = 0

    def __post_init__(self) -> None:
        columns = max((width(line) for line in self.lines), default=0)
        self.lines = [_pad(line, columns) for line in self.lines] or [""]

    @property
    def width(self) -> int:
        return width(self.lines[0])

    @property
    def height(self) -> int:
        return len(self.lines)


def text_box(text: str) -> Box:
    return Box([text])


def beside(boxes: list[Box]) -> Box:
    """Boxes side by side, their baselines on one row."""
    boxes = [box for box in boxes if box.width]
    if not boxes:
        return Box([""])
    above = max(box.baseline for box in boxes)
    below = max(box.height - box.baseline for box in boxes)
    rows = [""] * (above + below)
    for box in boxes:
        top = above - box.baseline
        for row in range(above + below):
            inside = 0 <= row - top < box.height
            rows[row] += box.lines[row - top] if inside else " " * box.width
    return Box(rows, above)


def fraction(numerator: Box, denominator: Box) -> Box:
    columns = max(numerator.width, denominator.width)
    rows = [_center(line, columns) for line in numerator.lines]
    rows.append("─" * columns)
    rows += [_center(line, columns) for line in denominator.lines]
    return Box(rows, numerator.height)


def raised(base: Box, exponent: Box) -> Box:
    """base with `exponent` above its right edge (its last row beside a tall base's top)."""
    overlap = 1 if base.height > 1 else 0
    lift = exponent.height - overlap
    rows = [" " * base.width + line for line in exponent.lines[:lift]]
    for row, line in enumerate(base.lines):
        beside_row = lift + row
        right = exponent.lines[beside_row] if beside_row < exponent.height else ""
        rows.append(line + _pad(right, exponent.width))
    return Box(rows, base.baseline + lift)


def lowered(base: Box, subscript: Box) -> Box:
    """base with `subscript` beside its bottom row (an evaluation bar's point)."""
    rows = [line + " " * subscript.width for line in base.lines[:-1]]
    rows.append(base.lines[-1] + subscript.lines[0])
    rows += [" " * base.width + line for line in subscript.lines[1:]]
    return Box(rows, base.baseline)


def big_operator(sign: str, lower: Box | None, upper: Box | None) -> Box:
    """Σ, Π or ∫ with its limits above and below."""
    columns = max(lower.width if lower else 1, upper.width if upper else 1)
    rows = [_center(line, columns) for line in (upper.lines if upper else [])]
    baseline = len(rows)
    rows.append(_center(sign, columns))
    rows += [_center(line, columns) for line in (lower.lines if lower else [])]
    return Box(rows, baseline)


def root(radicand: Box) -> Box:
    """√ over a tall radicand: an overline and a diagonal down its left side."""
    height = radicand.height
    rows = [" " * (height + 1) + "_" * radicand.width]
    for row, line in enumerate(radicand.lines):
        if row == height - 1:
            left = "╲╱" + " " * (height - 1)
        else:
            left = " " * (height - row) + "╱" + " " * row
        rows.append(left + line)
    return Box(rows, radicand.baseline + 1)


# Tall delimiters: (top, middle, bottom, extension) characters for each opening and closing one.
_TALL = {
    "(": ("⎛", "⎜", "⎝", "⎜"),
    ")": ("⎞", "⎟", "⎠", "⎟"),
    "[": ("⎡", "⎢", "⎣", "⎢"),
    "]": ("⎤", "⎥", "⎦", "⎥"),
    "{": ("⎧", "⎨", "⎩", "⎪"),
    "}": ("⎫", "⎬", "⎭", "⎪"),
    "|": ("│", "│", "│", "│"),
    "‖": ("‖", "‖", "‖", "‖"),
    "⌊": ("⎢", "⎢", "⎣", "⎢"),
    "⌋": ("⎥", "⎥", "⎦", "⎥"),
    "⌈": ("⎡", "⎢", "⎢", "⎢"),
    "⌉": ("⎤", "⎥", "⎥", "⎥"),
}


def _column(delimiter: str, height: int, baseline: int) -> list[str]:
    if not delimiter:
        return [""] * height
    if height == 1 or delimiter not in _TALL:
        return [delimiter] * height
    top, middle, bottom, extension = _TALL[delimiter]
    rows = [extension] * height
    rows[0], rows[-1] = top, bottom
    if delimiter in "{}" and height >= 3:
        rows[min(max(baseline, 1), height - 2)] = middle
    return rows


def bracketed(inner: Box, left: str, right: str) -> Box:
    lefts = _column(left, inner.height, inner.baseline)
    rights = _column(right, inner.height, inner.baseline)
    rows = [lefts[row] + line + rights[row] for row, line in enumerate(inner.lines)]
    return Box(rows, inner.baseline)


def grid(cells: list[list[Box]], gap: int = 2) -> Box:
    """Rows of cells, columns left-aligned (a matrix's entries, a case's value and condition);
    rows are set apart by a blank row when any cell is tall."""
    columns = max(len(row) for row in cells)
    widths = [
        max((row[c].width for row in cells if c < len(row)), default=0) for c in range(columns)
    ]
    tall = any(cell.height > 1 for row in cells for cell in row)
    rows: list[str] = []
    for index, row in enumerate(cells):
        if index and tall:
            rows.append("")
        padded = [
            Box([_pad(line, widths[c]) for line in cell.lines], cell.baseline)
            for c, cell in enumerate(row)
        ]
        joined = beside(
            [
                part
                for c, cell in enumerate(padded)
                for part in ([text_box(" " * gap)] if c else []) + [cell]
            ]
        )
        rows += joined.lines
    return Box(rows, (len(rows) - 1) // 2)


# --------------------------------------------------------------------------------------------
# Reading LaTeX into boxes

_FRACTIONS = {"frac", "dfrac", "tfrac"}
_SPACE = r"(\s|\\[,;: ]|\\q?quad\b)"  # typed space or a spacing command
_BIG = {"sum": "Σ", "prod": "Π", "int": "∫", "oint": "∮", "bigcup": "⋃", "bigcap": "⋂"}
# Commands that take their argument(s) with them into flat text (latex_text reads them).
_ONE_ARGUMENT = {
    "text", "mathrm", "operatorname", "textrm", "mathit", "textit", "emph", "boldsymbol",
    "mathbf", "bm", "mathcal", "mathbb", "hat", "bar", "tilde", "overline", "widehat",
    "widetilde", "vec", "dot",
}  # fmt: skip
_MATRICES = {
    "pmatrix": ("(", ")"),
    "bmatrix": ("[", "]"),
    "vmatrix": ("|", "|"),
    "matrix": ("", ""),
}
_DELIMITERS = {
    r"\|": "‖", r"\{": "{", r"\}": "}", r"\lfloor": "⌊", r"\rfloor": "⌋", r"\lceil": "⌈",
    r"\rceil": "⌉", r"\langle": "⟨", r"\rangle": "⟩", r"\vert": "|", r"\Vert": "‖", ".": "",
}  # fmt: skip


def _delimiter(text: str, start: int) -> tuple[str, int]:
    """The delimiter after \\left or \\right and where it ends."""
    match = re.match(r"\s*(\\[A-Za-z]+|\\.|.)", text[start:])
    if not match:
        return "", start
    token = match.group(1)
    return _DELIMITERS.get(token, token), start + match.end()


def _matching_right(text: str, start: int) -> int:
    """Where the \\right that closes the \\left before `start` begins (-1 if none)."""
    depth = 1
    for match in re.finditer(r"\\(left|right)(?![A-Za-z])", text[start:]):
        depth += 1 if match.group(1) == "left" else -1
        if depth == 0:
            return start + match.start()
    return -1


def _matching_end(text: str, start: int, environment: str) -> int:
    depth = 1
    pattern = r"\\(begin|end)\{" + re.escape(environment) + r"\}"
    for match in re.finditer(pattern, text[start:]):
        depth += 1 if match.group(1) == "begin" else -1
        if depth == 0:
            return start + match.start()
    return -1


def _matching_paren(text: str, start: int) -> int:
    """The plain ")" or "]" closing the one at `start`, skipping \\left( / \\right) pairs and
    {..} groups (-1 if none)."""
    opening = text[start]
    closing = {"(": ")", "[": "]"}[opening]
    depth, braces, index = 0, 0, start
    while index < len(text):
        character = text[index]
        if character == "\\":
            index += 2 if index + 1 < len(text) and not text[index + 1].isalpha() else 1
            while index < len(text) and text[index].isalpha():
                index += 1
            if text[index - 4 : index] in ("left", "ight"):  # \left( and \right) balance apart
                index += 1
            continue
        if character == "{":
            braces += 1
        elif character == "}":
            braces -= 1
        elif braces == 0 and character == opening:
            depth += 1
        elif braces == 0 and character == closing:
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _rows(body: str) -> list[list[str]]:
    rows = [row for row in re.split(r"\\\\", body) if row.strip()]
    return [row.split("&") for row in rows]


class _Reader:
    """Walks one level of LaTeX, gathering flat text until a 2D construct needs a box."""

    def __init__(self) -> None:
        self.items: list[Box] = []
        self.pending = ""

    def flush(self, last: bool = False) -> None:
        """Set the gathered flat text as a box; spaces at its ends (typed, or \\, \\;) part
        it from the boxes beside it, but not from the group's edge (`last`)."""
        pending, self.pending = self.pending, ""
        space_before = bool(re.match(_SPACE, pending)) and bool(self.items)
        space_after = bool(re.search(_SPACE + "$", pending)) and not last
        if not pending.strip():
            if space_before and not last:
                self.items.append(text_box(" "))
            return
        shown = latex_text(pending, fragment=bool(self.items))  # "- " first is unary
        self.items.append(text_box(" " * space_before + shown + " " * space_after))

    def add(self, box: Box) -> None:
        self.flush()
        self.items.append(box)

    def attach(self, wrap) -> None:
        """Apply `wrap` to the last box (a script on a bracket or a fraction)."""
        self.items[-1] = wrap(self.items[-1])


def layout(latex: str) -> Box:
    """`latex` as a Box (one row when nothing in it needs two dimensions)."""
    box = _read(latex)
    if box.height == 1:
        return text_box(latex_text(latex))
    return box


def _read(text: str) -> Box:
    reader = _Reader()
    index = 0
    while index < len(text):
        character = text[index]
        if character == "\\":
            index = _command(text, index, reader)
        elif character in "^_":
            index = _script_at(text, index, reader)
        elif character == "{":
            argument, end = _group(text, index)
            inner = _read(argument)
            if inner.height == 1:
                reader.pending += text[index:end]
            else:
                reader.add(inner)
            index = end
        elif character in "([":
            end = _matching_paren(text, index)
            inner = _read(text[index + 1 : end]) if end > 0 else None
            if inner is None or inner.height == 1:
                reader.pending += character
                index += 1
            else:
                reader.add(bracketed(inner, character, text[end]))
                index = end + 1
        else:
            reader.pending += character
            index += 1
    reader.flush(last=True)
    return beside(reader.items)


def _command(text: str, index: int, reader: _Reader) -> int:
    match = re.match(r"\\([A-Za-z]+|.)", text[index:])
    name, end = match.group(1), index + match.end()
    if name in _FRACTIONS:
        numerator, end = _group(text, end)
        denominator, end = _group(text, end)
        top, bottom = layout(numerator), layout(denominator)
        if top.height == bottom.height == 1 and top.lines[0] in ("d", "∂"):
            bottom = text_box(bottom.lines[0].replace("d ", "d").replace("∂ ", "∂"))
        reader.add(fraction(top, bottom))
        return end
    if name == "sqrt":
        argument, after = _group(text, end)
        inner = _read(argument)
        if inner.height == 1:
            reader.pending += text[index:after]
        else:
            reader.add(root(inner))
        return after
    if name in _BIG:
        lower = upper = None
        cursor = end
        while True:
            skip = re.match(r"\s*(\\limits|\\nolimits)?\s*", text[cursor:])
            cursor += skip.end()
            if cursor < len(text) and text[cursor] in "_^":
                argument, after = _group(text, cursor + 1)
                if text[cursor] == "_":
                    lower = argument
                else:
                    upper = argument
                cursor = after
                continue
            break
        if lower is None and upper is None:
            reader.pending += text[index:end]
            return end
        reader.add(big_operator(_BIG[name], _limit(lower), _limit(upper)))
        reader.pending += " "
        return cursor
    if name == "left":
        left, after = _delimiter(text, end)
        right_at = _matching_right(text, after)
        if right_at < 0:
            return after
        right, close = _delimiter(text, right_at + len(r"\right"))
        inner = _read(text[after:right_at])
        if inner.height == 1 and left:
            reader.pending += text[index:close]
            return close
        reader.add(bracketed(inner, left, right))
        return close
    if name == "begin":
        environment, after = _group(text, end)
        close = _matching_end(text, after, environment)
        if close < 0:
            reader.pending += text[index:]
            return len(text)
        body = text[after:close]
        finish = close + len(r"\end{" + environment + "}")
        if environment in _MATRICES:
            left, right = _MATRICES[environment]
            cells = [[layout(cell.strip()) for cell in row] for row in _rows(body)]
            reader.add(bracketed(grid(cells), left, right))
        elif environment == "cases":
            cells = [[layout(cell.strip()) for cell in row] for row in _rows(body)]
            inner = grid(cells, gap=3)
            if inner.height == 2:  # two cases: the brace's point ⎨ between them
                inner = Box([inner.lines[0], "", inner.lines[1]], 1)
            reader.add(bracketed(inner, "{", ""))
        else:
            reader.pending += text[index:finish]
        return finish
    if name == "substack":
        argument, after = _group(text, end)
        rows = [layout(row.strip()) for row in re.split(r"\\\\", argument) if row.strip()]
        reader.add(Box([_center(row.lines[0], max(r.width for r in rows)) for row in rows]))
        return after
    if name in _ONE_ARGUMENT:
        _, after = _group(text, end)
        reader.pending += text[index:after]
        return after
    reader.pending += text[index:end]
    return end


def _limit(argument: str | None) -> Box | None:
    if argument is None:
        return None
    box = _read(argument)
    return box if box.height > 1 else text_box(latex_text(argument).replace(" ", ""))


def _script_at(text: str, index: int, reader: _Reader) -> int:
    """A sub- or superscript. Flat ones stay in the text (latex_text writes ², ᵀ, _i, ^(k - 1)
    as the one-line form does); after a box (a tall bracket, an evaluation bar) they sit at its
    top or bottom corner; only a 2D exponent (e^{-\\frac{..}{..}}) is raised a row."""
    mark = text[index]
    argument, end = _group(text, index + 1)
    after_box = not reader.pending and reader.items
    if mark == "_":
        if after_box:
            shown = _script(argument, SUBSCRIPT, "_")  # ‖..‖₂; a long one bare (y = f⁻¹(x))
            shown = latex_text(argument) if shown.startswith("_") else shown
            reader.attach(lambda box: lowered(box, text_box(shown)))
        else:
            reader.pending += text[index:end]
        return end
    exponent = _read(argument)
    if exponent.height == 1 and not after_box:
        reader.pending += text[index:end]
        return end
    flat = exponent.height == 1
    if flat:  # after a tall bracket: (..)² at its top corner, (..)^(t - 1) likewise
        shown = _script(argument, SUPERSCRIPT, "^")
        exponent = text_box(shown.removeprefix("^"))
    reader.flush()
    if not reader.items:
        reader.items.append(text_box(""))
    reader.attach(
        lambda box: beside([box, exponent]) if flat and box.height == 1 else raised(box, exponent)
    )
    return end


def latex_lines(latex: str) -> list[str]:
    """The 2D layout of `latex` as lines of equal width (trailing spaces trimmed)."""
    return [line.rstrip() for line in layout(latex).lines]


# Where a formula too wide for the terminal may break: a relation first, then + and -, at the
# top level (outside every group, bracket, fraction and environment).
_BREAK = re.compile(r" (=|\\leq|\\geq|\\le|\\ge|<|>|\+|-) ")


def top_level_pieces(latex: str) -> list[str]:
    """`latex` cut before each top-level ` = `, ` + `, ` - ` (and ≤, ≥): the pieces a wide
    formula is set on several 2D rows by, each after the first starting with its operator."""
    cuts, depth, index = [], 0, 0
    while index < len(latex):
        character = latex[index]
        command = re.match(r"\\(left|right|begin|end)(?![A-Za-z])", latex[index:])
        if command:
            depth += 1 if command.group(1) in ("left", "begin") else -1
            index += command.end()
            continue
        if character == "\\":  # an escaped character (\{, \|) or another command: skip it
            index += 2
            continue
        if character in "{([":
            depth += 1
        elif character in "})]":
            depth -= 1
        elif depth == 0 and index > 0 and _BREAK.match(latex, index):
            cuts.append(index + 1)
        index += 1
    bounds = [0, *cuts, len(latex)]
    return [latex[start:end].strip() for start, end in zip(bounds, bounds[1:])]


def latex_rows(latex: str, columns: int, indent: int = 4) -> list[str] | None:
    """`latex` laid out in 2D on as few rows of at most `columns` as its top-level operators
    allow (rows after the first indented by `indent`, starting with their operator); None when
    a single piece is wider than that."""
    rows: list[list[str]] = []
    for piece in top_level_pieces(latex):
        if rows:
            joined = " ".join(rows[-1] + [piece])
            room = columns - (indent if len(rows) > 1 else 0)
            if max(width(line) for line in latex_lines(joined)) <= room:
                rows[-1].append(piece)
                continue
        rows.append([piece])
    lines: list[str] = []
    previous_height = 1
    for number, row in enumerate(rows):
        text = " ".join(row)
        if number:  # "- z" continues the line: a binary minus, set apart from what follows
            operator, _, body = text.partition(" ")
            text_row = beside([text_box(latex_text(operator) + " "), layout(body)])
            shown = [line.rstrip() for line in text_row.lines]
        else:
            shown = latex_lines(text)
        margin = " " * (indent if number else 0)
        if max(width(line) for line in shown) + len(margin) > columns:
            return None
        if number and max(previous_height, len(shown)) > 1:
            lines.append("")  # keeps one row's fraction or limits apart from the next row's
        lines += [(margin + line).rstrip() for line in shown]
        previous_height = len(shown)
    return lines
