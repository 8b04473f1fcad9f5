"""Recurrent networks (sheet section 12; "BPTT" and "BPTT divergence" in the proofs, 13).

Conventions: h_t = tanh(a_t), a_t = W_hh h_{t-1} + W_xh x_t (no bias, as on the sheet),
x [T, D] holds x_1..x_T, h0 [H] is h_0; Jacobians in numerator layout, (dh_i/dh_{i-1})[r, c] =
d h_i[r] / d h_{i-1}[c] = diag(f'(a_i)) W_hh (its transpose, W_hh^T diag f'(a_i), is the
denominator-layout form the sheet's authors had in mind).

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register


def _run(x, h0, W_hh, W_xh):
    """Hidden states h_1..h_T and pre-activations a_1..a_T."""
    import numpy as np

    x, h, W_hh, W_xh = (np.asarray(v, dtype=np.float64) for v in (x, h0, W_hh, W_xh))
    hs, pre = [], []
    for x_t in x:
        a = W_hh @ h + W_xh @ x_t
        h = np.tanh(a)
        hs.append(h)
        pre.append(a)
    return np.array(hs), np.array(pre)


# --------------------------------------------------------------------------------------------
# vanilla-rnn


def _rnn_statement():
    import sympy as sp

    W_hh, W_xh = sp.MatrixSymbol("W_hh", 3, 3), sp.MatrixSymbol("W_xh", 3, 2)
    h, x = sp.MatrixSymbol("h_{t-1}", 3, 1), sp.MatrixSymbol("x_t", 2, 1)
    return sp.Eq(sp.MatrixSymbol("h_t", 3, 1), sp.Function("tanh")(W_hh * h + W_xh * x))


def vanilla_rnn(x, h0, W_hh, W_xh):
    """h_t = tanh(W_hh h_{t-1} + W_xh x_t) for t = 1..T; returns h_1..h_T as [T, H]
    (the output is y_t = W_hy h_t)."""
    return as_float64(_run(x, h0, W_hh, W_xh)[0])


register(
    Formula(
        id="vanilla-rnn",
        title="Vanilla (Elman) RNN",
        topic="rnn",
        section="12",
        text="y_t = W_hy h_t, h_t = f(h_{t-1}, x_t, W), usually "
        "h_t = tanh(W_hh h_{t-1} + W_xh x_t); the same weights at every step",
        keywords=("rnn", "recurrent", "hidden state", "elman", "tanh", "unrolled"),
        statement_builder=_rnn_statement,
        evaluator=vanilla_rnn,
    )
)


# --------------------------------------------------------------------------------------------
# bptt-gradient


def _bptt_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("dL_t/dW"),
        sp.Symbol("dL_t/dy_t dy_t/dh_t sum_{k=1}^t dh_t/dh_k d^+h_k/dW"),
    )


def _bptt_derivation() -> list[Step]:
    import sympy as sp

    w, u, h0 = sp.Symbol("w", real=True), sp.Symbol("u", real=True), sp.Symbol("h_0", real=True)
    xs = sp.symbols("x_1:4", real=True)
    f, s = sp.Function("f"), sp.Symbol("s")  # any differentiable activation
    hs = [h0]
    for x in xs:  # scalar RNN h_t = f(w h_{t-1} + u x_t), T = 3
        hs.append(f(w * hs[-1] + u * x))
    T = 3

    def f_prime(k):  # f'(a_k), a_k the pre-activation of step k
        return sp.diff(f(s), s).subs(s, w * hs[k - 1] + u * xs[k - 1])

    def immediate(k):  # d^+ h_k / dw: h_{k-1} held fixed
        return f_prime(k) * hs[k - 1]

    def step_jac(i):  # dh_i / dh_{i-1}
        return f_prime(i) * w

    def dh_dh(t, k):
        return sp.Mul(*[step_jac(i) for i in range(k + 1, t + 1)])

    total = sum(dh_dh(T, k) * immediate(k) for k in range(1, T + 1))
    recursion = immediate(T) + step_jac(T) * sp.diff(hs[T - 1], w)
    return [
        Step(
            "chain rule through both arguments of h_t(rho(W), h_{t-1}(W)): dh_t/dW = "
            "d^+h_t/dW + dh_t/dh_{t-1} dh_{t-1}/dW  (scalar RNN, any activation f, t = 3)",
            sp.diff(hs[T], w),
            recursion,
            assumptions="f differentiable",
        ),
        Step(
            "unrolling the recursion: dh_t/dW = sum_{k=1}^t dh_t/dh_k d^+h_k/dW with "
            "dh_t/dh_k = prod_{i=k+1}^t dh_i/dh_{i-1}",
            sp.diff(hs[T], w),
            total,
            assumptions="f differentiable",
        ),
    ]


def bptt_gradient(x, h0, W_hh, W_xh, dL_dh):
    """dL/dW_hh for L = sum_t L_t, given dL_dh[t-1] = dL_t/dh_t (the upstream dL_t/dy_t dy_t/dh_t),
    by the BPTT sum sum_t sum_{k<=t} dL_t/dh_t (dh_t/dh_k) d^+h_k/dW_hh. Returns [H, H]."""
    import numpy as np

    hs, pre = _run(x, h0, W_hh, W_xh)
    W_hh = np.asarray(W_hh, dtype=np.float64)
    dL_dh = np.asarray(dL_dh, dtype=np.float64)
    previous = np.vstack([np.asarray(h0, dtype=np.float64)[None], hs[:-1]])
    grad = np.zeros_like(W_hh)
    T = len(hs)
    for t in range(T):
        g = dL_dh[t]  # row vector dL_t/dh_t
        for k in range(t, -1, -1):
            # d^+h_k/dW_hh[r, c] = f'(a_k)[r] h_{k-1}[c]: contract with g now
            grad += np.outer(g * (1 - np.tanh(pre[k]) ** 2), previous[k])
            g = (g * (1 - np.tanh(pre[k]) ** 2)) @ W_hh  # g <- g dh_k/dh_{k-1}
    return as_float64(grad)


register(
    Formula(
        id="bptt-gradient",
        title="Backpropagation through time: the gradient sum",
        topic="rnn",
        section="12, 13",
        text="dL/dW = sum_t dL_t/dW; treat the unrolled model as a multi-layer net; dh_t/dW = "
        "sum_{k=1}^t dh_t/dh_k d^+h_k/dW (d^+ the immediate derivative ignoring recurrence); "
        "truncated BPTT sums only the last kappa steps",
        keywords=(
            "bptt",
            "backpropagation through time",
            "unrolled",
            "immediate derivative",
            "truncated bptt",
            "recurrence",
        ),
        statement_builder=_bptt_statement,
        derivation_builder=_bptt_derivation,
        evaluator=bptt_gradient,
    )
)


# --------------------------------------------------------------------------------------------
# rnn-hidden-jacobian (erratum: the argument of f')


def _jacobian_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("dh_i/dh_{i-1}"),
        sp.Function("diag")(sp.Function("f'")(sp.Symbol("a_i"))) * sp.Symbol("W_hh"),
    )


def rnn_hidden_jacobian(W_hh, W_xh, h_prev, x):
    """dh_i/dh_{i-1} = diag(f'(a_i)) W_hh, a_i = W_hh h_{i-1} + W_xh x_i, f = tanh."""
    import numpy as np

    W_hh = np.asarray(W_hh, dtype=np.float64)
    a = W_hh @ np.asarray(h_prev, dtype=np.float64) + np.asarray(W_xh) @ np.asarray(x)
    return as_float64((1 - np.tanh(a) ** 2)[:, None] * W_hh)


def _jacobian_evidence() -> Evidence:
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    W_hh, W_xh = rng.normal(size=(4, 4)), rng.normal(size=(4, 2))
    h_prev, x = rng.normal(size=4), rng.normal(size=2)
    J = torch.autograd.functional.jacobian(
        lambda h: torch.tanh(torch.tensor(W_hh) @ h + torch.tensor(W_xh @ x)),
        torch.tensor(h_prev),
    ).numpy()
    right = rnn_hidden_jacobian(W_hh, W_xh, h_prev, x)
    sheet = W_hh.T @ np.diag(1 - np.tanh(h_prev) ** 2)  # W_hh^T diag f'(h_{i-1})
    gap_sheet = min(np.max(np.abs(sheet - J)), np.max(np.abs(sheet - J.T)))  # either layout
    gap_right = np.max(np.abs(right - J))
    return Evidence(
        sheet_fails=bool(gap_sheet > 1e-3),
        correct_passes=bool(gap_right < 1e-12),
        detail=f"against torch.autograd.functional.jacobian of h_i(h_{{i-1}}): diag(f'(a_i)) W_hh "
        f"is off by {gap_right:.1e}; the sheet's W_hh^T diag f'(h_{{i-1}}) is off by "
        f"{gap_sheet:.2f} in either layout (f' belongs at the pre-activation a_i)",
    )


register(
    Formula(
        id="rnn-hidden-jacobian",
        title="Jacobian of one RNN step dh_i/dh_{i-1}",
        topic="rnn",
        section="12",
        text="dh_i/dh_{i-1} = diag(f'(a_i)) W_hh with a_i = W_hh h_{i-1} + W_xh x_i the "
        "pre-activation (transposed layout: W_hh^T diag f'(a_i))",
        keywords=(
            "jacobian",
            "hidden state",
            "recurrent jacobian",
            "diag",
            "tanh derivative",
            "pre-activation",
        ),
        statement_builder=_jacobian_statement,
        evaluator=rnn_hidden_jacobian,
        erratum=Erratum(
            sheet=r"\frac{\partial h_i}{\partial h_{i-1}} = W_{hh}^\top \operatorname{diag} "
            r"f'(h_{i-1})",
            correct=r"\frac{\partial h_i}{\partial h_{i-1}} = \operatorname{diag}(f'(a_i))\, "
            r"W_{hh},\quad a_i = W_{hh} h_{i-1} + W_{xh} x_i",
            explanation="f' is evaluated at the pre-activation a_i of step i, not at h_{i-1}; "
            "the transpose W_hh^T diag f'(a_i) is the same Jacobian in denominator layout",
            evidence=_jacobian_evidence,
        ),
    )
)


# --------------------------------------------------------------------------------------------
# bptt-jacobian-product


def _product_statement():
    import sympy as sp

    i, t, k = sp.symbols("i t k", integer=True)
    return sp.Eq(sp.Symbol("dh_t/dh_k"), sp.Product(sp.Function("J")(i), (i, k + 1, t)))


def bptt_jacobian_product(x, h0, W_hh, W_xh, k):
    """dh_T/dh_k = prod_{i=k+1}^T dh_i/dh_{i-1} (later factors on the left), T = len(x),
    0 <= k <= T (h_0 = h0)."""
    import numpy as np

    hs, pre = _run(x, h0, W_hh, W_xh)
    W_hh = np.asarray(W_hh, dtype=np.float64)
    product = np.eye(W_hh.shape[0])
    for i in range(int(k) + 1, len(hs) + 1):
        product = ((1 - np.tanh(pre[i - 1]) ** 2)[:, None] * W_hh) @ product
    return as_float64(product)


register(
    Formula(
        id="bptt-jacobian-product",
        title="Long-range Jacobian dh_t/dh_k as a product of step Jacobians",
        topic="rnn",
        section="12",
        text="dL_t/dW has a term dh_t/dh_k = prod_{i=k+1}^t dh_i/dh_{i-1}: a product of t - k "
        "Jacobians, the source of vanishing/exploding gradients",
        keywords=(
            "jacobian product",
            "long-term dependencies",
            "vanishing gradient",
            "exploding gradient",
            "chain rule",
        ),
        statement_builder=_product_statement,
        evaluator=bptt_jacobian_product,
    )
)


# --------------------------------------------------------------------------------------------
# bptt-vanishing-bound


def _bound_statement():
    import sympy as sp

    eta = sp.Symbol("eta", positive=True)
    t, k = sp.symbols("t k", integer=True)
    return sp.Le(sp.Symbol("||prod_{i=k+1}^t dh_i/dh_{i-1}||"), eta ** (t - k))


def _bound_derivation() -> list[Step]:
    import numpy as np
    import sympy as sp

    def submultiplicative() -> StepResult:
        rng = np.random.default_rng(0)
        for _ in range(200):
            A, B = rng.normal(size=(2, 4, 4))
            if np.linalg.norm(A @ B, 2) > np.linalg.norm(A, 2) * np.linalg.norm(B, 2) + 1e-12:
                return StepResult(False, "custom", "||AB|| > ||A|| ||B||")
        return StepResult(True, "custom", "200 random 4x4 pairs, spectral norm")

    def step_bound() -> StepResult:
        rng = np.random.default_rng(1)
        for _ in range(100):
            W_hh, W_xh = rng.normal(size=(4, 4)), rng.normal(size=(4, 2))
            J = rnn_hidden_jacobian(W_hh, W_xh, rng.normal(size=4), rng.normal(size=2))
            # tanh' <= 1, so gamma = 1 bounds ||diag f'||
            if np.linalg.norm(J, 2) > np.linalg.norm(W_hh, 2) * 1.0 + 1e-12:
                return StepResult(False, "custom", "||J|| > lambda_1 gamma")
        return StepResult(True, "custom", "100 random steps: ||J_i|| <= lambda_1 * 1 (tanh)")

    def product_bound() -> StepResult:
        rng = np.random.default_rng(2)
        for _ in range(20):
            W = rng.normal(size=(4, 4))
            W *= rng.uniform(0.2, 0.95) / np.linalg.norm(W, 2)  # lambda_1 < 1/gamma = 1
            eta = np.linalg.norm(W, 2)
            x, h0, W_xh = rng.normal(size=(12, 2)), rng.normal(size=4), rng.normal(size=(4, 2))
            for k in range(12):
                P = bptt_jacobian_product(x, h0, W, W_xh, k)
                if np.linalg.norm(P, 2) > eta ** (12 - k) + 1e-12:
                    return StepResult(False, "custom", f"bound broken at k={k}")
        return StepResult(True, "custom", "20 random RNNs with lambda_1 < 1, all k < t = 12")

    n = sp.Symbol("n", integer=True, positive=True)
    return [
        Step(
            "the spectral norm is submultiplicative: ||AB|| <= ||A|| ||B||",
            custom=submultiplicative,
        ),
        Step(
            "||dh_i/dh_{i-1}|| <= ||W_hh|| ||diag f'(a_i)|| <= lambda_1 gamma =: eta "
            "(tanh: gamma = 1)",
            custom=step_bound,
        ),
        Step(
            "by induction ||prod_{i=k+1}^t J_i|| <= eta^{t-k}; for lambda_1 < 1/gamma, eta < 1",
            custom=product_bound,
        ),
        Step(
            "eta < 1: the bound eta^n -> 0 as n = t - k -> oo (the gradients vanish)",
            sp.Limit(sp.Rational(9, 10) ** n, n, sp.oo),
            sp.Integer(0),
        ),
    ]


def _exploding_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(3)
    W = rng.normal(size=(4, 4))
    W *= 3.0 / np.linalg.norm(W, 2)  # lambda_1 = 3 > 1/gamma = 1
    W_xh = rng.normal(size=(4, 2)) * 50  # large inputs saturate tanh
    x, h0 = rng.normal(size=(20, 2)), rng.normal(size=4)
    norm = np.linalg.norm(bptt_jacobian_product(x, h0, W, W_xh, 0), 2)
    # and the sufficient condition for vanishing does hold with a smaller W
    small = W / 6.0
    vanish = np.linalg.norm(bptt_jacobian_product(x, h0, small, W_xh, 0), 2) <= 0.5**20 + 1e-15
    return Evidence(
        sheet_fails=bool(norm < 1e-3),
        correct_passes=bool(vanish),
        detail=f"an RNN with lambda_1 = 3 > 1/gamma but saturated tanh has "
        f"||dh_20/dh_0|| = {norm:.1e}: the gradient vanishes, it does not explode; "
        f"lambda_1 < 1/gamma is sufficient for vanishing, lambda_1 > 1/gamma only necessary "
        f"for exploding (Pascanu et al. 2013)",
    )


register(
    Formula(
        id="bptt-vanishing-bound",
        title="Vanishing/exploding gradients in BPTT (the eta^{t-k} bound)",
        topic="rnn",
        section="13",
        text="lambda_1 largest singular value of W_hh, ||diag f'(h_{i-1})|| < gamma: if "
        "lambda_1 < 1/gamma then ||dh_i/dh_{i-1}|| <= eta < 1 and ||prod_{i=k+1}^t "
        "dh_i/dh_{i-1}|| <= eta^{t-k}: gradients vanish; lambda_1 > 1/gamma is necessary for "
        "exploding gradients",
        keywords=(
            "vanishing gradient",
            "exploding gradient",
            "spectral norm",
            "singular value",
            "bptt divergence",
            "eta",
            "bound",
            "pascanu",
        ),
        statement_builder=_bound_statement,
        derivation_builder=_bound_derivation,
        erratum=Erratum(
            sheet=r"\text{Similarly, if } \lambda_1 > \gamma^{-1} \text{, then gradients explode.}",
            correct=r"\lambda_1 > \gamma^{-1} \text{ is necessary (not sufficient) for exploding "
            r"gradients}",
            explanation="the bound only runs one way: ||prod J_i|| <= (lambda_1 gamma)^{t-k} "
            "caps the norm, so a large lambda_1 merely allows growth; saturated units can still "
            "make the gradient vanish",
            evidence=_exploding_evidence,
        ),
    )
)


# --------------------------------------------------------------------------------------------
# linear-rnn-power (erratum: the dropped power)


def _power_statement():
    import sympy as sp

    t = sp.Symbol("t", integer=True, positive=True)
    W = sp.MatrixSymbol("W", 3, 3)
    return sp.Eq(sp.Symbol("h_t"), sp.MatPow(W.T, t - 1) * sp.MatrixSymbol("h_1", 3, 1))


def _power_derivation() -> list[Step]:
    import numpy as np
    import sympy as sp

    phi = sp.Symbol("phi", real=True)
    l1, l2 = sp.symbols("lambda_1 lambda_2", real=True)
    Q = sp.Matrix([[sp.cos(phi), -sp.sin(phi)], [sp.sin(phi), sp.cos(phi)]])
    L = sp.diag(l1, l2)

    def dominant() -> StepResult:
        rng = np.random.default_rng(0)
        for _ in range(10):
            M = rng.normal(size=(4, 4))
            W = (M + M.T) / 2  # symmetric: W = Q Lambda Q^T with Q orthogonal
            values, vectors = np.linalg.eigh(W)
            top = vectors[:, np.argmax(np.abs(values))]
            h = linear_rnn_power(W, rng.normal(size=4), 200)
            cosine = abs(h @ top) / np.linalg.norm(h)
            if cosine < 1 - 1e-6:
                return StepResult(False, "custom", f"|cos| = {cosine}")
        return StepResult(True, "custom", "10 random symmetric W, t = 200: |cos(h_t, q_1)| ~ 1")

    return [
        Step(
            "Q orthogonal (Q Q^T = I): (Q Lambda Q^T)^3 = Q Lambda^3 Q^T (2x2 rotation)",
            (Q * L * Q.T) ** 3,
            Q * L**3 * Q.T,
        ),
        Step(
            "so h_t = Q diag(lambda)^{t-1} Q^T h_1 lines up with the eigenvector of the largest "
            "|lambda| (power iteration); the other components shrink like (lambda_j/lambda_1)^t",
            custom=dominant,
        ),
    ]


def linear_rnn_power(W, h1, t):
    """h_t = (W^T)^{t-1} h_1 for the linear RNN h_t = W^T h_{t-1} without input."""
    import numpy as np

    W = np.asarray(W, dtype=np.float64)
    return as_float64(np.linalg.matrix_power(W.T, int(t) - 1) @ np.asarray(h1, dtype=np.float64))


def _power_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(0)
    W, h1 = rng.normal(size=(3, 3)), rng.normal(size=3)
    h = h1.copy()
    for _ in range(1, 5):  # iterate h_t = W^T h_{t-1} up to t = 5
        h = W.T @ h
    right = linear_rnn_power(W, h1, 5)
    sheet = W.T @ h1
    return Evidence(
        sheet_fails=bool(np.max(np.abs(sheet - h)) > 1e-6),
        correct_passes=bool(np.max(np.abs(right - h)) < 1e-10),
        detail="iterating h_t = W^T h_{t-1} to t = 5 gives (W^T)^4 h_1; the sheet's W^T h_1 is "
        "only h_2",
    )


register(
    Formula(
        id="linear-rnn-power",
        title="Linear RNN without input: powers of W (exploding/vanishing)",
        topic="rnn",
        section="12",
        text="h_t = (W^T)^{t-1} h_1; if W = Q diag(lambda) Q^T with Q Q^T = I then h_t = Q "
        "diag(lambda)^{t-1} Q^T h_1 becomes the dominant eigenvector of W; eigenvalues > 1 "
        "explode, < 1 vanish; dh_t/dh_k has the same issue",
        keywords=(
            "eigenvalue",
            "eigendecomposition",
            "power iteration",
            "dominant eigenvector",
            "exploding",
            "vanishing",
            "matrix power",
        ),
        statement_builder=_power_statement,
        derivation_builder=_power_derivation,
        evaluator=linear_rnn_power,
        erratum=Erratum(
            sheet=r"h_t = W^\top h_1",
            correct=r"h_t = (W^\top)^{t-1} h_1",
            explanation="the power was dropped: each of the t - 1 steps multiplies by W^T (the "
            "sheet's next line, (Q Lambda Q^T)^t h_1, does have it)",
            evidence=_power_evidence,
        ),
    )
)


# --------------------------------------------------------------------------------------------
# gradient-clipping


def _clip_statement():
    import sympy as sp

    g, th = sp.Symbol("||g||", positive=True), sp.Symbol("threshold", positive=True)
    return sp.Eq(
        sp.Symbol("g_clipped"),
        sp.Piecewise((th / g * sp.Symbol("g"), g > th), (sp.Symbol("g"), True)),
    )


def gradient_clipping(grad, threshold):
    """g <- g * threshold / ||g|| when ||g|| > threshold (norm over all entries), else g."""
    import numpy as np

    grad = np.asarray(grad, dtype=np.float64)
    norm = np.linalg.norm(grad)
    return as_float64(grad * threshold / norm if norm > threshold else grad)


register(
    Formula(
        id="gradient-clipping",
        title="Gradient clipping by norm",
        topic="rnn",
        section="12",
        text="gradient clipping: rescale by threshold / ||grad|| when the norm exceeds the "
        "threshold; fights exploding gradients, keeps the direction",
        keywords=("clipping", "gradient clipping", "clip norm", "threshold", "exploding gradient"),
        statement_builder=_clip_statement,
        evaluator=gradient_clipping,
    )
)


# --------------------------------------------------------------------------------------------
# lstm-cell


def _lstm_statement():
    import sympy as sp

    f, c, i, g, o = (sp.Symbol(n, real=True) for n in ("f", "c_{t-1}", "i", "g", "o"))
    return sp.Eq(sp.Symbol("h_t"), o * sp.tanh(f * c + i * g))


def _lstm_derivation() -> list[Step]:
    import sympy as sp

    f, c, i, g = (sp.Symbol(n, real=True) for n in ("f", "c_{t-1}", "i", "g"))
    return [
        Step(
            "constant error flow: dc_t/dc_{t-1} = f (elementwise; no multiplication by W) when the "
            "gates are treated as given",
            sp.diff(f * c + i * g, c),
            f,
        )
    ]


def lstm_cell(x, h_prev, c_prev, W, b=0.0):
    """(i, f, o, g) = (sigma, sigma, sigma, tanh)(W [x_t; h_{t-1}] + b), c_t = f c_{t-1} + i g,
    h_t = o tanh(c_t). W [4H, D + H] with row blocks in the sheet's order i, f, o, g.
    Returns stack([h_t, c_t]) of shape [2, H]."""
    import numpy as np

    x, h_prev, c_prev, W = (np.asarray(v, dtype=np.float64) for v in (x, h_prev, c_prev, W))
    H = h_prev.shape[-1]
    z = W @ np.concatenate([x, h_prev]) + b
    sigmoid = 1.0 / (1.0 + np.exp(-z[: 3 * H]))
    i, f, o = sigmoid[:H], sigmoid[H : 2 * H], sigmoid[2 * H :]
    g = np.tanh(z[3 * H :])
    c = f * c_prev + i * g
    return as_float64(np.stack([o * np.tanh(c), c]))


register(
    Formula(
        id="lstm-cell",
        title="LSTM cell",
        topic="rnn",
        section="12.1",
        text="(i, f, o, g) = (sigma, sigma, sigma, tanh) W (x_t, h_{t-1}); "
        "c_t = f . c_{t-1} + i . g; h_t = o . tanh(c_t); input gate which values to write, "
        "forget gate which to reset, "
        "output gate which to read, g candidate values; constant error flow through c",
        keywords=(
            "lstm",
            "long short-term memory",
            "gates",
            "forget gate",
            "input gate",
            "output gate",
            "cell state",
            "constant error carousel",
        ),
        statement_builder=_lstm_statement,
        derivation_builder=_lstm_derivation,
        evaluator=lstm_cell,
    )
)
