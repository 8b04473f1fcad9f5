"""A session asks each fact once: a choice among mutants of the KL, a spot-the-error on the KL
and "write the KL" are forms of one fact (quizzes.repetition)."""

from __future__ import annotations

from quizzes.catalog import Catalog, Pick, load_templates
from quizzes.engine import Session
from quizzes.questions import TEMPLATES
from quizzes.repetition import fact_of

load_templates()


def _run(picks):
    """A session that answers every question (and part) with its own answer."""
    asked = []

    def show(event, payload):
        if event == "question":
            asked.append(payload["question"])

    def read(prompt):
        if not asked:
            raise EOFError
        return asked[-1].answer

    session = Session(picks=picks, read=read, show=show, interactive=False)
    session.run()
    return asked, session


def test_a_fact_already_asked_is_not_asked_again_in_another_form():
    catalog = Catalog()
    (bank_kl,) = [
        q for q in catalog.bank("vae") if q.kind == "symbolic" and fact_of(q) == "kl-gauss"
    ][:1]
    picks = [Pick(question_=bank_kl), Pick(template=TEMPLATES["kl-gauss-choice-draw"], variant=4)]
    asked, session = _run(picks)
    assert [q.id for q in asked] == [bank_kl.id]  # the choice form of the same KL is left out
    assert session.facts == {"kl-gauss"}


def test_a_template_redraws_a_variant_on_another_fact():
    template = TEMPLATES["errata-spot-diffusion"]
    first = Pick(template=template, variant=1).question()
    picks = [Pick(template=template, variant=1), Pick(template=template, variant=1)]
    asked, _ = _run(picks)
    assert len(asked) == 2 and fact_of(asked[0]) == fact_of(first)
    assert fact_of(asked[1]) != fact_of(asked[0])


def test_a_drawn_quiz_asks_every_recall_fact_once():
    for topic in ("vae", "diffusion", "flows"):
        picks = Catalog().select(topic, 25, seed=11)
        asked, _ = _run(picks)
        facts = [fact_of(q) for q in asked if fact_of(q) is not None]
        assert len(facts) == len(set(facts)), (topic, facts)
        assert len(asked) >= 15
