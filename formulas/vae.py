"""Variational autoencoders (sheet section 2, and "KL for ELBO" in the proofs, section 13).

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Formula, Step, as_float64, register

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
