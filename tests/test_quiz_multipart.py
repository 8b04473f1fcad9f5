"""Multipart problems: every part's answer recomputed by an independent route (Gaussian
conditioning, quadrature, torch autograd and SDPA, a plain loop), each part marked on its own,
later parts told the right earlier results only when they are asked, and a session that asks
the parts one line each."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import quiz_helpers

from quizzes.catalog import generate, load_templates
from quizzes.engine import mark, perturbed_answer
from quizzes.questions import TEMPLATES

load_templates()
MULTIPART = sorted(t for t, template in TEMPLATES.items() if template.kind == "multipart")
SEEDS = range(8)


def value(text: str, name: str):
    match = re.search(r"(?<![\w^])" + re.escape(name) + r" = ", text)
    assert match, f"no '{name} = ' in {text}"
    return quiz_helpers.leading_literal(text[match.end() :])


def close(answer: str, truth: float, rel: float = 1e-4) -> None:
    assert math.isclose(float(answer), truth, rel_tol=rel, abs_tol=1e-9), (answer, truth)


def right_option(part) -> str:
    return part.choices[ord(part.answer) - ord("A")]


def same_expression(text: str, truth, symbols: dict[str, str], points) -> None:
    from quizzes.parser import parse

    expr = parse(text, symbols)
    for point in points:
        sub = {s: point[s.name] for s in expr.free_symbols | truth.free_symbols}
        assert abs(complex(expr.subs(sub).evalf()) - complex(truth.subs(sub).evalf())) < 1e-9


def check_diffusion(q):
    import sympy as sp

    betas = value(q.prompt, "betas")
    t = int(re.search(r"at t = (\d)", q.parts[1].prompt).group(1))
    alphas = 1 - np.array(betas)
    abar = np.cumprod(alphas)
    # Gaussian conditioning of x_{t-1} on x_t given x_0: Var - Cov^2 / Var(x_t)
    prior = 1 - abar[t - 2]
    cov = math.sqrt(alphas[t - 1]) * prior
    close(q.parts[1].answer, prior - cov**2 / (alphas[t - 1] * prior + betas[t - 1]))
    b, ap = sp.symbols("b_t abar_p", positive=True)
    # completing the square: 1/tilde-beta_t = alpha_t/beta_t + 1/(1 - alpha-bar_{t-1})
    truth = 1 / ((1 - b) / b + 1 / (1 - ap))
    points = [{"b_t": 0.2, "abar_p": 0.7, "abar_t": 0.8 * 0.7}, {"b_t": 0.05, "abar_p": 0.4}]
    points[1]["abar_t"] = 0.95 * 0.4
    symbols = {"b_t": "positive", "abar_t": "positive", "abar_p": "positive"}
    same_expression(q.parts[0].answer, truth, symbols, points)
    assert right_option(q.parts[2]).startswith("smaller")


def check_vae(q):
    import sympy as sp

    mu, sigma = value(q.prompt, "mu"), value(q.prompt, "sigma")
    total = 0.0
    for m, s in zip(mu, sigma):  # KL(q || p) = int q log(q/p) by the trapezoid rule
        z = np.linspace(m - 12 * s, m + 12 * s, 200_001)
        log_q = -0.5 * np.log(2 * np.pi * s**2) - (z - m) ** 2 / (2 * s**2)
        log_p = -0.5 * np.log(2 * np.pi) - z**2 / 2
        total += np.trapezoid(np.exp(log_q) * (log_q - log_p), z)
    close(q.parts[1].answer, total, rel=1e-5)
    m, s = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    truth = -sp.log(s) - sp.Rational(1, 2) + (s**2 + m**2) / 2
    points = [{"mu": 0.3, "sigma": 1.7}, {"mu": -1.2, "sigma": 0.4}]
    same_expression(q.parts[0].answer, truth, {"mu": "real", "sigma": "positive"}, points)
    assert right_option(q.parts[2]).startswith("it is 0 exactly when mu = 0 and sigma = 1")


def check_attention(q):
    import torch
    import torch.nn.functional as F

    query = torch.tensor([value(q.prompt, "q")], dtype=torch.float64)
    keys = torch.tensor(value(q.prompt, "k_1, k_2, k_3"), dtype=torch.float64)
    values = torch.tensor(value(q.prompt, "v_1, v_2, v_3"), dtype=torch.float64)
    j = int(re.search(r"alpha_(\d)", q.parts[0].prompt).group(1))
    c = int(re.search(r"component (\d)", q.parts[1].prompt).group(1))
    out = F.scaled_dot_product_attention(query[None], keys[None], values[None])[0, 0]
    weights = torch.softmax(query @ keys.T / math.sqrt(2), dim=-1)[0]
    close(q.parts[0].answer, weights[j - 1].item())
    close(q.parts[1].answer, out[c - 1].item())
    assert right_option(q.parts[2]).startswith("q.k of D unit-variance")


def check_momentum(q):
    import sympy as sp

    alpha, lr, g = (float(value(q.prompt, n)) for n in ("alpha", "epsilon", "g"))
    theta, v = 0.0, 0.0
    speeds = []
    for _ in range(2000):  # the update rule, looped
        v = alpha * v - lr * g
        theta += v
        speeds.append(abs(v))
        if len(speeds) == 2:
            close(q.parts[0].answer, theta)
    close(q.parts[2].answer, speeds[-1])
    e, gg = sp.Symbol("epsilon", positive=True), sp.Symbol("g", real=True)
    truth = e * sp.Abs(gg) / (1 - sp.Symbol("alpha", positive=True))
    points = [{"epsilon": 0.1, "g": -2.0, "alpha": 0.9}, {"epsilon": 0.3, "g": 1.5, "alpha": 0.2}]
    symbols = {"epsilon": "positive", "g": "real", "alpha": "positive"}
    same_expression(q.parts[1].answer, truth, symbols, points)
    assert right_option(q.parts[3]).startswith("moves up to 1/(1 - alpha)")


def check_sigmoid_unit(q):
    import torch

    w, b, x, upstream = (
        torch.tensor(float(value(q.prompt, n)), dtype=torch.float64, requires_grad=True)
        for n in ("w", "b", "x", "dL/dz")
    )
    z = torch.sigmoid(w * x + b)
    z.backward(upstream.detach())
    close(q.parts[0].answer, z.item())
    close(q.parts[1].answer, w.grad.item())
    close(q.parts[2].answer, b.grad.item())


CHECKS = {
    "diffusion-posterior-multipart": check_diffusion,
    "vae-kl-multipart": check_vae,
    "attn-weights-output-multipart": check_attention,
    "opt-momentum-multipart": check_momentum,
    "ml-sigmoid-unit-multipart": check_sigmoid_unit,
}


def test_every_multipart_template_has_an_independent_check():
    assert sorted(CHECKS) == MULTIPART


@pytest.mark.parametrize("template_id", MULTIPART)
def test_parts_recomputed_independently_and_marked_one_by_one(template_id):
    from quizzes.bankcheck import check_question
    from quizzes.multipart import SEPARATOR, as_asked

    for seed in SEEDS:
        question = generate(TEMPLATES[template_id], seed)
        CHECKS[template_id](question)
        assert len(question.parts) >= 3
        assert mark(question, question.answer).correct  # the JSON expected is accepted
        problems, _ = check_question(question)
        assert not problems, problems
        # one slip costs one part
        answers = [part.answer for part in question.parts]
        answers[0] = perturbed_answer(question.parts[0])
        result = mark(question, f" {SEPARATOR} ".join(answers))
        assert not result.correct
        assert result.feedback.startswith(f"{len(answers) - 1}/{len(answers)} parts right")
        # a later part is told the right earlier results only when it is asked
        for later in question.parts[1:]:
            shown = as_asked(later)
            if shown.prompt != later.prompt:
                assert "Right results so far" in shown.prompt
                assert shown.prompt.split("\n")[0] not in question.prompt


def test_a_session_asks_each_part_on_its_own_line():
    from quizzes.engine import Session, lines_reader

    question = generate(TEMPLATES["vae-kl-multipart"], 3)
    answers = [part.answer for part in question.parts]
    answers[1] = "123"  # a slip in (b) only
    shown: list[tuple[str, object]] = []
    session = Session(
        picks=[question],
        read=lines_reader(iter(line + "\n" for line in answers)),
        show=lambda event, payload: shown.append((event, payload)),
        interactive=False,
    )
    (result,) = session.run()
    assert [p["correct"] for p in result.parts] == [True, False, True]
    assert not result.correct and result.feedback.startswith("2/3 parts right")
    asked = [payload["question"].prompt for event, payload in shown if event == "question"]
    assert len(asked) == 3 and "Right results so far" in asked[1]
    assert result.to_json()["parts"][1]["expected"] == question.parts[1].answer


def test_quiz_kind_multipart_selects_only_multipart_problems():
    from quizzes.catalog import Catalog

    picks = Catalog().select("all", 6, seed=1, kind="multipart")
    assert picks and all(pick.question().kind == "multipart" for pick in picks)
