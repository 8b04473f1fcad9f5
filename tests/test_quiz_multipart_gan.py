"""GAN multipart problems (gan-wgan-gp-multipart, gan-adain-multipart): every part recomputed from
the values the problem drew (`drawn`) by an independent route (torch autograd for the critic's
gradient at the interpolate, sympy for its norm; torch's instance_norm for AdaIN, with the rescaled
input run through it again), and each part marked on its own."""

from __future__ import annotations

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


def _unless_right(part, text: str) -> str | None:
    return None if abs(float(text) - float(part.answer)) < 1e-3 * max(1, abs(float(text))) else text


def check_wgan_gp(q):
    import sympy as sp
    import torch

    def t(name):
        return torch.tensor(q.drawn[name], dtype=torch.float64)

    w, k = t("w"), float(q.drawn["k"])
    real, fake = t("x"), t("x_hat")
    eps, lam = float(q.drawn["eps"]), float(q.drawn["lambda"])

    def critic(x):
        return w @ x + k / 2 * (x * x).sum()

    tilde = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(tilde), tilde)
    penalty = lam * (grad.norm() - 1) ** 2
    close(q.parts[1].answer, penalty.item())
    loss = critic(fake) - critic(real) + penalty
    close(q.parts[2].answer, loss.item())
    names = ("w_1", "w_2", "k", "x_1", "x_2")
    w1, w2, kk, x1, x2 = (sp.Symbol(n, real=True) for n in names)
    field = w1 * x1 + w2 * x2 + kk / 2 * (x1**2 + x2**2)
    truth = sp.sqrt(sp.diff(field, x1) ** 2 + sp.diff(field, x2) ** 2)
    points = [
        dict(zip(names, (0.5, -1.0, 0.7, 1.2, -0.3))),
        dict(zip(names, (-2, 1.5, -1, 0.4, 2))),
    ]
    same_expression(q.parts[0].answer, truth, dict.fromkeys(names, "real"), points)
    assert right_option(q.parts[3]).startswith("the Wasserstein dual needs a 1-Lipschitz critic")
    swapped = critic(real) - critic(fake) + penalty
    return {
        0: "sqrt(w_1^2 + w_2^2)",  # the quadratic term's gradient lost
        1: _unless_right(q.parts[1], repr((lam * grad.norm() ** 2).item())),  # the "- 1" lost
        2: _unless_right(q.parts[2], repr(swapped.item())),  # real and fake swapped
        3: option_letter(q.parts[3], "to keep D's output in [0, 1]"),
    }


def check_adain(q):
    import torch
    import torch.nn.functional as F

    x = torch.tensor(q.drawn["x_i"], dtype=torch.float64)
    scale, bias = float(q.drawn["y_s"]), float(q.drawn["y_b"])
    r, c = q.parts[1].drawn["row"] - 1, q.parts[1].drawn["column"] - 1
    later = q.parts[2].drawn  # x'_i = gain x_i + sign |shift|, the same entry
    assert (later["row"] - 1, later["column"] - 1) == (r, c)
    moved = later["gain"] * x + (1 if later["sign"] == "+" else -1) * later["|shift|"]

    def adain(v):
        return scale * F.instance_norm(v[None, None], eps=0.0)[0, 0] + bias

    close(q.parts[0].answer, x.std(unbiased=False).item())
    close(q.parts[1].answer, adain(x)[r, c].item())
    close(q.parts[2].answer, adain(moved)[r, c].item())
    assert right_option(q.parts[3]).startswith("per channel and per image")
    stale = scale * (moved - x.mean()) / x.std(unbiased=False) + bias  # the old statistics
    unbiased = scale * (x - x.mean()) / x.std() + bias
    return {
        0: repr(x.std().item()),  # divided by 3, not 4
        1: repr(unbiased[r, c].item()),
        2: repr(stale[r, c].item()),
        3: option_letter(q.parts[3], "it normalises over the batch"),
    }


CHECKS = {
    "gan-wgan-gp-multipart": check_wgan_gp,
    "gan-adain-multipart": check_adain,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)  # a None answer: the engine's perturbed one
