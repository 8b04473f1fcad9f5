"""Appendix (sheet section 14): secant method, planes and the cross product, the torus,
derivative rules, the matrix determinant lemma, Jensen's inequality, Gaussians, Bayes' rule,
volume preservation.

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import (
    Claim,
    Comparison,
    Derivation,
    Erratum,
    Evidence,
    Formula,
    Step,
    as_float64,
    compare_forms,
    register,
    register_claim,
)

# --------------------------------------------------------------------------------------------
# secant-step


def _secant_symbols():
    import sympy as sp

    x0, x1 = sp.symbols("x_0 x_1", real=True)
    f = sp.Function("f", real=True)
    return sp, x0, x1, f(x0), f(x1), sp.Symbol("x_2", real=True)


def _secant_statement():
    sp, x0, x1, f0, f1, x2 = _secant_symbols()
    return sp.Eq(x2, x1 - f1 * (x1 - x0) / (f1 - f0))


def _secant_derivation() -> list[Step]:
    sp, x0, x1, f0, f1, x2 = _secant_symbols()
    slope = sp.Symbol("s", real=True, nonzero=True)
    line = sp.Function("y")  # the secant line

    def sampler(rng):  # f(x_0) != f(x_1) and x_0 != x_1: the line has a finite, nonzero slope
        a = sp.Rational(rng.randint(-300, 300), 100)
        fa = sp.Rational(rng.randint(-300, 300), 100)
        return {
            x0: a,
            x1: a + sp.Rational(rng.randint(1, 200), 100),
            f0: fa,
            f1: fa + sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 200), 100),
            slope: sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 300), 100),
            x2: sp.Rational(rng.randint(-300, 300), 100),
        }

    return [
        Step(
            "the secant line through (x_0, f(x_0)) and (x_1, f(x_1)) evaluated at x_2: "
            "y(x_2) = s (x_2 - x_1) + f(x_1)",
            premise="definition",
            name="line",
            lhs=line(x2),
            rhs=slope * (x2 - x1) + f1,
        ),
        Step(
            "x_2 is where the line crosses zero",
            premise="definition",
            name="root",
            lhs=line(x2),
            rhs=sp.Integer(0),
        ),
        Step(
            "its slope is the difference quotient",
            premise="definition",
            name="slope",
            lhs=slope,
            rhs=(f1 - f0) / (x1 - x0),
        ),
        Step(
            "solve the line's equation for x (s != 0)",
            lhs=x2,
            rhs=x1 + (line(x2) - f1) / slope,
            uses=("line",),
            sampler=sampler,
        ),
        Step("at the root y(x_2) = 0", rhs=x1 - f1 / slope, uses=("root",), sampler=sampler),
        Step(
            "insert the slope",
            rhs=x1 - f1 * (x1 - x0) / (f1 - f0),
            uses=("slope",),
            sampler=sampler,
        ),
    ]


def secant_step(x0, x1, f0, f1):
    """x_2 = x_1 - f(x_1) (x_1 - x_0) / (f(x_1) - f(x_0))."""
    import numpy as np

    x0, x1, f0, f1 = (np.asarray(v, dtype=np.float64) for v in (x0, x1, f0, f1))
    return as_float64(x1 - f1 * (x1 - x0) / (f1 - f0))


register(
    Formula(
        id="secant-step",
        title="Secant method step",
        topic="math",
        section="14, 8.1.3",
        text="line (x_0, f(x_0)) -> (x_1, f(x_1)): y = (f(x_1) - f(x_0))/(x_1 - x_0) (x - x_1) + "
        "f(x_1), y = 0 at x_2 = x_1 - f(x_1)(x_1 - x_0)/(f(x_1) - f(x_0)); approximates Newton "
        "without derivatives; DVR root finding along a ray",
        keywords=("secant", "root finding", "newton", "zero crossing", "dvr"),
        statement_builder=_secant_statement,
        derivation_builder=_secant_derivation,
        evaluator=secant_step,
        sheet_lines=(425, 427),
    )
)


# --------------------------------------------------------------------------------------------
# planes and the cross product


def _point_on_plane(a, b, c):
    """Premises: a point (x, y, z) of the plane through a, b, c is a + s (b - a) + t (c - a)."""
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    s, t = sp.symbols("s t", real=True)
    point = [a[i] + s * (b[i] - a[i]) + t * (c[i] - a[i]) for i in range(3)]
    return [
        Step(
            f"a point of the plane through the three points: {name} = "
            f"{sp.sstr(value)} for some s, t",
            premise="assumption",
            name=f"point {name}",
            lhs=symbol,
            rhs=value,
        )
        for name, symbol, value in zip("xyz", (x, y, z), point)
    ]


def _cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def _intercept_statement():
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    x1, y1, z1 = sp.symbols("x_1 y_1 z_1", real=True, nonzero=True)
    return sp.Eq(x / x1 + y / y1 + z / z1 - 1, 0)


def _intercept_derivation() -> list[Step]:
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    x1, y1, z1 = sp.symbols("x_1 y_1 z_1", real=True, nonzero=True)
    a, b, c = (x1, 0, 0), (0, y1, 0), (0, 0, z1)
    normal = _cross([b[i] - a[i] for i in range(3)], [c[i] - a[i] for i in range(3)])
    offset = -sum(n * p for n, p in zip(normal, a))
    plane = normal[0] * x + normal[1] * y + normal[2] * z + offset
    return [
        *_point_on_plane(a, b, c),
        Step(
            "n = (b - a) x (c - a) = (y_1 z_1, x_1 z_1, x_1 y_1) and k = -n . a = -x_1 y_1 z_1: "
            "the intercept form is the plane n . x + k = 0 divided by x_1 y_1 z_1",
            lhs=x / x1 + y / y1 + z / z1 - 1,
            rhs=plane / (x1 * y1 * z1),
        ),
        Step(
            "every point of the plane satisfies it",
            rhs=sp.Integer(0),
            uses=("point x", "point y", "point z"),
        ),
    ]


def plane_intercept_form(point, x1, y1, z1):
    """x/x_1 + y/y_1 + z/z_1 - 1 at point [..., 3] (zero on the plane through the intercepts)."""
    import numpy as np

    p = np.asarray(point, dtype=np.float64)
    return as_float64(p[..., 0] / x1 + p[..., 1] / y1 + p[..., 2] / z1 - 1.0)


register(
    Formula(
        id="plane-intercept-form",
        title="Implicit plane through three axis points",
        topic="math",
        section="14",
        text="implicit plane from 3 points (x_1,0,0), (0,y_1,0), (0,0,z_1) => "
        "x/x_1 + y/y_1 + z/z_1 - 1 = 0",
        keywords=("plane", "intercept form", "implicit plane", "three points"),
        statement_builder=_intercept_statement,
        derivation_builder=_intercept_derivation,
        evaluator=plane_intercept_form,
        sheet_lines=(431, 431),
    )
)


def _cross_parts():
    import sympy as sp

    a = sp.Matrix(sp.symbols("a_1:4", real=True))
    b = sp.Matrix(sp.symbols("b_1:4", real=True))
    return sp, a, b, sp.Matrix(_cross(a, b))


def _cross_statement():
    from formulas.notation import cross_operator

    sp, a, b, n = _cross_parts()
    return sp.Eq(cross_operator()(a, b), n, evaluate=False)  # a x b, kept unevaluated


def _cross_properties() -> list[Step]:
    sp, a, b, n = _cross_parts()
    return [
        Step("n is orthogonal to a", n.dot(a), sp.Integer(0)),
        Step(
            "n is orthogonal to b, so it is a normal of the plane spanned by a and b",
            n.dot(b),
            sp.Integer(0),
        ),
        Step(
            "|n|^2 = |a|^2 |b|^2 - (a . b)^2 (Lagrange): n = 0 only for parallel a, b",
            n.dot(n),
            a.dot(a) * b.dot(b) - a.dot(b) ** 2,
        ),
    ]


def cross_product(a, b):
    """n = a x b = (a_2 b_3 - a_3 b_2, a_3 b_1 - a_1 b_3, a_1 b_2 - a_2 b_1)."""
    import numpy as np

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return as_float64(
        np.stack(
            [
                a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
            ],
            axis=-1,
        )
    )


register(
    Formula(
        id="cross-product",
        title="Cross product (plane normal)",
        topic="math",
        section="14",
        text="let a, b be any vectors on the plane, n := a x b = (a_2 b_3 - a_3 b_2, a_3 b_1 - "
        "a_1 b_3, a_1 b_2 - a_2 b_1)",
        keywords=("cross product", "normal", "vector product", "orthogonal"),
        statement_builder=_cross_statement,
        definition=True,
        properties_builder=_cross_properties,
        evaluator=cross_product,
        sheet_lines=(431, 431),
    )
)


def _plane_points_symbols():
    import sympy as sp

    x, y, z, k = sp.symbols("x y z k", real=True)
    n = sp.symbols("n_1:4", real=True)
    return sp, x, y, z, k, n


def _plane_points_statement():
    sp, x, y, z, k, n = _plane_points_symbols()
    return sp.Eq(n[0] * x + n[1] * y + n[2] * z + k, 0)


def _plane_points_derivation() -> list[Step]:
    sp, x, y, z, k, n = _plane_points_symbols()
    p = sp.symbols("p_1:4", real=True)  # a point of the plane
    a = sp.symbols("a_1:4", real=True)  # two vectors in the plane
    b = sp.symbols("b_1:4", real=True)
    s, t = sp.symbols("s t", real=True)
    normal = _cross(a, b)
    steps = [
        Step(
            f"n := a x b, component {i + 1}",
            premise="definition",
            name=f"n_{i + 1}",
            lhs=n[i],
            rhs=normal[i],
        )
        for i in range(3)
    ]
    steps += [
        Step(
            "substitute the known point p of the plane to find k = -n . p",
            premise="definition",
            name="k",
            lhs=k,
            rhs=-(n[0] * p[0] + n[1] * p[1] + n[2] * p[2]),
        ),
        *[
            Step(
                f"a point of the plane: {name} = p_{i + 1} + s a_{i + 1} + t b_{i + 1}",
                premise="assumption",
                name=f"point {name}",
                lhs=symbol,
                rhs=p[i] + s * a[i] + t * b[i],
            )
            for i, (name, symbol) in enumerate(zip("xyz", (x, y, z)))
        ],
        Step(
            "insert k",
            lhs=n[0] * x + n[1] * y + n[2] * z + k,
            rhs=n[0] * (x - p[0]) + n[1] * (y - p[1]) + n[2] * (z - p[2]),
            uses=("k",),
        ),
        Step(
            "x - p lies in the plane: x - p = s a + t b",
            rhs=sum(n[i] * (s * a[i] + t * b[i]) for i in range(3)),
            uses=("point x", "point y", "point z"),
        ),
        Step(
            "regroup: s (n . a) + t (n . b)",
            rhs=s * sum(n[i] * a[i] for i in range(3)) + t * sum(n[i] * b[i] for i in range(3)),
        ),
        Step(
            "n = a x b is orthogonal to a and b (cross-product)",
            rhs=sp.Integer(0),
            uses=("n_1", "n_2", "n_3"),
        ),
    ]
    return steps


def plane_from_points(p1, p2, p3):
    """(n_1, n_2, n_3, k) with n = (p_2 - p_1) x (p_3 - p_1), k = -n . p_1: the plane
    n . x + k = 0 through three points."""
    import numpy as np

    p1, p2, p3 = (np.asarray(p, dtype=np.float64) for p in (p1, p2, p3))
    n = cross_product(p2 - p1, p3 - p1)
    k = -np.sum(n * p1, axis=-1)
    return as_float64(np.concatenate([n, np.asarray(k)[..., None]], axis=-1))


register(
    Formula(
        id="plane-from-points",
        title="Plane through three points",
        topic="math",
        section="14",
        text="n := a x b => n_1 x + n_2 y + n_3 z + k = 0, substitute any point to find k",
        keywords=("plane", "three points", "normal", "implicit plane", "cross product"),
        statement_builder=_plane_points_statement,
        derivation_builder=_plane_points_derivation,
        evaluator=plane_from_points,
        sheet_lines=(431, 431),
    )
)


# --------------------------------------------------------------------------------------------
# torus


def _torus_symbols():
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    R, r = sp.symbols("R r", positive=True)
    return sp, x, y, z, R, r


def _torus_statement():
    sp, x, y, z, R, r = _torus_symbols()
    return sp.Eq((sp.sqrt(x**2 + y**2) - R) ** 2 + z**2, r**2)


def _torus_derivation() -> list[Step]:
    sp, x, y, z, R, r = _torus_symbols()
    u, v = sp.symbols("u v", real=True)
    point = {
        x: (R + r * sp.cos(v)) * sp.cos(u),
        y: (R + r * sp.cos(v)) * sp.sin(u),
        z: r * sp.sin(v),
    }

    def sampler(rng):
        return {
            R: sp.Rational(rng.randint(200, 500), 100),
            r: sp.Rational(rng.randint(10, 150), 100),
            u: sp.Rational(rng.randint(-314, 314), 100),
            v: sp.Rational(rng.randint(-314, 314), 100),
        }

    steps = [
        Step(
            f"the torus is the circle of radius r around (R, 0, 0) in the xz-plane, rotated "
            f"about the z axis: {name} = {sp.sstr(value)}",
            premise="definition",
            name=f"torus {name}",
            lhs=symbol,
            rhs=value,
        )
        for name, symbol, value in zip("xyz", (x, y, z), point.values())
    ]
    distance = R + r * sp.cos(v)  # distance from the z axis, > 0 as r < R
    steps += [
        Step(
            "insert a point of the torus",
            lhs=(sp.sqrt(x**2 + y**2) - R) ** 2 + z**2,
            rhs=(sp.sqrt(sp.expand_trig(point[x] ** 2 + point[y] ** 2)) - R) ** 2 + point[z] ** 2,
            uses=("torus x", "torus y", "torus z"),
            sampler=sampler,
        ),
        Step(
            "cos^2 u + sin^2 u = 1 and R + r cos v > 0 (r < R): sqrt(x^2 + y^2) = R + r cos v",
            rhs=(distance - R) ** 2 + r**2 * sp.sin(v) ** 2,
            sampler=sampler,
            assumptions="0 < r < R",
        ),
        Step(
            "(r cos v)^2 + (r sin v)^2 = r^2",
            rhs=r**2,
            sampler=sampler,
        ),
    ]
    return steps


def torus_implicit(x, y, z, R, r):
    """(sqrt(x^2 + y^2) - R)^2 + z^2 - r^2: zero on the torus centred at 0 around the z axis."""
    import numpy as np

    x, y, z = (np.asarray(v, dtype=np.float64) for v in (x, y, z))
    return as_float64((np.sqrt(x**2 + y**2) - R) ** 2 + z**2 - r**2)


register(
    Formula(
        id="torus-equation",
        title="Implicit torus",
        topic="math",
        section="14",
        text="torus equation (sqrt(x^2 + y^2) - R)^2 + z^2 = r^2, centred at 0, around the z axis",
        keywords=("torus", "donut", "implicit surface", "major radius", "minor radius"),
        statement_builder=_torus_statement,
        derivation_builder=_torus_derivation,
        evaluator=torus_implicit,
        sheet_lines=(433, 433),
    )
)


# --------------------------------------------------------------------------------------------
# derivative rules: chains for generic functions f, g (sympy differentiates the limits)


def _derivative_rule(rule_id, title, text, keywords, statement, steps, lines):
    register(
        Formula(
            id=rule_id,
            title=title,
            topic="math",
            section="14",
            text=text,
            keywords=keywords,
            statement_builder=statement,
            derivation_builder=steps,
            sheet_lines=lines,
        )
    )


def _generic():
    import sympy as sp

    x, h = sp.Symbol("x", real=True), sp.Symbol("h", real=True)
    f, g = sp.Function("f"), sp.Function("g")
    return sp, x, h, f, g


def _product_statement():
    sp, x, h, f, g = _generic()
    return sp.Eq(
        sp.Derivative(f(x) * g(x), x),
        sp.Derivative(f(x), x) * g(x) + f(x) * sp.Derivative(g(x), x),
    )


def _product_steps():
    sp, x, h, f, g = _generic()
    quotient = (f(x + h) * g(x + h) - f(x) * g(x)) / h
    split = (f(x + h) - f(x)) / h * g(x + h) + f(x) * (g(x + h) - g(x)) / h
    return [
        Step(
            "add and subtract f(x) g(x + h) in the difference quotient",
            premise="lemma",
            name="split",
            lhs=quotient,
            rhs=split,
        ),
        Step(
            "(f g)' is the limit h -> 0 of the split quotient: (f(x+h) - f(x))/h -> f', "
            "g(x + h) -> g (g is differentiable, hence continuous), (g(x+h) - g(x))/h -> g'",
            lhs=sp.Derivative(f(x) * g(x), x),
            rhs=sp.Derivative(f(x), x) * g(x) + f(x) * sp.Derivative(g(x), x),
            uses=("split",),
        ),
    ]


_derivative_rule(
    "product-rule",
    "Product rule",
    "(f . g)' = f' g + f g'",
    ("product rule", "derivative", "differentiation"),
    _product_statement,
    _product_steps,
    (435, 435),
)


def _quotient_statement():
    sp, x, h, f, g = _generic()
    return sp.Eq(
        sp.Derivative(f(x) / g(x), x),
        (sp.Derivative(f(x), x) * g(x) - f(x) * sp.Derivative(g(x), x)) / g(x) ** 2,
    )


def _quotient_steps():
    sp, x, h, f, g = _generic()
    quotient = (f(x + h) / g(x + h) - f(x) / g(x)) / h
    split = ((f(x + h) - f(x)) / h * g(x) - f(x) * (g(x + h) - g(x)) / h) / (g(x + h) * g(x))
    return [
        Step(
            "common denominator and add/subtract f(x) g(x) in the difference quotient",
            premise="lemma",
            name="split",
            lhs=quotient,
            rhs=split,
        ),
        Step(
            "(f/g)' is the limit h -> 0: the quotients tend to f' and g', g(x + h) g(x) -> g^2 "
            "(g != 0)",
            lhs=sp.Derivative(f(x) / g(x), x),
            rhs=(sp.Derivative(f(x), x) * g(x) - f(x) * sp.Derivative(g(x), x)) / g(x) ** 2,
            uses=("split",),
        ),
    ]


_derivative_rule(
    "quotient-rule",
    "Quotient rule",
    "(f/g)' = (f' g - f g')/g^2",
    ("quotient rule", "derivative", "division"),
    _quotient_statement,
    _quotient_steps,
    (435, 435),
)


def _chain_parts():
    sp, x, h, f, g = _generic()
    u = sp.Symbol("u")
    outer_derivative = sp.Subs(sp.Derivative(f(u), u), u, g(x))  # f'(g(x))
    return sp, x, h, f, g, outer_derivative


def _chain_statement():
    sp, x, h, f, g, outer = _chain_parts()
    return sp.Eq(sp.Derivative(f(g(x)), x), outer * sp.Derivative(g(x), x))


def _chain_steps():
    sp, x, h, f, g, outer = _chain_parts()
    k = sp.Function("k")  # k(h) = g(x + h) - g(x), the change of the inner function
    quotient = (f(g(x) + k(h)) - f(g(x))) / h
    split = sp.Mul((f(g(x) + k(h)) - f(g(x))) / k(h), k(h) / h, evaluate=False)
    return [
        Step(
            "with k = g(x + h) - g(x) != 0: [f(g + k) - f(g)]/h = [f(g + k) - f(g)]/k . k/h",
            premise="lemma",
            name="split",
            lhs=quotient,
            rhs=split,
        ),
        Step(
            "as h -> 0, k -> 0 (g continuous): the first factor tends to f'(g(x)), the second "
            "to g'(x)",
            lhs=sp.Derivative(f(g(x)), x),
            rhs=outer * sp.Derivative(g(x), x),
            uses=("split",),
        ),
    ]


_derivative_rule(
    "chain-rule",
    "Chain rule",
    "(f o g)' = f'(g) g'",
    ("chain rule", "composition", "derivative", "backprop"),
    _chain_statement,
    _chain_steps,
    (437, 437),
)


def _inverse_parts():
    sp, x, h, f, g = _generic()
    inverse = sp.Function("f^{-1}")
    u = sp.Symbol("u")
    return sp, x, f, inverse, sp.Subs(sp.Derivative(f(u), u), u, inverse(x))


def _inverse_statement():
    sp, x, f, inverse, outer = _inverse_parts()
    return sp.Eq(sp.Derivative(inverse(x), x), 1 / outer)


def _inverse_steps():
    sp, x, f, inverse, outer = _inverse_parts()
    return [
        Step(
            "f^{-1} is the inverse of f: f(f^{-1}(x)) = x",
            premise="definition",
            name="inverse",
            lhs=f(inverse(x)),
            rhs=x,
        ),
        Step(
            "chain rule on f(f^{-1}(x)): (f o f^{-1})' = f'(f^{-1}) (f^{-1})', divided by "
            "f'(f^{-1}(x)) != 0",
            premise="formula:chain-rule",
            name="chain rule",
        ),
        Step(
            "solve the chain rule for (f^{-1})'",
            lhs=sp.Derivative(inverse(x), x),
            rhs=sp.Derivative(f(inverse(x)), x) / outer,
            uses=("chain rule",),
        ),
        Step("(f o f^{-1})' = (x)' = 1", rhs=1 / outer, uses=("inverse",)),
    ]


_derivative_rule(
    "inverse-function-rule",
    "Derivative of an inverse function",
    "(f^{-1})' = 1/f'(f^{-1})",
    ("inverse function", "derivative", "inverse", "change of variables"),
    _inverse_statement,
    _inverse_steps,
    (437, 437),
)


def _log_statement():
    import sympy as sp

    x = sp.Symbol("x", positive=True)
    return sp.Eq(sp.Derivative(sp.log(x), x), 1 / x)


def _log_steps():
    import sympy as sp

    x, h = sp.Symbol("x", positive=True), sp.Symbol("h", positive=True)
    t = sp.Symbol("t", positive=True)
    return [
        Step(
            "definition of the derivative",
            lhs=sp.Derivative(sp.log(x), x),
            rhs=sp.Limit((sp.log(x + h) - sp.log(x)) / h, h, 0),
        ),
        Step(
            "log(x + h) - log x = log(1 + h/x)",
            rhs=sp.Limit(sp.log(1 + h / x) / h, h, 0),
        ),
        Step(
            "substitute t = h/x",
            rhs=sp.Limit(sp.log(1 + t) / t, t, 0) / x,
        ),
        Step("log(1 + t)/t -> 1 as t -> 0", rhs=1 / x),
    ]


_derivative_rule(
    "log-derivative",
    "Derivative of the logarithm",
    "(log x)' = 1/x",
    ("log", "logarithm", "derivative", "log-derivative"),
    _log_statement,
    _log_steps,
    (437, 437),
)


# --------------------------------------------------------------------------------------------
# matrix-determinant-lemma


def _mdl_parts():
    import sympy as sp
    from sympy.matrices.expressions.matexpr import MatrixElement

    A = sp.MatrixSymbol("A", 3, 3)
    u, v = sp.MatrixSymbol("u", 3, 1), sp.MatrixSymbol("v", 3, 1)
    quadratic = MatrixElement(v.T * A.I * u, 0, 0)  # the scalar v^T A^{-1} u
    return sp, A, u, v, quadratic


def _mdl_statement():
    sp, A, u, v, quadratic = _mdl_parts()
    return sp.Eq(sp.Determinant(A + u * v.T), (1 + quadratic) * sp.Determinant(A))


def _mdl_derivation() -> Derivation:
    sp, A, u, v, quadratic = _mdl_parts()
    from sympy.matrices.expressions.matexpr import MatrixElement

    entries = sp.ImmutableMatrix(3, 3, sp.symbols("a_1:10", real=True))
    u_entries = sp.ImmutableMatrix(sp.symbols("u_1:4", real=True))
    v_entries = sp.ImmutableMatrix(sp.symbols("v_1:4", real=True))
    adjugate = sp.MatrixSymbol("adj(A)", 3, 3)
    adjugate_value = A.I * sp.Determinant(A)
    return Derivation(
        steps=[
            Step(
                "for invertible A the adjugate is adj(A) = det(A) A^{-1}",
                premise="definition",
                name="adjugate",
                lhs=adjugate,
                rhs=adjugate_value,
                assumptions="det A != 0",
            ),
            Step(
                "det(A + u v^T) = det A + v^T adj(A) u for a general 3x3 A (a polynomial "
                "identity in the entries: checked with A, u, v written out entry by entry)",
                lhs=sp.Determinant(A + u * v.T),
                rhs=sp.Determinant(A) + MatrixElement(v.T * adjugate * u, 0, 0),
            ),
            Step(
                "write the adjugate as det(A) A^{-1} and factor out det A",
                rhs=(1 + quadratic) * sp.Determinant(A),
                uses=("adjugate",),
            ),
        ],
        # the symbolic matrices are checked entry by entry
        identities={A: entries, u: u_entries, v: v_entries, adjugate: entries.adjugate()},
    )


def matrix_determinant_lemma(A, u, v):
    """det(A + u v^T) computed as (1 + v^T A^{-1} u) det A."""
    import numpy as np

    A, u, v = (np.asarray(m, dtype=np.float64) for m in (A, u, v))
    solved = np.linalg.solve(A, u[..., None])[..., 0]
    return as_float64((1.0 + np.sum(v * solved, axis=-1)) * np.linalg.det(A))


register(
    Formula(
        id="matrix-determinant-lemma",
        title="Matrix determinant lemma",
        topic="math",
        section="14",
        text="det(A + u v^T) = (1 + v^T A^{-1} u) det A (rank-one update of a determinant)",
        keywords=(
            "determinant",
            "rank one",
            "matrix determinant lemma",
            "linear algebra",
            "sherman morrison",
        ),
        statement_builder=_mdl_statement,
        derivation_builder=_mdl_derivation,
        evaluator=matrix_determinant_lemma,
        sheet_lines=(439, 439),
    )
)


# --------------------------------------------------------------------------------------------
# jensen-inequality (finite form: X takes values y_1, y_2, y_3 with probabilities p_i)


def _jensen_parts():
    import sympy as sp

    f = sp.Function("f")
    p = sp.symbols("p_1:4", nonnegative=True)
    y = sp.symbols("y_1:4", real=True)
    mean = sum(pi * yi for pi, yi in zip(p, y))
    return sp, f, p, y, mean


def _jensen_statement():
    sp, f, p, y, mean = _jensen_parts()
    return sp.Le(f(mean), sum(pi * f(yi) for pi, yi in zip(p, y)))


def _convex_instances():
    import numpy as np

    return (
        ("exp", np.exp, np.exp),
        ("x^2", np.square, lambda x: 2 * x),
        ("x log x", lambda x: x * np.log(x), lambda x: np.log(x) + 1),
        ("|x|^3", lambda x: np.abs(x) ** 3, lambda x: 3 * x * np.abs(x)),
    )


def _jensen_derivation() -> list[Step]:
    sp, f, p, y, mean = _jensen_parts()
    slope = sp.Symbol("m", real=True)  # the slope of a supporting line of f at E[X]

    def weights(rng):
        a, b = sorted(rng.sample(range(0, 101), 2))
        return {p[0]: sp.Rational(a, 100), p[1]: sp.Rational(b - a, 100)}

    def tangent_below() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        left, right = [], []
        for _, function, derivative in _convex_instances():
            for _ in range(50):
                probabilities = rng.dirichlet(np.ones(3))
                values = rng.uniform(0.05, 3.0, 3)  # inside every instance's domain
                mu = probabilities @ values
                left.append(probabilities @ (function(mu) + derivative(mu) * (values - mu)))
                right.append(probabilities @ function(values))
        return Comparison(
            left,
            right,
            "exp, x^2, x log x, |x|^3 at 50 random 3-point distributions each: the tangent "
            "line at E[X] averaged against E[f(X)]",
        )

    return [
        Step(
            "the probabilities sum to 1",
            premise="definition",
            name="normalised",
            lhs=p[2],
            rhs=1 - p[0] - p[1],
        ),
        Step(
            "average the tangent line f(E[X]) + m (y - E[X]) of f at E[X]: the deviations "
            "average to zero",
            lhs=f(mean),
            rhs=sum(pi * (f(mean) + slope * (yi - mean)) for pi, yi in zip(p, y)),
            uses=("normalised",),
            sampler=weights,
        ),
        Step(
            "a convex f lies above each of its tangent lines: f(y_i) >= f(E[X]) + m (y_i - "
            "E[X]) for every i (checked on four convex functions)",
            rhs=sum(pi * f(yi) for pi, yi in zip(p, y)),
            relation="<=",
            custom=tangent_below,
            tolerance=1e-12,
        ),
    ]


register(
    Formula(
        id="jensen-inequality",
        title="Jensen's inequality",
        topic="math",
        section="14",
        text="f(E[X]) <= E[f(X)] and f(t x_1 + (1-t) x_2) <= t f(x_1) + (1-t) f(x_2) if f is "
        "convex, i.e. for all t in [0,1], x_1, x_2: "
        "f(t x_1 + (1-t) x_2) <= t f(x_1) + (1-t) f(x_2)",
        keywords=("jensen", "convex", "convexity", "inequality", "expectation", "concave", "elbo"),
        statement_builder=_jensen_statement,
        derivation_builder=_jensen_derivation,
        sheet_lines=(441, 441),
    )
)


# --------------------------------------------------------------------------------------------
# Gaussians: sums (erratum: independence) and scaling


def _gsum_parts():
    import sympy as sp

    t = sp.Symbol("t", real=True)
    m1, m2 = sp.symbols("mu_1 mu_2", real=True)
    s1, s2 = sp.symbols("sigma_1 sigma_2", positive=True)
    phi = sp.Function("phi_{X1+X2}")  # the characteristic function of X_1 + X_2

    def gaussian_cf(mean, variance):
        return sp.exp(sp.I * mean * t - variance * t**2 / 2)

    return sp, t, m1, m2, s1, s2, phi, gaussian_cf


def _gsum_statement():
    sp, t, m1, m2, s1, s2, phi, gaussian_cf = _gsum_parts()
    return sp.Eq(phi(t), gaussian_cf(m1 + m2, s1**2 + s2**2))


def _gaussian_cf_check() -> Comparison:
    import mpmath

    left, right = [], []
    for mean, sd, t in ((0.3, 1.2, 0.7), (-1.0, 0.5, 2.0), (2.0, 2.0, -0.4)):

        def integrand(x, mean=mean, sd=sd, t=t):
            return mpmath.expj(t * x) * mpmath.npdf(x, mean, sd)

        nodes = mpmath.linspace(mean - 15 * sd, mean + 15 * sd, 31)  # the mass, piecewise
        left.append(complex(mpmath.quad(integrand, nodes)))
        right.append(complex(mpmath.expj(mean * t) * mpmath.exp(-(sd**2) * t**2 / 2)))
    return Comparison(left, right, "E[exp(i t X)] by quadrature for three (mu, sigma, t)")


def _gsum_derivation() -> list[Step]:
    sp, t, m1, m2, s1, s2, phi, gaussian_cf = _gsum_parts()
    phi1, phi2 = sp.Function("phi_{X_1}"), sp.Function("phi_{X_2}")
    return [
        Step(
            "X_1, X_2 independent: E[e^{it(X_1 + X_2)}] = E[e^{itX_1}] E[e^{itX_2}]",
            premise="assumption",
            name="independent",
            lhs=phi(t),
            rhs=phi1(t) * phi2(t),
        ),
        Step(
            "the characteristic function of N(mu_1, sigma_1^2) is exp(i mu_1 t - sigma_1^2 t^2/2)",
            premise="lemma",
            name="cf 1",
            lhs=phi1(t),
            rhs=gaussian_cf(m1, s1**2),
            custom=_gaussian_cf_check,
            tolerance=1e-12,
        ),
        Step(
            "likewise for N(mu_2, sigma_2^2) (the same lemma)",
            premise="lemma",
            name="cf 2",
            lhs=phi2(t),
            rhs=gaussian_cf(m2, s2**2),
            custom=_gaussian_cf_check,
            tolerance=1e-12,
        ),
        Step(
            "independence: the characteristic function of the sum is the product",
            lhs=phi(t),
            rhs=phi1(t) * phi2(t),
            uses=("independent",),
        ),
        Step(
            "insert the two Gaussian characteristic functions",
            rhs=gaussian_cf(m1, s1**2) * gaussian_cf(m2, s2**2),
            uses=("cf 1", "cf 2"),
        ),
        Step(
            "the exponents add: the characteristic function of N(mu_1 + mu_2, sigma_1^2 + "
            "sigma_2^2), which determines the distribution",
            rhs=gaussian_cf(m1 + m2, s1**2 + s2**2),
        ),
    ]


def gaussian_sum(mu1, cov1, mu2, cov2):
    """Mean and covariance of X_1 + X_2 for independent X_i ~ N(mu_i, Sigma_i): returns
    (mu_1 + mu_2, Sigma_1 + Sigma_2)."""
    import numpy as np

    return (
        as_float64(np.asarray(mu1, dtype=np.float64) + np.asarray(mu2)),
        as_float64(np.asarray(cov1, dtype=np.float64) + np.asarray(cov2)),
    )


def _gsum_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(0)
    n = 200_000
    x1 = rng.normal(1.0, 2.0, n)  # X_1 ~ N(1, 4)
    x2 = -0.5 - 0.5 * (x1 - 1.0)  # X_2 ~ N(-0.5, 1) as well, but a function of X_1
    _, sheet_variance = gaussian_sum(1.0, 4.0, -0.5, 1.0)
    covariance = -0.5 * 4.0  # Cov(X_1, X_2) = -Var(X_1)/2
    # 2e5 samples: relative standard error of the variance ~ sqrt(2/n) ~ 0.3%
    return compare_forms(
        reference=float(np.var(x1 + x2)),
        sheet=float(sheet_variance),
        correct=4.0 + 1.0 + 2 * covariance,
        reference_name="Monte Carlo variance of X_1 + X_2 (2e5 samples)",
        where="X_1 ~ N(1, 4), X_2 = -0.5 - (X_1 - 1)/2 ~ N(-0.5, 1), not independent; right "
        "form Sigma_1 + Sigma_2 + 2 Cov(X_1, X_2)",
        tolerance=0.03,
    )


register(
    Formula(
        id="gaussian-sum",
        title="Sum of independent Gaussian random variables",
        topic="math",
        section="14",
        text="N(mu_1, Sigma_1) + N(mu_2, Sigma_2) = N(mu_1 + mu_2, Sigma_1 + Sigma_2) for "
        "independent random variables (a sum of variables, not a mixture of densities)",
        keywords=("gaussian", "normal", "sum", "independent", "convolution", "variance adds"),
        statement_builder=_gsum_statement,
        derivation_builder=_gsum_derivation,
        evaluator=gaussian_sum,
        sheet_lines=(443, 443),
        erratum=Erratum(
            sheet=r"\mathcal N(\mu_1, \Sigma_1) + \mathcal N(\mu_2, \Sigma_2) = \mathcal N(\mu_1 "
            r"+ \mu_2, \Sigma_1 + \Sigma_2)",
            correct=r"X_i \sim \mathcal N(\mu_i, \Sigma_i) \text{ independent} \Rightarrow X_1 + "
            r"X_2 \sim \mathcal N(\mu_1 + \mu_2, \Sigma_1 + \Sigma_2)",
            explanation="the appendix states the sum rule for any two Gaussian variables; the "
            "covariances add only for independent (or jointly Gaussian, uncorrelated) "
            "variables, in general Cov = Sigma_1 + Sigma_2 + C_12 + C_21 (and a sum of "
            "dependent Gaussians need not be Gaussian at all)",
            evidence=_gsum_evidence,
            severity="error",
            sheet_lines=(443, 443),
        ),
    )
)


def _gscale_parts():
    import sympy as sp

    y, mu = sp.symbols("y mu", real=True)
    a = sp.Symbol("a", real=True, nonzero=True)
    sigma = sp.Symbol("sigma", positive=True)

    def pdf(value, mean, sd):
        return sp.exp(-((value - mean) ** 2) / (2 * sd**2)) / sp.sqrt(2 * sp.pi * sd**2)

    return sp, y, mu, a, sigma, pdf, sp.Function("p_{aX}")


def _gscale_statement():
    sp, y, mu, a, sigma, pdf, density = _gscale_parts()
    return sp.Eq(density(y), pdf(y, a * mu, sp.Abs(a) * sigma))


def _gscale_derivation() -> list[Step]:
    sp, y, mu, a, sigma, pdf, density = _gscale_parts()

    def sampler(rng):
        return {a: sp.Rational(rng.choice([-1, 1]) * rng.randint(10, 300), 100)}

    return [
        Step(
            "change of variables for the invertible map x -> a x (a != 0): "
            "p_{aX}(y) = p_X(y/a)/|a|",
            premise="lemma",
            name="change of variables",
            lhs=density(y),
            rhs=pdf(y / a, mu, sigma) / sp.Abs(a),
            custom=lambda: _scaling_density_check(),
            tolerance=0.02,
        ),
        Step(
            "insert the N(mu, sigma^2) density at y/a",
            lhs=density(y),
            rhs=pdf(y / a, mu, sigma) / sp.Abs(a),
            uses=("change of variables",),
        ),
        Step(
            "(y/a - mu)^2/sigma^2 = (y - a mu)^2/(a sigma)^2: the N(a mu, a^2 sigma^2) density",
            rhs=pdf(y, a * mu, sp.Abs(a) * sigma),
            sampler=sampler,
        ),
    ]


def _scaling_density_check() -> Comparison:
    """Histogram of a X (X ~ N(0.5, 1.5^2), a = -2) against p_X(y/a)/|a| at bin centres."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, mean, sd = -2.0, 0.5, 1.5
    samples = a * rng.normal(mean, sd, 1_000_000)
    counts, edges = np.histogram(samples, bins=24, range=(-7.0, 5.0), density=True)
    centres = (edges[:-1] + edges[1:]) / 2
    formula = np.exp(-((centres / a - mean) ** 2) / (2 * sd**2)) / np.sqrt(2 * np.pi) / sd / abs(a)
    # 1e6 samples, bin width 0.5: the histogram's standard error is < 0.001 and the bin-averaging
    # bias < 0.005 (curvature of the density times width^2/24)
    return Comparison(counts, formula, "histogram of 1e6 samples of -2 X against p_X(y/a)/|a|")


