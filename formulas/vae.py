"""Variational autoencoders (sheet section 2, and the proofs "KL for ELBO" and "Expectation of
reparam." of section 13).

Every derivation is a chain from definitions to the printed statement. Densities are abstract
functions (q_phi(z|x), p_theta(z), ...) introduced by definition premises; steps between
integrals of abstract densities are checked numerically on a concrete instance (Gaussians at
random parameters: integrals by quadrature, derivatives by numerical differentiation), steps
between closed forms by sympy. Metadata at module level; sympy inside builders; numpy inside
evaluators.
"""

from __future__ import annotations

from formulas._chain import definition, numeric_value, spot_check
from formulas.core import (
    Claim,
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
# shared helpers: one source for the Gaussian densities and closed forms


def _normal_pdf(sp, x, mean, var):
    return sp.exp(-((x - mean) ** 2) / (2 * var)) / sp.sqrt(2 * sp.pi * var)


def _normal_log_pdf(sp, x, mean, var):
    """log N(x; mean, var), written as the course writes it."""
    return -sp.log(2 * sp.pi * var) / 2 - (x - mean) ** 2 / (2 * var)


def _cross_entropy_closed(sp, mu_p, s_p, mu_q, s_q):
    """int N(mu_p, s_p^2) log N(mu_q, s_q^2) (one dimension): the sheet's lemma."""
    return (
        -sp.log(2 * sp.pi) / 2 - sp.log(s_q**2) / 2 - (s_p**2 + (mu_p - mu_q) ** 2) / (2 * s_q**2)
    )


def _negative_entropy_closed(sp, s):
    return -sp.log(2 * sp.pi) / 2 - (sp.log(s**2) + 1) / 2


def _kl_gauss_closed(sp, mu, s):
    return sp.Rational(1, 2) * (s**2 + mu**2 - 1 - sp.log(s**2))


def _sampler(*symbols):
    """Real symbols in [-1.5, 1.5], positive ones in [0.3, 2] (rationals)."""

    def sample(rng):
        import sympy as sp

        return {
            s: sp.Rational(rng.randint(30, 200), 100)
            if s.is_positive
            else sp.Rational(rng.randint(-150, 150), 100)
            for s in symbols
        }

    return sample


def _xlogy(x, y):
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def _uses(step_premises):
    """{lhs: rhs} of premises, for spot checks (the same objects the chain states)."""
    return {premise.lhs: premise.rhs for premise in step_premises}


# --------------------------------------------------------------------------------------------
# kl-divergence (definition), non-negative and asymmetric


def _kl_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    p, q = sp.Function("p")(x), sp.Function("q")(x)
    return sp.Eq(sp.Symbol("D_KL(P||Q)"), sp.Integral(p * sp.log(p / q), (x, -sp.oo, sp.oo)))


def _two_point_kl(sp, a, b):
    """D_KL((a, 1-a) || (b, 1-b))."""
    return a * sp.log(a / b) + (1 - a) * sp.log((1 - a) / (1 - b))


def _kl_properties() -> list[Step]:
    import sympy as sp

    from formulas.core import Comparison

    a, b, c = sp.symbols("a b c", positive=True)

    def sample(rng):
        return {a: sp.Rational(rng.randint(1, 99), 100), b: sp.Rational(rng.randint(1, 99), 100)}

    def diagonal(rng):  # P = Q: c takes the value of a
        value = sp.Rational(rng.randint(1, 99), 100)
        return {a: value, c: value}

    def asymmetry() -> Comparison:
        pairs = [(sp.Rational(1, 10), sp.Rational(1, 2)), (sp.Rational(3, 10), sp.Rational(9, 10))]
        gaps = [
            abs(float(sp.N(_two_point_kl(sp, p, q) - _two_point_kl(sp, q, p), 30)))
            for p, q in pairs
        ]
        return Comparison(
            gaps,
            [0.0, 0.0],
            "|D_KL(P||Q) - D_KL(Q||P)| for P = (0.1, 0.9), Q = (0.5, 0.5) and P = (0.3, 0.7), "
            "Q = (0.9, 0.1)",
        )

    return [
        Step(
            "Gibbs' inequality D_KL(P||Q) >= 0: -D_KL = E_p log(q/p) <= log E_p(q/p) = 0 "
            "(Jensen, log concave); checked on two-point supports P = (a, 1-a), Q = (b, 1-b)",
            _two_point_kl(sp, a, b),
            sp.Integer(0),
            relation=">=",
            sampler=sample,
            method="numeric",
            assumptions="0 < a, b < 1",
        ),
        Step(
            "D_KL(P||P) = 0 (checked at random P = Q)",
            _two_point_kl(sp, a, c),
            sp.Integer(0),
            sampler=diagonal,
            method="numeric",
        ),
        Step(
            "not symmetric: D_KL(P||Q) != D_KL(Q||P) in general",
            relation=">",
            custom=asymmetry,
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
        definition=True,
        properties_builder=_kl_properties,
        evaluator=kl_divergence,
        sheet_lines=(24, 26),
    )
)

# --------------------------------------------------------------------------------------------
# gauss-cross-entropy: int p log q for Gaussians (the sheet's lemma in the KL proof)


def _lemma_symbols():
    import sympy as sp

    z = sp.Symbol("z", real=True)
    mu_p, mu_q = sp.symbols("mu_p mu_q", real=True)
    s_p, s_q = sp.symbols("sigma_p sigma_q", positive=True)
    p = sp.Function("p")(z)  # two densities of z: p(z), q(z)
    q = sp.Function("q")(z)
    return sp, z, mu_p, mu_q, s_p, s_q, p, q


def _cross_entropy_statement():
    sp, z, mu_p, mu_q, s_p, s_q, p, q = _lemma_symbols()
    return sp.Eq(
        sp.Integral(p * sp.log(q), (z, -sp.oo, sp.oo)),
        _cross_entropy_closed(sp, mu_p, s_p, mu_q, s_q),
    )


def _cross_entropy_derivation() -> list[Step]:
    sp, z, mu_p, mu_q, s_p, s_q, p, q = _lemma_symbols()
    R = (z, -sp.oo, sp.oo)
    p_def = definition("p(z) = N(z; mu_p, sigma_p^2)", p, _normal_pdf(sp, z, mu_p, s_p**2), "p")
    q_def = definition("q(z) = N(z; mu_q, sigma_q^2)", q, _normal_pdf(sp, z, mu_q, s_q**2), "q")
    sample = _sampler(mu_p, mu_q, s_p, s_q)
    log_q = _normal_log_pdf(sp, z, mu_q, s_q**2)
    split = -sp.log(2 * sp.pi * s_q**2) / 2 * sp.Integral(p, R) - sp.Integral(
        p * (z - mu_q) ** 2, R
    ) / (2 * s_q**2)
    normalised = Step(
        "lemma: a density integrates to one, int p(z) dz = 1",
        sp.Integral(p, R),
        sp.Integer(1),
        premise="lemma",
        name="normalised",
        custom=spot_check(sp.Integral(p, R), 1, sampler=sample, substitutions=_uses([p_def])),
        method="custom",
        tolerance=1e-12,
    )
    second_moment = Step(
        "lemma: E_p[(z - mu_q)^2] = Var_p(z) + (E_p z - mu_q)^2 = sigma_p^2 + (mu_p - mu_q)^2",
        sp.Integral(p * (z - mu_q) ** 2, R),
        s_p**2 + (mu_p - mu_q) ** 2,
        premise="lemma",
        name="moment",
        custom=spot_check(
            sp.Integral(p * (z - mu_q) ** 2, R),
            s_p**2 + (mu_p - mu_q) ** 2,
            sampler=sample,
            substitutions=_uses([p_def]),
        ),
        method="custom",
        tolerance=1e-12,
    )
    after_moments = -sp.log(2 * sp.pi * s_q**2) / 2 - (s_p**2 + (mu_p - mu_q) ** 2) / (2 * s_q**2)
    return [
        p_def,
        q_def,
        Step(
            "log of the Gaussian density q (one dimension; J dimensions add up term by term)",
            sp.Integral(p * sp.log(q), R),
            sp.Integral(p * log_q, R),
            uses=("q",),
            custom=spot_check(
                sp.Integral(p * sp.log(q), R),
                sp.Integral(p * log_q, R),
                sampler=sample,
                substitutions=_uses([p_def, q_def]),
            ),
            method="custom",
            tolerance=1e-12,
        ),
        Step(
            "linearity of the integral",
            rhs=split,
            custom=spot_check(
                sp.Integral(p * log_q, R),
                split,
                sampler=sample,
                substitutions=_uses([p_def]),
            ),
            method="custom",
            tolerance=1e-12,
        ),
        normalised,
        second_moment,
        Step(
            "insert the two lemmas",
            rhs=after_moments,
            uses=("normalised", "moment", "p"),
            custom=spot_check(split, after_moments, sampler=sample, substitutions=_uses([p_def])),
            method="custom",
            tolerance=1e-12,
        ),
        Step(
            "log(2 pi sigma_q^2) = log 2 pi + log sigma_q^2",
            rhs=_cross_entropy_closed(sp, mu_p, s_p, mu_q, s_q),
            assumptions="sigma_q > 0",
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
        sheet_lines=(371, 373),
    )
)

# --------------------------------------------------------------------------------------------
# gauss-negative-entropy: int q log q (erratum: sign of the J/2 log 2 pi term)


def _posterior_symbols():
    """The setting of the sheet's "KL for ELBO": q(z|x) = N(mu, sigma^2), p(z) = N(0, 1)."""
    import sympy as sp

    z, mu = sp.symbols("z mu", real=True)
    s = sp.Symbol("sigma", positive=True)
    from formulas.notation import conditional

    q = conditional("q")(z, sp.Symbol("x", real=True))  # q(z | x)
    p = sp.Function("p")(z)
    return sp, z, mu, s, q, p


def _neg_entropy_statement():
    sp, z, mu, s, q, _ = _posterior_symbols()
    return sp.Eq(sp.Integral(q * sp.log(q), (z, -sp.oo, sp.oo)), _negative_entropy_closed(sp, s))


def _neg_entropy_derivation() -> list[Step]:
    sp, z, mu, s, q, _ = _posterior_symbols()
    R = (z, -sp.oo, sp.oo)
    q_def = definition("q(z|x) = N(z; mu, sigma^2)", q, _normal_pdf(sp, z, mu, s**2), "q")
    lemma = definition(
        "lemma gauss-cross-entropy (int p log q for two Gaussians), taken with p = q",
        sp.Integral(q * sp.log(q), R),
        _cross_entropy_closed(sp, mu, s, mu, s),
        "lemma",
        premise="formula:gauss-cross-entropy",
    )
    return [
        q_def,
        lemma,
        Step(
            "p = q = N(mu, sigma^2) in the lemma: -1/2 log 2 pi - 1/2 log sigma^2 - sigma^2 / "
            "(2 sigma^2) = -1/2 log 2 pi - 1/2 (log sigma^2 + 1) (one dimension; J add up)",
            sp.Integral(q * sp.log(q), R),
            _negative_entropy_closed(sp, s),
            uses=("q", "lemma"),
            custom=spot_check(
                sp.Integral(q * sp.log(q), R),
                _negative_entropy_closed(sp, s),
                sampler=_sampler(mu, s),
                substitutions=_uses([q_def]),
            ),
            method="custom",
            tolerance=1e-12,
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
    return compare_forms(
        reference=float(reference),
        sheet=float(sheet),
        correct=float(correct),
        reference_name="int q log q by quadrature",
        where="J = 1, mu = 0.3, sigma = 0.7",
        tolerance=1e-12,
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
        sheet_lines=(375, 377),
        erratum=Erratum(
            sheet=r"\int q(z|x) \log q(z|x) dz = \frac{J}{2}\log 2\pi - \frac{1}{2}\sum_j "
            r"(\log\sigma_j^2 + 1)",
            correct=r"\int q(z|x) \log q(z|x) dz = -\frac{J}{2}\log 2\pi - \frac{1}{2}\sum_j "
            r"(\log\sigma_j^2 + 1)",
            explanation="In the proof 'KL for ELBO' the sheet prints int q log q with +J/2 "
            "log 2 pi. The normalising constant of a Gaussian contributes -J/2 log 2 pi (as in "
            "the int q log p line just above). The sheet's next line, -D_KL = 1/2 sum (1 + log "
            "sigma^2 - mu^2 - sigma^2), is right and needs the minus sign (the log 2 pi terms "
            "cancel), so the intended form is clear: a sign slip.",
            evidence=_neg_entropy_evidence,
            severity="typo",
            sheet_lines=(375, 377),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# kl-gauss: KL(N(mu, sigma^2) || N(0, 1)) = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2), the proof


def _kl_gauss_statement():
    sp, z, mu, s, q, p = _posterior_symbols()
    # one latent dimension; the vector form sums this over j = 1..J
    return sp.Eq(_kl_posterior_prior(), _kl_gauss_closed(sp, mu, s))


def _kl_posterior_prior():
    """D_KL(q(z | x) || p(z)): the divergence of the encoder's posterior from the prior."""
    import sympy as sp

    from formulas.notation import conditional, divergence

    z, x = sp.symbols("z x", real=True)
    return divergence("D_KL")(conditional("q")(z, x), sp.Function("p")(z))


def _kl_gauss_derivation() -> list[Step]:
    sp, z, mu, s, q, p = _posterior_symbols()
    R = (z, -sp.oo, sp.oo)
    kl = _kl_posterior_prior()
    q_def = definition("q(z|x) = N(z; mu, sigma^2)", q, _normal_pdf(sp, z, mu, s**2), "q")
    p_def = definition("p(z) = N(z; 0, 1)", p, _normal_pdf(sp, z, 0, 1), "p")
    kl_def = definition(
        "definition of KL (formula kl-divergence) with P = q(z|x), Q = p(z)",
        kl,
        sp.Integral(q * sp.log(q / p), R),
        "kl",
        premise="formula:kl-divergence",
    )
    entropy = definition(
        "int q log q = -1/2 log 2 pi - 1/2 (log sigma^2 + 1) (formula gauss-negative-entropy)",
        sp.Integral(q * sp.log(q), R),
        _negative_entropy_closed(sp, s),
        "entropy",
        premise="formula:gauss-negative-entropy",
    )
    cross = definition(
        "int q log p = -1/2 log 2 pi - 1/2 (sigma^2 + mu^2): the lemma gauss-cross-entropy "
        "with N(mu, sigma^2) in the role of p and N(0, 1) in the role of q",
        sp.Integral(q * sp.log(p), R),
        _cross_entropy_closed(sp, mu, s, 0, 1),
        "cross",
        premise="formula:gauss-cross-entropy",
    )
    split = sp.Integral(q * sp.log(q), R) - sp.Integral(q * sp.log(p), R)
    # kept unevaluated, so the two Gaussian integrals stay visible before the cancellation
    inserted = sp.Add(
        _negative_entropy_closed(sp, s),
        sp.Mul(-1, _cross_entropy_closed(sp, mu, s, 0, 1), evaluate=False),
        evaluate=False,
    )
    sample = _sampler(mu, s)
    densities = _uses([q_def, p_def])
    return [
        q_def,
        p_def,
        kl_def,
        Step(
            "KL is the expectation under q of log q - log p: split the log of the quotient "
            "(one dimension; J dimensions add up because both densities factorise)",
            kl,
            split,
            uses=("kl", "q", "p"),
            custom=spot_check(
                sp.Integral(q * sp.log(q / p), R), split, sampler=sample, substitutions=densities
            ),
            method="custom",
            tolerance=1e-12,
        ),
        entropy,
        cross,
        Step(
            "insert the two Gaussian integrals (the sheet prints +J/2 log 2 pi for int q log "
            "q: a sign slip, see the erratum of gauss-negative-entropy)",
            rhs=inserted,
            uses=("entropy", "cross"),
            custom=spot_check(split, inserted, sampler=sample, substitutions=densities),
            method="custom",
            tolerance=1e-12,
        ),
        Step(
            "the log 2 pi terms cancel: D_KL = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2), i.e. "
            "-D_KL = 1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)",
            rhs=_kl_gauss_closed(sp, mu, s),
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
        latex_override=r"D_{KL}(q(z \mid x) \| p(z)) = "
        r"\frac{1}{2}\left(\sigma^2 + \mu^2 - 1 - \log \sigma^2\right)",
        derivation_builder=_kl_gauss_derivation,
        evaluator=kl_gauss,
        sheet_lines=(371, 379),
    )
)

# --------------------------------------------------------------------------------------------
# marginal likelihood (definition) and elbo-decomposition


def _latent_model():
    """Abstract densities of the VAE (x fixed) and a concrete instance for the spot checks:
    z ~ N(0, 1), x | z ~ N(w z, s^2), so p(x) = N(0, w^2 + s^2) and p(z|x) is Gaussian;
    q = N(m, v)."""
    import sympy as sp

    z, x, m = sp.symbols("z x m", real=True)
    w, s, v = sp.symbols("w s v", positive=True)
    from formulas.notation import conditional

    q, p = conditional("q_phi"), conditional("p_theta")  # q_phi(z | x), p_theta(x | z), ...
    densities = {
        "q": q(z, x),
        "prior": p(z),
        "likelihood": p(x, z),
        "posterior": p(z, x),
        "evidence": p(x),
    }
    instance = {
        densities["q"]: _normal_pdf(sp, z, m, v),
        densities["prior"]: _normal_pdf(sp, z, 0, 1),
        densities["likelihood"]: _normal_pdf(sp, x, w * z, s**2),
        densities["posterior"]: _normal_pdf(sp, z, w * x / (w**2 + s**2), s**2 / (w**2 + s**2)),
        densities["evidence"]: _normal_pdf(sp, x, 0, w**2 + s**2),
    }

    def sample(rng):
        return {
            x: sp.Rational(rng.randint(-200, 200), 100),
            m: sp.Rational(rng.randint(-100, 100), 100),
            w: sp.Rational(rng.randint(30, 200), 100),
            s: sp.Rational(rng.randint(30, 150), 100),
            v: sp.Rational(rng.randint(20, 150), 100),
        }

    return sp, z, x, densities, instance, sample


def _marginal_statement():
    sp, z, x, d, _, _ = _latent_model()
    return sp.Eq(d["evidence"], sp.Integral(d["likelihood"] * d["prior"], (z, -sp.oo, sp.oo)))


def _marginal_properties() -> list[Step]:
    sp, z, x, d, instance, sample = _latent_model()
    marginal = sp.Integral(d["likelihood"] * d["prior"], (z, -sp.oo, sp.oo))
    return [
        Step(
            "in the linear-Gaussian instance (z ~ N(0, 1), x|z ~ N(w z, s^2)) the integral is "
            "the density N(x; 0, w^2 + s^2)",
            marginal,
            d["evidence"],
            custom=spot_check(marginal, d["evidence"], sampler=sample, substitutions=instance),
            method="custom",
            tolerance=1e-12,
        ),
    ]


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
        definition=True,
        properties_builder=_marginal_properties,
        sheet_lines=(22, 28),
    )
)


def _elbo_terms(sp):
    """E_{z ~ q_phi(z|x)}[log p_theta(x|z)], D_KL(q_phi(z|x) || p_theta(z)) and
    D_KL(q_phi(z|x) || p_theta(z|x)), built from the densities of `_latent_model`."""
    from formulas.notation import divergence, expectation

    _, _, _, d, _, _ = _latent_model()
    q = d["q"]
    within = expectation(r"z \sim q_{\phi}(z \mid x)", "z~q_φ(z|x)")
    return (
        within(sp.log(d["likelihood"])),
        divergence("D_KL")(q, d["prior"]),
        divergence("D_KL")(q, d["posterior"]),
    )


def _elbo_statement():
    import sympy as sp

    reconstruction, kl_prior, kl_posterior = _elbo_terms(sp)
    _, _, _, d, _, _ = _latent_model()
    return sp.Eq(sp.log(d["evidence"]), reconstruction - kl_prior + kl_posterior)


def _elbo_derivation() -> Derivation:
    sp, z, x, d, instance, sample = _latent_model()
    q, prior, lik, post, evidence = (
        d[k] for k in ("q", "prior", "likelihood", "posterior", "evidence")
    )
    R = (z, -sp.oo, sp.oo)
    reconstruction, kl_prior, kl_posterior = _elbo_terms(sp)

    def check(lhs, rhs):
        return spot_check(lhs, rhs, sampler=sample, substitutions=instance)

    normalised = definition(
        "q_phi(z|x) is a density in z: int q dz = 1",
        sp.Integral(q, R),
        1,
        "normalised",
        premise="assumption",
    )
    bayes = definition(
        "Bayes' rule: p_theta(z|x) = p_theta(x|z) p_theta(z) / p_theta(x)",
        post,
        lik * prior / evidence,
        "bayes",
        premise="assumption",
    )
    with_q = sp.Integral(q * sp.log(evidence), R)
    bayes_form = sp.Integral(q * sp.log(lik * prior / post), R)
    inserted = sp.Integral(q * (sp.log(lik) - sp.log(q / prior) + sp.log(q / post)), R)
    split = (
        sp.Integral(q * sp.log(lik), R)
        - sp.Integral(q * sp.log(q / prior), R)
        + sp.Integral(q * sp.log(q / post), R)
    )
    rec_def = definition(
        "reconstruction term: E_q log p_theta(x|z) = int q log p_theta(x|z) dz",
        reconstruction,
        sp.Integral(q * sp.log(lik), R),
        "reconstruction",
    )
    kl1 = definition(
        "KL to the prior (formula kl-divergence)",
        kl_prior,
        sp.Integral(q * sp.log(q / prior), R),
        "kl-prior",
        premise="formula:kl-divergence",
    )
    kl2 = definition(
        "KL to the true posterior (formula kl-divergence)",
        kl_posterior,
        sp.Integral(q * sp.log(q / post), R),
        "kl-posterior",
        premise="formula:kl-divergence",
    )
    return Derivation(
        [
            normalised,
            Step(
                "log p_theta(x) does not depend on z and q integrates to one: log p(x) = "
                "E_q log p(x)",
                sp.log(evidence),
                with_q,
                uses=("normalised",),
                custom=check(sp.log(evidence), with_q),
                method="custom",
                tolerance=1e-12,
            ),
            bayes,
            Step(
                "Bayes' rule inside the log: p(x) = p(x|z) p(z) / p(z|x) for every z",
                rhs=bayes_form,
                uses=("bayes",),
                custom=check(with_q, bayes_form),
                method="custom",
                tolerance=1e-12,
            ),
            Step(
                "multiply and divide by q: log(p(x|z) p(z) / p(z|x)) = log p(x|z) - log(q / "
                "p(z)) + log(q / p(z|x))",
                rhs=inserted,
                custom=check(bayes_form, inserted),
                method="custom",
                tolerance=1e-12,
            ),
            Step(
                "linearity of the integral",
                rhs=split,
                custom=check(inserted, split),
                method="custom",
                tolerance=1e-12,
            ),
            rec_def,
            kl1,
            kl2,
            Step(
                "name the three integrals: reconstruction - KL(q || prior) + KL(q || "
                "posterior). The last KL is intractable but >= 0 (kl-divergence), so log "
                "p(x) >= ELBO = reconstruction - KL(q || prior): maximise the ELBO",
                rhs=reconstruction - kl_prior + kl_posterior,
                uses=("reconstruction", "kl-prior", "kl-posterior"),
                custom=spot_check(
                    split,
                    reconstruction - kl_prior + kl_posterior,
                    sampler=sample,
                    substitutions={**instance, **_uses([rec_def, kl1, kl2])},
                ),
                method="custom",
                tolerance=1e-12,
            ),
        ]
    )


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
        latex_override=r"\log p_\theta(x) = "
        r"\mathbb{E}_{z \sim q_\phi(z \mid x)}[\log p_\theta(x \mid z)] - "
        r"D_{KL}(q_\phi(z \mid x) \| p_\theta(z)) + D_{KL}(q_\phi(z \mid x) \| p_\theta(z \mid x))",
        derivation_builder=_elbo_derivation,
        sheet_lines=(28, 30),
    )
)

# --------------------------------------------------------------------------------------------
# beta-vae-objective (KKT)


def _beta_vae_symbols():
    import sympy as sp

    from formulas.notation import conditional, divergence, expectation

    beta, delta = sp.symbols("beta delta", nonnegative=True)
    theta, phi, x, z = sp.symbols("theta phi x z", real=True)
    q = conditional("q_phi")(z, x)
    reconstruction = expectation(r"z \sim q_{\phi}(z \mid x)", "z~q_φ(z|x)")(
        sp.log(conditional("p_theta")(x, z))
    )
    kl = divergence("D_KL")(q, sp.Function("p")(z))
    lagrangian = sp.Function("F")(theta, phi, beta, x)  # F(theta, phi, beta; x)
    return sp, beta, delta, reconstruction, kl, lagrangian


def _beta_vae_statement():
    sp, beta, delta, reconstruction, kl, lagrangian = _beta_vae_symbols()
    return sp.Eq(lagrangian, reconstruction - beta * kl + beta * delta)


def _beta_vae_derivation() -> list[Step]:
    sp, beta, delta, reconstruction, kl, lagrangian = _beta_vae_symbols()
    kkt = sp.Add(reconstruction, -beta * (kl - delta), evaluate=False)
    return [
        definition(
            "KKT: the Lagrangian of max reconstruction s.t. D_KL < delta is F = reconstruction "
            "- beta (D_KL - delta), with multiplier beta >= 0 (Higgins et al. 2017, eq. 2-3)",
            lagrangian,
            kkt,
            "lagrangian",
        ),
        Step("write out the Lagrangian", lagrangian, kkt, uses=("lagrangian",)),
        Step(
            "expand: beta delta does not depend on theta, phi, so maximising F over theta, phi "
            "maximises reconstruction - beta D_KL, the beta-VAE objective (beta = 1: the ELBO)",
            rhs=reconstruction - beta * kl + beta * delta,
        ),
    ]


def beta_vae_objective(log_likelihood, mu, sigma, beta):
    """log p(x|z) - beta * KL(N(mu, diag sigma^2) || N(0, I)) (KL summed over the last axis):
    the Lagrangian without the constant beta * delta."""
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
        "conditionally independent of given features y. evaluate: reconstruction - beta KL "
        "(the constant beta delta dropped).",
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
        latex_override=r"F(\theta, \phi, \beta; x) = "
        r"\mathbb{E}_{q_\phi}[\log p_\theta(x \mid z)] - \beta "
        r"D_{KL}(q_\phi(z \mid x) \| p(z)) + \beta \delta",
        derivation_builder=_beta_vae_derivation,
        evaluator=beta_vae_objective,
        sheet_lines=(38, 38),
    )
)

