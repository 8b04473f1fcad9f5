"""Identities and constraints of symbolic questions: every form the identities allow is
accepted, and every counterexample the numeric check reports lies inside the constraints."""

from __future__ import annotations

import re

import sympy as sp

from quizzes.banks import bank_files, load_bank
from quizzes.engine import answer_symbols, expected_expr, mark
from quizzes.equivalence import domain
from quizzes.mutations import mutants
from quizzes.parser import to_text

CONSTRAINED = [
    q
    for path in bank_files()
    for q in load_bank(path, registry=False)
    if q.kind == "symbolic" and q.constraints
]


def _reported_point(feedback: str) -> dict[str, float] | None:
    match = re.search(r"differs at ([^:]*):", feedback)
    if not match:
        return None
    return {k: float(v) for k, v in re.findall(r"([\w{}+-]+)=(-?[\d.e+-]+)", match.group(1))}


def test_every_counterexample_lies_inside_the_constraints():
    assert CONSTRAINED, "no bank question declares constraints"
    checked = 0
    for question in CONSTRAINED:
        where = domain(question.identities, question.constraints, answer_symbols(question))
        for mutant in mutants(expected_expr(question)):
            names = {s.name for s in mutant.expr.free_symbols}
            if not names <= set(question.symbols):
                continue
            result = mark(question, to_text(mutant.expr))
            point = _reported_point(result.feedback)
            if point is None:
                continue
            symbols = {s.name: s for s in expected_expr(question).free_symbols}
            at = {symbols[n]: sp.Rational(str(v)) for n, v in point.items() if n in symbols}
            # the point is reported to 4 digits: check the chain with that rounding's slack
            assert where.holds(at) or _near_boundary(where, at), (question.id, point)
            checked += 1
    assert checked > 0


def _near_boundary(where, point) -> bool:
    for terms, _ in where.chains:
        values = [float(where.rewrite(t).xreplace(point)) for t in terms]
        if any(right - left < -1e-3 for left, right in zip(values, values[1:])):
            return False
    return True


def test_identities_accept_every_equivalent_form():
    (question,) = [q for q in CONSTRAINED if q.id == "diffusion-loss-weight"]
    assert mark(question, "(1 - a_t)/(2*a_t*(1 - abar_t))").correct
    assert mark(question, "b_t/(2*a_t*(1 - abar_t))").correct
    assert not mark(question, "b_t/(2*a_t*(1 - a_t))").correct


def test_a_constraint_chain_bounds_every_drawn_point():
    import random

    from quizzes.equivalence import _chain_point

    a, abar = sp.Symbol("a_t", positive=True), sp.Symbol("abar_t", positive=True)
    where = domain((), ("0 < abar_t <= a_t < 1",), {"a_t": "positive", "abar_t": "positive"})
    rng = random.Random(0)
    for _ in range(50):
        point = _chain_point(where, [a, abar], rng, {})
        assert 0 < point[abar] <= point[a] < 1
