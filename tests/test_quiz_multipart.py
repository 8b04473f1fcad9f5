"""Multipart problems across topics: every topic has five, every one has an independent check
in its topic's file (tests/test_quiz_multipart_<topic>.py recomputes each part from
Question.drawn and marks each part on its own), and a session asks the parts one at a time at a
terminal, one line from a pipe, and rates a problem once in review."""

from __future__ import annotations

from quizzes.catalog import generate, load_templates
from quizzes.questions import TEMPLATES

load_templates()
MULTIPART = sorted(t for t, template in TEMPLATES.items() if template.kind == "multipart")


def test_every_topic_has_five_multipart_problems():
    from formulas.core import TOPICS

    counts = {topic: 0 for topic in TOPICS}
    for template_id in MULTIPART:
        counts[TEMPLATES[template_id].topic] += 1
    assert all(count >= 5 for count in counts.values()), counts


def test_every_multipart_template_has_an_independent_check():
    """Each topic's problems are checked in tests/test_quiz_multipart_<topic>.py (its CHECKS,
    run over every seed by multipart_topic_checks.check_problem); together the files check
    every multipart template, each once, in its own topic's file."""
    import importlib
    from pathlib import Path

    covered: dict[str, str] = {}
    for path in sorted(Path(__file__).parent.glob("test_quiz_multipart_*.py")):
        module = importlib.import_module(path.stem)
        for template_id in module.CHECKS:
            assert template_id not in covered, (template_id, covered.get(template_id), path.name)
            covered[template_id] = path.name
            topic = TEMPLATES[template_id].topic
            assert path.name == f"test_quiz_multipart_{topic}.py", (template_id, path.name)
    assert sorted(covered) == MULTIPART


def test_at_a_terminal_each_part_is_asked_on_its_own():
    from quizzes.engine import Session, lines_reader

    question = generate(TEMPLATES["vae-kl-multipart"], 3)
    answers = [part.answer for part in question.parts]
    answers[1] = "123"  # a slip in (b) only
    shown: list[tuple[str, object]] = []
    session = Session(
        picks=[question],
        read=lines_reader(iter(line + "\n" for line in answers)),
        show=lambda event, payload: shown.append((event, payload)),
        interactive=True,
    )
    (result,) = session.run()
    assert [p["correct"] for p in result.parts] == [True, False, True]
    assert not result.correct and result.feedback.startswith("2/3 parts right")
    asked = [payload["question"].prompt for event, payload in shown if event == "question"]
    assert len(asked) == 3 and "Right results so far" in asked[1]
    assert result.to_json()["parts"][1]["expected"] == question.parts[1].answer


def test_the_terminal_view_asks_each_part_under_its_own_heading():
    """The view a student sees (rich console): the later parts have no help line of their own
    and must not break it (they did: "error: help" after part (a))."""
    import io

    from rich.console import Console

    from quizzes.display import human_display
    from quizzes.engine import Session, lines_reader
    from quizzes.session_view import human_view

    question = generate(TEMPLATES["rl-returns-td-multipart"], 2)
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    session = Session(
        picks=[question],
        read=lines_reader(iter(part.answer + "\n" for part in question.parts)),
        show=human_view(console, human_display(console)),
        interactive=True,
    )
    (result,) = session.run()
    text = out.getvalue()
    assert result.correct, text
    assert "Question 1/1" in text and "Part (b) of 3" in text and "Part (c) of 3" in text
    assert text.count("? to skip") == 1  # the help line once, at the first prompt


def test_from_a_pipe_a_problem_takes_one_line_and_reports_each_part():
    from quizzes.engine import Session, lines_reader
    from quizzes.multipart import SEPARATOR

    question = generate(TEMPLATES["gan-optimum-multipart"], 2)
    answers = [part.answer for part in question.parts]
    answers[2] = "7"  # a slip in (c) only
    session = Session(
        picks=[question],
        read=lines_reader(iter([f" {SEPARATOR} ".join(answers) + "\n"])),
        show=lambda event, payload: None,
        interactive=False,
    )
    (result,) = session.run()
    assert [p["correct"] for p in result.parts] == [True, True, False, True]
    assert result.feedback.startswith("3/4 parts right")
    assert result.to_json()["expected"] == question.answer


def test_quiz_kind_multipart_selects_only_multipart_problems():
    from quizzes.catalog import Catalog

    picks = Catalog().select("all", 6, seed=1, kind="multipart")
    assert picks and all(pick.question().kind == "multipart" for pick in picks)


def test_review_rates_a_problem_once_after_its_last_part():
    """One card per problem: the self-rating (Again/Hard/Good/Easy) is asked once, after the
    last part, not after each right part."""
    from quizzes.engine import RATING_PROMPT, Session

    question = generate(TEMPLATES["rl-returns-td-multipart"], 2)
    lines = iter([part.answer for part in question.parts] + ["4"])
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(lines)

    session = Session(
        picks=[question], read=read, show=lambda event, payload: None, interactive=True
    )
    session.ask_rating = True
    (result,) = session.run()
    assert result.correct and result.rating == "easy"
    assert prompts.count(RATING_PROMPT) == 1 and prompts[-1] == RATING_PROMPT
