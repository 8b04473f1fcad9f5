"""Recurrent networks (sheet section 12; "BPTT" and "BPTT divergence" in the proofs, 13).

Conventions: h_t = tanh(a_t), a_t = W_hh h_{t-1} + W_xh x_t (no bias, as on the sheet),
x [T, D] holds x_1..x_T, h0 [H] is h_0; Jacobians in numerator layout, (dh_i/dh_{i-1})[r, c] =
d h_i[r] / d h_{i-1}[c] = diag(f'(a_i)) W_hh (its transpose, W_hh^T diag f'(a_i), is the
denominator-layout form the sheet's authors had in mind). Products of Jacobians keep their
order: later steps stand on the left (non-commutative sympy symbols, MatrixSymbol).

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
Evidence for errata is computed with numpy only (finite differences as the independent
route), so the light install checks it too.
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
    verdict_text,
)


def _premise(claim, lhs, rhs, name, kind="definition", **extra):
    """A premise `lhs = rhs` that a later chain step uses by `name`."""
    return Step(claim, lhs, rhs, premise=kind, name=name, **extra)


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


def _numeric_jacobian(function, point, step=1e-6):
    """Central finite differences d function / d point (numerator layout): the independent
    route that the checks and errata compare the analytic Jacobians with."""
    import numpy as np

    point = np.asarray(point, dtype=np.float64)
    columns = []
    for index in range(point.size):
        shift = np.zeros_like(point)
        shift.flat[index] = step
        columns.append((function(point + shift) - function(point - shift)) / (2 * step))
    return np.stack([np.ravel(c) for c in columns], axis=-1)


def _random_rnn(rng, H=3, D=2, T=5, scale=1.0):
    W_hh = rng.normal(size=(H, H)) * scale / (H**0.5)
    W_xh = rng.normal(size=(H, D))
    return rng.normal(size=(T, D)), rng.normal(size=H), W_hh, W_xh


# --------------------------------------------------------------------------------------------
# vanilla-rnn (a definition: the recurrence the rest of the section differentiates)


def _rnn_statement():
    import sympy as sp

    W_hh, W_xh = sp.MatrixSymbol("W_{hh}", 3, 3), sp.MatrixSymbol("W_{xh}", 3, 2)
    h, x = sp.MatrixSymbol("h_{t-1}", 3, 1), sp.MatrixSymbol("x_{t}", 2, 1)
    return sp.Eq(
        sp.MatrixSymbol("h_{t}", 3, 1),
        sp.Function("tanh")(W_hh * h + W_xh * x),
        evaluate=False,
    )


def _rnn_properties() -> list[Step]:
    def bounded() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        largest = [
            float(np.max(np.abs(vanilla_rnn(*_random_rnn(rng, scale=4.0, T=8))))) for _ in range(20)
        ]
        return Comparison(largest, [1.0] * 20, "max |h_t| over 20 random RNNs (W_hh scaled x4)")

    def unrolled() -> Comparison:
        import numpy as np

        x, h0, W_hh, W_xh = _random_rnn(np.random.default_rng(1), T=2)
        two_layers = np.tanh(W_hh @ np.tanh(W_hh @ h0 + W_xh @ x[0]) + W_xh @ x[1])
        return Comparison(
            vanilla_rnn(x, h0, W_hh, W_xh)[1],
            two_layers,
            "h_2 of the recurrence vs the unrolled two-layer net with tied weights",
        )

    def causal() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(2)
        x, h0, W_hh, W_xh = _random_rnn(rng, T=6)
        changed = x.copy()
        changed[3:] += rng.normal(size=changed[3:].shape)
        return Comparison(
            vanilla_rnn(x, h0, W_hh, W_xh)[:3],
            vanilla_rnn(changed, h0, W_hh, W_xh)[:3],
            "h_1..h_3 before and after changing x_4..x_6",
        )

    return [
        Step("tanh keeps every hidden unit in (-1, 1)", relation="<", custom=bounded),
        Step(
            "unrolled, the recurrence is a multi-layer net whose layers share W_hh and W_xh",
            custom=unrolled,
        ),
        Step("h_t depends on x_1..x_t only (a later input cannot change it)", custom=causal),
    ]


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
        definition=True,
        properties_builder=_rnn_properties,
        evaluator=vanilla_rnn,
        sheet_lines=(331, 331),
    )
)


# --------------------------------------------------------------------------------------------
# bptt-gradient: the sheet's proof "BPTT", by induction on t


def _bptt_symbols():
    import sympy as sp

    from formulas.notation import partial

    t, k, i = (sp.Symbol(n, integer=True, positive=True) for n in ("t", "k", "i"))
    J = sp.Function("J", commutative=False)  # J(i) = dh_i/dh_{i-1}
    h, W = sp.IndexedBase("h"), sp.Symbol("W", commutative=False)  # states h_t, weights W

    def immediate(step):  # d^+h_k/dW: h_{k-1} held fixed
        return partial(immediate=True)(h[step], W)

    # dh_t/dW and dh_{t-1}/dW, through the recurrence too (symbols: sympy cannot substitute
    # a function application into the sums below)
    total = {name: sp.Symbol(f"dh_{{{name}}}/dW", commutative=False) for name in ("t", "t-1")}
    upstream = partial()(sp.Symbol("L_t"), h[t])  # dL_t/dh_t = dL_t/dy_t dy_t/dh_t

    def bptt_sum(T):  # sum_{k=1}^T (J(T) ... J(k+1)) d^+h_k/dW
        return sp.Sum(sp.Product(J(i), (i, k + 1, T)) * immediate(k), (k, 1, T))

    return sp, t, J, immediate, total, upstream, bptt_sum


def _bptt_loss_gradient():
    """dL_t/dW: the gradient of the step-t loss in the recurrent weights."""
    import sympy as sp

    from formulas.notation import partial

    return partial()(sp.Symbol("L_t"), sp.Symbol("W", commutative=False))


def _bptt_statement():
    sp, t, J, immediate, total, upstream, bptt_sum = _bptt_symbols()
    return sp.Eq(_bptt_loss_gradient(), upstream * bptt_sum(t))


def _recursion_check() -> Comparison:
    """dh_t/dW = d^+h_t/dW + J_t dh_{t-1}/dW on a tanh RNN, the total derivatives by finite
    differences in vec(W_hh) (independent of the formula), the immediate one analytically."""
    import numpy as np

    x, h0, W_hh, W_xh = _random_rnn(np.random.default_rng(4), H=3, T=4)
    H = len(h0)

    def states(flat_W):
        return _run(x, h0, flat_W.reshape(H, H), W_xh)[0]

    hs, pre = _run(x, h0, W_hh, W_xh)
    totals = _numeric_jacobian(lambda w: states(w).ravel(), W_hh.ravel()).reshape(len(x), H, -1)
    left, right = [], []
    previous_total = np.zeros((H, H * H))  # h_0 does not depend on W
    previous_h = h0
    for t in range(len(x)):
        slope = 1 - np.tanh(pre[t]) ** 2
        immediate = slope[:, None] * np.kron(np.eye(H), previous_h[None, :])
        step_jacobian = slope[:, None] * W_hh
        left.append(totals[t])
        right.append(immediate + step_jacobian @ previous_total)
        previous_total, previous_h = totals[t], hs[t]
    return Comparison(
        np.ravel(left),
        np.ravel(right),
        "tanh RNN, H = 3, t = 1..4: finite-difference dh_t/dW_hh vs d^+h_t/dW + J_t dh_{t-1}/dW",
    )


def _unrolled_sum_check() -> Comparison:
    """d^+h_t + J_t S(t-1) = S(t) for random non-commuting matrices (later J on the left)."""
    import numpy as np

    rng = np.random.default_rng(5)
    H, P, T = 3, 4, 6
    J = [None] + [rng.normal(size=(H, H)) for _ in range(T)]  # J[1..T]
    immediate = [None] + [rng.normal(size=(H, P)) for _ in range(T)]

    def bptt_sum(t):
        total = np.zeros((H, P))
        for k in range(1, t + 1):
            chain = np.eye(H)
            for i in range(k + 1, t + 1):
                chain = J[i] @ chain
            total += chain @ immediate[k]
        return total

    left = [immediate[t] + J[t] @ bptt_sum(t - 1) for t in range(1, T + 1)]
    right = [bptt_sum(t) for t in range(1, T + 1)]
    return Comparison(np.ravel(left), np.ravel(right), "random 3x3 J_i and 3x4 d^+h_k/dW, t = 1..6")


def _bptt_derivation() -> list[Step]:
    sp, t, J, immediate, total, upstream, bptt_sum = _bptt_symbols()
    loss_gradient = _bptt_loss_gradient()
    return [
        _premise(
            "L_t depends on W through h_t only (y_t = W_hy h_t): dL_t/dW = dL_t/dy_t dy_t/dh_t "
            "dh_t/dW",
            loss_gradient,
            upstream * total["t"],
            "loss-chain",
        ),
        _premise(
            "chain rule through both arguments of h_t(rho(W), h_{t-1}(W)), rho the identity: "
            "dh_t/dW = d^+h_t/dW + dh_t/dh_{t-1} dh_{t-1}/dW",
            total["t"],
            immediate(t) + J(t) * total["t-1"],
            "recursion",
            kind="lemma",
            custom=_recursion_check,
            tolerance=1e-7,
        ),
        _premise(
            "induction hypothesis: the claim for t - 1 (base case t = 1: dh_0/dW = 0, the "
            "empty sum)",
            total["t-1"],
            bptt_sum(t - 1),
            "hypothesis",
            kind="assumption",
        ),
        Step(
            "the loss sees W only through h_t",
            loss_gradient,
            upstream * total["t"],
            uses=("loss-chain",),
        ),
        Step(
            "one step of the recursion",
            rhs=upstream * (immediate(t) + J(t) * total["t-1"]),
            uses=("recursion",),
        ),
        Step(
            "the induction hypothesis for dh_{t-1}/dW",
            rhs=upstream * (immediate(t) + J(t) * bptt_sum(t - 1)),
            uses=("hypothesis",),
        ),
        Step(
            "J_t joins every product of the sum on the left and d^+h_t/dW is its k = t term "
            "(empty product): the sum up to t",
            rhs=upstream * bptt_sum(t),
            custom=_unrolled_sum_check,
            tolerance=1e-12,
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
        "dL_t/dW = dL_t/dy_t dy_t/dh_t sum_k dh_t/dh_k d^+h_k/dW; truncated BPTT sums only the "
        "last kappa steps",
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
        latex_override=r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial y_t} "
        r"\frac{\partial y_t}{\partial h_t} \sum_{k=1}^{t} \Big(\prod_{i=k+1}^{t} "
        r"\frac{\partial h_i}{\partial h_{i-1}}\Big) \frac{\partial^+ h_k}{\partial W}",
        sheet_lines=(357, 359),
    )
)


# --------------------------------------------------------------------------------------------
# rnn-hidden-jacobian (erratum: the argument of f')

_UNITS, _INPUTS = 3, 2  # the generic instance the proof computes with (any f, any weights)


def _jacobian_symbols():
    import sympy as sp

    from formulas._chain import matrix_function

    def vector(name):
        return sp.MatrixSymbol(name, _UNITS, 1)

    J = sp.Derivative(vector("h_{i}"), vector("h_{i-1}"))  # the Jacobian dh_i/dh_{i-1}
    slopes = matrix_function("f'", latex_head="f'")(vector("a_{i}"))  # f'(a_i), entry by entry
    D = matrix_function("diag", square=True)(slopes)  # diag(f'(a_i))
    W = sp.MatrixSymbol("W_{hh}", _UNITS, _UNITS)
    return sp, J, D, W


def _jacobian_statement():
    sp, J, D, W = _jacobian_symbols()
    return sp.Eq(J, D * W, evaluate=False)


def _jacobian_derivation() -> list[Step]:
    sp, J, D, W = _jacobian_symbols()
    f, s = sp.Function("f"), sp.Symbol("s")
    weights = sp.Matrix(_UNITS, _UNITS, lambda r, c: sp.Symbol(f"w_{r + 1}{c + 1}", real=True))
    inputs = sp.Matrix(_UNITS, _INPUTS, lambda r, c: sp.Symbol(f"u_{r + 1}{c + 1}", real=True))
    h = sp.Matrix([sp.Symbol(f"h_{r + 1}", real=True) for r in range(_UNITS)])  # h_{i-1}
    x = sp.Matrix([sp.Symbol(f"x_{c + 1}", real=True) for c in range(_INPUTS)])
    a = weights * h + inputs * x  # the pre-activation a_i

    def slope(r):  # f'(a_i[r])
        return sp.Subs(sp.Derivative(f(s), s), s, a[r])

    by_definition = sp.Matrix(_UNITS, _UNITS, lambda r, c: sp.Derivative(f(a[r]), h[c]))
    chain_rule = sp.Matrix(_UNITS, _UNITS, lambda r, c: slope(r) * weights[r, c])
    return [
        _premise(
            "the Jacobian of h_i = f(a_i), a_i = W_hh h_{i-1} + W_xh x_i: entry (r, c) is "
            "d h_i[r] / d h_{i-1}[c]",
            J,
            by_definition,
            "jacobian",
        ),
        _premise(
            "diag(f'(a_i)): the slopes at the pre-activation",
            D,
            sp.diag(*[slope(r) for r in range(_UNITS)]),
            "diag",
        ),
        _premise("the recurrent weights", W, weights, "weights"),
        Step("entry by entry", J, by_definition, uses=("jacobian",)),
        Step(
            "chain rule: d f(a_i[r]) / d h_{i-1}[c] = f'(a_i[r]) (W_hh)_{rc} (3 units, 2 inputs, "
            "any f)",
            rhs=chain_rule,
        ),
        Step(
            "row r scaled by f'(a_i[r]) is a diagonal matrix times W_hh",
            rhs=D * W,
            uses=("diag", "weights"),
        ),
    ]


def rnn_hidden_jacobian(W_hh, W_xh, h_prev, x):
    """dh_i/dh_{i-1} = diag(f'(a_i)) W_hh, a_i = W_hh h_{i-1} + W_xh x_i, f = tanh."""
    import numpy as np

    W_hh = np.asarray(W_hh, dtype=np.float64)
    a = W_hh @ np.asarray(h_prev, dtype=np.float64) + np.asarray(W_xh) @ np.asarray(x)
    return as_float64((1 - np.tanh(a) ** 2)[:, None] * W_hh)


def _jacobian_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(0)
    W_hh, W_xh = rng.normal(size=(4, 4)), rng.normal(size=(4, 2))
    h_prev, x = rng.normal(size=4), rng.normal(size=2)
    J = _numeric_jacobian(lambda h: np.tanh(W_hh @ h + W_xh @ x), h_prev)
    a = W_hh @ h_prev + W_xh @ x
    # the sheet writes the denominator layout W_hh^T diag(.): compare in that layout
    return compare_forms(
        reference=J.T,
        sheet=W_hh.T @ np.diag(1 - np.tanh(h_prev) ** 2),
        correct=W_hh.T @ np.diag(1 - np.tanh(a) ** 2),
        reference_name="finite-difference (dh_i/dh_{i-1})^T of a tanh RNN step (H = 4)",
        tolerance=1e-6,
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
        derivation_builder=_jacobian_derivation,
        evaluator=rnn_hidden_jacobian,
        sheet_lines=(334, 334),
        erratum=Erratum(
            sheet=r"\frac{\partial h_i}{\partial h_{i-1}} = W_{hh}^\top \operatorname{diag} "
            r"f'(h_{i-1})",
            correct=r"\frac{\partial h_i}{\partial h_{i-1}} = \operatorname{diag}(f'(a_i))\, "
            r"W_{hh},\quad a_i = W_{hh} h_{i-1} + W_{xh} x_i",
            explanation="for the sheet's own RNN h_i = tanh(W_hh h_{i-1} + W_xh x_i) (line 331), "
            "f' is evaluated at the pre-activation a_i of step i, not at h_{i-1} (Pascanu et "
            "al. write sigma'(x_{i-1}) for a different parametrisation, x_i = W sigma(x_{i-1}) "
            "+ ...); the transpose W_hh^T diag f'(a_i) is the same Jacobian in denominator "
            "layout",
            evidence=_jacobian_evidence,
            severity="error",
            sheet_lines=(334, 334),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# bptt-jacobian-product: dh_t/dh_k = J_t J_{t-1} ... J_{k+1}, by induction on t


def _product_symbols():
    import sympy as sp

    t, k, i = (sp.Symbol(n, integer=True, positive=True) for n in ("t", "k", "i"))
    J = sp.Function("J", commutative=False)  # J(i) = dh_i/dh_{i-1}

    def state(name):  # the hidden state h_name, a vector
        return sp.MatrixSymbol(f"h_{{{name}}}", _UNITS, 1)

    long_range = {  # dh_t/dh_k and dh_{t-1}/dh_k, Jacobians (noncommutative)
        name: sp.Derivative(state(name), state("k")) for name in ("t", "t-1")
    }
    return sp, t, k, i, J, long_range


def _product_statement():
    sp, t, k, i, J, long_range = _product_symbols()
    return sp.Eq(long_range["t"], sp.Product(J(i), (i, k + 1, t)))


def _one_step_chain_check() -> Comparison:
    """dh_t/dh_k = J_t dh_{t-1}/dh_k: both long-range Jacobians by finite differences."""
    import numpy as np

    x, h0, W_hh, W_xh = _random_rnn(np.random.default_rng(6), H=3, T=5)
    k = 1
    h_k = _run(x[:k], h0, W_hh, W_xh)[0][-1]

    def from_k(h, steps):
        return _run(x[k : k + steps], h, W_hh, W_xh)[0][-1]

    left, right = [], []
    for steps in range(2, len(x) - k + 1):  # t = k + steps
        t = k + steps
        h_before = _run(x[: t - 1], h0, W_hh, W_xh)[0][-1]
        a_t = W_hh @ h_before + W_xh @ x[t - 1]
        J_t = (1 - np.tanh(a_t) ** 2)[:, None] * W_hh
        left.append(_numeric_jacobian(lambda h, s=steps: from_k(h, s), h_k))
        right.append(J_t @ _numeric_jacobian(lambda h, s=steps: from_k(h, s - 1), h_k))
    return Comparison(
        np.ravel(left), np.ravel(right), "tanh RNN, k = 1, t = 3..5, finite differences"
    )


def _product_split_check() -> Comparison:
    import numpy as np

    rng = np.random.default_rng(7)
    J = [None] + [rng.normal(size=(3, 3)) for _ in range(7)]

    def ordered(k, t):  # J_t ... J_{k+1}
        result = np.eye(3)
        for i in range(k + 1, t + 1):
            result = J[i] @ result
        return result

    pairs = [(k, t) for t in range(1, 8) for k in range(t)]
    return Comparison(
        np.ravel([J[t] @ ordered(k, t - 1) for k, t in pairs]),
        np.ravel([ordered(k, t) for k, t in pairs]),
        "random non-commuting 3x3 J_1..J_7, all 0 <= k < t <= 7",
    )


def _product_derivation() -> list[Step]:
    sp, t, k, i, J, long_range = _product_symbols()
    return [
        _premise(
            "chain rule: h_t depends on h_k through h_{t-1}, so dh_t/dh_k = dh_t/dh_{t-1} "
            "dh_{t-1}/dh_k",
            long_range["t"],
            J(t) * long_range["t-1"],
            "chain",
            kind="lemma",
            custom=_one_step_chain_check,
            tolerance=1e-7,
        ),
        _premise(
            "induction hypothesis for t - 1 (base case t = k: dh_k/dh_k = I, the empty product)",
            long_range["t-1"],
            sp.Product(J(i), (i, k + 1, t - 1)),
            "hypothesis",
            kind="assumption",
        ),
        Step(
            "one step of the chain rule", long_range["t"], J(t) * long_range["t-1"], uses=("chain",)
        ),
        Step(
            "the induction hypothesis",
            rhs=J(t) * sp.Product(J(i), (i, k + 1, t - 1)),
            uses=("hypothesis",),
        ),
        Step(
            "J_t is the newest factor, on the left: the product up to t",
            rhs=sp.Product(J(i), (i, k + 1, t)),
            custom=_product_split_check,
            tolerance=1e-12,
        ),
    ]


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
        "Jacobians (the newest on the left), the source of vanishing/exploding gradients",
        keywords=(
            "jacobian product",
            "long-term dependencies",
            "vanishing gradient",
            "exploding gradient",
            "chain rule",
        ),
        statement_builder=_product_statement,
        derivation_builder=_product_derivation,
        evaluator=bptt_jacobian_product,
        sheet_lines=(334, 334),
    )
)


# --------------------------------------------------------------------------------------------
# bptt-exploding-condition (was bptt-vanishing-bound): the sheet's proof "BPTT divergence"


def _divergence_symbols():
    import sympy as sp

    t, k, i = (sp.Symbol(n, integer=True, positive=True) for n in ("t", "k", "i"))
    J = sp.Function("J", commutative=False)  # J(i) = dh_i/dh_{i-1}
    norm = sp.Function("norm", real=True, nonnegative=True)  # spectral norm
    lambda_1, gamma, eta = sp.symbols("lambda_1 gamma eta", positive=True)
    return sp, t, k, i, J, norm, lambda_1, gamma, eta


def _divergence_statement():
    sp, t, k, i, J, norm, lambda_1, gamma, eta = _divergence_symbols()
    return sp.Le(norm(sp.Product(J(i), (i, k + 1, t))), eta ** (t - k))


def _jacobian_chains(seed, count=20, T=10):
    """Step Jacobians J_1..J_T of random tanh RNNs with their ||W_hh|| (gamma = 1 for tanh)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for _ in range(count):
        x, h0, W_hh, W_xh = _random_rnn(rng, H=4, T=T, scale=rng.uniform(0.3, 3.0))
        _, pre = _run(x, h0, W_hh, W_xh)
        yield [(1 - np.tanh(a) ** 2)[:, None] * W_hh for a in pre], np.linalg.norm(W_hh, 2)


def _ordered_product(jacobians, k, t):
    import numpy as np

    result = np.eye(jacobians[0].shape[0])
    for i in range(k + 1, t + 1):
        result = jacobians[i - 1] @ result
    return result


def _submultiplicative_check() -> Comparison:
    import numpy as np

    left, right = [], []
    for jacobians, _ in _jacobian_chains(8):
        for k in range(0, 9, 3):
            left.append(np.linalg.norm(_ordered_product(jacobians, k, 10), 2))
            right.append(np.prod([np.linalg.norm(J, 2) for J in jacobians[k:10]]))
    return Comparison(left, right, "20 random tanh RNNs, t = 10, k = 0, 3, 6, 9")


def _factor_bound_check() -> Comparison:
    import numpy as np

    left, right = [], []
    for jacobians, lambda_1 in _jacobian_chains(9):
        for k in range(0, 9, 3):
            left.append(np.prod([np.linalg.norm(J, 2) for J in jacobians[k:10]]))
            right.append((lambda_1 * 1.0) ** (10 - k))  # gamma = 1 bounds tanh'
    return Comparison(left, right, "the same 20 RNNs: prod ||J_i|| vs (lambda_1 gamma)^(t-k)")


def _divergence_derivation() -> list[Step]:
    sp, t, k, i, J, norm, lambda_1, gamma, eta = _divergence_symbols()
    W = sp.MatrixSymbol("W_{hh}", _UNITS, _UNITS)
    slopes = sp.MatrixSymbol("diag(f'(a_{i}))", _UNITS, _UNITS)
    return [
        _premise("lambda_1 is the largest singular value of W_hh", lambda_1, norm(W), "lambda"),
        _premise(
            "gamma bounds the activation's slope: ||diag f'(a_i)|| < gamma (tanh: gamma = 1)",
            norm(slopes),
            gamma,
            "gamma",
            kind="assumption",
            relation="<",
        ),
        Step(
            "the spectral norm is submultiplicative: ||AB|| <= ||A|| ||B||",
            norm(sp.Product(J(i), (i, k + 1, t))),
            sp.Product(norm(J(i)), (i, k + 1, t)),
            relation="<=",
            custom=_submultiplicative_check,
            tolerance=1e-12,
        ),
        Step(
            "each factor: ||J_i|| = ||diag f'(a_i) W_hh|| <= ||diag f'(a_i)|| ||W_hh|| <= "
            "gamma lambda_1",
            rhs=sp.Product(lambda_1 * gamma, (i, k + 1, t)),
            relation="<=",
            custom=_factor_bound_check,
            tolerance=1e-12,
            uses=("lambda", "gamma"),
        ),
        _premise(
            "eta := lambda_1 gamma (< 1 when lambda_1 < 1/gamma)", eta, lambda_1 * gamma, "eta"
        ),
        Step("t - k equal factors", rhs=eta ** (t - k), uses=("eta",)),
    ]


def _exploding_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(3)
    W = rng.normal(size=(4, 4))
    W *= 3.0 / np.linalg.norm(W, 2)  # lambda_1 = 3 > 1/gamma = 1 (tanh)
    x, h0, W_xh = rng.normal(size=(20, 2)), rng.normal(size=4) * 0.01, rng.normal(size=(4, 2))
    saturated = np.linalg.norm(bptt_jacobian_product(x, h0, W, W_xh * 3, 0), 2)
    linear = np.linalg.norm(bptt_jacobian_product(x * 0, h0, W, W_xh, 0), 2)
    bound = 3.0**20
    explodes = saturated > 1.0
    detail = (
        f"tanh RNN with lambda_1 = 3 > 1/gamma = 1, t - k = 20 (bound (lambda_1 gamma)^20 = "
        f"{bound:.1e}): with large inputs (saturated units) ||dh_20/dh_0|| = {saturated:.1e}, "
        f"the gradient {verdict_text(explodes, 'explodes', 'vanishes')}; near h = 0 (no input) "
        f"it is {linear:.1e}, so lambda_1 > 1/gamma "
        f"{verdict_text(linear > 1.0, 'allows', 'does not even allow')} growth but does not "
        "force it"
    )
    return Evidence(
        sheet_fails=bool(not explodes),
        correct_passes=bool(linear > 1.0 and saturated <= bound and linear <= bound),
        detail=detail,
    )


register(
    Formula(
        id="bptt-exploding-condition",
        title="BPTT divergence: ||dh_t/dh_k|| <= eta^{t-k}, eta = lambda_1 gamma; exploding needs "
        "lambda_1 > 1/gamma",
        topic="rnn",
        section="13",
        text="lambda_1 largest singular value of W_hh, ||diag f'|| < gamma: ||prod_{i=k+1}^t "
        "dh_i/dh_{i-1}|| <= (lambda_1 gamma)^{t-k}; if lambda_1 < 1/gamma, eta = lambda_1 gamma "
        "< 1 and gradients vanish; lambda_1 > 1/gamma is necessary (not sufficient) for "
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
        statement_builder=_divergence_statement,
        derivation_builder=_divergence_derivation,
        aliases=("bptt-vanishing-bound",),
        sheet_lines=(361, 369),
        erratum=Erratum(
            sheet=r"\text{Similarly, if } \lambda_1 > \gamma^{-1} \text{, then gradients explode.}",
            correct=r"\lambda_1 > \gamma^{-1} \text{ is necessary (not sufficient) for exploding "
            r"gradients}",
            explanation="the proof's bound ||prod J_i|| <= (lambda_1 gamma)^{t-k} only caps the "
            "norm: lambda_1 < 1/gamma forces vanishing, but lambda_1 > 1/gamma merely allows "
            "growth; saturated units (small f') still make the gradient vanish (Pascanu et al. "
            "2013, Sec. 3.1: the condition is necessary for exploding)",
            evidence=_exploding_evidence,
            severity="error",
            sheet_lines=(369, 369),
        ),
    )
)


def _step_bound_evidence() -> Evidence:
    """The sheet's chain ||J_i|| <= ||W|| ||diag f'|| < 1/gamma < 1 against the numbers."""
    import numpy as np

    rng = np.random.default_rng(11)
    rows = []
    for name, slope, gamma in (
        ("sigmoid", lambda a: (s := 1 / (1 + np.exp(-a))) * (1 - s), 0.25),
        ("2 tanh", lambda a: 2 * (1 - np.tanh(a) ** 2), 2.0),
    ):
        W = rng.normal(size=(4, 4))
        W *= 0.9 / gamma / np.linalg.norm(W, 2)  # lambda_1 = 0.9 / gamma < 1 / gamma
        products = []
        for _ in range(200):
            slopes = slope(rng.normal(size=4) * 0.3)
            products.append(np.linalg.norm(W, 2) * np.max(slopes))
        rows.append((name, gamma, max(products)))
    sheet_holds = all(worst < 1 / gamma and 1 / gamma < 1 for _, gamma, worst in rows)
    right_holds = all(worst < (1 / gamma) * gamma for _, gamma, worst in rows)
    detail = "; ".join(
        f"{name} (gamma = {gamma:g}, lambda_1 = {0.9 / gamma:g}): max ||W|| ||diag f'|| = "
        f"{worst:.3f}, 1/gamma = {1 / gamma:g} (sheet's '< 1/gamma' "
        f"{verdict_text(worst < 1 / gamma, 'holds', 'fails')}, '1/gamma < 1' "
        f"{verdict_text(1 / gamma < 1, 'holds', 'fails')}; '< (1/gamma) gamma = 1' "
        f"{verdict_text(worst < 1, 'holds', 'fails')})"
        for name, gamma, worst in rows
    )
    return Evidence(
        sheet_fails=bool(not sheet_holds), correct_passes=bool(right_holds), detail=detail
    )


register_claim(
    Claim(
        id="bptt-divergence-step-bound",
        topic="rnn",
        section="13",
        sheet_lines=(363, 365),
        sheet="||dh_i/dh_{i-1}|| <= ||W_hh^T|| ||diag f'(h_{i-1})|| < 1/gamma < 1",
        verdict="error",
        explanation="with lambda_1 < 1/gamma and ||diag f'|| < gamma the product is below "
        "(1/gamma) gamma = 1; the sheet drops the factor gamma and writes '< 1/gamma < 1', "
        "which needs gamma > 1 (false for tanh, gamma = 1, and sigmoid, gamma = 1/4) and does "
        "not follow for gamma > 1 either",
        source="Pascanu, Mikolov & Bengio 2013, On the difficulty of training RNNs, Sec. 3.1",
        check=_step_bound_evidence,
        correct="||dh_i/dh_{i-1}|| <= ||W_hh^T|| ||diag f'|| < (1/gamma) gamma = 1",
    )
)


def _vanishing_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(12)
    worst_ratio, smallest_eta, largest_final = 0.0, 1.0, 0.0
    for _ in range(20):
        x, h0, W, W_xh = _random_rnn(rng, H=4, T=60)
        W *= rng.uniform(0.5, 0.95) / np.linalg.norm(W, 2)  # lambda_1 < 1/gamma = 1
        eta = np.linalg.norm(W, 2)
        for k in (0, 20, 40):
            norm = np.linalg.norm(bptt_jacobian_product(x, h0, W, W_xh, k), 2)
            worst_ratio = max(worst_ratio, norm / eta ** (60 - k))
        largest_final = max(
            largest_final, np.linalg.norm(bptt_jacobian_product(x, h0, W, W_xh, 0), 2)
        )
        smallest_eta = min(smallest_eta, eta)
    holds = worst_ratio <= 1 + 1e-9 and largest_final < 1e-3
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"20 tanh RNNs with lambda_1 = eta in [{smallest_eta:.2f}, 0.95): max "
        f"||dh_60/dh_k|| / eta^(60-k) = {worst_ratio:.2f} "
        f"({verdict_text(worst_ratio <= 1 + 1e-9, 'within', 'above')} the bound), "
        f"largest ||dh_60/dh_0|| = {largest_final:.1e}",
    )


register_claim(
    Claim(
        id="bptt-vanishing-sufficient",
        topic="rnn",
        section="13",
        sheet_lines=(363, 367),
        sheet="If lambda_1 < 1/gamma ... ||prod_{i=k+1}^t dh_i/dh_{i-1}|| <= eta^{t-k}, so the "
        "gradients vanish as t -> oo",
        verdict="correct",
        explanation="each step Jacobian has norm at most eta = lambda_1 gamma < 1, so by "
        "submultiplicativity the product of t - k of them is at most eta^{t-k} -> 0 (formula "
        "bptt-exploding-condition proves the bound)",
        source="Pascanu, Mikolov & Bengio 2013, Sec. 3.1",
        check=_vanishing_evidence,
    )
)


# --------------------------------------------------------------------------------------------
# linear-rnn-power (erratum: the dropped power)


def _power_symbols():
    import sympy as sp

    t = sp.Symbol("t", integer=True, positive=True)
    W = sp.MatrixSymbol("W", 3, 3)
    h = {name: sp.MatrixSymbol(name, 3, 1) for name in ("h_{t}", "h_{t-1}", "h_{1}")}
    return sp, t, W, h


def _power_statement():
    sp, t, W, h = _power_symbols()
    return sp.Eq(h["h_{t}"], sp.MatMul(sp.MatPow(W.T, t - 1), h["h_{1}"]), evaluate=False)


def _power_derivation() -> list[Step]:
    sp, t, W, h = _power_symbols()
    return [
        _premise("the linear RNN without input", h["h_{t}"], W.T * h["h_{t-1}"], "recurrence"),
        _premise(
            "induction hypothesis for t - 1 (base case t = 1: (W^T)^0 h_1 = h_1)",
            h["h_{t-1}"],
            sp.MatMul(sp.MatPow(W.T, t - 2), h["h_{1}"]),
            "hypothesis",
            kind="assumption",
        ),
        Step("one step", h["h_{t}"], W.T * h["h_{t-1}"], uses=("recurrence",)),
        Step(
            "the induction hypothesis",
            rhs=sp.MatMul(W.T, sp.MatPow(W.T, t - 2), h["h_{1}"], evaluate=False),
            uses=("hypothesis",),
        ),
        Step(
            "powers of the same matrix add (the order of the factors is kept)",
            rhs=sp.MatMul(sp.MatPow(W.T, t - 1), h["h_{1}"]),
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
    return compare_forms(
        reference=h,
        sheet=W.T @ h1,
        correct=np.linalg.matrix_power(W.T, 4) @ h1,
        reference_name="h_5 by iterating h_t = W^T h_{t-1} four times from a random h_1",
        tolerance=1e-10,
    )


register(
    Formula(
        id="linear-rnn-power",
        title="Linear RNN without input: powers of W (exploding/vanishing)",
        topic="rnn",
        section="12",
        text="h_t = (W^T)^{t-1} h_1; if W = Q diag(lambda) Q^T with Q Q^T = I then h_t = Q "
        "diag(lambda)^{t-1} Q^T h_1 turns towards the dominant eigenvector of W; eigenvalues > 1 "
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
        sheet_lines=(336, 336),
        erratum=Erratum(
            sheet=r"h_t = W^\top h_1",
            correct=r"h_t = (W^\top)^{t-1} h_1",
            explanation="the power was dropped: each of the t - 1 steps from h_1 multiplies by "
            "W^T, so W^T h_1 is only h_2 (the sheet's next expression, (Q Lambda Q^T)^t h_1, "
            "does carry a power)",
            evidence=_power_evidence,
            severity="typo",
            sheet_lines=(336, 336),
        ),
    )
)


def _orthogonal_q_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(13)
    W = rng.normal(size=(3, 3)) + np.diag([3.0, 1.0, -2.0])  # distinct real eigenvalues
    values, Q = np.linalg.eig(W)
    diagonalizable = bool(np.all(np.isreal(values)) and abs(np.linalg.det(Q)) > 1e-6)
    Q = np.real(Q)
    Lambda = np.diag(np.real(values))
    transposed = Q @ Lambda @ Q.T
    inverse = Q @ Lambda @ np.linalg.inv(Q)
    gap_transposed = float(np.max(np.abs(transposed - W)))
    gap_inverse = float(np.max(np.abs(inverse - W)))
    orthogonality = float(np.max(np.abs(Q @ Q.T - np.eye(3))))
    return Evidence(
        sheet_fails=bool(diagonalizable and gap_transposed > 1e-6),
        correct_passes=bool(gap_inverse < 1e-9),
        detail=f"a random non-symmetric W with real eigenvalues {np.round(np.real(values), 3)} "
        f"(diagonalizable: {diagonalizable}): max |Q Q^T - I| = {orthogonality:.2f}, max |Q "
        f"Lambda Q^T - W| = {gap_transposed:.2f}, max |Q Lambda Q^(-1) - W| = "
        f"{gap_inverse:.1e}",
    )


register_claim(
    Claim(
        id="rnn-orthogonal-eigendecomposition",
        topic="rnn",
        section="12",
        sheet_lines=(336, 336),
        sheet="If W is diagonaliz., W = Q diag lambda Q^T = Q Lambda Q^T, Q Q^T = I",
        verdict="typo",
        explanation="a diagonalizable W is Q Lambda Q^(-1); Q can be taken orthogonal (Q^(-1) = "
        "Q^T) only when W is symmetric, which is what Goodfellow et al. assume. The argument "
        "that follows (powers of Lambda, the dominant eigenvector) holds with Q^(-1) as well",
        source="Goodfellow, Bengio & Courville 2016, Deep Learning, Sec. 10.7",
        check=_orthogonal_q_evidence,
        correct="W = Q Lambda Q^(-1) (Q orthogonal, Q^(-1) = Q^T, when W is symmetric)",
    )
)


def _dominant_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(0)
    cosines, gaps = [], []
    for _ in range(10):
        M = rng.normal(size=(4, 4))
        W = (M + M.T) / 2  # symmetric: W = Q Lambda Q^T with Q orthogonal
        values, Q = np.linalg.eigh(W)
        top = Q[:, np.argmax(np.abs(values))]
        h = linear_rnn_power(W, rng.normal(size=4), 200)
        cosines.append(abs(h @ top) / np.linalg.norm(h))
        power = np.linalg.matrix_power(W, 7)
        gaps.append(np.max(np.abs(power - Q @ np.diag(values**7) @ Q.T)) / np.max(np.abs(power)))
    aligned = min(cosines) > 1 - 1e-6 and max(gaps) < 1e-10
    return Evidence(
        sheet_fails=bool(not aligned),
        correct_passes=bool(aligned),
        detail=f"10 random symmetric 4x4 W: (Q Lambda Q^T)^7 = Q Lambda^7 Q^T to "
        f"{max(gaps):.1e}; after 200 steps min |cos(h_t, q_1)| = {min(cosines):.9f}",
    )


register_claim(
    Claim(
        id="rnn-dominant-eigenvector",
        topic="rnn",
        section="12",
        sheet_lines=(336, 336),
        sheet="h_t = (Q Lambda Q^T)^t h_1 = (Q (diag lambda)^t Q^T) h_1 => h_t becomes the "
        "dominant eigenvector of W; dh_t/dh_k has this issue",
        verdict="correct",
        explanation="powers of an orthogonal eigendecomposition are powers of Lambda; the "
        "component along the eigenvector of largest |lambda| dominates, so h_t turns towards "
        "it (its length explodes or vanishes with |lambda_1|^t) - power iteration; the same "
        "product of W's appears in dh_t/dh_k",
        source="Goodfellow, Bengio & Courville 2016, Sec. 10.7",
        check=_dominant_evidence,
    )
)


# --------------------------------------------------------------------------------------------
# gradient-clipping (a definition)


def _clip_statement():
    import sympy as sp

    gradient, th = sp.Symbol("g"), sp.Symbol("threshold", positive=True)
    size = sp.Function("norm")(gradient)  # ||g||
    return sp.Eq(
        sp.Symbol("g_clipped"),
        sp.Piecewise((th / size * gradient, size > th), (gradient, True)),
    )


def _clip_properties() -> list[Step]:
    def _draws():
        import numpy as np

        rng = np.random.default_rng(14)
        for _ in range(30):
            grad = rng.normal(size=(3, 4)) * rng.uniform(0.1, 10)
            yield grad, rng.uniform(0.5, 5.0)

    def capped() -> Comparison:
        import numpy as np

        pairs = [(np.linalg.norm(gradient_clipping(g, c)), c) for g, c in _draws()]
        return Comparison(
            [p[0] for p in pairs], [p[1] for p in pairs], "30 random gradients: ||clip(g)||"
        )

    def direction() -> Comparison:
        import numpy as np

        cosines = [
            float(np.sum(gradient_clipping(g, c) * g))
            / (np.linalg.norm(gradient_clipping(g, c)) * np.linalg.norm(g))
            for g, c in _draws()
        ]
        return Comparison(cosines, [1.0] * len(cosines), "cos(clip(g), g) for 30 gradients")

    return [
        Step(
            "the clipped gradient's norm is at most the threshold",
            relation="<=",
            custom=capped,
            tolerance=1e-12,
        ),
        Step("clipping keeps the direction (it rescales only)", custom=direction, tolerance=1e-12),
    ]


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
        definition=True,
        properties_builder=_clip_properties,
        evaluator=gradient_clipping,
        sheet_lines=(338, 338),
    )
)


register_claim(
    Claim(
        id="rnn-long-term-and-truncation",
        topic="rnn",
        section="12",
        sheet_lines=(338, 338),
        sheet="Long-term contributions vanish, too sensitive to recent distractions. Truncated "
        "BPTT: take the sum only over the last kappa steps",
        verdict="correct",
        explanation="with vanishing products dh_t/dh_k the gradient is dominated by recent "
        "steps; truncated BPTT keeps only the terms k > t - kappa of the BPTT sum",
        source="Goodfellow et al. 2016, Sec. 10.7; Williams & Peng 1990 (truncated BPTT)",
    )
)


# --------------------------------------------------------------------------------------------
# lstm-cell


def _lstm_symbols():
    import sympy as sp

    names = ("i", "f", "o", "g", "c_{t-1}", "c_{t}", "h_{t}")
    return sp, dict(zip(names, sp.symbols(names, commutative=False)))


def _lstm_statement():
    sp, s = _lstm_symbols()
    return sp.Eq(s["h_{t}"], s["o"] * sp.tanh(s["f"] * s["c_{t-1}"] + s["i"] * s["g"]))


def _lstm_derivation() -> list[Step]:
    sp, s = _lstm_symbols()
    cell = s["f"] * s["c_{t-1}"] + s["i"] * s["g"]
    return [
        _premise(
            "the cell keeps f of its past and writes i of the candidate g", s["c_{t}"], cell, "cell"
        ),
        _premise(
            "the output gate reads tanh of the cell",
            s["h_{t}"],
            s["o"] * sp.tanh(s["c_{t}"]),
            "output",
        ),
        Step(
            "the hidden state (elementwise products)",
            s["h_{t}"],
            s["o"] * sp.tanh(s["c_{t}"]),
            uses=("output",),
        ),
        Step("the cell update", rhs=s["o"] * sp.tanh(cell), uses=("cell",)),
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
        sheet_lines=(349, 353),
    )
)


def _constant_error_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(15)
    D, H = 2, 3
    x, h, c = rng.normal(size=D), rng.normal(size=H), rng.normal(size=H)
    W, b = rng.normal(size=(4 * H, D + H)), rng.normal(size=4 * H)
    jacobian = _numeric_jacobian(lambda cell: lstm_cell(x, h, cell, W, b)[1], c)
    forget = 1 / (1 + np.exp(-(W @ np.concatenate([x, h]) + b)[H : 2 * H]))
    gap = float(np.max(np.abs(jacobian - np.diag(forget))))
    return Evidence(
        sheet_fails=bool(gap > 1e-7),
        correct_passes=bool(gap <= 1e-7),
        detail=f"finite-difference dc_t/dc_(t-1) of an LSTM cell (H = 3) vs diag(f): max gap "
        f"{gap:.1e}; no W in the path through the cell",
    )


register_claim(
    Claim(
        id="lstm-constant-error-flow",
        topic="rnn",
        section="12.1",
        sheet_lines=(340, 340),
        sheet="LSTM: we want constant error flow, not multiplied by W^t",
        verdict="correct",
        explanation="along the cell state dc_t/dc_{t-1} = diag(f): the gradient is scaled by "
        "the forget gate, not multiplied by W_hh at each step (the constant error carousel)",
        source="Hochreiter & Schmidhuber 1997, Long Short-Term Memory, Sec. 3-4",
        check=_constant_error_evidence,
    )
)
register_claim(
    Claim(
        id="lstm-gates",
        topic="rnn",
        section="12.1",
        sheet_lines=(342, 345),
        sheet="Input gate: which values to write, forget gate: which values to reset, output "
        "gate: which values to read, gate: candidate values to write to state",
        verdict="correct",
        explanation="i scales what is written to the cell, f what is kept (1 - f is reset), o "
        "what of tanh(c_t) is exposed as h_t, and g (tanh) holds the candidate values",
        source="Gers, Schmidhuber & Cummins 2000 (forget gate); Graves 2013, Sec. 2",
    )
)
