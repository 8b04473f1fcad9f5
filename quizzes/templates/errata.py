"""Spot the sheet's own errors: one spot-error template per topic whose formulas carry an
erratum in the registry. Each variant shows the course sheet's printed form next to the
corrected one (order drawn by the rng) and asks which is wrong; the explanation is the
erratum's, whose evidence the registry checks (`cheatsheet errata`).

Registered at import from the registry's metadata only (no sympy): errata added to the
registry later get their questions without touching this file.
"""

from __future__ import annotations

import random

import formulas
from quizzes.questions import Question, template


def _errata_by_topic() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for formula in formulas.all():
        if formula.erratum is not None:
            found.setdefault(formula.topic, []).append(formula.id)
    return found


def _register(topic: str, formula_ids: list[str]) -> None:
    @template(
        f"errata-spot-{topic}",
        topic=topic,
        kind="spot-error",
        formulas=tuple(formula_ids),
        difficulty=2,
        tags=("errata", "sheet"),
    )
    def make(rng: random.Random, question_id: str) -> Question:
        formula = formulas.get(rng.choice(formula_ids))
        erratum = formula.erratum
        sheet_first = rng.random() < 0.5
        choices = (
            (erratum.sheet, erratum.correct) if sheet_first else (erratum.correct, erratum.sheet)
        )
        return Question(
            id=question_id,
            topic=topic,
            kind="spot-error",
            prompt=(
                f"{formula.title} (sheet section {formula.section}): one of these two forms is "
                "the course sheet's misprint. Which one is wrong?"
            ),
            answer="A" if sheet_first else "B",
            explanation=f"{erratum.explanation.rstrip('. ')}. Right form: {erratum.correct}",
            formulas=(formula.id,),
            choices=choices,
            tags=("errata",),
        )


for _topic, _ids in sorted(_errata_by_topic().items()):
    _register(_topic, _ids)
