"""Diffusion models: DDPM (sheet section 6), guidance (6.1), latent diffusion (6.2).

Notation as on the sheet: betas holds beta_1..beta_T, t is 1-indexed, alpha_t = 1 - beta_t,
alpha_bar_t = prod_{i<=t} alpha_i, and alpha_bar_0 = 1 by convention (so q(x_0 | x_0) is a point
mass and the posterior at t = 1 has variance 0 and mean x_0).

One source: each closed form (posterior mean and variance, the epsilon-form mean, the forward
sample, the loss weight, the guided prediction) is written once below as a function of its
ingredients and a `sqrt`; the sympy statement (sp.sqrt on symbols), the numeric evaluator
(np.sqrt on arrays) and the proofs all call it. Derivations that need alpha_bar_t =
alpha_t alpha_bar_{t-1} or beta_t = 1 - alpha_t declare them as identities.

Metadata at module level; sympy inside builders; numpy inside evaluators.
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
# the closed forms, written once (sympy or numpy: pass the matching sqrt)


def forward_marginal_moments(x0, alpha_bar, sqrt):
    """Mean and variance of q(x_t | x_0): sqrt(alpha_bar_t) x_0 and 1 - alpha_bar_t."""
    return sqrt(alpha_bar) * x0, 1 - alpha_bar


def forward_sample(x0, eps, alpha_bar, sqrt):
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (a sample of q(x_t | x_0))."""
    mean, variance = forward_marginal_moments(x0, alpha_bar, sqrt)
    return mean + sqrt(variance) * eps


def posterior_mean(x0, xt, beta, alpha, alpha_bar, alpha_bar_prev, sqrt):
    """mu_tilde_t = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x_0
    + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t."""
    return (
        sqrt(alpha_bar_prev) * beta / (1 - alpha_bar) * x0
        + sqrt(alpha) * (1 - alpha_bar_prev) / (1 - alpha_bar) * xt
    )


def posterior_variance(beta, alpha_bar, alpha_bar_prev):
    """beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t."""
    return (1 - alpha_bar_prev) / (1 - alpha_bar) * beta


def epsilon_mean(xt, eps, beta, alpha, alpha_bar, sqrt):
    """mu = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t): mu_tilde_t with the true
    noise, mu_theta with the network's eps_theta."""
    return (xt - beta / sqrt(1 - alpha_bar) * eps) / sqrt(alpha)


def loss_weight(beta, alpha, alpha_bar, sigma2):
    """lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t))."""
    return beta**2 / (2 * sigma2 * alpha * (1 - alpha_bar))


def guided_prediction(eps_cond, eps_uncond, rho):
    """eps_tilde = (1 + rho) eps(x, c; t) - rho eps(x; t)."""
    return (1 + rho) * eps_cond - rho * eps_uncond


# --------------------------------------------------------------------------------------------
# numeric helpers


def _schedule(betas, t):
    """beta_t, alpha_t, alpha_bar_t, alpha_bar_{t-1} for a 1-indexed t (int or int array)."""
    import numpy as np

    betas = np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1:
        raise ValueError("betas must be a 1-D array beta_1..beta_T")
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer):
        if not np.all(np.equal(np.mod(t, 1), 0)):
            raise ValueError("t must be an integer step 1..T")
        t = t.astype(np.int64)
    if np.any(t < 1) or np.any(t > betas.shape[0]):
        raise ValueError(f"t must lie in 1..T = 1..{betas.shape[0]} (1-indexed, as on the sheet)")
    alpha_bar = np.concatenate([[1.0], np.cumprod(1.0 - betas)])  # alpha_bar[0] = 1
    beta_t = betas[t - 1]
    return beta_t, 1.0 - beta_t, alpha_bar[t], alpha_bar[t - 1]


def _bayes_posterior_moments(beta_t, alpha_bar_prev, x0, xt, points=400001):
    """Mean and variance of q(x_{t-1} | x_t, x_0) by Bayes' rule on a grid (reference only)."""
    import numpy as np

    alpha_t = 1.0 - beta_t
    m1, v1 = xt / np.sqrt(alpha_t), beta_t / alpha_t  # q(x_t | x) as a function of x
    m2, v2 = np.sqrt(alpha_bar_prev) * x0, 1.0 - alpha_bar_prev  # q(x | x_0)
    spread = 12 * np.sqrt(max(v1, v2))
    grid = np.linspace(min(m1, m2) - spread, max(m1, m2) + spread, points)
    log_w = -((xt - np.sqrt(alpha_t) * grid) ** 2) / (2 * beta_t) - (grid - m2) ** 2 / (2 * v2)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    mean = float((w * grid).sum())
    return mean, float((w * (grid - mean) ** 2).sum())


def _unit_sampler(*symbols):
    """Rationals in (0, 1) for schedule quantities (alpha_t, alpha_bar_{t-1})."""

    def sample(rng):
        import sympy as sp

        return {s: sp.Rational(rng.randint(1, 99), 100) for s in symbols}

    return sample


class _Symbols:
    """The canonical sympy symbols of this module (one object per name and assumptions)."""

    def __init__(self):
        import sympy as sp

        self.sp = sp
        self.alpha = sp.Symbol("alpha_t", positive=True)
        self.beta = sp.Symbol("beta_t", positive=True)
        self.abar = sp.Symbol("alphabar_t", positive=True)
        self.abar_prev = sp.Symbol("alphabar_{t-1}", positive=True)
        self.x0, self.xt, self.x_prev = sp.symbols("x_0 x_t x_{t-1}", real=True)
        self.eps = sp.Symbol("epsilon", real=True)
        self.sigma = sp.Symbol("sigma_t", positive=True)
        self.z = sp.Symbol("z", real=True)
        self.t = sp.Symbol("t", positive=True, integer=True)
        self.identity = sp.Symbol("I")
        self.normal = sp.Function("N")
        self.eps_theta = sp.Function("epsilon_theta")
        # alpha_bar_t = alpha_t alpha_bar_{t-1} and beta_t = 1 - alpha_t (sheet section 6)
        self.identities = {self.abar: self.alpha * self.abar_prev, self.beta: 1 - self.alpha}


def _symbols() -> _Symbols:
    return _Symbols()


def _normal_pdf(x, mean, variance):
    import mpmath

    return mpmath.exp(-((x - mean) ** 2) / (2 * variance)) / mpmath.sqrt(2 * mpmath.pi * variance)


def _random_schedule_points(seed, count):
    """(alpha_t, alpha_bar_{t-1}, x_0, x_t) drawn inside the domain 0 < alpha, abar < 1."""
    import random

    import mpmath

    rng = random.Random(seed)
    return [
        (
            mpmath.mpf(rng.uniform(0.05, 0.95)),
            mpmath.mpf(rng.uniform(0.05, 0.95)),
            mpmath.mpf(rng.uniform(-2, 2)),
            mpmath.mpf(rng.uniform(-2, 2)),
        )
        for _ in range(count)
    ]


# --------------------------------------------------------------------------------------------
# ddpm-linear-schedule, ddpm-alpha-bar, ddpm-forward-step: definitions with property checks


def ddpm_linear_schedule(T, beta_start=1e-4, beta_end=0.02):
    """beta_1..beta_T linearly spaced (Ho et al. 2020: 1e-4 to 0.02, T = 1000)."""
    import numpy as np

    return as_float64(np.linspace(beta_start, beta_end, int(T)))


def _linear_schedule_parts():
    import sympy as sp

    t, T = sp.symbols("t T", positive=True, integer=True)
    b1, bT = sp.symbols("beta_1 beta_T", positive=True)
    return sp, t, T, b1, bT, b1 + (t - 1) * (bT - b1) / (T - 1)


def _linear_schedule_statement():
    sp, *_, beta_t = _linear_schedule_parts()
    return sp.Eq(sp.Symbol("beta_t"), beta_t)


def _linear_schedule_properties() -> list[Step]:
    sp, t, T, b1, bT, beta_t = _linear_schedule_parts()
    return [
        Step("it starts at beta_1", sp.Subs(beta_t, t, 1), b1),
        Step("it ends at beta_T", sp.Subs(beta_t, t, T), bT, assumptions="T >= 2"),
        Step(
            "each step adds the same amount (beta_T - beta_1)/(T - 1): monotone increasing when "
            "beta_T > beta_1, as the sheet says (monotone up)",
            sp.Subs(beta_t, t, t + 1) - beta_t,
            (bT - b1) / (T - 1),
        ),
    ]


register(
    Formula(
        id="ddpm-linear-schedule",
        title="Linear variance schedule beta_1..beta_T",
        topic="diffusion",
        section="6",
        text="beta_t is the variance schedule (monotone increasing); DDPM uses beta linear "
        "from 1e-4 to 0.02 over T = 1000 steps.",
        keywords=("variance schedule", "beta schedule", "linear schedule", "noise schedule"),
        statement_builder=_linear_schedule_statement,
        evaluator=ddpm_linear_schedule,
        definition=True,
        properties_builder=_linear_schedule_properties,
        sheet_lines=(165, 165),
    )
)


