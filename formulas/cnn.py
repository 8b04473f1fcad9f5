"""Convolutions, pooling and their backward passes (sheet section 11).

Index conventions (single channel; leading axes broadcast as a batch):
- correlation (what torch.nn.functional.conv2d computes), valid mode:
  out[i, j] = sum_{m,n} K[m, n] I[i + m, j + n];
- convolution (the sheet's `*`), valid mode: the same with the kernel rotated by 180 degrees,
  out[i, j] = sum_{m,n} K[m, n] I[i + k_h - 1 - m, j + k_w - 1 - n];
- "full" mode pads the input by k - 1 zeros on every side first.
The sheet's conv layer is z^(l) = w^(l) * z^(l-1) + b^(l) with `*` a convolution; its backward
formulas (rot180) are right for that forward pass and are checked against autograd.

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import (
    Claim,
    Comparison,
    Erratum,
    Evidence,
    Formula,
    Step,
    as_float64,
    compare_forms,
    register,
    register_claim,
)
from formulas.notation import named_operator


def _premise(claim, lhs, rhs, name, kind="definition", **extra):
    """A premise `lhs = rhs` that a later chain step uses by `name`."""
    return Step(claim, lhs, rhs, premise=kind, name=name, **extra)


def _require_shapes(ok, formula_id, expected, **arrays):  # noqa: ARG001 - the CLI names the id
    """A one-line ValueError naming the expected shapes (the CLI turns it into exit 2)."""
    if not ok:
        got = ", ".join(f"{name} of shape {tuple(a.shape)}" for name, a in arrays.items())
        raise ValueError(f"expected {expected}; got {got}")


# --------------------------------------------------------------------------------------------
# numpy helpers


def _correlate_valid(image, kernel):
    import numpy as np

    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape, axis=(-2, -1))
    return np.einsum("...ijmn,mn->...ij", windows, kernel)


def _rot180(array):
    import numpy as np

    return np.asarray(array, dtype=np.float64)[..., ::-1, ::-1]


def _convolve_valid(image, kernel):
    return _correlate_valid(image, _rot180(kernel))


def _pad_full(image, kernel_shape):
    import numpy as np

    image = np.asarray(image, dtype=np.float64)
    kh, kw = kernel_shape
    pad = [(0, 0)] * (image.ndim - 2) + [(kh - 1, kh - 1), (kw - 1, kw - 1)]
    return np.pad(image, pad)


# --------------------------------------------------------------------------------------------
# conv-output-size


def _output_size_symbols():
    import sympy as sp

    n, k, s, d = sp.symbols("in kern stride dil", integer=True, positive=True)
    p = sp.Symbol("pad", integer=True, nonnegative=True)
    out, length, extent = sp.symbols("out length e", integer=True, positive=True)
    return sp, n, k, s, d, p, out, length, extent


def _output_size_statement():
    sp, n, k, s, d, p, out, length, extent = _output_size_symbols()
    return sp.Eq(out, sp.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1)


def _extent_check() -> Comparison:
    spans, formula = [], []
    for kern in range(1, 7):
        for dil in range(1, 5):
            taps = [m * dil for m in range(kern)]  # offsets of the dilated kernel's taps
            spans.append(taps[-1] - taps[0] + 1)
            formula.append(dil * (kern - 1) + 1)
    return Comparison(spans, formula, "cells spanned, by listing the taps: kern 1..6, dil 1..4")


def _window_count_check() -> Comparison:
    counted, formula = [], []
    for size in range(1, 25):
        for e in range(1, size + 1):
            for stride in range(1, 6):
                # window starts 0, stride, 2 stride, ... with start + e <= size
                counted.append(sum(1 for start in range(0, size, stride) if start + e <= size))
                formula.append((size - e) // stride + 1)
    return Comparison(counted, formula, f"window positions counted in {len(counted)} cases")


def _output_size_derivation() -> list[Step]:
    sp, n, k, s, d, p, out, length, extent = _output_size_symbols()
    return [
        _premise(
            "windows of e cells start at 0, stride, 2 stride, ...; one fits while start + e "
            "<= length",
            out,
            sp.floor((length - extent) / s) + 1,
            "windows",
            kind="lemma",
            custom=_window_count_check,
        ),
        _premise(
            "a kernel of kern taps with dilation dil spans e = dil (kern - 1) + 1 cells",
            extent,
            d * (k - 1) + 1,
            "extent",
            kind="lemma",
            custom=_extent_check,
        ),
        _premise("padding adds pad cells on each side", length, n + 2 * p, "length"),
        Step(
            "count the window positions",
            out,
            sp.floor((length - extent) / s) + 1,
            uses=("windows",),
        ),
        Step(
            "substitute the padded length and the kernel's extent",
            rhs=sp.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1,
            uses=("length", "extent"),
        ),
    ]


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1 (conv and pooling)."""
    import numpy as np

    out = (
        np.floor_divide(
            np.asarray(size)
            + 2 * np.asarray(padding)
            - np.asarray(dilation) * (np.asarray(kernel) - 1)
            - 1,
            np.asarray(stride),
        )
        + 1
    )
    return int(out) if np.ndim(out) == 0 else out.astype(np.int64)


register(
    Formula(
        id="conv-output-size",
        title="Output width/height of a convolution or pooling layer",
        topic="cnn",
        section="11",
        text="width or height after conv or pool: (in + 2 pad - dil (kern - 1) - 1) / stride + 1, "
        "rounded down; channels = number of kernels",
        keywords=(
            "output size",
            "output shape",
            "stride",
            "padding",
            "dilation",
            "kernel size",
            "pooling",
            "feature map size",
            "floor",
        ),
        statement_builder=_output_size_statement,
        derivation_builder=_output_size_derivation,
        evaluator=conv_output_size,
        sheet_lines=(313, 313),
    )
)


# --------------------------------------------------------------------------------------------
# convolution-2d and correlation-2d (the sheet's definitions, with property checks)


