"""Pooling and unpooling, forward and backward (sheet section 11).

Max-pooling  z = max_i z_i,  i* = argmax_i z_i,  dz/dz_i = [i = i*]:  the upstream gradient of each
window is routed to the window's argmax (summed where windows overlap). Average pooling spreads it
evenly (1/k^2 each). Unpooling: nearest neighbour duplicates each value, bed of nails puts it in the
top-left corner of its block (zeros elsewhere), max-unpooling puts it where the max came from in
the pooling it undoes. The backward of each unpooling gathers the upstream gradient from the
positions the value was copied to.
"""

from __future__ import annotations

import numpy as np

from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check, zeros


def _windows(H: int, W: int, k: int, s: int):
    for i in range((H - k) // s + 1):
        for j in range((W - k) // s + 1):
            yield i, j, slice(i * s, i * s + k), slice(j * s, j * s + k)


def _distinct(draw: Draw, shape: tuple[int, int]) -> np.ndarray:
    """Distinct integers, so every window has one argmax (no subgradient ambiguity)."""
    n = shape[0] * shape[1]
    values = draw.rng.sample(range(-n, n + 1), n)
    arr = np.array(values, dtype=object if draw.exact else np.float64).reshape(shape)
    return arr if not draw.exact else np.vectorize(lambda v: v, otypes=[object])(arr)


def _t(a):
    import torch

    return torch.tensor(np.asarray(a, dtype=object).astype(np.float64))


def maxpool(seed: int, size: tuple[int, ...], k: int, s: int, exact: bool) -> WorkedExample:
    H = size[0]
    W = size[1] if len(size) > 1 else H
    if k > H or k > W:
        raise ValueError(f"the window ({k}) is larger than the input")
    draw = Draw(seed, exact)
    X = _distinct(draw, (H, W))
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    ex = WorkedExample(
        "maxpool",
        f"{k}x{k} max-pooling, stride {s}",
        [],
        options={"seed": seed, "size": [H, W], "kernel": k, "stride": s},
        exact=exact,
    )
    ex.add("X", X, "input", "input")
    Y = zeros((Ho, Wo), exact)
    where = np.zeros((Ho, Wo), dtype=np.float64)
    for i, j, rows, cols in _windows(H, W, k, s):
        window = X[rows, cols]
        m = int(np.argmax(window.astype(np.float64)))
        Y[i, j] = window.flat[m]
        where[i, j] = (rows.start + m // k) * W + cols.start + m % k
    ex.add("Y", Y, "Y[i,j] = max over the window")
    ex.add("argmax", where, "i* of each window, as a flat index r*W + c into X (torch's indices)")
    G = ex.add("G", draw.ints((Ho, Wo), -2, 3), "upstream gradient dE/dY (given)", "input")
    dX = zeros((H, W), exact)
    spread = zeros((H, W), exact)
    for i, j, rows, cols in _windows(H, W, k, s):
        dX.flat[int(where[i, j])] += G[i, j]
        spread[rows, cols] += G[i, j]
    ex.add(
        "dE/dX",
        dX,
        "dE/dX[i*] += G[i,j]: the gradient goes to the argmax only",
        "backward",
        mistakes=[
            Mistake(
                spread,
                "dz/dz_i = [i = i*]: only the argmax gets the gradient, "
                "not every entry of the window",
            )
        ],
    )
    import torch.nn.functional as F

    X_t = _t(X).requires_grad_(True)
    Y_t, idx = F.max_pool2d(X_t[None, None], k, s, return_indices=True)
    (Y_t[0, 0] * _t(G)).sum().backward()
    return check(
        ex,
        {"Y": Y_t[0, 0].detach(), "argmax": idx[0, 0].double(), "dE/dX": X_t.grad},
        {"argmax": "F.max_pool2d(return_indices=True)"},
    )


def avgpool(seed: int, size: tuple[int, ...], k: int, s: int, exact: bool) -> WorkedExample:
    H = size[0]
    W = size[1] if len(size) > 1 else H
    if k > H or k > W:
        raise ValueError(f"the window ({k}) is larger than the input")
    draw = Draw(seed, exact)
    X = draw.ints((H, W), -3, 4)
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    ex = WorkedExample(
        "avgpool",
        f"{k}x{k} average pooling, stride {s}",
        [],
        options={"seed": seed, "size": [H, W], "kernel": k, "stride": s},
        exact=exact,
    )
    ex.add("X", X, "input", "input")
    Y = zeros((Ho, Wo), exact)
    for i, j, rows, cols in _windows(H, W, k, s):
        Y[i, j] = X[rows, cols].sum() / (k * k)
    ex.add("Y", Y, f"Y[i,j] = mean of the {k}x{k} window")
    G = ex.add("G", draw.ints((Ho, Wo), -2, 3), "upstream gradient dE/dY (given)", "input")
    dX = zeros((H, W), exact)
    unscaled = zeros((H, W), exact)
    for i, j, rows, cols in _windows(H, W, k, s):
        dX[rows, cols] += G[i, j] / (k * k)
        unscaled[rows, cols] += G[i, j]
    ex.add(
        "dE/dX",
        dX,
        f"dE/dX[window] += G[i,j] / {k * k}",
        "backward",
        mistakes=[Mistake(unscaled, f"missing the factor 1/{k * k} of the mean")],
    )
    import torch.nn.functional as F

    X_t = _t(X).requires_grad_(True)
    Y_t = F.avg_pool2d(X_t[None, None], k, s)[0, 0]
    (Y_t * _t(G)).sum().backward()
    return check(ex, {"Y": Y_t.detach(), "dE/dX": X_t.grad})


def unpool(seed: int, size: tuple[int, ...], k: int, exact: bool) -> WorkedExample:
    """Nearest, bed of nails and max-unpooling by a factor k, each with its backward."""
    h = size[0]
    w = size[1] if len(size) > 1 else h
    draw = Draw(seed, exact)
    X = draw.ints((h, w), -3, 4)
    ex = WorkedExample(
        "unpool",
        f"unpooling by {k}: nearest, bed of nails, max-unpooling",
        [],
        options={"seed": seed, "size": [h, w], "kernel": k},
        exact=exact,
    )
    ex.add("X", X, "input to unpool", "input")
    U_near = zeros((h * k, w * k), exact)
    U_nails = zeros((h * k, w * k), exact)
    for i in range(h):
        for j in range(w):
            U_near[i * k : (i + 1) * k, j * k : (j + 1) * k] = X[i, j]
            U_nails[i * k, j * k] = X[i, j]
    ex.add("U_nearest", U_near, "nearest neighbour: each value copied to its kxk block")
    ex.add("U_nails", U_nails, "bed of nails: value in the top-left of its block, zeros elsewhere")
    # Max-unpooling undoes an earlier max-pool: Z pooled to P with remembered argmax positions.
    Z = ex.add(
        "Z",
        _distinct(draw, (h * k, w * k)),
        "the earlier layer's input that was max-pooled",
        "input",
    )
    P = zeros((h, w), exact)
    where = np.zeros((h, w), dtype=np.float64)
    for i, j, rows, cols in _windows(h * k, w * k, k, k):
        window = Z[rows, cols]
        m = int(np.argmax(window.astype(np.float64)))
        P[i, j] = window.flat[m]
        where[i, j] = (rows.start + m // k) * (w * k) + cols.start + m % k
    ex.add("P", P, "P = maxpool(Z) (the values to unpool)")
    ex.add("indices", where, "remembered argmax of each window (flat index into Z)")
    U_max = zeros((h * k, w * k), exact)
    for i in range(h):
        for j in range(w):
            U_max.flat[int(where[i, j])] = P[i, j]
    ex.add("U_max", U_max, "max-unpooling: each value back where its max came from")
    G = ex.add(
        "G",
        draw.ints((h * k, w * k), -2, 3),
        "upstream gradient dE/dU (the same for all three)",
        "input",
    )
    d_near = zeros((h, w), exact)
    d_nails = zeros((h, w), exact)
    d_max = zeros((h, w), exact)
    for i in range(h):
        for j in range(w):
            d_near[i, j] = G[i * k : (i + 1) * k, j * k : (j + 1) * k].sum()
            d_nails[i, j] = G[i * k, j * k]
            d_max[i, j] = G.flat[int(where[i, j])]
    ex.add(
        "dE/dX_nearest",
        d_near,
        "sum of G over each kxk block (every copy contributes)",
        "backward",
        mistakes=[
            Mistake(
                d_nails, "nearest copies to the whole block: sum G over it, not just the top-left"
            )
        ],
    )
    ex.add("dE/dX_nails", d_nails, "G at the top-left of each block", "backward")
    ex.add(
        "dE/dP_max",
        d_max,
        "G at the remembered index of each value",
        "backward",
        mistakes=[Mistake(d_nails, "use the remembered argmax position, not the top-left")],
    )

    import torch
    import torch.nn.functional as F

    X_t = _t(X).requires_grad_(True)
    near = F.interpolate(X_t[None, None], scale_factor=k, mode="nearest")[0, 0]
    nail = torch.zeros(1, 1, k, k, dtype=torch.float64)
    nail[0, 0, 0, 0] = 1.0  # bed of nails is a transposed conv with a one-hot kernel
    X2 = _t(X).requires_grad_(True)
    nails = F.conv_transpose2d(X2[None, None], nail, stride=k)[0, 0]
    Z_t = _t(Z)
    P_t, idx = F.max_pool2d(Z_t[None, None], k, k, return_indices=True)
    P_t = P_t.detach().requires_grad_(True)
    U_t = F.max_unpool2d(P_t, idx, k, k)[0, 0]
    G_t = _t(G)
    (near * G_t).sum().backward()
    (nails * G_t).sum().backward()
    (U_t * G_t).sum().backward()
    return check(
        ex,
        {
            "U_nearest": near.detach(),
            "U_nails": nails.detach(),
            "P": P_t[0, 0].detach(),
            "indices": idx[0, 0].double(),
            "U_max": U_t.detach(),
            "dE/dX_nearest": X_t.grad,
            "dE/dX_nails": X2.grad,
            "dE/dP_max": P_t.grad[0, 0],
        },
        {
            "U_nails": "F.conv_transpose2d with a one-hot kernel, stride k",
            "U_max": "F.max_unpool2d",
            "U_nearest": "F.interpolate(mode='nearest')",
        },
    )


def options_for(kind: str) -> set[str]:
    return {"size", "kernel", "exact"} | ({"stride"} if kind != "unpool" else set())


EXACT_OK = True


def from_options(kind: str, o) -> WorkedExample:
    k = o.kernel or 2
    if kind == "unpool":
        return unpool(o.seed, o.size or (2,), k, o.exact)
    build = maxpool if kind == "maxpool" else avgpool
    return build(o.seed, o.size or (4,), k, o.stride or k, o.exact)
