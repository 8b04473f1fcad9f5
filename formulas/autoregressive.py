"""Autoregressive generative models (sheet section 3): tabular, FVSBN, NADE, MADE, PixelCNN,
WaveNet, VQ-VAE.

x = (x_1, ..., x_n) binary unless stated; conditionals are 1-indexed as on the sheet.
Metadata at module level; sympy inside builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import (
    Claim,
    Comparison,
    Erratum,
    Formula,
    Step,
    as_float64,
    register,
    register_claim,
)

# --------------------------------------------------------------------------------------------
# autoregressive-factorisation


def _factorisation_symbols():
    import sympy as sp

    from formulas._chain import density

    i, n = sp.symbols("i n", positive=True, integer=True)
    conditional = density("p_conditional", r"p(x_i \mid \mathbf{x}_{<i})", "p(x_i|x_<i)")
    prefix = _prefix_function()
    return sp, i, n, conditional(i), prefix


def _prefix_function():
    """p(x_<=k): the marginal of the first k variables, printed with its index."""
    import sympy as sp
    from sympy.printing.pretty.stringpict import prettyForm

    return sp.Function(
        "p_prefix",
        __dict__={
            "_latex": lambda self, printer: (
                rf"p(\mathbf{{x}}_{{\le {printer._print(self.args[0])}}})"
            ),
            "_sympystr": lambda self, printer: f"p(x_<={printer._print(self.args[0])})",
            "_pretty": lambda self, printer: prettyForm(f"p(x_<={self.args[0]})"),
        },
    )


def _factorisation_statement():
    sp, i, n, conditional, prefix = _factorisation_symbols()
    return sp.Eq(sp.Symbol("p(x)"), sp.Product(conditional, (i, 1, n)))


def _telescoping_check() -> Comparison:
    """prod_i p(x_<=i) / p(x_<i) = p(x) on every state of a random joint over 4 bits, in
    exact rational arithmetic (marginals by summing the joint)."""
    import itertools
    import random
    from fractions import Fraction

    rng = random.Random(0)
    n = 4
    states = list(itertools.product((0, 1), repeat=n))
    weights = [rng.randint(1, 20) for _ in states]
    joint = {s: Fraction(w, sum(weights)) for s, w in zip(states, weights)}

    def marginal(prefix):
        return sum(p for s, p in joint.items() if s[: len(prefix)] == prefix)

    products = []
    for s in states:
        product = Fraction(1)
        for i in range(n):
            product *= marginal(s[: i + 1]) / marginal(s[:i])
        products.append(float(product))
    return Comparison(
        products,
        [float(joint[s]) for s in states],
        "prod_i p(x_<=i)/p(x_<i) against p(x) on all 16 states of a random joint on 4 bits "
        "(exact fractions)",
    )


def _factorisation_derivation() -> list[Step]:
    from formulas._chain import definition

    sp, i, n, conditional, prefix = _factorisation_symbols()
    telescoped = sp.Product(prefix(i) / prefix(i - 1), (i, 1, n))
    return [
        definition(
            "the whole vector is the longest prefix: p(x) = p(x_<=n)",
            sp.Symbol("p(x)"),
            prefix(n),
            "full",
        ),
        Step(
            "p(x) is the marginal of all n variables", sp.Symbol("p(x)"), prefix(n), uses=("full",)
        ),
        definition(
            "the empty prefix has probability one: p(x_<=0) = 1", prefix(0), sp.Integer(1), "empty"
        ),
        Step("divide by p(x_<=0) = 1", rhs=prefix(n) / prefix(0), uses=("empty",)),
        Step(
            "the product of ratios telescopes: prod_i p(x_<=i)/p(x_<i) = p(x_<=n)/p(x_<=0)",
            rhs=telescoped,
            custom=_telescoping_check,
            method="custom",
            tolerance=1e-15,
        ),
        definition(
            "conditional probability: p(x_i | x_<i) = p(x_<=i) / p(x_<i)",
            conditional,
            prefix(i) / prefix(i - 1),
            "conditional",
        ),
        Step(
            "each ratio is a conditional: p(x) = prod_i p(x_i | x_<i) for ANY joint (the "
            "order is arbitrary but fixed)",
            rhs=sp.Product(conditional, (i, 1, n)),
            uses=("conditional",),
        ),
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
        sheet_lines=(42, 46),
        derivation_builder=_factorisation_derivation,
    )
)

# --------------------------------------------------------------------------------------------
# tabular parameter counts


def _count_function():
    """#params(p(x_i | x_<i)) as a function of i (printed as the course writes it)."""
    from formulas._chain import density

    return density(
        "n_params", r"\#\text{params}(p(x_i \mid \mathbf{x}_{<i}))", "#params(p(x_i|x_<i))"
    )


