"""Generated CNN templates: every answer recomputed from the values the template drew
(`Question.drawn`, the numbers its prompt states) by torch.nn.functional (conv2d with
dilation, stride and padding for the sizes, max_pool2d, conv_transpose2d), autograd for the
gradients (through a true convolution, through max pooling), and window positions counted
one by one for the plain output size; the size derivation's ordering against the registry.
Plus: the drawn values are the ones printed in the prompt, same seed same question, `bank
check` on the variants drawn, the topic's bank, and its question count.
"""

from __future__ import annotations

import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "cnn"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_cnn.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    """The answer's 6 significant digits against the recomputation (tighter than the default)."""
    quiz_helpers.close(answer, truth, rel, abs_)


def t64(values):
    import torch

    return torch.tensor(values, dtype=torch.float64)


def _cell(drawn) -> tuple[int, int]:
    """The (row, column) asked, 0-based (the prompt counts from 1)."""
    return drawn["row"] - 1, drawn["column"] - 1


def check_dilated_size(q):
    import torch
    import torch.nn.functional as F

    d = q.drawn
    n, k = d["size"], d["kernel"]
    out = F.conv2d(
        torch.zeros(1, 1, n, n),
        torch.zeros(1, 1, k, k),
        stride=d["stride"],
        padding=d["padding"],
        dilation=d["dilation"],
    )
    assert q.answer == str(out.shape[-1])


def check_stack_size(q):
    import torch
    import torch.nn.functional as F

    n, pool = q.drawn["size"], q.drawn["(2) max pooling"]
    first, second = q.drawn["(1) convolution"], q.drawn["(3) convolution"]
    k1, k2 = first["kernel"], second["kernel"]
    x = F.conv2d(
        torch.zeros(1, 1, n, n),
        torch.zeros(1, 1, k1, k1),
        stride=first["stride"],
        padding=first["padding"],
    )
    x = F.max_pool2d(x, pool, stride=pool)
    x = F.conv2d(x, torch.zeros(1, 1, k2, k2), stride=second["stride"], padding=second["padding"])
    assert q.answer == str(x.shape[-1])


def check_correlation_vs_convolution(q):
    import torch.nn.functional as F

    image, kernel = t64(q.drawn["I"]), t64(q.drawn["K"])
    assert q.drawn["operation"] in ("true convolution", "cross-correlation")
    if q.drawn["operation"] == "true convolution":
        kernel = kernel.flip(0, 1)
    out = F.conv2d(image[None, None], kernel[None, None])[0, 0]
    i, j = _cell(q.drawn)
    close(q.answer, out[i, j].item())


def check_backward_input(q):
    import torch
    import torch.nn.functional as F

    w, delta = t64(q.drawn["w"]), t64(q.drawn["dL/dz^(l)"])
    x = torch.zeros(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    out = F.conv2d(x, w.flip(0, 1)[None, None])  # a true convolution
    (grad,) = torch.autograd.grad((out[0, 0] * delta).sum(), x)
    p, c = _cell(q.drawn)
    close(q.answer, grad[0, 0, p, c].item())


def check_max_pool(q):
    import torch
    import torch.nn.functional as F

    image, delta = t64(q.drawn["input"]), t64(q.drawn["upstream gradient"])
    x = image[None, None].clone().requires_grad_(True)
    out = F.max_pool2d(x, 2, stride=2)
    (grad,) = torch.autograd.grad((out[0, 0] * delta).sum(), x)
    r, c = _cell(q.drawn)
    close(q.answer, grad[0, 0, r, c].item())


def check_transposed_conv(q):
    import torch.nn.functional as F

    kernel, x = t64(q.drawn["K"]), t64(q.drawn["x"])
    y = F.conv_transpose2d(x[None, None], kernel[None, None], stride=q.drawn["stride"])[0, 0]
    assert q.drawn["output size"] == y.shape[-1]  # the size the prompt states
    p, c = _cell(q.drawn)
    close(q.answer, y[p, c].item())


def check_conv_output_size(q):
    d = q.drawn
    size, kernel, stride, padding = d["size"], d["kernel"], d["stride"], d["padding"]
    # Count the window positions that fit inside the padded input, one by one.
    positions = 0
    start = 0
    while start + kernel <= size + 2 * padding:
        positions += 1
        start += stride
    assert int(q.answer) == positions


CHECKS = {
    "conv-output-size-draw": check_conv_output_size,
    "cnn-dilated-conv-size-draw": check_dilated_size,
    "cnn-stack-size-draw": check_stack_size,
    "cnn-correlation-vs-convolution-draw": check_correlation_vs_convolution,
    "cnn-backward-input-draw": check_backward_input,
    "cnn-max-pool-gradient-draw": check_max_pool,
    "cnn-transposed-conv-draw": check_transposed_conv,
    "cnn-size-derivation-order-draw": quiz_helpers.check_ordering,
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
