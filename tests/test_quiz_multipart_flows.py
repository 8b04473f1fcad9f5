"""Flow multipart problems, all five (flows-linear-density, flows-glow-logdet,
flows-affine-coupling, flows-composition, flows-multiscale; each "-multipart"): every part
recomputed from the values the problem drew (`drawn`) by an independent route (scipy's
multivariate normal and slogdet, autograd Jacobians of the layers and of the coupling, sympy for
the inverse; torch's TransformedDistribution with an affine and an exp transform, autograd for
the forward derivative, sympy for the inverse's derivative; torch pixel_unshuffle and chunk run
level by level on a real tensor), and each part marked on its own."""

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


def check_affine_coupling(q):
    import sympy as sp
    import torch

    x = torch.tensor(q.drawn["x"], dtype=torch.float64)
    s = torch.tensor(q.drawn["s(x^A)"], dtype=torch.float64)
    t = torch.tensor(q.drawn["t(x^A)"], dtype=torch.float64)

    def coupling(v):  # with s, t held at their values for this x^A
        return torch.cat([v[:2], v[2:] * torch.exp(s) + t])

    component = q.parts[0].drawn["component"] - 1  # y_3 or y_4, counted from 1
    close(q.parts[0].answer, coupling(x)[component].item())
    J = torch.autograd.functional.jacobian(coupling, x)
    close(q.parts[1].answer, torch.linalg.slogdet(J)[1].item())
    y3, s1, t1 = (
        sp.Symbol("y_3", real=True),
        sp.Symbol("s_1", real=True),
        sp.Symbol("t_1", real=True),
    )
    x3 = sp.solve(sp.Eq(y3, sp.Symbol("x3") * sp.exp(s1) + t1), sp.Symbol("x3"))[0]
    points = [{"y_3": 0.7, "s_1": -0.4, "t_1": 0.2}, {"y_3": -1.5, "s_1": 1.1, "t_1": -0.6}]
    same_expression(q.parts[2].answer, x3, {"y_3": "real", "s_1": "real", "t_1": "real"}, points)
    assert right_option(q.parts[3]).startswith("they only ever take x^A")


def check_glow(q):
    import torch

    s = torch.tensor(q.drawn["s"], dtype=torch.float64)
    W = torch.tensor(q.drawn["W"], dtype=torch.float64)
    h, w, channels = q.drawn["H x W x C"]
    assert channels == 2
    x = torch.zeros(2 * h * w, dtype=torch.float64)

    def step(flat, layer):  # the layer applied to every pixel of a (C, H, W) activation
        pixels = flat.reshape(2, h * w)
        out = s[:, None] * pixels if layer == "actnorm" else W @ pixels
        return out.reshape(-1)

    logdets = []
    for layer in ("actnorm", "conv"):
        J = torch.autograd.functional.jacobian(lambda f, layer=layer: step(f, layer), x)
        logdets.append(torch.linalg.slogdet(J)[1].item())
    close(q.parts[0].answer, logdets[0])
    close(q.parts[1].answer, logdets[1])
    close(q.parts[2].answer, sum(logdets))
    assert right_option(q.parts[3]).startswith("log|det W| becomes sum log|s|")


def check_flows(q):
    from scipy.stats import multivariate_normal

    A, b = np.array(q.drawn["A"], float), np.array(q.drawn["b"], float)
    x = np.array(q.parts[1].drawn["x"], float)
    close(q.parts[0].answer, np.linalg.slogdet(A)[1])
    # x = A z + b with z ~ N(0, I) is N(b, A A^T)
    close(q.parts[1].answer, multivariate_normal(mean=b, cov=A @ A.T).logpdf(x))
    assert right_option(q.parts[2]).startswith("a density must stay positive")


def check_composition(q):
    import sympy as sp
    import torch
    from torch.distributions import AffineTransform, ExpTransform, Normal, TransformedDistribution

    a, b = float(q.drawn["a"]), float(q.drawn["b"])
    x = float(q.parts[1].drawn["x"])
    base = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    flow = TransformedDistribution(base, [AffineTransform(b, a), ExpTransform()])
    close(q.parts[1].answer, flow.log_prob(torch.tensor(x, dtype=torch.float64)).item())
    z = torch.tensor((math.log(x) - b) / a, dtype=torch.float64, requires_grad=True)
    torch.exp(a * z + b).backward()
    close(q.parts[2].answer, math.log(abs(z.grad.item())))
    A, X, B = sp.Symbol("a", real=True), sp.Symbol("x", positive=True), sp.Symbol("b", real=True)
    truth = sp.Abs(sp.diff((sp.log(X) - B) / A, X))
    points = [{"a": -1.5, "x": 2.0, "b": 0.3}, {"a": 0.7, "x": 0.4, "b": -1.0}]
    same_expression(q.parts[0].answer, truth, {"a": "real", "x": "positive"}, points)
    assert right_option(q.parts[3]).startswith("f^{-1} = f_1^{-1} o f_2^{-1}")
    return {
        0: "1/(a*x)",  # the absolute value lost
        2: repr(-math.log(abs(z.grad.item()))),  # the inverse's log-derivative instead
        3: option_letter(q.parts[3], "f^{-1} = f_2^{-1} o f_1^{-1}"),
    }


def check_multiscale(q):
    import torch
    import torch.nn.functional as F

    channels, size, width = q.drawn["C x H x W"]
    assert width == size
    level = q.parts[1].drawn["levels"]
    assert q.parts[2].drawn["level"] == level
    x = torch.randn(1, channels, size, size)
    latent, h, squeezed, matrices = [], x, [], []
    for _ in range(level):
        h = F.pixel_unshuffle(h, 2)  # squeeze: 2 x 2 blocks to channels
        squeezed.append(h.shape[1])
        matrices.append(torch.nn.Conv2d(h.shape[1], h.shape[1], 1, bias=False).weight.numel())
        out, h = h.chunk(2, dim=1)  # split
        latent.append(out)
    latent.append(h)
    assert int(q.parts[0].answer) == squeezed[0]
    assert int(q.parts[1].answer) == h.numel()
    assert int(q.parts[2].answer) == matrices[-1]
    assert int(q.parts[3].answer) == sum(part.numel() for part in latent)
    # the levels only rearrange: every input number lands in exactly one z_l
    assert sorted(torch.cat([p.reshape(-1) for p in latent]).tolist()) == sorted(
        x.reshape(-1).tolist()
    )
    assert right_option(q.parts[4]).startswith("a flow must stay a bijection")
    return {
        1: str(h.numel() * 2),  # the split forgotten at the last level
        2: str(squeezed[-1]),  # C' instead of C'^2
        3: str(sum(part.numel() for part in latent[:-1])),  # the last level's output forgotten
        4: option_letter(q.parts[4], "it is only kept to save memory"),
    }


CHECKS = {
    "flows-affine-coupling-multipart": check_affine_coupling,
    "flows-glow-logdet-multipart": check_glow,
    "flows-linear-density-multipart": check_flows,
    "flows-composition-multipart": check_composition,
    "flows-multiscale-multipart": check_multiscale,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
