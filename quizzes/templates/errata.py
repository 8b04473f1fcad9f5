"""Spot the error: one spot-error template per course topic.

A variant shows two forms of one of the topic's formulas and asks which is wrong:
- where the registry records an erratum of the course sheet, the sheet's printed form next to
  the corrected one (the erratum's evidence is checked by `cheatsheet errata`);
- otherwise the registry's statement next to a mutant of it that tests knowledge
  (quizzes.mutations.KNOWLEDGE_KINDS: alpha for alpha-bar, swapped arguments, an off-by-one
  index, a lost 1/2 or square, one term's sign), never a flipped overall sign or a dropped
  symbol, which can be spotted without knowing the formula.

Registered without importing the registry (the topic list is quizzes.catalog.COURSE_TOPICS), so
loading templates stays cheap; the registry and sympy are loaded when a variant is drawn.
"""

from __future__ import annotations

import random

from formulas.notation import latex_text
from quizzes.catalog import COURSE_TOPICS
from quizzes.questions import Question, template


def _from_erratum(rng: random.Random, question_id: str, topic: str, formula) -> Question:
    erratum = formula.erratum
    sheet_first = rng.random() < 0.5
    choices = (erratum.sheet, erratum.correct) if sheet_first else (erratum.correct, erratum.sheet)
    return Question(
        id=question_id,
        topic=topic,
        kind="spot-error",
        prompt=(
            f"{formula.title} (sheet section {formula.section}): one of these two forms is "
            "the course sheet's misprint. Which one is wrong?"
        ),
        answer="A" if sheet_first else "B",
        explanation=(
            f"{erratum.explanation.rstrip('. ')}. Right form: {latex_text(erratum.correct)}"
        ),
        formulas=(formula.id,),
        choices=choices,
        tags=("errata",),
    )


def _from_mutant(rng: random.Random, question_id: str, topic: str, candidates) -> Question:
    import sympy as sp

    from quizzes.mutations import mutants, tests_knowledge

    for formula in candidates:
        try:
            statement = formula.statement
        except Exception:  # noqa: BLE001 - a formula without a usable statement is skipped
            continue
        if not isinstance(statement, sp.Equality) or not isinstance(statement.rhs, sp.Expr):
            continue
        # only the mistakes one makes while knowing the formula's shape (alpha for alpha-bar,
        # swapped arguments, an index off by one, a lost 1/2 or square, one term's sign)
        found = [m for m in mutants(statement.rhs) if tests_knowledge(m)]
        if not found:
            continue
        mutant = rng.choice(found)
        right = sp.latex(statement)
        wrong = sp.latex(sp.Eq(statement.lhs, mutant.expr, evaluate=False))
        if right == wrong:
            continue
        right_first = rng.random() < 0.5
        return Question(
            id=question_id,
            topic=topic,
            kind="spot-error",
            prompt=f"{formula.title}: one of these two forms is wrong. Which one?",
            answer="B" if right_first else "A",
            explanation=f"The wrong form has {mutant.description}. Right form: {latex_text(right)}",
            formulas=(formula.id,),
            choices=(right, wrong) if right_first else (wrong, right),
            tags=("mutant",),
        )
    raise ValueError(f"no formula of topic {topic} has a statement to mutate")


def _register(topic: str) -> None:
    @template(
        f"errata-spot-{topic}",
        topic=topic,
        kind="spot-error",
        difficulty=2,
        tags=("errata", "spot-the-error"),
    )
    def make(rng: random.Random, question_id: str) -> Question:
        import formulas

        in_topic = formulas.by_topic(topic)
        with_errata = [f for f in in_topic if f.erratum is not None]
        # Two thirds of the variants use the sheet's own errata when the topic has any.
        if with_errata and (rng.random() < 2 / 3 or len(with_errata) == len(in_topic)):
            return _from_erratum(rng, question_id, topic, rng.choice(with_errata))
        candidates = [f for f in in_topic if f.statement_builder is not None]
        rng.shuffle(candidates)
        return _from_mutant(rng, question_id, topic, candidates)


for _topic in COURSE_TOPICS:
    if _topic != "backprop":
        _register(_topic)
