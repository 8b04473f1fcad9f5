"""The safe answer parser: what it reads, and that nothing else gets through (fuzzed)."""

from __future__ import annotations

import builtins
import contextlib
import os
import sys

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from quizzes.parser import MAX_LENGTH, AnswerError, LimitError, UnknownSymbolError, parse

SYMBOLS = {
    "abar_t": "unit",
    "eps": "real",
    "x": "real",
    "y": "real",
    "sigma": "positive",
    "gamma": "real",
    "lambda": "real",
    "beta": "real",
    "E": "real",
    "I": "real",
    "N": "positive-integer",
    "S": "real",
    "x_0": "real",
}
a, eps, x, y = (
    sp.Symbol("abar_t", positive=True),
    sp.Symbol("eps", real=True),
    sp.Symbol("x", real=True),
    sp.Symbol("y", real=True),
)
sigma = sp.Symbol("sigma", positive=True)

# Every spelling of sqrt(1 - abar_t) * eps the issue names, each built by hand in sympy.
SPELLINGS = [
    "sqrt(1-abar_t)*eps",
    "sqrt(1 - abar_t) eps",
    r"\sqrt{1-\bar\alpha_t}\epsilon",
    r"\sqrt{1-\bar{\alpha}_{t}} \cdot \varepsilon",
    "√(1-ᾱ_t)·ε",
    "(1-abar_t)^(1/2)*eps",
    "(1-abar_t)**0.5*eps",
    "eps*sqrt(1-alpha_bar_t)",
]


@pytest.mark.parametrize("text", SPELLINGS)
def test_spellings_of_one_expression(text):
    assert sp.simplify(parse(text, SYMBOLS) - sp.sqrt(1 - a) * eps) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^2", x**2),
        ("sigma**2", sigma**2),
        ("σ²", sigma**2),
        ("2x", 2 * x),
        ("x y", x * y),
        ("2(x+1)", 2 * x + 2),
        ("-x^2", -(x**2)),
        ("2^-1", sp.Rational(1, 2)),
        ("1/2x", x / 2),
        (r"\frac{x}{y}", x / y),
        (r"\frac{1}{2}\log x", sp.log(x) / 2),
        ("sigmoid(x)", 1 / (1 + sp.exp(-x))),
        ("|x|", sp.Abs(x)),
        ("e^x", sp.exp(x)),
        ("0.25", sp.Rational(1, 4)),
        ("x₀", sp.Symbol("x_0", real=True)),
        (r"\left(x+y\right)^{2}", (x + y) ** 2),
    ],
)
def test_plain_latex_and_unicode(text, expected):
    assert sp.simplify(parse(text, SYMBOLS) - expected) == 0


def test_names_sympy_would_misread_are_the_questions_symbols():
    expr = parse("gamma*lambda + beta + E + I + N + S", SYMBOLS)
    assert all(isinstance(s, sp.Symbol) for s in expr.free_symbols)
    assert {s.name for s in expr.free_symbols} == {"gamma", "lambda", "beta", "E", "I", "N", "S"}
    assert not expr.has(sp.E) and not expr.has(sp.I)
    assert sp.Symbol("N", integer=True, positive=True) in expr.free_symbols


def test_unknown_symbol_suggests_the_declared_name():
    with pytest.raises(UnknownSymbolError) as error:
        parse("sqrt(alpha_bar)", SYMBOLS)
    assert "unknown symbol 'alpha_bar'" in str(error.value)
    assert "abar_t" in error.value.suggestions


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "x.__class__",
        "lambda x: x",
        "open('/etc/passwd')",
        "eval('1')",
        "getattr(x, 'y')",
        "x; y",
        "[x for x in y]",
        "x if y else 1",
        "x^1000",
        "2^2^2^2^2",
        "9" * 40,
        "(" * 200 + "x" + ")" * 200,
        "x" * (MAX_LENGTH + 1),
        "",
        "x +",
        r"\input{/etc/passwd}",
        r"\def\x{1}",
    ],
)
def test_refused(text):
    with pytest.raises(AnswerError):
        parse(text, SYMBOLS)


