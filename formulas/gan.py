"""Generative adversarial networks (sheet section 5, and "Optimal discriminator" in section 13).

V(G, D) = E_{x~p_d} log D(x) + E_{x~p_m} log(1 - D(x)). Distributions over a finite support are
given as arrays of probabilities along the last axis; sums run over that axis.

Metadata at module level; sympy inside builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register

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


def _two_point_sampler(*symbols):
    """Probabilities in (0, 1) for 2-point distributions (a, 1 - a)."""

    def sample(rng):
        import sympy as sp

        return {s: sp.Rational(rng.randint(1, 99), 100) for s in symbols}

    return sample


# --------------------------------------------------------------------------------------------
# gan-value-function


def _value_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    p_d, p_m, D = (sp.Function(n) for n in ("p_d", "p_m", "D"))
    return sp.Eq(
        sp.Symbol("V(G, D)"),
        sp.Integral(p_d(x) * sp.log(D(x)) + p_m(x) * sp.log(1 - D(x)), (x, -sp.oo, sp.oo)),
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
    )
)

# --------------------------------------------------------------------------------------------
# gan-optimal-discriminator


def _dstar_symbols():
    import sympy as sp

    a, b = sp.symbols("a b", positive=True)
    y = sp.Symbol("y", positive=True)
    return sp, a, b, y


def _dstar_statement():
    import sympy as sp

    p_d, p_m = sp.symbols("p_d p_m", positive=True)
    return sp.Eq(sp.Symbol("D^*"), p_d / (p_d + p_m))


def _dstar_derivation() -> list[Step]:
    sp, a, b, y = _dstar_symbols()
    f = a * sp.log(y) + b * sp.log(1 - y)
    y_star = a / (a + b)

    def sample(rng):
        return {
            a: sp.Rational(rng.randint(1, 400), 100),
            b: sp.Rational(rng.randint(1, 400), 100),
            y: sp.Rational(rng.randint(1, 99), 100),
        }

    return [
        Step(
            "Pointwise: V = int_x [p_d(x) log D(x) + p_m(x) log(1 - D(x))] dx (the z-integral "
            "becomes an x-integral with x = G(z) ~ p_m), so D(x) maximises f(y) = a log y + "
            "b log(1 - y) with a = p_d(x), b = p_m(x) at every x",
            sp.diff(f, y),
            a / y - b / (1 - y),
            justification="derivative of f",
            assumptions="a, b > 0, 0 < y < 1",
            sampler=sample,
        ),
        Step(
            "the stationary point is y = a / (a + b)",
            sp.diff(f, y).subs(y, y_star),
            sp.Integer(0),
            assumptions="a, b > 0",
        ),
        Step(
            "second derivative f''(y) = -a/y^2 - b/(1-y)^2",
            sp.diff(f, y, 2),
            -a / y**2 - b / (1 - y) ** 2,
            assumptions="a, b > 0, 0 < y < 1",
            sampler=sample,
        ),
        Step(
            "f'' < 0 at y = a/(a+b): it is a maximum (f is concave on (0, 1))",
            sp.diff(f, y, 2).subs(y, y_star),
            sp.Integer(0),
            relation="<=",
            assumptions="a, b > 0",
            sampler=sample,
        ),
        Step(
            "closed form of the curvature at the maximum",
            sp.diff(f, y, 2).subs(y, y_star),
            -((a + b) ** 3) / (a * b),
            assumptions="a, b > 0",
        ),
        Step(
            "so D*(x) = p_d(x) / (p_d(x) + p_m(x)), and this y is in (0, 1)",
            y_star.subs({a: sp.Symbol("p_d", positive=True), b: sp.Symbol("p_m", positive=True)}),
            sp.Symbol("p_d", positive=True)
            / (sp.Symbol("p_d", positive=True) + sp.Symbol("p_m", positive=True)),
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
    )
)

# --------------------------------------------------------------------------------------------
# jsd


def _jsd_statement():
    import sympy as sp

    P, Q = sp.symbols("P Q")
    kl = sp.Function("D_KL")
    m = (P + Q) / 2
    return sp.Eq(sp.Function("D_JS")(P, Q), kl(P, m) / 2 + kl(Q, m) / 2)


def _two_point_kl(p, q):
    import sympy as sp

    return p * sp.log(p / q) + (1 - p) * sp.log((1 - p) / (1 - q))


def _jsd_derivation() -> list[Step]:
    import sympy as sp

    a, b = sp.symbols("a b", positive=True)
    m = (a + b) / 2
    jsd = _two_point_kl(a, m) / 2 + _two_point_kl(b, m) / 2
    jsd_swapped = _two_point_kl(b, m) / 2 + _two_point_kl(a, m) / 2
    sample = _two_point_sampler(a, b)
    return [
        Step(
            "symmetric: D_JS(p||q) = D_JS(q||p) (two-point support p = (a, 1-a), q = (b, 1-b))",
            jsd,
            jsd_swapped,
            sampler=sample,
            assumptions="0 < a, b < 1",
        ),
        Step(
            "non-negative (each KL >= 0)",
            sp.Integer(0),
            jsd,
            relation="<=",
            sampler=sample,
            assumptions="0 < a, b < 1",
        ),
        Step(
            "bounded by log 2",
            jsd,
            sp.log(2),
            relation="<=",
            sampler=sample,
            assumptions="0 < a, b < 1",
        ),
        Step(
            "zero when p = q",
            jsd.subs(b, a),
            sp.Integer(0),
            assumptions="0 < a < 1",
        ),
    ]


def jsd(p, q):
    """D_JS(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q)/2, over the last axis."""
    import numpy as np

    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = (p + q) / 2
    return as_float64(0.5 * _kl_finite(p, m) + 0.5 * _kl_finite(q, m))


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
        derivation_builder=_jsd_derivation,
        evaluator=jsd,
    )
)

# --------------------------------------------------------------------------------------------
# gan-value-at-optimum: V(G, D*) = -log 4 + 2 JSD(p_d || p_m)


def _value_at_optimum_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("V(G, D^*)"),
        -sp.log(4) + 2 * sp.Function("D_JS")(sp.Symbol("p_d"), sp.Symbol("p_m")),
    )


def _random_distribution(rng, size):
    import sympy as sp

    weights = [sp.Integer(rng.randint(1, 50)) for _ in range(size)]
    total = sum(weights)
    return [w / total for w in weights]


def _value_at_optimum_derivation() -> list[Step]:
    import sympy as sp

    p, q = sp.symbols("p q", positive=True)
    m = (p + q) / 2
    d_star = p / (p + q)
    pointwise_v = p * sp.log(d_star) + q * sp.log(1 - d_star)
    pointwise_split = -(p + q) * sp.log(2) + p * sp.log(p / m) + q * sp.log(q / m)

    def summed_over_support() -> StepResult:
        import random

        rng = random.Random(1)
        worst = sp.Integer(0)
        for size in (2, 3, 5):
            for _ in range(3):
                pd, pm = _random_distribution(rng, size), _random_distribution(rng, size)
                v = sum(pointwise_v.subs({p: a, q: b}) for a, b in zip(pd, pm))
                kl_pm = sum(a * sp.log(a / ((a + b) / 2)) for a, b in zip(pd, pm))
                kl_qm = sum(b * sp.log(b / ((a + b) / 2)) for a, b in zip(pd, pm))
                rhs = -sp.log(4) + 2 * (kl_pm / 2 + kl_qm / 2)
                worst = max(worst, abs(sp.N(v - rhs, 50)))
        passed = bool(worst < sp.Float(1e-40))
        return StepResult(passed, "numeric", f"9 random distributions at 50 digits, gap {worst}")

    return [
        Step(
            "insert D* into V pointwise: D* = p/(p+q), 1 - D* = q/(p+q)",
            pointwise_v,
            p * sp.log(p / (p + q)) + q * sp.log(q / (p + q)),
            assumptions="p = p_d(x) > 0, q = p_m(x) > 0",
        ),
        Step(
            "multiply and divide by 2 inside each log: m = (p+q)/2",
            pointwise_v,
            pointwise_split,
            justification="log(p/(p+q)) = log(p/m) - log 2",
            assumptions="p, q > 0",
        ),
        Step(
            "sum (integrate) over x: sum (p+q) = 2 gives -2 log 2 = -log 4, and the rest is "
            "KL(p_d||m) + KL(p_m||m) = 2 D_JS(p_d||p_m)",
            custom=summed_over_support,
            method="custom",
        ),
        Step(
            "the minimum over G is at p_m = p_d (JSD = 0 iff equal), value -log 4",
            pointwise_split.subs(q, p),
            -2 * p * sp.log(2),
            justification="then D* = 1/2 everywhere; summing 2p log(1/2) over x gives -log 4",
            assumptions="p > 0",
        ),
    ]


def gan_value_at_optimum(p_data, p_model):
    """V(G, D*) for finite-support distributions (= -log 4 + 2 JSD(p_data || p_model))."""
    import numpy as np

    p_data = np.asarray(p_data, dtype=np.float64)
    p_model = np.asarray(p_model, dtype=np.float64)
    total = p_data + p_model
    with np.errstate(divide="ignore", invalid="ignore"):
        d_star = np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)
    return as_float64((_xlogy(p_data, d_star) + _xlogy(p_model, 1.0 - d_star)).sum(axis=-1))


def _value_at_optimum_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(0)
    p_data = rng.dirichlet(np.ones(6))
    p_model = rng.dirichlet(np.ones(6))
    # independent reference: maximise V(G, D) over D by brute force on a grid per support point
    grid = np.linspace(1e-6, 1 - 1e-6, 200001)
    brute = sum(np.max(a * np.log(grid) + b * np.log(1 - grid)) for a, b in zip(p_data, p_model))
    sheet = -np.log(4.0)
    correct = -np.log(4.0) + 2 * float(jsd(p_data, p_model))
    sheet_gap, correct_gap = abs(sheet - brute), abs(correct - brute)
    return Evidence(
        sheet_fails=bool(sheet_gap > 1e-3),
        correct_passes=bool(correct_gap < 1e-6),
        detail=f"p_d != p_m on 6 points: sup_D V by grid search = {brute:.6f}; sheet -log 4 = "
        f"{sheet:.6f} (gap {sheet_gap:.2e}); -log 4 + 2 JSD = {correct:.6f} "
        f"(gap {correct_gap:.1e})",
    )


register(
    Formula(
        id="gan-value-at-optimum",
        title="Value of the GAN game at the optimal discriminator",
        topic="gan",
        section="5, 13",
        text="V(G, D*) = -log 4 + 2 D_JS(p_d || p_m); the global minimum over G is -log 4, "
        "reached iff p_m = p_d (then D* = 1/2).",
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
        erratum=Erratum(
            sheet=r"V(G, D^*) = -\log(4)",
            correct=r"V(G, D^*) = -\log 4 + 2\, D_{JS}(p_d \| p_m)",
            explanation="The sheet states V(G, D*) = -log 4 without its condition: that is the "
            "value only at the global minimum p_m = p_d. For any other generator V(G, D*) is "
            "larger by 2 JSD(p_d || p_m).",
            evidence=_value_at_optimum_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# gan-convexity: V(p_m, D*) = sup_D int p_d log D + p_m log(1 - D), convex in p_m


def _convexity_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    p_d, p_m, D = (sp.Function(n) for n in ("p_d", "p_m", "D"))
    return sp.Eq(
        sp.Symbol("V(p_m, D^*)"),
        sp.Symbol("sup_D")
        * sp.Integral(p_d(x) * sp.log(D(x)) + p_m(x) * sp.log(1 - D(x)), (x, -sp.oo, sp.oo)),
    )


def _two_point_v_star(a, b):
    """V(p_m, D*) for p_d = (a, 1-a), p_m = (b, 1-b)."""
    import sympy as sp

    return (
        a * sp.log(a / (a + b))
        + b * sp.log(b / (a + b))
        + (1 - a) * sp.log((1 - a) / (2 - a - b))
        + (1 - b) * sp.log((1 - b) / (2 - a - b))
    )


def _convexity_derivation() -> list[Step]:
    import sympy as sp

    a, b1, b2, lam = sp.symbols("a b_1 b_2 lambda", positive=True)
    sample = _two_point_sampler(a, b1, b2, lam)
    mixed = _two_point_v_star(a, lam * b1 + (1 - lam) * b2)
    chord = lam * _two_point_v_star(a, b1) + (1 - lam) * _two_point_v_star(a, b2)
    return [
        Step(
            "for each fixed D, int p_m log(1 - D) is linear in p_m; a supremum of linear "
            "functions is convex: V(lambda p1 + (1-lambda) p2, D*) <= lambda V(p1, D*) + "
            "(1-lambda) V(p2, D*) (checked on a two-point support, p_d = (a, 1-a))",
            mixed,
            chord,
            relation="<=",
            sampler=sample,
            assumptions="0 < a, b_1, b_2, lambda < 1",
        ),
        Step(
            "its minimum over p_m is at p_m = p_d: the derivative in b vanishes at b = a",
            sp.diff(_two_point_v_star(a, b1), b1).subs(b1, a),
            sp.Integer(0),
            assumptions="0 < a < 1",
        ),
    ]


def _convexity_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(1)
    p_data, p_model = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    D = np.linspace(1e-4, 1 - 1e-4, 20001)
    with np.errstate(invalid="ignore"):
        sheet_term = np.log(-D)  # log of a negative number: undefined for every D in (0, 1)
    sheet_defined = bool(np.isfinite(sheet_term).any())
    # correct: sup_D of p_d log D + p_m log(1 - D) per point, by grid search, against D*
    brute = sum(np.max(a * np.log(D) + b * np.log(1 - D)) for a, b in zip(p_data, p_model))
    closed = float(gan_value_at_optimum(p_data, p_model))
    gap = abs(brute - closed)
    return Evidence(
        sheet_fails=not sheet_defined,
        correct_passes=bool(gap < 1e-6),
        detail=f"log(-D) is undefined (nan) for all D in (0,1): finite anywhere = "
        f"{sheet_defined}; with log(1 - D) the grid supremum {brute:.6f} matches V(G, D*) "
        f"{closed:.6f} (gap {gap:.1e})",
    )


register(
    Formula(
        id="gan-convexity",
        title="V(p_m, D*) is convex in p_m (why p_m -> p_d)",
        topic="gan",
        section="5",
        text="If D reaches D* at each step, V(p_m, D*) = sup_D int p_d log D + p_m log(1 - D) "
        "is a supremum of functions linear in p_m, hence convex, so gradient steps on p_m "
        "converge to p_d. The assumptions (enough capacity, D* reached) are too strong in "
        "practice.",
        keywords=("convexity", "convergence", "supremum", "sup", "gan", "training"),
        statement_builder=_convexity_statement,
        derivation_builder=_convexity_derivation,
        erratum=Erratum(
            sheet=r"V(p_m, D^*) \propto \sup_D \int_x p_m(x) \log(-D(x))\, dx",
            correct=r"V(p_m, D^*) = \sup_D \int_x p_d(x) \log D(x) + p_m(x) \log(1 - D(x))\, dx",
            explanation="The generator's term is log(1 - D(x)), not log(-D(x)) (undefined for "
            "D in [0, 1]); the p_m-dependent part is sup_D int p_m log(1 - D).",
            evidence=_convexity_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# saturating vs non-saturating generator loss (gradient w.r.t. the discriminator's logit)


def _saturating_statement():
    import sympy as sp

    ell = sp.Symbol("ell", real=True)
    sigma = 1 / (1 + sp.exp(-ell))
    return sp.Eq(sp.Derivative(sp.log(1 - sigma), ell), -sigma)


def _saturating_derivation() -> list[Step]:
    import sympy as sp

    ell = sp.Symbol("ell", real=True)
    sigma = 1 / (1 + sp.exp(-ell))
    return [
        Step(
            "D(G(z)) = sigmoid(ell); d/d ell log(1 - sigmoid(ell)) = -sigmoid(ell)",
            sp.diff(sp.log(1 - sigma), ell),
            -sigma,
            assumptions="ell real",
        ),
        Step(
            "when D rejects the fakes confidently (ell -> -oo, D(G(z)) -> 0) it vanishes",
            sp.limit(-sigma, ell, -sp.oo),
            sp.Integer(0),
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
    )
)


def _non_saturating_statement():
    import sympy as sp

    ell = sp.Symbol("ell", real=True)
    sigma = 1 / (1 + sp.exp(-ell))
    return sp.Eq(sp.Derivative(sp.log(sigma), ell), 1 - sigma)


def _non_saturating_derivation() -> list[Step]:
    import sympy as sp

    ell = sp.Symbol("ell", real=True)
    sigma = 1 / (1 + sp.exp(-ell))
    return [
        Step(
            "gradient ascent on log D(G(z)) instead: d/d ell log sigmoid(ell) = 1 - sigmoid(ell)",
            sp.diff(sp.log(sigma), ell),
            1 - sigma,
            assumptions="ell real",
        ),
        Step(
            "it tends to 1 (not 0) when D(G(z)) -> 0: strong gradients early in training",
            sp.limit(1 - sigma, ell, -sp.oo),
            sp.Integer(1),
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
    )
)

# --------------------------------------------------------------------------------------------
# fid


def _fid_statement():
    import sympy as sp

    mu1, mu2, S1, S2 = sp.symbols("mu_1 mu_2 Sigma_1 Sigma_2")
    return sp.Eq(
        sp.Symbol("FID"),
        sp.Symbol("||mu_1 - mu_2||^2") + sp.Function("Tr")(S1 + S2 - 2 * sp.sqrt(S1 * S2)),
    )


def _fid_derivation() -> list[Step]:
    import sympy as sp

    m1, m2 = sp.symbols("m_1 m_2", real=True)
    s1, s2 = sp.symbols("s_1 s_2", positive=True)
    return [
        Step(
            "in one dimension FID is the squared 2-Wasserstein distance of the Gaussians: "
            "(m1 - m2)^2 + (s1 - s2)^2",
            (m1 - m2) ** 2 + s1**2 + s2**2 - 2 * sp.sqrt(s1**2 * s2**2),
            (m1 - m2) ** 2 + (s1 - s2) ** 2,
            assumptions="s_1, s_2 > 0 (standard deviations)",
        ),
    ]


def fid(mu1, sigma1, mu2, sigma2):
    """Frechet distance ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}) of two Gaussians."""
    import numpy as np
    from scipy import linalg

    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    sigma1, sigma2 = np.asarray(sigma1, dtype=np.float64), np.asarray(sigma2, dtype=np.float64)
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    covmean = np.real(covmean)  # tiny imaginary parts are round-off
    diff = mu1 - mu2
    return as_float64(diff @ diff + np.trace(sigma1 + sigma2 - 2 * covmean))


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
        derivation_builder=_fid_derivation,
        evaluator=fid,
    )
)

# --------------------------------------------------------------------------------------------
# image translation objectives (statements)


def _pix2pix_statement():
    import sympy as sp

    lam = sp.Symbol("lambda", positive=True)
    return sp.Eq(
        sp.Symbol("G^*"),
        sp.Symbol("argmin_G max_D")
        * (sp.Symbol("L_cGAN(G, D)") + lam * sp.Symbol("E||y - G(x)||_1")),
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
    )
)


def _cycle_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("L_cyc(F, G)"),
        sp.Symbol("E_x||G(F(x)) - x||_1") + sp.Symbol("E_y||F(G(y)) - y||_1"),
    )


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
    )
)

# --------------------------------------------------------------------------------------------
# Wasserstein GAN with gradient penalty (statement and the 1-Lipschitz gradient norm)


def _wgan_statement():
    import sympy as sp

    lam = sp.Symbol("lambda", positive=True)
    return sp.Eq(
        sp.Symbol("L_D"),
        sp.Symbol("E_{p_m} D(x_hat)")
        - sp.Symbol("E_{p_d} D(x)")
        + lam * sp.Symbol("E_{x_tilde} (||grad D(x_tilde)||_2 - 1)^2"),
    )


def _wgan_derivation() -> list[Step]:
    import sympy as sp

    x, w, b = sp.symbols("x w b", real=True)
    critic = w * x + b
    return [
        Step(
            "the penalty is zero exactly for a critic with unit gradient norm (1-Lipschitz "
            "boundary), e.g. D(x) = w x + b with |w| = 1",
            (sp.Abs(sp.diff(critic, x)) - 1) ** 2,
            (sp.Abs(w) - 1) ** 2,
        ),
        Step(
            "unlike log(1 - D), the critic's loss is linear in D: its gradient does not vanish "
            "when D separates the distributions",
            sp.diff(-critic, b),
            sp.Integer(-1),
        ),
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
        derivation_builder=_wgan_derivation,
    )
)

# --------------------------------------------------------------------------------------------
# StyleGAN: adaptive instance normalisation from the intermediate latent w


def _adain_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("AdaIN(x_i, y)"),
        sp.Symbol("y_{s,i}") * (sp.Symbol("x_i") - sp.Symbol("mu(x_i)")) / sp.Symbol("sigma(x_i)")
        + sp.Symbol("y_{b,i}"),
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
        "layer normalises its features with scale and mean from w (AdaIN) and adds noise. "
        "DCGAN: strided convolutions instead of pooling, batch-norm, no FC, ReLU in G, "
        "LeakyReLU in D. Hierarchical GANs grow from low to high resolution.",
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
    )
)

# --------------------------------------------------------------------------------------------
# GAN inversion (statement)


def _inversion_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("z^*"), sp.Symbol("argmin_z ||G(z) - x||^2"))


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
    )
)
