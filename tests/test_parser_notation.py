"""The parser reads the sheet's notation (sums, integrals, expectations, norms, transposes,
matrices) and the comfortable typing of issue 13 (sin 5n, log^2 x, full-width); fuzzed, it
never evaluates anything and never fails with anything but its own AnswerError."""

from __future__ import annotations

import builtins

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from quizzes.parser import AnswerError, parse, parse_relation

x, m = sp.Symbol("x", real=True), sp.Symbol("m", real=True)
n, N = sp.Symbol("n", integer=True, positive=True), sp.Symbol("N", integer=True, positive=True)
abar = sp.Symbol("abar_t", positive=True)
p, q = sp.Function("p"), sp.Function("q")
SYMBOLS = {
    "x": "real",
    "m": "real",
    "n": "positive-integer",
    "N": "positive-integer",
    "abar_t": "unit",
    "p": "function",
    "q": "function",
}


def _indexed(name: str, index):
    return sp.IndexedBase(name)[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # typing comfort: a function without parentheses takes the product after it
        ("sin 5n", sp.sin(5 * n)),
        ("sin 5n + 1", sp.sin(5 * n) + 1),
        ("sin x cos x", sp.sin(x) * sp.cos(x)),
        ("log^2 x", sp.log(x) ** 2),
        ("sin**2 (m)", sp.sin(m) ** 2),
        ("sin^2(m) + cos^2(m)", sp.sin(m) ** 2 + sp.cos(m) ** 2),
        (r"\sin^{2} x", sp.sin(x) ** 2),
        ("√2x", sp.sqrt(2) * x),  # the root sign takes one factor
        ("ｘ＋１", x + 1),  # full-width forms (NFKC)
        ("２ｘ²", 2 * x**2),
        # the sheet's LaTeX
        (r"\bar\alpha_t", abar),
        (r"\sqrt{\bar{\alpha}_{t}}", sp.sqrt(abar)),
        (r"\int_{-\infty}^{\infty} p(x)\log\frac{p(x)}{q(x)}\,dx", None),
        (r"\|x\|^2", sp.Function("norm")(x) ** 2),
        (r"\|x\|_1", sp.Function("norm")(x, 1)),
        (r"\operatorname{sg}[x]", sp.Function("sg")(x)),
        (r"\mathbb{E}_{q}[x^2]", sp.Function("E_q")(x**2)),
        (r"\begin{pmatrix} x & 1 \\ 0 & m \end{pmatrix}", sp.Matrix([[x, 1], [0, m]])),
        (r"\begin{bmatrix} x \\ m \end{bmatrix}^\top", sp.Matrix([[x, m]])),
    ],
)
def test_reads(text, expected):
    value = parse(text, SYMBOLS)
    if expected is None:  # built separately below: an integral with functions
        u = sp.Symbol("x", real=True)
        expected = sp.Integral(p(u) * sp.log(p(u) / q(u)), (u, -sp.oo, sp.oo))
    assert value == expected or sp.simplify(value - expected) == 0


def test_sum_binds_its_index_and_indexes_the_sequences():
    value = parse(r"\sum_{i=1}^{N} x_i^2", SYMBOLS)
    i = sp.Symbol("i", integer=True)
    assert value == sp.Sum(_indexed("x", i) ** 2, (i, 1, N))
    # the same sum, numerically: x_i = i gives N(N+1)(2N+1)/6
    three = value.subs(N, 3).doit().subs({_indexed("x", k): k for k in range(1, 4)})
    assert three == 14


def test_product_and_shifted_index():
    value = parse(r"\prod_{i=1}^{n} (1 - x_{i+1})", SYMBOLS)
    i = sp.Symbol("i", integer=True)
    assert value == sp.Product(1 - _indexed("x", i + 1), (i, 1, n))


