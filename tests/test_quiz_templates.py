"""Generated templates: reproducible from their id, and each answer recomputed by a route
independent of the registry formula that produced it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quizzes.catalog import Catalog, generate, load_templates
from quizzes.engine import mark, perturbed_answer
from quizzes.questions import KINDS, TEMPLATES
from quizzes.repetition import fact_card

load_templates()  # imports every template module
VARIANTS = (0, 1, 7, 12345)


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_is_reproducible_and_self_consistent(template_id):
    template = TEMPLATES[template_id]
    for variant in VARIANTS[:2]:
        question = generate(template, variant)
        assert question == generate(template, variant)
        assert question.id == f"{template_id}@{variant}"
        assert question.card_id == (fact_card(question) or template_id)  # forms share a fact
        assert question.kind in KINDS and question.generated
        assert mark(question, question.answer).correct
        assert not mark(question, perturbed_answer(question)).correct


def _numbers(text: str) -> list[float]:
    import re

    return [float(v) for v in re.findall(r"-?\d+\.?\d*", text)]


def test_same_seed_same_quiz():
    catalog = Catalog()
    first = [p.id for p in catalog.select("vae", 6, seed=3)]
    assert first == [p.id for p in catalog.select("vae", 6, seed=3)]
    assert any("@" in pick for pick in first)
    assert first != [p.id for p in catalog.select("vae", 6, seed=4)]


def test_course_topics_match_the_registry():
    import formulas
    from quizzes.catalog import COURSE_TOPICS

    assert set(COURSE_TOPICS) == set(formulas.topics()) | {"backprop"}


def test_spot_error_templates_point_at_the_wrong_form():
    import sympy as sp

    import formulas

    spot = [t for t in TEMPLATES if t.startswith("errata-spot-")]
    assert {t.removeprefix("errata-spot-") for t in spot} == set(formulas.topics())
    for template_id in spot:
        for variant in VARIANTS[:3]:
            question = generate(TEMPLATES[template_id], variant)
            (formula_id,) = question.formulas
            formula = formulas.get(formula_id)
            wrong = question.choices[ord(question.answer) - ord("A")]
            (right,) = [c for c in question.choices if c != wrong]
            if "errata" in question.tags:  # the course sheet's own misprint
                assert wrong == formula.erratum.sheet and right == formula.erratum.correct
            else:  # a mutant of the registry's statement
                assert right == sp.latex(formula.statement) and wrong != right


@pytest.mark.parametrize("variant", VARIANTS[:3])
def test_choice_from_mutants_has_exactly_one_equivalent_option(variant, monkeypatch):
    import sympy as sp

    from quizzes.banks import bank_files, load_bank
    from quizzes.parser import parse

    data = Path(__file__).parent / "data" / "banks"
    monkeypatch.setenv("CHEATSHEET_BANKS", str(data))
    by_prompt = {q.prompt: q for p in bank_files(data) for q in load_bank(p)}
    for topic in ("diffusion", "vae"):
        question = generate(TEMPLATES[f"choice-mutants-{topic}"], variant)
        source = by_prompt[question.prompt.removesuffix(" (one option is right)")]
        truth = parse(source.answer, source.symbols)
        right = []
        for letter, text in zip("ABCD", question.choices):
            # parse each option back with any names a mutant introduced (alpha_t, x_{t-1})
            symbols = dict(source.symbols)
            for name in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:_(?:\{[^}]*\}|[A-Za-z0-9]+))*", text):
                symbols.setdefault(name, "positive")
            for name in ("sqrt", "log", "exp"):
                symbols.pop(name, None)
            option = parse(text, symbols)
            if sp.simplify(option - truth) == 0:
                right.append(letter)
        assert right == [question.answer], (question.choices, source.answer)
        assert len(set(question.choices)) == len(question.choices)
