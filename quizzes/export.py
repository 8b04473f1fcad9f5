"""Exports: an Anki deck of the questions, and the corrected cheat sheet from the registry.

Anki (genanki): one note per bank question and per template variant. Formulas are the same
LaTeX the sheet and `cheatsheet show` print (`formulas.notation.display_latex`, read back and
proved equal to the statement by tests/test_notation.py), between MathJax delimiters: `\\(..\\)`
inline, `\\[..\\]` displayed. Each note's GUID comes from its question id, so importing a newer
deck updates the notes instead of duplicating them. A template that needs an optional package
(scipy, torch) is skipped in the light install and named in the report, never a crash.

Sheet: `quizzes.sheet` lays out every formula with its label (derived / definition /
cross-checked / not checked here) in markdown, LaTeX (compiled by pdflatex for `pdf`) or one
offline HTML file with KaTeX inlined.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

from formulas.errors import CheatsheetError
from quizzes.catalog import Catalog, generate
from quizzes.engine import expected_expr
from quizzes.questions import letters

MODEL_ID = 1_640_715_203  # fixed forever: Anki matches note types by id
MODEL_NAME = "cheatsheet question (v1)"
MODELS_EXTRA = "pip install 'cheatsheet[models]'"


def _stable_id(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") | (1 << 30)


def _mathjax(question: Any) -> str:
    if question.kind == "symbolic":
        from formulas.notation import course_latex

        return rf"\({course_latex(expected_expr(question))}\)"
    if question.kind == "numeric":
        return html.escape(question.answer)
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


def _formulas_field(question: Any) -> str:
    """Each formula the question rests on: its id and its display LaTeX (MathJax display)."""
    import formulas
    from formulas.notation import display_latex

    parts = []
    for formula_id in question.formulas:
        try:
            latex = display_latex(formulas.get(formula_id))
        except Exception:  # noqa: BLE001 - an unknown id or a broken statement shows the id only
            latex = None
        shown = html.escape(formula_id)
        if latex:
            shown += rf"<br>\[{html.escape(latex, quote=False)}\]"
        parts.append(shown)
    return "<br>".join(parts)


def note_fields(question: Any) -> list[str]:
    return [
        question.id,
        question.topic,
        _front(question),
        _mathjax(question),
        html.escape(question.explanation),
        _formulas_field(question),
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
                "<br><small>{{Formulas}} · {{Id}}</small>",
            }
        ],
        css=".card { font-family: sans-serif; font-size: 18px; } .topic { color: #888; }",
    )


def _missing_module(error: BaseException) -> str | None:
    """The optional package a template needed, if that is why it could not draw."""
    while error is not None:
        if isinstance(error, ModuleNotFoundError):
            return error.name or "an optional package"
        error = error.__cause__
    return None


def export_anki(catalog: Catalog, topic: str, output: Path, variants: int = 3) -> dict[str, Any]:
    import genanki

    catalog.check_topic(topic)
    topics = catalog.topics() if topic == "all" else [topic]
    model = _model()
    deck = genanki.Deck(_stable_id(f"deck:{topic}"), f"Machine Perception::{topic}")
    ids: list[str] = []
    skipped: list[dict[str, str]] = []
    for name in topics:
        questions = list(catalog.bank(name))
        for template in catalog.templates(name):
            for variant in range(variants):
                try:
                    questions.append(generate(template, variant))
                except CheatsheetError as error:
                    missing = _missing_module(error)
                    if missing is None:
                        raise
                    # The light install has no scipy/torch: skip the template, say why.
                    skipped.append(
                        {"template": template.id, "needs": missing, "install": MODELS_EXTRA}
                    )
                    break
        for question in questions:
            try:
                fields = note_fields(question)
            except (ValueError, CheatsheetError) as error:
                # A question whose own answer cannot be rendered is a bug for `bank check`;
                # the deck is still written, and the report names what was left out.
                skipped.append({"question": question.id, "error": str(error)})
                continue
            deck.add_note(
                genanki.Note(
                    model=model,
                    fields=fields,
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
    return {
        "output": str(output),
        "notes": len(ids),
        "ids": ids,
        "topic": topic,
        "skipped": skipped,
    }


# --------------------------------------------------------------------------------------------
# The corrected sheet

SHEET_FORMATS = ("md", "tex", "pdf", "html")


def export_sheet(
    output: Path, fmt: str, topic: str | None = None, runs: Path | None = None
) -> dict[str, Any]:
    """Write the verified sheet as md / tex / pdf / html; the report counts each label."""
    from quizzes import sheet

    if fmt not in SHEET_FORMATS:
        raise CheatsheetError(f"--format {fmt!r}: one of {', '.join(SHEET_FORMATS)}")
    entries, topics = sheet.collect(topic)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        output.write_text(sheet.markdown(entries, topics), encoding="utf-8")
    elif fmt == "tex":
        output.write_text(sheet.latex_document(entries, topics), encoding="utf-8")
    elif fmt == "pdf":
        sheet.compile_pdf(sheet.latex_document(entries, topics), output)
    else:
        output.write_text(sheet.html_document(entries, topics, runs=runs), encoding="utf-8")
    labels = [entry["label"] for entry in entries]
    return {
        "output": str(output),
        "format": fmt,
        "formulas": len(entries),
        "derived": labels.count("derived"),
        "definition": labels.count("definition"),
        "cross-checked": labels.count("cross-checked"),
        "not checked here": labels.count("not checked here"),
        "failed": labels.count("failed"),
        "errata": sum("erratum" in entry for entry in entries),
        "errata not checked in this install": sum(
            entry.get("erratum", {}).get("state") == "not checked in this install"
            for entry in entries
        ),
        "entries": entries,
    }
