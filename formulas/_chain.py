"""Small helpers for writing derivations as chains (used by the generative, vae,
autoregressive and attention modules).

- `density(...)`: an undefined function that prints as the course writes it (p_theta(x | z)).
- `definition(...)`: a premise step `name := expression` that a later step uses (and the
  proof engine substitutes there).
- `spot_check(...)`: a custom check for a general identity between expressions that hold
  unevaluated integrals and derivatives of abstract functions: every definition is
  substituted, the abstract functions get a concrete instance, and both sides are computed
  numerically at random parameter values, integrals by mpmath.quad and derivatives by
  mpmath.diff (so a derivative of an integral is never moved inside by the check itself).

sympy and mpmath are imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from formulas.core import Comparison, Step


def density(name: str, latex: str, text: str):
    """An undefined sympy function whose applications print as `latex` / `text`."""
    import sympy as sp
    from sympy.printing.pretty.stringpict import prettyForm

    return sp.Function(
        name,
        __dict__={
            "_latex": lambda self, printer: latex,
            "_sympystr": lambda self, printer: text,
            "_pretty": lambda self, printer: prettyForm(text),
        },
    )


def definition(claim: str, lhs: Any, rhs: Any, name: str, premise: str = "definition") -> Step:
    """A premise `lhs := rhs` (definition, assumption or another formula by id)."""
    return Step(claim, lhs, rhs, premise=premise, name=name)


def _compile(expr: Any, symbols: list) -> Callable[[list], Any]:
    """A function of the values of `symbols` that computes `expr` with mpmath, doing every
    Integral by quadrature and every Derivative by numerical differentiation."""
    import mpmath
    import sympy as sp

    if isinstance(expr, sp.Integral):
        (variable, low, high), *rest = expr.limits
        inner = _compile(
            expr.function if not rest else sp.Integral(expr.function, *rest),
            [*symbols, variable],
        )
        low_value = _compile(low, symbols)
        high_value = _compile(high, symbols)

        def integral(values):
            a, b = low_value(values), high_value(values)
            points = [a, b] if mpmath.isfinite(a) and mpmath.isfinite(b) else [a, -1, 0, 1, b]
            return mpmath.quad(lambda t: inner([*values, t]), points)

        return integral
    if isinstance(expr, sp.Derivative) and not expr.expr.has(sp.Integral):
        # a derivative of an explicit expression: sympy differentiates it exactly
        return _compile(expr.doit(), symbols)
    if isinstance(expr, sp.Derivative):
        inner = _compile(expr.expr, symbols)
        (variable, order), *rest = expr.variable_count
        if rest or order != 1 or variable not in symbols:
            raise ValueError(f"only first derivatives in a parameter are computed: {expr}")
        index = symbols.index(variable)

        def derivative(values):
            def at(t):
                moved = list(values)
                moved[index] = t
                return inner(moved)

            return mpmath.diff(at, values[index])

        return derivative
    outer: list = []  # the outermost Integral / Derivative nodes become placeholders

    def collect(node):
        if isinstance(node, (sp.Integral, sp.Derivative)):
            if node not in outer:
                outer.append(node)
            return
        for argument in node.args:
            collect(argument)

    collect(expr)
    placeholders = {node: sp.Dummy() for node in outer}
    parts = [_compile(node, symbols) for node in outer]
    body = sp.lambdify([*symbols, *placeholders.values()], expr.xreplace(placeholders), "mpmath")

    def value(values):
        return body(*values, *(part(values) for part in parts))

    return value


DIGITS = 20  # working precision of the spot checks (their tolerance is 1e-12)


def numeric_value(expr: Any, values: Mapping[Any, Any]) -> complex:
    """`expr` (free symbols all in `values`) computed with mpmath at DIGITS digits."""
    import mpmath
    import sympy as sp

    expr = sp.sympify(expr)
    symbols = sorted(expr.free_symbols, key=str)
    missing = [s for s in symbols if s not in values]
    if missing:
        raise ValueError(f"no value for {missing} in {expr}")
    with mpmath.workdps(DIGITS):
        function = _compile(expr, symbols)
        return complex(function([mpmath.mpf(str(sp.N(values[s], 40))) for s in symbols]))


def concrete(expr: Any, substitutions: Mapping[Any, Any], functions: Mapping[Any, Any]) -> Any:
    """Definitions substituted (repeatedly), then abstract functions replaced by instances."""
    import sympy as sp

    expr = sp.sympify(expr)
    for _ in range(6):
        replaced = expr.xreplace(dict(substitutions)) if substitutions else expr
        for head, instance in functions.items():
            replaced = replaced.replace(head, instance)
        if replaced == expr:
            break
        expr = replaced
    return expr


def spot_check(
    lhs: Any,
    rhs: Any,
    *,
    sampler: Callable[[random.Random], Mapping[Any, Any]],
    substitutions: Mapping[Any, Any] | None = None,
    functions: Mapping[Any, Any] | None = None,
    points: int = 2,
    seed: int = 0,
    what: str = "",
) -> Callable[[], Comparison]:
    """A custom check: both sides computed numerically at `points` random parameter values."""

    def check() -> Comparison:
        rng = random.Random(seed)
        left_side = concrete(lhs, substitutions or {}, functions or {})
        right_side = concrete(rhs, substitutions or {}, functions or {})
        lefts, rights = [], []
        for _ in range(points):
            values = sampler(rng)
            lefts.append(numeric_value(left_side, values))
            rights.append(numeric_value(right_side, values))
        instance = f" ({what})" if what else ""
        return Comparison(
            lefts,
            rights,
            f"both sides computed at {points} random points{instance}: integrals by "
            f"mpmath.quad, derivatives by mpmath.diff, {DIGITS} digits",
        )

    return check


_MATRIX_FUNCTIONS: dict[str, Any] = {}


def matrix_function(
    name: str,
    rowwise: Callable[[Any], Any] | None = None,
    latex_head: str | None = None,
    square: bool = False,
):
    """A matrix-valued function head (e.g. a row-wise Softmax) that keeps its place in matrix
    products: Softmax(Q K^T / sqrt(D)) V prints and multiplies in that order. `rowwise(row)`
    maps one explicit row (a list of sympy expressions) to its image, so `.doit()` on an
    explicit matrix argument computes the entries. Created once per name (sympy is imported
    on first use). `latex_head` prints the head as written (f' for an elementwise slope f'(a),
    read back by name) instead of \\operatorname{name}; `square`: an n x n image of an n-vector
    (diag(v))."""
    if name in _MATRIX_FUNCTIONS:
        return _MATRIX_FUNCTIONS[name]
    import sympy as sp

    def __new__(cls, *args):
        return sp.Basic.__new__(cls, *map(sp.sympify, args))

    def shape(self):
        if square:
            return (self.args[0].shape[0], self.args[0].shape[0])
        if len(self.args) == 1:
            return self.args[0].shape
        rows = self.args[0].shape[0]
        return (rows, sp.Add(*(arg.shape[1] for arg in self.args)))

    def doit(self, **hints):
        args = [arg.doit(**hints) if hints.get("deep", True) else arg for arg in self.args]
        explicit = all(isinstance(arg, sp.MatrixBase) for arg in args)
        if explicit and rowwise is not None and len(args) == 1:
            matrix = args[0]
            return sp.Matrix(
                [rowwise([matrix[i, j] for j in range(matrix.cols)]) for i in range(matrix.rows)]
            )
        if explicit and len(args) > 1:  # concatenation along columns
            return sp.Matrix.hstack(*args)
        return type(self)(*args)

    def _entry(self, i, j, **kwargs):
        return self.doit()[i, j]

    def _latex(self, printer):
        inner = ", ".join(printer._print(arg) for arg in self.args)
        head = latex_head if latex_head is not None else rf"\operatorname{{{name}}}"
        return rf"{head}\left({inner}\right)"

    def _sympystr(self, printer):
        return f"{name}(" + ", ".join(printer._print(arg) for arg in self.args) + ")"

    cls = type(
        name,
        (sp.MatrixExpr,),
        {
            "__new__": __new__,
            "shape": property(shape),
            "doit": doit,
            "_entry": _entry,
            "_latex": _latex,
            "_sympystr": _sympystr,
            # an application names one matrix (f'(a^(l)) := the slopes): a premise about it
            # is substituted like one about a matrix symbol (formulas.proof)
            "named_application": True,
        },
    )
    _MATRIX_FUNCTIONS[name] = cls
    return cls


def softmax_rows():
    """Row-wise Softmax as a matrix function."""
    import sympy as sp

    def rowwise(row):
        total = sp.Add(*(sp.exp(entry) for entry in row))
        return [sp.exp(entry) / total for entry in row]

    return matrix_function("Softmax", rowwise)


_JACOBIAN: list[Any] = []


def jacobian(top: Any, bottom: Any):
    """d top / d bottom as a matrix: the Jacobian of a named vector (or scalar, or a named
    application such as t_theta(p_hat)) in a named vector (or scalar), rows x columns = the
    sizes of top x bottom. It stays unevaluated (a matrix of its own in products and inverses,
    like a matrix symbol); it prints \\frac{\\partial top}{\\partial bottom}, the parser reads that
    fraction back to it, and a premise about it is substituted like one about a matrix symbol
    (formulas.proof)."""
    if not _JACOBIAN:
        import sympy as sp

        def size(value):
            return value.shape[0] if getattr(value, "is_Matrix", False) else sp.Integer(1)

        def __new__(cls, top, bottom):
            return sp.Basic.__new__(cls, sp.sympify(top), sp.sympify(bottom))

        def shape(self):
            return (size(self.args[0]), size(self.args[1]))

        def _entry(self, i, j, **kwargs):
            top, bottom = self.args
            numerator = top[i, 0] if getattr(top, "is_Matrix", False) else top
            denominator = bottom[j, 0] if getattr(bottom, "is_Matrix", False) else bottom
            return sp.Derivative(numerator, denominator)

        def _latex(self, printer):
            top, bottom = (printer._print(argument) for argument in self.args)
            return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"

        def _sympystr(self, printer):
            top, bottom = (printer._print(argument) for argument in self.args)
            return f"∂{top}/∂{bottom}"

        def _pretty(self, printer):  # the terminal's 2D form: the one-line course form
            from sympy.printing.pretty.stringpict import prettyForm

            from formulas.notation import unicode_line

            return prettyForm(unicode_line(self))

        _JACOBIAN.append(
            type(
                "Jacobian",
                (sp.MatrixExpr,),
                {
                    "__new__": __new__,
                    "shape": property(shape),
                    "doit": lambda self, **hints: self,
                    "_entry": _entry,
                    "_latex": _latex,
                    "_sympystr": _sympystr,
                    "_pretty": _pretty,
                    "named_application": True,
                },
            )
        )
    return _JACOBIAN[0](top, bottom)
