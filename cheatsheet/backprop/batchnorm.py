"""Batch normalisation in training mode, backward through the batch statistics.

    mu = mean_n x_n,  var = mean_n (x_n - mu)^2  (biased, as in training),  s = sqrt(var + eps)
    x_hat = (x - mu) / s,  y = gamma x_hat + beta
    dbeta = sum_n G,  dgamma = sum_n G x_hat,  dx_hat = G gamma
    dvar = sum_n dx_hat (x - mu) (-1/2) (var + eps)^(-3/2)
    dmu  = sum_n -dx_hat / s + dvar * mean_n(-2 (x - mu))     (the second term is 0)
    dx   = dx_hat / s + dvar * 2 (x - mu) / N + dmu / N
(Ioffe & Szegedy 2015, Alg. 1 and its backward.)
"""

from __future__ import annotations

import numpy as np

from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check

EPS = 1e-5  # torch's default


def build(seed: int, batch: int, features: int) -> WorkedExample:
    if batch < 2:
        raise ValueError("batch norm needs a batch of at least 2")
    draw = Draw(seed)
    X = draw.ints((batch, features), -3, 3)
    gamma = draw.decimals((features,), 0.5, 2)
    beta = draw.decimals((features,), -1, 1)
    G = draw.ints((batch, features), -2, 2)
    ex = WorkedExample(
        "batchnorm",
        f"batch norm (training), batch {batch}, {features} features",
        [],
        options={"seed": seed, "batch": batch, "features": features, "eps": EPS},
    )
    for name, v, what in (
        ("X", X, "input, one row per example"),
        ("gamma", gamma, "scale"),
        ("beta", beta, "shift"),
    ):
        ex.add(name, v, what, "input")
    mu = ex.add("mu", X.mean(0), "mu = mean over the batch")
    xc = X - mu
    var = ex.add("var", (xc**2).mean(0), "var = mean (x - mu)^2 (biased)")
    s = np.sqrt(var + EPS)
    xh = ex.add("x_hat", xc / s, f"x_hat = (x - mu) / sqrt(var + {EPS})")
    ex.add("y", gamma * xh + beta, "y = gamma x_hat + beta")
    ex.add("G", G, "upstream gradient dE/dy (given)", "input")
    ex.add("dE/dbeta", G.sum(0), "sum_n G", "backward")
    ex.add("dE/dgamma", (G * xh).sum(0), "sum_n G x_hat", "backward")
    dxh = ex.add("dE/dx_hat", G * gamma, "G gamma", "backward")
    dvar = (dxh * xc).sum(0) * -0.5 * (var + EPS) ** -1.5
    ex.add("dE/dvar", dvar, "sum_n dx_hat (x - mu) (-1/2)(var + eps)^(-3/2)", "backward")
    dmu = (-dxh / s).sum(0) + dvar * (-2 * xc).mean(0)
    ex.add("dE/dmu", dmu, "sum_n -dx_hat / s + dvar mean(-2(x - mu))", "backward")
    dX = dxh / s + dvar * 2 * xc / batch + dmu / batch
    ex.add(
        "dE/dX",
        dX,
        "dx_hat / s + dvar 2(x - mu)/N + dmu/N",
        "backward",
        mistakes=[
            Mistake(
                dxh / s,
                "missing the paths through the batch statistics "
                "(dvar and dmu): mu and var depend on x too",
            )
        ],
    )

    import torch
    import torch.nn.functional as F

    X_t = torch.tensor(X).requires_grad_(True)
    g_t, b_t = torch.tensor(gamma).requires_grad_(True), torch.tensor(beta).requires_grad_(True)
    mu_t = X_t.mean(0)
    var_t = ((X_t - mu_t) ** 2).mean(0)
    xh_t = (X_t - mu_t) / torch.sqrt(var_t + EPS)
    for v in (mu_t, var_t, xh_t):
        v.retain_grad()
    ((g_t * xh_t + b_t) * torch.tensor(G)).sum().backward()
    # dE/dX, y and the parameter gradients from torch's own batch_norm, not our graph.
    X2 = torch.tensor(X).requires_grad_(True)
    g2, b2 = torch.tensor(gamma).requires_grad_(True), torch.tensor(beta).requires_grad_(True)
    y2 = F.batch_norm(X2, None, None, g2, b2, training=True, eps=EPS)
    (y2 * torch.tensor(G)).sum().backward()
    return check(
        ex,
        {
            "mu": mu_t.detach(),
            "var": var_t.detach(),
            "x_hat": xh_t.detach(),
            "y": y2.detach(),
            "dE/dbeta": b2.grad,
            "dE/dgamma": g2.grad,
            "dE/dx_hat": xh_t.grad,
            "dE/dvar": var_t.grad,
            "dE/dmu": mu_t.grad,
            "dE/dX": X2.grad,
        },
        {
            k: "F.batch_norm(training=True) + autograd"
            for k in ("y", "dE/dbeta", "dE/dgamma", "dE/dX")
        },
    )


EXACT_OK = False


def options_for(kind: str) -> set[str]:
    return {"size"}


def from_options(kind: str, o) -> WorkedExample:
    size = o.size or (4,)
    return build(o.seed, size[0], size[1] if len(size) > 1 else 2)
