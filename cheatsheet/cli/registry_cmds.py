"""Registry commands: topics, list, show, derive, eval, errata, search."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cheatsheet.cli.output import JsonOption, console, emit_json, plain_table
from cheatsheet.errors import CheatsheetError, CheckFailed


def _formula_ids(incomplete: str) -> list[str]:
    from formulas.index import entries

    return [f.id for f in entries() if f.id.startswith(incomplete)]


def _topic_names(incomplete: str) -> list[str]:
    from formulas.core import TOPICS

    return [t for t in TOPICS if t.startswith(incomplete)]


FormulaId = Annotated[
    str, typer.Argument(help="A formula id (see `cheatsheet list`).", autocompletion=_formula_ids)
]


def _get(formula_id: str):
    import formulas

    return formulas.get(formula_id)


def _summary(formula) -> dict[str, Any]:
    """The listing fields of a Formula or of its index entry (where `erratum` is a flag)."""
    return {
        "id": formula.id,
        "title": formula.title,
        "topic": formula.topic,
        "section": formula.section,
        "parameters": list(formula.parameters),
        "has_derivation": formula.has_derivation,
        "erratum": bool(formula.erratum),
    }


# --------------------------------------------------------------------------------------------


def topics(as_json: JsonOption = False) -> None:
    """The course topics and how many formulas each has."""
    import formulas
    from formulas.index import entries

    counts: dict[str, int] = {topic: 0 for topic in formulas.topics()}
    for formula in entries():
        counts[formula.topic] += 1
    if as_json:
        emit_json(
            [
                {"topic": topic, "description": text, "formulas": counts[topic]}
                for topic, text in formulas.topics().items()
            ]
        )
        return
    from rich.table import Table

    table = Table(title="Topics")
    table.add_column("topic", style="bold cyan")
    table.add_column("formulas", justify="right")
    table.add_column("what it covers")
    for topic, text in formulas.topics().items():
        table.add_row(topic, str(counts[topic]), text)
    console.print(table)


def list_formulas(
    topic: Annotated[
        str | None, typer.Argument(help="Only this topic.", autocompletion=_topic_names)
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List formula ids with their titles (all topics, or one)."""
    from formulas.core import TOPICS, UnknownNameError, closest
    from formulas.index import entries

    if topic is not None and topic not in TOPICS:
        raise UnknownNameError("topic", topic, closest(topic, TOPICS))
    chosen = [f for f in entries() if topic is None or f.topic == topic]
    if as_json:
        emit_json([_summary(f) for f in chosen])
        return
    rows = [
        [
            formula.id,
            formula.topic,
            formula.section,
            formula.title,
            ("derivation " if formula.has_derivation else "")
            + ("erratum" if formula.erratum else ""),
        ]
        for formula in chosen
    ]
    plain_table(
        ["id", "topic", "§", "title", "checks"],
        rows,
        title=f"{len(chosen)} formulas{' in ' + topic if topic else ''}",
    )


WidthOption = Annotated[
    int | None,
    typer.Option("--width", min=30, help="Columns to fit formulas in (default: the terminal's)."),
]


