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

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register

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


def _output_size_statement():
    import sympy as sp

    n, k, s, p, d = sp.symbols("in kern stride pad dil", integer=True, positive=True)
    return sp.Eq(sp.Symbol("out"), sp.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1)


def _output_size_derivation() -> list[Step]:
    import sympy as sp

    n, k, s, d = sp.symbols("in kern stride dil", integer=True, positive=True)
    p = sp.Symbol("pad", integer=True, nonnegative=True)

    def extent() -> StepResult:
        for k_ in range(1, 7):
            for d_ in range(1, 5):
                taps = [m * d_ for m in range(k_)]  # offsets of the dilated kernel taps
                if taps[-1] - taps[0] + 1 != d_ * (k_ - 1) + 1:
                    return StepResult(False, "custom", f"extent wrong at k={k_}, d={d_}")
        return StepResult(True, "custom", "brute force over kern 1..6, dil 1..4")

    def count() -> StepResult:
        cases = 0
        for size in range(1, 25):
            for e in range(1, size + 1):
                for stride in range(1, 6):
                    # window start positions 0, stride, 2 stride, ... with start + e <= size
                    positions = sum(
                        1 for start in range(0, size) if start % stride == 0 and start + e <= size
                    )
                    if positions != (size - e) // stride + 1:
                        return StepResult(False, "custom", f"size={size} e={e} s={stride}")
                    cases += 1
        return StepResult(True, "custom", f"window positions counted in {cases} cases")

    return [
        Step(
            "a kernel of kern taps with dilation dil spans e = dil (kern - 1) + 1 input cells",
            custom=extent,
        ),
        Step(
            "padding adds pad cells on each side: the input is in + 2 pad long",
            (n + p) + p,
            n + 2 * p,
        ),
        Step(
            "windows start at 0, stride, 2 stride, ...; one fits while start + e <= length, so "
            "there are floor((length - e) / stride) + 1 of them",
            custom=count,
        ),
        Step(
            "substitute e and length: (in + 2 pad - e) = in + 2 pad - dil (kern - 1) - 1",
            (n + 2 * p) - (d * (k - 1) + 1),
            n + 2 * p - d * (k - 1) - 1,
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
    )
)


# --------------------------------------------------------------------------------------------
# convolution-2d and correlation-2d


def _convolution_statement():
    import sympy as sp

    i, j, m, n, k = sp.symbols("i j m n k", integer=True)
    K, I = sp.Function("K"), sp.Function("I")
    return sp.Eq(
        sp.Function("I'")(i, j),
        sp.Sum(sp.Sum(K(-m, -n) * I(m + i, n + j), (n, -k, k)), (m, -k, k)),
    )


def _convolution_derivation() -> list[Step]:
    import sympy as sp

    i, m = sp.symbols("i m", integer=True)
    K, I = sp.Function("K"), sp.Function("I")
    return [
        Step(
            "substituting m -> -m: sum_m K(-m) I(i + m) = sum_m K(m) I(i - m), the textbook "
            "convolution (1D, k = 2; 2D is the same in each axis)",
            sum(K(-mm) * I(i + mm) for mm in range(-2, 3)),
            sum(K(mm) * I(i - mm) for mm in range(-2, 3)),
        ),
        Step(
            "convolution with K is correlation with ROT180(K), K'(m) = K(-m)",
            sum(K(-mm) * I(i + mm) for mm in range(-2, 3)),
            sum(sp.Lambda(m, K(-m))(mm) * I(i + mm) for mm in range(-2, 3)),
        ),
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
        derivation_builder=_convolution_derivation,
        evaluator=convolution_2d,
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


def _shift_derivation() -> list[Step]:
    def equivariance() -> StepResult:
        import numpy as np

        rng = np.random.default_rng(0)
        for _ in range(10):
            image, kernel = rng.normal(size=(9, 9)), rng.normal(size=(3, 3))
            shift = tuple(int(x) for x in rng.integers(0, 4, 2))

            # circular padding makes shifts exact: pad by wrapping, then correlate
            def op(x, kernel=kernel):
                return _correlate_valid(np.pad(x, ((0, 2), (0, 2)), mode="wrap"), kernel)

            left = op(np.roll(image, shift, axis=(0, 1)))
            right = np.roll(op(image), shift, axis=(0, 1))
            if np.max(np.abs(left - right)) > 1e-12:
                return StepResult(False, "custom", "shift changed the output")
        return StepResult(True, "custom", "10 random images/kernels/shifts (circular boundary)")

    return [
        Step("correlation commutes with shifts: T(shift(u)) = shift(T(u))", custom=equivariance)
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
        derivation_builder=_shift_derivation,
        evaluator=correlation_2d,
    )
)


# --------------------------------------------------------------------------------------------
# conv-forward and its backward passes


