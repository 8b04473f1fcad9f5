"""Derivation steps print in the course's notation, and what they print is what was checked.

Every statement, conclusion and derivation step (both sides) and every property check that
formulas/proofs.json ships carries the LaTeX the HTML/PDF sheet and `derive --json` show
(formulas.proof._render, through formulas.notation.course_latex). Here:

- no registry name leaks into it raw (`alphabar_{t-1}` for \\bar{\\alpha}_{t-1}, `x_tilde`,
  sympy's `\\operatorname{norm}(x, 2)` for \\|x\\|_2, its `\\theta(x, 0)` for the step [x > 0], a
  `Subs(..)` for f'(g(x)), the `[0, 0]` entry of a 1 x 1 product, a `__` superscript), and every
  brace, \\left and \\right pairs up;
- each step is read back: its LaTeX goes through the quiz's own answer parser (structured, as
  tests/test_notation.py reads the display forms) and the parsed expression is compared with
  the step's sympy expression, rebuilt here from the registry. A step the parser reads must
  read back as the same expression; some it cannot read at all (a limit, a second derivative
  \\partial^2, an integral over dx_{t-1}), and at least READ_BACK_FLOOR of them must read.
"""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp
from test_notation import _assumption, _assumptions_of, _declared, _objects, _same

import formulas
from formulas import notation, shipped
from formulas.proof import build_report, prove
from quizzes.parser import AnswerError, parse_relation

SHIPPED = json.loads(shipped.SHIPPED.read_text(encoding="utf-8"))
REPORTS = SHIPPED["derivations"]

# Measured when this test was written: 867 of 939 step sides read back (92%), 72 the parser
# cannot read (limits, \partial^2, derivatives by a function), none reads as something else.
# sympy's own LaTeX, shown before: 725 read back, 211 unreadable, 3 read as another expression
# (d/dx g(x) f'(g(x)) as the derivative of the product), and 64 strings with raw names.
READ_BACK_FLOOR = 0.85

WORD_AS_NAME = re.compile(r"(?<![\\A-Za-z])[a-z]{3,}_\{")
# Raw registry names and sympy artefacts a student must not see (checked outside \text{..},
# \mathrm{..} and \operatorname{..} for a word subscripted as a name: those are set upright on
# purpose).
RAW = {
    "a registry name (alphabar)": re.compile(r"alphabar"),
    "a decoration written as a name (_tilde)": re.compile(r"_tilde"),
    "a decoration written as a name (_hat)": re.compile(r"_hat"),
    "a word subscripted as a name (abc_{..})": WORD_AS_NAME,
    "sympy's norm function": re.compile(r"\\operatorname\{norm\}"),
    "sympy's Heaviside theta(x, 0)": re.compile(r"\\theta\\left\(.*?,\s*[01]\\right\)"),
    "sympy's Subs": re.compile(r"Subs"),
    "the entry [0, 0] of a 1 x 1 product": re.compile(r"\[0,\s*0\]|\\right\)\}_\{0,\s*0\}"),
    "a double underscore": re.compile(r"__"),
    "a superscript swallowing a name (T^{*V})": re.compile(r"\^\{\*[A-Za-z]"),
}
UPRIGHT = re.compile(r"\\(?:text|mathrm|operatorname)\{[^{}]*\}")


def _latex_fields(report: dict) -> list[tuple[str, str]]:
    """(where, latex) for everything of a report that a student reads as LaTeX."""
    fields = []
    if report.get("statement"):
        fields.append(("statement", report["statement"]["latex"]))
    if report.get("conclusion"):
        fields.append(("conclusion", report["conclusion"]))
    for kind in ("steps", "properties"):
        for number, item in enumerate(report.get(kind) or [], start=1):
            for side in ("lhs", "rhs"):
                if item.get(side):
                    fields.append(
                        (
                            f"{kind[:-1] if kind == 'steps' else 'property'} {number} {side}",
                            item[side]["latex"],
                        )
                    )
    return fields


def _balanced(latex: str) -> str | None:
    """Why the braces or \\left/\\right of `latex` do not pair (None when they do)."""
    depth = 0
    index = 0
    while index < len(latex):
        character = latex[index]
        if character == "\\":
            index += 2  # \{ and \} are literal braces, \\ a row break
            continue
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
            if depth < 0:
                return f"a '}}' closes nothing at {index}"
        index += 1
    if depth:
        return f"{depth} '{{' never closed"
    lefts = len(re.findall(r"\\left(?![a-zA-Z])", latex))
    rights = len(re.findall(r"\\right(?![a-zA-Z])", latex))
    if lefts != rights:
        return f"{lefts} \\left against {rights} \\right"
    return None


