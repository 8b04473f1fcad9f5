"""Generated questions on autoregressive models (sheet section 3): parameter counts of the
tabular model, FVSBN and NADE, FVSBN conditionals, MADE mask connections from unit degrees,
PixelCNN mask entries (types A and B), WaveNet receptive fields, bits per dimension, and the
VQ-VAE codebook + commitment loss.

Every answer comes from the formula registry (tabular-*, fvsbn-*, nade-param-count, made-mask,
pixelcnn-mask, wavenet-receptive-field, bits-per-dim, vq-vae-loss).
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import grid, guard_module, matrix, mistake, number, show, vector

TOPIC = "autoregressive"


@template(
    "ar-param-count-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("tabular-total-param-count", "fvsbn-param-count", "nade-param-count"),
    difficulty=1,
    tags=("parameters",),
)
def param_count(rng: random.Random, question_id: str) -> Question:
    import formulas

    model = rng.choice(["tabular", "fvsbn", "nade"])
    if model == "tabular":
        n = rng.randint(3, 12)
        value = formulas.get("tabular-total-param-count").evaluate(n=n)
        prompt = (
            f"An autoregressive model over n = {n} binary variables stores every conditional "
            "p(x_i | x_<i) as a full table (one Bernoulli parameter per context). How many "
            "parameters does it have in total?"
        )
        formula_id = "tabular-total-param-count"
        drawn = {"n": n, "model": "full table"}
        explanation = "sum_{i=1}^{n} 2^{i-1} = 2^n - 1: exponential in n."
    elif model == "fvsbn":
        n = rng.randint(4, 100)
        value = formulas.get("fvsbn-param-count").evaluate(n=n)
        prompt = (
            f"A fully visible sigmoid belief network (FVSBN) over n = {n} binary variables has "
            "p(x_i = 1 | x_<i) = sigmoid(alpha_0^(i) + sum_{j<i} alpha_j^(i) x_j). How many "
            "parameters does it have in total?"
        )
        formula_id = "fvsbn-param-count"
        drawn = {"n": n, "model": "FVSBN"}
        explanation = "conditional i has a bias and i - 1 weights: sum_i i = n(n + 1)/2 = O(n^2)."
    else:
        n = rng.choice([16, 64, 100, 784, 1000])
        hidden = rng.choice([10, 32, 50, 100, 500])
        value = formulas.get("nade-param-count").evaluate(n=n, hidden=hidden)
        prompt = (
            f"A NADE over n = {n} binary variables uses d = {hidden} hidden units shared by all "
            "conditionals: h_i = sigmoid(W_{:,<i} x_<i + b), x_hat_i = sigmoid(V_i h_i + c_i). "
            "How many parameters (W, b, V, c) does it have in total?"
        )
        formula_id = "nade-param-count"
        drawn = {"n": n, "d": hidden, "model": "NADE"}
        explanation = "W is d x n, b has d, V is n x d, c has n: 2nd + n + d = O(nd)."
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=prompt,
        answer=str(int(round(float(value)))),
        explanation=f"{explanation} See `cheatsheet derive {formula_id}`.",
        formulas=(formula_id,),
        abs_tol=0.0,
        rel_tol=0.0,
        drawn=drawn,
    )


@template(
    "ar-wavenet-receptive-field-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("wavenet-receptive-field",),
    difficulty=1,
    tags=("wavenet", "dilation"),
)
def wavenet_receptive_field(rng: random.Random, question_id: str) -> Question:
    import formulas

    kernel = rng.choice([2, 2, 3])
    layers = rng.randint(3, 8)
    blocks = rng.randint(1, 3)
    dilations = [2**i for i in range(layers)] * blocks
    value = formulas.get("wavenet-receptive-field").evaluate(kernel=kernel, dilations=dilations)
    undilated = formulas.get("wavenet-receptive-field").evaluate(
        kernel=kernel, dilations=[1] * len(dilations)
    )
    stack = (
        f"dilations {vector(dilations[:layers])}"
        if blocks == 1
        else f"the dilation block {vector(dilations[:layers])} repeated {blocks} times"
    )
    drawn = {"kernel size": kernel, "dilations": dilations[:layers]}
    if blocks > 1:  # stated only when the block repeats
        drawn["repeated"] = blocks
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A WaveNet stacks causal convolutions of kernel size {kernel} with {stack} "
            f"({len(dilations)} layers). How many input samples does one output see "
            "(its receptive field)?"
        ),
        answer=str(int(round(float(value)))),
        explanation=(
            "r = 1 + sum_l (k - 1) d_l: each layer widens the field by (k - 1) times its "
            "dilation. See `cheatsheet derive wavenet-receptive-field`."
        ),
        abs_tol=0.0,
        rel_tol=0.0,
        drawn=drawn,
        mistakes=mistake(
            undilated, value, "that ignores the dilations: layer l reaches d_l (k - 1) further."
        ),
    )


@template(
    "ar-made-mask-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("made-mask",),
    difficulty=2,
    tags=("made", "masks"),
)
def made_mask(rng: random.Random, question_id: str) -> Question:
    import formulas

    dims = rng.randint(3, 5)
    hidden = rng.randint(3, 6)
    m_hidden = [rng.randint(1, dims - 1) for _ in range(hidden)]
    output = rng.random() < 0.5
    if output:
        mask = formulas.get("made-mask").evaluate(
            m_in=m_hidden, m_out=list(range(1, dims + 1)), output=True
        )
        layer = (
            f"the output layer, from the {hidden} hidden units with degrees m(k) = "
            f"{vector(m_hidden)} to the {dims} outputs x_hat_1..x_hat_{dims}"
        )
        rule = "output d connects to hidden unit k iff d > m(k) (strict)"
        drawn = {"D": dims, "m(k)": m_hidden, "layer": "the output layer"}
    else:
        mask = formulas.get("made-mask").evaluate(
            m_in=list(range(1, dims + 1)), m_out=m_hidden, output=False
        )
        layer = (
            f"the first layer, from the {dims} inputs x_1..x_{dims} (degrees 1..{dims}) to the "
            f"{hidden} hidden units with degrees m(k) = {vector(m_hidden)}"
        )
        rule = "hidden unit k connects to input d iff m(k) >= d"
        drawn = {"D": dims, "m(k)": m_hidden, "layer": "the first layer"}
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A one-hidden-layer MADE over D = {dims} variables. Consider {layer}. How many "
            "entries of this layer's mask are 1 (allowed connections)?"
        ),
        answer=str(int(mask.sum())),
        explanation=(
            f"MADE masks: {rule}, so x_hat_d only sees x_1..x_(d-1). "
            "See `cheatsheet derive made-mask`."
        ),
        abs_tol=0.0,
        rel_tol=0.0,
        drawn=drawn,
    )


_COLOURS = ("R", "G", "B")


@template(
    "ar-pixelcnn-mask-draw",
    topic=TOPIC,
    kind="truefalse",
    formulas=("pixelcnn-mask",),
    difficulty=2,
    tags=("pixelcnn", "masks"),
)
def pixelcnn_mask(rng: random.Random, question_id: str) -> Question:
    import formulas

    kernel = rng.choice([3, 5])
    mask_type = rng.choice(["A", "B"])
    centre = kernel // 2
    # Most variants ask about the centre pixel, where types A and B differ.
    if rng.random() < 0.6:
        row, col = centre, centre
    else:
        row, col = rng.randint(0, kernel - 1), rng.randint(0, kernel - 1)
    out_c, in_c = rng.randint(0, 2), rng.randint(0, 2)
    mask = formulas.get("pixelcnn-mask").evaluate(
        kernel=kernel, in_channels=3, out_channels=3, mask_type=mask_type
    )
    allowed = bool(mask[out_c, in_c, row, col])
    where = (
        "the centre position (the pixel being predicted)"
        if (row, col) == (centre, centre)
        else f"the position {row - centre:+d} rows, {col - centre:+d} columns from the centre"
    )
    drawn = {
        "kernel": kernel,
        "type": mask_type,
        "input channel": _COLOURS[in_c],
        "output channel": _COLOURS[out_c],
    }
    if (row, col) != (centre, centre):  # the offset from the centre, as printed (+1, -2)
        drawn.update({"rows": row - centre, "columns": col - centre})
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="truefalse",
        prompt=(
            f"A PixelCNN {kernel}x{kernel} masked convolution of type {mask_type} has 3 input and "
            "3 output channels, one per colour (R, G, B; predicted in the order R -> G -> B, "
            "pixels in raster order). True or false: the weight from input channel "
            f"{_COLOURS[in_c]} to output channel {_COLOURS[out_c]} at {where} is unmasked "
            "(may be nonzero)?"
        ),
        answer="true" if allowed else "false",
        explanation=(
            "Positions after the centre in raster order are masked for every channel; at the "
            "centre, type A (first layer) lets a colour see only earlier colours, type B (later "
            "layers) also itself. See `cheatsheet show pixelcnn-mask`."
        ),
        abs_tol=0.0,
        rel_tol=0.0,
        drawn=drawn,
    )


@template(
    "ar-bits-per-dim-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("bits-per-dim",),
    difficulty=1,
    tags=("likelihood", "evaluation"),
)
def bits_per_dim(rng: random.Random, question_id: str) -> Question:
    import formulas

    side = rng.choice([8, 16, 28, 32])
    channels = rng.choice([1, 3])
    dims = side * side * channels
    per_dim_nats = grid(rng, 0.5, 3.5, 0.05)
    nll = round(per_dim_nats * dims, 1)
    value = formulas.get("bits-per-dim").evaluate(nll=nll, dims=dims)
    in_nats = nll / dims  # nats per dimension, not yet in bits
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"An autoregressive model assigns {'an' if side == 8 else 'a'} {side} x {side} x "
            f"{channels} image a negative "
            f"log-likelihood of {show(nll, 8)} nats. What is that in bits per dimension? "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "bits/dim = NLL_nats / (D ln 2) with D = H * W * C: divide by the number of "
            "dimensions and convert nats to bits. See `cheatsheet show bits-per-dim`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        mistakes=mistake(in_nats, value, "that is nats per dimension: divide by ln 2 for bits."),
        drawn={"H x W x C": [side, side, channels], "NLL": nll},
    )


@template(
    "ar-vq-vae-loss-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("vq-vae-quantisation", "vq-vae-loss"),
    difficulty=2,
    tags=("vq-vae",),
)
def vq_vae_loss(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    codes = []
    while len(codes) < 3:
        code = [grid(rng, -2, 2, 0.5) for _ in range(2)]
        if code not in codes:
            codes.append(code)
    z_e = [grid(rng, -2, 2, 0.1) for _ in range(2)]
    # an unambiguous nearest code (no tie at the hand-computed distances)
    distances = sorted(float(np.sum((np.array(z_e) - np.array(c)) ** 2)) for c in codes)
    if distances[1] - distances[0] < 0.05:
        z_e = codes[0][:]
        z_e[0] = round(z_e[0] + 0.2, 1)
    beta = rng.choice([0.25, 0.5, 1.0])
    value = formulas.get("vq-vae-loss").evaluate(z_e=z_e, codebook=codes, beta=beta)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A VQ-VAE has the codebook e_1, e_2, e_3 = {matrix(codes)} and commitment weight "
            f"beta = {show(beta)}. The encoder outputs z_e(x) = {vector(z_e)}. What is the value "
            "of the codebook plus commitment terms ||sg[z_e] - e||^2 + beta ||z_e - sg[e]||^2 "
            "(without the reconstruction term)? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "e is the nearest code (argmin_k ||z_e - e_k||); sg only changes gradients, so in "
            "value both terms are ||z_e - e||^2: the loss is (1 + beta) ||z_e - e||^2. "
            "See `cheatsheet derive vq-vae-loss`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"e_1, e_2, e_3": codes, "beta": beta, "z_e(x)": z_e},
    )


@template(
    "ar-fvsbn-conditional-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("fvsbn-conditional",),
    difficulty=2,
    tags=("fvsbn",),
)
def fvsbn_conditional(rng: random.Random, question_id: str) -> Question:
    import formulas

    n = 3
    alpha0 = [grid(rng, -1, 1, 0.5) for _ in range(n)]
    alpha = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i):
            alpha[i][j] = grid(rng, -2, 2, 0.5)
    x = [rng.randint(0, 1) for _ in range(n)]
    i = rng.randint(2, n)
    value = formulas.get("fvsbn-conditional").evaluate(alpha0=alpha0, alpha=alpha, x=x)[i - 1]
    weights = ", ".join(f"alpha^({k + 1}) = {vector(alpha[k][:k])}" for k in range(1, n))
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"An FVSBN over n = {n} binary variables has the biases "
            f"(alpha_0^(1), .., alpha_0^({n})) = {vector(alpha0)} and "
            f"weights {weights} (alpha^(i) multiplies x_1..x_(i-1)). For x = {vector(x)}, what is "
            f"p(x_{i} = 1 | x_<{i})? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "p(x_i = 1 | x_<i) = sigmoid(alpha_0^(i) + sum_{j<i} alpha_j^(i) x_j): only the "
            "earlier variables enter. See `cheatsheet show fvsbn-conditional`."
        ),
        abs_tol=2e-3,
        rel_tol=5e-3,
        drawn={
            "alpha_0": alpha0,
            "alpha^(2)": alpha[1][:1],
            "alpha^(3)": alpha[2][:2],
            "x": x,
            "i": i,
        },
    )


@template(
    "ar-parameter-counts-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("tabular-total-param-count", "fvsbn-param-count", "nade-param-count"),
    difficulty=2,
    tags=("parameters", "multipart"),
)
def parameter_counts_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    n = rng.choice([5, 6, 8, 10, 12])
    hidden = rng.choice([3, 4, 5])
    tabular = formulas.get("tabular-total-param-count").evaluate(n=n)
    fvsbn = formulas.get("fvsbn-param-count").evaluate(n=n)
    nade = formulas.get("nade-param-count").evaluate(n=n, hidden=hidden)
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        f"Autoregressive models of n = {n} binary variables, p(x) = prod_i p(x_i | x_<i).",
        [
            part(
                "numeric",
                "How many parameters do the conditionals need as full tables (every "
                "conditional a table of Bernoulli parameters)?",
                tabular,
                "p(x_i | x_<i) needs 2^(i-1) numbers: sum_i 2^(i-1) = 2^n - 1.",
                **exact,
            ),
            part(
                "numeric",
                "How many parameters does an FVSBN (each conditional a logistic regression on "
                "x_<i with a bias) have?",
                fvsbn,
                "The i-th conditional has i parameters: sum_i i = n (n + 1)/2.",
                **exact,
            ),
            part(
                "numeric",
                f"How many parameters does a NADE with d = {hidden} hidden units have (W, b, V "
                "and c)?",
                nade,
                "W (d x n) + b (d) + V (n x d) + c (n) = 2 n d + n + d.",
                **exact,
                drawn={"d": hidden},
            ),
            choice_part(
                rng,
                "What keeps NADE's count linear in n?",
                "the hidden layer's weights W are shared by all conditionals; a_i grows by "
                "one column per step",
                {
                    "it models only the first-order conditionals p(x_i | x_{i-1})": "every "
                    "conditional sees all of x_<i",
                    "it drops the bias terms": "b and c are kept",
                    "it samples all variables in parallel": "sampling is sequential in NADE",
                },
                "Weight sharing: a_{i+1} = a_i + W[:, i] x_i.",
            ),
        ],
        formulas=("tabular-total-param-count", "fvsbn-param-count", "nade-param-count"),
        drawn={"n": n},
    )


@template(
    "ar-wavenet-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("wavenet-receptive-field",),
    difficulty=2,
    tags=("wavenet", "receptive-field", "multipart"),
)
def wavenet_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    kernel = rng.choice([2, 3])
    layers = rng.randint(4, 8)
    field = formulas.get("wavenet-receptive-field")
    dilated = field.evaluate(kernel=kernel, dilations=[2**i for i in range(layers)])
    plain = field.evaluate(kernel=kernel, dilations=[1] * layers)
    target = rng.choice([500, 1000, 4000])
    needed = next(
        n
        for n in range(1, 30)
        if field.evaluate(kernel=2, dilations=[2**i for i in range(n)]) >= target
    )
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        f"A WaveNet-style stack of {layers} causal convolutions with kernel size {kernel}.",
        [
            part(
                "numeric",
                f"With dilations 1, 2, 4, ..., 2^{layers - 1}, how many past samples "
                "(the current one included) does the last output see?",
                dilated,
                "1 + (k - 1) sum_i d_i.",
                **exact,
            ),
            part(
                "numeric",
                "Without dilation (all d_i = 1), how many?",
                plain,
                "1 + L (k - 1): linear in depth.",
                **exact,
            ),
            part(
                "numeric",
                f"With kernel size 2 and doubling dilations 1, 2, 4, ..., how many "
                f"layers are needed to see at least {target} samples?",
                needed,
                "The field is 2^L for k = 2.",
                **exact,
                drawn={"target": target},
            ),
            choice_part(
                rng,
                "Why do WaveNets double the dilation from layer to layer?",
                "the receptive field grows exponentially with depth at a cost linear in depth",
                {
                    "to make the convolutions causal": "causality comes from padding on the "
                    "left, not from dilation",
                    "to reduce the number of parameters per layer": "a dilated kernel has "
                    "the same number of weights",
                    "to downsample the signal like pooling": "dilation keeps the resolution",
                },
                "Field 1 + (k-1)(2^L - 1) after L layers.",
            ),
        ],
        formulas=("wavenet-receptive-field",),
        drawn={"layers": layers, "kernel size": kernel},
    )


@template(
    "ar-vq-vae-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("vq-vae-quantisation", "vq-vae-loss"),
    difficulty=2,
    tags=("vq-vae", "multipart"),
)
def vq_vae_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, matrix, number, part, show, vector

    # Three distinct codes (redrawn on a repeat: nudging one code cannot separate the other two).
    codebook: list[list[float]] = []
    while len(codebook) < 3:
        code = [grid(rng, -2, 2, 1), grid(rng, -2, 2, 1)]
        if code not in codebook:
            codebook.append(code)
    # An encoder output with one clearly nearest code (redrawn near a tie: moving one
    # coordinate cannot break a tie between codes that differ only in the other).
    while True:
        z_e = [grid(rng, -2, 2, 0.1), grid(rng, -2, 2, 0.1)]
        distances = sorted(float(np.sum((np.array(z_e) - np.array(c)) ** 2)) for c in codebook)
        if distances[1] - distances[0] >= 0.1:
            break
    beta = rng.choice([0.25, 0.5])
    quantised = np.asarray(
        formulas.get("vq-vae-quantisation").evaluate(z_e=[z_e], codebook=codebook)
    )[0]
    index = [list(map(float, c)) for c in codebook].index(list(map(float, quantised)))
    loss = float(
        np.ravel(formulas.get("vq-vae-loss").evaluate(z_e=[z_e], codebook=codebook, beta=beta))[0]
    )
    return problem(
        question_id,
        TOPIC,
        f"VQ-VAE with the codebook e_1, e_2, e_3 = {matrix(codebook)} quantises the encoder "
        f"output z_e = {vector(z_e)}.",
        [
            part(
                "numeric",
                "Which code does z_e map to (its number, counting from 1)?",
                index + 1,
                "k = argmin_j ||z_e - e_j||.",
                numeric_rule="decimals:0",
            ),
            part(
                "numeric",
                "What is ||z_e - e_k||^2 for that code?",
                min(distances),
                "The squared distance to the nearest code.",
            ),
            part(
                "numeric",
                f"What is the value of the codebook plus commitment loss with beta = {show(beta)}?",
                loss,
                "||sg[z_e] - e||^2 + beta ||z_e - sg[e]||^2: the same distance, twice weighted.",
                drawn={"beta": beta},
            ),
            choice_part(
                rng,
                "How does the encoder get a gradient through the argmin?",
                "the straight-through estimator copies the decoder's gradient at z_q to z_e",
                {
                    "the argmin is differentiable almost everywhere": "its derivative is 0 "
                    "almost everywhere: no signal",
                    "through the codebook loss only": "that term has sg[z_e]: it trains the "
                    "codebook, not the encoder",
                    "it does not: the encoder is pretrained and frozen": "the encoder is "
                    "trained jointly",
                },
                "z_q = z_e + sg[z_q - z_e] in the forward pass.",
            ),
        ],
        formulas=("vq-vae-quantisation", "vq-vae-loss"),
        carried={1: f"(a) the code is e_{index + 1}", 2: f"(b) {number(min(distances))}"},
        drawn={"e_1, e_2, e_3": codebook, "z_e": z_e},
    )


@template(
    "ar-made-masks-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("made-mask", "autoregressive-factorisation"),
    difficulty=3,
    tags=("made", "masks", "multipart"),
)
def made_masks_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    inputs = [1, 2, 3, 4]
    degrees = [rng.randint(1, 3) for _ in range(5)]
    j = rng.randint(1, 3)
    d = rng.randint(j + 1, 4)
    made = formulas.get("made-mask")
    hidden = np.asarray(made.evaluate(m_in=inputs, m_out=degrees))
    output = np.asarray(made.evaluate(m_in=degrees, m_out=inputs, output=True))
    paths = int((output @ hidden)[d - 1, j - 1])
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        "MADE on D = 4 binary inputs in the order x_1, x_2, x_3, x_4 (input d has degree d, "
        "counting from 1), one hidden layer of 5 units with the degrees m(1), ..., m(5) = "
        f"{vector(degrees)}, and 4 outputs, output d giving p(x_d | x_<d). A hidden unit of "
        "degree m may depend on x_1, ..., x_m only; a weight is kept (mask entry 1) exactly when "
        "the autoregressive property allows it.",
        [
            part(
                "numeric",
                "How many entries of the input-to-hidden mask M^W (5 x 4) are 1?",
                int(hidden.sum()),
                "M^W_{k,d} = 1 iff m(k) >= d: unit k sees m(k) inputs, sum_k m(k).",
                **exact,
            ),
            part(
                "numeric",
                "How many entries of the hidden-to-output mask M^V (4 x 5) are 1?",
                int(output.sum()),
                "M^V_{d,k} = 1 iff d > m(k): unit k feeds the 4 - m(k) outputs after its degree.",
                **exact,
            ),
            part(
                "numeric",
                f"Through how many hidden units does input x_{j} reach output {d} (the entry "
                f"({d}, {j}) of M^V M^W)?",
                paths,
                f"Units with {j} <= m(k) < {d}: they see x_{j} and feed output {d}.",
                **exact,
                drawn={"j": j, "d": d},
            ),
            choice_part(
                rng,
                "Which rule decides whether output d may use hidden unit k (mask entry M^V_{d,k} "
                "= 1), and why?",
                "d > m(k), strictly: with d >= m(k), a unit of degree d would pass x_d to "
                "output d, so p(x_d | x_<d) would see x_d and the product of conditionals would "
                "no longer be a normalised p(x)",
                {
                    "d >= m(k), as in the hidden layers": "then output d sees x_d through a "
                    "unit of degree d",
                    "d < m(k): an output uses the units of higher degree": "those units see "
                    "x_d and later inputs",
                    "every k: once the hidden layers are masked, the output layer needs no "
                    "mask": "unit k of degree m(k) >= d would carry x_d to output d",
                },
                "p(x) = prod_d p(x_d | x_<d) needs output d to depend on x_1..x_{d-1} only; "
                "paths x_j -> output d exist only for j <= m(k) < d, so j < d.",
            ),
        ],
        formulas=("made-mask", "autoregressive-factorisation"),
        carried={2: f"(a) {int(hidden.sum())}; (b) {int(output.sum())}"},
        drawn={"m(1), ..., m(5)": degrees},
    )


@template(
    "ar-chain-rule-bits-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("autoregressive-factorisation", "bits-per-dim"),
    difficulty=2,
    tags=("chain-rule", "bits-per-dim", "multipart"),
)
def chain_rule_bits_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    def prob() -> float:
        return rng.choice([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])

    a = prob()
    b = [prob(), prob()]
    c = [prob() for _ in range(4)]
    x = [rng.randint(0, 1) for _ in range(3)]
    pieces = [
        a if x[0] else 1 - a,
        b[x[0]] if x[1] else 1 - b[x[0]],
        c[2 * x[0] + x[1]] if x[2] else 1 - c[2 * x[0] + x[1]],
    ]
    p_x = math.prod(pieces)
    bits = formulas.get("bits-per-dim").evaluate(nll=-math.log(p_x), dims=3)
    marginal = (1 - a) * b[0] + a * b[1]
    nll = rng.choice([2000, 2200, 2400, 2600, 3000])
    image_bits = formulas.get("bits-per-dim").evaluate(nll=nll, dims=32 * 32 * 3)
    return problem(
        question_id,
        TOPIC,
        "An autoregressive model of three binary pixels, x_1 first: p(x_1 = 1) = "
        f"{show(a)}; p(x_2 = 1 | x_1 = 0) = {show(b[0])}, p(x_2 = 1 | x_1 = 1) = {show(b[1])}; "
        "p(x_3 = 1 | x_1, x_2) = "
        f"{show(c[0])}, {show(c[1])}, {show(c[2])}, {show(c[3])} for (x_1, x_2) = (0, 0), "
        "(0, 1), (1, 0), (1, 1).",
        [
            part(
                "numeric",
                f"What is p(x) for the image x = (x_1, x_2, x_3) = ({x[0]}, {x[1]}, {x[2]})?",
                p_x,
                "The chain rule: p(x_1) p(x_2 | x_1) p(x_3 | x_1, x_2).",
                drawn={"x": x},
            ),
            part(
                "numeric",
                "What is its negative log-likelihood in bits per dimension?",
                bits,
                "-log2 p(x) / D with D = 3 pixels.",
            ),
            part(
                "numeric",
                "What is the marginal probability p(x_2 = 1)?",
                marginal,
                "Sum over x_1: p(x_1 = 0) p(x_2 = 1 | 0) + p(x_1 = 1) p(x_2 = 1 | 1).",
            ),
            part(
                "numeric",
                f"A PixelCNN reaches a test NLL of {nll} nats per image on 32 x 32 x 3 images "
                "(each colour value one dimension). What is that in bits per dimension?",
                image_bits,
                "nats / (D ln 2) with D = 3072.",
                drawn={"NLL": nll},
            ),
            choice_part(
                rng,
                "For a trained PixelCNN, which takes one network pass per pixel, and why?",
                "sampling: each pixel's conditional needs the earlier pixels, which must be "
                "sampled first; log p(x) of a given image evaluates every conditional in one "
                "masked pass",
                {
                    "computing log p(x): the conditionals must be evaluated one after another": (
                        "for a given image all x_<i are known: the masked convolutions give "
                        "every conditional at once"
                    ),
                    "both: the chain rule is sequential": "only sampling is; evaluating the "
                    "product for known pixels is parallel",
                    "neither: the masks make sampling one pass too": "a sampled pixel is an "
                    "input to the next conditional, so sampling stays sequential",
                },
                "Training and likelihood use teacher forcing (all conditionals in parallel); "
                "sampling needs D passes.",
            ),
        ],
        formulas=("autoregressive-factorisation", "bits-per-dim"),
        carried={1: f"(a) p(x) = {number(p_x)}"},
        drawn={
            "p(x_1 = 1)": a,
            "p(x_2 = 1 | x_1 = 0)": b[0],
            "p(x_2 = 1 | x_1 = 1)": b[1],
            "p(x_3 = 1 | x_1, x_2)": c,
        },
    )


guard_module(__name__)
