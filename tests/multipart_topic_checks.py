"""Shared by the per-topic multipart tests (tests/test_quiz_multipart_<topic>.py): comparing an
answer with an independent recomputation from the problem's drawn values, and the marking checks
every problem must pass (its own answers give full marks; one typical wrong answer in one part
costs exactly that part)."""

from __future__ import annotations

import math
import re

SEEDS = range(8)


def close(answer: str, truth: float, rel: float = 1e-4) -> None:
    assert math.isclose(float(answer), float(truth), rel_tol=rel, abs_tol=1e-9), (answer, truth)


def right_option(part) -> str:
    return part.choices[ord(part.answer) - ord("A")]


def option_letter(part, startswith: str) -> str:
    """The letter of the option that starts with `startswith` (a typical wrong choice)."""
    for index, text in enumerate(part.choices):
        if text.startswith(startswith):
            return chr(ord("A") + index)
    raise AssertionError(f"no option starting with {startswith!r} in {part.choices}")


def same_expression(text: str, truth, symbols: dict[str, str], points) -> None:
    """`text`, read by the quiz parser, equals the sympy expression `truth` at every point."""
    from quizzes.parser import parse

    expr = parse(text, symbols)
    for point in points:
        sub = {s: point[s.name] for s in expr.free_symbols | truth.free_symbols}
        got, want = complex(expr.subs(sub).evalf()), complex(truth.subs(sub).evalf())
        assert abs(got - want) < 1e-9 * max(1.0, abs(want)), (text, truth, point)


def check_problem(checks: dict, template_id: str) -> None:
    """Every seed of a problem: its parts recomputed by the topic's independent check (which
    may return a typical wrong answer per part; None: the engine's perturbed answers), then
    marked as `check_marking` requires."""
    from quizzes.catalog import generate
    from quizzes.questions import TEMPLATES

    for seed in SEEDS:
        question = generate(TEMPLATES[template_id], seed)
        check_marking(question, checks[template_id](question) or {})


def check_marking(question, wrong: dict[int, str]) -> None:
    """At least three parts; full marks for the problem's own answers, one per part or its JSON
    answer (and `bank check` finds nothing); a typical wrong answer in part i (`wrong[i]`, else
    the engine's perturbed answer) loses part i only, whatever the part; a later part is told
    the right earlier results only when it is asked (not in the problem's prompt)."""
    from quizzes.bankcheck import check_question
    from quizzes.engine import mark, perturbed_answer
    from quizzes.multipart import SEPARATOR, as_asked

    assert len(question.parts) >= 3
    for later in question.parts[1:]:
        shown = as_asked(later)
        if shown.prompt != later.prompt:
            assert "Right results so far" in shown.prompt
            assert shown.prompt.split("\n")[0] not in question.prompt
    assert mark(question, question.answer).correct  # the JSON's expected answer is accepted
    right = [part.answer for part in question.parts]
    result = mark(question, f" {SEPARATOR} ".join(right))
    assert result.correct, result.feedback
    count = len(right)
    assert result.feedback.startswith(f"{count}/{count} parts right")
    problems, _ = check_question(question)
    assert not problems, problems
    for index, part in enumerate(question.parts):
        answers = list(right)
        answers[index] = wrong.get(index) or perturbed_answer(part)
        result = mark(question, f" {SEPARATOR} ".join(answers))
        assert not result.correct, (index, answers[index])
        assert result.feedback.startswith(f"{count - 1}/{count} parts right"), result.feedback
        verdicts = re.findall(r"\(([a-h])\) (✓|✗)", result.feedback)
        assert [mark_ for _, mark_ in verdicts] == [
            "✗" if i == index else "✓" for i in range(count)
        ]
