"""Generative adversarial networks (sheet section 5, lines 111-153, and the proof "Optimal
discriminator", lines 381-389).

V(G, D) = E_{x~p_d} log D(x) + E_{x~p_m} log(1 - D(x)). Distributions over a finite support are
given as arrays of probabilities along the last axis; sums run over that axis.

Each derivation is a chain from definitions (and named premises) to the printed statement;
statements, proofs and evaluators share the helpers below. Steps about integrals of abstract
densities are checked by quadrature on concrete density pairs (two routes, mpmath).

Metadata at module level; sympy inside builders; numpy inside evaluators and checks.
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
    verdict_text,
)

# --------------------------------------------------------------------------------------------
# shared numeric helpers (numpy imported lazily)


def _xlogy(x, y):
    """x * log(y) with the convention 0 * log 0 = 0 (and 0 * log anything = 0)."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def _kl_finite(p, q):
    import numpy as np

    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (_xlogy(p, p) - _xlogy(p, q)).sum(axis=-1)


def _sup_over_d(p_data, p_model):
    """sup_D sum_x p_d log D + p_m log(1 - D), each D(x) by bounded scalar optimisation."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    total = 0.0
    for a, b in zip(np.ravel(p_data), np.ravel(p_model)):
        result = minimize_scalar(
            lambda y, a=a, b=b: -(a * np.log(y) + b * np.log1p(-y)),
            bounds=(1e-12, 1 - 1e-12),
            method="bounded",
            options={"xatol": 1e-13},
        )
        total += -result.fun
    return total


# --------------------------------------------------------------------------------------------
# gan-value-function (sheet line 117)


def _density_symbols():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    return sp, x, sp.Function("p_d"), sp.Function("p_m"), sp.Function("D")


def _value_integrand(p_d, p_m, D, x):
    import sympy as sp

    return p_d(x) * sp.log(D(x)) + p_m(x) * sp.log(1 - D(x))


def value_of_game(discriminator: str):
    """V(G, D): the game's value, a function of the generator G and the discriminator (D or
    D^*), both passed as functions (read back by the answer parser as V(G, D))."""
    import sympy as sp

    from formulas.notation import function_argument, functional

    generator, judge = sp.Function("G"), sp.Function(discriminator)
    return functional("V")(function_argument(generator), function_argument(judge))


def _value_statement():
    sp, x, p_d, p_m, D = _density_symbols()
    return sp.Eq(
        value_of_game("D"),
        sp.Integral(_value_integrand(p_d, p_m, D, x), (x, -sp.oo, sp.oo)),
    )


def gan_value(p_data, p_model, D):
    """V(G, D) = sum_x p_d(x) log D(x) + p_m(x) log(1 - D(x)) over a finite support."""
    import numpy as np

    D = np.asarray(D, dtype=np.float64)
    return as_float64((_xlogy(p_data, D) + _xlogy(p_model, 1.0 - D)).sum(axis=-1))


register(
    Formula(
        id="gan-value-function",
        title="GAN minimax value function V(G, D)",
        topic="gan",
        section="5",
        text="V(G,D) = E_{x~p_d} log D(x) + E_{x~p_m} log(1 - D(x)); min over G, max over D; "
        "the generator's samples x = G(z) have density p_m. Train D for k steps per G step.",
        keywords=(
            "minimax",
            "value function",
            "discriminator",
            "generator",
            "adversarial",
            "binary cross-entropy",
            "min-max",
            "objective",
        ),
        statement_builder=_value_statement,
        evaluator=gan_value,
        sheet_lines=(117, 117),
    )
)

# --------------------------------------------------------------------------------------------
# gan-optimal-discriminator (sheet line 119; proof lines 381-389)


def _dstar_statement():
    sp, x, p_d, p_m, _ = _density_symbols()
    return sp.Eq(sp.Function("D^*")(x), p_d(x) / (p_d(x) + p_m(x)))


def _pushforward_comparison() -> Comparison:
    """E_z log(1 - D(G(z))) = int p_m(x) log(1 - D(x)) dx for G(z) = exp(z), z ~ N(0, 1)."""
    import mpmath

    mpmath.mp.dps = 30
    left, right = [], []
    for k in (0.5, 1.0, 2.0):

        def log_one_minus_d(x, k=k):
            # D(x) = 1/(1 + x^k) in (0, 1); log(1 - D) = k log x - log(1 + x^k), written
            # without the cancellation in 1 - D
            return k * mpmath.log(x) - mpmath.log1p(x**k)

        def p_m(x):  # the log-normal density of x = exp(z)
            return mpmath.npdf(mpmath.log(x)) / x

        left.append(
            float(
                mpmath.quad(
                    lambda z: mpmath.npdf(z) * log_one_minus_d(mpmath.exp(z)),
                    [-mpmath.inf, 0, mpmath.inf],
                )
            )
        )
        right.append(float(mpmath.quad(lambda x: p_m(x) * log_one_minus_d(x), [0, 1, mpmath.inf])))
    return Comparison(
        left, right, "G(z) = exp z: z-integral vs x-integral with p_m log-normal, 3 choices of D"
    )


def _argmax_comparison() -> Comparison:
    import random

    import numpy as np
    from scipy.optimize import minimize_scalar

    rng = random.Random(7)
    found, closed = [], []
    for _ in range(12):
        a, b = rng.uniform(0.01, 4.0), rng.uniform(0.01, 4.0)
        result = minimize_scalar(
            lambda y, a=a, b=b: -(a * np.log(y) + b * np.log1p(-y)),
            bounds=(1e-12, 1 - 1e-12),
            method="bounded",
            options={"xatol": 1e-13},
        )
        found.append(result.x)
        closed.append(a / (a + b))
    return Comparison(
        found, closed, "argmax of a log y + b log(1 - y) by bounded search vs a/(a + b), 12 (a, b)"
    )


def _dstar_derivation() -> list[Step]:
    import sympy as sp

    _, x, p_d, p_m, _ = _density_symbols()
    a, b = sp.symbols("a b", positive=True)
    y = sp.Symbol("y", positive=True)
    f = a * sp.log(y) + b * sp.log(1 - y)
    y_star = a / (a + b)

    def inside(rng):
        return {
            a: sp.Rational(rng.randint(1, 400), 100),
            b: sp.Rational(rng.randint(1, 400), 100),
            y: sp.Rational(rng.randint(1, 99), 100),
        }

    def positive(rng):
        return {a: sp.Rational(rng.randint(1, 400), 100), b: sp.Rational(rng.randint(1, 400), 100)}

    return [
        Step(
            "x = G(z) has density p_m: int_z p(z) log(1 - D(G(z))) dz = int_x p_m(x) "
            "log(1 - D(x)) dx, so V = int_x [p_d log D + p_m log(1 - D)] dx and D(x) can be "
            "chosen pointwise: maximise f(y) = a log y + b log(1 - y), a = p_d(x), b = p_m(x)",
            premise="lemma",
            name="pointwise",
            custom=_pushforward_comparison,
            tolerance=1e-12,
        ),
        Step(
            "f'(y) = a/y - b/(1 - y)",
            sp.Derivative(f, y),
            a / y - b / (1 - y),
            premise="lemma",
            name="slope",
            sampler=inside,
            assumptions="0 < y < 1",
        ),
        Step(
            "f'(y) = 0 at y = a/(a + b)",
            sp.Subs(a / y - b / (1 - y), y, y_star),
            sp.Integer(0),
            premise="lemma",
            name="stationary",
        ),
        Step(
            "f''(a/(a+b)) = -a/(a/(a+b))^2 - b/(1 - a/(a+b))^2 < 0 for a, b > 0: a maximum",
            sp.Subs(sp.Derivative(f, (y, 2)), y, y_star),
            sp.Integer(0),
            relation="<",
            premise="lemma",
            name="concave",
            sampler=positive,
        ),
        Step(
            "a = p_d(x), b = p_m(x) at the point x",
            a,
            p_d(x),
            premise="definition",
            name="a",
        ),
        Step("b = p_m(x) at the point x", b, p_m(x), premise="definition", name="b"),
        Step(
            "D*(x) is the maximiser a/(a + b) of f (the only stationary point, f concave)",
            sp.Function("D^*")(x),
            y_star,
            method="custom",
            custom=_argmax_comparison,
            tolerance=1e-7,  # the bounded search's own accuracy
            uses=("pointwise", "slope", "stationary", "concave"),
        ),
        Step(
            "D*(x) = p_d(x) / (p_d(x) + p_m(x))",
            rhs=_dstar_statement().rhs,
            uses=("a", "b"),
        ),
    ]


def gan_optimal_discriminator(p_data, p_model):
    """D*(x) = p_d(x) / (p_d(x) + p_m(x)), elementwise."""
    import numpy as np

    p_data = np.asarray(p_data, dtype=np.float64)
    p_model = np.asarray(p_model, dtype=np.float64)
    return as_float64(p_data / (p_data + p_model))


register(
    Formula(
        id="gan-optimal-discriminator",
        title="Optimal discriminator D* for a fixed generator",
        topic="gan",
        section="5, 13",
        text="For G fixed the optimal D* = p_d(x) / (p_d(x) + p_m(x)); pointwise maximisation of "
        "a log y + b log(1-y) gives y = a/(a+b), a maximum since f'' < 0.",
        keywords=(
            "optimal discriminator",
            "d star",
            "dstar",
            "gan",
            "proof",
            "pointwise",
            "maximum",
            "density ratio",
        ),
        statement_builder=_dstar_statement,
        derivation_builder=_dstar_derivation,
        evaluator=gan_optimal_discriminator,
        sheet_lines=(119, 119),
    )
)

# --------------------------------------------------------------------------------------------
# jsd (definition, sheet line 121)


def _jsd_statement():
    import sympy as sp

    P, Q = sp.symbols("P Q")
    kl = sp.Function("D_KL")
    m = (P + Q) / 2
    return sp.Eq(sp.Function("D_JS")(P, Q), kl(P, m) / 2 + kl(Q, m) / 2)


def jsd(p, q):
    """D_JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q)/2, over the last axis."""
    import numpy as np

    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = (p + q) / 2
    return as_float64(0.5 * _kl_finite(p, m) + 0.5 * _kl_finite(q, m))


def _random_pairs(seed=0, count=8):
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = [2, 3, 5, 8] * (count // 4)
    return [(rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))) for n in sizes]


def _jsd_properties() -> list[Step]:
    import numpy as np

    pairs = _random_pairs()

    def symmetric() -> Comparison:
        return Comparison(
            [jsd(p, q) for p, q in pairs], [jsd(q, p) for p, q in pairs], "JSD(p, q) vs JSD(q, p)"
        )

    def bounded_below() -> Comparison:
        return Comparison([jsd(p, q) for p, q in pairs], np.zeros(len(pairs)), "JSD vs 0")

    def bounded_above() -> Comparison:
        return Comparison(
            [jsd(p, q) for p, q in pairs], np.full(len(pairs), np.log(2)), "JSD vs log 2"
        )

    def zero_when_equal() -> Comparison:
        values = [jsd(p, p) for p, _ in pairs] + [jsd(q, q) for _, q in pairs]
        return Comparison(values, np.zeros(len(values)), "JSD(p, p) vs 0")

    return [
        Step("symmetric: D_JS(p||q) = D_JS(q||p)", custom=symmetric, tolerance=1e-15),
        Step("non-negative (each KL >= 0)", custom=bounded_below, relation=">=", tolerance=0),
        Step("at most log 2", custom=bounded_above, relation="<=", tolerance=1e-15),
        Step("zero when p = q", custom=zero_when_equal, tolerance=1e-15),
    ]


register(
    Formula(
        id="jsd",
        title="Jensen-Shannon divergence",
        topic="gan",
        section="5",
        text="D_JS(p||q) = 1/2 D_KL(p || (p+q)/2) + 1/2 D_KL(q || (p+q)/2); symmetric, "
        "0 <= D_JS <= log 2, zero iff p = q.",
        keywords=("jsd", "jensen-shannon", "jensen shannon", "divergence", "symmetric", "js"),
        statement_builder=_jsd_statement,
        definition=True,
        properties_builder=_jsd_properties,
        evaluator=jsd,
        sheet_lines=(121, 121),
    )
)

# --------------------------------------------------------------------------------------------
# gan-value-at-optimum: V(G, D*) = -log 4 + 2 JSD(p_d || p_m) (sheet line 123)


def _value_at_optimum_statement():
    import sympy as sp

    return sp.Eq(
        value_of_game("D^*"),
        -sp.log(4) + 2 * sp.Function("D_JS")(sp.Symbol("p_d"), sp.Symbol("p_m")),
    )


def _gaussian(x, mean, std):
    import sympy as sp

    return sp.exp(-((x - mean) ** 2) / (2 * std**2)) / (std * sp.sqrt(2 * sp.pi))


def _quadrature_comparison(lhs, rhs, x, p_d, p_m, what):
    """Both sides for concrete density pairs, every Integral over x done by mpmath.quad."""
    import mpmath
    import sympy as sp

    mpmath.mp.dps = 18
    pairs = [
        (_gaussian(x, 0, 1), _gaussian(x, 1, sp.Rational(3, 2))),
        (_gaussian(x, -1, sp.Rational(1, 2)), _gaussian(x, 2, 2)),
    ]

    def value(side, concrete):
        side = sp.sympify(side).subs(concrete)
        numbers = {}
        for integral in side.atoms(sp.Integral):
            integrand = sp.lambdify(x, integral.function, "mpmath")
            numbers[integral] = sp.Float(mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf]), 18)
        return complex(sp.N(side.xreplace(numbers), 18))

    left, right = [], []
    for density_d, density_m in pairs:
        concrete = {p_d(x): density_d, p_m(x): density_m}
        left.append(value(lhs, concrete))
        right.append(value(rhs, concrete))
    return Comparison(left, right, f"{what}: 2 pairs of Gaussians, mpmath.quad")


def _value_at_optimum_derivation() -> Derivation:
    import sympy as sp

    _, x, p_d, p_m, D = _density_symbols()
    line = (x, -sp.oo, sp.oo)
    mix = (p_d(x) + p_m(x)) / 2
    P_d, P_m = sp.symbols("p_d p_m")
    js = sp.Function("D_JS")
    # KL terms as named symbols: a premise whose value holds an integral over x must be keyed
    # on a symbol (sympy refuses to substitute it for a function application twice)
    kl_symbols = {P_d: sp.Symbol("D_KL(p_d || m)"), P_m: sp.Symbol("D_KL(p_m || m)")}

    def kl(p, _mixture):
        return kl_symbols[p]

    M = None
    at_dstar = sp.Integral(
        p_d(x) * sp.log(p_d(x) / (p_d(x) + p_m(x))) + p_m(x) * sp.log(p_m(x) / (p_d(x) + p_m(x))),
        line,
    )
    kl_d = sp.Integral(p_d(x) * sp.log(p_d(x) / mix), line)
    kl_m = sp.Integral(p_m(x) * sp.log(p_m(x) / mix), line)
    split = kl_d + kl_m - sp.log(2) * (sp.Integral(p_d(x), line) + sp.Integral(p_m(x), line))
    value_integral = sp.Integral(_value_integrand(p_d, p_m, D, x), line)
    return Derivation(
        [
            Step(
                "the value function",
                value_of_game("D^*"),
                value_integral,
                premise="formula:gan-value-function",
                name="V",
            ),
            Step(
                "the optimal discriminator",
                D(x),
                p_d(x) / (p_d(x) + p_m(x)),
                premise="formula:gan-optimal-discriminator",
                name="D*",
            ),
            Step(
                "KL to the mixture m = (p_d + p_m)/2",
                kl(P_d, M),
                kl_d,
                premise="definition",
                name="KL_d",
            ),
            Step("KL of p_m to the mixture m", kl(P_m, M), kl_m, premise="definition", name="KL_m"),
            Step(
                "Jensen-Shannon divergence",
                js(P_d, P_m),
                kl(P_d, M) / 2 + kl(P_m, M) / 2,
                premise="formula:jsd",
                name="JSD",
            ),
            Step(
                "insert D* = p_d/(p_d + p_m) into V",
                value_of_game("D^*"),
                at_dstar,
                uses=("V", "D*"),
                # the premises substituted by hand, then both sides by quadrature (sympy's
                # doit() would try to integrate the abstract densities symbolically)
                method="custom",
                custom=lambda: _quadrature_comparison(
                    value_integral.subs(D(x), p_d(x) / (p_d(x) + p_m(x))),
                    at_dstar,
                    x,
                    p_d,
                    p_m,
                    "V with D = D* vs the inserted form",
                ),
                tolerance=1e-13,
            ),
            Step(
                "log(p/(p_d + p_m)) = log(p/m) - log 2 inside each term",
                rhs=split,
                method="custom",
                custom=lambda: _quadrature_comparison(
                    at_dstar, split, x, p_d, p_m, "V(G, D*) vs the split form"
                ),
                tolerance=1e-13,
            ),
            Step(
                "densities integrate to 1: = KL(p_d || m) + KL(p_m || m) - 2 log 2",
                rhs=kl(P_d, M) + kl(P_m, M) - 2 * sp.log(2),
                uses=("KL_d", "KL_m"),
                method="custom",
                custom=lambda: _quadrature_comparison(
                    split,
                    kl_d + kl_m - 2 * sp.log(2),
                    x,
                    p_d,
                    p_m,
                    "split form vs KL + KL - 2 log 2",
                ),
                tolerance=1e-13,
            ),
            Step(
                "= -log 4 + 2 D_JS(p_d || p_m): the minimum over G, -log 4, is reached iff "
                "D_JS = 0, i.e. p_m = p_d",
                rhs=_value_at_optimum_statement().rhs,
                uses=("JSD",),
            ),
        ],
    )


def gan_value_at_optimum(p_data, p_model):
    """V(G, D*) for finite-support distributions (= -log 4 + 2 JSD(p_data || p_model))."""
    import numpy as np

    p_data = np.asarray(p_data, dtype=np.float64)
    p_model = np.asarray(p_model, dtype=np.float64)
    total = p_data + p_model
    with np.errstate(divide="ignore", invalid="ignore"):
        d_star = np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)
    return as_float64((_xlogy(p_data, d_star) + _xlogy(p_model, 1.0 - d_star)).sum(axis=-1))


register(
    Formula(
        id="gan-value-at-optimum",
        title="Value of the GAN game at the optimal discriminator",
        topic="gan",
        section="5, 13",
        text="V(G, D*) = -log 4 + 2 D_JS(p_d || p_m); the global minimum over G is -log 4, "
        "reached iff p_m = p_d (then D* = 1/2). The sheet's V(G, D*) = -log 4 is this value "
        "at the global optimum p_m = p_d, as it says.",
        keywords=(
            "jsd",
            "jensen-shannon",
            "global minimum",
            "minus log 4",
            "-log 4",
            "optimum",
            "value",
            "gan",
            "proof",
        ),
        statement_builder=_value_at_optimum_statement,
        derivation_builder=_value_at_optimum_derivation,
        evaluator=gan_value_at_optimum,
        sheet_lines=(123, 123),
    )
)

# --------------------------------------------------------------------------------------------
# gan-convexity (sheet line 125): C(p_m) = V(p_m, D*) = sup_D U(p_m, D) is convex in p_m


def _convexity_symbols():
    import sympy as sp

    lam = sp.Symbol("lambda", positive=True)
    p1, p2, D = sp.symbols("p_1 p_2 D")
    C, U, sup = sp.Function("C"), sp.Function("U"), sp.Function("sup_D")
    return sp, lam, p1, p2, D, C, U, sup


def _convexity_statement():
    sp, lam, p1, p2, D, C, U, sup = _convexity_symbols()
    return sp.Le(C(lam * p1 + (1 - lam) * p2), lam * C(p1) + (1 - lam) * C(p2))


def _convexity_cases():
    import numpy as np

    rng = np.random.default_rng(12)
    cases = []
    for size in (2, 3, 5, 4, 6):
        p_data, p1, p2 = rng.dirichlet(np.ones(size), size=3)
        cases.append((p_data, p1, p2, rng.uniform(0.1, 0.9)))
    return cases


def _convexity_comparison(stage) -> Comparison:
    left, right = [], []
    for p_data, p1, p2, lam in _convexity_cases():
        mixed = lam * p1 + (1 - lam) * p2
        closed = [float(gan_value_at_optimum(p_data, p)) for p in (mixed, p1, p2)]
        searched = [_sup_over_d(p_data, p) for p in (mixed, p1, p2)]
        if stage == "definition":  # C(p) by D* in closed form vs sup over D by search
            left.append(closed[0])
            right.append(searched[0])
        elif stage == "sup":  # the sup of a mixture vs the mixture of the sups
            left.append(searched[0])
            right.append(lam * searched[1] + (1 - lam) * searched[2])
        else:
            left.append(lam * searched[1] + (1 - lam) * searched[2])
            right.append(lam * closed[1] + (1 - lam) * closed[2])
    return Comparison(left, right, f"{stage}: 5 random (p_d, p_1, p_2, lambda), supports 2-6")


def _convexity_derivation() -> list[Step]:
    sp, lam, p1, p2, D, C, U, sup = _convexity_symbols()
    return [
        Step(
            "C(p) = sup_D U(p, D) with U(p, D) = int p_d log D + p log(1 - D) linear in p: "
            "C(lambda p_1 + (1-lambda) p_2) = sup_D [lambda U(p_1, D) + (1-lambda) U(p_2, D)]",
            C(lam * p1 + (1 - lam) * p2),
            sup(lam * U(p1, D) + (1 - lam) * U(p2, D)),
            method="custom",
            custom=lambda: _convexity_comparison("definition"),
            tolerance=1e-9,
        ),
        Step(
            "a supremum of a sum is at most the sum of the suprema",
            rhs=lam * sup(U(p1, D)) + (1 - lam) * sup(U(p2, D)),
            relation="<=",
            method="custom",
            custom=lambda: _convexity_comparison("sup"),
            tolerance=1e-10,
        ),
        Step(
            "= lambda C(p_1) + (1-lambda) C(p_2): C is convex, so improving p_m against D* "
            "converges to its minimiser p_m = p_d",
            rhs=lam * C(p1) + (1 - lam) * C(p2),
            method="custom",
            custom=lambda: _convexity_comparison("suprema"),
            tolerance=1e-9,
        ),
    ]


def _convexity_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(1)
    p_data, p_model = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    D = np.linspace(1e-4, 1 - 1e-4, 2001)
    with np.errstate(invalid="ignore"):
        # the sheet's sup_D int p_m log(-D): log of a negative number for every D in (0, 1)
        sheet_terms = [np.max(b * np.log(-D)) for b in p_model]
    return compare_forms(
        reference=_sup_over_d(p_data, p_model),
        sheet=float(np.sum(sheet_terms)),
        correct=float(gan_value_at_optimum(p_data, p_model)),
        reference_name="sup_D V(G, D) by bounded search over D(x) on a 4-point support",
    )


register(
    Formula(
        id="gan-convexity",
        title="V(p_m, D*) is convex in p_m (why p_m -> p_d)",
        topic="gan",
        section="5",
        text="If D reaches D* at each step, C(p_m) = V(p_m, D*) = sup_D int p_d log D + p_m "
        "log(1 - D) is a supremum of functions linear in p_m, hence convex, so steps that "
        "improve it converge to p_d. The assumptions (enough capacity, D* reached) are too "
        "strong in practice.",
        keywords=("convexity", "convergence", "supremum", "sup", "gan", "training"),
        statement_builder=_convexity_statement,
        derivation_builder=_convexity_derivation,
        sheet_lines=(125, 125),
        erratum=Erratum(
            sheet=r"V(p_m, D^*) \propto \sup_D \int_x p_m(x) \log(-D(x))\, dx",
            correct=r"V(p_m, D^*) = \sup_D \int_x p_d(x) \log D(x) + p_m(x) \log(1 - D(x))\, dx",
            explanation="The criterion that p_m improves is V(p_m, D*) = sup_D int p_d log D + "
            "p_m log(1 - D). The sheet writes the generator's term as log(-D(x)), undefined "
            "for D in (0, 1), and drops the p_d term from the supremum (without it the "
            "supremum over D would sit at D = 0).",
            evidence=_convexity_evidence,
            severity="error",
            sheet_lines=(125, 125),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# saturating vs non-saturating generator loss (sheet line 127), gradients w.r.t. the logit


def _logit_symbols():
    import sympy as sp

    ell = sp.Symbol("ell", real=True)
    return sp, ell, 1 / (1 + sp.exp(-ell))


def _saturating_statement():
    sp, ell, sigma = _logit_symbols()
    return sp.Eq(sp.Derivative(sp.log(1 - sigma), ell), -sigma)


def _sigmoid_slope_step(sp, ell, sigma):
    return Step(
        "the sigmoid's slope: d sigma/d ell = sigma (1 - sigma)",
        sp.Derivative(sigma, ell),
        sp.Mul(sigma, 1 - sigma, evaluate=False),
        premise="lemma",
        name="slope",
    )


def _saturating_derivation() -> list[Step]:
    sp, ell, sigma = _logit_symbols()
    return [
        _sigmoid_slope_step(sp, ell, sigma),
        Step(
            "D(G(z)) = sigma(ell); chain rule: d/d ell log(1 - sigma) = -sigma'/(1 - sigma)",
            sp.Derivative(sp.log(1 - sigma), ell),
            sp.Mul(-1, sp.Derivative(sigma, ell), sp.Pow(1 - sigma, -1), evaluate=False),
        ),
        Step(
            "= -sigma (1 - sigma)/(1 - sigma)",
            rhs=sp.Mul(-1, sigma, 1 - sigma, sp.Pow(1 - sigma, -1, evaluate=False), evaluate=False),
            uses=("slope",),
        ),
        Step(
            "= -sigma(ell) = -D(G(z)): it vanishes when D rejects the fakes (D(G(z)) -> 0)",
            rhs=-sigma,
        ),
    ]


def gan_saturating_gradient(logit):
    """d/d logit of log(1 - sigmoid(logit)) = -sigmoid(logit) (the minimax generator term)."""
    import numpy as np

    logit = np.asarray(logit, dtype=np.float64)
    return as_float64(-1.0 / (1.0 + np.exp(-logit)))


register(
    Formula(
        id="gan-saturating-gradient",
        title="Saturating generator loss: vanishing gradient when D is strong",
        topic="gan",
        section="5",
        text="If D is too strong, G gets near-zero gradients: d/d ell log(1 - D(G(z))) = "
        "-D(G(z)) -> 0 as D(G(z)) -> 0 (ell the discriminator logit).",
        keywords=(
            "vanishing gradient",
            "saturating",
            "generator loss",
            "strong discriminator",
            "logit",
        ),
        statement_builder=_saturating_statement,
        derivation_builder=_saturating_derivation,
        evaluator=gan_saturating_gradient,
        sheet_lines=(127, 127),
    )
)


def _non_saturating_statement():
    sp, ell, sigma = _logit_symbols()
    return sp.Eq(sp.Derivative(sp.log(sigma), ell), 1 - sigma)


def _non_saturating_derivation() -> list[Step]:
    sp, ell, sigma = _logit_symbols()
    return [
        _sigmoid_slope_step(sp, ell, sigma),
        Step(
            "chain rule: d/d ell log sigma = sigma'/sigma",
            sp.Derivative(sp.log(sigma), ell),
            sp.Mul(sp.Derivative(sigma, ell), sp.Pow(sigma, -1, evaluate=False), evaluate=False),
        ),
        Step(
            "= sigma (1 - sigma)/sigma",
            rhs=sp.Mul(sigma, 1 - sigma, sp.Pow(sigma, -1, evaluate=False), evaluate=False),
            uses=("slope",),
        ),
        Step(
            "= 1 - sigma(ell) = 1 - D(G(z)): close to 1 when D rejects the fakes",
            rhs=1 - sigma,
        ),
    ]


def gan_non_saturating_gradient(logit):
    """d/d logit of log(sigmoid(logit)) = 1 - sigmoid(logit) (the non-saturating G loss)."""
    import numpy as np

    logit = np.asarray(logit, dtype=np.float64)
    return as_float64(1.0 - 1.0 / (1.0 + np.exp(-logit)))


register(
    Formula(
        id="gan-non-saturating-gradient",
        title="Non-saturating generator loss: maximise log D(G(z))",
        topic="gan",
        section="5",
        text="Use gradient ascent on log(D(G(z))) instead of descent on log(1 - D(G(z))): "
        "its gradient w.r.t. the logit is 1 - D(G(z)), large when D rejects the fakes.",
        keywords=("non-saturating", "generator loss", "log d", "heuristic", "vanishing gradient"),
        statement_builder=_non_saturating_statement,
        derivation_builder=_non_saturating_derivation,
        evaluator=gan_non_saturating_gradient,
        sheet_lines=(127, 127),
    )
)

# --------------------------------------------------------------------------------------------
# fid (definition, sheet lines 131-133); matrix products keep their order


def _fid_statement():
    import sympy as sp

    n = sp.Symbol("n", positive=True, integer=True)
    S1, S2 = sp.MatrixSymbol("Sigma_1", n, n), sp.MatrixSymbol("Sigma_2", n, n)
    root = sp.MatPow(S1 * S2, sp.Rational(1, 2))
    return sp.Eq(
        sp.Symbol("FID"),
        sp.Symbol("||mu_1 - mu_2||^2") + sp.Trace(S1 + S2 - 2 * root),
    )


def fid(mu1, sigma1, mu2, sigma2):
    """Frechet distance ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}) of two Gaussians."""
    import numpy as np

    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    sigma1, sigma2 = np.asarray(sigma1, dtype=np.float64), np.asarray(sigma2, dtype=np.float64)
    # Only the trace of (S1 S2)^{1/2} is needed: it is the sum of the square roots of the
    # eigenvalues of S1 S2, which are real and >= 0 (S1 S2 is similar to S1^{1/2} S2 S1^{1/2}).
    # numpy alone, so the light install (no scipy) computes FID too.
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2)
    trace_covmean = np.sum(np.sqrt(np.clip(np.real(eigenvalues), 0.0, None)))  # round-off
    diff = mu1 - mu2
    return as_float64(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_covmean)


def _fid_properties() -> list[Step]:
    import sympy as sp

    m1, m2 = sp.symbols("m_1 m_2", real=True)
    s1, s2 = sp.symbols("s_1 s_2", positive=True)

    def quantile_coupling() -> Comparison:
        import numpy as np
        from scipy import stats
        from scipy.integrate import quad

        left, right = [], []
        for a, sa, b, sb in [(0.0, 1.0, 1.0, 2.0), (-1.0, 0.5, 2.0, 0.7), (3.0, 1.5, 3.0, 1.5)]:
            # W2^2 of two 1-D laws is int_0^1 (F^{-1}(u) - G^{-1}(u))^2 du
            w2, _ = quad(
                lambda u, a=a, sa=sa, b=b, sb=sb: (
                    (stats.norm.ppf(u, a, sa) - stats.norm.ppf(u, b, sb)) ** 2
                ),
                0,
                1,
                epsabs=1e-13,
            )
            left.append(
                float(fid(np.array([a]), np.array([[sa**2]]), np.array([b]), np.array([[sb**2]])))
            )
            right.append(w2)
        return Comparison(left, right, "FID of 1-D Gaussians vs quantile-coupling W2^2 (quad)")

    return [
        Step(
            "in one dimension FID is (m_1 - m_2)^2 + (s_1 - s_2)^2",
            (m1 - m2) ** 2 + s1**2 + s2**2 - 2 * sp.sqrt(s1**2 * s2**2),
            (m1 - m2) ** 2 + (s1 - s2) ** 2,
            assumptions="s_1, s_2 > 0 (standard deviations)",
        ),
        Step(
            "it is the squared 2-Wasserstein distance between the fitted Gaussians",
            custom=quantile_coupling,
            tolerance=1e-9,
        ),
    ]


register(
    Formula(
        id="fid",
        title="Frechet Inception Distance",
        topic="gan",
        section="5",
        text="FID: distance between Gaussians fitted to feature vectors of real and generated "
        "images, ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^{1/2}); lower is better.",
        keywords=("fid", "frechet", "inception", "metric", "evaluation", "wasserstein"),
        statement_builder=_fid_statement,
        definition=True,
        properties_builder=_fid_properties,
        evaluator=fid,
        sheet_lines=(131, 133),
    )
)

# --------------------------------------------------------------------------------------------
# Pix2Pix objective (definition, sheet line 147; erratum: what the L1 loss compares)


def _pix2pix_statement():
    import sympy as sp

    lam = sp.Symbol("lambda", positive=True)
    from formulas.notation import expectation

    x, y = sp.symbols("x y", real=True)
    G = sp.Function("G")
    l1 = expectation("x, y", "x,y")(sp.Function("norm")(y - G(x), 1))  # E_{x,y} ||y - G(x)||_1
    # L and L_cGAN are the objectives over the pair (G, D)
    return sp.Eq(sp.Symbol("L", real=True), sp.Symbol("L_cGAN", real=True) + lam * l1)


def _translation_pairs():
    """Paired data y = A x (a 'sketch' x and its 'image' y) and a linear generator family."""
    import numpy as np

    rng = np.random.default_rng(21)
    A = rng.normal(size=(4, 4))
    sketches = rng.normal(size=(32, 4))
    return A, sketches, sketches @ A.T


def _pix2pix_properties() -> list[Step]:
    import numpy as np

    def reconstruction() -> Comparison:
        A, x, y = _translation_pairs()
        perfect = np.abs(y - x @ A.T).sum(axis=1).mean()
        return Comparison([perfect], [0.0], "E||y - G(x)||_1 at G(x) = A x (the true map) vs 0")

    return [
        Step(
            "the L1 term is zero exactly for the generator that reproduces the paired image",
            custom=reconstruction,
            tolerance=1e-12,
        )
    ]


def _pix2pix_evidence() -> Evidence:
    import numpy as np

    A, x, y = _translation_pairs()
    perfect_output = x @ A.T  # the ideal generator's output
    return compare_forms(
        reference=0.0,
        sheet=float(np.abs(x - y).sum(axis=1).mean()),
        correct=float(np.abs(y - perfect_output).sum(axis=1).mean()),
        reference_name="L1 loss of the perfect generator G(x) = y on 32 pairs",
    )


register(
    Formula(
        id="pix2pix-objective",
        title="Pix2Pix objective: conditional GAN loss plus L1",
        topic="gan",
        section="5.2",
        text="Pix2Pix: G: X -> Y, D: (X, Y) -> [0, 1]; GAN loss + lambda L1 loss between the "
        "generated and the real image. Needs paired training data.",
        keywords=("pix2pix", "image translation", "l1", "conditional gan", "paired"),
        statement_builder=_pix2pix_statement,
        definition=True,
        properties_builder=_pix2pix_properties,
        sheet_lines=(147, 147),
        erratum=Erratum(
            sheet=r"\text{GAN loss} + L_1 \text{ loss between sketch and image}",
            correct=r"\mathcal{L}_{cGAN}(G, D) + \lambda\, \mathbb{E}_{x,y} \|y - G(x)\|_1",
            explanation="Pix2Pix's L1 term compares the generated image G(x) with the paired "
            "real image y. An L1 loss between the sketch x and the image y does not involve G "
            "at all (no gradient for the generator) and is not zero even for the perfect "
            "generator.",
            evidence=_pix2pix_evidence,
            severity="error",
            sheet_lines=(147, 147),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# CycleGAN (definition, sheet line 149)


def _cycle_statement():
    import sympy as sp

    from formulas.notation import expectation

    x, y = sp.symbols("x y", real=True)
    F, G, norm = sp.Function("F"), sp.Function("G"), sp.Function("norm")
    forward = expectation("x", "x")(norm(G(F(x)) - x, 1))
    backward = expectation("y", "y")(norm(F(G(y)) - y, 1))
    return sp.Eq(sp.Symbol("L_cyc", real=True), forward + backward)  # L_cyc of the pair (F, G)


def _cycle_loss(F, G, x, y):
    import numpy as np

    return np.abs(G(F(x)) - x).sum(axis=1).mean() + np.abs(F(G(y)) - y).sum(axis=1).mean()


def _cycle_properties() -> list[Step]:
    import numpy as np

    rng = np.random.default_rng(5)
    A = rng.normal(size=(3, 3)) + 2 * np.eye(3)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))

    def F(v):
        return v @ A.T

    def G(v):
        return np.linalg.solve(A, v.T).T

    def inverse_pair() -> Comparison:
        return Comparison([_cycle_loss(F, G, x, y)], [0.0], "L_cyc for G = F^{-1} vs 0")

    def other_pair() -> Comparison:
        return Comparison([_cycle_loss(F, F, x, y)], [0.0], "L_cyc for G = F (not an inverse)")

    return [
        Step(
            "zero when G is the inverse of F (F o G = id, G o F = id)",
            custom=inverse_pair,
            tolerance=1e-12,
        ),
        Step("positive otherwise", custom=other_pair, relation=">"),
    ]


register(
    Formula(
        id="cycle-consistency-loss",
        title="CycleGAN cycle-consistency loss",
        topic="gan",
        section="5.2",
        text="CycleGAN (unpaired): F: X -> Y, G: Y -> X, cycle-consistency F o G ~ id and "
        "G o F ~ id as L1 losses, plus the GAN losses of F and G. BicycleGAN adds a noise "
        "input (multimodal outputs); vid2vid translates videos.",
        keywords=(
            "cyclegan",
            "cycle consistency",
            "unpaired",
            "image translation",
            "bicyclegan",
            "vid2vid",
        ),
        statement_builder=_cycle_statement,
        definition=True,
        properties_builder=_cycle_properties,
        sheet_lines=(149, 149),
    )
)

# --------------------------------------------------------------------------------------------
# Wasserstein GAN with gradient penalty (definition, sheet line 135)


def _wgan_statement():
    import sympy as sp

    lam = sp.Symbol("lambda", positive=True)
    from formulas.notation import expectation

    x, x_hat, x_tilde = sp.symbols("x x_hat x_tilde", real=True)
    D = sp.Function("D")
    # x_tilde on the line between a data and a generated sample; grad D as d/dx_tilde D
    slope = sp.Function("norm")(sp.Derivative(D(x_tilde), x_tilde), 2)
    return sp.Eq(
        sp.Symbol("L_D"),
        expectation(r"\hat{x} \sim p_m", "x_hat~p_m")(D(x_hat))
        - expectation(r"x \sim p_d", "x~p_d")(D(x))
        + lam * expectation(r"\tilde{x}", "x_tilde")((slope - 1) ** 2),
    )


def _penalty(w, points):
    """(||grad D|| - 1)^2 for the linear critic D(x) = w.x, gradient by central differences."""
    import numpy as np

    step = 1e-6
    values = []
    for point in points:
        grad = np.array(
            [((point + step * e) @ w - (point - step * e) @ w) / (2 * step) for e in np.eye(2)]
        )
        values.append((np.linalg.norm(grad) - 1) ** 2)
    return np.mean(values)


def _wgan_properties() -> list[Step]:
    import numpy as np

    rng = np.random.default_rng(9)
    points = rng.normal(size=(10, 2))
    angles = rng.uniform(0, 2 * np.pi, size=5)

    def unit_critics() -> Comparison:
        values = [_penalty(np.array([np.cos(t), np.sin(t)]), points) for t in angles]
        return Comparison(values, np.zeros(5), "penalty of unit-norm linear critics vs 0")

    def steep_critics() -> Comparison:
        values = [_penalty(3 * np.array([np.cos(t), np.sin(t)]), points) for t in angles]
        return Comparison(values, np.full(5, 4.0), "penalty of critics with |grad| = 3 vs 4")

    return [
        Step(
            "the penalty vanishes for a critic with unit gradient norm (1-Lipschitz boundary)",
            custom=unit_critics,
            tolerance=1e-12,
        ),
        Step("and grows with (|grad| - 1)^2 otherwise", custom=steep_critics, tolerance=1e-9),
    ]


register(
    Formula(
        id="wgan-gp",
        title="Wasserstein GAN with gradient penalty",
        topic="gan",
        section="5",
        text="Wasserstein GAN: a different loss (critic D, E_{p_d} D(x) - E_{p_m} D(x) with D "
        "1-Lipschitz) whose gradients don't vanish; adding a gradient penalty lambda "
        "E(||grad D(x_tilde)|| - 1)^2 on interpolates x_tilde stabilises training.",
        keywords=("wgan", "wasserstein", "gradient penalty", "critic", "lipschitz", "wgan-gp"),
        statement_builder=_wgan_statement,
        definition=True,
        properties_builder=_wgan_properties,
        sheet_lines=(135, 135),
    )
)

# --------------------------------------------------------------------------------------------
# StyleGAN: adaptive instance normalisation from the intermediate latent w (sheet line 135)


def _adain_statement():
    import sympy as sp

    x_i, y = sp.symbols("x_i y", real=True)
    mu, sigma = sp.Function("mu"), sp.Function("sigma")  # the feature map's mean and std
    return sp.Eq(
        sp.Function("AdaIN")(x_i, y),
        sp.Symbol("y_{s,i}") * (x_i - mu(x_i)) / sigma(x_i) + sp.Symbol("y_{b,i}"),
    )


def adain(x, scale, bias, eps=1e-5):
    """AdaIN(x, y) = y_s (x - mu(x)) / sigma(x) + y_b per channel; x: (..., C, H, W),
    scale and bias: (..., C) from the style w. sigma includes eps (biased variance)."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=(-2, -1), keepdims=True)
    var = x.var(axis=(-2, -1), keepdims=True)
    scale = np.asarray(scale, dtype=np.float64)[..., None, None]
    bias = np.asarray(bias, dtype=np.float64)[..., None, None]
    return as_float64(scale * (x - mean) / np.sqrt(var + eps) + bias)


