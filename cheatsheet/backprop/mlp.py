"""A 2-layer MLP, forward and backward by the sheet's rules (section 10).

    z1 = W1 x + b1,  h = f(z1),  z2 = W2 h + b2,  y_hat = g(z2),  L = loss(y_hat, y)
    delta2 = dL/dz2          (mse: y_hat - y with L = 1/2 ||y_hat - y||^2, g = identity;
                              bce: y_hat - y with g = sigmoid; ce: softmax(z2) - onehot(y))
    dL/dW2 = delta2 h^T,  dL/db2 = delta2,  dL/dh = W2^T delta2
    delta1 = dL/dh * f'(z1)  (backward inputs: delta^(l) = delta^(l+1) dz^(l+1)/dz^(l))
    dL/dW1 = delta1 x^T,  dL/db1 = delta1,  dL/dx = W1^T delta1
f' from the sheet's table 10.1: sigmoid s(1-s), tanh 1 - tanh^2, ReLU [x > 0] (the sheet prints
[x >= 0]; torch uses [x > 0]; inputs are drawn with no pre-activation at the kink).
"""

from __future__ import annotations

import math

import numpy as np

from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "bce", "ce")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.array([1.0 / (1.0 + math.exp(-float(v))) for v in z.ravel()]).reshape(z.shape)


