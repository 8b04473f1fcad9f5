"""Diffusion models: DDPM (sheet section 6), guidance (6.1).

Notation as on the sheet: betas holds beta_1..beta_T, t is 1-indexed, alpha_t = 1 - beta_t,
alpha_bar_t = prod_{i<=t} alpha_i, and alpha_bar_0 = 1 by convention (so q(x_0 | x_0) is a point
mass and the posterior at t = 1 has variance 0 and mean x_0).

Metadata at module level; sympy inside builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register

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


def _sampler_unit(*symbols):
    def sample(rng):
        import sympy as sp

        return {s: sp.Rational(rng.randint(1, 99), 100) for s in symbols}

    return sample


def _symbols():
    import sympy as sp

    alpha = sp.Symbol("alpha_t", positive=True)
    abar_prev = sp.Symbol("alphabar_{t-1}", positive=True)
    x0, xt, x = sp.symbols("x_0 x_t x_{t-1}", real=True)
    eps = sp.Symbol("epsilon", real=True)
    return sp, alpha, abar_prev, x0, xt, x, eps


def _posterior_mean_expr(sp, alpha, abar_prev, x0, xt):
    beta = 1 - alpha
    abar = alpha * abar_prev
    return (
        sp.sqrt(abar_prev) * beta / (1 - abar) * x0
        + sp.sqrt(alpha) * (1 - abar_prev) / (1 - abar) * xt
    )


def _posterior_variance_expr(alpha, abar_prev):
    return (1 - abar_prev) / (1 - alpha * abar_prev) * (1 - alpha)


# --------------------------------------------------------------------------------------------
# ddpm-linear-schedule, ddpm-alpha-bar, ddpm-forward-step


def ddpm_linear_schedule(T, beta_start=1e-4, beta_end=0.02):
    """beta_1..beta_T linearly spaced (Ho et al. 2020: 1e-4 to 0.02, T = 1000)."""
    import numpy as np

    return as_float64(np.linspace(beta_start, beta_end, int(T)))


def _linear_schedule_statement():
    import sympy as sp

    t, T = sp.symbols("t T", positive=True, integer=True)
    b1, bT = sp.symbols("beta_1 beta_T", positive=True)
    return sp.Eq(sp.Symbol("beta_t"), b1 + (t - 1) * (bT - b1) / (T - 1))


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
    )
)


def _alpha_bar_statement():
    import sympy as sp

    t, i = sp.symbols("t i", positive=True, integer=True)
    beta = sp.IndexedBase("beta")
    return sp.Eq(sp.Symbol("alphabar_t"), sp.Product(1 - beta[i], (i, 1, t)))


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
    )
)


def _forward_step_statement():
    import sympy as sp

    beta = sp.Symbol("beta_t", positive=True)
    x_prev = sp.Symbol("x_{t-1}", real=True)
    return sp.Eq(
        sp.Symbol("q(x_t | x_{t-1})"),
        sp.Function("N")(sp.sqrt(1 - beta) * x_prev, beta * sp.Symbol("I")),
    )


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
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-forward-marginal


def _forward_marginal_statement():
    import sympy as sp

    abar = sp.Symbol("alphabar_t", positive=True)
    x0 = sp.Symbol("x_0", real=True)
    return sp.Eq(
        sp.Symbol("q(x_t | x_0)"), sp.Function("N")(sp.sqrt(abar) * x0, (1 - abar) * sp.Symbol("I"))
    )


def _forward_marginal_derivation() -> list[Step]:
    sp, alpha, abar_prev, x0, _, _, _ = _symbols()
    alpha_1 = sp.Symbol("alpha_1", positive=True)

    def compose_by_quadrature() -> StepResult:
        import random

        import mpmath

        mpmath.mp.dps = 30
        rng = random.Random(3)
        b1, b2 = mpmath.mpf("0.1"), mpmath.mpf("0.25")
        abar2 = (1 - b1) * (1 - b2)
        worst = mpmath.mpf(0)

        def normal(x, m, v):
            return mpmath.exp(-((x - m) ** 2) / (2 * v)) / mpmath.sqrt(2 * mpmath.pi * v)

        for _ in range(4):
            a0, a2 = mpmath.mpf(rng.uniform(-2, 2)), mpmath.mpf(rng.uniform(-2, 2))
            composed = mpmath.quad(
                lambda x1, a0=a0, a2=a2: (
                    normal(a2, mpmath.sqrt(1 - b2) * x1, b2)
                    * normal(x1, mpmath.sqrt(1 - b1) * a0, b1)
                ),
                [-mpmath.inf, 0, mpmath.inf],
            )
            closed = normal(a2, mpmath.sqrt(abar2) * a0, 1 - abar2)
            worst = max(worst, abs(composed - closed) / closed)
        return StepResult(
            bool(worst < 1e-20),
            "custom",
            f"int q(x2|x1) q(x1|x0) dx1 by mpmath.quad at 4 points (beta = 0.1, 0.25), "
            f"max rel. gap {mpmath.nstr(worst, 3)}",
        )

    return [
        Step(
            "base case t = 1: q(x_1 | x_0) = N(sqrt(alpha_1) x_0, (1 - alpha_1) I) and "
            "alpha_bar_1 = alpha_1",
            sp.sqrt(alpha_1) * x0,
            sp.sqrt(sp.Symbol("alphabar_1", positive=True)).subs(
                sp.Symbol("alphabar_1", positive=True), alpha_1
            )
            * x0,
        ),
        Step(
            "induction, mean: x_t = sqrt(alpha_t) x_{t-1} + sqrt(1-alpha_t) eps_t with x_{t-1} "
            "= sqrt(alpha_bar_{t-1}) x_0 + sqrt(1-alpha_bar_{t-1}) eps'",
            sp.sqrt(alpha) * sp.sqrt(abar_prev) * x0,
            sp.sqrt(alpha * abar_prev) * x0,
            justification="alpha_bar_t = alpha_t alpha_bar_{t-1}",
            assumptions="alpha_t, alpha_bar_{t-1} > 0",
        ),
        Step(
            "induction, variance: the two independent Gaussian noises add their variances",
            alpha * (1 - abar_prev) + (1 - alpha),
            1 - alpha * abar_prev,
            justification="N(0, a) + N(0, b) = N(0, a + b) and c N(0, v) = N(0, c^2 v) (appendix)",
        ),
        Step(
            "check by integrating out x_1: int q(x_2|x_1) q(x_1|x_0) dx_1 = "
            "N(x_2; sqrt(alpha_bar_2) x_0, 1 - alpha_bar_2)",
            custom=compose_by_quadrature,
            method="custom",
        ),
    ]


def ddpm_forward_marginal(betas, t, x0, eps):
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, a sample of q(x_t | x_0)."""
    import numpy as np

    _, _, alpha_bar_t, _ = _schedule(betas, t)
    return as_float64(
        np.sqrt(alpha_bar_t) * np.asarray(x0) + np.sqrt(1 - alpha_bar_t) * np.asarray(eps)
    )


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
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-posterior-mean and ddpm-posterior-variance (complete the square)


