"""One LSTM cell, forward and backward through its gates (sheet section 12.1).

    (i, f, o, g) = (sigma, sigma, sigma, tanh)(W [x_t; h_{t-1}] + b)     (sheet's gate order)
    c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
Backward for an upstream G = dE/dh_t (and no gradient from c_t's future):
    do = G * tanh(c_t),   dc_t = G * o * (1 - tanh(c_t)^2)
    di = dc_t * g,   df = dc_t * c_{t-1},   dg = dc_t * i,   dc_{t-1} = dc_t * f
    da_i = di * i(1-i),  da_f = df * f(1-f),  da_o = do * o(1-o),  da_g = dg * (1 - g^2)
    dW = da [x_t; h_{t-1}]^T,  db = da,  d[x_t; h_{t-1}] = W^T da
torch.nn.LSTMCell stacks its gates as (i, f, g, o); the forward check copies our weights into it
in that order.
"""

from __future__ import annotations

import math

import numpy as np

from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check

D_X, D_H = 2, 2


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.array([1.0 / (1.0 + math.exp(-float(v))) for v in z])


def build(seed: int, hidden: int = D_H) -> WorkedExample:
    draw = Draw(seed)
    x = draw.ints((D_X,), -1, 1)
    h_prev = draw.decimals((hidden,), -1, 1)
    c_prev = draw.decimals((hidden,), -1, 1)
    W = draw.decimals((4 * hidden, D_X + hidden), -1, 1)  # rows: i, f, o, g (sheet order)
    b = draw.decimals((4 * hidden,), -0.5, 0.5)
    G = draw.ints((hidden,), -2, 2)
    ex = WorkedExample(
        "lstm",
        f"one LSTM cell, {D_X} inputs, {hidden} hidden units",
        [],
        options={"seed": seed, "hidden": hidden},
    )
    for name, v, what in (
        ("x", x, "input x_t"),
        ("h_prev", h_prev, "h_{t-1}"),
        ("c_prev", c_prev, "c_{t-1}"),
        ("W", W, "gate weights, rows i, f, o, g (sheet order), columns [x; h_prev]"),
        ("b", b, "gate biases"),
    ):
        ex.add(name, v, what, "input")
    u = np.concatenate([x, h_prev])
    a = ex.add("a", W @ u + b, "a = W [x; h_prev] + b  (stacked a_i, a_f, a_o, a_g)")
    parts = {n: a[k * hidden : (k + 1) * hidden] for k, n in enumerate("ifog")}
    i = ex.add("i", _sigmoid(parts["i"]), "i = sigma(a_i)  input gate")
    f = ex.add("f", _sigmoid(parts["f"]), "f = sigma(a_f)  forget gate")
    o = ex.add("o", _sigmoid(parts["o"]), "o = sigma(a_o)  output gate")
    g = ex.add("g", np.tanh(parts["g"]), "g = tanh(a_g)  candidate")
    c = ex.add("c", f * c_prev + i * g, "c_t = f * c_prev + i * g")
    tc = np.tanh(c)
    ex.add("h", o * tc, "h_t = o * tanh(c_t)")
    ex.add("G", G, "upstream gradient dE/dh_t (given)", "input")
    do = ex.add("dE/do", G * tc, "G * tanh(c_t)", "backward")
    dc = ex.add(
        "dE/dc",
        G * o * (1 - tc**2),
        "G * o * (1 - tanh(c_t)^2)",
        "backward",
        mistakes=[Mistake(G * o, "missing the factor tanh'(c_t) = 1 - tanh(c_t)^2")],
    )
    di = ex.add("dE/di", dc * g, "dc * g", "backward")
    df = ex.add(
        "dE/df",
        dc * c_prev,
        "dc * c_prev",
        "backward",
        mistakes=[Mistake(dc * c, "the factor is c_{t-1}, not c_t")],
    )
    dg = ex.add("dE/dg", dc * i, "dc * i", "backward")
    ex.add("dE/dc_prev", dc * f, "dc * f  (the constant error carousel)", "backward")
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)])
    ex.add(
        "dE/da",
        da,
        "(di i(1-i), df f(1-f), do o(1-o), dg (1-g^2))",
        "backward",
        mistakes=[
            Mistake(
                np.concatenate([di, df, do, dg]), "missing the gate derivatives sigma' and tanh'"
            )
        ],
    )
    ex.add("dE/dW", np.outer(da, u), "da [x; h_prev]^T", "backward")
    ex.add("dE/db", da, "da", "backward", quiz=False)
    du = W.T @ da
    ex.add("dE/dx", du[:D_X], "(W^T da) rows for x", "backward")
    ex.add("dE/dh_prev", du[D_X:], "(W^T da) rows for h_prev", "backward")

    import torch

    t = torch.tensor
    x_t, hp, cp = (t(v).requires_grad_(True) for v in (x, h_prev, c_prev))
    W_t, b_t = t(W).requires_grad_(True), t(b).requires_grad_(True)
    a_t = W_t @ torch.cat([x_t, hp]) + b_t
    ai, af, ao, ag = a_t.split(hidden)
    gi, gf, go, gg = torch.sigmoid(ai), torch.sigmoid(af), torch.sigmoid(ao), torch.tanh(ag)
    c_t = gf * cp + gi * gg
    h_t = go * torch.tanh(c_t)
    for v in (a_t, gi, gf, go, gg, c_t):
        v.retain_grad()
    (h_t * t(G)).sum().backward()
    # Forward against nn.LSTMCell: its gate order is (i, f, g, o).
    cell = torch.nn.LSTMCell(D_X, hidden, dtype=torch.float64)
    order = [0, 1, 3, 2]  # our blocks i, f, o, g -> torch's i, f, g, o
    Wb = W.reshape(4, hidden, -1)[order].reshape(4 * hidden, -1)
    bb = b.reshape(4, hidden)[order].reshape(-1)
    with torch.no_grad():
        cell.weight_ih.copy_(t(Wb[:, :D_X]))
        cell.weight_hh.copy_(t(Wb[:, D_X:]))
        cell.bias_ih.copy_(t(bb))
        cell.bias_hh.zero_()
        h_ref, c_ref = cell(t(x)[None], (t(h_prev)[None], t(c_prev)[None]))
    return check(
        ex,
        {
            "a": a_t.detach(),
            "i": gi.detach(),
            "f": gf.detach(),
            "o": go.detach(),
            "g": gg.detach(),
            "c": c_ref[0],
            "h": h_ref[0],
            "dE/do": go.grad,
            "dE/dc": c_t.grad,
            "dE/di": gi.grad,
            "dE/df": gf.grad,
            "dE/dg": gg.grad,
            "dE/dc_prev": cp.grad,
            "dE/da": a_t.grad,
            "dE/dW": W_t.grad,
            "dE/db": b_t.grad,
            "dE/dx": x_t.grad,
            "dE/dh_prev": hp.grad,
        },
        {
            "c": "torch.nn.LSTMCell (gates reordered i, f, g, o)",
            "h": "torch.nn.LSTMCell (gates reordered i, f, g, o)",
        },
    )


EXACT_OK = False


def options_for(kind: str) -> set[str]:
    return {"size"}


def from_options(kind: str, o) -> WorkedExample:
    return build(o.seed, (o.size or (D_H,))[0])
