"""Progress: every answer and every spaced-repetition card, in SQLite under the data dir.

    from quizzes.store import open_store
    store = open_store()                          # --home / CHEATSHEET_HOME / platformdirs
    store.record_answer(question_id="backprop-mlp@17", topic="backprop", correct=True,
                        given="0.25", card_id="backprop-mlp", kind="numeric")
    store.due(topic="backprop")                   # cards the scheduler says are due now

Safety, as the issue asks:
- each answer is one transaction (BEGIN IMMEDIATE ... COMMIT), so Ctrl-C or a killed process
  loses nothing already answered;
- WAL journal and a busy timeout, so two quiz processes at once wait for each other instead
  of corrupting anything;
- a file that is not a healthy SQLite database is reported (StoreDamaged, exit 2) and left
  exactly as it is, never replaced;
- the schema is versioned with PRAGMA user_version and upgraded by the MIGRATIONS list.

Scheduling is FSRS (the `fsrs` package): one card per fact for recall questions (every form of
a formula, `fact:<formula-id>`), one per bank question or template for computations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formulas.errors import CheatsheetError

DB_NAME = "progress.sqlite3"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0


def _fact_cards(store: Store) -> None:
    """1 -> 2: every form of a fact shares one FSRS card (quizzes.repetition). Answers to recall
    questions move from their question's or template's card to `fact:<formula-id>`, as their
    own kind and formulas say; every card that gained or lost answers is rebuilt by replaying
    its answers, in order, through FSRS, so no review is lost. Runs inside the migration's
    transaction: all of it or none of it."""
    from fsrs import Card, Rating

    from quizzes.repetition import card_for

    moved: set[str] = set()
    rows = store.db.execute("SELECT id, card_id, kind, formulas FROM answers").fetchall()
    for answer_id, card_id, kind, formulas in rows:
        try:
            names = json.loads(formulas or "[]")
        except ValueError:
            continue
        target = card_for(kind, names if isinstance(names, list) else [], card_id)
        if target != card_id:
            store.db.execute("UPDATE answers SET card_id = ? WHERE id = ?", (target, answer_id))
            moved.update((card_id, target))
    for card_id in sorted(moved):
        answers = store.db.execute(
            "SELECT answered_at, topic, correct, rating FROM answers WHERE card_id = ? "
            "ORDER BY answered_at, id",
            (card_id,),
        ).fetchall()
        if not answers:
            store.db.execute("DELETE FROM cards WHERE card_id = ?", (card_id,))
            continue
        card = Card(card_id=_stable_int(card_id))
        for answered_at, _, _, rating in answers:
            grade = RATING_NAMES.index(rating) + 1 if rating in RATING_NAMES else 3
            card, _ = store.scheduler.review_card(
                card, Rating(grade), review_datetime=dt.datetime.fromisoformat(answered_at)
            )
        store.db.execute(
            "INSERT INTO cards (card_id, topic, fsrs, due, reviews, lapses) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(card_id) DO UPDATE SET topic = excluded.topic, fsrs = excluded.fsrs, "
            "due = excluded.due, reviews = excluded.reviews, lapses = excluded.lapses",
            (
                card_id,
                answers[-1][1],
                card.to_json(),
                card.due.isoformat(),
                len(answers),
                sum(1 for answer in answers if not answer[2]),
            ),
        )


# Each entry upgrades the schema from version i to i + 1; never edit an applied one. An entry
# is SQL, or a function of the store run inside the same transaction.
MIGRATIONS: list[Any] = [
    # 0 -> 1: answers, cards, sessions
    """
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        answered_at TEXT NOT NULL,
        session_id TEXT,
        question_id TEXT NOT NULL,
        card_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        kind TEXT NOT NULL,
        given TEXT NOT NULL,
        correct INTEGER NOT NULL,
        seconds REAL,
        rating TEXT NOT NULL,
        formulas TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX answers_topic ON answers (topic, answered_at);
    CREATE INDEX answers_card ON answers (card_id);
    CREATE TABLE cards (
        card_id TEXT PRIMARY KEY,
        topic TEXT NOT NULL,
        fsrs TEXT NOT NULL,
        due TEXT NOT NULL,
        reviews INTEGER NOT NULL DEFAULT 0,
        lapses INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX cards_due ON cards (due);
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        mode TEXT NOT NULL,
        topic TEXT,
        seed INTEGER
    );
    """,
    # 1 -> 2: FSRS cards per fact (recall forms of one formula share a card)
    _fact_cards,
]
SCHEMA_VERSION = len(MIGRATIONS)
RATING_NAMES = ("again", "hard", "good", "easy")


class StoreDamaged(CheatsheetError):
    """The progress database cannot be read; it is kept untouched (exit 2)."""


def data_dir(home: str | os.PathLike | None = None) -> Path:
    """--home, else CHEATSHEET_HOME, else the platformdirs user data dir."""
    if home:
        return Path(home).expanduser()
    if os.environ.get("CHEATSHEET_HOME"):
        return Path(os.environ["CHEATSHEET_HOME"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("cheatsheet", appauthor=False))


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big")


@dataclass(frozen=True)
class CardState:
    card_id: str
    topic: str
    due: dt.datetime
    reviews: int
    lapses: int


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._check_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._scheduler = None
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            check = self.db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check)
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise self._damaged(str(error)) from None

    # opening ------------------------------------------------------------------------------------
    def _damaged(self, detail: str) -> StoreDamaged:
        return StoreDamaged(
            f"progress database {self.path} is damaged ({detail}); it is kept as it is: move it "
            f"away or restore a backup, and a fresh one is made on the next run"
        )

    def _check_file(self) -> None:
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
            if header != SQLITE_HEADER:
                raise self._damaged("not an SQLite database")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreDamaged(
                f"progress database {self.path} has schema version {version}, newer than this "
                f"cheatsheet understands ({SCHEMA_VERSION}); upgrade cheatsheet"
            )
        while version < SCHEMA_VERSION:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                # re-read under the write lock: another process may have migrated meanwhile
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version < SCHEMA_VERSION:
                    step = MIGRATIONS[version]
                    if callable(step):
                        step(self)
                    else:
                        for statement in step.split(";"):
                            if statement.strip():
                                self.db.execute(statement)
                    version += 1
                    self.db.execute(f"PRAGMA user_version = {version}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self.db.close()

    @property
    def version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # scheduling ---------------------------------------------------------------------------------
    @property
    def scheduler(self) -> Any:
        if self._scheduler is None:
            from fsrs import Scheduler

            self._scheduler = Scheduler(enable_fuzzing=False)
        return self._scheduler

    def _card(self, card_id: str) -> Any:
        from fsrs import Card

        row = self.db.execute("SELECT fsrs FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        if row:
            return Card.from_json(row[0])
        return Card(card_id=_stable_int(card_id))

    # writing ------------------------------------------------------------------------------------
    def start_session(self, mode: str, topic: str | None = None, seed: int | None = None) -> str:
        session_id = uuid.uuid4().hex[:12]
        self.db.execute(
            "INSERT INTO sessions (id, started_at, mode, topic, seed) VALUES (?, ?, ?, ?, ?)",
            (session_id, now_utc().isoformat(), mode, topic, seed),
        )
        return session_id

    def record_answer(
        self,
        *,
        question_id: str,
        topic: str,
        correct: bool,
        given: str = "",
        card_id: str | None = None,
        kind: str = "numeric",
        seconds: float | None = None,
        rating: str | None = None,
        formulas: tuple[str, ...] | list[str] = (),
        session: str | None = None,
        when: dt.datetime | None = None,
    ) -> CardState:
        """Record one answer and reschedule its card, in one transaction."""
        from fsrs import Rating

        when = when or now_utc()
        card_id = card_id or question_id.partition("@")[0]
        if rating is None:
            from quizzes.engine import rating_for

            rating = rating_for(correct, seconds)
        if rating not in RATING_NAMES:
            raise CheatsheetError(f"unknown rating '{rating}' (one of {', '.join(RATING_NAMES)})")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            card = self._card(card_id)
            card, _ = self.scheduler.review_card(
                card, Rating(RATING_NAMES.index(rating) + 1), review_datetime=when
            )
            self.db.execute(
                "INSERT INTO answers (answered_at, session_id, question_id, card_id, topic, kind,"
                " given, correct, seconds, rating, formulas) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    when.isoformat(),
                    session,
                    question_id,
                    card_id,
                    topic,
                    kind,
                    given,
                    int(bool(correct)),
                    seconds,
                    rating,
                    json.dumps(list(formulas)),
                ),
            )
            self.db.execute(
                "INSERT INTO cards (card_id, topic, fsrs, due, reviews, lapses) "
                "VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(card_id) DO UPDATE SET "
                "fsrs = excluded.fsrs, due = excluded.due, topic = excluded.topic, "
                "reviews = reviews + 1, lapses = lapses + excluded.lapses",
                (card_id, topic, card.to_json(), card.due.isoformat(), int(not correct)),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return self.card_state(card_id)

    def record(self, result: Any, session: str | None = None) -> CardState:
        """Record an engine Result (quizzes.engine.Result)."""
        return self.record_answer(
            question_id=result.id,
            topic=result.topic,
            correct=result.correct,
            given=result.given,
            card_id=result.card_id or None,
            kind=result.kind,
            seconds=result.seconds,
            rating=result.rating,
            formulas=result.formulas,
            session=session,
        )

    # reading ------------------------------------------------------------------------------------
    def card_state(self, card_id: str) -> CardState | None:
        row = self.db.execute(
            "SELECT card_id, topic, due, reviews, lapses FROM cards WHERE card_id = ?", (card_id,)
        ).fetchone()
        return _card_state(row) if row else None

    def last_questions(self) -> dict[str, str]:
        """card id -> the question id of its latest answer (what was asked last time)."""
        rows = self.db.execute(
            "SELECT card_id, question_id FROM answers WHERE id IN "
            "(SELECT MAX(id) FROM answers GROUP BY card_id)"
        ).fetchall()
        return dict(rows)

    def cards(self, topic: str | None = None) -> list[CardState]:
        rows = self.db.execute(
            "SELECT card_id, topic, due, reviews, lapses FROM cards "
            "WHERE (? IS NULL OR topic = ?) ORDER BY due",
            (topic, topic),
        ).fetchall()
        return [_card_state(row) for row in rows]

    def due(self, topic: str | None = None, until: dt.datetime | None = None) -> list[CardState]:
        until = until or now_utc()
        return [card for card in self.cards(topic) if card.due <= until]

    def answers(self, topic: str | None = None) -> list[dict[str, Any]]:
        cursor = self.db.execute(
            "SELECT answered_at, question_id, card_id, topic, kind, given, correct, seconds, "
            "rating, formulas, session_id FROM answers WHERE (? IS NULL OR topic = ?) ORDER BY id",
            (topic, topic),
        )
        names = [column[0] for column in cursor.description]
        rows = []
        for row in cursor.fetchall():
            record = dict(zip(names, row))
            record["correct"] = bool(record["correct"])
            record["formulas"] = json.loads(record["formulas"])
            rows.append(record)
        return rows


def _card_state(row: tuple) -> CardState:
    card_id, topic, due, reviews, lapses = row
    return CardState(card_id, topic, dt.datetime.fromisoformat(due), reviews, lapses)


def open_store(home: str | os.PathLike | None = None) -> Store:
    """The progress store under the data dir (created on first use)."""
    return Store(data_dir(home) / DB_NAME)