def activation(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """f(z), f'(z) and the rule text for f'."""
    if name == "sigmoid":
        s = _sigmoid(z)
        return s, s * (1 - s), "sigma(z1) (1 - sigma(z1))"
    if name == "tanh":
        t = np.tanh(z.astype(np.float64))
        return t, 1 - t * t, "1 - tanh(z1)^2"
    positive = np.array([v > 0 for v in z.ravel()]).reshape(z.shape)
    return np.where(positive, z, z * 0), np.where(positive, 1, 0) * (z * 0 + 1), "[z1 > 0]"


def build(seed: int, hidden: int, act: str, loss: str, exact: bool) -> WorkedExample:
    if act not in ACTIVATIONS:
        raise ValueError(f"--activation {act!r}: choose {', '.join(ACTIVATIONS)}")
    if loss not in LOSSES:
        raise ValueError(f"--loss {loss!r}: choose {', '.join(LOSSES)}")
    if exact and (act != "relu" or loss != "mse"):
        raise ValueError(
            "--exact needs rational steps: use --activation relu --loss mse "
            "(sigmoid, tanh, bce and ce use exp)"
        )
    d_in, d_out = 3, {"mse": 2, "bce": 1, "ce": 3}[loss]
    draw = Draw(seed, exact)
    x = draw.ints((d_in,), -2, 2)
    W1 = draw.decimals((hidden, d_in), -1, 1)
    b1 = draw.decimals((hidden,), -0.5, 0.5)
    # A pre-activation at ReLU's kink (z1 = 0) has no derivative; redraw b1 until none is
    # within 0.05 of it, so float64 torch and exact fractions agree on f'(z1).
    while act == "relu" and any(abs(float(v)) < 0.05 for v in (W1 @ x + b1).ravel()):
        b1 = draw.decimals((hidden,), -0.5, 0.5)
    W2 = draw.decimals((d_out, hidden), -1, 1)
    b2 = draw.decimals((d_out,), -0.5, 0.5)
    if loss == "mse":
        y = draw.decimals((d_out,), -1, 1)
    elif loss == "bce":
        y = np.array([float(draw.index(2))])
    else:
        y = np.array(draw.index(d_out))

    ex = WorkedExample(
        "mlp",
        f"2-layer MLP, {act} hidden layer, {loss} loss",
        [],
        options={"seed": seed, "hidden": hidden, "activation": act, "loss": loss},
        exact=exact,
    )
    for name, value, what in (
        ("x", x, "input"),
        ("W1", W1, "layer 1 weights"),
        ("b1", b1, "layer 1 bias"),
        ("W2", W2, "layer 2 weights"),
        ("b2", b2, "layer 2 bias"),
        ("y", y, "target" if loss != "ce" else "target class"),
    ):
        ex.add(name, value, what, "input")
    z1 = ex.add("z1", W1 @ x + b1, "z1 = W1 x + b1")
    h, fprime, fprime_rule = activation(act, z1)
    ex.add("h", h, f"h = {act}(z1)")
    z2 = ex.add("z2", W2 @ h + b2, "z2 = W2 h + b2")
    if loss == "mse":
        y_hat = z2
        ex.add("y_hat", y_hat, "y_hat = z2 (linear output)")
        L = ((y_hat - y) ** 2).sum() / 2
        ex.add("L", L, "L = 1/2 sum (y_hat - y)^2")
        delta2 = y_hat - y
        rule2 = "delta2 = dL/dz2 = y_hat - y"
    elif loss == "bce":
        y_hat = _sigmoid(z2)
        ex.add("y_hat", y_hat, "y_hat = sigmoid(z2)")
        L = float(-(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)).sum())
        ex.add("L", L, "L = -y log y_hat - (1-y) log(1 - y_hat)")
        delta2 = y_hat - y
        rule2 = "delta2 = dL/dz2 = y_hat - y (the sigmoid's s(1-s) cancels)"
    else:
        e = np.exp(z2 - z2.max())
        y_hat = e / e.sum()
        ex.add("y_hat", y_hat, "y_hat = softmax(z2)")
        L = float(-math.log(y_hat[int(y)]))
        ex.add("L", L, f"L = -log y_hat[{int(y)}]")
        onehot = np.eye(d_out)[int(y)]
        delta2 = y_hat - onehot
        rule2 = "delta2 = dL/dz2 = softmax(z2) - onehot(y)"
    delta2 = ex.add(
        "delta2",
        delta2,
        rule2,
        "backward",
        mistakes=[Mistake(-delta2, "the sign: dL/dz2 = y_hat - y, not y - y_hat")],
    )
    dW2 = np.outer(delta2, h)
    ex.add(
        "dL/dW2",
        dW2,
        "dL/dW2 = delta2 h^T",
        "backward",
        mistakes=[Mistake(np.outer(delta2, z1), "the factor is h = f(z1), not z1")],
    )
    ex.add("dL/db2", delta2, "dL/db2 = delta2", "backward")
    dh = ex.add("dL/dh", W2.T @ delta2, "dL/dh = W2^T delta2", "backward")
    delta1 = dh * fprime
    ex.add(
        "delta1",
        delta1,
        f"delta1 = dL/dh * f'(z1),  f'(z1) = {fprime_rule}",
        "backward",
        mistakes=[Mistake(dh, "missing the factor f'(z1) of the activation")],
    )
    ex.add(
        "dL/dW1",
        np.outer(delta1, x),
        "dL/dW1 = delta1 x^T",
        "backward",
        mistakes=[Mistake(np.outer(dh, x), "missing the factor f'(z1) in delta1")],
    )
    ex.add("dL/db1", delta1, "dL/db1 = delta1", "backward")
    ex.add("dL/dx", W1.T @ delta1, "dL/dx = W1^T delta1", "backward")
    if act == "relu":
        ex.notes.append(
            "ReLU' at 0: the sheet prints [x >= 0], torch uses [x > 0]; the inputs are drawn "
            "so that no pre-activation sits at the kink."
        )

    import torch
    import torch.nn.functional as F

    t = lambda a: torch.tensor(np.asarray(a, dtype=object).astype(np.float64))
    x_t = t(x).requires_grad_(True)
    W1_t, b1_t, W2_t, b2_t = (t(a).requires_grad_(True) for a in (W1, b1, W2, b2))
    z1_t = W1_t @ x_t + b1_t
    h_t = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[act](z1_t)
    z2_t = W2_t @ h_t + b2_t
    for v in (z1_t, h_t, z2_t):
        v.retain_grad()
    if loss == "mse":
        yh_t = z2_t
        L_t = F.mse_loss(z2_t, t(y), reduction="sum") / 2
    elif loss == "bce":
        yh_t = torch.sigmoid(z2_t)
        L_t = F.binary_cross_entropy(yh_t, t(y), reduction="sum")
    else:
        yh_t = torch.softmax(z2_t, 0)
        L_t = F.cross_entropy(z2_t[None], torch.tensor([int(y)]))
    L_t.backward()
    return check(
        ex,
        {
            "z1": z1_t,
            "h": h_t,
            "z2": z2_t,
            "y_hat": yh_t,
            "L": L_t,
            "delta2": z2_t.grad,
            "dL/dW2": W2_t.grad,
            "dL/db2": b2_t.grad,
            "dL/dh": h_t.grad,
            "delta1": z1_t.grad,
            "dL/dW1": W1_t.grad,
            "dL/db1": b1_t.grad,
            "dL/dx": x_t.grad,
        }
        | {
            k: v.detach()
            for k, v in (("z1", z1_t), ("h", h_t), ("z2", z2_t), ("y_hat", yh_t), ("L", L_t))
        },
    )


EXACT_OK = True


def options_for(kind: str) -> set[str]:
    return {"size", "activation", "loss", "exact"}


def from_options(kind: str, o) -> WorkedExample:
    return build(o.seed, (o.size or (3,))[0], o.activation, o.loss, o.exact)
