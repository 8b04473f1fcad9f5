"""`cheatsheet run lstm`: the adding problem is what it says (two markers, the target their
values' sum, 1/6 the error of predicting the mean, by Monte Carlo), the LSTM regressor's forget
row is the one that keeps c, and the defining property on a small setting: at a short length
both cells learn, at a long one the RNN stays at the mean predictor's error and the LSTM
solves it. (The cell itself is tested against torch.nn.LSTMCell in test_models_basics_rnn.py.)"""

from __future__ import annotations

import json
import math

import pytest
import torch

from cheatsheet.models.long_range import (
    MEAN_PREDICTOR_MSE,
    LSTMRegressor,
    adding_problem,
)


def test_the_adding_problem_has_two_markers_and_the_sum_as_target():
    T, B = 50, 400
    x, y = adding_problem(T, B, torch.Generator().manual_seed(0))
    assert x.shape == (T, B, 2) and y.shape == (B,)
    markers = x[..., 1]
    assert torch.equal(markers.sum(0), torch.full((B,), 2.0))
    positions = markers.T.nonzero()[:, 1].reshape(B, 2)
    assert (positions[:, 0] < T // 10).all() and (positions[:, 1] >= T // 2).all()
    for b in range(B):
        i, j = positions[b].tolist()
        assert y[b] == pytest.approx(float(x[i, b, 0] + x[j, b, 0]))


def test_predicting_the_mean_scores_one_sixth():
    n = 200_000
    _, y = adding_problem(20, n, torch.Generator().manual_seed(1))
    # Var(U + U') = 2/12 for independent U(0, 1); Monte Carlo standard error ~ sd(y-1)^2/sqrt(n)
    squared = (y.double() - 1.0) ** 2
    standard_error = float(squared.std()) / math.sqrt(n)
    assert abs(float(squared.mean()) - 1 / 6) < 5 * standard_error
    assert pytest.approx(1 / 6) == MEAN_PREDICTOR_MSE


def test_the_forget_bias_sits_on_the_gate_that_keeps_the_cell_state():
    H = 3
    model = LSTMRegressor(H, forget_bias=1.0).double()
    b = model.cell.b.detach()
    assert torch.equal(b[H : 2 * H], torch.ones(H, dtype=torch.float64))
    with torch.no_grad():  # W = 0, input gate shut, forget gate open: c_t = c_t-1
        model.cell.W.zero_()
        model.cell.b.copy_(torch.cat([torch.full((H,), -50.0), torch.full((H,), 50.0),
                                      torch.zeros(2 * H)]))  # fmt: skip
    c0 = torch.randn(2, H, dtype=torch.float64)
    h, c = model.cell(torch.randn(2, 2, dtype=torch.float64), (torch.zeros(2, H).double(), c0))
    torch.testing.assert_close(c, c0)


def test_the_rnn_fails_at_a_length_the_lstm_solves(tmp_path):
    from cheatsheet.runs.harness import run

    options = {"lengths": "8,40", "check_every": 25, "test_size": 500}
    result = run("lstm", device="cpu", steps=600, out=tmp_path, progress=False, options=options)
    table = result.metrics["test_mse"]
    # Short: both cells learn (validation MSE under 0.02, well below 1/6).
    assert table["rnn"]["8"]["solved"] and table["lstm"]["8"]["solved"]
    # Long: the LSTM solves it, the RNN's test error stays near the mean predictor's 1/6.
    assert table["lstm"]["40"]["solved"] and table["lstm"]["40"]["test_mse"] < 0.03
    assert not table["rnn"]["40"]["solved"]
    assert table["rnn"]["40"]["test_mse"] > 0.6 * MEAN_PREDICTOR_MSE
    assert result.metrics["longest_solved_length"] == {"rnn": 8, "lstm": 40}
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 600 and (tmp_path / "lstm_vs_rnn.png").exists()