# --------------------------------------------------------------------------------------------
# reparametrisation (definition) and its gradient (proof)


def _reparam_symbols():
    import sympy as sp

    mu, eps, t = sp.symbols("mu epsilon t", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    return sp, mu, eps, sigma, t


def _reparam_statement():
    sp, mu, eps, sigma, _ = _reparam_symbols()
    return sp.Eq(sp.Symbol("z"), mu + sigma * eps)


def _reparam_properties() -> list[Step]:
    sp, mu, eps, sigma, t = _reparam_symbols()
    z = mu + sigma * eps
    pdf = _normal_pdf(sp, eps, 0, 1)
    R = (eps, -sp.oo, sp.oo)
    return [
        Step("E[z] = mu for eps ~ N(0, 1)", sp.Integral(z * pdf, R), mu),
        Step("Var[z] = sigma^2", sp.Integral((z - mu) ** 2 * pdf, R), sigma**2),
        Step(
            "z ~ N(mu, sigma^2): P(z <= t) = P(eps <= (t - mu) / sigma) is the N(mu, sigma^2) "
            "distribution function",
            sp.Integral(pdf, (eps, -sp.oo, (t - mu) / sigma)),
            sp.Integral(_normal_pdf(sp, eps, mu, sigma**2), (eps, -sp.oo, t)),
        ),
        Step(
            "z is differentiable in (mu, sigma): dz/dsigma = eps (and dz/dmu = 1), so "
            "gradients flow through the sample",
            sp.Derivative(z, sigma),
            eps,
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
        definition=True,
        properties_builder=_reparam_properties,
        evaluator=reparametrisation,
        sheet_lines=(32, 34),
    )
)


def _gradient_setting():
    """phi a scalar parameter; p_phi(z) = N(mu(phi), sigma(phi)^2), z = g(eps, phi) =
    mu(phi) + sigma(phi) eps. The concrete instance for the checks: mu(phi) = phi^2 - 1/2,
    sigma(phi) = exp(phi / 2) (both move with phi) and f(z) = z^3 + exp(z)."""
    import sympy as sp

    z, eps, phi, u = sp.symbols("z epsilon phi u", real=True)
    f, g = sp.Function("f"), sp.Function("g")
    mu_of, sigma_of = sp.Function("mu"), sp.Function("sigma")
    from formulas.notation import expectation

    p_phi = sp.Function("p_phi")(z)
    p_eps = sp.Function("p")(eps)
    # E_{z ~ p_phi(z)}[f(z)] and E_{eps ~ p(eps)}[d/dphi f(g(eps, phi))]
    expect_phi = expectation(r"z \sim p_{\phi}(z)", "z~p_φ(z)")(f(z))
    expect_eps = expectation(r"\epsilon \sim p(\epsilon)", "ε~p(ε)")(
        sp.Derivative(f(g(eps, phi)), phi)
    )
    functions = {
        f: sp.Lambda(u, u**3 + sp.exp(u)),
        mu_of: sp.Lambda(u, u**2 - sp.Rational(1, 2)),
        sigma_of: sp.Lambda(u, sp.exp(u / 2)),
    }

    def sample(rng):
        return {phi: sp.Rational(rng.randint(-80, 80), 100)}

    return (
        sp,
        z,
        eps,
        phi,
        f,
        g,
        mu_of,
        sigma_of,
        p_phi,
        p_eps,
        expect_phi,
        expect_eps,
        (
            functions,
            sample,
        ),
    )


def _reparam_gradient_statement():
    sp, z, eps, phi, f, g, *_, expect_phi, expect_eps, _ = _gradient_setting()
    return sp.Eq(sp.Derivative(expect_phi, phi), expect_eps)


def _reparam_gradient_derivation() -> list[Step]:
    (
        sp,
        z,
        eps,
        phi,
        f,
        g,
        mu_of,
        sigma_of,
        p_phi,
        p_eps,
        expect_phi,
        expect_eps,
        (functions, sample),
    ) = _gradient_setting()
    R_z, R_eps = (z, -sp.oo, sp.oo), (eps, -sp.oo, sp.oo)
    family = definition(
        "the family: p_phi(z) = N(z; mu(phi), sigma(phi)^2)",
        p_phi,
        _normal_pdf(sp, z, mu_of(phi), sigma_of(phi) ** 2),
        "family",
    )
    g_def = definition(
        "the reparametrisation z = g(eps, phi) = mu(phi) + sigma(phi) eps",
        g(eps, phi),
        mu_of(phi) + sigma_of(phi) * eps,
        "g",
    )
    noise = definition(
        "the noise eps ~ p(eps) = N(0, 1), free of phi", p_eps, _normal_pdf(sp, eps, 0, 1), "noise"
    )
    expectation = definition(
        "expectation under p_phi: E_{p_phi(z)}[f(z)] = int p_phi(z) f(z) dz",
        expect_phi,
        sp.Integral(p_phi * f(z), R_z),
        "expectation",
    )
    inside = sp.Integral(p_eps * sp.Derivative(f(g(eps, phi)), phi), R_eps)
    expectation_eps = definition(
        "expectation under p(eps) of the pathwise derivative",
        expect_eps,
        inside,
        "expectation-eps",
    )
    by_parts = sp.Derivative(sp.Integral(p_phi * f(z), R_z), phi)
    substituted = sp.Derivative(sp.Integral(p_eps * f(g(eps, phi)), R_eps), phi)
    everything = _uses([family, g_def, noise, expectation, expectation_eps])

    def check(lhs, rhs):
        return spot_check(
            lhs,
            rhs,
            sampler=sample,
            substitutions=everything,
            functions=functions,
            what="mu(phi) = phi^2 - 1/2, sigma(phi) = exp(phi/2), f(z) = z^3 + exp(z)",
        )

    return [
        expectation,
        Step(
            "write the expectation as an integral",
            sp.Derivative(expect_phi, phi),
            by_parts,
            uses=("expectation",),
            custom=check(sp.Derivative(expect_phi, phi), by_parts),
            method="custom",
            tolerance=1e-12,
        ),
        family,
        g_def,
        noise,
        Step(
            "substitute z = g(eps, phi): p_phi(z) dz = p(eps) d eps (dz = sigma(phi) d eps and "
            "p_phi(g(eps, phi)) sigma(phi) = p(eps)); the density is now p(eps), not p_phi(z)",
            rhs=substituted,
            uses=("family", "g", "noise"),
            custom=check(by_parts, substituted),
            method="custom",
            tolerance=1e-12,
        ),
        Step(
            "p(eps) does not depend on phi, so the derivative moves inside the integral",
            rhs=inside,
            custom=check(substituted, inside),
            method="custom",
            tolerance=1e-12,
        ),
        expectation_eps,
        Step(
            "an expectation under p(eps): estimate it by Monte Carlo with samples of eps",
            rhs=expect_eps,
            uses=("expectation-eps",),
            custom=check(inside, expect_eps),
            method="custom",
            tolerance=1e-12,
        ),
    ]


def _reparam_gradient_evidence() -> Evidence:
    """The sheet's middle form, int p_phi(z) f(g(eps, phi)) d eps, has z free; read with z =
    g(eps, phi) it misses the Jacobian sigma(phi) of the substitution. All three gradients by
    quadrature and numerical differentiation, f(z) = z^2, mu(phi) = phi, sigma(phi) = 1 + phi^2
    at phi = 0.5."""
    import mpmath

    mpmath.mp.dps = 30
    phi0 = mpmath.mpf("0.5")

    def mu(p):
        return p

    def sigma(p):
        return 1 + p**2

    def f(z):
        return z**2

    def g(e, p):
        return mu(p) + sigma(p) * e

    inf = mpmath.inf

    def expectation(p):
        return mpmath.quad(lambda z: mpmath.npdf(z, mu(p), sigma(p)) * f(z), [-inf, 0, inf])

    def sheet_form(p):  # p_phi evaluated at z = g(eps, phi), integrated d eps
        return mpmath.quad(
            lambda e: mpmath.npdf(g(e, p), mu(p), sigma(p)) * f(g(e, p)), [-inf, 0, inf]
        )

    def right_form(p):
        return mpmath.quad(lambda e: mpmath.npdf(e) * f(g(e, p)), [-inf, 0, inf])

    reference = mpmath.diff(expectation, phi0)
    # and the sheet's form with a fixed z (z = 0.2) depends on that arbitrary z:
    fixed = [
        mpmath.diff(
            lambda p, z0=z0: mpmath.quad(
                lambda e: mpmath.npdf(z0, mu(p), sigma(p)) * f(g(e, p)), [-10, 10]
            ),
            phi0,
        )
        for z0 in (mpmath.mpf("0.2"), mpmath.mpf("1.0"))
    ]
    evidence = compare_forms(
        reference=float(reference),
        sheet=float(mpmath.diff(sheet_form, phi0)),
        correct=float(mpmath.diff(right_form, phi0)),
        reference_name="d/dphi E_{p_phi} f(z) (quadrature, then numerical derivative)",
        where="f(z) = z^2, mu(phi) = phi, sigma(phi) = 1 + phi^2, phi = 0.5; the sheet's form "
        "read with z = g(eps, phi)",
        tolerance=1e-12,
    )
    detail = (
        f"{evidence.detail}. Read with a fixed z instead, the sheet's form (eps over [-10, 10]) "
        f"is {float(fixed[0]):.6g} at z = 0.2 and {float(fixed[1]):.6g} at z = 1.0: it depends "
        "on that z."
    )
    return Evidence(evidence.sheet_fails, evidence.correct_passes, detail)


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
        sheet_lines=(391, 395),
        erratum=Erratum(
            sheet=r"\nabla_\phi \int p_\phi(z) f(z) dz = \nabla_\phi \int p_\phi(z) "
            r"f(g(\epsilon, \phi)) d\epsilon",
            correct=r"\nabla_\phi \int p_\phi(z) f(z) dz = \nabla_\phi \int p(\epsilon) "
            r"f(g(\epsilon, \phi)) d\epsilon",
            explanation="In the proof 'Expectation of reparam.' the sheet substitutes z = "
            "g(eps, phi) but keeps the density p_phi(z) while integrating over eps. As printed "
            "z is left free (the value depends on it); read as p_phi(g(eps, phi)) d eps it "
            "misses the Jacobian dz = sigma d eps. After the substitution the density is "
            "p(eps), which does not depend on phi: that is the step that lets the gradient "
            "move inside, so the proof's key step is wrong as printed.",
            evidence=_reparam_gradient_evidence,
            severity="error",
            sheet_lines=(393, 393),
        ),
    )
)

