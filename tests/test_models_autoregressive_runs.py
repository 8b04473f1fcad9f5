"""Each autoregressive RunSpec builds its Experiment from a RunContext, trains, evaluates and
writes samples.png; the metrics agree with the registry's `bits-per-dim`; bad data is a
CheatsheetError (one line, exit 2), not a traceback."""

from __future__ import annotations

import importlib

import pytest
import torch

from cheatsheet.errors import CheatsheetError
from cheatsheet.runs.catalog import specs_of_family
from cheatsheet.runs.protocol import RunContext
from formulas import get

SPECS = specs_of_family("autoregressive")

TINY_OPTIONS = {
    "fvsbn": {},
    "nade": {"hidden": 8},
    "made": {"hidden": 16, "num_masks": 2},
    "pixelcnn": {"features": 8, "blocks": 1, "first_kernel": 3},
    "gated-pixelcnn": {"features": 8, "layers": 2},
    "pixelrnn": {"features": 8, "layers": 1, "first_kernel": 3},
    "wavenet": {"residual_channels": 4, "skip_channels": 8, "layers_per_stack": 2, "stacks": 1},
    "transformer": {"n_layer": 1, "n_head": 2, "n_embd": 8},
}


def build(spec, tmp_path, data=None, device="cpu"):
    module, function = spec.factory.split(":")
    factory = getattr(importlib.import_module(module), function)
    ctx = RunContext(
        device=torch.device(device),
        seed=0,
        steps=2,
        data=data or spec.default_data,
        out_dir=tmp_path,
        options={**TINY_OPTIONS[spec.name], "samples": 2},
    )
    return factory(ctx)


def test_the_catalog_covers_the_autoregressive_models():
    assert {spec.name for spec in SPECS} == set(TINY_OPTIONS)
    assert all(spec.family == "autoregressive" for spec in SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_experiment_trains_evaluates_and_draws(spec, tmp_path, device):
    torch.manual_seed(0)
    experiment = build(spec, tmp_path, device=device)
    assert set(experiment.modules()) and set(experiment.optimizers())
    for step in range(2):
        assert torch.isfinite(torch.tensor(experiment.train_step(step)["loss"]))
    metrics = experiment.evaluate()
    assert metrics["test_nll_nats"] > 0
    expected_bpd = get("bits-per-dim").evaluate(nll=metrics["test_nll_nats"], dims=metrics["dims"])
    assert metrics["bits_per_dim"] == pytest.approx(float(expected_bpd))
    paths = experiment.save_figures(tmp_path)
    assert (tmp_path / "samples.png") in paths and (tmp_path / "samples.png").stat().st_size > 0


@pytest.mark.parametrize(
    "name, data", [("pixelcnn", "digits"), ("made", "two-moons"), ("wavenet", "digits-binary")]
)
def test_wrong_data_is_a_clear_error(name, data, tmp_path):
    spec = next(spec for spec in SPECS if spec.name == name)
    with pytest.raises(CheatsheetError, match="--data"):
        build(spec, tmp_path, data=data)