def _conv_forward_statement():
    import sympy as sp

    i, j, m, n = sp.symbols("i j m n", integer=True)
    w, z = sp.Function("w"), sp.Function("z^{(l-1)}")
    b = sp.Symbol("b^{(l)}", real=True)
    return sp.Eq(
        sp.Function("z^{(l)}")(i, j),
        sp.Sum(
            sp.Sum(w(m, n) * z(i - m, j - n), (n, 0, sp.Symbol("k_w") - 1)),
            (m, 0, sp.Symbol("k_h") - 1),
        )
        + b,
    )


def conv_forward(z_prev, w, b=0.0):
    """z^(l) = w * z^(l-1) + b with `*` a true convolution (valid mode)."""
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
        evaluator=conv_forward,
    )
)


def _backward_input_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("delta^{(l-1)}"),
        sp.Symbol("delta^{(l)}") * sp.Function("ROT180")(sp.Symbol("w^{(l)}")),
    )


def _backward_input_derivation() -> list[Step]:
    import sympy as sp

    x = sp.symbols("x_0:5", real=True)
    w = sp.symbols("w_0:3", real=True)
    delta = sp.symbols("delta_0:3", real=True)
    # 1D: z_i = sum_m w_m x_{i + 2 - m} (valid convolution, 5 inputs, 3 taps -> 3 outputs)
    z = [sum(w[m] * x[i + 2 - m] for m in range(3)) for i in range(3)]
    loss = sum(d * zi for d, zi in zip(delta, z))
    padded = [0, 0, *delta, 0, 0]
    rot = w[::-1]

    def full_conv(p):  # (delta * rot180(w))[p] in full mode: sum_m rot[m] padded[p + 2 - m]
        return sum(rot[m] * padded[p + 2 - m] for m in range(3))

    grad_w = [sp.diff(loss, w[m]) for m in range(3)]
    x_rot = x[::-1]
    conv_valid = [sum(delta[i] * x_rot[m + 2 - i] for i in range(3)) for m in range(3)]
    return [
        Step(
            "dL/dx_p = sum_i delta_i dz_i/dx_p = (delta * ROT180(w))_p, full convolution "
            "(1D, 5 inputs, 3 taps; checked for every p as one vector)",
            sp.Matrix([sp.diff(loss, xp) for xp in x]),
            sp.Matrix([full_conv(p) for p in range(5)]),
        ),
        Step(
            "dL/dw_m = sum_i delta_i x_{i+2-m} = (ROT180(z^(l-1)) * delta)_m, valid convolution",
            sp.Matrix(grad_w),
            sp.Matrix(conv_valid),
        ),
    ]


def conv_backward_input(delta, w):
    """dL/dz^(l-1) = delta^(l) * ROT180(w^(l)) (full convolution), for the forward pass of
    conv-forward. `delta` [..., H-kh+1, W-kw+1] -> [..., H, W]."""
    import numpy as np

    w = np.asarray(w, dtype=np.float64)
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
    )
)


def _backward_kernel_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("dC/dw^{(l)}"),
        sp.Symbol("delta^{(l)}") * sp.Function("ROT180")(sp.Symbol("z^{(l-1)}")),
    )


def conv_backward_kernel(delta, z_prev):
    """dL/dw^(l) = delta^(l) * ROT180(z^(l-1)) (valid convolution), for conv-forward; summed over
    leading batch axes. Returns [kh, kw]."""
    import numpy as np

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
        evaluator=conv_backward_kernel,
    )
)


# --------------------------------------------------------------------------------------------
# conv-toeplitz-matrix (erratum: the 4th row)


def _toeplitz_statement():
    import sympy as sp

    k1, k2, k3 = sp.symbols("k_1:4", real=True)
    return sp.Eq(
        sp.Symbol("M"),
        sp.Matrix(
            [
                [k1, 0, 0, 0],
                [k2, k1, 0, 0],
                [k3, k2, k1, 0],
                [0, k3, k2, k1],
                [0, 0, k3, k2],
                [0, 0, 0, k3],
            ]
        ),
        evaluate=False,
    )


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
    right = conv_toeplitz_matrix(kernel, 4)
    sheet = right.copy()
    sheet[3, 3] = 0.0  # the sheet's fourth row reads 0 k3 k2 0
    reference = np.convolve(x, kernel, mode="full")
    gap_right = np.max(np.abs(right @ x - reference))
    gap_sheet = np.max(np.abs(sheet @ x - reference))
    return Evidence(
        sheet_fails=bool(gap_sheet > 1e-6),
        correct_passes=bool(gap_right < 1e-12),
        detail=f"against numpy.convolve(x, k, 'full') for random x in R^4: max error "
        f"{gap_right:.1e} with row 4 = (0 k3 k2 k1), {gap_sheet:.3f} with the sheet's (0 k3 k2 0)",
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
        evaluator=conv_toeplitz_matrix,
        erratum=Erratum(
            sheet=r"\text{row 4: } (0, k_3, k_2, 0)",
            correct=r"\text{row 4: } (0, k_3, k_2, k_1)",
            explanation="every column is the kernel shifted down by one, so the 4th row of a "
            "4-column matrix ends in k_1; the sheet drops it",
            evidence=_toeplitz_evidence,
        ),
    )
)


