"""Generated RNN templates: every answer recomputed from the values the template drew
(`Question.drawn`, the numbers its prompt states) by torch's own modules (nn.RNN, nn.LSTMCell,
clip_grad_norm_), autograd Jacobians for the hidden-state step, the linear recurrence
iterated and the LSTM update written out; the vanishing argument's ordering against the
registry. Plus: the drawn values are the ones printed in the prompt, same seed same question,
`bank check` on the variants drawn, the topic's bank, and its question count.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "rnn"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_rnn.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    """The answer's 6 significant digits against the recomputation (tighter than the default)."""
    quiz_helpers.close(answer, truth, rel, abs_)


def t64(values):
    import torch

    return torch.tensor(values, dtype=torch.float64)


def check_vanilla_rnn(q):
    import torch

    d = q.drawn
    rnn = torch.nn.RNN(1, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.fill_(d["W_hh"])
        rnn.weight_ih_l0.fill_(d["W_xh"])
        out, _ = rnn(t64([d["x_1"], d["x_2"]])[:, None, None], t64([[[d["h_0"]]]]))
    close(q.answer, out[1, 0, 0].item())


def check_lstm_cell(q):
    import torch

    rows, biases = q.drawn["rows"], q.drawn["biases"]
    x, h_prev = q.drawn["[x_t, h_(t-1)]"]
    cell = torch.nn.LSTMCell(1, 1, dtype=torch.float64)
    order = ("i", "f", "g", "o")  # torch's gate order
    with torch.no_grad():
        cell.weight_ih.copy_(t64([[rows[n][0]] for n in order]))
        cell.weight_hh.copy_(t64([[rows[n][1]] for n in order]))
        cell.bias_ih.copy_(t64([biases[n] for n in order]))
        cell.bias_hh.zero_()
        h, c = cell(t64([[x]]), (t64([[h_prev]]), t64([[q.drawn["c_(t-1)"]]])))
    assert q.drawn["asked"] in ("h_t", "c_t")
    close(q.answer, (h if q.drawn["asked"] == "h_t" else c).item())


def check_lstm_from_gates(q):
    i, f, o, g = (q.drawn[n] for n in ("i", "f", "o", "g"))
    c = f * q.drawn["c_(t-1)"] + i * g
    assert q.drawn["asked"] in ("h_t", "c_t")
    close(q.answer, o * math.tanh(c) if q.drawn["asked"] == "h_t" else c)


def check_hidden_jacobian(q):
    import torch

    W, h_prev, x = (t64(q.drawn[n]) for n in ("W_hh", "h_(i-1)", "x_i"))
    J = torch.autograd.functional.jacobian(lambda h: torch.tanh(W @ h + x), h_prev)
    r, c = (index - 1 for index in q.drawn["entry"])
    close(q.answer, J[r, c].item())


def check_linear_power(q):
    W, h = np.array(q.drawn["W"]), np.array(q.drawn["h_1"], float)
    for _ in range(q.drawn["t"] - 1):
        h = W.T @ h
    close(q.answer, h[q.drawn["component"] - 1])


def check_bptt_bound(q):
    d = q.drawn
    # gamma bounds the activation's derivative: 1 for tanh, 1/4 for sigmoid
    assert d["gamma"] == {"tanh": 1.0, "sigmoid": 0.25}[d["activation"]]
    close(q.answer, (d["lambda_1"] * d["gamma"]) ** (d["t"] - d["k"]))


def check_clipping(q):
    import torch

    grad = t64(q.drawn["g"])
    p = torch.nn.Parameter(torch.zeros_like(grad))
    p.grad = grad.clone()
    torch.nn.utils.clip_grad_norm_([p], q.drawn["threshold"])
    close(q.answer, p.grad[q.drawn["component"] - 1].item(), rel=1e-5)


CHECKS = {
    "rnn-vanilla-step-draw": check_vanilla_rnn,
    "rnn-lstm-cell-draw": check_lstm_cell,
    "rnn-lstm-from-gates-draw": check_lstm_from_gates,
    "rnn-hidden-jacobian-draw": check_hidden_jacobian,
    "rnn-linear-power-draw": check_linear_power,
    "rnn-bptt-bound-draw": check_bptt_bound,
    "rnn-gradient-clipping-draw": check_clipping,
    "rnn-vanishing-argument-order-draw": quiz_helpers.check_ordering,
}
# the checks above (and the multipart ones) that recompute from drawn values
DRAWING = [tid for tid in ALL if TEMPLATES[tid].kind != "ordering"]


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