def _alpha_bar_parts():
    import sympy as sp

    t, i = sp.symbols("t i", positive=True, integer=True)
    beta = sp.IndexedBase("beta")
    return sp, t, i, beta


def _alpha_bar_statement():
    sp, t, i, beta = _alpha_bar_parts()
    return sp.Eq(sp.Symbol("alphabar_t"), sp.Product(1 - beta[i], (i, 1, t)))


def _alpha_bar_properties() -> list[Step]:
    sp, _, i, beta = _alpha_bar_parts()
    return [
        Step(
            "one more factor per step: alpha_bar_t = alpha_t alpha_bar_{t-1} (here t = 4)",
            sp.Product(1 - beta[i], (i, 1, 4)),
            (1 - beta[4]) * sp.Product(1 - beta[i], (i, 1, 3)),
        ),
        Step(
            "the empty product: alpha_bar_0 = 1 (the convention that makes the t = 1 posterior "
            "a point mass)",
            sp.Product(1 - beta[i], (i, 1, 0)),
            sp.Integer(1),
        ),
    ]


def ddpm_alpha_bar(betas, t):
    """alpha_bar_t = prod_{i<=t} (1 - beta_i); t = 0 gives 1."""
    import numpy as np

    betas = np.asarray(betas, dtype=np.float64)
    t = np.asarray(t).astype(np.int64)
    if np.any(t < 0) or np.any(t > betas.shape[0]):
        raise ValueError(f"t must lie in 0..T = 0..{betas.shape[0]}")
    alpha_bar = np.concatenate([[1.0], np.cumprod(1.0 - betas)])
    return as_float64(alpha_bar[t])


register(
    Formula(
        id="ddpm-alpha-bar",
        title="alpha_t = 1 - beta_t and alpha-bar_t = prod alpha_i",
        topic="diffusion",
        section="6",
        text="alpha_t := 1 - beta_t, alpha_bar_t := prod_{i=1}^t alpha_i; alpha_bar_0 = 1.",
        keywords=("alpha bar", "alphabar", "cumulative product", "signal", "schedule"),
        statement_builder=_alpha_bar_statement,
        evaluator=ddpm_alpha_bar,
        definition=True,
        properties_builder=_alpha_bar_properties,
        sheet_lines=(165, 165),
    )
)


def _forward_density(outcome: str, given: str):
    """q(x_t | x_{t-1}) or q(x_t | x_0): the forward process's density, a conditional."""
    import sympy as sp

    from formulas.notation import conditional

    return conditional("q")(*sp.symbols(f"{outcome} {given}", real=True))


def _forward_step_statement():
    s = _symbols()
    return s.sp.Eq(
        _forward_density("x_t", "x_{t-1}"),
        s.normal(s.sp.sqrt(1 - s.beta) * s.x_prev, s.beta * s.identity),
    )


def _forward_step_properties() -> list[Step]:
    s = _symbols()
    sp = s.sp
    noise = sp.Symbol("epsilon_t", real=True)
    density = sp.exp(-(noise**2) / 2) / sp.sqrt(2 * sp.pi)
    sample = sp.sqrt(1 - s.beta) * s.x_prev + sp.sqrt(s.beta) * noise
    return [
        Step(
            "the reparametrised sample x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps "
            "(eps ~ N(0, 1)) has mean sqrt(1 - beta_t) x_{t-1}",
            sp.Integral(sample * density, (noise, -sp.oo, sp.oo)),
            sp.sqrt(1 - s.beta) * s.x_prev,
        ),
        Step(
            "and variance beta_t",
            sp.Integral(
                (sample - sp.sqrt(1 - s.beta) * s.x_prev) ** 2 * density, (noise, -sp.oo, sp.oo)
            ),
            s.beta,
        ),
        Step(
            "variance preserving: a unit-variance x_{t-1} gives a unit-variance x_t",
            sp.Mul(sp.sqrt(1 - s.beta) ** 2, 1, evaluate=False) + s.beta,
            sp.Integer(1),
            assumptions="0 < beta_t < 1",
        ),
    ]


def ddpm_forward_step(betas, t, x_prev, eps):
    """x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps, a sample of q(x_t | x_{t-1})."""
    import numpy as np

    beta_t, _, _, _ = _schedule(betas, t)
    return as_float64(np.sqrt(1 - beta_t) * np.asarray(x_prev) + np.sqrt(beta_t) * np.asarray(eps))