def _posterior_exponent(sp, alpha, abar_prev, x0, xt, x):
    beta = 1 - alpha
    return -((xt - sp.sqrt(alpha) * x) ** 2) / (2 * beta) - (x - sp.sqrt(abar_prev) * x0) ** 2 / (
        2 * (1 - abar_prev)
    )


def _normal_pdf(sp, x, mean, var):
    return sp.exp(-((x - mean) ** 2) / (2 * var)) / sp.sqrt(2 * sp.pi * var)


def _posterior_derivation() -> list[Step]:
    sp, alpha, abar_prev, x0, xt, x, _ = _symbols()
    beta = 1 - alpha
    exponent = _posterior_exponent(sp, alpha, abar_prev, x0, xt, x)
    mean = _posterior_mean_expr(sp, alpha, abar_prev, x0, xt)
    var = _posterior_variance_expr(alpha, abar_prev)
    sample = _sampler_unit(alpha, abar_prev)
    bayes = (
        _normal_pdf(sp, xt, sp.sqrt(alpha) * x, beta)
        * _normal_pdf(sp, x, sp.sqrt(abar_prev) * x0, 1 - abar_prev)
        / _normal_pdf(sp, xt, sp.sqrt(alpha * abar_prev) * x0, 1 - alpha * abar_prev)
    )
    return [
        Step(
            "Bayes with the Markov property: q(x_{t-1}|x_t,x_0) = q(x_t|x_{t-1}) q(x_{t-1}|x_0) "
            "/ q(x_t|x_0); its log is, up to terms free of x_{t-1}, this exponent E(x_{t-1}). "
            "E is quadratic in x_{t-1}: its second derivative is -1/beta_tilde_t",
            sp.diff(exponent, x, 2),
            -1 / var,
            justification="1/beta_tilde = alpha_t/beta_t + 1/(1 - alpha_bar_{t-1}) = "
            "(1 - alpha_bar_t) / (beta_t (1 - alpha_bar_{t-1}))",
            assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} < 1",
            sampler=sample,
        ),
        Step(
            "complete the square: E'(x) = 0 at x = mu_tilde_t",
            sp.diff(exponent, x).subs(x, mean),
            sp.Integer(0),
            assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} < 1",
            sampler=sample,
        ),
        Step(
            "so E(x) = -(x - mu_tilde)^2 / (2 beta_tilde) + const(x_t, x_0)",
            sp.diff(exponent + (x - mean) ** 2 / (2 * var), x),
            sp.Integer(0),
            assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} < 1",
            sampler=sample,
        ),
        Step(
            "and the normalised Bayes ratio is exactly N(x_{t-1}; mu_tilde_t, beta_tilde_t)",
            bayes,
            _normal_pdf(sp, x, mean, var),
            method="numeric",
            sampler=sample,
            assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} < 1",
        ),
        Step(
            "t = 1 (alpha_bar_0 = 1): the mean is x_0",
            mean.subs(abar_prev, 1),
            x0,
            assumptions="0 < alpha_1 < 1",
        ),
        Step(
            "t = 1 (alpha_bar_0 = 1): the variance is 0 (q(x_0 | x_0) is a point mass)",
            var.subs(abar_prev, 1),
            sp.Integer(0),
        ),
    ]


