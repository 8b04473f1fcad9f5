"""Device picker, catalog and checkpoint format: the harness's parts on their own."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from cheatsheet.datasets import DATASETS
from cheatsheet.errors import CheatsheetError
from cheatsheet.runs import checkpoint
from cheatsheet.runs.catalog import all_specs, get_spec
from cheatsheet.runs.device import pick_device


def test_pick_device_cpu_and_auto():
    assert pick_device("cpu") == torch.device("cpu")
    mps = torch.backends.mps.is_available()
    best = "cuda" if torch.cuda.is_available() else ("mps" if mps else "cpu")
    assert pick_device("auto").type == best


def test_pick_device_unknown_name_suggests():
    with pytest.raises(CheatsheetError, match="cuda") as error:
        pick_device("cdua")
    assert error.value.exit_code == 2


@pytest.mark.parametrize("name", ["cuda", "mps"])
def test_missing_accelerator_is_bad_usage(name, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(CheatsheetError, match="not available") as error:
        pick_device(name)
    assert error.value.exit_code == 2 and "\n" not in str(error.value)


def test_pick_device_cuda_when_present(device):
    assert pick_device(device).type == device


def test_catalog_specs_are_consistent():
    specs = all_specs()
    names = [spec.name for spec in specs]
    assert len(names) == len(set(names))
    for spec in specs:
        module, _, function = spec.factory.partition(":")
        assert module.startswith("cheatsheet.") and function, spec.name
        assert spec.default_data in spec.datasets, spec.name
        assert spec.default_steps >= 1
        assert get_spec(spec.name) is spec


def test_vae_catalog_runs_on_embedded_data_only():
    # (other catalogs may name an environment or a test function, e.g. CartPole, rosenbrock)
    from cheatsheet.runs.catalog import specs_of_family

    for spec in specs_of_family("vae", "baseline"):
        assert set(spec.datasets) <= set(DATASETS), spec.name


def test_catalog_unknown_name_gives_closest():
    with pytest.raises(CheatsheetError, match="beta-vae"):
        get_spec("beta-vea")


def test_rng_capture_restore_round_trips_through_a_weights_only_file(tmp_path):
    module = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(module.parameters())
    module(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    path = checkpoint.save_checkpoint(
        tmp_path / "c.pt", modules={"m": module}, optimizers={"o": optimizer}, step=7,
        loss_history=[1.0, 0.5],
    )  # fmt: skip
    after = (torch.rand(3), np.random.rand(3), random.random())
    payload = checkpoint.load_checkpoint(path)  # weights_only=True inside
    checkpoint.restore_rng(payload["rng"])
    again = (torch.rand(3), np.random.rand(3), random.random())
    torch.testing.assert_close(again[0], after[0])
    np.testing.assert_array_equal(again[1], after[1])
    assert again[2] == after[2]

    fresh = torch.nn.Linear(3, 2)
    fresh_optimizer = torch.optim.Adam(fresh.parameters())
    checkpoint.apply_checkpoint(payload, {"m": fresh}, {"o": fresh_optimizer})
    torch.testing.assert_close(fresh.weight, module.weight)
    moment = optimizer.state[module.weight]["exp_avg"]
    torch.testing.assert_close(fresh_optimizer.state[fresh.weight]["exp_avg"], moment)
    assert payload["step"] == 7 and payload["history"]["loss"].tolist() == [1.0, 0.5]


def test_foreign_checkpoint_is_refused(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheatsheetError, match="not a cheatsheet checkpoint"):
        checkpoint.load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheatsheetError, match="no checkpoint"):
        checkpoint.load_checkpoint(tmp_path / "missing.pt")
