"""Generated questions on recurrent networks (sheet section 12): a vanilla RNN unrolled two
steps, an LSTM cell (from its weights, and from given gate values), the one-step Jacobian
dh_i/dh_{i-1} (with the sheet's f'(h_{i-1}) misprint as a foreseen mistake), the linear RNN's
matrix power, the BPTT bound eta^(t-k), gradient clipping by norm, and the order of the
vanishing-gradient argument.

Every answer comes from the formula registry (vanilla-rnn, lstm-cell, rnn-hidden-jacobian,
linear-rnn-power, bptt-vanishing-bound, gradient-clipping).
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    grid,
    guard_module,
    matrix,
    numeric,
    ordering_question,
    show,
    vector,
    wrong,
)

TOPIC = "rnn"


@template(
    "rnn-vanilla-step-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("vanilla-rnn",),
    difficulty=1,
    tags=("rnn",),
)
def vanilla_step(rng: random.Random, question_id: str) -> Question:
    import math

    import numpy as np

    import formulas

    w_hh, w_xh = grid(rng, -1, 1, 0.5) or 0.5, grid(rng, -1, 1.5, 0.5) or 1.0
    h0 = grid(rng, -0.5, 0.5, 0.5)
    xs = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    h = formulas.get("vanilla-rnn").evaluate(
        x=np.array(xs)[:, None], h0=np.array([h0]), W_hh=np.array([[w_hh]]), W_xh=np.array([[w_xh]])
    )
    value = h[1, 0]
    linear = w_hh * (w_hh * h0 + w_xh * xs[0]) + w_xh * xs[1]
    one_step = math.tanh(w_hh * h0 + w_xh * xs[1])
    return numeric(
        question_id,
        TOPIC,
        f"A scalar vanilla RNN h_t = tanh(W_hh h_(t-1) + W_xh x_t) has W_hh = {show(w_hh)}, "
        f"W_xh = {show(w_xh)} and h_0 = {show(h0)}. It reads x_1 = {show(xs[0])}, then x_2 = "
        f"{show(xs[1])}. What is h_2?",
        value,
        "Unroll: h_1 = tanh(W_hh h_0 + W_xh x_1), then h_2 = tanh(W_hh h_1 + W_xh x_2) with "
        "the same weights at every step. See `cheatsheet derive vanilla-rnn`.",
        ("vanilla-rnn",),
        mistakes=wrong(
            (linear, "the tanh is applied at every step."),
            (one_step, "that skips step 1: h_2 uses h_1, not h_0."),
            answer=value,
        ),
        drawn={"W_hh": w_hh, "W_xh": w_xh, "h_0": h0, "x_1": xs[0], "x_2": xs[1]},
    )


def _lstm_prompt_gates() -> str:
    return (
        "An LSTM cell computes i, f, o = sigmoid(.) and g = tanh(.) of W [x_t; h_(t-1)] + b, "
        "then c_t = f c_(t-1) + i g and h_t = o tanh(c_t)."
    )


@template(
    "rnn-lstm-cell-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("lstm-cell",),
    difficulty=3,
    tags=("lstm",),
)
def lstm_cell(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    x, h_prev, c_prev = grid(rng, -1, 1, 0.5), grid(rng, -1, 1, 0.5), grid(rng, -1, 1.5, 0.5)
    W = np.array([[grid(rng, -1, 1, 0.5) for _ in range(2)] for _ in range(4)])
    b = np.array([grid(rng, -0.5, 0.5, 0.5) for _ in range(4)])
    h_t, c_t = formulas.get("lstm-cell").evaluate(
        x=np.array([x]), h_prev=np.array([h_prev]), c_prev=np.array([c_prev]), W=W, b=b
    )[:, 0]
    ask_h = rng.random() < 0.5
    value = h_t if ask_h else c_t
    pre = W @ np.array([x, h_prev]) + b
    i, f, o = 1 / (1 + np.exp(-pre[:3]))
    g = np.tanh(pre[3])
    pairs = (
        [(o * c_t, "h_t = o tanh(c_t): the tanh of the cell state is missing.")]
        if ask_h
        else [
            (f * c_prev + g, "the input gate i must scale the candidate g."),
            (c_prev + i * g, "the forget gate f must scale c_(t-1)."),
        ]
    )
    gates = "; ".join(
        f"row {name}: [{show(W[k, 0])}, {show(W[k, 1])}], bias {show(b[k])}"
        for k, name in enumerate(("i", "f", "o", "g"))
    )
    return numeric(
        question_id,
        TOPIC,
        _lstm_prompt_gates()
        + f" With one input and one hidden unit the weights are ({gates}), multiplying "
        f"[x_t, h_(t-1)] = [{show(x)}, {show(h_prev)}]; c_(t-1) = {show(c_prev)}. What is "
        + ("h_t?" if ask_h else "c_t?"),
        value,
        f"Here i = {show(i, 4)}, f = {show(f, 4)}, o = {show(o, 4)}, g = {show(g, 4)}; c_t = f "
        "c_(t-1) + i g, h_t = o tanh(c_t). See `cheatsheet derive lstm-cell`.",
        ("lstm-cell",),
        mistakes=wrong(*pairs, answer=value),
        drawn={
            # per gate: its weights on [x_t, h_(t-1)] and its bias
            "rows": {name: W[k].tolist() for k, name in enumerate(("i", "f", "o", "g"))},
            "biases": {name: float(b[k]) for k, name in enumerate(("i", "f", "o", "g"))},
            "[x_t, h_(t-1)]": [x, h_prev],
            "c_(t-1)": c_prev,
            "asked": "h_t" if ask_h else "c_t",
        },
    )


@template(
    "rnn-lstm-from-gates-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("lstm-cell",),
    difficulty=1,
    tags=("lstm",),
)
def lstm_from_gates(rng: random.Random, question_id: str) -> Question:
    import math

    import numpy as np

    import formulas

    i, f, o = (rng.choice([0.1, 0.25, 0.5, 0.8, 0.9]) for _ in range(3))
    g = rng.choice([-0.8, -0.5, 0.2, 0.5, 0.9])
    c_prev = grid(rng, -2, 2, 0.5)
    # zero weights and biases that produce exactly these gate values
    b = np.array(
        [math.log(i / (1 - i)), math.log(f / (1 - f)), math.log(o / (1 - o)), math.atanh(g)]
    )
    h_t, c_t = formulas.get("lstm-cell").evaluate(
        x=np.zeros(1), h_prev=np.zeros(1), c_prev=np.array([c_prev]), W=np.zeros((4, 2)), b=b
    )[:, 0]
    ask_h = rng.random() < 0.5
    value = h_t if ask_h else c_t
    pairs = (
        [(o * c_t, "h_t = o tanh(c_t): the tanh is missing.")]
        if ask_h
        else [
            (
                i * c_prev + f * g,
                "the gates are swapped: the forget gate f scales the old "
                "cell c_(t-1), the input gate i the candidate g.",
            )
        ]
    )
    return numeric(
        question_id,
        TOPIC,
        f"In an LSTM step the gates take the values input i = {show(i)}, forget f = {show(f)}, "
        f"output o = {show(o)}, and the candidate is g = {show(g)}; the previous cell state is "
        f"c_(t-1) = {show(c_prev)}. What is " + ("h_t?" if ask_h else "c_t?"),
        value,
        "c_t = f c_(t-1) + i g (the additive path that lets the error flow), h_t = o "
        "tanh(c_t). See `cheatsheet derive lstm-cell`.",
        ("lstm-cell",),
        mistakes=wrong(*pairs, answer=value),
        drawn={
            "i": i,
            "f": f,
            "o": o,
            "g": g,
            "c_(t-1)": c_prev,
            "asked": "h_t" if ask_h else "c_t",
        },
    )


@template(
    "rnn-hidden-jacobian-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("rnn-hidden-jacobian",),
    difficulty=3,
    tags=("bptt", "errata"),
)
def hidden_jacobian(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    entries = [-1.0, -0.5, 0.5, 1.0]
    W_hh = np.array([[rng.choice(entries) for _ in range(2)] for _ in range(2)])
    while W_hh[0, 1] == W_hh[1, 0]:  # not symmetric, so the transpose is a different answer
        W_hh[0, 1] = rng.choice(entries)
    W_xh = np.eye(2)
    h_prev = np.array([grid(rng, -1, 1, 0.5) for _ in range(2)])
    x = np.array([grid(rng, -1, 1, 0.5) for _ in range(2)])
    J = formulas.get("rnn-hidden-jacobian").evaluate(W_hh=W_hh, W_xh=W_xh, h_prev=h_prev, x=x)
    sheet = W_hh.T @ np.diag(1 - np.tanh(h_prev) ** 2)
    r, c = rng.randrange(2), rng.randrange(2)
    value = J[r, c]
    return numeric(
        question_id,
        TOPIC,
        f"An RNN with two hidden units computes h_i = tanh(a_i), a_i = W_hh h_(i-1) + W_xh x_i, "
        f"with W_hh = {matrix(W_hh)}, W_xh = I, h_(i-1) = {vector(h_prev)} and x_i = "
        f"{vector(x)}. What is entry ({r + 1}, {c + 1}) of the Jacobian dh_i/dh_(i-1) "
        "(row = component of h_i, column = component of h_(i-1))?",
        value,
        "dh_i/dh_(i-1) = diag(f'(a_i)) W_hh with f' = 1 - tanh^2 at the pre-activation a_i of "
        "this step (the sheet writes f'(h_(i-1))). See `cheatsheet derive rnn-hidden-jacobian`.",
        ("rnn-hidden-jacobian",),
        mistakes=wrong(
            (
                sheet[r, c],
                "that is the sheet's W_hh^T diag f'(h_(i-1)): f' belongs at a_i, and "
                "in this layout the Jacobian is diag(f'(a_i)) W_hh.",
            ),
            (W_hh[r, c], "the factor f'(a_i) = 1 - tanh(a_i)^2 is missing."),
            answer=value,
        ),
        drawn={
            "W_hh": W_hh.tolist(),
            "h_(i-1)": h_prev.tolist(),
            "x_i": x.tolist(),
            "entry": [r + 1, c + 1],
        },
    )


@template(
    "rnn-linear-power-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("linear-rnn-power",),
    difficulty=2,
    tags=("exploding-gradients", "errata"),
)
def linear_power(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    W = np.zeros((2, 2))
    while W[0, 1] == W[1, 0] or abs(np.linalg.det(W)) < 0.25:  # invertible, not symmetric
        W = np.array([[rng.choice([-1, 0, 0.5, 1, 2]) for _ in range(2)] for _ in range(2)])
    h1 = np.array([rng.choice([-1, 1, 2]) for _ in range(2)], float)
    t = rng.choice([3, 4])
    power = formulas.get("linear-rnn-power")
    h_t = power.evaluate(W=W, h1=h1, t=t)
    j = rng.randrange(2)
    value = h_t[j]
    return numeric(
        question_id,
        TOPIC,
        f"A linear RNN without input runs h_t = W^T h_(t-1) from h_1 = {vector(h1)} with W = "
        f"{matrix(W)}. What is component {j + 1} of h_{t}?",
        value,
        "h_t = (W^T)^(t-1) h_1: t - 1 multiplications (the sheet drops the power). Its size "
        "is ruled by the largest |eigenvalue|: > 1 explodes, < 1 vanishes. See `cheatsheet "
        "derive linear-rnn-power`.",
        ("linear-rnn-power",),
        mistakes=wrong(
            ((W.T @ h1)[j], "that is the sheet's W^T h_1: the power t - 1 is missing."),
            (
                power.evaluate(W=W, h1=h1, t=t + 1)[j],
                "from h_1 to h_t there are t - 1 steps, not t.",
            ),
            (power.evaluate(W=W.T, h1=h1, t=t)[j], "the recurrence multiplies by W^T, not W."),
            answer=value,
        ),
        drawn={"W": W.tolist(), "h_1": h1.tolist(), "t": t, "component": j + 1},
    )


@template(
    "rnn-bptt-bound-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("bptt-vanishing-bound",),
    difficulty=2,
    tags=("bptt", "vanishing-gradients"),
)
def bptt_bound(rng: random.Random, question_id: str) -> Question:
    import formulas

    activation, gamma = rng.choice([("tanh", 1.0), ("sigmoid", 0.25)])
    lam = rng.choice([0.5, 0.8, 0.9, 1.2, 2.0, 3.0, 4.0])
    t = rng.randint(6, 12)
    k = rng.randint(1, t - 3)
    bound = formulas.get("bptt-vanishing-bound").statement.rhs
    names = {s.name: s for s in bound.free_symbols}
    value = float(bound.subs({names["eta"]: lam * gamma, names["t"]: t, names["k"]: k}))
    return numeric(
        question_id,
        TOPIC,
        f"An RNN h_i = {activation}(W_hh h_(i-1) + W_xh x_i) has ||W_hh|| = lambda_1 = "
        f"{show(lam)} (largest singular value), and |{activation}'| <= gamma = {show(gamma)}. "
        f"What upper bound does this give for ||dh_{t}/dh_{k}|| (the product of the step "
        f"Jacobians dh_i/dh_(i-1) for i = {k + 1} .. {t})?",
        value,
        "||prod_{i=k+1}^t dh_i/dh_(i-1)|| <= (lambda_1 gamma)^(t-k) = eta^(t-k): eta < 1 "
        "makes it vanish; eta > 1 only allows explosion (the bound is one-sided). See "
        "`cheatsheet derive bptt-vanishing-bound`.",
        ("bptt-vanishing-bound",),
        mistakes=wrong(
            (
                lam ** (t - k),
                f"the activation's derivative bound gamma = {show(gamma)} also "
                "multiplies each step.",
            ),
            ((lam * gamma) ** (t - k - 1), f"there are t - k = {t - k} factors."),
            ((lam * gamma) ** t, "the product runs from step k + 1 to t: exponent t - k."),
            answer=value,
        ),
        drawn={"activation": activation, "lambda_1": lam, "gamma": gamma, "t": t, "k": k},
    )


@template(
    "rnn-gradient-clipping-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("gradient-clipping",),
    difficulty=1,
    tags=("exploding-gradients",),
)
def clipping(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    grad = np.array(
        rng.choice([[3, 4], [6, -8], [-5, 12], [2, -2, 1], [1, 2, 2], [4, -4, 2]]), float
    ) * rng.choice([1, 2])
    threshold = rng.choice([1.0, 2.0, 5.0, 10.0])
    clipped = formulas.get("gradient-clipping").evaluate(grad=grad, threshold=threshold)
    j = rng.randrange(len(grad))
    value = clipped[j]
    return numeric(
        question_id,
        TOPIC,
        f"Gradient clipping by norm with threshold {show(threshold)} is applied to the "
        f"gradient g = {vector(grad)}. What is component {j + 1} of the clipped gradient?",
        value,
        "If ||g|| > threshold then g <- g threshold / ||g|| (the direction is kept), else g "
        f"stays; here ||g|| = {show(np.linalg.norm(grad))}. See `cheatsheet derive "
        "gradient-clipping`.",
        ("gradient-clipping",),
        mistakes=wrong(
            (
                np.clip(grad, -threshold, threshold)[j],
                "that clips each component separately; "
                "clipping by norm rescales the whole vector and keeps its direction.",
            ),
            answer=value,
        ),
        drawn={"threshold": threshold, "g": grad.tolist(), "component": j + 1},
    )


@template(
    "rnn-vanishing-argument-order-draw",
    topic=TOPIC,
    kind="ordering",
    formulas=("bptt-vanishing-bound",),
    difficulty=2,
    tags=("derivation", "vanishing-gradients"),
)
def vanishing_order(rng: random.Random, question_id: str) -> Question:
    return ordering_question(
        rng,
        question_id,
        TOPIC,
        "bptt-vanishing-bound",
        "Put the argument that BPTT gradients vanish when lambda_1 gamma < 1 in order.",
        example=True,
    )


@template(
    "rnn-linear-gradients-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("linear-rnn-power",),
    difficulty=3,
    tags=("vanishing", "exploding", "multipart"),
)
def linear_gradients_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    small, large = rng.choice([0.5, 0.8]), rng.choice([1.2, 1.5, 2.0])
    W = np.diag([small, large]) if rng.random() < 0.5 else np.diag([large, small])
    h1 = [grid(rng, -2, 2, 0.5) or 1.0 for _ in range(2)]
    t = rng.randint(3, 5)
    component = rng.randint(1, 2)
    h_t = formulas.get("linear-rnn-power").evaluate(W=W.tolist(), h1=h1, t=t)
    # dh_t/dh_1 = W^(t-1): for a diagonal W its largest singular value is max|w|^(t-1)
    norm = float(np.linalg.norm(np.linalg.matrix_power(W, t - 1), 2))
    return problem(
        question_id,
        TOPIC,
        f"A linear RNN without inputs, h_t = W h_{{t-1}}, has W = {matrix(W)} and starts from "
        f"h_1 = {vector(h1)}.",
        [
            part(
                "numeric",
                f"What is component {component} of h_{t} (components counted from 1)?",
                h_t[component - 1],
                f"h_t = W^(t-1) h_1 = W^{t - 1} h_1.",
                drawn={"t": t, "component": component},
            ),
            part(
                "numeric",
                f"What is the spectral norm (largest singular value) of the Jacobian dh_{t}/dh_1?",
                norm,
                "dh_t/dh_1 = W^(t-1); for a diagonal W its singular values are |w_ii|^(t-1).",
                drawn={"t": t},
            ),
            choice_part(
                rng,
                "What happens to the gradient that flows back from h_t to h_1 as t grows, and why?",
                "it explodes along one direction and vanishes along the other: W^(t-1) scales "
                f"them by {show(large)}^(t-1) and {show(small)}^(t-1)",
                {
                    "it vanishes in every direction, because W is a contraction": f"the entry "
                    f"{show(large)} > 1 makes W expand one direction",
                    "it stays bounded, because a linear RNN has no tanh to saturate": "without "
                    "tanh nothing damps W^(t-1)",
                    "it explodes in every direction, because the largest singular value is "
                    "above 1": f"the direction with {show(small)} < 1 still vanishes",
                },
                "Powers of W scale each eigendirection by its eigenvalue's power.",
            ),
        ],
        formulas=("linear-rnn-power",),
        carried={1: f"(a) h_{t} = {vector([number(v) for v in h_t])}"},
        drawn={"W": W.tolist(), "h_1": h1},
    )


@template(
    "rnn-clipping-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("gradient-clipping",),
    difficulty=2,
    tags=("clipping", "exploding", "multipart"),
)
def clipping_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    grad = np.array(rng.choice([(3, 4), (6, 8), (5, 12), (8, 6), (-3, 4), (12, -5)]), float)
    grad *= rng.choice([1.0, 2.0, 0.5])
    threshold = rng.choice([1.0, 2.0, 5.0])
    while np.linalg.norm(grad) <= threshold:
        grad *= 2
    clipped = formulas.get("gradient-clipping").evaluate(grad=grad, threshold=threshold)
    component = rng.randrange(2)
    return problem(
        question_id,
        TOPIC,
        f"Backprop through time returns the gradient g = {vector(grad)}. Gradient clipping by "
        f"norm uses the threshold {show(threshold)}.",
        [
            part("numeric", "What is ||g||?", float(np.linalg.norm(grad)), "sqrt(sum g_i^2)."),
            part(
                "numeric",
                f"What is component {component + 1} (counting from 1) of the clipped gradient?",
                clipped[component],
                "g <- threshold g/||g|| when ||g|| > threshold.",
                drawn={"component": component + 1},
            ),
            choice_part(
                rng,
                "What does clipping by norm keep, and what does it fix?",
                "the direction of g (only its length is capped); it stops exploding gradients "
                "from taking huge steps",
                {
                    "the length of g; it fixes vanishing gradients": "clipping only shrinks; "
                    "small gradients stay small",
                    "each component's sign and size up to the threshold; it fixes exploding "
                    "gradients": "that is clipping by value, which changes the direction",
                    "nothing: it is a regulariser against overfitting": "it bounds the step, "
                    "it does not regularise the model",
                },
                "Pascanu et al.: rescale when ||g|| exceeds a threshold.",
            ),
        ],
        formulas=("gradient-clipping",),
        carried={1: f"(a) ||g|| = {number(np.linalg.norm(grad))}"},
        drawn={"g": grad.tolist(), "threshold": threshold},
    )


@template(
    "rnn-vanilla-bptt-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("vanilla-rnn", "rnn-hidden-jacobian"),
    difficulty=3,
    tags=("bptt", "multipart"),
)
def vanilla_bptt_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, number, part, show

    w_hh = rng.choice([0.5, -0.5, 1.0, 2.0])
    w_xh = rng.choice([1.0, 0.5, -1.0])
    xs = [grid(rng, -1, 1, 0.5) or 0.5 for _ in range(2)]
    h = np.asarray(
        formulas.get("vanilla-rnn").evaluate(
            x=[[v] for v in xs], h0=[0.0], W_hh=[[w_hh]], W_xh=[[w_xh]]
        )
    )[:, 0]
    jacobian = float(w_hh * (1 - h[1] ** 2))  # dh_2/dh_1 = tanh'(a_2) W_hh
    return problem(
        question_id,
        TOPIC,
        f"A scalar vanilla RNN h_t = tanh(W_hh h_{{t-1}} + W_xh x_t) with W_hh = {show(w_hh)}, "
        f"W_xh = {show(w_xh)}, h_0 = 0 reads x_1 = {show(xs[0])}, x_2 = {show(xs[1])}.",
        [
            part("numeric", "What is h_1?", h[0], "tanh(W_xh x_1)."),
            part("numeric", "What is h_2?", h[1], "tanh(W_hh h_1 + W_xh x_2)."),
            part("numeric", "What is dh_2/dh_1?", jacobian, "tanh'(a_2) W_hh = (1 - h_2^2) W_hh."),
            choice_part(
                rng,
                "Over many steps, dh_t/dh_1 is a product of such factors. When does it vanish "
                "for sure?",
                "when |W_hh| < 1: every factor (1 - h^2) W_hh is then below 1 in size",
                {
                    "when |W_hh| > 1": "then it can explode, or vanish only if tanh saturates",
                    "never: tanh' = 1 everywhere": "tanh' = 1 - tanh^2 <= 1, and < 1 away from 0",
                    "only when x_t = 0": "the inputs change a_t, but the bound comes from "
                    "|W_hh| and tanh' <= 1",
                },
                "|prod (1 - h_k^2) W_hh| <= |W_hh|^(t-1).",
            ),
        ],
        formulas=("vanilla-rnn", "rnn-hidden-jacobian"),
        carried={1: f"(a) h_1 = {number(h[0])}", 2: f"(b) h_2 = {number(h[1])}"},
        drawn={"W_hh": w_hh, "W_xh": w_xh, "x_1": xs[0], "x_2": xs[1]},
    )


@template(
    "rnn-lstm-cell-path-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("lstm-cell",),
    difficulty=3,
    tags=("lstm", "vanishing", "multipart"),
)
def lstm_cell_path_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    z_i, z_f, z_o, z_g = (grid(rng, -2, 2, 0.5) for _ in range(4))
    z_f = abs(z_f) + 1.0  # a forget gate that keeps most of the cell
    c_prev = grid(rng, -1.5, 1.5, 0.5) or 1.0
    steps = rng.choice([10, 20, 50])
    W = [[z_i, 0.0], [z_f, 0.0], [z_o, 0.0], [z_g, 0.0]]  # x = 1: the pre-activations are z
    h, c = (
        float(v[0])
        for v in formulas.get("lstm-cell").evaluate(x=[1.0], h_prev=[0.0], c_prev=[c_prev], W=W)
    )
    f = 1 / (1 + math.exp(-z_f))
    o = 1 / (1 + math.exp(-z_o))
    through_cell = o * (1 - math.tanh(c) ** 2) * f
    return problem(
        question_id,
        TOPIC,
        f"One step of a scalar LSTM cell: the gate pre-activations are z_i = {show(z_i)}, "
        f"z_f = {show(z_f)}, z_o = {show(z_o)} and the candidate's is z_g = {show(z_g)}; "
        "i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o), g = tanh(z_g), "
        f"c_t = f c_{{t-1}} + i g, h_t = o tanh(c_t). The previous cell state is c_{{t-1}} = "
        f"{show(c_prev)}. 3 significant figures.",
        [
            part("numeric", "What is c_t?", c, "c_t = f c_{t-1} + i g."),
            part("numeric", "What is h_t?", h, "h_t = o tanh(c_t)."),
            part(
                "symbolic",
                "Derive dh_t/dc_{t-1} (through the cell, with the gates held fixed) in terms "
                "of o, f and c_t.",
                "o*f*(1 - tanh(c_t)^2)",
                "dh_t/dc_t = o tanh'(c_t) = o (1 - tanh(c_t)^2), and dc_t/dc_{t-1} = f.",
                symbols={"o": "unit", "f": "unit", "c_t": "real"},
            ),
            part(
                "numeric",
                "What is its value here?",
                through_cell,
                "o f (1 - tanh(c_t)^2) with the gate values of this step.",
            ),
            part(
                "numeric",
                f"If the forget gate stayed at this step's value f for {steps} steps, what would "
                f"dc_{{t+{steps}}}/dc_t along the cell path be?",
                f**steps,
                "The cell path multiplies only the forget gates: f^k.",
                drawn={"steps": steps},
            ),
            choice_part(
                rng,
                "The LSTM's cell carries gradients over long spans better than a vanilla RNN's "
                "hidden state. Which explanation is right?",
                "the cell update is additive, so dc_t/dc_{t-1} = f: no W_hh and no tanh' in the "
                "product, and a forget gate near 1 keeps it near 1",
                {
                    "the output gate rescales every gradient to norm 1": "o multiplies h_t; "
                    "it does not normalise gradients",
                    "the cell has no nonlinearity at all, so every gradient is exactly 1": "the "
                    "factor is the forget gate f, which is below 1",
                    "it has fewer parameters, so its Jacobians are smaller": "it has about four "
                    "times the parameters of a vanilla RNN of the same width",
                },
                "Hochreiter and Schmidhuber's constant error carousel, gated by f.",
            ),
        ],
        formulas=("lstm-cell",),
        carried={
            1: f"(a) c_t = {number(c)}",
            3: f"(a) c_t = {number(c)}; f = {number(f)}, o = {number(o)}",
            4: f"f = {number(f)}",
        },
        drawn={"z_i": z_i, "z_f": z_f, "z_o": z_o, "z_g": z_g, "c_{t-1}": c_prev},
    )


@template(
    "rnn-bptt-bound-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("bptt-exploding-condition", "bptt-jacobian-product"),
    difficulty=4,
    tags=("bptt", "vanishing", "exploding", "multipart"),
)
def bptt_bound_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    while True:
        W = np.array([[grid(rng, -2, 2, 0.5) for _ in range(2)] for _ in range(2)])
        lam = float(np.linalg.svd(W, compute_uv=False)[0])
        if 1.2 < lam < 3.5 and abs(np.linalg.det(W)) > 0.1:
            break
    span = rng.choice([5, 10, 20])
    # sheet 13: ||dh_i/dh_{i-1}|| <= ||W_hh^T|| ||diag f'|| <= lambda_1 gamma =: eta
    sigmoid_bound = (lam / 4) ** span
    tanh_bound = lam**span
    return problem(
        question_id,
        TOPIC,
        f"An RNN h_i = f(W_hh h_{{i-1}} + W_xh x_i) has W_hh = {matrix(W)}. BPTT multiplies "
        "the Jacobians dh_i/dh_{i-1} = diag(f'(a_i)) W_hh; lambda_1 is the largest singular "
        "value of W_hh, gamma a bound on ||diag f'|| (spectral norms). 3 significant figures.",
        [
            part(
                "numeric",
                "What is lambda_1?",
                lam,
                "The square root of the largest eigenvalue of W_hh^T W_hh.",
            ),
            part(
                "symbolic",
                "Derive the bound on ||dh_t/dh_k|| (t > k) in terms of lambda_1, gamma, t and k.",
                "(lambda_1*gamma)^(t - k)",
                "Each factor has norm <= ||W_hh|| ||diag f'|| <= lambda_1 gamma; the norm of a "
                "product is at most the product of the norms, over t - k factors.",
                symbols={
                    "lambda_1": "positive",
                    "gamma": "positive",
                    "t": "positive-integer",
                    "k": "positive-integer",
                },
            ),
            part(
                "numeric",
                f"With f = sigmoid (gamma = 1/4, the largest sigmoid'), what is the bound for "
                f"t - k = {span}?",
                sigmoid_bound,
                "(lambda_1 / 4)^(t - k).",
                drawn={"t - k": span},
            ),
            part(
                "numeric",
                f"With f = tanh (gamma = 1), what is the bound for t - k = {span}?",
                tanh_bound,
                "lambda_1^(t - k).",
                drawn={"t - k": span},
            ),
            choice_part(
                rng,
                "What do (c) and (d) prove about the gradients, and why?",
                "the sigmoid RNN's gradients vanish (lambda_1 < 1/gamma = 4), but nothing "
                "follows for tanh: lambda_1 > 1/gamma is necessary for exploding, not "
                "sufficient, since the bound only caps the norm",
                {
                    "both explode, since lambda_1 > 1 in both cases": "the sigmoid's gamma = "
                    "1/4 makes its bound shrink, and a bound above 1 proves nothing",
                    "the tanh RNN's gradients explode, since lambda_1 > 1/gamma = 1": "an upper "
                    "bound that grows does not make the norm grow (saturated units, tanh' << 1)",
                    "both vanish, since sigmoid' and tanh' are below 1": "for tanh the bound "
                    "lambda_1^(t - k) grows; vanishing is not proved",
                },
                "Pascanu et al.: lambda_1 < 1/gamma is sufficient for vanishing; the converse "
                "only gives a necessary condition for exploding.",
            ),
        ],
        formulas=("bptt-exploding-condition", "bptt-jacobian-product"),
        carried={
            2: f"(a) lambda_1 = {number(lam)}; (b) (lambda_1 gamma)^(t - k)",
            3: f"(a) lambda_1 = {number(lam)}; (b) (lambda_1 gamma)^(t - k)",
            4: f"(c) {number(sigmoid_bound)}; (d) {number(tanh_bound)}",
        },
        drawn={"W_hh": W.tolist()},
    )


guard_module(__name__)
