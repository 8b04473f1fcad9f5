"""Less repetition: a session does not ask the same fact twice in different forms.

A recall question (symbolic, choice, true/false, spot-the-error) tests one fact: the formula it
is about (its first registry id). A choice among mutants of the KL, a spot-the-error on the KL
and "write the KL" are three forms of one fact; a session asks one of them. Computations
(numeric, ordering, multipart) are skills practised on fresh numbers and are not deduplicated.

`Session` calls `fresh(pick, question, seen)` before asking: a generated question whose fact
was asked already is redrawn with the template's next variants; a bank question is skipped.

Spaced repetition follows the same rule: every form of a fact shares one FSRS card,
`fact:<formula-id>` (`Question.card_id`), so answering the KL as a choice and later as a
spot-the-error reviews one card twice. A due fact card is asked through one of its forms
(`forms`, `pick_for_card`): a bank question or a template variant whose fact it is, drawn with
the seed, preferring a form other than the one asked last time. Progress saved under the old
per-question/per-template ids is moved onto fact cards once, in a transaction
(quizzes.store, schema version 2).
"""

from __future__ import annotations

import random
from typing import Any

RECALL_KINDS = ("symbolic", "choice", "truefalse", "spot-error")
REDRAWS = 12
FACT_PREFIX = "fact:"
FORM_DRAWS = 24  # variants of a template tried to land on a given fact


def fact_of(question: Any) -> str | None:
    """The fact a recall question tests (its first formula id); None for computations."""
    if question.kind not in RECALL_KINDS or not question.formulas:
        return None
    return question.formulas[0]


def fact_card(question: Any) -> str | None:
    """The FSRS card a recall question shares with the other forms of its fact."""
    fact = fact_of(question)
    return None if fact is None else FACT_PREFIX + fact


def card_for(kind: str, formulas: Any, card_id: str) -> str:
    """The card an answer recorded under `card_id` belongs to now (the store's migration)."""
    if kind in RECALL_KINDS and formulas:
        return FACT_PREFIX + formulas[0]
    return card_id


def is_fact_card(card_id: str) -> bool:
    return card_id.startswith(FACT_PREFIX)


def forms(catalog: Any, card_id: str, topic: str | None, rng: random.Random) -> list[Any]:
    """The picks that ask fact card `card_id`: the bank questions of that fact, and per recall
    template one variant (drawn with `rng`) that lands on it; the card's topic first, then
    every topic. Each pick's `id` is asked as is (templates carry their variant)."""
    from quizzes.catalog import Pick, generate

    fact = card_id.removeprefix(FACT_PREFIX)
    found: list[Any] = []
    topics = [topic, "all"] if topic else ["all"]
    for name in topics:
        try:
            pool = catalog.pool(name)
        except Exception:  # noqa: BLE001 - a topic gone from the banks: try every topic
            continue
        for pick in pool:
            if pick.question_ is not None:
                if fact_of(pick.question_) == fact:
                    found.append(pick)
                continue
            template = pick.template
            if template.kind not in RECALL_KINDS:
                continue
            if template.formulas and fact not in template.formulas:
                continue
            for _ in range(FORM_DRAWS):
                variant = rng.randrange(1_000_000)
                try:
                    question = generate(template, variant)
                except Exception:  # noqa: BLE001 - a broken template is no form of it
                    break
                if fact_of(question) == fact:
                    found.append(Pick(template=template, variant=variant))
                    break
        if found:
            break
    return found


def pick_for_card(
    catalog: Any,
    card_id: str,
    topic: str | None,
    rng: random.Random,
    last: str | None = None,
    kind: str | None = None,
) -> Any | None:
    """One form of fact card `card_id`, seeded, not the form asked last time (`last`, a
    question id) when it has another, and of `kind` when one is asked for (`quiz --due --kind
    choice`: the fact's choice form, not a form of another kind that would drop the fact);
    None when no bank question or template asks it so."""
    options = forms(catalog, card_id, topic, rng)
    if kind is not None:
        options = [pick for pick in options if asks_kind(pick, kind)]
    if not options:
        return None
    last_form = (last or "").partition("@")[0]
    other = [pick for pick in options if pick.id.partition("@")[0] != last_form]
    return rng.choice(other or options)


def asks_kind(pick: Any, kind: str) -> bool:
    """`pick` asks a question of `kind` ("generated": any template's question)."""
    if kind == "generated":
        return pick.template is not None
    return (pick.question_ or pick.template).kind == kind


def fresh(pick: Any, question: Any, seen: set[str]) -> Any | None:
    """`question`, or another variant of its template, whose fact is not in `seen` (which it
    then joins); None when a bank question repeats a fact already asked."""
    fact = fact_of(question)
    if fact is None or fact not in seen:
        if fact is not None:
            seen.add(fact)
        return question
    template = getattr(pick, "template", None)
    variant = getattr(pick, "variant", None)
    if template is None or variant is None:
        return None
    from quizzes.catalog import generate

    for step in range(1, REDRAWS + 1):
        other = generate(template, variant + step * 7919)
        fact = fact_of(other)
        if fact is None or fact not in seen:
            if fact is not None:
                seen.add(fact)
            return other
    return None
