"""ML-basics multipart problems, all five (ml-sigmoid-unit, ml-cross-entropy, ml-mle-map,
ml-perceptron, ml-mlp-backprop; each "-multipart"): every part recomputed from the values the
problem drew (`drawn`) by an independent route (torch autograd of the unit, scipy entropies, the
likelihood and posterior maximised on a grid, scikit-learn's Perceptron run for one pass from the
given weights, a search for a separating w on XOR, a torch network with autograd for the
backward pass), and each part marked on its own."""

from __future__ import annotations

import itertools

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


def check_cross_entropy(q):
    from scipy.stats import entropy

    p, q_model = q.drawn["p"], q.drawn["q"]
    close(q.parts[1].answer, entropy(p))
    close(q.parts[2].answer, entropy(p, q_model))
    close(q.parts[0].answer, entropy(p) + entropy(p, q_model))
    assert right_option(q.parts[3]).startswith("minimising KL(p || q)")


def check_mle_map(q):
    xs, ys = np.array(q.drawn["x"]), np.array(q.drawn["y"])
    noise = float(q.drawn["noise variance"])
    prior = float(q.parts[1].drawn["prior variance"])
    grid_ = np.linspace(-10, 10, 2_000_001)  # maximise the (log) likelihood and posterior
    log_lik = -((ys[None, :] - grid_[:, None] * xs[None, :]) ** 2).sum(1) / (2 * noise)
    close(q.parts[0].answer, grid_[np.argmax(log_lik)], rel=1e-4)
    close(q.parts[1].answer, grid_[np.argmax(log_lik - grid_**2 / (2 * prior))], rel=1e-4)
    assert right_option(q.parts[2]).startswith("towards the MLE")


def check_sigmoid_unit(q):
    import torch

    w, b, x, upstream = (
        torch.tensor(float(q.drawn[n]), dtype=torch.float64, requires_grad=True)
        for n in ("w", "b", "x", "dL/dz")
    )
    z = torch.sigmoid(w * x + b)
    z.backward(upstream.detach())
    close(q.parts[0].answer, z.item())
    close(q.parts[1].answer, w.grad.item())
    close(q.parts[2].answer, b.grad.item())


def check_perceptron(q):
    import sympy as sp

    w0 = np.array(q.drawn["w"], float)
    xs, ys = np.array(q.drawn["x"], float), np.array(q.drawn["y"])  # x^(i), y^(i) in order
    j = q.parts[1].drawn["j"] - 1
    assert q.parts[2].drawn["j"] == j + 1  # (c) asks about the same weight
    close(q.parts[0].answer, ys[0] * (w0[:2] @ xs[0] + w0[2]))
    # the loop written out: the weight after each example
    w, after = w0.copy(), []
    for x, y in zip(xs, ys):
        if y * (w[:2] @ x + w[2]) <= 0:
            w = w + y * np.append(x, 1.0)
        after.append(w.copy())
    close(q.parts[1].answer, after[0][j])
    close(q.parts[2].answer, after[2][j])
    x1, x2, y = sp.symbols("x_1 x_2 y", real=True)
    wv = sp.symbols("w_1:4", real=True)
    xt = (x1, x2, 1)
    gain = y * sum((wi + y * xi) * xi for wi, xi in zip(wv, xt)) - y * sum(
        wi * xi for wi, xi in zip(wv, xt)
    )
    truth = sp.expand(gain).subs(y**2, 1)
    points = [{"x_1": 0.5, "x_2": -2.0}, {"x_1": 3.0, "x_2": 1.5}]
    same_expression(q.parts[3].answer, truth, {"x_1": "real", "x_2": "real"}, points)
    # XOR: no w on a fine grid separates the four points, so some example stays a mistake
    data = [((0, 0), -1), ((1, 1), -1), ((1, 0), 1), ((0, 1), 1)]
    grid = np.linspace(-3, 3, 25)
    assert not any(
        all(yv * (a * px + b * py + c) > 0 for (px, py), yv in data)
        for a, b, c in itertools.product(grid, grid, grid)
    )
    assert right_option(q.parts[4]).startswith("it never stops making mistakes")
    return {
        1: repr(float(w0[j])),  # no update made
        3: "x_1^2 + x_2^2",  # the bias input forgotten
        4: option_letter(q.parts[4], "it converges once the bias"),
    }


def check_mlp(q):
    import sympy as sp
    import torch

    W1 = torch.tensor(q.drawn["W1"], dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor(q.drawn["w2"], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor(float(q.drawn["b2"]), dtype=torch.float64)
    x = torch.tensor(q.drawn["x"], dtype=torch.float64)
    y = torch.tensor(float(q.drawn["y"]), dtype=torch.float64)
    logit = w2 @ torch.relu(W1 @ x) + b2
    p = torch.sigmoid(logit)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y)
    loss.backward()
    unit = q.parts[3].drawn["unit"] - 1
    row, col = q.parts[4].drawn["row"] - 1, q.parts[4].drawn["column"] - 1
    close(q.parts[0].answer, p.item())
    close(q.parts[1].answer, loss.item())
    close(q.parts[3].answer, w2.grad[unit].item())
    close(q.parts[4].answer, W1.grad[row, col].item())
    ps, ys, a = sp.Symbol("p", positive=True), sp.Symbol("y", real=True), sp.Symbol("a")
    sig = 1 / (1 + sp.exp(-a))
    dl_da = sp.diff(-ys * sp.log(sig) - (1 - ys) * sp.log(1 - sig), a)
    for pv, yv in ((0.3, 1.0), (0.8, 0.0), (0.55, 1.0)):
        av = float(np.log(pv / (1 - pv)))
        same_expression(
            q.parts[2].answer,
            dl_da.subs(a, av) + 0 * ps + 0 * ys,  # a number: the point sets p and y
            {"p": "unit", "y": "real"},
            [{"p": pv, "y": yv}],
        )
    assert right_option(q.parts[5]).startswith("they shrink by a factor of at least 4")
    pv = p.item()
    return {
        2: "y - p",
        3: repr(w2.grad[unit].item() / (pv * (1 - pv))),  # sigma' divided out: dL/dp
        5: option_letter(q.parts[5], "they vanish for ReLU"),
    }


CHECKS = {
    "ml-cross-entropy-multipart": check_cross_entropy,
    "ml-mle-map-multipart": check_mle_map,
    "ml-sigmoid-unit-multipart": check_sigmoid_unit,
    "ml-perceptron-multipart": check_perceptron,
    "ml-mlp-backprop-multipart": check_mlp,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
