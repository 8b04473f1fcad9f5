"""Banks: every question accepts its own answer and refuses a perturbed one; a bad bank is
reported with its file, line and field; `bank check` proves mutants are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from quizzes.bankcheck import check_banks, check_question
from quizzes.banks import BANK_DIR, BankError, bank_files, load_bank, validate_bank
from quizzes.engine import mark, perturbed_answer
from quizzes.parser import AnswerError

DATA = Path(__file__).parent / "data"
FIXTURE_BANKS = bank_files(DATA / "banks")
# The real banks (written by the topic authors) get the same two checks as the fixtures.
ALL_QUESTIONS = [q for path in [*FIXTURE_BANKS, *bank_files(BANK_DIR)] for q in load_bank(path)]


@pytest.mark.parametrize("question", ALL_QUESTIONS, ids=lambda q: q.id)
def test_own_answer_right_perturbed_wrong(question):
    assert mark(question, question.answer).correct
    assert not mark(question, perturbed_answer(question)).correct


def test_fixture_banks_cover_every_kind():
    from quizzes.questions import KINDS

    kinds = {q.kind for path in FIXTURE_BANKS for q in load_bank(path)}
    assert kinds == set(KINDS) - {"multipart"}  # multipart problems are generated only


def test_foreseen_mistakes_get_their_feedback():
    (question,) = [
        q
        for q in load_bank(DATA / "banks" / "diffusion.toml")
        if q.id == "fx-diffusion-forward-mean"
    ]
    # alpha_t is not a declared symbol, but the author's mistake uses it: it is read, not
    # refused, and earns the author's feedback.
    result = mark(question, r"\sqrt{\alpha_t} x_0")
    assert not result.correct and "product alpha-bar_t" in result.feedback
    # A mistake nobody foresaw is named by the mutation engine.
    result = mark(question, "-sqrt(abar_t)*x_0")
    assert not result.correct and "sign" in result.feedback


def test_unreadable_answers_are_errors_not_wrong_answers():
    questions = {q.kind: q for path in FIXTURE_BANKS for q in load_bank(path)}
    for kind, text in [
        ("symbolic", "sqrt(alpha_bar)"),
        ("choice", "Z"),
        ("truefalse", "maybe"),
        ("ordering", "A A"),
        ("numeric", "twelve"),
    ]:
        with pytest.raises(AnswerError):
            mark(questions[kind], text)


def test_ordering_is_shuffled_stably_and_marked_by_letters():
    (question,) = [q for q in load_bank(DATA / "banks" / "diffusion.toml") if q.kind == "ordering"]
    again = [q for q in load_bank(DATA / "banks" / "diffusion.toml") if q.kind == "ordering"][0]
    assert question.steps == again.steps
    shown = dict(zip("ABCD", question.steps))
    right_order = [shown[letter] for letter in question.answer.split()]
    assert right_order[0] == "draw x_0 from the data"
    assert right_order[-1].startswith("take a gradient step")


def test_bad_bank_names_file_line_and_field():
    questions, problems = validate_bank(DATA / "bad_banks" / "vae.toml")
    text = "\n".join(str(p) for p in problems)
    assert "vae.toml:4: id: 'Bad_Id' is not kebab-case" in text
    assert "vae.toml:9: formulas: unknown formula id 'kl-gaus'; did you mean kl-gauss?" in text
    assert "vae.toml:11: difficulty" in text
    assert "vae.toml:19: colour: unknown field" in text
    with pytest.raises(BankError, match=r"vae\.toml:4: id"):
        load_bank(DATA / "bad_banks" / "vae.toml")


def test_invalid_toml_is_reported_with_a_line(tmp_path):
    path = tmp_path / "vae.toml"
    path.write_text('topic = "vae"\n[[question]]\nid = "x\n')
    _, problems = validate_bank(path)
    assert problems and problems[0].line >= 3 and "not valid TOML" in problems[0].message


def test_bank_check_proves_mutants_refused():
    report = check_banks(DATA / "banks")
    assert report["problems"] == []
    assert report["questions"] == len([q for p in FIXTURE_BANKS for q in load_bank(p)])
    assert report["mutants"] > 20


def test_bank_check_catches_a_wrong_bank(tmp_path):
    # The author's foreseen "mistake" is the right answer: bank check must refuse the bank.
    (tmp_path / "vae.toml").write_text(
        'topic = "vae"\n[[question]]\nid = "wrong-mistake"\nkind = "choice"\nprompt = "p"\n'
        'choices = ["a", "b"]\nanswer = "B"\nreasons = ["a is not it", ""]\nexplanation = "e"\n'
        '  [[question.mistakes]]\n  answer = "B"\n  feedback = "the author marked B wrong"\n'
    )
    report = check_banks(tmp_path)
    assert any("wrong-mistake: mistakes: 'B' is marked right" in p for p in report["problems"])
    assert not report["ok"]


def test_check_question_reports_an_unparseable_answer(tmp_path):
    (question,) = load_bank(DATA / "banks" / "vae.toml")[:1]
    from dataclasses import replace

    broken = replace(question, answer="sqrt(")
    problems, _ = check_question(broken)
    assert problems and "cannot be read" in problems[0]


COMPUTED = [q for q in ALL_QUESTIONS if q.compute]


@pytest.mark.parametrize("question", COMPUTED, ids=lambda q: q.id)
def test_bank_answer_recomputed_from_the_registry(question):
    import math

    import numpy as np

    import formulas

    value = np.asarray(
        formulas.get(question.compute["formula"]).evaluate(**question.compute["inputs"]), float
    )
    if "index" in question.compute:
        value = value[tuple(question.compute["index"])]
    assert question.compute["formula"] in question.formulas
    assert math.isclose(float(question.answer), float(value), rel_tol=1e-5, abs_tol=1e-9)
    assert mark(question, repr(float(value))).correct  # the registry's value is marked right


def test_most_numeric_bank_questions_name_their_registry_computation():
    numeric = [q for q in ALL_QUESTIONS if q.kind == "numeric" and not q.id.startswith("fx-")]
    assert len(COMPUTED) >= 45 and len(COMPUTED) >= len(numeric) / 2


def test_bank_check_catches_an_answer_the_registry_disagrees_with(tmp_path):
    (tmp_path / "vae.toml").write_text(
        'topic = "vae"\n[[question]]\nid = "kl-typo"\nkind = "numeric"\n'
        'prompt = "KL(N(1, 1) || N(0, 1))?"\nanswer = "0.6"\nrule = "decimals:1"\n'
        'compute = { formula = "kl-gauss", inputs = { mu = [1.0], sigma = [1.0] } }\n'
        'explanation = "e"\nformulas = ["kl-gauss"]\n'
    )
    report = check_banks(tmp_path)
    assert any("kl-typo: compute: the registry gives 0.5" in p for p in report["problems"])
