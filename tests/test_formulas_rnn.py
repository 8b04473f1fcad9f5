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
