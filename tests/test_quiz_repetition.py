"""A session asks each fact once: a choice among mutants of the KL, a spot-the-error on the KL
and "write the KL" are forms of one fact (quizzes.repetition)."""

from __future__ import annotations

import pytest

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


# FSRS cards per fact --------------------------------------------------------------------------


def _kl_forms():
    """Two forms of the KL fact: the bank's "write the KL" and the template's choice."""
    (bank_kl,) = [
        q for q in Catalog().bank("vae") if q.kind == "symbolic" and fact_of(q) == "kl-gauss"
    ][:1]
    return Pick(question_=bank_kl), Pick(template=TEMPLATES["kl-gauss-choice-draw"], variant=4)


def _answered(picks, store):
    """One session per pick (a session asks a fact once), each answered right."""
    for pick in picks:
        asked = []

        def show(event, payload, asked=asked):
            if event == "question":
                asked.append(payload["question"])

        def read(prompt, asked=asked):
            if not asked:
                raise EOFError
            return asked[-1].answer

        session_id = store.start_session("quiz", "vae")
        Session(
            picks=[pick],
            read=read,
            show=show,
            interactive=False,
            store=store,
            session_id=session_id,
        ).run()


def test_two_forms_of_one_fact_review_one_card(tmp_path):
    from quizzes.store import open_store

    bank_form, choice_form = _kl_forms()
    assert bank_form.card_id == choice_form.card_id == "fact:kl-gauss"
    store = open_store(tmp_path)
    _answered([bank_form, choice_form], store)
    (card,) = store.cards()
    assert card.card_id == "fact:kl-gauss" and card.reviews == 2 and card.lapses == 0
    answers = store.answers()
    assert [a["question_id"] for a in answers] == [bank_form.id, choice_form.id]
    assert {a["card_id"] for a in answers} == {"fact:kl-gauss"}


def test_computations_keep_their_own_cards():
    numeric = Pick(template=TEMPLATES["kl-gauss-value-draw"], variant=2)
    assert numeric.card_id == numeric.question().card_id == "kl-gauss-value-draw"
    bank_numeric = [q for q in Catalog().bank("vae") if q.id == "vae-kl-gauss-numeric"][0]
    assert bank_numeric.card_id == "vae-kl-gauss-numeric"
    multipart = Pick(template=TEMPLATES["vae-kl-multipart"], variant=0)
    assert multipart.question().card_id == "vae-kl-multipart"


def test_a_due_fact_card_is_asked_through_one_of_its_forms(tmp_path):
    import datetime as dt

    from quizzes.plan import review_picks
    from quizzes.store import now_utc, open_store

    bank_form, choice_form = _kl_forms()
    store = open_store(tmp_path)
    _answered([choice_form], store)
    due = store.due(until=now_utc() + dt.timedelta(days=3650))
    assert [c.card_id for c in due] == ["fact:kl-gauss"]
    for seed in (0, 1, 2):
        picks, elsewhere = review_picks(Catalog(), due, 5, seed, store.last_questions())
        (pick,) = picks
        assert not elsewhere and pick.question().card_id == "fact:kl-gauss"
        # the form asked last time (the choice template) is not asked again
        assert pick.id.partition("@")[0] != "kl-gauss-choice-draw"
    assert [p.id for p in review_picks(Catalog(), due, 5, 7)[0]] == [
        p.id for p in review_picks(Catalog(), due, 5, 7)[0]
    ]  # seeded
    # `quiz vae --due` finds the fact card's forms as well
    (pick,) = Catalog().select("vae", 3, seed=1, only={"fact:kl-gauss"})
    assert pick.question().card_id == "fact:kl-gauss"
    assert Catalog().find_item("fact:kl-gauss").question().card_id == "fact:kl-gauss"


def _old_database(home):
    """A schema-1 database as the per-question/per-template cards left it."""
    import datetime as dt

    from quizzes.store import open_store

    store = open_store(home)
    start = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    old = [  # (question, card, kind, formulas, correct, rating)
        ("kl-gauss-choice-draw@4", "kl-gauss-choice-draw", "choice", ["kl-gauss"], True, "good"),
        ("vae-kl-gauss-1d", "vae-kl-gauss-1d", "symbolic", ["kl-gauss"], False, "again"),
        ("kl-gauss-choice-draw@9", "kl-gauss-choice-draw", "choice", ["kl-gauss"], True, "easy"),
        ("kl-gauss-value-draw@3", "kl-gauss-value-draw", "numeric", ["kl-gauss"], True, "good"),
    ]
    for day, (question, card, kind, formulas, correct, rating) in enumerate(old):
        store.record_answer(
            question_id=question,
            card_id=card,
            topic="vae",
            kind=kind,
            formulas=formulas,
            correct=correct,
            rating=rating,
            when=start + dt.timedelta(days=day),
        )
    store.db.execute("PRAGMA user_version = 1")
    store.close()
    return old, start


