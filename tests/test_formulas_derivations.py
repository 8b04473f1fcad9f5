"""Every derivation step of the registry checks, and every erratum's evidence confirms it.

One parametrised test over all formulas (the topic test files hold the numeric oracles)."""

from __future__ import annotations

import pytest

import formulas

ALL_IDS = [f.id for f in formulas.all()]
ERRATA_IDS = [f.id for f in formulas.all() if f.erratum]


@pytest.mark.parametrize("formula_id", ALL_IDS)
def test_derivation_steps_pass(formula_id):
    formula = formulas.get(formula_id)
    assert formula.statement is not None
    for step, result in zip(formula.derivation, formula.check_derivation()):
        assert result.passed is True, (step.claim, result.detail)  # a plain bool (JSON)


@pytest.mark.parametrize("formula_id", ERRATA_IDS)
def test_errata_confirmed(formula_id):
    evidence = formulas.get(formula_id).erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True, evidence.detail


def test_the_registry_has_errata_and_derivations():
    assert len(ERRATA_IDS) >= 20 and sum(f.has_derivation for f in formulas.all()) >= 100