def gaussian_scaling(a, mu, cov):
    """a X for X ~ N(mu, Sigma): returns (a mu, a^2 Sigma)."""
    import numpy as np

    return (
        as_float64(a * np.asarray(mu, dtype=np.float64)),
        as_float64(a**2 * np.asarray(cov, dtype=np.float64)),
    )


register(
    Formula(
        id="gaussian-scaling",
        title="Scaling a Gaussian random variable",
        topic="math",
        section="14",
        text="a . N(mu, Sigma) = N(a mu, a^2 Sigma); an affine map adds a translation vector to "
        "the mean",
        keywords=(
            "gaussian",
            "normal",
            "scaling",
            "affine",
            "variance scales",
            "reparametrisation",
        ),
        statement_builder=_gscale_statement,
        derivation_builder=_gscale_derivation,
        evaluator=gaussian_scaling,
        sheet_lines=(445, 445),
    )
)


# --------------------------------------------------------------------------------------------
# bayes-rule


def _bayes_symbols():
    import sympy as sp

    from formulas.notation import conditional

    A, B = sp.symbols("A B")
    P = conditional("P")  # P(A | B); applied to one event, P(A)
    joint = sp.Symbol("P(A,B)", positive=True)  # only inside the derivation
    return sp, P(A, B), P(B, A), P(A), P(B), joint


