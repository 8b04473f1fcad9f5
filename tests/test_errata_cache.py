"""errata caches its computed evidence like derive: same answer from the cache, and an entry
whose key does not match the current code is computed again, never trusted."""

from __future__ import annotations

import json

from formulas.errata import _evidence_key, errata_rows


def test_cached_evidence_equals_computed_evidence():
    first = errata_rows(severity="typo")
    second = errata_rows(severity="typo")
    assert first == second
    assert all(row["state"] != "NOT confirmed" for row in second)


def test_a_stale_cache_entry_is_recomputed(tmp_path, monkeypatch):
    import formulas
    from formulas.proof import _cache_dir

    formula = next(f for f in formulas.all() if f.erratum and f.erratum.severity == "typo")
    path = _cache_dir() / "errata" / f"{formula.id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    planted = {"sheet_fails": False, "correct_passes": False, "detail": "planted"}
    path.write_text(json.dumps({"key": "stale", **planted}))
    row = next(r for r in errata_rows(severity="typo") if r["id"] == formula.id)
    assert row["evidence"] != "planted" and row["state"] == "confirmed"
    # the current key is honoured, --recheck ignores it
    path.write_text(json.dumps({"key": _evidence_key(formula.erratum.evidence), **planted}))
    assert (
        next(r for r in errata_rows(severity="typo") if r["id"] == formula.id)["evidence"]
        == "planted"
    )
    rechecked = next(r for r in errata_rows(severity="typo", recheck=True) if r["id"] == formula.id)
    assert rechecked["evidence"] != "planted"
