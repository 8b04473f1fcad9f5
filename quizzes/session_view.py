"""What a session shows beyond one question's result: the prompt help, hints, the exam's
silence and its grade sheet, and the end-of-session list of what was missed and when it
comes back.

`quizzes.display` draws a question and a result; the views here wrap its callbacks and add
the events the engine sends for hints, exams and deadlines (quizzes.engine.Session).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from quizzes.display import readable

Show = Callable[[str, dict[str, Any]], None]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def human_view(console: Any, base: Show) -> Show:
    """`base` (quizzes.display.human_display) plus hints, the first prompt's help line and the
    exam's events."""
    helped = False

    def show(event: str, payload: dict[str, Any]) -> None:
        nonlocal helped
        if event == "question":
            base(event, payload)
            help_line = payload.get("help", "")  # a multipart problem's later parts have none
            if not helped and help_line:
                helped = True
                console.print(f"[dim]({_escape(help_line)})[/]")
            elif "h is an answer" in help_line:
                console.print("[dim](here h is an answer: :h asks for a hint)[/]")
        elif event == "hint":
            if payload["text"] is None:
                console.print("[cyan]no more hints[/] (? skips the question)")
            else:
                console.print(f"[cyan]hint {payload['number']}:[/] {_escape(payload['text'])}")
        elif event == "recorded":
            console.print("[dim]answer recorded (graded at the end)[/]")
        elif event == "late":
            console.print(
                f"[red]time is up: this answer came {payload['seconds']:.0f} s after the end "
                "of the exam and is not counted[/]"
            )
        elif event == "timeup":
            console.print("\n[red]time is up[/]: questions not answered count as blank")
        else:
            base(event, payload)

    return show


def json_view(base: Show, exam: bool) -> Show:
    """One JSON object per answered question, as before; an exam prints only its grade sheet."""

    def show(event: str, payload: dict[str, Any]) -> None:
        if not exam:
            base(event, payload)

    return show


# --------------------------------------------------------------------------------------------
# The end of a quiz or review: what was missed, and when each comes back


def comes_back(due: str | None, now: dt.datetime | None = None) -> str:
    """'in 10 min (14:32)', 'in 3 days (2026-03-04)' from a card's due time."""
    if not due:
        return "not scheduled"
    when = dt.datetime.fromisoformat(due)
    now = now or dt.datetime.now(when.tzinfo)
    seconds = (when - now).total_seconds()
    local = when.astimezone()
    if seconds < 90 * 60:
        return f"in {max(1, round(seconds / 60))} min ({local:%H:%M})"
    if seconds < 36 * 3600:
        return f"in {round(seconds / 3600)} h ({local:%a %H:%M})"
    return f"in {round(seconds / 86400)} days ({local:%Y-%m-%d})"


def missed_report(results: list[Any]) -> list[dict[str, Any]]:
    """Each wrong answer of the session (valid ones: unreadable answers were never marked)."""
    return [
        {"id": r.id, "topic": r.topic, "expected": r.expected, "due": r.due}
        for r in results
        if r.valid and not r.correct
    ]


def print_missed(results: list[Any], console: Any, now: dt.datetime | None = None) -> None:
    missed = missed_report(results)
    if not missed:
        return
    console.print(f"[bold]Missed {len(missed)}[/] (they come back for review):")
    for entry in missed:
        console.print(f"  {_escape(entry['id'])}  [dim]{comes_back(entry['due'], now)}[/]")


# --------------------------------------------------------------------------------------------
# The exam's grade sheet


def exam_report(
    results: list[Any], pass_mark: float, stopped: str | None = None, total: int | None = None
) -> dict[str, Any]:
    """The score over every question of the exam (blank = 0), per topic, pass/fail, and each
    missed question with its right answer, explanation and `derive` pointers."""
    total = len(results) if total is None else total
    per_topic: dict[str, dict[str, Any]] = {}
    for result in results:
        entry = per_topic.setdefault(result.topic, {"questions": 0, "correct": 0, "blank": 0})
        entry["questions"] += 1
        entry["correct"] += int(result.correct)
        entry["blank"] += int(result.blank is not None)
    for entry in per_topic.values():
        entry["accuracy"] = round(entry["correct"] / entry["questions"], 3)
    correct = sum(int(r.correct) for r in results)
    accuracy = round(correct / total, 3) if total else 0.0
    missed = [
        {
            "id": r.id,
            "topic": r.topic,
            "prompt": r.prompt,
            "given": r.given,
            "blank": r.blank,
            "valid": r.valid,
            "expected": r.expected,
            "feedback": r.feedback,
            "explanation": r.explanation,
            "derive": [f"cheatsheet derive {formula}" for formula in r.formulas],
        }
        for r in results
        if not r.correct
    ]
    return {
        "questions": total,
        "answered": sum(1 for r in results if r.blank is None),
        "correct": correct,
        "blank": sum(1 for r in results if r.blank is not None),
        "accuracy": accuracy,
        "pass_mark": pass_mark,
        "passed": accuracy >= pass_mark,
        "stopped": stopped,
        "per_topic": per_topic,
        "missed": missed,
        "results": [r.to_json() for r in results],
    }


def print_exam(report: dict[str, Any], console: Any) -> None:
    console.print()
    verdict = "[green]passed[/]" if report["passed"] else "[red]not passed[/]"
    stopped = f" [dim]({report['stopped']})[/]" if report["stopped"] else ""
    console.print(
        f"[bold]Exam: {report['correct']}/{report['questions']} ({report['accuracy']:.0%})[/] "
        f"{verdict} [dim](pass mark {report['pass_mark']:.0%}; {report['blank']} blank)[/]"
        + stopped
    )
    for name, entry in sorted(report["per_topic"].items()):
        blank = f", {entry['blank']} blank" if entry["blank"] else ""
        console.print(
            f"  {name:16s} {entry['correct']}/{entry['questions']} ({entry['accuracy']:.0%}{blank})"
        )
    if report["missed"]:
        console.print()
        console.print(f"[bold]Missed {len(report['missed'])}:[/]")
    for entry in report["missed"]:
        console.print(f"[bold]{_escape(entry['id'])}[/] [dim]{_escape(entry['topic'])}[/]")
        console.print(f"  {_escape(entry['prompt'])}")
        if entry["blank"]:
            console.print(f"  [red]no answer[/] ({_escape(entry['blank'])})")
        else:
            console.print(
                f"  [red]yours:[/] {_escape(entry['given'])}  {_escape(entry['feedback'])}"
            )
        console.print(f"  [green]answer:[/] {_escape(readable(entry['expected']))}")
        if entry["explanation"]:
            console.print(f"  [dim]why:[/] {_escape(entry['explanation'])}")
        for pointer in entry["derive"]:
            console.print(f"  [dim]derive:[/] {pointer}")