def test_an_old_progress_database_moves_onto_fact_cards_without_losing_reviews(tmp_path):
    import datetime as dt

    from quizzes.store import SCHEMA_VERSION, open_store

    old, start = _old_database(tmp_path)
    store = open_store(tmp_path)  # migrates 1 -> 2
    assert store.version == SCHEMA_VERSION == 2
    cards = {c.card_id: c for c in store.cards()}
    assert set(cards) == {"fact:kl-gauss", "kl-gauss-value-draw"}
    fact = cards["fact:kl-gauss"]
    assert (fact.reviews, fact.lapses, fact.topic) == (3, 1, "vae")
    assert cards["kl-gauss-value-draw"].reviews == 1
    answers = store.answers()
    assert [a["question_id"] for a in answers] == [row[0] for row in old]  # none lost
    assert [a["card_id"] for a in answers] == ["fact:kl-gauss"] * 3 + ["kl-gauss-value-draw"]
    # the fact card's FSRS state is the three reviews replayed in order
    replay = open_store(tmp_path / "replay")
    for day, (question, _, kind, formulas, correct, rating) in enumerate(old[:3]):
        replay.record_answer(
            question_id=question,
            card_id="fact:kl-gauss",
            topic="vae",
            kind=kind,
            formulas=formulas,
            correct=correct,
            rating=rating,
            when=start + dt.timedelta(days=day),
        )
    assert replay.card_state("fact:kl-gauss") == fact
    assert store._card("fact:kl-gauss").to_json() == replay._card("fact:kl-gauss").to_json()
    store.close()
    assert open_store(tmp_path).cards() == list(cards.values())  # migrated once


def test_a_failed_migration_leaves_the_old_database_as_it_was(tmp_path, monkeypatch):
    import pytest

    import quizzes.repetition
    from quizzes.store import open_store

    _old_database(tmp_path)
    calls = []

    def failing(kind, formulas, card_id):
        calls.append(card_id)
        if len(calls) == 3:  # after two answers were moved
            raise KeyboardInterrupt
        return "fact:" + formulas[0] if kind != "numeric" else card_id

    monkeypatch.setattr(quizzes.repetition, "card_for", failing)
    with pytest.raises(KeyboardInterrupt):
        open_store(tmp_path)
    monkeypatch.undo()
    import sqlite3

    db = sqlite3.connect(tmp_path / "progress.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert {row[0] for row in db.execute("SELECT card_id FROM cards")} == {
        "kl-gauss-choice-draw",
        "vae-kl-gauss-1d",
        "kl-gauss-value-draw",
    }
    assert "fact:kl-gauss" not in {row[0] for row in db.execute("SELECT card_id FROM answers")}
    db.close()
    assert {c.card_id for c in open_store(tmp_path).cards()} == {
        "fact:kl-gauss",
        "kl-gauss-value-draw",
    }


@pytest.mark.parametrize("kind", ["choice", "symbolic"])
def test_a_due_fact_is_asked_in_the_kind_the_student_asks_for(kind):
    """`quiz vae --due --kind K`: a due fact with a form of kind K is asked through that form
    (it was dropped whenever the seeded form drawn first had another kind)."""
    for seed in range(6):
        (pick,) = Catalog().select("vae", 3, seed=seed, kind=kind, only={"fact:kl-gauss"})
        question = pick.question()
        assert question.card_id == "fact:kl-gauss" and question.kind == kind, (seed, pick.id)


def test_every_recall_template_names_the_facts_its_variants_ask():
    """plan counts a recall template's new material as a fact card per formula it names, so
    the names must cover what its variants ask (ddpm-closed-form-draw asked ddpm-loss-weight
    without naming it)."""
    from quizzes.catalog import generate
    from quizzes.repetition import RECALL_KINDS

    for template in TEMPLATES.values():
        if template.kind not in RECALL_KINDS or not template.formulas:
            continue
        asked = {fact_of(generate(template, variant)) for variant in range(24)} - {None}
        assert asked <= set(template.formulas), (template.id, asked - set(template.formulas))


def test_plan_counts_each_fact_of_a_recall_template_as_new(tmp_path):
    import datetime as dt

    from quizzes.plan import make_plan
    from quizzes.store import open_store

    catalog = Catalog()
    plan = make_plan(catalog, open_store(tmp_path), dt.date(2027, 3, 1), today=dt.date(2027, 1, 1))
    new = {card for day in plan["days"] for card in day["new"]}
    closed_form = Pick(template=TEMPLATES["ddpm-closed-form-draw"])
    assert len(closed_form.card_ids) == 4 and set(closed_form.card_ids) <= new
    assert plan["unseen"] == len(new) + plan["not_fitting"]
