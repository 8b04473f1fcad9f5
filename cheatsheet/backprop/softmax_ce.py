"""Softmax with cross-entropy over a batch, the building block at the top of a classifier.

p = softmax(z) = exp(z - max z) / sum exp(z - max z)   (the shift avoids overflow)
L = (1/N) sum_n -log p[n, y_n]
dL/dz = (p - onehot(y)) / N
"""

from __future__ import annotations

import numpy as np

from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check


def build(seed: int, classes: int, batch: int) -> WorkedExample:
    draw = Draw(seed)
    Z = draw.decimals((batch, classes), -2, 2)
    y = np.array([draw.index(classes) for _ in range(batch)])
    ex = WorkedExample(
        "softmax-ce",
        f"softmax + cross-entropy, batch {batch}, {classes} classes",
        [],
        options={"seed": seed, "classes": classes, "batch": batch},
    )
    ex.add("z", Z, "logits (one row per example)", "input")
    ex.add("y", y.astype(float), "target classes", "input")
    shifted = ex.add("z - max z", Z - Z.max(axis=1, keepdims=True), "subtract each row's max")
    e = ex.add("exp", np.exp(shifted), "exp(z - max z)")
    p = ex.add("p", e / e.sum(axis=1, keepdims=True), "p = exp / row sum")
    picked = p[np.arange(batch), y]
    ex.add("L", float(-np.log(picked).mean()), "L = mean over rows of -log p[y]")
    onehot = np.eye(classes)[y]
    ex.add(
        "dL/dz",
        (p - onehot) / batch,
        f"dL/dz = (p - onehot(y)) / {batch}",
        "backward",
        mistakes=[
            Mistake(p - onehot, f"missing the factor 1/{batch} of the mean"),
            Mistake((onehot - p) / batch, "the sign: p - onehot, not onehot - p"),
        ],
    )

    import torch
    import torch.nn.functional as F

    Z_t = torch.tensor(Z).requires_grad_(True)
    y_t = torch.tensor(y)
    L_t = F.cross_entropy(Z_t, y_t)
    L_t.backward()
    sh = Z_t.detach() - Z_t.detach().max(dim=1, keepdim=True).values
    return check(
        ex,
        {
            "z - max z": sh,
            "exp": sh.exp(),
            "p": F.softmax(Z_t.detach(), 1),
            "L": L_t.detach(),
            "dL/dz": Z_t.grad,
        },
        {"L": "F.cross_entropy", "p": "F.softmax"},
    )


EXACT_OK = False


def options_for(kind: str) -> set[str]:
    return {"size"}


def from_options(kind: str, o) -> WorkedExample:
    size = o.size or (3,)
    return build(o.seed, size[0], size[1] if len(size) > 1 else 2)