register(
    Formula(
        id="stylegan-adain",
        title="StyleGAN: adaptive instance normalisation (AdaIN)",
        topic="gan",
        section="5",
        text="StyleGAN: learn an intermediate latent space W with FC layers (z -> w); each "
        "layer normalises its features with scale and bias from w (AdaIN: per-sample, "
        "per-channel instance statistics, not batch statistics) and adds noise. DCGAN: "
        "strided convolutions instead of pooling, batch-norm, no FC, ReLU in G, LeakyReLU in "
        "D. Hierarchical GANs grow from low to high resolution.",
        keywords=(
            "stylegan",
            "adain",
            "style",
            "instance normalization",
            "mapping network",
            "dcgan",
            "progressive",
        ),
        statement_builder=_adain_statement,
        evaluator=adain,
        sheet_lines=(135, 135),
    )
)

# --------------------------------------------------------------------------------------------
# GAN inversion (definition, sheet line 137)


def _inversion_statement():
    import sympy as sp

    z, x = sp.symbols("z x", real=True)
    distance = sp.Function("norm")(sp.Function("G")(z) - x, 2) ** 2
    return sp.Eq(sp.Symbol("z^*"), sp.Function("argmin_z")(distance))


def _inversion_properties() -> list[Step]:
    def recovers_latent() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(4)
        G = rng.normal(size=(12, 3))  # a linear generator with full column rank
        z_true = rng.normal(size=3)
        x = G @ z_true
        z_found, *_ = np.linalg.lstsq(G, x, rcond=None)
        return Comparison(
            z_found, z_true, "argmin_z ||G z - x||^2 (least squares) vs the z that generated x"
        )

    return [
        Step(
            "for an image the generator can produce, inversion recovers its latent code",
            custom=recovers_latent,
            tolerance=1e-12,
        )
    ]