def test_relations_are_read_whole():
    assert parse_relation(r"x = \bar\alpha_t", SYMBOLS) == sp.Eq(x, abar, evaluate=False)
    assert parse_relation(r"x \le m", SYMBOLS) == sp.Le(x, m, evaluate=False)
    with pytest.raises(AnswerError):
        parse("x = m", SYMBOLS)  # an answer is an expression, not a statement


@pytest.mark.parametrize(
    "text",
    [
        "sin^-1 x",  # ambiguous: 1/sin or arcsin
        r"\int p(x)",  # no differential
        r"\sum x_i",  # no index
        r"\begin{tabular}x\end{tabular}",
        r"\mathbb{R}",
        "[x for x in m]",
        r"\begin{pmatrix} x & 1 \\ m \end{pmatrix}",  # ragged rows
        r"\|x\|_q",
    ],
)
def test_refused(text):
    with pytest.raises(AnswerError):
        parse(text, SYMBOLS)


# --------------------------------------------------------------------------------------------
# fuzz: pieces of the new notation, in any order

PIECES = st.sampled_from(
    [
        r"\sum_{i=1}^{n}",
        r"\prod_{j=0}^{N}",
        r"\int_{0}^{1}",
        r"\int",
        "dx",
        " d x",
        r"\mathbb{E}_{q}",
        r"\|",
        "‖",
        r"^\top",
        "^T",
        r"\operatorname{sg}",
        r"\begin{pmatrix}",
        r"\end{pmatrix}",
        "&",
        r"\\",
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "x_i",
        "x",
        "m",
        "n",
        "p(x)",
        "sin",
        "log^2",
        "**",
        "^",
        "_",
        "=",
        r"\le",
        ";",
        ",",
        "|",
        "2",
        " ",
        "-",
        "+",
        "/",
        "ｘ",
        "²",
        r"\bar\alpha_t",
        r"\frac{1}{2}",
        "__import__",
        "eval",
        ".",
    ]
)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(PIECES, min_size=1, max_size=14))
def test_fuzz_notation_never_crashes_and_never_evaluates(parts, monkeypatch):
    text = "".join(parts)
    parse("x", SYMBOLS)  # warm caches
    calls = []
    for name in ("eval", "exec", "compile"):
        original = getattr(builtins, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(builtins, name, spy)
    monkeypatch.setattr(sp, "sympify", lambda *a, **k: calls.append("sympify"))
    for reader in (parse, parse_relation):
        try:
            result = reader(text, SYMBOLS)
        except AnswerError:
            continue
        assert isinstance(result, sp.Basic)
    monkeypatch.undo()
    assert calls == [], f"{text!r} called {calls}"


def test_the_sheets_conditionals_divergences_layers_and_optima():
    """p(x | z) is p(x, z); D_KL(P || Q) is D_KL(P, Q); delta^{(l)} and D^* are names when the
    question declares them; f^{-1} is the declared inverse; \\max_{a'} is a max over a'."""
    z, y = sp.Symbol("z", real=True), sp.Symbol("y", real=True)
    D_KL, inverse, best = sp.Function("D_KL"), sp.Function("f^{-1}"), sp.Function("max_a'")
    objects = {"D_KL": D_KL, "f^{-1}": inverse, "max_a'": best}
    names = {**SYMBOLS, "z": "real", "y": "real", "delta^(l)": "real", "D^*": "real"}
    read = parse_relation(
        r"D_{\mathrm{KL}}\left(q(z \mid x) \,\|\, p(z)\right) = \delta^{(l)} + D^{*}"
        r" + f^{-1}(y) + \max_{a'}(y)",
        names,
        objects=objects,
    )
    assert read.lhs == D_KL(q(z, x), p(z))
    delta, optimum = sp.Symbol("delta^(l)", real=True), sp.Symbol("D^*", real=True)
    assert read.rhs == delta + optimum + inverse(y) + best(y)


def test_a_superscript_that_is_no_name_stays_a_power():
    assert parse(r"x^{(2)} + x^{-1}", SYMBOLS) == x**2 + 1 / x
    assert parse(r"x m^{-1}", SYMBOLS) == x / m
