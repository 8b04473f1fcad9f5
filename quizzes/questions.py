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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The kinds of question. A generated template produces one of these kinds too; the flag
# `generated` on the question tells them apart (`--kind generated` selects templates).
KINDS = ("numeric", "symbolic", "choice", "truefalse", "ordering", "spot-error", "multipart")


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
    # How a numeric answer is marked, stated in the prompt and applied exactly (see
    # NUMERIC_RULES): "sigfigs:3", "decimals:4", "rel:0.01" or "abs:0.005". None: the legacy
    # tolerances above, stated as "within <rel_tol> %" (bank check asks for a rule).
    numeric_rule: str | None = None
    # Why each option is wrong, aligned with `choices` (same length, same order); the entry of
    # the right option is ignored and may be "". Shown when the student picks that option.
    option_reasons: tuple[str, ...] = ()
    # Extra hints after the automatic ones (formula id and title, then derivation steps).
    hints: tuple[str, ...] = ()
    # Domain constraints of the symbols beyond their assumptions, as plain-math relations
    # ("0 < abar_t <= alpha_t < 1"); numeric equivalence draws points inside them.
    constraints: tuple[str, ...] = ()
    # Identities between the symbols ("b_t = 1 - a_t", "abar_t = a_t*abar_p"): the equivalence
    # check rewrites both sides with them, so every form they allow is accepted.
    identities: tuple[str, ...] = ()
    # Ordering: the partial order of the shown steps as (before, after) letter pairs ("A must
    # come before C"); every order that respects it is right. Empty: only `answer` is.
    needs: tuple[tuple[str, str], ...] = ()
    # Multipart: the parts, each a Question of its own kind, answered and marked one by one
    # (quizzes.multipart); `answer` joins their answers with " ;; ".
    parts: tuple[Question, ...] = ()
    # Numeric bank questions whose answer a registry formula gives: {"formula": id, "inputs":
    # {name: value}, "index": [..] into the result}; bank check and the tests recompute it.
    compute: dict[str, Any] = field(default_factory=dict)
    # Generated questions: the values the template drew and the prompt states, by the names the
    # prompt uses ({"mu": [0.5, -1.0], "T": 1000}), plain numbers and nested lists only. Tests
    # recompute the answer from these by an independent route instead of reading the prompt.
    drawn: dict[str, Any] = field(default_factory=dict)

    @property
    def card_id(self) -> str:
        """The spaced-repetition card. A recall question (symbolic, choice, true/false,
        spot-the-error) is one form of a fact, its first formula: all forms of that fact share
        the card `fact:<formula-id>` (quizzes.repetition). Computations keep one card per
        bank question and one per template."""
        from quizzes.repetition import fact_card

        card = fact_card(self)
        if card is not None:
            return card
        return self.template if self.template else self.id

    @property
    def form_id(self) -> str:
        """What asked this question: its template (generated) or its own id (bank)."""
        return self.template if self.template else self.id

    @property
    def options(self) -> tuple[str, ...]:
        """What the student chooses among, as shown: the choices, or the steps to order."""
        return self.choices if self.kind in ("choice", "spot-error") else self.steps

    @property
    def symbol_names(self) -> list[str]:
        """The names a student may type (declared symbols, constants left out)."""
        return [name for name, kind in self.symbols.items() if kind != "constant"]

    def option_reason(self, index: int) -> str:
        """Why option `index` (0-based, as stored) is wrong; "" when none is given."""
        if 0 <= index < len(self.option_reasons):
            return self.option_reasons[index]
        return ""


# --------------------------------------------------------------------------------------------
# Numeric precision rules: how a numeric answer is marked, stated in its prompt.

NUMERIC_RULES = ("sigfigs", "decimals", "rel", "abs")


def letters(count: int) -> list[str]:
    """The option letters A, B, C, ... of a choice, ordering or spot-the-error question."""
    return [chr(ord("A") + index) for index in range(count)]


def parse_numeric_rule(rule: str) -> tuple[str, float]:
    """("sigfigs", 3) from "sigfigs:3"; ValueError naming the accepted forms otherwise."""
    name, _, value_text = rule.strip().partition(":")
    forms = "sigfigs:N, decimals:N, rel:X or abs:X"
    if name not in NUMERIC_RULES:
        raise ValueError(f"numeric rule {rule!r}: unknown rule '{name}' (one of {forms})")
    try:
        value = float(value_text)
    except ValueError:
        raise ValueError(
            f"numeric rule {rule!r}: '{value_text}' is not a number ({forms})"
        ) from None
    if name in ("sigfigs", "decimals"):
        if value != int(value) or not (0 <= value <= 15) or (name == "sigfigs" and value < 1):
            raise ValueError(f"numeric rule {rule!r}: N must be a whole number of digits")
        return name, int(value)
    if not value >= 0:
        raise ValueError(f"numeric rule {rule!r}: the tolerance must not be negative")
    return name, value


def _plain(value: float) -> str:
    """0.01 -> "0.01", 1e-06 -> "1e-06": the shortest text that reads back as the value."""
    text = f"{value:.12g}"
    return text


def numeric_rule_text(rule: str) -> str:
    """The phrase a prompt states: "to 3 significant figures", "within 1 %"."""
    name, value = parse_numeric_rule(rule)
    if name == "sigfigs":
        return f"to {value} significant figure{'s' if value != 1 else ''}"
    if name == "decimals" and value == 0:
        return "to the nearest whole number"
    if name == "decimals":
        return f"to {value} decimal place{'s' if value != 1 else ''}"
    if value == 0:
        return "exactly"
    if name == "rel":
        return f"within {_plain(value * 100)} %"
    return f"within ±{_plain(value)}"


_STATED_PRECISION = (
    (re.compile(r"(\d+) significant (?:digits|figures)", re.IGNORECASE), "sigfigs"),
    (re.compile(r"(\d+) decimal places?", re.IGNORECASE), "decimals"),
)


def rule_stated_in(prompt: str) -> str | None:
    """ "sigfigs:3" when the prompt itself says "(3 significant digits)": what it promises is
    then what is marked."""
    for pattern, name in _STATED_PRECISION:
        match = pattern.search(prompt)
        if match:
            return f"{name}:{int(match.group(1))}"
    return None


def effective_numeric_rule(question: Question) -> str:
    """The rule a numeric question is marked by: its own; else the precision its prompt
    states; else its legacy tolerance (the wider of abs_tol and rel_tol at the answer), so
    that the prompt can always say how it is marked and the marking keeps to it."""
    if question.numeric_rule:
        return question.numeric_rule
    stated = rule_stated_in(question.prompt)
    if stated:
        return stated
    try:
        target = float(question.answer)
    except ValueError:
        target = 1.0
    # the legacy test was "within abs_tol OR within rel_tol": the wider one at this answer
    if question.abs_tol >= question.rel_tol * abs(target):
        return f"abs:{_plain(question.abs_tol)}"
    return f"rel:{_plain(question.rel_tol)}"


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
