"""Registry-wide: every derivation is a chain that concludes in its statement, every
definition's property checks pass, every erratum's evidence confirms it, and every formula says
honestly what it is. One parametrised test per formula (the topic files hold the oracles)."""

from __future__ import annotations

import pytest

import formulas
from formulas.core import KINDS, SEVERITIES
from formulas.ledger import sheet_lines
from formulas.proof import prove

ALL = formulas.all()
ALL_IDS = [f.id for f in ALL]
DERIVED_IDS = [f.id for f in ALL if f.kind == "derived"]
DEFINITION_IDS = [f.id for f in ALL if f.kind == "definition"]
ERRATA_IDS = [f.id for f in ALL if f.erratum]


@pytest.mark.parametrize("formula_id", DERIVED_IDS)
def test_derivation_is_a_chain_that_concludes_in_the_statement(formula_id):
    proof = prove(formulas.get(formula_id))
    assert proof.steps_pass is True, proof.failures
    assert proof.chain_ok is True, proof.failures
    assert proof.concludes is True, proof.failures


@pytest.mark.parametrize("formula_id", DEFINITION_IDS)
def test_definition_properties_pass(formula_id):
    formula = formulas.get(formula_id)
    assert formula.properties, f"{formula_id} is a definition without property checks"
    for step in formula.properties:
        result = step.check()
        assert result.passed is True, (step.claim, result.detail)


@pytest.mark.parametrize("formula_id", ALL_IDS)
def test_formula_says_what_it_is(formula_id):
    import sympy as sp

    formula = formulas.get(formula_id)
    assert formula.kind in KINDS and formula.kind != "not checked here", formula.kind
    if formula.statement_builder is not None:
        statement = formula.statement
        assert not isinstance(statement, sp.logic.boolalg.BooleanAtom), (
            f"{formula_id}'s statement evaluated to {statement}"
        )
        assert formula.latex.strip() not in ("True", "False")


@pytest.mark.parametrize("formula_id", ERRATA_IDS)
def test_errata_confirmed_with_severity_and_place(formula_id):
    erratum = formulas.get(formula_id).erratum
    assert erratum.severity in SEVERITIES
    assert erratum.sheet_lines is not None, f"{formula_id}: erratum without sheet lines"
    first, last = erratum.sheet_lines
    assert 1 <= first <= last <= len(sheet_lines())
    evidence = erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True, evidence.detail


def test_claims_that_are_errata_confirm_and_correct_claims_hold():
    from formulas.core import REGISTRY

    for claim in REGISTRY.claims():
        first, last = claim.sheet_lines
        assert 1 <= first <= last <= len(sheet_lines()), claim.id
        assert claim.source, f"{claim.id}: a claim names the paper or textbook it was decided on"
        if claim.check is None:
            continue
        evidence = claim.check()
        if claim.verdict == "correct":
            assert evidence.sheet_fails is False and evidence.correct_passes is True, (
                claim.id,
                evidence.detail,
            )
        else:
            assert evidence.sheet_fails is True and evidence.correct_passes is True, (
                claim.id,
                evidence.detail,
            )


def test_aliases_resolve_to_their_formula():
    from formulas.core import REGISTRY

    for alias, target in REGISTRY.aliases().items():
        assert formulas.get(alias).id == target


def test_the_registry_has_errata_and_derivations():
    # 162 formulas: about 90 derived, the rest honest definitions or numerically cross-checked
    assert len(ERRATA_IDS) >= 25 and len(DERIVED_IDS) >= 85 and len(ALL_IDS) >= 150
