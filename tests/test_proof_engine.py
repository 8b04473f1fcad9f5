"""The proof checker itself: planted broken proofs must fail, naming the step that broke.

Each case builds a throw-away Formula (not registered) so the registry stays untouched."""

from __future__ import annotations

import pytest
import sympy as sp

from formulas.core import Comparison, Derivation, Evidence, Formula, Step, StepResult, compare_forms
from formulas.proof import compose, prove

x, y = sp.symbols("x y", positive=True)
d = sp.Symbol("d", positive=True)


def _formula(statement, steps, identities=None) -> Formula:
    return Formula(
        id="planted",
        title="planted",
        topic="math",
        section="14",
        statement_builder=lambda: statement,
        derivation_builder=lambda: Derivation(steps, identities or {}),
    )


def test_a_correct_chain_is_proved_and_concludes():
    steps = [
        Step("expand", (x + 1) ** 2, x**2 + 2 * x + 1),
        Step("regroup", rhs=x * (x + 2) + 1),
    ]
    proof = prove(_formula(sp.Eq((x + 1) ** 2, x * (x + 2) + 1), steps))
    assert proof.passed is True, proof.failures
    assert proof.relation == "="


def test_a_broken_chain_fails_naming_the_step():
    steps = [
        Step("expand", (x + 1) ** 2, x**2 + 2 * x + 1),
        Step("jumps elsewhere", x**2 + 1 + 2 * x + 0 * y + y - y, x**2 + 2 * x + 1),
        Step("unrelated", (x + 2) ** 2, x**2 + 4 * x + 4),
    ]
    proof = prove(_formula(sp.Eq((x + 1) ** 2, x**2 + 2 * x + 1), steps))
    assert proof.passed is False
    assert any(f.startswith("step 3: broken link") for f in proof.failures), proof.failures


def test_a_vacuous_step_is_refused():
    # d * (1/sqrt(d))**2 is already 1 when built: the step proves nothing
    step = Step("variance is one", d * (1 / sp.sqrt(d)) ** 2, sp.Integer(1))
    result = step.check()
    assert result.passed is False and "vacuous" in result.detail
    proof = prove(_formula(sp.Eq(sp.Integer(1), sp.Integer(1), evaluate=False), [step]))
    assert proof.passed is False
    assert any("step 1 fails: vacuous" in f for f in proof.failures), proof.failures


def test_the_unevaluated_form_of_the_same_claim_passes():
    unevaluated = sp.Mul(d, sp.Pow(sp.sqrt(d), -2, evaluate=False), evaluate=False)
    assert Step("variance is one", unevaluated, sp.Integer(1)).check().passed is True


def test_a_nan_step_fails_the_numeric_check():
    nan_side = sp.Mul(0, sp.oo, x, evaluate=False) + 5  # NaN at every point
    result = Step("planted NaN", nan_side, sp.Integer(5), method="numeric").check()
    assert result.passed is False
    assert "NaN" in result.detail or "could not evaluate" in result.detail


def test_a_statement_the_chain_does_not_reach_fails():
    steps = [Step("expand", (x + 1) ** 2, x**2 + 2 * x + 1)]
    proof = prove(_formula(sp.Eq((x + 1) ** 2, x**2 + 2 * x + 2), steps))
    assert proof.steps_pass and proof.chain_ok and proof.concludes is False
    assert any("does not conclude" in f for f in proof.failures)


def test_relations_compose():
    assert compose("=", "<=") == "<="
    assert compose("<=", "<") == "<"
    assert compose(">=", "=") == ">="
    assert compose("<=", ">=") is None


def test_mixed_directions_break_the_chain():
    steps = [
        Step("up", x, x + 1, relation="<="),
        Step("down", rhs=x, relation=">="),
    ]
    proof = prove(_formula(sp.Le(x, x + 1), steps))
    assert proof.chain_ok is False
    assert any("does not compose" in f for f in proof.failures)


