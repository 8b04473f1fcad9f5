"""Multiple choice made from mutants: one template per course topic.

A variant takes one of the topic's symbolic bank questions (or, for a topic without any, a
formula statement from the registry) and offers its answer among three mutants of it
(quizzes.mutations: a flipped sign, alpha for alpha-bar, a dropped factor 1/2, swapped
arguments, an off-by-one index, squared vs not). All four options are printed the same way
(sympy's plain form), so the layout gives nothing away.
"""

from __future__ import annotations

import random

from quizzes.catalog import COURSE_TOPICS
from quizzes.questions import Question, template

OPTIONS = 4


def _symbolic_bank_questions(topic: str) -> list[Question]:
    from quizzes.catalog import Catalog

    return [q for q in Catalog().bank(topic) if q.kind == "symbolic"]


def _choice(rng, question_id, topic, prompt, correct, explanation, formula_ids) -> Question:
    from quizzes.mutations import distractors
    from quizzes.parser import to_text

    wrong = distractors(correct, rng, count=OPTIONS - 1)
    if not wrong:
        raise ValueError("no mutants to offer")
    options = [(to_text(correct), None), *[(to_text(m.expr), m.description) for m in wrong]]
    rng.shuffle(options)
    letters = [chr(ord("A") + i) for i in range(len(options))]
    answer = letters[[text for text, _ in options].index(to_text(correct))]
    # why each wrong option is wrong: the mutation that made it
    reasons = tuple(
        f"That option has {description}." if description else "" for _, description in options
    )
    return Question(
        id=question_id,
        topic=topic,
        kind="choice",
        prompt=prompt,
        answer=answer,
        explanation=explanation,
        formulas=tuple(formula_ids),
        choices=tuple(text for text, _ in options),
        option_reasons=reasons,
        tags=("mutants",),
    )


def _register(topic: str) -> None:
    @template(
        f"choice-mutants-{topic}", topic=topic, kind="choice", difficulty=1, tags=("mutants",)
    )
    def make(rng: random.Random, question_id: str) -> Question:
        from quizzes.engine import expected_expr

        questions = sorted(_symbolic_bank_questions(topic), key=lambda q: q.id)
        rng.shuffle(questions)
        for source in questions:
            try:
                return _choice(
                    rng,
                    question_id,
                    topic,
                    f"{source.prompt} (one option is right)",
                    expected_expr(source),
                    source.explanation,
                    source.formulas,
                )
            except ValueError:
                continue
        import sympy as sp

        import formulas

        candidates = [f for f in formulas.by_topic(topic) if f.statement_builder is not None]
        rng.shuffle(candidates)
        for formula in candidates:
            try:
                statement = formula.statement
            except Exception:  # noqa: BLE001 - a formula without a usable statement is skipped
                continue
            if not isinstance(statement, sp.Equality) or not isinstance(statement.rhs, sp.Expr):
                continue
            try:
                return _choice(
                    rng,
                    question_id,
                    topic,
                    f"{formula.title}: {statement.lhs} = ?",
                    statement.rhs,
                    f"The registry's statement of {formula.id}.",
                    (formula.id,),
                )
            except ValueError:
                continue
        raise ValueError(f"topic {topic}: nothing to make a multiple-choice question from")


for _topic in COURSE_TOPICS:
    if _topic != "backprop":
        _register(_topic)
