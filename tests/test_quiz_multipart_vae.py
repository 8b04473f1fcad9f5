"""VAE multipart problems, all five (vae-kl, vae-elbo-terms, vae-reparametrisation,
vae-elbo-gap, vae-gradient-estimators; each "-multipart"): every part recomputed from the values
the problem drew (`drawn`) by an independent route (the KL by the trapezoid rule and sympy,
torch.distributions log-probabilities and KL, autograd through the reparametrised sample,
quadrature of the evidence and of the ELBO, the exact Gaussian posterior by conjugacy, torch
autograd for both gradient estimators, Gauss-Hermite quadrature for their variances), and each
part marked on its own."""

from __future__ import annotations

import math

import numpy as np
import pytest
from multipart_topic_checks import (
    check_problem,
    close,
    option_letter,
    right_option,
    same_expression,
)

from quizzes.catalog import load_templates

load_templates()


def _log_normal(x, mean, std):
    return -0.5 * np.log(2 * np.pi * std**2) - (x - mean) ** 2 / (2 * std**2)


def check_elbo_terms(q):
    import torch
    from torch.distributions import Normal, kl_divergence

    mu, sigma = float(q.drawn["mu"]), float(q.drawn["sigma"])  # q(z|x) = N(mu, sigma^2)
    decoded = torch.tensor(q.drawn["mu_dec"], dtype=torch.float64)
    x = torch.tensor(q.drawn["x"], dtype=torch.float64)
    beta = float(q.parts[2].drawn["beta"])
    log_likelihood = Normal(decoded, 1.0).log_prob(x).sum().item()
    kl = kl_divergence(Normal(mu, sigma), Normal(0.0, 1.0)).item()
    close(q.parts[0].answer, log_likelihood)
    close(q.parts[1].answer, kl)
    close(q.parts[2].answer, log_likelihood - beta * kl)
    assert right_option(q.parts[3]).startswith("reconstruction for a posterior closer")


def check_vae(q):
    import sympy as sp

    mu, sigma = q.drawn["mu"], q.drawn["sigma"]
    total = 0.0
    for m, s in zip(mu, sigma):  # KL(q || p) = int q log(q/p) by the trapezoid rule
        z = np.linspace(m - 12 * s, m + 12 * s, 200_001)
        log_q = -0.5 * np.log(2 * np.pi * s**2) - (z - m) ** 2 / (2 * s**2)
        log_p = -0.5 * np.log(2 * np.pi) - z**2 / 2
        total += np.trapezoid(np.exp(log_q) * (log_q - log_p), z)
    close(q.parts[1].answer, total, rel=1e-5)
    m, s = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    truth = -sp.log(s) - sp.Rational(1, 2) + (s**2 + m**2) / 2
    points = [{"mu": 0.3, "sigma": 1.7}, {"mu": -1.2, "sigma": 0.4}]
    same_expression(q.parts[0].answer, truth, {"mu": "real", "sigma": "positive"}, points)
    assert right_option(q.parts[2]).startswith("it is 0 exactly when mu = 0 and sigma = 1")


def check_reparametrisation(q):
    import torch

    mu = torch.tensor(float(q.drawn["mu"]), dtype=torch.float64, requires_grad=True)
    log_var = float(q.drawn["log sigma^2"])
    sigma = torch.tensor(math.sqrt(math.exp(log_var)), dtype=torch.float64, requires_grad=True)
    eps = float(q.drawn["eps"])
    z = mu + sigma * eps
    z.backward()
    close(q.parts[0].answer, sigma.item())
    close(q.parts[1].answer, z.item())
    close(q.parts[2].answer, mu.grad.item() + sigma.grad.item())
    assert right_option(q.parts[3]).startswith("the randomness moves into eps")


