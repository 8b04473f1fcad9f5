"""Autoregressive generative models (sheet section 3): tabular, FVSBN, NADE, MADE, PixelCNN,
WaveNet, VQ-VAE.

x = (x_1, ..., x_n) binary unless stated; conditionals are 1-indexed as on the sheet.
Metadata at module level; sympy inside builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Formula, Step, StepResult, as_float64, register

# --------------------------------------------------------------------------------------------
# autoregressive-factorisation


def _factorisation_statement():
    import sympy as sp

    i, n = sp.symbols("i n", positive=True, integer=True)
    return sp.Eq(
        sp.Symbol("p(x)"), sp.Product(sp.Function("p")(sp.Symbol("x_i|x_{<i}")), (i, 1, n))
    )


def _factorisation_derivation() -> list[Step]:
    def exact_check() -> StepResult:
        import itertools
        import random
        from fractions import Fraction

        rng = random.Random(0)
        n = 3
        states = list(itertools.product((0, 1), repeat=n))
        weights = [rng.randint(1, 20) for _ in states]
        joint = {s: Fraction(w, sum(weights)) for s, w in zip(states, weights)}

        def marginal(prefix):
            return sum(p for s, p in joint.items() if s[: len(prefix)] == prefix)

        for s in states:
            product = Fraction(1)
            for i in range(n):
                product *= marginal(s[: i + 1]) / marginal(s[:i])  # p(x_i | x_<i)
            if product != joint[s]:
                return StepResult(False, "custom", f"mismatch at {s}")
        return StepResult(True, "custom", "exact rational arithmetic, random joint on 3 bits")

    return [
        Step(
            "chain rule of probability: p(x) = prod_i p(x_i | x_<i) for ANY joint (the "
            "conditionals telescope: prod_i p(x_<=i)/p(x_<i) = p(x)/p(empty) = p(x))",
            custom=exact_check,
            method="custom",
        )
    ]


register(
    Formula(
        id="autoregressive-factorisation",
        title="Autoregressive factorisation (chain rule)",
        topic="autoregressive",
        section="3",
        text="p(x) = prod_i p(x_i | x_<i): autoregression uses the same variable's previous "
        "steps. Discriminative models learn P(Y|X), generative ones P(X, Y); sequence models "
        "are generative (from x_i..x_{i+k} predict x_{i+k+1}). The order is arbitrary but fixed.",
        keywords=(
            "chain rule",
            "factorisation",
            "factorization",
            "autoregressive",
            "conditionals",
            "discriminative",
            "generative",
        ),
        statement_builder=_factorisation_statement,
        derivation_builder=_factorisation_derivation,
    )
)

# --------------------------------------------------------------------------------------------
# tabular parameter counts


def _tabular_statement():
    import sympy as sp

    i = sp.Symbol("i", positive=True, integer=True)
    return sp.Eq(sp.Symbol("#params(p(x_i | x_<i))"), 2 ** (i - 1))


def _tabular_derivation() -> list[Step]:
    import sympy as sp

    i, n = sp.symbols("i n", positive=True, integer=True)
    return [
        Step(
            "x_<i takes 2^{i-1} values; a Bernoulli per context needs one number each; in "
            "total sum_{i=1}^n 2^{i-1} = 2^n - 1 (exponential: the table is infeasible)",
            sp.Sum(2 ** (i - 1), (i, 1, n)),
            2**n - 1,
        )
    ]


def tabular_param_count(i):
    """Parameters of the tabular conditional p(x_i | x_<i) for binary x: 2^(i-1)."""
    import numpy as np

    i = np.asarray(i, dtype=np.float64)
    return as_float64(2.0 ** (i - 1))


register(
    Formula(
        id="tabular-param-count",
        title="Tabular autoregressive model: 2^{i-1} parameters per conditional",
        topic="autoregressive",
        section="3",
        text="Tabular approach: p(x) = prod_i p(x_i | x_<i) needs 2^{i-1} parameters for the "
        "i-th conditional (2^n - 1 in total). Independence (p(x) = prod p(x_i)) is too strong.",
        keywords=("tabular", "parameter count", "2^(i-1)", "exponential", "table", "binary"),
        statement_builder=_tabular_statement,
        derivation_builder=_tabular_derivation,
        evaluator=tabular_param_count,
    )
)


def tabular_total_param_count(n):
    """Parameters of the full tabular model over n binary variables: 2^n - 1."""
    import numpy as np

    n = np.asarray(n, dtype=np.float64)
    return as_float64(2.0**n - 1)


def _tabular_total_statement():
    import sympy as sp

    n = sp.Symbol("n", positive=True, integer=True)
    return sp.Eq(sp.Symbol("#params"), 2**n - 1)


register(
    Formula(
        id="tabular-total-param-count",
        title="Tabular model over n binary variables: 2^n - 1 parameters",
        topic="autoregressive",
        section="3",
        text="sum_{i=1}^n 2^{i-1} = 2^n - 1 parameters: the full joint table.",
        keywords=("tabular", "parameter count", "2^n", "joint table"),
        statement_builder=_tabular_total_statement,
        derivation_builder=_tabular_derivation,
        evaluator=tabular_total_param_count,
    )
)

# --------------------------------------------------------------------------------------------
# FVSBN


def _sigmoid(v):
    import numpy as np

    return 1.0 / (1.0 + np.exp(-v))


def _fvsbn_statement():
    import sympy as sp

    a0 = sp.Symbol("alpha_0^(i)", real=True)
    return sp.Eq(sp.Symbol("f_i"), 1 / (1 + sp.exp(-(a0 + sp.Symbol("alpha^(i) . x_<i")))))


def fvsbn_conditionals(alpha0, alpha, x):
    """f_i = sigmoid(alpha0_i + sum_{j<i} alpha_ij x_j) for all i (alpha: n x n, only its strictly
    lower triangle is used); x has shape (..., n)."""
    import numpy as np

    alpha0 = np.asarray(alpha0, dtype=np.float64)
    alpha = np.tril(np.asarray(alpha, dtype=np.float64), k=-1)
    x = np.asarray(x, dtype=np.float64)
    return as_float64(_sigmoid(alpha0 + x @ alpha.T))


register(
    Formula(
        id="fvsbn-conditional",
        title="Fully Visible Sigmoid Belief Network conditional",
        topic="autoregressive",
        section="3",
        text="p_theta_i(x_i | x_<i) = Bern(f_i(x_<i)); FVSBN: f_i = sigmoid(alpha_0^(i) + "
        "alpha^(i) x_<i^T): a logistic regression per variable; complexity n^2, but linear.",
        keywords=(
            "fvsbn",
            "sigmoid belief network",
            "logistic regression",
            "bernoulli",
            "conditional",
        ),
        statement_builder=_fvsbn_statement,
        evaluator=fvsbn_conditionals,
    )
)


def _fvsbn_count_statement():
    import sympy as sp

    n = sp.Symbol("n", positive=True, integer=True)
    return sp.Eq(sp.Symbol("#params"), n * (n + 1) / 2)


def _fvsbn_count_derivation() -> list[Step]:
    import sympy as sp

    i, n = sp.symbols("i n", positive=True, integer=True)
    return [
        Step(
            "conditional i has a bias alpha_0^(i) and i-1 weights: sum_i i = n(n+1)/2 = O(n^2)",
            sp.Sum(i, (i, 1, n)),
            n * (n + 1) / 2,
        )
    ]


def fvsbn_param_count(n):
    """n (n + 1) / 2 parameters (i-th conditional: bias + i - 1 weights)."""
    import numpy as np

    n = np.asarray(n, dtype=np.float64)
    return as_float64(n * (n + 1) / 2)


register(
    Formula(
        id="fvsbn-param-count",
        title="FVSBN parameter count n(n+1)/2 = O(n^2)",
        topic="autoregressive",
        section="3",
        text="FVSBN complexity n^2: the i-th logistic regression has i parameters.",
        keywords=("fvsbn", "parameter count", "complexity", "n^2", "quadratic"),
        statement_builder=_fvsbn_count_statement,
        derivation_builder=_fvsbn_count_derivation,
        evaluator=fvsbn_param_count,
    )
)

# --------------------------------------------------------------------------------------------
# NADE


def _nade_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("x_hat_i"),
        1 / (1 + sp.exp(-(sp.Symbol("c_i") + sp.Symbol("V_i . h_i")))),
    )


def _nade_derivation() -> list[Step]:
    import sympy as sp

    W = sp.Matrix(2, 3, sp.symbols("w0:6", real=True))
    x = sp.Matrix(sp.symbols("x_1:4", real=True))
    a2 = W[:, :1] * x[:1, :]  # a_i = W_{<i} x_{<i} for i = 2
    a3 = W[:, :2] * x[:2, :]
    return [
        Step(
            "weight sharing: a_{i+1} = W_{<i+1} x_{<i+1} = a_i + W_{:,i} x_i, so all n hidden "
            "pre-activations cost O(n d) instead of O(n^2 d) (the sheet's O(TD))",
            (a3 - (a2 + W[:, 1] * x[1])).norm() ** 2,
            sp.Integer(0),
        )
    ]


def nade_conditionals(W, b, V, c, x):
    """x_hat_i = sigmoid(c_i + V_i . sigmoid(b + W_{<i} x_{<i})) for i = 1..n.

    W: (d, n), b: (d,), V: (n, d), c: (n,), x: (..., n) -> (..., n). Uses the O(n d) running sum.
    """
    import numpy as np

    W, b, V, c = (np.asarray(a, dtype=np.float64) for a in (W, b, V, c))
    x = np.asarray(x, dtype=np.float64)
    # a_i = b + sum_{j<i} W[:, j] x_j: exclusive cumulative sum over j
    contributions = x[..., None, :] * W  # (..., d, n)
    a = b[..., None] + np.cumsum(contributions, axis=-1) - contributions  # (..., d, n)
    h = _sigmoid(a)
    return as_float64(_sigmoid(c + np.einsum("id,...di->...i", V, h)))


register(
    Formula(
        id="nade-conditionals",
        title="NADE conditionals with a shared hidden layer",
        topic="autoregressive",
        section="3",
        text="Neural Autoregressive Density Estimator: h_i = sigmoid(b + W_<i x_<i), x_hat_i = "
        "sigmoid(c_i + V_i h_i). Train by max log-likelihood in O(TD), 2nd-order optimisers "
        "possible, teacher forcing (feed the ground truth as previous output). Extensions: "
        "convolutional; real-valued (mixture of Gaussians); order-less and deep.",
        keywords=(
            "nade",
            "neural autoregressive density estimator",
            "hidden layer",
            "weight sharing",
            "teacher forcing",
            "o(td)",
        ),
        statement_builder=_nade_statement,
        derivation_builder=_nade_derivation,
        evaluator=nade_conditionals,
    )
)


def nade_param_count(n, hidden):
    """W (d x n) + b (d) + V (n x d) + c (n) = 2 n d + n + d."""
    import numpy as np

    n, d = np.asarray(n, dtype=np.float64), np.asarray(hidden, dtype=np.float64)
    return as_float64(2 * n * d + n + d)


def _nade_count_statement():
    import sympy as sp

    n, d = sp.symbols("n d", positive=True, integer=True)
    return sp.Eq(sp.Symbol("#params"), 2 * n * d + n + d)


register(
    Formula(
        id="nade-param-count",
        title="NADE parameter count 2nd + n + d = O(nd)",
        topic="autoregressive",
        section="3",
        text="NADE shares W across conditionals: O(n d) parameters instead of one network per "
        "conditional.",
        keywords=("nade", "parameter count", "complexity"),
        statement_builder=_nade_count_statement,
        evaluator=nade_param_count,
    )
)

# --------------------------------------------------------------------------------------------
# MADE


def _made_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("M^W_{k,d}"),
        sp.Piecewise((1, sp.Symbol("m(k)") >= sp.Symbol("d")), (0, True)),
    )


def _made_derivation() -> list[Step]:
    def path_check() -> StepResult:
        import numpy as np

        rng = np.random.default_rng(0)
        D, H = 5, 12
        m_in = np.arange(1, D + 1)
        m_hidden = rng.integers(1, D, size=H)
        M1 = made_mask(m_in, m_hidden)
        M2 = made_mask(m_hidden, m_in, output=True)
        connectivity = M2 @ M1  # paths input d -> output d'
        ok = bool(np.all(np.triu(connectivity) == 0))
        return StepResult(ok, "custom", "mask product M^V M^W is strictly lower-triangular")

    return [
        Step(
            "a path x_j -> h_k -> x_hat_d exists only if j <= m(k) < d, so x_hat_d never sees "
            "x_d..x_D (product of the masks is strictly lower-triangular)",
            custom=path_check,
            method="custom",
        )
    ]


def made_mask(m_in, m_out, output=False):
    """MADE mask for a layer from units of degree m_in to units of degree m_out.

    Hidden layers: M[k, j] = 1 if m_out[k] >= m_in[j]; the output layer: 1 if m_out[d] > m_in[k].
    """
    import numpy as np

    m_in = np.asarray(m_in)
    m_out = np.asarray(m_out)
    if output:
        return as_float64(m_out[:, None] > m_in[None, :])
    return as_float64(m_out[:, None] >= m_in[None, :])


register(
    Formula(
        id="made-mask",
        title="MADE: autoregressive masks from unit degrees",
        topic="autoregressive",
        section="3",
        text="Masked Autoencoder Distribution Estimator: mask out weights so that no "
        "information flows from x_d..x_D to x_hat_d. Large hidden layers needed. Trains as "
        "fast as an autoencoder (one pass), but sampling needs D forward passes.",
        keywords=("made", "masked autoencoder", "mask", "degrees", "autoregressive property"),
        statement_builder=_made_statement,
        derivation_builder=_made_derivation,
        evaluator=made_mask,
    )
)

# --------------------------------------------------------------------------------------------
# PixelCNN masks


def _pixelcnn_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("p(x)"),
        sp.Product(
            sp.Symbol("p(x_i,R|x_<i) p(x_i,G|x_<i,x_i,R) p(x_i,B|x_<i,x_i,R,x_i,G)"),
            (sp.Symbol("i"), 1, sp.Symbol("n^2")),
        ),
    )


def pixelcnn_mask(kernel, in_channels, out_channels, mask_type):
    """Mask (out, in, k, k) of a PixelCNN masked convolution (mask_type 'A' or 'B').

    Pixels after the centre in raster order are masked; at the centre, channels are split in
    three groups R, G, B: type A lets group g see input groups < g, type B groups <= g.
    """
    import numpy as np

    if mask_type not in ("A", "B"):
        raise ValueError("mask_type must be 'A' or 'B'")
    k = int(kernel)
    centre = k // 2
    mask = np.ones((out_channels, in_channels, k, k))
    mask[:, :, centre, centre + 1 :] = 0
    mask[:, :, centre + 1 :, :] = 0

    def group(index, total):
        return (index * 3) // total

    for o in range(out_channels):
        for i in range(in_channels):
            go, gi = group(o, out_channels), group(i, in_channels)
            allowed = gi < go if mask_type == "A" else gi <= go
            mask[o, i, centre, centre] = 1.0 if allowed else 0.0
    return as_float64(mask)


register(
    Formula(
        id="pixelcnn-mask",
        title="PixelCNN masked convolution (types A and B, R -> G -> B)",
        topic="autoregressive",
        section="3",
        text="PixelRNN: generate pixels from the corner, dependency on previous pixels via an "
        "RNN (LSTM). PixelCNN: condition with a CNN over the context region (receptive "
        "field) using masked convolutions, so training is parallel but inference is "
        "sequential (slow). Channels: R from context, G from R + context, B from G + R + "
        "context. Use conv stacks (vertical + horizontal) to mask correctly (no blind spot).",
        keywords=(
            "pixelcnn",
            "pixelrnn",
            "masked convolution",
            "mask a",
            "mask b",
            "blind spot",
            "raster order",
            "rgb",
        ),
        statement_builder=_pixelcnn_statement,
        evaluator=pixelcnn_mask,
    )
)

# --------------------------------------------------------------------------------------------
# WaveNet receptive field


def _wavenet_statement():
    import sympy as sp

    k, l, L = sp.symbols("k l L", positive=True, integer=True)
    return sp.Eq(sp.Symbol("r"), 1 + sp.Sum((k - 1) * sp.Indexed("d", l), (l, 1, L)))


def _wavenet_derivation() -> list[Step]:
    import sympy as sp

    l, L = sp.symbols("l L", positive=True, integer=True)
    return [
        Step(
            "kernel 2 with dilations 1, 2, 4, ..., 2^{L-1}: r = 1 + sum_l 2^l = 2^L, exponential "
            "in depth (vs L + 1 without dilation)",
            1 + sp.Sum(2 ** (l - 1), (l, 1, L)),
            2**L,
        )
    ]


def wavenet_receptive_field(kernel, dilations):
    """1 + sum_l (kernel - 1) * d_l for a stack of dilated causal convolutions (last axis)."""
    import numpy as np

    dilations = np.asarray(dilations, dtype=np.float64)
    return as_float64(1 + ((np.asarray(kernel, dtype=np.float64) - 1) * dilations).sum(axis=-1))


register(
    Formula(
        id="wavenet-receptive-field",
        title="WaveNet: receptive field of dilated causal convolutions",
        topic="autoregressive",
        section="3",
        text="WaveNet: audio is high-dimensional; dilated (causal) convolutions grow the "
        "receptive field exponentially with the number of layers: 1 + sum (k - 1) d_l, = 2^L "
        "for k = 2 and d = 1, 2, ..., 2^{L-1}. TCNs likewise.",
        keywords=(
            "wavenet",
            "dilated convolution",
            "receptive field",
            "causal convolution",
            "tcn",
            "audio",
        ),
        statement_builder=_wavenet_statement,
        derivation_builder=_wavenet_derivation,
        evaluator=wavenet_receptive_field,
    )
)

# --------------------------------------------------------------------------------------------
# VQ-VAE


def _vq_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("z_q(x)"),
        sp.Symbol("e_k"),
    )


def vq_quantise(z_e, codebook):
    """z_q = e_k with k = argmin_j ||z_e - e_j||_2; z_e: (..., D), codebook: (K, D)."""
    import numpy as np

    z_e = np.asarray(z_e, dtype=np.float64)
    codebook = np.asarray(codebook, dtype=np.float64)
    distances = ((z_e[..., None, :] - codebook) ** 2).sum(axis=-1)
    return as_float64(codebook[np.argmin(distances, axis=-1)])


register(
    Formula(
        id="vq-vae-quantisation",
        title="VQ-VAE: nearest-codebook quantisation",
        topic="autoregressive",
        section="3",
        text="AR models do not scale to high-res images/video: turn the image into a series of "
        "tokens with a vector-quantised VAE. The codebook is a set of vectors e_1..e_K; "
        "x -> enc -> z_e -> nearest code z_q = e_k, k = argmin_j ||z_e - e_j|| -> dec -> x_hat. "
        "Then run an AR model in the latent (token) space.",
        keywords=(
            "vq-vae",
            "vector quantisation",
            "codebook",
            "tokens",
            "nearest neighbour",
            "discrete latent",
        ),
        statement_builder=_vq_statement,
        latex_override=r"z_q(x) = e_k,\quad k = \arg\min_j \|z_e(x) - e_j\|_2",
        evaluator=vq_quantise,
    )
)


def _vq_loss_statement():
    import sympy as sp

    beta = sp.Symbol("beta", positive=True)
    return sp.Eq(
        sp.Symbol("L"),
        -sp.Symbol("log p(x|z_q(x))")
        + sp.Symbol("||sg[z_e(x)] - e||^2")
        + beta * sp.Symbol("||z_e(x) - sg[e]||^2"),
    )


def _vq_loss_derivation() -> list[Step]:
    import sympy as sp

    z, e, beta = sp.Symbol("z_e", real=True), sp.Symbol("e", real=True), sp.Symbol("beta")
    return [
        Step(
            "the codebook term ||sg[z_e] - e||^2 moves the code towards the encoder output: "
            "its gradient in e is 2 (e - z_e) (z_e is held fixed)",
            sp.diff((z - e) ** 2, e),
            2 * (e - z),
        ),
        Step(
            "the commitment term beta ||z_e - sg[e]||^2 keeps the encoder near its code: "
            "gradient 2 beta (z_e - e) in z_e; the reconstruction gradient reaches z_e by the "
            "straight-through estimator (d z_q / d z_e := I)",
            sp.diff(beta * (z - e) ** 2, z),
            2 * beta * (z - e),
        ),
    ]


def vq_vae_loss(z_e, codebook, beta=0.25):
    """Codebook + commitment loss ||sg[z_e] - e||^2 + beta ||z_e - sg[e]||^2 (value, last axis),
    e the nearest code; the reconstruction term is added by the model."""
    import numpy as np

    z_e = np.asarray(z_e, dtype=np.float64)
    z_q = vq_quantise(z_e, codebook)
    squared = ((z_e - z_q) ** 2).sum(axis=-1)
    return as_float64((1 + np.asarray(beta, dtype=np.float64)) * squared)


register(
    Formula(
        id="vq-vae-loss",
        title="VQ-VAE loss: reconstruction, codebook and commitment terms",
        topic="autoregressive",
        section="3",
        text="L = -log p(x | z_q(x)) + ||sg[z_e(x)] - e||^2 + beta ||z_e(x) - sg[e]||^2 "
        "(sg = stop-gradient, beta ~ 0.25); gradients pass the quantiser straight through.",
        keywords=(
            "vq-vae loss",
            "commitment loss",
            "codebook loss",
            "stop gradient",
            "straight-through",
        ),
        statement_builder=_vq_loss_statement,
        derivation_builder=_vq_loss_derivation,
        evaluator=vq_vae_loss,
    )
)

# --------------------------------------------------------------------------------------------
# NLL as the metric: bits per dimension


def _bpd_statement():
    import sympy as sp

    D = sp.Symbol("D", positive=True, integer=True)
    return sp.Eq(sp.Symbol("bits/dim"), sp.Symbol("NLL_nats") / (D * sp.log(2)))


def bits_per_dim(nll, dims):
    """Negative log-likelihood in nats converted to bits per dimension: nll / (dims ln 2)."""
    import numpy as np

    return as_float64(np.asarray(nll, dtype=np.float64) / (np.asarray(dims) * np.log(2.0)))


register(
    Formula(
        id="bits-per-dim",
        title="Negative log-likelihood in bits per dimension",
        topic="autoregressive",
        section="3",
        text="NLL is a natural metric for autoregressive models (exact likelihood); it is hard "
        "to evaluate for others. Reported as bits/dim = NLL / (D ln 2).",
        keywords=("nll", "negative log-likelihood", "bits per dim", "bpd", "metric", "evaluation"),
        statement_builder=_bpd_statement,
        evaluator=bits_per_dim,
    )
)
