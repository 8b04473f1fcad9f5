"""The helper kit of the generated templates (every topic's `quizzes/templates/<topic>.py`):
number formatting, numeric questions with their marking rule, multiple choice from mutants of
a registry statement, derivation steps to put in order (with their partial order), and the
guard that redraws degenerate variants.

Not a template module itself (the leading underscore keeps quizzes.catalog from importing it
as one); it imports nothing heavy at module level, so loading a topic's templates stays cheap.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from quizzes.questions import Mistake, Question


def number(value: Any) -> str:
    """An answer as text: 6 significant digits (the tolerance does the rest)."""
    return f"{float(value):.6g}"


def show(value: Any, digits: int = 4) -> str:
    """A number in a prompt: short, and what the student will type in."""
    value = float(value)
    if value == int(value) and abs(value) < 1e12:
        return str(int(value))
    return f"{value:.{digits}g}"


def shown(value: Any, digits: int = 4) -> float:
    """The number `show` prints, read back: what a student computes from, and so what a
    template records in Question.drawn for a value it rounds in the prompt."""
    return float(show(value, digits))


def vector(values: Iterable[Any], digits: int = 4) -> str:
    """A list in a prompt, as a Python-style literal: [0.1, -0.3]."""
    return "[" + ", ".join(show(v, digits) for v in values) + "]"


def matrix(rows: Iterable[Iterable[Any]], digits: int = 4) -> str:
    return "[" + ", ".join(vector(row, digits) for row in rows) + "]"


def grid(rng: random.Random, low: float, high: float, step: float) -> float:
    """A value on a grid (hand-computable), e.g. grid(rng, -2, 2, 0.1)."""
    count = round((high - low) / step)
    return round(low + step * rng.randint(0, count), 10)


def mistake(value: Any, answer: Any, feedback: str, gap: float = 1e-2) -> tuple[Mistake, ...]:
    """A foreseen wrong number with its feedback, only when it really differs from the answer
    (a mistake equal to the answer would be marked right first and teach nothing)."""
    value, answer = float(value), float(answer)
    if abs(value - answer) <= gap * max(1.0, abs(answer)) or value != value:
        return ()
    return (Mistake(number(value), feedback),)


def letter(index: int) -> str:
    return chr(ord("A") + index)


def shuffled_choices(
    rng: random.Random, correct: str, wrong: Sequence[str]
) -> tuple[tuple[str, ...], str]:
    """The right text among the wrong ones in a seeded order; returns (choices, letter)."""
    options = [correct, *wrong]
    order = list(range(len(options)))
    rng.shuffle(order)
    return tuple(options[i] for i in order), letter(order.index(0))


# Mutants that make poor distractors: an "index" shift of a label (p_d -> p_{d-1}, mu_q ->
# mu_{q-1}) and the integer +-1 shifts of sizes (H + 1 for H). Kept where the index is time.
POOR_MUTANTS = ("+ 1 for", "- 1 for", "the sign of 1 flipped", "the sign of -1 flipped")


def mutant_choices(
    rng: random.Random,
    expr: Any,
    render,
    count: int = 3,
    allowed_symbols: Iterable[str] | None = None,
    exclude: Sequence[str] = POOR_MUTANTS,
) -> list[tuple[str, str]]:
    """`count` distractors [(text, what is wrong)] among the mutants of `expr`
    (quizzes.mutations), rendered with `render(expr) -> str`; a mutant whose text is the same
    as the right one's or another distractor's is skipped, and so is one that brings in a
    symbol outside `allowed_symbols` (a label "shifted" to p_{d-1} teaches nothing)."""
    from quizzes.mutations import mutants

    allowed = None
    if allowed_symbols is not None:
        allowed = set(allowed_symbols) | {s.name for s in expr.free_symbols}
    pool = list(mutants(expr))
    rng.shuffle(pool)
    seen = {render(expr)}
    picked: list[tuple[str, str]] = []
    for mutant in pool:
        if any(word in mutant.description for word in exclude):
            continue
        names = {getattr(s, "name", str(s)) for s in mutant.expr.free_symbols}
        if allowed is not None and not names <= allowed:
            continue
        text = render(mutant.expr)
        if text in seen:
            continue
        seen.add(text)
        picked.append((text, mutant.description))
        if len(picked) == count:
            break
    if len(picked) < count:
        raise ValueError(f"only {len(picked)} usable mutants of {expr}")
    return picked


def ordering(rng: random.Random, steps: Sequence[str]) -> tuple[tuple[str, ...], str]:
    """Steps shown in a seeded order that is never already the right one; returns
    (shown steps, answer letters of the right order)."""
    order = list(range(len(steps)))
    while order == sorted(order):
        rng.shuffle(order)
    shown = tuple(steps[i] for i in order)
    answer = " ".join(letter(order.index(i)) for i in range(len(steps)))
    return shown, answer


def derivation_claims(formula_id: str, keep: Sequence[int] | None = None) -> list[str]:
    """The claims of a registry derivation, in the registry's order (optionally a subset)."""
    import formulas

    steps = formulas.get(formula_id).derivation
    claims = [step.claim for step in steps]
    return [claims[i] for i in keep] if keep is not None else claims


