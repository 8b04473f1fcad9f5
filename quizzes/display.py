"""How a session looks: rich text for people, one JSON object per question for scripts.

`human_display(console)` and `json_display()` return the `show(event, payload)` callbacks that
`quizzes.engine.Session` calls; the engine itself never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from formulas.notation import latex_text
from quizzes.questions import letters


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def readable(text: str) -> str:
    """`text` as a terminal shows it: a LaTeX option (the sheet's own line) as Unicode text."""
    return latex_text(text) if "\\" in text else text


def question_lines(question: Any) -> list[str]:
    """The question as shown (prompt, then lettered choices or steps, then the symbols)."""
    lines = [question.prompt]
    if question.kind in ("choice", "spot-error"):
        for letter, choice in zip(letters(len(question.choices)), question.choices):
            # LaTeX options (the sheet's own lines) read as Unicode text at a terminal
            lines.append(f"  {letter}) {readable(choice)}")
        if question.kind == "spot-error":
            lines.append("Which line is wrong? (a letter)")
    elif question.kind == "ordering":
        names = letters(len(question.steps))
        for letter, step in zip(names, question.steps):
            lines.append(f"  {letter}) {step}")
        # The example names every letter once, as the re-prompt's does (quizzes.engine).
        lines.append(f"Put the steps in order (letters, e.g. {' '.join(reversed(names))}).")
    elif question.kind == "truefalse":
        lines.append("true or false?")
    elif question.kind == "symbolic" and question.symbols:
        names = ", ".join(n for n, a in question.symbols.items() if a != "constant")
        lines.append(f"(symbols: {names})")
    return lines


def human_display(console: Any) -> Callable[[str, dict[str, Any]], None]:
    def show(event: str, payload: dict[str, Any]) -> None:
        if event == "question":
            question = payload["question"]
            console.print()
            clock = ""
            if "remaining" in payload:
                minutes, seconds = divmod(int(payload["remaining"]), 60)
                clock = f" [bold]{minutes:02d}:{seconds:02d} left[/]"
            heading = (
                f"Part ({payload['part']}) of {payload['parts']}"
                if "part" in payload  # the next part of a multipart problem
                else f"Question {payload['number']}/{payload['total']}"
            )
            console.print(
                f"[bold]{heading}[/] "
                f"[dim]{_escape(question.topic)} · {question.kind} · {_escape(question.id)}[/]"
                + clock
            )
            for line in question_lines(question):
                console.print(_escape(line))
        elif event == "invalid":
            console.print(f"[yellow]! {_escape(payload['message'])}[/] (not counted; try again)")
        elif event == "broken":
            console.print(f"[yellow]! {_escape(payload['message'])}[/] (skipped)")
        elif event == "skipped":
            console.print("[dim]skipped (not counted)[/]")
        elif event == "result":
            result = payload["result"]
            if not result.valid:
                console.print(f"[yellow]! {_escape(result.feedback)}[/] (not counted)")
            elif result.correct:
                console.print(f"[green]✓ {_escape(result.feedback)}[/]")
            else:
                console.print(f"[red]✗ {_escape(result.feedback)}[/]")
            if not result.correct:
                console.print(f"  answer: {_escape(readable(result.expected))}")
            if result.explanation:
                console.print(f"  [dim]why:[/] {_escape(result.explanation)}")
            for formula_id in result.formulas:
                console.print(f"  [dim]derive:[/] cheatsheet derive {_escape(formula_id)}")

    return show


def json_display(emit: Callable[[Any], None]) -> Callable[[str, dict[str, Any]], None]:
    def show(event: str, payload: dict[str, Any]) -> None:
        if event == "result":
            emit(payload["result"].to_json())

    return show


def summary(results: list[Any]) -> dict[str, Any]:
    """Score overall and per topic (valid answers only)."""
    valid = [r for r in results if r.valid]
    per_topic: dict[str, dict[str, Any]] = {}
    for result in valid:
        entry = per_topic.setdefault(result.topic, {"answered": 0, "correct": 0})
        entry["answered"] += 1
        entry["correct"] += int(result.correct)
    for entry in per_topic.values():
        entry["accuracy"] = round(entry["correct"] / entry["answered"], 3)
    correct = sum(r.correct for r in valid)
    return {
        "answered": len(valid),
        "correct": correct,
        "invalid": len(results) - len(valid),
        "accuracy": round(correct / len(valid), 3) if valid else None,
        "per_topic": per_topic,
    }
