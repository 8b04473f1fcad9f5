"""RNN formulas against torch.nn.RNN / LSTMCell, autograd Jacobians and clip_grad_norm_."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "rnn"


rnn_spec = st.tuples(
    st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4)
)


def _rnn(seed, T, D, H):
    rng = np.random.default_rng(seed)
    return (
        rng,
        rng.normal(size=(T, D)),
        rng.normal(size=H),
        rng.normal(size=(H, H)) / np.sqrt(H),
        rng.normal(size=(H, D)),
    )


def _torch_rnn(W_hh, W_xh, device):
    H, D = W_xh.shape
    rnn = torch.nn.RNN(D, H, bias=False, dtype=torch.float64).to(device)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.tensor(W_hh))
        rnn.weight_ih_l0.copy_(torch.tensor(W_xh))
    return rnn


@given(rnn_spec)
def test_vanilla_rnn_matches_torch_rnn(device, spec):
    _, x, h0, W_hh, W_xh = _rnn(*spec)
    hs = formulas.get("vanilla-rnn").evaluate(x=x, h0=h0, W_hh=W_hh, W_xh=W_xh)
    out, _ = _torch_rnn(W_hh, W_xh, device)(
        torch.tensor(x, device=device), torch.tensor(h0, device=device)[None]
    )
    np.testing.assert_allclose(hs, out.detach().cpu().numpy(), atol=1e-12)


@given(rnn_spec)
def test_bptt_gradient_matches_autograd(device, spec):
    rng, x, h0, W_hh, W_xh = _rnn(*spec)
    upstream = rng.normal(size=(len(x), len(h0)))
    rnn = _torch_rnn(W_hh, W_xh, device)
    out, _ = rnn(torch.tensor(x, device=device), torch.tensor(h0, device=device)[None])
    (out * torch.tensor(upstream, device=device)).sum().backward()
    grad = formulas.get("bptt-gradient").evaluate(x=x, h0=h0, W_hh=W_hh, W_xh=W_xh, dL_dh=upstream)
    np.testing.assert_allclose(grad, rnn.weight_hh_l0.grad.cpu().numpy(), atol=1e-10)


@given(rnn_spec, st.data())
def test_jacobians_match_autograd(device, spec, data):
    _, x, h0, W_hh, W_xh = _rnn(*spec)
    k = data.draw(st.integers(0, len(x)))
    Wt, Wx = torch.tensor(W_hh, device=device), torch.tensor(W_xh, device=device)
    xt = torch.tensor(x, device=device)

    def from_k(h):  # h_T as a function of h_k
        for t in range(k, len(x)):
            h = torch.tanh(Wt @ h + Wx @ xt[t])
        return h

    hs = formulas.get("vanilla-rnn").evaluate(x=x, h0=h0, W_hh=W_hh, W_xh=W_xh)
    h_k = h0 if k == 0 else hs[k - 1]
    J = torch.autograd.functional.jacobian(from_k, torch.tensor(h_k, device=device))
    product = formulas.get("bptt-jacobian-product").evaluate(x=x, h0=h0, W_hh=W_hh, W_xh=W_xh, k=k)
    np.testing.assert_allclose(product, J.cpu().numpy(), atol=1e-10)
    step = torch.autograd.functional.jacobian(
        lambda h: torch.tanh(Wt @ h + Wx @ xt[0]), torch.tensor(h0, device=device)
    )
    one = formulas.get("rnn-hidden-jacobian").evaluate(W_hh=W_hh, W_xh=W_xh, h_prev=h0, x=x[0])
    np.testing.assert_allclose(one, step.cpu().numpy(), atol=1e-12)


@given(st.integers(0, 1000), st.integers(1, 9))
def test_linear_rnn_power_matches_iteration(device, seed, t):
    rng = np.random.default_rng(seed)
    W, h = torch.tensor(rng.normal(size=(3, 3)), device=device), rng.normal(size=3)
    expected = torch.tensor(h, device=device)
    for _ in range(t - 1):
        expected = W.T @ expected
    out = formulas.get("linear-rnn-power").evaluate(W=W.cpu().numpy(), h1=h, t=t)
    np.testing.assert_allclose(out, expected.cpu().numpy(), rtol=1e-10, atol=1e-10)


@given(st.integers(0, 1000), st.floats(0.01, 10.0))
def test_gradient_clipping_matches_clip_grad_norm(device, seed, threshold):
    grad = np.random.default_rng(seed).normal(size=(3, 4)) * 3
    param = torch.zeros(3, 4, dtype=torch.float64, device=device, requires_grad=True)
    param.grad = torch.tensor(grad, device=device)
    torch.nn.utils.clip_grad_norm_([param], threshold)
    out = formulas.get("gradient-clipping").evaluate(grad=grad, threshold=threshold)
    # torch divides by (norm + 1e-6)
    np.testing.assert_allclose(out, param.grad.cpu().numpy(), rtol=1e-5)


@given(st.integers(0, 1000), st.integers(1, 4), st.integers(1, 4))
def test_lstm_cell_matches_torch_lstmcell(device, seed, D, H):
    rng = np.random.default_rng(seed)
    x, h, c = rng.normal(size=D), rng.normal(size=H), rng.normal(size=H)
    W, b = rng.normal(size=(4 * H, D + H)), rng.normal(size=4 * H)
    out = formulas.get("lstm-cell").evaluate(x=x, h_prev=h, c_prev=c, W=W, b=b)
    assert out.shape == (2, H) and out.dtype == np.float64
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64).to(device)
    # the sheet's block order is i, f, o, g; torch's is i, f, g, o
    order = np.concatenate([np.arange(0, 2 * H), np.arange(3 * H, 4 * H), np.arange(2 * H, 3 * H)])
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(W[order, :D]))
        cell.weight_hh.copy_(torch.tensor(W[order, D:]))
        cell.bias_ih.copy_(torch.tensor(b[order]))
        cell.bias_hh.zero_()
    h_t, c_t = cell(
        torch.tensor(x, device=device)[None],
        (torch.tensor(h, device=device)[None], torch.tensor(c, device=device)[None]),
    )
    np.testing.assert_allclose(out[0], h_t[0].detach().cpu().numpy(), atol=1e-12)
    np.testing.assert_allclose(out[1], c_t[0].detach().cpu().numpy(), atol=1e-12)


# ------------------------------------------------------------------------------------------
# proofs, definitions, errata and claims of section 12 / the BPTT proofs

from formulas.core import REGISTRY  # noqa: E402
from formulas.proof import build_report, prove  # noqa: E402

RNN_IDS = [f.id for f in formulas.all() if f.topic == TOPIC]


def test_every_rnn_formula_is_proved_or_an_honest_definition():
    for formula_id in RNN_IDS:
        formula = formulas.get(formula_id)
        assert formula.kind in ("derived", "definition"), formula_id
        if formula.kind == "derived":
            proof = prove(formula)
            assert proof.passed is True, (formula_id, proof.failures)
        else:
            report = build_report(formula)
            assert report["properties"] and report["passed"] is True, report["failures"]


def test_statements_are_relations_that_keep_matrix_order():
    for formula_id in RNN_IDS:
        statement = formulas.get(formula_id).statement
        assert str(statement) not in ("True", "False"), formula_id
    assert str(formulas.get("linear-rnn-power").statement.rhs) == "W.T**(t - 1)*h_{1}"
    assert str(formulas.get("rnn-hidden-jacobian").statement.rhs) == "diag(f'(a_{i}))*W_{hh}"


def test_renamed_divergence_bound_keeps_its_old_id():
    assert formulas.get("bptt-vanishing-bound").id == "bptt-exploding-condition"


def test_divergence_bound_against_autograd_jacobians():
    # ||dh_t/dh_k|| <= (lambda_1 gamma)^(t-k) with gamma = 1 for tanh, Jacobians from autograd
    rng = np.random.default_rng(0)
    for _ in range(10):
        W_hh, W_xh = rng.normal(size=(3, 3)) * rng.uniform(0.2, 2), rng.normal(size=(3, 2))
        x, h0 = rng.normal(size=(8, 2)), rng.normal(size=3)
        Wt, Wx, xt = torch.tensor(W_hh), torch.tensor(W_xh), torch.tensor(x)

        def from_zero(h, Wt=Wt, Wx=Wx, xt=xt):
            for t in range(8):
                h = torch.tanh(Wt @ h + Wx @ xt[t])
            return h

        J = torch.autograd.functional.jacobian(from_zero, torch.tensor(h0)).numpy()
        assert np.linalg.norm(J, 2) <= np.linalg.norm(W_hh, 2) ** 8 + 1e-12


def test_rnn_errata_and_claims_show_numbers_for_both_forms():
    for formula_id in ("rnn-hidden-jacobian", "linear-rnn-power", "bptt-exploding-condition"):
        erratum = formulas.get(formula_id).erratum
        evidence = erratum.evidence()
        assert evidence.state == "confirmed", evidence.detail
        assert erratum.severity in ("error", "typo") and erratum.sheet_lines
    for formula_id in ("rnn-hidden-jacobian", "linear-rnn-power"):
        detail = formulas.get(formula_id).erratum.evidence().detail
        assert "sheet's form [" in detail and "right form [" in detail
    for claim in REGISTRY.claims():
        if claim.topic != TOPIC or claim.check is None:
            continue
        evidence = claim.check()
        if claim.verdict == "correct":
            assert evidence.sheet_fails is False and evidence.correct_passes is True, claim.id
        else:
            assert evidence.state == "confirmed", (claim.id, evidence.detail)


def test_step_bound_claim_is_about_the_dropped_gamma():
    # independent arithmetic: for sigmoid gamma = 1/4, the sheet's '1/gamma < 1' reads 4 < 1
    claim = REGISTRY.claim("bptt-divergence-step-bound")
    assert claim.verdict == "error" and claim.sheet_lines == (363, 365)
    assert "1/gamma = 4 (sheet's '< 1/gamma' holds, '1/gamma < 1' fails" in claim.check().detail


def test_lstm_cell_gradient_along_the_cell_is_the_forget_gate():
    rng = np.random.default_rng(1)
    D, H = 2, 3
    x, h, c = rng.normal(size=D), rng.normal(size=H), rng.normal(size=H)
    W, b = rng.normal(size=(4 * H, D + H)), rng.normal(size=4 * H)
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    order = np.concatenate([np.arange(0, 2 * H), np.arange(3 * H, 4 * H), np.arange(2 * H, 3 * H)])
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(W[order, :D]))
        cell.weight_hh.copy_(torch.tensor(W[order, D:]))
        cell.bias_ih.copy_(torch.tensor(b[order]))
        cell.bias_hh.zero_()
    J = torch.autograd.functional.jacobian(
        lambda cc: cell(torch.tensor(x)[None], (torch.tensor(h)[None], cc[None]))[1][0],
        torch.tensor(c),
    ).numpy()
    forget = 1 / (1 + np.exp(-(W @ np.concatenate([x, h]) + b)[H : 2 * H]))
    np.testing.assert_allclose(J, np.diag(forget), atol=1e-12)