def show(formula_id: FormulaId, width: WidthOption = None, as_json: JsonOption = False) -> None:
    """Show one formula: statement (fitted to the terminal), its label, LaTeX, erratum."""
    from cheatsheet.cli import render

    formula = _get(formula_id)
    columns = render.terminal_width(width)
    latex = _display_form(formula)  # shipped with the package: no sympy to build it here
    kind = getattr(formula, "kind", None) or (
        "derived" if formula.has_derivation else "not checked here"
    )
    payload = _summary(formula) | {"text": formula.text, "latex": latex, "kind": kind}
    if formula.erratum:
        payload["erratum_detail"] = {
            "sheet": formula.erratum.sheet,
            "correct": formula.erratum.correct,
            "explanation": formula.erratum.explanation,
        }
    if as_json:
        emit_json(payload)
        return

    def out(text: str, style: str | None = None) -> None:
        console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)

    console.print(
        f"[bold cyan]{formula.id}[/]  {formula.title}  [dim](§{formula.section}, {kind})[/]",
        width=columns,
    )
    if formula.text:
        out(render.wrap_words(formula.text, columns, indent=2))
    if latex:  # the display form, proved equal to the statement (tests/test_notation.py)
        out("")
        out(render.fit_latex(latex, columns, indent=4))
    if latex:
        out("")
        out(render.wrap_hanging(f"LaTeX: {latex}", columns, indent=7), style="dim")
    if formula.parameters:
        call = " ".join(f"{name}=…" for name in formula.parameters)
        out(render.wrap_words(f"evaluate: cheatsheet eval {formula.id} {call}", columns, 10))
    if formula.erratum:
        console.print("\n[bold red]Erratum.[/]")
        from formulas.notation import latex_text

        sheet, right = latex_text(formula.erratum.sheet), latex_text(formula.erratum.correct)
        out(render.wrap_hanging(f"sheet:   {sheet}", columns, indent=9))
        out(render.wrap_hanging(f"right:   {right}", columns, indent=9))
        out(render.wrap_words(f"why:     {formula.erratum.explanation}", columns, indent=9))
    if formula.has_derivation:
        out(f"\nderivation: cheatsheet derive {formula.id}")