def renamed(expr: Any, names: dict[str, str], symbols: dict[str, str]) -> Any:
    """`expr` with its symbols renamed to the question's declared names (and assumptions), so
    that the answer text reads back with `quizzes.parser.parse(text, symbols)`."""
    import sympy as sp

    from quizzes.parser import ASSUMPTIONS

    mapping = {}
    for symbol in expr.free_symbols:
        new = names.get(symbol.name)
        if new is None:
            continue
        assumption = symbols.get(new, "real")
        mapping[symbol] = sp.Symbol(new, **ASSUMPTIONS.get(assumption, {}))
    return expr.xreplace(mapping)


def plain(expr: Any) -> str:
    """A sympy expression in the answer syntax."""
    from quizzes.parser import to_text

    return to_text(expr)


def symbolic_question(
    question_id: str,
    topic: str,
    prompt: str,
    expr: Any,
    symbols: dict[str, str],
    formula_id: str,
    note: str = "",
    mistakes: tuple[Mistake, ...] = (),
    drawn: dict[str, Any] | None = None,
) -> Question:
    """A "closed-form" question: write the registry statement `expr` over `symbols`; the
    explanation is the answer, `note` (text right after it), and the derivation to read.
    `drawn`: the values the prompt states, if it draws any (Question.drawn)."""
    return Question(
        id=question_id,
        topic=topic,
        kind="symbolic",
        prompt=prompt,
        answer=plain(expr),
        explanation=f"{plain(expr)}{note}. See `cheatsheet derive {formula_id}`.",
        formulas=(formula_id,),
        symbols=symbols,
        mistakes=mistakes,
        drawn=dict(drawn or {}),
    )


def mutant_choice_question(
    rng: random.Random,
    question_id: str,
    topic: str,
    prompt: str,
    formula_id: str,
    lhs: str,
    rhs: Any,
    render,
    others: str = "The others have",
    **options: Any,
) -> Question:
    """A "which form is right?" question: `lhs = render(rhs)` among three mutants of `rhs`
    (`options` go to `mutant_choices`); the explanation names what is wrong in each."""
    wrong = mutant_choices(rng, rhs, render, **options)
    choices, answer = shuffled_choices(
        rng, f"{lhs} = {render(rhs)}", [f"{lhs} = {text}" for text, _ in wrong]
    )
    why = {f"{lhs} = {text}": f"That option has {description}." for text, description in wrong}
    return Question(
        id=question_id,
        topic=topic,
        kind="choice",
        prompt=prompt,
        answer=answer,
        explanation=(
            f"{lhs} = {render(rhs)}. {others} "
            + "; ".join(description for _, description in wrong)
            + f". See `cheatsheet derive {formula_id}`."
        ),
        formulas=(formula_id,),
        choices=choices,
        option_reasons=tuple(why.get(choice, "") for choice in choices),
    )