def _sheet_sum(kernel, image, i, j, flip):
    """The sheet's double sum at (i, j), kernel and image indexed from -k..k / by offset."""
    k = kernel.shape[0] // 2
    total = 0.0
    for m in range(-k, k + 1):
        for n in range(-k, k + 1):
            weight = kernel[k - m, k - n] if flip else kernel[k + m, k + n]
            total += weight * image[m + i, n + j]
    return total


def _convolution_statement():
    import sympy as sp

    i, j, m, n, k = sp.symbols("i j m n k", integer=True)
    K, I = sp.Function("K"), sp.Function("I")
    return sp.Eq(
        sp.Function("I'")(i, j),
        sp.Sum(sp.Sum(K(-m, -n) * I(m + i, n + j), (n, -k, k)), (m, -k, k)),
    )


def _random_images(seed, count=5, size=9, kernel=3):
    import numpy as np

    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(size, size)), rng.normal(size=(kernel, kernel))) for _ in range(count)
    ]


def _convolution_properties() -> list[Step]:
    def textbook() -> Comparison:
        import numpy as np

        left, right = [], []
        for image, kernel in _random_images(20):
            for i, j in ((1, 1), (3, 5), (7, 7)):
                left.append(_sheet_sum(kernel, image, i, j, flip=True))
                # sum_{m,n} K(m, n) I(i - m, j - n), K centred at index 1
                right.append(
                    sum(
                        kernel[1 + m, 1 + n] * image[i - m, j - n]
                        for m in (-1, 0, 1)
                        for n in (-1, 0, 1)
                    )
                )
        return Comparison(np.array(left), np.array(right), "15 points of 5 random 9x9 images")

    def flipped() -> Comparison:
        import numpy as np

        left, right = [], []
        for image, kernel in _random_images(21):
            left.append(convolution_2d(image, kernel))
            right.append(correlation_2d(image, kernel[::-1, ::-1]))
        return Comparison(np.ravel(left), np.ravel(right), "5 random 9x9 images, 3x3 kernels")

    def commutes() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(22)
        a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
        # full convolution via zero padding; a * b = b * a
        return Comparison(
            convolution_2d(_pad_full(a, b.shape), b),
            convolution_2d(_pad_full(b, a.shape), a),
            "two random 6x6 arrays, full mode",
        )

    return [
        Step(
            "substituting m -> -m gives the textbook form sum K(m, n) I(i - m, j - n)",
            custom=textbook,
            tolerance=1e-12,
        ),
        Step("convolution with K is correlation with ROT180(K)", custom=flipped, tolerance=1e-12),
        Step("convolution is commutative (correlation is not)", custom=commutes, tolerance=1e-12),
    ]


def convolution_2d(image, kernel):
    """True 2D convolution (kernel flipped), valid mode: out[i,j] = sum K[m,n] I[i-m, j-n]
    re-indexed to start at 0. `image` [..., H, W], `kernel` [kh, kw]."""
    return as_float64(_convolve_valid(image, kernel))


register(
    Formula(
        id="convolution-2d",
        title="2D convolution (flipped kernel)",
        topic="cnn",
        section="11",
        text="I'(i,j) = sum_{m=-k}^k sum_{n=-k}^k K(-m,-n) I(m+i, n+j); any linear "
        "shift-equivariant operator is a convolution; equivariant T(f(u)) = f(T(u)), invariant "
        "T(f(u)) = T(u)",
        keywords=(
            "convolution",
            "conv",
            "flip",
            "rot180",
            "shift equivariance",
            "linear",
            "kernel",
            "filter",
        ),
        statement_builder=_convolution_statement,
        definition=True,
        properties_builder=_convolution_properties,
        evaluator=convolution_2d,
        sheet_lines=(313, 313),
    )
)


def _correlation_statement():
    import sympy as sp

    i, j, m, n, k = sp.symbols("i j m n k", integer=True)
    K, I = sp.Function("K"), sp.Function("I")
    return sp.Eq(
        sp.Function("I'")(i, j),
        sp.Sum(sp.Sum(K(m, n) * I(m + i, n + j), (n, -k, k)), (m, -k, k)),
    )


def _circular(operation, image, kernel):
    """operation on a periodic image (wrap-padding), so that shifts are exact."""
    import numpy as np

    return operation(np.pad(image, ((0, 2), (0, 2)), mode="wrap"), kernel)


def _correlation_properties() -> list[Step]:
    def sheet_sum() -> Comparison:
        import numpy as np

        left, right = [], []
        for image, kernel in _random_images(23):
            out = correlation_2d(image, kernel)
            for i, j in ((1, 1), (3, 5), (7, 7)):
                left.append(_sheet_sum(kernel, image, i, j, flip=False))
                right.append(out[i - 1, j - 1])  # valid mode starts at the first full window
        return Comparison(np.array(left), np.array(right), "15 points of 5 random 9x9 images")

    def equivariant() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(24)
        left, right = [], []
        for image, kernel in _random_images(24, count=10):
            shift = tuple(int(v) for v in rng.integers(0, 4, 2))
            left.append(_circular(correlation_2d, np.roll(image, shift, axis=(0, 1)), kernel))
            right.append(np.roll(_circular(correlation_2d, image, kernel), shift, axis=(0, 1)))
        return Comparison(np.ravel(left), np.ravel(right), "10 random images, kernels, shifts")

    def linear() -> Comparison:

        (u, kernel), (v, _) = _random_images(25, count=2)
        return Comparison(
            correlation_2d(2.5 * u - 0.7 * v, kernel),
            2.5 * correlation_2d(u, kernel) - 0.7 * correlation_2d(v, kernel),
            "T(alpha u + beta v) vs alpha T(u) + beta T(v)",
        )

    return [
        Step(
            "the sheet's double sum is what the evaluator (valid mode) computes",
            custom=sheet_sum,
            tolerance=1e-12,
        ),
        Step(
            "correlation is shift-equivariant: T(shift(u)) = shift(T(u))",
            custom=equivariant,
            tolerance=1e-12,
        ),
        Step("correlation is linear", custom=linear, tolerance=1e-12),
    ]


