"""The one place backprop quizzes talk to the spaced-repetition store (topic 'backprop').

Each answer is recorded through quizzes.store (SQLite + FSRS) as (card id, topic 'backprop',
correct, seconds); the card is one per (kind, block), the question id adds the seed
(`backprop:conv:dE/dX@3`) the way generated quiz variants do. Without the quiz engine installed the
answer is still checked and reported, only not scheduled.
"""

from __future__ import annotations

import importlib
from typing import Any

TOPIC = "backprop"


def card_id(kind: str, block: str) -> str:
    """One card per (kind, block): the drill/quiz on `conv`'s dE/dX is one thing to learn."""
    return f"backprop:{kind}:{block}"


def _store_module() -> Any | None:
    try:
        return importlib.import_module("quizzes.store")
    except ImportError:
        return None


def record(
    card: str,
    correct: bool,
    seconds: float,
    given: str = "",
    variant: int | None = None,
    session: str | None = None,
) -> bool:
    """Record one answer and reschedule its card; True when the quiz store took it."""
    store = _store_module()
    if store is None:
        return False
    handle = store.open_store()
    try:
        handle.record_answer(
            question_id=card if variant is None else f"{card}@{variant}",
            card_id=card,
            topic=TOPIC,
            correct=correct,
            given=given,
            kind="numeric",
            seconds=seconds,
            session=session,
        )
    finally:
        handle.close()
    return True


def start_session(mode: str, seed: int) -> str | None:
    """A quiz-store session for one --quiz or --drill run (None without the store)."""
    store = _store_module()
    if store is None:
        return None
    handle = store.open_store()
    try:
        return handle.start_session(f"backprop-{mode}", topic=TOPIC, seed=seed)
    finally:
        handle.close()
