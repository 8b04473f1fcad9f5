"""Exports: an Anki deck of the questions, and the corrected cheat sheet from the registry.

Anki (genanki): one note per bank question and per template variant, MathJax `\\(..\\)` for
formulas, and each note's GUID derived from its question id, so importing a newer deck updates
the notes instead of duplicating them.

Sheet: every formula of the registry with its check mark: ✓ its derivation passes every
step (or, without one, its erratum's evidence shows the corrected form passing), ✗ a step or
the evidence fails, ○ nothing to check; an erratum shows the sheet's form struck out next to
the right form.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

from cheatsheet.errors import CheatsheetError
from quizzes.catalog import Catalog, generate
from quizzes.engine import expected_expr, letters

MODEL_ID = 1_640_715_203  # fixed forever: Anki matches note types by id
MODEL_NAME = "cheatsheet question (v1)"


def _stable_id(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") | (1 << 30)


def _mathjax(question: Any) -> str:
    import sympy as sp

    if question.kind == "symbolic":
        return rf"\({sp.latex(expected_expr(question))}\)"
    if question.kind == "numeric":
        return rf"\({html.escape(question.answer)}\)"
    if question.kind in ("choice", "spot-error"):
        index = ord(question.answer) - ord("A")
        return f"{question.answer}) {html.escape(question.choices[index])}"
    if question.kind == "ordering":
        shown = dict(zip(letters(len(question.steps)), question.steps))
        return (
            "<ol>"
            + "".join(
                f"<li>{html.escape(shown[letter])}</li>" for letter in question.answer.split()
            )
            + "</ol>"
        )
    return html.escape(question.answer)


def _front(question: Any) -> str:
    from quizzes.display import question_lines

    lines = question_lines(question)
    return "<br>".join(html.escape(line) for line in lines)


def note_fields(question: Any) -> list[str]:
    formulas = ", ".join(question.formulas)
    return [
        question.id,
        question.topic,
        _front(question),
        _mathjax(question),
        html.escape(question.explanation),
        html.escape(formulas),
    ]


def _model() -> Any:
    import genanki

    return genanki.Model(
        MODEL_ID,
        MODEL_NAME,
        fields=[
            {"name": name}
            for name in ("Id", "Topic", "Question", "Answer", "Explanation", "Formulas")
        ],
        templates=[
            {
                "name": "Card 1",
                "qfmt": "<div class=topic>{{Topic}}</div>{{Question}}",
                "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}<br><br>{{Explanation}}"
                "<br><small>derive: {{Formulas}} · {{Id}}</small>",
            }
        ],
        css=".card { font-family: sans-serif; font-size: 18px; } .topic { color: #888; }",
    )


def export_anki(catalog: Catalog, topic: str, output: Path, variants: int = 3) -> dict[str, Any]:
    import genanki

    catalog.check_topic(topic)
    topics = catalog.topics() if topic == "all" else [topic]
    model = _model()
    deck = genanki.Deck(_stable_id(f"deck:{topic}"), f"Machine Perception::{topic}")
    ids = []
    for name in topics:
        questions = list(catalog.bank(name))
        for template in catalog.templates(name):
            questions.extend(generate(template, variant) for variant in range(variants))
        for question in questions:
            deck.add_note(
                genanki.Note(
                    model=model,
                    fields=note_fields(question),
                    guid=genanki.guid_for(question.id),
                    tags=[question.topic, question.kind.replace(" ", "-")],
                )
            )
            ids.append(question.id)
    if not ids:
        raise CheatsheetError(f"topic '{topic}' has no questions to export")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(output))
    return {"output": str(output), "notes": len(ids), "ids": ids, "topic": topic}


# --------------------------------------------------------------------------------------------
# The corrected sheet


def _checked_steps(formula: Any) -> list[dict[str, Any]]:
    """Each derivation step checked: through `cheatsheet derive`'s cache (keyed by the source,
    so an edited step is re-checked) when it is there, else directly."""
    try:
        from cheatsheet.check_cache import derivation_report
    except ImportError:
        return [
            {"passed": result.passed, "method": result.method}
            for result in formula.check_derivation()
        ]
    return derivation_report(formula)


def formula_status(formula: Any) -> dict[str, Any]:
    """✓ / ✗ / ○ from the derivation, and the erratum's evidence if there is one."""
    entry: dict[str, Any] = {
        "id": formula.id,
        "title": formula.title,
        "topic": formula.topic,
        "section": formula.section,
    }
    try:
        entry["latex"] = formula.latex
    except Exception:  # noqa: BLE001 - a formula without a statement prints its text
        entry["latex"] = None
    if formula.has_derivation:
        try:
            steps = _checked_steps(formula)
            passed = all(step["passed"] for step in steps)
            entry["check"] = "verified" if passed else "failed"
            entry["steps"] = len(steps)
            entry["methods"] = sorted({step["method"] for step in steps})
        except Exception as error:  # noqa: BLE001 - a crashing check is a failed check
            entry["check"] = "failed"
            entry["detail"] = f"{type(error).__name__}: {error}"
    else:
        entry["check"] = "unchecked"
    if formula.erratum is not None:
        erratum = formula.erratum
        try:
            evidence = erratum.evidence()
            confirmed = evidence.sheet_fails and evidence.correct_passes
            detail = evidence.detail
        except Exception as error:  # noqa: BLE001
            confirmed, detail = False, f"{type(error).__name__}: {error}"
        entry["erratum"] = {
            "sheet": erratum.sheet,
            "correct": erratum.correct,
            "explanation": erratum.explanation,
            "confirmed": confirmed,
            "detail": detail,
        }
        if not confirmed:
            entry["check"] = "failed"
        elif entry["check"] == "unchecked":
            entry["check"] = "verified"  # the evidence shows the corrected form passes
    return entry


