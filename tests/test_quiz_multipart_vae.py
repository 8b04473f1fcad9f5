"""VAE multipart problems (vae-elbo-gap-multipart, vae-gradient-estimators-multipart): every
part recomputed from the values the problem drew (`drawn`) by an independent route (quadrature
of the evidence and of the ELBO, the exact Gaussian posterior by conjugacy with
torch.distributions, torch autograd for both gradient estimators, Gauss-Hermite quadrature for
their variances), and each part marked on its own."""

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
    "vae-elbo-gap-multipart": check_elbo_gap,
    "vae-gradient-estimators-multipart": check_estimators,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
