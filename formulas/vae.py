"""Variational autoencoders (sheet section 2, and "KL for ELBO" in the proofs, section 13).

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register

# --------------------------------------------------------------------------------------------
# kl-gauss: KL(N(mu, diag sigma^2) || N(0, I)) = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2)


def _kl_gauss_symbols():
    import sympy as sp

    mu = sp.Symbol("mu", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    z = sp.Symbol("z", real=True)
    return sp, mu, sigma, z


def _kl_gauss_statement():
    sp, mu, sigma, _ = _kl_gauss_symbols()
    kl = sp.Symbol("D_KL")
    # one latent dimension; the vector form sums this over j = 1..J
    return sp.Eq(kl, sp.Rational(1, 2) * (sigma**2 + mu**2 - 1 - sp.log(sigma**2)))


def _kl_gauss_derivation() -> list[Step]:
    sp, mu, sigma, z = _kl_gauss_symbols()
    q = sp.exp(-((z - mu) ** 2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2)
    log_p = -sp.log(2 * sp.pi) / 2 - z**2 / 2
    log_q = -sp.log(2 * sp.pi * sigma**2) / 2 - (z - mu) ** 2 / (2 * sigma**2)
    cross = -sp.log(2 * sp.pi) / 2 - (sigma**2 + mu**2) / 2
    entropy_term = -sp.log(2 * sp.pi) / 2 - (sp.log(sigma**2) + 1) / 2
    closed_form = sp.Rational(1, 2) * (sigma**2 + mu**2 - 1 - sp.log(sigma**2))
    return [
        Step(
            "KL is the expectation under q of log q - log p (one dimension; J dims add up "
            "because both densities factorise over dimensions)",
            sp.Integral(q * (log_q - log_p), (z, -sp.oo, sp.oo)),
            sp.Integral(q * log_q, (z, -sp.oo, sp.oo)) - sp.Integral(q * log_p, (z, -sp.oo, sp.oo)),
            justification="linearity of the integral",
            assumptions="mu real, sigma > 0",
        ),
        Step(
            "Gaussian integral: E_q[log p(z)] with p = N(0, 1)",
            sp.Integral(q * log_p, (z, -sp.oo, sp.oo)),
            cross,
            justification="E_q[z^2] = sigma^2 + mu^2",
            assumptions="mu real, sigma > 0",
        ),
        Step(
            "Gaussian integral: E_q[log q(z)] (minus the entropy)",
            sp.Integral(q * log_q, (z, -sp.oo, sp.oo)),
            entropy_term,
            justification="E_q[(z - mu)^2] = sigma^2. The sheet prints +J/2 log 2 pi here "
            "(a sign error); the right constant is -J/2 log 2 pi",
            assumptions="mu real, sigma > 0",
        ),
        Step(
            "subtract: the log 2 pi terms cancel",
            entropy_term - cross,
            closed_form,
            assumptions="mu real, sigma > 0",
        ),
    ]


def kl_gauss(mu, sigma):
    """KL(N(mu, diag sigma^2) || N(0, I)), summed over the last axis."""
    import numpy as np

    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    per_dim = 0.5 * (sigma**2 + mu**2 - 1.0 - np.log(sigma**2))
    return as_float64(per_dim.sum(axis=-1) if per_dim.ndim else per_dim)


register(
    Formula(
        id="kl-gauss",
        title="KL divergence of a diagonal Gaussian from the standard normal",
        topic="vae",
        section="2, 13",
        text="KL for ELBO: -D_KL(q(z|x) || p(z)) = 1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - "
        "sigma_j^2), the closed-form regulariser of the VAE",
        keywords=("kl", "kullback", "leibler", "gaussian", "elbo", "regulariser", "prior"),
        statement_builder=_kl_gauss_statement,
        derivation_builder=_kl_gauss_derivation,
        evaluator=kl_gauss,
    )
)


# --------------------------------------------------------------------------------------------
# shared helpers


def _quad_step(claim, integrand, var, rhs, sampler, points=4, **kwargs) -> Step:
    """A step `int integrand d var over R = rhs`, checked by mpmath.quad at 30 digits at random
    parameter values (sympy's own Gaussian integrals take seconds to minutes)."""
    import sympy as sp

    def check() -> StepResult:
        import random

        import mpmath

        mpmath.mp.dps = 30
        rng = random.Random(0)
        worst = mpmath.mpf(0)
        for _ in range(points):
            values = sampler(rng)
            fn = sp.lambdify(var, integrand.subs(values), "mpmath")
            left = mpmath.quad(fn, [-mpmath.inf, -1, 0, 1, mpmath.inf])
            right = mpmath.mpf(str(sp.N(sp.sympify(rhs).subs(values), 40)))
            worst = max(worst, abs(left - right) / max(1, abs(right)))
        passed = bool(worst < 1e-20)
        return StepResult(
            passed,
            "numeric",
            f"mpmath.quad at 30 digits at {points} random points, max rel. gap "
            f"{mpmath.nstr(worst, 3)}",
        )

    return Step(
        claim,
        sp.Integral(integrand, (var, -sp.oo, sp.oo)),
        rhs,
        method="custom",
        custom=check,
        **kwargs,
    )


def _gauss_params_sampler(*symbols):
    """Real symbols in [-1.5, 1.5], positive ones in [0.3, 2]."""

    def sample(rng):
        import sympy as sp

        return {
            s: sp.Rational(rng.randint(30, 200), 100)
            if s.is_positive
            else sp.Rational(rng.randint(-150, 150), 100)
            for s in symbols
        }

    return sample


def _normal_pdf(sp, x, mean, var):
    return sp.exp(-((x - mean) ** 2) / (2 * var)) / sp.sqrt(2 * sp.pi * var)


def _xlogy(x, y):
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


# --------------------------------------------------------------------------------------------
# kl-divergence (definition, finite support), non-negative and asymmetric


def _kl_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    p, q = sp.Function("p")(x), sp.Function("q")(x)
    return sp.Eq(sp.Symbol("D_KL(P||Q)"), sp.Integral(p * sp.log(p / q), (x, -sp.oo, sp.oo)))


def _kl_derivation() -> list[Step]:
    import sympy as sp

    a, b = sp.symbols("a b", positive=True)
    kl_ab = a * sp.log(a / b) + (1 - a) * sp.log((1 - a) / (1 - b))
    kl_ba = b * sp.log(b / a) + (1 - b) * sp.log((1 - b) / (1 - a))

    def sample(rng):
        return {a: sp.Rational(rng.randint(1, 99), 100), b: sp.Rational(rng.randint(1, 99), 100)}

    def asymmetric() -> StepResult:
        values = {a: sp.Rational(1, 10), b: sp.Rational(1, 2)}
        left, right = sp.N(kl_ab.subs(values), 30), sp.N(kl_ba.subs(values), 30)
        return StepResult(
            bool(abs(left - right) > 1e-3),
            "numeric",
            f"P = (0.1, 0.9), Q = (0.5, 0.5): KL(P||Q) = {left:.6f}, KL(Q||P) = {right:.6f}",
        )

    return [
        Step(
            "Gibbs' inequality: -KL = E_p log(q/p) <= log E_p (q/p) = log 1 = 0 (Jensen, log "
            "concave); checked on a two-point support P = (a, 1-a), Q = (b, 1-b)",
            sp.Integer(0),
            kl_ab,
            relation="<=",
            sampler=sample,
            assumptions="0 < a, b < 1",
        ),
        Step("KL(P||P) = 0", kl_ab.subs(b, a), sp.Integer(0)),
        Step(
            "not symmetric: D_KL(P||Q) != D_KL(Q||P) in general",
            custom=asymmetric,
            method="custom",
        ),
    ]


def kl_divergence(p, q):
    """D_KL(P || Q) = sum_x p(x) log(p(x)/q(x)) over the last axis (0 log 0 = 0)."""
    return as_float64((_xlogy(p, p) - _xlogy(p, q)).sum(axis=-1))


register(
    Formula(
        id="kl-divergence",
        title="Kullback-Leibler divergence",
        topic="vae",
        section="2",
        text="D_KL(P||Q) = int_x p(x) log(p(x)/q(x)) dx measures how far two distributions "
        "are; D_KL(P||Q) >= 0 and D_KL(P||Q) != D_KL(Q||P). evaluate: finite supports.",
        keywords=(
            "kl",
            "kullback-leibler",
            "divergence",
            "relative entropy",
            "gibbs",
            "asymmetric",
            "non-negative",
        ),
        statement_builder=_kl_statement,
        derivation_builder=_kl_derivation,
        evaluator=kl_divergence,
    )
)

# --------------------------------------------------------------------------------------------
# gauss-cross-entropy: int p log q for diagonal Gaussians (the sheet's lemma in the KL proof)


def _cross_entropy_statement():
    import sympy as sp

    mu_p, mu_q = sp.symbols("mu_p mu_q", real=True)
    s_p, s_q = sp.symbols("sigma_p sigma_q", positive=True)
    return sp.Eq(
        sp.Symbol("int p log q"),
        -sp.log(2 * sp.pi) / 2 - sp.log(s_q**2) / 2 - (s_p**2 + (mu_p - mu_q) ** 2) / (2 * s_q**2),
    )


def _cross_entropy_derivation() -> list[Step]:
    import sympy as sp

    z = sp.Symbol("z", real=True)
    mu_p, mu_q = sp.symbols("mu_p mu_q", real=True)
    s_p, s_q = sp.symbols("sigma_p sigma_q", positive=True)
    p = _normal_pdf(sp, z, mu_p, s_p**2)
    log_q = -sp.log(2 * sp.pi * s_q**2) / 2 - (z - mu_q) ** 2 / (2 * s_q**2)
    return [
        _quad_step(
            "one dimension (J dimensions add): int p log q = -1/2 log(2 pi sigma_q^2) - "
            "E_p[(z - mu_q)^2] / (2 sigma_q^2), E_p[(z - mu_q)^2] = sigma_p^2 + (mu_p - mu_q)^2",
            p * log_q,
            z,
            -sp.log(2 * sp.pi) / 2
            - sp.log(s_q**2) / 2
            - (s_p**2 + (mu_p - mu_q) ** 2) / (2 * s_q**2),
            _gauss_params_sampler(mu_p, mu_q, s_p, s_q),
            assumptions="sigma_p, sigma_q > 0",
        ),
    ]


def gauss_cross_entropy(mu_p, sigma_p, mu_q, sigma_q):
    """int p log q for p = N(mu_p, diag sigma_p^2), q = N(mu_q, diag sigma_q^2), summed over
    the last axis."""
    import numpy as np

    mu_p, sigma_p = np.asarray(mu_p, dtype=np.float64), np.asarray(sigma_p, dtype=np.float64)
    mu_q, sigma_q = np.asarray(mu_q, dtype=np.float64), np.asarray(sigma_q, dtype=np.float64)
    per_dim = (
        -0.5 * np.log(2 * np.pi)
        - 0.5 * np.log(sigma_q**2)
        - (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2)
    )
    return as_float64(per_dim.sum(axis=-1) if per_dim.ndim else per_dim)


register(
    Formula(
        id="gauss-cross-entropy",
        title="Expected log-density of one diagonal Gaussian under another",
        topic="vae",
        section="13",
        text="int p(z) log q(z) dz = -J/2 log 2 pi - 1/2 sum_j log sigma_{q,j}^2 - 1/2 sum_j "
        "(sigma_{p,j}^2 + (mu_{p,j} - mu_{q,j})^2) / sigma_{q,j}^2 (lemma of the KL proof).",
        keywords=(
            "cross-entropy",
            "gaussian integral",
            "expected log density",
            "kl proof",
            "lemma",
        ),
        statement_builder=_cross_entropy_statement,
        derivation_builder=_cross_entropy_derivation,
        evaluator=gauss_cross_entropy,
    )
)

# --------------------------------------------------------------------------------------------
# gauss-negative-entropy: int q log q (erratum: sign of the J/2 log 2 pi term)


def _neg_entropy_statement():
    import sympy as sp

    s = sp.Symbol("sigma", positive=True)
    return sp.Eq(sp.Symbol("int q log q"), -sp.log(2 * sp.pi) / 2 - (sp.log(s**2) + 1) / 2)


def _neg_entropy_derivation() -> list[Step]:
    import sympy as sp

    z, mu = sp.symbols("z mu", real=True)
    s = sp.Symbol("sigma", positive=True)
    q = _normal_pdf(sp, z, mu, s**2)
    return [
        Step(
            "special case p = q of gauss-cross-entropy (one dimension)",
            sp.Integral(q * sp.log(q), (z, -sp.oo, sp.oo)),
            -sp.log(2 * sp.pi) / 2 - (sp.log(s**2) + 1) / 2,
            assumptions="sigma > 0",
        ),
    ]


def gauss_negative_entropy(sigma):
    """int q log q = -J/2 log 2 pi - 1/2 sum_j (log sigma_j^2 + 1) (last axis)."""
    import numpy as np

    sigma = np.asarray(sigma, dtype=np.float64)
    per_dim = -0.5 * np.log(2 * np.pi) - 0.5 * (np.log(sigma**2) + 1)
    return as_float64(per_dim.sum(axis=-1) if per_dim.ndim else per_dim)


def _neg_entropy_evidence() -> Evidence:
    import mpmath

    mpmath.mp.dps = 30
    sigma, mu = mpmath.mpf("0.7"), mpmath.mpf("0.3")

    def integrand(z):
        q = mpmath.npdf(z, mu, sigma)
        return q * mpmath.log(q)

    reference = mpmath.quad(integrand, [-mpmath.inf, mu, mpmath.inf])
    sheet = mpmath.log(2 * mpmath.pi) / 2 - (mpmath.log(sigma**2) + 1) / 2
    correct = -mpmath.log(2 * mpmath.pi) / 2 - (mpmath.log(sigma**2) + 1) / 2
    return Evidence(
        sheet_fails=bool(abs(sheet - reference) > 1e-6),
        correct_passes=bool(abs(correct - reference) < 1e-20),
        detail=f"J = 1, sigma = 0.7: quadrature {mpmath.nstr(reference, 10)}; sheet's "
        f"+1/2 log 2 pi form {mpmath.nstr(sheet, 10)}; -1/2 log 2 pi form "
        f"{mpmath.nstr(correct, 10)}",
    )


register(
    Formula(
        id="gauss-negative-entropy",
        title="Negative entropy of a diagonal Gaussian, int q log q",
        topic="vae",
        section="13",
        text="int q(z|x) log q(z|x) dz = -J/2 log 2 pi - 1/2 sum_j (log sigma_j^2 + 1) "
        "(step of the KL-for-ELBO proof).",
        keywords=("entropy", "negative entropy", "gaussian", "kl proof", "log 2 pi"),
        statement_builder=_neg_entropy_statement,
        derivation_builder=_neg_entropy_derivation,
        evaluator=gauss_negative_entropy,
        erratum=Erratum(
            sheet=r"\int q(z|x) \log q(z|x) dz = \frac{J}{2}\log 2\pi - \frac{1}{2}\sum_j "
            r"(\log\sigma_j^2 + 1)",
            correct=r"\int q(z|x) \log q(z|x) dz = -\frac{J}{2}\log 2\pi - \frac{1}{2}\sum_j "
            r"(\log\sigma_j^2 + 1)",
            explanation="Sign error: the normalising constant contributes -J/2 log 2 pi (as in "
            "int q log p); with +J/2 the log 2 pi terms would not cancel in the KL.",
            evidence=_neg_entropy_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# marginal likelihood and elbo-decomposition


def _marginal_statement():
    import sympy as sp

    x, z = sp.symbols("x z", real=True)
    return sp.Eq(
        sp.Function("p_theta")(x),
        sp.Integral(sp.Function("p_theta")(x, z) * sp.Function("p_theta")(z), (z, -sp.oo, sp.oo)),
    )


register(
    Formula(
        id="vae-marginal-likelihood",
        title="VAE generative model and its intractable likelihood",
        topic="vae",
        section="2",
        text="Sample z from the prior p_theta(z), decode with p_theta(x|z) (a NN). The "
        "likelihood p_theta(x) = int_z p_theta(x|z) p_theta(z) dz is hard to maximise, so an "
        "encoder q_phi(z|x) is introduced. z can also be categorical.",
        keywords=("marginal likelihood", "evidence", "prior", "decoder", "intractable", "vae"),
        statement_builder=_marginal_statement,
    )
)


def _elbo_symbols():
    import sympy as sp

    z, x, m = sp.symbols("z x m", real=True)
    w, s, v = sp.symbols("w s v", positive=True)
    return sp, z, x, m, w, s, v


def _elbo_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("log p_theta(x)"),
        sp.Symbol("E_q log p_theta(x|z)")
        - sp.Symbol("D_KL(q_phi(z|x)||p_theta(z))")
        + sp.Symbol("D_KL(q_phi(z|x)||p_theta(z|x))"),
    )


def _elbo_derivation() -> list[Step]:
    sp, z, x, m, w, s, v = _elbo_symbols()
    # a concrete model where every density is explicit: z ~ N(0, 1), x|z ~ N(w z, s^2),
    # so p(x) = N(0, w^2 + s^2) and p(z|x) = N(w x/(w^2 + s^2), s^2/(w^2 + s^2)); q = N(m, v)
    log_prior = sp.log(_normal_pdf(sp, z, 0, 1))
    log_lik = sp.log(_normal_pdf(sp, x, w * z, s**2))
    log_evidence = sp.log(_normal_pdf(sp, x, 0, w**2 + s**2))
    log_post = sp.log(_normal_pdf(sp, z, w * x / (w**2 + s**2), s**2 / (w**2 + s**2)))
    log_q = sp.log(_normal_pdf(sp, z, m, v))

    def by_quadrature() -> StepResult:
        import random

        import mpmath

        mpmath.mp.dps = 30
        rng = random.Random(5)
        worst = mpmath.mpf(0)
        for _ in range(3):
            values = {
                x: rng.uniform(-2, 2),
                m: rng.uniform(-1, 1),
                w: rng.uniform(0.3, 2),
                s: rng.uniform(0.3, 1.5),
                v: rng.uniform(0.2, 1.5),
            }
            q = sp.lambdify(z, sp.exp(log_q).subs(values), "mpmath")

            def expect(expr, q=q, values=values):
                fn = sp.lambdify(z, expr.subs(values), "mpmath")
                return mpmath.quad(lambda t: q(t) * fn(t), [-mpmath.inf, 0, mpmath.inf])

            recon = expect(log_lik)
            kl_prior = expect(log_q - log_prior)
            kl_post = expect(log_q - log_post)
            lhs = sp.N(log_evidence.subs(values), 30)
            worst = max(worst, abs(mpmath.mpf(str(lhs)) - (recon - kl_prior + kl_post)))
        return StepResult(
            bool(worst < 1e-15),
            "custom",
            f"3 random (x, m, w, s, v), mpmath.quad at 30 digits, max gap {mpmath.nstr(worst, 3)}",
        )

    def kl_nonneg_sampler(rng):
        return {
            x: sp.Rational(rng.randint(-200, 200), 100),
            m: sp.Rational(rng.randint(-100, 100), 100),
            w: sp.Rational(rng.randint(30, 200), 100),
            s: sp.Rational(rng.randint(30, 150), 100),
            v: sp.Rational(rng.randint(20, 150), 100),
        }

    post_mean, post_var = w * x / (w**2 + s**2), s**2 / (w**2 + s**2)
    kl_q_post = (
        sp.log(sp.sqrt(post_var) / sp.sqrt(v))
        + (v + (m - post_mean) ** 2) / (2 * post_var)
        - sp.Rational(1, 2)
    )
    return [
        Step(
            "Bayes: log p(x) = log p(x|z) + log p(z) - log p(z|x) for every z (linear-Gaussian "
            "model z ~ N(0,1), x|z ~ N(wz, s^2) where all four densities are explicit)",
            log_evidence,
            log_lik + log_prior - log_post,
            assumptions="w, s > 0",
            sampler=kl_nonneg_sampler,
        ),
        Step(
            "insert log q - log q: log p(x|z) + log p(z) - log p(z|x) = log p(x|z) - "
            "(log q - log p(z)) + (log q - log p(z|x))",
            log_lik + log_prior - log_post,
            log_lik - (log_q - log_prior) + (log_q - log_post),
            assumptions="v > 0",
        ),
        Step(
            "take E_q (q integrates to one, log p(x) is constant in z): log p(x) = "
            "E_q log p(x|z) - KL(q||p(z)) + KL(q||p(z|x))",
            custom=by_quadrature,
            method="custom",
        ),
        Step(
            "the last KL (intractable in general) is >= 0, so log p(x) >= ELBO = "
            "E_q log p(x|z) - KL(q||p(z)); maximise the ELBO",
            sp.Integer(0),
            kl_q_post,
            relation="<=",
            sampler=kl_nonneg_sampler,
        ),
    ]


register(
    Formula(
        id="elbo-decomposition",
        title="ELBO decomposition of the log-likelihood",
        topic="vae",
        section="2",
        text="log p_theta(x) = E_z[log p_theta(x|z)] - D_KL(q_phi(z|x) || p_theta(z)) + "
        "D_KL(q_phi(z|x) || p_theta(z|x)). The last KL is intractable but >= 0; the first is "
        "the reconstruction term (clusters similar samples), the second pulls the posterior to "
        "the prior (continuity, interpolation). ELBO = reconstruction - KL; maximise it.",
        keywords=(
            "elbo",
            "evidence lower bound",
            "variational",
            "decomposition",
            "reconstruction",
            "vae",
            "lower bound",
            "posterior",
        ),
        statement_builder=_elbo_statement,
        derivation_builder=_elbo_derivation,
    )
)

# --------------------------------------------------------------------------------------------
# beta-vae-objective (KKT)


def _beta_vae_statement():
    import sympy as sp

    beta = sp.Symbol("beta", nonnegative=True)
    return sp.Eq(
        sp.Symbol("F(theta, phi; x)"),
        sp.Symbol("E_q log p_theta(x|z)") - beta * sp.Symbol("D_KL(q_phi(z|x)||p(z))"),
    )


def _beta_vae_derivation() -> list[Step]:
    import sympy as sp

    R, K = sp.symbols("R K", real=True)  # reconstruction term, KL term
    beta, delta = sp.symbols("beta delta", nonnegative=True)
    m = sp.Symbol("m", real=True)
    # a toy instance: reconstruction R(m) = -(m - 2)^2, KL of q = N(m, 1) to N(0, 1) = m^2 / 2
    R_m, K_m = -((m - 2) ** 2), m**2 / 2
    return [
        Step(
            "max R s.t. K < delta: Lagrangian (KKT) F = R - beta (K - delta), beta >= 0 with "
            "complementary slackness beta (K - delta) = 0",
            R - beta * (K - delta),
            (R - beta * K) + beta * delta,
        ),
        Step(
            "beta * delta >= 0 does not depend on theta, phi: maximising F is maximising "
            "R - beta K (the beta-VAE objective). Toy check, delta = 1/2: the constrained "
            "maximiser m = 1 (K(1) = delta, active) is a stationary point of R - beta K with "
            "beta = 2",
            sp.diff(R_m - 2 * K_m, m).subs(m, 1),
            sp.Integer(0),
        ),
        Step(
            "the multiplier from grad R = beta grad K at m = 1 is beta = 2 >= 0 (KKT holds)",
            (sp.diff(R_m, m) / sp.diff(K_m, m)).subs(m, 1),
            sp.Integer(2),
        ),
        Step(
            "and the constraint is active there: K(1) = delta = 1/2",
            K_m.subs(m, 1),
            sp.Rational(1, 2),
        ),
    ]


def beta_vae_objective(log_likelihood, mu, sigma, beta):
    """log p(x|z) - beta * KL(N(mu, diag sigma^2) || N(0, I)) (KL summed over the last axis)."""
    import numpy as np

    return as_float64(
        np.asarray(log_likelihood, dtype=np.float64)
        - np.asarray(beta, dtype=np.float64) * kl_gauss(mu, sigma)
    )


register(
    Formula(
        id="beta-vae-objective",
        title="beta-VAE objective from the KKT conditions",
        topic="vae",
        section="2.1",
        text="max E_x[E_{z~q_phi} log p_theta(x|z)] s.t. D_KL(q_phi(z|x) || p(z)) < delta, to "
        "disentangle; with KKT: max reconstruction - beta KL. beta > 1 pushes towards the "
        "factorised prior (disentanglement: distinct latent features for distinct factors of "
        "variation). Disentanglement can also be done semi-supervised, making z "
        "conditionally independent of given features y.",
        keywords=(
            "beta-vae",
            "beta vae",
            "kkt",
            "lagrangian",
            "disentanglement",
            "constraint",
            "semi-supervised",
        ),
        statement_builder=_beta_vae_statement,
        derivation_builder=_beta_vae_derivation,
        evaluator=beta_vae_objective,
    )
)

# --------------------------------------------------------------------------------------------
# reparametrisation and its gradient


def _reparam_statement():
    import sympy as sp

    mu, eps = sp.symbols("mu epsilon", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    return sp.Eq(sp.Symbol("z"), mu + sigma * eps)


def _reparam_derivation() -> list[Step]:
    import sympy as sp

    mu, eps = sp.symbols("mu epsilon", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    z = mu + sigma * eps
    pdf = _normal_pdf(sp, eps, 0, 1)
    return [
        Step(
            "E[z] = mu (eps ~ N(0, 1))",
            sp.Integral(z * pdf, (eps, -sp.oo, sp.oo)),
            mu,
        ),
        Step(
            "Var[z] = sigma^2, so z ~ N(mu, sigma^2) (affine map of a Gaussian)",
            sp.Integral((z - mu) ** 2 * pdf, (eps, -sp.oo, sp.oo)),
            sigma**2,
        ),
    ]


def reparametrisation(mu, sigma, eps):
    """z = mu + sigma * eps, eps ~ N(0, I): a differentiable sample of N(mu, diag sigma^2)."""
    import numpy as np

    return as_float64(
        np.asarray(mu, dtype=np.float64)
        + np.asarray(sigma, dtype=np.float64) * np.asarray(eps, dtype=np.float64)
    )


register(
    Formula(
        id="reparametrisation",
        title="Reparametrisation trick z = mu + sigma * eps",
        topic="vae",
        section="2",
        text="Backprop through the sample by reparametrisation: z = mu + sigma epsilon, "
        "epsilon ~ N(0, I). For inference use mu directly. Pipeline: x -> enc -> mu_{z|x}, "
        "Sigma_{z|x} -> sample z -> dec -> mu_{x|z}, Sigma_{x|z} -> sample x_hat.",
        keywords=(
            "reparametrisation",
            "reparameterization",
            "reparametrization trick",
            "sampling",
            "backprop",
            "epsilon",
        ),
        statement_builder=_reparam_statement,
        derivation_builder=_reparam_derivation,
        evaluator=reparametrisation,
    )
)


def _reparam_gradient_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("grad_phi E_{p_phi(z)} f(z)"), sp.Symbol("E_{p(eps)} grad_phi f(g(eps, phi))")
    )


def _reparam_gradient_derivation() -> list[Step]:
    import sympy as sp

    z, eps, mu = sp.symbols("z epsilon mu", real=True)
    sigma = sp.Symbol("sigma", positive=True)

    def f(v):
        return v**3 + sp.exp(v)

    p_phi = _normal_pdf(sp, z, mu, sigma**2)
    p_eps = _normal_pdf(sp, eps, 0, 1)
    g = mu + sigma * eps
    expectation = mu**3 + 3 * mu * sigma**2 + sp.exp(mu + sigma**2 / 2)
    sample = _gauss_params_sampler(mu, sigma)
    return [
        _quad_step(
            "concrete f(z) = z^3 + exp(z), p_phi = N(mu, sigma^2), phi = (mu, sigma): "
            "E_{p_phi} f(z) in closed form",
            p_phi * f(z),
            z,
            expectation,
            sample,
        ),
        _quad_step(
            "substitute z = g(eps, phi) = mu + sigma eps: int p_phi(z) f(z) dz = "
            "int p(eps) f(g(eps, phi)) d eps (p(eps) = N(0, 1) does not depend on phi)",
            p_eps * f(g),
            eps,
            expectation,
            sample,
        ),
        _quad_step(
            "so the gradient moves inside: grad_mu E = E_{p(eps)} grad_mu f(g(eps, phi))",
            p_eps * sp.diff(f(g), mu),
            eps,
            sp.diff(expectation, mu),
            sample,
        ),
        _quad_step(
            "likewise for sigma: grad_sigma E = E_{p(eps)} grad_sigma f(g(eps, phi))",
            p_eps * sp.diff(f(g), sigma),
            eps,
            sp.diff(expectation, sigma),
            sample,
        ),
    ]


def _reparam_gradient_evidence() -> Evidence:
    import mpmath

    mpmath.mp.dps = 30
    mu, sigma, z0 = mpmath.mpf("0.5"), mpmath.mpf("1.5"), mpmath.mpf("0.2")

    def g(e):
        return mu + sigma * e

    target = mpmath.quad(lambda z: mpmath.npdf(z, mu, sigma) * z**2, [-mpmath.inf, mpmath.inf])
    # the sheet keeps p_phi(z) but integrates over eps: a constant times int f(g(eps)) d eps,
    # which grows without bound with the integration range (here f(z) = z^2)
    partial = [
        mpmath.quad(lambda e: mpmath.npdf(z0, mu, sigma) * g(e) ** 2, [-r, r]) for r in (10, 100)
    ]
    correct = mpmath.quad(lambda e: mpmath.npdf(e) * g(e) ** 2, [-mpmath.inf, mpmath.inf])
    return Evidence(
        sheet_fails=bool(partial[1] > 10 * partial[0] and abs(partial[0] - target) > 1),
        correct_passes=bool(abs(correct - target) < 1e-20),
        detail=f"f(z) = z^2, mu = 0.5, sigma = 1.5: E_p_phi f = {mpmath.nstr(target, 8)}; "
        f"int p_phi(z) f(g(eps)) d eps over [-10, 10] = {mpmath.nstr(partial[0], 6)}, over "
        f"[-100, 100] = {mpmath.nstr(partial[1], 6)} (diverges); int p(eps) f(g(eps)) d eps = "
        f"{mpmath.nstr(correct, 8)}",
    )


register(
    Formula(
        id="reparametrisation-gradient",
        title="Expectation of the reparametrisation: gradient inside the expectation",
        topic="vae",
        section="13",
        text="grad_phi E_{p_phi(z)} f(z) = grad_phi int p(eps) f(g(eps, phi)) d eps = "
        "E_{p(eps)} grad_phi f(g(eps, phi)): after z = g(eps, phi) the distribution no longer "
        "depends on phi, so the gradient can be estimated by Monte Carlo.",
        keywords=(
            "reparametrisation gradient",
            "pathwise gradient",
            "reparameterization",
            "gradient estimator",
            "expectation",
            "proof",
        ),
        statement_builder=_reparam_gradient_statement,
        derivation_builder=_reparam_gradient_derivation,
        erratum=Erratum(
            sheet=r"\nabla_\phi \int p_\phi(z) f(z) dz = \nabla_\phi \int p_\phi(z) "
            r"f(g(\epsilon, \phi)) d\epsilon",
            correct=r"\nabla_\phi \int p_\phi(z) f(z) dz = \nabla_\phi \int p(\epsilon) "
            r"f(g(\epsilon, \phi)) d\epsilon",
            explanation="After the substitution z = g(eps, phi) the density is p(eps), the "
            "noise distribution, not p_phi(z); that is why the gradient can enter the integral.",
            evidence=_reparam_gradient_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# decoder log-likelihoods (the reconstruction term)


def _gauss_ll_statement():
    import sympy as sp

    x, mu = sp.symbols("x mu", real=True)
    s = sp.Symbol("sigma", positive=True)
    return sp.Eq(
        sp.Symbol("log p(x|z)"), -sp.log(2 * sp.pi * s**2) / 2 - (x - mu) ** 2 / (2 * s**2)
    )


def _gauss_ll_derivation() -> list[Step]:
    import sympy as sp

    x, mu = sp.symbols("x mu", real=True)
    s = sp.Symbol("sigma", positive=True)
    return [
        Step(
            "log of the Gaussian density: with fixed sigma the reconstruction term is a scaled "
            "negative squared error (MSE) plus a constant",
            sp.log(_normal_pdf(sp, x, mu, s**2)),
            -sp.log(2 * sp.pi * s**2) / 2 - (x - mu) ** 2 / (2 * s**2),
            assumptions="sigma > 0",
        ),
    ]


def vae_gaussian_log_likelihood(x, mu, sigma):
    """log N(x; mu, diag sigma^2), summed over the last axis."""
    import numpy as np

    x, mu, sigma = (np.asarray(a, dtype=np.float64) for a in (x, mu, sigma))
    per_dim = -0.5 * np.log(2 * np.pi * sigma**2) - (x - mu) ** 2 / (2 * sigma**2)
    return as_float64(per_dim.sum(axis=-1) if per_dim.ndim else per_dim)


register(
    Formula(
        id="vae-gaussian-log-likelihood",
        title="Gaussian decoder: reconstruction log-likelihood",
        topic="vae",
        section="2",
        text="With a Gaussian decoder p(x|z) = N(mu_{x|z}, sigma^2 I) the reconstruction term "
        "E_q log p(x|z) is -||x - mu||^2 / (2 sigma^2) - D/2 log(2 pi sigma^2): MSE.",
        keywords=("reconstruction", "gaussian decoder", "mse", "log-likelihood", "nll"),
        statement_builder=_gauss_ll_statement,
        derivation_builder=_gauss_ll_derivation,
        evaluator=vae_gaussian_log_likelihood,
    )
)


def _bern_ll_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    p = sp.Symbol("p", positive=True)
    return sp.Eq(sp.Symbol("log p(x|z)"), x * sp.log(p) + (1 - x) * sp.log(1 - p))


def vae_bernoulli_log_likelihood(x, p):
    """sum_d x_d log p_d + (1 - x_d) log(1 - p_d): minus the binary cross-entropy (last axis)."""
    import numpy as np

    x, p = np.asarray(x, dtype=np.float64), np.asarray(p, dtype=np.float64)
    per_dim = _xlogy(x, p) + _xlogy(1 - x, 1 - p)
    return as_float64(per_dim.sum(axis=-1) if per_dim.ndim else per_dim)


register(
    Formula(
        id="vae-bernoulli-log-likelihood",
        title="Bernoulli decoder: reconstruction log-likelihood (binary cross-entropy)",
        topic="vae",
        section="2",
        text="For binary data the decoder outputs probabilities p = mu_{x|z}: log p(x|z) = "
        "sum_d x_d log p_d + (1 - x_d) log(1 - p_d) = -BCE.",
        keywords=("bernoulli", "binary cross-entropy", "bce", "reconstruction", "decoder"),
        statement_builder=_bern_ll_statement,
        evaluator=vae_bernoulli_log_likelihood,
    )
)
