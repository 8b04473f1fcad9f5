"""Appendix (sheet section 14): secant method, planes and the cross product, the torus,
derivative rules, the matrix determinant lemma, Jensen's inequality, Gaussians, Bayes' rule,
volume preservation.

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register

# --------------------------------------------------------------------------------------------
# secant-step


def _secant_statement():
    import sympy as sp

    x0, x1, f0, f1 = (sp.Symbol(n, real=True) for n in ("x_0", "x_1", "f(x_0)", "f(x_1)"))
    return sp.Eq(sp.Symbol("x_2"), x1 - f1 * (x1 - x0) / (f1 - f0))


def _secant_derivation() -> list[Step]:
    import sympy as sp

    x, x0, x1, f0, f1 = (sp.Symbol(n, real=True) for n in ("x", "x_0", "x_1", "f_0", "f_1"))
    line = (f1 - f0) / (x1 - x0) * (x - x1) + f1
    root = x1 - f1 * (x1 - x0) / (f1 - f0)

    def converges() -> StepResult:
        import math

        a, b = 1.0, 2.0  # f(x) = x^2 - 2, root sqrt(2)
        for _ in range(8):
            fa, fb = a * a - 2, b * b - 2
            if fb == fa:
                break
            a, b = b, float(secant_step(a, b, fa, fb))
        error = abs(b - math.sqrt(2))
        return StepResult(
            bool(error < 1e-14), "custom", f"x^2 - 2 from (1, 2): |x - sqrt 2| = {error:.1e}"
        )

    return [
        Step(
            "the line through (x_0, f(x_0)) and (x_1, f(x_1)) passes through both points",
            sp.Matrix([line.subs(x, x0), line.subs(x, x1)]),
            sp.Matrix([f0, f1]),
        ),
        Step(
            "it is zero at x_2 = x_1 - f(x_1) (x_1 - x_0)/(f(x_1) - f(x_0))",
            line.subs(x, root),
            sp.Integer(0),
        ),
        Step(
            "iterating approximates Newton's method without derivatives (superlinear)",
            custom=converges,
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
    )
)


# --------------------------------------------------------------------------------------------
# planes and the cross product


def _intercept_statement():
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    x1, y1, z1 = sp.symbols("x_1 y_1 z_1", real=True, nonzero=True)
    return sp.Eq(x / x1 + y / y1 + z / z1 - 1, 0)


def _intercept_derivation() -> list[Step]:
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    x1, y1, z1 = sp.symbols("x_1 y_1 z_1", real=True, nonzero=True)
    plane = x / x1 + y / y1 + z / z1 - 1
    points = [(x1, 0, 0), (0, y1, 0), (0, 0, z1)]
    return [
        Step(
            "the three axis intercepts satisfy the equation",
            sp.Matrix([plane.subs({x: p[0], y: p[1], z: p[2]}) for p in points]),
            sp.zeros(3, 1),
        )
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
    )
)


def _cross_statement():
    import sympy as sp

    a = sp.Matrix(sp.symbols("a_1:4", real=True))
    b = sp.Matrix(sp.symbols("b_1:4", real=True))
    return sp.Eq(
        sp.Symbol("a x b"),
        sp.Matrix(
            [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
        ),
        evaluate=False,
    )


def _cross_derivation() -> list[Step]:
    import sympy as sp

    a = sp.Matrix(sp.symbols("a_1:4", real=True))
    b = sp.Matrix(sp.symbols("b_1:4", real=True))
    n = sp.Matrix([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])
    return [
        Step("the component formula is sympy's cross product", n, a.cross(b)),
        Step("n is orthogonal to a", n.dot(a), sp.Integer(0)),
        Step(
            "n is orthogonal to b, so it is a normal of the plane spanned by a and b",
            n.dot(b),
            sp.Integer(0),
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
        derivation_builder=_cross_derivation,
        evaluator=cross_product,
    )
)


def _plane_points_statement():
    import sympy as sp

    x, y, z, k = sp.symbols("x y z k", real=True)
    n = sp.symbols("n_1:4", real=True)
    return sp.Eq(n[0] * x + n[1] * y + n[2] * z + k, 0)


def _plane_points_derivation() -> list[Step]:
    import sympy as sp

    P = [sp.Matrix(sp.symbols(f"p{i}_1:4", real=True)) for i in range(3)]
    n = (P[1] - P[0]).cross(P[2] - P[0])
    k = -n.dot(P[0])
    return [
        Step(
            "with n = (p_2 - p_1) x (p_3 - p_1) and k = -n . p_1 all three points lie on "
            "n . x + k = 0",
            sp.Matrix([n.dot(p) + k for p in P]),
            sp.zeros(3, 1),
        )
    ]


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
    )
)


# --------------------------------------------------------------------------------------------
# torus


def _torus_statement():
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    R, r = sp.symbols("R r", positive=True)
    return sp.Eq((sp.sqrt(x**2 + y**2) - R) ** 2 + z**2, r**2)


def _torus_derivation() -> list[Step]:
    import sympy as sp

    u, v = sp.symbols("u v", real=True)
    R, r = sp.symbols("R r", positive=True)
    x = (R + r * sp.cos(v)) * sp.cos(u)
    y = (R + r * sp.cos(v)) * sp.sin(u)
    z = r * sp.sin(v)

    def sampler(rng):
        big = sp.Rational(rng.randint(200, 500), 100)
        return {
            R: big,
            r: sp.Rational(rng.randint(10, 150), 100),
            u: sp.Rational(rng.randint(-314, 314), 100),
            v: sp.Rational(rng.randint(-314, 314), 100),
        }

    return [
        Step(
            "every point of the parametrised torus ((R + r cos v) cos u, (R + r cos v) sin u, "
            "r sin v) satisfies the implicit equation (r < R)",
            (sp.sqrt(x**2 + y**2) - R) ** 2 + z**2,
            r**2,
            sampler=sampler,
            assumptions="0 < r < R",
        )
    ]


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
    )
)


# --------------------------------------------------------------------------------------------
# derivative rules (checked with concrete and generic functions)


def _derivative_rule(rule_id, title, text, keywords, statement, steps):
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
        )
    )


def _generic():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    return sp, x, sp.Function("f")(x), sp.Function("g")(x)


def _product_statement():
    sp, x, f, g = _generic()
    return sp.Eq(sp.Derivative(f * g, x), sp.diff(f, x) * g + f * sp.diff(g, x))


def _product_steps():
    sp, x, f, g = _generic()
    return [
        Step(
            "(f g)' = f' g + f g' for generic f, g",
            sp.diff(f * g, x),
            sp.diff(f, x) * g + f * sp.diff(g, x),
        ),
        Step(
            "instance f = sin x, g = e^x as a limit of difference quotients",
            sp.limit(
                (sp.sin(x + sp.Symbol("h")) * sp.exp(x + sp.Symbol("h")) - sp.sin(x) * sp.exp(x))
                / sp.Symbol("h"),
                sp.Symbol("h"),
                0,
            ),
            sp.cos(x) * sp.exp(x) + sp.sin(x) * sp.exp(x),
        ),
    ]


_derivative_rule(
    "product-rule",
    "Product rule",
    "(f . g)' = f' g + f g'",
    ("product rule", "derivative", "differentiation"),
    _product_statement,
    _product_steps,
)


def _quotient_statement():
    sp, x, f, g = _generic()
    return sp.Eq(sp.Derivative(f / g, x), (sp.diff(f, x) * g - f * sp.diff(g, x)) / g**2)


def _quotient_steps():
    sp, x, f, g = _generic()
    h = sp.Symbol("h")
    return [
        Step(
            "(f/g)' = (f' g - f g')/g^2 for generic f, g",
            sp.diff(f / g, x),
            (sp.diff(f, x) * g - f * sp.diff(g, x)) / g**2,
        ),
        Step(
            "instance f = x^2 + 1, g = cos x + 2 from the difference quotient",
            sp.limit(
                ((x + h) ** 2 + 1) / (sp.cos(x + h) + 2) / h - (x**2 + 1) / (sp.cos(x) + 2) / h,
                h,
                0,
            ),
            (2 * x * (sp.cos(x) + 2) + (x**2 + 1) * sp.sin(x)) / (sp.cos(x) + 2) ** 2,
            method="numeric",
        ),
    ]


_derivative_rule(
    "quotient-rule",
    "Quotient rule",
    "(f/g)' = (f' g - f g')/g^2",
    ("quotient rule", "derivative", "division"),
    _quotient_statement,
    _quotient_steps,
)


def _chain_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    f, g = sp.Function("f"), sp.Function("g")
    return sp.Eq(
        sp.Derivative(f(g(x)), x),
        sp.Subs(sp.Derivative(f(sp.Symbol("u")), sp.Symbol("u")), sp.Symbol("u"), g(x))
        * sp.diff(g(x), x),
    )


def _chain_steps():
    import sympy as sp

    x, h = sp.Symbol("x", real=True), sp.Symbol("h")
    inner = x**2 + 1
    return [
        Step(
            "(f o g)' = f'(g) g': instance f = sin, g = x^2 + 1 from the difference quotient",
            sp.limit((sp.sin((x + h) ** 2 + 1) - sp.sin(inner)) / h, h, 0),
            sp.cos(inner) * 2 * x,
        )
    ]


_derivative_rule(
    "chain-rule",
    "Chain rule",
    "(f o g)' = f'(g) g'",
    ("chain rule", "composition", "derivative", "backprop"),
    _chain_statement,
    _chain_steps,
)


def _inverse_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("(f^{-1})'(x)"), 1 / sp.Symbol("f'(f^{-1}(x))"))


def _inverse_steps():
    import sympy as sp

    x = sp.Symbol("x", positive=True)
    y = sp.Symbol("y", real=True)
    return [
        Step(
            "f = exp, f^{-1} = log: (log x)' = 1/exp(log x)",
            sp.diff(sp.log(x), x),
            1 / sp.exp(sp.log(x)),
        ),
        Step(
            "f = sinh, f^{-1} = asinh: (asinh y)' = 1/cosh(asinh y)",
            sp.diff(sp.asinh(y), y),
            1 / sp.cosh(sp.asinh(y)),
        ),
        Step(
            "f = x^3 on x > 0, f^{-1} = x^(1/3): (x^(1/3))' = 1/(3 (x^(1/3))^2)",
            sp.diff(x ** sp.Rational(1, 3), x),
            1 / (3 * (x ** sp.Rational(1, 3)) ** 2),
        ),
    ]


_derivative_rule(
    "inverse-function-rule",
    "Derivative of an inverse function",
    "(f^{-1})' = 1/f'(f^{-1})",
    ("inverse function", "derivative", "inverse", "change of variables"),
    _inverse_statement,
    _inverse_steps,
)


def _log_statement():
    import sympy as sp

    x = sp.Symbol("x", positive=True)
    return sp.Eq(sp.Derivative(sp.log(x), x), 1 / x)


def _log_steps():
    import sympy as sp

    x, h = sp.Symbol("x", positive=True), sp.Symbol("h")
    return [
        Step(
            "(log x)' = 1/x from the difference quotient",
            sp.limit((sp.log(x + h) - sp.log(x)) / h, h, 0),
            1 / x,
        )
    ]


_derivative_rule(
    "log-derivative",
    "Derivative of the logarithm",
    "(log x)' = 1/x",
    ("log", "logarithm", "derivative", "log-derivative"),
    _log_statement,
    _log_steps,
)


# --------------------------------------------------------------------------------------------
# matrix-determinant-lemma


def _mdl_statement():
    import sympy as sp

    A = sp.MatrixSymbol("A", 3, 3)
    u, v = sp.MatrixSymbol("u", 3, 1), sp.MatrixSymbol("v", 3, 1)
    return sp.Eq(sp.Determinant(A + u * v.T), (1 + (v.T * A.I * u)[0, 0]) * sp.Determinant(A))


def _mdl_derivation() -> list[Step]:
    import sympy as sp

    A = sp.Matrix(3, 3, sp.symbols("a_1:10", real=True))
    u = sp.Matrix(sp.symbols("u_1:4", real=True))
    v = sp.Matrix(sp.symbols("v_1:4", real=True))
    adj = A.adjugate()
    return [
        Step(
            "det(A + u v^T) = det A + v^T adj(A) u for a general symbolic 3x3 A (a polynomial "
            "identity, so it holds for singular A too)",
            sp.expand((A + u * v.T).det()),
            sp.expand(A.det() + (v.T * adj * u)[0, 0]),
        ),
        Step(
            "for invertible A, adj(A) = det(A) A^{-1}: det(A + u v^T) = (1 + v^T A^{-1} u) det A",
            (1 + (v.T * adj * u)[0, 0] / A.det()) * A.det(),
            A.det() + (v.T * adj * u)[0, 0],
            assumptions="det A != 0",
        ),
    ]


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
    )
)


# --------------------------------------------------------------------------------------------
# jensen-inequality


def _jensen_statement():
    import sympy as sp

    return sp.Le(sp.Symbol("f(E[X])"), sp.Symbol("E[f(X)]"))


def _jensen_derivation() -> list[Step]:
    import sympy as sp

    t = sp.Symbol("t", nonnegative=True)
    x1, x2 = sp.symbols("x_1 x_2", real=True)
    ps = sp.symbols("p_1:4", nonnegative=True)
    xs = sp.symbols("y_1:4", real=True)

    def t_sampler(rng):
        return {t: sp.Rational(rng.randint(0, 100), 100)}

    def p_sampler(rng):
        a, b = sorted(rng.sample(range(0, 101), 2))
        return {
            ps[0]: sp.Rational(a, 100),
            ps[1]: sp.Rational(b - a, 100),
            ps[2]: sp.Rational(100 - b, 100),
        }

    mean = sum(p * x for p, x in zip(ps, xs))
    steps = []
    for name, f in (("exp", sp.exp), ("x^2", lambda s: s**2)):
        steps.append(
            Step(
                f"convexity of {name}: f(t x_1 + (1-t) x_2) <= t f(x_1) + (1-t) f(x_2)",
                f(t * x1 + (1 - t) * x2),
                t * f(x1) + (1 - t) * f(x2),
                relation="<=",
                sampler=t_sampler,
                method="numeric",
            )
        )
        steps.append(
            Step(
                f"Jensen for {name} and a three-point distribution: f(E[X]) <= E[f(X)]",
                f(mean),
                sum(p * f(x) for p, x in zip(ps, xs)),
                relation="<=",
                sampler=p_sampler,
                method="numeric",
            )
        )
    positive = sp.symbols("z_1:4", positive=True)
    steps.append(
        Step(
            "concave log reverses it: log E[X] >= E[log X] (the ELBO's inequality)",
            sp.log(sum(p * z for p, z in zip(ps, positive))),
            sum(p * sp.log(z) for p, z in zip(ps, positive)),
            relation=">=",
            sampler=p_sampler,
            method="numeric",
        )
    )
    return steps


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
    )
)


# --------------------------------------------------------------------------------------------
# Gaussians: sums (erratum: independence) and scaling


def _gsum_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("X_1 + X_2"), sp.Symbol("N(mu_1 + mu_2, Sigma_1 + Sigma_2)"))


def _gsum_derivation() -> list[Step]:
    import sympy as sp

    t = sp.Symbol("t", real=True)
    m1, m2 = sp.symbols("mu_1 mu_2", real=True)
    s1, s2 = sp.symbols("sigma_1 sigma_2", positive=True)

    def cf(m, s):
        return sp.exp(sp.I * m * t - s**2 * t**2 / 2)

    return [
        Step(
            "independent X_1, X_2: the characteristic function of the sum is the product, which is "
            "the characteristic function of N(mu_1 + mu_2, sigma_1^2 + sigma_2^2)",
            cf(m1, s1) * cf(m2, s2),
            cf(m1 + m2, sp.sqrt(s1**2 + s2**2)),
            assumptions="X_1, X_2 independent",
        )
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
    x1 = rng.normal(1.0, 2.0, n)
    independent = x1 + rng.normal(-0.5, 1.0, n)
    dependent = x1 + (-0.5 - 0.5 * (x1 - 1.0))  # X_2 = -0.5 - (X_1 - 1)/2 ~ N(-0.5, 1)
    _, predicted = gaussian_sum(1.0, 4.0, -0.5, 1.0)
    # Monte Carlo variance of 2e5 samples: relative standard error sqrt(2/n) ~ 0.3%
    ok_independent = abs(independent.var() - predicted) < 0.05 * predicted
    wrong_dependent = abs(dependent.var() - predicted) > 0.3 * predicted
    return Evidence(
        sheet_fails=bool(wrong_dependent),
        correct_passes=bool(ok_independent),
        detail=f"Monte Carlo (2e5 samples), X_1 ~ N(1, 4), X_2 ~ N(-0.5, 1): independent sum "
        f"variance {independent.var():.3f} (formula {predicted}); with X_2 a function of X_1 "
        f"(still N(-0.5, 1)) the variance is {dependent.var():.3f}: the sheet's unconditional "
        f"statement fails without independence",
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
        erratum=Erratum(
            sheet=r"\mathcal N(\mu_1, \Sigma_1) + \mathcal N(\mu_2, \Sigma_2) = \mathcal N(\mu_1 "
            r"+ \mu_2, \Sigma_1 + \Sigma_2)",
            correct=r"X_i \sim \mathcal N(\mu_i, \Sigma_i) \text{ independent} \Rightarrow X_1 + "
            r"X_2 \sim \mathcal N(\mu_1 + \mu_2, \Sigma_1 + \Sigma_2)",
            explanation="the covariances add only for independent (jointly Gaussian, uncorrelated) "
            "variables; in general Cov = Sigma_1 + Sigma_2 + C_12 + C_21",
            evidence=_gsum_evidence,
        ),
    )
)


def _gscale_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("a N(mu, Sigma)"), sp.Symbol("N(a mu, a^2 Sigma)"))


def _gscale_derivation() -> list[Step]:
    import sympy as sp

    y, mu = sp.symbols("y mu", real=True)
    a, s = sp.symbols("a sigma", positive=True)

    def pdf(v, m, sd):
        return sp.exp(-((v - m) ** 2) / (2 * sd**2)) / sp.sqrt(2 * sp.pi * sd**2)

    return [
        Step(
            "change of variables y = a x: p_Y(y) = p_X(y/a)/|a| is the N(a mu, a^2 sigma^2) "
            "density",
            pdf(y / a, mu, s) / a,
            pdf(y, a * mu, a * s),
            assumptions="a > 0",
        )
    ]


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
    )
)


# --------------------------------------------------------------------------------------------
# bayes-rule


def _bayes_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("P(A|B)"), sp.Symbol("P(B|A)") * sp.Symbol("P(A)") / sp.Symbol("P(B)"))


def _bayes_derivation() -> list[Step]:
    import sympy as sp

    pab, pa, pb = (sp.Symbol(n, positive=True) for n in ("P(A,B)", "P(A)", "P(B)"))
    return [
        Step(
            "both conditionals come from the joint: P(A|B) P(B) = P(A,B) = P(B|A) P(A)",
            (pab / pb),
            (pab / pa) * pa / pb,
        )
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
    )
)


# --------------------------------------------------------------------------------------------
# volume-preservation


def _volume_statement():
    import sympy as sp

    return sp.Eq(sp.Abs(sp.Symbol("det(df^{-1}(x)/dx)")), 1)


def _volume_derivation() -> list[Step]:
    import sympy as sp

    x1, x2 = sp.symbols("x_1 x_2", real=True)
    m = sp.Function("m")
    phi = sp.Symbol("phi", real=True)
    additive = sp.Matrix([x1, x2 + m(x1)])
    rotation = sp.Matrix([[sp.cos(phi), -sp.sin(phi)], [sp.sin(phi), sp.cos(phi)]]) * sp.Matrix(
        [x1, x2]
    )
    return [
        Step(
            "an additive coupling (x_1, x_2 + m(x_1)) (NICE) has a unit-triangular Jacobian: "
            "det = 1, volume preserving for any m",
            additive.jacobian([x1, x2]).det(),
            sp.Integer(1),
        ),
        Step("so does a rotation", rotation.jacobian([x1, x2]).det(), sp.Integer(1)),
        Step(
            "the inverse of a volume-preserving map is volume preserving: det(J^{-1}) = 1/det J",
            (additive.jacobian([x1, x2]).inv()).det(),
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
        derivation_builder=_volume_derivation,
        evaluator=volume_change,
    )
)
