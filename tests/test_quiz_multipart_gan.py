"""GAN multipart problems, all five (gan-optimum, gan-fid, gan-generator-loss, gan-wgan-gp,
gan-adain; each "-multipart"): every part recomputed from the values the problem drew (`drawn`) by
an independent route (D* by numerical maximisation, scipy's sqrtm for FID, torch autograd for
both generator losses and for the critic's gradient at the interpolate, sympy for its norm;
torch's instance_norm for AdaIN, with the rescaled input run through it again), and each part
marked on its own."""

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


def _unless_right(part, text: str) -> str | None:
    return None if abs(float(text) - float(part.answer)) < 1e-3 * max(1, abs(float(text))) else text


def check_fid(q):
    from scipy.linalg import sqrtm

    mu_r, mu_g = np.array(q.drawn["mu_r"]), np.array(q.drawn["mu_g"])
    covs = [np.diag(q.drawn[name]) for name in ("Sigma_r", "Sigma_g")]  # drawn as diagonals
    fid = ((mu_r - mu_g) ** 2).sum() + np.trace(
        covs[0] + covs[1] - 2 * sqrtm(covs[0] @ covs[1]).real
    )
    close(q.parts[0].answer, ((mu_r - mu_g) ** 2).sum())
    close(q.parts[1].answer, fid)
    assert right_option(q.parts[2]).startswith("a large FID")


def check_generator_loss(q):
    import torch

    ell = float(q.drawn["ell"])
    for part, objective in ((q.parts[1], lambda d: torch.log(1 - d)), (q.parts[2], torch.log)):
        logit = torch.tensor(ell, dtype=torch.float64, requires_grad=True)
        objective(torch.sigmoid(logit)).backward()
        close(part.answer, logit.grad.item())
    close(q.parts[0].answer, 1 / (1 + math.exp(-ell)))
    assert right_option(q.parts[3]).startswith("the non-saturating one")


def check_gan(q):
    import sympy as sp
    from scipy.optimize import minimize_scalar

    p_d, p_g = q.drawn["p_d"], q.drawn["p_g"]
    k = q.parts[1].drawn["outcome"] - 1
    # D* by maximising the pointwise objective numerically, V by its definition
    best = [
        minimize_scalar(
            lambda D, a=a, b=b: -(a * math.log(D) + b * math.log(1 - D)),
            bounds=(1e-9, 1 - 1e-9),
            method="bounded",
            options={"xatol": 1e-12},
        ).x
        for a, b in zip(p_d, p_g)
    ]
    close(q.parts[1].answer, best[k], rel=1e-5)
    v = sum(a * math.log(D) + b * math.log(1 - D) for a, b, D in zip(p_d, p_g, best))
    close(q.parts[2].answer, v, rel=1e-5)
    d, g = sp.Symbol("p_d", positive=True), sp.Symbol("p_g", positive=True)
    points = [{"p_d": 0.3, "p_g": 0.6}, {"p_d": 0.8, "p_g": 0.1}]
    same_expression(q.parts[0].answer, d / (d + g), {"p_d": "positive", "p_g": "positive"}, points)
    assert right_option(q.parts[3]).startswith("it is -log 4, reached at p_g = p_d")


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
    "gan-fid-multipart": check_fid,
    "gan-generator-loss-multipart": check_generator_loss,
    "gan-optimum-multipart": check_gan,
    "gan-wgan-gp-multipart": check_wgan_gp,
    "gan-adain-multipart": check_adain,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)  # a None answer: the engine's perturbed one
