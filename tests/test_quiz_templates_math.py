"""Generated math-toolbox templates: every answer recomputed from the values the template drew
(`Question.drawn`, the numbers its prompt states) by numpy (a line fitted through the two
secant points, a linear solve for the intercept plane, np.cross, determinants, the covariance
of a linear map), Bayes by the joint table, and sympy differentiation for the derivative
rules. Plus: the drawn values are the ones printed in the prompt, same seed same question,
`bank check` on the variants drawn, the topic's bank, and its question count.
"""

from __future__ import annotations

import numpy as np
import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "math"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_math.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    """The answer's 6 significant digits against the recomputation (tighter than the default)."""
    quiz_helpers.close(answer, truth, rel, abs_)


def check_secant(q):
    from quizzes.parser import parse

    f = parse(q.drawn["f(x)"], {"x": "real"})  # the polynomial as the prompt writes it
    (x,) = f.free_symbols
    x0, x1 = q.drawn["x_0"], q.drawn["x_1"]
    ys = [float(f.subs(x, point)) for point in (x0, x1)]
    slope, intercept = np.polyfit([x0, x1], ys, 1)
    close(q.answer, -intercept / slope)


def check_plane_intercept(q):
    a, b, c = (q.drawn[n] for n in ("x_1", "y_1", "z_1"))
    points = np.array([[a, 0, 0], [0, b, 0], [0, 0, c]])
    normal = np.linalg.solve(points, np.ones(3))  # n . p = 1 on the plane
    x, y = q.drawn["x"], q.drawn["y"]
    close(q.answer, (1 - normal[0] * x - normal[1] * y) / normal[2], abs_=1e-9)


def check_cross(q):
    a, b = q.drawn["a"], q.drawn["b"]
    assert float(q.answer) == np.cross(a, b)[q.drawn["component"] - 1]


def check_plane_points(q):
    p1, p2, p3 = (np.array(q.drawn[n], float) for n in ("p_1", "p_2", "p_3"))
    n = np.cross(p2 - p1, p3 - p1)
    k = float(q.answer)
    for point in (p1, p2, p3):
        assert abs(n @ point + k) < 1e-9


def check_determinant_lemma(q):
    A = np.diag(q.drawn["diag(A)"])
    u, v = np.array(q.drawn["u"]), np.array(q.drawn["v"])
    close(q.answer, np.linalg.det(A + np.outer(u, v)), abs_=1e-9)


def check_gaussian(q):
    (mu1, var1), (mu2, var2) = q.drawn["X_1"], q.drawn["X_2"]
    # Cov[(a, 1) . (X_1, X_2)] with a diagonal covariance (independence)
    weights = np.array([q.drawn["a"], 1.0])
    assert q.drawn["asked"] in ("variance", "mean")
    if q.drawn["asked"] == "variance":
        close(q.answer, weights @ np.diag([var1, var2]) @ weights)
    else:
        close(q.answer, weights @ np.array([mu1, mu2]))


def check_bayes(q):
    prior = q.drawn["P(A)"]
    sensitivity, false_positive = q.drawn["P(B|A)"], q.drawn["P(B|not A)"]
    joint = {("A", "B"): prior * sensitivity, ("notA", "B"): (1 - prior) * false_positive}
    close(q.answer, joint[("A", "B")] / (joint[("A", "B")] + joint[("notA", "B")]))


def check_derivative_rule(q):
    import sympy as sp

    from quizzes.parser import parse

    x = sp.Symbol("x", positive=True)
    table = {
        "sin(x)": sp.sin(x),
        "exp(x)": sp.exp(x),
        "x^2 + 1": x**2 + 1,
        "log(x)": sp.log(x),
        "x^3": x**3,
        "cos(x)": sp.cos(x),
    }
    f, g = table[q.drawn["f(x)"]], table[q.drawn["g(x)"]]
    h = {"f(x) g(x)": f * g, "f(x) / g(x)": f / g, "f(g(x))": f.subs(x, g)}[q.drawn["h(x)"]]
    answer = parse(q.answer, q.symbols)
    (symbol,) = answer.free_symbols
    for x0 in (0.3, 0.9, 1.7, 2.6):
        close(float(answer.subs(symbol, x0)), float(sp.diff(h, x).subs(x, x0)), rel=1e-9)


CHECKS = {
    "math-secant-step-draw": check_secant,
    "math-plane-intercept-draw": check_plane_intercept,
    "math-cross-product-draw": check_cross,
    "math-plane-from-points-draw": check_plane_points,
    "math-determinant-lemma-draw": check_determinant_lemma,
    "math-gaussian-combination-draw": check_gaussian,
    "math-bayes-rule-draw": check_bayes,
    "math-derivative-rule-draw": check_derivative_rule,
}
# the checks above (and the multipart ones) recompute from drawn values
DRAWING = ALL


def test_every_template_of_this_topic_has_an_independent_check():
    assert sorted(CHECKS) == OURS


@pytest.mark.parametrize("template_id", OURS)
def test_answer_recomputed_independently(template_id):
    quiz_helpers.check_answers(CHECKS, template_id, VARIANTS)


def test_drawn_values_are_the_ones_the_prompt_states():
    quiz_helpers.check_templates_draw_what_they_state(ALL, DRAWING, VARIANTS)


@pytest.mark.parametrize("template_id", OURS)
def test_same_seed_same_question_and_bank_check(template_id):
    quiz_helpers.check_same_seed_and_bank_check(template_id, VARIANTS, derive_link=True)


def test_topic_has_twenty_questions_five_of_them_ours():
    quiz_helpers.check_question_counts((TOPIC,))


def test_topic_bank_passes_bank_check():
    quiz_helpers.check_topic_banks((TOPIC,))
