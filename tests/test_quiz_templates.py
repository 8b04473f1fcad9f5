"""Generated templates: reproducible from their id, and each answer recomputed by a route
independent of the registry formula that produced it."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from quizzes.catalog import Catalog, generate, load_templates
from quizzes.engine import mark, perturbed_answer
from quizzes.questions import KINDS, TEMPLATES

load_templates()  # imports every template module
VARIANTS = (0, 1, 7, 12345)


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_is_reproducible_and_self_consistent(template_id):
    template = TEMPLATES[template_id]
    for variant in VARIANTS[:2]:
        question = generate(template, variant)
        assert question == generate(template, variant)
        assert question.id == f"{template_id}@{variant}" and question.card_id == template_id
        assert question.kind in KINDS and question.generated
        assert mark(question, question.answer).correct
        assert not mark(question, perturbed_answer(question)).correct


def _numbers(text: str) -> list[float]:
    import re

    return [float(v) for v in re.findall(r"-?\d+\.?\d*", text)]


@pytest.mark.parametrize("variant", VARIANTS)
def test_kl_value_by_quadrature(variant):
    import ast
    import re

    question = generate(TEMPLATES["kl-gauss-value-draw"], variant)
    mu = ast.literal_eval(re.search(r"mu = (\[[^\]]*\])", question.prompt).group(1))
    sigma = ast.literal_eval(re.search(r"sigma = (\[[^\]]*\])", question.prompt).group(1))
    # KL(q || p) = int q log(q/p), per dimension, by the trapezoid rule on a wide grid.
    total = 0.0
    for m, s in zip(mu, sigma):
        z = np.linspace(m - 12 * s, m + 12 * s, 200_001)
        log_q = -0.5 * np.log(2 * np.pi * s**2) - (z - m) ** 2 / (2 * s**2)
        log_p = -0.5 * np.log(2 * np.pi) - z**2 / 2
        total += np.trapezoid(np.exp(log_q) * (log_q - log_p), z)
    assert math.isclose(float(question.answer), total, rel_tol=1e-5, abs_tol=1e-6)


@pytest.mark.parametrize("variant", VARIANTS)
def test_conv_output_size_by_sliding_the_window(variant):
    import re

    if "conv-output-size-draw" not in TEMPLATES:
        pytest.skip("template not registered")
    try:
        question = generate(TEMPLATES["conv-output-size-draw"], variant)
    except KeyError:
        pytest.skip("formula conv-output-size not in the registry yet")
    size, kernel, stride, padding = (
        int(v)
        for v in re.search(
            r"A (\d+)x\d+ input goes through a (\d+)x\d+ convolution with stride (\d+) and "
            r"padding (\d+)",
            question.prompt,
        ).groups()
    )
    # Count the window positions that fit inside the padded input, one by one.
    positions = 0
    start = 0
    while start + kernel <= size + 2 * padding:
        positions += 1
        start += stride
    assert int(question.answer) == positions


@pytest.mark.parametrize("variant", VARIANTS)
def test_alpha_bar_by_a_loop(variant):
    import re

    question = generate(TEMPLATES["alpha-bar-draw"], variant)
    steps, beta_start, beta_end, t = re.search(
        r"T = (\d+) steps from beta_1 = ([\d.]+) to beta_T = ([\d.]+)\. What is alpha-bar_t at "
        r"t = (\d+)",
        question.prompt,
    ).groups()
    steps, t = int(steps), int(t)
    beta_start, beta_end = float(beta_start), float(beta_end)
    product = 1.0
    for s in range(1, t + 1):
        beta = beta_start + (s - 1) * (beta_end - beta_start) / (steps - 1)
        product *= 1.0 - beta
    assert math.isclose(float(question.answer), product, rel_tol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_kl_choice_has_exactly_one_right_closed_form(variant):
    import sympy as sp

    from quizzes.parser import parse

    question = generate(TEMPLATES["kl-gauss-choice-draw"], variant)
    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    # the closed form written out by hand, independent of the registry
    truth = (sigma**2 + mu**2 - 1 - 2 * sp.log(sigma)) / 2
    right = []
    for letter, choice in zip("ABCD", question.choices):
        expr = parse(choice.split("=", 1)[1], {"mu": "real", "sigma": "positive"})
        if sp.simplify(expr - truth) == 0:
            right.append(letter)
    assert right == [question.answer]


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
