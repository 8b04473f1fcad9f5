"""Hints for a question, revealed one at a time with `h` at the answer prompt.

The order is the one a tutor would use: first which formula the question is about (its id and
title, so the student can look it up), then the first step of that formula's derivation, then
the next, and last the question's own hints from its bank or template. A hinted answer is
rated Hard at most (quizzes.engine), so spaced repetition brings it back sooner.

Building a derivation imports sympy; that happens only when the student asks for the
second hint, never while a quiz starts.
"""

from __future__ import annotations

from collections.abc import Iterator

from quizzes.questions import Question


def _formula(formula_id: str):  # noqa: ANN202 - formulas.core.Formula, imported lazily
    import formulas

    try:
        return formulas.get(formula_id)
    except KeyError:
        return None


def _step_text(step) -> str:  # noqa: ANN001 - formulas.core.Step
    text = step.claim or step.name
    if step.justification:
        text += f"  (because {step.justification})"
    return text


def hints(question: Question) -> Iterator[str]:
    """The question's hints, most general first; lazily built, so `h` costs only what it shows."""
    found = [f for f in (_formula(i) for i in question.formulas) if f is not None]
    for formula in found:
        yield f"formula {formula.id}: {formula.title} (cheatsheet show {formula.id})"
    for formula in found:
        try:
            steps = [step for step in formula.derivation if not step.is_premise]
        except Exception:  # noqa: BLE001 - a broken derivation must not end the quiz
            steps = []
        for number, step in enumerate(steps, 1):
            yield f"step {number} of {len(steps)} in {formula.id}: {_step_text(step)}"
    yield from question.hints


class HintDealer:
    """Hands out one question's hints in order; says so when there are no more."""

    def __init__(self, question: Question):
        self._hints = hints(question)
        self.shown = 0

    def next(self) -> str | None:
        try:
            text = next(self._hints)
        except StopIteration:
            return None
        self.shown += 1
        return text
