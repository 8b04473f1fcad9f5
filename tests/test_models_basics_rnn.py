"""The sheet's RNN and LSTM cells against torch (copied weights, outputs and gradients), the BPTT
Jacobian product against autograd's Jacobian of the unrolled map, and the sheet's vanishing
bound ||dh_t/dh_0|| <= (lambda_1 gamma)^t."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cheatsheet.models.rnn import (
    LSTMCell,
    VanillaRNN,
    hidden_jacobian_norms,
    scaled_orthogonal,
)
from cheatsheet.runs.protocol import RunContext


@given(seed=st.integers(0, 1000), T=st.integers(1, 6), B=st.integers(1, 3),
       input_size=st.integers(1, 4), hidden=st.integers(1, 5))  # fmt: skip
def test_vanilla_rnn_matches_nn_rnn(device, seed, T, B, input_size, hidden):
    torch.manual_seed(seed)
    reference = torch.nn.RNN(input_size, hidden, nonlinearity="tanh").double().to(device)
    ours = VanillaRNN.from_torch(reference)
    x = torch.randn(T, B, input_size, dtype=torch.float64, device=device)
    h0 = torch.randn(B, hidden, dtype=torch.float64, device=device)
    expected, _ = reference(x, h0[None])
    hidden_states = ours(x, h0)
    torch.testing.assert_close(hidden_states, expected)
    # Gradients through time agree too (BPTT by autograd on both sides).
    weights = torch.randn_like(expected)
    ours_grad = torch.autograd.grad((hidden_states * weights).sum(), ours.cell.W_hh)[0]
    torch_grad = torch.autograd.grad((expected * weights).sum(), reference.weight_hh_l0)[0]
    torch.testing.assert_close(ours_grad, torch_grad)


@given(seed=st.integers(0, 1000), B=st.integers(1, 3), input_size=st.integers(1, 4),
       hidden=st.integers(1, 5), steps=st.integers(1, 4))  # fmt: skip
def test_lstm_cell_matches_nn_lstm_cell(device, seed, B, input_size, hidden, steps):
    torch.manual_seed(seed)
    reference = torch.nn.LSTMCell(input_size, hidden).double().to(device)
    ours = LSTMCell.from_torch(reference)
    h = torch.randn(B, hidden, dtype=torch.float64, device=device)
    c = torch.randn(B, hidden, dtype=torch.float64, device=device)
    h_ref, c_ref = h, c
    for _ in range(steps):
        x = torch.randn(B, input_size, dtype=torch.float64, device=device)
        h, c = ours(x, (h, c))
        h_ref, c_ref = reference(x, (h_ref, c_ref))
        torch.testing.assert_close(h, h_ref)
        torch.testing.assert_close(c, c_ref)
    grad = torch.autograd.grad(h.sum() + c.sum(), ours.W)[0]
    grad_ref = torch.autograd.grad(h_ref.sum() + c_ref.sum(), reference.weight_hh)[0]
    # Our W is [W_ih | W_hh] with rows (i, f, o, g); torch's weight_hh rows are (i, f, g, o).
    H = hidden
    ours_hh = grad[:, input_size:].split(H)
    torch.testing.assert_close(torch.cat([ours_hh[0], ours_hh[1], ours_hh[3], ours_hh[2]]),
                               grad_ref)  # fmt: skip


def test_lstm_gate_order_matters():
    # Loading torch's (i, f, g, o) rows without reordering gives a different cell.
    torch.manual_seed(0)
    reference = torch.nn.LSTMCell(3, 4).double()
    wrong = LSTMCell(3, 4).double()
    with torch.no_grad():
        wrong.W.copy_(torch.cat([reference.weight_ih, reference.weight_hh], 1))
        wrong.b.copy_(reference.bias_ih + reference.bias_hh)
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (3, 4, 4))
    assert not torch.allclose(wrong(x, (h, c))[0], reference(x, (h, c))[0])


@pytest.mark.parametrize("activation", ["tanh", "linear"])
def test_jacobian_norms_match_autograd_of_the_unrolled_map(device, activation):
    generator = torch.Generator().manual_seed(0)
    H, T = 5, 7
    W = scaled_orthogonal(H, 1.3, generator).to(device)
    inputs = torch.randn(T, H, generator=generator, dtype=torch.float64).to(device)
    f = torch.tanh if activation == "tanh" else (lambda a: 0.7 * a)
    h0 = torch.randn(H, generator=generator, dtype=torch.float64).to(device)

    def unrolled(h, steps):
        for t in range(steps):
            h = f(W @ h + inputs[t])
        return h

    norms = hidden_jacobian_norms(W, T, f, h0=h0, inputs=inputs)
    for t in (1, 3, T):
        jacobian = torch.autograd.functional.jacobian(lambda h, t=t: unrolled(h, t), h0)
        torch.testing.assert_close(norms[t - 1], torch.linalg.matrix_norm(jacobian, ord=2))


@given(seed=st.integers(0, 1000), scale=st.floats(0.3, 3.0), gamma=st.floats(0.2, 1.0))
def test_vanishing_bound_of_the_sheet(seed, scale, gamma):
    generator = torch.Generator().manual_seed(seed)
    H, T = 6, 25
    # A general W (not orthogonal): lambda_1 is its largest singular value.
    W = torch.randn(H, H, generator=generator, dtype=torch.float64)
    W = W * scale / torch.linalg.matrix_norm(W, ord=2)
    inputs = torch.randn(T, H, generator=generator, dtype=torch.float64)
    # f(a) = gamma tanh(a) has |f'| <= gamma.
    norms = hidden_jacobian_norms(W, T, lambda a: gamma * torch.tanh(a), inputs=inputs)
    bound = (scale * gamma) ** torch.arange(1, T + 1, dtype=torch.float64)
    assert torch.all(norms <= bound * (1 + 1e-9))


def test_linear_rnn_gradient_is_exactly_geometric():
    # f(a) = gamma a and W = lambda Q: ||dh_t/dh_0|| = (gamma lambda)^t, crossing 1 at 1/gamma.
    generator = torch.Generator().manual_seed(1)
    gamma = 0.5
    for scale in (1.5, 2.0, 2.5):
        W = scaled_orthogonal(8, scale, generator)
        norms = hidden_jacobian_norms(W, 30, lambda a: gamma * a)
        expected = (gamma * scale) ** torch.arange(1, 31, dtype=torch.float64)
        torch.testing.assert_close(norms, expected, rtol=1e-9, atol=0)


def test_gradient_run_shows_the_threshold(tmp_path):
    from cheatsheet.models.rnn import GradientFlowConfig, GradientFlowExperiment

    context = RunContext(device="cpu", seed=0, steps=3, data="none", out_dir=tmp_path)
    config = GradientFlowConfig(hidden=8, horizon=30)
    experiment = GradientFlowExperiment(context, config)
    for step in range(3):
        experiment.train_step(step)
    metrics = experiment.evaluate()
    assert metrics["bound_violations"] == 0
    curves = metrics["curves"]
    for scale in config.linear_scales:
        rate = curves[f"linear@{scale:g}"]["growth_per_step"]
        assert rate == pytest.approx(scale * config.linear_slope, rel=1e-6)
    assert curves["tanh@0.5"]["log10_norm_at_T"] < -5  # vanishes below 1/gamma
    assert experiment.save_figures(tmp_path)[0].exists()
