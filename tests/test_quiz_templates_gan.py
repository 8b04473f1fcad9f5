"""Generated GAN templates: every answer recomputed from the values the template drew
(`question.drawn`, checked to be the ones its prompt states) by a route independent of the
registry formula that produced it: D* by brute-force argmax, the JSD and the value at the
optimum by scipy's Jensen-Shannon distance, the generator's gradients by autograd through the
sigmoid, FID as the 2-Wasserstein distance of Gaussians with diagonal covariances, the closed
forms by sympy's stationary point and autograd. Plus: same seed same question, bank check,
`cheatsheet check` on a variant id, and the topic's question count.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import quiz_helpers
from quiz_helpers import check_ordering, close, parsed

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "gan"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_gan.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def check_gan_dstar(q):
    a, b = q.drawn["p_d(x)"], q.drawn["p_m(x)"]
    y = np.linspace(1e-6, 1 - 1e-6, 2_000_001)  # brute-force argmax of a log y + b log(1-y)
    best = y[np.argmax(a * np.log(y) + b * np.log(1 - y))]
    close(q.answer, best, abs_=1e-5)


def check_gan_jsd(q):
    from scipy.spatial.distance import jensenshannon

    close(q.answer, jensenshannon(q.drawn["P"], q.drawn["Q"]) ** 2)


def check_gan_value(q):
    import math

    from scipy.spatial.distance import jensenshannon

    p_d, p_m = q.drawn["p_d"], q.drawn["p_m"]
    close(q.answer, -math.log(4) + 2 * jensenshannon(p_d, p_m) ** 2)


def check_gan_gradient(q):
    import torch

    d = q.drawn["D(G(z))"]
    logit = torch.logit(torch.tensor(d, dtype=torch.float64)).requires_grad_()
    objective = (
        torch.log1p(-torch.sigmoid(logit))
        if q.drawn["term"] == "log(1 - D(G(z)))"
        else torch.log(torch.sigmoid(logit))
    )
    objective.backward()
    close(q.answer, float(logit.grad), abs_=1e-6)


def check_gan_fid(q):
    mu1, mu2 = np.array(q.drawn["mu_1"]), np.array(q.drawn["mu_2"])
    s1, s2 = np.array(q.drawn["Sigma_1"]), np.array(q.drawn["Sigma_2"])  # the diagonals
    # squared 2-Wasserstein distance of Gaussians with commuting (diagonal) covariances
    close(q.answer, np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2))


def check_gan_closed_form(q):
    import sympy as sp

    (formula_id,) = q.formulas
    answer = parsed(q.answer, q.symbols)
    if formula_id == "gan-optimal-discriminator":
        a, b = (sp.Symbol(n, positive=True) for n in ("p_d", "p_m"))
        y = sp.Symbol("y", positive=True)
        (stationary,) = sp.solve(sp.diff(a * sp.log(y) + b * sp.log(1 - y), y), y)
        assert sp.simplify(answer - stationary) == 0
    elif formula_id == "gan-value-at-optimum":
        from scipy.spatial.distance import jensenshannon

        p, m = np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.1, 0.3])
        d_star = p / (p + m)
        direct = np.sum(p * np.log(d_star) + m * np.log(1 - d_star))
        (jsd,) = answer.free_symbols
        close(str(float(answer.subs(jsd, jensenshannon(p, m) ** 2))), direct, rel=1e-9)
    else:
        import torch

        for ell in (-3.0, -0.5, 0.7, 2.0):
            logit = torch.tensor(ell, dtype=torch.float64, requires_grad=True)
            saturating = formula_id == "gan-saturating-gradient"
            f = (
                torch.log1p(-torch.sigmoid(logit))
                if saturating
                else torch.log(torch.sigmoid(logit))
            )
            f.backward()
            (symbol,) = answer.free_symbols
            close(str(float(answer.subs(symbol, ell))), float(logit.grad), rel=1e-9)


CHECKS = {
    "gan-optimal-discriminator-draw": check_gan_dstar,
    "gan-jsd-draw": check_gan_jsd,
    "gan-value-at-optimum-draw": check_gan_value,
    "gan-generator-gradient-draw": check_gan_gradient,
    "gan-fid-draw": check_gan_fid,
    "gan-closed-form-draw": check_gan_closed_form,
    "gan-derivation-order-draw": check_ordering,
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
        os.environ.get("CHEATSHEET_HOME", "/tmp/cs-test-gan"), "gan-generator-gradient-draw", 5
    )