register(
    Formula(
        id="gan-inversion",
        title="GAN inversion",
        topic="gan",
        section="5",
        text="GAN inversion: find z with G(z) ~ x, then manipulate images in latent space or "
        "inpaint. If G predicts an image and a segmentation mask, inversion predicts masks for "
        "any image. Mode collapse: G produces one sample/class; unrolling optimises G against "
        "k unrolled future updates of D. 3D GANs (voxels; PlatonicGAN renders 3D to 2D for D; "
        "HoloGAN; GRAF radiance fields; GIRAFFE; EG3D tri-planes).",
        keywords=(
            "gan inversion",
            "latent space",
            "mode collapse",
            "unrolling",
            "3d gan",
            "eg3d",
            "triplane",
            "giraffe",
            "graf",
            "hologan",
        ),
        statement_builder=_inversion_statement,
        definition=True,
        properties_builder=_inversion_properties,
        sheet_lines=(137, 137),
    )
)

# --------------------------------------------------------------------------------------------
# Claims in words (sheet lines 111-153, 381-389)


def _likelihood_metric_check() -> Evidence:
    import numpy as np
    from scipy import stats

    rng = np.random.default_rng(0)
    data = rng.normal(size=2000)
    good = stats.norm.logpdf(data).mean()
    # 99% noise (a very wide Gaussian) + 1% the good model: samples are mostly noise
    mixture = np.log(0.01 * stats.norm.pdf(data) + 0.99 * stats.norm.pdf(data, 0, 50)).mean()
    loss = good - mixture
    # memorising the training set with sharp peaks: great samples, poor test likelihood
    train, test = rng.normal(size=200), rng.normal(size=200)
    width = 1e-3
    memorised = np.log(
        stats.norm.pdf(test[:, None], train[None, :], width).mean(axis=1) + 1e-300
    ).mean()
    holds = loss <= np.log(100) and memorised < good - 10
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"N(0,1) data: true model {good:.3f} nats/sample; 1% model + 99% noise "
        f"{mixture:.3f} (loses {loss:.3f} <= log 100 = {np.log(100):.3f}); memorised training "
        f"set with width {width} on test data {memorised:.1f} "
        f"({verdict_text(holds, 'both halves of the claim hold', 'the claim fails')})",
    )


