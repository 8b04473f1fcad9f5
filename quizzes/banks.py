"""Loading and validating question banks (`quizzes/banks/<topic>.toml`, format in README.md).

`load_bank(path)` returns the bank's Questions or raises `BankError` naming the file, the line
and the field. `validate_bank(path)` collects every schema problem instead of stopping at the
first (what `cheatsheet bank check` prints). Loading is cheap: tomllib and the registry's
metadata only; proving that each answer parses and is accepted happens in `quizzes.bankcheck`.
"""

from __future__ import annotations

import random
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from formulas.errors import CheatsheetError
from quizzes.questions import KINDS, Mistake, Question, letters, parse_numeric_rule

BANK_DIR = Path(__file__).parent / "banks"
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Topics outside the formula registry that may still have banks and cards.
EXTRA_TOPICS = ("backprop",)

REQUIRED = ("id", "kind", "prompt", "explanation")
OPTIONAL = (
    "answer",
    "formulas",
    "difficulty",
    "tags",
    "symbols",
    "choices",
    "steps",
    "abs_tol",
    "rel_tol",
    "mistakes",
    "topic",
    "rule",
    "reasons",
    "needs",
    "identities",
    "constraints",
    "compute",
    "fact",
)


class BankError(CheatsheetError):
    """A bank that does not follow the format: `file:line: field: what is wrong` (exit 2)."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str
    question: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


def shuffle_steps(
    question_id: str, steps: list[str], needs: dict[int, list[int]] | None = None
) -> tuple[tuple[str, ...], str, tuple[tuple[str, str], ...]]:
    """The steps in the order shown (seeded by the id, so `check` sees the same), the answer
    (the letters of the written order) and the partial order over the shown letters (`needs`
    {step: steps it needs}, 0-based; None: each step needs the one before it)."""
    from quizzes.partial_order import arrange

    return arrange(random.Random(f"order:{question_id}"), steps, needs)


def _check_reasons(reasons, choices, answer, bad) -> None:
    """A hand-written distractor says why it is wrong: `reasons` lists one text per choice,
    aligned with `choices`, "" for the right one."""
    if reasons is None:
        bad("", "a choice question gives the reason each wrong option is wrong: reasons = [...]")
        return
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        bad("reasons", "must be a list of strings, one per choice")
        return
    if len(reasons) != len(choices):
        bad("reasons", f"{len(reasons)} reasons for {len(choices)} choices (one per choice)")
        return
    for letter, reason in zip(letters(len(choices)), reasons):
        if letter != answer and not reason.strip():
            bad("reasons", f"option {letter} is wrong but has no reason")


class _Lines:
    """Line numbers of questions and fields in the raw TOML (tomllib does not keep them)."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.starts = [i + 1 for i, line in enumerate(self.lines) if line.strip() == "[[question]]"]

    def question(self, index: int) -> int:
        return self.starts[index] if index < len(self.starts) else 1

    def field(self, index: int, name: str) -> int:
        start = self.question(index)
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.lines) + 1
        pattern = re.compile(rf"^\s*{re.escape(name)}\s*=")
        for number in range(start, end):
            if pattern.match(self.lines[number - 1]):
                return number
        return start


def _known_formula_ids() -> set[str]:
    import formulas
    from formulas.core import REGISTRY

    # old ids (aliases of renamed formulas) still name their formula
    return {formula.id for formula in formulas.all()} | set(REGISTRY.aliases())


def _known_topics() -> set[str]:
    from formulas.core import TOPICS

    return set(TOPICS) | set(EXTRA_TOPICS)


