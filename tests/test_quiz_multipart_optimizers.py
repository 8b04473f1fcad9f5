"""Optimizer multipart problems, all five (opt-momentum, opt-adam, opt-adagrad-rmsprop,
opt-nesterov-lookahead, opt-gd-conditioning; each "-multipart"): every part recomputed from the
values the problem drew (`drawn`) by an independent route (the momentum update looped, torch's
Adam and AdaGrad on the given gradients, torch.optim.SGD with and without nesterov=True on the
quadratic, autograd for the look-ahead gradient, gradient descent looped until the flat
coordinate is small), and each part marked on its own."""

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


def _torch_step(theta0, v0, lam, lr, alpha, nesterov):
    """One step of torch's SGD from the state (theta, v). torch keeps b = -v / lr as its
    buffer; with nesterov=True it stores p = theta + alpha v (Sutskever's form)."""
    import torch

    start = theta0 + alpha * v0 if nesterov else theta0
    p = torch.tensor([start], dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.SGD([p], lr=lr, momentum=alpha, nesterov=nesterov)
    optimiser.state[p]["momentum_buffer"] = torch.tensor([-v0 / lr], dtype=torch.float64)
    (lam * p**2 / 2).sum().backward()
    optimiser.step()
    v_new = -lr * optimiser.state[p]["momentum_buffer"].item()
    return p.item() - (alpha * v_new if nesterov else 0.0)


def check_adagrad_rmsprop(q):
    import torch

    g1, g2 = float(q.drawn["g_1"]), float(q.drawn["g_2"])
    lr = float(q.drawn["learning rate"])
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    adagrad = torch.optim.Adagrad([theta], lr=lr, eps=0.0)
    for g in (g1, g2):  # torch's AdaGrad on the given gradients
        theta.grad = torch.tensor([g], dtype=torch.float64)
        adagrad.step()
    close(q.parts[0].answer, theta.item())
    rho = float(q.parts[1].drawn["rho"])
    assert q.parts[1].drawn["r"] == g1 * g1  # the second step starts from AdaGrad's r_1
    r = rho * g1 * g1 + (1 - rho) * g2 * g2
    close(q.parts[1].answer, r)
    close(q.parts[2].answer, -lr * g2 / math.sqrt(r))
    assert right_option(q.parts[3]).startswith("AdaGrad's r only grows")


def check_adam(q):
    import torch

    lr = float(q.drawn["lr"])
    g1, g2 = float(q.drawn["g_1"]), float(q.drawn["g_2"])
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([theta], lr=lr, betas=(0.9, 0.999), eps=1e-8)
    thetas = []
    for g in (g1, g2):  # torch's Adam on the given gradients
        optimiser.zero_grad()
        theta.grad = torch.tensor([g], dtype=torch.float64)
        optimiser.step()
        thetas.append(theta.item())
    close(q.parts[0].answer, thetas[0])
    close(q.parts[1].answer, optimiser.state[theta]["exp_avg"].item())
    close(q.parts[2].answer, thetas[1])
    assert right_option(q.parts[3]).startswith("m starts at 0")


def check_momentum(q):
    import sympy as sp

    alpha, lr, g = (float(q.drawn[n]) for n in ("alpha", "epsilon", "g"))
    theta, v = 0.0, 0.0
    speeds = []
    for _ in range(2000):  # the update rule, looped
        v = alpha * v - lr * g
        theta += v
        speeds.append(abs(v))
        if len(speeds) == 2:
            close(q.parts[0].answer, theta)
    close(q.parts[2].answer, speeds[-1])
    e, gg = sp.Symbol("epsilon", positive=True), sp.Symbol("g", real=True)
    truth = e * sp.Abs(gg) / (1 - sp.Symbol("alpha", positive=True))
    points = [{"epsilon": 0.1, "g": -2.0, "alpha": 0.9}, {"epsilon": 0.3, "g": 1.5, "alpha": 0.2}]
    symbols = {"epsilon": "positive", "g": "real", "alpha": "positive"}
    same_expression(q.parts[1].answer, truth, symbols, points)
    assert right_option(q.parts[3]).startswith("moves up to 1/(1 - alpha)")


def check_nesterov(q):
    import sympy as sp
    import torch

    lam, lr, alpha = (float(q.drawn[n]) for n in ("lambda", "epsilon", "alpha"))
    theta, v = float(q.drawn["theta"]), float(q.drawn["v"])
    point = torch.tensor(theta + alpha * v, dtype=torch.float64, requires_grad=True)
    (lam * point**2 / 2).backward()
    close(q.parts[1].answer, point.grad.item())
    nesterov = _torch_step(theta, v, lam, lr, alpha, nesterov=True)
    polyak = _torch_step(theta, v, lam, lr, alpha, nesterov=False)
    close(q.parts[2].answer, nesterov)
    close(q.parts[3].answer, polyak)
    assert right_option(q.parts[4]).startswith("they differ because Nesterov")
    names = ("theta", "v", "alpha", "epsilon", "lambda")
    t, vv, a, e, lm = (sp.Symbol(n, real=True) for n in names)
    velocity = a * vv - e * sp.diff(lm * sp.Symbol("x") ** 2 / 2, sp.Symbol("x")).subs(
        sp.Symbol("x"), t + a * vv
    )
    points = [dict(zip(names, (1.3, -0.4, 0.9, 0.1, 2.0))), dict(zip(names, (-2, 1, 0.5, 0.3, 4)))]
    symbols = {"theta": "real", "v": "real", "alpha": "positive", "epsilon": "positive"}
    symbols["lambda"] = "positive"
    same_expression(q.parts[0].answer, t + velocity, symbols, points)
    return {
        0: "theta + alpha*v - epsilon*lambda*theta",  # the gradient at theta: Polyak's
        2: repr(polyak),
        4: option_letter(q.parts[4], "they are the same step"),
    }


def check_conditioning(q):
    import sympy as sp
    import torch

    a, b = float(q.drawn["a"]), float(q.drawn["b"])
    theta0 = q.drawn["theta"]
    lr, k = float(q.parts[1].drawn["epsilon"]), q.parts[1].drawn["k"]
    assert q.parts[3].drawn["epsilon"] == lr  # (d) counts steps at the same rate
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.SGD([p], lr=lr)
    scale = torch.tensor([a, b], dtype=torch.float64)
    for _ in range(k):  # torch's gradient descent on the quadratic
        optimiser.zero_grad()
        (scale * p**2 / 2).sum().backward()
        optimiser.step()
    close(q.parts[1].answer, p[0].item())
    # the largest stable rate: bisect on whether 2000 steps of theta_1 grow
    low, high = 0.0, 10.0
    for _ in range(60):
        mid = (low + high) / 2
        x = 1.0
        for _ in range(2000):
            x -= mid * a * x
        low, high = (mid, high) if abs(x) <= 1.0 else (low, mid)
    close(q.parts[2].answer, low, rel=1e-3)
    x, steps = float(theta0[1]), 0
    while abs(x) >= 0.01 * abs(theta0[1]):  # count the steps
        x -= lr * b * x
        steps += 1
    assert int(q.parts[3].answer) == steps
    assert right_option(q.parts[4]).startswith("the flat direction is slow")
    e, aa, kk, t0 = sp.symbols("epsilon a k theta_0", positive=True)
    points = [
        {"epsilon": 0.1, "a": 4.0, "k": 3, "theta_0": 2.0},
        {"epsilon": 0.3, "a": 1.0, "k": 5, "theta_0": -1.0},
    ]
    symbols = {"epsilon": "positive", "a": "positive", "k": "positive-integer"}
    symbols["theta_0"] = "real"
    same_expression(q.parts[0].answer, (1 - e * aa) ** kk * t0, symbols, points)
    return {
        0: "(1 - epsilon*a)*theta_0",
        2: repr(1 / a),  # 1/lambda_max: the step that lands on the minimum
        3: str(steps + 1),
        4: option_letter(q.parts[4], "raising epsilon"),
    }


CHECKS = {
    "opt-adagrad-rmsprop-multipart": check_adagrad_rmsprop,
    "opt-adam-multipart": check_adam,
    "opt-momentum-multipart": check_momentum,
    "opt-nesterov-lookahead-multipart": check_nesterov,
    "opt-gd-conditioning-multipart": check_conditioning,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
