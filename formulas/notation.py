"""The course's notation: one display LaTeX per formula, and symbol names printed as the course
writes them.

Every place a formula reaches a student's eye (`cheatsheet show`, the quiz, the printed and HTML
sheets, Anki) shows `display_latex(formula)`. That text is not trusted: the registry-wide test
(tests/test_notation.py) reads each one back with the quiz's own LaTeX parser and proves it
equal to the formula's sympy statement, so what is read is what was proved.

- `DISPLAY[id]`: LaTeX written by hand in the sheet's notation (`p_{\\text{data}}`,
  `\\bar\\alpha_{t-1}`, `\\mathbb{E}`, `\\operatorname{sg}[\\cdot]`), for every formula whose
  statement sympy would print poorly.
- `ATOMS[id]`: where a statement still has an opaque symbol (a sympy Symbol named, say,
  `D_KL(p_data||p_model)`), the LaTeX that shows that one symbol. The read-back replaces the
  fragment by the symbol itself, so the rest of the formula is still proved; the test also checks
  that each fragment spells the symbol's letters.
- Everything else is printed from the statement by `course_latex`, whose symbol names follow the
  course (`alphabar_{t-1}` -> `\\bar\\alpha_{t-1}`, `p_data` -> `p_{\\text{data}}`).

Importing this module is cheap (no sympy until a function needs it).
"""

from __future__ import annotations

import re
from typing import Any

GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
    "nabla",
}
DECORATIONS = {"bar": r"\bar", "hat": r"\hat", "tilde": r"\tilde", "dot": r"\dot"}


def _letters(word: str) -> str:
    """One name part: a Greek letter, a single letter, or a word set upright (`data`, `MLE`)."""
    if word in GREEK:
        return "\\" + word
    if len(word) <= 1 or word.isdigit() or not word.isalpha():
        return word
    return rf"\text{{{word}}}"


def _head(word: str) -> str:
    """The name's main part, with a decoration written into it (`alphabar`, `xhat`)."""
    for suffix, command in DECORATIONS.items():
        if word.endswith(suffix) and len(word) > len(suffix):
            return f"{command}{{{_letters(word[: -len(suffix)])}}}"
    match = re.fullmatch(r"(hat|bar|tilde)\{(\w+)\}", word)
    if match:
        return f"{DECORATIONS[match.group(1)]}{{{_letters(match.group(2))}}}"
    return _letters(word)


def _subscript(text: str) -> str:
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    parts = re.split(r"([^A-Za-z]+)", text)
    return "".join(_letters(part) if part.isalpha() else part for part in parts)


def symbol_latex(name: str) -> str:
    """A registry symbol name in the course's notation:
    `alphabar_{t-1}` -> `\\bar{\\alpha}_{t-1}`, `p_data` -> `p_{\\text{data}}`,
    `mu_tilde_t` -> `\\tilde{\\mu}_{t}`, `x_hat_i` -> `\\hat{x}_{i}`.
    Names it cannot read (opaque phrases) come back as sympy would print them."""
    primes = len(name) - len(name.rstrip("'"))
    name = name.rstrip("'")
    match = re.fullmatch(r"(hat\{\w+\}|[A-Za-z]+)('*)((?:_(?:\{[^{}]*\}|[A-Za-z0-9]+))*)", name)
    if not match:
        return name + "'" * primes
    head, rest = match.group(1), match.group(3)
    primes += len(match.group(2))
    parts = re.findall(r"_(\{[^{}]*\}|[A-Za-z0-9]+)", rest)
    # `mu_tilde_t`, `x_hat_i`: a decoration written as the first subscript.
    if parts and parts[0] in DECORATIONS:
        head, parts = head + parts[0], parts[1:]
    latex = _head(head) + "'" * primes
    if parts:
        latex += "_{" + ",".join(_subscript(part) for part in parts) + "}"
    return latex


def course_latex(expr: Any) -> str:
    """sympy's LaTeX of `expr` with every symbol printed in the course's notation."""
    import sympy as sp

    names = {}
    for symbol in getattr(expr, "free_symbols", ()):
        if isinstance(symbol, (sp.Symbol, sp.MatrixSymbol)):
            names[symbol] = symbol_latex(symbol.name)
    return sp.latex(expr, symbol_names=names)


def display_latex(formula: Any) -> str | None:
    """The one LaTeX shown for this formula everywhere (None when it has no statement)."""
    if formula.id in DISPLAY:
        return DISPLAY[formula.id]
    if formula.statement_builder is None:
        return formula.latex_override
    statement = formula.statement
    if statement is True or statement is False or type(statement).__name__.startswith("Boolean"):
        return formula.latex_override  # a statement that collapsed to True/False shows nothing
    return course_latex(statement)


