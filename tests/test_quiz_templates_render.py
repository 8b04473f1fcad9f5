"""Every question of every template, drawn for 20 seeds, is one a TA would put on a sheet: it
states what it needs (no "same unit as before", an index base wherever it counts rows or
positions, a rotation's direction), its answer is not printed in the prompt, numeric answers
are no structural 0 and vary with the drawn inputs, and every ordering question's answer is
one of the orders its declared partial order allows."""

from __future__ import annotations

import re

import pytest

from quizzes.catalog import generate, load_templates
from quizzes.questions import TEMPLATES
from quizzes.templates._kit import degenerate

load_templates()
SEEDS = range(20)
# A 0 that the question tests: a max-pool routes no gradient to a cell that was not the max.
ZERO_IS_THE_POINT = {"cnn-max-pool-gradient-draw"}
REFERS_ELSEWHERE = re.compile(
    r"\b(same (unit|network|setup|layer|model|question|data|schedule)|as (above|before)|"
    r"previous question|question before|from question|see question)\b",
    re.IGNORECASE,
)
# "row 2", "column 3", "entry 4", "position 5", "coordinate number 1": counted from 0 or 1?
COUNTED = re.compile(r"\b(row|column|entry|coordinate number) \d", re.IGNORECASE)
INDEX_BASE = re.compile(r"counting from [01]|counted from [01]|numbered [01]\.\.|from 1 at")


def _every_wrong_option_has_its_reason(question) -> None:
    assert len(question.option_reasons) == len(question.choices), question.id
    for index, reason in enumerate(question.option_reasons):
        if chr(ord("A") + index) != question.answer:
            assert reason.strip(), f"{question.id}: option {chr(ord('A') + index)} has no reason"


def _drawn(template_id: str):
    return [generate(TEMPLATES[template_id], seed) for seed in SEEDS]


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_drawn_question_is_self_contained_and_not_degenerate(template_id):
    questions = _drawn(template_id)
    for question in questions:
        prompt = question.prompt
        assert not REFERS_ELSEWHERE.search(prompt), (question.id, prompt)
        if COUNTED.search(prompt):
            assert INDEX_BASE.search(prompt), f"{question.id}: no index base in: {prompt}"
        if "rotates by" in prompt:
            assert "clockwise" in prompt, f"{question.id}: no rotation direction: {prompt}"
        why = degenerate(question, allow_zero=template_id in ZERO_IS_THE_POINT)
        assert why is None, f"{question.id}: {why}: {prompt}"
        if question.kind == "symbolic" and len(question.answer) > 4:
            assert question.answer.replace(" ", "") not in prompt.replace(" ", ""), question.id
        if question.kind == "choice":
            right = question.choices[ord(question.answer) - ord("A")]
            assert len(right) <= 12 or right not in prompt, (question.id, right)
            _every_wrong_option_has_its_reason(question)
        for part in question.parts:
            if part.kind == "choice":
                _every_wrong_option_has_its_reason(part)
    if TEMPLATES[template_id].kind == "numeric":
        answers = {question.answer for question in questions}
        assert len(answers) >= 3, f"{template_id}: the answer barely depends on the draw {answers}"


@pytest.mark.parametrize(
    "template_id", sorted(t for t in TEMPLATES if TEMPLATES[t].kind == "ordering")
)
def test_ordering_answers_respect_their_partial_order(template_id):
    from quizzes.partial_order import accepts, linear_extensions

    for question in _drawn(template_id)[:5]:
        names = question.answer.split()
        assert accepts(question, names)
        # the partial order is declared over the shown steps and admits the answer
        extensions = linear_extensions(question)
        assert names in extensions and len(extensions) >= 1