def correlation_2d(image, kernel):
    """Cross-correlation, valid mode: out[i,j] = sum K[m,n] I[i+m, j+n] (torch's conv2d)."""
    return as_float64(_correlate_valid(image, kernel))


register(
    Formula(
        id="correlation-2d",
        title="2D cross-correlation (what deep-learning 'conv' layers compute)",
        topic="cnn",
        section="11",
        text="Correlation: I'(i,j) = sum_m sum_n K(m,n) I(m+i, n+j); no flip; shift-equivariant",
        keywords=("correlation", "cross-correlation", "conv2d", "no flip", "shift equivariance"),
        statement_builder=_correlation_statement,
        definition=True,
        properties_builder=_correlation_properties,
        evaluator=correlation_2d,
        sheet_lines=(313, 313),
    )
)


def _lsi_evidence() -> Evidence:
    """Build a random linear shift-equivariant map on periodic 1D signals (a matrix that
    commutes with the shift) and show it equals circular convolution with its impulse
    response."""
    import numpy as np

    rng = np.random.default_rng(26)
    n = 8
    shift = np.roll(np.eye(n), 1, axis=0)
    # the general matrix commuting with the shift: a polynomial in it (random coefficients)
    T = sum(c * np.linalg.matrix_power(shift, p) for p, c in enumerate(rng.normal(size=n)))
    commutes = float(np.max(np.abs(T @ shift - shift @ T)))
    impulse = T[:, 0]  # response to the unit impulse
    x = rng.normal(size=n)
    convolved = np.array([sum(impulse[m] * x[(i - m) % n] for m in range(n)) for i in range(n)])
    gap = float(np.max(np.abs(T @ x - convolved)))
    holds = commutes < 1e-12 and gap < 1e-12
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"a random linear map on periodic signals of length 8 commuting with the shift "
        f"(|TS - ST| = {commutes:.1e}) equals circular convolution with its impulse response "
        f"T e_0 to {gap:.1e}",
    )


register_claim(
    Claim(
        id="cnn-linear-shift-equivariant-is-convolution",
        topic="cnn",
        section="11",
        sheet_lines=(313, 313),
        sheet="T is linear if T(alpha u + beta v) = alpha T(u) + beta T(v), invariant to f if "
        "T(f(u)) = T(u), equivariant to f if T(f(u)) = f(T(u)). Any linear shift-equivariant T "
        "can be written as a convolution",
        verdict="correct",
        explanation="the definitions are the standard ones; a linear map that commutes with "
        "shifts is determined by its impulse response h = T(delta) and T(u) = h * u",
        source="Oppenheim & Willsky, Signals and Systems, Sec. 2.1-2.2 (LTI systems)",
        check=_lsi_evidence,
    )
)


# --------------------------------------------------------------------------------------------
# conv-forward (a definition) and its backward passes (derived on a generic 1D instance)


def _conv_forward_statement():
    import sympy as sp

    i, j, m, n = sp.symbols("i j m n", integer=True)
    w, z = sp.Function("w"), sp.Function("z^(l-1)")
    b = sp.Symbol("b^{(l)}", real=True)
    return sp.Eq(
        sp.Function("z^{(l)}")(i, j),
        sp.Sum(
            sp.Sum(w(m, n) * z(i - m, j - n), (n, 0, sp.Symbol("k_w") - 1)),
            (m, 0, sp.Symbol("k_h") - 1),
        )
        + b,
    )


def _conv_forward_properties() -> list[Step]:
    def as_sum() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(27)
        z, w = rng.normal(size=(6, 7)), rng.normal(size=(3, 2))
        out = conv_forward(z, w, 0.5)
        direct = [
            sum(w[m, n] * z[i + 2 - m, j + 1 - n] for m in range(3) for n in range(2)) + 0.5
            for i in range(out.shape[0])
            for j in range(out.shape[1])
        ]
        return Comparison(np.ravel(out), direct, "sum_m sum_n w[m,n] z[i-m, j-n] + b, 6x7 input")

    return [
        Step(
            "w * z + b is the double sum of w_{m,n} z_{i-m, j-n} (valid positions) plus b",
            custom=as_sum,
            tolerance=1e-12,
        )
    ]


def conv_forward(z_prev, w, b=0.0):
    """z^(l) = w * z^(l-1) + b with `*` a true convolution (valid mode)."""
    import numpy as np

    z_prev, w = np.asarray(z_prev, dtype=np.float64), np.asarray(w, dtype=np.float64)
    _require_shapes(
        w.ndim == 2
        and z_prev.ndim >= 2
        and z_prev.shape[-2] >= w.shape[0]
        and z_prev.shape[-1] >= w.shape[1],
        "conv-forward",
        "z_prev of shape (..., H, W) and w of shape (kh, kw) with kh <= H, kw <= W",
        z_prev=z_prev,
        w=w,
    )
    return as_float64(_convolve_valid(z_prev, w) + b)


register(
    Formula(
        id="conv-forward",
        title="Convolutional layer forward pass",
        topic="cnn",
        section="11",
        text="z^(l) = w^(l) * z^(l-1) + b^(l) = sum_m sum_n w_{m,n} z_{i-m,j-n}^(l-1) + b^(l)",
        keywords=("conv layer", "forward", "feature map", "bias", "convolution"),
        statement_builder=_conv_forward_statement,
        definition=True,
        properties_builder=_conv_forward_properties,
        evaluator=conv_forward,
        sheet_lines=(313, 313),
    )
)

_TAPS, _INPUTS_1D = 3, 5  # the generic 1D instance: 5 inputs, 3 taps, 3 outputs


