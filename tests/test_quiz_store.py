"""The progress store: one transaction per answer, survives SIGKILL, two writers at once,
damaged files reported and kept, schema migrations."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quizzes.store import SCHEMA_VERSION, Store, StoreDamaged, open_store

ROOT = Path(__file__).resolve().parents[1]
BANKS = ROOT / "tests" / "data" / "banks"


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CHEATSHEET_HOME": str(home),
        "CHEATSHEET_BANKS": str(BANKS),
        "NO_COLOR": "1",
    }


def test_record_schedules_with_fsrs(tmp_path):
    store = open_store(tmp_path)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    wrong = store.record_answer(question_id="a", topic="vae", correct=False, when=start)
    assert wrong.due - start <= dt.timedelta(minutes=10)  # Again: back within minutes
    for day in range(4):
        state = store.record_answer(
            question_id="b",
            topic="vae",
            correct=True,
            rating="easy",
            when=start + dt.timedelta(days=day * 10),
        )
    assert state.due - (start + dt.timedelta(days=30)) > dt.timedelta(days=10)  # Easy spaces out
    assert [c.card_id for c in store.due(until=start + dt.timedelta(hours=1))] == ["a"]
    assert len(store.answers("vae")) == 5 and store.version == SCHEMA_VERSION


def test_generated_questions_share_their_templates_card(tmp_path):
    store = open_store(tmp_path)
    store.record_answer(question_id="alpha-bar-draw@5", topic="diffusion", correct=True)
    store.record_answer(question_id="alpha-bar-draw@9", topic="diffusion", correct=False)
    (card,) = store.cards()
    assert card.card_id == "alpha-bar-draw" and card.reviews == 2 and card.lapses == 1


def test_damaged_database_is_reported_and_kept(tmp_path):
    path = tmp_path / "progress.sqlite3"
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    with pytest.raises(StoreDamaged, match="damaged"):
        Store(path)
    run = subprocess.run(
        [sys.executable, "-m", "cheatsheet", "stats", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
    )
    assert run.returncode == 2 and "damaged" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) <= 2
    assert path.read_bytes() == garbage


def test_truncated_database_is_reported_and_kept(tmp_path):
    store = open_store(tmp_path)
    for i in range(200):
        store.record_answer(question_id=f"q{i}", topic="vae", correct=True, given="x" * 200)
    store.close()
    path = tmp_path / "progress.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    data = path.read_bytes()
    damaged = data[:4096] + b"\x00" * 100 + data[4196 : len(data) // 2]
    path.write_bytes(damaged)
    with pytest.raises(StoreDamaged):
        Store(path)
    assert path.read_bytes() == damaged


def test_migration_from_an_empty_v0_file_and_refusal_of_a_newer_one(tmp_path):
    path = tmp_path / "progress.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE unrelated (x)").connection.commit()
    store = Store(path)
    assert store.version == SCHEMA_VERSION
    store.record_answer(question_id="q", topic="vae", correct=True)
    store.db.execute("PRAGMA user_version = 99")
    store.close()
    with pytest.raises(StoreDamaged, match="newer"):
        Store(path)


WRITER = """
import sys
from quizzes.store import open_store
store = open_store(sys.argv[1])
for i in range(40):
    store.record_answer(question_id=f"{sys.argv[2]}-{i % 5}", topic="vae", correct=i % 3 > 0)
"""


def test_two_processes_at_once_corrupt_nothing(tmp_path):
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name], cwd=ROOT)
        for name in ("left", "right")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    store = open_store(tmp_path)
    assert len(store.answers()) == 80
    assert {c.card_id: c.reviews for c in store.cards()} == {
        f"{name}-{i}": 8 for name in ("left", "right") for i in range(5)
    }
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _numeric_vae_quiz(home: Path, stderr=None) -> subprocess.Popen:
    """A 3-question numeric vae quiz (seed 1) reading its answers from stdin, JSON out."""
    command = [sys.executable, "-m", "cheatsheet", "quiz", "vae", "--n", "3", "--seed", "1"]
    command += ["--kind", "numeric", "--answers", "-", "--json"]
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=_env(home),
        cwd=ROOT,
        text=True,
    )


def test_sigkill_mid_quiz_loses_nothing_already_answered(tmp_path):
    quiz = _numeric_vae_quiz(tmp_path)
    quiz.stdin.write("0\n")
    quiz.stdin.flush()
    quiz.stdout.readline()  # the first result is out, so it has been committed before
    quiz.stdin.write("1\n")  # any number is a valid answer to a numeric question
    quiz.stdin.flush()
    quiz.stdout.readline()
    quiz.send_signal(signal.SIGKILL)  # mid-quiz: the third question is waiting for an answer
    quiz.wait(timeout=30)
    store = open_store(tmp_path)
    answers = store.answers()
    assert len(answers) == 2
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # and the store goes on working
    store.record_answer(question_id="after", topic="vae", correct=True)
    assert len(store.answers()) == 3


def test_ctrl_c_keeps_answers(tmp_path):
    quiz = _numeric_vae_quiz(tmp_path, stderr=subprocess.PIPE)
    quiz.stdin.write("0\n")
    quiz.stdin.flush()
    quiz.stdout.readline()
    time.sleep(0.2)
    quiz.send_signal(signal.SIGINT)
    _, err = quiz.communicate(timeout=90)
    assert quiz.returncode == 130 and "Traceback" not in err, (quiz.returncode, err)
    assert len(open_store(tmp_path).answers()) == 1
