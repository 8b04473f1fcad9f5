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


def reviews_by_day(store: Store, topic: str | None = None) -> list[tuple[dt.date, int, int]]:
    """[(day, answers, right answers)] for every day from the first answer to the last,
    days without answers included (as 0), so that a plot's axis is the period studied."""
    counts: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for answer in store.answers(topic):
        day = dt.datetime.fromisoformat(answer["answered_at"]).date()
        counts[day][0] += 1
        counts[day][1] += int(answer["correct"])
    if not counts:
        return []
    first, last = min(counts), max(counts)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [(day, counts[day][0], counts[day][1]) if day in counts else (day, 0, 0) for day in days]


def plot_accuracy(store: Store, topic: str | None, path: Path) -> dict[str, Any]:
    """Two panels fitted to the data: accuracy per topic (bars, 0-100 %, with the number of
    answers on each bar) and reviews per day (bars over exactly the days studied, right answers
    darker). Returns what was drawn (topics, days) for the caller to report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    report = compute_stats(store, topic)
    topics = sorted(report["topics"].items(), key=lambda item: item[1]["accuracy"])
    per_day = reviews_by_day(store, topic)
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [max(1, len(topics)), 1.6 * 4]}
    )
    if topics:
        names = [name for name, _ in topics]
        values = [100 * entry["accuracy"] for _, entry in topics]
        bars = left.bar(names, values, color="tab:blue")
        for bar, (_, entry) in zip(bars, topics):
            left.annotate(
                f"{entry['correct']}/{entry['answered']}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize="small",
            )
        left.set_xlim(-0.6, len(names) - 0.4)
        left.tick_params(axis="x", labelrotation=45 if len(names) > 3 else 0)
    left.set_ylim(0, 110)
    left.set_ylabel("accuracy (%)")
    left.set_title("Accuracy per topic (weakest first)")
    if per_day:
        days = mdates.date2num([day for day, _, _ in per_day])  # day numbers: 0.7 of a day pads
        right.bar(days, [n for _, n, _ in per_day], color="tab:gray", label="answers")
        right.bar(days, [k for _, _, k in per_day], color="tab:green", label="right")
        right.set_xlim(days[0] - 0.7, days[-1] + 0.7)
        right.xaxis_date()
        right.set_ylim(0, max(n for _, n, _ in per_day) * 1.15 + 0.5)
        right.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=1, maxticks=8))
        right.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        right.yaxis.get_major_locator().set_params(integer=True)
        right.legend(fontsize="small")
    right.set_ylabel("answers")
    right.set_title("Reviews per day")
    figure.suptitle("cheatsheet progress" + (f" ({topic})" if topic else ""))
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return {"path": str(path), "topics": len(topics), "days": len(per_day)}


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
