"""The session loop as a person drives it (interactive=True, answers typed one by one): an
unreadable answer is re-asked and costs nothing, '?' skips, --rate asks for the rating (keys
1-4, Enter = good), and each valid answer is in the store before the next question is shown."""

from __future__ import annotations

from pathlib import Path

from quizzes.banks import load_bank
from quizzes.engine import Session
from quizzes.store import open_store

BANK = Path(__file__).parent / "data" / "study_banks" / "diffusion.toml"


def test_interactive_session_reasks_skips_rates_and_records(tmp_path):
    questions = {q.id: q for q in load_bank(BANK)}
    asked = [
        questions["st-forward-mean"],
        questions["st-abar-value"],
        questions["st-beta-monotone"],
    ]
    typed = iter(["sqrt(alpha_bar)", "sqrt(abar_t) x_0", "2", "?", "yes", ""])
    store = open_store(tmp_path)
    events: list[tuple[str, dict]] = []
    recorded_before_next_question = []

    def show(event, payload):
        events.append((event, payload))
        if event == "question":
            recorded_before_next_question.append(len(store.answers()))

    session = Session(
        picks=asked,
        read=lambda prompt: next(typed),
        show=show,
        interactive=True,
        store=store,
        ask_rating=True,
    )
    results = session.run()
    kinds = [event for event, _ in events]
    assert kinds == ["question", "invalid", "result", "question", "skipped", "question", "result"]
    assert "did you mean abar_t" in events[1][1]["message"]
    first, last = results
    assert first.correct and first.rating == "hard"  # the user's own rating (key 2)
    assert last.correct and last.rating == "good"  # Enter = good, as in Anki
    assert recorded_before_next_question == [0, 1, 1]
    answers = store.answers()
    assert [a["question_id"] for a in answers] == [first.id, last.id]
    assert [a["rating"] for a in answers] == ["hard", last.rating]
