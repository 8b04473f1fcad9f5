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


def _evidence_key(builder) -> str:
    """A hash of everything the evidence depends on: the source of the module that defines
    it, the registry core, the helpers the topic modules share (formulas._chain), and the
    versions of the libraries that compute it."""
    import hashlib
    import inspect

    import formulas._chain
    import formulas.core
    from formulas.proof import source_digest
    from formulas.shipped import library_versions

    digest = hashlib.sha256()
    for module in (inspect.getmodule(builder), formulas.core, formulas._chain):
        digest.update(source_digest(inspect.getfile(module)))
    for package, installed in library_versions().items():  # looked up once per process
        digest.update(f"{package}={installed}".encode())
    digest.update(getattr(builder, "__qualname__", "").encode())
    return digest.hexdigest()[:32]


def cached_status(row_id: str, builder, recheck: bool = False):
    """(Evidence, state) of an erratum or claim, from the on-disk cache when nothing it depends
    on changed (the same scheme as `derive`), else from the evidence shipped with the package
    when its key matches (formulas.shipped); `recheck` computes it again."""
    import json
    import os

    from formulas.core import Evidence
    from formulas.proof import _cache_dir, erratum_status

    path = _cache_dir() / "errata" / f"{row_id.replace(':', '_')}.json"
    key = _evidence_key(builder)
    if not recheck and path.exists():
        try:
            stored = json.loads(path.read_text())
            if stored.get("key") == key:
                evidence = Evidence(
                    stored["sheet_fails"], stored["correct_passes"], stored["detail"]
                )
                return evidence, evidence.state
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is computed again
    if not recheck:
        from formulas.shipped import lookup

        # computed when the package was built, from this very source and these libraries
        shipped = lookup("errata", row_id, key)
        if shipped is not None:
            evidence = Evidence(
                shipped["sheet_fails"], shipped["correct_passes"], shipped["detail"]
            )
            return evidence, evidence.state
    evidence, state = erratum_status(builder)
    if evidence.sheet_fails is None:  # "not checked in this install" is not cached
        return evidence, state
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(
            json.dumps(
                {
                    "key": key,
                    "sheet_fails": evidence.sheet_fails,
                    "correct_passes": evidence.correct_passes,
                    "detail": evidence.detail,
                }
            )
        )
        temporary.replace(path)
    except OSError:
        pass  # a read-only cache costs speed, not correctness
    return evidence, state


def errata_rows(
    severity: str | None = None, check: bool = True, recheck: bool = False
) -> list[dict[str, Any]]:
    """Errors before typos, each group in sheet order; `check=False` skips the evidence."""
    import formulas
    from formulas.core import REGISTRY, SEVERITIES, did_you_mean

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
        evidence, state = cached_status(row["id"], builder, recheck)
        row.update(
            sheet_fails=evidence.sheet_fails,
            correct_passes=evidence.correct_passes,
            evidence=evidence.detail,
            state=state,
        )
    return sorted(rows, key=_order)
