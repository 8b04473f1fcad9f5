"""Self-attention and transformers (sheet section 3.1).

X in R^{T x D}; Q = X W_Q, K = X W_K, V = X W_V; rows are time steps. The sheet scales by
sqrt(D) with square D x D projections; with W_K in R^{D x d_k} the scale is sqrt(d_k).
Matrices are sympy MatrixSymbols and Softmax is a row-wise matrix function, so every product
keeps its order: Softmax(Q K^T / sqrt(D)) V.

Metadata at module level; sympy inside builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas._chain import definition, matrix_function, softmax_rows
from formulas.core import (
    Comparison,
    Erratum,
    Formula,
    Step,
    as_float64,
    compare_forms,
    register,
)


def _softmax(scores):
    import numpy as np

    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def _matrices():
    """T, D and the matrices of the sheet: X (T x D), W_Q, W_K, W_V (D x D), Q, K, V, M."""
    import sympy as sp

    T, D = sp.symbols("T D", positive=True, integer=True)
    X = sp.MatrixSymbol("X", T, D)
    W_Q, W_K, W_V = (sp.MatrixSymbol(name, D, D) for name in ("W_Q", "W_K", "W_V"))
    Q, K, V = (sp.MatrixSymbol(name, T, D) for name in ("Q", "K", "V"))
    M = sp.MatrixSymbol("M", T, T)
    return sp, T, D, X, W_Q, W_K, W_V, Q, K, V, M


def _scores(sp, Q, K, D):
    """Q K^T / sqrt(D): one source for every statement."""
    return Q * K.T / sp.sqrt(D)


# --------------------------------------------------------------------------------------------
# attention-weights and scaled-dot-product-attention (definitions)


def _weights_statement():
    sp, T, D, X, W_Q, W_K, W_V, Q, K, V, M = _matrices()
    Softmax = softmax_rows()
    return sp.Eq(sp.MatrixSymbol("alpha", T, T), Softmax(_scores(sp, Q, K, D)))


def _variance_check() -> Comparison:
    """Var(q . k) = D for independent unit-variance entries, so q . k / sqrt(D) has variance 1
    (Monte Carlo, 200000 pairs per D)."""
    import numpy as np

    rng = np.random.default_rng(0)
    variances = []
    for D in (4, 64, 256):
        q = rng.standard_normal((200_000, D))
        k = rng.standard_normal((200_000, D))
        variances.append(float(np.var((q * k).sum(axis=1) / np.sqrt(D))))
    return Comparison(
        variances,
        [1.0, 1.0, 1.0],
        "sample variance of q.k / sqrt(D), D = 4, 64, 256 (unit-variance entries)",
    )


def _weights_properties() -> list[Step]:
    import numpy as np
    import sympy as sp

    Softmax = softmax_rows()
    A = sp.Matrix(3, 3, sp.symbols("a_1:10", real=True))
    c = sp.Symbol("c", real=True)
    ones = sp.ones(3, 1)

    def shapes() -> Comparison:
        rng = np.random.default_rng(0)
        Q, K = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
        return Comparison(
            list(attention_weights(Q, K).shape),
            [5, 5],
            "shape of alpha for T = 5 queries and keys (D = 3)",
        )

    return [
        Step(
            "every row of alpha sums to one (and exp > 0): each output is a convex combination "
            "of the value rows",
            Softmax(A).doit() * ones,
            ones,
        ),
        Step(
            "adding a constant to a row of scores does not change its weights (only score "
            "differences matter; the evaluator subtracts the row maximum for stability)",
            Softmax(A + c * ones * ones.T).doit(),
            Softmax(A).doit(),
        ),
        Step(
            "why 1/sqrt(D): for unit-variance entries Var(q.k) = D, so Var(q.k / sqrt(D)) = 1 "
            "and the softmax stays out of saturation",
            custom=_variance_check,
            method="custom",
            tolerance=0.02,
        ),
        Step(
            "alpha is T x T: one row (1 x T) of weights per query",
            custom=shapes,
            method="custom",
            tolerance=0.0,
        ),
    ]


def attention_weights(Q, K):
    """alpha = Softmax(Q K^T / sqrt(d_k)); Q: (..., T_q, d_k), K: (..., T_k, d_k)."""
    import numpy as np

    Q, K = np.asarray(Q, dtype=np.float64), np.asarray(K, dtype=np.float64)
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(K.shape[-1])
    return as_float64(_softmax(scores))


def _weights_shape_evidence():
    import numpy as np

    rng = np.random.default_rng(0)
    T, D = 5, 3
    X = rng.standard_normal((T, D))
    W_Q, W_K = rng.standard_normal((2, D, D))
    product = (X @ W_Q) @ (X @ W_K).T  # the scores Q K^T, by numpy
    return compare_forms(
        reference=list(product.shape),
        sheet=[1, T],
        correct=[T, T],
        reference_name="shape of Q K^T for X in R^{5 x 3}",
        where="T = 5, D = 3",
        tolerance=0.0,
    )


register(
    Formula(
        id="attention-weights",
        title="Attention weights: Softmax(Q K^T / sqrt(D))",
        topic="attention",
        section="3.1",
        text="x_t is a convex combination of the past steps, with access to all of them. "
        "Pairwise similarity of queries and keys by dot product: alpha = Softmax(Q K^T / "
        "sqrt(D)) (row-wise), alpha in R^{T x T}; one query's weights are a 1 x T row.",
        keywords=(
            "attention weights",
            "softmax",
            "query",
            "key",
            "dot product",
            "scaled",
            "sqrt(d)",
            "convex combination",
        ),
        statement_builder=_weights_statement,
        latex_override=r"\alpha = \operatorname{Softmax}\left(\frac{Q K^{T}}{\sqrt{D}}\right)",
        definition=True,
        properties_builder=_weights_properties,
        evaluator=attention_weights,
        sheet_lines=(64, 64),
        erratum=Erratum(
            sheet=r"\alpha = \text{Softmax}(QK^T / \sqrt{D}),\ \alpha \in \mathbb{R}^{1 \times T}",
            correct=r"\alpha = \text{Softmax}(QK^T / \sqrt{D}) \in \mathbb{R}^{T \times T} "
            r"\text{ (row } t \in \mathbb{R}^{1 \times T} \text{: the weights of query } t)",
            explanation="The sheet defines Q = X W_Q with X in R^{T x D}, so Q K^T is T x T "
            "and so is alpha; 1 x T is the shape of one query's row of weights (the sheet "
            "switches from all queries to one query mid-sentence). The intent is clear: a "
            "notation slip.",
            evidence=_weights_shape_evidence,
            severity="typo",
            sheet_lines=(64, 64),
        ),
    )
)


def _sdpa_statement():
    sp, T, D, X, W_Q, W_K, W_V, Q, K, V, M = _matrices()
    Softmax = softmax_rows()
    return sp.Eq(_attention_head()(Q, K, V), Softmax(_scores(sp, Q, K, D)) * V)


def _attention_head():
    """Attention(Q, K, V): a matrix function of the three matrices, shaped like V (T x D)."""
    head = matrix_function("Attention")
    return type("Attention", (head,), {"shape": property(lambda self: self.args[2].shape)})


def _permutation_check() -> Comparison:
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 4))
    W = [rng.standard_normal((4, 4)) for _ in range(3)]
    perm = rng.permutation(5)
    plain = scaled_dot_product_attention(X @ W[0], X @ W[1], X @ W[2])
    permuted = scaled_dot_product_attention(X[perm] @ W[0], X[perm] @ W[1], X[perm] @ W[2])
    return Comparison(
        plain[perm].ravel(),
        permuted.ravel(),
        "Attn(P X) against P Attn(X) for a random permutation P of T = 5 tokens",
    )


def _convex_check() -> Comparison:
    import numpy as np

    rng = np.random.default_rng(1)
    Q, K, V = rng.standard_normal((3, 6, 4)) * 2
    out = scaled_dot_product_attention(Q, K, V)
    gaps = np.concatenate([(out - V.max(axis=0)).ravel(), (V.min(axis=0) - out).ravel()])
    return Comparison(
        gaps,
        np.zeros_like(gaps),
        "output minus the column maxima of V, and column minima of V minus output (T = 6, D = 4)",
    )


def _sdpa_properties() -> list[Step]:
    return [
        Step(
            "row t of the output is sum_s alpha_ts v_s, a convex combination of the value "
            "rows: it lies between their column-wise minimum and maximum",
            relation="<=",
            custom=_convex_check,
            method="custom",
            tolerance=0.0,
        ),
        Step(
            "self-attention is permutation-equivariant: permuting the tokens permutes the "
            "outputs (so token order is invisible without positional encodings)",
            custom=_permutation_check,
            method="custom",
            tolerance=1e-12,
        ),
    ]


def scaled_dot_product_attention(Q, K, V):
    """Softmax(Q K^T / sqrt(d_k)) V."""
    import numpy as np

    return as_float64(attention_weights(Q, K) @ np.asarray(V, dtype=np.float64))


register(
    Formula(
        id="scaled-dot-product-attention",
        title="Scaled dot-product attention",
        topic="attention",
        section="3.1",
        text="K = X W_K, V = X W_V, Q = X W_Q; output Softmax(Q K^T / sqrt(D)) V.",
        keywords=(
            "attention",
            "self-attention",
            "scaled dot-product",
            "transformer",
            "qkv",
            "query key value",
        ),
        statement_builder=_sdpa_statement,
        latex_override=r"\operatorname{Attention}(Q, K, V) = \operatorname{Softmax}\left("
        r"\frac{Q K^{T}}{\sqrt{D}}\right) V",
        definition=True,
        properties_builder=_sdpa_properties,
        evaluator=scaled_dot_product_attention,
        sheet_lines=(64, 64),
    )
)

# --------------------------------------------------------------------------------------------
# causal mask (definition) and masked self-attention (derived)


def _mask_statement():
    import sympy as sp

    i, j = sp.symbols("i j", positive=True, integer=True)
    return sp.Eq(sp.Indexed("M", i, j), sp.Piecewise((0, j <= i), (-sp.oo, True)))


def _causality_check() -> Comparison:
    import numpy as np

    rng = np.random.default_rng(0)
    T, D = 5, 4
    X = rng.standard_normal((T, D))
    W = [rng.standard_normal((D, D)) for _ in range(3)]
    base = attention_causal(X, *W)
    X2 = X.copy()
    X2[3:] = rng.standard_normal((2, D))  # change only the future of rows 1..3
    changed = attention_causal(X2, *W)
    return Comparison(
        changed[:3].ravel(),
        base[:3].ravel(),
        "outputs 1..3 before and after changing x_4, x_5 (T = 5, D = 4)",
    )


def _mask_properties() -> list[Step]:
    import sympy as sp

    s1, s2, s3 = sp.symbols("s_1:4", real=True)
    big = sp.Symbol("m", positive=True)  # -m stands for the -infinity entry, m -> oo
    weight_future = sp.exp(s3 - big) / (sp.exp(s1) + sp.exp(s2) + sp.exp(s3 - big))
    return [
        Step(
            "adding M_ij = -inf for j > i gives the future positions weight exp(-inf) = 0 "
            "(limit of a large negative entry)",
            sp.Limit(weight_future, big, sp.oo),
            sp.Integer(0),
        ),
        Step(
            "with the mask, output t depends only on x_1..x_t",
            custom=_causality_check,
            method="custom",
            tolerance=0.0,
        ),
    ]


def causal_mask(T):
    """M (T x T): 0 where j <= i (past and present), -inf where j > i (future)."""
    import numpy as np

    T = int(T)
    return as_float64(np.where(np.tri(T, dtype=bool), 0.0, -np.inf))


register(
    Formula(
        id="causal-mask",
        title="Causal attention mask M",
        topic="attention",
        section="3.1",
        text="Add a mask M to avoid looking into the future: M_ij = 0 for j <= i and -inf for "
        "j > i, before the softmax.",
        keywords=("causal mask", "mask", "look-ahead", "future", "autoregressive", "triangular"),
        statement_builder=_mask_statement,
        definition=True,
        properties_builder=_mask_properties,
        evaluator=causal_mask,
        sheet_lines=(64, 66),
    )
)


def _causal_statement():
    sp, T, D, X, W_Q, W_K, W_V, Q, K, V, M = _matrices()
    Softmax = softmax_rows()
    return sp.Eq(
        sp.MatrixSymbol("Y", T, D),
        Softmax(_scores(sp, X * W_Q, X * W_K, D) + M) * (X * W_V),
    )


def _causal_derivation() -> list[Step]:
    sp, T, D, X, W_Q, W_K, W_V, Q, K, V, M = _matrices()
    Softmax = softmax_rows()
    Y = sp.MatrixSymbol("Y", T, D)
    masked = Softmax(_scores(sp, Q, K, D) + M) * V
    return [
        definition(
            "masked attention: scaled dot-product attention (scaled-dot-product-attention) "
            "with the causal mask M (causal-mask) added to the scores",
            Y,
            masked,
            "masked",
        ),
        definition("queries Q = X W_Q", Q, X * W_Q, "Q"),
        definition("keys K = X W_K", K, X * W_K, "K"),
        definition("values V = X W_V", V, X * W_V, "V"),
        Step("the output Y of masked attention", Y, masked, uses=("masked",)),
        Step(
            "insert the projections of X (the sheet writes the result as X again)",
            rhs=Softmax(_scores(sp, X * W_Q, X * W_K, D) + M) * (X * W_V),
            uses=("Q", "K", "V"),
        ),
    ]


def attention_causal(X, W_Q, W_K, W_V):
    """Softmax((X W_Q)(X W_K)^T / sqrt(d_k) + M)(X W_V) with the causal mask M."""
    import numpy as np

    X = np.asarray(X, dtype=np.float64)
    Q, K, V = (X @ np.asarray(W, dtype=np.float64) for W in (W_Q, W_K, W_V))
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(K.shape[-1]) + causal_mask(X.shape[-2])
    return as_float64(_softmax(scores) @ V)


register(
    Formula(
        id="attention-causal",
        title="Masked (causal) self-attention",
        topic="attention",
        section="3.1",
        text="X <- Softmax((X W_Q)(X W_K)^T / sqrt(D) + M)(X W_V), M the causal mask: each "
        "step attends only to the past. (The sheet reuses X for the output.)",
        keywords=(
            "causal attention",
            "masked attention",
            "self-attention",
            "decoder",
            "autoregressive transformer",
        ),
        statement_builder=_causal_statement,
        latex_override=r"Y = \operatorname{Softmax}\left(\frac{(X W_Q)(X W_K)^{T}}{\sqrt{D}} + M"
        r"\right)(X W_V)",
        derivation_builder=_causal_derivation,
        evaluator=attention_causal,
        sheet_lines=(64, 68),
    )
)

# --------------------------------------------------------------------------------------------
# multi-head attention (cross-checked against torch.nn.MultiheadAttention in the tests)


def _mha_statement():
    import sympy as sp

    T, D, h = sp.symbols("T D h", positive=True, integer=True)
    from formulas.notation import argument_range

    Concat = matrix_function("Concat")
    heads = argument_range()(sp.MatrixSymbol("head_1", T, D / h), 1, h)  # head_1, ..., head_h
    return sp.Eq(
        matrix_function("MHA")(sp.MatrixSymbol("X", T, D)),  # MHA(X): T x D, as X
        Concat(heads) * sp.MatrixSymbol("W_O", D, D),
    )


def multi_head_attention(X, W_Q, W_K, W_V, W_O, heads):
    """Concat_i(Softmax(Q_i K_i^T / sqrt(D/h)) V_i) W_O, the D columns of Q, K, V split into h
    heads of D/h columns each."""
    import numpy as np

    X = np.asarray(X, dtype=np.float64)
    heads = int(heads)
    Q, K, V = (X @ np.asarray(W, dtype=np.float64) for W in (W_Q, W_K, W_V))
    T, D = Q.shape[-2], Q.shape[-1]
    if D % heads:
        raise ValueError(f"D = {D} is not divisible by heads = {heads}")

    def split(A):  # (..., T, D) -> (..., h, T, D/h)
        return np.swapaxes(A.reshape(*A.shape[:-1], heads, D // heads), -2, -3)

    out = scaled_dot_product_attention(split(Q), split(K), split(V))  # (..., h, T, D/h)
    concat = np.swapaxes(out, -2, -3).reshape(*out.shape[:-3], T, D)
    return as_float64(concat @ np.asarray(W_O, dtype=np.float64))


register(
    Formula(
        id="multi-head-attention",
        title="Multi-head attention",
        topic="attention",
        section="3.1",
        text="Multi-head attention splits W into h heads (D/h columns each), attends in each, "
        "then concatenates them (and projects with W_O).",
        keywords=("multi-head", "heads", "mha", "concatenate", "transformer"),
        statement_builder=_mha_statement,
        evaluator=multi_head_attention,
        sheet_lines=(70, 70),
    )
)

# --------------------------------------------------------------------------------------------
# attention-cost


def _cost_symbols():
    import sympy as sp

    T, D = sp.symbols("T D", positive=True, integer=True)
    # the FLOPs of the attention's two products, Q K^T and alpha V
    return sp, T, D, sp.Symbol("FLOPs_attention", positive=True, integer=True)


def _cost_statement():
    sp, T, D, total = _cost_symbols()
    return sp.Eq(total, 4 * T**2 * D)


def _cost_derivation() -> list[Step]:
    sp, T, D, total = _cost_symbols()
    scores, weighting = sp.Symbol("FLOPs(QK^T)"), sp.Symbol("FLOPs(alpha V)")
    counted = sp.Add(
        sp.Mul(2, T, T, D, evaluate=False), sp.Mul(2, T, T, D, evaluate=False), evaluate=False
    )
    return [
        definition(
            "the cost of attention is that of its two matrix products (the softmax is O(T^2))",
            total,
            scores + weighting,
            "total",
        ),
        definition(
            "Q K^T: T x T dot products of length D, 2 FLOPs (multiply, add) per term",
            scores,
            sp.Mul(2, T, T, D, evaluate=False),
            "scores",
        ),
        definition(
            "alpha V: (T x T)(T x D), T x D dot products of length T",
            weighting,
            sp.Mul(2, T, T, D, evaluate=False),
            "weighting",
        ),
        Step("the two products", total, scores + weighting, uses=("total",)),
        Step("count each", rhs=counted, uses=("scores", "weighting")),
        Step(
            "add: 4 T^2 D = O(T^2 D) time (and O(T^2) memory for alpha)",
            rhs=4 * T**2 * D,
        ),
    ]


def attention_cost(T, D):
    """FLOPs of Q K^T and alpha V (2 per multiply-add): 4 T^2 D."""
    import numpy as np

    T, D = np.asarray(T, dtype=np.float64), np.asarray(D, dtype=np.float64)
    return as_float64(4 * T**2 * D)


register(
    Formula(
        id="attention-cost",
        title="Attention is O(T^2 D)",
        topic="attention",
        section="3.1",
        text="Self-attention costs O(T^2 D): T^2 query-key dot products of length D, and the "
        "same for weighting the values (4 T^2 D FLOPs); the T x T weights take O(T^2) memory.",
        keywords=("complexity", "o(t^2 d)", "quadratic", "cost", "flops", "sequence length"),
        statement_builder=_cost_statement,
        derivation_builder=_cost_derivation,
        evaluator=attention_cost,
        sheet_lines=(70, 70),
    )
)

# --------------------------------------------------------------------------------------------
# positional encoding (definition)


def _pe_statement():
    import sympy as sp

    pos, i = sp.symbols("pos i", nonnegative=True, integer=True)
    D = sp.Symbol("D", positive=True, integer=True)
    return sp.Eq(sp.Function("PE")(pos, 2 * i), sp.sin(pos / 10000 ** (2 * i / D)))


def _pe_properties() -> list[Step]:
    import sympy as sp

    pos, k, w = sp.symbols("pos k omega", real=True)
    rotation = sp.Matrix([[sp.cos(k * w), sp.sin(k * w)], [-sp.sin(k * w), sp.cos(k * w)]])
    return [
        Step(
            "without positional information self-attention is permutation-equivariant: "
            "token order is invisible, hence positional encodings",
            custom=_permutation_check,
            method="custom",
            tolerance=1e-12,
        ),
        Step(
            "sinusoidal encodings: PE(pos + k) is a fixed rotation of PE(pos) (per frequency), "
            "so relative positions are linear functions of the encodings",
            rotation * sp.Matrix([sp.sin(pos * w), sp.cos(pos * w)]),
            sp.Matrix([sp.sin((pos + k) * w), sp.cos((pos + k) * w)]),
        ),
    ]


def positional_encoding(T, D):
    """PE[pos, 2i] = sin(pos / 10000^(2i/D)), PE[pos, 2i+1] = cos(pos / 10000^(2i/D))."""
    import numpy as np

    T, D = int(T), int(D)
    pos = np.arange(T)[:, None]
    two_i = np.arange(0, D, 2)[None, :]
    angle = pos / 10000.0 ** (two_i / D)
    pe = np.zeros((T, D))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : D // 2])
    return as_float64(pe)


register(
    Formula(
        id="positional-encoding",
        title="Sinusoidal positional encoding",
        topic="attention",
        section="3.1",
        text="Positional encoding injects information about the position of the token "
        "(attention alone is permutation-equivariant): PE(pos, 2i) = sin(pos/10000^{2i/D}), "
        "PE(pos, 2i+1) = cos(pos/10000^{2i/D}).",
        keywords=(
            "positional encoding",
            "position",
            "sinusoidal",
            "permutation equivariance",
            "transformer",
        ),
        statement_builder=_pe_statement,
        definition=True,
        properties_builder=_pe_properties,
        evaluator=positional_encoding,
        sheet_lines=(70, 70),
    )
)
