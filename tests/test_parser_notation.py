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


# --------------------------------------------------------------------------------------------
# issue 12: tuples, step functions, set-builders, evaluation bars, f', 1 x 1 products


def test_a_parenthesized_list_is_a_tuple_and_takes_no_arithmetic():
    C, H = sp.Symbol("C", positive=True, integer=True), sp.Symbol("H", positive=True, integer=True)
    names = {"C": "positive-integer", "H": "positive-integer"}
    tuple_of = parse(r"\left(4C, \frac{H}{2}, 1\right)", names, structured=True)
    assert tuple_of == sp.Tuple(4 * C, H / 2, 1)
    assert parse("(C, H)", names, structured=True) != parse("(H, C)", names, structured=True)
    with pytest.raises(AnswerError, match="tuple is not an answer here"):
        parse("(C, H)", names)  # a quiz answer is one expression
    # sympy would repeat a tuple (2 (a, b) = (a, b, a, b)) or join two: refused instead
    for text in ("2 (C, H)", "(C, H) + (1, 2)", "(C, H)^2", "-(C, H)", "sin((C, H))"):
        with pytest.raises(AnswerError):
            parse(text, names)


@pytest.mark.parametrize(
    ("text", "at_minus", "at_zero", "at_plus"),
    [
        ("[x > 0]", 0, 0, 1),
        (r"[x \geq 0]", 0, 1, 1),
        ("[x < 0]", 1, 0, 0),
        (r"[x \le 0]", 1, 1, 0),
        ("[0 < x]", 0, 0, 1),
    ],
)
def test_an_iverson_bracket_with_an_inequality_is_a_step(text, at_minus, at_zero, at_plus):
    """Each bracket checked at x = -1, 0, 1 against the truth of its own inequality."""
    step = parse(text, SYMBOLS)
    assert [step.subs(x, value) for value in (-1, 0, 1)] == [at_minus, at_zero, at_plus]
    assert step.has(sp.Heaviside)


def test_a_set_builder_is_a_condition_set_with_its_variable_bound():
    f = sp.Function("f")
    names = {"f": "function"}  # x is not a symbol of the question: the set binds it
    read = parse(r"\{x \in \mathbb{R}^3 : f(x) = 0\}", names, structured=True)
    assert isinstance(read, sp.ConditionSet)
    point = read.sym
    assert read.base_set == sp.Reals**3 and read.condition == sp.Eq(f(point), 0)
    bar = parse(r"\left\{x \in \mathbb{R}^{3} \mid f(x) = 0\right\}", names, structured=True)
    assert read == bar
    plain = parse("{x ∈ ℝ | x > 1}", names, structured=True)
    assert plain == sp.ConditionSet(point, point > 1, sp.Reals)
    with pytest.raises(AnswerError, match="set is not an answer here"):
        parse("{x ∈ ℝ | x > 1}", names)
    for text in (r"\{x \in \mathbb{R}^0 : f(x) = 0\}", r"\{x \in \mathbb{R} : f(x)\}", "ℝ + 1"):
        with pytest.raises(AnswerError):
            parse(text, names, structured=True)
    assert parse(r"2\{x + 1\}", SYMBOLS) == 2 * x + 2  # a brace pair as a parenthesis


def test_the_evaluation_bar_and_f_prime_are_the_derivative_at_a_point():
    """Both spellings of f'(g(x)) are sympy's Subs of df/du at u = g(x); evaluated for
    f = sin, g = x^2 they give cos(x^2), the derivative of sin at x^2."""
    f, g = sp.Function("f"), sp.Function("g")
    names = {"x": "real", "f": "function", "g": "function"}
    bar = parse(r"\left. \frac{d}{du} f(u) \right|_{u = g(x)}", names)
    prime = parse("f'(g(x))", names)
    assert isinstance(bar, sp.Subs) and bar == prime
    concrete = {f: sp.Lambda(x, sp.sin(x)), g: sp.Lambda(x, x**2)}
    assert sp.simplify(bar.subs(concrete).doit() - sp.cos(x**2)) == 0
    # f''(x) at a plain symbol is the second derivative itself
    assert parse("f''(x)", names) == sp.Derivative(f(x), (x, 2))
    # u is bound by the bar: outside it, u is no name of this question
    with pytest.raises(AnswerError):
        parse(r"u + \left. \frac{d}{du} f(u) \right|_{u = g(x)}", names)
    for text in (r"\left. f(u) \right|", r"\left. f(x) \right|_{g(x)}", "f'(x, x)"):
        with pytest.raises(AnswerError):
            parse(text, names)