def _optimum_check() -> Evidence:
    import numpy as np

    p_data = np.array([0.1, 0.25, 0.4, 0.25])
    at_equal = float(gan_value_at_optimum(p_data, p_data))
    searched = _sup_over_d(p_data, p_data)
    rng = np.random.default_rng(3)
    others = [float(gan_value_at_optimum(p_data, q)) for q in rng.dirichlet(np.ones(4), 200)]
    holds = abs(at_equal + np.log(4)) < 1e-12 and abs(searched + np.log(4)) < 1e-9
    holds = holds and min(others) > -np.log(4)
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"p_m = p_d: V(G, D*) = {at_equal:.12f}, sup over D by search {searched:.12f}, "
        f"-log 4 = {-np.log(4):.12f}; 200 random p_m != p_d give V(G, D*) >= {min(others):.6f} "
        f"({verdict_text(holds, 'the minimum -log 4 is at p_m = p_d', 'not borne out')})",
    )


def _vanishing_check() -> Evidence:
    import numpy as np

    logit = -7.0  # D(G(z)) = sigmoid(-7) ~ 0.0009: D rejects the fake confidently
    d = 1 / (1 + np.exp(-logit))
    saturating = float(gan_saturating_gradient(logit))
    non_saturating = float(gan_non_saturating_gradient(logit))
    step = 1e-6
    fd = (
        np.log(1 - 1 / (1 + np.exp(-(logit + step))))
        - np.log(1 - 1 / (1 + np.exp(-(logit - step))))
    ) / (2 * step)
    holds = abs(saturating) < 1e-2 and non_saturating > 0.99 and abs(fd - saturating) < 1e-8
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"D(G(z)) = {d:.2e}: d/d logit log(1 - D) = {saturating:.2e} (finite difference "
        f"{fd:.2e}); d/d logit log D = {non_saturating:.4f} "
        + verdict_text(
            holds, "(the minimax gradient vanishes, the heuristic one does not)", "(not borne out)"
        ),
    )


