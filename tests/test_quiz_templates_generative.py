"""Generated generative-modelling templates: every answer recomputed from the values the
template drew (`question.drawn`, checked to be the ones its prompt states) by a route
independent of the registry formula that produced it: scipy's entropy for the cross-entropy,
KL and entropy, the expected log-likelihood of each option for the MLE choice, the optimal
linear autoencoder's error by a truncated SVD of the centred data (Eckart-Young), the noise
mixture by logaddexp. Plus: same seed same question, bank check, `cheatsheet check` on a
variant id, and the topic's question count.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import quiz_helpers
from quiz_helpers import close, parsed

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "generative"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_generative.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def check_gen_mle_kl(q):
    from scipy.stats import entropy

    p, m, asked = q.drawn["p_data"], q.drawn["p_model"], q.drawn["asked"]
    if asked.startswith("D_KL"):
        truth = entropy(p, m)
    elif asked.endswith("no model can remove"):
        truth = entropy(p)
    else:
        truth = entropy(p) + entropy(p, m)
    close(q.answer, truth)


def check_gen_mle_choice(q):
    p = np.array(q.drawn["p_data"])
    options = q.drawn["options"]  # p_model of each option, in the order shown
    assert len(options) == len(q.choices)
    likelihoods = [np.sum(p * np.log(m)) for m in options]
    assert chr(ord("A") + int(np.argmax(likelihoods))) == q.answer


def _pca_error(X: np.ndarray, k: int) -> float:
    """Error of the best rank-k affine reconstruction: truncated SVD of the centred data
    (Eckart-Young), projected and measured point by point."""
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    basis = vt[:k].T
    reconstruction = centred @ basis @ basis.T
    return float(np.sum((centred - reconstruction) ** 2))


def check_gen_linear_ae(q):
    close(q.answer, _pca_error(np.array(q.drawn["points"]), q.drawn["k"]), abs_=1e-9)


def check_gen_code_size(q):
    X = np.array(q.drawn["points"])
    fraction = q.drawn["percent"] / 100
    total = _pca_error(X, 0)
    k = next(k for k in range(X.shape[1] + 1) if _pca_error(X, k) <= fraction * total + 1e-12)
    assert int(q.answer) == k


def check_gen_noise_mixture(q):
    w, p, noise = q.drawn["w"], q.drawn["p(x)"], q.drawn["noise density"]
    terms = [math.log(w) + math.log(p)]
    if noise > 0:
        terms.append(math.log(1 - w) + math.log(noise))
    close(q.answer, float(np.logaddexp.reduce(terms)))


def check_gen_noise_symbolic(q):
    w = q.drawn["percent"] / 100
    answer = parsed(q.answer, q.symbols)
    names = {s.name: s for s in answer.free_symbols}
    for p, noise in ((0.3, 0.01), (2.0, 0.5)):
        got = float(answer.subs({names["p_model"]: p, names["p_noise"]: noise}))
        assert math.isclose(got, math.log(w * p + (1 - w) * noise), rel_tol=1e-12)


CHECKS = {
    "gen-mle-kl-draw": check_gen_mle_kl,
    "gen-mle-choice-draw": check_gen_mle_choice,
    "gen-linear-ae-error-draw": check_gen_linear_ae,
    "gen-linear-ae-code-size-draw": check_gen_code_size,
    "gen-noise-mixture-draw": check_gen_noise_mixture,
    "gen-noise-mixture-symbolic-draw": check_gen_noise_symbolic,
}
# Every template of this topic draws numbers (its check recomputes from `drawn`).
DRAWING = ALL


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
        os.environ.get("CHEATSHEET_HOME", "/tmp/cs-test-generative"), "gen-noise-mixture-draw", 4
    )
