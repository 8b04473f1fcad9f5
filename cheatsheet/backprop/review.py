"""The one place backprop quizzes talk to the spaced-repetition store (topic 'backprop').

The quiz engine (quizzes/store.py) is optional here: when it is importable, each answer is recorded
there as (card id, topic 'backprop', correct, seconds); without it the answer is still checked and
reported, only not scheduled.
"""

from __future__ import annotations

import importlib
import inspect
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


def record(card: str, correct: bool, seconds: float) -> bool:
    """Record one answer; True when the quiz store took it."""
    store = _store_module()
    if store is None:
        return False
    for name in ("record_answer", "record_review", "record"):
        fn = getattr(store, name, None)
        if callable(fn):
            return _call(fn, card, correct, seconds)
    opener = getattr(store, "open_store", None) or getattr(store, "ReviewStore", None)
    if opener is not None:
        handle = opener()
        for name in ("record_answer", "record_review", "record", "review"):
            fn = getattr(handle, name, None)
            if callable(fn):
                return _call(fn, card, correct, seconds)
    return False


def _call(fn: Any, card: str, correct: bool, seconds: float) -> bool:
    values = {
        "card_id": card,
        "card": card,
        "topic": TOPIC,
        "correct": correct,
        "seconds": seconds,
        "elapsed": seconds,
        "duration": seconds,
    }
    params = inspect.signature(fn).parameters
    kwargs = {k: v for k, v in values.items() if k in params}
    fn(**kwargs)
    return True