def _conv_symbols():
    """1D layer z_i = sum_m w_m x_{i+2-m} (valid convolution) and the cost's local form
    C = sum_i delta_i z_i: to first order C changes with z^(l) through delta^(l) = dC/dz^(l)."""
    import sympy as sp

    x = sp.symbols(f"x_0:{_INPUTS_1D}", real=True)
    w = sp.symbols(f"w_0:{_TAPS}", real=True)
    delta = sp.symbols(f"delta_0:{_TAPS}", real=True)
    outputs = _INPUTS_1D - _TAPS + 1
    z = [sum(w[m] * x[i + _TAPS - 1 - m] for m in range(_TAPS)) for i in range(outputs)]
    cost = sum(d * zi for d, zi in zip(delta, z))
    heads = {
        "full": sp.Function("conv_full"),
        "valid": sp.Function("conv"),
        "rot": named_operator("ROT180"),  # printed whole: sympy's 2D form would say ROT₁₈₀
    }
    names = {n: sp.Symbol(n) for n in ("delta^(l)", "delta^(l-1)", "w^(l)", "z^(l-1)")}
    names["dC/dw^(l)"] = sp.Derivative(sp.Symbol("C"), names["w^(l)"])  # the kernel's gradient
    return sp, x, w, delta, z, cost, heads, names


def _backward_input_statement():
    sp, x, w, delta, z, cost, heads, names = _conv_symbols()
    return sp.Eq(
        names["delta^(l-1)"],
        heads["full"](names["delta^(l)"], heads["rot"](names["w^(l)"])),
    )


def _backward_input_derivation() -> list[Step]:
    sp, x, w, delta, z, cost, heads, names = _conv_symbols()
    rotated = w[::-1]  # ROT180(w)[m] = w[2 - m]

    def full(p):  # (delta * r)[p] = sum_m r[m] delta[p - m], delta zero outside 0..2
        return sum(rotated[m] * delta[p - m] for m in range(_TAPS) if 0 <= p - m < len(delta))

    gradient = sp.Matrix([sp.Derivative(cost, xp) for xp in x])
    chain = sp.Matrix(
        [
            sum(
                delta[i] * w[i + _TAPS - 1 - p]
                for i in range(len(delta))
                if 0 <= i + _TAPS - 1 - p < _TAPS
            )
            for p in range(_INPUTS_1D)
        ]
    )
    operator = heads["full"](names["delta^(l)"], heads["rot"](names["w^(l)"]))
    return [
        _premise(
            "delta^(l-1) := dC/dz^(l-1), one entry per input (1D: 5 inputs, 3 taps, generic "
            "weights and upstream delta^(l))",
            names["delta^(l-1)"],
            gradient,
            "gradient",
        ),
        _premise(
            "full convolution: (delta * r)[p] = sum_m r[m] delta[p - m], delta zero-padded",
            operator,
            sp.Matrix([full(p) for p in range(_INPUTS_1D)]),
            "full-convolution",
        ),
        Step("by definition", names["delta^(l-1)"], gradient, uses=("gradient",)),
        Step(
            "chain rule through z_i = sum_m w_m x_{i+2-m}: dC/dx_p = sum_i delta_i w_{i+2-p}",
            rhs=chain,
        ),
        Step(
            "re-index m = p - i: w_{i+2-p} = ROT180(w)[m], a full convolution with the "
            "rotated kernel",
            rhs=operator,
            uses=("full-convolution",),
        ),
    ]


def conv_backward_input(delta, w):
    """dL/dz^(l-1) = delta^(l) * ROT180(w^(l)) (full convolution), for the forward pass of
    conv-forward. `delta` [..., H-kh+1, W-kw+1] -> [..., H, W]."""
    import numpy as np

    delta, w = np.asarray(delta, dtype=np.float64), np.asarray(w, dtype=np.float64)
    _require_shapes(
        delta.ndim >= 2 and w.ndim == 2,
        "conv-backward-input",
        "delta of shape (..., H_out, W_out) and w of shape (kh, kw)",
        delta=delta,
        w=w,
    )
    return as_float64(_convolve_valid(_pad_full(delta, w.shape), _rot180(w)))


register(
    Formula(
        id="conv-backward-input",
        title="Conv backprop to the inputs (rot180 of the kernel)",
        topic="cnn",
        section="11",
        text="backward inputs: delta^(l-1) = dC/dz^(l-1)_{i,j} = delta^(l) * ROT_180(w^(l)) "
        "(full convolution)",
        keywords=(
            "rot180",
            "backprop",
            "backward",
            "conv gradient",
            "input gradient",
            "delta",
            "full convolution",
        ),
        statement_builder=_backward_input_statement,
        derivation_builder=_backward_input_derivation,
        evaluator=conv_backward_input,
        latex_override=r"\delta^{(l-1)} = \delta^{(l)} \ast_{\mathrm{full}} "
        r"\operatorname{ROT}_{180}\big(w^{(l)}\big)",
        sheet_lines=(313, 313),
    )
)


def _backward_kernel_statement():
    sp, x, w, delta, z, cost, heads, names = _conv_symbols()
    return sp.Eq(
        names["dC/dw^(l)"],
        heads["valid"](names["delta^(l)"], heads["rot"](names["z^(l-1)"])),
    )


def _backward_kernel_derivation() -> list[Step]:
    sp, x, w, delta, z, cost, heads, names = _conv_symbols()
    rotated = x[::-1]  # ROT180(z^(l-1))[j] = x[4 - j]

    def valid(m):  # (delta * r)[m] = sum_i delta[i] r[m + 2 - i]: delta slides over r
        return sum(delta[i] * rotated[m + len(delta) - 1 - i] for i in range(len(delta)))

    gradient = sp.Matrix([sp.Derivative(cost, wm) for wm in w])
    chain = sp.Matrix(
        [sum(delta[i] * x[i + _TAPS - 1 - m] for i in range(len(delta))) for m in range(_TAPS)]
    )
    operator = heads["valid"](names["delta^(l)"], heads["rot"](names["z^(l-1)"]))
    return [
        _premise(
            "dC/dw^(l), one entry per tap (1D: 5 inputs, 3 taps, generic inputs and delta^(l))",
            names["dC/dw^(l)"],
            gradient,
            "gradient",
        ),
        _premise(
            "valid convolution: (delta * r)[m] = sum_i delta[i] r[m + 2 - i]",
            operator,
            sp.Matrix([valid(m) for m in range(_TAPS)]),
            "convolution",
        ),
        Step("by definition", names["dC/dw^(l)"], gradient, uses=("gradient",)),
        Step(
            "chain rule through z_i = sum_m w_m x_{i+2-m}: dC/dw_m = sum_i delta_i x_{i+2-m}",
            rhs=chain,
        ),
        Step(
            "x_{i+2-m} = ROT180(x)[m + 2 - i]: a valid convolution of delta with the rotated input",
            rhs=operator,
            uses=("convolution",),
        ),
    ]