# --------------------------------------------------------------------------------------------
# Hand-written display forms (course notation). Each is read back and proved equal to the
# statement by tests/test_notation.py.

DISPLAY: dict[str, str] = {
    # generative
    "mle-kl": r"\mathbb{E}_{x \sim p_{\text{data}}}\!\left[-\log p_{\text{model}}(x)\right]"
    r" = D_{\mathrm{KL}}(p_{\text{data}} \,\|\, p_{\text{model}}) + H(p_{\text{data}})",
    # autoregressive
    "tabular-param-count": r"\#\text{params}\big(p(x_i \mid x_{<i})\big) = 2^{i-1}",
    "tabular-total-param-count": r"\#\text{params} = 2^{n} - 1",
    "fvsbn-param-count": r"\#\text{params} = \frac{n(n+1)}{2}",
    "nade-param-count": r"\#\text{params} = 2nd + n + d",
    "nade-conditionals": r"\hat{x}_i = \sigma(V_{i} h_i + c_i)",
    "fvsbn-conditional": r"f_i = \frac{1}{1 + e^{-\alpha^{(i)\top} x_{<i} - \alpha^{(i)}_0}}",
    "vq-vae-loss": r"L = -\log p(x \mid z_q(x)) + \|\operatorname{sg}[z_e(x)] - e\|_2^2"
    r" + \beta\, \|z_e(x) - \operatorname{sg}[e]\|_2^2",
    "bits-per-dim": r"\text{bits/dim} = \frac{\text{NLL}_{\text{nats}}}{D \ln 2}",
    "autoregressive-factorisation": r"p(x) = \prod_{i=1}^{n} p(x_i \mid x_{<i})",
    # gan
    "fid": r"\text{FID} = \|\mu_1 - \mu_2\|_2^2"
    r" + \operatorname{Tr}\!\left(\Sigma_1 + \Sigma_2 - 2\,(\Sigma_1 \Sigma_2)^{1/2}\right)",
    "cross-entropy-decomposition": r"H(p_d, p_m) = D_{\mathrm{KL}}(p_d \,\|\, p_m) + H(p_d)",
    # vae
    "kl-divergence": r"D_{\mathrm{KL}}(P \,\|\, Q)"
    r" = \int_{-\infty}^{\infty} p(x) \log \frac{p(x)}{q(x)} \, dx",
}

# Opaque statement symbols: {formula id: {symbol name: the LaTeX shown for it}}.
ATOMS: dict[str, dict[str, str]] = {
    "mle-kl": {
        "E_{p_data}[-log p_model(x)]": r"\mathbb{E}_{x \sim p_{\text{data}}}\!\left[-\log"
        r" p_{\text{model}}(x)\right]",
        "D_KL(p_data||p_model)": r"D_{\mathrm{KL}}(p_{\text{data}} \,\|\, p_{\text{model}})",
        "H(p_data)": r"H(p_{\text{data}})",
    },
    "tabular-param-count": {"n_params": r"\#\text{params}\big(p(x_i \mid x_{<i})\big)"},
    "tabular-total-param-count": {"#params": r"\#\text{params}"},
    "fvsbn-param-count": {"#params": r"\#\text{params}"},
    "nade-param-count": {"#params": r"\#\text{params}"},
    "nade-conditionals": {"V_i . h_i": r"V_{i} h_i", "x_hat_i": r"\hat{x}_i"},
    "fvsbn-conditional": {
        "alpha^(i) . x_<i": r"\alpha^{(i)\top} x_{<i}",
        "alpha_0^(i)": r"\alpha^{(i)}_0",
    },
    "vq-vae-loss": {
        "log p(x|z_q(x))": r"\log p(x \mid z_q(x))",
        "||sg[z_e(x)] - e||^2": r"\|\operatorname{sg}[z_e(x)] - e\|_2^2",
        "||z_e(x) - sg[e]||^2": r"\|z_e(x) - \operatorname{sg}[e]\|_2^2",
    },
    "bits-per-dim": {"bits/dim": r"\text{bits/dim}"},
    "autoregressive-factorisation": {"p(x)": "p(x)", "p_conditional": r"p(x_i \mid x_{<i})"},
    "fid": {"||mu_1 - mu_2||^2": r"\|\mu_1 - \mu_2\|_2^2"},
    "kl-divergence": {"D_KL(P||Q)": r"D_{\mathrm{KL}}(P \,\|\, Q)"},
    "cross-entropy-decomposition": {
        "H(p_d, p_m)": r"H(p_d, p_m)",
        "D_KL(p_d || p_m)": r"D_{\mathrm{KL}}(p_d \,\|\, p_m)",
        "H(p_d)": r"H(p_d)",
    },
}