register(
    Formula(
        id="ddpm-forward-step",
        title="Forward (diffusion) step q(x_t | x_{t-1})",
        topic="diffusion",
        section="6",
        text="q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I): adds noise, not learned.",
        keywords=("forward process", "noising", "diffusion step", "q"),
        statement_builder=_forward_step_statement,
        evaluator=ddpm_forward_step,
        definition=True,
        properties_builder=_forward_step_properties,
        sheet_lines=(161, 161),
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-forward-marginal (induction on t: integrate x_{t-1} out)


def _forward_marginal_statement():
    s = _symbols()
    mean, variance = forward_marginal_moments(s.x0, s.abar, s.sp.sqrt)
    return s.sp.Eq(_forward_density("x_t", "x_0"), s.normal(mean, variance * s.identity))


def _marginalise_by_quadrature() -> Comparison:
    """int q(x_t | x_{t-1}) q(x_{t-1} | x_0) dx_{t-1} against the Gaussian closed form."""
    import mpmath

    mpmath.mp.dps = 30
    left, right = [], []
    for alpha, abar_prev, x0, xt in _random_schedule_points(3, 5):
        integral = mpmath.quad(
            lambda x, alpha=alpha, abar_prev=abar_prev, x0=x0, xt=xt: (
                _normal_pdf(xt, mpmath.sqrt(alpha) * x, 1 - alpha)
                * _normal_pdf(x, mpmath.sqrt(abar_prev) * x0, 1 - abar_prev)
            ),
            [-mpmath.inf, 0, mpmath.inf],
        )
        closed = _normal_pdf(
            xt,
            mpmath.sqrt(alpha) * mpmath.sqrt(abar_prev) * x0,
            alpha * (1 - abar_prev) + 1 - alpha,
        )
        left.append(float(integral / closed))
        right.append(1.0)
    return Comparison(
        left,
        right,
        "ratio of int N(x_t; sqrt(a) x, 1-a) N(x; sqrt(ab') x_0, 1-ab') dx (mpmath.quad, 30 "
        "digits) to the Gaussian closed form at 5 random points",
    )


def _forward_marginal_derivation() -> Derivation:
    s = _symbols()
    sp = s.sp
    previous_mean, previous_variance = forward_marginal_moments(s.x0, s.abar_prev, sp.sqrt)
    composed = s.normal(
        sp.sqrt(s.alpha) * previous_mean,
        (s.alpha * previous_variance + (1 - s.alpha)) * s.identity,
    )
    statement = _forward_marginal_statement()
    return Derivation(
        steps=[
            Step(
                "induction hypothesis at t - 1: q(x_{t-1} | x_0) = N(sqrt(alpha_bar_{t-1}) x_0, "
                "(1 - alpha_bar_{t-1}) I); at t - 1 = 0 it is the point mass at x_0 "
                "(alpha_bar_0 = 1)",
                sp.Symbol("q(x_{t-1} | x_0)"),
                s.normal(previous_mean, previous_variance * s.identity),
                premise="assumption",
                name="hypothesis",
            ),
            Step(
                "one forward step: q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, (1 - alpha_t) I)",
                _forward_density("x_t", "x_{t-1}"),
                s.normal(sp.sqrt(s.alpha) * s.x_prev, (1 - s.alpha) * s.identity),
                premise="formula:ddpm-forward-step",
                name="step",
            ),
            Step(
                "integrate x_{t-1} out: a Gaussian pushed through a linear-Gaussian step is "
                "Gaussian, mean scaled by sqrt(alpha_t), variances added (alpha_t times the "
                "old one plus 1 - alpha_t)",
                _forward_density("x_t", "x_0"),
                composed,
                premise="lemma",
                name="marginalise",
                method="custom",
                custom=_marginalise_by_quadrature,
                tolerance=1e-20,
            ),
            Step(
                "so q(x_t | x_0) is that Gaussian",
                _forward_density("x_t", "x_0"),
                composed,
                uses=("hypothesis", "step", "marginalise"),
            ),
            Step(
                "alpha_t alpha_bar_{t-1} = alpha_bar_t: mean sqrt(alpha_bar_t) x_0, variance "
                "alpha_t - alpha_bar_t + 1 - alpha_t = 1 - alpha_bar_t",
                None,
                statement.rhs,
                justification="alpha_bar_t = alpha_t alpha_bar_{t-1}",
            ),
        ],
        identities=s.identities,
    )


def ddpm_forward_marginal(betas, t, x0, eps):
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, a sample of q(x_t | x_0)."""
    import numpy as np

    _, _, alpha_bar_t, _ = _schedule(betas, t)
    return as_float64(forward_sample(np.asarray(x0), np.asarray(eps), alpha_bar_t, np.sqrt))


register(
    Formula(
        id="ddpm-forward-marginal",
        title="Forward marginal q(x_t | x_0) in closed form",
        topic="diffusion",
        section="6",
        text="q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I), so x_t = "
        "sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) epsilon: jump to any t in one step.",
        keywords=(
            "forward marginal",
            "noising",
            "closed form",
            "reparametrisation",
            "x_t",
            "alpha bar",
            "q(x_t|x_0)",
        ),
        statement_builder=_forward_marginal_statement,
        derivation_builder=_forward_marginal_derivation,
        evaluator=ddpm_forward_marginal,
        sheet_lines=(165, 165),
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-posterior-mean and ddpm-posterior-variance (Bayes, then the moments of a Gaussian)


def _posterior_exponent(s: _Symbols):
    """E(x_{t-1}) = log q(x_t | x_{t-1}) + log q(x_{t-1} | x_0) up to terms free of x_{t-1}."""
    sp = s.sp
    return -((s.xt - sp.sqrt(s.alpha) * s.x_prev) ** 2) / (2 * (1 - s.alpha)) - (
        s.x_prev - sp.sqrt(s.abar_prev) * s.x0
    ) ** 2 / (2 * (1 - s.abar_prev))


def _posterior_moment_ratio(s: _Symbols, weight):
    """int weight(x) exp(E(x)) dx / int exp(E(x)) dx, unevaluated."""
    sp = s.sp
    density = sp.exp(_posterior_exponent(s))
    bounds = (s.x_prev, -sp.oo, sp.oo)
    return sp.Integral(weight * density, bounds) / sp.Integral(density, bounds)


def _gaussian_moment_lemma(which: str) -> Step:
    """For E(x) = -a x^2 / 2 + b x (a > 0): mean b / a, variance 1 / a, by integration."""
    import sympy as sp

    x = sp.Symbol("x", real=True)
    a = sp.Symbol("a", positive=True)
    b = sp.Symbol("b", real=True)
    density = sp.exp(-a * x**2 / 2 + b * x)
    total = sp.Integral(density, (x, -sp.oo, sp.oo))
    if which == "mean":
        return Step(
            "lemma: a density proportional to exp(-a x^2/2 + b x), a > 0, has mean b/a "
            "(= E'(0)/(-E''))",
            sp.Integral(x * density, (x, -sp.oo, sp.oo)) / total,
            b / a,
            premise="lemma",
            name="gaussian-mean",
        )
    return Step(
        "lemma: a density proportional to exp(-a x^2/2 + b x), a > 0, has variance 1/a "
        "(= 1/(-E''))",
        sp.Integral((x - b / a) ** 2 * density, (x, -sp.oo, sp.oo)) / total,
        1 / a,
        premise="lemma",
        name="gaussian-variance",
    )


def _bayes_premise(s: _Symbols, lhs, weight, what: str) -> Step:
    return Step(
        "Bayes with the Markov property: q(x_{t-1} | x_t, x_0) = q(x_t | x_{t-1}) "
        "q(x_{t-1} | x_0) / q(x_t | x_0), proportional to exp E(x_{t-1}) (the denominator is "
        f"free of x_{{t-1}}); {what}",
        lhs,
        _posterior_moment_ratio(s, weight),
        premise="definition",
        name="bayes",
    )


def _stationary_point(s: _Symbols):
    """E'(0) / (-E''): the root of E', written with unevaluated derivatives."""
    sp = s.sp
    exponent = _posterior_exponent(s)
    return sp.Subs(sp.Derivative(exponent, s.x_prev), s.x_prev, 0) / (
        -sp.Derivative(exponent, (s.x_prev, 2))
    )


def _moments_by_quadrature(which: str):
    """The posterior moment by mpmath quadrature of exp(E) against E'(0)/(-E'') or 1/(-E'')."""

    def check() -> Comparison:
        import mpmath

        mpmath.mp.dps = 30
        left, right = [], []
        for alpha, abar_prev, x0, xt in _random_schedule_points(7, 5):

            def exponent(x, alpha=alpha, abar_prev=abar_prev, x0=x0, xt=xt):
                return -((xt - mpmath.sqrt(alpha) * x) ** 2) / (2 * (1 - alpha)) - (
                    x - mpmath.sqrt(abar_prev) * x0
                ) ** 2 / (2 * (1 - abar_prev))

            curvature = alpha / (1 - alpha) + 1 / (1 - abar_prev)  # -E''
            slope = xt * mpmath.sqrt(alpha) / (1 - alpha) + mpmath.sqrt(abar_prev) * x0 / (
                1 - abar_prev
            )  # E'(0)
            centre = slope / curvature
            shift = exponent(centre)  # keep exp(E) near 1 at its peak

            def moment(k, exponent=exponent, centre=centre, shift=shift):
                return mpmath.quad(
                    lambda x: (
                        (x - (centre if which == "variance" else 0)) ** k
                        * mpmath.exp(exponent(x) - shift)
                    ),
                    [-mpmath.inf, centre, mpmath.inf],
                )

            power = 1 if which == "mean" else 2
            left.append(float(moment(power) / moment(0)))
            right.append(float(centre if which == "mean" else 1 / curvature))
        return Comparison(
            left,
            right,
            f"posterior {which} by mpmath.quad of exp(E) at 5 random (alpha_t, "
            f"alpha_bar_{{t-1}}, x_0, x_t) against the lemma's closed form",
        )

    return check


def _posterior_mean_statement():
    s = _symbols()
    return s.sp.Eq(
        s.sp.Symbol("mu_tilde_t"),
        posterior_mean(s.x0, s.xt, s.beta, s.alpha, s.abar, s.abar_prev, s.sp.sqrt),
    )


def _posterior_variance_statement():
    s = _symbols()
    return s.sp.Eq(s.sp.Symbol("beta_tilde_t"), posterior_variance(s.beta, s.abar, s.abar_prev))


def _posterior_mean_derivation() -> Derivation:
    s = _symbols()
    mu = s.sp.Symbol("mu_tilde_t")
    return Derivation(
        steps=[
            _bayes_premise(s, mu, s.x_prev, "mu_tilde_t is its mean"),
            _gaussian_moment_lemma("mean"),
            Step(
                "mu_tilde_t, the posterior mean, is E'(0)/(-E''): E is quadratic in x_{t-1} with "
                "E'' = -(alpha_t/beta_t + 1/(1 - alpha_bar_{t-1})) < 0, so the lemma applies "
                "with a = -E'', b = E'(0) (complete the square)",
                mu,
                _stationary_point(s),
                uses=("bayes", "gaussian-mean"),
                method="custom",
                custom=_moments_by_quadrature("mean"),
                tolerance=1e-12,
            ),
            Step(
                "differentiate and simplify with beta_t = 1 - alpha_t, alpha_bar_t = alpha_t "
                "alpha_bar_{t-1}",
                None,
                _posterior_mean_statement().rhs,
                assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} < 1",
                sampler=_unit_sampler(s.alpha, s.abar_prev),
            ),
        ],
        identities=s.identities,
    )


def _posterior_variance_derivation() -> Derivation:
    s = _symbols()
    sp = s.sp
    variance = sp.Symbol("beta_tilde_t")
    exponent = _posterior_exponent(s)
    return Derivation(
        steps=[
            _bayes_premise(
                s, variance, (s.x_prev - _stationary_point(s)) ** 2, "beta_tilde_t is its variance"
            ),
            _gaussian_moment_lemma("variance"),
            Step(
                "beta_tilde_t, the posterior variance, is 1/(-E''): E is quadratic in x_{t-1}, "
                "so the lemma applies with a = -E''",
                variance,
                1 / (-sp.Derivative(exponent, (s.x_prev, 2))),
                uses=("bayes", "gaussian-variance"),
                method="custom",
                custom=_moments_by_quadrature("variance"),
                tolerance=1e-12,
            ),
            Step(
                "1/(alpha_t/beta_t + 1/(1 - alpha_bar_{t-1})) = (1 - alpha_bar_{t-1})/(1 - "
                "alpha_bar_t) beta_t, with alpha_bar_t = alpha_t alpha_bar_{t-1}",
                None,
                _posterior_variance_statement().rhs,
                assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} < 1",
                sampler=_unit_sampler(s.alpha, s.abar_prev),
            ),
        ],
        identities=s.identities,
    )


def ddpm_posterior_mean(betas, t, x0, xt):
    """mu_tilde_t = sqrt(abar_{t-1}) beta_t/(1-abar_t) x_0
    + sqrt(alpha_t) (1-abar_{t-1})/(1-abar_t) x_t."""
    import numpy as np

    beta_t, alpha_t, alpha_bar_t, alpha_bar_prev = _schedule(betas, t)
    x0 = np.asarray(x0, dtype=np.float64)
    xt = np.asarray(xt, dtype=np.float64)
    return as_float64(posterior_mean(x0, xt, beta_t, alpha_t, alpha_bar_t, alpha_bar_prev, np.sqrt))


def ddpm_posterior_variance(betas, t):
    """beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t; 0 at t = 1 (abar_0 = 1)."""
    beta_t, _, alpha_bar_t, alpha_bar_prev = _schedule(betas, t)
    return as_float64(posterior_variance(beta_t, alpha_bar_t, alpha_bar_prev))