def test_a_1x1_product_beside_a_number_is_that_number():
    """v^T A^{-1} u next to a number is its one entry; checked on explicit 2 x 2 values."""
    from sympy.matrices.expressions.matexpr import MatrixElement

    A = sp.MatrixSymbol("A", 2, 2)
    u, v = sp.MatrixSymbol("u", 2, 1), sp.MatrixSymbol("v", 2, 1)
    objects = {"A": A, "u": u, "v": v}
    read = parse_relation(r"1 + v^\top A^{-1} u", {}, objects=objects)
    assert read == 1 + MatrixElement(v.T * A.I * u, 0, 0)
    values = {A: sp.Matrix([[2, 1], [0, 3]]), u: sp.Matrix([1, 2]), v: sp.Matrix([3, -1])}
    explicit = (1 + (values[v].T * values[A].inv() * values[u])[0, 0]).simplify()
    assert sp.simplify(read.subs(values).doit() - explicit) == 0
    # the number in front of the product stays outside it: -1/2 (v^T u), not a sum
    half = parse_relation(r"\exp\left(-\frac{1}{2} v^\top u\right)", {}, objects=objects)
    assert half == sp.exp(-MatrixElement(v.T * u, 0, 0) / 2)
    with pytest.raises(AnswerError):
        parse_relation("1 + u", {}, objects=objects)  # a 2-vector is no number


NEW_PIECES = st.sampled_from(
    [
        "(",
        ")",
        ",",
        "[",
        "]",
        ">",
        r"\geq",
        "<",
        r"\{",
        r"\}",
        r"\in",
        r"\mathbb{R}",
        "^3",
        ":",
        r"\mid",
        "|",
        r"\left.",
        r"\right|",
        "_{u = x}",
        "_{u=",
        r"\frac{d}{du}",
        "p(u)",
        "p'(x)",
        "p''",
        "'",
        r"\times",
        "×",
        r"\dots",
        "...",
        "…",
        "x_1",
        "x_n",
        "x",
        "u",
        "p",
        "2",
        "=",
        "-",
        " ",
    ]
)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(NEW_PIECES, min_size=1, max_size=14))
def test_fuzz_new_notation_gives_a_value_or_an_answer_error(parts):
    """Tuples, brackets, sets, bars, primes, × and ellipses, in any order: a sympy value or
    the parser's own AnswerError, never another exception."""
    text = "".join(parts)
    for reader in (parse, parse_relation):
        try:
            result = reader(text, SYMBOLS)
        except AnswerError:
            continue
        assert isinstance(result, sp.Basic)


def test_a_function_named_alone_in_an_argument_list_is_the_function():
    """V(G, D): G and D, declared functions, are passed as functions (the Lambda t -> D(t)),
    the same object the registry's statements build (formulas.notation.function_argument)."""
    from formulas.notation import function_argument

    G, D, V = sp.Function("G"), sp.Function("D"), sp.Function("V")
    names = {"x": "real", "G": "function", "D": "function", "V": "function"}
    read = parse(r"V(G, D) + D(x)", names)
    assert read == V(function_argument(G), function_argument(D)) + D(x)
    (value,) = (term for term in read.args if term.func == V)
    assert value.args[1](x) == D(x)  # the second argument, applied to x, is D(x) itself
    assert parse("V(D, G)", names) != parse("V(G, D)", names)  # order is kept
    # a function alone outside an argument list is not a value
    for text in ("D + 1", "V(G + 1, D)", "V(2 D, G)"):
        with pytest.raises(AnswerError):
            parse(text, names)


def test_times_between_3_vectors_is_the_cross_product():
    """Checked against numbers worked by hand: e1 x e2 = e3, (1, 2, 3) x (4, 5, 6) =
    (-3, 6, -3), and the result is orthogonal to both factors; between numbers × multiplies."""
    column = r"\begin{pmatrix} %s \end{pmatrix}"
    e1, e2 = column % r"1 \\ 0 \\ 0", column % r"0 \\ 1 \\ 0"
    assert parse(rf"{e1} \times {e2}", SYMBOLS) == sp.Matrix([0, 0, 1])
    a, b = column % r"1 \\ 2 \\ 3", column % r"4 \\ 5 \\ 6"
    n = parse(rf"{a} \times {b}", SYMBOLS)
    assert n == sp.Matrix([-3, 6, -3])
    assert n.dot(sp.Matrix([1, 2, 3])) == 0 and n.dot(sp.Matrix([4, 5, 6])) == 0
    assert parse(r"2 \times 3 x", SYMBOLS) == 6 * x and parse("2 × x", SYMBOLS) == 2 * x
    assert parse(rf"2 \times {a}", SYMBOLS) == 2 * sp.Matrix([1, 2, 3])  # a number times a vector
    pair = r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"
    for text in (rf"{e1} \times {pair}", rf"{pair} \times {pair}"):
        with pytest.raises(AnswerError):
            parse(text, SYMBOLS)