MARKS = {"verified": "✓", "failed": "✗", "unchecked": "○"}
TEX_MARKS = {"verified": r"\checkmark", "failed": r"$\times$", "unchecked": r"$\circ$"}


def _md(entries: list[dict[str, Any]], topics: dict[str, str]) -> str:
    lines = [
        "# Machine Perception: the verified cheat sheet",
        "",
        "✓ derivation checked step by step · ✗ a check failed · ○ not derived here · "
        "**erratum**: the course sheet prints something else",
        "",
    ]
    for topic in topics:
        rows = [e for e in entries if e["topic"] == topic]
        if not rows:
            continue
        lines += [f"## {topics[topic]}", ""]
        for entry in rows:
            lines.append(f"### {MARKS[entry['check']]} {entry['title']} (`{entry['id']}`)")
            if entry["latex"]:
                lines += ["", f"$$ {entry['latex']} $$", ""]
            if "erratum" in entry:
                erratum = entry["erratum"]
                lines += [
                    f"> **erratum** — the sheet prints ~~${erratum['sheet']}$~~; "
                    f"correct: ${erratum['correct']}$. {erratum['explanation']}"
                    + (" (evidence checked)" if erratum["confirmed"] else " (evidence FAILED)"),
                    "",
                ]
    return "\n".join(lines) + "\n"


def _tex_escape(text: str) -> str:
    for char, replacement in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("~", r"\~{}"),
        ("^", r"\^{}"),
    ):
        text = text.replace(char, replacement)
    return text


def _tex(entries: list[dict[str, Any]], topics: dict[str, str]) -> str:
    lines = [
        r"\documentclass[8pt,landscape]{extarticle}",
        r"\usepackage[margin=1cm]{geometry}",
        r"\usepackage{amsmath,amssymb,multicol,ulem}",
        r"\setlength{\parindent}{0pt}",
        r"\begin{document}",
        r"\begin{multicols}{3}",
        r"{\Large Machine Perception: the verified cheat sheet}\\",
        r"\checkmark\ derivation checked, $\times$ failed, $\circ$ not derived;"
        r" \textbf{erratum}: the course sheet differs.",
    ]
    for topic in topics:
        rows = [e for e in entries if e["topic"] == topic]
        if not rows:
            continue
        lines.append(rf"\section*{{{_tex_escape(topics[topic])}}}")
        for entry in rows:
            lines.append(
                rf"\textbf{{{TEX_MARKS[entry['check']]} {_tex_escape(entry['title'])}}} "
                rf"\texttt{{\small {_tex_escape(entry['id'])}}}"
            )
            if entry["latex"]:
                lines.append(rf"\[ {entry['latex']} \]")
            if "erratum" in entry:
                erratum = entry["erratum"]
                lines.append(
                    rf"\textbf{{erratum:}} sheet \sout{{${erratum['sheet']}$}}, correct "
                    rf"${erratum['correct']}$. {_tex_escape(erratum['explanation'])}\par"
                )
    lines += [r"\end{multicols}", r"\end{document}"]
    return "\n".join(lines) + "\n"


def export_sheet(output: Path, fmt: str, topic: str | None = None) -> dict[str, Any]:
    import formulas

    chosen = formulas.by_topic(topic) if topic else formulas.all()
    entries = [formula_status(formula) for formula in chosen]
    topics = {name: text for name, text in formulas.topics().items() if topic in (None, name)}
    text = _md(entries, topics) if fmt == "md" else _tex(entries, topics)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return {
        "output": str(output),
        "format": fmt,
        "formulas": len(entries),
        "verified": sum(e["check"] == "verified" for e in entries),
        "failed": sum(e["check"] == "failed" for e in entries),
        "unchecked": sum(e["check"] == "unchecked" for e in entries),
        "errata": sum("erratum" in e for e in entries),
        "entries": entries,
    }