def derive(
    formula_id: FormulaId,
    recheck: Annotated[
        bool, typer.Option("--recheck", help="Re-prove every step; ignore cached verdicts.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Walk through a derivation: every step checked, the chain proved to end in the statement."""
    from formulas.proof import derivation_report

    formula = _get(formula_id)
    report = derivation_report(formula, recheck=recheck)
    if as_json:
        emit_json(_derive_json(formula, report))
    else:
        _print_derivation(formula, report)
    if not report["passed"]:
        raise typer.Exit(1)


def _derive_json(formula, report: dict[str, Any]) -> dict[str, Any]:
    statement = report.get("statement")

    def step_json(step: dict[str, Any]) -> dict[str, Any]:
        lhs, rhs = step.get("lhs"), step.get("rhs")
        return {key: value for key, value in step.items() if key not in ("lhs", "rhs")} | {
            "lhs": lhs and lhs["latex"],
            "rhs": rhs and rhs["latex"],
            "lhs_srepr": lhs and lhs["srepr"],
            "rhs_srepr": rhs and rhs["srepr"],
        }

    payload = {
        "id": formula.id,
        "title": formula.title,
        "kind": report["kind"],
        "passed": report["passed"],
        "statement": statement and statement["latex"],
        "statement_srepr": statement and statement["srepr"],
        "steps": [step_json(step) for step in report["steps"]],
        "concludes": report.get("concludes"),
        "conclusion": report.get("conclusion"),
        "failures": report.get("failures", []),
        "cached": report.get("cached", False),
    }
    if report["kind"] != "derived":
        payload["properties"] = [step_json(step) for step in report.get("properties", [])]
    return payload


_KIND_WORDS = {
    "definition": "a definition: nothing to derive; its property checks follow",
    "cross-checked": "no derivation: cross-checked numerically only (its evaluator against an "
    "independent oracle in the tests)",
    "not checked here": "no derivation and no numeric check here",
}


def _print_derivation(formula, report: dict[str, Any]) -> None:
    from rich.markup import escape

    console.print(
        f"[bold cyan]{formula.id}[/]  {escape(formula.title)}  [dim]({report['kind']})[/]",
        highlight=False,
    )
    # The display form, as `show` and the exports print it (proved equal to the statement).
    latex = _display_form(formula) if report.get("statement") else None
    if latex:
        from cheatsheet.cli import render

        shown = render.fit_latex(latex, console.width, indent=0)
        console.print(shown, markup=False, highlight=False)
    if report["kind"] != "derived":
        console.print(f"\n{_KIND_WORDS[report['kind']]}", highlight=False)
        for number, item in enumerate(report.get("properties", []), start=1):
            _print_step(f"Property {number}.", item, report)
        return
    chain_number = 0
    for step in report["steps"]:
        if step["role"] == "premise":
            label = f"Premise ({step['premise']}) {step['name']}."
        else:
            chain_number += 1
            label = f"Step {chain_number}." if chain_number > 1 else "Step 1 (start)."
        _print_step(label, step, report)
    if report["passed"]:
        console.print(
            f"\n[green]✓ proved:[/] {escape(_proved_text(latex, report))}  "
            "[dim](the chain ends in the formula's statement)[/]",
            highlight=False,
        )
    else:
        console.print("\n[bold red]✗ not proved:[/]", highlight=False)
        for failure in report["failures"]:
            console.print(f"  {escape(failure)}", highlight=False)


def _print_step(label: str, step: dict[str, Any], report: dict[str, Any]) -> None:
    from rich.markup import escape

    mark = "[green]✓[/]" if step["passed"] else "[bold red]✗ FAILS[/]"
    console.print(f"\n[bold]{label}[/] {escape(step['claim'])}", highlight=False)
    if step["lhs"] is not None and step["rhs"] is not None:
        from cheatsheet.cli import render

        continues = step.get("role") == "chain" and not label.startswith("Step 1")
        lhs = None if continues else render.expression_latex(step["lhs"])
        rhs = render.expression_latex(step["rhs"])
        shown = render.fit_relation(lhs, step["relation"], rhs, console.width, indent=4)
        console.print(shown, markup=False, highlight=False)
    if step.get("uses"):
        console.print(f"  [dim]uses[/] {escape(', '.join(step['uses']))}", highlight=False)
    if step["justification"]:
        console.print(f"  [dim]because[/] {escape(step['justification'])}", highlight=False)
    if not step.get("link_ok", True):
        console.print(f"  [bold red]✗ {escape(step['link_detail'])}[/]", highlight=False)
    how = f"checked by {step['method']}: {step['detail']}"
    if report.get("cached"):
        how += " (verdict cached for this source; --recheck re-proves)"
    import textwrap

    # wrapped here with a hanging indent (rich would wrap it flush left, under the mark)
    first, *rest = textwrap.wrap(how, width=max(30, console.width - 5), break_on_hyphens=False)
    console.print(f"  {mark} [dim]{escape(first)}[/]", highlight=False)
    for line in rest:
        console.print(f"    [dim]{escape(line)}[/]", highlight=False)


def _proved_text(latex: str | None, report: dict[str, Any]) -> str:
    """What the chain proved, in one line: the display form `latex` (equal to the statement the
    chain ends in, tests/test_notation.py), else the chain's own last line."""
    from formulas.notation import latex_text

    return latex_text(latex) if latex else report.get("conclusion_text") or ""


def _display_form(formula) -> str | None:
    """formulas.shipped.display_form, or None for a statement that cannot be built."""
    from formulas.shipped import display_form

    try:
        return display_form(formula)
    except Exception:  # noqa: BLE001 - a statement that cannot be built shows its text only
        return None


def _parse_value(text: str) -> Any:
    """A number or a (nested) JSON list; never eval."""
    import numpy as np

    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise CheatsheetError(
            f"cannot read value {text!r}: give a number or a JSON list like [0.1, 0.2]"
        ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float, list)):
        raise CheatsheetError(f"value {text!r} is not a number or a list of numbers")
    if isinstance(value, list):
        try:
            return np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError):
            raise CheatsheetError(f"value {text!r} is not a rectangular list of numbers") from None
    return value


def eval_formula(
    formula_id: FormulaId,
    assignments: Annotated[
        list[str] | None, typer.Argument(help="name=value pairs; lists as JSON: mu=[0,1]")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate a formula numerically: cheatsheet eval kl-gauss mu=[0,1] sigma=[1,2]."""
    from formulas import UnknownNameError, closest

    formula = _get(formula_id)
    if formula.evaluator is None:
        raise CheatsheetError(f"formula '{formula.id}' has no numeric evaluation")
    values: dict[str, Any] = {}
    for assignment in assignments or []:
        name, sep, text = assignment.partition("=")
        if not sep or not name:
            raise CheatsheetError(f"expected name=value, got {assignment!r}")
        if name not in formula.parameters:
            raise UnknownNameError(
                f"parameter of {formula.id}", name, closest(name, formula.parameters)
            )
        values[name] = _parse_value(text)
    try:
        result = formula.evaluate(**values)
    except TypeError as error:
        raise CheatsheetError(f"{error}; parameters are {', '.join(formula.parameters)}") from None
    except ValueError as error:
        raise CheatsheetError(f"{formula.id}: {error}") from None
    if as_json:
        emit_json({"id": formula.id, "inputs": values, "result": result})
    else:
        console.print(result, markup=False)


SeverityOption = Annotated[
    str | None,
    typer.Option("--severity", help="Only 'error' (false as printed) or 'typo' (intent clear)."),
]


def errata(
    severity: SeverityOption = None,
    show_coverage: Annotated[
        bool,
        typer.Option(
            "--coverage", help="Per section: lines with claims, lines checked, errors, typos."
        ),
    ] = False,
    recheck: Annotated[
        bool, typer.Option("--recheck", help="Compute every piece of evidence again.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Where the sheet is wrong: its text in context, the correction, the computed evidence
    (cached until the code that computes it changes; --recheck computes it again)."""
    from formulas.errata import errata_rows
    from formulas.ledger import coverage, place

    rows = errata_rows(severity, check=not show_coverage, recheck=recheck)
    if show_coverage:
        table = coverage(errata_rows(None, check=False))
        if as_json:
            emit_json(table)
            return
        plain_table(
            ["§", "section", "lines", "claim lines", "checked", "errors", "typos"],
            [
                [
                    row["section"],
                    row["title"],
                    f"{row['lines'][0]}-{row['lines'][1]}",
                    str(row["claim_lines"]),
                    str(row["checked_lines"]),
                    str(row["errors"]),
                    str(row["typos"]),
                ]
                for row in table
            ],
            title="Sheet coverage (every non-blank line is in the ledger: formulas/ledger/)",
        )
        return
    if as_json:
        emit_json(rows)
    else:
        from cheatsheet.cli.output import hanging

        marks = {
            "confirmed": "[green]confirmed[/]",
            "NOT confirmed": "[bold red]NOT confirmed[/]",
            "not checked in this install": "[yellow]not checked in this install[/]",
            "decided from the source": "[cyan]decided from the source[/]",
        }
        from formulas.notation import latex_text

        heading = None
        for row in rows:
            if row["severity"] != heading:
                heading = row["severity"]
                title = (
                    "Errors (false as printed)" if heading == "error" else "Typos (intent clear)"
                )
                console.print(f"\n[bold underline]{title}[/]")
            where = place(tuple(row["sheet_lines"]) if row["sheet_lines"] else None, row["section"])
            console.print(f"\n[bold cyan]{row['id']}[/] ({where}) {marks[row['state']]}")
            for label, key in (
                ("sheet:", "sheet"),
                ("correct:", "correct"),
                ("why:", "explanation"),
                ("check:", "evidence"),
            ):
                if row.get(key):
                    text = latex_text(row[key]) if key in ("sheet", "correct") else row[key]
                    console.print(hanging(label, text), markup=False, highlight=False)
        errors = sum(row["severity"] == "error" for row in rows)
        console.print(f"\n{len(rows)} errata: {errors} errors, {len(rows) - errors} typos")
    if any(row["state"] == "NOT confirmed" for row in rows):
        raise CheckFailed("an erratum's evidence did not confirm it")


def search(
    words: Annotated[list[str], typer.Argument(help="What you half-remember.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 8,
    as_json: JsonOption = False,
) -> None:
    """Fuzzy search over ids, titles, topics, keywords and the sheet's text."""
    from cheatsheet.search import search_formulas

    hits = search_formulas(" ".join(words), limit=limit)
    if as_json:
        emit_json([{"id": f.id, "title": f.title, "topic": f.topic, "score": s} for f, s in hits])
        return
    if not hits:
        console.print("no match; try `cheatsheet list`")
        raise typer.Exit(1)
    for formula, score in hits:
        console.print(
            f"[bold cyan]{formula.id:32}[/] {formula.title} [dim]({formula.topic}, {score:.2f})[/]"
        )


def register(app: typer.Typer) -> None:
    app.command("topics")(topics)
    app.command("list")(list_formulas)
    app.command("show")(show)
    app.command("derive")(derive)
    app.command("eval")(eval_formula)
    app.command("errata")(errata)
    app.command("search")(search)