def _tabular_statement():
    import sympy as sp

    i = sp.Symbol("i", positive=True, integer=True)
    return sp.Eq(_count_function()(i), 2 ** (i - 1))


def _tabular_derivation() -> list[Step]:
    import sympy as sp

    from formulas._chain import definition

    i = sp.Symbol("i", positive=True, integer=True)
    count = _count_function()(i)
    contexts = sp.Symbol("#contexts(x_<i)")
    return [
        definition(
            "a table stores, for every context x_<i, a Bernoulli over x_i: one free number "
            "(2 values - 1) per context",
            count,
            sp.Mul(contexts, sp.Add(2, -1, evaluate=False), evaluate=False),
            "table",
        ),
        Step(
            "one number per context",
            count,
            sp.Mul(contexts, sp.Add(2, -1, evaluate=False), evaluate=False),
            uses=("table",),
        ),
        definition(
            "x_<i is i - 1 binary variables: 2^{i-1} contexts",
            contexts,
            2 ** (i - 1),
            "contexts",
        ),
        Step(
            "count the contexts: 2^{i-1} parameters (exponential in i: the table is infeasible)",
            rhs=2 ** (i - 1),
            uses=("contexts",),
        ),
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
        sheet_lines=(46, 46),
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


def _tabular_total_derivation() -> list[Step]:
    import sympy as sp

    from formulas._chain import definition

    i, n = sp.symbols("i n", positive=True, integer=True)
    count = _count_function()(i)
    total = sp.Symbol("#params")
    return [
        definition("the model is n conditional tables", total, sp.Sum(count, (i, 1, n)), "total"),
        Step("add the n tables", total, sp.Sum(count, (i, 1, n)), uses=("total",)),
        definition(
            "each table (formula tabular-param-count)",
            count,
            2 ** (i - 1),
            "table",
            premise="formula:tabular-param-count",
        ),
        Step("insert 2^{i-1} per table", rhs=sp.Sum(2 ** (i - 1), (i, 1, n)), uses=("table",)),
        Step("geometric sum: 2^n - 1, the full joint table", rhs=2**n - 1),
    ]


register(
    Formula(
        id="tabular-total-param-count",
        title="Tabular model over n binary variables: 2^n - 1 parameters",
        topic="autoregressive",
        section="3",
        text="sum_{i=1}^n 2^{i-1} = 2^n - 1 parameters: the full joint table.",
        keywords=("tabular", "parameter count", "2^n", "joint table"),
        statement_builder=_tabular_total_statement,
        sheet_lines=(46, 46),
        derivation_builder=_tabular_total_derivation,
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
        sheet_lines=(46, 46),
        evaluator=fvsbn_conditionals,
    )
)


def _fvsbn_count_statement():
    import sympy as sp

    n = sp.Symbol("n", positive=True, integer=True)
    return sp.Eq(sp.Symbol("#params"), n * (n + 1) / 2)


def _fvsbn_count_derivation() -> list[Step]:
    import sympy as sp

    from formulas._chain import definition

    i, n = sp.symbols("i n", positive=True, integer=True)
    per = sp.Function("params_i")(i)
    total = sp.Symbol("#params")
    return [
        definition("the model is n logistic regressions", total, sp.Sum(per, (i, 1, n)), "total"),
        Step("add the n conditionals", total, sp.Sum(per, (i, 1, n)), uses=("total",)),
        definition(
            "conditional i: a bias alpha_0^(i) and i - 1 weights alpha^(i)",
            per,
            sp.Add(1, i - 1, evaluate=False),
            "conditional",
        ),
        Step(
            "insert 1 + (i - 1) per conditional",
            rhs=sp.Sum(sp.Add(1, i - 1, evaluate=False), (i, 1, n)),
            uses=("conditional",),
        ),
        Step("sum_i i = n(n+1)/2 = O(n^2)", rhs=n * (n + 1) / 2),
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
        sheet_lines=(46, 46),
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


def _nade_properties() -> list[Step]:
    import numpy as np

    def running_sum() -> Comparison:
        rng = np.random.default_rng(0)
        n, d = 6, 4
        W, x = rng.standard_normal((d, n)), rng.integers(0, 2, size=n).astype(float)
        direct = [W[:, :i] @ x[:i] for i in range(n)]  # W_<i x_<i, O(n^2 d) in total
        running, a = [], np.zeros(d)
        for i in range(n):  # a_{i+1} = a_i + W[:, i] x_i, O(n d) in total
            running.append(a.copy())
            a = a + W[:, i] * x[i]
        return Comparison(
            np.ravel(running),
            np.ravel(direct),
            "running sums a_{i+1} = a_i + W_{:,i} x_i against W_<i x_<i recomputed per i "
            "(n = 6, d = 4)",
        )

    def probabilities() -> Comparison:
        rng = np.random.default_rng(1)
        n, d = 5, 3
        W, b, V, c = (rng.standard_normal(s) * 3 for s in ((d, n), (d,), (n, d), (n,)))
        x = rng.integers(0, 2, size=(4, n)).astype(float)
        out = nade_conditionals(W, b, V, c, x).ravel()
        return Comparison(
            np.concatenate([-out, out - 1]),
            np.zeros(2 * out.size),
            "-x_hat and x_hat - 1 for random weights: every conditional is a probability",
        )

    return [
        Step(
            "weight sharing: a_{i+1} = a_i + W_{:,i} x_i, so all n hidden pre-activations "
            "cost O(n d) instead of O(n^2 d) (the sheet's O(TD))",
            custom=running_sum,
            method="custom",
            tolerance=1e-12,
        ),
        Step(
            "x_hat_i = sigmoid(...) is in (0, 1): the parameter of Bern(x_i | x_<i)",
            relation="<",
            custom=probabilities,
            method="custom",
        ),
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
        sheet_lines=(48, 48),
        definition=True,
        properties_builder=_nade_properties,
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


def _nade_count_derivation() -> list[Step]:
    import sympy as sp

    from formulas._chain import definition

    n, d = sp.symbols("n d", positive=True, integer=True)
    total = sp.Symbol("#params")
    sizes = sp.Add(sp.Mul(d, n, evaluate=False), d, sp.Mul(n, d, evaluate=False), n, evaluate=False)
    return [
        definition(
            "NADE's parameters: W (d x n), b (d), V (n x d), c (n), shared by all conditionals",
            total,
            sizes,
            "sizes",
        ),
        Step("|W| + |b| + |V| + |c|", total, sizes, uses=("sizes",)),
        Step("collect: 2 n d + n + d = O(n d)", rhs=2 * n * d + n + d),
    ]


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
        sheet_lines=(48, 48),
        derivation_builder=_nade_count_derivation,
        evaluator=nade_param_count,
    )
)

# --------------------------------------------------------------------------------------------
# MADE


def _made_statement():
    import sympy as sp

    k, d = sp.symbols("k d", integer=True, positive=True)
    degree = sp.Function("m")  # m(k): the degree of hidden unit k
    return sp.Eq(
        sp.Symbol("M^(W)_{k,d}"),  # the mask of the weight matrix W, entry (k, d)
        sp.Piecewise((1, degree(k) >= d), (0, True)),
    )


def _made_properties() -> list[Step]:
    def path_check() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        D, H = 5, 12
        m_in = np.arange(1, D + 1)
        m_h1, m_h2 = rng.integers(1, D, size=H), rng.integers(1, D, size=H)
        paths = made_mask(m_h2, m_in, output=True) @ made_mask(m_h1, m_h2) @ made_mask(m_in, m_h1)
        forbidden = np.triu(paths)  # paths from x_j to x_hat_d with j >= d
        return Comparison(
            forbidden.ravel(),
            np.zeros(forbidden.size),
            "number of paths x_j -> x_hat_d with j >= d through two masked hidden layers "
            "(D = 5, H = 12)",
        )

    return [
        Step(
            "a path x_j -> h_k -> x_hat_d exists only if j <= m(k) < d, so x_hat_d never sees "
            "x_d..x_D (the product of the masks is strictly lower-triangular)",
            custom=path_check,
            method="custom",
            tolerance=0.0,
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
        sheet_lines=(52, 52),
        definition=True,
        properties_builder=_made_properties,
        evaluator=made_mask,
    )
)

# --------------------------------------------------------------------------------------------
# PixelCNN masks


def _pixelcnn_statement():
    import sympy as sp

    from formulas._chain import density

    i, n = sp.symbols("i n", positive=True, integer=True)
    # the three colour conditionals of pixel i, R given the pixels before i, G also given R,
    # B also given R and G (functions of the pixel index, as p_conditional of the factorisation)
    red = density("p_R", r"p(x_{i,R} \mid \mathbf{x}_{<i})", "p(x_i,R|x_<i)")
    green = density("p_G", r"p(x_{i,G} \mid \mathbf{x}_{<i}, x_{i,R})", "p(x_i,G|x_<i,x_i,R)")
    blue = density(
        "p_B", r"p(x_{i,B} \mid \mathbf{x}_{<i}, x_{i,R}, x_{i,G})", "p(x_i,B|x_<i,x_i,R,x_i,G)"
    )
    return sp.Eq(sp.Symbol("p(x)"), sp.Product(red(i) * green(i) * blue(i), (i, 1, n**2)))


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
        sheet_lines=(54, 54),
        evaluator=pixelcnn_mask,
    )
)

