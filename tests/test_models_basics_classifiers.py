"""MLP and CNN on the digits: the sheet's conv output-size formula against torch's actual
shapes (and the registry), shift-equivariance of the convolution stage, and both classifiers
learning the digits (test accuracy) on the device. The optimizers run on Rosenbrock shows the
sheet's claim that momentum moves faster along a curved valley than plain SGD."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cheatsheet.models.cnn import CNN, conv_output_size
from cheatsheet.models.mlp import MLP
from cheatsheet.runs.protocol import RunContext


@given(size=st.integers(1, 20), kernel=st.integers(1, 5), stride=st.integers(1, 3),
       padding=st.integers(0, 2), dilation=st.integers(1, 2))  # fmt: skip
def test_conv_output_size_matches_torch_and_registry(size, kernel, stride, padding, dilation):
    import formulas

    if size + 2 * padding < dilation * (kernel - 1) + 1:
        return  # the kernel does not fit: torch raises, the formula would give <= 0
    conv = torch.nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
    actual = conv(torch.zeros(1, 1, size, size)).shape[-1]
    assert conv_output_size(size, kernel, stride, padding, dilation) == actual
    registry = formulas.get("conv-output-size").evaluate(
        size=size, kernel=kernel, stride=stride, padding=padding, dilation=dilation
    )
    assert int(registry) == actual


def test_cnn_shapes(device):
    model = CNN().to(device)
    assert model.feature_shape == (32, 2, 2)
    assert model(torch.zeros(5, 1, 8, 8, device=device)).shape == (5, 10)
    assert MLP().to(device)(torch.zeros(5, 1, 8, 8, device=device)).shape == (5, 10)


def test_convolution_stage_is_shift_equivariant(device):
    torch.manual_seed(0)
    model = CNN().to(device)
    conv = model.features[:2]  # conv + ReLU, before pooling
    x = torch.zeros(2, 1, 12, 12, device=device)
    x[:, :, 3:8, 3:8] = torch.rand(2, 1, 5, 5, device=device)  # zero border: no edge effects
    shifted = torch.roll(x, shifts=(2, 1), dims=(2, 3))
    torch.testing.assert_close(conv(shifted), torch.roll(conv(x), shifts=(2, 1), dims=(2, 3)))


@pytest.mark.parametrize("factory", ["mlp", "cnn"])
def test_classifiers_learn_the_digits(device, tmp_path, factory):
    import importlib

    module = importlib.import_module(f"cheatsheet.models.{factory}")
    context = RunContext(device=torch.device(device), seed=0, steps=300, data="digits",
                         out_dir=tmp_path)  # fmt: skip
    experiment = module.make_experiment(context)
    first = experiment.train_step(0)["loss"]
    for step in range(1, 300):
        experiment.train_step(step)
    metrics = experiment.evaluate()
    # Chance is 0.1 and the untrained loss ~ log 10; a few epochs must do far better.
    assert first > 1.5
    assert metrics["test_accuracy"] > 0.9, metrics
    assert experiment.save_figures(tmp_path)[0].exists()


def test_momentum_beats_sgd_on_rosenbrock(tmp_path):
    from cheatsheet.models.optimizers import RosenbrockExperiment

    context = RunContext(device="cpu", seed=0, steps=1000, data="rosenbrock", out_dir=tmp_path)
    experiment = RosenbrockExperiment(context)
    for step in range(1000):
        experiment.train_step(step)
    result = experiment.evaluate()["rosenbrock"]
    assert all(r["diverged_at"] is None for r in result.values())
    for name in ("momentum", "nesterov"):
        assert result[name]["final_f"] < 1e-3
        assert result[name]["final_f"] < 1e-3 * result["sgd"]["final_f"]
    assert experiment.save_figures(tmp_path)[0].exists()
