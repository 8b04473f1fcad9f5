"""Diffusion multipart problems, all five (diffusion-posterior, diffusion-forward,
diffusion-sampling, diffusion-guidance, diffusion-loss-weight; each "-multipart"): every part
recomputed from the values the problem drew (`drawn`) by an independent route (Gaussian
conditioning and sympy for the posterior variance, the one-step Gaussians composed by recursion,
the x_0 route of a sampling step as diffusers computes it, scores from the predictions and
Bayes' rule; lambda_t as the KL between the x_0-form posterior and the model's step, divided by
the squared noise error, with the schedule and alpha-bar looped), and each part marked on its
own."""

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


def check_diffusion_forward(q):
    import sympy as sp

    betas, x0, eps = q.drawn["betas"], q.drawn["x_0"], q.drawn["eps"]
    t = q.parts[0].drawn["t"]
    mean, var = x0, 0.0
    for beta in betas[:t]:  # compose the one-step Gaussians: mean and variance by recursion
        mean, var = math.sqrt(1 - beta) * mean, (1 - beta) * var + beta
    close(q.parts[0].answer, (mean / x0) ** 2)  # the mean is sqrt(alpha-bar_t) x_0
    close(q.parts[1].answer, mean + math.sqrt(var) * eps)
    xt, e, a = sp.Symbol("x_t", real=True), sp.Symbol("eps", real=True), sp.Symbol("abar_t")
    truth = (xt - sp.sqrt(1 - a) * e) / sp.sqrt(a)
    points = [{"x_t": 0.7, "eps": -0.3, "abar_t": 0.4}, {"x_t": -1.1, "eps": 1.2, "abar_t": 0.9}]
    symbols = {"x_t": "real", "eps": "real", "abar_t": "positive"}
    same_expression(q.parts[2].answer, truth, symbols, points)
    assert right_option(q.parts[3]).startswith("alpha-bar_t: composing")


def check_diffusion(q):
    import sympy as sp

    betas, t = q.drawn["betas"], q.parts[1].drawn["t"]
    alphas = 1 - np.array(betas)
    abar = np.cumprod(alphas)
    # Gaussian conditioning of x_{t-1} on x_t given x_0: Var - Cov^2 / Var(x_t)
    prior = 1 - abar[t - 2]
    cov = math.sqrt(alphas[t - 1]) * prior
    close(q.parts[1].answer, prior - cov**2 / (alphas[t - 1] * prior + betas[t - 1]))
    b, ap = sp.symbols("b_t abar_p", positive=True)
    # completing the square: 1/tilde-beta_t = alpha_t/beta_t + 1/(1 - alpha-bar_{t-1})
    truth = 1 / ((1 - b) / b + 1 / (1 - ap))
    points = [{"b_t": 0.2, "abar_p": 0.7, "abar_t": 0.8 * 0.7}, {"b_t": 0.05, "abar_p": 0.4}]
    points[1]["abar_t"] = 0.95 * 0.4
    symbols = {"b_t": "positive", "abar_t": "positive", "abar_p": "positive"}
    same_expression(q.parts[0].answer, truth, symbols, points)
    assert right_option(q.parts[2]).startswith("smaller")


def check_sampling(q):
    betas, t = q.drawn["betas"], q.drawn["t"]
    xt, eps, z = q.drawn["x_t"], q.drawn["eps_theta"], q.drawn["z"]
    alphas = 1 - np.array(betas)
    abar = np.cumprod(alphas)
    # the x_0 route (as diffusers computes it): predict x_0, then the posterior mean
    x0_hat = (xt - math.sqrt(1 - abar[t - 1]) * eps) / math.sqrt(abar[t - 1])
    coef_x0 = math.sqrt(abar[t - 2]) * betas[t - 1] / (1 - abar[t - 1])
    coef_xt = math.sqrt(alphas[t - 1]) * (1 - abar[t - 2]) / (1 - abar[t - 1])
    mean = coef_x0 * x0_hat + coef_xt * xt
    close(q.parts[0].answer, mean)
    close(q.parts[1].answer, mean + math.sqrt(betas[t - 1]) * z)
    assert right_option(q.parts[2]).startswith("x_0 is the output")


