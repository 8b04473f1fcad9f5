"""Generative-modelling multipart problems, all five (gen-likelihood-quality,
gen-bernoulli-mle, gen-linear-ae, gen-forward-kl-fit, gen-autoencoder; each "-multipart"): every
part recomputed from the values the problem drew (`drawn`) by an independent route (scipy
entropies, the Bernoulli NLL minimised numerically, scikit-learn's PCA, the cross-entropy
minimised numerically by quadrature and scipy, the reverse-KL fit found the same way to confirm
it seeks a mode; torch autograd through the autoencoder, sympy for the one-point derivative), and
each part marked on its own."""

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


def check_bernoulli(q):
    from scipy.optimize import minimize_scalar

    n, heads = q.drawn["n"], q.drawn["heads"]

    def nll(theta):  # average negative log-likelihood of the tosses
        return -(heads * math.log(theta) + (n - heads) * math.log(1 - theta)) / n

    best = minimize_scalar(
        nll, bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-12}
    ).x
    close(q.parts[0].answer, best, rel=1e-5)
    close(q.parts[1].answer, nll(best), rel=1e-5)
    other = q.parts[2].drawn["theta"]
    close(q.parts[2].answer, nll(other) - nll(best), rel=1e-5)
    assert right_option(q.parts[3]).startswith("the average NLL is H(p_data)")


def check_likelihood(q):
    from scipy.stats import entropy

    p_data, p_model = q.drawn["p_data"], q.drawn["p_model"]
    close(q.parts[0].answer, entropy(p_data) + entropy(p_data, p_model))
    density, weight = q.parts[1].drawn["p(x)"], q.parts[1].drawn["w"]  # q = w p + (1 - w) noise
    close(q.parts[1].answer, math.log(weight * density))
    assert "good likelihood does not imply good samples" in right_option(q.parts[2])


def check_linear_ae(q):
    from sklearn.decomposition import PCA

    X = np.array(q.drawn["X"], float)
    k = q.parts[1].drawn["k"]
    assert q.parts[2].drawn["k"] == k
    close(q.parts[0].answer, np.linalg.eigvalsh(X.T @ X).max())
    pca = PCA(n_components=k).fit(X)
    error = ((X - pca.inverse_transform(pca.transform(X))) ** 2).sum()  # reconstruct, measure
    close(q.parts[1].answer, error)
    close(q.parts[2].answer, pca.explained_variance_ratio_.sum())
    assert right_option(q.parts[3]).startswith("the principal subspace")


def check_forward_kl(q):
    import sympy as sp
    from scipy.optimize import minimize
    from scipy.stats import norm

    weight, s = float(q.drawn["pi"]), float(q.drawn["s"])
    m1, m2 = float(q.drawn["m_1"]), float(q.drawn["m_2"])
    grid = np.linspace(-12, 12, 24_001)
    p_data = weight * norm.pdf(grid, m1, s) + (1 - weight) * norm.pdf(grid, m2, s)

    def cross_entropy(params):  # E_{p_data}[-log N(x; mu, sigma^2)] by quadrature
        mu, log_sigma = params
        return -np.trapezoid(p_data * norm.logpdf(grid, mu, math.exp(log_sigma)), grid)

    mu, log_sigma = minimize(
        cross_entropy, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12}
    ).x
    var = math.exp(2 * log_sigma)
    close(q.parts[1].answer, var, rel=1e-4)
    data_at_mu = weight * norm.pdf(mu, m1, s) + (1 - weight) * norm.pdf(mu, m2, s)
    close(q.parts[2].answer, norm.pdf(mu, mu, math.sqrt(var)) / data_at_mu, rel=1e-3)

    def reverse_kl(params):  # KL(p_model || p_data) by quadrature
        m, log_sd = params
        q_model = norm.pdf(grid, m, math.exp(log_sd))
        return np.trapezoid(q_model * (np.log(q_model + 1e-300) - np.log(p_data + 1e-300)), grid)

    heavier = m1 if weight > 0.5 else m2
    seeking = minimize(reverse_kl, [heavier, 0.0], method="Nelder-Mead").x[0]
    assert abs(seeking - heavier) < abs(mu - heavier)  # it stays at a mode; MLE sits between
    pi, a, b = (
        sp.Symbol("pi", positive=True),
        sp.Symbol("m_1", real=True),
        sp.Symbol("m_2", real=True),
    )
    x, mean = sp.Symbol("x", real=True), sp.Symbol("mu", real=True)
    # d/dmu of E[-(x - mu)^2/2] = E[x] - mu for each component, weighted
    stationary = pi * sp.diff(-((a - mean) ** 2) / 2, mean) + (1 - pi) * sp.diff(
        -((b - mean) ** 2) / 2, mean
    )
    truth = sp.solve(stationary, mean)[0]
    assert x not in truth.free_symbols
    points = [{"pi": 0.3, "m_1": -2.0, "m_2": 3.0}, {"pi": 0.8, "m_1": 1.5, "m_2": -0.5}]
    same_expression(
        q.parts[0].answer, truth, {"pi": "positive", "m_1": "real", "m_2": "real"}, points
    )
    assert right_option(q.parts[3]).startswith("it tends to lock onto one mode")
    return {
        0: "(m_1 + m_2)/2",
        1: repr(s * s),  # one component's variance
        2: repr(float(data_at_mu / norm.pdf(mu, mu, math.sqrt(var)))),
        3: option_letter(q.parts[3], "it gives the same fit"),
    }


def check_autoencoder(q):
    import sympy as sp
    import torch

    e = torch.tensor(q.drawn["e"], dtype=torch.float64)
    d = torch.tensor(q.drawn["d"], dtype=torch.float64, requires_grad=True)
    X = torch.tensor(q.drawn["X"], dtype=torch.float64)
    j, n = q.parts[0].drawn["component"] - 1, q.parts[0].drawn["point"] - 1
    recon = torch.outer(X @ e, d)
    loss = ((X - recon) ** 2).sum(dim=1).mean()
    loss.backward()
    close(q.parts[0].answer, recon[n, j].item())
    close(q.parts[1].answer, loss.item())
    jj = q.parts[3].drawn["component"] - 1
    close(q.parts[3].answer, d.grad[jj].item())
    dj, z, xj = (sp.Symbol(name, real=True) for name in ("d_j", "z", "x_j"))
    truth = sp.diff((xj - dj * z) ** 2, dj)
    points = [{"d_j": 0.5, "z": -1.2, "x_j": 2.0}, {"d_j": -1.5, "z": 0.7, "x_j": -0.4}]
    same_expression(q.parts[2].answer, truth, dict.fromkeys(("d_j", "z", "x_j"), "real"), points)
    assert right_option(q.parts[4]).startswith("nothing shapes its code space")
    return {
        1: repr(3 * loss.item()),  # summed, not averaged
        2: "2*z*(x_j - d_j*z)",  # the inner derivative's sign lost
        3: repr(3 * d.grad[jj].item()),
        4: option_letter(q.parts[4], "its decoder is not differentiable"),
    }


CHECKS = {
    "gen-bernoulli-mle-multipart": check_bernoulli,
    "gen-likelihood-quality-multipart": check_likelihood,
    "gen-linear-ae-multipart": check_linear_ae,
    "gen-forward-kl-fit-multipart": check_forward_kl,
    "gen-autoencoder-multipart": check_autoencoder,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
