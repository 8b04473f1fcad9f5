"""Quiz commands: quiz, exam, review, stats, check, plan, export anki|sheet, bank check.

Thin: parse the options, call quizzes.* (engine, catalog, store, plan, export, bankcheck),
print. sympy is loaded off the critical path (after the first question is on screen).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from cheatsheet.cli.output import JsonOption, console, emit_json
from cheatsheet.errors import CheatsheetError, CheckFailed

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Data directory for progress (default: CHEATSHEET_HOME or the user data dir).",
    ),
]
AnswersOption = Annotated[
    str | None,
    typer.Option(
        "--answers",
        help="Read answers from FILE (one per line), or '-' for stdin. Without it, answers come "
        "from stdin whenever stdin is not a terminal.",
    ),
]


def _topics(incomplete: str) -> list[str]:
    from quizzes.catalog import Catalog

    return [t for t in [*Catalog().topics(), "all"] if t.startswith(incomplete)]


def _reader(answers: str | None, history: Path | None = None) -> tuple[Any, bool, Any]:
    """(read, interactive, handle to close): a terminal only when nothing else was given."""
    from quizzes.engine import lines_reader, terminal_reader

    if answers is None and sys.stdin.isatty():
        return terminal_reader(history), True, None
    if answers in (None, "-"):
        return lines_reader(sys.stdin), False, None
    path = Path(answers)
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed by the caller
    except OSError as error:
        raise CheatsheetError(f"--answers {answers}: {error.strerror or error}") from None
    return lines_reader(handle), False, handle


def _run_session(
    picks: list[Any],
    *,
    mode: str,
    topic: str | None,
    seed: int | None,
    answers: str | None,
    as_json: bool,
    home: Path | None,
    deadline: float | None = None,
    rate: bool = False,
) -> tuple[list[Any], Any]:
    import random

    from quizzes.display import human_display, json_display
    from quizzes.engine import Session
    from quizzes.session_view import human_view, json_view
    from quizzes.store import open_store

    store = open_store(home)
    read, interactive, handle = _reader(answers, store.path.parent / "answer_history")
    exam = mode == "exam"
    session = Session(
        picks=picks,
        read=read,
        show=json_view(json_display(emit_json), exam)
        if as_json
        else human_view(console, human_display(console)),
        interactive=interactive,
        store=store,
        session_id=store.start_session(mode, topic, seed),
        deadline=deadline,
        ask_rating=rate,
        exam=exam,
        # options in a fresh order each attempt; the same --seed, the same order
        rng=random.Random(f"options:{seed}") if seed is not None else random.Random(),
    )
    try:
        session.run()
    except KeyboardInterrupt:
        # Every answer so far is already committed; say so and stop like Ctrl-C should.
        if not as_json:
            console.print(
                f"\n[dim]interrupted: {len([r for r in session.results if r.valid])} answer(s) "
                f"saved to {store.path}[/]"
            )
        raise typer.Exit(130) from None
    finally:
        from quizzes.engine import finish_preload

        if handle is not None:
            handle.close()
        store.close()
        finish_preload()
    if not session.results and not interactive and picks:
        raise CheatsheetError(
            "no answers to read: give --answers FILE (one answer per line) or pipe them on stdin"
        )
    return session.results, session


def _print_summary(results: list[Any], stopped: str | None, title: str = "Score") -> None:
    from quizzes.display import summary

    if not results:
        return
    score = summary(results)
    console.print()
    line = f"[bold]{title}: {score['correct']}/{score['answered']}[/]"
    if score["accuracy"] is not None:
        line += f" ({score['accuracy']:.0%})"
    if score["invalid"]:
        line += f", {score['invalid']} unreadable"
    if stopped:
        line += f" [dim]({stopped})[/]"
    console.print(line)


def _finish(results: list[Any], stopped: str | None, as_json: bool) -> None:
    """How quiz and review end: the score line and what was missed with when each comes back
    (not under --json: each result object has its `due`), exit 1 on any wrong answer."""
    if not as_json:
        from quizzes.session_view import print_missed

        _print_summary(results, stopped)
        print_missed(results, console)
    if any(not r.correct for r in results):
        raise typer.Exit(1)


def quiz(
    topic: Annotated[
        str,
        typer.Argument(help="A topic (see `cheatsheet topics`) or 'all'.", autocompletion=_topics),
    ],
    n: Annotated[int, typer.Option("--n", min=1, max=500, help="Number of questions.")] = 10,
    seed: Annotated[int | None, typer.Option("--seed", help="Same seed, same quiz.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="numeric, symbolic, choice, truefalse, ordering, spot-error, multipart "
            "or generated.",
        ),
    ] = None,
    due: Annotated[bool, typer.Option("--due", help="Only cards that are due.")] = False,
    answers: AnswersOption = None,
    rate: Annotated[
        bool, typer.Option("--rate", help="Rate each right answer yourself (again..easy).")
    ] = False,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Ask questions on a topic; answers are marked, explained and remembered.

    At the answer prompt: ? skips the question (not counted), h shows the next hint (the
    formula, then its derivation step by step; a hinted answer is rated Hard at most),
    arrow keys edit the line and Up recalls earlier answers. ? and h work the same when
    answers are piped. Choice answers: the letter (either case) or the option's text.
    Ctrl-C stops; every answer given so far is saved."""
    from quizzes.catalog import Catalog

    catalog = Catalog()
    only = None
    if due:
        from quizzes.store import open_store

        store = open_store(home)
        only = {card.card_id for card in store.due(None if topic == "all" else topic)}
        store.close()
    picks = catalog.select(topic, n, seed, kind=kind, only=only)
    if not picks:
        if not as_json:
            console.print("nothing is due" if due else "no questions match")
        return
    results, session = _run_session(
        picks,
        mode="quiz",
        topic=topic,
        seed=seed,
        answers=answers,
        as_json=as_json,
        home=home,
        rate=rate,
    )
    _finish(results, session.stopped, as_json)