def test_an_inequality_chain_concludes_an_inequality():
    steps = [
        Step("add one", x, x + 1, relation="<"),
        Step("square grows for x + 1 > 1", rhs=(x + 1) ** 2, relation="<="),
    ]
    proof = prove(_formula(sp.Lt(x, (x + 1) ** 2), steps))
    assert proof.passed is True, proof.failures


def test_a_custom_check_may_not_return_its_own_verdict():
    step = Step("claims it passed", x, x + 0 * y + 1, custom=lambda: StepResult(True, "custom"))
    result = step.check()
    assert result.passed is False and "Comparison" in result.detail


def test_a_custom_comparison_with_nan_fails():
    step = Step(
        "nan in a quadrature",
        custom=lambda: Comparison([1.0, float("nan")], [1.0, 2.0], "planted"),
        tolerance=1e-9,
    )
    assert step.check().passed is False


def test_a_custom_comparison_decides_by_its_numbers():
    close = Step("close", custom=lambda: Comparison(1.0 + 1e-13, 1.0, "c"), tolerance=1e-12)
    far = Step("far", custom=lambda: Comparison(1.1, 1.0, "f"), tolerance=1e-12)
    assert close.check().passed is True and far.check().passed is False


def test_premises_must_be_named_stated_first_and_used():
    alpha, abar, abar_prev = sp.symbols("alpha abar abarprev", positive=True)
    good = [
        Step("definition", abar, alpha * abar_prev, premise="definition", name="abar"),
        Step("substitute", sp.sqrt(abar) * x, sp.sqrt(alpha * abar_prev) * x, uses=("abar",)),
    ]
    proof = prove(_formula(sp.Eq(sp.sqrt(abar) * x, sp.sqrt(alpha * abar_prev) * x), good))
    assert proof.passed is True, proof.failures

    unused = [good[0], Step("no use", sp.sqrt(abar) * x, sp.sqrt(abar) * x * 1 + 0 * y + y - y)]
    unused_proof = prove(_formula(sp.Eq(sp.sqrt(abar) * x, sp.sqrt(abar) * x), unused))
    assert any("never used" in f for f in unused_proof.failures)

    unknown = [Step("uses nothing stated", x, x + 0, uses=("ghost",))]
    assert prove(_formula(sp.Eq(x, x), unknown)).chain_ok is False


def test_the_conclusion_may_use_declared_identities():
    alpha, abar, abar_prev = sp.symbols("alpha abar abarprev", positive=True)
    scale = sp.sqrt(alpha * abar_prev)
    steps = [Step("distribute", scale * (x + 1), scale * x + scale)]
    statement = sp.Eq(scale * (x + 1), sp.sqrt(abar) * x + sp.sqrt(abar))
    assert prove(_formula(statement, steps)).concludes is False
    proved = prove(_formula(statement, steps, {abar: alpha * abar_prev}))
    assert proved.passed is True, proved.failures


def test_evidence_text_follows_the_numbers():
    wrong = compare_forms(reference=1.0, sheet=2.0, correct=1.0, reference_name="oracle")
    flipped = compare_forms(reference=1.0, sheet=1.0, correct=2.0, reference_name="oracle")
    assert wrong.state == "confirmed" and flipped.state == "NOT confirmed"
    assert wrong.detail != flipped.detail
    assert "sheet's form 2 (differs" in wrong.detail and "sheet's form 1 (agrees" in flipped.detail
    assert (
        compare_forms(
            reference=float("nan"), sheet=1.0, correct=1.0, reference_name="oracle"
        ).correct_passes
        is False
    )
    assert Evidence(None, None, "x").state == "not checked in this install"


@pytest.mark.parametrize("relation", ["=", "<="])
def test_nan_points_fail_every_relation(relation):
    step = Step(
        "log of a negative", sp.log(-x - 1), sp.Integer(0), relation=relation, method="numeric"
    )
    assert step.check().passed is False
