"""The ledger accounts for every line of the sheet, and points only at things that exist.

The sheet is the course material (shared/seeds); the package ships a copy so that `errata
--coverage` works in an installed tool. Every non-blank sheet line must be in some ledger entry
with a verdict; errors and typos must point at an erratum or claim of the same severity on
overlapping lines, and every erratum and wrong claim must be in the ledger."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import formulas
from formulas.core import REGISTRY
from formulas.ledger import NEEDS_NOTE, VERDICTS, entries, sheet_lines

SHEET_DIGEST = "7289e9289301132f10f7b88309088a694f5a81f80c3be57bd30ef87cbc3c04de"
SHARED_SHEET = Path(__file__).resolve().parents[2] / "shared/seeds/000_03a71ece8ee24dc2.txt"


def test_the_shipped_sheet_is_the_course_sheet():
    shipped = "\n".join(sheet_lines())
    if SHARED_SHEET.exists():
        assert shipped == SHARED_SHEET.read_text(encoding="utf-8")
    assert len(sheet_lines()) >= 450
    assert hashlib.sha256(shipped.encode()).hexdigest() == SHEET_DIGEST


def test_every_nonblank_sheet_line_is_accounted_for():
    covered = set()
    for entry in entries():
        covered.update(range(entry.first, entry.last + 1))
    missing = [
        number
        for number, text in enumerate(sheet_lines(), start=1)
        if text.strip() and number not in covered
    ]
    assert not missing, f"sheet lines with no ledger entry: {missing}"


def _known(item: str) -> bool:
    if item.startswith("claim:"):
        return any(claim.id == item[6:] for claim in REGISTRY.claims())
    try:
        formulas.get(item)
    except KeyError:
        return False
    return True


@pytest.mark.parametrize("entry", entries(), ids=lambda e: f"{e.source}:{e.first}-{e.last}")
def test_ledger_entry_is_well_formed(entry):
    assert entry.verdict in VERDICTS, entry
    assert 1 <= entry.first <= entry.last <= len(sheet_lines()), entry
    unknown = [item for item in entry.covers if not _known(item)]
    assert not unknown, f"{entry}: points at nothing: {unknown}"
    if entry.verdict in NEEDS_NOTE:
        assert entry.note.strip(), f"{entry}: a {entry.verdict} verdict says why"
    if entry.verdict == "checked":
        assert entry.covers, f"{entry}: 'checked' by what?"
    if entry.verdict in ("error", "typo"):
        assert any(_flags(item, entry) for item in entry.covers), (
            f"{entry}: no erratum or claim of severity {entry.verdict} on these lines"
        )


def _flags(item: str, entry) -> bool:
    if item.startswith("claim:"):
        claim = REGISTRY.claim(item[6:])
        return claim.verdict == entry.verdict and entry.overlaps(*claim.sheet_lines)
    erratum = formulas.get(item).erratum
    return (
        erratum is not None
        and erratum.severity == entry.verdict
        and erratum.sheet_lines is not None
        and entry.overlaps(*erratum.sheet_lines)
    )


def test_every_erratum_and_wrong_claim_is_in_the_ledger():
    flagged = {(item, entry.verdict) for entry in entries() for item in entry.covers}
    for formula in formulas.all():
        if formula.erratum is not None:
            assert (formula.id, formula.erratum.severity) in flagged, formula.id
    for claim in REGISTRY.claims():
        if claim.verdict != "correct":
            assert (f"claim:{claim.id}", claim.verdict) in flagged, claim.id


# Correct lines of the sheet that a reader might suspect; none may be flagged. Each is
# (formula id, why it is right in the sheet's context).
SUSPECTED_BUT_CORRECT = [
    ("gan-value-at-optimum", "V(G, D*) = -log 4 is stated at the global optimum p_m = p_d"),
    ("gan-optimal-discriminator", "D* = p_d / (p_d + p_m) for a fixed G (Goodfellow et al. 2014)"),
    ("conv-output-size", "floor((in + 2 pad - dil (kern - 1) - 1) / stride) + 1, as torch"),
    ("nerf-weights", "alpha_i = 1 - exp(-sigma_i delta_i), T_i = prod_{j<i} (1 - alpha_j)"),
    ("kl-gauss", "-D_KL = 1/2 sum (1 + log sigma^2 - mu^2 - sigma^2): the proof's result"),
    ("matrix-determinant-lemma", "det(A + u v^T) = (1 + v^T A^{-1} u) det A"),
]


@pytest.mark.parametrize("formula_id,why", SUSPECTED_BUT_CORRECT)
def test_correct_lines_a_reader_might_suspect_are_not_flagged(formula_id, why):
    formula = formulas.get(formula_id)
    assert formula.erratum is None, f"{formula_id} is right on the sheet: {why}"
    for entry in entries():
        if formula_id in entry.covers:
            assert entry.verdict not in ("error", "typo") or len(entry.covers) > 1, entry
