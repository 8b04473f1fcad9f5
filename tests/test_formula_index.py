"""The committed metadata index (formulas/index.json) is what the registry says."""

from __future__ import annotations

import json

from formulas.index import INDEX_PATH, build_index


def test_index_is_up_to_date_with_the_registry():
    stored = json.loads(INDEX_PATH.read_text(encoding="utf-8"))
    assert stored == build_index(), "stale index: run `python -m formulas.index`"