# --------------------------------------------------------------------------------------------
# WaveNet receptive field


def _wavenet_symbols():
    import sympy as sp

    k, l, L = sp.symbols("k l L", positive=True, integer=True)
    r, d = sp.IndexedBase("r"), sp.IndexedBase("d")
    return sp, k, l, L, r, d


def _wavenet_statement():
    sp, k, l, L, r, d = _wavenet_symbols()
    return sp.Eq(r[L], 1 + sp.Sum((k - 1) * d[l], (l, 1, L)))


def _simulated_fields(kernel, dilations):
    """Receptive fields r_0, r_1, ..., r_L of a stack of causal convolutions, measured: the
    span of inputs that an output's value depends on (numpy convolutions of indicator
    signals, no formula)."""
    import numpy as np

    length = 1 + sum((kernel - 1) * d for d in dilations) + 4
    # r_l: apply only the first l layers (the last output's dependency span)
    fields = []
    for count in range(len(dilations) + 1):
        reach = np.zeros(length, dtype=bool)
        reach[-1] = True
        for d in list(dilations[:count])[::-1]:
            taps = np.zeros((kernel - 1) * d + 1)
            taps[::d] = 1
            padded = np.convolve(reach.astype(float), taps, mode="full")
            reach = padded[len(taps) - 1 :] > 0  # causal: output t sees t - j d
        touched = np.flatnonzero(reach)
        fields.append(int(touched.max() - touched.min() + 1))
    return fields


