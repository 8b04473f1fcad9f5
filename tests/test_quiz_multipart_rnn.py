"""RNN multipart problems, all five (rnn-linear-gradients, rnn-clipping, rnn-vanilla-bptt,
rnn-lstm-cell-path, rnn-bptt-bound; each "-multipart"): every part recomputed from the values the
problem drew (`drawn`) by an independent route (torch autograd Jacobians of the unrolled
recurrence, torch's clip_grad_norm_, autograd through two tanh steps, torch.nn.LSTMCell and
autograd through it, singular values by eigenvalues of W^T W, the bound checked against real
Jacobian products of a sigmoid RNN), and each part marked on its own."""

from __future__ import annotations

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


def check_clipping(q):
    import torch

    grad = q.drawn["g"]
    threshold = float(q.drawn["threshold"])
    component = q.parts[1].drawn["component"] - 1
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    p.grad = torch.tensor(grad, dtype=torch.float64)
    norm = torch.nn.utils.clip_grad_norm_([p], threshold)  # torch's own clipping
    close(q.parts[0].answer, norm.item())
    close(q.parts[1].answer, p.grad[component].item(), rel=1e-5)
    assert right_option(q.parts[2]).startswith("the direction of g")


def check_rnn(q):
    import torch

    W = torch.tensor(q.drawn["W"], dtype=torch.float64)
    h1 = torch.tensor(q.drawn["h_1"], dtype=torch.float64)
    t, component = q.parts[0].drawn["t"], q.parts[0].drawn["component"]
    assert q.parts[1].drawn["t"] == t  # (b) differentiates the same h_t

    def unroll(h):
        for _ in range(t - 1):
            h = W @ h
        return h

    close(q.parts[0].answer, unroll(h1)[component - 1].item())
    jacobian = torch.autograd.functional.jacobian(unroll, h1)
    close(q.parts[1].answer, torch.linalg.matrix_norm(jacobian, ord=2).item())
    assert right_option(q.parts[2]).startswith("it explodes along one direction")


def check_vanilla_bptt(q):
    import torch

    w_hh, w_xh = float(q.drawn["W_hh"]), float(q.drawn["W_xh"])
    x1, x2 = float(q.drawn["x_1"]), float(q.drawn["x_2"])
    h1 = torch.tanh(torch.tensor(w_xh * x1, dtype=torch.float64)).requires_grad_(True)
    h2 = torch.tanh(w_hh * h1 + w_xh * x2)
    h2.backward()
    close(q.parts[0].answer, h1.item())
    close(q.parts[1].answer, h2.item())
    close(q.parts[2].answer, h1.grad.item())
    assert right_option(q.parts[3]).startswith("when |W_hh| < 1")


def check_lstm(q):
    import sympy as sp
    import torch

    z = [float(q.drawn[n]) for n in ("z_i", "z_f", "z_g", "z_o")]  # torch's order
    c_prev = float(q.drawn["c_{t-1}"])
    cell = torch.nn.LSTMCell(1, 1, dtype=torch.float64)
    with torch.no_grad():  # x = 1, h_{t-1} = 0: the pre-activations are the input weights
        cell.weight_ih.copy_(torch.tensor(z, dtype=torch.float64)[:, None])
        cell.weight_hh.zero_()
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    c0 = torch.tensor([[c_prev]], dtype=torch.float64, requires_grad=True)
    h, c = cell(torch.ones(1, 1, dtype=torch.float64), (torch.zeros(1, 1, dtype=torch.float64), c0))
    close(q.parts[0].answer, c.item())
    close(q.parts[1].answer, h.item())
    h.backward()  # the gates do not depend on c_{t-1}: autograd follows the cell path only
    close(q.parts[3].answer, c0.grad.item())
    forget = torch.sigmoid(torch.tensor(z[1])).item()
    steps = q.parts[4].drawn["steps"]
    carried = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    state = carried
    for _ in range(steps):  # c <- f c + (input term that does not depend on c)
        state = forget * state + 0.3
    state.backward()
    close(q.parts[4].answer, carried.grad.item())
    assert right_option(q.parts[5]).startswith("the cell update is additive")
    o, f, c_t, c_p, i, g = sp.symbols("o f c_t c_p i g", real=True)
    truth = sp.diff(o * sp.tanh(f * c_p + i * g), c_p).subs(f * c_p + i * g, c_t)
    points = [{"o": 0.3, "f": 0.8, "c_t": 1.2}, {"o": 0.9, "f": 0.4, "c_t": -0.5}]
    same_expression(q.parts[2].answer, truth, {"o": "unit", "f": "unit", "c_t": "real"}, points)
    return {
        2: "o*(1 - tanh(c_t)^2)",  # the forget gate dropped
        4: repr(forget * steps),
        5: option_letter(q.parts[5], "the cell has no nonlinearity"),
    }


def check_bptt_bound(q):
    import sympy as sp
    import torch

    W = np.array(q.drawn["W_hh"], float)
    lam = float(np.sqrt(np.linalg.eigvalsh(W.T @ W).max()))
    span = q.parts[2].drawn["t - k"]
    assert q.parts[3].drawn["t - k"] == span  # (d) bounds the same span
    close(q.parts[0].answer, lam)
    close(q.parts[2].answer, (lam / 4) ** span)
    close(q.parts[3].answer, lam**span)
    # a real sigmoid RNN: the Jacobian product's norm stays under the bound
    rng = np.random.default_rng(0)
    W_t = torch.tensor(W)
    for _ in range(5):
        h = torch.tensor(rng.normal(size=2), requires_grad=True)
        xs = torch.tensor(rng.normal(size=(span, 2)))

        def unroll(h0, W_t=W_t, xs=xs):
            for x in xs:
                h0 = torch.sigmoid(W_t @ h0 + x)
            return h0

        J = torch.autograd.functional.jacobian(unroll, h)
        assert torch.linalg.matrix_norm(J, ord=2).item() <= (lam / 4) ** span * (1 + 1e-9)
    assert right_option(q.parts[4]).startswith("the sigmoid RNN's gradients vanish")
    lam_s, gam, t, k = sp.symbols("lambda_1 gamma t k", positive=True)
    truth = (lam_s * gam) ** (t - k)
    points = [
        {"lambda_1": 1.5, "gamma": 0.25, "t": 7, "k": 2},
        {"lambda_1": 3.0, "gamma": 1.0, "t": 4, "k": 1},
    ]
    symbols = {
        "lambda_1": "positive",
        "gamma": "positive",
        "t": "positive-integer",
        "k": "positive-integer",
    }
    same_expression(q.parts[1].answer, truth, symbols, points)
    return {
        1: "(lambda_1*gamma)^t",
        2: repr(lam**span / 4),  # only one factor of 1/4
        4: option_letter(q.parts[4], "the tanh RNN's gradients explode"),
    }


CHECKS = {
    "rnn-clipping-multipart": check_clipping,
    "rnn-linear-gradients-multipart": check_rnn,
    "rnn-vanilla-bptt-multipart": check_vanilla_bptt,
    "rnn-lstm-cell-path-multipart": check_lstm,
    "rnn-bptt-bound-multipart": check_bptt_bound,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
