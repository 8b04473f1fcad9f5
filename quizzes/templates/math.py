"""Generated questions on the sheet's mathematical toolbox (section 14): a secant step, a
plane from its axis intercepts and through three points, the cross product, the matrix
determinant lemma, sums and scalings of independent Gaussians (independence is what makes
the covariances add), Bayes' rule, and the product/quotient/chain rules on concrete functions.

Every answer comes from the formula registry (secant-step, plane-intercept-form,
plane-from-points, cross-product, matrix-determinant-lemma, gaussian-sum, gaussian-scaling,
bayes-rule, product-rule, quotient-rule, chain-rule).
"""

from __future__ import annotations

import random

from quizzes.questions import Mistake, Question, template
from quizzes.templates._kit import guard_module, numeric, plain, show, vector, wrong

TOPIC = "math"


@template(
    "math-secant-step-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("secant-step",),
    difficulty=1,
    tags=("root-finding",),
)
def secant(rng: random.Random, question_id: str) -> Question:
    import formulas

    c = rng.choice([2, 3, 5, 6, 7, 10])
    shift = rng.choice([0, 1, -1])

    def f(x: float) -> float:
        return x * x + shift * x - c

    x0 = x1 = 0.0
    while f(x0) == f(x1):  # the secant needs two different heights
        x0 = float(rng.randint(0, 2))
        x1 = x0 + rng.choice([1.0, 2.0])

    value = formulas.get("secant-step").evaluate(x0=x0, x1=x1, f0=f(x0), f1=f(x1))
    poly = "x^2" + {0: "", 1: " + x", -1: " - x"}[shift] + f" - {c}"
    return numeric(
        question_id,
        TOPIC,
        f"One step of the secant method for a root of f(x) = {poly}, from x_0 = {show(x0)} "
        f"and x_1 = {show(x1)}: what is x_2?",
        value,
        "x_2 = x_1 - f(x_1) (x_1 - x_0) / (f(x_1) - f(x_0)): the zero of the line through "
        "(x_0, f(x_0)) and (x_1, f(x_1)). See `cheatsheet derive secant-step`.",
        ("secant-step",),
        mistakes=wrong(
            (
                x1 + f(x1) * (x1 - x0) / (f(x1) - f(x0)),
                "step against f: x_1 minus the correction, not plus.",
            ),
            (
                x1 - f(x0) * (x1 - x0) / (f(x1) - f(x0)),
                "the numerator uses f(x_1), the newest point.",
            ),
            answer=value,
        ),
        drawn={"f(x)": poly, "x_0": x0, "x_1": x1},
    )


