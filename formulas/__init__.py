"""The verified formula registry of the Machine Perception cheat sheet.

    import formulas
    formulas.get("kl-gauss").evaluate(mu=..., sigma=...)
    formulas.all()

Importing this package loads metadata only; sympy and numpy are loaded on first use.
"""

from __future__ import annotations

from formulas.core import (
    REGISTRY,
    TOPICS,
    Erratum,
    Evidence,
    Formula,
    Step,
    StepResult,
    UnknownNameError,
    closest,
)

# One module per course topic (formulas/<topic>.py, named by TOPICS, the one topic list); each
# registers its formulas when imported. They are imported on first use of get/all/by_topic, so
# `formulas.index` (listing, search, completion) and `formulas.core` (TOPICS, closest) cost no
# topic module at start-up.
_TOPIC_MODULES = tuple(TOPICS)
_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        import importlib

        for name in _TOPIC_MODULES:
            importlib.import_module(f"formulas.{name}")
        _loaded = True


__all__ = [
    "TOPICS",
    "Erratum",
    "Evidence",
    "Formula",
    "Step",
    "StepResult",
    "UnknownNameError",
    "all",
    "get",
    "topics",
    "by_topic",
]


def get(formula_id: str) -> Formula:
    """The formula with this id; UnknownNameError names the closest ids otherwise."""
    _load()
    return REGISTRY.get(formula_id)


def all() -> list[Formula]:  # noqa: A001 - the contract names it `all`
    _load()
    return REGISTRY.all()


def topics() -> dict[str, str]:
    return dict(TOPICS)


def by_topic(topic: str) -> list[Formula]:
    if topic not in TOPICS:
        raise UnknownNameError("topic", topic, closest(topic, TOPICS))
    _load()
    return [formula for formula in REGISTRY.all() if formula.topic == topic]