def _bayes_statement():
    sp, a_given_b, b_given_a, pa, pb, _ = _bayes_symbols()
    return sp.Eq(a_given_b, b_given_a * pa / pb)


def _bayes_derivation() -> list[Step]:
    sp, a_given_b, b_given_a, pa, pb, joint = _bayes_symbols()
    return [
        Step(
            "conditional probability: P(A|B) := P(A,B)/P(B) (P(B) > 0)",
            premise="definition",
            name="A given B",
            lhs=a_given_b,
            rhs=joint / pb,
        ),
        Step(
            "likewise P(B|A) := P(A,B)/P(A), i.e. P(A,B) = P(B|A) P(A)",
            premise="definition",
            name="B given A",
            lhs=joint,
            rhs=b_given_a * pa,
        ),
        Step("definition of P(A|B)", lhs=a_given_b, rhs=joint / pb, uses=("A given B",)),
        Step(
            "the joint through the other conditional", rhs=b_given_a * pa / pb, uses=("B given A",)
        ),
    ]


def bayes_rule(p_b_given_a, p_a, p_b):
    """P(A|B) = P(B|A) P(A) / P(B)."""
    import numpy as np

    return as_float64(np.asarray(p_b_given_a, dtype=np.float64) * np.asarray(p_a) / np.asarray(p_b))


