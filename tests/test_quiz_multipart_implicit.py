"""Implicit-surface multipart problems (implicit-dvr-depth-gradient-multipart,
nerf-positional-encoding-multipart): every part recomputed by an independent route (ray
marching with bisection for the hit, torch autograd through the closed-form ray-sphere
intersection for dd/dr, the encoding written out and differentiated by torch), and each part
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


def check_dvr(q):
    import sympy as sp
    import torch

    c, r, r0 = np.array(q.drawn["c"], float), float(q.drawn["r"]), np.array(q.drawn["r_0"], float)
    w = np.array([0.0, 0.0, 1.0])

    def sdf(d):
        return np.linalg.norm(r0 + d * w - c) - r

    # ray marching: the first sign change on a fine grid, then bisection
    ds = np.linspace(0, 20, 20001)
    first = next(i for i, d in enumerate(ds) if sdf(d) <= 0)
    low, high = ds[first - 1], ds[first]
    for _ in range(80):
        mid = (low + high) / 2
        low, high = (mid, high) if sdf(mid) > 0 else (low, mid)
    close(q.parts[0].answer, low)
    hit = torch.tensor(r0 + low * w, requires_grad=True)
    (torch.linalg.vector_norm(hit - torch.tensor(c)) - r).backward()
    close(q.parts[2].answer, float(hit.grad.numpy() @ w))
    radius = torch.tensor(r, dtype=torch.float64, requires_grad=True)
    oc = torch.tensor(r0 - c)  # |oc + d w|^2 = r^2: d = -oc.w - sqrt((oc.w)^2 - |oc|^2 + r^2)
    b = oc @ torch.tensor(w)
    depth = -b - torch.sqrt(b**2 - oc @ oc + radius**2)
    depth.backward()
    close(q.parts[3].answer, radius.grad.item())
    assert right_option(q.parts[4]).startswith("it needs no backpropagation")
    g, s, dd = sp.symbols("g s dd", real=True)
    truth = sp.solve(sp.Eq(g + s * dd, 0), dd)[0]  # the differentiated constraint
    same_expression(
        q.parts[1].answer,
        truth,
        {"g": "real", "s": "real"},
        [{"g": 0.4, "s": -0.8}, {"g": -2.0, "s": 0.5}],
    )
    return {
        1: "g/s",
        3: repr(-radius.grad.item()),  # the sign of df/dr = -1 lost
        4: option_letter(q.parts[4], "the gradient is 0"),
    }


def check_encoding(q):
    import torch

    levels, dims = q.drawn["L"], q.parts[0].drawn["D"]
    p, delta = q.parts[1].drawn["p"], q.parts[2].drawn["delta"]
    assert q.parts[2].drawn["p"] == p  # (c) asks about the same point

    def gamma(x, count):  # written out: for each frequency, sin then cos
        out = []
        for coordinate in x:
            for level in range(count):
                angle = (2.0**level) * math.pi * coordinate
                out += [torch.sin(angle), torch.cos(angle)]
        return torch.stack(out)

    point = torch.zeros(dims, dtype=torch.float64)
    assert int(q.parts[0].answer) == gamma(point, levels).numel()
    x = torch.tensor([p], dtype=torch.float64, requires_grad=True)
    gamma(x, levels)[2 * (levels - 1)].backward()  # the last sin entry
    close(q.parts[1].answer, x.grad.item())
    here = torch.tensor([p], dtype=torch.float64)
    there = torch.tensor([p + delta], dtype=torch.float64)
    full = torch.linalg.vector_norm(gamma(here, levels) - gamma(there, levels)).item()
    close(q.parts[2].answer, full)
    close(q.parts[3].answer, torch.linalg.vector_norm(gamma(here, 1) - gamma(there, 1)).item())
    assert right_option(q.parts[4]).startswith("an MLP on raw coordinates")
    return {
        0: str(dims * levels),  # the cos entries forgotten
        1: repr(2 ** (levels - 1) * math.cos(2 ** (levels - 1) * math.pi * p)),  # pi dropped
        4: option_letter(q.parts[4], "it normalises the input"),
    }


CHECKS = {
    "implicit-dvr-depth-gradient-multipart": check_dvr,
    "nerf-positional-encoding-multipart": check_encoding,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