def _wavenet_derivation() -> list[Step]:
    from formulas._chain import definition

    sp, k, l, L, r, d = _wavenet_symbols()
    telescoped = r[0] + sp.Sum(r[l] - r[l - 1], (l, 1, L))

    def layer_check() -> Comparison:
        import random

        rng = random.Random(0)
        measured, predicted = [], []
        for _ in range(6):
            kernel = rng.randint(2, 4)
            dilations = [rng.choice([1, 2, 3, 4, 8]) for _ in range(rng.randint(1, 4))]
            fields = _simulated_fields(kernel, dilations)
            measured += [b - a for a, b in zip(fields, fields[1:])]
            predicted += [(kernel - 1) * dl for dl in dilations]
        return Comparison(
            measured,
            predicted,
            "growth of the measured receptive field per layer against (k - 1) d_l, 6 random "
            "stacks (k in 2..4, dilations in 1, 2, 3, 4, 8)",
        )

    return [
        Step(
            "telescoping: r_L = r_0 + sum_l (r_l - r_{l-1})",
            r[L],
            telescoped,
        ),
        definition("one output sample sees itself: r_0 = 1", r[0], sp.Integer(1), "start"),
        Step("start from one sample", rhs=1 + sp.Sum(r[l] - r[l - 1], (l, 1, L)), uses=("start",)),
        Step(
            "lemma: a causal convolution with kernel k and dilation d_l reaches (k - 1) d_l "
            "samples further back",
            r[l] - r[l - 1],
            (k - 1) * d[l],
            premise="lemma",
            name="layer",
            custom=layer_check,
            method="custom",
            tolerance=0.0,
        ),
        Step(
            "add the layers: r = 1 + sum_l (k - 1) d_l; with k = 2 and d_l = 2^{l-1} this is "
            "2^L, exponential in depth (L + 1 without dilation)",
            rhs=1 + sp.Sum((k - 1) * d[l], (l, 1, L)),
            uses=("layer",),
            custom=lambda: _stack_check(),
            method="custom",
            tolerance=0.0,
        ),
    ]