def _posterior_mean_statement():
    import sympy as sp

    abar, abar_prev, beta, alpha = sp.symbols(
        "alphabar_t alphabar_{t-1} beta_t alpha_t", positive=True
    )
    x0, xt = sp.symbols("x_0 x_t", real=True)
    return sp.Eq(
        sp.Symbol("mu_tilde_t"),
        sp.sqrt(abar_prev) * beta / (1 - abar) * x0
        + sp.sqrt(alpha) * (1 - abar_prev) / (1 - abar) * xt,
    )


def _posterior_variance_statement():
    import sympy as sp

    abar, abar_prev, beta = sp.symbols("alphabar_t alphabar_{t-1} beta_t", positive=True)
    return sp.Eq(sp.Symbol("beta_tilde_t"), (1 - abar_prev) / (1 - abar) * beta)


def ddpm_posterior_mean(betas, t, x0, xt):
    """mu_tilde_t = sqrt(abar_{t-1}) beta_t/(1-abar_t) x_0
    + sqrt(alpha_t) (1-abar_{t-1})/(1-abar_t) x_t."""
    import numpy as np

    beta_t, alpha_t, alpha_bar_t, alpha_bar_prev = _schedule(betas, t)
    x0 = np.asarray(x0, dtype=np.float64)
    xt = np.asarray(xt, dtype=np.float64)
    coef_x0 = np.sqrt(alpha_bar_prev) * beta_t / (1 - alpha_bar_t)
    coef_xt = np.sqrt(alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_bar_t)
    return as_float64(coef_x0 * x0 + coef_xt * xt)


