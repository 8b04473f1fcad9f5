"""Generated attention templates: every answer recomputed from the values the template drew
(`question.drawn`, checked to be the ones its prompt states) by a route independent of the
registry formula that produced it: torch's scaled_dot_product_attention (with is_causal for the
masked ones, the identity as values for the weights), a lower-triangular boolean mask as SDPA
builds it, numpy's own FLOP count of the two contractions, the positional encoding's sin/cos
written out. Plus: same seed same question, bank check, `cheatsheet check` on a variant id,
and the topic's question count.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest
import quiz_helpers
from quiz_helpers import close, parsed

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPIC = "attention"
load_templates(TOPIC)
MODULE = f"quizzes.templates.{TOPIC}"
ALL = sorted(tid for tid, t in TEMPLATES.items() if t.make.__module__ == MODULE)
# the multipart problems are checked in test_quiz_multipart_attention.py
OURS = [tid for tid in ALL if TEMPLATES[tid].kind != "multipart"]
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


def _sdpa(q, k, v, causal=False):
    import torch

    def tensor(a):
        return torch.tensor(a, dtype=torch.float64)[None]

    return torch.nn.functional.scaled_dot_product_attention(
        tensor(q), tensor(k), tensor(v), is_causal=causal
    )[0]


def check_attn_weights(q):
    query, keys, j = q.drawn["q"], q.drawn["k_1, k_2, k_3"], q.drawn["j"]
    assert len(query) == q.drawn["D"]
    # values = the identity: the output row is the weight vector
    weights = _sdpa([query], keys, np.eye(3).tolist())
    close(q.answer, float(weights[0, j - 1]))


def check_attn_output(q):
    out = _sdpa([q.drawn["q"]], q.drawn["k_1, k_2"], q.drawn["v_1, v_2"])
    close(q.answer, float(out[0, q.drawn["component"] - 1]))


def check_attn_causal(q):
    X = np.array(q.drawn["X"], float)
    assert len(X) == q.drawn["T"]
    V = X @ np.array(q.drawn["W_V"], float)
    out = _sdpa(X, X, V, causal=True)
    close(q.answer, float(out[q.drawn["position"] - 1, q.drawn["component"] - 1]))


def check_attn_mask(q):
    import torch

    tokens, i, j = q.drawn["T"], q.drawn["i"], q.drawn["j"]
    allowed = torch.ones(tokens, tokens, dtype=torch.bool).tril()  # as SDPA's is_causal
    assert q.answer == ("true" if allowed[i - 1, j - 1] else "false")


def _flops(tokens: int, dims: int) -> int:
    """numpy's own FLOP count of the two contractions (2 per multiply-add, as einsum counts)."""
    Q = K = V = np.zeros((tokens, dims))
    weights = np.zeros((tokens, tokens))
    total = 0
    for spec, operands in (("td,sd->ts", (Q, K)), ("ts,sd->td", (weights, V))):
        report = np.einsum_path(spec, *operands, optimize=False)[1]
        total += int(float(re.search(r"Naive FLOP count:\s*([\d.e+]+)", report).group(1)))
    return total


def check_attn_cost(q):
    close(q.answer, _flops(q.drawn["T"], q.drawn["D"]), rel=2e-3)  # numpy prints 4 digits


def check_attn_pe(q):
    dims, pos, index = q.drawn["D"], q.drawn["pos"], q.drawn["index"]
    angle = pos / 10000 ** ((index - index % 2) / dims)
    close(q.answer, math.cos(angle) if index % 2 else math.sin(angle), abs_=1e-6)


def check_attn_closed_form(q):
    answer = parsed(q.answer, q.symbols)
    names = {s.name: s for s in answer.free_symbols}
    if "FLOPs" in q.prompt:
        for tokens, dims in ((3, 5), (16, 8), (7, 2)):
            got = answer.subs({names["T"]: tokens, names["D"]: dims})
            assert int(got) == _flops(tokens, dims)
    else:
        for pos, i, dims in ((3, 1, 8), (10, 2, 16), (1, 0, 4)):
            got = float(answer.subs({names["pos"]: pos, names["i"]: i, names["D"]: dims}))
            assert math.isclose(got, math.sin(pos / 10000 ** (2 * i / dims)), rel_tol=1e-12)


CHECKS = {
    "attn-weights-draw": check_attn_weights,
    "attn-output-draw": check_attn_output,
    "attn-causal-output-draw": check_attn_causal,
    "attn-causal-mask-draw": check_attn_mask,
    "attn-cost-draw": check_attn_cost,
    "attn-positional-encoding-draw": check_attn_pe,
    "attn-closed-form-draw": check_attn_closed_form,
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
        os.environ.get("CHEATSHEET_HOME", "/tmp/cs-test-attention"), "attn-causal-output-draw", 3
    )
