"""The quiz commands end to end (subprocess, fixture banks): answers from a file and from
stdin, --json results, exit codes 0/1/2, check by the id a quiz reports, exports."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BANKS = ROOT / "tests" / "data" / "banks"


def cheatsheet(*args: str, home: Path, stdin: str | None = None, timeout: int = 120):
    env = {
        **os.environ,
        "CHEATSHEET_HOME": str(home),
        "CHEATSHEET_BANKS": str(BANKS),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "cheatsheet", *args],
        input=stdin or "",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def _results(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def in_process(args: list[str], monkeypatch, capsys, home: Path) -> tuple[int, str, str]:
    """`cheatsheet ARGS` through the real entry point, in this process (fast), exit code kept."""
    from cheatsheet.cli import main

    monkeypatch.setenv("CHEATSHEET_HOME", str(home))
    monkeypatch.setenv("CHEATSHEET_BANKS", str(BANKS))
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(args)
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_quiz_from_a_file_then_check_each_reported_id(tmp_path, monkeypatch, capsys):
    args = ("quiz", "diffusion", "--n", "6", "--seed", "11", "--json")
    first = cheatsheet(*args, home=tmp_path, stdin="")
    assert first.returncode == 2 and "no answers" in first.stderr  # stdin empty, no prompt
    # Learn the ids from a dry run with deliberately unreadable answers (never recorded).
    dry = cheatsheet(*args, "--answers", "-", home=tmp_path, stdin="\n" * 6)
    ids = [r["id"] for r in _results(dry.stdout)]
    assert len(ids) == 6 and all(not r["valid"] for r in _results(dry.stdout))
    answers = tmp_path / "answers.txt"
    # the `expected` of each result is an answer (options are shuffled per attempt, and the
    # same seed repeats the shuffle)
    answers.write_text("\n".join(r["expected"] for r in _results(dry.stdout)) + "\n")
    run = cheatsheet(*args, "--answers", str(answers), home=tmp_path)
    results = _results(run.stdout)
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in results] == ids  # same seed, same quiz
    assert all(r["correct"] for r in results)
    for key in ("id", "prompt", "given", "expected", "correct", "feedback"):
        assert key in results[0]
    # `check` marks the same question from its reported id, with or without the seed.
    for result in results:
        for extra in ((), ("--seed", "11")):
            code, out, err = in_process(
                ["check", result["id"], *extra, "--answer", result["given"], "--json"],
                monkeypatch,
                capsys,
                tmp_path,
            )
            assert code == 0, (result["id"], out, err)
            checked = json.loads(out)
            if result["kind"] == "choice":  # check asks the options in their stored order
                assert checked["expected"].split(") ", 1)[1] == result["expected"].split(") ", 1)[1]
                assert sorted(checked["options"]) == sorted(result["options"])
            else:
                assert checked["expected"] == result["expected"]


def test_wrong_answer_exit_1_and_feedback(tmp_path):
    run = cheatsheet(
        "check",
        "fx-diffusion-forward-mean",
        "--answer",
        "sqrt(alpha_t)*x_0",
        "--json",
        home=tmp_path,
    )
    assert run.returncode == 1
    payload = json.loads(run.stdout)
    assert payload["correct"] is False and "alpha-bar_t" in payload["feedback"]
    right = cheatsheet(
        "check", "fx-diffusion-forward-mean", "--answer", r"\sqrt{\bar\alpha_t}\,x_0", home=tmp_path
    )
    assert right.returncode == 0 and "Correct" in right.stdout


def test_a_matrix_for_a_number_is_a_wrong_answer(tmp_path, monkeypatch, capsys):
    """A readable answer of the wrong kind is marked wrong with the reason (exit 1, as any
    wrong answer), never a TypeError traceback (sympy cannot subtract the two)."""
    column = r"\begin{pmatrix}1\\2\end{pmatrix}"
    code, out, err = in_process(
        ["check", "fx-diffusion-forward-mean", "--answer", column, "--json"],
        monkeypatch,
        capsys,
        tmp_path,
    )
    assert code == 1, (out, err)
    payload = json.loads(out)
    assert payload["correct"] is False and payload["valid"] is True
    assert "a 2 x 1 matrix where a number is expected" in payload["feedback"]
    code, out, err = in_process(
        ["check", "fx-diffusion-forward-mean", "--answer", column], monkeypatch, capsys, tmp_path
    )
    assert code == 1 and "matrix where a number is expected" in out and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ("check", "fx-diffusion-forward-mean", "--answer", "sqrt(alpha_bar)"),
            "did you mean abar_t",
        ),
        (("check", "fx-diffusion-forward-mean", "--answer", "__import__('os')"), "invalid"),
        (
            ("check", "fx-diffusion-forwrd-mean", "--answer", "1"),
            "did you mean fx-diffusion-forward-mean",
        ),
        (("quiz", "difusion"), "did you mean diffusion"),
        (("quiz", "diffusion", "--kind", "symbolc"), "did you mean symbolic"),
        (("plan", "--exam", "next week"), "YYYY-MM-DD"),
        (("bank", "check", "no/such/dir"), "no bank file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, needle):
    run = cheatsheet(*args, home=tmp_path)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert needle in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_invalid_lines_are_reported_not_recorded_and_quiz_goes_on(tmp_path):
    from quizzes.engine import perturbed_answer

    args = (
        "quiz",
        "vae",
        "--n",
        "2",
        "--seed",
        "5",
        "--kind",
        "symbolic",
        "--answers",
        "-",
        "--json",
    )
    dry = _results(cheatsheet(*args, home=tmp_path, stdin="\n\n").stdout)
    os.environ["CHEATSHEET_BANKS"] = str(BANKS)
    try:
        from quizzes.catalog import Catalog

        second = Catalog().find(dry[1]["id"])
    finally:
        del os.environ["CHEATSHEET_BANKS"]
    run = cheatsheet(*args, home=tmp_path, stdin=f"alpha_bar\n{perturbed_answer(second)}\n")
    results = _results(run.stdout)
    assert run.returncode == 1
    assert results[0]["valid"] is False and "unknown symbol 'alpha_bar'" in results[0]["feedback"]
    assert results[1]["valid"] is True and results[1]["correct"] is False
    stats = json.loads(cheatsheet("stats", "--json", home=tmp_path).stdout)
    assert stats["answered"] == 1 and stats["topics"]["vae"]["answered"] == 1


def test_stats_review_plan_and_plot(tmp_path):
    cheatsheet(
        "quiz",
        "diffusion",
        "--n",
        "3",
        "--seed",
        "2",
        "--answers",
        "-",
        home=tmp_path,
        stdin="0\n0\n0\n",
    )
    stats = cheatsheet(
        "stats", "diffusion", "--json", "--plot", str(tmp_path / "acc.png"), home=tmp_path
    )
    assert stats.returncode == 0
    report = json.loads(stats.stdout)
    assert report["answered"] >= 1 and report["streak_days"] == 1
    assert (tmp_path / "acc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # wrong answers are due again within minutes: review finds nothing yet, in time it will
    review = cheatsheet("review", "--json", home=tmp_path, stdin="")
    assert review.returncode == 0
    plan = cheatsheet("plan", "--exam", "2099-01-10", "--json", home=tmp_path)
    payload = json.loads(plan.stdout)
    assert plan.returncode == 0 and payload["days"]
    scheduled = {c for day in payload["days"] for c in day["new"] + day["review"] + day["refresh"]}
    assert payload["unseen"] + payload["cards"] == len(scheduled)
    assert [day["kind"] for day in payload["days"][-2:]] == ["mock-exam", "review"]


def test_exam_grades_per_topic(tmp_path):
    run = cheatsheet(
        "exam",
        "--n",
        "4",
        "--seed",
        "3",
        "--answers",
        "-",
        "--json",
        home=tmp_path,
        stdin="0\n0\n0\n0\n",
    )
    payload = json.loads(run.stdout)["exam"]  # one object: no per-question lines in an exam
    assert payload["questions"] == 4 == len(payload["results"])
    assert sum(t["questions"] for t in payload["per_topic"].values()) == 4
    assert payload["passed"] == (payload["correct"] / 4 >= 0.5)
    assert run.returncode == (0 if payload["passed"] else 1)


def test_export_anki_is_a_deck_with_stable_guids(tmp_path):
    deck = tmp_path / "deck.apkg"
    run = cheatsheet("export", "anki", "diffusion", "-o", str(deck), "--json", home=tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    with zipfile.ZipFile(deck) as archive:
        archive.extract("collection.anki2", tmp_path)
    db = sqlite3.connect(tmp_path / "collection.anki2")
    notes = db.execute("SELECT guid, flds, tags FROM notes").fetchall()
    assert len(notes) == report["notes"] >= 8
    import genanki

    fields = {flds.split("\x1f")[0]: (guid, flds) for guid, flds, _ in notes}
    assert fields["fx-diffusion-forward-mean"][0] == genanki.guid_for("fx-diffusion-forward-mean")
    assert r"\(\sqrt{\bar{\alpha}_t}" in fields["fx-diffusion-forward-mean"][1] or (
        r"\(" in fields["fx-diffusion-forward-mean"][1]
    )
    again = tmp_path / "again.apkg"
    cheatsheet("export", "anki", "diffusion", "-o", str(again), home=tmp_path)
    with zipfile.ZipFile(again) as archive:
        archive.extract("collection.anki2", tmp_path / "b")
    guids = {
        g
        for g, _, _ in sqlite3.connect(tmp_path / "b" / "collection.anki2").execute(
            "SELECT guid, flds, tags FROM notes"
        )
    }
    assert guids == {g for g, _, _ in notes}  # re-export: same GUIDs, so Anki updates


def test_bank_check_cli(tmp_path):
    ok = cheatsheet("bank", "check", str(BANKS / "vae.toml"), "--json", home=tmp_path)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"]
    bad = cheatsheet("bank", "check", str(ROOT / "tests" / "data" / "bad_banks"), home=tmp_path)
    assert bad.returncode == 1 and "vae.toml:4: id" in bad.stdout


def test_review_asks_due_cards_and_points_elsewhere_for_backprop(tmp_path):
    import datetime as dt

    from quizzes.store import open_store

    store = open_store(tmp_path)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    store.record_answer(question_id="fx-vae-kl-value", topic="vae", correct=False, when=past)
    store.record_answer(
        question_id="backprop:conv:dE/dX@3",
        card_id="backprop:conv:dE/dX",
        topic="backprop",
        correct=False,
        when=past,
    )
    store.close()
    run = cheatsheet("review", "--answers", "-", "--json", home=tmp_path, stdin="0\n")
    (result,) = _results(run.stdout)
    assert run.returncode == 0 and result["id"] == "fx-vae-kl-value" and result["correct"]
    human = cheatsheet("review", "--answers", "-", home=tmp_path, stdin="")
    assert "1 due backprop card(s) are asked elsewhere" in human.stdout
