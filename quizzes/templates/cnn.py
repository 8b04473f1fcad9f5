"""Generated questions on convolutional networks (sheet section 11): output sizes with
padding, stride and dilation (one layer and a small stack), one output entry of a correlation
vs a true convolution, the gradient to the input through the rotated kernel, max-pooling's
gradient routing, a transposed convolution's output, and the order of the size derivation.

Every answer comes from the formula registry (conv-output-size, correlation-2d,
convolution-2d, conv-backward-input, max-pool-gradient, transposed-conv); images and kernels
are small integers, so every answer is an exact number.
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    guard_module,
    matrix,
    number,
    numeric,
    ordering_question,
    show,
    wrong,
)

TOPIC = "cnn"


def _size(**kw) -> int:
    import formulas

    return int(formulas.get("conv-output-size").evaluate(**kw))


@template(
    "cnn-dilated-conv-size-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("conv-output-size",),
    difficulty=2,
    tags=("shapes", "dilation"),
)
def dilated_size(rng: random.Random, question_id: str) -> Question:
    kernel = rng.choice([2, 3, 5])
    dilation = rng.choice([2, 3, 4])
    stride = rng.choice([1, 2, 3])
    padding = rng.choice([0, 1, 2, 3])
    size = rng.randint(dilation * (kernel - 1) + 2, 48)
    value = _size(size=size, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    undilated = _size(size=size, kernel=kernel, stride=stride, padding=padding, dilation=1)
    return numeric(
        question_id,
        TOPIC,
        f"A {size}x{size} feature map goes through a {kernel}x{kernel} convolution with "
        f"dilation {dilation}, stride {stride} and zero padding {padding} on each side. What "
        "is the output's width?",
        value,
        "out = floor((n + 2p - d (k - 1) - 1) / s) + 1: a dilated kernel spans d (k - 1) + 1 "
        "input cells. See `cheatsheet derive conv-output-size`.",
        ("conv-output-size",),
        exact=True,
        mistakes=wrong(
            (undilated, "that ignores the dilation: the kernel spans d (k - 1) + 1 cells."),
            answer=value,
        ),
        drawn={
            "size": size,
            "kernel": kernel,
            "dilation": dilation,
            "stride": stride,
            "padding": padding,
        },
    )


@template(
    "cnn-stack-size-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("conv-output-size",),
    difficulty=2,
    tags=("shapes", "pooling"),
)
def stack_size(rng: random.Random, question_id: str) -> Question:
    size = rng.choice([28, 32, 48, 64, 96, 100, 128])
    k1, p1, s1 = rng.choice([(3, 1, 1), (5, 2, 1), (5, 0, 1), (7, 3, 2), (3, 0, 2)])
    pool = rng.choice([2, 3])
    k2, p2, s2 = rng.choice([(3, 1, 1), (3, 0, 1), (5, 0, 2), (3, 1, 2)])
    one = _size(size=size, kernel=k1, stride=s1, padding=p1, dilation=1)
    two = _size(size=one, kernel=pool, stride=pool, padding=0, dilation=1)
    value = _size(size=two, kernel=k2, stride=s2, padding=p2, dilation=1)
    return numeric(
        question_id,
        TOPIC,
        f"A {size}x{size} image passes through (1) a {k1}x{k1} convolution, stride {s1}, "
        f"padding {p1}; (2) {pool}x{pool} max pooling with stride {pool}; (3) a {k2}x{k2} "
        f"convolution, stride {s2}, padding {p2}. What is the final feature map's width?",
        value,
        "Apply out = floor((n + 2p - k) / s) + 1 layer by layer (pooling is the same formula "
        f"with no padding): {size} -> {one} -> {two} -> {value}. See `cheatsheet derive "
        "conv-output-size`.",
        ("conv-output-size",),
        exact=True,
        drawn={
            "size": size,
            "(1) convolution": {"kernel": k1, "stride": s1, "padding": p1},
            "(2) max pooling": pool,  # pool x pool windows, stride pool
            "(3) convolution": {"kernel": k2, "stride": s2, "padding": p2},
        },
    )


def _image(rng: random.Random, size: int, low: int = 0, high: int = 3):
    import numpy as np

    return np.array([[rng.randint(low, high) for _ in range(size)] for _ in range(size)], float)


def _kernel(rng: random.Random, size: int):
    import numpy as np

    while True:
        kernel = np.array([[rng.randint(-1, 2) for _ in range(size)] for _ in range(size)], float)
        if not np.array_equal(kernel, kernel[::-1, ::-1]):  # flipping must matter
            return kernel


@template(
    "cnn-correlation-vs-convolution-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("convolution-2d", "correlation-2d"),
    difficulty=2,
    tags=("convolution",),
)
def correlation_vs_convolution(rng: random.Random, question_id: str) -> Question:
    import formulas

    image = _image(rng, 4)
    kernel = _kernel(rng, rng.choice([2, 3]))
    out = 5 - len(kernel)
    i, j = rng.randrange(out), rng.randrange(out)
    conv = formulas.get("convolution-2d").evaluate(image=image, kernel=kernel)[i, j]
    corr = formulas.get("correlation-2d").evaluate(image=image, kernel=kernel)[i, j]
    tries = 0
    while conv == corr and tries < 20:  # pick an entry where the two differ
        i, j, tries = rng.randrange(out), rng.randrange(out), tries + 1
        conv = formulas.get("convolution-2d").evaluate(image=image, kernel=kernel)[i, j]
        corr = formulas.get("correlation-2d").evaluate(image=image, kernel=kernel)[i, j]
    true_conv = rng.random() < 0.5
    value, other = (conv, corr) if true_conv else (corr, conv)
    name = (
        "true convolution I * K (kernel flipped)"
        if true_conv
        else "cross-correlation (what a deep-learning 'conv' layer computes)"
    )
    formula_id = "convolution-2d" if true_conv else "correlation-2d"
    operation = "true convolution" if true_conv else "cross-correlation"
    return numeric(
        question_id,
        TOPIC,
        f"The image I = {matrix(image)} (rows top to bottom) is filtered with the kernel K = "
        f"{matrix(kernel)} by {name}, valid mode (no padding, stride 1). What is the output "
        f"entry at row {i + 1}, column {j + 1} (counting from 1)?",
        value,
        "Correlation slides K as it is: sum_mn K(m, n) I(i + m, j + n). Convolution slides "
        "ROT180(K), the kernel flipped in both axes. See `cheatsheet derive " + formula_id + "`.",
        (formula_id,),
        exact=True,
        mistakes=wrong(
            (
                other,
                "that is the other operation: convolution flips the kernel (ROT180), "
                "correlation does not.",
            ),
            answer=value,
        ),
        drawn={
            "I": image.tolist(),
            "K": kernel.tolist(),
            "operation": operation,
            "row": i + 1,
            "column": j + 1,
        },
    )


@template(
    "cnn-backward-input-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("conv-backward-input", "conv-forward"),
    difficulty=3,
    tags=("backprop", "convolution"),
)
def backward_input(rng: random.Random, question_id: str) -> Question:
    import formulas

    w = _kernel(rng, 2)
    delta = _image(rng, 2, -2, 2)
    while not delta.any():
        delta = _image(rng, 2, -2, 2)
    grad = formulas.get("conv-backward-input").evaluate(delta=delta, w=w)
    unrotated = formulas.get("conv-backward-input").evaluate(delta=delta, w=w[::-1, ::-1])
    # a cell whose gradient is not a structural 0 and that tells ROT180 apart when one does
    cells = [(p, q) for p in range(3) for q in range(3) if grad[p, q] != 0] or [(1, 1)]
    telling = [(p, q) for p, q in cells if grad[p, q] != unrotated[p, q]]
    p, q = rng.choice(telling or cells)
    value = grad[p, q]
    return numeric(
        question_id,
        TOPIC,
        "A convolutional layer computes z^(l) = w * z^(l-1) + b with * a true 2D convolution "
        f"(valid mode, stride 1), a 3x3 input z^(l-1) and the 2x2 kernel w = {matrix(w)}. "
        f"Backprop delivers delta^(l) = dL/dz^(l) = {matrix(delta)} (matrices written row by "
        f"row, top row first). What is dL/dz^(l-1) at row {p + 1}, column {q + 1} (counting "
        "from 1 at the top left)?",
        value,
        "delta^(l-1) = delta^(l) * ROT180(w^(l)), a full convolution: each input cell collects "
        "the upstream gradients of every output it touched, weighted by the kernel entry that "
        "touched it. See `cheatsheet derive conv-backward-input`.",
        ("conv-backward-input",),
        exact=True,
        mistakes=wrong(
            (
                unrotated[p, q],
                "the kernel's orientation is off by ROT180: for a forward "
                "convolution the gradient is a full convolution with ROT180(w).",
            ),
            answer=value,
        ),
        drawn={"w": w.tolist(), "dL/dz^(l)": delta.tolist(), "row": p + 1, "column": q + 1},
    )


@template(
    "cnn-max-pool-gradient-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("max-pool-gradient",),
    difficulty=2,
    tags=("backprop", "pooling", "errata"),
)
def max_pool_gradient(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    values = rng.sample(range(1, 17), 16)
    image = np.array(values, float).reshape(4, 4)
    delta = np.array([[rng.choice([-2, -1, 1, 2, 3]) for _ in range(2)] for _ in range(2)], float)
    # the four 2x2 windows, each flattened row-major
    windows = image.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)
    routed = formulas.get("max-pool-gradient").evaluate(z_prev=windows, delta=delta)
    grad = routed.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)
    # ask about the window's max half the time, else about another cell
    r, c = rng.randrange(4), rng.randrange(4)
    if rng.random() < 0.5:
        wr, wc = r // 2, c // 2
        k = int(np.argmax(windows[wr, wc]))
        r, c = 2 * wr + k // 2, 2 * wc + k % 2
    value = grad[r, c]
    return numeric(
        question_id,
        TOPIC,
        f"2x2 max pooling with stride 2 is applied to the 4x4 input {matrix(image)}. The "
        f"upstream gradient w.r.t. the 2x2 pooled output is {matrix(delta)}. What is the "
        f"gradient w.r.t. the input cell at row {r + 1}, column {c + 1} (counting from 1 at the "
        "top left)?",
        value,
        "delta_i^(l-1) = [i = i*] delta^(l): only the arg max i* of each window receives the "
        "window's upstream gradient, every other input gets 0 (the index belongs on the input "
        "side, not on delta^(l) as the sheet prints it). See `cheatsheet derive "
        "max-pool-gradient`.",
        ("max-pool-gradient",),
        exact=True,
        mistakes=wrong(
            (
                delta[r // 2, c // 2] / 4,
                "that spreads the gradient evenly (average pooling); "
                "max pooling routes all of it to the maximum.",
            ),
            (
                delta[r // 2, c // 2] if value == 0 else 0.0,
                "only the window's maximum gets the gradient; check which input is the arg max.",
            ),
            answer=value,
            gap=0.0,
        ),
        drawn={
            "input": image.tolist(),
            "upstream gradient": delta.tolist(),
            "row": r + 1,
            "column": c + 1,
        },
    )


@template(
    "cnn-transposed-conv-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("transposed-conv",),
    difficulty=2,
    tags=("upsampling",),
)
def transposed_conv(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    x = np.array([[rng.choice([-1, 1, 2, 3]) for _ in range(2)] for _ in range(2)], float)
    kernel = _kernel(rng, rng.choice([2, 3]))
    stride = rng.choice([1, 2])
    y = formulas.get("transposed-conv").evaluate(x=x, kernel=kernel, stride=stride)
    size = len(y)
    p, q = rng.randrange(size), rng.randrange(size)
    value = y[p, q]
    return numeric(
        question_id,
        TOPIC,
        f"A transposed convolution (learnable upsampling) with stride {stride} and the "
        f"{len(kernel)}x{len(kernel)} kernel K = {matrix(kernel)} is applied to the 2x2 input "
        f"x = {matrix(x)} (no padding). The output is {size}x{size}. What is its entry at row "
        f"{p + 1}, column {q + 1} (counting from 1 at the top left)?",
        value,
        "Each input x(i, j) stamps a copy x(i, j) K of the kernel at offset (s i, s j) of the "
        "output; overlapping stamps add. The output is (n - 1) s + k wide. See `cheatsheet "
        "derive transposed-conv`.",
        ("transposed-conv",),
        exact=True,
        drawn={
            "stride": stride,
            "K": kernel.tolist(),
            "x": x.tolist(),
            "output size": size,  # the prompt states it: "The output is NxN"
            "row": p + 1,
            "column": q + 1,
        },
    )


@template(
    "cnn-size-derivation-order-draw",
    topic=TOPIC,
    kind="ordering",
    formulas=("conv-output-size",),
    difficulty=1,
    tags=("derivation", "shapes"),
)
def size_derivation(rng: random.Random, question_id: str) -> Question:
    return ordering_question(
        rng,
        question_id,
        TOPIC,
        "conv-output-size",
        "Put the derivation of a convolution's output size floor((in + 2 pad - dil (kern - "
        "1) - 1) / stride) + 1 in order.",
        example=True,
    )


@template(
    "conv-output-size-draw",
    topic="cnn",
    kind="numeric",
    formulas=("conv-output-size",),
    difficulty=1,
    tags=("shapes",),
)
def conv_output_size(rng: random.Random, question_id: str) -> Question:
    import formulas

    kernel = rng.choice([1, 3, 5, 7])
    stride = rng.choice([1, 1, 2, 2, 3])
    padding = rng.choice([0, 1, 2, kernel // 2])
    size = rng.randint(max(kernel, 5), 64)
    formula = formulas.get("conv-output-size")
    names = formula.parameters
    values = {"n": size, "k": kernel, "s": stride, "p": padding}
    aliases = {
        "n": ("n", "input_size", "size", "w", "width", "n_in", "i"),
        "k": ("k", "kernel", "kernel_size", "f"),
        "s": ("s", "stride"),
        "p": ("p", "padding", "pad"),
    }
    arguments = {}
    for key, options in aliases.items():
        name = next((option for option in options if option in names), None)
        if name is None:
            raise ValueError(f"conv-output-size: no parameter for {key} among {names}")
        arguments[name] = values[key]
    extra = [name for name in names if name not in arguments]
    if "dilation" in extra or "d" in extra:
        arguments["dilation" if "dilation" in extra else "d"] = 1
    value = formula.evaluate(**arguments)
    return Question(
        id=question_id,
        topic="cnn",
        kind="numeric",
        prompt=(
            f"A {size}x{size} input goes through a {kernel}x{kernel} convolution with stride "
            f"{stride} and padding {padding}. What is the output's width?"
        ),
        answer=str(int(value)),
        explanation="floor((n + 2p - k) / s) + 1" + " See `cheatsheet derive conv-output-size`.",
        formulas=("conv-output-size",),
        abs_tol=0.0,
        rel_tol=0.0,
        drawn={"size": size, "kernel": kernel, "stride": stride, "padding": padding},
    )


@template(
    "cnn-layer-shapes-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("conv-output-size",),
    difficulty=2,
    tags=("shapes", "multipart"),
)
def layer_shapes_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    size = rng.choice([28, 32, 64, 65, 100])
    kernel = rng.choice([3, 5, 7])
    stride = rng.choice([1, 2])
    padding = rng.choice([0, 1, 2])
    channels_in, channels_out = rng.choice([1, 3, 16]), rng.choice([8, 16, 32, 64])
    out_size = formulas.get("conv-output-size")
    first = out_size.evaluate(size=size, kernel=kernel, stride=stride, padding=padding)
    second = out_size.evaluate(size=first, kernel=kernel, stride=stride, padding=padding)
    # weights: one kernel_h x kernel_w x C_in filter per output channel, plus one bias each
    parameters = channels_out * (channels_in * kernel * kernel + 1)
    return problem(
        question_id,
        TOPIC,
        f"A convolutional layer takes a {channels_in}-channel {size}x{size} image and applies "
        f"{channels_out} filters of size {kernel}x{kernel} with stride {stride} and zero padding "
        f"{padding} on every side (with a bias per filter).",
        [
            part(
                "numeric",
                "What is the output's height (= width)?",
                first,
                "floor((n + 2p - k)/s) + 1.",
                numeric_rule="decimals:0",
            ),
            part(
                "numeric",
                "A second, identical layer (same k, s, p) follows. What is its output's height?",
                second,
                "The same formula on the first output's size.",
                numeric_rule="decimals:0",
            ),
            part(
                "numeric",
                "How many learnable parameters does the first layer have (weights and biases)?",
                parameters,
                "C_out (C_in k^2 + 1): every filter spans all input channels.",
                numeric_rule="decimals:0",
            ),
            choice_part(
                rng,
                f"With stride 1, which zero padding keeps a {kernel}x{kernel} convolution's "
                "output the size of its input, and why?",
                f"p = {(kernel - 1) // 2}: n + 2p - k + 1 = n needs 2p = k - 1",
                {
                    f"p = {kernel}: the padding must cover the whole kernel": "then the output "
                    f"grows by 2p - k + 1 = {kernel + 1}",
                    "p = 0: a stride-1 convolution keeps the size": f"valid mode loses "
                    f"k - 1 = {kernel - 1} rows",
                    f"p = {kernel - 1}: one less than the kernel": "that is full mode: the "
                    f"output grows by k - 1 = {kernel - 1}",
                },
                "Output size n + 2p - k + 1 for stride 1.",
            ),
        ],
        formulas=("conv-output-size",),
        carried={1: f"(a) the first output is {first}x{first}"},
        drawn={
            "channels": channels_in,
            "size": size,
            "filters": channels_out,
            "kernel": kernel,
            "stride": stride,
            "padding": padding,
        },
    )


@template(
    "cnn-conv-vs-correlation-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("correlation-2d", "convolution-2d"),
    difficulty=2,
    tags=("convolution", "correlation", "multipart"),
)
def conv_vs_correlation_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    image = _image(rng, 3, 0, 4)
    kernel = _kernel(rng, 2)
    correlated = formulas.get("correlation-2d").evaluate(image=image, kernel=kernel)
    convolved = formulas.get("convolution-2d").evaluate(image=image, kernel=kernel)
    cells = [(i, j) for i in range(2) for j in range(2) if correlated[i][j] != convolved[i][j]]
    i, j = rng.choice(cells or [(0, 0)])
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        f"The image I = {matrix(image)} and the kernel K = {matrix(kernel)} (rows top to "
        "bottom), valid mode, stride 1.",
        [
            part(
                "numeric",
                f"Cross-correlation: what is the output entry at row {i + 1}, "
                f"column {j + 1} (counting from 1)?",
                correlated[i][j],
                "sum_mn K(m, n) I(i + m, j + n).",
                drawn={"row": i + 1, "column": j + 1},
                **exact,
            ),
            part(
                "numeric",
                f"True convolution: the output entry at row {i + 1}, column {j + 1}?",
                convolved[i][j],
                "Correlation with ROT180(K).",
                drawn={"row": i + 1, "column": j + 1},
                **exact,
            ),
            choice_part(
                rng,
                "A CNN trained with torch.nn.Conv2d (which correlates) is rewritten with true "
                "convolutions. What happens to what it can learn?",
                "nothing: the learned kernels simply come out rotated by 180 degrees",
                {
                    "it loses translation equivariance": "both operations are translation "
                    "equivariant",
                    "it cannot learn edge detectors any more": "an edge detector is a kernel; "
                    "its flipped version is learned instead",
                    "the gradients no longer flow through the kernel": "both are linear in K"
                    " and differentiable",
                },
                "ROT180 is a fixed relabelling of the kernel's entries.",
            ),
        ],
        formulas=("correlation-2d", "convolution-2d"),
        drawn={"I": image.tolist(), "K": kernel.tolist()},
    )


@template(
    "cnn-transposed-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("transposed-conv",),
    difficulty=3,
    tags=("transposed-convolution", "upsampling", "multipart"),
)
def transposed_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, matrix, part

    x = _image(rng, 2, -2, 3)
    while not x.all():
        x = _image(rng, 2, -2, 3)
    kernel = _kernel(rng, 3)
    stride = rng.choice([1, 2])
    out = np.asarray(formulas.get("transposed-conv").evaluate(x=x, kernel=kernel, stride=stride))
    size = out.shape[0]
    cells = [(p, q) for p in range(size) for q in range(size) if out[p, q] != 0]
    p, q = rng.choice(cells)
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        f"A transposed convolution with stride {stride}, no padding, the 3x3 kernel K = "
        f"{matrix(kernel)} and the 2x2 input x = {matrix(x)} (rows top to bottom).",
        [
            part(
                "numeric", "What is the output's height (= width)?", size, "(n - 1) s + k.", **exact
            ),
            part(
                "numeric",
                f"What is the output entry at row {p + 1}, column {q + 1} "
                "(counting from 1 at the top left)?",
                out[p, q],
                "Each input stamps x(i, j) K at offset (s i, s j); overlaps add.",
                drawn={"row": p + 1, "column": q + 1},
                **exact,
            ),
            choice_part(
                rng,
                "How is a transposed convolution related to a convolution?",
                "it is the transpose of the convolution's matrix: it maps the output shape "
                "back to the input shape (it is not the inverse)",
                {
                    "it is the convolution's inverse, so it undoes it": "the transpose of the "
                    "Toeplitz matrix is not its inverse",
                    "it is a convolution with the kernel transposed (K^T)": "the kernel is "
                    "not transposed; the linear map is",
                    "it is a convolution followed by max-unpooling": "no pooling is involved",
                },
                "Its backward pass is a convolution, and vice versa.",
            ),
        ],
        formulas=("transposed-conv",),
        carried={1: f"(a) the output is {size}x{size}"},
        drawn={"stride": stride, "K": kernel.tolist(), "x": x.tolist()},
    )


@template(
    "cnn-conv-backprop-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("conv-forward", "conv-backward-kernel", "conv-backward-input"),
    difficulty=3,
    tags=("backpropagation", "convolution", "multipart"),
)
def conv_backprop_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    x = np.array([[rng.randint(-2, 3) for _ in range(3)] for _ in range(3)], float)
    w = np.array([[rng.choice([-2, -1, 1, 2]) for _ in range(2)] for _ in range(2)], float)
    delta = np.array([[rng.choice([-2, -1, 1, 2, 3]) for _ in range(2)] for _ in range(2)], float)
    z = formulas.get("conv-forward").evaluate(z_prev=x, w=w)
    dw = formulas.get("conv-backward-kernel").evaluate(delta=delta, z_prev=x)
    dx = formulas.get("conv-backward-input").evaluate(delta=delta, w=w)
    (zi, zj), (wi, wj), (xi, xj) = (
        (rng.randint(1, 2), rng.randint(1, 2)),
        (rng.randint(1, 2), rng.randint(1, 2)),
        (rng.randint(1, 3), rng.randint(1, 3)),
    )
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        f"A convolutional layer computes z = w * x, a true convolution in valid mode, of the "
        f"3 x 3 input x = {matrix(x)} with the 2 x 2 kernel w = {matrix(w)} (rows top to "
        "bottom; rows and columns counting from 1): z_ij = sum over m, n in {1, 2} of w_mn "
        "x_(i+2-m),(j+2-n), for i, j in {1, 2}. The loss L has the upstream gradient dL/dz = "
        f"delta = {matrix(delta)}.",
        [
            part(
                "numeric",
                f"What is the output entry z_{zi}{zj} (row {zi}, column {zj})?",
                z[zi - 1, zj - 1],
                "Flip the kernel by 180 degrees, then slide it over x.",
                drawn={"row": zi, "column": zj},
                **exact,
            ),
            part(
                "numeric",
                f"What is dL/dw_{wi}{wj} (row {wi}, column {wj} of the kernel gradient)?",
                dw[wi - 1, wj - 1],
                "dL/dw_mn = sum_ij delta_ij x_(i+2-m),(j+2-n): delta * ROT180(x), valid mode.",
                drawn={"row": wi, "column": wj},
                **exact,
            ),
            part(
                "numeric",
                f"What is dL/dx_{xi}{xj} (row {xi}, column {xj} of the input gradient)?",
                dx[xi - 1, xj - 1],
                "Every z_ij that x touched sends delta_ij times the weight that touched it: "
                "delta * ROT180(w) in full mode.",
                drawn={"row": xi, "column": xj},
                **exact,
            ),
            choice_part(
                rng,
                "Which is the gradient dL/dx for this layer, and why?",
                "the full convolution of delta with ROT180(w), a 3 x 3 map: each x_ab reaches "
                "every output it entered, weighted by the kernel entry it met there",
                {
                    "the valid convolution of delta with w, a 1 x 1 map": "dL/dx has the "
                    "input's shape, 3 x 3: border inputs enter fewer outputs, not none",
                    "delta times w elementwise, a 2 x 2 map": "shapes differ (2 x 2 vs 3 x 3) "
                    "and each x_ab collects from several outputs",
                    "the full convolution of ROT180(delta) with ROT180(w)": "rotating delta too "
                    "sends each output's gradient to the mirrored inputs",
                },
                "dL/dx_ab = sum_ij delta_ij dz_ij/dx_ab = sum_ij delta_ij w_(i+2-a),(j+2-b), a "
                "full-mode sum over the outputs. See `cheatsheet derive conv-backward-input`.",
            ),
        ],
        formulas=("conv-forward", "conv-backward-kernel", "conv-backward-input"),
        drawn={"x": x.tolist(), "w": w.tolist(), "delta": delta.tolist()},
    )


@template(
    "cnn-overlapping-pool-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("max-pool-gradient",),
    difficulty=3,
    tags=("pooling", "gradient-routing", "multipart"),
)
def overlapping_pool_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    values = list(range(-5, 11)) + [11, 12, 13]
    rng.shuffle(values)
    x = np.array(values[:16], float).reshape(4, 4)
    g = np.array(
        [[rng.choice([-1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0]) for _ in range(2)] for _ in range(2)]
    )
    route = formulas.get("max-pool-gradient")
    y = np.zeros((2, 2))
    grad = np.zeros((4, 4))
    for i in range(2):
        for j in range(2):
            window = x[i : i + 3, j : j + 3]
            y[i, j] = window.max()
            grad[i : i + 3, j : j + 3] += np.asarray(
                route.evaluate(z_prev=window.reshape(-1), delta=g[i, j])
            ).reshape(3, 3)
    top = np.unravel_index(np.argmax(x), x.shape)
    winners = len(
        {
            tuple(np.unravel_index(np.argmax(x[i : i + 3, j : j + 3]), (3, 3)) + np.array([i, j]))
            for i in range(2)
            for j in range(2)
        }
    )
    r, c = rng.randint(1, 2), rng.randint(1, 2)
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        f"Max pooling with 3 x 3 windows and stride 1 (overlapping) maps the 4 x 4 input X = "
        f"{matrix(x)} (rows top to bottom) to a 2 x 2 output Y; the upstream gradient is "
        f"dL/dY = {matrix(g)}. Rows and columns are counted from 1.",
        [
            part(
                "numeric",
                f"What is Y at row {r}, column {c}?",
                y[r - 1, c - 1],
                "The largest entry of the window starting at that row and column.",
                drawn={"row": r, "column": c},
                **exact,
            ),
            part(
                "numeric",
                f"What is dL/dX at the cell holding the largest entry of X ({show(x.max())})?",
                grad[top],
                "Each window routes its gradient to its arg max; overlapping windows that share "
                "the same arg max add up.",
            ),
            part(
                "numeric",
                "How many cells of X are the arg max of at least one window (the cells that can "
                "receive a nonzero gradient)?",
                winners,
                "Count the distinct arg max positions of the four windows.",
                **exact,
            ),
            choice_part(
                rng,
                "Which is right about convolution and max pooling under a small shift of the "
                "input, and why?",
                "convolution is shift-equivariant (shifting x shifts its output), while max "
                "pooling makes the features roughly invariant to shifts within a window",
                {
                    "convolution is shift-invariant: the output does not move with the input": (
                        "a shifted input gives a shifted output: that is equivariance"
                    ),
                    "max pooling is exactly shift-invariant for every shift": "only shifts that "
                    "keep each maximum inside its window leave Y unchanged",
                    "neither: only fully connected layers respect shifts": "a fully connected "
                    "layer has no built-in shift structure at all",
                },
                "Conv(shift(x)) = shift(Conv(x)); the max over a window ignores where in the "
                "window the maximum sits.",
            ),
        ],
        formulas=("max-pool-gradient",),
        carried={2: f"(b) dL/dX there = {number(grad[top])}"},
        drawn={"X": x.tolist(), "dL/dY": g.tolist()},
    )


guard_module(__name__, allow_zero=("cnn-max-pool-gradient-draw",))
