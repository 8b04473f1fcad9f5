"""Every mistake found on the sheet, as rows for the CLI, the exports and the quiz.

Two sources: formulas whose sheet form is wrong (an Erratum) and claims in words whose verdict
is "error" or "typo" (a Claim). Each row's state comes from `formulas.proof.erratum_status`,
the one place that decides "confirmed" / "NOT confirmed" / "not checked in this install".
"""

from __future__ import annotations

from typing import Any

from formulas.errors import CheatsheetError


def _order(row: dict[str, Any]) -> tuple:
    first = row["sheet_lines"][0] if row["sheet_lines"] else 10**6
    return (0 if row["severity"] == "error" else 1, first, row["id"])


def errata_rows(severity: str | None = None, check: bool = True) -> list[dict[str, Any]]:
    """Errors before typos, each group in sheet order; `check=False` skips the evidence."""
    import formulas
    from formulas.core import REGISTRY, SEVERITIES, did_you_mean
    from formulas.proof import erratum_status

    if severity is not None and severity not in SEVERITIES:
        raise CheatsheetError(
            f"unknown severity '{severity}'{did_you_mean(severity, SEVERITIES)} "
            "(choose error or typo)"
        )
    rows = []
    for formula in formulas.all():
        erratum = formula.erratum
        if erratum is None:
            continue
        rows.append(
            {
                "id": formula.id,
                "kind": "formula",
                "title": formula.title,
                "section": formula.section,
                "severity": erratum.severity,
                "sheet_lines": list(erratum.sheet_lines) if erratum.sheet_lines else None,
                "sheet": erratum.sheet,
                "correct": erratum.correct,
                "explanation": erratum.explanation,
                "_evidence": erratum.evidence,
            }
        )
    for claim in REGISTRY.claims():
        if claim.severity is None:
            continue
        rows.append(
            {
                "id": f"claim:{claim.id}",
                "kind": "claim",
                "title": claim.sheet,
                "section": claim.section,
                "severity": claim.severity,
                "sheet_lines": list(claim.sheet_lines),
                "sheet": claim.sheet,
                "correct": claim.correct,
                "explanation": claim.explanation,
                "source": claim.source,
                "_evidence": claim.check,
            }
        )
    if severity is not None:
        rows = [row for row in rows if row["severity"] == severity]
    for row in rows:
        builder = row.pop("_evidence")
        if not check:
            continue
        if builder is None:
            row.update(
                sheet_fails=None,
                correct_passes=None,
                evidence=f"decided from the source ({row.get('source', '')}); nothing to compute",
                state="decided from the source",
            )
            continue
        evidence, state = erratum_status(builder)
        row.update(
            sheet_fails=evidence.sheet_fails,
            correct_passes=evidence.correct_passes,
            evidence=evidence.detail,
            state=state,
        )
    return sorted(rows, key=_order)
