"""Less repetition: a session does not ask the same fact twice in different forms.

A recall question (symbolic, choice, true/false, spot-the-error) tests one fact: the formula it
is about (its first registry id). A choice among mutants of the KL, a spot-the-error on the KL
and "write the KL" are three forms of one fact; a session asks one of them. Computations
(numeric, ordering, multipart) are skills practised on fresh numbers and are not deduplicated.

`Session` calls `fresh(pick, question, seen)` before asking: a generated question whose fact
was asked already is redrawn with the template's next variants; a bank question is skipped.
"""

from __future__ import annotations

from typing import Any

RECALL_KINDS = ("symbolic", "choice", "truefalse", "spot-error")
REDRAWS = 12


def fact_of(question: Any) -> str | None:
    """The fact a recall question tests (its first formula id); None for computations."""
    if question.kind not in RECALL_KINDS or not question.formulas:
        return None
    return question.formulas[0]


def fresh(pick: Any, question: Any, seen: set[str]) -> Any | None:
    """`question`, or another variant of its template, whose fact is not in `seen` (which it
    then joins); None when a bank question repeats a fact already asked."""
    fact = fact_of(question)
    if fact is None or fact not in seen:
        if fact is not None:
            seen.add(fact)
        return question
    template = getattr(pick, "template", None)
    variant = getattr(pick, "variant", None)
    if template is None or variant is None:
        return None
    from quizzes.catalog import generate

    for step in range(1, REDRAWS + 1):
        other = generate(template, variant + step * 7919)
        fact = fact_of(other)
        if fact is None or fact not in seen:
            if fact is not None:
                seen.add(fact)
            return other
    return None
