"""The proofs, errata evidence and display LaTeX shipped in formulas/proofs.json: current for
the code in this tree (regenerate with `python -m formulas.shipped`), equal to what is
computed fresh here, and never trusted when stale, edited, or computed with other libraries."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

import formulas
from formulas import shipped
from formulas.core import REGISTRY, Evidence, Formula, Step
from formulas.errata import _evidence_key, cached_status
from formulas.proof import _key, build_report, derivation_report, erratum_status

STALE_HINT = f"formulas/proofs.json is stale: run `{shipped.REGENERATE}`"


def _shipped_data() -> dict:
    try:
        return json.loads(shipped.SHIPPED.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


SHIPPED = _shipped_data()
SAME_LIBRARIES = SHIPPED.get("libraries") == shipped.library_versions()
needs_same_libraries = pytest.mark.skipif(
    not SAME_LIBRARIES,
    reason="formulas/proofs.json was computed with other library versions (not used here)",
)


def _error_builders() -> dict[str, object]:
    builders = {f.id: f.erratum.evidence for f in formulas.all() if f.erratum is not None}
    for claim in REGISTRY.claims():
        if claim.severity is not None and claim.check is not None:
            builders[f"claim:{claim.id}"] = claim.check
    return builders


@needs_same_libraries
def test_every_shipped_result_is_current():
    """Every formula with a proof or properties, every formula's display and every computed
    erratum has an entry made from the code in this tree."""
    not_current = []
    for formula in formulas.all():
        key = _key(formula)
        sections = ["display"]
        if formula.has_derivation or formula.properties_builder is not None:
            sections.append("derivations")
        for section in sections:
            state = shipped.entry_state(section, formula.id, key)
            if state != "current":
                not_current.append(f"{section} {formula.id}: {state}")
    for row_id, builder in _error_builders().items():
        state = shipped.entry_state("errata", row_id, _evidence_key(builder))
        if state != "current":
            not_current.append(f"errata {row_id}: {state}")
    assert not not_current, f"{STALE_HINT}\n" + "\n".join(not_current)


def _current(section: str, name: str, key: str) -> dict:
    state = shipped.entry_state(section, name, key)
    if state != "current":
        pytest.skip(f"{section} {name} is {state} (test_every_shipped_result_is_current)")
    return SHIPPED[section][name]["result"]


def _assumption_order_free(value):
    """srepr writes a Symbol's assumptions as the first Symbol of that name was made with in
    this process: in its order (Symbol('k', integer=True, positive=True) is the same symbol as
    Symbol('k', positive=True, integer=True)), and all of them when it was made from another's
    assumptions0 (Symbol('x', real=True) then prints commutative=True, complex=True, ...,
    real=True). Write each as the full sorted set it stands for; everything else stays exact."""
    import sympy as sp

    def sort_arguments(match: re.Match) -> str:
        given = dict(pair.split("=") for pair in match.group(2).split(", "))
        symbol = sp.Symbol(
            "_", **{key: {"True": True, "False": False}[v] for key, v in given.items()}
        )
        implied = sorted(f"{key}={v}" for key, v in symbol.assumptions0.items())
        return f"Symbol({match.group(1)}, {', '.join(implied)})"

    if isinstance(value, dict):
        return {key: _assumption_order_free(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_assumption_order_free(item) for item in value]
    if isinstance(value, str):
        return re.sub(r"Symbol\(('[^']*'), ((?:\w+=\w+)(?:, \w+=\w+)*)\)", sort_arguments, value)
    return value


@needs_same_libraries
@pytest.mark.parametrize("formula_id", sorted(SHIPPED.get("derivations", {})))
def test_shipped_report_equals_a_fresh_proof(formula_id):
    """The shipped report is what proving it here gives (an entry edited with a recomputed
    digest is caught here, before it ships)."""
    formula = formulas.get(formula_id)
    result = _current("derivations", formula_id, _key(formula))
    fresh = build_report(formula)
    fresh.pop("cached", None)
    differences = _differences(_assumption_order_free(fresh), _assumption_order_free(result))
    assert not differences, "\n".join(differences[:6])


def _differences(fresh, shipped, path: str = "") -> list[str]:
    """Where two reports differ, field by field (the assertion names the field)."""
    if isinstance(fresh, dict) and isinstance(shipped, dict):
        keys = sorted(set(fresh) | set(shipped))
        return [d for k in keys for d in _differences(fresh.get(k), shipped.get(k), f"{path}/{k}")]
    if isinstance(fresh, list) and isinstance(shipped, list) and len(fresh) == len(shipped):
        pairs = enumerate(zip(fresh, shipped))
        return [d for i, (a, b) in pairs for d in _differences(a, b, f"{path}[{i}]")]
    return [] if fresh == shipped else [f"{path}:\n  fresh   {fresh!r}\n  shipped {shipped!r}"]


@needs_same_libraries
@pytest.mark.parametrize("row_id", sorted(SHIPPED.get("errata", {})))
def test_shipped_evidence_equals_fresh_evidence(row_id):
    builder = _error_builders()[row_id]
    result = _current("errata", row_id, _evidence_key(builder))
    evidence, state = erratum_status(builder)
    assert state == "confirmed"
    assert result == {
        "sheet_fails": evidence.sheet_fails,
        "correct_passes": evidence.correct_passes,
        "detail": evidence.detail,
    }


@needs_same_libraries
def test_shipped_display_equals_fresh_display():
    from formulas.notation import display_latex

    differ = []
    for formula in formulas.all():
        if shipped.entry_state("display", formula.id, _key(formula)) != "current":
            continue  # reported by test_every_shipped_result_is_current
        if SHIPPED["display"][formula.id]["result"]["latex"] != display_latex(formula):
            differ.append(formula.id)
    assert not differ


# --------------------------------------------------------------------------------------------
# Trust: a planted file with a false verdict is used only when its key, digest and libraries
# all match; otherwise the proof is done here and the truth comes out.


def _false_proof() -> Formula:
    """A derivation that fails: (x + 1)^2 = x^2 + 1."""

    def statement():
        import sympy as sp

        x = sp.Symbol("x", real=True)
        return sp.Eq((x + 1) ** 2, x**2 + 1, evaluate=False)

    def derivation():
        import sympy as sp

        x = sp.Symbol("x", real=True)
        return [Step("bad expand", (x + 1) ** 2, x**2 + 1)]

    return Formula(
        id="t-false",
        title="A false step",
        topic="math",
        section="14",
        statement_builder=statement,
        derivation_builder=derivation,
    )


def _wrong_evidence() -> Evidence:
    return Evidence(False, True, "computed here: the sheet's form passes")


PLANTED_REPORT = {"id": "t-false", "passed": True, "steps": [], "failures": [], "planted": True}
PLANTED_EVIDENCE = {"sheet_fails": True, "correct_passes": True, "detail": "planted"}


def _plant(tmp_path, monkeypatch, *, key=None, tamper=False, libraries=None):
    """Write a shipped file holding a passing report for the false proof (and confirmed
    evidence for a wrong erratum), point formulas.shipped at it and give a fresh user cache."""
    formula = _false_proof()
    entries = {
        "derivations": ("t-false", key or _key(formula), dict(PLANTED_REPORT)),
        "errata": ("t-erratum", key or _evidence_key(_wrong_evidence), dict(PLANTED_EVIDENCE)),
    }
    data = {"libraries": libraries or shipped.library_versions(), "display": {}}
    for section, (name, entry_key, result) in entries.items():
        digest = shipped.digest(section, name, entry_key, result)
        if tamper:
            result = {**result, "planted": "edited after the digest"}
        data[section] = {name: {"key": entry_key, "digest": digest, "result": result}}
    path = tmp_path / "proofs.json"
    path.write_text(json.dumps(data))
    monkeypatch.setattr(shipped, "SHIPPED", path)
    monkeypatch.setenv("CHEATSHEET_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHEATSHEET_IGNORE_SHIPPED", raising=False)
    return formula


def test_a_current_planted_entry_is_what_is_read(tmp_path, monkeypatch):
    """The mechanism the other tests rely on: with key, digest and libraries right, the
    shipped entry is used (which is why the file is tested against fresh proofs above)."""
    formula = _plant(tmp_path, monkeypatch)
    assert derivation_report(formula).get("planted") is True
    evidence, _state = cached_status("t-erratum", _wrong_evidence)
    assert evidence.detail == "planted"


@pytest.mark.parametrize(
    "how",
    ["stale key", "edited after its digest", "other libraries", "recheck", "ignored by env"],
)
def test_an_untrustworthy_entry_is_proved_again(tmp_path, monkeypatch, how):
    formula = _plant(
        tmp_path,
        monkeypatch,
        key="0" * 32 if how == "stale key" else None,
        tamper=how == "edited after its digest",
        libraries={**shipped.library_versions(), "sympy": "0.0"}
        if how == "other libraries"
        else None,
    )
    if how == "ignored by env":
        monkeypatch.setenv("CHEATSHEET_IGNORE_SHIPPED", "1")
    recheck = how == "recheck"
    report = derivation_report(formula, recheck=recheck)
    assert "planted" not in report
    assert report["passed"] is False and report["cached"] is False
    evidence, state = cached_status("t-erratum", _wrong_evidence, recheck=recheck)
    assert evidence.detail != "planted" and state == "NOT confirmed"


def test_a_damaged_file_is_ignored(tmp_path, monkeypatch):
    path = tmp_path / "proofs.json"
    path.write_text('{"libraries": ')
    monkeypatch.setattr(shipped, "SHIPPED", path)
    formula = _false_proof()
    assert shipped.lookup("derivations", formula.id, _key(formula)) is None
    assert derivation_report(formula)["passed"] is False


def test_the_key_changes_with_the_formulas_source(tmp_path, monkeypatch):
    """Editing a formula's module (or a helper every report depends on) changes its key, so
    its shipped entry goes stale instead of being trusted."""
    from formulas import proof

    formula = formulas.get("ddpm-forward-marginal")
    before = _key(formula)
    module_file = inspect.getfile(inspect.getmodule(formula.derivation_builder))
    edited = tmp_path / "edited.py"
    edited.write_bytes(Path(module_file).read_bytes() + b"\n# an edit\n")
    real = proof.source_digest

    def digest_with_edit(path: str) -> bytes:
        return real(str(edited) if path == module_file else path)

    monkeypatch.setattr(proof, "source_digest", digest_with_edit)
    assert _key(formula) != before


@needs_same_libraries
@pytest.mark.parametrize("width", [60, 200])
def test_cached_derive_heading_equals_the_statement_printed_live(width):
    """A cached report's statement (its course LaTeX, no sympy for a cached derive) prints
    as the same text render.fit_expression gives from the statement itself."""
    from cheatsheet.cli import render

    differ = []
    for formula_id, entry in SHIPPED.get("derivations", {}).items():
        formula = formulas.get(formula_id)
        statement = entry["result"].get("statement")
        if statement is None or shipped.entry_state("derivations", formula_id, _key(formula)) != (
            "current"
        ):
            continue
        if render.fit_expression(statement, width, indent=0) != render.fit_expression(
            formula.statement, width, indent=0
        ):
            differ.append(formula_id)
    assert not differ


def test_assumption_spelling_is_normalised_but_not_the_assumptions():
    """The two srepr spellings of Symbol('x_1', real=True) a CI run met (one written out from
    assumptions0) compare equal; a symbol with other assumptions still differs."""
    written_out = (
        "Function('f')(Symbol('x_1', commutative=True, complex=True, extended_real=True, "
        "finite=True, hermitian=True, imaginary=False, infinite=False, real=True))"
    )
    given = "Function('f')(Symbol('x_1', real=True))"
    assert _assumption_order_free(written_out) == _assumption_order_free(given)
    positive = "Function('f')(Symbol('x_1', positive=True))"
    assert _assumption_order_free(positive) != _assumption_order_free(given)