@template(
    "math-plane-intercept-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("plane-intercept-form",),
    difficulty=1,
    tags=("geometry", "plane"),
)
def plane_intercept(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    a, b, c = (float(rng.choice([-4, -2, -1, 1, 2, 3, 4, 5])) for _ in range(3))
    x0, y0 = float(rng.randint(-2, 2)), float(rng.randint(-2, 2))
    # the plane's equation is affine in z with slope 1/c: solve for the z that makes it 0
    residual = formulas.get("plane-intercept-form").evaluate(
        point=np.array([x0, y0, 0.0]), x1=a, y1=b, z1=c
    )
    value = -c * float(residual)
    return numeric(
        question_id,
        TOPIC,
        f"A plane cuts the coordinate axes at (x_1, 0, 0), (0, y_1, 0) and (0, 0, z_1) with "
        f"x_1 = {show(a)}, y_1 = {show(b)}, z_1 = {show(c)}. What is the z coordinate of its "
        f"point with x = {show(x0)} and y = {show(y0)}?",
        value,
        "Intercept form: x/x_1 + y/y_1 + z/z_1 = 1 (all three intercepts satisfy it), so "
        "z = z_1 (1 - x/x_1 - y/y_1). See `cheatsheet derive plane-intercept-form`.",
        ("plane-intercept-form",),
        mistakes=wrong(
            (c * (x0 / a + y0 / b - 1), "the sign is flipped: z = z_1 (1 - x/x_1 - y/y_1)."),
            (c * (1 - x0 * a - y0 * b), "divide by the intercepts: x/x_1, not x x_1."),
            answer=value,
        ),
        drawn={"x_1": a, "y_1": b, "z_1": c, "x": x0, "y": y0},
    )


def _vector3(rng: random.Random):
    import numpy as np

    return np.array([rng.randint(-3, 3) for _ in range(3)], float)


@template(
    "math-cross-product-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("cross-product",),
    difficulty=1,
    tags=("geometry",),
)
def cross(rng: random.Random, question_id: str) -> Question:
    import formulas

    a, b = _vector3(rng), _vector3(rng)
    n = formulas.get("cross-product").evaluate(a=a, b=b)
    while not n.any():
        b = _vector3(rng)
        n = formulas.get("cross-product").evaluate(a=a, b=b)
    j = rng.randrange(3)
    while n[j] == 0:
        j = rng.randrange(3)
    return numeric(
        question_id,
        TOPIC,
        f"What is component {j + 1} of the cross product a x b for a = {vector(a)} and "
        f"b = {vector(b)}?",
        n[j],
        "a x b = (a_2 b_3 - a_3 b_2, a_3 b_1 - a_1 b_3, a_1 b_2 - a_2 b_1): orthogonal to a "
        "and b (a plane's normal). See `cheatsheet derive cross-product`.",
        ("cross-product",),
        exact=True,
        mistakes=wrong(
            (-n[j], "that is b x a: the cross product is antisymmetric."), answer=n[j], gap=0.0
        ),
        drawn={"a": a.tolist(), "b": b.tolist(), "component": j + 1},
    )


@template(
    "math-plane-from-points-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("plane-from-points", "cross-product"),
    difficulty=2,
    tags=("geometry", "plane"),
)
def plane_points(rng: random.Random, question_id: str) -> Question:
    import formulas

    while True:
        p1, p2, p3 = _vector3(rng), _vector3(rng), _vector3(rng)
        n1, n2, n3, k = formulas.get("plane-from-points").evaluate(p1=p1, p2=p2, p3=p3)
        if any((n1, n2, n3)) and k != 0:
            break
    return numeric(
        question_id,
        TOPIC,
        f"The plane through p_1 = {vector(p1)}, p_2 = {vector(p2)} and p_3 = {vector(p3)} is "
        "written n . x + k = 0 with the normal n = (p_2 - p_1) x (p_3 - p_1). What is k?",
        k,
        f"n = (p_2 - p_1) x (p_3 - p_1) = {vector([n1, n2, n3])}, and k = -n . p_1 so that "
        "p_1 (hence all three points) lies on the plane. See `cheatsheet derive "
        "plane-from-points`.",
        ("plane-from-points",),
        exact=True,
        mistakes=wrong((-k, "k = -n . p_1: the sign is flipped."), answer=k, gap=0.0),
        drawn={"p_1": p1.tolist(), "p_2": p2.tolist(), "p_3": p3.tolist()},
    )


@template(
    "math-determinant-lemma-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("matrix-determinant-lemma",),
    difficulty=2,
    tags=("linear-algebra", "flows"),
)
def determinant_lemma(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    diagonal = [float(rng.choice([1, 2, 4, -1, -2])) for _ in range(3)]
    A = np.diag(diagonal)
    u = np.array([rng.randint(-2, 2) for _ in range(3)], float)
    v = np.array([rng.randint(-2, 2) for _ in range(3)], float)
    while not (u * v).any():
        v = np.array([rng.randint(-2, 2) for _ in range(3)], float)
    value = formulas.get("matrix-determinant-lemma").evaluate(A=A, u=u, v=v)
    det_a = float(np.prod(diagonal))
    return numeric(
        question_id,
        TOPIC,
        f"A = diag({vector(diagonal)[1:-1]}), u = {vector(u)}, v = {vector(v)}. Using the "
        "matrix determinant lemma, what is det(A + u v^T)?",
        value,
        "det(A + u v^T) = (1 + v^T A^{-1} u) det A: a rank-one update costs one solve, not a "
        "new determinant (planar flows use it). See `cheatsheet derive "
        "matrix-determinant-lemma`.",
        ("matrix-determinant-lemma",),
        mistakes=wrong(
            ((1 + v @ u) * det_a, "A^{-1} is missing: (1 + v^T A^{-1} u) det A."),
            (det_a, "that is det A; the rank-one update changes it by (1 + v^T A^{-1} u)."),
            answer=value,
        ),
        drawn={"diag(A)": diagonal, "u": u.tolist(), "v": v.tolist()},  # A = diag(...)
    )


@template(
    "math-gaussian-combination-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("gaussian-scaling", "gaussian-sum"),
    difficulty=2,
    tags=("probability", "gaussian", "errata"),
)
def gaussian_combination(rng: random.Random, question_id: str) -> Question:
    import formulas

    mu1, mu2 = float(rng.randint(-3, 3)), float(rng.randint(-3, 3))
    var1, var2 = float(rng.choice([1, 2, 4, 9])), float(rng.choice([1, 3, 4, 0.25]))
    a = rng.choice([-2.0, -0.5, 0.5, 2.0, 3.0])
    scaled_mu, scaled_var = formulas.get("gaussian-scaling").evaluate(a=a, mu=mu1, cov=var1)
    mean, var = formulas.get("gaussian-sum").evaluate(
        mu1=scaled_mu, cov1=scaled_var, mu2=mu2, cov2=var2
    )
    ask_var = rng.random() < 0.7
    value = float(var if ask_var else mean)
    pairs = (
        [
            (a * var1 + var2, "scaling by a multiplies the variance by a^2, not a."),
            (
                (abs(a) * var1**0.5 + var2**0.5) ** 2,
                "the variances add (for independent variables), not the standard deviations.",
            ),
            (a * a * var1 - var2, "variances of independent variables add, even for a difference."),
        ]
        if ask_var
        else [(mu1 + mu2, f"the mean scales with a: E[a X_1] = a mu_1 = {show(scaled_mu)}.")]
    )
    return numeric(
        question_id,
        TOPIC,
        f"X_1 ~ N({show(mu1)}, {show(var1)}) and X_2 ~ N({show(mu2)}, {show(var2)}) are "
        f"independent (second parameter: the variance). What is the "
        + ("variance" if ask_var else "mean")
        + f" of Y = {show(a)} X_1 + X_2?",
        value,
        "a X ~ N(a mu, a^2 sigma^2), and for INDEPENDENT X_1, X_2: X_1 + X_2 ~ N(mu_1 + mu_2, "
        "sigma_1^2 + sigma_2^2) (the sheet omits the independence; correlated variables add "
        "their covariances too). See `cheatsheet derive gaussian-sum`.",
        ("gaussian-scaling", "gaussian-sum"),
        mistakes=wrong(*pairs, answer=value),
        drawn={
            "X_1": [mu1, var1],  # N(mean, variance)
            "X_2": [mu2, var2],
            "a": a,  # Y = a X_1 + X_2
            "asked": "variance" if ask_var else "mean",
        },
    )


@template(
    "math-bayes-rule-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("bayes-rule",),
    difficulty=2,
    tags=("probability",),
)
def bayes(rng: random.Random, question_id: str) -> Question:
    import formulas

    prior = rng.choice([0.01, 0.02, 0.05, 0.1, 0.2])
    sensitivity = rng.choice([0.8, 0.9, 0.95, 0.99])
    false_positive = rng.choice([0.01, 0.05, 0.1, 0.2])
    evidence = sensitivity * prior + false_positive * (1 - prior)  # total probability
    value = formulas.get("bayes-rule").evaluate(p_b_given_a=sensitivity, p_a=prior, p_b=evidence)
    return numeric(
        question_id,
        TOPIC,
        f"A condition A has prevalence P(A) = {show(prior)}. A test is positive (B) with "
        f"probability P(B|A) = {show(sensitivity)} when A holds and with probability "
        f"P(B|not A) = {show(false_positive)} when it does not. What is P(A|B), the "
        "probability of A after a positive test?",
        value,
        "P(A|B) = P(B|A) P(A) / P(B) with P(B) = P(B|A) P(A) + P(B|not A) (1 - P(A)) (total "
        "probability). See `cheatsheet derive bayes-rule`.",
        ("bayes-rule",),
        mistakes=wrong(
            (sensitivity, "that is P(B|A): conditioning does not commute; use Bayes' rule."),
            (sensitivity * prior, "divide by the evidence P(B)."),
            answer=value,
        ),
        drawn={"P(A)": prior, "P(B|A)": sensitivity, "P(B|not A)": false_positive},
    )


_FUNCTIONS = {
    "sin(x)": lambda sp, u: sp.sin(u),
    "exp(x)": lambda sp, u: sp.exp(u),
    "x^2 + 1": lambda sp, u: u**2 + 1,
    "log(x)": lambda sp, u: sp.log(u),
    "x^3": lambda sp, u: u**3,
    "cos(x)": lambda sp, u: sp.cos(u),
}


@template(
    "math-derivative-rule-draw",
    topic=TOPIC,
    kind="symbolic",
    formulas=("product-rule", "quotient-rule", "chain-rule"),
    difficulty=2,
    tags=("calculus",),
)
def derivative_rule(rng: random.Random, question_id: str) -> Question:
    import sympy as sp

    import formulas

    formula_id = rng.choice(["product-rule", "quotient-rule", "chain-rule"])
    f_text, g_text = rng.sample(sorted(_FUNCTIONS), 2)
    statement = formulas.get(formula_id).statement
    (x,) = [s for s in statement.free_symbols if s.name == "x"]
    undefined = {type(a).__name__: type(a) for a in statement.atoms(sp.core.function.AppliedUndef)}
    u = sp.Dummy("u")
    rhs = statement.rhs
    for name, text in (("f", f_text), ("g", g_text)):
        rhs = rhs.replace(undefined[name], sp.Lambda(u, _FUNCTIONS[text](sp, u)))
    x_declared = sp.Symbol("x", positive=True)
    expr = rhs.doit().xreplace({x: x_declared})  # as the rule writes it, unsimplified
    f_x, g_x = (_FUNCTIONS[t](sp, x_declared) for t in (f_text, g_text))
    if formula_id == "product-rule":
        h, rule = "f(x) g(x)", "(f g)' = f' g + f g'"
        slip = sp.diff(f_x, x_declared) * sp.diff(g_x, x_declared)
        feedback = "the derivative of a product is not the product of the derivatives."
    elif formula_id == "quotient-rule":
        h, rule = "f(x) / g(x)", "(f/g)' = (f' g - f g') / g^2"
        slip = (f_x * sp.diff(g_x, x_declared) - sp.diff(f_x, x_declared) * g_x) / g_x**2
        feedback = "the numerator is f' g - f g', in that order (the sign is flipped)."
    else:
        h, rule = "f(g(x))", "(f o g)' = f'(g(x)) g'(x)"
        slip = sp.diff(f_x, x_declared).xreplace({x_declared: g_x})
        feedback = "the inner derivative g'(x) is missing (chain rule)."
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="symbolic",
        prompt=(
            f"Let f(x) = {f_text} and g(x) = {g_text} (x > 0). Write the derivative of "
            f"h(x) = {h} with respect to x, in terms of x."
        ),
        answer=plain(expr),
        explanation=f"{rule}: h'(x) = {plain(expr)}. See `cheatsheet derive {formula_id}`.",
        formulas=(formula_id,),
        symbols={"x": "positive"},
        mistakes=(Mistake(plain(slip), feedback),),
        drawn={"f(x)": f_text, "g(x)": g_text, "h(x)": h},
    )


@template(
    "math-bayes-test-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("bayes-rule",),
    difficulty=2,
    tags=("bayes", "multipart"),
)
def bayes_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    prevalence = rng.choice([0.01, 0.02, 0.05, 0.1])
    sensitivity = rng.choice([0.8, 0.9, 0.95, 0.99])
    false_positive = rng.choice([0.02, 0.05, 0.1])
    evidence = sensitivity * prevalence + false_positive * (1 - prevalence)  # total probability
    while sensitivity * prevalence / evidence > sensitivity / 2:  # keep the base-rate lesson
        prevalence = rng.choice([0.01, 0.02, 0.05])
        false_positive = rng.choice([0.05, 0.1])
        evidence = sensitivity * prevalence + false_positive * (1 - prevalence)
    posterior = formulas.get("bayes-rule").evaluate(
        p_b_given_a=sensitivity, p_a=prevalence, p_b=evidence
    )
    return problem(
        question_id,
        TOPIC,
        f"A condition A has prevalence p(A) = {show(prevalence)}. A test B is positive with "
        f"probability p(B | A) = {show(sensitivity)} when A holds and p(B | not A) = "
        f"{show(false_positive)} when it does not.",
        [
            part(
                "numeric",
                "What is the probability p(B) of a positive test?",
                evidence,
                "Total probability: p(B) = p(B|A) p(A) + p(B|not A) (1 - p(A)).",
            ),
            part(
                "numeric",
                "What is p(A | B), the probability of the condition after a positive test?",
                posterior,
                "Bayes: p(A|B) = p(B|A) p(A) / p(B).",
            ),
            choice_part(
                rng,
                "Why is p(A | B) so much smaller than p(B | A) here?",
                "A is rare: most positives come from the many people without A (the base rate)",
                {
                    "the test is unreliable: p(B | A) is small": f"p(B | A) = "
                    f"{show(sensitivity)} is high; the prior p(A) is what is small",
                    "Bayes' rule always lowers a probability": "a posterior can be larger "
                    "than the prior (here p(A|B) > p(A))",
                    "p(A | B) and p(B | A) are the same number": "they differ by the factor "
                    "p(A)/p(B)",
                },
                "p(A|B) = p(B|A) p(A)/p(B) with p(A) small and p(B) dominated by false positives.",
            ),
        ],
        formulas=("bayes-rule",),
        carried={1: f"(a) p(B) = {number(evidence)}", 2: f"(b) p(A | B) = {number(posterior)}"},
        drawn={"p(A)": prevalence, "p(B | A)": sensitivity, "p(B | not A)": false_positive},
    )


@template(
    "math-determinant-lemma-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("matrix-determinant-lemma",),
    difficulty=2,
    tags=("determinant", "multipart"),
)
def determinant_lemma_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    diagonal = [rng.choice([1.0, 2.0, 3.0, 0.5, 4.0]) for _ in range(3)]
    u = [rng.choice([-1.0, 1.0, 2.0]) for _ in range(3)]
    v = [rng.choice([-1.0, 1.0, 0.5, 2.0]) for _ in range(3)]
    A = np.diag(diagonal)
    det_a = float(np.prod(diagonal))
    inner = 1 + sum(vi * ui / d for ui, vi, d in zip(u, v, diagonal))  # 1 + v^T A^{-1} u
    while abs(inner) < 1e-9:
        v[0] += 1.0
        inner = 1 + sum(vi * ui / d for ui, vi, d in zip(u, v, diagonal))
    lemma = formulas.get("matrix-determinant-lemma").evaluate(A=A, u=u, v=v)
    return problem(
        question_id,
        TOPIC,
        f"A = diag({', '.join(show(d) for d in diagonal)}), u = {vector(u)} and v = {vector(v)}.",
        [
            part("numeric", "What is det A?", det_a, "The product of the diagonal."),
            part("numeric", "What is 1 + v^T A^{-1} u?", inner, "A^{-1} = diag(1/a_i)."),
            part(
                "numeric",
                "What is det(A + u v^T)?",
                lemma,
                "The matrix determinant lemma: det(A + u v^T) = (1 + v^T A^{-1} u) det A.",
            ),
            choice_part(
                rng,
                "Why do flows with rank-one updates (planar flows) use this lemma?",
                "it turns an O(n^3) determinant into O(n) work when A is diagonal",
                {
                    "it makes the matrix orthogonal": "A + u v^T is generally not orthogonal",
                    "it guarantees det(A + u v^T) > 0": "1 + v^T A^{-1} u can be negative or 0",
                    "it avoids inverting the flow": "the lemma is about the determinant, not "
                    "the inverse",
                },
                "Only A^{-1} u and an inner product are needed.",
            ),
        ],
        formulas=("matrix-determinant-lemma",),
        carried={2: f"(a) det A = {number(det_a)}; (b) {number(inner)}"},
        drawn={"diag(A)": diagonal, "u": u, "v": v},  # A = diag(...)
    )


@template(
    "math-secant-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("secant-step",),
    difficulty=2,
    tags=("root-finding", "secant", "multipart"),
)
def secant_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part, show

    c = rng.choice([2.0, 3.0, 5.0, 7.0])
    x0, x1 = rng.choice([(1.0, 2.0), (1.0, 3.0), (2.0, 3.0)])
    f = lambda x: x * x - c  # noqa: E731
    step = formulas.get("secant-step")
    x2 = step.evaluate(x0=x0, x1=x1, f0=f(x0), f1=f(x1))
    x3 = step.evaluate(x0=x1, x1=x2, f0=f(x1), f1=f(x2))
    return problem(
        question_id,
        TOPIC,
        f"The secant method looks for the root of f(x) = x^2 - {show(c)} from x_0 = "
        f"{show(x0)} and x_1 = {show(x1)}.",
        [
            part(
                "numeric", "What is x_2?", x2, "x_2 = x_1 - f(x_1) (x_1 - x_0)/(f(x_1) - f(x_0))."
            ),
            part("numeric", "What is x_3?", x3, "The same step from x_1, x_2."),
            choice_part(
                rng,
                "Why do DVR and implicit-surface renderers use the secant method along a ray?",
                "it needs only values of f (no derivatives) and converges superlinearly once "
                "a sign change brackets the surface",
                {
                    "it converges in one step for any f": "only for linear f",
                    "it needs the gradient of f": "it replaces the derivative by a finite "
                    "difference of two values",
                    "it finds every root along the ray": "it refines one root near the first "
                    "sign change",
                },
                "Order (1 + sqrt 5)/2 near a simple root.",
            ),
        ],
        formulas=("secant-step",),
        carried={1: f"(a) x_2 = {number(x2)}"},
        drawn={"c": c, "x_0": x0, "x_1": x1},  # f(x) = x^2 - c
    )


@template(
    "math-plane-three-points-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("cross-product", "plane-from-points", "plane-intercept-form"),
    difficulty=3,
    tags=("geometry", "plane", "multipart"),
)
def plane_three_points_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    axes = "xyz"
    while True:
        points = [np.array([rng.randint(-2, 3) for _ in range(3)], float) for _ in range(3)]
        n1, n2, n3, k = (
            float(v)
            for v in formulas.get("plane-from-points").evaluate(
                p1=points[0], p2=points[1], p3=points[2]
            )
        )
        n = np.array([n1, n2, n3])
        if k != 0 and all(v != 0 for v in n):
            break
    j = rng.randrange(3)
    axis = rng.randrange(3)
    intercepts = [-k / v for v in n]
    # the intercept form x/x_1 + y/y_1 + z/z_1 - 1 vanishes on the three given points
    assert all(
        abs(
            float(
                formulas.get("plane-intercept-form").evaluate(
                    point=p, x1=intercepts[0], y1=intercepts[1], z1=intercepts[2]
                )
            )
        )
        < 1e-9
        for p in points
    )
    query = np.array([rng.randint(-2, 3) for _ in range(3)], float)
    distance = abs(float(n @ query) + k) / math.sqrt(float(n @ n))
    names = ("p_1", "p_2", "p_3")
    listing = ", ".join(f"{name} = {vector(p)}" for name, p in zip(names, points))
    return problem(
        question_id,
        TOPIC,
        f"A plane passes through {listing}. Write it as n_1 x + n_2 y + n_3 z + k = 0 with "
        "n = (p_2 - p_1) x (p_3 - p_1) (the cross product, in this order) and k fixed by a "
        "point. Components counted from 1; 3 significant figures.",
        [
            part(
                "numeric",
                f"What is n_{j + 1}?",
                n[j],
                "a x b = (a_2 b_3 - a_3 b_2, a_3 b_1 - a_1 b_3, a_1 b_2 - a_2 b_1) with "
                "a = p_2 - p_1, b = p_3 - p_1.",
                drawn={"j": j + 1},
            ),
            part(
                "numeric",
                "What is k?",
                k,
                "Substitute p_1: k = -n . p_1.",
            ),
            part(
                "numeric",
                f"In the intercept form x/x_1 + y/y_1 + z/z_1 = 1, what is the {axes[axis]} "
                f"intercept {axes[axis]}_1?",
                intercepts[axis],
                f"Set the other two coordinates to 0: n_{axis + 1} {axes[axis]}_1 + k = 0.",
                drawn={"intercept": f"{axes[axis]}_1"},
            ),
            part(
                "numeric",
                f"What is the distance from the point {vector(query)} to the plane?",
                distance,
                "|n . q + k| / ||n||.",
                drawn={"point": query.tolist()},
            ),
            choice_part(
                rng,
                "Why is n = (p_2 - p_1) x (p_3 - p_1) a normal of the plane?",
                "a x b is orthogonal to both a and b, so to every direction p - p_1 in the "
                "plane (a combination of a and b)",
                {
                    "a x b has length 1, as a normal must": "its length is ||a|| ||b|| sin "
                    "theta; any non-zero multiple of a normal is a normal",
                    "a x b is parallel to a + b, the plane's diagonal": "a x b . a = 0 and "
                    "a x b . b = 0: it is orthogonal to the plane, not in it",
                    "any non-zero vector is normal to a plane through three points": "only the "
                    "multiples of a x b are orthogonal to both edge vectors",
                },
                "a . (a x b) = 0 = b . (a x b) (a determinant with two equal rows).",
            ),
        ],
        formulas=("cross-product", "plane-from-points", "plane-intercept-form"),
        carried={
            1: f"(a) n = {vector([number(v) for v in n])}",
            2: f"n = {vector([number(v) for v in n])}; (b) k = {number(k)}",
            3: f"n = {vector([number(v) for v in n])}; (b) k = {number(k)}",
        },
        drawn=dict(zip(names, (p.tolist() for p in points))),
    )


@template(
    "math-gaussian-jensen-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("gaussian-scaling", "gaussian-sum", "jensen-inequality"),
    difficulty=3,
    tags=("gaussian", "jensen", "multipart"),
)
def gaussian_jensen_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    mu1, mu2 = rng.choice([-1.0, -0.5, 0.5, 1.0]), rng.choice([-0.5, 0.0, 0.5])
    s1, s2 = rng.choice([0.5, 1.0]), rng.choice([0.5, 1.0])
    a = rng.choice([-2.0, -1.0, 0.5, 2.0])
    scaled_mean, scaled_var = (
        float(v) for v in formulas.get("gaussian-scaling").evaluate(a=a, mu=mu1, cov=s1**2)
    )
    mean, var = (
        float(v)
        for v in formulas.get("gaussian-sum").evaluate(
            mu1=scaled_mean, cov1=scaled_var, mu2=mu2, cov2=s2**2
        )
    )
    mgf = math.exp(mean + var / 2)  # E[e^Z] for Z ~ N(mean, var)
    gap = math.log(mgf) - mean
    return problem(
        question_id,
        TOPIC,
        f"X ~ N({show(mu1)}, {show(s1)}^2) and Y ~ N({show(mu2)}, {show(s2)}^2) are "
        f"independent (mean, standard deviation^2), and Z = a X + Y with a = {show(a)}. "
        "Natural logarithms; 3 significant figures.",
        [
            part(
                "numeric",
                "What is Var[Z]?",
                var,
                "Var[a X] = a^2 Var[X]; variances of independent variables add.",
            ),
            part(
                "numeric",
                "What is E[e^Z]?",
                mgf,
                "Z is Gaussian, N(m, v) with m = a mu_X + mu_Y: E[e^Z] = exp(m + v/2).",
            ),
            part(
                "numeric",
                "What is log E[e^Z] - E[log e^Z] (= log E[e^Z] - E[Z])?",
                gap,
                "log E[e^Z] - E[Z] = v/2.",
            ),
            choice_part(
                rng,
                "Which inequality holds for every random variable W > 0 (here W = e^Z), and why?",
                "E[log W] <= log E[W], by Jensen: log is concave (the step that turns log p(x) "
                "into the ELBO)",
                {
                    "E[log W] >= log E[W], by Jensen: log is increasing": "Jensen needs "
                    "concavity, not monotonicity, and it gives <= for a concave f",
                    "E[log W] = log E[W], since log is continuous": "(c) is positive: "
                    "they differ whenever W is random",
                    "neither in general: it depends on the distribution of W": "Jensen holds "
                    "for every distribution",
                },
                "For concave f, f(E[W]) >= E[f(W)]; equality only when W is constant.",
            ),
            part(
                "symbolic",
                "Justify it for a Gaussian: write log E[e^Z] - E[Z] for Z ~ N(m, v) with "
                "standard deviation s = sqrt(v), in terms of s.",
                "s^2/2",
                "log E[e^Z] = m + s^2/2: the gap s^2/2 >= 0, and 0 only for s = 0.",
                symbols={"s": "positive"},
            ),
        ],
        formulas=("gaussian-scaling", "gaussian-sum", "jensen-inequality"),
        carried={
            1: f"(a) Var[Z] = {number(var)}",
            2: f"(a) Var[Z] = {number(var)}; (b) E[e^Z] = {number(mgf)}",
            3: f"(c) {number(gap)}",
        },
        drawn={"X": [mu1, s1], "Y": [mu2, s2], "a": a},  # N(mean, standard deviation^2)
    )


guard_module(__name__)
