"""Ordering questions as partial orders: which step needs which, and every order that respects
it is right.

A derivation rarely fixes one order: two Gaussian integrals can be done in either order, and a
definition can be stated any time before it is used. An ordering question therefore declares
`needs`, (before, after) pairs of the letters shown; an answer is right when it is a linear
extension of that partial order. A question without `needs` is a chain: only `answer` is right.

Authors write steps in one valid order and say which earlier steps each one needs:
- banks: `needs = { 3 = [1, 2], 4 = [3] }` (1-based numbers in the written order; a step not
  listed needs nothing);
- templates: `arrange(rng, steps, needs)` with 0-based indices; `derivation_needs(steps)` reads
  them off a registry derivation (chain steps follow each other, a premise comes before the
  chain step that uses it).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from typing import Any


def letter(index: int) -> str:
    return chr(ord("A") + index)


def precedences(question: Any) -> set[tuple[str, str]]:
    """The declared (before, after) pairs, or the answer's consecutive pairs for a chain."""
    if question.needs:
        return {tuple(pair) for pair in question.needs}
    order = question.answer.split()
    return set(zip(order, order[1:]))


def respects(order: Sequence[str], pairs: set[tuple[str, str]]) -> bool:
    position = {name: index for index, name in enumerate(order)}
    return all(position[before] < position[after] for before, after in pairs)


def accepts(question: Any, order: Sequence[str]) -> bool:
    """Is `order` (letters) one of the orders the question's partial order allows?"""
    return respects(list(order), precedences(question))


def linear_extensions(question: Any, limit: int = 5040) -> list[list[str]]:
    """Every order the question accepts (at most `limit`; steps are few)."""
    names = [letter(i) for i in range(len(question.steps))]
    pairs = precedences(question)
    found = []
    for order in itertools.permutations(names):
        if respects(order, pairs):
            found.append(list(order))
            if len(found) >= limit:
                break
    return found


def closure(count: int, needs: Mapping[int, Sequence[int]]) -> set[tuple[int, int]]:
    """All (before, after) pairs implied by `needs` {step: steps it needs} (0-based)."""
    pairs = {(before, after) for after, befores in needs.items() for before in befores}
    changed = True
    while changed:
        changed = False
        for (a, b), (c, d) in itertools.product(list(pairs), list(pairs)):
            if b == c and (a, d) not in pairs:
                pairs.add((a, d))
                changed = True
    for a, b in pairs:
        if a == b or not (0 <= a < count and 0 <= b < count):
            raise ValueError(f"needs: step {b + 1} cannot need step {a + 1}")
    return pairs


def chain(count: int) -> dict[int, list[int]]:
    """Each step needs the one before it (a total order)."""
    return {index: [index - 1] for index in range(1, count)}


def arrange(
    rng: random.Random, steps: Sequence[str], needs: Mapping[int, Sequence[int]] | None = None
) -> tuple[tuple[str, ...], str, tuple[tuple[str, str], ...]]:
    """Show `steps` (written in a valid order) shuffled so that the shown order is not already
    a valid one (when any other order exists); returns (shown steps, answer letters of the
    written order, the partial order as letter pairs over the shown steps)."""
    count = len(steps)
    pairs = closure(count, chain(count) if needs is None else needs)
    order = list(range(count))
    valid = lambda shown: all(shown.index(a) < shown.index(b) for a, b in pairs)  # noqa: E731
    if count > 1 and pairs:
        for _ in range(200):
            rng.shuffle(order)
            if not valid(order):
                break
    shown = tuple(steps[i] for i in order)
    answer = " ".join(letter(order.index(i)) for i in range(count))
    named = tuple(sorted((letter(order.index(a)), letter(order.index(b))) for a, b in pairs))
    return shown, answer, named


def bank_needs(raw: Any, count: int) -> dict[int, list[int]]:
    """`needs = { 3 = [1, 2] }` from a bank (1-based) as {2: [0, 1]}; ValueError if malformed
    (a step may only need steps written before it, so the written order is valid)."""
    if not isinstance(raw, Mapping):
        raise ValueError("must be a table: step number = [numbers of the steps it needs]")
    needs: dict[int, list[int]] = {}
    for key, befores in raw.items():
        if not str(key).isdigit() or not 1 <= int(key) <= count:
            raise ValueError(f"'{key}' is not a step number 1..{count}")
        if not isinstance(befores, list) or not all(isinstance(b, int) for b in befores):
            raise ValueError(f"step {key}: a list of step numbers")
        for before in befores:
            if not 1 <= before < int(key):
                raise ValueError(
                    f"step {key} needs step {before}: steps are written in a valid order, so a "
                    "step only needs steps written before it"
                )
        needs[int(key) - 1] = [b - 1 for b in befores]
    return needs


def derivation_needs(steps: Sequence[Any]) -> dict[int, list[int]]:
    """The partial order of a registry derivation's steps (0-based): each chain step needs the
    chain step before it and every premise it `uses` (by name); a premise that no step names
    is needed by the next chain step after it."""
    needs: dict[int, list[int]] = {}
    previous_chain: int | None = None
    pending: list[int] = []
    by_name = {step.name: index for index, step in enumerate(steps) if getattr(step, "name", "")}
    for index, step in enumerate(steps):
        if getattr(step, "premise", None) is not None:
            pending.append(index)
            continue
        before = [] if previous_chain is None else [previous_chain]
        used = [by_name[name] for name in getattr(step, "uses", ()) if name in by_name]
        before += [i for i in used if i < index]
        named_elsewhere = {
            by_name[n] for later in steps for n in getattr(later, "uses", ()) if n in by_name
        }
        before += [i for i in pending if i not in named_elsewhere]
        needs[index] = sorted(set(before))
        pending = []
        previous_chain = index
    return needs