def ddpm_posterior_variance(betas, t):
    """beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t; 0 at t = 1 (abar_0 = 1)."""
    beta_t, _, alpha_bar_t, alpha_bar_prev = _schedule(betas, t)
    return as_float64((1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t)


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
        derivation_builder=_posterior_derivation,
        evaluator=ddpm_posterior_mean,
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
        derivation_builder=_posterior_derivation,
        evaluator=ddpm_posterior_variance,
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-epsilon-mean (erratum: dropped bar)


def _epsilon_mean_statement():
    import sympy as sp

    alpha, abar, beta = sp.symbols("alpha_t alphabar_t beta_t", positive=True)
    xt, eps = sp.symbols("x_t epsilon", real=True)
    return sp.Eq(sp.Symbol("mu_tilde_t"), (xt - beta / sp.sqrt(1 - abar) * eps) / sp.sqrt(alpha))


def _epsilon_mean_derivation() -> list[Step]:
    sp, alpha, abar_prev, _, xt, _, eps = _symbols()
    abar = alpha * abar_prev
    x0_from_eps = (xt - sp.sqrt(1 - abar) * eps) / sp.sqrt(abar)
    mean = _posterior_mean_expr(sp, alpha, abar_prev, x0_from_eps, xt)
    return [
        Step(
            "invert the forward marginal: x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / "
            "sqrt(alpha_bar_t), and substitute into mu_tilde_t",
            mean,
            (xt - (1 - alpha) / sp.sqrt(1 - abar) * eps) / sp.sqrt(alpha),
            assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} <= 1",
            sampler=_sampler_unit(alpha, abar_prev),
        ),
        Step(
            "the model mean uses the same form with the network's noise estimate: "
            "mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta(x_t, t)) / "
            "sqrt(alpha_t); the network learns to predict the added noise",
            (xt - (1 - alpha) / sp.sqrt(1 - abar) * eps) / sp.sqrt(alpha),
            xt / sp.sqrt(alpha) - (1 - alpha) / (sp.sqrt(1 - abar) * sp.sqrt(alpha)) * eps,
            assumptions="0 < alpha_t < 1",
        ),
    ]


def ddpm_epsilon_mean(betas, t, xt, eps):
    """mu = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) (mu_tilde with eps, mu_theta
    with eps_theta)."""
    import numpy as np

    beta_t, alpha_t, alpha_bar_t, _ = _schedule(betas, t)
    return as_float64(
        (np.asarray(xt) - beta_t / np.sqrt(1 - alpha_bar_t) * np.asarray(eps)) / np.sqrt(alpha_t)
    )


