"""Terminal math: the one-line Unicode form is not sympy code, wrapping keeps every line within
the width at operators with a hanging indent, and `show --width N` fits N columns."""

from __future__ import annotations

import pytest
import sympy as sp
from typer.testing import CliRunner

from cheatsheet.cli import render
from formulas.notation import unicode_line

x, t = sp.Symbol("x", real=True), sp.Symbol("t", positive=True)
abar = sp.Symbol("alphabar_{t-1}", positive=True)


def test_unicode_line_reads_like_math_not_code():
    expr = sp.Eq(
        sp.Symbol("mu_tilde_t"),
        sp.sqrt(abar) * sp.Integral(sp.exp(-(x**2)) * x, (x, -sp.oo, sp.oo)) / (1 - abar),
    )
    line = unicode_line(expr)
    for code in ("Integral(", "sqrt(", "**", "oo", "alphabar"):
        assert code not in line, (code, line)
    assert "√" in line and "∫" in line and "ᾱ" in line and "μ̃" in line and "∞" in line


@pytest.mark.parametrize("width", [40, 60, 80, 160])
def test_wrap_hanging_fits_and_breaks_at_operators(width):
    text = " + ".join(f"x_{i}·√(1 - ᾱ_{{t-{i}}})/(1 - ᾱ_t)" for i in range(12))
    wrapped = render.wrap_hanging(f"μ̃_t = {text}", width=width, indent=4)
    lines = wrapped.split("\n")
    assert all(len(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == f"μ̃_t = {text}".replace(" ", "")
    for line in lines[1:]:
        assert line.startswith("    ") and line.strip()[0] in "+=-"  # hanging, at an operator


def test_fit_expression_keeps_2d_when_it_fits_and_falls_back_when_not():
    small = sp.Eq(sp.Symbol("y"), x / 2)
    assert "─" in render.fit_expression(small, width=80)
    wide = sp.Eq(sp.Symbol("y"), sum(sp.sqrt(1 - x**k) / (1 + k * x) for k in range(1, 14)))
    fitted = render.fit_expression(wide, width=80)
    assert all(len(line) <= 80 for line in fitted.split("\n"))
    assert "↪" not in fitted and "sqrt(" not in fitted


@pytest.mark.parametrize("formula_id", ["ddpm-posterior-mean", "kl-gauss", "fid"])
@pytest.mark.parametrize("width", [80, 160])
def test_show_fits_the_width(formula_id, width, monkeypatch, tmp_path):
    from cheatsheet.cli import app

    monkeypatch.setenv("CHEATSHEET_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["show", formula_id, "--width", str(width)])
    assert result.exit_code == 0, result.output
    lines = result.output.split("\n")
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert "False" not in result.output.split("LaTeX")[0]


@pytest.mark.parametrize(
    "formula_id,shown,not_shown",
    [
        ("mlp-backward-delta", ["δ⁽ˡ⁾", "W⁽ˡ⁺¹⁾"], ["__", "δ_(l)"]),  # sympy alone: δ__(l)
        ("affine-coupling-logdet", ["det J"], ["││"]),  # sympy alone: ||J||, read as a norm
        ("relu-derivative", ["[x > 0]"], ["θ(", "Heaviside"]),  # sympy alone: θ(x, 0)
        ("matrix-determinant-lemma", ["det(A + u vᵀ)", "(1 + vᵀ A⁻¹ u) det A"], ["[0, 0]"]),
        ("chain-rule", ["f'(g(x))"], ["│u=", "Subs"]),  # sympy alone: an evaluation bar
        ("ddpm-loss", ["ε_θ("], ["ₜₕₑₜₐ"]),  # sympy alone: the subscript theta as t,h,e,t,a
        ("gan-saturating-gradient", ["dℓ"], ["dell"]),
    ],
)
def test_show_draws_the_display_form_in_the_course_notation(
    formula_id, shown, not_shown, monkeypatch, tmp_path
):
    """`show` lays out the display LaTeX (the form proved equal to the statement), not sympy's
    2D printer of the statement with its registry names."""
    from cheatsheet.cli import app

    monkeypatch.setenv("CHEATSHEET_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["show", formula_id, "--width", "100"])
    assert result.exit_code == 0, result.output
    drawn = result.output.split("LaTeX:")[0]
    for text in shown:
        assert text in drawn, (text, drawn)
    for text in not_shown:
        assert text not in drawn, (text, drawn)


@pytest.mark.parametrize(
    "latex,text",
    [
        (r"\mathcal N(\mu_1, \Sigma_1)", "𝒩(μ₁, Σ₁)"),
        (r"\frac{1}{\sqrt{\alpha_t}}", "1/√(α_t)"),
        (r"\alpha = \text{Softmax}(QK^T / \sqrt{D}) \in \mathbb{R}^{T \times T}", None),
        (r"J = \begin{pmatrix} a & b \\ 0 & 1 \end{pmatrix}", "J = [a, b; 0, 1]"),
        (r"\delta^{(l)} = W^{(l+1)\top}", "δ⁽ˡ⁾ = W⁽ˡ⁺¹⁾ᵀ"),
        (r"\log{\left(\sigma^{2} \right)} - \det\left(A\right)", "log(σ²) - det(A)"),
        (r"\begin{cases} 1 & \text{if } x > 0 \\ 0 & \text{otherwise} \end{cases}", None),
        (r"\sum_{\substack{1 \le t \le T \\ 1 \le i \le N}} x", "Σ_(1 ≤ t ≤ T, 1 ≤ i ≤ N) x"),
        (r"x \xrightarrow{\text{enc}} z_e", "x —enc→ z_e"),
        (r"\|\epsilon - \epsilon_\theta\|^2", "‖ε - ε_θ‖²"),
    ],
)
def test_latex_reads_as_unicode_text(latex, text):
    from formulas.notation import latex_text

    shown = latex_text(latex)
    assert "\\" not in shown and ("{" not in shown or "cases" in latex)
    if text is not None:
        assert shown == text
    elif "cases" in latex:
        assert shown == "{ 1 if x > 0; 0 otherwise }"
    else:
        assert shown == "α = Softmax(QKᵀ / √D) ∈ ℝ^(T × T)"


def test_errata_and_spot_the_error_options_show_no_raw_latex(tmp_path):
    """Every erratum's sheet and right form, as `errata` prints them, and the options of the
    errata spot-the-error questions, as the quiz shows them at a terminal."""
    import formulas
    from formulas.notation import latex_text
    from quizzes.catalog import generate, load_templates
    from quizzes.display import question_lines, readable
    from quizzes.engine import expected_text
    from quizzes.questions import TEMPLATES

    for formula in formulas.all():
        if formula.erratum:
            for form in (formula.erratum.sheet, formula.erratum.correct):
                assert "\\" not in latex_text(form), (formula.id, form)
    load_templates()
    spot = [t for t in TEMPLATES if t.startswith("errata-spot")]
    assert spot
    for template_id in spot:
        for seed in range(5):
            question = generate(TEMPLATES[template_id], seed)
            lines = question_lines(question)
            assert not any("\\" in line for line in lines[1:]), (template_id, lines)
            assert "\\" not in question.explanation, (template_id, question.explanation)
            assert "\\" not in readable(expected_text(question)), template_id


@pytest.mark.parametrize("formula_id", ["conv-backward-input", "conv-backward-kernel"])
def test_rot180_prints_whole_in_the_2d_form(formula_id, monkeypatch, tmp_path):
    """The sheet's ROT180 (ROT_{180} there), not sympy's ROT₁₈₀ (trailing digits read as a
    subscript), in `show` at 80 columns, and its LaTeX reads back as the operator."""
    from cheatsheet.cli import app

    monkeypatch.setenv("CHEATSHEET_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["show", formula_id, "--width", "80"])
    assert result.exit_code == 0, result.output
    drawn = result.output.split("LaTeX")[0]
    assert "ROT180(" in drawn and "₁₈₀" not in drawn, drawn
    assert all(len(line) <= 80 for line in result.output.split("\n"))


def test_one_line_forms_of_the_new_notation():
    """Subs, steps, sets, functions as arguments and matrices read as math on one line."""
    import formulas

    lines = {
        formula_id: unicode_line(formulas.get(formula_id).statement)
        for formula_id in (
            "chain-rule",
            "relu-derivative",
            "implicit-surface",
            "gan-value-function",
            "cross-product",
        )  # fmt: skip
    }
    assert "f'(g(x))" in lines["chain-rule"] and "Subs" not in lines["chain-rule"]
    assert lines["relu-derivative"].endswith("= [x > 0]")
    assert lines["implicit-surface"] == "S = {x ∈ ℝ³ : f(x) = 0}"
    assert lines["gan-value-function"].startswith("V(G, D) = ")
    assert lines["cross-product"].startswith("[a₁; a₂; a₃] × [b₁; b₂; b₃] = [a₂·b₃ - a₃·b₂;")


def test_an_ellipsis_list_prints_as_the_sheet_writes_it(monkeypatch, tmp_path):
    """Concat(head₁, head₂, …, head_h) in the 2D form and on one line (the statement holds one
    argument, the range of heads 1..h, not the sheet's dots as a name)."""
    import formulas
    from cheatsheet.cli import app

    statement = formulas.get("multi-head-attention").statement
    assert unicode_line(statement) == "MHA(X) = Concat(head₁, head₂, …, head_h)·W_O"
    monkeypatch.setenv("CHEATSHEET_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["show", "multi-head-attention", "--width", "80"])
    assert result.exit_code == 0, result.output
    assert "Concat(head₁, head₂, …, head_h)" in result.output.split("LaTeX")[0]


def test_every_derivation_fits_80_columns_with_no_latex_or_sympy_code(monkeypatch, tmp_path):
    """`derive` for every derived formula at 80 columns: no line wider, no backslash and no
    sympy code in what it draws (statements and steps come from the course's LaTeX)."""
    import formulas
    from cheatsheet.cli import app
    from formulas.latex_layout import width

    monkeypatch.setenv("CHEATSHEET_HOME", str(tmp_path))
    derived = [formula.id for formula in formulas.all() if formula.has_derivation]
    assert len(derived) >= 85
    for formula_id in derived:
        result = CliRunner().invoke(app, ["derive", formula_id], env={"COLUMNS": "80"})
        assert result.exit_code == 0, (formula_id, result.output)
        lines = result.output.split("\n")
        assert all(width(line) <= 80 for line in lines), (formula_id, max(lines, key=width))
        for code in ("\\frac", "\\left", "Integral(", "**", "Subs(", "θ(x, 0)", "__"):
            assert code not in result.output, (formula_id, code)