def exam(
    minutes: Annotated[int, typer.Option("--minutes", min=1, help="Time limit.")] = 30,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    n: Annotated[int, typer.Option("--n", min=1, max=200, help="Questions.")] = 20,
    pass_mark: Annotated[
        float,
        typer.Option("--pass", min=0, max=100, help="Pass mark in percent of all questions."),
    ] = 50.0,
    answers: AnswersOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """A timed mock exam across topics, graded like an exam: nothing is marked until the
    end; every question counts (blank = 0); an answer typed after the time limit is not
    accepted. Then the score, per topic, pass/fail against --pass, and each missed
    question with its answer, explanation and `derive` pointer. ? leaves a question blank;
    no hints. Exit 0 passed, 1 not passed."""
    from quizzes.catalog import Catalog
    from quizzes.plan import exam_picks
    from quizzes.session_view import exam_report, print_exam

    picks = exam_picks(Catalog(), n, seed)
    if not picks:
        raise CheatsheetError("no questions yet: the banks and templates are empty")
    deadline = time.monotonic() + 60 * minutes
    if not as_json:
        console.print(
            f"[bold]Exam[/]: {len(picks)} questions, {minutes} min, pass mark "
            f"{pass_mark:g} %. Graded at the end."
        )
    results, session = _run_session(
        picks,
        mode="exam",
        topic="all",
        seed=seed,
        answers=answers,
        as_json=as_json,
        home=home,
        deadline=deadline,
    )
    report = exam_report(results, pass_mark / 100, session.stopped)
    if as_json:
        emit_json({"exam": report})
    else:
        print_exam(report, console)
    if not report["passed"]:
        raise typer.Exit(1)


def review(
    n: Annotated[int, typer.Option("--n", min=1, max=500)] = 20,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    answers: AnswersOption = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The cards spaced repetition says are due, across topics (most overdue first).

    After a right answer it asks how well you knew it, as Anki does: 1 again, 2 hard,
    3 good, 4 easy (Enter = good); the rating schedules the card. ? skips, h hints."""
    from quizzes.catalog import Catalog
    from quizzes.plan import review_picks
    from quizzes.store import open_store

    store = open_store(home)
    due_cards = store.due()
    last = store.last_questions()
    store.close()
    picks, elsewhere = review_picks(Catalog(), due_cards, n, seed, last)
    if elsewhere and not as_json:
        for name, count in sorted(elsewhere.items()):
            hint = " (`cheatsheet backprop KIND --quiz`)" if name == "backprop" else ""
            console.print(f"[dim]{count} due {name} card(s) are asked elsewhere{hint}[/]")
    if not picks:
        if not as_json:
            console.print("nothing is due here; `cheatsheet quiz TOPIC` for new questions")
        return
    results, session = _run_session(
        picks,
        mode="review",
        topic=None,
        seed=seed,
        answers=answers,
        as_json=as_json,
        home=home,
        rate=True,
    )
    _finish(results, session.stopped, as_json)


def stats(
    topic: Annotated[str | None, typer.Argument(help="One topic (default: all).")] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Draw accuracy per topic and reviews per day to FILE (.png/.pdf/.svg).",
        ),
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Per-topic accuracy, cards due now and this week, weakest formulas, streak."""
    from quizzes.stats import compute_stats, plot_accuracy
    from quizzes.store import open_store

    store = open_store(home)
    report = compute_stats(store, topic)
    if plot is not None:
        drawn = plot_accuracy(store, topic, plot)
        report["plot"] = str(plot)
    store.close()
    if as_json:
        emit_json(report)
        return
    from quizzes.stats import print_stats

    print_stats(report, console)
    if plot is not None:
        console.print(
            f"wrote {plot} (accuracy of {drawn['topics']} topic(s), reviews over "
            f"{drawn['days']} day(s))"
        )


def check(
    question_id: Annotated[
        str,
        typer.Argument(
            help="A question id as a quiz reports it (template-id@variant for generated ones)."
        ),
    ],
    answer: Annotated[str, typer.Option("--answer", help="The answer to mark.")],
    seed: Annotated[
        int | None, typer.Option("--seed", help="The variant for a bare template id.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Mark one answer without a session: exit 0 right, 1 wrong, 2 unreadable."""
    # The same function that `main` runs without typer for a plain `check` line (quick.py).
    from cheatsheet.cli.quick import run_check

    code = run_check(question_id, answer, seed, as_json)
    if code:
        raise typer.Exit(code)


def plan(
    exam_date: Annotated[str, typer.Option("--exam", help="Exam date, YYYY-MM-DD.")],
    per_day: Annotated[
        int | None, typer.Option("--per-day", min=1, help="Cap on new questions a day.")
    ] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """A day-by-day plan until the exam: new material spread over the first days, FSRS
    reviews on the days they fall due, the last days for mock exams and review (weakest
    topics first). --json: one object per day (date, kind, topics, question_count)."""
    import datetime as dt

    from quizzes.catalog import Catalog
    from quizzes.plan import make_plan, print_plan
    from quizzes.store import open_store

    try:
        exam_day = dt.date.fromisoformat(exam_date)
    except ValueError:
        raise CheatsheetError(f"--exam {exam_date!r}: give a date as YYYY-MM-DD") from None
    store = open_store(home)
    result = make_plan(Catalog(), store, exam_day, per_day=per_day)
    store.close()
    if as_json:
        emit_json(result)
    else:
        print_plan(result, console)


def export_anki(
    topic: Annotated[str, typer.Argument(help="A topic or 'all'.", autocompletion=_topics)],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .apkg file to write.")] = Path(
        "cheatsheet.apkg"
    ),
    variants: Annotated[
        int, typer.Option("--variants", min=0, max=50, help="Variants per template.")
    ] = 3,
    as_json: JsonOption = False,
) -> None:
    """An Anki deck (MathJax formulas, stable note GUIDs from the question ids)."""
    from quizzes.catalog import Catalog
    from quizzes.export import export_anki as write_deck

    report = write_deck(Catalog(), topic, output, variants=variants)
    if as_json:
        emit_json(report)
        return
    console.print(f"wrote {report['notes']} notes to {output}")
    for skipped in report["skipped"]:
        from rich.markup import escape

        if "template" in skipped:
            console.print(
                f"[yellow]skipped[/] template {skipped['template']}: needs "
                f"'{skipped['needs']}' ({escape(skipped['install'])})"
            )
        else:
            console.print(f"[yellow]skipped[/] {escape(skipped['error'])}")


def export_sheet(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="The file to write (default: sheet.FORMAT)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, tex, pdf or html.")] = "md",
    topic: Annotated[
        str | None, typer.Option("--topic", help="One topic.", autocompletion=_topics)
    ] = None,
    runs: Annotated[
        Path | None,
        typer.Option("--runs", help="html: embed DIR/*/samples.png (cheatsheet run output)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The corrected cheat sheet: each formula in the course's notation with its label."""
    from formulas.core import TOPICS, UnknownNameError, closest, did_you_mean
    from quizzes.export import SHEET_FORMATS
    from quizzes.export import export_sheet as write_sheet

    if fmt not in SHEET_FORMATS:
        raise CheatsheetError(
            f"unknown format '{fmt}'{did_you_mean(fmt, SHEET_FORMATS)} "
            f"(one of {', '.join(SHEET_FORMATS)})"
        )
    if topic is not None and topic not in TOPICS:
        raise UnknownNameError("topic", topic, closest(topic, TOPICS))
    if runs is not None and fmt != "html":
        raise CheatsheetError("--runs embeds pictures in the html sheet: add --format html")
    output = output or Path(f"sheet.{fmt}")
    report = write_sheet(output, fmt, topic, runs=runs)
    if as_json:
        emit_json(report)
    else:
        console.print(
            f"wrote {report['formulas']} formulas to {output}: {report['derived']} derived, "
            f"{report['definition']} definitions, {report['cross-checked']} cross-checked, "
            f"{report['not checked here']} not checked here, {report['errata']} errata marked"
            + (
                f" ({report['errata not checked in this install']} not checked in this "
                "install: pip install 'cheatsheet\\[models]')"
                if report["errata not checked in this install"]
                else ""
            )
            + (f", {report['failed']} FAILED" if report["failed"] else "")
        )
    if report["failed"]:
        raise CheckFailed(f"{report['failed']} formula check(s) failed; see {output}")


def bank_check(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A bank file or directory (default: quizzes/banks/ and every template)."
        ),
    ] = None,
    variants: Annotated[
        int, typer.Option("--variants", min=1, max=100, help="Variants per template.")
    ] = 5,
    recheck: Annotated[
        bool,
        typer.Option("--recheck", help="Check every question again; ignore cached verdicts."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Validate banks: schema, own answer accepted, perturbed and mutant answers refused.
    Verdicts are cached until a bank file, the quiz or formula code or a library version
    changes; --recheck checks everything again."""
    from quizzes.bankcheck import check_banks

    report = check_banks(path, variants=variants, recheck=recheck)
    if as_json:
        emit_json(report)
    else:
        for problem in report["problems"]:
            console.print(f"[red]✗[/] {problem}", soft_wrap=True)
        for warning in report["warnings"]:
            console.print(f"[yellow]![/] {warning}", soft_wrap=True)
        console.print(
            f"{report['questions']} questions in {report['files']} file(s), "
            f"{report['templates']} template(s) x {variants} variants, "
            f"{report['mutants']} mutants refused: "
            + (
                "[green]ok[/]"
                if not report["problems"]
                else f"[red]{len(report['problems'])} problem(s)[/]"
            )
            + (
                " (cached: nothing they depend on changed; --recheck checks again)"
                if report.get("cached")
                else ""
            )
        )
    if report["problems"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app (each command is a function above)."""
    app.command("quiz")(quiz)
    app.command("exam")(exam)
    app.command("review")(review)
    app.command("stats")(stats)
    app.command("check")(check)
    app.command("plan")(plan)
    export_app = typer.Typer(
        help="Export an Anki deck or the verified cheat sheet.", no_args_is_help=True
    )
    export_app.command("anki")(export_anki)
    export_app.command("sheet")(export_sheet)
    app.add_typer(export_app, name="export")
    bank_app = typer.Typer(help="Question banks.", no_args_is_help=True)
    bank_app.command("check")(bank_check)
    app.add_typer(bank_app, name="bank")
