"""Attention formulas against torch.nn.functional.scaled_dot_product_attention,
nn.MultiheadAttention and torch's FLOP counter."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

import formulas

TOPIC = "attention"
TESTED_EVALUATORS = {
    "attention-weights",
    "scaled-dot-product-attention",
    "causal-mask",
    "attention-causal",
    "multi-head-attention",
    "attention-cost",
    "positional-encoding",
}


def test_every_evaluator_has_an_oracle_test():
    assert {f.id for f in formulas.by_topic(TOPIC) if f.evaluator} == TESTED_EVALUATORS


def _t(array, device):
    return torch.as_tensor(np.asarray(array), dtype=torch.float64, device=device)


def _qkv(seed, T, d):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=(2, T, d)), rng.normal(size=(2, T, d)), rng.normal(size=(2, T, d))


@given(st.integers(0, 2**16), st.integers(1, 6), st.integers(1, 5))
def test_weights_and_attention_match_torch_sdpa(device, seed, T, d):
    _, Q, K, V = _qkv(seed, T, d)
    Qt, Kt, Vt = _t(Q, device), _t(K, device), _t(V, device)
    identity = torch.eye(T, dtype=torch.float64, device=device).expand(2, T, T)
    reference_weights = F.scaled_dot_product_attention(Qt, Kt, identity)  # alpha @ I = alpha
    weights = formulas.get("attention-weights").evaluate(Q=Q, K=K)
    np.testing.assert_allclose(weights, reference_weights.cpu().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-12)  # convex combination
    out = formulas.get("scaled-dot-product-attention").evaluate(Q=Q, K=K, V=V)
    reference = F.scaled_dot_product_attention(Qt, Kt, Vt)
    np.testing.assert_allclose(out, reference.cpu().numpy(), rtol=1e-10, atol=1e-12)


@given(st.integers(0, 2**16), st.integers(1, 6), st.integers(1, 5))
def test_causal_attention_matches_torch_is_causal(device, seed, T, D):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(T, D))
    W_Q, W_K, W_V = rng.normal(size=(3, D, D))
    ours = formulas.get("attention-causal").evaluate(X=X, W_Q=W_Q, W_K=W_K, W_V=W_V)
    Xt = _t(X, device)
    reference = F.scaled_dot_product_attention(
        Xt @ _t(W_Q, device), Xt @ _t(W_K, device), Xt @ _t(W_V, device), is_causal=True
    )
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10, atol=1e-12)
    # the additive mask gives the same result as torch's causal flag
    mask = _t(formulas.get("causal-mask").evaluate(T=T), device)
    with_mask = F.scaled_dot_product_attention(
        Xt @ _t(W_Q, device), Xt @ _t(W_K, device), Xt @ _t(W_V, device), attn_mask=mask
    )
    np.testing.assert_allclose(with_mask.cpu().numpy(), reference.cpu().numpy(), rtol=1e-12)


@given(st.integers(0, 2**16), st.integers(1, 5), st.sampled_from([(4, 1), (4, 2), (6, 3)]))
def test_multi_head_attention_matches_torch_module(device, seed, T, dims):
    D, heads = dims
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2, T, D))
    W_Q, W_K, W_V, W_O = rng.normal(size=(4, D, D))
    ours = formulas.get("multi-head-attention").evaluate(
        X=X, W_Q=W_Q, W_K=W_K, W_V=W_V, W_O=W_O, heads=heads
    )
    mha = torch.nn.MultiheadAttention(D, heads, bias=False, batch_first=True).double().to(device)
    with torch.no_grad():  # torch computes x W^T
        mha.in_proj_weight.copy_(_t(np.concatenate([W_Q.T, W_K.T, W_V.T]), device))
        mha.out_proj.weight.copy_(_t(W_O.T, device))
    Xt = _t(X, device)
    reference, _ = mha(Xt, Xt, Xt, need_weights=False)
    np.testing.assert_allclose(ours, reference.detach().cpu().numpy(), rtol=1e-9, atol=1e-11)


@given(st.integers(1, 64), st.integers(1, 32))
def test_attention_cost_matches_torch_flop_counter(device, T, D):
    Q, K, V = (torch.randn(T, D, dtype=torch.float64, device=device) for _ in range(3))
    with FlopCounterMode(display=False) as counter:
        alpha = torch.softmax(Q @ K.T / math.sqrt(D), dim=-1)
        alpha @ V
    assert formulas.get("attention-cost").evaluate(T=T, D=D) == counter.get_total_flops()


@given(st.integers(1, 12), st.sampled_from([2, 4, 6, 8]))
def test_positional_encoding_matches_a_direct_loop(device, T, D):
    ours = formulas.get("positional-encoding").evaluate(T=T, D=D)
    reference = torch.zeros(T, D, dtype=torch.float64, device=device)
    for pos in range(T):
        for i in range(D // 2):
            angle = torch.tensor(pos / 10000 ** (2 * i / D), dtype=torch.float64, device=device)
            reference[pos, 2 * i], reference[pos, 2 * i + 1] = torch.sin(angle), torch.cos(angle)
    np.testing.assert_allclose(ours, reference.cpu().numpy(), atol=1e-14)
    assert ours.dtype == np.float64


def test_weights_shape_typo_evidence_matches_torch_attention_weights():
    # torch's attention weights for T = 5 queries are 5 x 5, not 1 x 5 as the sheet says
    erratum = formulas.get("attention-weights").erratum
    evidence = erratum.evidence()
    assert erratum.severity == "typo" and erratum.sheet_lines == (64, 64)
    assert evidence.sheet_fails is True and evidence.correct_passes is True
    Q = K = torch.randn(5, 3, dtype=torch.float64)
    weights = F.scaled_dot_product_attention(Q, K, torch.eye(5, dtype=torch.float64))
    assert f"[{weights.shape[0]}, {weights.shape[1]}]" in evidence.detail


def test_statements_keep_the_matrix_order():
    import sympy as sp

    sdpa = formulas.get("scaled-dot-product-attention").statement.rhs
    assert isinstance(sdpa, sp.MatMul) and sp.sstr(sdpa.args[-1]) == "V"
    assert sp.sstr(sdpa).startswith("Softmax(")
    causal = formulas.get("attention-causal").statement.rhs
    assert sp.sstr(causal).endswith("X*W_V")
    mha = formulas.get("multi-head-attention").statement.rhs
    assert sp.sstr(mha).startswith("Concat(") and sp.sstr(mha).endswith("W_O")
