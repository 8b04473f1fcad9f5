"""Math-toolbox multipart problems, all five (math-bayes-test, math-determinant-lemma,
math-secant, math-plane-three-points, math-gaussian-jensen; each "-multipart"): every part
recomputed from the values the problem drew (`drawn`) by an independent route (a population
counted with fractions, numpy determinants and solves, the secant line intersected step by step,
the normal from the null space of the edge vectors by SVD and its scale from the determinant, the
intercept and the distance by solving and projecting, Gauss-Hermite quadrature over X and Y for
the moments of Z), and each part marked on its own."""

from __future__ import annotations

import math

import numpy as np
import pytest
from multipart_topic_checks import (
    check_problem,
    close,
    option_letter,
    right_option,
    same_expression,
)

from quizzes.catalog import load_templates

load_templates()


def check_bayes(q):
    from fractions import Fraction

    prior = Fraction(str(q.drawn["p(A)"]))
    hit = Fraction(str(q.drawn["p(B | A)"]))
    false_alarm = Fraction(str(q.drawn["p(B | not A)"]))
    people = 10**6  # count a population instead of applying the rule
    sick = people * prior
    positives_sick, positives_well = sick * hit, (people - sick) * false_alarm
    close(q.parts[0].answer, float((positives_sick + positives_well) / people))
    close(q.parts[1].answer, float(positives_sick / (positives_sick + positives_well)))
    assert right_option(q.parts[2]).startswith("A is rare")


def check_determinant_lemma(q):
    diagonal = q.drawn["diag(A)"]
    u, v = np.array(q.drawn["u"]), np.array(q.drawn["v"])
    A = np.diag(diagonal)
    close(q.parts[0].answer, np.linalg.det(A))
    close(q.parts[1].answer, 1 + v @ np.linalg.solve(A, u))
    close(q.parts[2].answer, np.linalg.det(A + np.outer(u, v)))
    assert right_option(q.parts[3]).startswith("it turns an O(n^3) determinant")


def check_secant(q):
    c = float(q.drawn["c"])  # f(x) = x^2 - c
    x0, x1 = float(q.drawn["x_0"]), float(q.drawn["x_1"])
    points = [x0, x1]
    for _ in range(2):  # the line through the last two points, where it crosses 0
        a, b = points[-2], points[-1]
        fa, fb = a * a - c, b * b - c
        slope = (fb - fa) / (b - a)
        points.append(b - fb / slope)
    close(q.parts[0].answer, points[2])
    close(q.parts[1].answer, points[3])
    assert right_option(q.parts[2]).startswith("it needs only values of f")


def check_plane(q):
    p1, p2, p3 = (np.array(q.drawn[f"p_{i}"], float) for i in (1, 2, 3))
    a, b = p2 - p1, p3 - p1
    # the normal spans the null space of [a; b]; its scale and sign: n_i = det[a; b; e_i]
    null = np.linalg.svd(np.stack([a, b]))[2][-1]
    n = np.array([np.linalg.det(np.stack([a, b, e])) for e in np.eye(3)])
    assert np.allclose(np.cross(null, n), 0, atol=1e-9)
    j = q.parts[0].drawn["j"] - 1
    close(q.parts[0].answer, n[j])
    k = -n @ p3  # any point of the plane fixes k: take another one than the template
    close(q.parts[1].answer, k)
    axis = "xyz".index(q.parts[2].drawn["intercept"].removesuffix("_1"))  # x_1, y_1 or z_1
    direction = np.eye(3)[axis]
    # where the axis line t e_axis meets the plane through the three points: solve for t
    t, *_ = np.linalg.solve(np.stack([direction, -a, -b]).T, p1)
    close(q.parts[2].answer, t)
    query = np.array(q.parts[3].drawn["point"], float)
    unit = null / np.linalg.norm(null)
    close(q.parts[3].answer, abs((query - p1) @ unit))
    assert right_option(q.parts[4]).startswith("a x b is orthogonal to both")
    return {
        1: repr(float(n @ p1)),  # the sign of k flipped
        3: repr(float(abs((query - p1) @ n))),  # n not normalised
        4: option_letter(q.parts[4], "a x b has length 1"),
    }


def check_jensen(q):
    import sympy as sp

    mu1, s1 = q.drawn["X"]  # N(mean, standard deviation^2)
    mu2, s2 = q.drawn["Y"]
    a = float(q.drawn["a"])
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / weights.sum()
    X = mu1 + s1 * nodes[:, None]
    Y = mu2 + s2 * nodes[None, :]
    W = weights[:, None] * weights[None, :]
    Z = a * X + Y
    mean = (W * Z).sum()
    close(q.parts[0].answer, (W * (Z - mean) ** 2).sum())
    moment = (W * np.exp(Z)).sum()
    close(q.parts[1].answer, moment)
    close(q.parts[2].answer, math.log(moment) - mean)
    assert right_option(q.parts[3]).startswith("E[log W] <= log E[W]")
    s, m, z = sp.Symbol("s", positive=True), sp.Symbol("m", real=True), sp.Symbol("z", real=True)
    density = sp.exp(-((z - m) ** 2) / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)
    log_mgf = sp.log(sp.integrate(sp.exp(z) * density, (z, -sp.oo, sp.oo)))
    truth = sp.simplify(log_mgf - m)
    points = [{"s": 0.7}, {"s": 2.0}]
    same_expression(q.parts[4].answer, truth, {"s": "positive"}, points)
    return {
        0: repr(float(a * s1**2 + s2**2)),  # a instead of a^2
        1: repr(math.exp(mean)),  # e^{E[Z]}: Jensen's gap forgotten
        3: option_letter(q.parts[3], "E[log W] >= log E[W]"),
        4: "s^2",
    }


CHECKS = {
    "math-bayes-test-multipart": check_bayes,
    "math-determinant-lemma-multipart": check_determinant_lemma,
    "math-secant-multipart": check_secant,
    "math-plane-three-points-multipart": check_plane,
    "math-gaussian-jensen-multipart": check_jensen,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