def test_an_ellipsis_list_is_the_range_of_its_items():
    """Concat(head_1, head_2, …, head_h) is one argument, the heads 1 to h, given by the first
    head and the range; with h = 4 heads of D/h = 2 columns the concatenation is T x 8."""
    from formulas._chain import matrix_function
    from formulas.notation import argument_range

    T, h = sp.Symbol("T", positive=True, integer=True), sp.Symbol("h", positive=True, integer=True)
    head_1 = sp.MatrixSymbol("head_1", T, 2)
    Concat, Range = matrix_function("Concat"), argument_range()
    names = {"T": "positive-integer", "h": "positive-integer", "n": "positive-integer"}
    objects = {"head_1": head_1, "Concat": Concat, "ArgumentRange": Range}
    read = parse_relation(
        r"\operatorname{Concat}(head_1, head_2, \dots, head_h)", names, objects=objects
    )
    assert read == Concat(Range(head_1, 1, h))
    assert read.shape[1].subs(h, 4) == 8
    assert parse_relation("Concat(head_1, ..., head_h)", names, objects=objects) == read
    # scalars: the items of a sequence x, as an undefined ArgumentRange of the first item
    sequence = {"x": sp.IndexedBase("x"), "f": sp.Function("f")}
    listed = parse_relation(r"f(x_1, x_2, \cdots, x_n)", names, objects=sequence)
    assert listed == sp.Function("f")(
        sp.Function("ArgumentRange")(
            sp.IndexedBase("x")[1], 1, sp.Symbol("n", positive=True, integer=True)
        )
    )
    for text in (
        "f(x_1, x_3, …, x_n)",  # the items before … count up by one
        "f(x_1, …)",  # no last item
        "f(…, x_n)",
        "f(x_1, y_2, …, x_n)",  # one base
        "f(x_1, x_2, …, x_3)",  # nothing left out
        "f(x_1, …, x_n, x_m)",
        "max(x_1, …, x_n)",  # a whitelisted function of unlisted items is not worked out
        "x_1 + … + x_n",
    ):
        with pytest.raises(AnswerError):
            parse_relation(text, {**names, "y_2": "real", "m": "integer"}, objects=sequence)


MATRIX_PIECES = st.sampled_from(
    [
        "u",
        "v",
        r"v^\top",
        "A",
        "A^{-1}",
        r"\det",
        "head_1",
        "head_2",
        "head_h",
        r"\operatorname{Concat}",
        r"\dots",
        r"\times",
        "p",
        "(",
        ")",
        ",",
        "1",
        "+",
        "-",
        r"\frac{1}{2}",
        r"\exp",
        "[",
        "]",
        ">",
        "=",
        r"\left.",
        r"\right|_{t = 1}",
        r"\begin{pmatrix} 1 \\ 2 \\ 3 \end{pmatrix}",
        " ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(MATRIX_PIECES, min_size=1, max_size=12))
def test_fuzz_matrix_notation_gives_a_value_or_an_answer_error(parts):
    """The same with a question's matrices, heads and functions (1 x 1 products, inverses,
    cross products, Concat over a range, functions as arguments)."""
    from formulas._chain import matrix_function
    from formulas.notation import argument_range, cross_operator

    T = sp.Symbol("T", positive=True, integer=True)
    objects = {
        "A": sp.MatrixSymbol("A", 3, 3),
        "u": sp.MatrixSymbol("u", 3, 1),
        "v": sp.MatrixSymbol("v", 3, 1),
        "head_1": sp.MatrixSymbol("head_1", T, 2),
        "Concat": matrix_function("Concat"),
        "ArgumentRange": argument_range(),
        "Cross": cross_operator(),
    }
    names = {"T": "positive-integer", "h": "positive-integer", "p": "function", "t": "real"}
    try:
        result = parse_relation("".join(parts), names, objects=objects)
    except AnswerError:
        return
    assert isinstance(result, (sp.Basic, sp.MatrixBase))  # an explicit matrix is mutable
