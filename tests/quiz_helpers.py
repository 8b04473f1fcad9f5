"""Checks shared by the generated-template test files (tests/test_quiz_templates_<topic>.py,
one per topic):
same seed same question, bank check, the CLI, counts, `drawn` stated in the prompt, and the
small independent-check tools (parsing an answer, comparing at points, derivation order).

Not a test module (no `test_` prefix); the test files import it as `quiz_helpers`, which
pytest's default import mode makes importable by putting tests/ on sys.path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from quizzes.catalog import Catalog, generate
from quizzes.questions import TEMPLATES, Question

REPO = Path(__file__).resolve().parents[1]


def check_answers(
    checks: dict[str, Callable[[Question], None]], template_id: str, variants: Iterable[int]
) -> None:
    """Every variant's answer recomputed by the template's independent check."""
    for variant in variants:
        checks[template_id](generate(TEMPLATES[template_id], variant))


def check_same_seed_and_bank_check(
    template_id: str, variants: Iterable[int], derive_link: bool = False
) -> None:
    """The same variant draws the same question, variants differ, and bank check passes on the
    first three (own answer right, perturbed answer and mutants wrong); `derive_link`: the
    explanation points to `cheatsheet derive` of one of the question's formulas."""
    from quizzes.bankcheck import check_question

    template = TEMPLATES[template_id]
    variants = list(variants)
    drawn = [generate(template, variant) for variant in variants]
    assert drawn == [generate(template, variant) for variant in variants]
    assert len({q.prompt + str(q.choices) + str(q.steps) for q in drawn}) > 1, "no variety"
    for question in drawn[:3]:
        problems, _ = check_question(question)
        assert not problems, problems
        if derive_link:
            assert any(f"cheatsheet derive {f}" in question.explanation for f in question.formulas)


def check_question_counts(topics: Iterable[str]) -> None:
    """Each topic has at least 20 questions (bank and templates), 5 of them its own templates."""
    catalog = Catalog()
    for topic in topics:
        bank = catalog.bank(topic)
        templates = catalog.templates(topic)
        ours = [t for t in templates if t.make.__module__ == f"quizzes.templates.{topic}"]
        assert len(bank) + len(templates) >= 20, topic
        assert len(ours) >= 5, topic


def check_topic_banks(topics: Iterable[str]) -> None:
    from quizzes.bankcheck import check_banks

    for topic in topics:
        report = check_banks(REPO / "quizzes" / "banks" / f"{topic}.toml")
        assert not report["problems"], report["problems"]


