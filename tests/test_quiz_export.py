"""The corrected sheet export: check marks come from running each derivation and erratum
evidence, so a formula whose step is false is marked failed, never verified."""

from __future__ import annotations

import pytest

import formulas
from formulas.core import Erratum, Evidence, Formula, Step
from quizzes import export


def _formulas():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    right = Formula(
        id="t-square",
        title="Square of a sum",
        topic="math",
        section="14",
        statement_builder=lambda: sp.Eq(sp.Symbol("y"), (x + 1) ** 2),
        derivation_builder=lambda: [Step("expand", (x + 1) ** 2, x**2 + 2 * x + 1)],
    )
    wrong = Formula(
        id="t-wrong",
        title="A false step",
        topic="math",
        section="14",
        statement_builder=lambda: sp.Eq(sp.Symbol("y"), (x + 1) ** 2),
        derivation_builder=lambda: [Step("bad expand", (x + 1) ** 2, x**2 + 1)],
    )
    erratum = Formula(
        id="t-erratum",
        title="A sheet typo",
        topic="math",
        section="14",
        statement_builder=lambda: sp.Eq(sp.Symbol("y"), 2 * x),
        erratum=Erratum(
            "y = x^2",
            "y = 2x",
            "the sheet squares instead of doubling",
            lambda: Evidence(True, True, "x = 3: 9 != 6"),
        ),
    )
    plain = Formula(id="t-plain", title="Not derived", topic="math", section="14")
    return [right, wrong, erratum, plain]


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_sheet_marks_come_from_the_checks(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(formulas, "by_topic", lambda topic: _formulas())
    report = export.export_sheet(tmp_path / f"sheet.{fmt}", fmt, "math")
    checks = {entry["id"]: entry["check"] for entry in report["entries"]}
    assert checks == {
        "t-square": "verified",
        "t-wrong": "failed",
        "t-erratum": "verified",
        "t-plain": "unchecked",
    }
    assert report["errata"] == 1 and report["failed"] == 1
    text = (tmp_path / f"sheet.{fmt}").read_text()
    assert "t-erratum" in text and "squares instead of doubling" in text
    if fmt == "md":
        assert "✓ Square of a sum" in text and "✗ A false step" in text and "~~$y = x^2$~~" in text
    else:
        assert text.startswith(r"\documentclass") and r"\sout{$y = x^2$}" in text
        assert text.count("{") == text.count("}")


def test_unconfirmed_erratum_is_a_failure(tmp_path, monkeypatch):
    formula = _formulas()[2]
    formula.erratum = Erratum("a", "b", "c", lambda: Evidence(False, True, "sheet form passes"))
    assert export.formula_status(formula)["check"] == "failed"
