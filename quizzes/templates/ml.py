"""Generated questions on the machine-learning basics (sheet section 10): activation values
and derivatives, binary cross-entropy, cross-entropy = entropy + KL, one perceptron update,
the MLP backward pass (delta of a layer, gradient of a weight, with the sheet's z^(l) for
z^(l-1) as a foreseen mistake) and the activations' derivatives in closed form.

Every answer comes from the formula registry (sigmoid*, tanh*, relu*, binary-cross-entropy,
cross-entropy-decomposition, perceptron-update, mlp-backward-*).
"""

from __future__ import annotations

import random

from quizzes.questions import Mistake, Question, template
from quizzes.templates._kit import grid, guard_module, matrix, numeric, plain, show, vector, wrong

TOPIC = "ml"


@template(
    "ml-activation-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=(
        "sigmoid",
        "sigmoid-derivative",
        "tanh",
        "tanh-derivative",
        "relu",
        "relu-derivative",
    ),
    difficulty=1,
    tags=("activations",),
)
def activation(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    name = rng.choice(["sigmoid", "tanh", "relu"])
    derivative = rng.random() < 0.6
    x = grid(rng, -3, 3, 0.5)
    while name == "relu" and x == 0:  # ReLU has no derivative at its kink
        x = grid(rng, -3, 3, 0.5)
    formula_id = f"{name}-derivative" if derivative else name
    value = float(formulas.get(formula_id).evaluate(x=x))
    pairs: list[tuple[float, str]] = []
    if derivative and name == "sigmoid":
        s = formulas.get("sigmoid").evaluate(x=x)
        pairs = [(s, "that is sigma(x) itself; sigma'(x) = sigma(x) (1 - sigma(x)).")]
    elif derivative and name == "tanh":
        t = formulas.get("tanh").evaluate(x=x)
        pairs = [(1 - t, "tanh'(x) = 1 - tanh(x)^2: the tanh is squared.")]
    elif not derivative and name == "sigmoid":
        pairs = [
            (1 / (1 + math.exp(x)), "the sign in exp(-x) is flipped: sigma(x) = 1/(1 + exp(-x)).")
        ]
    what = f"the derivative {name}'(x)" if derivative else f"{name}(x)"
    forms = {
        "sigmoid": "sigma'(x) = sigma(x) (1 - sigma(x))",
        "tanh": "tanh'(x) = 1 - tanh(x)^2",
        "relu": "relu'(x) = [x > 0] (undefined at 0; frameworks use 0 there)",
    }
    values = {
        "sigmoid": "sigma(x) = 1 / (1 + exp(-x))",
        "tanh": "tanh(x) = (e^x - e^-x) / (e^x + e^-x)",
        "relu": "relu(x) = max(0, x)",
    }
    return numeric(
        question_id,
        TOPIC,
        f"What is {what} at x = {show(x)}?",
        value,
        (forms[name] if derivative else values[name]) + f". See `cheatsheet derive {formula_id}`.",
        (formula_id,),
        mistakes=wrong(*pairs, answer=value),
        drawn={"function": f"{name}'" if derivative else name, "x": x},  # f' for the derivative
    )


@template(
    "ml-binary-cross-entropy-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("binary-cross-entropy",),
    difficulty=1,
    tags=("loss", "cross-entropy"),
)
def bce(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    y = [rng.randint(0, 1) for _ in range(3)]
    y_hat = [grid(rng, 0.1, 0.9, 0.1) for _ in range(3)]
    losses = formulas.get("binary-cross-entropy").evaluate(y=y, y_hat=y_hat)
    value = float(sum(losses) / len(losses))
    swapped = sum(-(t * math.log(1 - p) + (1 - t) * math.log(p)) for t, p in zip(y, y_hat)) / len(y)
    return numeric(
        question_id,
        TOPIC,
        f"A binary classifier predicts y_hat = {vector(y_hat)} (the probability of class 1) "
        f"for three examples with labels y = {vector(y)}. What is the mean binary cross-entropy "
        "(natural logarithm)?",
        value,
        "L = -y log(y_hat) - (1 - y) log(1 - y_hat) per example: the negative log-likelihood "
        "of a Bernoulli(y_hat). See `cheatsheet derive binary-cross-entropy`.",
        ("binary-cross-entropy",),
        mistakes=wrong(
            (swapped, "log(y_hat) goes with y and log(1 - y_hat) with 1 - y; they are swapped."),
            (value / math.log(10), "use the natural logarithm, not log base 10."),
            answer=value,
        ),
        drawn={"y_hat": y_hat, "y": y},
    )


def _distribution(rng: random.Random) -> list[float]:
    cuts = sorted(rng.sample(range(1, 10), 2))
    return [cuts[0] / 10, (cuts[1] - cuts[0]) / 10, (10 - cuts[1]) / 10]


@template(
    "ml-cross-entropy-kl-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("cross-entropy-decomposition",),
    difficulty=2,
    tags=("cross-entropy", "kl"),
)
def cross_entropy_kl(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    p, q = _distribution(rng), _distribution(rng)
    while p == q:
        q = _distribution(rng)
    H = formulas.get("cross-entropy-decomposition")
    cross = float(H.evaluate(p=np.array(p), q=np.array(q)))
    entropy = float(H.evaluate(p=np.array(p), q=np.array(p)))
    swapped = float(H.evaluate(p=np.array(q), q=np.array(p))) - float(
        H.evaluate(p=np.array(q), q=np.array(q))
    )
    ask_kl = rng.random() < 0.5
    if ask_kl:
        value, what, asked = cross - entropy, "the KL divergence D_KL(p_d || p_m)", "D_KL"
        pairs = [
            (
                swapped,
                "that is D_KL(p_m || p_d), the arguments swapped; the data p_d weights "
                "the log-ratio.",
            ),
            (cross, "that is the cross-entropy; subtract the entropy H(p_d)."),
        ]
    else:
        value, what, asked = cross, "the cross-entropy H(p_d, p_m) = -sum p_d log p_m", "H"
        pairs = [(entropy, "that is the entropy H(p_d); the cross-entropy adds the KL.")]
    return numeric(
        question_id,
        TOPIC,
        f"Over three outcomes the data distribution is p_d = {vector(p)} and the model's is "
        f"p_m = {vector(q)}. What is {what} (natural logarithm)?",
        value,
        "H(p_d, p_m) = H(p_d) + D_KL(p_d || p_m): minimising the cross-entropy over the model "
        "minimises the KL, since H(p_d) does not depend on it. See `cheatsheet derive "
        "cross-entropy-decomposition`.",
        ("cross-entropy-decomposition",),
        mistakes=wrong(*pairs, answer=value),
        drawn={"p_d": p, "p_m": q, "asked": asked},  # D_KL(p_d || p_m) or H(p_d, p_m)
    )


@template(
    "ml-perceptron-update-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("perceptron-update",),
    difficulty=1,
    tags=("perceptron",),
)
def perceptron(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    w = np.array([rng.randint(-2, 2) for _ in range(3)], float)
    x = np.array([1.0, rng.randint(-3, 3), rng.randint(-3, 3)])
    y = rng.choice([-1, 1])
    new = formulas.get("perceptron-update").evaluate(w=w, x=x, y=y)
    j = rng.randrange(3)
    value = new[j]
    misclassified = y * (w @ x) <= 0
    return numeric(
        question_id,
        TOPIC,
        f"A perceptron with weights w = {vector(w)} (w_1 is the bias, x_1 = 1) sees the "
        f"example x = {vector(x)} with label y = {y} (labels in {{-1, +1}}). What is weight "
        f"w_{j + 1} after the perceptron update on this example?",
        value,
        "If y w^T x <= 0 (misclassified) then w <- w + y x, otherwise w stays. Here y w^T x = "
        f"{show(y * (w @ x))}, so the example is "
        + ("misclassified." if misclassified else "classified correctly.")
        + " See `cheatsheet derive perceptron-update`.",
        ("perceptron-update",),
        mistakes=wrong(
            (
                (w + y * x)[j] if not misclassified else w[j],
                "update only on a mistake (y w^T x <= 0), and then by w + y x.",
            ),
            ((w - y * x)[j], "the update adds y x, it does not subtract it."),
            answer=value,
        ),
        drawn={"w": w.tolist(), "x": x.tolist(), "y": y, "j": j + 1},  # w_j asked
    )


@template(
    "ml-mlp-delta-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("mlp-backward-delta",),
    difficulty=2,
    tags=("backprop", "mlp"),
)
def mlp_delta(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    W = np.array([[rng.randint(-2, 2) for _ in range(2)] for _ in range(2)], float)
    while W[0, 1] == W[1, 0]:
        W[0, 1] = rng.randint(-2, 2)
    delta_next = np.array([grid(rng, -1, 1, 0.5) for _ in range(2)])
    fprime = np.array([rng.choice([0.25, 0.5, 1.0]) for _ in range(2)])
    delta = formulas.get("mlp-backward-delta").evaluate(
        delta_next=delta_next, W_next=W, fprime_next=fprime
    )
    j = rng.randrange(2)
    value = delta[j]
    return numeric(
        question_id,
        TOPIC,
        f"An MLP layer computes a^(l+1) = W^(l+1) z^(l) + b, z^(l+1) = f(a^(l+1)) with "
        f"W^(l+1) = {matrix(W)} (rows index the outputs). Backprop has delta^(l+1) = dL/dz^(l+1) "
        f"= {vector(delta_next)} and f'(a^(l+1)) = {vector(fprime)}. What is entry {j + 1} of "
        "delta^(l) = dL/dz^(l) (counting from 1)?",
        value,
        "delta^(l) = W^(l+1)^T (f'(a^(l+1)) . delta^(l+1)): the transpose sends the gradient "
        "back from the outputs to the inputs. See `cheatsheet derive mlp-backward-delta`.",
        ("mlp-backward-delta",),
        mistakes=wrong(
            (
                (W @ (fprime * delta_next))[j],
                "W^(l+1) is not transposed: the gradient w.r.t. "
                "input j sums over the outputs i of W_ij.",
            ),
            ((W.T @ delta_next)[j], "the factor f'(a^(l+1)) is missing."),
            answer=value,
        ),
        drawn={
            "W^(l+1)": W.tolist(),
            "dL/dz^(l+1)": delta_next.tolist(),
            "f'(a^(l+1))": fprime.tolist(),
            "entry": j + 1,
        },
    )


@template(
    "ml-mlp-weight-gradient-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("mlp-backward-weights",),
    difficulty=2,
    tags=("backprop", "mlp", "errata"),
)
def mlp_weight(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    delta = np.array([grid(rng, -1, 1, 0.5) or 0.5 for _ in range(2)])
    fprime = np.array([rng.choice([0.25, 0.5, 1.0]) for _ in range(2)])
    z_prev = np.array([grid(rng, -2, 2, 0.5) for _ in range(2)])
    z_here = np.array([grid(rng, -1, 1, 0.25) for _ in range(2)])
    while np.allclose(z_prev, z_here):
        z_here = np.array([grid(rng, -1, 1, 0.25) for _ in range(2)])
    grad = formulas.get("mlp-backward-weights").evaluate(delta=delta, fprime=fprime, z_prev=z_prev)
    i, j = rng.randrange(2), rng.randrange(2)
    value = grad[i, j]
    return numeric(
        question_id,
        TOPIC,
        "Layer l of an MLP computes z^(l) = f(a^(l)), a^(l) = W^(l) z^(l-1) + b^(l). Its input "
        f"is z^(l-1) = {vector(z_prev)}, its output z^(l) = {vector(z_here)}, f'(a^(l)) = "
        f"{vector(fprime)}, and backprop delivers delta^(l) = dL/dz^(l) = {vector(delta)}. "
        f"What is dL/dw_{i + 1}{j + 1}^(l)?",
        value,
        "dL/dw_ij = delta_i f'(a_i) z_j^(l-1): w_ij multiplies the previous layer's output "
        "z_j^(l-1) (the sheet writes z_j^(l)). See `cheatsheet derive mlp-backward-weights`.",
        ("mlp-backward-weights",),
        mistakes=wrong(
            (
                delta[i] * fprime[i] * z_here[j],
                "that uses z_j^(l), the sheet's misprint; w_ij "
                "multiplies the layer's input z_j^(l-1).",
            ),
            (delta[i] * z_prev[j], "the factor f'(a_i^(l)) is missing."),
            answer=value,
        ),
        drawn={
            "z^(l-1)": z_prev.tolist(),
            "z^(l)": z_here.tolist(),
            "f'(a^(l))": fprime.tolist(),
            "dL/dz^(l)": delta.tolist(),
            "weight": f"w_{i + 1}{j + 1}",  # the weight asked, as the prompt names it
        },
    )


@template(
    "ml-activation-derivative-symbolic-draw",
    topic=TOPIC,
    kind="symbolic",
    formulas=("sigmoid-derivative", "tanh-derivative"),
    difficulty=2,
    tags=("activations", "closed-form"),
)
def derivative_symbolic(rng: random.Random, question_id: str) -> Question:
    import sympy as sp

    import formulas

    if rng.random() < 0.5:
        name, formula_id, symbol = "sigmoid", "sigmoid-derivative", "s"
        s = sp.Symbol("s", positive=True)
        inverse = sp.log(s / (1 - s))  # x as a function of s = sigma(x)
        wrong_form, feedback = s * (1 + s), "sigma' = sigma (1 - sigma), with a minus."
        tidy = s * (1 - s)
        symbols = {"s": "unit"}
    else:
        name, formula_id, symbol = "tanh", "tanh-derivative", "t"
        s = sp.Symbol("t", real=True)
        inverse = sp.log((1 + s) / (1 - s)) / 2  # x as a function of t = tanh(x)
        wrong_form, feedback = 1 - s, "tanh' = 1 - tanh^2: the square is missing."
        tidy = 1 - s**2
        symbols = {"t": "real"}
    rhs = formulas.get(formula_id).statement.rhs
    (x,) = rhs.free_symbols
    expr = sp.simplify(rhs.subs(x, inverse))
    # shown in its textbook form where the registry's expression agrees with it
    if sp.simplify(expr - tidy) == 0:
        expr = tidy
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="symbolic",
        prompt=(
            f"Write the derivative of {name}(x) with respect to x in terms of the activation's "
            f"own value {symbol} = {name}(x) only (what backprop reuses from the forward pass)."
        ),
        answer=plain(expr),
        explanation=f"d/dx {name}(x) = {plain(expr)}. See `cheatsheet derive {formula_id}`.",
        formulas=(formula_id,),
        symbols=symbols,
        mistakes=(Mistake(plain(wrong_form), feedback),),
        drawn={"activation": name},
    )


@template(
    "ml-sigmoid-unit-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("sigmoid", "mlp-backward-weights", "mlp-backward-bias"),
    difficulty=2,
    tags=("backprop", "multipart"),
)
def sigmoid_unit_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import number, part

    w, b, x = grid(rng, -1.5, 1.5, 0.5), grid(rng, -1, 1, 0.5), rng.choice([-2, -1, 1, 2, 3])
    upstream = rng.choice([-2.0, -1.0, 0.5, 1.0, 2.0])
    z = float(formulas.get("sigmoid").evaluate(x=w * x + b))
    fprime = z * (1 - z)
    dw = float(
        np.ravel(
            formulas.get("mlp-backward-weights").evaluate(
                delta=[upstream], fprime=[fprime], z_prev=[float(x)]
            )
        )[0]
    )
    db = float(
        np.ravel(formulas.get("mlp-backward-bias").evaluate(delta=[upstream], fprime=[fprime]))[0]
    )
    return problem(
        question_id,
        TOPIC,
        f"One unit z = sigma(w x + b), sigma the logistic sigmoid, with w = {show(w)}, "
        f"b = {show(b)} and the input x = {show(x)}. Backprop brings the upstream gradient "
        f"dL/dz = {show(upstream)}.",
        [
            part("numeric", "What is the unit's output z?", z, "sigma(a) = 1/(1 + exp(-a))."),
            part("numeric", "What is dL/dw?", dw, "dL/dw = dL/dz sigma'(a) x, sigma' = z (1 - z)."),
            part("numeric", "What is dL/db?", db, "dL/db = dL/dz sigma'(a): no input factor."),
        ],
        formulas=("sigmoid", "mlp-backward-weights", "mlp-backward-bias"),
        carried={1: f"(a) z = {number(z)}", 2: f"(a) z = {number(z)}"},
        drawn={"w": w, "b": b, "x": x, "dL/dz": upstream},
    )


@template(
    "ml-cross-entropy-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("cross-entropy-decomposition",),
    difficulty=2,
    tags=("cross-entropy", "kl", "multipart"),
)
def cross_entropy_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    p = rng.choice([[0.5, 0.5, 0.0], [0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.8, 0.1, 0.1]])
    q = rng.choice([[0.4, 0.4, 0.2], [0.5, 0.25, 0.25], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    while q == p:
        q = [0.3, 0.3, 0.4]
    cross = formulas.get("cross-entropy-decomposition").evaluate(p=p, q=q)
    entropy = -sum(x * math.log(x) for x in p if x > 0)  # H(p), 0 log 0 = 0
    return problem(
        question_id,
        TOPIC,
        f"Soft labels p = {vector(p)} over three classes and a model's prediction q = "
        f"{vector(q)}. Natural logarithms; 0 log 0 = 0.",
        [
            part("numeric", "What is the cross-entropy H(p, q)?", cross, "H(p, q) = -sum p log q."),
            part("numeric", "What is the entropy H(p)?", entropy, "H(p) = -sum p log p."),
            part("numeric", "What is KL(p || q)?", cross - entropy, "H(p, q) = H(p) + KL(p || q)."),
            choice_part(
                rng,
                "Training q to minimise H(p, q) over q is the same as ...",
                "minimising KL(p || q), since H(p) does not depend on q",
                {
                    "minimising KL(q || p), since KL is symmetric": "KL is not symmetric; the "
                    "decomposition gives KL(p || q)",
                    "maximising H(q), since a flat prediction is safest": "H(q) does not "
                    "appear in H(p, q) = H(p) + KL(p || q)",
                    "minimising H(p), since the labels are the target": "H(p) is fixed by "
                    "the labels",
                },
                "The entropy of the labels is a constant of the optimisation.",
            ),
        ],
        formulas=("cross-entropy-decomposition",),
        carried={2: f"(a) H(p, q) = {number(cross)}; (b) H(p) = {number(entropy)}"},
        drawn={"p": p, "q": q},
    )


@template(
    "ml-mle-map-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("mle-estimate", "map-estimate"),
    difficulty=3,
    tags=("mle", "map", "multipart"),
)
def mle_map_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, number, part, show, vector

    xs = sorted(rng.sample([-2.0, -1.0, 1.0, 2.0, 3.0], 3))
    ys = [grid(rng, -3, 3, 0.5) for _ in xs]
    noise, prior = rng.choice([1.0, 0.5, 2.0]), rng.choice([0.5, 1.0, 4.0])
    X = [[x] for x in xs]
    mle = float(formulas.get("mle-estimate").evaluate(X=X, y=ys)[0])
    while abs(mle) < 0.05:
        ys[0] += 1.0
        mle = float(formulas.get("mle-estimate").evaluate(X=X, y=ys)[0])
    mapped = float(
        formulas.get("map-estimate").evaluate(X=X, y=ys, noise_var=noise, prior_var=prior)[0]
    )
    return problem(
        question_id,
        TOPIC,
        f"A line through the origin y = theta x + noise, noise ~ N(0, {show(noise)}), fitted "
        f"to the points x = {vector(xs)}, y = {vector(ys)}.",
        [
            part(
                "numeric",
                "What is the maximum-likelihood theta?",
                mle,
                "Least squares: sum x y / sum x^2.",
            ),
            part(
                "numeric",
                f"With the prior theta ~ N(0, {show(prior)}), what is the MAP theta?",
                mapped,
                "sum x y / (sum x^2 + noise_var/prior_var): ridge.",
                drawn={"prior variance": prior},
            ),
            choice_part(
                rng,
                "How does the MAP estimate move as the prior variance grows to infinity, and why?",
                "towards the MLE: a flat prior adds nothing to the likelihood",
                {
                    "towards 0: a wide prior shrinks harder": "a wide prior shrinks less; the "
                    "penalty noise_var/prior_var vanishes",
                    "it stays where it is: the prior does not enter the MAP": "the prior is "
                    "exactly what MAP adds",
                    "it diverges: the posterior becomes improper": "the likelihood alone is "
                    "proper here (sum x^2 > 0)",
                },
                "lambda = noise_var/prior_var -> 0 recovers least squares.",
            ),
        ],
        formulas=("mle-estimate", "map-estimate"),
        carried={1: f"(a) theta_MLE = {number(mle)}"},
        drawn={"x": xs, "y": ys, "noise variance": noise},
    )


@template(
    "ml-perceptron-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("perceptron-update",),
    difficulty=3,
    tags=("perceptron", "separability", "multipart"),
)
def perceptron_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    update = formulas.get("perceptron-update")
    while True:
        w0 = np.array([grid(rng, -1, 1, 0.5) for _ in range(3)])
        points = [[rng.choice([-2, -1, 1, 2]), rng.choice([-2, -1, 1, 2])] for _ in range(3)]
        labels = [rng.choice([-1, 1]) for _ in range(3)]
        xs = [np.array([*p, 1.0]) for p in points]  # augmented: the bias is w_3
        margin = float(labels[0] * w0 @ xs[0])
        w = w0
        history = []
        for x, y in zip(xs, labels):
            w = np.asarray(update.evaluate(w=w, x=x, y=y), float)
            history.append(w)
        mistakes = sum(
            1 for i, (x, y) in enumerate(zip(xs, labels)) if y * ([w0, *history][i] @ x) <= 0
        )
        if margin <= 0 and mistakes >= 2:  # the first example is a mistake; so is another
            break
    j = rng.randrange(3)
    data = "; ".join(
        f"x^({i + 1}) = {vector(p)}, y^({i + 1}) = {labels[i]:+d}" for i, p in enumerate(points)
    )
    return problem(
        question_id,
        TOPIC,
        f"A perceptron predicts sign(w^T x~) with the augmented input x~ = (x_1, x_2, 1) (w_3 is "
        f"the bias), labels y in {{-1, +1}}, and the update w <- w + y x~ whenever y w^T x~ <= 0 "
        f"(a mistake). It starts from w = {vector(w0)} and makes one pass over, in order: "
        f"{data}. Components counted from 1.",
        [
            part(
                "numeric",
                "What is y w^T x~ for the first example (before any update)?",
                margin,
                "y (w_1 x_1 + w_2 x_2 + w_3).",
            ),
            part(
                "numeric",
                f"What is w_{j + 1} after the first example?",
                history[0][j],
                "The first example is a mistake (y w^T x~ <= 0): w + y x~.",
                drawn={"j": j + 1},
            ),
            part(
                "numeric",
                f"What is w_{j + 1} after the whole pass (three examples)?",
                history[2][j],
                "Check each example with the current w; update only on mistakes.",
                drawn={"j": j + 1},
            ),
            part(
                "symbolic",
                "Justify why an update helps on the example it is made on: write y (w + y x~)^T "
                "x~ - y w^T x~ in terms of x_1 and x_2 (use y^2 = 1).",
                "x_1^2 + x_2^2 + 1",
                "y^2 x~^T x~ = ||x~||^2 = x_1^2 + x_2^2 + 1 > 0: the margin on that example grows.",
                symbols={"x_1": "real", "x_2": "real"},
            ),
            choice_part(
                rng,
                "On XOR data (x = (0,0), (1,1) labelled -1; (1,0), (0,1) labelled +1), what "
                "does the perceptron do, and why?",
                "it never stops making mistakes: it converges in finitely many updates if and "
                "only if the data are linearly separable, and XOR is not",
                {
                    "it converges, since each update grows the margin on its example": "an "
                    "update can break another example; no w separates XOR",
                    "it converges after one pass, since there are only four points": "no w "
                    "classifies all four, so some example is always a mistake",
                    "it converges once the bias w_3 is added": "the bias is already in x~; "
                    "XOR needs a nonlinear boundary",
                },
                "Novikoff: at most (R / margin)^2 mistakes on separable data; XOR has none.",
            ),
        ],
        formulas=("perceptron-update",),
        carried={
            1: f"(a) y w^T x~ = {number(margin)}",
            2: f"(b) w = {vector(history[0])} after the first example",
        },
        drawn={"w": w0.tolist(), "x": points, "y": labels},  # x^(i) = x[i - 1], y^(i) likewise
    )


@template(
    "ml-mlp-backprop-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("binary-cross-entropy", "mlp-backward-delta", "mlp-backward-weights", "relu"),
    difficulty=4,
    tags=("backprop", "mlp", "multipart"),
)
def mlp_backprop_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    while True:
        x = np.array([grid(rng, -1, 1, 0.5) for _ in range(2)])
        W1 = np.array([[grid(rng, -1, 1, 0.5) for _ in range(2)] for _ in range(2)])
        w2 = np.array([rng.choice([-1.5, -1.0, -0.5, 0.5, 1.0, 1.5]) for _ in range(2)])
        b2 = grid(rng, -0.5, 0.5, 0.5)
        a1 = W1 @ x
        if (a1 > 0).any() and all(abs(v) > 0.1 for v in a1):
            break
    y = rng.choice([0, 1])
    h = np.asarray(formulas.get("relu").evaluate(x=a1), float)
    p = float(formulas.get("sigmoid").evaluate(x=float(w2 @ h + b2)))
    loss = float(formulas.get("binary-cross-entropy").evaluate(y=y, y_hat=p))
    delta_out = p - y  # dL/da_2 for a sigmoid output and the BCE loss
    unit = int(rng.choice([i for i in range(2) if a1[i] > 0]))
    col = rng.randrange(2)
    grad_w2 = float(delta_out * h[unit])
    relu_prime = (a1 > 0).astype(float)
    delta_hidden = np.asarray(
        formulas.get("mlp-backward-delta").evaluate(
            delta_next=[delta_out], W_next=[w2.tolist()], fprime_next=[1.0]
        ),
        float,
    )  # dL/dh: the output's pre-activation gradient already includes sigma'
    grad_W1 = np.asarray(
        formulas.get("mlp-backward-weights").evaluate(
            delta=delta_hidden, fprime=relu_prime, z_prev=x
        ),
        float,
    )
    return problem(
        question_id,
        TOPIC,
        f"A 2-2-1 network: h = relu(W1 x) (no hidden bias), p = sigmoid(w2^T h + b2), loss L = "
        f"-y log p - (1 - y) log(1 - p) (binary cross-entropy, natural log). W1 = {matrix(W1)} "
        f"(row i gives hidden unit i), w2 = {vector(w2)}, b2 = {show(b2)}; the input is x = "
        f"{vector(x)} with label y = {y}. Indices counted from 1; 3 significant figures.",
        [
            part(
                "numeric",
                "What is the output p (forward pass)?",
                p,
                "a1 = W1 x, h = max(0, a1), p = sigmoid(w2^T h + b2).",
            ),
            part(
                "numeric",
                "What is the loss L?",
                loss,
                "-log p for y = 1, -log(1 - p) for y = 0.",
            ),
            part(
                "symbolic",
                "Derive dL/da for the output pre-activation a = w2^T h + b2, in terms of p and y.",
                "p - y",
                "dL/dp = -y/p + (1 - y)/(1 - p), dp/da = p (1 - p): the product is p - y.",
                symbols={"p": "unit", "y": "real"},
            ),
            part(
                "numeric",
                f"What is dL/dw2_{unit + 1}?",
                grad_w2,
                "dL/da h_i.",
                drawn={"unit": unit + 1},
            ),
            part(
                "numeric",
                f"What is dL/dW1[{unit + 1}][{col + 1}] (row {unit + 1}, column {col + 1})?",
                grad_W1[unit, col],
                "delta_i = dL/da w2_i, times relu'(a1_i) = 1 (unit active), times x_j.",
                drawn={"row": unit + 1, "column": col + 1},
            ),
            choice_part(
                rng,
                "If the hidden units were sigmoids instead of ReLUs, which is right about "
                "the gradients reaching W1 in a deep stack of such layers, and why?",
                "they shrink by a factor of at least 4 per sigmoid layer, since sigmoid' <= 1/4; "
                "an active ReLU passes the gradient with factor 1",
                {
                    "they are the same, since both activations are monotone": "the factor is "
                    "the derivative, 1 for an active ReLU and at most 1/4 for a sigmoid",
                    "they grow, since sigmoid is smooth and ReLU is not": "smoothness does not "
                    "enlarge the derivative; sigmoid' peaks at 1/4",
                    "they vanish for ReLU, since relu' = 0 for half the inputs": "relu' = 1 on "
                    "active units; only dead units block the gradient",
                },
                "Sheet 10.1: sigmoid and tanh saturate; ReLU is piecewise linear.",
            ),
        ],
        formulas=("binary-cross-entropy", "mlp-backward-delta", "mlp-backward-weights"),
        carried={
            1: f"(a) p = {number(p)}",
            2: f"(a) p = {number(p)}",
            3: f"(a) p = {number(p)}; (c) dL/da = p - y = {number(delta_out)}; h = "
            f"{vector([number(v) for v in h])}",
            4: f"(c) dL/da = {number(delta_out)}",
        },
        drawn={"W1": W1.tolist(), "w2": w2.tolist(), "b2": b2, "x": x.tolist(), "y": y},
    )


guard_module(__name__)