def _stack_check() -> Comparison:
    """Both sides of 1 + sum (r_l - r_{l-1}) = 1 + sum (k - 1) d_l on simulated stacks."""
    import random

    rng = random.Random(1)
    left, right = [], []
    for _ in range(6):
        kernel = rng.randint(2, 4)
        dilations = [rng.choice([1, 2, 4, 8]) for _ in range(rng.randint(1, 5))]
        fields = _simulated_fields(kernel, dilations)
        left.append(1 + sum(b - a for a, b in zip(fields, fields[1:])))
        right.append(1 + sum((kernel - 1) * dl for dl in dilations))
    return Comparison(
        left, right, "1 + sum of measured increments against 1 + sum (k - 1) d_l, 6 stacks"
    )


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
        sheet_lines=(58, 58),
        derivation_builder=_wavenet_derivation,
        evaluator=wavenet_receptive_field,
    )
)

# --------------------------------------------------------------------------------------------
# VQ-VAE


def _vq_statement():
    import sympy as sp

    # z_q(x): the encoder output's nearest codebook vector e_k
    return sp.Eq(sp.Function("z_q")(sp.Symbol("x")), sp.Symbol("e_k"))


def vq_quantise(z_e, codebook):
    """z_q = e_k with k = argmin_j ||z_e - e_j||_2; z_e: (..., D), codebook: (K, D)."""
    import numpy as np

    z_e = np.asarray(z_e, dtype=np.float64)
    codebook = np.asarray(codebook, dtype=np.float64)
    distances = ((z_e[..., None, :] - codebook) ** 2).sum(axis=-1)
    return as_float64(codebook[np.argmin(distances, axis=-1)])


def _vq_pipeline_evidence():
    """What the decoder receives: the sheet's diagram feeds it the encoder output (called
    z_q there, a codebook lookup of it repeated), the right one the nearest codebook vector.
    Reference: the nearest code found by brute force over all pairwise distances."""
    import numpy as np

    from formulas.core import compare_forms

    rng = np.random.default_rng(0)
    x = rng.standard_normal(4)
    encoder = rng.standard_normal((2, 4))
    codebook = rng.standard_normal((8, 2))
    z_e = encoder @ x
    distances = [float(np.linalg.norm(z_e - code)) for code in codebook]
    reference = codebook[distances.index(min(distances))]
    return compare_forms(
        reference=reference,
        sheet=z_e,  # the sheet's "enc -> z_q": the encoder output itself
        correct=vq_quantise(z_e, codebook),
        reference_name="input of the decoder: the nearest of 8 codes to enc(x) (brute force)",
        where="random linear encoder R^4 -> R^2",
    )


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
        sheet_lines=(60, 62),
        erratum=Erratum(
            sheet=r"x \rightarrow z \xrightarrow{\text{enc}} z_q \xrightarrow{\text{codebook}} "
            r"z_q \xrightarrow{\text{dec}} \hat{x}",
            correct=r"x \xrightarrow{\text{enc}} z_e \xrightarrow{\text{nearest code}} z_q = "
            r"e_k \xrightarrow{\text{dec}} \hat{x}",
            explanation="The sheet's VQ-VAE pipeline labels the encoder's output z_q and then "
            "looks z_q up in the codebook again (and has an extra z before the encoder). The "
            "encoder outputs a continuous z_e = enc(x); the quantiser replaces it by its "
            "nearest codebook vector z_q = e_k; the decoder reconstructs from z_q. The "
            "intended pipeline is clear: a garbled diagram.",
            evidence=_vq_pipeline_evidence,
            severity="typo",
            sheet_lines=(60, 60),
        ),
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


