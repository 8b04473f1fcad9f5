"""Backprop through a 2D convolution layer, the way the sheet writes it (section 11).

The sheet defines correlation  I'(i,j) = sum_{m,n} K(m,n) I(i+m, j+n)  and convolution as the same
sum with K(-m,-n), i.e. correlation with the kernel rotated by 180 degrees. Deep-learning "conv"
layers (torch.nn.functional.conv2d) compute the correlation. For  Y = corr(pad(X), K, stride s) + b
and an upstream gradient G = dE/dY:

    dE/dK = corr(pad(X), dilate(G, s))                 (correlation of the input with G)
    dE/dX = full_conv(dilate(G, s), K) = corr(pad(dilate(G, s), k-1), rot180(K)), cropped by pad
    dE/db = sum(G)

"dilate" puts s-1 zeros between the entries of G; rows/columns of pad(X) that no window reached
(when (H + 2p - k) is not a multiple of s) get zero gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check, scalar, zeros


# --------------------------------------------------------------------------- the rules
def _is_exact(a: np.ndarray) -> bool:
    return np.asarray(a).dtype == object


def pad(X: np.ndarray, p: int) -> np.ndarray:
    H, W = X.shape
    out = zeros((H + 2 * p, W + 2 * p), _is_exact(X))
    out[p : p + H, p : p + W] = X
    return out


def dilate(G: np.ndarray, s: int) -> np.ndarray:
    """s-1 zeros between neighbouring entries (the stride undone)."""
    h, w = G.shape
    out = zeros(((h - 1) * s + 1, (w - 1) * s + 1), _is_exact(G))
    out[::s, ::s] = G
    return out


def rot180(K: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(K)[::-1, ::-1])


def correlate(X: np.ndarray, K: np.ndarray, stride: int = 1) -> np.ndarray:
    """The sheet's correlation (valid part): Y[i,j] = sum_{m,n} K[m,n] X[i*s+m, j*s+n]."""
    H, W = X.shape
    kh, kw = K.shape
    Ho, Wo = (H - kh) // stride + 1, (W - kw) // stride + 1
    out = zeros((Ho, Wo), _is_exact(X) or _is_exact(K))
    for i in range(Ho):
        for j in range(Wo):
            window = X[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = (window * K).sum()
    return out


def convolve(X: np.ndarray, K: np.ndarray, stride: int = 1) -> np.ndarray:
    """The sheet's convolution: correlation with the kernel rotated by 180 degrees."""
    return correlate(X, rot180(K), stride)


def full_convolution(G: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Full convolution: pad G by k-1 on every side, correlate with rot180(K)."""
    kh, kw = K.shape
    exact = _is_exact(G) or _is_exact(K)
    Gp = zeros((G.shape[0] + 2 * (kh - 1), G.shape[1] + 2 * (kw - 1)), exact)
    Gp[kh - 1 : kh - 1 + G.shape[0], kw - 1 : kw - 1 + G.shape[1]] = G
    return correlate(Gp, rot180(K))


def input_gradient(
    G: np.ndarray, K: np.ndarray, in_shape: tuple[int, int], stride: int, padding: int
) -> tuple[np.ndarray, np.ndarray]:
    """dE/dX_pad and dE/dX of  Y = corr(pad(X, p), K, s)."""
    Hp, Wp = in_shape[0] + 2 * padding, in_shape[1] + 2 * padding
    part = full_convolution(dilate(G, stride), K)
    dXp = zeros((Hp, Wp), _is_exact(part))
    dXp[: part.shape[0], : part.shape[1]] = part
    dX = dXp[padding : Hp - padding, padding : Wp - padding]
    return dXp, np.ascontiguousarray(dX)


def kernel_gradient(Xp: np.ndarray, G: np.ndarray, kernel: tuple[int, int], stride: int):
    """dE/dK = corr(pad(X), dilate(G, s)), restricted to the rows/columns windows reached."""
    Gd = dilate(G, stride)
    used = (Gd.shape[0] + kernel[0] - 1, Gd.shape[1] + kernel[1] - 1)
    return correlate(Xp[: used[0], : used[1]], Gd)


# --------------------------------------------------------------------------- the oracle
def reference(X, K, b, G, stride: int, padding: int) -> dict[str, Any]:
    """Every block of the worked example, from torch built-ins and autograd (float64)."""
    import torch
    import torch.nn.functional as F

    t = lambda a: torch.tensor(np.asarray(a, dtype=object).astype(np.float64))
    X_t = t(X).requires_grad_(True)
    K_t = t(K).requires_grad_(True)
    b_t = t([b]).requires_grad_(True)
    G_t = t(G)
    Xp = F.pad(X_t, (padding,) * 4)
    Xp.retain_grad()
    Y = F.conv2d(Xp[None, None], K_t[None, None], b_t, stride=stride)[0, 0]
    (Y * G_t).sum().backward()
    # The dilated upstream gradient is what conv_transpose2d with a 1x1 unit kernel produces.
    G_dil = F.conv_transpose2d(
        G_t[None, None], torch.ones(1, 1, 1, 1, dtype=G_t.dtype), stride=stride
    )[0, 0]
    k = K_t.shape[0]
    return {
        "X_pad": Xp.detach(),
        "Y": Y.detach(),
        "G_dil": G_dil,
        "dE/dK": K_t.grad,
        "dE/db": b_t.grad[0],
        "rot180(K)": torch.flip(K_t.detach(), dims=(0, 1)),
        "G_dil_pad": F.pad(G_dil, (k - 1,) * 4),
        "dE/dX_pad": Xp.grad,
        "dE/dX": X_t.grad,
    }


# --------------------------------------------------------------------------- the worked example
def build(
    seed: int = 0,
    size: tuple[int, ...] = (5,),
    kernel: int = 3,
    stride: int = 1,
    padding: int = 0,
    exact: bool = False,
) -> WorkedExample:
    """A random conv layer Y = X (*) K + b with upstream G = dE/dY, forward and backward."""
    H = size[0]
    W = size[1] if len(size) > 1 else size[0]
    if H + 2 * padding < kernel or W + 2 * padding < kernel:
        raise ValueError(f"the kernel ({kernel}) is larger than the padded input")
    draw = Draw(seed, exact)
    X = draw.ints((H, W), 0, 2)
    K = draw.ints((kernel, kernel), -1, 1)
    b = scalar(draw.rng.randint(-1, 1), exact)
    Ho = (H + 2 * padding - kernel) // stride + 1
    Wo = (W + 2 * padding - kernel) // stride + 1
    G = draw.ints((Ho, Wo), -1, 2)

    ex = WorkedExample(
        "conv",
        "2D convolution layer (correlation, as torch's conv2d)",
        [],
        options={
            "seed": seed,
            "size": [H, W],
            "kernel": kernel,
            "stride": stride,
            "padding": padding,
        },
        exact=exact,
    )
    ex.add("X", X, "input", "input")
    ex.add("K", K, "kernel", "input")
    ex.add("b", b, "bias", "input")
    Xp = ex.add("X_pad", pad(X, padding), f"X with {padding} zero rows/columns around it")
    Y = correlate(Xp, K, stride) + b
    ex.add(
        "Y",
        Y,
        f"Y[i,j] = sum_mn K[m,n] X_pad[{stride}i+m, {stride}j+n] + b  "
        f"({H}+2*{padding}-{kernel})//{stride}+1 = {Ho} rows",
    )
    ex.add("G", G, "upstream gradient dE/dY (given)", "input")
    Gd = ex.add(
        "G_dil",
        dilate(G, stride),
        f"dilate G: {stride - 1} zeros between entries",
        "backward",
        quiz=stride > 1,
    )
    dK = kernel_gradient(Xp, G, (kernel, kernel), stride)
    ex.add(
        "dE/dK",
        dK,
        "dE/dK = corr(X_pad, G_dil): correlation of the input with the upstream gradient",
        "backward",
        mistakes=[
            Mistake(
                kernel_gradient(Xp, rot180(G), (kernel, kernel), stride),
                "you rotated the upstream gradient: dE/dK is a plain correlation of X with G",
            ),
            Mistake(rot180(dK), "this is rot180 of dE/dK: correlate, do not convolve"),
        ],
    )
    ex.add("dE/db", G.sum(), "dE/db = sum of G", "backward")
    Krot = ex.add("rot180(K)", rot180(K), "kernel rotated by 180 degrees", "backward", quiz=False)
    k1 = kernel - 1
    Gdp = ex.add(
        "G_dil_pad",
        pad(Gd, k1),
        f"G_dil with {k1} zero rows/columns around it",
        "backward",
        quiz=False,
    )
    dXp, dX = input_gradient(G, K, (H, W), stride, padding)
    wrong_rot = zeros(dXp.shape, exact)
    part = correlate(Gdp, K)
    wrong_rot[: part.shape[0], : part.shape[1]] = part
    ex.add(
        "dE/dX_pad",
        dXp,
        "full convolution: corr(G_dil_pad, rot180(K))",
        "backward",
        quiz=padding > 0,
        mistakes=[Mistake(wrong_rot, "the kernel factor is not rotated: use rot180(K)")],
    )
    ex.add(
        "dE/dX",
        dX,
        f"dE/dX_pad without the {padding} padding rows/columns",
        "backward",
        mistakes=[
            Mistake(
                wrong_rot[padding : padding + H, padding : padding + W],
                "the kernel factor is not rotated: use rot180(K)",
            )
        ],
    )
    del Krot
    return check(ex, reference(X, K, b, G, stride, padding))


# --------------------------------------------------------------------------- the sheet's example
# The matrices exactly as the sheet prints them (section 11, "Backprop example (rotate K)").
# Row 0 of dE/dX comes out of the extraction with 3 entries for a 5-wide matrix: kept as printed.
SHEET_PRINTED: dict[str, list[list[int]]] = {
    "X": [[0, 0, 1, 1, 0], [0, 1, 0, 1, 1], [1, 1, 1, 1, 0], [1, 0, 1, 1, 0], [1, 1, 0, 1, 1]],
    "K": [[1, 0, 1], [0, 1, 0], [0, 1, 0]],
    "Y": [[3, 3, 3], [4, 2, 3], [2, 3, 3]],
    "Y'": [[4]],
    "dE/dY'": [[1]],
    "dE/dY": [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
    "dE/dK": [[1, 0, 1], [1, 1, 1], [0, 1, 0]],
    "dE/dX": [[0, 0, 0], [0, 1, 0, 0, 0], [0, 1, 0, 0, 0], [1, 0, 1, 0, 0], [0, 0, 0, 0, 0]],
}


def _compare_printed(name: str, printed: list[list[int]], right: np.ndarray) -> list[dict]:
    """Entry-by-entry differences between a printed matrix and the computed one."""
    right = np.asarray(right, dtype=object).astype(np.float64)
    found = []
    for i, row in enumerate(printed):
        if len(row) != right.shape[1]:
            found.append(
                {
                    "block": name,
                    "row": i,
                    "printed": row,
                    "right": [int(v) for v in right[i]],
                    "what": f"row {i + 1} of {name} is garbled: {len(row)} entries "
                    f"printed, {right.shape[1]} expected; right row "
                    f"{[int(v) for v in right[i]]}",
                }
            )
            continue
        for j, value in enumerate(row):
            if value != right[i, j]:
                found.append(
                    {
                        "block": name,
                        "row": i,
                        "col": j,
                        "printed": value,
                        "right": int(right[i, j]),
                        "what": f"{name}[{i + 1},{j + 1}] (1-based) is printed {value}, "
                        f"the right value is {int(right[i, j])}",
                    }
                )
    return found


def sheet_example() -> WorkedExample:
    """The sheet's conv backprop example: which reading it uses, the right values, its errata."""
    X = np.array(SHEET_PRINTED["X"], dtype=np.float64)
    K = np.array(SHEET_PRINTED["K"], dtype=np.float64)
    printed_Y = np.array(SHEET_PRINTED["Y"], dtype=np.float64)
    # Which operation did the sheet slide? Try both and keep the one closest to its printed Y.
    readings = {
        "correlation with rot180(K) (= convolution with K)": correlate(X, rot180(K)),
        "correlation with K": correlate(X, K),
    }
    misses = {r: int((printed_Y != Y).sum()) for r, Y in readings.items()}
    reading = min(misses, key=misses.get)
    rotated = reading.startswith("correlation with rot180")
    slid = rot180(K) if rotated else K

    ex = WorkedExample(
        "conv",
        "The sheet's backprop example (section 11, 'rotate K')",
        [],
        options={"example": "sheet"},
    )
    ex.add("X", X, "input (5x5), as printed", "input")
    ex.add("K", K, "kernel (3x3), as printed", "input")
    ex.add(
        "K_slid",
        slid,
        "the kernel that slides over X: rot180(K) ('rotate K')"
        if rotated
        else "the kernel that slides over X: K",
    )
    Y = ex.add("Y", correlate(X, slid), "Y[i,j] = sum_mn K_slid[m,n] X[i+m, j+n]")
    flat = [float(v) for v in Y.ravel()]
    top = max(flat)
    first = flat.index(top)  # ties: the first maximum in row-major order (as torch does)
    ex.add("Y'", np.array([[top]]), "Y' = Pool(Y): 3x3 max-pool, one output")
    ex.add("dE/dY'", np.array([[1.0]]), "upstream gradient (given)", "input")
    dY = np.zeros_like(Y)
    dY.flat[first] = 1.0
    ex.add(
        "dE/dY", dY, "max-pool backward: the upstream gradient goes to the argmax of Y", "backward"
    )
    dK_slid = ex.add(
        "dE/dK_slid",
        correlate(X, dY),
        "corr(X, dE/dY): correlation of the input with the upstream gradient",
        "backward",
    )
    ex.add(
        "dE/dK",
        rot180(dK_slid) if rotated else dK_slid,
        "rot180(dE/dK_slid): K enters only through its rotation" if rotated else "= dE/dK_slid",
        "backward",
        mistakes=[
            Mistake(
                dK_slid, "this is the gradient of the slid kernel rot180(K); rotate it back for K"
            )
        ]
        if rotated
        else [],
    )
    ex.add(
        "dE/dX",
        full_convolution(dY, slid),
        "full convolution of dE/dY with K_slid: corr(pad(dE/dY, 2), rot180(K_slid))",
        "backward",
        mistakes=[
            Mistake(
                full_convolution(dY, rot180(slid)),
                "the factor is the kernel that slid (K_slid); this used its rotation",
            ),
            Mistake(
                correlate(pad(dY, 2), slid),
                "the full convolution rotates K_slid by 180 degrees; this did not",
            ),
        ],
    )

    ex.notes.append(
        f"Reading: the forward pass is {reading}; it misses {misses[reading]} "
        f"printed entries of Y, the other reading misses "
        f"{min(v for r, v in misses.items() if r != reading)}."
    )
    ties = [i for i, v in enumerate(flat) if v == top]
    if len(ties) > 1:
        where = ", ".join(f"({i // Y.shape[1] + 1},{i % Y.shape[1] + 1})" for i in ties)
        ex.notes.append(
            f"Y has {len(ties)} maxima {fmt_int(top)} at {where} (1-based): "
            "max-pool's gradient is then a subgradient; like torch we route it to "
            "the first in row-major order, which is also where the sheet puts it."
        )
    for name in ("Y", "dE/dY", "dE/dK", "dE/dX"):
        ex.errata.extend(_compare_printed(name, SHEET_PRINTED[name], ex.block(name).tensor))
    ex.notes.append("The last label '∂E/∂V' is garbled: the 5x5 matrix is ∂E/∂X.")

    import torch
    import torch.nn.functional as F

    X_t = torch.tensor(X).requires_grad_(True)
    K_t = torch.tensor(K).requires_grad_(True)
    slid_t = torch.flip(K_t, (0, 1)) if rotated else K_t
    slid_t.retain_grad()
    Y_t = F.conv2d(X_t[None, None], slid_t[None, None])
    Y_t.retain_grad()
    P = F.max_pool2d(Y_t, 3)
    P.backward(torch.ones_like(P))
    return check(
        ex,
        {
            "K_slid": slid_t.detach(),
            "Y": Y_t[0, 0].detach(),
            "Y'": P[0, 0].detach(),
            "dE/dY": Y_t.grad[0, 0],
            "dE/dK_slid": slid_t.grad,
            "dE/dK": K_t.grad,
            "dE/dX": X_t.grad,
        },
    )


def fmt_int(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


OPTIONS = {"size", "kernel", "stride", "padding", "exact"}
EXACT_OK = True


def from_options(kind: str, o) -> WorkedExample:
    return build(o.seed, o.size or (5,), o.kernel or 3, o.stride or 1, o.padding or 0, o.exact)


def options_for(kind: str) -> set[str]:
    return OPTIONS