register_claim(
    Claim(
        id="reparam-proof-repeated-line",
        topic="vae",
        section="13",
        sheet_lines=(391, 393),
        sheet="... = \\nabla_\\phi \\int p_\\phi(z) f(z) dz = \\nabla_\\phi \\int p_\\phi(z) f(z) "
        "dz = ...",
        verdict="typo",
        explanation="The proof 'Expectation of reparam.' writes the same expression "
        "grad_phi int p_phi(z) f(z) dz twice in a row (end of line 391, start of line 393): a "
        "repeated line, harmless but it hides that the next equality is the substitution "
        "z = g(eps, phi).",
        source="Kingma & Welling 2014, Sec. 2.4",
        correct="grad_phi E_{p_phi(z)} f(z) = grad_phi int p_phi(z) f(z) dz = grad_phi int "
        "p(eps) f(g(eps, phi)) d eps = E_{p(eps)} grad_phi f(g(eps, phi))",
    )
)

# --------------------------------------------------------------------------------------------
# decoder log-likelihoods (the reconstruction term)


def _gauss_ll_symbols():
    import sympy as sp

    x, mu = sp.symbols("x mu", real=True)
    s = sp.Symbol("sigma", positive=True)
    return sp, x, mu, s, _log_likelihood()


def _gauss_ll_statement():
    sp, x, mu, s, log_lik = _gauss_ll_symbols()
    return sp.Eq(log_lik, _normal_log_pdf(sp, x, mu, s**2))


