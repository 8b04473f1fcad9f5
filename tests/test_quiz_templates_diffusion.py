"""Generated diffusion templates: every answer recomputed from the values the template drew
(`question.drawn`, checked to be the ones its prompt states) by a route independent of the
registry formula that produced it: the forward marginal by composing the one-step Gaussians,
the posterior variance by Gaussian conditioning, the sampling step by the x_0-route (as
diffusers computes it), alpha-bar by a running product, the closed forms and the choices at
sample points of the schedule. Plus: same seed same question, bank check, `cheatsheet check`
on a variant id, and the topic's question count.
"""

from __future__ import annotations

import math
import os
import random

import numpy as np
import pytest
import quiz_helpers
from quiz_helpers import check_ordering, close, parsed, right_choices

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "diffusion"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_diffusion.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def _schedule(betas: list[float]) -> tuple[np.ndarray, np.ndarray]:
    alphas = 1 - np.array(betas)
    return alphas, np.cumprod(alphas)


def check_ddpm_forward_sample(q):
    drawn = q.drawn
    betas, x0, eps, t = drawn["betas"], drawn["x_0"], drawn["eps"], drawn["t"]
    # compose the one-step Gaussians t times: mean and variance by recursion
    mean, var = x0, 0.0
    for beta in betas[:t]:
        mean, var = math.sqrt(1 - beta) * mean, (1 - beta) * var + beta
    close(q.answer, mean + math.sqrt(var) * eps)


def check_ddpm_posterior_variance(q):
    betas, t = q.drawn["betas"], q.drawn["t"]
    alphas, alpha_bar = _schedule(betas)
    # Gaussian conditioning of x_{t-1} on x_t (given x_0): Var - Cov^2 / Var(x_t)
    v = 1 - alpha_bar[t - 2]
    cov = math.sqrt(alphas[t - 1]) * v
    var_t = alphas[t - 1] * v + betas[t - 1]
    close(q.answer, v - cov**2 / var_t)


def check_ddpm_sampling_step(q):
    drawn = q.drawn
    betas, t = drawn["betas"], drawn["t"]
    xt, eps, z = drawn["x_t"], drawn["eps_theta"], drawn["z"]
    alphas, alpha_bar = _schedule(betas)
    # the x_0-route (as diffusers computes it): predict x_0, then the posterior mean
    x0_hat = (xt - math.sqrt(1 - alpha_bar[t - 1]) * eps) / math.sqrt(alpha_bar[t - 1])
    coef_x0 = math.sqrt(alpha_bar[t - 2]) * betas[t - 1] / (1 - alpha_bar[t - 1])
    coef_xt = math.sqrt(alphas[t - 1]) * (1 - alpha_bar[t - 2]) / (1 - alpha_bar[t - 1])
    close(q.answer, coef_x0 * x0_hat + coef_xt * xt + math.sqrt(betas[t - 1]) * z)


def check_cfg(q):
    cond, uncond = q.drawn["eps_theta(x, c; t)"], q.drawn["eps_theta(x; t)"]
    rho, j = q.drawn["rho"], q.drawn["component"] - 1
    weight = 1 + rho  # guidance as extrapolation from the unconditional prediction
    close(q.answer, uncond[j] + weight * (cond[j] - uncond[j]), abs_=1e-9)


def check_alpha_bar(q):
    steps, t = q.drawn["T"], q.drawn["t"]
    beta_start, beta_end = q.drawn["beta_1"], q.drawn["beta_T"]
    product = 1.0
    for s in range(1, t + 1):
        beta = beta_start + (s - 1) * (beta_end - beta_start) / (steps - 1)
        product *= 1.0 - beta
    close(q.answer, product, rel=1e-5)


def _diffusion_points(seed=0):
    rng = random.Random(seed)
    points = []
    for _ in range(4):
        alpha_prev_bar = rng.uniform(0.2, 0.9)
        alpha = rng.uniform(0.5, 0.99)
        points.append(
            {
                "alpha_t": alpha,
                "beta_t": 1 - alpha,
                "abar_{t-1}": alpha_prev_bar,
                "abar_t": alpha * alpha_prev_bar,
                "x_t": rng.uniform(-2, 2),
                "x_0": rng.uniform(-2, 2),
                "eps": rng.uniform(-2, 2),
                "sigma_t": rng.uniform(0.1, 1),
            }
        )
    return points


def check_ddpm_closed_form(q):
    import sympy as sp

    answer = parsed(q.answer, q.symbols)
    ok = True
    for point in _diffusion_points():
        at = answer.subs({s: point[s.name] for s in answer.free_symbols})
        a, ab, abp = point["alpha_t"], point["abar_t"], point["abar_{t-1}"]
        beta = 1 - a
        if "variance" in q.prompt:
            v = 1 - abp
            truth = v - (math.sqrt(a) * v) ** 2 / (a * v + beta)
        elif "epsilon-" in q.prompt:
            x0 = (point["x_t"] - math.sqrt(1 - ab) * point["eps"]) / math.sqrt(ab)
            truth = (math.sqrt(abp) * beta * x0 + math.sqrt(a) * (1 - abp) * point["x_t"]) / (
                1 - ab
            )
        elif "sample x_t" in q.prompt:
            # two steps composed: x_2 = sqrt(a2)(sqrt(a1) x0 + sqrt(1-a1) e1) + sqrt(1-a2) e2
            a1, a2 = abp, a  # any split of abar_t into two steps
            std = math.sqrt(a2 * (1 - a1) + 1 - a2)
            truth = math.sqrt(a1 * a2) * point["x_0"] + std * point["eps"]
        else:
            # KL of the two Gaussians' means: ||mu(eps) - mu(eps')||^2/(2 sigma^2) per unit
            # ||eps - eps'||^2, the means by the x_0-route
            def mean(e, a=a, ab=ab, abp=abp, beta=beta, point=point):
                x0 = (point["x_t"] - math.sqrt(1 - ab) * e) / math.sqrt(ab)
                return (math.sqrt(abp) * beta * x0 + math.sqrt(a) * (1 - abp) * point["x_t"]) / (
                    1 - ab
                )

            truth = (mean(1.0) - mean(0.0)) ** 2 / (2 * point["sigma_t"] ** 2)
        ok &= math.isclose(float(sp.N(at)), truth, rel_tol=1e-9, abs_tol=1e-12)
    assert ok, q.answer


