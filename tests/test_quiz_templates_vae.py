"""Generated VAE templates: every answer recomputed from the values the template drew
(`question.drawn`, checked to be the ones its prompt states) by a route independent of the
registry formula that produced it: torch.distributions for the KL divergences and the
likelihoods of the ELBO, the KL to N(0, I) by the trapezoid rule, the closed forms and the
choices against sympy expressions written out here. Plus: same seed same question, bank check,
`cheatsheet check` on a variant id, and the topic's question count.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import quiz_helpers
from quiz_helpers import check_ordering, close, numerically_equal, parsed, right_choices

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "vae"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_vae.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def check_vae_reparam(q):
    import torch

    mu, log_var, eps = q.drawn["mu"], q.drawn["log sigma^2"], q.drawn["eps"]
    std = torch.tensor(log_var, dtype=torch.float64).exp().sqrt()
    close(q.answer, mu + float(std) * eps)


def check_vae_kl(q):
    import torch
    from torch.distributions import Normal, kl_divergence

    mq, sq = q.drawn["mu_q"], q.drawn["sigma_q"]
    mp, sp_ = q.drawn["mu_p"], q.drawn["sigma_p"]
    kl = kl_divergence(
        Normal(torch.tensor(mq, dtype=torch.float64), sq), Normal(torch.tensor(mp), sp_)
    )
    close(q.answer, float(kl))


def check_vae_elbo(q):
    import torch
    from torch.distributions import Bernoulli, Normal, kl_divergence

    drawn = q.drawn
    mu, sigma = torch.tensor(drawn["mu"]), torch.tensor(drawn["sigma"])
    beta = drawn["beta"]  # 1 for the ELBO, or the beta-VAE's
    x = torch.tensor(drawn["x"], dtype=torch.float64)
    if drawn["decoder"] == "Bernoulli":
        log_lik = Bernoulli(probs=torch.tensor(drawn["p"])).log_prob(x).sum()
    else:
        log_lik = Normal(torch.tensor(drawn["mu_x"]), 1.0).log_prob(x).sum()
    kl = kl_divergence(Normal(mu.double(), sigma.double()), Normal(0.0, 1.0)).sum()
    close(q.answer, float(log_lik - beta * kl))


def check_kl_value(q):
    mu, sigma = q.drawn["mu"], q.drawn["sigma"]
    # KL(q || p) = int q log(q/p), per dimension, by the trapezoid rule on a wide grid.
    total = 0.0
    for m, s in zip(mu, sigma):
        z = np.linspace(m - 12 * s, m + 12 * s, 200_001)
        log_q = -0.5 * np.log(2 * np.pi * s**2) - (z - m) ** 2 / (2 * s**2)
        log_p = -0.5 * np.log(2 * np.pi) - z**2 / 2
        total += np.trapezoid(np.exp(log_q) * (log_q - log_p), z)
    close(q.answer, total, rel=1e-5, abs_=1e-6)


def check_kl_choice(q):
    import sympy as sp

    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    # the closed form written out by hand, independent of the registry
    truth = (sigma**2 + mu**2 - 1 - 2 * sp.log(sigma)) / 2
    right = []
    for letter, choice in zip("ABCD", q.choices):
        expr = parsed(choice.split("=", 1)[1], {"mu": "real", "sigma": "positive"})
        if sp.simplify(expr - truth) == 0:
            right.append(letter)
    assert right == [q.answer]


def _vae_truths():
    import sympy as sp

    mu, x, mu_p, mu_q, eps = sp.symbols("mu x mu_p mu_q eps", real=True)
    sigma, sigma_p, sigma_q = sp.symbols("sigma sigma_p sigma_q", positive=True)

    def log_normal(v, m, s):
        return sp.log(sp.exp(-((v - m) ** 2) / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2))

    return {
        "kl-gauss": (sigma**2 + mu**2 - 1) / 2 - sp.log(sigma),
        "vae-gaussian-log-likelihood": log_normal(x, mu, sigma),
        "gauss-negative-entropy": -sp.log(2 * sp.pi * sp.E * sigma**2) / 2,
        "gauss-cross-entropy": -sp.log(2 * sp.pi * sigma_q**2) / 2
        - (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2),
        "reparametrisation": mu + sigma * eps,
    }


def _points(names, seed=0, count=4):
    rng = random.Random(seed)
    return [{n: rng.uniform(0.3, 2.0) for n in names} for _ in range(count)]


VAE_SYMBOLS = ("mu", "x", "mu_p", "mu_q", "eps", "sigma", "sigma_p", "sigma_q")


def check_vae_closed_form(q):
    (formula_id,) = q.formulas
    truth = _vae_truths()[formula_id]
    assert numerically_equal(parsed(q.answer, q.symbols), truth, _points(VAE_SYMBOLS))


def check_vae_choice(q):
    (formula_id,) = q.formulas
    truth = _vae_truths()[formula_id]
    symbols = {n: "positive" if n.startswith("sigma") else "real" for n in VAE_SYMBOLS}
    assert right_choices(q, truth, symbols, _points(VAE_SYMBOLS)) == [q.answer]


CHECKS = {
    "vae-reparam-logvar-draw": check_vae_reparam,
    "vae-kl-two-gaussians-draw": check_vae_kl,
    "vae-elbo-one-sample-draw": check_vae_elbo,
    "kl-gauss-value-draw": check_kl_value,
    "kl-gauss-choice-draw": check_kl_choice,
    "vae-closed-form-draw": check_vae_closed_form,
    "vae-gaussian-terms-choice-draw": check_vae_choice,
    "vae-derivation-order-draw": check_ordering,
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
        os.environ.get("CHEATSHEET_HOME", "/tmp/cs-test-vae"), "vae-closed-form-draw", 3
    )
