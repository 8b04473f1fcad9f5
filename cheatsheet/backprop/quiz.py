"""--quiz (one hidden block or entry) and --drill (the backward pass node by node).

Answers are numbers typed by the student: "3", "-0.25", "1/6", or a whole matrix row-major
("1 0 -1; 2 0 1"). They are parsed with `fractions.Fraction`, never evaluated. A wrong answer is
compared with the wrong answers foreseen for that block (a missing or unrotated chain-rule
factor, a flipped sign, a transpose) so the feedback can say which factor went wrong.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from cheatsheet.backprop import review
from cheatsheet.backprop.core import Block, Mistake, WorkedExample, fmt_number, to_float

# Hand-computed answers: the printed 4 decimals, with room for rounding intermediate values.
ANSWER_ABS_TOL = 1e-3
ANSWER_REL_TOL = 2e-2

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?:/\d+)?")


class AnswerError(ValueError):
    """The answer text is not a list of numbers (shown back; costs nothing)."""


def parse_answer(text: str) -> list[float]:
    """Numbers separated by spaces, commas, semicolons or brackets; fractions like 1/6 allowed."""
    stripped = re.sub(r"[\s,;\[\]()]+", " ", text).strip()
    if not stripped:
        raise AnswerError("empty answer")
    values = []
    for token in stripped.split(" "):
        if not _NUMBER.fullmatch(token):
            raise AnswerError(f"not a number: {token!r}")
        try:
            values.append(float(Fraction(token)))
        except (ValueError, ZeroDivisionError) as error:
            raise AnswerError(f"not a number: {token!r}") from error
    return values


def close(answer: np.ndarray, expected: np.ndarray) -> bool:
    answer, expected = np.asarray(answer, dtype=float), to_float(expected)
    if answer.size != expected.size:
        return False
    return bool(
        np.all(
            np.abs(answer.ravel() - expected.ravel())
            <= np.maximum(ANSWER_ABS_TOL, ANSWER_REL_TOL * np.abs(expected.ravel()))
        )
    )


def diagnose(block: Block, answer: np.ndarray, index: tuple[int, ...] | None = None) -> str:
    """Which chain-rule factor the wrong answer got wrong, as far as we can tell."""
    expected = to_float(block.tensor)
    candidates: list[Mistake] = list(block.mistakes)
    candidates.append(Mistake(-expected, "the sign is flipped"))
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1]:
        candidates.append(Mistake(expected.T, "this is the transpose"))
    target = expected if index is None else expected[index]
    for mistake in candidates:
        wrong = to_float(mistake.value)
        if index is not None:
            if wrong.shape != expected.shape:
                continue
            wrong = wrong[index]
        if close(answer, wrong) and not close(answer, target):
            return mistake.feedback
    if np.size(target) != answer.size:
        return f"expected {np.size(target)} numbers (shape {np.shape(target)}), got {answer.size}"
    if index is None and expected.size > 1:
        bad = np.flatnonzero(
            np.abs(answer - expected.ravel())
            > np.maximum(ANSWER_ABS_TOL, ANSWER_REL_TOL * np.abs(expected.ravel()))
        )
        where = [np.unravel_index(i, expected.shape) for i in bad[:6]]
        return "wrong entries (0-based): " + ", ".join(str(tuple(int(v) for v in w)) for w in where)
    return "not the value of any foreseen mistake; redo the product of the factors in the rule"


# --------------------------------------------------------------------------- answer sources
class Answers:
    """Where answers come from: a prompt on a terminal, else lines of a file or stdin."""

    def __init__(self, lines: Iterator[str] | None, ask: Callable[[str], str] | None):
        self.lines, self.ask = lines, ask

    def next(self, prompt: str) -> str:
        if self.ask is not None:
            return self.ask(prompt)
        assert self.lines is not None
        for line in self.lines:
            if line.strip() and not line.lstrip().startswith("#"):
                return line.strip()
        raise EOFError(f"no answer given for {prompt}")


@dataclass
class Asked:
    block: str
    index: list[int] | None
    answer: str
    expected: Any
    correct: bool
    feedback: str | None = None
    seconds: float = 0.0
    recorded: bool = False
    card_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Session:
    kind: str
    mode: str
    asked: list[Asked] = field(default_factory=list)

    @property
    def correct(self) -> int:
        return sum(a.correct for a in self.asked)


def _ask(
    example: WorkedExample,
    block: Block,
    index: tuple[int, ...] | None,
    answers: Answers,
    say: Callable[[str], None],
    seed: int,
    session: str | None,
) -> Asked:
    expected = block.tensor if index is None else np.asarray(block.tensor, dtype=object)[index]
    what = block.name if index is None else f"{block.name}{list(index)}"
    shape = np.shape(expected)
    hint = "one number" if shape == () else f"{int(np.prod(shape))} numbers row-major {shape}"
    start = time.monotonic()
    while True:
        text = answers.next(f"{what} = ? ({hint}) ")
        try:
            values = np.array(parse_answer(text))
            break
        except AnswerError as error:
            say(f"[yellow]{error}[/]: type numbers, e.g. 1 0 -1/2")
            if answers.ask is None:
                values = np.array([np.nan])
                break
    seconds = time.monotonic() - start
    right = close(values, expected)
    feedback = None if right else diagnose(block, values, index)
    card = review.card_id(example.kind, block.name)
    recorded = review.record(card, right, seconds, text, seed, session)
    return Asked(
        what,
        list(index) if index is not None else None,
        text,
        _plain(expected, example.exact),
        right,
        feedback,
        seconds,
        recorded,
        card,
    )


def _plain(value: Any, exact: bool) -> Any:
    arr = np.asarray(value, dtype=object)
    if exact:
        return np.vectorize(lambda v: str(Fraction(v)), otypes=[object])(arr).tolist()
    return arr.astype(float).tolist()


def pick(example: WorkedExample, seed: int) -> tuple[Block, tuple[int, ...] | None]:
    """The hidden block: a backward block; one entry of it when it has more than 4 numbers."""
    rng = random.Random(f"backprop-quiz:{example.kind}:{seed}")
    block = rng.choice(example.backward_blocks())
    size = int(np.size(block.tensor))
    if size > 4:
        shape = np.shape(block.tensor)
        return block, tuple(rng.randrange(d) for d in shape)
    return block, None


def quiz(example: WorkedExample, seed: int, answers: Answers, console, quiet: bool) -> Session:
    from cheatsheet.backprop.render import block_view, render

    block, index = pick(example, seed)
    position = example.blocks.index(block)
    say = (lambda m: None) if quiet else console.print
    if not quiet:
        render(example, console, upto=position)
        console.print(
            f"[bold]Quiz:[/] compute [bold]{block.name}"
            f"{list(index) if index else ''}[/]  ({block.rule})"
        )
    sid = review.start_session("quiz", seed)
    asked = _ask(example, block, index, answers, say, seed, sid)
    if not quiet:
        _report(asked, console, example.exact)
        if not asked.correct and index is None:
            console.print(block_view(block, example.exact))
    return Session(example.kind, "quiz", [asked])


def drill(example: WorkedExample, seed: int, answers: Answers, console, quiet: bool) -> Session:
    """Every backward block in order; a wrong one is explained, then the right value is used."""
    from cheatsheet.backprop.render import block_view, render

    say = (lambda m: None) if quiet else console.print
    session = Session(example.kind, "drill")
    sid = review.start_session("drill", seed)
    first = min(example.blocks.index(b) for b in example.backward_blocks())
    if not quiet:
        render(example, console, upto=first)
    for block in example.blocks[first:]:
        if block not in example.backward_blocks():
            if not quiet:
                console.print(block_view(block, example.exact))
            continue
        if not quiet:
            console.print(f"[bold]Next:[/] {block.name}  ({block.rule})")
        asked = _ask(example, block, None, answers, say, seed, sid)
        session.asked.append(asked)
        if not quiet:
            _report(asked, console, example.exact)
            if not asked.correct:
                console.print("continuing from the right value:")
                console.print(block_view(block, example.exact))
    if not quiet:
        console.print(f"drill: {session.correct}/{len(session.asked)} right")
    return session


def _report(asked: Asked, console, exact: bool) -> None:
    if asked.correct:
        console.print(f"[green]right[/]: {asked.block}")
    else:
        console.print(f"[red]wrong[/]: {asked.block}: {asked.feedback}")
        if not isinstance(asked.expected, list):
            console.print(f"the right value: {asked.block} = {fmt_number(asked.expected, exact)}")