def check_elbo_gap(q):
    import sympy as sp
    import torch
    from torch.distributions import Normal, kl_divergence

    s, x, m, v = (float(q.drawn[name]) for name in ("s", "x", "m", "v"))
    z = np.linspace(-15, 15, 600_001)
    joint = np.exp(_log_normal(x, z, s) + _log_normal(z, 0.0, 1.0))
    log_px = math.log(np.trapezoid(joint, z))  # the evidence by quadrature
    close(q.parts[0].answer, log_px)
    q_density = np.exp(_log_normal(z, m, v))
    elbo = np.trapezoid(
        q_density * (_log_normal(x, z, s) + _log_normal(z, 0, 1) - _log_normal(z, m, v)), z
    )
    close(q.parts[1].answer, elbo)
    # the exact posterior by conjugacy: precision 1 + 1/s^2, mean x / s^2 / precision
    precision = 1 + 1 / s**2
    posterior = Normal(torch.tensor(x / s**2 / precision), torch.tensor(precision**-0.5))
    gap = kl_divergence(Normal(torch.tensor(m), torch.tensor(v)), posterior).item()
    close(q.parts[2].answer, gap)
    assert right_option(q.parts[3]).startswith("q = p(z|x)")
    xs, ss = sp.Symbol("x", real=True), sp.Symbol("s", positive=True)
    zs = sp.Symbol("z", real=True)
    exponent = -(zs**2) / 2 - (xs - zs) ** 2 / (2 * ss**2)
    mode = sp.solve(sp.diff(exponent, zs), zs)[0]  # a Gaussian's mean is its mode
    points = [{"x": 0.7, "s": 1.3}, {"x": -2.0, "s": 0.4}]
    same_expression(q.parts[4].answer, mode, {"x": "real", "s": "positive"}, points)
    return {
        2: repr(-gap) if gap > 0.05 else None,  # the gap as ELBO - log p(x)
        3: option_letter(q.parts[3], "q = p(z) = N(0, 1)"),
        4: "x",
    }


def check_estimators(q):
    import sympy as sp
    import torch

    mu0, sigma0, eps = (float(q.drawn[name]) for name in ("mu", "sigma", "eps"))
    mu = torch.tensor(mu0, dtype=torch.float64, requires_grad=True)
    z = mu + sigma0 * eps
    (z**2).backward()  # the pathwise estimate: autograd through the sample
    close(q.parts[1].answer, mu.grad.item())
    mu2 = torch.tensor(mu0, dtype=torch.float64, requires_grad=True)
    sample = torch.tensor(mu0 + sigma0 * eps, dtype=torch.float64)
    torch.distributions.Normal(mu2, sigma0).log_prob(sample).backward()
    close(q.parts[2].answer, sample.item() ** 2 * mu2.grad.item())
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)  # exact for these polynomials
    weights = weights / weights.sum()
    zs = mu0 + sigma0 * nodes
    pathwise, score = 2 * zs, zs**2 * (zs - mu0) / sigma0**2
    for estimates in (pathwise, score):
        assert math.isclose(weights @ estimates, 2 * mu0, abs_tol=1e-9)  # both unbiased
    close(q.parts[3].answer, weights @ (pathwise - 2 * mu0) ** 2)
    close(q.parts[4].answer, weights @ (score - 2 * mu0) ** 2)
    assert right_option(q.parts[5]).startswith("the pathwise one")
    m, s, e = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True), sp.Symbol("eps")
    truth = sp.diff((m + s * e) ** 2, m)
    points = [{"mu": 0.3, "sigma": 1.7, "eps": -0.4}, {"mu": -1.2, "sigma": 0.4, "eps": 2.0}]
    symbols = {"mu": "real", "sigma": "positive", "eps": "real"}
    same_expression(q.parts[0].answer, truth, symbols, points)
    return {
        0: "2*mu",  # the sample's noise forgotten
        3: repr(sigma0**2),  # the factor 2^2 of Var[2 sigma eps] forgotten
        5: option_letter(q.parts[5], "the score-function one: its variance"),
    }


CHECKS = {
    "vae-elbo-terms-multipart": check_elbo_terms,
    "vae-kl-multipart": check_vae,
    "vae-reparametrisation-multipart": check_reparametrisation,
    "vae-elbo-gap-multipart": check_elbo_gap,
    "vae-gradient-estimators-multipart": check_estimators,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