def _test_point():
    """A late step of the standard schedule, where alpha_t and alpha_bar_t differ a lot."""
    import numpy as np

    betas = np.linspace(1e-4, 0.02, 1000)
    t = 300
    beta_t, alpha_t, alpha_bar_t, alpha_bar_prev = _schedule(betas, t)
    x0, eps = 0.7, -1.3
    xt = float(np.sqrt(alpha_bar_t) * x0 + np.sqrt(1 - alpha_bar_t) * eps)
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
    correct = float(ddpm_epsilon_mean(betas, t, xt, eps))
    return Evidence(
        sheet_fails=bool(abs(sheet - reference) > 1e-3),
        correct_passes=bool(abs(correct - reference) < 1e-6),
        detail=f"linear schedule, t = {t}, x_0 = {x0}, eps = {eps}: posterior mean by Bayes on a "
        f"grid {reference:.6f}; sheet's form {sheet:.6f}; with sqrt(1 - alpha_bar_t) "
        f"{correct:.6f}",
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
        erratum=Erratum(
            sheet=r"\mu_q = \frac{1}{\sqrt{\alpha_t}} x_t - \frac{1 - \alpha_t}{\sqrt{1 - \alpha_t}"
            r"\sqrt{\alpha_t}} \epsilon_0",
            correct=r"\mu_q = \frac{1}{\sqrt{\alpha_t}} x_t - \frac{1 - \alpha_t}{\sqrt{1 - "
            r"\bar\alpha_t}\sqrt{\alpha_t}} \epsilon",
            explanation="Dropped bar: the noise coefficient's denominator is sqrt(1 - "
            "alpha_bar_t) (the noise level of x_t given x_0), not sqrt(1 - alpha_t). The same "
            "slip is in the sheet's mu_theta. They agree only at t = 1.",
            evidence=_epsilon_mean_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-loss (the weighted KL becomes a weighted ||eps - eps_theta||^2) with the input erratum


def _loss_statement():
    import sympy as sp

    abar = sp.Symbol("alphabar_t", positive=True)
    x0, eps = sp.symbols("x_0 epsilon", real=True)
    eps_theta = sp.Function("epsilon_theta")
    t = sp.Symbol("t", positive=True, integer=True)
    return sp.Eq(
        sp.Symbol("L_simple"),
        (eps - eps_theta(sp.sqrt(abar) * x0 + sp.sqrt(1 - abar) * eps, t)) ** 2,
    )


def _loss_derivation() -> list[Step]:
    sp, alpha, abar_prev, _, xt, _, eps = _symbols()
    eps_hat = sp.Symbol("epsilon_theta", real=True)
    sigma = sp.Symbol("sigma_t", positive=True)
    mu_q, mu_theta, var_q = sp.symbols("mu_q mu_theta beta_tilde", positive=True)
    abar = alpha * abar_prev

    def kl(mean_1, var_1, mean_2, var_2):
        return (
            sp.log(sp.sqrt(var_2) / sp.sqrt(var_1))
            + (var_1 + (mean_1 - mean_2) ** 2) / (2 * var_2)
            - sp.Rational(1, 2)
        )

    eps_mean = (xt - (1 - alpha) / sp.sqrt(1 - abar) * eps) / sp.sqrt(alpha)
    model_mean = (xt - (1 - alpha) / sp.sqrt(1 - abar) * eps_hat) / sp.sqrt(alpha)
    weight = (1 - alpha) ** 2 / (2 * sigma**2 * alpha * (1 - abar))
    return [
        Step(
            "the t-th ELBO term is KL(N(mu_q, beta_tilde) || N(mu_theta, sigma_t^2)); only its "
            "mean term depends on theta: KL - KL|_{mu_theta = mu_q} = ||mu_q - mu_theta||^2 / "
            "(2 sigma_t^2)",
            kl(mu_q, var_q, mu_theta, sigma**2) - kl(mu_q, var_q, mu_q, sigma**2),
            (mu_q - mu_theta) ** 2 / (2 * sigma**2),
            justification="KL of 1-D Gaussians (per dimension)",
        ),
        Step(
            "insert both means in the epsilon-parametrisation: the x_t terms cancel",
            (eps_mean - model_mean) ** 2 / (2 * sigma**2),
            weight * (eps - eps_hat) ** 2,
            assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} <= 1",
            sampler=_sampler_unit(alpha, abar_prev),
        ),
        Step(
            "Ho et al. drop the weight beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)) "
            "(L_simple) and feed the network x_t = sqrt(alpha_bar_t) x_0 + "
            "sqrt(1 - alpha_bar_t) eps, a sample of q(x_t | x_0) (ddpm-forward-marginal)",
            weight.subs(sigma, sp.sqrt(1 - alpha)),
            (1 - alpha) / (2 * alpha * (1 - abar)),
            justification="with sigma_t^2 = beta_t the weight is beta_t / (2 alpha_t "
            "(1 - alpha_bar_t))",
            assumptions="0 < alpha_t < 1",
            sampler=_sampler_unit(alpha, abar_prev),
        ),
    ]


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
    right_mean, right_var = np.sqrt(alpha_bar_t) * x0, 1 - alpha_bar_t
    sheet_ok = abs(sheet_mean - mc_mean) < tol_mean and abs(sheet_var - mc_var) < tol_var
    right_ok = abs(right_mean - mc_mean) < tol_mean and abs(right_var - mc_var) < tol_var
    return Evidence(
        sheet_fails=not sheet_ok,
        correct_passes=bool(right_ok),
        detail=f"{n} chains, t = {t}: Monte Carlo x_t mean {mc_mean:.4f} var {mc_var:.4f} "
        f"(5-sigma tolerances {tol_mean:.1e}, {tol_var:.1e}); sheet's input has mean "
        f"{sheet_mean:.4f} var {sheet_var:.4f}; alpha-bar input mean {right_mean:.4f} var "
        f"{right_var:.4f}",
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
        erratum=Erratum(
            sheet=r"\|\epsilon - \epsilon_\theta(\sqrt{\alpha_t} x_0 + \sqrt{1 - \alpha_t}"
            r"\epsilon, t)\|^2",
            correct=r"\|\epsilon - \epsilon_\theta(\sqrt{\bar\alpha_t} x_0 + \sqrt{1 - "
            r"\bar\alpha_t}\epsilon, t)\|^2",
            explanation="Dropped bars: the network's input must be a sample of q(x_t | x_0), "
            "whose coefficients are sqrt(alpha_bar_t) and sqrt(1 - alpha_bar_t).",
            evidence=_loss_evidence,
        ),
    )
)