def _gauss_ll_derivation() -> list[Step]:
    sp, x, mu, s, log_lik = _gauss_ll_symbols()
    decoder = definition(
        "Gaussian decoder: p(x|z) = N(x; mu_{x|z}, sigma^2) (one dimension; D add up)",
        log_lik.args[0],
        _normal_pdf(sp, x, mu, s**2),
        "decoder",
    )
    quotient = -((x - mu) ** 2) / (2 * s**2) - sp.log(sp.sqrt(2 * sp.pi * s**2))
    return [
        decoder,
        Step(
            "the log of the density",
            log_lik,
            sp.log(_normal_pdf(sp, x, mu, s**2)),
            uses=("decoder",),
        ),
        Step("log of a quotient, log exp(u) = u", rhs=quotient, assumptions="sigma > 0"),
        Step(
            "log sqrt(a) = log(a) / 2: with fixed sigma the reconstruction term is a scaled "
            "negative squared error (MSE) plus a constant",
            rhs=_normal_log_pdf(sp, x, mu, s**2),
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
        sheet_lines=(28, 28),
        derivation_builder=_gauss_ll_derivation,
        evaluator=vae_gaussian_log_likelihood,
    )
)


def _bern_symbols():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    p = sp.Symbol("p", positive=True)
    return sp, x, p, _log_likelihood()