def conv_backward_kernel(delta, z_prev):
    """dL/dw^(l) = delta^(l) * ROT180(z^(l-1)) (valid convolution), for conv-forward; summed over
    leading batch axes. Returns [kh, kw]."""
    import numpy as np

    delta, z_prev = np.asarray(delta, dtype=np.float64), np.asarray(z_prev, dtype=np.float64)
    _require_shapes(
        delta.ndim >= 2
        and delta.shape[:-2] == z_prev.shape[:-2]
        and z_prev.shape[-2] >= delta.shape[-2]
        and z_prev.shape[-1] >= delta.shape[-1],
        "conv-backward-kernel",
        "delta of shape (..., H_out, W_out) and z_prev of shape (..., H, W) with the same "
        "leading axes, H >= H_out and W >= W_out",
        delta=delta,
        z_prev=z_prev,
    )
    grad = (
        _convolve_valid(_rot180(z_prev), delta)
        if np.ndim(delta) == 2
        else np.sum(
            [
                _convolve_valid(_rot180(z), d)
                for z, d in zip(
                    np.reshape(z_prev, (-1, *np.shape(z_prev)[-2:])),
                    np.reshape(delta, (-1, *np.shape(delta)[-2:])),
                )
            ],
            axis=0,
        )
    )
    return as_float64(grad)


register(
    Formula(
        id="conv-backward-kernel",
        title="Conv backprop to the kernel",
        topic="cnn",
        section="11",
        text="backward kernel: dC/dw^(l)_{m,n} = delta^(l) * ROT_180(z^(l-1)) (valid convolution)",
        keywords=("rot180", "kernel gradient", "weight gradient", "backprop", "conv gradient"),
        statement_builder=_backward_kernel_statement,
        derivation_builder=_backward_kernel_derivation,
        evaluator=conv_backward_kernel,
        latex_override=r"\frac{\partial C}{\partial w^{(l)}} = \delta^{(l)} \ast "
        r"\operatorname{ROT}_{180}\big(z^{(l-1)}\big)",
        sheet_lines=(313, 313),
    )
)


# --------------------------------------------------------------------------------------------
# conv-toeplitz-matrix (typo: the 4th row)


def _toeplitz_symbols():
    import sympy as sp

    k = sp.symbols("k_1:4", real=True)
    M = sp.Matrix(
        [
            [k[0], 0, 0, 0],
            [k[1], k[0], 0, 0],
            [k[2], k[1], k[0], 0],
            [0, k[2], k[1], k[0]],
            [0, 0, k[2], k[1]],
            [0, 0, 0, k[2]],
        ]
    )
    x = sp.MatrixSymbol("x", 4, 1)
    return sp, k, M, x


def _toeplitz_statement():
    sp, k, M, x = _toeplitz_symbols()
    return sp.Eq(
        sp.MatMul(sp.ImmutableMatrix(M), x),
        sp.Function("conv_full")(sp.Symbol("k"), x),
        evaluate=False,
    )


def _toeplitz_derivation() -> list[Step]:
    sp, k, M, x = _toeplitz_symbols()
    entries = sp.Matrix(sp.symbols("x_1:5", real=True))
    full = sp.Matrix(
        [sum(k[m] * entries[p - m] for m in range(3) if 0 <= p - m < 4) for p in range(6)]
    )
    return [
        _premise("x = (x_1, ..., x_4)^T", x, entries, "entries"),
        _premise(
            "full 1D convolution: (k * x)_p = sum_m k_m x_{p-m}, x zero outside 1..4",
            sp.Function("conv_full")(sp.Symbol("k"), x),
            full,
            "full-convolution",
        ),
        Step(
            "row p of M holds k_{p-j+1} in column j: multiplying out gives sum_m k_m x_{p-m}",
            sp.MatMul(sp.ImmutableMatrix(M), x),
            sp.Function("conv_full")(sp.Symbol("k"), x),
            uses=("entries", "full-convolution"),
        ),
    ]


def conv_toeplitz_matrix(kernel, n):
    """The (n + K - 1) x n matrix M with M x = full 1D convolution of x with the kernel:
    M[i, j] = kernel[i - j] for 0 <= i - j < K."""
    import numpy as np

    kernel = np.asarray(kernel, dtype=np.float64)
    n = int(n)
    K = kernel.shape[-1]
    M = np.zeros(kernel.shape[:-1] + (n + K - 1, n))
    for j in range(n):
        M[..., j : j + K, j] = kernel
    return as_float64(M)


def _toeplitz_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(0)
    kernel, x = rng.normal(size=3), rng.normal(size=4)
    right = np.zeros((6, 4))
    for j in range(4):  # columns: the kernel shifted down by one per column
        right[j : j + 3, j] = kernel
    sheet = right.copy()
    sheet[3, 3] = 0.0  # the sheet's fourth row reads 0 k3 k2 0
    return compare_forms(
        reference=np.convolve(x, kernel, mode="full"),
        sheet=sheet @ x,
        correct=right @ x,
        reference_name="numpy.convolve(x, k, 'full') for a random x in R^4",
        tolerance=1e-12,
    )