def ddpm_loss_weight(betas, t, sigma2):
    """lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t)).

    The t-th KL term is lambda_t ||eps - eps_hat||^2 plus a theta-free constant."""
    import numpy as np

    beta_t, alpha_t, alpha_bar_t, _ = _schedule(betas, t)
    return as_float64(
        beta_t**2 / (2 * np.asarray(sigma2, dtype=np.float64) * alpha_t * (1 - alpha_bar_t))
    )


def _loss_weight_statement():
    import sympy as sp

    alpha, abar, beta, sigma = sp.symbols("alpha_t alphabar_t beta_t sigma_t", positive=True)
    return sp.Eq(sp.Symbol("lambda_t"), beta**2 / (2 * sigma**2 * alpha * (1 - abar)))


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
        derivation_builder=_loss_derivation,
        evaluator=ddpm_loss_weight,
    )
)

# --------------------------------------------------------------------------------------------
# ddpm-sampling-step (erratum: dropped bar)


def _sampling_statement():
    import sympy as sp

    alpha, abar, sigma = sp.symbols("alpha_t alphabar_t sigma_t", positive=True)
    xt, z = sp.symbols("x_t z", real=True)
    eps_theta = sp.Function("epsilon_theta")(xt, sp.Symbol("t"))
    return sp.Eq(
        sp.Symbol("x_{t-1}"),
        (xt - (1 - alpha) / sp.sqrt(1 - abar) * eps_theta) / sp.sqrt(alpha) + sigma * z,
    )


def _sampling_derivation() -> list[Step]:
    sp, alpha, abar_prev, x0, xt, _, eps = _symbols()
    abar = alpha * abar_prev
    sigma, z = sp.Symbol("sigma_t", positive=True), sp.Symbol("z", real=True)
    x0_from_eps = (xt - sp.sqrt(1 - abar) * eps) / sp.sqrt(abar)
    step = (xt - (1 - alpha) / sp.sqrt(1 - abar) * eps) / sp.sqrt(alpha) + sigma * z
    return [
        Step(
            "ancestral sampling from p_theta(x_{t-1}|x_t) = N(mu_theta(x_t, t), sigma_t^2 I): "
            "x_{t-1} = mu_theta + sigma_t z; with the oracle eps_theta = eps the mean is the "
            "true posterior mean mu_tilde_t",
            step - sigma * z,
            _posterior_mean_expr(sp, alpha, abar_prev, x0_from_eps, xt),
            assumptions="0 < alpha_t < 1, 0 < alpha_bar_{t-1} <= 1",
            sampler=_sampler_unit(alpha, abar_prev),
        ),
        Step(
            "the last step t = 1 adds no noise (z = 0) and returns the mean",
            step.subs(z, 0),
            (xt - (1 - alpha) / sp.sqrt(1 - abar) * eps) / sp.sqrt(alpha),
        ),
    ]


def ddpm_sampling_step(betas, t, xt, eps_pred, z, sigma=None):
    """x_{t-1} = (x_t - beta_t/sqrt(1 - abar_t) eps_theta)/sqrt(alpha_t) + sigma_t z.

    z is set to 0 at t = 1.
    sigma defaults to sqrt(beta_t) (the sheet: sigma_t^2 = beta_t in practice)."""
    import numpy as np

    beta_t, alpha_t, alpha_bar_t, _ = _schedule(betas, t)
    sigma = np.sqrt(beta_t) if sigma is None else np.asarray(sigma, dtype=np.float64)
    noise = np.where(np.asarray(t) > 1, 1.0, 0.0) * np.asarray(z, dtype=np.float64)
    mean = (np.asarray(xt) - beta_t / np.sqrt(1 - alpha_bar_t) * np.asarray(eps_pred)) / np.sqrt(
        alpha_t
    )
    return as_float64(mean + sigma * noise)


