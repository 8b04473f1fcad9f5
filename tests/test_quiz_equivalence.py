"""Equivalence: rewritten forms are accepted, perturbed ones refused, and the verdict says how.

The oracle for "these are equal" is construction: each accepted form is built from the
expected one by an identity (expand, factor, a log rule under its assumption); each refused
form differs from it by a nonzero amount at a point we choose.
"""

from __future__ import annotations

import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from quizzes.equivalence import equivalent, numeric_compare
from quizzes.mutations import mutants
from quizzes.parser import parse, to_text

SYMBOLS = {"x": "real", "y": "real", "s": "positive", "abar_t": "unit", "n": "positive-integer"}
x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
s = sp.Symbol("s", positive=True)

coefficients = st.integers(min_value=-5, max_value=5)


@st.composite
def polynomials(draw):
    terms = draw(
        st.lists(
            st.tuples(coefficients, st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=4
        )
    )
    return sum(c * x**i * y**j for c, i, j in terms)


@given(p=polynomials(), q=polynomials())
def test_expanded_and_factored_forms_are_accepted(p, q):
    product = sp.Mul(p, q, evaluate=False)
    given_text = to_text(sp.expand(p * q))
    expected_text = to_text(product)
    verdict = equivalent(parse(given_text, SYMBOLS), parse(expected_text, SYMBOLS), SYMBOLS)
    assert verdict.equal and verdict.method == "symbolic"


@given(p=polynomials(), delta=st.integers(min_value=1, max_value=9))
def test_perturbed_forms_are_refused(p, delta):
    for perturbed in (p + delta, p + delta * x, p * (1 + delta * y**2) + delta):
        verdict = equivalent(
            parse(to_text(perturbed), SYMBOLS), parse(to_text(p), SYMBOLS), SYMBOLS
        )
        assert not verdict.equal and verdict.method == "numeric"


def test_rewrites_that_need_assumptions():
    # log(s^2) = 2 log(s) only because s > 0; sqrt(s^2) = s likewise.
    for given_text, expected_text in [
        ("log(s^2)", "2*log(s)"),
        ("sqrt(s^2)", "s"),
        ("exp(log(s))", "s"),
        ("1/(1+exp(-x))", "sigmoid(x)"),
        ("(1 - abar_t)^(1/2)", "sqrt(1-abar_t)"),
        ("sin(x)^2 + cos(x)^2", "1"),
    ]:
        verdict = equivalent(parse(given_text, SYMBOLS), parse(expected_text, SYMBOLS), SYMBOLS)
        assert verdict.equal, (given_text, expected_text, verdict)


def test_numeric_fallback_decides_when_sympy_cannot_prove():
    # An identity simplify does not close in general (a Max over a shifted sum) is still
    # accepted, numerically, and the verdict says so.
    given_expr = parse("max(x, y) + min(x, y)", SYMBOLS)
    expected_expr = parse("x + y", SYMBOLS)
    verdict = equivalent(given_expr, expected_expr, SYMBOLS)
    assert verdict.equal
    assert verdict.method in ("symbolic", "numeric")
    wrong = equivalent(parse("max(x, y)", SYMBOLS), expected_expr, SYMBOLS)
    assert not wrong.equal and wrong.method == "numeric" and "differs at" in wrong.detail


def test_every_mutant_of_a_formula_is_refused():
    answer = parse("log(s) + (x^2 + (y - 1)^2)/(2*s^2) - 1/2", SYMBOLS)
    found = mutants(answer)
    assert len(found) >= 8
    descriptions = " ".join(m.description for m in found)
    for mistake in ("sign", "factor 1/2 dropped", "not squared"):
        assert mistake in descriptions
    for mutant in found:
        assert not equivalent(mutant.expr, answer, SYMBOLS).equal, mutant.description


def test_bar_and_index_mutants():
    answer = parse("sqrt(abar_t)*x", SYMBOLS)
    names = {frozenset(s.name for s in m.expr.free_symbols) for m in mutants(answer)}
    assert frozenset({"alpha_t", "x"}) in names  # the dropped bar
    assert frozenset({"abar_{t-1}", "x"}) in names  # off by one


def test_a_matrix_against_a_number_is_wrong_not_a_crash():
    """sympy cannot subtract a matrix and a number (Matrix - x is a TypeError, which crashed
    `check`): the kinds are compared first, both ways, and the verdict says what was given."""
    column = parse(r"\begin{pmatrix}1\\2\end{pmatrix}", SYMBOLS)
    number = parse("x^2 + 1", SYMBOLS)
    assert column.shape == (2, 1)
    for given_expr, expected_expr, detail in (
        (column, number, "a 2 x 1 matrix where a number is expected"),
        (number, column, "a number where a 2 x 1 matrix is expected"),
        (column, sp.Matrix([1, 2, 3]), "a 2 x 1 matrix where a 3 x 1 matrix is expected"),
        (sp.MatrixSymbol("A", 2, 2), number, "a 2 x 2 matrix where a number is expected"),
    ):
        verdict = equivalent(given_expr, expected_expr, SYMBOLS)
        assert not verdict.equal and verdict.detail == detail
        assert not numeric_compare(given_expr, expected_expr, SYMBOLS).equal


def test_matrices_of_one_shape_are_compared_entry_by_entry():
    # built by an identity entry by entry (a difference of squares, x + x), then one entry
    # off by 1 at every point
    expected_expr = sp.Matrix([[x**2 - 1], [2 * x]])
    rewritten = sp.Matrix([[(x - 1) * (x + 1)], [x + x]])
    verdict = equivalent(rewritten, expected_expr, SYMBOLS)
    assert verdict.equal and "entry by entry" in verdict.detail
    off = sp.Matrix([[x**2 - 1], [2 * x + 1]])
    wrong = equivalent(off, expected_expr, SYMBOLS)
    assert not wrong.equal and wrong.detail.startswith("entry (2, 1)")