register(
    Formula(
        id="conv-toeplitz-matrix",
        title="1D convolution as a matrix multiplication (Toeplitz matrix)",
        topic="cnn",
        section="11",
        text="1D conv as matmul: a banded Toeplitz matrix whose columns are shifted copies of the "
        "kernel (k1, k2, k3); transposed conv multiplies by its transpose",
        keywords=(
            "toeplitz",
            "matmul",
            "matrix multiplication",
            "1d convolution",
            "circulant",
            "banded",
            "linear operator",
        ),
        statement_builder=_toeplitz_statement,
        derivation_builder=_toeplitz_derivation,
        evaluator=conv_toeplitz_matrix,
        sheet_lines=(315, 316),
        erratum=Erratum(
            sheet=r"\text{row 4: } (0, k_3, k_2, 0)",
            correct=r"\text{row 4: } (0, k_3, k_2, k_1)",
            explanation="every column is the kernel shifted down by one row, so with the first "
            "four columns shown, row 4 ends in k_1 (row 3 ends in 0 because column 4 starts one "
            "row lower); the sheet prints 0 there",
            evidence=_toeplitz_evidence,
            severity="typo",
            sheet_lines=(316, 316),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# max-pool-gradient (typo: the index sits on the wrong side)


def _maxpool_symbols():
    import sympy as sp

    i, istar = sp.symbols("i i^*", integer=True, positive=True)
    names = {n: sp.Symbol(n) for n in ("delta_i^(l-1)", "delta^(l)", "dz^{(l)}/dz_{i}^{(l-1)}")}
    return sp, i, istar, names


def _maxpool_statement():
    sp, i, istar, names = _maxpool_symbols()
    return sp.Eq(names["delta_i^(l-1)"], sp.KroneckerDelta(i, istar) * names["delta^(l)"])


def _max_derivative_check() -> Comparison:
    """d max(z) / d z_i by central differences at random windows with a unique maximum."""
    import numpy as np

    rng = np.random.default_rng(28)
    slopes, indicators = [], []
    for _ in range(25):
        z = rng.permutation(np.arange(4.0)) + rng.uniform(0, 0.5, 4)  # gaps >= 0.5: no ties
        winner = int(np.argmax(z))
        for index in range(4):
            bump = np.zeros(4)
            bump[index] = 1e-6
            slopes.append((np.max(z + bump) - np.max(z - bump)) / 2e-6)
            indicators.append(float(index == winner))
    return Comparison(slopes, indicators, "25 random windows of 4 (finite differences)")


def _maxpool_derivation() -> list[Step]:
    sp, i, istar, names = _maxpool_symbols()
    local = names["dz^{(l)}/dz_{i}^{(l-1)}"]
    return [
        _premise(
            "chain rule: the cost depends on z_i^(l-1) only through z^(l) = max_j z_j^(l-1)",
            names["delta_i^(l-1)"],
            names["delta^(l)"] * local,
            "chain",
        ),
        _premise(
            "dz^(l)/dz_i^(l-1) = [i = i*], i* the arg max (away from ties)",
            local,
            sp.KroneckerDelta(i, istar),
            "max-slope",
            kind="lemma",
            custom=_max_derivative_check,
            tolerance=1e-8,
        ),
        Step("chain rule", names["delta_i^(l-1)"], names["delta^(l)"] * local, uses=("chain",)),
        Step(
            "only the arg max passes the gradient on",
            rhs=sp.KroneckerDelta(i, istar) * names["delta^(l)"],
            uses=("max-slope",),
        ),
    ]


def max_pool_gradient(z_prev, delta):
    """Route the upstream gradient to the arg max of each window: z_prev [..., n] (the window
    along the last axis), delta [...] -> [..., n] with delta at i* and 0 elsewhere."""
    import numpy as np

    z_prev = np.asarray(z_prev, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    winner = np.argmax(z_prev, axis=-1)
    mask = np.arange(z_prev.shape[-1]) == winner[..., None]
    return as_float64(mask * delta[..., None])


def _maxpool_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(0)
    window = rng.normal(size=(5, 4))
    upstream = rng.normal(size=5)
    # finite differences of sum_w upstream[w] max(window[w]) in every input
    reference = np.zeros_like(window)
    for w in range(5):
        for index in range(4):
            bump = np.zeros(4)
            bump[index] = 1e-6
            reference[w, index] = (
                upstream[w] * (np.max(window[w] + bump) - np.max(window[w] - bump)) / 2e-6
            )
    winner = np.argmax(window, axis=-1)
    right = (np.arange(4) == winner[:, None]) * upstream[:, None]
    sheet = np.broadcast_to(upstream[:, None], window.shape)  # delta^(l-1) = delta^(l)_{i*}
    return compare_forms(
        reference=reference,
        sheet=sheet,
        correct=right,
        reference_name="finite-difference gradient of max-pooling, 5 windows of 4",
        tolerance=1e-6,
    )


register(
    Formula(
        id="max-pool-gradient",
        title="Max-pooling backward pass (gradient routing)",
        topic="cnn",
        section="11",
        text="z^(l) = max_i z_i^(l-1); i* := argmax_i z_i^(l-1); dz^(l)/dz_i^(l-1) = [i = i*]; "
        "the gradient goes only to the max; unpooling: nearest neighbour, bed of nails, "
        "max-unpooling remembers where the max came from",
        keywords=(
            "max pool",
            "max pooling",
            "pooling gradient",
            "argmax",
            "routing",
            "unpooling",
            "switches",
        ),
        statement_builder=_maxpool_statement,
        derivation_builder=_maxpool_derivation,
        evaluator=max_pool_gradient,
        sheet_lines=(325, 325),
        erratum=Erratum(
            sheet=r"\delta^{(l-1)} = \delta^{(l)}_{i^*}",
            correct=r"\delta^{(l-1)}_i = [i = i^*]\, \delta^{(l)}",
            explanation="right after [i = i*] the sheet puts the index on the wrong side: only "
            "input i* of the window receives the upstream gradient delta^(l), every other input "
            "gets 0; read literally, every input gets delta",
            evidence=_maxpool_evidence,
            severity="typo",
            sheet_lines=(325, 325),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# transposed-conv (a definition: copies of the kernel weighted by the input)


def _transposed_statement():
    import sympy as sp

    i, s = sp.symbols("i s", integer=True)
    x, k = sp.Function("x"), sp.Function("k")
    return sp.Eq(
        sp.Function("y")(sp.Symbol("p")),
        sp.Sum(x(i) * k(sp.Symbol("p") - s * i), (i, 0, sp.Symbol("n") - 1)),
    )


def _transposed_properties() -> list[Step]:
    def adjoint() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(29)
        left, right = [], []
        for stride in (1, 2, 3):
            kernel, x = rng.normal(size=(3, 3)), rng.normal(size=(4, 4))
            up = transposed_conv(x, kernel, stride)
            y = rng.normal(size=up.shape)
            # strided correlation of y with the kernel: the forward conv whose adjoint this is
            down = _correlate_valid(y, kernel)[::stride, ::stride]
            left.append(float(np.sum(up * y)))
            right.append(float(np.sum(x * down)))
        return Comparison(left, right, "<T x, y> vs <x, conv_s y> for strides 1, 2, 3")

    def full() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(30)
        kernel, x = rng.normal(size=3), rng.normal(size=5)
        return Comparison(
            transposed_conv(x[None, :], kernel[None, :])[0],
            conv_toeplitz_matrix(kernel, 5) @ x,
            "stride 1: transposed conv of a row = the Toeplitz matrix times it",
        )

    return [
        Step(
            "it is the adjoint (transpose) of the strided convolution: <T x, y> = <x, C y>",
            custom=adjoint,
            tolerance=1e-12,
        ),
        Step("with stride 1 it is a full convolution", custom=full, tolerance=1e-12),
    ]


def transposed_conv(x, kernel, stride=1):
    """Learnable upsampling: the output is copies of the kernel weighted by each input, summed
    where they overlap; x [..., H, W], kernel [kh, kw] -> [..., (H-1) s + kh, (W-1) s + kw]."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    _require_shapes(
        x.ndim >= 2 and kernel.ndim == 2,
        "transposed-conv",
        "x of shape (..., H, W) and kernel of shape (kh, kw)",
        x=x,
        kernel=kernel,
    )
    stride = int(stride)
    H, W = x.shape[-2:]
    kh, kw = kernel.shape
    out = np.zeros(x.shape[:-2] + ((H - 1) * stride + kh, (W - 1) * stride + kw))
    for i in range(H):
        for j in range(W):
            out[..., i * stride : i * stride + kh, j * stride : j * stride + kw] += (
                x[..., i, j, None, None] * kernel
            )
    return as_float64(out)


register(
    Formula(
        id="transposed-conv",
        title="Transposed convolution (learnable upsampling)",
        topic="cnn",
        section="11",
        text="transposed conv: output is copies of the filter weighted by the input, summed on "
        "overlaps; output size (in - 1) stride - 2 pad + dil (kern - 1) + 1",
        keywords=(
            "transposed convolution",
            "deconvolution",
            "upsampling",
            "fractionally strided",
            "learnable upsampling",
        ),
        statement_builder=_transposed_statement,
        definition=True,
        properties_builder=_transposed_properties,
        evaluator=transposed_conv,
        sheet_lines=(327, 327),
    )
)


register_claim(
    Claim(
        id="cnn-unpooling",
        topic="cnn",
        section="11",
        sheet_lines=(327, 327),
        sheet="Unpooling: nearest-neighbor (duplicate), bed of nails (only top left, rest 0), "
        "max-unpooling (remember where max came from when pooling)",
        verdict="correct",
        explanation="the three fixed upsampling schemes: copy each value into its block, put it "
        "in one corner with zeros elsewhere, or put it where the paired max-pool found the max",
        source="Stanford CS231n 2017, Lecture 11 (upsampling); Zeiler & Fergus 2014 (switches)",
    )
)


# --------------------------------------------------------------------------------------------
# The sheet's worked backprop example ("Backprop example (rotate K)", lines 318-323). The
# numbers are recomputed here with plain numpy loops, independently of cheatsheet.backprop.

_EXAMPLE_X = (
    (0, 0, 1, 1, 0),
    (0, 1, 0, 1, 1),
    (1, 1, 1, 1, 0),
    (1, 0, 1, 1, 0),
    (1, 1, 0, 1, 1),
)
_EXAMPLE_K = ((1, 0, 1), (0, 1, 0), (0, 1, 0))
_EXAMPLE_Y_PRINTED = ((3, 3, 3), (4, 2, 3), (2, 3, 3))


def _example_forward():
    """Y = X * K, the sheet's convolution (the kernel rotated by 180 degrees), valid mode."""
    import numpy as np

    X, K = np.array(_EXAMPLE_X, dtype=float), np.array(_EXAMPLE_K, dtype=float)
    Y = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            Y[i, j] = sum(K[2 - m, 2 - n] * X[i + m, j + n] for m in range(3) for n in range(3))
    return Y


def _example_y_evidence() -> Evidence:
    import numpy as np

    Y = _example_forward()
    printed = np.array(_EXAMPLE_Y_PRINTED, dtype=float)
    corrected = printed[2].copy()
    corrected[1] = 4.0
    rows_agree = bool(np.array_equal(Y[:2], printed[:2]))
    evidence = compare_forms(
        reference=Y[2],
        sheet=printed[2],
        correct=corrected,
        reference_name="row 3 of Y = X * K (rotate K), recomputed from the sheet's X and K",
        tolerance=0.0,
    )
    return Evidence(
        sheet_fails=evidence.sheet_fails,
        correct_passes=bool(evidence.correct_passes and rows_agree),
        detail=f"{evidence.detail}; rows 1-2 {'agree' if rows_agree else 'differ'} with the "
        f"sheet ({Y[:2].astype(int).tolist()})",
    )


register_claim(
    Claim(
        id="cnn-sheet-example-forward-entry",
        topic="cnn",
        section="11",
        sheet_lines=(319, 319),
        sheet="Backprop example (rotate K): Y = [[3, 3, 3], [4, 2, 3], [2, 3, 3]]",
        verdict="error",
        explanation="sliding the rotated kernel rot180(K) = [[0,1,0],[0,1,0],[1,0,1]] over X, "
        "entry Y[3,2] (1-based) covers X rows 3-5, columns 2-4 = [[1,1,1],[0,1,1],[1,0,1]] "
        "and sums 1 + 1 + 1 + 1 = 4, not 3; the other eight entries are right. Y then has two "
        "maxima 4, and the example's max-pool routes the gradient to the first, (2,1), as the "
        "sheet does (`cheatsheet backprop conv --example sheet` finds the same entry)",
        source="the sheet's own definitions of convolution (line 313), recomputed",
        check=_example_y_evidence,
        correct="Y = [[3, 3, 3], [4, 2, 3], [2, 4, 3]]",
    )
)


def _example_labels_evidence() -> Evidence:
    import numpy as np

    Y = _example_forward()
    upstream = np.zeros((3, 3))
    upstream.flat[int(np.argmax(Y))] = 1.0  # max-pool routes dE/dY' = 1 to the first max
    K = np.array(_EXAMPLE_K, dtype=float)
    # dE/dX = full convolution of dE/dY with rot180(K) (the kernel that slid): 5x5
    padded = np.pad(upstream, 2)
    slid = K[::-1, ::-1]  # the kernel that slid over X; the full convolution rotates it back
    dX = np.array(
        [
            [
                sum(slid[2 - m, 2 - n] * padded[i + m, j + n] for m in range(3) for n in range(3))
                for j in range(5)
            ]
            for i in range(5)
        ]
    )
    printed_rows = [
        len(row)
        for row in ((0, 0, 0), (0, 1, 0, 0, 0), (0, 1, 0, 0, 0), (1, 0, 1, 0, 0), (0, 0, 0, 0, 0))
    ]
    printed_lower = [[0, 1, 0, 0, 0], [0, 1, 0, 0, 0], [1, 0, 1, 0, 0], [0, 0, 0, 0, 0]]
    lower_agree = dX[1:].astype(int).tolist() == printed_lower
    return Evidence(
        sheet_fails=bool(printed_rows[0] != dX.shape[1]),
        correct_passes=bool(dX.shape == (5, 5) and lower_agree and not np.any(dX[0])),
        detail=f"dE/dX has the shape of X, {dX.shape[0]}x{dX.shape[1]} (rows 2-5 as printed: "
        f"{dX[1:].astype(int).tolist()}); the sheet prints {printed_rows[0]} entries in its "
        "first row and labels the matrix dE/dV, but no V exists in the example",
    )


register_claim(
    Claim(
        id="cnn-sheet-example-input-gradient-label",
        topic="cnn",
        section="11",
        sheet_lines=(323, 323),
        sheet="[[0,0,0],[0,1,0,0,0],[0,1,0,0,0],[1,0,1,0,0],[0,0,0,0,0]] -> dE/dK -> dE/dV",
        verdict="typo",
        explanation="the last matrix is dE/dX (5x5, the shape of X): its first row lost two "
        "zeros and its label reads dE/dV; the entries shown are right",
        source="the sheet's own example, recomputed (full convolution with the slid kernel)",
        check=_example_labels_evidence,
        correct="dE/dX = [[0,0,0,0,0],[0,1,0,0,0],[0,1,0,0,0],[1,0,1,0,0],[0,0,0,0,0]]",
    )
)


def _example_backward_evidence() -> Evidence:
    import numpy as np

    X = np.array(_EXAMPLE_X, dtype=float)
    Y = _example_forward()
    pooled = float(Y.max())
    upstream = np.zeros((3, 3))
    upstream.flat[int(np.argmax(Y))] = 1.0  # dE/dY' = 1 routed to the first maximum
    # dE/dK: Y[i,j] = sum_mn K[2-m, 2-n] X[i+m, j+n], so dE/dK[a,b] = sum_ij G[i,j] X[i+2-a, j+2-b]
    kernel_gradient = np.array(
        [
            [
                sum(upstream[i, j] * X[i + 2 - a, j + 2 - b] for i in range(3) for j in range(3))
                for b in range(3)
            ]
            for a in range(3)
        ]
    )
    printed = {
        "Y'": [[4.0]],
        "dE/dY": [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
        "dE/dK": [[1, 0, 1], [1, 1, 1], [0, 1, 0]],
    }
    computed = {"Y'": [[pooled]], "dE/dY": upstream.tolist(), "dE/dK": kernel_gradient.tolist()}
    agree = {name: bool(np.array_equal(printed[name], computed[name])) for name in printed}
    return Evidence(
        sheet_fails=not all(agree.values()),
        correct_passes=all(agree.values()),
        detail="recomputed from the sheet's X and K: "
        + "; ".join(
            f"{name} = {np.asarray(computed[name]).astype(int).tolist()} "
            f"({'agrees' if agree[name] else 'differs'} with the sheet)"
            for name in printed
        )
        + f"; Y has its maximum {pooled:g} at {int(np.sum(pooled == Y))} entries",
    )


register_claim(
    Claim(
        id="cnn-sheet-example-backward",
        topic="cnn",
        section="11",
        sheet_lines=(321, 323),
        sheet="[[0,0,0],[1,0,0],[0,0,0]] ->[4] [4] ->[1] [1] -> Y' = Pool(Y) | dE/dY' -> dE/dY -> "
        "[[1,0,1],[1,1,1],[0,1,0]] -> ... -> dE/dK",
        verdict="correct",
        explanation="max-pooling Y gives Y' = 4; the upstream dE/dY' = 1 goes to the (first) "
        "maximum of Y, and dE/dK is the correlation of X with dE/dY, rotated back because K "
        "entered rotated; the diagram lists the blocks right to left",
        source="the sheet's own definitions (line 313, 325), recomputed",
        check=_example_backward_evidence,
    )
)