def validate_bank(path: Path | str, registry: bool = True) -> tuple[list[Question], list[Problem]]:
    """All the questions that are well-formed, and every problem found.

    `registry=False` skips the checks against the formula registry (topic and formula ids
    exist): importing every formula module costs ~50 ms that a quiz's first question should
    not wait for; `bank check` and the tests always run them."""
    from quizzes.parser import ASSUMPTIONS, SPECIAL_ASSUMPTIONS

    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return [], [Problem(name, 0, "", f"cannot read: {error.strerror or error}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or _line_of(str(error))
        return [], [Problem(name, line, "", f"not valid TOML: {str(error).split(' (at')[0]}")]
    lines = _Lines(text)
    problems: list[Problem] = []
    topic = data.get("topic")
    if not isinstance(topic, str):
        problems.append(Problem(name, 1, "topic", "missing (the topic this bank belongs to)"))
        topic = path.stem
    elif topic != path.stem:
        problems.append(Problem(name, 1, "topic", f"'{topic}' must match the file name"))
    if registry and topic not in _known_topics():
        from formulas.core import closest

        near = closest(topic, _known_topics())
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        problems.append(Problem(name, 1, "topic", f"unknown topic '{topic}'{hint}"))
    for key in data:
        if key not in ("topic", "question"):
            problems.append(Problem(name, 1, key, "unknown top-level key (topic, question)"))
    entries = data.get("question", [])
    if not isinstance(entries, list) or not entries:
        problems.append(Problem(name, 1, "question", "no [[question]] entries"))
        return [], problems
    formula_ids = _known_formula_ids() if registry else None
    seen: set[str] = set()
    questions: list[Question] = []
    for index, entry in enumerate(entries):
        before = len(problems)

        def bad(field: str, message: str, entry=entry, index=index) -> None:
            line = lines.field(index, field) if field else lines.question(index)
            qid = entry.get("id") if isinstance(entry.get("id"), str) else None
            problems.append(Problem(name, line, field, message, qid))

        for field in REQUIRED:
            if field not in entry:
                bad("", f"question is missing '{field}'")
        for field in entry:
            if field not in REQUIRED + OPTIONAL:
                from formulas.core import closest

                near = closest(field, REQUIRED + OPTIONAL)
                bad(field, "unknown field" + (f"; did you mean {', '.join(near)}?" if near else ""))
        for field in ("id", "kind", "prompt", "explanation", "answer"):
            if field in entry and not isinstance(entry[field], str):
                bad(field, "must be a string (in quotes)")
        if len(problems) > before:
            continue
        qid, kind = entry["id"], entry["kind"]
        if not ID_PATTERN.match(qid):
            bad("id", f"'{qid}' is not kebab-case (lower-case words joined by '-')")
        if qid in seen:
            bad("id", f"duplicate id '{qid}'")
        seen.add(qid)
        if kind not in KINDS:
            bad("kind", f"unknown kind '{kind}' (one of {', '.join(KINDS)})")
        elif kind == "multipart":
            bad("kind", "multipart problems are generated (quizzes/multipart.py), not banked")
        if entry.get("topic", topic) != topic:
            bad("topic", f"'{entry['topic']}' differs from the bank's topic '{topic}'")
        ids = entry.get("formulas", [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            bad("formulas", "must be a list of registry ids")
            ids = []
        for formula_id in ids if formula_ids is not None else ():
            if formula_id not in formula_ids:
                from formulas.core import closest

                near = closest(formula_id, formula_ids)
                hint = f"; did you mean {', '.join(near)}?" if near else ""
                bad("formulas", f"unknown formula id '{formula_id}'{hint}")
        difficulty = entry.get("difficulty", 2)
        if not isinstance(difficulty, int) or not 1 <= difficulty <= 3:
            bad("difficulty", "must be 1, 2 or 3")
        tags = entry.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            bad("tags", "must be a list of strings")
        for field in ("abs_tol", "rel_tol"):
            if field in entry and (not isinstance(entry[field], int | float) or entry[field] < 0):
                bad(field, "must be a non-negative number")
        symbols = entry.get("symbols", {})
        if not isinstance(symbols, dict):
            bad("symbols", "must be a table name = assumption")
            symbols = {}
        for symbol, assumption in symbols.items():
            if assumption not in (*ASSUMPTIONS, *SPECIAL_ASSUMPTIONS):
                bad(
                    "symbols",
                    f"'{symbol}': unknown assumption '{assumption}' (one of "
                    f"{', '.join([*ASSUMPTIONS, *SPECIAL_ASSUMPTIONS])})",
                )
        mistakes = []
        for mistake in entry.get("mistakes", []):
            if (
                not isinstance(mistake, dict)
                or not isinstance(mistake.get("answer"), str)
                or not isinstance(mistake.get("feedback"), str)
            ):
                bad("mistakes", "each mistake needs answer and feedback (strings)")
                continue
            mistakes.append(Mistake(mistake["answer"], mistake["feedback"]))
        answer = entry.get("answer")
        choices = entry.get("choices", [])
        steps = entry.get("steps", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            bad("choices", "must be a list of strings")
            choices = []
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            bad("steps", "must be a list of strings")
            steps = []
        needs_pairs: tuple[tuple[str, str], ...] = ()
        if kind == "ordering":
            from quizzes.partial_order import bank_needs

            if len(steps) < 2:
                bad("steps", "an ordering question needs at least 2 steps (in the right order)")
            try:
                needs = bank_needs(entry["needs"], len(steps)) if "needs" in entry else None
            except ValueError as error:
                bad("needs", str(error))
                needs = None
            shown, answer, needs_pairs = (
                shuffle_steps(qid, steps, needs) if len(steps) >= 2 else ((), "", ())
            )
            steps = list(shown)
        elif answer is None:
            bad("answer", "missing")
        elif kind in ("choice", "spot-error"):
            if len(choices) < 2:
                bad("choices", f"a {kind} question needs at least 2 choices")
            elif answer.strip().upper() not in letters(len(choices)):
                bad("answer", f"'{answer}' is not one of {' '.join(letters(len(choices)))}")
            answer = answer.strip().upper()
            if kind == "choice":
                _check_reasons(entry.get("reasons"), choices, answer, bad)
        elif kind == "truefalse":
            if answer.strip().lower() not in ("true", "false"):
                bad("answer", 'must be "true" or "false"')
            answer = answer.strip().lower()
        elif kind == "numeric":
            try:
                float(answer)
            except ValueError:
                bad("answer", f"'{answer}' is not a number")
            if not isinstance(entry.get("rule"), str):
                bad(
                    "",
                    'a numeric question states how it is marked: rule = "sigfigs:3" '
                    "(or decimals:N, rel:X, abs:X)",
                )
            else:
                try:
                    parse_numeric_rule(entry["rule"])
                except ValueError as error:
                    bad("rule", str(error))
        elif kind == "symbolic" and not symbols:
            bad("symbols", "a symbolic question declares its symbols (name = assumption)")
        for field in ("identities", "constraints"):
            value = entry.get(field, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                bad(field, "must be a list of relations as text")
        compute = entry.get("compute")
        if compute is not None and (
            not isinstance(compute, dict)
            or not isinstance(compute.get("formula"), str)
            or not isinstance(compute.get("inputs", {}), dict)
        ):
            bad("compute", 'must be a table: formula = "id", inputs = { name = value }')
        if len(problems) > before:
            continue
        questions.append(
            Question(
                id=qid,
                topic=topic,
                kind=kind,
                prompt=entry["prompt"].strip(),
                answer=answer,
                explanation=entry["explanation"].strip(),
                formulas=tuple(ids),
                difficulty=difficulty,
                tags=tuple(tags),
                symbols=dict(symbols),
                choices=tuple(choices),
                steps=tuple(steps),
                abs_tol=float(entry.get("abs_tol", 1e-6)),
                rel_tol=float(entry.get("rel_tol", 1e-3)),
                mistakes=tuple(mistakes),
                source=f"{name}:{lines.question(index)}",
                numeric_rule=entry.get("rule") if kind == "numeric" else None,
                option_reasons=tuple(entry.get("reasons", ())) if kind == "choice" else (),
                identities=tuple(entry.get("identities", ())),
                constraints=tuple(entry.get("constraints", ())),
                needs=needs_pairs,
                compute=dict(compute) if compute is not None else {},
            )
        )
    return questions, problems


def _line_of(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 1


def load_bank(path: Path | str, registry: bool = True) -> list[Question]:
    """The bank's questions; BankError (exit 2) with file, line and field on the first problem."""
    questions, problems = validate_bank(path, registry=registry)
    if problems:
        more = (
            f" (and {len(problems) - 1} more; run `cheatsheet bank check`)"
            if len(problems) > 1
            else ""
        )
        raise BankError(f"{problems[0]}{more}")
    return questions


def bank_files(directory: Path | str | None = None) -> list[Path]:
    directory = Path(directory) if directory else BANK_DIR
    return sorted(directory.glob("*.toml"))