def _sampling_evidence() -> Evidence:
    import numpy as np

    betas, t, beta_t, alpha_t, alpha_bar_t, alpha_bar_prev, x0, eps, xt = _test_point()
    reference, _ = _bayes_posterior_moments(beta_t, alpha_bar_prev, x0, xt)
    # with an oracle noise prediction and z = 0, a step must land on the posterior mean
    sheet = (xt - (1 - alpha_t) / np.sqrt(1 - alpha_t) * eps) / np.sqrt(alpha_t)
    correct = float(ddpm_sampling_step(betas, t, xt, eps, 0.0))
    return Evidence(
        sheet_fails=bool(abs(sheet - reference) > 1e-3),
        correct_passes=bool(abs(correct - reference) < 1e-6),
        detail=f"oracle eps, z = 0, t = {t}: Bayes posterior mean {reference:.6f}; sheet's step "
        f"{sheet:.6f}; with sqrt(1 - alpha_bar_t) {correct:.6f}",
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
        erratum=Erratum(
            sheet=r"x_{t-1} = \frac{1}{\sqrt{\alpha_t}}(x_t - \frac{1 - \alpha_t}{\sqrt{1 - "
            r"\alpha_t}} \epsilon_\theta(x_t, t)) + \sigma_t z",
            correct=r"x_{t-1} = \frac{1}{\sqrt{\alpha_t}}(x_t - \frac{1 - \alpha_t}{\sqrt{1 - "
            r"\bar\alpha_t}} \epsilon_\theta(x_t, t)) + \sigma_t z",
            explanation="Dropped bar in the noise coefficient: sqrt(1 - alpha_bar_t), as in "
            "mu_theta (the sheet's form would simplify to x_t - sqrt(beta_t) eps, no longer "
            "the posterior mean).",
            evidence=_sampling_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# diffusion ELBO (statement)


def _elbo_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("log p(x_0)"),
        sp.Symbol("E_q(x_1|x_0) log p_theta(x_0|x_1)")
        - sp.Symbol("D_KL(q(x_T|x_0)||p(x_T))")
        - sp.Sum(
            sp.Symbol("E_q(x_t|x_0) D_KL(q(x_{t-1}|x_t,x_0)||p_theta(x_{t-1}|x_t))"),
            (sp.Symbol("t"), 2, sp.Symbol("T")),
        ),
        evaluate=False,
    )


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
        latex_override=r"\log p(x_0) \ge \mathbb{E}_{q(x_1|x_0)} \log p_\theta(x_0|x_1) - "
        r"D_{KL}(q(x_T|x_0)\|p(x_T)) - \sum_{t=2}^T \mathbb{E}_{q(x_t|x_0)} "
        r"D_{KL}(q(x_{t-1}|x_t,x_0)\|p_\theta(x_{t-1}|x_t))",
    )
)

# --------------------------------------------------------------------------------------------
# classifier-free-guidance (erratum: the left side must be a new quantity)


def _cfg_statement():
    import sympy as sp

    rho = sp.Symbol("rho", nonnegative=True)
    eps_c = sp.Symbol("epsilon_theta(x, c; t)", real=True)
    eps_u = sp.Symbol("epsilon_theta(x; t)", real=True)
    return sp.Eq(sp.Symbol("epsilon_tilde(x,c;t)"), (1 + rho) * eps_c - rho * eps_u)


