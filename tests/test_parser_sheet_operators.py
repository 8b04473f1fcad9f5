"""The parser reads the operators the sheet writes around derivatives and matrices (issue 12):
determinants without parentheses, the Hadamard product, gradients as fractions of partials,
Iverson brackets, a gradient function, a semicolon between arguments, and the registry's own
operators (a Jacobian, a derivative that keeps its place in a product) when a display formula
brings them. A student's answer (no objects) reads as before or is refused with a message."""

from __future__ import annotations

import pytest
import sympy as sp

from quizzes.parser import AnswerError, parse, parse_relation

x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
L = sp.Symbol("L", real=True)


def test_det_of_a_matrix_without_parentheses():
    J = sp.MatrixSymbol("J", 3, 3)
    read = parse_relation(r"\log\left|\det J\right| = 2", {}, objects={"J": J})
    assert read.lhs == sp.log(sp.Abs(sp.Determinant(J)))
    with pytest.raises(AnswerError, match="square matrix"):
        parse(r"\det x", {"x": "real"})


def test_hadamard_product_of_vectors_and_only_of_matrices():
    a, b = sp.MatrixSymbol("a", 2, 1), sp.MatrixSymbol("b", 2, 1)
    read = parse_relation(r"c = a \odot b", {"c": "real"}, objects={"a": a, "b": b})
    assert read.rhs == sp.HadamardProduct(a, b)
    with pytest.raises(AnswerError, match="entry by entry"):
        parse(r"x \odot y", {"x": "real", "y": "real"})


def test_a_gradient_is_a_fraction_of_partials():
    W = sp.MatrixSymbol("W^(l)", 2, 2)
    read = parse_relation(
        r"\frac{\partial L}{\partial W^{(l)}} = 0", {"L": "real"}, objects={"W^(l)": W}
    )
    assert read.lhs == sp.Derivative(L, W)
    # d/dx of what follows, and a fraction of two plain partials, read as before
    assert parse(r"\frac{\partial}{\partial x} x^2", {"x": "real"}) == sp.Derivative(x**2, x)
    assert parse(r"\frac{\partial x}{\partial y}", {"x": "real", "y": "real"}) == (
        sp.Derivative(x, y)
    )


def test_an_immediate_derivative_needs_the_registry_operator():
    with pytest.raises(AnswerError, match="immediate"):
        parse(r"\frac{\partial^{+} x}{\partial y}", {"x": "real", "y": "real"})


def test_iverson_bracket_is_a_kronecker_delta():
    i, j = sp.Symbol("i", integer=True), sp.Symbol("j", integer=True)
    names = {"i": "integer", "j": "integer", "x": "real"}
    assert parse(r"[i = j]\, x", names) == sp.KroneckerDelta(i, j) * x
    assert parse(r"x [i = j]", names) == sp.KroneckerDelta(i, j) * x
    with pytest.raises(AnswerError, match="Iverson"):
        parse(r"[x]", names)


def test_gradient_function_and_semicolon_arguments():
    nabla_L, F = sp.Function("nablaL"), sp.Function("F")
    read = parse_relation(
        r"F(x, y; x) = \nabla L(x + y)",
        {"x": "real", "y": "real"},
        objects={"nablaL": nabla_L, "F": F},
    )
    assert read.lhs == F(x, y, x)
    assert read.rhs == nabla_L(x + y)


def test_registry_operators_read_back_from_their_printing():
    from formulas._chain import jacobian
    from formulas.notation import course_latex, gradient, partial

    p_hat, theta = sp.MatrixSymbol("hat{p}", 3, 1), sp.MatrixSymbol("theta", 2, 1)
    statement = sp.Eq(jacobian(p_hat, theta), jacobian(p_hat, theta), evaluate=False)
    objects = {"hat{p}": p_hat, "theta": theta, "Jacobian": type(statement.lhs)}
    read = parse_relation(course_latex(statement), {}, objects=objects)
    assert read.lhs == statement.lhs

    h, W = sp.IndexedBase("h"), sp.Symbol("W", commutative=False)
    t = sp.Symbol("t", integer=True, positive=True)
    d, d_plus = partial(), partial(immediate=True)
    expression = d(sp.Symbol("L_t"), h[t]) * d_plus(h[t], W)
    read = parse_relation(
        course_latex(expression),
        {"L_t": "complex", "W": "noncommutative", "t": "positive-integer"},
        objects={"h": h, "partial": d, "partialplus": d_plus},
    )
    assert read == expression  # the order of the two factors is kept

    nabla = gradient("x")
    f = sp.Function("f")
    read = parse_relation(
        course_latex(nabla(f(x))), {"x": "real"}, objects={"nabla_x": nabla, "f": f}
    )
    assert read == nabla(f(x))
