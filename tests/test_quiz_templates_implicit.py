"""Generated implicit-surface templates: every answer recomputed from the values the template
drew (`Question.drawn`, the numbers its prompt states) by torch (exclusive cumulative sums of
the optical depth, a photon absorbed segment by segment, the encoding's stacked sin/cos),
autograd Jacobians for the splat projection and torch.distributions for the splat opacity.
Plus: the drawn values are the ones printed in the prompt, same seed same question, `bank
check` on the variants drawn, the topic's bank, and its question count.
"""

from __future__ import annotations

import math

import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "implicit"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_implicit.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    """The answer's 6 significant digits against the recomputation (tighter than the default)."""
    quiz_helpers.close(answer, truth, rel, abs_)


def t64(values):
    import torch

    return torch.tensor(values, dtype=torch.float64)


def _weights_by_optical_depth(sigma, delta):
    import torch

    depth = t64(sigma) * t64(delta)
    before = torch.cat([torch.zeros(1, dtype=depth.dtype), torch.cumsum(depth, 0)[:-1]])
    transmittance = torch.exp(-before)
    return transmittance, transmittance * -torch.expm1(-depth)


def check_nerf_weight(q):
    _, weights = _weights_by_optical_depth(q.drawn["sigma"], q.drawn["delta"])
    close(q.answer, weights[q.drawn["i"] - 1].item())


def check_nerf_transmittance(q):
    transmittance, _ = _weights_by_optical_depth(q.drawn["sigma"], q.drawn["delta"])
    close(q.answer, transmittance[q.drawn["i"] - 1].item())


def check_nerf_colour(q):
    # the absorption probabilities of a photon walking the ray segment by segment
    alive, colour = 1.0, 0.0
    for s, d, c in zip(q.drawn["sigma"], q.drawn["delta"], q.drawn["c"]):
        absorbed = alive * (1 - math.exp(-s * d))
        colour += absorbed * c
        alive -= absorbed
    close(q.answer, colour)


def check_positional_encoding(q):
    import torch

    levels, p, entry = q.drawn["L"], q.drawn["p"], q.drawn["entry"]
    freqs = (2.0 ** torch.arange(levels, dtype=torch.float64)) * math.pi * p
    features = torch.stack([torch.sin(freqs), torch.cos(freqs)], dim=1).reshape(-1)
    close(q.answer, features[entry - 1].item())


def check_eikonal(q):
    import torch

    surface, gradients = t64(q.drawn["f"]), t64(q.drawn["gradients"])
    lam = q.drawn["lambda"]
    loss = (surface**2).mean() + lam * (
        (torch.linalg.vector_norm(gradients, dim=1) - 1) ** 2
    ).mean()
    close(q.answer, loss.item())


def check_splat_covariance(q):
    import torch

    t, focal = t64(q.drawn["t"]), q.drawn["f"]
    sigma = torch.diag(t64(q.drawn["diag(Sigma)"]))
    row, col = (index - 1 for index in q.drawn["entry"])

    def project(point):
        return torch.stack([focal * point[0] / point[2], focal * point[1] / point[2]])

    J = torch.autograd.functional.jacobian(project, t)
    close(q.answer, (J @ sigma @ J.T)[row, col].item())


def check_splat_opacity(q):
    import torch
    from torch.distributions import MultivariateNormal

    mean, cov = t64(q.drawn["mu'"]), t64(q.drawn["Sigma'"])
    pixel, opacity = t64(q.drawn["x"]), q.drawn["o"]
    density = MultivariateNormal(mean, covariance_matrix=cov)
    # the unnormalised Gaussian: density times its normaliser 2 pi sqrt(det)
    unnormalised = density.log_prob(pixel) + math.log(2 * math.pi) + 0.5 * torch.logdet(cov)
    close(q.answer, opacity * math.exp(unnormalised.item()))


CHECKS = {
    "nerf-weight-draw": check_nerf_weight,
    "nerf-transmittance-draw": check_nerf_transmittance,
    "nerf-pixel-colour-draw": check_nerf_colour,
    "nerf-positional-encoding-draw": check_positional_encoding,
    "igr-eikonal-loss-draw": check_eikonal,
    "splat-covariance-2d-draw": check_splat_covariance,
    "splat-opacity-draw": check_splat_opacity,
}
# the checks above (and the multipart ones) recompute from drawn values
DRAWING = ALL


def test_every_template_of_this_topic_has_an_independent_check():
    assert sorted(CHECKS) == OURS


@pytest.mark.parametrize("template_id", OURS)
def test_answer_recomputed_independently(template_id):
    quiz_helpers.check_answers(CHECKS, template_id, VARIANTS)


def test_drawn_values_are_the_ones_the_prompt_states():
    quiz_helpers.check_templates_draw_what_they_state(ALL, DRAWING, VARIANTS)


@pytest.mark.parametrize("template_id", OURS)
def test_same_seed_same_question_and_bank_check(template_id):
    quiz_helpers.check_same_seed_and_bank_check(template_id, VARIANTS, derive_link=True)


def test_topic_has_twenty_questions_five_of_them_ours():
    quiz_helpers.check_question_counts((TOPIC,))


def test_topic_bank_passes_bank_check():
    quiz_helpers.check_topic_banks((TOPIC,))
