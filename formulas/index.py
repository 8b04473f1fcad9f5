"""A metadata index of the registry, so `cheatsheet list`, `topics`, `search` and shell
completion start without importing the fifteen topic modules (~45 ms).

The index is generated from the registry and committed (`formulas/index.json`); a test fails
when it is stale. Regenerate it after adding or renaming a formula:

    python -m formulas.index
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

INDEX_PATH = Path(__file__).with_name("index.json")


@dataclass(frozen=True)
class FormulaEntry:
    """What listing and searching need to know about a formula, without its module."""

    id: str
    title: str
    topic: str
    section: str
    text: str
    keywords: tuple[str, ...]
    parameters: tuple[str, ...]
    has_derivation: bool
    erratum: bool


def build_index() -> list[dict]:
    import formulas

    return [
        {
            "id": f.id,
            "title": f.title,
            "topic": f.topic,
            "section": f.section,
            "text": f.text,
            "keywords": list(f.keywords),
            "parameters": f.parameters,
            "has_derivation": f.has_derivation,
            "erratum": f.erratum is not None,
        }
        for f in formulas.all()
    ]


def entries() -> list[FormulaEntry]:
    """The committed index; falls back to the registry itself if the file is missing."""
    try:
        rows = json.loads(INDEX_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        rows = build_index()
    return [
        FormulaEntry(
            **(row | {"keywords": tuple(row["keywords"]), "parameters": tuple(row["parameters"])})
        )
        for row in rows
    ]


def write_index() -> int:
    rows = build_index()
    INDEX_PATH.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    print(f"wrote {write_index()} formulas to {INDEX_PATH}")