def _log_likelihood():
    """log p_theta(x | z): the decoder's log-likelihood of x given the code z."""
    import sympy as sp

    from formulas.notation import conditional

    return sp.log(conditional("p_theta")(*sp.symbols("x z", real=True)))


def _bern_ll_statement():
    sp, x, p, log_lik = _bern_symbols()
    return sp.Eq(log_lik, x * sp.log(p) + (1 - x) * sp.log(1 - p))


def _bern_ll_derivation() -> list[Step]:
    sp, x, p, log_lik = _bern_symbols()
    pmf = p**x * (1 - p) ** (1 - x)

    def sample(rng):  # x in {0, 1}, p in (0, 1)
        return {x: sp.Integer(rng.randint(0, 1)), p: sp.Rational(rng.randint(1, 99), 100)}

    return [
        definition(
            "Bernoulli decoder: p(x|z) = p^x (1 - p)^(1 - x), p = mu_{x|z}, x in {0, 1}",
            log_lik.args[0],
            pmf,
            "decoder",
        ),
        Step("the log of the mass function", log_lik, sp.log(pmf), uses=("decoder",)),
        Step(
            "log of a product of powers: x log p + (1 - x) log(1 - p) = -BCE",
            rhs=x * sp.log(p) + (1 - x) * sp.log(1 - p),
            sampler=sample,
            method="numeric",
            assumptions="x in {0, 1}, 0 < p < 1",
        ),
    ]


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
        sheet_lines=(28, 28),
        derivation_builder=_bern_ll_derivation,
        evaluator=vae_bernoulli_log_likelihood,
    )
)

