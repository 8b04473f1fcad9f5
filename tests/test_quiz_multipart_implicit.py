"""Implicit-surface multipart problems, all five (implicit-sdf, nerf-compositing,
splat-covariance, implicit-dvr-depth-gradient, nerf-positional-encoding; each "-multipart"): every
part recomputed from the values the problem drew (`drawn`) by an independent route (torch autograd
of the sphere's SDF, the light followed sample by sample, the projected covariance checked on
Monte Carlo samples, ray marching with bisection for the hit, torch autograd through the
closed-form ray-sphere intersection for dd/dr, the encoding written out and differentiated by
torch), and each part marked on its own."""

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


def check_sdf(q):
    import torch

    c = torch.tensor(q.drawn["c"], dtype=torch.float64)
    r = float(q.drawn["r"])
    x = torch.tensor(q.drawn["x"], dtype=torch.float64, requires_grad=True)
    f = torch.linalg.vector_norm(x - c) - r
    f.backward()
    axis = "xyz".index(q.parts[1].drawn["component"])
    close(q.parts[0].answer, f.item())
    close(q.parts[1].answer, x.grad[axis].item())
    close(q.parts[2].answer, torch.linalg.vector_norm(x.grad).item())
    assert right_option(q.parts[3]).startswith("(||grad f|| - 1)^2")


def check_nerf(q):
    sigma, delta, colours = q.drawn["sigma"], q.drawn["delta"], q.drawn["c"]
    i = q.parts[0].drawn["i"]
    assert q.parts[1].drawn["i"] == q.parts[2].drawn["i"] == i  # one sample asked about
    light, weights = 1.0, []
    for s in sigma:  # follow the light sample by sample
        absorbed = light * (1 - math.exp(-s * delta))
        weights.append(absorbed)
        if len(weights) == i:
            close(q.parts[1].answer, light)
        light -= absorbed
    close(q.parts[0].answer, 1 - math.exp(-sigma[i - 1] * delta))
    close(q.parts[2].answer, weights[i - 1])
    close(q.parts[3].answer, sum(w * c for w, c in zip(weights, colours)))
    assert right_option(q.parts[4]).startswith("1 - T_4")


def check_splat(q):
    from scipy.spatial.transform import Rotation

    scale = np.array(q.drawn["s"])
    degrees = float(q.drawn["degrees"])
    R = Rotation.from_euler("z", degrees, degrees=True).as_matrix()
    cov = R @ np.diag(scale**2) @ R.T
    ratio = float(q.drawn["f"]) / float(q.drawn["t_z"])
    assert q.parts[1].drawn["entry"] == q.parts[0].drawn["entry"]  # one entry asked about
    i, j = (index - 1 for index in q.parts[0].drawn["entry"])
    samples = np.random.default_rng(0).multivariate_normal(np.zeros(3), cov, 200_000)
    projected = ratio * samples[:, :2]  # the camera's linearised projection, applied to samples
    close(q.parts[0].answer, cov[i, j])
    assert math.isclose(
        float(q.parts[1].answer), np.cov(projected.T)[i, j], rel_tol=0.03, abs_tol=0.02
    )
    close(q.parts[1].answer, ratio**2 * cov[i, j])
    assert right_option(q.parts[2]).startswith("R S S^T R^T is positive semi-definite")


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
    "implicit-sdf-multipart": check_sdf,
    "nerf-compositing-multipart": check_nerf,
    "splat-covariance-multipart": check_splat,
    "implicit-dvr-depth-gradient-multipart": check_dvr,
    "nerf-positional-encoding-multipart": check_encoding,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
