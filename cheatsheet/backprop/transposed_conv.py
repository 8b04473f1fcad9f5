"""Transposed convolution (learnable upsampling, sheet section 11): the output is copies of the
filter weighted by the input, summed on overlaps.

    Y_full[s*i + m, s*j + n] += X[i,j] K[m,n],   Y = Y_full without p rows/columns at each border
    dE/dX[i,j] = sum_mn K[m,n] G_full[s*i + m, s*j + n]   (= corr(G_full, K, stride s): a conv)
    dE/dK[m,n] = sum_ij X[i,j] G_full[s*i + m, s*j + n]
where G_full is G = dE/dY with the p cropped rows/columns put back as zeros.
"""

from __future__ import annotations

import numpy as np

from cheatsheet.backprop.conv import correlate, dilate, pad
from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check, zeros


def build(seed: int, size: tuple[int, ...], k: int, s: int, p: int, exact: bool):
    h = size[0]
    w = size[1] if len(size) > 1 else h
    Hf, Wf = (h - 1) * s + k, (w - 1) * s + k
    if Hf - 2 * p < 1 or Wf - 2 * p < 1:
        raise ValueError("the padding crops the whole output")
    draw = Draw(seed, exact)
    X = draw.ints((h, w), -2, 3)
    K = draw.ints((k, k), -1, 2)
    ex = WorkedExample(
        "transposed-conv",
        f"transposed convolution, {k}x{k} kernel, stride {s}, padding {p}",
        [],
        options={"seed": seed, "size": [h, w], "kernel": k, "stride": s, "padding": p},
        exact=exact,
    )
    ex.add("X", X, "input", "input")
    ex.add("K", K, "kernel", "input")
    full = zeros((Hf, Wf), exact)
    for i in range(h):
        for j in range(w):
            full[s * i : s * i + k, s * j : s * j + k] += X[i, j] * K
    ex.add("Y_full", full, "sum over inputs of X[i,j] * K placed at (s*i, s*j)")
    Y = ex.add("Y", full[p : Hf - p, p : Wf - p], f"Y_full without {p} border rows/columns")
    G = ex.add("G", draw.ints(Y.shape, -2, 2), "upstream gradient dE/dY (given)", "input")
    Gf = ex.add(
        "G_full", pad(G, p), "G with the cropped border back as zeros", "backward", quiz=p > 0
    )
    dX = correlate(Gf, K, s)
    ex.add(
        "dE/dX",
        dX,
        f"dE/dX = corr(G_full, K, stride {s}): an ordinary strided conv",
        "backward",
        mistakes=[
            Mistake(
                correlate(Gf, K[::-1, ::-1], s),
                "no rotation here: the transposed conv's backward is a plain correlation with K",
            )
        ],
    )
    dK = correlate(Gf, dilate(X, s))[:k, :k]
    ex.add(
        "dE/dK",
        dK,
        "dE/dK[m,n] = sum_ij X[i,j] G_full[s*i+m, s*j+n] = corr(G_full, dilate(X, s))",
        "backward",
    )

    import torch
    import torch.nn.functional as F

    t = lambda a: torch.tensor(np.asarray(a, dtype=object).astype(np.float64))
    X_t, K_t = t(X).requires_grad_(True), t(K).requires_grad_(True)
    Yf = F.conv_transpose2d(X_t[None, None], K_t[None, None], stride=s)[0, 0]
    Y_t = F.conv_transpose2d(X_t[None, None], K_t[None, None], stride=s, padding=p)[0, 0]
    (Y_t * t(G)).sum().backward()
    return check(
        ex,
        {
            "Y_full": Yf.detach(),
            "Y": Y_t.detach(),
            "G_full": F.pad(t(G), (p,) * 4),
            "dE/dX": X_t.grad,
            "dE/dK": K_t.grad,
        },
        {"Y": "F.conv_transpose2d", "Y_full": "F.conv_transpose2d (padding 0)"},
    )


EXACT_OK = True


def options_for(kind: str) -> set[str]:
    return {"size", "kernel", "stride", "padding", "exact"}


def from_options(kind: str, o) -> WorkedExample:
    return build(o.seed, o.size or (2,), o.kernel or 3, o.stride or 2, o.padding or 0, o.exact)