# --------------------------------------------------------------------------------------------
# claims in words (sheet section 2)


def _elbo_bound_evidence() -> Evidence:
    """In the linear-Gaussian model (z ~ N(0, 1), x|z ~ N(w z, s^2)) the ELBO of random
    Gaussian q stays below log p(x), and equals it at q = the true posterior (quadrature)."""
    import random

    import sympy as sp

    _, z, x, d, instance, _ = _latent_model()
    m, v = sp.Symbol("m", real=True), sp.Symbol("v", positive=True)
    w, s = sp.symbols("w s", positive=True)
    q, prior, lik = d["q"], d["prior"], d["likelihood"]
    R = (z, -sp.oo, sp.oo)
    elbo = sp.Integral(q * sp.log(lik), R) - sp.Integral(q * sp.log(q / prior), R)
    elbo = elbo.xreplace(instance)
    log_evidence = sp.log(d["evidence"]).xreplace(instance)
    rng = random.Random(2)
    gaps, at_posterior = [], None
    point = {x: sp.Rational(7, 10), w: sp.Rational(3, 2), s: sp.Rational(4, 5)}
    for _ in range(4):
        values = {
            **point,
            m: sp.Rational(rng.randint(-100, 100), 100),
            v: sp.Rational(rng.randint(20, 150), 100),
        }
        gaps.append(numeric_value(log_evidence, values).real - numeric_value(elbo, values).real)
    posterior = {
        **point,
        m: point[w] * point[x] / (point[w] ** 2 + point[s] ** 2),
        v: point[s] ** 2 / (point[w] ** 2 + point[s] ** 2),
    }
    at_posterior = numeric_value(log_evidence, posterior).real - numeric_value(elbo, posterior).real
    bound_holds = all(gap > 0 for gap in gaps)
    tight = abs(at_posterior) < 1e-12
    return Evidence(
        sheet_fails=not (bound_holds and tight),
        correct_passes=bound_holds and tight,
        detail="x = 0.7, w = 1.5, s = 0.8: log p(x) - ELBO for 4 random q = "
        + ", ".join(f"{gap:.4g}" for gap in gaps)
        + f" (all > 0: {bound_holds}); at q = p(z|x): {at_posterior:.1e}",
    )