def _cfg_derivation() -> list[Step]:
    import sympy as sp

    x = sp.Symbol("x", real=True)
    rho = sp.Symbol("rho", positive=True)
    log_p = sp.Function("log_p")(x)  # log p(x)
    log_p_cond = sp.Function("log_p_c")(x)  # log p(x | c)
    log_prior_c = sp.Symbol("log_p(c)", real=True)
    log_classifier = log_p_cond - log_p + log_prior_c  # Bayes: log p(c|x)
    s = sp.Symbol("s_t", positive=True)  # sqrt(1 - alpha_bar_t): eps = -s * score
    return [
        Step(
            "guidance sharpens p(c|x): the guided density is p(x) p(c|x)^{1+rho}; by Bayes "
            "log p(c|x) = log p(x|c) - log p(x) + log p(c), so its score is (1+rho) grad log "
            "p(x|c) - rho grad log p(x)",
            sp.diff(log_p + (1 + rho) * log_classifier, x),
            (1 + rho) * sp.diff(log_p_cond, x) - rho * sp.diff(log_p, x),
        ),
        Step(
            "noise predictions are scaled negative scores, eps = -sqrt(1 - alpha_bar_t) grad "
            "log p; the combination is linear, so the same mix holds for eps",
            -s * ((1 + rho) * sp.diff(log_p_cond, x) - rho * sp.diff(log_p, x)),
            (1 + rho) * (-s * sp.diff(log_p_cond, x)) - rho * (-s * sp.diff(log_p, x)),
        ),
    ]


def classifier_free_guidance(eps_cond, eps_uncond, rho):
    """eps_tilde = (1 + rho) eps_theta(x, c; t) - rho eps_theta(x; t)."""
    import numpy as np

    rho = np.asarray(rho, dtype=np.float64)
    return as_float64((1 + rho) * np.asarray(eps_cond) - rho * np.asarray(eps_uncond))


def _cfg_evidence() -> Evidence:
    # independent reference: conditional N(m_c, 1), unconditional N(m_u, 1); the guided density
    # p(x|c)^{1+rho} p(x)^{-rho} is N((1+rho) m_c - rho m_u, 1); score by finite differences
    m_c, m_u, rho, x, h = 1.2, -0.4, 2.0, 0.3, 1e-5

    def log_guided(v):
        return (1 + rho) * (-0.5 * (v - m_c) ** 2) - rho * (-0.5 * (v - m_u) ** 2)

    score = (log_guided(x + h) - log_guided(x - h)) / (2 * h)
    eta_c, eta_u = x - m_c, x - m_u  # eps = -score for unit noise scale: -(-(x - m))
    guided = float(classifier_free_guidance(eta_c, eta_u, rho))
    correct_ok = abs(guided - (-score)) < 1e-6
    # the sheet writes eta_1 on both sides: as an equation it holds only if rho (eta_1 - eta_2)
    # = 0, i.e. it defines nothing unless conditional and unconditional already agree
    residual = (1 + rho) * eta_c - rho * eta_u - eta_c
    return Evidence(
        sheet_fails=bool(abs(residual) > 1e-6),
        correct_passes=bool(correct_ok),
        detail=f"Gaussian check, rho = {rho}: guided eps {guided:.6f} vs -score of "
        f"p(x|c)^(1+rho) p(x)^(-rho) {-score:.6f}; the sheet's self-referential equation "
        f"leaves residual rho (eta_1 - eta_2) = {residual:.3f} != 0",
    )


register(
    Formula(
        id="classifier-free-guidance",
        title="Classifier-free guidance",
        topic="diffusion",
        section="6.1",
        text="Mix the predictions of a conditional and an unconditional model (conditional "
        "models are not diverse): eps_tilde(x, c; t) = (1 + rho) eps_theta(x, c; t) - "
        "rho eps_theta(x; t). Conditional generation adds the input y (or c) to the model; "
        "ControlNet adds trainable layers to a frozen model.",
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
        erratum=Erratum(
            sheet=r"\eta_{\theta_1}(x, c; t) = (1 + \rho)\eta_{\theta_1}(x, c; t) - \rho "
            r"\eta_{\theta_2}(x; t)",
            correct=r"\tilde\eta(x, c; t) = (1 + \rho)\eta_{\theta_1}(x, c; t) - \rho "
            r"\eta_{\theta_2}(x; t)",
            explanation="The left side must be a new quantity (the guided prediction); with "
            "eta_theta1 on both sides the equation only holds when rho = 0 or eta_theta1 = "
            "eta_theta2.",
            evidence=_cfg_evidence,
        ),
    )
)


def _latent_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("x_hat"), sp.Function("D")(sp.Symbol("z_0")))


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
    )
)
