"""Fuzzy formula search: what a student types when they half-remember a formula.

Scores each formula by how well every query word matches some word of its id, title, topic,
keywords and text (difflib ratio, with prefix and substring bonuses), weighting ids and titles
above body text. Reads metadata only: no sympy.
"""

from __future__ import annotations

import difflib
import re

WORD = re.compile(r"[a-z0-9]+")

# Field weights: a hit in the id or title says more than one in the body text.
WEIGHTS = {"id": 1.0, "title": 1.0, "keywords": 0.9, "topic": 0.7, "text": 0.6}


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _word_score(query_word: str, candidates: list[str]) -> float:
    best = 0.0
    for candidate in candidates:
        if candidate == query_word:
            return 1.0
        if (
            candidate.startswith(query_word)
            or query_word.startswith(candidate)
            and len(candidate) > 3
        ):
            best = max(best, 0.9)
            continue
        if len(query_word) > 3 and query_word in candidate:
            best = max(best, 0.8)
            continue
        best = max(best, difflib.SequenceMatcher(None, query_word, candidate).ratio() * 0.85)
    return best


def score(query: str, formula) -> float:
    query_words = _words(query)
    if not query_words:
        return 0.0
    fields = {
        "id": _words(formula.id),
        "title": _words(formula.title),
        "keywords": [w for k in formula.keywords for w in _words(k)],
        "topic": _words(formula.topic),
        "text": _words(formula.text),
    }
    total = 0.0
    for word in query_words:
        total += max(
            (WEIGHTS[name] * _word_score(word, words) for name, words in fields.items() if words),
            default=0.0,
        )
    result = total / len(query_words)
    if query.lower().replace(" ", "-") in formula.id:
        result += 0.3
    return result


def search_formulas(query: str, limit: int = 8, threshold: float = 0.55):
    from formulas.index import entries

    scored = [(formula, score(query, formula)) for formula in entries()]
    scored = [(f, s) for f, s in scored if s >= threshold]
    scored.sort(key=lambda pair: (-pair[1], pair[0].id))
    return scored[:limit]