def ordering_question(
    rng: random.Random,
    question_id: str,
    topic: str,
    formula_id: str,
    prompt: str,
    keep: Sequence[int] | None = None,
    note: str = "",
    example: bool = False,
) -> Question:
    """Put the claims of a registry derivation (optionally the steps `keep`, at most 6) in
    order. The question declares the derivation's partial order (quizzes.partial_order): chain
    steps follow each other, a premise comes before the step that uses it, so every valid
    order is accepted. `example` ends the prompt with how to answer (the letters)."""
    import formulas
    from quizzes.partial_order import arrange, closure, derivation_needs

    derivation = formulas.get(formula_id).derivation
    implied = closure(len(derivation), derivation_needs(derivation))
    indices = [i for i in (keep if keep is not None else range(len(derivation)))]
    indices = [i for i in indices if i < len(derivation)]
    if len(indices) > 6:  # a long chain: a window of six consecutive steps
        start = rng.randrange(len(indices) - 5)
        indices = indices[start : start + 6]
    claims = [derivation[i].claim for i in indices]
    needs = {
        k: [j for j in range(k) if (indices[j], indices[k]) in implied] for k in range(len(indices))
    }
    steps, answer, pairs = arrange(rng, claims, needs)
    if not pairs:  # independent premises only: every order would be right
        raise ValueError(f"{formula_id}: steps {indices} do not depend on each other")
    if example:
        prompt += (
            " Answer with the letters in order, e.g. "
            + " ".join(letter(i) for i in reversed(range(len(claims))))
            + "."
        )
    free = len(pairs) < len(claims) * (len(claims) - 1) // 2
    return Question(
        id=question_id,
        topic=topic,
        kind="ordering",
        prompt=prompt
        + (
            " (Where two steps do not depend on each other, either order is right.)" if free else ""
        ),
        answer=answer,
        explanation=(
            "One valid order: "
            + " | ".join(claims)
            + f"{note}. See `cheatsheet derive {formula_id}`."
        ),
        formulas=(formula_id,),
        steps=steps,
        needs=pairs,
    )


def derivation_order_question(
    rng: random.Random,
    question_id: str,
    topic: str,
    orderings: dict[str, tuple[Sequence[int], str]],
) -> Question:
    """A "derivation order" question: one of `orderings` {formula id: (steps kept, prompt)}
    drawn, its registry derivation's claims shown shuffled."""
    formula_id = rng.choice(sorted(orderings))
    keep, prompt = orderings[formula_id]
    return ordering_question(rng, question_id, topic, formula_id, prompt, keep)


def wrong(*pairs: tuple[Any, str], answer: Any, gap: float = 1e-2) -> tuple[Mistake, ...]:
    """Foreseen wrong numbers [(value, feedback)], each kept only when it really differs from
    the answer and from the ones before it (so each one earns its own feedback); `gap` is the
    relative difference that counts (see `_helpers_a.mistake`)."""
    kept: list[Mistake] = []
    seen = [float(answer)]
    for value, feedback in pairs:
        value = float(value)
        if any(not mistake(value, other, "", gap) for other in seen):
            continue
        kept.extend(mistake(value, answer, feedback, gap))
        seen.append(value)
    return tuple(kept)


def numeric(
    question_id: str,
    topic: str,
    prompt: str,
    value: Any,
    explanation: str,
    formulas: Sequence[str],
    *,
    tol: float = 1e-2,
    abs_tol: float = 1e-4,
    exact: bool = False,
    mistakes: tuple[Mistake, ...] = (),
    difficulty: int = 2,
    drawn: dict[str, Any] | None = None,
) -> Question:
    """A numeric question whose answer is `value` (from the registry). Hand computation to 3
    significant digits passes (`tol` relative, so intermediate rounding is forgiven, and a
    small `abs_tol` for answers near 0); `exact` for integers (sizes). `drawn`: the values the
    prompt states, by its names (Question.drawn)."""
    answer = str(int(round(float(value)))) if exact else number(value)
    return Question(
        id=question_id,
        topic=topic,
        kind="numeric",
        prompt=prompt,
        answer=answer,
        explanation=explanation,
        formulas=tuple(formulas),
        difficulty=difficulty,
        abs_tol=0.0 if exact else abs_tol,
        rel_tol=0.0 if exact else tol,
        mistakes=mistakes,
        drawn=dict(drawn or {}),
    )


