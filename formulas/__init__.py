"""The verified formula registry of the Machine Perception cheat sheet.

    import formulas
    formulas.get("kl-gauss").evaluate(mu=..., sigma=...)
    formulas.all()

Importing this package loads metadata only; sympy and numpy are loaded on first use.
"""

from __future__ import annotations

# One module per course topic; each registers its formulas on import.
from formulas import (  # noqa: E402, F401  (imported for their registrations)
    attention,
    autoregressive,
    body,
    cnn,
    diffusion,
    flows,
    gan,
    generative,
    implicit,
    math,
    ml,
    optimizers,
    rl,
    rnn,
    vae,
)
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
    return REGISTRY.get(formula_id)


def all() -> list[Formula]:  # noqa: A001 - the contract names it `all`
    return REGISTRY.all()


def topics() -> dict[str, str]:
    return dict(TOPICS)


def by_topic(topic: str) -> list[Formula]:
    if topic not in TOPICS:
        raise UnknownNameError("topic", topic, closest(topic, TOPICS))
    return [formula for formula in REGISTRY.all() if formula.topic == topic]