register_claim(
    Claim(
        id="elbo-lower-bound",
        topic="vae",
        section="2",
        sheet_lines=(28, 30),
        sheet="Red is intractable, use >= 0 to ignore it ... Orange - Purple is ELBO, maximize it.",
        verdict="correct",
        explanation="Dropping D_KL(q || p(z|x)) >= 0 from the decomposition leaves a lower "
        "bound on log p(x), tight when q is the true posterior; maximising it in theta and "
        "phi raises the likelihood and fits q to the posterior.",
        source="Kingma & Welling 2014, Sec. 2.2",
        check=_elbo_bound_evidence,
    )
)

register_claim(
    Claim(
        id="vae-pipeline",
        topic="vae",
        section="2",
        sheet_lines=(32, 34),
        sheet="x -enc-> mu_{z|x}, Sigma_{z|x} -sample-> z -dec-> mu_{x|z}, Sigma_{x|z} "
        "-sample-> x_hat; backprop through the sample by reparametrisation; for inference "
        "use mu directly.",
        verdict="correct",
        explanation="The encoder outputs the parameters of q(z|x), z is sampled as mu + "
        "sigma eps so gradients reach the encoder, the decoder outputs the parameters of "
        "p(x|z). At test time the posterior mean is the usual deterministic code of x.",
        source="Kingma & Welling 2014, Sec. 2.4 and App. C",
    )
)

register_claim(
    Claim(
        id="semi-supervised-disentanglement",
        topic="vae",
        section="2",
        sheet_lines=(36, 36),
        sheet="Disentanglement: features should correspond to distinct factors of variation. "
        "Can be done with semi-supervised learning by making z conditionally independent of "
        "given features y.",
        verdict="correct",
        explanation="With labels y for some factors, a VAE with latent (y, z) and a "
        "factorised prior p(y) p(z) separates the labelled factor from the rest (z "
        "independent of y), as in the M2 model.",
        source="Kingma et al. 2014, Semi-supervised learning with deep generative models; "
        "Bengio et al. 2013 (disentangling factors of variation)",
    )
)