def _wgan_gradient_check() -> Evidence:
    import numpy as np

    # p_d = delta at 0, p_m = delta at theta (disjoint supports for theta != 0)
    thetas = np.array([0.5, 1.0, 2.0])
    step = 1e-6

    def jsd_of(theta):
        return float(jsd(np.array([1.0, 0.0]), np.array([0.0, 1.0]))) if theta else 0.0

    def w1(theta):
        return abs(theta)

    js_grad = [(jsd_of(t + step) - jsd_of(t - step)) / (2 * step) for t in thetas]
    w_grad = [(w1(t + step) - w1(t - step)) / (2 * step) for t in thetas]
    holds = max(abs(g) for g in js_grad) == 0 and min(w_grad) > 0.99
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"p_d = delta_0, p_m = delta_theta at theta = {thetas.tolist()}: d JSD/d theta = "
        f"{js_grad}, d W1/d theta = {np.round(w_grad, 6).tolist()} "
        + verdict_text(
            holds, "(the Wasserstein loss keeps a gradient where JSD is flat)", "(not borne out)"
        ),
    )


def _batchnorm_vs_adain_check() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(6)
    sample = rng.normal(2, 3, size=(1, 2, 4, 4))
    partners = [rng.normal(-5, 1, size=(3, 2, 4, 4)), rng.normal(8, 4, size=(3, 2, 4, 4))]
    scale, bias = np.array([1.5, 0.5]), np.array([0.2, -1.0])

    def batchnorm(batch):  # batch statistics, scale and bias from w
        mean = batch.mean(axis=(0, 2, 3), keepdims=True)
        var = batch.var(axis=(0, 2, 3), keepdims=True)
        return (
            scale[None, :, None, None] * (batch - mean) / np.sqrt(var + 1e-5)
            + bias[None, :, None, None]
        )

    bn_outputs = [batchnorm(np.concatenate([sample, other]))[0] for other in partners]
    ada_outputs = [adain(np.concatenate([sample, other]), scale, bias)[0] for other in partners]
    bn_change = float(np.abs(bn_outputs[0] - bn_outputs[1]).max())
    ada_change = float(np.abs(ada_outputs[0] - ada_outputs[1]).max())
    ada_stats = adain(sample, scale, bias)[0]
    style_gap = float(np.abs(ada_stats.mean(axis=(1, 2)) - bias).max())
    return Evidence(
        sheet_fails=bool(bn_change > 1e-6),
        correct_passes=bool(ada_change < 1e-12 and style_gap < 1e-12),
        detail=f"one image's output with two different batch partners: batchnorm changes by "
        f"{bn_change:.3f} ({verdict_text(bn_change > 1e-6, 'depends on the batch', 'does not')}); "
        f"AdaIN changes by {ada_change:.1e}, and its per-channel output mean equals the style "
        f"bias y_b to {style_gap:.1e}",
    )


