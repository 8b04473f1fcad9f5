"""Shared pieces of the generated templates of the course's second half (rl, implicit, body,
ml, optimizers, cnn, rnn, math): one constructor for the numeric questions that most of them
ask, on top of the formatting helpers of `_helpers_a`.

Not a template module itself (the leading underscore keeps quizzes.catalog from importing it
as one); nothing heavy is imported at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quizzes.questions import Mistake, Question
from quizzes.templates._helpers_a import mistake, number

__all__ = ["numeric", "wrong"]


def wrong(*pairs: tuple[Any, str], answer: Any, gap: float = 1e-2) -> tuple[Mistake, ...]:
    """Foreseen wrong numbers [(value, feedback)], each kept only when it really differs from
    the answer and from the ones before it (so each one earns its own feedback); `gap` is the
    relative difference that counts (see `_helpers_a.mistake`)."""
    kept: list[Mistake] = []
    seen = [float(answer)]
    for value, feedback in pairs:
        value = float(value)
        if any(not mistake(value, other, "", gap) for other in seen):
            continue
        kept.extend(mistake(value, answer, feedback, gap))
        seen.append(value)
    return tuple(kept)


def numeric(
    question_id: str,
    topic: str,
    prompt: str,
    value: Any,
    explanation: str,
    formulas: Sequence[str],
    *,
    tol: float = 1e-2,
    abs_tol: float = 1e-4,
    exact: bool = False,
    mistakes: tuple[Mistake, ...] = (),
    difficulty: int = 2,
) -> Question:
    """A numeric question whose answer is `value` (from the registry). Hand computation to 3
    significant digits passes (`tol` relative, so intermediate rounding is forgiven, and a
    small `abs_tol` for answers near 0); `exact` for integers (sizes)."""
    answer = str(int(round(float(value)))) if exact else number(value)
    return Question(
        id=question_id,
        topic=topic,
        kind="numeric",
        prompt=prompt,
        answer=answer,
        explanation=explanation,
        formulas=tuple(formulas),
        difficulty=difficulty,
        abs_tol=0.0 if exact else abs_tol,
        rel_tol=0.0 if exact else tol,
        mistakes=mistakes,
    )
