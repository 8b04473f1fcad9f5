"""Generated ML-basics templates: every answer recomputed from the values the template drew
(`Question.drawn`, the numbers its prompt states) by torch functions and autograd (the
activations, binary cross-entropy, the MLP's backward pass), scipy.stats for entropy and KL,
and the perceptron rule written out; the closed-form derivatives against autograd. Plus: the
drawn values are the ones printed in the prompt, same seed same question, `bank check` on the
variants drawn, `cheatsheet check` on a variant id, the topic's bank, and its question count.
"""

from __future__ import annotations

import numpy as np
import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "ml"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_ml.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    """The answer's 6 significant digits against the recomputation (tighter than the default)."""
    quiz_helpers.close(answer, truth, rel, abs_)


def t64(values):
    import torch

    return torch.tensor(values, dtype=torch.float64)


def check_activation(q):
    import torch

    function = q.drawn["function"]  # "tanh" for tanh(x), "tanh'" for its derivative
    name = function.removesuffix("'")
    x = torch.tensor(q.drawn["x"], dtype=torch.float64, requires_grad=True)
    y = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name](x)
    if function.endswith("'"):
        (grad,) = torch.autograd.grad(y, x)
        close(q.answer, grad.item())
    else:
        close(q.answer, y.item())


def check_bce(q):
    import torch.nn.functional as F

    y_hat, y = t64(q.drawn["y_hat"]), t64(q.drawn["y"])
    close(q.answer, F.binary_cross_entropy(y_hat, y).item())


def check_cross_entropy_kl(q):
    from scipy.stats import entropy

    p, m = q.drawn["p_d"], q.drawn["p_m"]
    kl = entropy(p, m)
    close(q.answer, kl if q.drawn["asked"] == "D_KL" else entropy(p) + kl)


def check_perceptron(q):
    w, x, y = np.array(q.drawn["w"]), np.array(q.drawn["x"]), q.drawn["y"]
    if np.sign(w @ x) != y or w @ x == 0:  # wrong side (or on the boundary): move towards y x
        w = w + y * x
    close(q.answer, w[q.drawn["j"] - 1])


def check_mlp_delta(q):
    import torch

    W, delta_next, fprime = (
        t64(q.drawn[name]) for name in ("W^(l+1)", "dL/dz^(l+1)", "f'(a^(l+1))")
    )
    z = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    # f linearised at a^(l+1): z^(l+1) = f(a) changes by f'(a) da
    loss = (delta_next * fprime * (W @ z)).sum()
    (grad,) = torch.autograd.grad(loss, z)
    close(q.answer, grad[q.drawn["entry"] - 1].item())


def check_mlp_weight(q):
    import torch

    z_prev, fprime = t64(q.drawn["z^(l-1)"]), t64(q.drawn["f'(a^(l))"])
    delta = t64(q.drawn["dL/dz^(l)"])
    i, j = (int(digit) for digit in q.drawn["weight"].removeprefix("w_"))  # w_ij
    W = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    loss = (delta * fprime * (W @ z_prev)).sum()
    (grad,) = torch.autograd.grad(loss, W)
    close(q.answer, grad[i - 1, j - 1].item())


def check_activation_symbolic(q):
    import torch

    from quizzes.parser import parse

    expr = parse(q.answer, q.symbols)
    (symbol,) = expr.free_symbols
    function = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}[q.drawn["activation"]]
    for x0 in (-2.0, -0.3, 0.7, 1.9):
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        y = function(x)
        (grad,) = torch.autograd.grad(y, x)
        close(float(expr.subs(symbol, y.item())), grad.item(), rel=1e-9)


CHECKS = {
    "ml-activation-draw": check_activation,
    "ml-binary-cross-entropy-draw": check_bce,
    "ml-cross-entropy-kl-draw": check_cross_entropy_kl,
    "ml-perceptron-update-draw": check_perceptron,
    "ml-mlp-delta-draw": check_mlp_delta,
    "ml-mlp-weight-gradient-draw": check_mlp_weight,
    "ml-activation-derivative-symbolic-draw": check_activation_symbolic,
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


def test_cli_check_marks_the_variant(tmp_path):
    quiz_helpers.check_cli_marks_the_variant(tmp_path, "ml-activation-derivative-symbolic-draw", 4)