def check_ddpm_choice(q):
    import sympy as sp

    names = {
        "x_t": "real",
        "x_0": "real",
        "eps": "real",
        "z": "real",
        "eh": "real",
        "alpha_t": "unit",
        "abar_t": "unit",
        "abar_{t-1}": "unit",
        "beta_t": "unit",
        "sigma_t": "positive",
        "alpha_{t-1}": "unit",
        "alpha_{t+1}": "unit",
        "beta_{t-1}": "unit",
        "beta_{t+1}": "unit",
        "abar_{t+1}": "unit",
        "sigma_{t-1}": "positive",
        "sigma_{t+1}": "positive",
        "x_{t-1}": "real",
        "x_{t+1}": "real",
    }
    a, ab, abp = (sp.Symbol(n, positive=True) for n in ("alpha_t", "abar_t", "abar_{t-1}"))
    beta, xt, x0, eps = sp.Symbol("beta_t", positive=True), *sp.symbols("x_t x_0 eps", real=True)
    eh, z, sigma = sp.Symbol("eh", real=True), sp.Symbol("z", real=True), sp.Symbol("sigma_t")
    x0_hat = (xt - sp.sqrt(1 - ab) * eps) / sp.sqrt(ab)
    posterior_mean = (sp.sqrt(abp) * beta * x0 + sp.sqrt(a) * (1 - abp) * xt) / (1 - ab)
    (formula_id,) = q.formulas
    truth = {
        "ddpm-posterior-variance": (1 - abp) - a * (1 - abp) ** 2 / (a * (1 - abp) + beta),
        "ddpm-posterior-mean": posterior_mean,
        "ddpm-epsilon-mean": posterior_mean.subs(x0, x0_hat),
        "ddpm-sampling-step": posterior_mean.subs(x0, x0_hat.subs(eps, eh)) + sigma * z,
    }[formula_id]
    rng = random.Random(1)
    points = []
    for _ in range(4):
        alpha, prev = rng.uniform(0.5, 0.99), rng.uniform(0.2, 0.9)
        point = {n: rng.uniform(0.05, 0.95) for n in names}
        point.update({"alpha_t": alpha, "beta_t": 1 - alpha, "abar_{t-1}": prev})
        point["abar_t"] = alpha * prev
        points.append(point)
    # the sheet's names relate through the schedule; the registry also writes beta_t
    found = right_choices(
        q, truth, names, points, clean=lambda t: t.replace("epsilon_theta(x_t, t)", "eh")
    )
    assert found == [q.answer], (found, q.choices)


CHECKS = {
    "ddpm-forward-sample-draw": check_ddpm_forward_sample,
    "ddpm-posterior-variance-draw": check_ddpm_posterior_variance,
    "ddpm-sampling-step-draw": check_ddpm_sampling_step,
    "cfg-guidance-draw": check_cfg,
    "alpha-bar-draw": check_alpha_bar,
    "ddpm-closed-form-draw": check_ddpm_closed_form,
    "ddpm-formula-choice-draw": check_ddpm_choice,
    "ddpm-derivation-order-draw": check_ordering,
}
# The templates that draw numbers (their checks recompute from `drawn`), multipart included.
DRAWING = [tid for tid in ALL if TEMPLATES[tid].kind in ("numeric", "multipart")]


def test_every_template_of_the_topic_has_an_independent_check():
    assert sorted(CHECKS) == OURS


@pytest.mark.parametrize("template_id", OURS)
def test_answer_recomputed_independently(template_id):
    quiz_helpers.check_answers(CHECKS, template_id, VARIANTS)


@pytest.mark.parametrize("template_id", OURS)
def test_same_seed_same_question_and_bank_check(template_id):
    quiz_helpers.check_same_seed_and_bank_check(template_id, VARIANTS)


def test_drawn_values_are_the_ones_the_prompt_states():
    quiz_helpers.check_templates_draw_what_they_state(ALL, DRAWING, VARIANTS)


def test_topic_has_twenty_questions_five_of_them_templates():
    quiz_helpers.check_question_counts((TOPIC,))


def test_bank_passes_bank_check():
    quiz_helpers.check_topic_banks((TOPIC,))


def test_cli_check_marks_the_variant():
    quiz_helpers.check_cli_marks_the_variant(
        os.environ.get("CHEATSHEET_HOME", "/tmp/cs-test-diffusion"), "ddpm-sampling-step-draw", 17
    )