register(
    Formula(
        id="bayes-rule",
        title="Bayes' rule",
        topic="math",
        section="14",
        text="Bayes rule: P(A|B) = P(B|A) P(A) / P(B); posterior = likelihood x prior / evidence",
        keywords=("bayes", "posterior", "likelihood", "prior", "evidence", "conditional"),
        statement_builder=_bayes_statement,
        derivation_builder=_bayes_derivation,
        evaluator=bayes_rule,
        sheet_lines=(449, 449),
    )
)


# --------------------------------------------------------------------------------------------
# volume-preservation (a definition; the sheet states it on lines 449-451, across a blank line)


def _volume_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    jacobian = sp.Matrix([[sp.Derivative(sp.Function("f^{-1}")(x), x)]])  # of the inverse map
    return sp.Eq(sp.Abs(sp.Determinant(jacobian)), 1)


def _volume_properties() -> list[Step]:
    import sympy as sp

    x1, x2 = sp.symbols("x_1 x_2", real=True)
    m = sp.Function("m")
    phi = sp.Symbol("phi", real=True)
    additive = sp.Matrix([x1, x2 + m(x1)])
    rotation = sp.Matrix([[sp.cos(phi), -sp.sin(phi)], [sp.sin(phi), sp.cos(phi)]]) * sp.Matrix(
        [x1, x2]
    )
    inverse = sp.Matrix([x1, x2 - m(x1)])  # the inverse of the additive coupling
    return [
        Step(
            "the inverse of an additive coupling (x_1, x_2 + m(x_1)) (NICE) is (x_1, x_2 - "
            "m(x_1)): a unit-triangular Jacobian, det = 1 for any m",
            sp.Determinant(inverse.jacobian([x1, x2])),
            sp.Integer(1),
        ),
        Step(
            "a rotation preserves volume",
            sp.Determinant(rotation.jacobian([x1, x2])),
            sp.Integer(1),
        ),
        Step(
            "and so does the inverse of the coupling's forward map: det(J^{-1}) = 1/det J",
            sp.Determinant(additive.jacobian([x1, x2]).inv()),
            sp.Integer(1),
        ),
    ]