def _register_claims() -> None:
    common = {"topic": "gan", "section": "5"}
    claims = [
        Claim(
            id="gan-likelihood-not-a-metric",
            sheet_lines=(113, 113),
            sheet="Log-likelihood is not a good metric. We can have high likelihood with poor "
            "quality by mixing in noise ...; or low likelihood with good quality by remembering "
            "input data and having sharp peaks there.",
            verdict="correct",
            explanation="A 1% model + 99% noise mixture loses at most log 100 nats per sample "
            "while its samples are mostly noise; a model that memorises the training set has "
            "perfect samples but a very poor likelihood on test data.",
            source="Theis, van den Oord & Bethge 2016, Sec. 3.2",
            check=_likelihood_metric_check,
            **common,
        ),
        Claim(
            id="gan-players",
            sheet_lines=(115, 117),
            sheet="Generator G: R^Q -> R^D maps noise z to data, discriminator D: R^D -> [0, 1] "
            "... Train D for k steps for each step of G. Training GANs is a min-max process.",
            verdict="correct",
            explanation="Algorithm 1 of the GAN paper: k discriminator updates per generator "
            "update of the minimax game min_G max_D V(G, D).",
            source="Goodfellow et al. 2014, Sec. 3-4, Algorithm 1",
            **common,
        ),
        Claim(
            id="gan-global-optimum",
            sheet_lines=(123, 123),
            sheet="Global minimum of D_JS(p_d||p_m) is the glob. min. of V(G, D), V(G, D*) = "
            "-log(4) and at optimum of V(D*, G) we have p_d = p_m.",
            verdict="correct",
            explanation="V(G, D*) = -log 4 + 2 D_JS(p_d || p_m) (formula gan-value-at-optimum), "
            "minimal exactly where D_JS = 0, i.e. p_m = p_d, with value -log 4: the sheet "
            "states -log 4 at that optimum. (V(D*, G) swaps the argument order: notation.)",
            source="Goodfellow et al. 2014, Theorem 1",
            check=_optimum_check,
            **common,
        ),
        Claim(
            id="gan-vanishing-generator-gradient",
            sheet_lines=(127, 127),
            sheet="If D is too strong, G has near zero gradients and doesn't learn "
            "(log'(1 - D(G(z))) ~ 0). Use gradient ascent on log(D(G(z))) instead.",
            verdict="correct",
            explanation="With D(G(z)) = sigmoid(ell) near 0, the gradient of log(1 - D(G(z))) "
            "through the logit is -D(G(z)) ~ 0, while that of log D(G(z)) is 1 - D(G(z)) ~ 1. "
            "The prime in log'(...) stands for that gradient (notation).",
            source="Goodfellow et al. 2014, Sec. 3",
            check=_vanishing_check,
            **common,
        ),
        Claim(
            id="unrolled-gan",
            sheet_lines=(129, 129),
            sheet="Solution: unrolling - use k previous D for each G update.",
            verdict="error",
            explanation="Unrolled GANs update G against the discriminator as it will be after k "
            "further (unrolled) optimisation steps, differentiating through those future "
            "updates, so G anticipates how D reacts; they do not reuse the k previous "
            "discriminators (that would be a history/replay scheme, a different method).",
            source="Metz, Poole, Pfau & Sohl-Dickstein 2017 (Unrolled GANs), Sec. 2",
            correct="unrolling: optimise G against D after k future (unrolled) D updates, "
            "backpropagating through them",
            **common,
        ),
        Claim(
            id="mode-collapse-name",
            sheet_lines=(129, 129),
            sheet="Model collapse: G only produces one sample or one class of samples.",
            verdict="typo",
            explanation="The phenomenon described (G covers only one or few modes of p_d) is "
            "mode collapse; 'model collapse' names a different effect (degradation from "
            "training on generated data).",
            source="Goodfellow 2016 (NIPS tutorial), Sec. 5.1.1",
            correct="Mode collapse",
            **common,
        ),
        Claim(
            id="gan-comparison",
            sheet_lines=(131, 133),
            sheet="GANs are hard to compare, as likelihood is intractable. FID ... distance "
            "between feature vectors calculated for real and generated images.",
            verdict="correct",
            explanation="FID compares Gaussians fitted to Inception features of real and "
            "generated images (formula fid); a GAN defines no tractable density.",
            source="Heusel et al. 2017, Sec. 3",
            **common,
        ),
        Claim(
            id="dcgan-wgan-progressive",
            sheet_lines=(135, 135),
            sheet="DCGAN: pool -> strided convolution, batch-norm, no FC, ReLU for G, LeakyReLU "
            "for D. Wasserstein GAN: different loss, gradients don't vanish. Adding gradient "
            "penalty for D stabilizes training. Hierarchical GAN: generate low-res image, then "
            "high-res during training.",
            verdict="correct",
            explanation="DCGAN's guidelines as listed; the Wasserstein loss keeps a gradient "
            "where the JSD is flat (disjoint supports); WGAN-GP's penalty; progressive growing "
            "from low to high resolution.",
            source="Radford et al. 2016, Sec. 3; Arjovsky et al. 2017; Gulrajani et al. 2017; "
            "Karras et al. 2018",
            check=_wgan_gradient_check,
            **common,
        ),
        Claim(
            id="stylegan-normalisation",
            sheet_lines=(135, 135),
            sheet="StyleGAN: learn intermediate latent space W with FCs, batchnorm with scale "
            "and mean from W, add noise at each layer.",
            verdict="error",
            explanation="StyleGAN's style injection is adaptive instance normalisation: each "
            "sample's feature maps are normalised with their own per-channel statistics, then "
            "scaled and shifted by y_s, y_b computed from w. Batch normalisation uses statistics "
            "of the whole batch, so one image's output would depend on the other images in the "
            "batch.",
            source="Karras, Laine & Aila 2019 (StyleGAN), Sec. 2, Eq. 1",
            check=_batchnorm_vs_adain_check,
            correct="AdaIN (instance normalisation) with scale and bias from w",
            **common,
        ),
        Claim(
            id="gan-inversion-uses",
            sheet_lines=(137, 137),
            sheet="GAN inversion: find z s.t. G(z) ~ x => manipulate images in latent space, "
            "inpainting. If G predicts image and segmentation mask, we can use inversion to "
            "predict mask for any image, even outside the training distribution.",
            verdict="correct",
            explanation="Inverting x to z and decoding the mask branch segments x; SemanticGAN "
            "reports that this generalises to out-of-domain images.",
            source="Zhu et al. 2016 (iGAN); Li et al. 2021 (SemanticGAN), Sec. 3-4",
            **common,
        ),
    ]
    three_d = [
        (
            "gan-3d-voxels-platonic",
            (139, 139),
            "3D GAN: voxels instead of pixels. PlatonicGAN: "
            "2D input, 3D output differentially rendered back to 2D for D.",
            "3D-GAN generates voxel grids; PlatonicGAN learns 3D shape from unstructured 2D images "
            "by rendering its 3D output differentiably so that a 2D discriminator judges it.",
            "Wu et al. 2016 (3D-GAN); Henzler, Mitra & Ritschel 2019 (PlatonicGAN)",
        ),
        (
            "hologan",
            (141, 141),
            "HoloGAN: 3D GAN + 2D superresolution GAN",
            "HoloGAN generates a 3D feature volume, applies the pose, projects it to 2D features "
            "and renders the image with a 2D convolutional network.",
            "Nguyen-Phuoc et al. 2019 (HoloGAN), Sec. 3",
        ),
        (
            "graf-giraffe",
            (143, 143),
            "GRAF: radiance fields more effic. than voxels GIRAFFE: GRAF + 2D conv. upscale",
            "GRAF uses conditional radiance fields instead of voxel grids (no cubic memory); "
            "GIRAFFE composes feature fields and upsamples a low-res feature image with a 2D "
            "neural renderer.",
            "Schwarz et al. 2020 (GRAF); Niemeyer & Geiger 2021 (GIRAFFE)",
        ),
        (
            "eg3d",
            (145, 145),
            "EG3D: use 3 2D images from StyleGAN for features, project each "
            "3D point to tri-planes.",
            "A StyleGAN2 backbone outputs three axis-aligned 2D feature planes; a 3D point is "
            "projected onto each plane, the features are summed and decoded.",
            "Chan et al. 2022 (EG3D), Sec. 3",
        ),
        (
            "pix2pix-setup",
            (147, 147),
            "Pix2Pix: G: X -> Y, D: X, Y -> [0, 1]. ... Needs pairs for training.",
            "A conditional GAN whose discriminator sees the input and the output; trained on "
            "aligned pairs (the L1 term: formula pix2pix-objective).",
            "Isola et al. 2017 (pix2pix), Sec. 3",
        ),
        (
            "cyclegan-unpaired",
            (149, 149),
            "CycleGAN: unpaired. Two GANs F: X -> Y, G: Y -> X, "
            "cycle-consistency loss F o G ~ id; G o F ~ id plus GAN losses for F and G.",
            "Two mappings with adversarial losses plus the cycle-consistency loss (formula "
            "cycle-consistency-loss); no paired data needed.",
            "Zhu et al. 2017 (CycleGAN), Sec. 3",
        ),
        (
            "bicyclegan-vid2vid",
            (151, 153),
            "BicycleGAN: add noise input. Vid2vid: video translation.",
            "BicycleGAN feeds a latent code to obtain several outputs per input (kept informative "
            "by latent regression); vid2vid translates videos frame-consistently.",
            "Zhu et al. 2017 (BicycleGAN); Wang et al. 2018 (vid2vid)",
        ),
    ]
    for claim_id, lines, words, explanation, source in three_d:
        claims.append(
            Claim(
                id=claim_id,
                topic="gan",
                section="5.1" if lines[0] < 147 else "5.2",
                sheet_lines=lines,
                sheet=words,
                verdict="correct",
                explanation=explanation,
                source=source,
            )
        )
    claims.append(
        Claim(
            id="dstar-proof-measure",
            topic="gan",
            section="13",
            sheet_lines=(383, 383),
            sheet="int_x p_d log D(x) dx + p_m(x) log(1 - D(x)) dz",
            verdict="typo",
            explanation="After the change of variables x = G(z) both terms are integrals over x: "
            "int_x [p_d(x) log D(x) + p_m(x) log(1 - D(x))] dx. The line ends in dz (and the "
            "integral sign of the second term is merged into the first).",
            source="Goodfellow et al. 2014, Proposition 1 (proof)",
            correct="int_x p_d(x) log D(x) + p_m(x) log(1 - D(x)) dx",
        )
    )
    for claim in claims:
        register_claim(claim)


_register_claims()