def _vq_loss_properties() -> list[Step]:
    import sympy as sp

    z, e, beta = sp.Symbol("z_e", real=True), sp.Symbol("e", real=True), sp.Symbol("beta")
    return [
        Step(
            "the codebook term ||sg[z_e] - e||^2 moves the code towards the encoder output: "
            "its gradient in e is 2 (e - z_e) (z_e is held fixed)",
            sp.Derivative((z - e) ** 2, e),
            2 * (e - z),
        ),
        Step(
            "the commitment term beta ||z_e - sg[e]||^2 keeps the encoder near its code: "
            "gradient 2 beta (z_e - e) in z_e; the reconstruction gradient reaches z_e by the "
            "straight-through estimator (d z_q / d z_e := I)",
            sp.Derivative(beta * (z - e) ** 2, z),
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
        sheet_lines=(60, 60),
        definition=True,
        properties_builder=_vq_loss_properties,
        evaluator=vq_vae_loss,
    )
)

# --------------------------------------------------------------------------------------------
# NLL as the metric: bits per dimension


def _bpd_statement():
    import sympy as sp

    D = sp.Symbol("D", positive=True, integer=True)
    return sp.Eq(sp.Symbol("bits/dim"), sp.Symbol("NLL_nats") / (D * sp.log(2)))


def _bpd_derivation() -> list[Step]:
    import sympy as sp

    from formulas._chain import definition

    D = sp.Symbol("D", positive=True, integer=True)
    bits, nats, per_dim = sp.Symbol("NLL_bits"), sp.Symbol("NLL_nats"), sp.Symbol("bits/dim")
    return [
        definition(
            "bits per dimension: the NLL in bits over the D dimensions",
            per_dim,
            bits / D,
            "per-dim",
        ),
        Step("divide by the dimension", per_dim, bits / D, uses=("per-dim",)),
        definition(
            "change of base: -log2 p = -ln p / ln 2, so NLL_bits = NLL_nats / ln 2",
            bits,
            nats / sp.log(2),
            "base",
        ),
        Step("NLL in nats over D ln 2", rhs=nats / (D * sp.log(2)), uses=("base",)),
    ]


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
        sheet_lines=(56, 56),
        derivation_builder=_bpd_derivation,
        evaluator=bits_per_dim,
    )
)

# --------------------------------------------------------------------------------------------
# claims in words (sheet section 3)


def _blind_spot_evidence():
    """Stack masked 3 x 3 convolutions (one type A, then type B) and collect which pixels the
    centre output depends on: some pixels above and to the right of it, though earlier in
    raster order, are never reached (the blind spot that Gated PixelCNN's vertical and
    horizontal stacks remove). Dependencies by dilating the mask footprints (numpy)."""
    import numpy as np

    from formulas.core import Evidence

    size, layers = 15, 5
    centre = size // 2
    footprint = pixelcnn_mask(3, 1, 1, "B")[0, 0] > 0  # spatial part: rows above + left
    reach = np.zeros((size, size), dtype=bool)
    reach[centre, centre] = True
    for _ in range(layers):
        grown = np.zeros_like(reach)
        for r, c in zip(*np.nonzero(reach)):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if footprint[1 + dr, 1 + dc]:
                        rr, cc = r + dr, c + dc
                        if 0 <= rr < size and 0 <= cc < size:
                            grown[rr, cc] = True
        reach = grown | reach
    reach[centre, centre] = False  # type A excludes the pixel itself
    earlier = np.zeros_like(reach)
    earlier[:centre, :] = True
    earlier[centre, :centre] = True
    offsets = np.abs(np.arange(size) - centre) <= layers
    window = offsets[:, None] & offsets[None, :]
    blind = earlier & window & ~reach
    rows, cols = np.nonzero(blind)
    example = f" e.g. (row -{centre - rows[0]}, col +{cols[0] - centre})" if rows.size else ""
    return Evidence(
        sheet_fails=not rows.size,
        correct_passes=bool(rows.size),
        detail=f"{layers} stacked masked 3 x 3 convolutions: {int(blind.sum())} earlier pixels "
        f"within {layers} rows/columns of the centre are never seen{example}",
    )