def volume_change(jacobian):
    """|det J| of a Jacobian [..., d, d]; the map is volume preserving iff it is 1."""
    import numpy as np

    return as_float64(np.abs(np.linalg.det(np.asarray(jacobian, dtype=np.float64))))


register(
    Formula(
        id="volume-preservation",
        title="Volume-preserving maps",
        topic="math",
        section="14",
        text="a function f is volume preserving if |det d f^{-1}(x)/dx| = 1 (e.g. additive "
        "coupling, rotations)",
        keywords=(
            "volume preserving",
            "jacobian determinant",
            "det",
            "nice",
            "additive coupling",
            "normalizing flow",
        ),
        statement_builder=_volume_statement,
        definition=True,
        properties_builder=_volume_properties,
        evaluator=volume_change,
    )
)


# --------------------------------------------------------------------------------------------
# Claims in words (sheet section 14)


def _secant_order_check() -> Evidence:
    """Secant iterates on x^3 - 2x - 5 (Wallis' example): the error ratio log e_{n+1} / log e_n
    tends to the golden ratio 1.618, between Newton's 2 and bisection's 1."""
    import mpmath

    mpmath.mp.dps = 200
    f = lambda x: x**3 - 2 * x - 5  # noqa: E731
    root = mpmath.findroot(f, 2.1)
    a, b = mpmath.mpf(2), mpmath.mpf(3)
    errors = []
    for _ in range(12):
        a, b = b, b - f(b) * (b - a) / (f(b) - f(a))  # the sheet's x_2, at 200 digits
        errors.append(abs(b - root))
    orders = [mpmath.log(errors[i + 1]) / mpmath.log(errors[i]) for i in range(6, 9)]
    order = float(orders[-1])
    mpmath.mp.dps = 15
    golden = (1 + 5**0.5) / 2
    return Evidence(
        sheet_fails=False,
        correct_passes=abs(order - golden) < 0.05,
        detail=f"secant on x^3 - 2x - 5 from (2, 3): convergence order {order:.3f} "
        f"(golden ratio {golden:.3f}; Newton 2), no derivative evaluated",
    )


register_claim(
    Claim(
        id="secant-approximates-newton",
        topic="math",
        section="14",
        sheet_lines=(429, 429),
        sheet="Approximates Newton's method without derivatives",
        verdict="correct",
        explanation="the secant step is Newton's step with f' replaced by the difference "
        "quotient through the last two iterates; it converges superlinearly (order 1.618)",
        source="Nocedal & Wright, Numerical Optimization; any numerical analysis text",
        check=_secant_order_check,
    )
)
