"""Planning: a day-by-day study plan until the exam, and the picks of a mock exam.

`make_plan` puts each due card on its due day (overdue ones today), spreads the questions never
seen over the first days (leaving the last days for their first reviews), sends every card
that would next come due only after the exam to a refresh in the last two days, and names the
weakest topics (lowest accuracy) as each day's focus, in rotation. So every question is seen,
and every card reviewed, before the date.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from formulas.errors import CheatsheetError
from quizzes.catalog import Catalog, Pick
from quizzes.store import Store, now_utc


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


def make_plan(
    catalog: Catalog, store: Store, exam_day: dt.date, today: dt.date | None = None
) -> dict[str, Any]:
    today = today or now_utc().date()
    if exam_day <= today:
        raise CheatsheetError(f"--exam {exam_day}: the exam must be after today ({today})")
    days = [today + dt.timedelta(days=i) for i in range((exam_day - today).days)]
    schedule: dict[dt.date, dict[str, list]] = {
        day: {"review": [], "new": [], "refresh": []} for day in days
    }
    cards = store.cards()
    seen = {card.card_id for card in cards}
    for card in cards:
        due = card.due.date()
        if due < exam_day:
            schedule[max(due, today)]["review"].append(card.card_id)
        else:
            # not due again before the exam: one refresh in the last two days
            last = days[-2:] if len(days) >= 2 else days
            schedule[last[len(schedule[last[0]]["refresh"]) % len(last)]]["refresh"].append(
                card.card_id
            )
    unseen: list[tuple[str, str]] = []
    for topic in catalog.topics():
        for pick in catalog.pool(topic):
            if pick.card_id not in seen:
                unseen.append((topic, pick.card_id))
                seen.add(pick.card_id)
    learning_days = days[: max(1, (len(days) * 4) // 5)] if len(days) > 2 else days[:1]
    for index, (_, card_id) in enumerate(unseen):
        schedule[learning_days[index * len(learning_days) // max(1, len(unseen))]]["new"].append(
            card_id
        )
    accuracy: dict[str, list[int]] = {}
    for answer in store.answers():
        entry = accuracy.setdefault(answer["topic"], [0, 0])
        entry[0] += 1
        entry[1] += int(answer["correct"])
    weakest = sorted(
        (topic for topic, (n, k) in accuracy.items() if k / n < 0.8),
        key=lambda topic: accuracy[topic][1] / accuracy[topic][0],
    )
    never = [t for t in catalog.topics() if t not in accuracy]
    focus_cycle = weakest + never
    plan_days = []
    for index, day in enumerate(days):
        entry = schedule[day]
        focus = [focus_cycle[index % len(focus_cycle)]] if focus_cycle else []
        plan_days.append(
            {
                "date": day.isoformat(),
                "review": entry["review"],
                "new": entry["new"],
                "refresh": entry["refresh"],
                "focus": focus,
                "total": len(entry["review"]) + len(entry["new"]) + len(entry["refresh"]),
            }
        )
    return {
        "exam": exam_day.isoformat(),
        "today": today.isoformat(),
        "days": plan_days,
        "unseen": len(unseen),
        "cards": len(cards),
        "weakest_topics": weakest,
    }


def print_plan(plan: dict[str, Any], console: Any) -> None:
    console.print(
        f"[bold]Plan until the exam on {plan['exam']}[/]: {plan['unseen']} new question(s), "
        f"{plan['cards']} card(s) in review"
        + (f", weakest: {', '.join(plan['weakest_topics'])}" if plan["weakest_topics"] else "")
    )
    for day in plan["days"]:
        parts = []
        if day["review"]:
            parts.append(f"{len(day['review'])} due")
        if day["new"]:
            parts.append(f"{len(day['new'])} new")
        if day["refresh"]:
            parts.append(f"{len(day['refresh'])} refresh")
        focus = f"  focus: {', '.join(day['focus'])}" if day["focus"] else ""
        console.print(f"  {day['date']}  {', '.join(parts) or 'rest'}{focus}")
