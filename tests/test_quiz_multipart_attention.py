"""Attention multipart problems, all five (attn-weights-output, attn-causal-cost,
attn-positional-encoding, attn-multi-head, attn-causal-equivariance; each "-multipart"): every
part recomputed from the values the problem drew (`drawn`) by an independent route (torch SDPA,
multiply-adds counted one index triple at a time, the sinusoid written out,
torch.nn.MultiheadAttention's parameters and outputs, torch's FLOP counter, torch SDPA with
is_causal, a softmax written in sympy), and each part marked on its own."""

from __future__ import annotations

import itertools
import math

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


def check_causal_cost(q):
    import torch

    tokens, dims = q.drawn["T"], q.drawn["D"]
    factor = q.parts[2].drawn["factor"]
    allowed = torch.ones(tokens, tokens, dtype=torch.bool).tril()  # as SDPA's is_causal
    assert int(q.parts[0].answer) == int((~allowed).sum())

    def flops(t):
        """Count the multiply-adds of Q K^T (t x dims times dims x t) and of alpha V (t x t
        times t x dims) one index triple at a time; 2 FLOPs each."""
        scores = sum(1 for _ in itertools.product(range(t), range(t), range(dims)))
        mixing = sum(1 for _ in itertools.product(range(t), range(dims), range(t)))
        return 2 * (scores + mixing)

    assert int(q.parts[1].answer) == flops(tokens)
    close(q.parts[2].answer, flops(factor * tokens) / flops(tokens))
    assert right_option(q.parts[3]).startswith("no: the full T x T scores")


def check_positional_encoding(q):
    dims = q.drawn["D"]
    pos, index = q.parts[0].drawn["pos"], q.parts[0].drawn["index"]
    assert (q.parts[1].drawn["pos"], q.parts[1].drawn["index"]) == (pos, index + 1)
    angle = pos / 10000 ** (index / dims)  # index = 2i
    close(q.parts[0].answer, math.sin(angle))
    close(q.parts[1].answer, math.cos(angle))
    close(q.parts[2].answer, 1.0)
    assert right_option(q.parts[3]).startswith("PE(pos + k) is a rotation")


def check_attention(q):
    import torch
    import torch.nn.functional as F

    query = torch.tensor([q.drawn["q"]], dtype=torch.float64)
    keys = torch.tensor(q.drawn["k_1, k_2, k_3"], dtype=torch.float64)
    values = torch.tensor(q.drawn["v_1, v_2, v_3"], dtype=torch.float64)
    j, c = q.parts[0].drawn["j"], q.parts[1].drawn["component"]
    out = F.scaled_dot_product_attention(query[None], keys[None], values[None])[0, 0]
    weights = torch.softmax(query @ keys.T / math.sqrt(2), dim=-1)[0]
    close(q.parts[0].answer, weights[j - 1].item())
    close(q.parts[1].answer, out[c - 1].item())
    assert right_option(q.parts[2]).startswith("q.k of D unit-variance")


def check_multi_head(q):
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    dims, heads = q.parts[0].drawn["D"], q.parts[0].drawn["h"]
    assert (q.parts[1].drawn["D"], q.parts[1].drawn["h"]) == (dims, heads)
    tokens = q.parts[1].drawn["T"]
    layer = torch.nn.MultiheadAttention(dims, heads, bias=False)
    assert int(q.parts[0].answer) == sum(p.numel() for p in layer.parameters())
    # the score products of every head, counted by torch's FLOP counter
    Q, K = torch.randn(heads, tokens, dims // heads), torch.randn(heads, tokens, dims // heads)
    with FlopCounterMode(display=False) as counter:
        torch.bmm(Q, K.transpose(1, 2))
    assert int(q.parts[1].answer) == counter.get_total_flops()
    toy_drawn = q.parts[2].drawn
    X = torch.tensor(toy_drawn["X"], dtype=torch.float64)
    row, column = toy_drawn["row"] - 1, toy_drawn["column"] - 1
    assert (q.parts[3].drawn["row"] - 1, q.parts[3].drawn["column"] - 1) == (row, column)
    outputs = []
    for h in (2, 1):
        toy = torch.nn.MultiheadAttention(2, h, bias=False, dtype=torch.float64)
        with torch.no_grad():
            toy.in_proj_weight.copy_(torch.eye(2, dtype=torch.float64).repeat(3, 1))
            toy.out_proj.weight.copy_(torch.eye(2, dtype=torch.float64))
            out, _ = toy(X[:, None], X[:, None], X[:, None], need_weights=False)
        outputs.append(out[row, 0, column].item())
    close(q.parts[2].answer, outputs[0])
    close(q.parts[3].answer, outputs[1])
    # by hand for h = 2: head c is one-dimensional attention on column c
    c = X[:, column : column + 1]
    close(q.parts[2].answer, F.scaled_dot_product_attention(c, c, c)[row, 0].item())
    assert right_option(q.parts[4]).startswith("each head forms its own attention pattern")
    return {
        0: str(3 * dims * dims),  # W_O forgotten
        1: str(heads * int(q.parts[1].answer)),  # cost taken to grow with h
        2: repr(outputs[1]),  # one head's softmax for both columns
        3: repr(outputs[0]),
        4: option_letter(q.parts[4], "h heads have h times the parameters"),
    }


def check_causal_equivariance(q):
    import sympy as sp
    import torch
    import torch.nn.functional as F

    x = torch.tensor(q.drawn["x_1, x_2, x_3"], dtype=torch.float64)[:, None]
    wq, wk, wv = (float(q.drawn[name]) for name in ("w_q", "w_k", "w_v"))  # q_i = w_q x_i
    Q, K, V = wq * x, wk * x, wv * x
    causal = F.scaled_dot_product_attention(Q, K, V, is_causal=True)
    full = F.scaled_dot_product_attention(Q, K, V)
    order = [1, 2, 0]  # (x_2, x_3, x_1)
    permuted = F.scaled_dot_product_attention(Q[order], K[order], V[order])
    close(q.parts[1].answer, causal[1, 0].item())
    close(q.parts[2].answer, full[1, 0].item())
    close(q.parts[3].answer, permuted[0, 0].item())
    assert torch.allclose(permuted, full[order])  # equivariance, observed
    s21, s22, s23 = (sp.Symbol(n, real=True) for n in ("s_21", "s_22", "s_23"))
    masked = [s21, s22, s23 + sp.Symbol("M_23")]
    weights = [sp.exp(s) for s in masked]
    truth = (weights[0] / sum(weights)).subs(sp.Symbol("M_23"), -sp.oo)
    points = [{"s_21": 0.3, "s_22": -1.2, "s_23": 2.0}, {"s_21": -0.7, "s_22": 0.4, "s_23": 0.1}]
    same_expression(
        q.parts[0].answer, truth, dict.fromkeys(("s_21", "s_22", "s_23"), "real"), points
    )
    assert right_option(q.parts[4]).startswith("unmasked self-attention is permutation equivariant")
    return {
        0: "exp(s_21)/(exp(s_21) + exp(s_22) + exp(s_23))",  # the mask forgotten
        1: repr(full[1, 0].item()),
        2: repr(causal[1, 0].item()),
        3: repr(full[0, 0].item()),  # the output that used to sit at position 1
        4: option_letter(q.parts[4], "to make attention causal"),
    }


CHECKS = {
    "attn-causal-cost-multipart": check_causal_cost,
    "attn-positional-encoding-multipart": check_positional_encoding,
    "attn-weights-output-multipart": check_attention,
    "attn-multi-head-multipart": check_multi_head,
    "attn-causal-equivariance-multipart": check_causal_equivariance,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
