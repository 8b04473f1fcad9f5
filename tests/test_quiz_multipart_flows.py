"""Flow multipart problems (flows-composition-multipart, flows-multiscale-multipart): every part
recomputed from the values the problem drew (`drawn`) by an independent route (torch's
TransformedDistribution with an affine and an exp transform, autograd for the forward derivative,
sympy for the inverse's derivative; torch pixel_unshuffle and chunk run level by level on a real
tensor), and each part marked on its own."""

from __future__ import annotations

import math

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
    "flows-composition-multipart": check_composition,
    "flows-multiscale-multipart": check_multiscale,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
