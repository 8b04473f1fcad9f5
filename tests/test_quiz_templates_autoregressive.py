"""Generated autoregressive-model templates: every answer recomputed from the values the
template drew (`question.drawn`, checked to be the ones its prompt states) by a route
independent of the registry formula that produced it: parameter counts by summing the
conditionals or counting torch Linear parameters, WaveNet's receptive field by the gradient of
one output of a causal dilated Conv1d stack, MADE's masks and PixelCNN's by their connection
rules written out, bits per dimension by the change of log base, the VQ-VAE loss with torch's
cdist and detach, the FVSBN conditional by torch's sigmoid. Plus: same seed same question,
bank check, `cheatsheet check` on a variant id, and the topic's question count.
"""

from __future__ import annotations

import math
import os

import pytest
import quiz_helpers
from quiz_helpers import close

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "autoregressive"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_autoregressive.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def check_ar_params(q):
    import torch

    n, model = q.drawn["n"], q.drawn["model"]
    if model == "full table":
        truth = sum(2 ** (i - 1) for i in range(1, n + 1))
    elif model == "FVSBN":
        truth = sum(1 + (i - 1) for i in range(1, n + 1))
    else:
        d = q.drawn["d"]
        encoder, decoder = torch.nn.Linear(n, d), torch.nn.Linear(d, n)  # (W, b), (V, c)
        truth = sum(p.numel() for m in (encoder, decoder) for p in m.parameters())
    assert int(q.answer) == truth


def check_ar_wavenet(q):
    import torch

    kernel = q.drawn["kernel size"]
    dilations = q.drawn["dilations"] * q.drawn.get("repeated", 1)
    length = 1 + sum((kernel - 1) * d for d in dilations) + 50
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    h = x
    for d in dilations:  # causal: pad on the left only
        conv = torch.nn.Conv1d(1, 1, kernel, dilation=d, bias=False).double()
        torch.nn.init.constant_(conv.weight, 1.0)
        h = conv(torch.nn.functional.pad(h, ((kernel - 1) * d, 0)))
    h[0, 0, -1].backward()
    assert int(q.answer) == int((x.grad != 0).sum())


def check_ar_made(q):
    dims, m = q.drawn["D"], q.drawn["m(k)"]
    if q.drawn["layer"] == "the output layer":
        count = sum(1 for d in range(1, dims + 1) for mk in m if d > mk)
    else:
        count = sum(1 for mk in m for d in range(1, dims + 1) if mk >= d)
    assert int(q.answer) == count


def check_ar_pixelcnn(q):
    mask_type = q.drawn["type"]
    colours = "RGB"
    source, target = q.drawn["input channel"], q.drawn["output channel"]
    dr, dc = q.drawn.get("rows", 0), q.drawn.get("columns", 0)  # none: the centre position
    # raster order, then R -> G -> B within the pixel
    if (dr, dc) == (0, 0):
        i, o = colours.index(source), colours.index(target)
        allowed = i < o if mask_type == "A" else i <= o
    else:
        allowed = dr < 0 or (dr == 0 and dc < 0)
    assert q.answer == ("true" if allowed else "false")


def check_ar_bits(q):
    h, w, c = q.drawn["H x W x C"]
    close(q.answer, q.drawn["NLL"] * math.log2(math.e) / (h * w * c))


def check_ar_vq(q):
    import torch

    codes = torch.tensor(q.drawn["e_1, e_2, e_3"], dtype=torch.float64)
    z_e = torch.tensor(q.drawn["z_e(x)"], dtype=torch.float64)
    beta = q.drawn["beta"]
    e = codes[torch.cdist(z_e[None], codes).argmin()]
    loss = ((z_e.detach() - e) ** 2).sum() + beta * ((z_e - e.detach()) ** 2).sum()
    close(q.answer, float(loss))


def check_ar_fvsbn(q):
    import torch

    alpha0, x, i = q.drawn["alpha_0"], q.drawn["x"], q.drawn["i"]
    weights = q.drawn[f"alpha^({i})"]
    logit = alpha0[i - 1] + sum(w * xj for w, xj in zip(weights, x[: i - 1]))
    close(q.answer, float(torch.sigmoid(torch.tensor(logit, dtype=torch.float64))))


CHECKS = {
    "ar-param-count-draw": check_ar_params,
    "ar-wavenet-receptive-field-draw": check_ar_wavenet,
    "ar-made-mask-draw": check_ar_made,
    "ar-pixelcnn-mask-draw": check_ar_pixelcnn,
    "ar-bits-per-dim-draw": check_ar_bits,
    "ar-vq-vae-loss-draw": check_ar_vq,
    "ar-fvsbn-conditional-draw": check_ar_fvsbn,
}
# The templates that draw numbers (their checks recompute from `drawn`), multipart included.
DRAWING = [tid for tid in ALL if TEMPLATES[tid].kind in ("numeric", "truefalse", "multipart")]


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
        os.environ.get("CHEATSHEET_HOME", "/tmp/cs-test-ar"), "ar-fvsbn-conditional-draw", 2
    )
