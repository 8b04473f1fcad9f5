"""Generated questions on self-attention (sheet section 3.1): attention weights for a small
query and keys (with the 1/sqrt(D) scaling), an attention output, masked (causal)
self-attention, the causal mask itself, the O(T^2 D) cost, sinusoidal positional encodings,
and their closed forms.

Every answer comes from the formula registry (attention-weights, scaled-dot-product-attention,
attention-causal, causal-mask, attention-cost, positional-encoding).
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    grid,
    guard_module,
    matrix,
    mistake,
    number,
    show,
    symbolic_question,
    vector,
)

TOPIC = "attention"


def _rows(rng: random.Random, count: int, width: int, step: float = 0.5) -> list[list[float]]:
    return [[grid(rng, -2, 2, step) for _ in range(width)] for _ in range(count)]


@template(
    "attn-weights-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("attention-weights",),
    difficulty=2,
    tags=("softmax", "scaling"),
)
def attention_weights(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    dims = rng.choice([2, 4])
    q = _rows(rng, 1, dims)
    keys = _rows(rng, 3, dims)
    j = rng.randint(1, 3)
    weights = formulas.get("attention-weights")
    value = weights.evaluate(Q=q, K=keys)[0][j - 1]
    # without the 1/sqrt(D): the same registry call on a query scaled by sqrt(D)
    unscaled = weights.evaluate(Q=[[v * math.sqrt(dims) for v in q[0]]], K=keys)[0][j - 1]
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"Scaled dot-product attention with D = {dims}: the query is q = {vector(q[0])} and "
            f"the keys are k_1, k_2, k_3 = {matrix(keys)}. What is the attention weight "
            f"alpha_{j} that q puts on key k_{j}? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "alpha = Softmax(q K^T / sqrt(D)): scale the dot products by 1/sqrt(D), then "
            "exponentiate and normalise over the keys. See `cheatsheet derive attention-weights`."
        ),
        abs_tol=2e-3,
        rel_tol=5e-3,
        drawn={"D": dims, "q": q[0], "k_1, k_2, k_3": keys, "j": j},
        mistakes=mistake(
            unscaled, value, "the dot products are divided by sqrt(D) before the softmax."
        ),
    )


@template(
    "attn-output-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("scaled-dot-product-attention",),
    difficulty=2,
    tags=("softmax",),
)
def attention_output(rng: random.Random, question_id: str) -> Question:
    import formulas

    q = _rows(rng, 1, 2)
    keys = _rows(rng, 2, 2)
    values = _rows(rng, 2, 2)
    component = rng.randint(1, 2)
    value = formulas.get("scaled-dot-product-attention").evaluate(Q=q, K=keys, V=values)[0][
        component - 1
    ]
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"Scaled dot-product attention with D = 2: the query is q = {vector(q[0])}, the keys "
            f"are k_1, k_2 = {matrix(keys)} and the values v_1, v_2 = {matrix(values)}. What is "
            f"component {component} of the output Attention(q, K, V)? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "Attention(Q, K, V) = Softmax(Q K^T / sqrt(D)) V: the output is the convex "
            "combination of the value rows with the attention weights. See `cheatsheet derive "
            "scaled-dot-product-attention`."
        ),
        abs_tol=3e-3,
        rel_tol=5e-3,
        drawn={"q": q[0], "k_1, k_2": keys, "v_1, v_2": values, "component": component},
    )


@template(
    "attn-causal-output-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("attention-causal", "causal-mask"),
    difficulty=3,
    tags=("mask", "causal"),
)
def causal_output(rng: random.Random, question_id: str) -> Question:
    import formulas

    tokens = rng.choice([3, 4])
    X = _rows(rng, tokens, 2)
    identity = [[1.0, 0.0], [0.0, 1.0]]
    # W_V is drawn (not I), so the answer depends on the weights as well as on the tokens.
    W_V = [[float(rng.choice([-1, 1, 2])), float(rng.choice([-1, 0, 1]))] for _ in range(2)]
    while W_V[0][0] * W_V[1][1] - W_V[0][1] * W_V[1][0] == 0:
        W_V[1][1] = float(rng.choice([-2, 1, 2]))
    position = rng.randint(2, tokens - 1)  # the last position would see everything anyway
    component = rng.randint(1, 2)
    value = formulas.get("attention-causal").evaluate(X=X, W_Q=identity, W_K=identity, W_V=W_V)
    V = [[sum(row[k] * W_V[k][c] for k in range(2)) for c in range(2)] for row in X]
    unmasked = formulas.get("scaled-dot-product-attention").evaluate(Q=X, K=X, V=V)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"Masked (causal) self-attention over T = {tokens} tokens, positions counted from 1, "
            f"with token rows x_1, .., x_{tokens} = {matrix(X)}, W_Q = W_K = I and "
            f"W_V = {matrix(W_V)} (rows of X multiply from the left: Q = X W_Q, K = X W_K, "
            f"V = X W_V, D = 2). What is component {component} of the output y_{position} at "
            f"position {position}? (3 significant digits)"
        ),
        answer=number(value[position - 1][component - 1]),
        explanation=(
            "Y = Softmax(Q K^T / sqrt(D) + M) V with M_ij = 0 for j <= i and -inf for j > i: "
            f"y_{position} mixes only the value rows x_1 W_V..x_{position} W_V. See "
            "`cheatsheet derive attention-causal`."
        ),
        abs_tol=3e-3,
        rel_tol=5e-3,
        mistakes=mistake(
            unmasked[position - 1][component - 1],
            value[position - 1][component - 1],
            "that lets the token attend to future positions; the causal mask removes j > i.",
        ),
        drawn={"T": tokens, "X": X, "W_V": W_V, "position": position, "component": component},
    )


@template(
    "attn-causal-mask-draw",
    topic=TOPIC,
    kind="truefalse",
    formulas=("causal-mask",),
    difficulty=1,
    tags=("mask", "causal"),
)
def causal_mask(rng: random.Random, question_id: str) -> Question:
    import formulas

    tokens = rng.randint(3, 8)
    i, j = rng.randint(1, tokens), rng.randint(1, tokens)
    entry = formulas.get("causal-mask").evaluate(T=tokens)[i - 1][j - 1]
    attends = bool(entry == 0)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="truefalse",
        prompt=(
            f"A decoder uses masked (causal) self-attention over T = {tokens} tokens, positions "
            f"numbered 1..{tokens}. True or false: the query at position i = {i} can put nonzero "
            f"attention weight on the key at position j = {j}?"
        ),
        answer="true" if attends else "false",
        explanation=(
            "M_ij = 0 for j <= i (past and present) and -inf for j > i (future), so "
            "exp(-inf) = 0 weight on the future. See `cheatsheet derive causal-mask`."
        ),
        drawn={"T": tokens, "i": i, "j": j},
    )


@template(
    "attn-cost-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("attention-cost",),
    difficulty=1,
    tags=("complexity",),
)
def attention_cost(rng: random.Random, question_id: str) -> Question:
    import formulas

    tokens = rng.choice([128, 256, 512, 1024, 2048])
    dims = rng.choice([32, 64, 128])
    cost = formulas.get("attention-cost")
    value = cost.evaluate(T=tokens, D=dims)
    halved = cost.evaluate(T=tokens, D=dims) / 2
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"One attention head over T = {tokens} tokens with D = {dims}: counting 2 FLOPs per "
            "multiply-add, how many FLOPs do the two matrix products Q K^T and alpha V take "
            "together? (the softmax and the projections not counted; 3 significant digits, "
            "e.g. 1.23e7)"
        ),
        answer=number(value),
        explanation=(
            "Q K^T takes T^2 dot products of length D (2 T^2 D FLOPs), alpha V the same: "
            "4 T^2 D in total, quadratic in the sequence length. See `cheatsheet derive "
            "attention-cost`."
        ),
        abs_tol=0.0,
        rel_tol=5e-3,
        mistakes=mistake(
            halved, value, "that is one of the two products, or multiply-adds instead of FLOPs."
        ),
        drawn={"T": tokens, "D": dims},
    )


@template(
    "attn-positional-encoding-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("positional-encoding",),
    difficulty=2,
    tags=("positional-encoding",),
)
def positional_encoding(rng: random.Random, question_id: str) -> Question:
    import formulas

    dims = rng.choice([4, 8, 16])
    pos = rng.randint(1, 20)
    index = rng.randint(0, dims - 1)
    value = formulas.get("positional-encoding").evaluate(T=pos + 1, D=dims)[pos][index]
    i, parity = divmod(index, 2)
    function = "cos" if parity else "sin"
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"Sinusoidal positional encoding with D = {dims}: PE(pos, 2i) = "
            "sin(pos / 10000^(2i/D)) and PE(pos, 2i+1) = cos(pos / 10000^(2i/D)), dimensions "
            f"counted from 0. What is PE({pos}, {index})? (radians; 3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            f"Dimension {index} = 2i + {parity} with i = {i}: {function}({pos} / 10000^"
            f"({2 * i}/{dims})). See `cheatsheet derive positional-encoding`."
        ),
        abs_tol=5e-4,
        rel_tol=5e-3,
        drawn={"D": dims, "pos": pos, "index": index},
    )


@template(
    "attn-closed-form-draw",
    topic=TOPIC,
    kind="symbolic",
    formulas=("attention-cost", "positional-encoding"),
    difficulty=2,
    tags=("closed-form",),
)
def closed_form(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.templates._kit import renamed

    if rng.random() < 0.5:
        formula_id = "attention-cost"
        symbols = {"T": "positive-integer", "D": "positive-integer"}
        prompt = (
            "Write the FLOPs of the two products Q K^T and alpha V of one self-attention head "
            "(T tokens, D dimensions, 2 FLOPs per multiply-add) in terms of T and D."
        )
    else:
        formula_id = "positional-encoding"
        symbols = {"pos": "nonnegative-integer", "i": "nonnegative-integer", "D": "positive"}
        prompt = (
            "Write the sinusoidal positional encoding PE(pos, 2i) (an even dimension 2i) in "
            "terms of pos, i and D."
        )
    rhs = renamed(formulas.get(formula_id).statement.rhs, {n: n for n in symbols}, symbols)
    return symbolic_question(question_id, TOPIC, prompt, rhs, symbols, formula_id)


@template(
    "attn-weights-output-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("attention-weights", "scaled-dot-product-attention"),
    difficulty=3,
    tags=("softmax", "multipart"),
)
def attention_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    q = _rows(rng, 1, 2)
    while not any(q[0]):
        q = _rows(rng, 1, 2)
    keys = _rows(rng, 3, 2)
    values = _rows(rng, 3, 2)
    j = rng.randint(1, 3)
    component = rng.randint(1, 2)
    weights = formulas.get("attention-weights").evaluate(Q=q, K=keys)[0]
    output = formulas.get("scaled-dot-product-attention").evaluate(Q=q, K=keys, V=values)[0]
    shown = vector([float(w) for w in weights], 4)
    return problem(
        question_id,
        TOPIC,
        f"Scaled dot-product attention with D = 2: one query q = {vector(q[0])}, the keys "
        f"k_1, k_2, k_3 = {matrix(keys)} and the values v_1, v_2, v_3 = {matrix(values)} "
        "(one row each).",
        [
            part(
                "numeric",
                f"What attention weight alpha_{j} does q put on key k_{j}?",
                weights[j - 1],
                "alpha = Softmax(q K^T / sqrt(D)).",
                drawn={"j": j},
            ),
            part(
                "numeric",
                f"What is component {component} of the output Attention(q, K, V)?",
                output[component - 1],
                "The output is sum_i alpha_i v_i.",
                drawn={"component": component},
            ),
            choice_part(
                rng,
                "Why are the scores divided by sqrt(D)?",
                "q.k of D unit-variance entries has variance D; the scaling keeps the softmax "
                "out of saturation",
                {
                    "so that the weights sum to one": "the softmax normalises with or without "
                    "the scaling",
                    "to make attention causal": "causality comes from the mask, not a scale",
                    "to cut the cost from O(T^2 D) to O(T D)": "a scalar division changes no cost",
                },
                "Var(q.k) = D for unit-variance entries; dividing by sqrt(D) keeps it 1.",
            ),
        ],
        formulas=("attention-weights", "scaled-dot-product-attention"),
        carried={1: f"(a) the weights alpha_1, alpha_2, alpha_3 = {shown}"},
        drawn={"q": q[0], "k_1, k_2, k_3": keys, "v_1, v_2, v_3": values},
    )


@template(
    "attn-causal-cost-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("causal-mask", "attention-cost"),
    difficulty=2,
    tags=("mask", "complexity", "multipart"),
)
def causal_cost_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    tokens = rng.choice([6, 8, 10, 12])
    dims = rng.choice([16, 32, 64])
    factor = rng.choice([2, 3, 4])
    mask = np.asarray(formulas.get("causal-mask").evaluate(T=tokens))
    blocked = int(np.isinf(mask).sum())
    cost = formulas.get("attention-cost")
    flops = cost.evaluate(T=tokens, D=dims)
    ratio = cost.evaluate(T=factor * tokens, D=dims) / flops
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        f"A decoder layer runs masked self-attention over T = {tokens} tokens with D = {dims} "
        "(one head).",
        [
            part(
                "numeric",
                "How many entries of the causal mask M are -infinity?",
                blocked,
                "M_ij = -inf for j > i: the strict upper triangle, T (T - 1)/2.",
                **exact,
            ),
            part(
                "numeric",
                "How many FLOPs do Q K^T and the product with V take together "
                "(2 per multiply-add, projections and softmax not counted)?",
                flops,
                "2 T^2 D for Q K^T and 2 T^2 D for alpha V.",
                **exact,
            ),
            part(
                "numeric",
                f"By what factor does that cost grow when T grows {factor}-fold?",
                ratio,
                "The cost is quadratic in T.",
                **exact,
                drawn={"factor": factor},
            ),
            choice_part(
                rng,
                "Does the causal mask reduce the FLOPs of a standard implementation, and why?",
                "no: the full T x T scores are computed and the masked ones set to -inf "
                "before the softmax",
                {
                    "yes, by half: only the lower triangle is computed": "a standard "
                    "implementation computes every score, then masks",
                    "yes, to O(T D): each token attends to one position": "each token "
                    "attends to all earlier positions",
                    "no: the mask adds O(T^3) work": "adding M is O(T^2), like the scores",
                },
                "Masking is an addition of -inf; the matrix products are unchanged.",
            ),
        ],
        formulas=("causal-mask", "attention-cost"),
        drawn={"T": tokens, "D": dims},
    )


@template(
    "attn-positional-encoding-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("positional-encoding",),
    difficulty=2,
    tags=("positional-encoding", "multipart"),
)
def positional_encoding_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    dims = rng.choice([4, 8])
    pos = rng.randint(1, 9)
    i = rng.randrange(dims // 2)
    table = np.asarray(formulas.get("positional-encoding").evaluate(T=pos + 1, D=dims))
    return problem(
        question_id,
        TOPIC,
        f"Sinusoidal positional encodings with D = {dims}: PE(pos, 2i) = sin(pos / "
        f"10000^(2i/D)) and PE(pos, 2i+1) = cos(pos / 10000^(2i/D)) (i counted from 0, angles "
        "in radians).",
        [
            part(
                "numeric",
                f"What is PE({pos}, {2 * i})?",
                table[pos, 2 * i],
                "sin of pos over the i-th wavelength.",
                drawn={"pos": pos, "index": 2 * i},
            ),
            part(
                "numeric",
                f"What is PE({pos}, {2 * i + 1})?",
                table[pos, 2 * i + 1],
                "cos of the same angle.",
                drawn={"pos": pos, "index": 2 * i + 1},
            ),
            part(
                "numeric",
                f"What is PE({pos}, {2 * i})^2 + PE({pos}, {2 * i + 1})^2?",
                table[pos, 2 * i] ** 2 + table[pos, 2 * i + 1] ** 2,
                "sin^2 + cos^2 = 1.",
            ),
            choice_part(
                rng,
                "Why sines and cosines of the same angle in pairs?",
                "PE(pos + k) is a rotation of PE(pos) in each pair, so relative offsets are a "
                "linear map the model can learn",
                {
                    "to keep the encodings in [0, 1]": "they lie in [-1, 1]",
                    "to make the encoding causal": "causality comes from the mask",
                    "so that every position gets the same encoding": "each position gets a "
                    "different one",
                },
                "sin(a + b), cos(a + b) are linear in sin a, cos a.",
            ),
        ],
        formulas=("positional-encoding",),
        drawn={"D": dims},
    )


@template(
    "attn-multi-head-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("multi-head-attention", "attention-cost"),
    difficulty=3,
    tags=("multi-head", "multipart"),
)
def multi_head_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    dims, heads = rng.choice([(64, 4), (128, 8), (256, 8), (512, 8), (96, 6)])
    tokens = rng.choice([10, 20, 50])
    X = _rows(rng, 3, 2)
    while len({tuple(row) for row in X}) < 3 or not all(any(row) for row in X):
        X = _rows(rng, 3, 2)
    row, column = rng.randint(1, 3), rng.randint(1, 2)
    eye = np.eye(2).tolist()
    mha = formulas.get("multi-head-attention")
    two = float(mha.evaluate(X=X, W_Q=eye, W_K=eye, W_V=eye, W_O=eye, heads=2)[row - 1, column - 1])
    one = float(mha.evaluate(X=X, W_Q=eye, W_K=eye, W_V=eye, W_O=eye, heads=1)[row - 1, column - 1])
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        "Multi-head self-attention: Q = X W_Q, K = X W_K, V = X W_V (X has one token per row); "
        "the D columns of Q, K and V are split into h heads of D/h consecutive columns each, "
        "head_i = Softmax(Q_i K_i^T / sqrt(D/h)) V_i (softmax along each row), and MHA(X) = "
        "Concat(head_1, ..., head_h) W_O; W_Q, W_K, W_V, W_O are D x D, without biases.",
        [
            part(
                "numeric",
                f"With D = {dims} and h = {heads} heads: how many learnable parameters do W_Q, "
                "W_K, W_V and W_O hold together?",
                4 * dims * dims,
                "Four D x D matrices, 4 D^2, whatever h: the heads split the columns, they do "
                "not add weights.",
                **exact,
                drawn={"D": dims, "h": heads},
            ),
            part(
                "numeric",
                f"With D = {dims}, h = {heads} and T = {tokens} tokens: how many FLOPs do the "
                "score products Q_i K_i^T of all heads take together (2 per multiply-add)?",
                formulas.get("attention-cost").evaluate(T=tokens, D=dims) / 2,
                "Each head: 2 T^2 (D/h); h heads: 2 T^2 D, the same as one head of width D.",
                **exact,
                drawn={"D": dims, "h": heads, "T": tokens},
            ),
            part(
                "numeric",
                f"A toy layer with D = 2, h = 2 and W_Q = W_K = W_V = W_O = I (the 2 x 2 "
                f"identity) on the T = 3 tokens X = {matrix(X)}: what is the entry of MHA(X) "
                f"in row {row}, column {column} (counting from 1)?",
                two,
                "Head c sees only column c: its scores are x_ic x_jc / sqrt(1).",
                drawn={"X": X, "row": row, "column": column},
            ),
            part(
                "numeric",
                "The same toy layer with one head of width 2 (h = 1): what is that entry "
                f"(row {row}, column {column}) now?",
                one,
                "One head: the scores are x_i . x_j / sqrt(2), one softmax for both columns.",
                drawn={"row": row, "column": column},
            ),
            choice_part(
                rng,
                "Which is right about h heads of width D/h versus one head of width D, and why?",
                "each head forms its own attention pattern over its own subspace, at the same "
                "parameter count and score FLOPs as one head of width D",
                {
                    "h heads have h times the parameters, so more capacity": "W_Q, W_K, W_V, "
                    "W_O stay D x D: 4 D^2 whatever h",
                    "h heads cut the cost of the scores by a factor h": "h T^2 (D/h) = T^2 D: "
                    "the same cost",
                    "the heads share one softmax, so the output equals one wide head's": "each "
                    "head has its own softmax: the toy entries differ",
                },
                "Parameters 4 D^2 and score cost 2 T^2 D do not depend on h; the h softmaxes "
                "let different heads attend to different positions.",
            ),
        ],
        formulas=("multi-head-attention", "attention-cost"),
    )


@template(
    "attn-causal-equivariance-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("attention-causal", "scaled-dot-product-attention", "causal-mask"),
    difficulty=3,
    tags=("mask", "permutation-equivariance", "multipart"),
)
def causal_equivariance_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    x = [grid(rng, -2, 2, 0.5) for _ in range(3)]
    while len(set(x)) < 3 or 0 in x:
        x = [grid(rng, -2, 2, 0.5) for _ in range(3)]
    wq, wk, wv = (rng.choice([-1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0]) for _ in range(3))
    X = [[v] for v in x]
    causal = float(
        formulas.get("attention-causal").evaluate(X=X, W_Q=[[wq]], W_K=[[wk]], W_V=[[wv]])[1, 0]
    )
    sdpa = formulas.get("scaled-dot-product-attention")
    Q, K, V = ([[w * v] for v in x] for w in (wq, wk, wv))
    full = float(sdpa.evaluate(Q=Q, K=K, V=V)[1, 0])
    reverse = [[M[1], M[2], M[0]] for M in (Q, K, V)]
    swapped = float(sdpa.evaluate(Q=reverse[0], K=reverse[1], V=reverse[2])[0, 0])
    symbols = {"s_21": "real", "s_22": "real", "s_23": "real"}
    return problem(
        question_id,
        TOPIC,
        f"Self-attention over T = 3 scalar tokens (D = 1) x_1, x_2, x_3 = {vector(x)} (counting "
        f"from 1), without positional encodings: q_i = {show(wq)} x_i, k_i = {show(wk)} x_i, "
        f"v_i = {show(wv)} x_i, the scores s_ij = q_i k_j / sqrt(D), and y_i = sum_j alpha_ij "
        "v_j with alpha_i. = Softmax(s_i. + M_i.) (M = 0 when unmasked).",
        [
            part(
                "symbolic",
                "With the causal mask (M_ij = -infinity for j > i, else 0), write the weight "
                "alpha_21 that query 2 puts on key 1, using s_21, s_22 and s_23 (as needed).",
                "exp(s_21)/(exp(s_21) + exp(s_22))",
                "Row 2 of the mask blocks j = 3: exp(-inf) = 0 drops s_23 from the softmax.",
                symbols=symbols,
            ),
            part(
                "numeric",
                "With the causal mask: what is y_2?",
                causal,
                "y_2 = alpha_21 v_1 + alpha_22 v_2.",
            ),
            part(
                "numeric",
                "Without the mask: what is y_2?",
                full,
                "All three keys enter the softmax.",
            ),
            part(
                "numeric",
                "Without the mask, the tokens are fed in the order (x_2, x_3, x_1). What is the "
                "output at position 1 (which now holds x_2)?",
                swapped,
                "Permuting the tokens permutes the outputs: the output for x_2 is unchanged.",
            ),
            choice_part(
                rng,
                "Why does a transformer need positional encodings?",
                "unmasked self-attention is permutation equivariant: permuting the tokens only "
                "permutes the outputs, so without positions word order is invisible",
                {
                    "the softmax needs positive inputs, which the encodings add": "the softmax "
                    "accepts any real scores",
                    "to make attention causal": "causality comes from the mask M",
                    "to keep the scores from growing with D": "that is the 1/sqrt(D) scaling",
                },
                "y_{pi(i)}(X permuted) = y_i(X): each output is a weighted sum over a set of "
                "keys; only positional encodings (or a mask) break the symmetry.",
            ),
        ],
        formulas=("attention-causal", "scaled-dot-product-attention", "causal-mask"),
        drawn={"x_1, x_2, x_3": x, "w_q": wq, "w_k": wk, "w_v": wv},  # q_i = w_q x_i, ...
    )


guard_module(__name__)