def check_guidance(q):
    import sympy as sp

    eps_c, eps_u = np.array(q.drawn["eps_c"]), np.array(q.drawn["eps_u"])
    rho, noise_var = q.drawn["rho"], q.drawn["1 - alpha-bar_t"]
    j = q.parts[1].drawn["component"] - 1
    assert all(q.parts[k].drawn["component"] - 1 == j for k in (2, 3))
    scale = math.sqrt(noise_var)
    score_c, score_u = -eps_c / scale, -eps_u / scale  # a noise prediction is a scaled score
    classifier = score_c - score_u  # Bayes: log p(c | x) = log p(x | c) - log p(x) + const
    guided_score = score_u + (1 + rho) * classifier
    guided_eps = -scale * guided_score  # back to a noise prediction
    close(q.parts[1].answer, guided_eps[j])
    close(q.parts[2].answer, classifier[j])
    close(q.parts[3].answer, guided_score[j])
    c, u, r = (sp.Symbol(n, real=True) for n in ("eps_c", "eps_u", "rho"))
    truth = u + (1 + r) * (c - u)
    assert truth.subs(r, 0) == c and sp.simplify(truth.subs(r, -1) - u) == 0
    points = [{"eps_c": 0.3, "eps_u": -1.1, "rho": 2.0}, {"eps_c": -0.8, "eps_u": 0.4, "rho": 0.5}]
    symbols = {"eps_c": "real", "eps_u": "real", "rho": "nonnegative"}
    same_expression(q.parts[0].answer, truth, symbols, points)
    assert right_option(q.parts[4]).startswith("they follow c more closely")
    return {
        0: "(1 + rho)*eps_u - rho*eps_c",
        1: repr(float((1 + rho) * eps_u[j] - rho * eps_c[j])),
        2: repr(float(-classifier[j])),  # the sign of the score lost
        3: repr(float(score_u[j] + rho * classifier[j])),  # rho instead of 1 + rho
        4: option_letter(q.parts[4], "nothing new"),
    }


def _weight_by_kl(betas, t, rng):
    """lambda_t = KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t)) / ||eps - eps_theta||^2,
    both means in the x_0 form of the posterior, sigma_t^2 = beta_t."""
    abar = np.cumprod(1 - np.asarray(betas))
    abar_t, abar_p = abar[t - 1], (abar[t - 2] if t > 1 else 1.0)
    beta, alpha = betas[t - 1], 1 - betas[t - 1]

    def posterior_mean(x0, xt):
        return (
            math.sqrt(abar_p) * beta / (1 - abar_t) * x0
            + math.sqrt(alpha) * (1 - abar_p) / (1 - abar_t) * xt
        )

    x0, eps, error = rng.normal(size=3)
    xt = math.sqrt(abar_t) * x0 + math.sqrt(1 - abar_t) * eps
    x0_hat = (xt - math.sqrt(1 - abar_t) * (eps + error)) / math.sqrt(abar_t)
    kl = (posterior_mean(x0, xt) - posterior_mean(x0_hat, xt)) ** 2 / (2 * beta)
    return kl / error**2


def check_loss_weight(q):
    import sympy as sp

    first, last, steps = q.drawn["beta_1"], q.drawn["beta_T"], q.drawn["T"]
    t = q.parts[1].drawn["t"]
    assert q.parts[2].drawn["t"] == t
    betas = [first + (s - 1) * (last - first) / (steps - 1) for s in range(1, steps + 1)]
    rng = np.random.default_rng(0)
    weights = [_weight_by_kl(betas, s, rng) for s in range(1, steps + 1)]
    close(q.parts[1].answer, betas[t - 1])
    close(q.parts[2].answer, weights[t - 1])
    close(q.parts[3].answer, weights[0])
    assert all(weights[0] > w for w in weights[1:])  # the choice's claim, for this schedule
    b, a = sp.Symbol("b_t", positive=True), sp.Symbol("abar_t", positive=True)
    truth = (b / (sp.sqrt(1 - b) * sp.sqrt(1 - a))) ** 2 / (2 * b)
    points = [{"b_t": 0.2, "abar_t": 0.5}, {"b_t": 0.05, "abar_t": 0.9}]
    same_expression(q.parts[0].answer, truth, {"b_t": "positive", "abar_t": "positive"}, points)
    assert right_option(q.parts[4]).startswith("it reweights the bound")
    return {
        0: "b_t/(2*(1 - abar_t))",  # alpha_t lost
        1: repr(first + t * (last - first) / (steps - 1)),  # the schedule off by one
        2: repr(1 / (2 * (1 - betas[t - 1]))),  # alpha-bar_t replaced by alpha_t
        4: option_letter(q.parts[4], "it up-weights the small-t terms"),
    }


CHECKS = {
    "diffusion-forward-multipart": check_diffusion_forward,
    "diffusion-posterior-multipart": check_diffusion,
    "diffusion-sampling-multipart": check_sampling,
    "diffusion-guidance-multipart": check_guidance,
    "diffusion-loss-weight-multipart": check_loss_weight,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
