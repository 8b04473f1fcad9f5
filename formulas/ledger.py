"""The ledger of the whole sheet: every non-blank sheet line, what checks it, and its verdict.

The sheet (the course's cheat sheet, as extracted from its PDF) ships with the package as
`formulas/sheet/sheet.txt`; "sheet line N" is its 1-based line N. The ledger lives in
`formulas/ledger/*.toml`, one file per group of sections, entries like

    [[entry]]
    lines = [173, 173]
    verdict = "error"          # checked | error | typo | notation | not-checkable | no-claim
    covers = ["ddpm-epsilon-mean", "claim:cfg-guidance-weights"]
    note = "why (required for notation and not-checkable)"

`errata --coverage` and tests/test_ledger.py read it through this module.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VERDICTS = ("checked", "error", "typo", "notation", "not-checkable", "no-claim")
NEEDS_NOTE = ("notation", "not-checkable")

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Entry:
    first: int
    last: int
    verdict: str
    covers: tuple[str, ...]
    note: str
    source: str  # the ledger file it came from

    def overlaps(self, first: int, last: int) -> bool:
        return self.first <= last and first <= self.last


@cache
def sheet_lines() -> tuple[str, ...]:
    """The sheet's lines (index 0 is sheet line 1)."""
    return tuple((_HERE / "sheet" / "sheet.txt").read_text(encoding="utf-8").split("\n"))


@cache
def entries() -> tuple[Entry, ...]:
    found = []
    for path in sorted((_HERE / "ledger").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for raw in data.get("entry", []):
            lines = raw.get("lines", [0, 0])
            found.append(
                Entry(
                    int(lines[0]),
                    int(lines[-1]),
                    str(raw.get("verdict", "")),
                    tuple(raw.get("covers", [])),
                    str(raw.get("note", "")),
                    path.name,
                )
            )
    return tuple(found)


# Top-level sections of the sheet by the line where each starts; 13 (proofs) holds proofs
# of several topics.
SECTION_STARTS: tuple[tuple[int, str, str], ...] = (
    (1, "1", "Generative modelling"),
    (20, "2", "Variational autoencoders"),
    (40, "3", "Autoregressive models and attention"),
    (72, "4", "Normalizing flows"),
    (111, "5", "GANs"),
    (155, "6", "Diffusion models"),
    (193, "7", "Reinforcement learning"),
    (233, "8", "Neural implicit representations"),
    (264, "9", "Parametric body models"),
    (286, "10", "ML basics and optimizers"),
    (311, "11", "CNN"),
    (329, "12", "RNN"),
    (355, "13", "Proofs"),
    (423, "14", "Appendix"),
)


def section_of(line: int) -> str:
    current = SECTION_STARTS[0][1]
    for start, number, _ in SECTION_STARTS:
        if line >= start:
            current = number
    return current


def section_title(number: str) -> str:
    return next(title for _, n, title in SECTION_STARTS if n == number)


def place(lines: tuple[int, int] | None, section: str) -> str:
    """'§6, line 173' / '§6, lines 173-175' (or just the section when lines are unknown)."""
    if not lines:
        return f"§{section}"
    first, last = lines
    where = f"line {first}" if first == last else f"lines {first}-{last}"
    return f"§{section}, {where}"


def coverage(errata_rows: list[dict]) -> list[dict]:
    """Per top-level section: lines with claims, lines decided by a check, errors, typos."""
    text = sheet_lines()
    by_line: dict[int, list[Entry]] = {}
    for entry in entries():
        for line in range(entry.first, entry.last + 1):
            by_line.setdefault(line, []).append(entry)
    rows = []
    for start, number, title in SECTION_STARTS:
        following = [s for s, _, _ in SECTION_STARTS if s > start]
        end = (following[0] - 1) if following else len(text)
        claim_lines = checked = unaccounted = 0
        for line in range(start, end + 1):
            if not text[line - 1].strip():
                continue
            verdicts = {entry.verdict for entry in by_line.get(line, [])}
            if not verdicts:
                unaccounted += 1
                claim_lines += 1
                continue
            if verdicts == {"no-claim"}:
                continue
            claim_lines += 1
            if verdicts & {"checked", "error", "typo", "notation"}:
                checked += 1
        in_section = [
            row
            for row in errata_rows
            if row["sheet_lines"] and section_of(row["sheet_lines"][0]) == number
        ]
        rows.append(
            {
                "section": number,
                "title": title,
                "lines": [start, end],
                "claim_lines": claim_lines,
                "checked_lines": checked,
                "unaccounted_lines": unaccounted,
                "errors": sum(row["severity"] == "error" for row in in_section),
                "typos": sum(row["severity"] == "typo" for row in in_section),
            }
        )
    return rows