register(
    Formula(
        id="ddpm-posterior-mean",
        title="Mean of the forward posterior q(x_{t-1} | x_t, x_0)",
        topic="diffusion",
        section="6",
        text="Conditioning on x_0 the reverse step is Gaussian: q(x_{t-1}|x_t,x_0) = "
        "N(mu_tilde_t, beta_tilde_t I), mu_tilde_t = sqrt(alpha_bar_{t-1}) beta_t/(1 - "
        "alpha_bar_t) x_0 + sqrt(alpha_t)(1 - alpha_bar_{t-1})/(1 - alpha_bar_t) x_t. "
        "t is 1-indexed; at t = 1 (alpha_bar_0 = 1) the mean is x_0.",
        keywords=(
            "posterior mean",
            "mu tilde",
            "reverse",
            "denoising",
            "complete the square",
            "bayes",
            "mu_q",
            "q(x_{t-1}|x_t,x_0)",
        ),
        statement_builder=_posterior_mean_statement,
        derivation_builder=_posterior_mean_derivation,
        evaluator=ddpm_posterior_mean,
        sheet_lines=(167, 167),
    )
)

register(
    Formula(
        id="ddpm-posterior-variance",
        title="Variance of the forward posterior q(x_{t-1} | x_t, x_0)",
        topic="diffusion",
        section="6",
        text="beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * beta_t. Convention "
        "alpha_bar_0 = 1, so beta_tilde_1 = 0 (q(x_0 | x_1, x_0) is a point mass at x_0). "
        "In practice sigma_t^2 = beta_t or beta_tilde_t for the reverse step.",
        keywords=(
            "posterior variance",
            "beta tilde",
            "reverse variance",
            "sigma_t",
            "complete the square",
            "bayes",
        ),
        statement_builder=_posterior_variance_statement,
        derivation_builder=_posterior_variance_derivation,
        evaluator=ddpm_posterior_variance,
        sheet_lines=(167, 167),
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-epsilon-mean (erratum: dropped bar)


def _epsilon_mean_statement():
    s = _symbols()
    return s.sp.Eq(
        s.sp.Symbol("mu_tilde_t"), epsilon_mean(s.xt, s.eps, s.beta, s.alpha, s.abar, s.sp.sqrt)
    )


def _x0_from_noise(s: _Symbols):
    """x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t): the forward sample inverted."""
    return (s.xt - s.sp.sqrt(1 - s.abar) * s.eps) / s.sp.sqrt(s.abar)


def _epsilon_mean_derivation() -> Derivation:
    s = _symbols()
    sp = s.sp
    mean = posterior_mean(s.x0, s.xt, s.beta, s.alpha, s.abar, s.abar_prev, sp.sqrt)
    return Derivation(
        steps=[
            Step(
                "the posterior mean in x_0 and x_t",
                sp.Symbol("mu_tilde_t"),
                mean,
                premise="formula:ddpm-posterior-mean",
                name="posterior-mean",
            ),
            Step(
                "invert the forward sample x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) "
                "eps for x_0",
                s.x0,
                _x0_from_noise(s),
                premise="formula:ddpm-forward-marginal",
                name="x0",
            ),
            Step(
                "start from the posterior mean",
                sp.Symbol("mu_tilde_t"),
                mean,
                uses=("posterior-mean",),
            ),
            Step(
                "substitute x_0: the x_t terms collect to x_t/sqrt(alpha_t) and the noise "
                "coefficient is beta_t/(sqrt(1 - alpha_bar_t) sqrt(alpha_t))",
                None,
                _epsilon_mean_statement().rhs,
                uses=("x0",),
                assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} < 1",
                sampler=_unit_sampler(s.alpha, s.abar_prev),
            ),
        ],
        identities=s.identities,
    )


def ddpm_epsilon_mean(betas, t, xt, eps):
    """mu = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) (mu_tilde with eps, mu_theta
    with eps_theta)."""
    import numpy as np

    beta_t, alpha_t, alpha_bar_t, _ = _schedule(betas, t)
    return as_float64(
        epsilon_mean(np.asarray(xt), np.asarray(eps), beta_t, alpha_t, alpha_bar_t, np.sqrt)
    )


def _test_point():
    """A late step of the standard schedule, where alpha_t and alpha_bar_t differ a lot."""
    import numpy as np

    betas = np.linspace(1e-4, 0.02, 1000)
    t = 300
    beta_t, alpha_t, alpha_bar_t, alpha_bar_prev = _schedule(betas, t)
    x0, eps = 0.7, -1.3
    xt = float(forward_sample(x0, eps, alpha_bar_t, np.sqrt))
    return (
        betas,
        t,
        float(beta_t),
        float(alpha_t),
        float(alpha_bar_t),
        float(alpha_bar_prev),
        x0,
        eps,
        xt,
    )


def _epsilon_mean_evidence() -> Evidence:
    import numpy as np

    betas, t, beta_t, alpha_t, alpha_bar_t, alpha_bar_prev, x0, eps, xt = _test_point()
    reference, _ = _bayes_posterior_moments(beta_t, alpha_bar_prev, x0, xt)
    sheet = xt / np.sqrt(alpha_t) - (1 - alpha_t) / (np.sqrt(1 - alpha_t) * np.sqrt(alpha_t)) * eps
    return compare_forms(
        reference=reference,
        sheet=sheet,
        correct=float(ddpm_epsilon_mean(betas, t, xt, eps)),
        reference_name="posterior mean by Bayes' rule on a grid",
        where=f"linear schedule, t = {t}, x_0 = {x0}, eps = {eps}",
        tolerance=1e-6,
    )


register(
    Formula(
        id="ddpm-epsilon-mean",
        title="Posterior mean in the epsilon-parametrisation (mu_q and mu_theta)",
        topic="diffusion",
        section="6",
        text="mu_q(x_t, x_0) = 1/sqrt(alpha_t) (x_t - beta_t/sqrt(1 - alpha_bar_t) eps), and "
        "mu_theta(x_t, t) = 1/sqrt(alpha_t) (x_t - beta_t/sqrt(1 - alpha_bar_t) "
        "eps_theta(x_t, t)): the network predicts the added noise.",
        keywords=(
            "epsilon parametrisation",
            "eps prediction",
            "noise prediction",
            "mu theta",
            "mu_q",
            "posterior mean",
            "model mean",
        ),
        statement_builder=_epsilon_mean_statement,
        derivation_builder=_epsilon_mean_derivation,
        evaluator=ddpm_epsilon_mean,
        sheet_lines=(173, 175),
        erratum=Erratum(
            sheet=r"\mu_q = \frac{1}{\sqrt{\alpha_t}} x_t - \frac{1 - \alpha_t}{\sqrt{1 - \alpha_t}"
            r"\sqrt{\alpha_t}} \epsilon_0",
            correct=r"\mu_q = \frac{1}{\sqrt{\alpha_t}} x_t - \frac{1 - \alpha_t}{\sqrt{1 - "
            r"\bar\alpha_t}\sqrt{\alpha_t}} \epsilon",
            explanation="The sheet writes mu_q(x_t, x_0) (and mu_theta on the next line) with "
            "sqrt(1 - alpha_t) in the noise coefficient. Substituting x_0 = (x_t - sqrt(1 - "
            "alpha_bar_t) eps)/sqrt(alpha_bar_t) into the posterior mean gives sqrt(1 - "
            "alpha_bar_t), the noise level of x_t given x_0. The two agree only at t = 1.",
            evidence=_epsilon_mean_evidence,
            severity="error",
            sheet_lines=(173, 175),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-loss-weight (the t-th KL term is lambda_t ||eps - eps_theta||^2 + const) and ddpm-loss


def _gaussian_kl(mean_1, var_1, mean_2, var_2):
    """KL(N(mean_1, var_1) || N(mean_2, var_2)) in one dimension."""
    import sympy as sp

    return (
        sp.log(sp.sqrt(var_2) / sp.sqrt(var_1))
        + (var_1 + (mean_1 - mean_2) ** 2) / (2 * var_2)
        - sp.Rational(1, 2)
    )


def _loss_weight_statement():
    s = _symbols()
    return s.sp.Eq(s.sp.Symbol("lambda_t"), loss_weight(s.beta, s.alpha, s.abar, s.sigma**2))


def _loss_weight_derivation() -> Derivation:
    s = _symbols()
    sp = s.sp
    eps_hat = sp.Symbol("epsilon_theta", real=True)
    mu_q, mu_theta = sp.Symbol("mu_tilde_t"), sp.Symbol("mu_theta")
    var_q = sp.Symbol("beta_tilde_t", positive=True)
    excess = _gaussian_kl(mu_q, var_q, mu_theta, s.sigma**2) - _gaussian_kl(
        mu_q, var_q, mu_q, s.sigma**2
    )
    return Derivation(
        steps=[
            Step(
                "lambda_t is the factor between the theta-dependent part of the t-th denoising "
                "term, KL(q(x_{t-1}|x_t,x_0) || p_theta(x_{t-1}|x_t)) minus its value at "
                "mu_theta = mu_q, and (eps - eps_theta)^2",
                sp.Symbol("lambda_t"),
                excess / (s.eps - eps_hat) ** 2,
                premise="definition",
                name="lambda",
            ),
            Step(
                "the posterior mean with the true noise",
                mu_q,
                epsilon_mean(s.xt, s.eps, s.beta, s.alpha, s.abar, sp.sqrt),
                premise="formula:ddpm-epsilon-mean",
                name="mu-q",
            ),
            Step(
                "the model mean: the same form with the network's noise estimate eps_theta",
                mu_theta,
                epsilon_mean(s.xt, eps_hat, s.beta, s.alpha, s.abar, sp.sqrt),
                premise="definition",
                name="mu-theta",
            ),
            Step(
                "the t-th term over (eps - eps_theta)^2",
                sp.Symbol("lambda_t"),
                excess / (s.eps - eps_hat) ** 2,
                uses=("lambda",),
            ),
            Step(
                "KL of 1-D Gaussians: the log and variance terms cancel, only "
                "(mu_q - mu_theta)^2/(2 sigma_t^2) depends on theta",
                None,
                (mu_q - mu_theta) ** 2 / (2 * s.sigma**2) / (s.eps - eps_hat) ** 2,
            ),
            Step(
                "insert both means: the x_t terms cancel, mu_q - mu_theta = beta_t (eps_theta - "
                "eps)/(sqrt(1 - alpha_bar_t) sqrt(alpha_t))",
                None,
                _loss_weight_statement().rhs,
                uses=("mu-q", "mu-theta"),
                assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} < 1, eps != eps_theta",
                sampler=_unit_sampler(s.alpha, s.abar_prev),
            ),
        ],
        identities=s.identities,
    )


def ddpm_loss_weight(betas, t, sigma2):
    """lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t)).

    The t-th KL term is lambda_t ||eps - eps_hat||^2 plus a theta-free constant."""
    import numpy as np

    beta_t, alpha_t, alpha_bar_t, _ = _schedule(betas, t)
    return as_float64(
        loss_weight(beta_t, alpha_t, alpha_bar_t, np.asarray(sigma2, dtype=np.float64))
    )


register(
    Formula(
        id="ddpm-loss-weight",
        title="Weight of ||eps - eps_theta||^2 in the t-th ELBO term",
        topic="diffusion",
        section="6",
        text="||mu_q - mu_theta||^2/(2 sigma_t^2) = beta_t^2/(2 sigma_t^2 alpha_t (1 - "
        "alpha_bar_t)) ||eps - eps_theta||^2; L_simple sets this weight to 1.",
        keywords=("loss weight", "lambda_t", "elbo weight", "kl", "reweighting"),
        statement_builder=_loss_weight_statement,
        derivation_builder=_loss_weight_derivation,
        evaluator=ddpm_loss_weight,
        sheet_lines=(171, 175),
    )
)


def _loss_statement():
    s = _symbols()
    sp = s.sp
    x_t = forward_sample(s.x0, s.eps, s.abar, sp.sqrt)
    return sp.Eq(sp.Symbol("L_simple"), (s.eps - s.eps_theta(x_t, s.t)) ** 2)


def _loss_derivation() -> Derivation:
    s = _symbols()
    sp = s.sp
    weight = loss_weight(s.beta, s.alpha, s.abar, s.sigma**2)
    loss = sp.Symbol("L_simple")
    on_x_t = (s.eps - s.eps_theta(s.xt, s.t)) ** 2
    return Derivation(
        steps=[
            Step(
                "the t-th denoising term is lambda_t (eps - eps_theta(x_t, t))^2 plus a "
                "theta-free constant",
                sp.Symbol("lambda_t"),
                weight,
                premise="formula:ddpm-loss-weight",
                name="weight",
            ),
            Step(
                "Ho et al. drop the weight lambda_t (L_simple, better samples)",
                loss,
                on_x_t,
                premise="definition",
                name="l-simple",
            ),
            Step(
                "the network's input is a sample of q(x_t | x_0)",
                s.xt,
                forward_sample(s.x0, s.eps, s.abar, sp.sqrt),
                premise="formula:ddpm-forward-marginal",
                name="sample",
            ),
            Step("L_simple is the unweighted term", loss, on_x_t, uses=("weight", "l-simple")),
            Step(
                "with x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, one draw of x_0, "
                "t and eps gives one term",
                None,
                _loss_statement().rhs,
                uses=("sample",),
            ),
        ],
        identities=s.identities,
    )


def ddpm_loss(eps, eps_pred):
    """L_simple = ||eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t)||^2 (last axis)."""
    import numpy as np

    diff = np.asarray(eps, dtype=np.float64) - np.asarray(eps_pred, dtype=np.float64)
    return as_float64((diff**2).sum(axis=-1) if diff.ndim else diff**2)


def _loss_evidence() -> Evidence:
    import numpy as np

    # independent reference: run the forward chain step by step (Monte Carlo) and measure x_t
    rng = np.random.default_rng(0)
    betas = np.linspace(0.05, 0.2, 10)
    t, x0, n = 10, 1.5, 400_000
    x = np.full(n, x0)
    for beta in betas[:t]:
        x = np.sqrt(1 - beta) * x + np.sqrt(beta) * rng.standard_normal(n)
    mc_mean, mc_var = x.mean(), x.var()
    tol_mean, tol_var = 5 * np.sqrt(mc_var / n), 5 * mc_var * np.sqrt(2 / n)
    alpha_t = 1 - betas[t - 1]
    alpha_bar_t = np.prod(1 - betas[:t])
    sheet_mean, sheet_var = np.sqrt(alpha_t) * x0, 1 - alpha_t
    right_mean, right_var = forward_marginal_moments(x0, alpha_bar_t, np.sqrt)
    sheet_ok = abs(sheet_mean - mc_mean) < tol_mean and abs(sheet_var - mc_var) < tol_var
    right_ok = abs(right_mean - mc_mean) < tol_mean and abs(right_var - mc_var) < tol_var
    return Evidence(
        sheet_fails=not sheet_ok,
        correct_passes=bool(right_ok),
        detail=f"{n} forward chains, t = {t}: Monte Carlo x_t mean {mc_mean:.4f} var "
        f"{mc_var:.4f} (5-sigma tolerances {tol_mean:.1e}, {tol_var:.1e}); the sheet's input "
        f"has mean {sheet_mean:.4f} var {sheet_var:.4f} "
        f"({verdict_text(sheet_ok, 'agrees', 'differs')}); the alpha-bar input has mean "
        f"{right_mean:.4f} var {right_var:.4f} ({verdict_text(right_ok, 'agrees', 'differs')})",
    )


register(
    Formula(
        id="ddpm-loss",
        title="DDPM training loss (L_simple, noise prediction)",
        topic="diffusion",
        section="6",
        text="Training: image x_0, t ~ Unif(1..T), eps ~ N(0, I), gradient step on "
        "||eps - eps_theta(sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, t)||^2. It is "
        "the t-th denoising term argmin 1/(2 sigma_t^2) ||mu_theta - mu_q||^2 with the weight "
        "beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)) dropped.",
        keywords=(
            "training loss",
            "l simple",
            "noise prediction",
            "mse",
            "epsilon",
            "denoising loss",
            "objective",
        ),
        statement_builder=_loss_statement,
        derivation_builder=_loss_derivation,
        evaluator=ddpm_loss,
        sheet_lines=(177, 177),
        erratum=Erratum(
            sheet=r"\|\epsilon - \epsilon_\theta(\sqrt{\alpha_t} x_0 + \sqrt{1 - \alpha_t}"
            r"\epsilon, t)\|^2",
            correct=r"\|\epsilon - \epsilon_\theta(\sqrt{\bar\alpha_t} x_0 + \sqrt{1 - "
            r"\bar\alpha_t}\epsilon, t)\|^2",
            explanation="In the training step the network must see x_t, a sample of q(x_t | "
            "x_0), whose coefficients are sqrt(alpha_bar_t) and sqrt(1 - alpha_bar_t); the "
            "sheet's sqrt(alpha_t) x_0 + sqrt(1 - alpha_t) eps is one forward step from x_0, "
            "the distribution of x_1-like inputs at every t.",
            evidence=_loss_evidence,
            severity="error",
            sheet_lines=(177, 177),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-sampling-step (erratum: dropped bar)


def _sampling_statement():
    s = _symbols()
    sp = s.sp
    eps_theta = s.eps_theta(s.xt, s.t)
    # the sheet writes beta_t as 1 - alpha_t here
    mean = epsilon_mean(s.xt, eps_theta, 1 - s.alpha, s.alpha, s.abar, sp.sqrt)
    return sp.Eq(sp.Symbol("x_{t-1}"), mean + s.sigma * s.z)


def _sampling_derivation() -> Derivation:
    s = _symbols()
    sp = s.sp
    mu_theta = sp.Symbol("mu_theta")
    eps_theta = s.eps_theta(s.xt, s.t)
    model_mean = epsilon_mean(s.xt, eps_theta, s.beta, s.alpha, s.abar, sp.sqrt)
    x_prev = sp.Symbol("x_{t-1}")
    return Derivation(
        steps=[
            Step(
                "ancestral sampling: x_{t-1} is a reparametrised draw of p_theta(x_{t-1} | x_t) "
                "= N(mu_theta(x_t, t), sigma_t^2 I), z ~ N(0, I) (z = 0 at t = 1: the last "
                "step returns the mean)",
                x_prev,
                mu_theta + s.sigma * s.z,
                premise="definition",
                name="ancestral",
            ),
            Step(
                "the model mean in the epsilon-parametrisation (the form of mu_tilde_t with "
                "eps_theta in place of eps)",
                mu_theta,
                model_mean,
                premise="definition",
                name="model-mean",
            ),
            Step("one reverse step", x_prev, mu_theta + s.sigma * s.z, uses=("ancestral",)),
            Step(
                "insert the model mean",
                None,
                model_mean + s.sigma * s.z,
                uses=("model-mean",),
            ),
            Step(
                "write beta_t as 1 - alpha_t, as the sheet does",
                None,
                _sampling_statement().rhs,
            ),
        ],
        identities=s.identities,
    )


def ddpm_sampling_step(betas, t, xt, eps_pred, z, sigma=None):
    """x_{t-1} = (x_t - beta_t/sqrt(1 - abar_t) eps_theta)/sqrt(alpha_t) + sigma_t z.

    z is set to 0 at t = 1.
    sigma defaults to sqrt(beta_t) (the sheet: sigma_t^2 = beta_t in practice)."""
    import numpy as np

    beta_t, alpha_t, alpha_bar_t, _ = _schedule(betas, t)
    sigma = np.sqrt(beta_t) if sigma is None else np.asarray(sigma, dtype=np.float64)
    noise = np.where(np.asarray(t) > 1, 1.0, 0.0) * np.asarray(z, dtype=np.float64)
    mean = epsilon_mean(np.asarray(xt), np.asarray(eps_pred), beta_t, alpha_t, alpha_bar_t, np.sqrt)
    return as_float64(mean + sigma * noise)


def _sampling_evidence() -> Evidence:
    import numpy as np

    betas, t, beta_t, alpha_t, alpha_bar_t, alpha_bar_prev, x0, eps, xt = _test_point()
    reference, _ = _bayes_posterior_moments(beta_t, alpha_bar_prev, x0, xt)
    # with an oracle noise prediction and z = 0, a step must land on the posterior mean
    sheet = (xt - (1 - alpha_t) / np.sqrt(1 - alpha_t) * eps) / np.sqrt(alpha_t)
    return compare_forms(
        reference=reference,
        sheet=sheet,
        correct=float(ddpm_sampling_step(betas, t, xt, eps, 0.0)),
        reference_name="posterior mean by Bayes' rule on a grid",
        where=f"oracle eps_theta = eps, z = 0, linear schedule, t = {t}",
        tolerance=1e-6,
    )


register(
    Formula(
        id="ddpm-sampling-step",
        title="DDPM sampling (ancestral) step",
        topic="diffusion",
        section="6",
        text="Sampling: x_T ~ N(0, I); for t = T..1: z ~ N(0, I) if t > 1 else z = 0; "
        "x_{t-1} = 1/sqrt(alpha_t) (x_t - (1 - alpha_t)/sqrt(1 - alpha_bar_t) "
        "eps_theta(x_t, t)) + sigma_t z, sigma_t^2 = beta_t in practice.",
        keywords=(
            "sampling",
            "ancestral sampling",
            "reverse step",
            "denoising step",
            "generation",
            "algorithm 2",
        ),
        statement_builder=_sampling_statement,
        derivation_builder=_sampling_derivation,
        evaluator=ddpm_sampling_step,
        sheet_lines=(179, 183),
        erratum=Erratum(
            sheet=r"x_{t-1} = \frac{1}{\sqrt{\alpha_t}}(x_t - \frac{1 - \alpha_t}{\sqrt{1 - "
            r"\alpha_t}} \epsilon_\theta(x_t, t)) + \sigma_t z",
            correct=r"x_{t-1} = \frac{1}{\sqrt{\alpha_t}}(x_t - \frac{1 - \alpha_t}{\sqrt{1 - "
            r"\bar\alpha_t}} \epsilon_\theta(x_t, t)) + \sigma_t z",
            explanation="The sampling step is mu_theta(x_t, t) + sigma_t z, so its noise "
            "coefficient is that of mu_theta: (1 - alpha_t)/sqrt(1 - alpha_bar_t). The sheet's "
            "sqrt(1 - alpha_t) makes the step x_t - sqrt(beta_t) eps_theta (over sqrt(alpha_t)): "
            "with a perfect noise prediction it misses the posterior mean.",
            evidence=_sampling_evidence,
            severity="error",
            sheet_lines=(181, 181),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# diffusion-elbo (Jensen, then the decomposition), checked exactly on small discrete chains


def _elbo_parts():
    """The bound's right side, E_{q(x_1|x_0)}[log p_theta(x_0|x_1)] - D_KL(q(x_T|x_0) || p(x_T))
    - sum_{t=2}^T E_{q(x_t|x_0)}[D_KL(q(x_{t-1}|x_t, x_0) || p_theta(x_{t-1}|x_t))], built from
    the chain's states x_t (a sequence), the densities q, p, p_theta and the course's E, D_KL."""
    import sympy as sp

    from formulas.notation import conditional, divergence, expectation

    t, T = sp.Symbol("t", integer=True), sp.Symbol("T", integer=True, positive=True)
    x = sp.IndexedBase("x")
    q, p, p_theta = conditional("q"), conditional("p"), conditional("p_theta")
    kl = divergence("D_KL")
    reconstruction = expectation(r"q(x_1 \mid x_0)", "q(x_1|x_0)")(sp.log(p_theta(x[0], x[1])))
    prior = kl(q(x[T], x[0]), p(x[T]))
    denoising = expectation(r"q(x_t \mid x_0)", "q(x_t|x_0)")(
        kl(conditional("q", given=2)(x[t - 1], x[t], x[0]), p_theta(x[t - 1], x[t]))
    )
    decomposition = reconstruction - prior - sp.Sum(denoising, (t, 2, T))
    return sp, decomposition


def _log_evidence():
    """log p(x_0): the log-likelihood of a data point under the model."""
    import sympy as sp

    from formulas.notation import conditional

    return sp.log(conditional("p")(sp.IndexedBase("x")[0]))


def _elbo_statement():
    sp, decomposition = _elbo_parts()
    return sp.Ge(_log_evidence(), decomposition, evaluate=False)


def _discrete_chains(count=6, states=3, steps=4, seed=0):
    """Random discrete forward chains q(x_t | x_{t-1}) and reverse models p_theta(x_{t-1} | x_t),
    with everything (log p(x_0), the ELBO, the decomposition) computed exactly by enumeration."""
    import itertools

    import numpy as np

    rng = np.random.default_rng(seed)
    results = []
    for _ in range(count):
        forward = rng.dirichlet(np.ones(states), size=(steps, states))  # [t-1][x_{t-1}, x_t]
        reverse = rng.dirichlet(np.ones(states), size=(steps, states))  # [t-1][x_t, x_{t-1}]
        prior = rng.dirichlet(np.ones(states))  # p(x_T)
        x0 = int(rng.integers(states))
        log_p, elbo = 0.0, 0.0
        # enumerate x_{1:T}: p(x_{0:T}) = p(x_T) prod p_theta(x_{t-1}|x_t), q(x_{1:T}|x_0)
        joint_p = 0.0
        for path in itertools.product(range(states), repeat=steps):
            xs = (x0, *path)
            q = np.prod([forward[t][xs[t], xs[t + 1]] for t in range(steps)])
            p = prior[xs[-1]] * np.prod([reverse[t][xs[t + 1], xs[t]] for t in range(steps)])
            joint_p += p
            elbo += q * np.log(p / q)
        log_p = np.log(joint_p)
        # marginals q(x_t | x_0) and posteriors q(x_{t-1} | x_t, x_0) by Bayes
        marginal = [np.eye(states)[x0]]
        for t in range(steps):
            marginal.append(marginal[-1] @ forward[t])

        def posterior(t, x_t, marginal=marginal, forward=forward):  # q(x_{t-1}|x_t,x_0)
            weights = marginal[t - 1] * forward[t - 1][:, x_t]
            return weights / weights.sum()

        def kl(a, b):
            return float(np.sum(a * np.log(a / b)))

        reconstruction = sum(marginal[1][x1] * np.log(reverse[0][x1, x0]) for x1 in range(states))
        prior_term = kl(marginal[steps], prior)
        denoising = sum(
            sum(marginal[t][xt] * kl(posterior(t, xt), reverse[t - 1][xt]) for xt in range(states))
            for t in range(2, steps + 1)
        )
        results.append((log_p, elbo, reconstruction - prior_term - denoising))
    return results


def _elbo_derivation() -> list[Step]:
    sp, decomposition = _elbo_parts()

    def jensen() -> Comparison:
        rows = _discrete_chains()
        return Comparison(
            [r[0] for r in rows],
            [r[1] for r in rows],
            "6 random discrete chains (3 states, T = 4): log p(x_0) and E_q log(p/q) by "
            "enumerating all paths x_{1:T}",
        )

    def decompose() -> Comparison:
        rows = _discrete_chains()
        return Comparison(
            [r[1] for r in rows],
            [r[2] for r in rows],
            "6 random discrete chains (3 states, T = 4): E_q log(p/q) by enumeration against "
            "reconstruction - prior KL - sum of posterior KLs (posteriors by Bayes)",
        )

    return [
        Step(
            "Jensen: log p(x_0) = log E_q[p(x_{0:T})/q(x_{1:T}|x_0)] >= E_q log(p(x_{0:T})/"
            "q(x_{1:T}|x_0))",
            _log_evidence(),
            sp.Symbol("E_q(x_1:T|x_0) log(p(x_0:T)/q(x_1:T|x_0))"),
            relation=">=",
            method="custom",
            custom=jensen,
        ),
        Step(
            "write q(x_{1:T}|x_0) = q(x_T|x_0) prod_{t>=2} q(x_{t-1}|x_t,x_0) (Bayes with the "
            "Markov property) and group the terms: reconstruction, prior matching and the "
            "denoising KLs",
            None,
            decomposition,
            method="custom",
            custom=decompose,
            tolerance=1e-12,
        ),
    ]


register(
    Formula(
        id="diffusion-elbo",
        title="Diffusion ELBO: reconstruction, prior matching and denoising terms",
        topic="diffusion",
        section="6",
        text="log p(x_0) >= E_q log p(x_{0:T})/q(x_{1:T}|x_0) = E_{q(x_1|x_0)} log "
        "p_theta(x_0|x_1) - D_KL(q(x_T|x_0) || p(x_T)) - sum_{t=2}^T E_{q(x_t|x_0)} "
        "D_KL(q(x_{t-1}|x_t,x_0) || p_theta(x_{t-1}|x_t)). The first two are the VAE's "
        "reconstruction and prior terms, the sum the denoising terms; a VAE is a 1-step "
        "diffusion model. p_theta(x_{t-1}|x_t) = N(mu_theta(x_t, t), sigma_t^2 I).",
        keywords=(
            "elbo",
            "variational bound",
            "vlb",
            "denoising terms",
            "reverse process",
            "p theta",
            "lower bound",
        ),
        statement_builder=_elbo_statement,
        derivation_builder=_elbo_derivation,
        latex_override=r"\log p(x_0) \ge \mathbb{E}_{q(x_1|x_0)} \log p_\theta(x_0|x_1) - "
        r"D_{KL}(q(x_T|x_0)\|p(x_T)) - \sum_{t=2}^T \mathbb{E}_{q(x_t|x_0)} "
        r"D_{KL}(q(x_{t-1}|x_t,x_0)\|p_\theta(x_{t-1}|x_t))",
        sheet_lines=(163, 169),
    )
)

# --------------------------------------------------------------------------------------------
# classifier-free-guidance (erratum: the left side must be a new quantity)


def _cfg_parts():
    s = _symbols()
    sp = s.sp
    x = sp.Symbol("x", real=True)
    rho = sp.Symbol("rho", nonnegative=True)
    c, t = sp.symbols("c t")  # the condition (a class, a prompt) and the time step
    eps_theta = sp.Function("epsilon_theta", real=True)
    eps_c, eps_u = eps_theta(x, c, t), eps_theta(x, t)  # with and without the condition
    return s, sp, x, rho, eps_c, eps_u


def _guided_prediction():
    """epsilon_tilde(x, c, t): the guided noise prediction."""
    import sympy as sp

    return sp.Function("epsilon_tilde")(sp.Symbol("x", real=True), *sp.symbols("c t"))


def _cfg_statement():
    _, sp, _, rho, eps_c, eps_u = _cfg_parts()
    return sp.Eq(_guided_prediction(), guided_prediction(eps_c, eps_u, rho))


def _cfg_derivation() -> list[Step]:
    s, sp, x, rho, eps_c, eps_u = _cfg_parts()
    from formulas.notation import conditional

    c = sp.Symbol("c")
    p = conditional("p")  # p(x), p(x | c), p(c | x), p(c): printed as the course writes them
    log_p, log_p_cond = sp.log(p(x)), sp.log(p(x, c))
    log_classifier, log_prior_c = sp.log(p(c, x)), sp.log(p(c))
    scale = sp.sqrt(1 - s.abar)  # eps = -sqrt(1 - alpha_bar_t) * score
    guided = _guided_prediction()

    def score(f):
        return sp.Derivative(f, x)

    return [
        Step(
            "guidance samples the sharpened density p(x) p(c|x)^{1+rho}; its noise prediction "
            "is the scaled negative score, eps = -sqrt(1 - alpha_bar_t) grad log p",
            guided,
            -scale * score(log_p + (1 + rho) * log_classifier),
            premise="definition",
            name="guided",
        ),
        Step(
            "Bayes: log p(c|x) = log p(x|c) - log p(x) + log p(c)",
            log_classifier,
            log_p_cond - log_p + log_prior_c,
            premise="definition",
            name="bayes",
        ),
        Step(
            "the conditional model predicts the scaled negative score of p(x|c) (denoising "
            "score matching)",
            eps_c,
            -scale * score(log_p_cond),
            premise="assumption",
            name="eps-conditional",
        ),
        Step(
            "the unconditional model (the same network with c dropped) that of p(x)",
            eps_u,
            -scale * score(log_p),
            premise="assumption",
            name="eps-unconditional",
        ),
        Step(
            "the guided prediction",
            guided,
            -scale * score(log_p + (1 + rho) * log_classifier),
            uses=("guided",),
        ),
        Step(
            "Bayes inside the score (log p(c) is constant in x)",
            None,
            -scale * score(log_p + (1 + rho) * (log_p_cond - log_p + log_prior_c)),
            uses=("bayes",),
        ),
        Step(
            "collect: (1 + rho) times the conditional score minus rho times the unconditional",
            None,
            (1 + rho) * (-scale * score(log_p_cond)) - rho * (-scale * score(log_p)),
        ),
        Step(
            "name the two noise predictions",
            None,
            _cfg_statement().rhs,
            uses=("eps-conditional", "eps-unconditional"),
        ),
    ]


def classifier_free_guidance(eps_cond, eps_uncond, rho):
    """eps_tilde = (1 + rho) eps_theta(x, c; t) - rho eps_theta(x; t)."""
    import numpy as np

    rho = np.asarray(rho, dtype=np.float64)
    return as_float64(guided_prediction(np.asarray(eps_cond), np.asarray(eps_uncond), rho))


def _cfg_evidence() -> Evidence:
    # independent reference: conditional N(m_c, 1), unconditional N(m_u, 1); the guided density
    # p(x|c)^{1+rho} p(x)^{-rho} is N((1+rho) m_c - rho m_u, 1); score by finite differences
    m_c, m_u, rho, x, h = 1.2, -0.4, 2.0, 0.3, 1e-5

    def log_guided(v):
        return (1 + rho) * (-0.5 * (v - m_c) ** 2) - rho * (-0.5 * (v - m_u) ** 2)

    score = (log_guided(x + h) - log_guided(x - h)) / (2 * h)
    eta_c, eta_u = x - m_c, x - m_u  # eps = -score for unit noise scale: -(-(x - m))
    guided = float(classifier_free_guidance(eta_c, eta_u, rho))
    # the sheet writes eta_1 on both sides: read as an update of eta_1 it holds only if
    # rho (eta_1 - eta_2) = 0; read as a definition, its left side is eta_1 itself
    sheet_left = eta_c
    return compare_forms(
        reference=-score,
        sheet=sheet_left,
        correct=guided,
        reference_name="-score of p(x|c)^(1+rho) p(x)^(-rho) by finite differences",
        where=f"Gaussians N({m_c}, 1) and N({m_u}, 1), rho = {rho}, x = {x}; the sheet's left "
        "side eta_theta1(x, c; t) is the conditional prediction itself",
        tolerance=1e-6,
    )


register(
    Formula(
        id="classifier-free-guidance",
        title="Classifier-free guidance",
        topic="diffusion",
        section="6.1",
        text="Mix the predictions of a conditional and an unconditional model: eps_tilde(x, c; "
        "t) = (1 + rho) eps_theta(x, c; t) - rho eps_theta(x; t). It trades diversity for "
        "fidelity (samples concentrate on what p(c|x) rates as class c). Conditional "
        "generation adds the input y (or c) to the model; ControlNet adds trainable layers "
        "to a frozen model.",
        keywords=(
            "guidance",
            "cfg",
            "classifier-free",
            "conditional",
            "guidance scale",
            "controlnet",
        ),
        statement_builder=_cfg_statement,
        derivation_builder=_cfg_derivation,
        evaluator=classifier_free_guidance,
        sheet_lines=(189, 189),
        erratum=Erratum(
            sheet=r"\eta_{\theta_1}(x, c; t) = (1 + \rho)\eta_{\theta_1}(x, c; t) - \rho "
            r"\eta_{\theta_2}(x; t)",
            correct=r"\tilde\eta(x, c; t) = (1 + \rho)\eta_{\theta_1}(x, c; t) - \rho "
            r"\eta_{\theta_2}(x; t)",
            explanation="The left side must be a new quantity, the guided prediction that the "
            "sampler uses; with eta_theta1 on both sides the equation only holds when rho = 0 "
            "or eta_theta1 = eta_theta2. The intent (mix the two predictions) is clear.",
            evidence=_cfg_evidence,
            severity="typo",
            sheet_lines=(189, 189),
        ),
    )
)


def _latent_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("x_hat"), sp.Function("D")(sp.Symbol("z_0")))


def _latent_properties() -> list[Step]:
    import sympy as sp

    def round_trip() -> Comparison:
        import numpy as np

        # data on a 3-dimensional subspace of R^12: a linear autoencoder (PCA) with a
        # 3-dimensional latent decodes its own codes back to the data exactly
        rng = np.random.default_rng(0)
        basis = np.linalg.qr(rng.normal(size=(12, 3)))[0]
        data = rng.normal(size=(200, 3)) @ basis.T
        _, _, vt = np.linalg.svd(data, full_matrices=False)
        encoder = vt[:3]  # z = E(x) = W x
        latent = data @ encoder.T
        return Comparison(
            (latent @ encoder).ravel(),
            data.ravel(),
            "200 points on a 3-D subspace of R^12: D(E(x)) with a 3-D PCA autoencoder",
        )

    return [
        Step(
            "the latent is much smaller: Stable Diffusion's 512x512x3 image becomes a 64x64x4 "
            "latent (downsampling f = 8), 48 times fewer numbers to denoise",
            sp.Mul(512 * 512 * 3, sp.Pow(64 * 64 * 4, -1), evaluate=False),
            sp.Integer(48),
        ),
        Step(
            "decoding an encoded latent returns the image when the autoencoder fits the data, "
            "so nothing is lost by diffusing in latent space",
            custom=round_trip,
            tolerance=1e-10,
        ),
    ]


register(
    Formula(
        id="latent-diffusion",
        title="Latent diffusion: diffuse in an autoencoder's latent space",
        topic="diffusion",
        section="6.2",
        text="High-res images are expensive to model: encode z = E(x), run the diffusion "
        "model on z, decode x_hat = D(z_0).",
        keywords=("latent diffusion", "stable diffusion", "ldm", "autoencoder", "latent space"),
        statement_builder=_latent_statement,
        definition=True,
        properties_builder=_latent_properties,
        sheet_lines=(191, 191),
    )
)


# --------------------------------------------------------------------------------------------
# claims in words (section 6.1)


def _guidance_diversity_evidence() -> Evidence:
    """Two classes N(-2, 1), N(2, 1): the guided density p(x|c)^(1+rho) p(x)^(-rho) on a grid."""
    import numpy as np

    grid = np.linspace(-12, 12, 200001)

    def log_normal(x, mean):
        return -0.5 * (x - mean) ** 2 - 0.5 * np.log(2 * np.pi)

    log_cond = log_normal(grid, 2.0)
    log_marginal = np.logaddexp(log_normal(grid, -2.0), log_cond) + np.log(0.5)

    def spread(log_density):
        w = np.exp(log_density - log_density.max())
        w /= w.sum()
        mean = (w * grid).sum()
        return float((w * (grid - mean) ** 2).sum())

    rhos = (0.0, 1.0, 3.0)
    variances = [spread((1 + rho) * log_cond - rho * log_marginal) for rho in rhos]
    shrinks = all(b < a for a, b in zip(variances, variances[1:]))
    listed = ", ".join(f"rho = {rho:g}: {v:.3f}" for rho, v in zip(rhos, variances))
    return Evidence(
        sheet_fails=shrinks,
        correct_passes=shrinks,
        detail=f"classes N(-2, 1) and N(2, 1), equal priors; variance of the guided density "
        f"p(x|c)^(1+rho) p(x)^(-rho) for c = 2 (grid): {listed}: guidance "
        f"{verdict_text(shrinks, 'narrows', 'does not narrow')} the conditional, i.e. it "
        f"{verdict_text(shrinks, 'lowers', 'does not lower')} diversity",
    )


register_claim(
    Claim(
        id="guidance-diversity",
        topic="diffusion",
        section="6.1",
        sheet_lines=(189, 189),
        sheet="(Classifier-free) guidance: mix predictions of a conditional and unconditional "
        "model, because conditional models are not diverse.",
        verdict="error",
        explanation="Guidance does not add diversity: with rho > 0 it extrapolates away from the "
        "unconditional prediction and samples the sharpened p(x) p(c|x)^{1+rho}, which "
        "concentrates on inputs the implicit classifier rates as class c. It trades diversity "
        "(and likelihood) for fidelity to the condition (higher IS, lower-variance samples). "
        "The reason to mix is that plain conditional samples do not follow the condition "
        "strongly enough (low fidelity), not that they lack diversity.",
        source="Ho & Salimans 2022, Classifier-Free Diffusion Guidance, Sec. 1 and 3; "
        "Dhariwal & Nichol 2021, Sec. 4",
        check=_guidance_diversity_evidence,
        correct="Guidance mixes the conditional and unconditional predictions to follow the "
        "condition more closely (higher fidelity), at the cost of diversity.",
    )
)

register_claim(
    Claim(
        id="diffusion-vs-gan",
        topic="diffusion",
        section="6",
        sheet_lines=(157, 157),
        sheet="High quality generations, better diversity, more stable/scalable.",
        verdict="correct",
        explanation="Diffusion models match or beat GANs in sample quality (FID) while covering "
        "more of the distribution (better recall), and train with a plain regression loss "
        "instead of an adversarial game.",
        source="Dhariwal & Nichol 2021, Diffusion Models Beat GANs on Image Synthesis",
    )
)

register_claim(
    Claim(
        id="controlnet-frozen",
        topic="diffusion",
        section="6.1",
        sheet_lines=(187, 187),
        sheet="ControlNet: don't retrain model, add layers that add something to block outputs.",
        verdict="correct",
        explanation="ControlNet locks the pretrained model and trains a copy of its encoder "
        "blocks on the condition; the copy's outputs pass through zero-initialised convolutions "
        "and are added to the frozen model's skip connections / block outputs.",
        source="Zhang, Rao & Agrawala 2023, Adding Conditional Control to Text-to-Image "
        "Diffusion Models, Sec. 3",
    )
)

register_claim(
    Claim(
        id="diffusion-forward-reverse",
        topic="diffusion",
        section="6",
        sheet_lines=(159, 159),
        sheet="Diffusion (forward) step q: adds noise (not learned). Denoising (reverse) step "
        "p_theta: removes noise (learned).",
        verdict="correct",
        explanation="q is a fixed Gaussian noising chain with a chosen schedule beta_t; only the "
        "reverse chain p_theta is trained.",
        source="Ho, Jain & Abbeel 2020, Sec. 2",
    )
)

register_claim(
    Claim(
        id="diffusion-reverse-intractable",
        topic="diffusion",
        section="6",
        sheet_lines=(165, 167),
        sheet="Denoising is not tractable naively: q(x_{t-1}|x_t) = q(x_t|x_{t-1}) q(x_{t-1}) / "
        "q(x_t), q(x_t) = int q(x_t|x_0) q(x_0) dx_0. Conditioning on x_0 we get a Gaussian.",
        verdict="correct",
        explanation="q(x_t) integrates over the unknown data distribution, so q(x_{t-1}|x_t) has "
        "no closed form; q(x_{t-1}|x_t, x_0) is Gaussian (ddpm-posterior-mean, "
        "ddpm-posterior-variance prove its moments).",
        source="Ho, Jain & Abbeel 2020, eq. 6-7",
    )
)

register_claim(
    Claim(
        id="diffusion-practice-variance",
        topic="diffusion",
        section="6",
        sheet_lines=(183, 183),
        sheet="sigma_t^2 = beta_t in practice. t can be continuous.",
        verdict="correct",
        explanation="Ho et al. report similar results for sigma_t^2 = beta_t and beta_tilde_t; "
        "continuous-time formulations (score SDEs) take t in [0, 1].",
        source="Ho, Jain & Abbeel 2020, Sec. 3.2; Song et al. 2021 (score-based SDEs)",
    )
)

register_claim(
    Claim(
        id="conditional-generation-input",
        topic="diffusion",
        section="6.1",
        sheet_lines=(185, 185),
        sheet="Conditional generation: add input y to the model.",
        verdict="correct",
        explanation="A conditional noise predictor eps_theta(x_t, t, y) takes the condition "
        "(class embedding, text via cross-attention) as an extra input.",
        source="Ho & Salimans 2022; Rombach et al. 2022, Sec. 3.3",
    )
)

register_claim(
    Claim(
        id="latent-diffusion-cost",
        topic="diffusion",
        section="6.2",
        sheet_lines=(191, 191),
        sheet="High-res images are expensive to model. Predict in latent space, decode with a "
        "decoder.",
        verdict="correct",
        explanation="Latent diffusion trains an autoencoder once, runs the diffusion model on the "
        "downsampled latent z = E(x) and decodes x_hat = D(z_0).",
        source="Rombach et al. 2022, High-Resolution Image Synthesis with Latent Diffusion "
        "Models, Sec. 3",
    )
)
