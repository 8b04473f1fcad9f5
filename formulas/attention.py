"""Self-attention and transformers (sheet section 3.1).

X in R^{T x D}; Q = X W_Q, K = X W_K, V = X W_V; rows are time steps. The sheet scales by
sqrt(D) with square D x D projections; with W_K in R^{D x d_k} the scale is sqrt(d_k).

Metadata at module level; sympy inside builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Formula, Step, StepResult, as_float64, register


def _softmax(scores):
    import numpy as np

    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------------------------
# attention-weights and scaled-dot-product-attention


def _weights_statement():
    import sympy as sp

    D = sp.Symbol("D", positive=True, integer=True)
    return sp.Eq(sp.Symbol("alpha"), sp.Function("Softmax")(sp.Symbol("Q K^T") / sp.sqrt(D)))


def _weights_derivation() -> list[Step]:
    import sympy as sp

    s = sp.symbols("s_1:4", real=True)
    exps = [sp.exp(v) for v in s]
    weights = [e / sum(exps) for e in exps]
    d = sp.Symbol("d", positive=True, integer=True)
    return [
        Step(
            "softmax weights are positive and sum to one: the output row is a convex "
            "combination of the value rows",
            sum(weights),
            sp.Integer(1),
        ),
        Step(
            "why 1/sqrt(D): for independent unit-variance entries, q.k is a sum of D products "
            "of variance 1, so Var(q.k) = D and Var(q.k / sqrt(D)) = 1 (softmax stays out of "
            "saturation)",
            d * 1 / sp.sqrt(d) ** 2,
            sp.Integer(1),
        ),
    ]


def attention_weights(Q, K):
    """alpha = Softmax(Q K^T / sqrt(d_k)); Q: (..., T_q, d_k), K: (..., T_k, d_k)."""
    import numpy as np

    Q, K = np.asarray(Q, dtype=np.float64), np.asarray(K, dtype=np.float64)
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(K.shape[-1])
    return as_float64(_softmax(scores))


register(
    Formula(
        id="attention-weights",
        title="Attention weights: Softmax(Q K^T / sqrt(D))",
        topic="attention",
        section="3.1",
        text="x_t is a convex combination of the past steps, with access to all of them. "
        "Pairwise similarity of queries and keys by dot product: alpha = Softmax(Q K^T / "
        "sqrt(D)); for one query alpha in R^{1 x T}.",
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
        derivation_builder=_weights_derivation,
        evaluator=attention_weights,
    )
)


def _sdpa_statement():
    import sympy as sp

    D = sp.Symbol("D", positive=True, integer=True)
    return sp.Eq(
        sp.Symbol("Attention(Q, K, V)"),
        sp.Function("Softmax")(sp.Symbol("Q K^T") / sp.sqrt(D)) * sp.Symbol("V"),
    )


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
        derivation_builder=_weights_derivation,
        evaluator=scaled_dot_product_attention,
    )
)

# --------------------------------------------------------------------------------------------
# causal mask and masked self-attention


def _mask_statement():
    import sympy as sp

    i, j = sp.symbols("i j", positive=True, integer=True)
    return sp.Eq(sp.Indexed("M", i, j), sp.Piecewise((0, j <= i), (-sp.oo, True)))


def _mask_derivation() -> list[Step]:
    import sympy as sp

    s1, s2, s3 = sp.symbols("s_1:4", real=True)
    big = sp.Symbol("m", positive=True)  # -m stands for the -infinity entry, m -> oo
    weight_future = sp.exp(s3 - big) / (sp.exp(s1) + sp.exp(s2) + sp.exp(s3 - big))
    return [
        Step(
            "adding M_ij = -inf for j > i gives the future positions weight exp(-inf) = 0 "
            "(limit of a large negative entry)",
            sp.limit(weight_future, big, sp.oo),
            sp.Integer(0),
        )
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
        derivation_builder=_mask_derivation,
        evaluator=causal_mask,
    )
)


def _causal_statement():
    import sympy as sp

    D = sp.Symbol("D", positive=True, integer=True)
    return sp.Eq(
        sp.Symbol("Y"),
        sp.Function("Softmax")(sp.Symbol("(X W_Q)(X W_K)^T") / sp.sqrt(D) + sp.Symbol("M"))
        * sp.Symbol("X W_V"),
    )


def _causal_derivation() -> list[Step]:
    def future_independence() -> StepResult:
        import numpy as np

        rng = np.random.default_rng(0)
        T, D = 5, 4
        X = rng.standard_normal((T, D))
        W = [rng.standard_normal((D, D)) for _ in range(3)]
        base = attention_causal(X, *W)
        X2 = X.copy()
        X2[3:] = rng.standard_normal((2, D))  # change only the future of rows 0..2
        changed = attention_causal(X2, *W)
        same_past = np.allclose(base[:3], changed[:3], atol=1e-14)
        differs_later = not np.allclose(base[3:], changed[3:])
        return StepResult(
            bool(same_past and differs_later),
            "custom",
            "changing x_4, x_5 leaves outputs 1..3 unchanged (and changes 4, 5)",
        )

    return [
        Step(
            "with the mask, output t depends only on x_1..x_t",
            custom=future_independence,
            method="custom",
        )
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
        derivation_builder=_causal_derivation,
        evaluator=attention_causal,
    )
)

# --------------------------------------------------------------------------------------------
# multi-head attention


def _mha_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("MHA(X)"),
        sp.Function("Concat")(sp.Symbol("head_1"), sp.Symbol("..."), sp.Symbol("head_h"))
        * sp.Symbol("W_O"),
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
    )
)

# --------------------------------------------------------------------------------------------
# attention-cost


def _cost_statement():
    import sympy as sp

    T, D = sp.symbols("T D", positive=True, integer=True)
    return sp.Eq(sp.Symbol("FLOPs(QK^T, alpha V)"), 4 * T**2 * D)


def _cost_derivation() -> list[Step]:
    import sympy as sp

    T, D = sp.symbols("T D", positive=True, integer=True)
    return [
        Step(
            "Q K^T: T x T dot products of length D (T^2 D multiply-adds = 2 T^2 D FLOPs); "
            "alpha V the same: O(T^2 D) time and O(T^2) memory for alpha",
            2 * (2 * T * T * D),
            4 * T**2 * D,
        )
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
    )
)

# --------------------------------------------------------------------------------------------
# positional encoding


def _pe_statement():
    import sympy as sp

    pos, i = sp.symbols("pos i", nonnegative=True, integer=True)
    D = sp.Symbol("D", positive=True, integer=True)
    return sp.Eq(sp.Symbol("PE(pos, 2i)"), sp.sin(pos / 10000 ** (2 * i / D)))


def _pe_derivation() -> list[Step]:
    import sympy as sp

    pos, k, w = sp.symbols("pos k omega", real=True)
    rotation = sp.Matrix([[sp.cos(k * w), sp.sin(k * w)], [-sp.sin(k * w), sp.cos(k * w)]])

    def equivariance() -> StepResult:
        import numpy as np

        rng = np.random.default_rng(0)
        X = rng.standard_normal((5, 4))
        W = [rng.standard_normal((4, 4)) for _ in range(3)]
        perm = rng.permutation(5)
        plain = scaled_dot_product_attention(X @ W[0], X @ W[1], X @ W[2])
        permuted = scaled_dot_product_attention(X[perm] @ W[0], X[perm] @ W[1], X[perm] @ W[2])
        ok = np.allclose(plain[perm], permuted, atol=1e-12)
        return StepResult(bool(ok), "custom", "Attn(PX) = P Attn(X) for a random permutation P")

    return [
        Step(
            "without positional information self-attention is permutation-equivariant: "
            "token order is invisible, hence positional encodings",
            custom=equivariance,
            method="custom",
        ),
        Step(
            "sinusoidal encodings: PE(pos + k) is a fixed rotation of PE(pos) (per frequency), "
            "so relative positions are linear functions of the encodings",
            sum(
                entry**2
                for entry in rotation * sp.Matrix([sp.sin(pos * w), sp.cos(pos * w)])
                - sp.Matrix([sp.sin((pos + k) * w), sp.cos((pos + k) * w)])
            ),
            sp.Integer(0),
            justification="squared distance between R(k) PE(pos) and PE(pos + k) is 0",
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
        derivation_builder=_pe_derivation,
        evaluator=positional_encoding,
    )
)
