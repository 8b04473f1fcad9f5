"""Planning: a day-by-day study plan until the exam, and the picks of a mock exam.

`make_plan` works as a student two weeks before the exam would with Anki:
- new material (every question or template never answered) is spread evenly over the
  learning days, at most `per_day` a day;
- every card's reviews sit on the days FSRS says they fall due: the cards already in
  review from their stored state, the new ones from the day they are learned, each review
  simulated with the rating Good (overdue cards land today);
- the last days before the exam are reserved: mock exams and review days, alternating and
  ending with a review day, weakest topics first (accuracy from the answer log; topics never
  answered come after the weak ones); cards that FSRS would next show only after the exam get
  one refresh there;
- each day has a kind ("learn", "review", "mock-exam", or "rest" only when there is truly
  nothing to do, and then no topics), its topics and its question count.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from formulas.errors import CheatsheetError
from quizzes.catalog import Catalog, Pick
from quizzes.store import Store, now_utc

MOCK_EXAM_QUESTIONS = 20  # as `cheatsheet exam` asks by default
WEAK_TOPIC_PRACTICE = 5  # extra questions per weak topic on a reserved review day
MAX_REVIEWS_PER_CARD = 20  # a bound on the FSRS simulation of one card


def exam_picks(catalog: Catalog, n: int, seed: int | None) -> list[Pick]:
    """n questions across every topic, round robin over a shuffled order of topics."""
    rng = random.Random(seed)
    topics = catalog.topics()
    rng.shuffle(topics)
    pools = {topic: catalog.pool(topic) for topic in topics}
    for pool in pools.values():
        rng.shuffle(pool)
    picks: list[Pick] = []
    while len(picks) < n and any(pools.values()):
        for topic in topics:
            if pools[topic] and len(picks) < n:
                pick = pools[topic].pop()
                if pick.template is not None:
                    pick = Pick(template=pick.template, variant=rng.randrange(1_000_000))
                picks.append(pick)
    return picks


def reserved_days(count: int) -> int:
    """How many of the last days go to mock exams and review: a fifth, 1 to 5."""
    if count <= 1:
        return count
    return max(1, min(5, round(count / 5)))


def weakest_topics(store: Store, topics: list[str]) -> tuple[list[str], dict[str, float]]:
    """Every topic, weakest first: answered ones by accuracy (lowest first), then the ones
    never answered; and the accuracies."""
    counts: dict[str, list[int]] = {}
    for answer in store.answers():
        entry = counts.setdefault(answer["topic"], [0, 0])
        entry[0] += 1
        entry[1] += int(answer["correct"])
    accuracy = {topic: k / n for topic, (n, k) in counts.items()}
    seen = sorted(accuracy, key=lambda topic: (accuracy[topic], topic))
    return seen + [t for t in topics if t not in accuracy], accuracy


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def review_days(store: Store, card: Any, first: dt.date, exam_day: dt.date) -> list[dt.date]:
    """The days before the exam on which FSRS brings `card` back, from `first` on, if each
    review is rated Good (learning steps within a day count once)."""
    from fsrs import Rating

    days: list[dt.date] = []
    day = first
    for _ in range(MAX_REVIEWS_PER_CARD):
        if day >= exam_day:
            break
        if not days or days[-1] != day:
            days.append(day)
        card, _ = store.scheduler.review_card(card, Rating.Good, review_datetime=_noon(day))
        day = max(card.due.date(), day)
    return days


def make_plan(
    catalog: Catalog,
    store: Store,
    exam_day: dt.date,
    today: dt.date | None = None,
    per_day: int | None = None,
) -> dict[str, Any]:
    from fsrs import Card

    today = today or now_utc().date()
    if exam_day <= today:
        raise CheatsheetError(f"--exam {exam_day}: the exam must be after today ({today})")
    days = [today + dt.timedelta(days=i) for i in range((exam_day - today).days)]
    reserved = reserved_days(len(days))
    learning = days[: len(days) - reserved] or days[:1]
    reserve = days[len(days) - reserved :]
    schedule: dict[dt.date, dict[str, list]] = {
        day: {"review": [], "new": [], "refresh": []} for day in days
    }
    topic_of: dict[str, str] = {}

    # cards already in review: on their due days, then wherever FSRS sends them next
    cards = store.cards()
    seen = {card.card_id for card in cards}
    for state in cards:
        topic_of[state.card_id] = state.topic
        due = max(state.due.date(), today)
        card = store._card(state.card_id)
        if due >= exam_day:
            continue
        for day in review_days(store, card, due, exam_day):
            schedule[day]["review"].append(state.card_id)

    # new material: evenly over the learning days (at most per_day a day)
    unseen: list[tuple[str, str]] = []
    for topic in catalog.topics():
        for pick in catalog.pool(topic):
            for card_id in pick.card_ids:  # a recall template: a fact per formula it asks
                if card_id not in seen:
                    unseen.append((topic, card_id))
                    seen.add(card_id)
                    topic_of[card_id] = topic
    per_learning_day = math.ceil(len(unseen) / len(learning)) if unseen else 0
    if per_day is not None:
        per_learning_day = min(per_learning_day, per_day)
    left_over = max(0, len(unseen) - per_learning_day * len(learning))
    for index, (_, card_id) in enumerate(unseen[: len(unseen) - left_over]):
        day = learning[index // per_learning_day]
        schedule[day]["new"].append(card_id)
        for later in review_days(store, Card(), day, exam_day)[1:]:
            schedule[later]["review"].append(card_id)

    # cards FSRS would show only after the exam: one refresh in the reserved days
    last_review: dict[str, dt.date] = {}
    for day in days:
        for card_id in schedule[day]["review"] + schedule[day]["new"]:
            last_review[card_id] = day
    stale = [c for c in topic_of if c not in last_review or last_review[c] < reserve[0]]
    review_reserve = [day for i, day in enumerate(reversed(reserve)) if i % 2 == 0]
    for index, card_id in enumerate(stale):
        schedule[review_reserve[index % len(review_reserve)]]["refresh"].append(card_id)

    order, accuracy = weakest_topics(store, catalog.topics())
    weak = [t for t in order if accuracy.get(t, 0.0) < 0.8][:3] or order[:3]
    plan_days = []
    for day in days:
        entry = schedule[day]
        ids = entry["review"] + entry["new"] + entry["refresh"]
        count = len(ids)
        topics_today = sorted({topic_of[c] for c in ids}, key=order.index)
        if day in reserve and day not in review_reserve:
            kind = "mock-exam"
            topics_today = list(order)
            count += MOCK_EXAM_QUESTIONS
            command = f"cheatsheet exam --n {MOCK_EXAM_QUESTIONS}"
        elif day in reserve:
            kind = "review"
            topics_today = weak + [t for t in topics_today if t not in weak]
            count += WEAK_TOPIC_PRACTICE * len(weak)
            command = "cheatsheet review, then " + ", ".join(
                f"cheatsheet quiz {t} --n {WEAK_TOPIC_PRACTICE}" for t in weak
            )
        elif entry["new"]:
            kind = "learn"
            command = ", ".join(
                f"cheatsheet quiz {t}" for t in sorted({topic_of[c] for c in entry["new"]})
            )
            if entry["review"]:
                command = "cheatsheet review, then " + command
        elif entry["review"]:
            kind = "review"
            command = "cheatsheet review"
        else:
            kind, topics_today, command = "rest", [], ""
        plan_days.append(
            {
                "date": day.isoformat(),
                "kind": kind,
                "topics": topics_today,
                "question_count": count,
                "review": entry["review"],
                "new": entry["new"],
                "refresh": entry["refresh"],
                "command": command,
            }
        )
    return {
        "exam": exam_day.isoformat(),
        "today": today.isoformat(),
        "days": plan_days,
        "unseen": len(unseen),
        "not_fitting": left_over,
        "cards": len(cards),
        "reserved_days": reserved,
        "weakest_topics": weak,
        "topic_accuracy": {t: round(a, 3) for t, a in accuracy.items()},
    }


def print_plan(plan: dict[str, Any], console: Any) -> None:
    console.print(
        f"[bold]Plan until the exam on {plan['exam']}[/]: {plan['unseen']} new question(s), "
        f"{plan['cards']} card(s) in review, the last {plan['reserved_days']} day(s) for "
        "mock exams and review"
        + (f"; weakest: {', '.join(plan['weakest_topics'])}" if plan["weakest_topics"] else "")
    )
    if plan["not_fitting"]:
        console.print(
            f"[yellow]{plan['not_fitting']} new question(s) do not fit before the exam at this "
            "--per-day[/]"
        )
    for day in plan["days"]:
        parts = []
        if day["new"]:
            parts.append(f"{len(day['new'])} new")
        if day["review"]:
            parts.append(f"{len(day['review'])} due")
        if day["refresh"]:
            parts.append(f"{len(day['refresh'])} refresh")
        if day["kind"] == "mock-exam":
            parts.append(f"mock exam of {MOCK_EXAM_QUESTIONS}")
        topics = f"  [dim]{', '.join(day['topics'])}[/]" if day["topics"] else ""
        console.print(
            f"  {day['date']}  {day['kind']:9s} {day['question_count']:4d}  "
            f"{', '.join(parts)}{topics}"
        )


def review_picks(
    catalog: Any,
    due_cards: list[Any],
    n: int,
    seed: int | None,
    last: dict[str, str] | None = None,
):
    """What `review` asks: the due cards in the store's order (most overdue first), at most n,
    each a fresh variant of its template (a fact card: one of its forms, seeded, not the one
    asked last time, `last` card id -> question id, where it has another); and per topic how
    many due cards another command asks (backprop drills) or that no bank holds any more."""
    from quizzes.catalog import Pick
    from quizzes.repetition import is_fact_card, pick_for_card

    rng = random.Random(seed)
    picks: list[Any] = []
    elsewhere: dict[str, int] = {}
    last = last or {}
    for card in due_cards:
        if len(picks) >= n:
            break
        if is_fact_card(card.card_id):
            item = pick_for_card(catalog, card.card_id, card.topic, rng, last.get(card.card_id))
        else:
            item = catalog.find_item(card.card_id)
        if item is None:
            elsewhere[card.topic] = elsewhere.get(card.topic, 0) + 1
            continue
        if item.template is not None and item.variant is None:
            item = Pick(template=item.template, variant=rng.randrange(1_000_000))
        picks.append(item)
    return picks, elsewhere