def test_limits_are_limit_errors():
    for text in ("x^101", "(" * 200 + "x" + ")" * 200, "1" * 31):
        with pytest.raises(LimitError):
            parse(text, SYMBOLS)


# -------------------------------------------------------------------------------------------
# Fuzz: hostile fragments glued together are refused, and refusing has no side effects.

HOSTILE = st.sampled_from(
    [
        "__import__",
        "__class__",
        "__globals__",
        ".",
        "lambda",
        ":",
        "os",
        "system",
        "open",
        "eval",
        "exec",
        "getattr",
        "'",
        '"',
        "[",
        "]",
        ";",
        "=",
        "\\input",
        "\\write",
        "9" * 35,
        "^999",
        "**12345",
    ]
)
BENIGN = st.sampled_from(["x", "y", "(", ")", "+", "*", "2", "sqrt", "^", " ", "eps", "-"])


class _Spy:
    """Records any attempt to open files, run commands or evaluate text during parsing."""

    def __init__(self, monkeypatch):
        self.calls = []
        for name in ("open", "eval", "exec", "compile", "__import__"):
            original = getattr(builtins, name)
            monkeypatch.setattr(builtins, name, self._wrap(name, original))
        monkeypatch.setattr(os, "system", self._wrap("system", os.system))

    def _wrap(self, name, original):
        def spy(*args, **kwargs):
            if name == "__import__":
                module = str(args[0]) if args else ""
                # Re-importing a loaded module (a function-level `import sympy`) does nothing;
                # a new module, or one that reaches the system, is a side effect.
                dangerous = module.split(".")[0] in ("os", "subprocess", "shutil", "socket")
                level = args[4] if len(args) > 4 else kwargs.get("level", 0)
                if level and args[1]:  # sympy's `from .relational import ..` inside a function
                    package = args[1].get("__package__") or ""
                    module = f"{package.rsplit('.', level - 1)[0]}.{module}".rstrip(".")
                if module in sys.modules and not dangerous:
                    return original(*args, **kwargs)
            self.calls.append(f"{name}{args[:1]}")
            return original(*args, **kwargs)

        return spy


@given(
    parts=st.lists(st.one_of(HOSTILE, BENIGN), min_size=1, max_size=12).filter(
        lambda parts: any(
            len(p) > 1 or p in ".:;=[]'\""
            for p in parts
            if p not in ("x", "y", "(", ")", "+", "*", "2", "sqrt", "^", " ", "eps", "-")
        )
    )
)
def test_fuzz_hostile_input_is_refused_without_side_effects(parts, monkeypatch):
    parse("x", SYMBOLS)  # warm caches so the spy sees only what the hostile text triggers
    text = "".join(parts)
    spy = _Spy(monkeypatch)
    try:
        result = parse(text, SYMBOLS)
    except AnswerError:
        result = None
    monkeypatch.undo()
    assert spy.calls == [], f"{text!r} triggered {spy.calls}"
    if result is not None:
        # Anything accepted is a plain expression over the declared symbols only.
        assert isinstance(result, sp.Basic)
        assert {s.name for s in result.free_symbols} <= set(SYMBOLS)


@given(depth=st.integers(min_value=30, max_value=400), op=st.sampled_from(["(", "-", "sqrt("]))
def test_fuzz_deep_nesting_is_bounded(depth, op):
    text = op * depth + "x" + (")" * depth if "(" in op else "")
    # No RecursionError and no hang: shallow enough parses, deeper is a LimitError.
    if depth >= 150:
        with pytest.raises(LimitError):
            parse(text, SYMBOLS)
    else:
        with contextlib.suppress(LimitError):
            parse(text, SYMBOLS)


@given(exponent=st.integers(min_value=101, max_value=10**12))
def test_fuzz_huge_exponents_are_refused(exponent):
    with pytest.raises(LimitError):
        parse(f"x^{exponent}", SYMBOLS)


@given(text=st.text(max_size=60))
def test_fuzz_arbitrary_text_either_parses_or_is_refused(text):
    try:
        result = parse(text, SYMBOLS)
    except AnswerError:
        return
    assert {s.name for s in result.free_symbols} <= set(SYMBOLS)