def latex_problems(latex: str) -> list[str]:
    """What is wrong with one LaTeX string a student reads (empty when nothing)."""
    problems = []
    visible = UPRIGHT.sub("", latex)  # a word set upright on purpose is no raw name
    for what, pattern in RAW.items():
        if pattern.search(visible if pattern is WORD_AS_NAME else latex):
            problems.append(what)
    unbalanced = _balanced(latex)
    if unbalanced:
        problems.append(unbalanced)
    return problems


def test_the_checks_catch_what_they_name():
    """Each check fires on the slip it names (these strings are sympy's own LaTeX for the
    course's names, as the sheet showed them before) and not on the course's notation."""
    x, V1, V2 = sp.symbols("x V_1 V_2")
    slips = {
        sp.latex(sp.sqrt(sp.Symbol("alphabar_{t-1}"))): "a registry name (alphabar)",
        sp.latex(sp.Function("norm")(V1 - V2, sp.oo)): "sympy's norm function",
        sp.latex(sp.Heaviside(x, 0)): "sympy's Heaviside theta(x, 0)",
        sp.latex(sp.Symbol("T^*V_1")): "a superscript swallowing a name (T^{*V})",
        "{p_{data}": "1 '{' never closed",
        r"\left( x": r"1 \left against 0 \right",
    }
    for latex, what in slips.items():
        assert what in latex_problems(latex), (latex, latex_problems(latex))
    for name in ("alphabar_{t-1}", "mu_tilde_t", "x_hat_i", "T^*V_1", "p_data"):
        assert latex_problems(notation.symbol_latex(name)) == [], name
    assert latex_problems(r"\text{log}_{p}\left(x\right)") == []  # an upright word is fine
    density = notation.conditional("q")(x, V1)
    assert _lost_letters(density, r"Q\left(x \mid V_{1}\right)") == ["q"]
    assert _lost_letters(density, notation.course_latex(density)) == []


@pytest.mark.parametrize("formula_id", sorted(REPORTS))
def test_shipped_step_latex_is_in_the_course_notation(formula_id):
    report = REPORTS[formula_id]["result"]
    found = [
        f"{where}: {', '.join(problems)}\n    {latex}"
        for where, latex in _latex_fields(report)
        if (problems := latex_problems(latex))
    ]
    assert not found, f"{formula_id}:\n  " + "\n  ".join(found)


# The brief's examples, rendered fresh: each in the notation the sheet writes (the forms below
# are the course's, e.g. the sheet's \|V_1 - V_2\|_\infty, not this printer's output).
FRESH = {
    "ddpm-posterior-mean": [r"\bar{\alpha}_{t-1}"],
    "relu-derivative": ["[x > 0]"],
    "bellman-contraction": [r"\left\|", r"\right\|_{\infty}", "T^{*}"],
    "value-iteration": [r"\right\|_{\infty}"],
    "linear-autoencoder-pca": [r"\min_{f,g}", r"\right\|_{2}^{2}"],
    "matrix-determinant-lemma": [r"v^{T} A^{-1} u"],
    "chain-rule": [r"f'\left(g\left(x\right)\right)"],
    "ddpm-forward-marginal": [r"\mathcal{N}\left(", r"q\left(x_{t} \mid x_{0}\right)"],
}


@pytest.mark.parametrize("formula_id", sorted(FRESH))
def test_fresh_reports_print_the_course_notation(formula_id):
    report = build_report(formulas.get(formula_id))
    text = "\n".join(latex for _, latex in _latex_fields(report))
    for form in FRESH[formula_id]:
        assert form in text, f"{formula_id}: {form!r} not in\n{text}"
    for where, latex in _latex_fields(report):
        assert latex_problems(latex) == [], (formula_id, where, latex)


# --------------------------------------------------------------------------------------------
# Reading the steps back


def _opaque(symbol) -> bool:
    """A symbol named by a phrase (`D_KL(p_d || m)`, `tr S`), not by a name the parser reads."""
    return not notation.IDENTIFIER_NAME.fullmatch(symbol.name)


