"""The question record and the template registry: the small interface between banks,
generated templates, the quiz engine and the CLI.

Banks (`quizzes/banks/<topic>.toml`) hold hand-written questions as data. Generated templates
(`quizzes/templates/<topic>.py`) are functions `rng -> Question` registered with `@template`;
their answers come from the formula registry (`formulas.get(id).evaluate(...)`), never typed in.

Ids: a bank question's id is its own (kebab-case, unique). A generated variant's id is
`<template-id>@<variant>` where `variant` is the integer seed that drew its parameters, so
`cheatsheet check <template-id>@<variant>` regenerates exactly that question.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

# The kinds of question. A generated template produces one of these kinds too; the flag
# `generated` on the question tells them apart (`--kind generated` selects templates).
KINDS = ("numeric", "symbolic", "choice", "truefalse", "ordering", "spot-error")


@dataclass(frozen=True)
class Mistake:
    """A wrong answer the author foresaw, with its own feedback (STACK-style)."""

    answer: str
    feedback: str


@dataclass(frozen=True)
class Question:
    """One question as asked.

    answer, by kind:
      numeric    the number as text ("0.25"); tolerance (abs_tol, rel_tol) applies
      symbolic   an expression in the plain-math answer syntax over `symbols`
      choice     the letter of the right choice ("B"); `choices` holds the texts
      truefalse  "true" or "false"
      ordering   the right order as letters of `steps` as shown, e.g. "C A B D"; `steps`
                 are stored in the order shown to the student (already shuffled)
      spot-error the letter of the wrong line/part among `choices` (mutants of a formula,
                 the sheet's own errata among them)
    symbols: name -> assumptions ("real", "positive", "integer", "nonnegative", "function");
      names that sympy would misread (gamma, beta, lambda, E, I, N, S, eps) are plain symbols
      of the question unless declared as "function" or "constant".
    """

    id: str
    topic: str
    kind: str
    prompt: str
    answer: str
    explanation: str
    formulas: tuple[str, ...] = ()
    difficulty: int = 2  # 1 easy .. 3 exam-hard
    tags: tuple[str, ...] = ()
    symbols: dict[str, str] = field(default_factory=dict)
    choices: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    abs_tol: float = 1e-6
    rel_tol: float = 1e-3
    mistakes: tuple[Mistake, ...] = ()
    generated: bool = False
    template: str | None = None  # template id, for generated questions (the card key)
    source: str | None = None  # bank file path or template module, for error messages

    @property
    def card_id(self) -> str:
        """The spaced-repetition card: one per bank question, one per template."""
        return self.template if self.template else self.id


@dataclass(frozen=True)
class Template:
    id: str
    topic: str
    kind: str
    formulas: tuple[str, ...]
    difficulty: int
    tags: tuple[str, ...]
    make: Callable[[random.Random, str], Question]

    def generate(self, variant: int) -> Question:
        """The variant with this seed; `make` gets a seeded rng and the variant's id."""
        return self.make(random.Random(f"{self.id}@{variant}"), f"{self.id}@{variant}")


TEMPLATES: dict[str, Template] = {}


def template(
    id: str,
    *,
    topic: str,
    kind: str,
    formulas: tuple[str, ...] = (),
    difficulty: int = 2,
    tags: tuple[str, ...] = (),
) -> Callable[[Callable[[random.Random, str], Question]], Callable]:
    """Register a generator `make(rng, question_id) -> Question` under a stable template id."""
    if kind not in KINDS:
        raise ValueError(f"template {id}: unknown kind {kind}")

    def decorate(make: Callable[[random.Random, str], Question]) -> Callable:
        if id in TEMPLATES:
            raise ValueError(f"duplicate template id {id}")
        TEMPLATES[id] = Template(id, topic, kind, tuple(formulas), difficulty, tuple(tags), make)
        return make

    return decorate
