"""Generated questions on normalizing flows (sheet section 4): log-determinants of ActNorm,
the invertible 1x1 convolution (full and LU-parametrised), affine coupling and triangular
Jacobians, the change of variables through an affine map, and the closed forms (typed in, and
picked out among their mutants).

Every answer comes from the formula registry (actnorm-logdet, conv1x1-logdet,
conv1x1-lu-logdet, affine-coupling-logdet, triangular-determinant, change-of-variables). The
sheet's LU misprint (W = P(U + diag s), without L) is taught in the LU question.
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    grid,
    guard_module,
    matrix,
    mistake,
    mutant_choice_question,
    number,
    plain,
    shown,
    symbolic_question,
    vector,
)

TOPIC = "flows"


def _pretty(expr) -> str:
    """Choice text: sums, absolute values and indices as a student writes them."""
    import re

    text = plain(expr)
    text = re.sub(r"Abs\(([^()]*(?:\([^()]*\))?[^()]*)\)", r"|\1|", text)
    text = re.sub(r"(\w)\[(\w)\]", r"\1_\2", text)
    text = re.sub(r"Sum\((.*), \((\w), (\w+), (\w+)\)\)", r"sum_{\2=\3}^{\4} \1", text)
    return text.replace("log(|", "log|").replace("|)", "|")


def _nonzero(rng: random.Random, low: float, high: float, step: float) -> float:
    value = 0.0
    while abs(value) < 0.2:
        value = grid(rng, low, high, step)
    return value


@template(
    "flow-actnorm-logdet-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("actnorm-logdet",),
    difficulty=1,
    tags=("log-det", "glow"),
)
def actnorm_logdet(rng: random.Random, question_id: str) -> Question:
    import formulas

    channels = rng.randint(2, 4)
    scales = [_nonzero(rng, -3, 3, 0.5) for _ in range(channels)]
    height, width = rng.choice([2, 4, 8, 16]), rng.choice([2, 4, 8, 16])
    actnorm = formulas.get("actnorm-logdet")
    value = actnorm.evaluate(s=scales, height=height, width=width)
    per_pixel = actnorm.evaluate(s=scales, height=1, width=1)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"An ActNorm layer acts on a {height} x {width} x {channels} activation (H x W x C) "
            f"as y = s * x + b per channel, with scales s = {vector(scales)}. What is "
            "log|det J| of the layer (natural log)? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "The Jacobian is diagonal with each s_c repeated H*W times: log|det J| = "
            "H * W * sum_c log|s_c| (absolute values: a negative scale still has |s| > 0). "
            "See `cheatsheet derive actnorm-logdet`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"H x W x C": [height, width, channels], "s": scales},
        mistakes=mistake(
            per_pixel, value, "every one of the H*W pixels contributes: multiply by H * W."
        ),
    )


@template(
    "flow-conv1x1-logdet-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("conv1x1-logdet",),
    difficulty=2,
    tags=("log-det", "glow"),
)
def conv1x1_logdet(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    weight = [[0.0, 0.0], [0.0, 0.0]]
    while abs(np.linalg.det(np.array(weight))) < 0.25:
        weight = [[grid(rng, -2, 2, 0.5) for _ in range(2)] for _ in range(2)]
    height, width = rng.choice([2, 4, 8]), rng.choice([2, 4, 8])
    value = formulas.get("conv1x1-logdet").evaluate(W=weight, height=height, width=width)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A Glow invertible 1x1 convolution on a {height} x {width} x 2 activation "
            f"(H x W x C) uses the channel-mixing matrix W = {matrix(weight)} (rows). What is "
            "log|det J| of the layer (natural log)? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "The same C x C matrix acts at every pixel, so J is block-diagonal with H*W copies of "
            "W: log|det J| = H * W * log|det W|. See `cheatsheet derive conv1x1-logdet`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"H x W x C": [height, width, 2], "W": weight},
        mistakes=mistake(
            formulas.get("conv1x1-logdet").evaluate(W=weight, height=1, width=1),
            value,
            "that is one pixel's log|det W|; the layer applies W at all H*W pixels.",
        ),
    )


@template(
    "flow-lu-logdet-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("conv1x1-lu-logdet", "conv1x1-logdet"),
    difficulty=2,
    tags=("log-det", "glow", "errata"),
)
def lu_logdet(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    s = [_nonzero(rng, -2, 2, 0.5) for _ in range(3)]
    lower = [[1.0, 0.0, 0.0], [grid(rng, -2, 2, 0.5), 1.0, 0.0], [0.0, 0.0, 1.0]]
    lower[2][0], lower[2][1] = grid(rng, -2, 2, 0.5), grid(rng, -2, 2, 0.5)
    upper = [[0.0, grid(rng, -2, 2, 0.5), grid(rng, -2, 2, 0.5)], [0.0, 0.0, 0.0], [0.0] * 3]
    upper[1][2] = grid(rng, -2, 2, 0.5)
    permutation = np.eye(3)[rng.sample(range(3), 3)]
    # W = P L (U + diag(s)): the registry's statement of the LU parametrisation.
    weight = permutation @ np.array(lower) @ (np.array(upper) + np.diag(s))
    height, width = rng.choice([1, 2, 4]), rng.choice([1, 2, 4])
    value = formulas.get("conv1x1-logdet").evaluate(W=weight, height=height, width=width)
    where = (
        "What is log|det W| (natural log)?"
        if height * width == 1
        else f"What is log|det J| of the 1x1 convolution on a {height} x {width} x 3 activation "
        "(natural log)?"
    )
    drawn = {"P": permutation.tolist(), "L": lower, "U": upper, "s": s}
    if height * width != 1:  # the activation's size is stated only when it is not one pixel
        drawn["H x W x C"] = [height, width, 3]
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            "Glow's LU-parametrised 1x1 convolution uses W = P L (U + diag(s)) with the "
            f"permutation P = {matrix(permutation)}, the unit lower-triangular L = {matrix(lower)},"
            f" the strictly upper-triangular U = {matrix(upper)} and s = {vector(s)}. {where} "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "det P = +-1 and det L = 1, and U + diag(s) is triangular with diagonal s: "
            "log|det W| = sum_i log|s_i|, O(C) instead of O(C^3); the convolution multiplies it "
            "by H*W. (The sheet drops L from W = P L (U + diag s).) See `cheatsheet derive "
            "conv1x1-lu-logdet`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn=drawn,
    )


@template(
    "flow-affine-density-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("change-of-variables",),
    difficulty=3,
    tags=("change-of-variables",),
)
def affine_density(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    diagonal = [_nonzero(rng, -2, 2, 0.5) for _ in range(2)]
    A = [[diagonal[0], 0.0], [grid(rng, -1, 1, 0.5), diagonal[1]]]
    b = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    z = [grid(rng, -1.5, 1.5, 0.5) for _ in range(2)]
    x = (np.array(A) @ np.array(z) + np.array(b)).tolist()
    cov = formulas.get("change-of-variables")
    value = cov.evaluate(x=x, A=A, b=b)
    # The classic slip: + log|det A| (forward Jacobian) instead of - log|det A|.
    wrong_sign = float(value) + 2 * float(np.log(abs(np.linalg.det(np.array(A)))))
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A flow maps z ~ N(0, I_2) to x = A z + b with A = {matrix(A)} (rows) and "
            f"b = {vector(b)}. What is log p_x(x) at x = {vector(x)} (natural log)? "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "p_x(x) = p_z(f^{-1}(x)) |det d f^{-1}/dx| with f^{-1}(x) = A^{-1}(x - b), so "
            "log p_x(x) = log N(A^{-1}(x - b); 0, I) - log|det A|; here det A is the product of "
            "the diagonal (A is triangular). See `cheatsheet derive change-of-variables`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"A": A, "b": b, "x": [shown(v) for v in x]},  # x = A z + b: exact on this grid
        mistakes=mistake(
            wrong_sign,
            value,
            "the determinant is that of the inverse map: subtract log|det A|, do not add it.",
        ),
    )


@template(
    "flow-triangular-logdet-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("affine-coupling-logdet", "triangular-determinant"),
    difficulty=1,
    tags=("log-det", "coupling"),
)
def triangular_logdet(rng: random.Random, question_id: str) -> Question:
    import formulas

    if rng.random() < 0.5:
        log_scale = [grid(rng, -1.5, 1.5, 0.1) for _ in range(rng.randint(2, 4))]
        x_b = [grid(rng, -1, 1, 0.1) for _ in range(len(log_scale))]
        value = formulas.get("affine-coupling-logdet").evaluate(log_scale=log_scale)
        prompt = (
            "A RealNVP affine coupling layer keeps x^B and maps y^A = x^A * exp(s(x^B)) + "
            f"t(x^B). For an input with x^B = {vector(x_b)} the scale network outputs "
            f"s(x^B) = {vector(log_scale)}. What is log|det J| of the layer?"
        )
        formula_id = "affine-coupling-logdet"
        drawn = {"x^B": x_b, "s(x^B)": log_scale}
        explanation = (
            "J is block-triangular with diag(exp(s)) and I on the diagonal: log|det J| = sum_i "
            "s_i(x^B); no Jacobian of s or t is needed. See `cheatsheet derive "
            "affine-coupling-logdet`."
        )
    else:
        size = 3
        jacobian = [[0.0] * size for _ in range(size)]
        for i in range(size):
            jacobian[i][i] = _nonzero(rng, -3, 3, 0.5)
            for j in range(i):
                jacobian[i][j] = grid(rng, -3, 3, 0.5)
        value = formulas.get("triangular-determinant").evaluate(J=jacobian)
        prompt = (
            f"An autoregressive flow has the lower-triangular Jacobian J = {matrix(jacobian)} "
            "(rows) at a point. What is log|det J| (natural log)?"
        )
        formula_id = "triangular-determinant"
        drawn = {"J": jacobian}
        explanation = (
            "The determinant of a triangular matrix is the product of its diagonal: "
            "log|det J| = sum_i log|J_ii|, O(n) work. See `cheatsheet derive "
            "triangular-determinant`."
        )
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=prompt + " (3 significant digits)",
        answer=number(value),
        explanation=explanation,
        formulas=(formula_id,),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn=drawn,
    )


_CHOICE = {
    "actnorm-logdet": (
        "ActNorm on an H x W x C activation with per-channel scales s_1..s_C",
        "log|det J|",
    ),
    "conv1x1-logdet": (
        "an invertible 1x1 convolution with C x C matrix W on an H x W x C activation",
        "log|det J|",
    ),
    "change-of-variables-1d": (
        "a 1-D flow x = a z + b with z ~ N(0, 1)",
        "log p_x(x)",
    ),
}


@template(
    "flow-logdet-choice-draw",
    topic=TOPIC,
    kind="choice",
    formulas=("actnorm-logdet", "conv1x1-logdet", "change-of-variables"),
    difficulty=2,
    tags=("mutants", "log-det"),
)
def logdet_choice(rng: random.Random, question_id: str) -> Question:
    import sympy as sp

    import formulas

    key = rng.choice(sorted(_CHOICE))
    what, lhs = _CHOICE[key]
    if key == "change-of-variables-1d":
        formula_id = "change-of-variables"
        rhs = _affine_1d_log_density()
    else:
        formula_id = key
        rhs = formulas.get(formula_id).statement.rhs
        # det W, the determinant of the kernel matrix, is one real number in the options
        rhs = rhs.replace(
            lambda e: isinstance(e, sp.Determinant),
            lambda e: sp.Symbol("det W", real=True, nonzero=True),
        )
    return mutant_choice_question(
        rng,
        question_id,
        TOPIC,
        f"For {what}: which is {lhs}?",
        formula_id,
        lhs,
        rhs,
        _pretty,
        count=3,
        allowed_symbols=(),
    )


def _affine_1d_log_density():
    """The registry's change of variables specialised to x = a z + b, z ~ N(0, 1), as
    (log p_x(x) expression, the symbols a, b, x)."""
    import sympy as sp

    import formulas

    statement = formulas.get("change-of-variables").statement
    x, b = sp.Symbol("x", real=True), sp.Symbol("b", real=True)
    a = sp.Symbol("a", positive=True)
    z = (x - b) / a
    density = statement.rhs.replace(
        lambda e: isinstance(e, sp.core.function.AppliedUndef) and "p_z" in str(e.func),
        lambda e: sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi),
    )
    density = density.replace(lambda e: isinstance(e, sp.Abs), lambda e: sp.Abs(sp.diff(z, x)))
    log_density = sp.expand_log(sp.log(density), force=True)
    if log_density.has(sp.Abs) or log_density.atoms(sp.core.function.AppliedUndef):
        raise ValueError(f"change-of-variables did not specialise: {log_density}")
    return log_density


@template(
    "flow-closed-form-draw",
    topic=TOPIC,
    kind="symbolic",
    formulas=("change-of-variables", "actnorm-logdet", "conv1x1-logdet"),
    difficulty=2,
    tags=("closed-form", "log-det"),
)
def closed_form(rng: random.Random, question_id: str) -> Question:
    import sympy as sp

    import formulas
    from quizzes.parser import ASSUMPTIONS

    which = rng.choice(["affine-1d", "actnorm", "conv1x1"])
    drawn = {}
    if which == "affine-1d":
        formula_id = "change-of-variables"
        symbols = {"x": "real", "b": "real", "a": "positive"}
        expr = _affine_1d_log_density()
        prompt = (
            "A 1-D flow maps z ~ N(0, 1) to x = a z + b with a > 0. Write log p_x(x) in terms "
            "of x, a and b (pi is the constant)."
        )
    else:
        channels = rng.randint(2, 3)
        drawn = {"C": channels}
        names = [f"s_{c}" for c in range(1, channels + 1)]
        symbols = {"h": "positive-integer", "w": "positive-integer"}
        if which == "actnorm":
            formula_id = "actnorm-logdet"
            symbols.update({name: "real" for name in names})
            prompt = (
                f"ActNorm on an h x w x {channels} activation scales channel c by s_c (and shifts "
                f"it). Write log|det J| in terms of h, w and {', '.join(names)} (use abs(.))."
            )
        else:
            formula_id = "conv1x1-logdet"
            symbols["d"] = "real"
            prompt = (
                f"An invertible 1x1 convolution with the {channels} x {channels} matrix W acts on "
                f"an h x w x {channels} activation. Write log|det J| in terms of h, w and "
                "d = det W (use abs(.))."
            )
        rhs = formulas.get(formula_id).statement.rhs
        table = {name: sp.Symbol(name, **ASSUMPTIONS[a]) for name, a in symbols.items()}
        if "d" in table:  # det W (a determinant of the kernel matrix) is the number d here
            rhs = rhs.replace(lambda e: isinstance(e, sp.Determinant), lambda e: table["d"])
        mapping = {}
        for symbol in rhs.free_symbols:
            if symbol.name == "H":
                mapping[symbol] = table["h"]
            elif symbol.name == "W":
                mapping[symbol] = table["w"]
            elif symbol.name == "C":
                mapping[symbol] = channels
        expr = rhs.xreplace(mapping).doit()
        # the registry indexes the scales as s[i] (Indexed) or s(i) (an applied function)
        expr = expr.replace(
            lambda e: (
                isinstance(e, sp.Indexed)
                or (
                    isinstance(e, sp.core.function.AppliedUndef) and e.args and e.args[0].is_Integer
                )
            ),
            lambda e: table[f"s_{int(e.indices[0] if isinstance(e, sp.Indexed) else e.args[0])}"],
        )
    unknown = {s.name for s in expr.free_symbols} - set(symbols)
    if unknown:
        raise ValueError(f"{formula_id}: the answer has undeclared symbols {unknown}")
    return symbolic_question(
        question_id,
        TOPIC,
        prompt,
        expr,
        symbols,
        formula_id,
        note=": the log-determinant of the inverse map adds to log p_z; every pixel contributes",
        drawn=drawn,
    )


@template(
    "flows-linear-density-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("triangular-determinant", "change-of-variables"),
    difficulty=3,
    tags=("change-of-variables", "multipart"),
)
def linear_density_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    A = [[rng.choice([-2.0, -0.5, 0.5, 2.0, 3.0]), 0.0], [grid(rng, -1, 1, 0.5), 0.0]]
    A[1][1] = rng.choice([-1.5, 0.5, 1.5, 2.0])
    b = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    x = [grid(rng, -2, 2, 0.5) for _ in range(2)]
    logdet = formulas.get("triangular-determinant").evaluate(J=A)
    log_px = formulas.get("change-of-variables").evaluate(x=x, A=A, b=b)
    return problem(
        question_id,
        TOPIC,
        f"A 2-D flow maps z ~ N(0, I) to x = A z + b with the lower-triangular A = {matrix(A)} "
        f"and b = {vector(b)}. Natural logarithms throughout.",
        [
            part(
                "numeric",
                "What is log |det A|?",
                logdet,
                "A triangular matrix's determinant is the product of its diagonal.",
            ),
            part(
                "numeric",
                f"What is log p_x(x) at x = {vector(x)}?",
                log_px,
                "log p_x(x) = log p_z(A^{-1}(x - b)) - log |det A| with "
                "log p_z(z) = -|z|^2/2 - log 2 pi.",
                drawn={"x": x},
            ),
            choice_part(
                rng,
                "Why does the change of variables use |det A| and not det A?",
                "a density must stay positive: a negative determinant only flips orientation, "
                "the volume scales by |det A|",
                {
                    "the bars change nothing, since the determinant of a flow is never negative": (
                        "a flow may reverse orientation: a negative diagonal entry gives det A < 0"
                    ),
                    "the absolute value makes the flow invertible": "invertibility needs "
                    "det A != 0; the absolute value does not change it",
                    "|det A| is cheaper to compute than det A": "both cost the same product of "
                    "the diagonal",
                },
                "p_x(x) = p_z(z) |det dz/dx|: volumes, not signed volumes.",
            ),
        ],
        formulas=("triangular-determinant", "change-of-variables"),
        carried={1: f"(a) log |det A| = {number(logdet)}"},
        drawn={"A": A, "b": b},
    )


@template(
    "flows-glow-logdet-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("actnorm-logdet", "conv1x1-logdet"),
    difficulty=3,
    tags=("glow", "log-determinant", "multipart"),
)
def glow_logdet_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    height, width = rng.choice([(2, 2), (4, 4), (8, 8), (4, 2)])
    s = [rng.choice([0.5, 2.0, 3.0, -1.5]), rng.choice([0.25, 1.5, 4.0, -2.0])]
    W = [[rng.choice([1.0, 2.0, 3.0]), grid(rng, -1, 1, 1)], [0.0, rng.choice([-2.0, 0.5, 2.0])]]
    actnorm = formulas.get("actnorm-logdet").evaluate(s=s, height=height, width=width)
    conv = formulas.get("conv1x1-logdet").evaluate(W=W, height=height, width=width)
    return problem(
        question_id,
        TOPIC,
        f"One Glow step on a {height} x {width} x 2 activation: ActNorm with per-channel scales "
        f"s = {vector(s)}, then an invertible 1x1 convolution with W = {matrix(W)}. Natural "
        "logarithms.",
        [
            part(
                "numeric",
                "What is the ActNorm layer's log|det J|?",
                actnorm,
                "h w sum_c log|s_c|: every pixel is scaled.",
            ),
            part("numeric", "What is the 1x1 convolution's log|det J|?", conv, "h w log|det W|."),
            part(
                "numeric",
                "What is the step's total log|det J| (the affine coupling "
                "that follows is not counted)?",
                actnorm + conv,
                "Log-determinants of a composition add.",
            ),
            choice_part(
                rng,
                "Why does Glow often parametrise W = P L (U + diag(s))?",
                "log|det W| becomes sum log|s|: O(C) instead of O(C^3) per step",
                {
                    "to make W orthogonal, so log|det W| = 0": "only a rotation has "
                    "log|det| = 0; P L U is general",
                    "to let W be singular": "a flow needs an invertible W (s_i != 0)",
                    "to save memory for the activations": "the activations are unchanged; "
                    "it is the determinant that gets cheap",
                },
                "The determinant of a triangular factor is its diagonal's product.",
            ),
        ],
        formulas=("actnorm-logdet", "conv1x1-logdet"),
        carried={2: f"(a) {number(actnorm)}; (b) {number(conv)}"},
        drawn={"H x W x C": [height, width, 2], "s": s, "W": W},
    )


@template(
    "flows-affine-coupling-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("affine-coupling-logdet",),
    difficulty=3,
    tags=("coupling", "multipart"),
)
def affine_coupling_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, number, part, vector

    x = [grid(rng, -2, 2, 0.5) for _ in range(4)]
    log_scale = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    while not any(log_scale):
        log_scale[0] = 0.5
    shift = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    component = rng.randrange(2)
    y = x[2 + component] * math.exp(log_scale[component]) + shift[component]
    logdet = formulas.get("affine-coupling-logdet").evaluate(log_scale=log_scale)
    return problem(
        question_id,
        TOPIC,
        f"An affine coupling layer splits x = {vector(x)} into x^A = (x_1, x_2) and x^B = "
        f"(x_3, x_4). Its networks give, for this x^A, the log-scales s(x^A) = "
        f"{vector(log_scale)} and the shifts t(x^A) = {vector(shift)}; y^A = x^A and y^B = "
        "x^B * exp(s) + t (elementwise).",
        [
            part(
                "numeric",
                f"What is y_{3 + component}?",
                y,
                "x * exp(s) + t.",
                drawn={"component": 3 + component},
            ),
            part(
                "numeric",
                "What is log|det dy/dx|?",
                logdet,
                "The Jacobian is triangular with diagonal (1, 1, exp(s_1), exp(s_2)).",
            ),
            part(
                "symbolic",
                "Invert the coupling: write x_3 in terms of y_3, s_1 and t_1.",
                "(y_3 - t_1)*exp(-s_1)",
                "Subtract t, divide by exp(s); s and t are recomputed from y^A = x^A.",
                symbols={"y_3": "real", "s_1": "real", "t_1": "real"},
            ),
            choice_part(
                rng,
                "Why can s and t be arbitrary neural networks?",
                "they only ever take x^A, which passes through unchanged: the Jacobian stays "
                "triangular and the inverse never has to invert s or t",
                {
                    "because they are invertible by construction": "s and t need not be "
                    "invertible at all",
                    "because their Jacobians are computed by autograd": "their Jacobians "
                    "never enter log|det|",
                    "because the coupling is volume preserving": "it changes volume by exp(sum s)",
                },
                "Dinh et al. (RealNVP): the off-diagonal block never enters the determinant.",
            ),
        ],
        formulas=("affine-coupling-logdet",),
        carried={1: f"(a) y_{3 + component} = {number(y)}"},
        drawn={"x": x, "s(x^A)": log_scale, "t(x^A)": shift},
    )


@template(
    "flows-composition-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("flow-composition", "change-of-variables"),
    difficulty=3,
    tags=("composition", "change-of-variables", "multipart"),
)
def composition_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part, show

    a = rng.choice([-2.0, -1.5, -0.5, 0.5, 1.5, 2.0])
    b = grid(rng, -1, 1, 0.5)
    x = rng.choice([0.5, 2.0, 3.0, 4.0])
    y = math.log(x)
    z = (y - b) / a
    # flow-composition: p_x(x) = p_z(f_1^{-1}(f_2^{-1}(x))) |d f_2^{-1}/dx| |d f_1^{-1}/dy|
    log_density = (
        -0.5 * z * z - 0.5 * math.log(2 * math.pi) + math.log(1 / x) + math.log(1 / abs(a))
    )
    forward = math.log(abs(a)) + y  # log|f_1'(z)| + log|f_2'(y)|, f_2' = exp(y)
    return problem(
        question_id,
        TOPIC,
        "A 1-D flow maps z ~ N(0, 1) to x in two steps: y = f_1(z) = a z + b with a = "
        f"{show(a)}, b = {show(b)}, then x = f_2(y) = exp(y); f = f_2 o f_1. Natural "
        "logarithms.",
        [
            part(
                "symbolic",
                "Write |d f^{-1}(x)/dx| for the composed flow, using a and x (for x > 0, any "
                "a != 0).",
                "1/(abs(a)*x)",
                "f^{-1}(x) = (log x - b)/a: the chain rule gives 1/(a x); the density needs "
                "its absolute value.",
                symbols={"a": "real", "x": "positive"},
            ),
            part(
                "numeric",
                f"What is log p_x(x) at x = {show(x)}?",
                log_density,
                "log N(z; 0, 1) + log|d f^{-1}/dx| with z = (log x - b)/a.",
                drawn={"x": x},
            ),
            part(
                "numeric",
                "What is log|df/dz| = log|f_1'(z)| + log|f_2'(f_1(z))| at the z that f maps to "
                "that x?",
                forward,
                "log|a| + y with y = log x: the layers' log-determinants add, and it is minus "
                "the log|d f^{-1}/dx| of (a).",
            ),
            choice_part(
                rng,
                "Which is right about inverting and scoring a stack f = f_2 o f_1, and why?",
                "f^{-1} = f_1^{-1} o f_2^{-1} and the layers' log-determinants add, so each "
                "layer needs only its own inverse and its own log-determinant",
                {
                    "f^{-1} = f_2^{-1} o f_1^{-1}: the layers are undone in the order they were "
                    "applied": "x came out of f_2 last, so f_2 must be undone first",
                    "the log-determinants multiply, since the Jacobians multiply": "the log of "
                    "a product of determinants is a sum",
                    "only volume-preserving layers can be stacked": "any invertible layers "
                    "with tractable log-determinants can be stacked; volumes multiply",
                },
                "The Jacobian of a composition is the product of the layers' Jacobians (chain "
                "rule), so log|det| is a sum. See `cheatsheet derive flow-composition`.",
            ),
        ],
        formulas=("flow-composition", "change-of-variables"),
        carried={2: "(a) |d f^{-1}/dx| = 1/(|a| x)"},
        drawn={"a": a, "b": b},
    )


@template(
    "flows-multiscale-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("squeeze",),
    difficulty=2,
    tags=("squeeze", "multi-scale", "multipart"),
)
def multiscale_multipart(rng: random.Random, question_id: str) -> Question:
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    channels = rng.choice([1, 3])
    size = rng.choice([16, 32, 64])
    level = rng.randint(2, 3)
    shape = (channels, size, size)
    weights = []
    for _ in range(level):
        shape = (4 * shape[0], shape[1] // 2, shape[2] // 2)  # squeeze
        weights.append(shape[0] ** 2)  # the 1x1 convolution's C x C matrix at this level
        shape = (shape[0] // 2, shape[1], shape[2])  # split: half goes to z
    passed = shape[0] * shape[1] * shape[2]
    exact = {"numeric_rule": "decimals:0"}
    return problem(
        question_id,
        TOPIC,
        f"A Glow-style multi-scale flow on {channels} x {size} x {size} inputs (C x H x W, "
        "channels first). One level = squeeze (each 2 x 2 spatial block becomes 4 channels: C "
        "x H x W -> 4C x H/2 x W/2), then K flow steps (ActNorm, an invertible 1x1 "
        "convolution with a C' x C' matrix, an affine coupling), then split (half of the "
        "channels are factored out into z, the other half go on to the next level). Levels "
        "are counted from 1.",
        [
            part(
                "numeric",
                "How many channels does the activation have right after the first squeeze?",
                4 * channels,
                "4C: each 2 x 2 block of every channel becomes 4 channels.",
                **exact,
            ),
            part(
                "numeric",
                f"How many numbers (C x H x W) go on to level {level + 1} after {level} levels?",
                passed,
                f"Each level halves what goes on: C H W / 2^{level}.",
                drawn={"levels": level},
                **exact,
            ),
            part(
                "numeric",
                f"How many entries has the 1x1 convolution's C' x C' matrix in level {level}?",
                weights[-1],
                "The channels after that level's squeeze: 4C, then 8C, 16C, ... (the split "
                "halves, the squeeze quadruples); C'^2 entries.",
                drawn={"level": level},
                **exact,
            ),
            part(
                "numeric",
                "How many dimensions does the whole latent z have (every factored-out half "
                "plus the last level's output)?",
                channels * size * size,
                "A bijection keeps the dimension: C H W.",
                **exact,
            ),
            choice_part(
                rng,
                "Why is the split-off half kept as part of z instead of discarded?",
                "a flow must stay a bijection: the factored-out half gets its own density term "
                "in log p(x), so dim z = dim x and the change of variables holds",
                {
                    "it is only kept to save memory; discarding it gives the same likelihood": (
                        "a map that drops dimensions is not invertible and has no change-of-"
                        "variables density"
                    ),
                    "the squeeze lowers the dimension, so the split must restore it": "the "
                    "squeeze only reshapes: 4C x H/2 x W/2 = C x H x W numbers",
                    "the split-off half is transformed again at the next level": "it leaves "
                    "the flow; only the other half continues",
                },
                "log p(x) = sum over levels of log p(z_l) + the log-determinants; every number "
                "of x ends up in exactly one z_l.",
            ),
        ],
        formulas=("squeeze",),
        drawn={"C x H x W": [channels, size, size]},
    )


guard_module(__name__)
