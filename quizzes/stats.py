"""Progress in numbers: accuracy per topic, cards due, weakest formulas, the streak."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from quizzes.store import Store, now_utc


def streak(days: set[dt.date], today: dt.date) -> int:
    """Consecutive days with at least one answer, ending today (or yesterday: not broken yet)."""
    day = today if today in days else today - dt.timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= dt.timedelta(days=1)
    return count


def compute_stats(store: Store, topic: str | None = None, now: dt.datetime | None = None) -> dict:
    now = now or now_utc()
    answers = store.answers(topic)
    per_topic: dict[str, dict[str, Any]] = {}
    per_formula: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for answer in answers:
        entry = per_topic.setdefault(answer["topic"], {"answered": 0, "correct": 0})
        entry["answered"] += 1
        entry["correct"] += int(answer["correct"])
        for formula_id in answer["formulas"]:
            per_formula[formula_id][0] += 1
            per_formula[formula_id][1] += int(answer["correct"])
    cards = store.cards(topic)
    week = now + dt.timedelta(days=7)
    for name, entry in per_topic.items():
        entry["accuracy"] = round(entry["correct"] / entry["answered"], 3)
        entry["due_now"] = sum(1 for c in cards if c.topic == name and c.due <= now)
        entry["due_week"] = sum(1 for c in cards if c.topic == name and c.due <= week)
    weakest = sorted(
        (
            {"formula": fid, "answered": n, "correct": k, "accuracy": round(k / n, 3)}
            for fid, (n, k) in per_formula.items()
        ),
        key=lambda row: (row["accuracy"], -row["answered"]),
    )[:5]
    days = {dt.datetime.fromisoformat(a["answered_at"]).date() for a in answers}
    correct = sum(a["correct"] for a in answers)
    return {
        "topic": topic,
        "answered": len(answers),
        "correct": correct,
        "accuracy": round(correct / len(answers), 3) if answers else None,
        "due_now": sum(1 for c in cards if c.due <= now),
        "due_week": sum(1 for c in cards if c.due <= week),
        "cards": len(cards),
        "streak_days": streak(days, now.date()),
        "topics": per_topic,
        "weakest_formulas": [row for row in weakest if row["accuracy"] < 1.0],
    }


def accuracy_by_day(store: Store, topic: str | None = None) -> dict[str, list[tuple]]:
    """{topic: [(date, accuracy), ...]} from the answer log."""
    counts: dict[str, dict[dt.date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for answer in store.answers(topic):
        day = dt.datetime.fromisoformat(answer["answered_at"]).date()
        counts[answer["topic"]][day][0] += 1
        counts[answer["topic"]][day][1] += int(answer["correct"])
    return {
        name: [(day, k / n) for day, (n, k) in sorted(by_day.items())]
        for name, by_day in counts.items()
    }


def plot_accuracy(store: Store, topic: str | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = accuracy_by_day(store, topic)
    figure, axes = plt.subplots(figsize=(7, 4))
    for name, points in sorted(series.items()):
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("accuracy")
    axes.set_title("Accuracy over time" + (f" ({topic})" if topic else ""))
    if series:
        axes.legend(fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def print_stats(report: dict, console: Any) -> None:
    if not report["answered"]:
        console.print("no answers yet: try `cheatsheet quiz diffusion`")
        return
    console.print(
        f"[bold]{report['correct']}/{report['answered']} right ({report['accuracy']:.0%})[/], "
        f"{report['due_now']} card(s) due now, {report['due_week']} this week, "
        f"streak {report['streak_days']} day(s)"
    )
    for name, entry in sorted(report["topics"].items()):
        console.print(
            f"  {name:16s} {entry['correct']:4d}/{entry['answered']:<4d} "
            f"{entry['accuracy']:5.0%}   due now {entry['due_now']}, this week {entry['due_week']}"
        )
    if report["weakest_formulas"]:
        console.print("weakest formulas:")
        for row in report["weakest_formulas"]:
            console.print(
                f"  {row['formula']:32s} {row['correct']}/{row['answered']}  "
                f"(cheatsheet derive {row['formula']})"
            )