def cli(home: str | Path, *args: str) -> subprocess.CompletedProcess:
    """`cheatsheet ARGS` in a subprocess with its store under `home`."""
    env = {**os.environ, "CHEATSHEET_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "cheatsheet", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )


def check_cli_marks_the_variant(home: str | Path, template_id: str, variant: int) -> None:
    """`cheatsheet check <id>@<variant>` accepts the variant's answer (exit 0) and marks a
    perturbed one wrong (exit 1)."""
    from quizzes.engine import perturbed_answer

    question = generate(TEMPLATES[template_id], variant)
    right = cli(home, "check", f"{template_id}@{variant}", "--answer", question.answer)
    assert right.returncode == 0, right.stdout + right.stderr
    wrong = cli(home, "check", f"{template_id}@{variant}", "--answer", perturbed_answer(question))
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr


# --------------------------------------------------------------------------------------------
# Question.drawn: what a generated template drew, as the prompt states it


def drawn_scalars(values) -> list:
    """Every scalar leaf of a drawn value (a number, a string, or nested lists of them)."""
    if isinstance(values, dict):
        return [leaf for value in values.values() for leaf in drawn_scalars(value)]
    if isinstance(values, (list, tuple)):
        return [leaf for value in values for leaf in drawn_scalars(value)]
    return [values]


def check_plain_data(value, where: str = "drawn") -> None:
    """`value` is made of lists, dicts with str keys, and scalars whose type is exactly int,
    float, str or bool. Exactly: numpy's float64 subclasses float and JSON writes it, so only
    the type check catches a template recording a numpy scalar instead of the Python value."""
    if type(value) is dict:
        for key, item in value.items():
            assert type(key) is str, f"{where} has a key of type {type(key).__name__}: {key!r}"
            check_plain_data(item, f"{where}[{key!r}]")
    elif type(value) is list:
        for index, item in enumerate(value):
            check_plain_data(item, f"{where}[{index}]")
    else:
        assert type(value) in (int, float, str, bool), (
            f"{where} is a {type(value).__module__}.{type(value).__name__}: {value!r}"
        )


def check_drawn_in_prompt(question: Question) -> None:
    """`drawn` is plain data (`check_plain_data`: a numpy scalar fails; JSON round-trips it
    unchanged) and every scalar in it is printed in the prompt as the kit prints it
    (`_kit.show`, a whole token: 0.5 is not found in 0.55), so the values the tests recompute
    from are the ones the student reads (an index after "_", as in x_3, counts; so does a value
    printed in full, as show(nll, 8) prints it). A multipart problem: the stem's values in its
    prompt, each part's in that part's prompt; a choice's options count as its text (the
    student reads them too)."""
    import json
    import math
    import re

    from quizzes.templates._kit import show

    check_plain_data(question.drawn, f"{question.id}: drawn")
    assert json.loads(json.dumps(question.drawn)) == question.drawn, question.drawn
    text = "\n".join([question.prompt, *question.choices])
    for leaf in drawn_scalars(question.drawn):
        if isinstance(leaf, str):
            tokens = [re.escape(leaf)]
        else:  # printed as it is (not rounded), as a whole number: not 3 in 13, 3.5 or 0.35
            printed = [show(leaf, d) for d in (4, 12)]
            tokens = [
                r"(?<![\d.])" + re.escape(p) + r"(?!\d|\.\d)"
                for p in printed
                if math.isclose(float(p), leaf, rel_tol=1e-9, abs_tol=1e-12)
            ]
        assert any(re.search(token, text) for token in tokens), f"drawn {leaf!r} not in: {text}"
    for part in question.parts:
        check_drawn_in_prompt(part)


def check_templates_draw_what_they_state(
    template_ids: Iterable[str], drawing: Iterable[str], variants: Iterable[int]
) -> None:
    """Every template's drawn values are stated in its prompt, and those in `drawing` (whose
    checks recompute from drawn values) record some."""
    variants, drawing = list(variants), set(drawing)
    for template_id in template_ids:
        for variant in variants:
            question = generate(TEMPLATES[template_id], variant)
            if template_id in drawing:
                assert question.drawn or any(p.drawn for p in question.parts), template_id
            check_drawn_in_prompt(question)


# --------------------------------------------------------------------------------------------
# Independent checks shared by the per-topic template tests


def close(answer: str, truth: float, rel: float = 1e-4, abs_: float = 1e-5) -> None:
    import math

    assert math.isclose(float(answer), float(truth), rel_tol=rel, abs_tol=abs_), (answer, truth)


def parsed(text: str, symbols: dict[str, str]):
    """An answer text read by the quiz's parser (never evaluated)."""
    from quizzes.parser import parse

    return parse(text, symbols)


def numerically_equal(expr, truth, points) -> bool:
    """expr and truth (sympy) agree at every point {symbol name: value}."""
    for point in points:
        sub = {s: point[s.name] for s in expr.free_symbols | truth.free_symbols}
        left, right = complex(expr.subs(sub).evalf()), complex(truth.subs(sub).evalf())
        if not abs(left - right) <= 1e-9 * max(1.0, abs(right)):
            return False
    return True


def right_choices(question, truth, symbols: dict[str, str], points, clean=lambda t: t):
    """Letters of the choices whose right-hand side equals `truth` at the points."""
    found = []
    for index, choice in enumerate(question.choices):
        rhs = clean(choice.split(" = ", 1)[1])
        if numerically_equal(parsed(rhs, symbols), truth, points):
            found.append(chr(ord("A") + index))
    return found


def check_ordering(question) -> None:
    """The answer's order follows the registry derivation's, and the steps are not shown
    already in order."""
    import formulas

    (formula_id,) = question.formulas
    claims = [step.claim for step in formulas.get(formula_id).derivation]
    chosen = [question.steps[ord(letter) - ord("A")] for letter in question.answer.split()]
    positions = [claims.index(step) for step in chosen]
    assert positions == sorted(positions), "the answer does not follow the derivation's order"
    assert list(question.steps) != chosen, "shown already in order"