register_claim(
    Claim(
        id="pixelcnn-needs-stacks",
        topic="autoregressive",
        section="3",
        sheet_lines=(54, 54),
        sheet="PixelCNN: ... For conditionals use masked convolutions ... Training is parallel, "
        "but inference is sequential => slow. Use conv. stacks to mask correctly.",
        verdict="correct",
        explanation="Masked convolutions give every pixel's conditional in one parallel pass "
        "at training time, but sampling must go pixel by pixel. Stacked masked 3 x 3 "
        "convolutions leave a blind spot above and to the right; the vertical and horizontal "
        "stacks of Gated PixelCNN see the whole causal context.",
        source="van den Oord et al. 2016, Pixel Recurrent Neural Networks; van den Oord et al. "
        "2016, Conditional Image Generation with PixelCNN Decoders, Sec. 2.2",
        check=_blind_spot_evidence,
    )
)

register_claim(
    Claim(
        id="made-one-pass-training-d-pass-sampling",
        topic="autoregressive",
        section="3",
        sheet_lines=(52, 52),
        sheet="MADE: mask out weights s.t. no information flows from x_d ... to x_hat_d. Large "
        "hidden layers needed. Trains as fast as autoencoders, but sampling needs D forward "
        "passes.",
        verdict="correct",
        explanation="One masked forward pass gives all D conditionals (training costs one "
        "autoencoder pass); sampling x_d needs x_<d first, so D passes. Masking removes "
        "connections, so wide hidden layers are needed to keep capacity.",
        source="Germain et al. 2015, MADE, Sec. 4",
    )
)

register_claim(
    Claim(
        id="nade-training",
        topic="autoregressive",
        section="3",
        sheet_lines=(48, 50),
        sheet="Order of x can be arbitrary but fixed. Train by max log-likelihood in O(TD) ... "
        "teacher forcing: feed GT as previous output. Extensions: convolutional; real-valued: "
        "mixture of Gaussians; order-less and deep.",
        verdict="correct",
        explanation="Any fixed ordering gives a valid chain-rule factorisation; shared "
        "weights give all conditionals in O(TD); training conditions on the ground-truth "
        "prefix (teacher forcing). RNADE uses mixtures of Gaussians; DeepNADE trains one "
        "network for random orderings.",
        source="Larochelle & Murray 2011; Uria et al. 2013 (RNADE); Uria et al. 2014 (deep, "
        "order-agnostic NADE)",
    )
)

register_claim(
    Claim(
        id="autoregression-and-generative-models",
        topic="autoregressive",
        section="3",
        sheet_lines=(42, 44),
        sheet="Autoregression: use data from the same input variable at previous time steps. "
        "Discriminative: P(Y|X), generative: P(X, Y), maybe with Y missing. Sequence models "
        "are generative.",
        verdict="correct",
        explanation="An autoregressive model predicts a variable from its own past values; a "
        "generative model of x (with labels y or none) models the joint, a discriminative one "
        "only the conditional of y given x.",
        source="Goodfellow et al. 2016, Deep Learning, Sec. 10.2.3 and 20.10.7",
    )
)

register_claim(
    Claim(
        id="vq-vae-tokens-ar-prior",
        topic="autoregressive",
        section="3",
        sheet_lines=(60, 62),
        sheet="AR does not work for high res images/video, convert the images into a series of "
        "tokens with an AE: Vector-quantized VAE. The codebook is a set of vectors. We can run "
        "an AR model in the latent space.",
        verdict="correct",
        explanation="Sampling pixel by pixel is too slow and spends capacity on local detail; "
        "VQ-VAE compresses the image to a small grid of codebook indices on which an "
        "autoregressive prior (PixelCNN, transformer) is trained.",
        source="van den Oord et al. 2017, Neural Discrete Representation Learning, Sec. 3-4",
    )
)