def read_back_step(expression, latex: str) -> tuple[str, str]:
    """('same', '') when `latex` parses to `expression`; ('unreadable', why) when the parser
    refuses it; ('different', what) when it reads as something else (a printing bug).

    An opaque phrase's LaTeX stands for a name, as in tests/test_notation.py's ATOMS: it is
    swapped for a placeholder the parser is told about, and the placeholder back for it."""
    declared = _declared(expression)
    objects = _objects(expression)
    swaps = {}
    atoms = notation.atom_latex()
    opaque = [s for s in expression.atoms(sp.Symbol, sp.MatrixSymbol) if _opaque(s)]
    opaque.sort(key=lambda s: -len(atoms.get(s.name) or notation.symbol_latex(s.name)))
    for number, symbol in enumerate(opaque):
        fragment = atoms.get(symbol.name) or notation.symbol_latex(symbol.name)
        placeholder = f"atom{chr(ord('a') + number)}"
        latex = latex.replace(fragment, f" {placeholder} ")
        declared.pop(symbol.name, None)
        if isinstance(symbol, sp.MatrixSymbol):
            objects[placeholder] = symbol
            continue
        kind = _assumption(symbol)
        declared[placeholder] = kind
        swaps[sp.Symbol(placeholder, **_assumptions_of(kind))] = symbol
    try:
        parsed = parse_relation(latex, declared, scale=20, objects=objects)
    except AnswerError as error:
        return "unreadable", str(error)
    labels = {base.label for base in expression.atoms(sp.IndexedBase)}
    by_name = {s.name: s for s in expression.atoms(sp.Symbol) if s not in labels}
    parsed = parsed.xreplace(swaps)
    parsed = parsed.xreplace(
        {s: by_name[s.name] for s in parsed.atoms(sp.Symbol) if s.name in by_name}
    )
    if _same(parsed, expression):
        return "same", ""
    return "different", f"parsed {parsed}\n      step   {expression}"


def _lost_letters(expression, latex: str) -> list[str]:
    """The one-letter functions of `expression` (q, f, G) whose letter, in its case, is not
    in `latex`: shipped LaTeX once printed q(x_t | x_{t-1}) as Q(..), which no reader
    catches (the parser would refuse Q, but the sheet shows the stored string). The normal
    density N prints as \\mathcal{N}."""
    from sympy.core.function import AppliedUndef

    lost = []
    for application in expression.atoms(AppliedUndef):
        name = application.func.__name__
        letter = r"\\mathcal\{N\}" if name == "N" else name
        if re.fullmatch(r"[A-Za-z]", name) and not re.search(
            rf"(?<![A-Za-z\\]){letter}(?![A-Za-z])", latex
        ):
            lost.append(name)
    return sorted(set(lost))


def _checked_expressions(formula):
    """(where, sympy expression, report key) for each step side or property side, in the
    order build_report lists them."""
    if formula.kind == "derived":
        for number, link in enumerate(prove(formula).links):
            yield f"step {number + 1} lhs", link.lhs, ("steps", number, "lhs")
            yield f"step {number + 1} rhs", link.step.rhs, ("steps", number, "rhs")
    elif formula.properties_builder is not None:
        for number, step in enumerate(formula.properties):
            yield f"property {number + 1} lhs", step.lhs, ("properties", number, "lhs")
            yield f"property {number + 1} rhs", step.rhs, ("properties", number, "rhs")


def test_every_step_reads_back_as_what_was_checked():
    """The stored LaTeX of every step is read back and compared with the step's expression;
    none reads as something else, and most read (the parser cannot read them all)."""
    counts = {"same": 0, "unreadable": 0, "different": 0}
    different, stale, renamed = [], [], []
    for formula_id in sorted(REPORTS):
        report = REPORTS[formula_id]["result"]
        formula = formulas.get(formula_id)
        for where, expression, (kind, number, side) in _checked_expressions(formula):
            if not isinstance(expression, sp.Basic):
                continue
            latex = report[kind][number][side]["latex"]
            if latex != notation.course_latex(expression):
                stale.append(f"{formula_id} {where}")
                continue
            renamed.extend(
                f"{formula_id} {where}: {name}" for name in _lost_letters(expression, latex)
            )
            verdict, why = read_back_step(expression, latex)
            counts[verdict] += 1
            if verdict == "different":
                different.append(f"{formula_id} {where}: {why}\n      latex  {latex}")
    assert not stale, f"proofs.json is stale ({shipped.REGENERATE}): {stale[:5]}"
    assert not renamed, f"a function's letter is not printed as named: {renamed}"
    assert not different, "steps that read back as something else:\n  " + "\n  ".join(different)
    total = sum(counts.values())
    assert total > 500, counts  # the registry's steps, not an empty loop
    assert counts["same"] >= READ_BACK_FLOOR * total, counts
