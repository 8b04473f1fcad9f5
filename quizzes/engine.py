"""The quiz engine: marking one answer, and running a session of questions.

    from quizzes.engine import mark
    result = mark(question, "sqrt(abar_t)*x_0")   # AnswerError if it cannot be read
    result.correct, result.feedback, result.method

`mark` is the one place that decides right or wrong, for every kind; `run_session` asks the
questions (from a terminal or from lines of a file/stdin: the same loop), marks each answer,
records it in the store in its own transaction and reports it (people: rich text; scripts: one
JSON object per question). Validation comes before marking: an unreadable answer is shown back
and re-asked at a terminal, and never recorded as wrong.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from formulas.errors import CheatsheetError
from quizzes.parser import AnswerError
from quizzes.questions import (
    Mistake,
    Question,
    effective_numeric_rule,
    letters,
    numeric_rule_text,
    parse_numeric_rule,
    rule_stated_in,
)

FAST_SECONDS = 8.0  # a right answer quicker than this is Easy
SLOW_SECONDS = 60.0  # a right answer slower than this is Hard
RATINGS = {"again": 1, "hard": 2, "good": 3, "easy": 4}
RATING_PROMPT = (
    "✓ right. How well did you know it? 1 again · 2 hard · 3 good · 4 easy [Enter=good] "
)


@dataclass
class Result:
    id: str
    topic: str
    kind: str
    prompt: str
    given: str
    expected: str
    correct: bool
    feedback: str
    explanation: str = ""
    formulas: tuple[str, ...] = ()
    method: str | None = None  # symbolic | numeric | exact | tolerance
    card_id: str = ""
    valid: bool = True
    seconds: float | None = None
    rating: str | None = None
    options: tuple[str, ...] = ()  # the choices (or steps) in the order shown
    symbols: tuple[str, ...] = ()  # the names the answer may use
    numeric_rule: str | None = None  # how a numeric answer was marked ("sigfigs:3")
    hints: int = 0  # hints revealed before answering (a hinted answer is Hard at most)
    blank: str | None = None  # an exam question left without an answer, and why
    due: str | None = None  # when this card comes back (spaced repetition), once recorded
    parts: list[dict[str, Any]] = field(default_factory=list)  # multipart: each part's verdict

    def to_json(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["formulas"] = list(self.formulas)
        payload["options"] = list(self.options)
        payload["symbols"] = list(self.symbols)
        return payload


_preload: threading.Thread | None = None


def preload_sympy() -> None:
    """Import sympy in the background so the first symbolic answer does not wait for it."""
    global _preload

    def load() -> None:
        import sympy  # noqa: F401

        import quizzes.equivalence  # noqa: F401

    if _preload is None:
        _preload = threading.Thread(target=load, name="preload-sympy", daemon=True)
        _preload.start()


_warmers: list[threading.Thread] = []


def warm(question: Question) -> None:
    """While the student reads a symbolic question, parse its answer and build its mutants in
    the background (the input() wait releases the GIL), so marking does not pay for them."""
    if question.kind != "symbolic":
        return

    def build() -> None:
        from quizzes.mutations import mutants

        with contextlib.suppress(Exception):  # a bad bank answer is reported when marked
            mutants(expected_expr(question))

    _warmers[:] = [thread for thread in _warmers if thread.is_alive()]
    thread = threading.Thread(target=build, name=f"warm-{question.id}", daemon=True)
    _warmers.append(thread)
    thread.start()


def finish_preload(timeout: float = 5.0) -> None:
    """Wait for the background work before the process exits: an interpreter shutting down
    under a half-done import (Ctrl-C right after the first question) can crash noisily."""
    for thread in [_preload, *_warmers]:
        if thread is not None and thread.is_alive():
            thread.join(timeout)


# --------------------------------------------------------------------------------------------
# Rendering what was expected


def expected_text(question: Question) -> str:
    if question.kind in ("choice", "spot-error") and question.choices:
        index = ord(question.answer.upper()) - ord("A")
        if 0 <= index < len(question.choices):
            return f"{question.answer.upper()}) {question.choices[index]}"
    return question.answer


def stated_prompt(question: Question) -> str:
    """The prompt with how a numeric answer is marked ("... (to 3 significant figures)"),
    unless the prompt already says it."""
    if question.kind != "numeric":
        return question.prompt
    rule = effective_numeric_rule(question)
    if numeric_rule_text(rule) in question.prompt or rule_stated_in(question.prompt) == rule:
        return question.prompt
    phrase = numeric_rule_text(rule)
    return f"{question.prompt} ({phrase})"


def shuffle_options(question: Question, rng: Any) -> Question:
    """The choice question with its options in a new order drawn from `rng` (the answer letter,
    the reasons and the letter-keyed foreseen mistakes follow their options)."""
    from dataclasses import replace

    count = len(question.choices)
    if question.kind != "choice" or count < 2:
        return question
    order = list(range(count))
    rng.shuffle(order)
    names = letters(count)
    new_letter = {names[old]: names[new] for new, old in enumerate(order)}
    reasons = question.option_reasons
    return replace(
        question,
        choices=tuple(question.choices[old] for old in order),
        answer=new_letter.get(question.answer.strip().upper(), question.answer),
        option_reasons=(tuple(reasons[old] for old in order) if len(reasons) == count else reasons),
        mistakes=tuple(
            Mistake(new_letter.get(m.answer.strip().upper(), m.answer), m.feedback)
            for m in question.mistakes
        ),
    )


def prepare(question: Question, rng: Any | None = None) -> Question:
    """The question as asked in a session: the numeric rule stated in the prompt, and (with an
    rng) the options of a choice question in a fresh order for this attempt."""
    from dataclasses import replace

    if rng is not None:
        question = shuffle_options(question, rng)
    prompt = stated_prompt(question)
    return question if prompt == question.prompt else replace(question, prompt=prompt)


# --------------------------------------------------------------------------------------------
# Marking, one kind at a time


def mark(question: Question, text: str, seed: int = 0, explain: bool = True) -> Result:
    """Right or wrong, with feedback; raises AnswerError (not wrong) if `text` cannot be read.

    `explain=False` skips the search for which foreseen mistake or mutant a wrong symbolic
    answer matches (bank check marks many mutants and only needs right/wrong)."""
    given = text.strip()
    if not given:
        raise AnswerError("empty answer")
    marker = _MARKERS.get(question.kind)
    if marker is None:
        raise ValueError(f"{question.id}: unknown kind {question.kind}")
    correct, feedback, method = marker(question, given, seed, explain)
    return Result(
        id=question.id,
        topic=question.topic,
        kind=question.kind,
        prompt=stated_prompt(question),
        given=given,
        expected=expected_text(question),
        correct=correct,
        feedback=feedback,
        explanation=question.explanation,
        formulas=tuple(question.formulas),
        method=method,
        card_id=question.card_id,
        **_shown(question),
    )


def _shown(question: Question) -> dict[str, Any]:
    """The Result fields that tell a script what the student saw."""
    return {
        "options": tuple(question.options),
        "symbols": tuple(question.symbol_names),
        "numeric_rule": effective_numeric_rule(question) if question.kind == "numeric" else None,
    }


_EXPECTED_CACHE: dict[tuple[str, str, tuple], Any] = {}


def expected_expr(question: Question) -> Any:
    """The author's answer as sympy (cached); a bank error if the author's text is unreadable."""
    from quizzes.parser import parse

    key = (question.id, question.answer, tuple(sorted(question.symbols.items())))
    if key not in _EXPECTED_CACHE:
        try:
            _EXPECTED_CACHE[key] = parse(question.answer, question.symbols)
        except AnswerError as error:
            raise ValueError(f"{question.id}: its own answer does not parse: {error}") from None
    return _EXPECTED_CACHE[key]


_SYMBOLS_CACHE: dict[tuple, dict[str, str]] = {}


def answer_symbols(question: Question) -> dict[str, str]:
    """The declared symbols plus the names the author's foreseen mistakes use (alpha_t in a
    question about abar_t), so that typing such a mistake earns its feedback, not a re-prompt.
    An added name takes the assumption of the declared name it is closest to."""
    from quizzes.parser import FUNCTIONS, normalize, symbol_table, tokenize

    key = (question.id, tuple(sorted(question.symbols.items())), question.mistakes)
    if key in _SYMBOLS_CACHE:
        return _SYMBOLS_CACHE[key]
    symbols = dict(question.symbols)
    table = symbol_table(question.symbols)
    for mistake in question.mistakes:
        try:
            tokens = tokenize(normalize(mistake.answer))
        except AnswerError:
            continue
        for token in tokens:
            name = token.text
            if token.kind != "name" or name in FUNCTIONS or name in ("pi", "e", "oo"):
                continue
            if table.resolve(name) is None and name not in symbols:
                near = table.suggestions(name)
                symbols[name] = question.symbols[near[0]] if near else "real"
    _SYMBOLS_CACHE[key] = symbols
    return symbols


def _mark_symbolic(
    question: Question, given: str, seed: int, explain: bool = True
) -> tuple[bool, str, str]:
    from quizzes.equivalence import equivalent, kind_mismatch, numeric_compare
    from quizzes.parser import parse

    symbols = answer_symbols(question)
    expression = parse(given, symbols)
    expected = expected_expr(question)
    from quizzes.equivalence import question_domain

    mismatch = kind_mismatch(expression, expected)
    if mismatch is not None:  # a matrix for a number (or back): wrong, whatever its entries
        return False, f"Not equivalent: {mismatch}.", "symbolic"
    where = question_domain(question, symbols)  # identities and constraints it declares
    verdict = equivalent(expression, expected, symbols, seed=seed, where=where)
    how = "proved symbolically" if verdict.method == "symbolic" else "checked numerically"
    if verdict.equal:
        return True, f"Correct ({how}: {verdict.detail}).", verdict.method
    if not explain:
        return False, f"Not equivalent ({how}: {verdict.detail}).", verdict.method
    for mistake in question.mistakes:
        try:
            foreseen = parse(mistake.answer, symbols)
        except AnswerError:
            continue
        if numeric_compare(expression, foreseen, symbols, seed=seed, where=where).equal:
            return False, f"Not quite: {mistake.feedback}", verdict.method
    from quizzes.mutations import mutants  # only a wrong answer needs them

    for mutant in mutants(expected):
        close = numeric_compare(expression, mutant.expr, symbols, seed=seed, points=3, where=where)
        if close.equal:
            return (
                False,
                f"Close, but {mutant.description} ({how}: {verdict.detail}).",
                verdict.method,
            )
    return False, f"Not equivalent ({how}: {verdict.detail}).", verdict.method


def read_number(text: str) -> float:
    """A number typed as 0.25, 1/4, 2.5e-3, sqrt(2)/2 or pi/4 (parsed, never evaluated)."""
    try:
        return float(text)
    except ValueError:
        pass
    import sympy as sp

    from quizzes.parser import parse

    value = parse(text, {})
    if value.free_symbols:
        raise AnswerError("a number is expected here")
    number = sp.N(value, 20)
    if not number.is_real:
        raise AnswerError("a real number is expected here")
    return float(number)


def _decimal(text: str) -> Decimal | None:
    """The typed number exactly as written (0.37 stays 0.37), or None if it is no plain
    decimal (1/4, sqrt(2)/2 are read by read_number and converted from their float)."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _as_decimal(text: str) -> Decimal:
    exact = _decimal(text)
    if exact is not None:
        return exact
    value = read_number(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise AnswerError("a finite number is expected here")
    return Decimal(repr(value))


def rounded(number: Decimal, rule: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """`number` rounded as a sigfigs:N or decimals:N rule says."""
    name, digits = parse_numeric_rule(rule)
    if name == "decimals":
        return number.quantize(Decimal(1).scaleb(-int(digits)), rounding=rounding)
    if number == 0:
        return number
    exponent = number.adjusted() - int(digits) + 1
    result = number.quantize(Decimal(1).scaleb(exponent), rounding=rounding)
    if result.adjusted() > number.adjusted():  # 9.996 -> 10.0: one digit fewer after the point
        result = result.quantize(Decimal(1).scaleb(exponent + 1), rounding=rounding)
    return result


def meets_rule(given: Decimal, target: Decimal, rule: str) -> bool:
    """Exactly the stated rule: both rounded to N significant figures (or N decimals) agree,
    or the gap is within the relative/absolute tolerance. A target that is an exact tie
    (0.125 to 2 figures) accepts either neighbour."""
    name, value = parse_numeric_rule(rule)
    if name in ("sigfigs", "decimals"):
        mine = rounded(given, rule)
        return any(mine == rounded(target, rule, mode) for mode in (ROUND_HALF_UP, ROUND_HALF_DOWN))
    gap = abs(given - target)
    if name == "rel":
        return gap <= Decimal(repr(value)) * abs(target)
    return gap <= Decimal(repr(value))


def _mark_numeric(
    question: Question, given: str, seed: int, explain: bool = True
) -> tuple[bool, str, str]:
    rule = effective_numeric_rule(question)
    number = _as_decimal(given)
    target = _as_decimal(question.answer)
    phrase = numeric_rule_text(rule)
    if meets_rule(number, target, rule):
        return True, f"Correct ({phrase}).", rule.partition(":")[0]
    method = rule.partition(":")[0]
    for mistake in question.mistakes:
        try:
            if meets_rule(number, _as_decimal(mistake.answer), rule):
                return False, f"Not quite: {mistake.feedback}", method
        except (AnswerError, ValueError):
            continue
    if method in ("sigfigs", "decimals") and rounded(target, rule) != target:
        wanted = f"{question.answer} is {rounded(target, rule)} {phrase}"
    else:
        wanted = f"the answer is {question.answer}, {phrase}"
    hint = ""
    loose = "rel:0.02" if target else "abs:1e-9"
    if target and meets_rule(-number, target, loose):
        hint = " The sign is flipped."
    elif target and (
        meets_rule(number * 2, target, loose) or meets_rule(number / 2, target, loose)
    ):
        hint = " Off by a factor 2 (a missing 1/2, or one too many)."
    elif meets_rule(number, target, loose) and method in ("sigfigs", "decimals"):
        typed = _decimal(given)
        shown = rounded(target, rule)
        if typed is not None and typed.as_tuple().exponent > shown.as_tuple().exponent:
            hint = f" Close: give {phrase.removeprefix('to ')}."
        else:
            hint = " Close: round the unrounded value once, at the end."
    elif meets_rule(number, target, loose):
        hint = " Close, but outside the tolerance."
    return False, f"Wrong: {given} is not it ({wanted}).{hint}", method


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _letter(question: Question, given: str, count: int) -> str:
    """The option chosen: a letter in either case ("b", "(B)", "B."; a lone letter is always
    read as a letter), the option's full text, or both as `expected` prints them ("B) the
    noise eps"): then the text decides, so an answer copied from a shuffled attempt still
    names the same option."""
    names = letters(count)
    text = given.strip()
    # A lone letter is a letter first, even where an option's text is that letter ("a").
    lone = re.fullmatch(r"\(?([A-Za-z])[).]?", text)
    if lone and lone.group(1).upper() in names:
        return lone.group(1).upper()
    for index, option in enumerate(question.choices):
        if _same_text(text, option):
            return names[index]
    labelled = re.fullmatch(r"\(?([A-Za-z])[).:]\s*(.+)", text, flags=re.DOTALL)
    if labelled:
        for index, option in enumerate(question.choices):
            if _same_text(labelled.group(2), option):
                return names[index]
    match = re.fullmatch(r"\(?([A-Za-z])[).]?", text)
    if not match or match.group(1).upper() not in names:
        raise AnswerError(
            f"answer with one letter, {names[0]} to {names[-1]} (or the option's text)"
        )
    return match.group(1).upper()


def _mark_choice(
    question: Question, given: str, seed: int, explain: bool = True
) -> tuple[bool, str, str]:
    letter = _letter(question, given, len(question.choices))
    if letter == question.answer.upper():
        return True, "Correct.", "exact"
    index = ord(letter) - ord("A")
    reason = question.option_reason(index)
    for mistake in question.mistakes:
        if mistake.answer.strip().upper() == letter:
            return False, f"Not quite: {mistake.feedback}", "exact"
    if question.kind == "spot-error":
        because = f" ({reason})" if reason else ""
        return (
            False,
            f"Line {letter} is right as it stands{because}; the error is elsewhere.",
            "exact",
        )
    if reason:
        return False, f"Wrong: {letter}) {question.choices[index]}: {reason}", "exact"
    return False, f"Wrong: {letter} is not it.", "exact"


TRUE_WORDS = {"true", "t", "yes", "y", "1", "wahr", "richtig"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "falsch"}


def _mark_truefalse(
    question: Question, given: str, seed: int, explain: bool = True
) -> tuple[bool, str, str]:
    word = given.strip().lower()
    if word in TRUE_WORDS:
        value = "true"
    elif word in FALSE_WORDS:
        value = "false"
    else:
        raise AnswerError("answer true or false")
    if value == question.answer:
        return True, "Correct.", "exact"
    for mistake in question.mistakes:
        if mistake.answer.strip().lower() == value:
            return False, f"Not quite: {mistake.feedback}", "exact"
    return False, f"Wrong: the statement is {question.answer}.", "exact"


def _mark_ordering(
    question: Question, given: str, seed: int, explain: bool = True
) -> tuple[bool, str, str]:
    names = letters(len(question.steps))
    parts = re.findall(r"[A-Za-z]", given.upper())
    if sorted(parts) != names or re.search(r"[^A-Za-z\s,;>-]", given):
        raise AnswerError(
            f"give every letter {' '.join(names)} once, in order, e.g. {' '.join(reversed(names))}"
        )
    expected = question.answer.split()
    from quizzes.partial_order import accepts

    if accepts(question, parts):  # any order that respects the declared partial order
        return True, "Correct.", "exact"
    placed = sum(a == b for a, b in zip(parts, expected))
    for mistake in question.mistakes:
        if re.findall(r"[A-Za-z]", mistake.answer.upper()) == parts:
            return False, f"Not quite: {mistake.feedback}", "exact"
    return False, f"Wrong order: {placed} of {len(expected)} steps in place.", "exact"


def _mark_multipart(
    question: Question, given: str, seed: int, explain: bool = True
) -> tuple[bool, str, str]:
    from quizzes.multipart import mark_parts

    return mark_parts(question, given, seed, explain)


_MARKERS: dict[str, Callable[[Question, str, int, bool], tuple[bool, str, str]]] = {
    "symbolic": _mark_symbolic,
    "numeric": _mark_numeric,
    "choice": _mark_choice,
    "spot-error": _mark_choice,
    "truefalse": _mark_truefalse,
    "ordering": _mark_ordering,
    "multipart": _mark_multipart,
}


def invalid_result(question: Question, given: str, error: Exception) -> Result:
    """An answer that could not be read (non-interactive runs): reported, never recorded."""
    return Result(
        id=question.id,
        topic=question.topic,
        kind=question.kind,
        prompt=question.prompt,
        given=given,
        expected=expected_text(question),
        correct=False,
        feedback=f"invalid answer: {error}",
        explanation=question.explanation,
        formulas=tuple(question.formulas),
        card_id=question.card_id,
        valid=False,
        **_shown(question),
    )


def perturbed_answer(question: Question) -> str:
    """A wrong answer of the right form (tests and `bank check`): the answer, nudged."""
    if question.kind == "numeric":
        target = float(question.answer)
        step = max(10 * question.abs_tol, 10 * question.rel_tol * abs(target), 1e-3)
        return repr(target + step + 1.0 + abs(target))
    if question.kind == "symbolic":
        return f"({question.answer}) + 1"
    if question.kind in ("choice", "spot-error"):
        names = letters(len(question.choices))
        return next(name for name in names if name != question.answer.upper())
    if question.kind == "truefalse":
        return "false" if question.answer == "true" else "true"
    if question.kind == "multipart":  # the last part wrong
        answers = [part.answer for part in question.parts[:-1]]
        answers.append(perturbed_answer(question.parts[-1]))
        return " ;; ".join(answers)
    if question.kind == "ordering":
        # reversed: wrong for every partial order with at least one "needs" (swapping the first
        # two steps may be another valid order)
        return " ".join(reversed(question.answer.split()))
    raise ValueError(question.kind)


# --------------------------------------------------------------------------------------------
# Ratings for spaced repetition


def rating_for(correct: bool, seconds: float | None, hints: int = 0) -> str:
    """wrong -> again; right: fast -> easy, slow -> hard, else good (no timing -> good);
    a right answer after a hint is Hard at most."""
    if not correct:
        return "again"
    if seconds is None:
        rating = "good"
    elif seconds < FAST_SECONDS:
        rating = "easy"
    elif seconds > SLOW_SECONDS:
        rating = "hard"
    else:
        rating = "good"
    return cap_rating(rating, hints)


def cap_rating(rating: str, hints: int) -> str:
    """Hard at most once a hint was shown: the card must come back sooner than a free recall."""
    if hints and RATINGS[rating] > RATINGS["hard"]:
        return "hard"
    return rating


# What the answer prompt understands besides answers (the same at a terminal and in a pipe).
SKIP_WORDS = ("?", ":skip", ":?")
HINT_WORDS = ("h", ":h", ":hint")
PROMPT_HELP = "answer, or ? to skip, h for a hint (Ctrl-C stops; every answer is saved)"
EXAM_HELP = "answer, or ? to leave it blank (graded at the end; Ctrl-C stops)"


def h_is_an_answer(question: Question) -> bool:
    """A question where a bare `h` is a real answer (a symbol h, or a choice H): then only
    `:h` asks for a hint."""
    if question.kind in ("choice", "spot-error"):
        return len(question.choices) >= 8
    if question.kind == "ordering":
        return len(question.steps) >= 8
    return question.kind == "symbolic" and "h" in question.symbols


def blank_result(question: Question, reason: str) -> Result:
    """A question of an exam with no answer (skipped, not reached, or typed too late): wrong."""
    return Result(
        id=question.id,
        topic=question.topic,
        kind=question.kind,
        prompt=stated_prompt(question),
        given="",
        expected=expected_text(question),
        correct=False,
        feedback=f"no answer ({reason})",
        explanation=question.explanation,
        formulas=tuple(question.formulas),
        card_id=question.card_id,
        rating="again",
        blank=reason,
        **_shown(question),
    )


# --------------------------------------------------------------------------------------------
# Sessions


class AnswersExhausted(Exception):
    """The answer file/stdin ran out before the questions did."""


class TimeUp(Exception):
    """The exam's time ran out while the student was typing (raised by the alarm)."""


@contextlib.contextmanager
def alarm_at(deadline: float | None, clock: Callable[[], float]) -> Iterator[None]:
    """Interrupt a waiting prompt with TimeUp when the deadline passes (main thread, POSIX);
    elsewhere the clock is still checked when the answer arrives."""
    import signal

    usable = (
        deadline is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def ring(signum: int, frame: Any) -> None:
        raise TimeUp

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(0.01, deadline - clock()))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Session:
    """Asks `picks` in order. `read(prompt)` returns the next answer line (raises EOFError at the
    end); `interactive` decides whether unreadable answers are re-asked; `store` (optional)
    records each answer; `show(event, payload)` reports to the user.

    Events: question, hint, invalid, skipped, broken, result (quiz/review), recorded and late
    (exam), timeup. In an exam (`exam=True`) every question counts: one not answered (skipped,
    not reached before the deadline, or typed after it) is a blank, marked wrong; nothing is
    marked aloud until the end; no hints. `rng` shuffles each choice question's options."""

    picks: list[Any]
    read: Callable[[str], str]
    show: Callable[[str, dict[str, Any]], None]
    interactive: bool
    store: Any = None
    session_id: str | None = None
    deadline: float | None = None  # clock() value after which no answer counts
    ask_rating: bool = False
    exam: bool = False
    rng: Any = None
    clock: Callable[[], float] = time.monotonic
    results: list[Result] = field(default_factory=list)
    stopped: str | None = None
    facts: set[str] = field(default_factory=set)  # facts asked so far (quizzes.repetition)

    def _time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def run(self) -> list[Result]:
        total = len(self.picks)
        for number, pick in enumerate(self.picks, 1):
            try:
                question = pick.question() if hasattr(pick, "question") else pick
            except CheatsheetError as error:  # a broken template costs one question, not the quiz
                self.show("broken", {"message": str(error)})
                continue
            from quizzes.repetition import fresh

            question = fresh(pick, question, self.facts)  # one form of each fact per session
            if question is None:
                continue
            question = prepare(question, self.rng)
            if self.stopped is not None:
                if self.exam:  # not reached: a blank that counts
                    self.results.append(blank_result(question, self.stopped))
                    continue
                break
            left = self._time_left()
            if left is not None and left <= 0:
                self.stopped = "time is up"
                self.show("timeup", {})
                if self.exam:
                    self.results.append(blank_result(question, self.stopped))
                    continue
                break
            payload: dict[str, Any] = {"number": number, "total": total, "question": question}
            payload["help"] = EXAM_HELP if self.exam else PROMPT_HELP
            if h_is_an_answer(question) and not self.exam:
                payload["help"] += "; here h is an answer, :h asks for a hint"
            if left is not None:
                payload["remaining"] = max(0.0, left)
            self.show("question", payload)
            if number == 1:
                preload_sympy()
            if self.interactive:
                warm(question)
            try:
                if question.kind == "multipart":  # its parts, one answer each
                    from quizzes.multipart import ask_parts

                    result = ask_parts(self, question)
                else:
                    result = self._answer(question)
            except AnswersExhausted:
                self.stopped = "no more answers"
                if self.exam:
                    self.results.append(blank_result(question, self.stopped))
                    continue
                break
            if result is None:
                self.show("skipped", {"question": question})
                continue
            self.results.append(result)
            if result.blank is not None and result.blank != "skipped":
                continue  # too late or out of time: refused, not recorded
            if result.valid and self.store is not None:
                state = self.store.record(result, session=self.session_id)
                if state is not None:
                    result.due = state.due.isoformat(timespec="minutes")
            if self.exam:
                self.show("recorded", {"result": result, "question": question})
            else:
                self.show("result", {"result": result, "question": question})
        return self.results

    def _answer(self, question: Question) -> Result | None:
        from quizzes.hints import HintDealer

        dealer = HintDealer(question)
        hint_words = HINT_WORDS[1:] if h_is_an_answer(question) else HINT_WORDS
        while True:
            started = self.clock()
            try:
                with alarm_at(self.deadline if self.interactive else None, self.clock):
                    text = self.read("> ")
            except EOFError:
                raise AnswersExhausted from None
            except TimeUp:
                self.stopped = "time is up"
                self.show("timeup", {})
                return blank_result(question, self.stopped)
            seconds = self.clock() - started
            left = self._time_left()
            if left is not None and left < 0:
                # The clock is read when the answer arrives: an answer after the deadline
                # does not count, however it got there.
                self.stopped = "time is up"
                self.show("late", {"seconds": -left, "given": text.strip()})
                return blank_result(question, "typed after time was up")
            word = text.strip().lower()
            if word in SKIP_WORDS:
                return blank_result(question, "skipped") if self.exam else None
            if word in hint_words:
                if self.exam:
                    self.show("invalid", {"message": "no hints in an exam"})
                    continue
                hint = dealer.next()
                self.show("hint", {"text": hint, "number": dealer.shown})
                continue
            try:
                result = mark(question, text)
            except AnswerError as error:
                if self.interactive:
                    self.show("invalid", {"message": str(error)})
                    continue
                result = invalid_result(question, text.strip(), error)
                result.hints = dealer.shown
                return result
            result.hints = dealer.shown
            result.seconds = round(seconds, 2) if self.interactive else None
            result.rating = rating_for(result.correct, result.seconds, dealer.shown)
            if self.ask_rating and self.interactive and result.correct and not self.exam:
                result.rating = cap_rating(self._ask_rating(), dealer.shown)
            return result

    def _ask_rating(self) -> str:
        """Again/Hard/Good/Easy after a right answer, as Anki asks: keys 1-4, Enter = Good."""
        names = list(RATINGS)
        while True:
            try:
                text = self.read(RATING_PROMPT)
            except EOFError:
                return "good"
            text = text.strip().lower()
            if not text:
                return "good"
            if text in ("1", "2", "3", "4"):
                return names[int(text) - 1]
            for name in names:
                if name.startswith(text):
                    return name
            self.show("invalid", {"message": "press 1, 2, 3 or 4 (or Enter for good)"})


def lines_reader(stream: Any) -> Callable[[str], str]:
    """Answers from a file or a pipe, one per line; EOFError at the end."""
    iterator: Iterator[str] = iter(stream)

    def read(prompt: str) -> str:
        try:
            return next(iterator).rstrip("\n").rstrip("\r")
        except StopIteration:
            raise EOFError from None

    return read


HISTORY_LENGTH = 500


def terminal_reader(history_file: Any = None) -> Callable[[str], str]:
    """Answers typed at a terminal, with line editing (arrow keys, Ctrl-A/E, ...) and the
    history of earlier answers (Up) from the standard library's readline; the history is kept
    in `history_file` between sessions when given."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input()
        readline = None
    if readline is not None:
        readline.set_history_length(HISTORY_LENGTH)
        with contextlib.suppress(AttributeError):
            readline.set_auto_history(True)
        if history_file is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(str(history_file))

    def read(prompt: str) -> str:
        sys.stdout.flush()
        text = input(prompt)
        if readline is not None and history_file is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(str(history_file))
        return text

    return read