# --------------------------------------------------------------------------------------------
# Degenerate draws: a numeric variant whose answer is a structural 0, or a number the prompt
# already prints, teaches nothing; the guard draws again from the same seeded stream.

_PROMPT_NUMBER = re.compile(r"(?<![\w.^])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])")
REDRAWS = 40


def prompt_numbers(prompt: str) -> list[float]:
    """Every number printed in a prompt (indices and sizes included)."""
    return [float(text) for text in _PROMPT_NUMBER.findall(prompt)]


def degenerate(question: Question, allow_zero: bool = False) -> str | None:
    """Why a drawn numeric question is not worth asking (None when it is): its answer is 0
    (unless `allow_zero`: a 0 that the question tests, such as the gradient a max-pool routes
    past a cell), or a non-integer answer that the prompt prints (within 0.2 %)."""
    if question.kind == "multipart":  # every numeric part, against the whole problem's text
        for index, piece in enumerate(question.parts):
            if piece.kind == "numeric":
                why = degenerate(replace(piece, prompt=question.prompt), allow_zero)
                if why is not None:
                    return f"part {chr(ord('a') + index)}: {why}"
        return None
    if question.kind != "numeric":
        return None
    answer = float(question.answer)
    if answer == 0:
        return None if allow_zero else "the answer is 0"
    if answer != int(answer):
        for shown in prompt_numbers(question.prompt):
            if abs(shown - answer) <= 2e-3 * abs(answer):
                return f"the answer {question.answer} is printed in the prompt"
    return None


def guard_module(module: str, allow_zero: Iterable[str] = ()) -> None:
    """Wrap every numeric template of `module` so that a degenerate draw is drawn again
    (from the same seeded rng, so a variant id still names one question)."""
    import functools

    from quizzes.questions import TEMPLATES

    zero_ok = set(allow_zero)
    for template_id, template in list(TEMPLATES.items()):
        if template.make.__module__ != module or template.kind not in ("numeric", "multipart"):
            continue
        if getattr(template.make, "guarded", False):
            continue

        def make(rng, question_id, _make=template.make, _zero=template_id in zero_ok):
            question = _make(rng, question_id)
            for _ in range(REDRAWS):
                if degenerate(question, _zero) is None:
                    break
                question = _make(rng, question_id)
            return question

        functools.update_wrapper(make, template.make)
        make.guarded = True
        TEMPLATES[template_id] = replace(template, make=make)


# --------------------------------------------------------------------------------------------
# Parts of multipart problems (quizzes.multipart.problem assembles them)


def part(kind: str, prompt: str, answer: Any, explanation: str, **fields: Any) -> Question:
    """One part of a multipart problem; numeric answers as 6 significant digits, marked by
    `numeric_rule` (default: 3 significant figures)."""
    if kind == "numeric":
        answer = number(answer)
        fields.setdefault("numeric_rule", "sigfigs:3")
    return Question(
        id="",
        topic="",
        kind=kind,
        prompt=prompt,
        answer=str(answer),
        explanation=explanation,
        **fields,
    )


def choice_part(
    rng: random.Random,
    prompt: str,
    right: str,
    wrong: dict[str, str],
    explanation: str,
    drawn: dict[str, Any] | None = None,
) -> Question:
    """A "which is right and why" part: `right` among `wrong` {option: why it is wrong};
    `drawn`: the values its prompt states (Question.drawn)."""
    choices, answer = shuffled_choices(rng, right, list(wrong))
    reasons = tuple("" if text == right else wrong[text] for text in choices)
    return Question(
        id="",
        topic="",
        kind="choice",
        prompt=prompt,
        answer=answer,
        explanation=explanation,
        choices=choices,
        option_reasons=reasons,
        drawn=dict(drawn or {}),
    )
