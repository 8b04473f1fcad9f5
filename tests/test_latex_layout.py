"""The terminal's 2D layout of LaTeX (formulas.latex_layout): small pictures drawn by hand from
the layout's rules, and, for every formula's display form and every derivation step, a layout
that keeps exactly the symbols of the one-line form (nothing dropped, nothing doubled), with no
LaTeX left in it."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formulas.latex_layout import latex_lines, latex_rows, layout, top_level_pieces, width
from formulas.notation import latex_text


@pytest.mark.parametrize(
    "latex,picture",
    [
        (r"\frac{a}{b}", ["a", "─", "b"]),
        (r"x = \frac{1}{2}", ["    1", "x = ─", "    2"]),
        (r"y = \sum_{i=1}^{N} x_i", ["     N", "y =  Σ  x_i", "    i=1"]),
        (r"\left(\frac{a}{b}\right)^{2}", ["⎛a⎞²", "⎜─⎟", "⎝b⎠"]),
        (r"e^{-\frac{x}{2}}", ["  x", " -─", "  2", "e"]),
        (
            r"\begin{pmatrix} a & \frac{1}{c} \\ 0 & d \end{pmatrix}",
            ["⎛   1⎞", "⎜a  ─⎟", "⎜   c⎟", "⎜    ⎟", "⎝0  d⎠"],
        ),
        (
            r"f = \begin{cases} 1 & \text{if } x > 0 \\ 0 & \text{otherwise} \end{cases}",
            ["    ⎧1   if x > 0", "f = ⎨", "    ⎩0   otherwise"],
        ),
        (
            r"\left. \frac{d}{du} f(u) \right|_{u = g(x)}",
            ["d      │", "── f(u)│", "du     │u = g(x)"],
        ),
        (r"\sqrt{\frac{a}{b}}", ["    _", "   ╱a", "  ╱ ─", "╲╱  b"]),
    ],
)
def test_small_layouts_as_drawn_by_hand(latex, picture):
    assert latex_lines(latex) == picture


def test_flat_latex_is_exactly_the_one_line_form():
    """Nothing to lay out: the terminal prints latex_text's line, character for character."""
    for latex in (r"\hat{x}_i = \sigma(V_i h_i + c_i)", r"\|\mu_1 - \mu_2\|_2^2", r"2^{i-1}"):
        assert latex_lines(latex) == [latex_text(latex)]


def _symbols(text: str) -> Counter:
    """Letters and digits, a raised ⁿ counted as the n of a sum's limit: what a reader must
    not lose."""
    plain = unicodedata.normalize("NFKC", text)
    return Counter(c for c in plain if unicodedata.category(c)[0] in "LN")


def _all_latex() -> list[tuple[str, str]]:
    """(where, latex) for every display form and every stored derivation step side."""
    import formulas
    from formulas.notation import display_latex

    found = []
    for formula in formulas.all():
        latex = display_latex(formula)
        if latex:
            found.append((f"display {formula.id}", latex))
    shipped = json.loads((Path(formulas.__file__).parent / "proofs.json").read_text())
    for formula_id, entry in shipped["derivations"].items():
        result = entry["result"]
        for number, step in enumerate(result.get("steps", []) + result.get("properties", [])):
            for side in ("lhs", "rhs"):
                if isinstance(step.get(side), dict) and step[side].get("latex"):
                    found.append((f"{formula_id} step {number} {side}", step[side]["latex"]))
    return found


def test_every_formula_and_step_lays_out_with_its_symbols_and_no_latex():
    checked = 0
    for where, latex in _all_latex():
        lines = latex_lines(latex)
        drawn = "\n".join(lines)
        assert "\\" not in drawn and "&" not in drawn, (where, drawn)
        assert "substack" not in drawn and "begin" not in drawn, (where, drawn)
        # rows line up: the block's rows are equally wide before trailing spaces are trimmed
        assert len({width(row) for row in layout(latex).lines}) == 1, (where, drawn)
        assert _symbols(drawn) == _symbols(latex_text(latex)), (where, drawn, latex_text(latex))
        checked += 1
    assert checked > 900  # 162 display forms and ~1,000 step sides


def test_a_layout_that_drops_a_symbol_is_caught():
    """The symbol count above can fail: a layout without its fraction's denominator differs."""
    latex = r"y = \frac{a}{b}"
    broken = "\n".join(latex_lines(latex)[:2])
    assert _symbols(broken) != _symbols(latex_text(latex))


_TOKENS = [
    r"\frac{", "}{", "}", "{", r"\sum_{", r"\int\limits_{", "^{", "_{", r"\left(", r"\right)",
    r"\left.", r"\right|", r"\sqrt{", r"\begin{pmatrix}", r"\end{pmatrix}", r"\begin{cases}",
    r"\end{cases}", "&", r"\\", "(", ")", "[", "]", "x", "2", " + ", " = ", r"\alpha",
    r"\hat{", r"\text{if }", r"\substack{", r"\|", r"\,", "-",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=14))
def test_any_latex_lays_out_without_error(tokens):
    """Whatever LaTeX-like text comes (unbalanced groups, stray \\right, empty fractions), the
    layout returns rows of one width and never raises: `show` must always print something."""
    box = layout("".join(tokens))
    assert len({width(row) for row in box.lines}) == 1


def test_a_wide_formula_breaks_at_its_top_level_operators():
    latex = r"y = \frac{a}{b} + \sum_{i=1}^{N} \left(x_i - \frac{c}{d}\right) - z"
    assert top_level_pieces(latex) == [
        "y",
        r"= \frac{a}{b}",
        r"+ \sum_{i=1}^{N} \left(x_i - \frac{c}{d}\right)",  # the - inside the bracket stays
        "- z",
    ]
    rows = latex_rows(latex, columns=24, indent=4)
    assert rows == [
        "    a    N  ⎛      c⎞",
        "y = ─ +  Σ  ⎜x_i - ─⎟",
        "    b   i=1 ⎝      d⎠",
        "",
        "    - z",
    ]


@pytest.mark.parametrize("columns", [60, 80])
def test_rows_of_every_wide_display_form_fit_and_keep_their_symbols(columns):
    import formulas
    from formulas.notation import display_latex

    broken = 0
    for formula in formulas.all():
        latex = display_latex(formula)
        if not latex or max(width(line) for line in latex_lines(latex)) <= columns:
            continue
        rows = latex_rows(latex, columns, indent=4)
        if rows is None:  # one piece alone is wider: the terminal prints the one-line form
            continue
        broken += 1
        assert all(width(row) <= columns for row in rows), formula.id
        assert _symbols("\n".join(rows)) == _symbols(latex_text(latex)), formula.id
    assert broken >= 3
