"""Generated normalizing-flow templates: every answer recomputed from the values the template
drew (`question.drawn`, checked to be the ones its prompt states) by a route independent of the
registry formula that produced it: log-determinants as slogdet of the autograd Jacobian of the
layer run on a real tensor (ActNorm, the 1x1 convolution as F.conv2d, the affine coupling),
the LU property checked on P, L and U, the affine flow's density as torch's
MultivariateNormal, the closed forms and choices at sample points. Plus: same seed same
question, bank check, `cheatsheet check` on a variant id, and the topic's question count.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import quiz_helpers
from quiz_helpers import close, parsed, right_choices

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "flows"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_flows.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def _slogdet_of_jacobian(function, size: int) -> float:
    import torch

    x = torch.randn(size, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(function, x)
    return float(torch.linalg.slogdet(jacobian)[1])


def check_flow_actnorm(q):
    import torch

    s = torch.tensor(q.drawn["s"], dtype=torch.float64)
    h, w, c = q.drawn["H x W x C"]
    logdet = _slogdet_of_jacobian(lambda x: (x.reshape(h, w, c) * s + 0.3).reshape(-1), h * w * c)
    close(q.answer, logdet)


def check_flow_conv1x1(q):
    import torch

    weight = torch.tensor(q.drawn["W"], dtype=torch.float64)
    h, w, c = q.drawn["H x W x C"]

    def conv(x):
        image = x.reshape(1, c, h, w)
        return torch.nn.functional.conv2d(image, weight[:, :, None, None]).reshape(-1)

    close(q.answer, _slogdet_of_jacobian(conv, h * w * c))


def check_flow_lu(q):
    s = np.array(q.drawn["s"])
    height, width, _ = q.drawn.get("H x W x C", (1, 1, 3))  # not stated: log|det W| alone
    pixels = height * width
    # the LU property: |det P| = 1, det L = 1, det(U + diag s) = prod s
    close(q.answer, pixels * np.sum(np.log(np.abs(s))), abs_=1e-9)
    P, L, U = (np.array(q.drawn[n]) for n in ("P", "L", "U"))
    assert np.allclose(np.triu(L, 1), 0) and np.allclose(np.diag(L), 1)
    assert np.allclose(np.tril(U), 0) and np.allclose(P @ P.T, np.eye(3))


def check_flow_affine_density(q):
    import torch
    from torch.distributions import MultivariateNormal

    A = torch.tensor(q.drawn["A"], dtype=torch.float64)
    b, x = (torch.tensor(q.drawn[n], dtype=torch.float64) for n in ("b", "x"))
    # x = A z + b with z ~ N(0, I) is N(b, A A^T)
    close(q.answer, float(MultivariateNormal(b, covariance_matrix=A @ A.T).log_prob(x)))


def check_flow_triangular(q):
    import torch

    if "s(x^B)" in q.drawn:  # the affine coupling layer
        s = torch.tensor(q.drawn["s(x^B)"], dtype=torch.float64)
        x_b = torch.tensor(q.drawn["x^B"], dtype=torch.float64)
        n = len(s)

        def coupling(x):  # s, t fixed by x^B, which passes through
            x_a, xb = x[:n], x[n:]
            return torch.cat([x_a * torch.exp(s) + 0.5 * xb, xb])

        close(q.answer, _slogdet_of_jacobian(coupling, 2 * n) if len(x_b) == n else None)
    else:
        close(q.answer, np.linalg.slogdet(np.array(q.drawn["J"]))[1])


def check_flow_choice(q):
    import sympy as sp

    H, W, S, L = sp.symbols("H W S L", positive=True)
    if "ActNorm" in q.prompt:
        truth, clean = H * W * S, lambda t: t.replace("sum_{i=1}^{C} log|s_i|", "S")
    elif "1x1" in q.prompt:
        truth, clean = H * W * L, lambda t: t.replace("log|det W|", "L")
    else:
        x, b = sp.symbols("x b", real=True)
        a = sp.Symbol("a", positive=True)
        z = (x - b) / a
        truth = sp.log(sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)) - sp.log(a)
        clean = lambda t: t  # noqa: E731
    names = {"H": "positive", "W": "positive", "S": "real", "L": "real"}
    names.update({"x": "real", "b": "real", "a": "positive"})
    points = [
        {"H": 4.0, "W": 3.0, "S": 0.7, "L": -1.3, "x": 0.4, "b": -0.3, "a": 1.7},
        {"H": 2.0, "W": 5.0, "S": -0.2, "L": 2.1, "x": -1.1, "b": 0.6, "a": 0.6},
    ]
    assert right_choices(q, truth, names, points, clean) == [q.answer], q.choices


def check_flow_closed_form(q):
    import torch
    from torch.distributions import Normal

    answer = parsed(q.answer, q.symbols)
    names = {s.name: s for s in answer.free_symbols}
    generator = torch.Generator().manual_seed(0)
    if "1-D flow" in q.prompt:
        for x, a, b in ((0.3, 1.7, -0.4), (-2.0, 0.6, 1.1)):
            truth = Normal(torch.tensor(b, dtype=torch.float64), a).log_prob(torch.tensor(x))
            got = answer.subs({names["x"]: x, names["a"]: a, names["b"]: b})
            close(str(float(got)), float(truth), rel=1e-9)
        return
    channels = q.drawn["C"]
    h, w = 2, 3
    if "ActNorm" in q.prompt:
        s = torch.randn(channels, generator=generator, dtype=torch.float64)
        logdet = _slogdet_of_jacobian(
            lambda x: (x.reshape(h, w, channels) * s).reshape(-1), 6 * channels
        )
        point = {names[f"s_{c + 1}"]: float(s[c]) for c in range(channels)}
    else:
        weight = torch.randn(channels, channels, generator=generator, dtype=torch.float64)

        def conv(x):
            image = x.reshape(1, channels, h, w)
            return torch.nn.functional.conv2d(image, weight[:, :, None, None]).reshape(-1)

        logdet = _slogdet_of_jacobian(conv, 6 * channels)
        point = {names["d"]: float(torch.linalg.det(weight))}
    point.update({names["h"]: h, names["w"]: w})
    close(str(float(answer.subs(point))), logdet, rel=1e-9)


CHECKS = {
    "flow-actnorm-logdet-draw": check_flow_actnorm,
    "flow-conv1x1-logdet-draw": check_flow_conv1x1,
    "flow-lu-logdet-draw": check_flow_lu,
    "flow-affine-density-draw": check_flow_affine_density,
    "flow-triangular-logdet-draw": check_flow_triangular,
    "flow-logdet-choice-draw": check_flow_choice,
    "flow-closed-form-draw": check_flow_closed_form,
}
# The templates that draw numbers (their checks recompute from `drawn`), multipart included;
# flow-closed-form-draw draws the channels only for two of its three forms.
DRAWING = [tid for tid in ALL if TEMPLATES[tid].kind in ("numeric", "multipart")]


def test_every_template_of_the_topic_has_an_independent_check():
    assert sorted(CHECKS) == OURS


@pytest.mark.parametrize("template_id", OURS)
def test_answer_recomputed_independently(template_id):
    quiz_helpers.check_answers(CHECKS, template_id, VARIANTS)


@pytest.mark.parametrize("template_id", OURS)
def test_same_seed_same_question_and_bank_check(template_id):
    quiz_helpers.check_same_seed_and_bank_check(template_id, VARIANTS)


def test_drawn_values_are_the_ones_the_prompt_states():
    quiz_helpers.check_templates_draw_what_they_state(ALL, DRAWING, VARIANTS)


def test_topic_has_twenty_questions_five_of_them_templates():
    quiz_helpers.check_question_counts((TOPIC,))


def test_bank_passes_bank_check():
    quiz_helpers.check_topic_banks((TOPIC,))


def test_cli_check_marks_the_variant():
    quiz_helpers.check_cli_marks_the_variant(
        os.environ.get("CHEATSHEET_HOME", "/tmp/cs-test-flows"), "flow-lu-logdet-draw", 7
    )