# --------------------------------------------------------------------------------------------
# max-pool-gradient (erratum: the index sits on the wrong side)


def _maxpool_statement():
    import sympy as sp

    i, istar = sp.symbols("i i^*", integer=True)
    return sp.Eq(
        sp.Symbol("delta_i^{(l-1)}"), sp.KroneckerDelta(i, istar) * sp.Symbol("delta^{(l)}")
    )


def _maxpool_derivation() -> list[Step]:
    import sympy as sp

    z = sp.symbols("z_1:4", real=True)

    def sampler(rng):
        values = rng.sample(range(-50, 50), 3)  # distinct: the max is attained once
        return {zi: sp.Integer(v) for zi, v in zip(z, values)}

    return [
        Step(
            "d max(z_1, z_2, z_3) / d z_1 = [1 = argmax]  (away from ties)",
            sp.diff(sp.Max(*z), z[0]),
            sp.Piecewise((1, sp.And(z[0] > z[1], z[0] > z[2])), (0, True)),
            method="numeric",
            sampler=sampler,
        )
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
    import torch

    rng = np.random.default_rng(0)
    window = rng.normal(size=(5, 4))
    upstream = rng.normal(size=5)
    z = torch.tensor(window, requires_grad=True)
    (z.max(dim=-1).values * torch.tensor(upstream)).sum().backward()
    reference = z.grad.numpy()
    right = max_pool_gradient(window, upstream)
    sheet = np.broadcast_to(upstream[:, None], window.shape)  # delta^(l-1) = delta^(l)_{i*}
    return Evidence(
        sheet_fails=bool(np.max(np.abs(sheet - reference)) > 1e-6),
        correct_passes=bool(np.max(np.abs(right - reference)) < 1e-12),
        detail="against torch autograd of max over 5 windows of 4: the gradient is delta at "
        "the arg max and 0 elsewhere; 'delta^(l-1) = delta^(l)_{i*}' gives every input delta",
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
        erratum=Erratum(
            sheet=r"\delta^{(l-1)} = \delta^{(l)}_{i^*}",
            correct=r"\delta^{(l-1)}_i = [i = i^*]\, \delta^{(l)}",
            explanation="the index belongs on the input side: only input i* receives the "
            "upstream gradient, every other input of the window gets 0",
            evidence=_maxpool_evidence,
        ),
    )
)


# --------------------------------------------------------------------------------------------
# transposed-conv


def _transposed_statement():
    import sympy as sp

    i, m, s = sp.symbols("i m s", integer=True)
    x, k = sp.Function("x"), sp.Function("k")
    return sp.Eq(
        sp.Function("y")(sp.Symbol("p")),
        sp.Sum(x(i) * k(sp.Symbol("p") - s * i), (i, 0, sp.Symbol("n") - 1)),
    )


def _transposed_derivation() -> list[Step]:
    import numpy as np

    def adjoint() -> StepResult:
        rng = np.random.default_rng(0)
        kernel, x = rng.normal(size=3), rng.normal(size=5)
        M = conv_toeplitz_matrix(kernel, 5)  # (7, 5): full convolution
        y = rng.normal(size=7)
        # <M x, y> = <x, M^T y>: the transposed operator is the gradient of the forward one
        gap = abs((M @ x) @ y - x @ (M.T @ y))
        # stride 1 transposed conv of x with k == full convolution == M x
        direct = transposed_conv(x[None, :], kernel[None, :])[0]
        gap2 = np.max(np.abs(direct - M @ x))
        return StepResult(
            bool(bool(gap < 1e-12 and gap2 < 1e-12)),
            "custom",
            f"adjoint gap {gap:.1e}; stride-1 transposed conv = Toeplitz M x: {gap2:.1e}",
        )

    return [
        Step(
            "transposed conv is multiplication by the transpose of a conv's matrix "
            "(for stride 1, a full convolution)",
            custom=adjoint,
        )
    ]


def transposed_conv(x, kernel, stride=1):
    """Learnable upsampling: the output is copies of the kernel weighted by each input, summed
    where they overlap; x [..., H, W], kernel [kh, kw] -> [..., (H-1) s + kh, (W-1) s + kw]."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
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
        derivation_builder=_transposed_derivation,
        evaluator=transposed_conv,
    )
)
