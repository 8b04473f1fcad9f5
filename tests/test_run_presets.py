"""`run MODEL --preset gpu`: every preset is valid for its run (options are fields of its typed
config, data is one it runs on), the overrides reach the run, explicit flags win. No GPU here:
the path is exercised on the CPU with a tiny step count."""

from __future__ import annotations

import json

import pytest

from cheatsheet.cli import main
from cheatsheet.errors import CheatsheetError
from cheatsheet.runs.catalog import get_spec
from cheatsheet.runs.harness import resolve_config
from cheatsheet.runs.presets import GPU, preset_for


def test_every_gpu_preset_resolves_against_its_runs_config():
    for name, preset in GPU.items():
        spec = get_spec(name)
        assert preset.data in spec.datasets, name
        assert preset.data.startswith("mnist"), name  # the point of the preset: 28x28
        assert preset.steps >= spec.default_steps or name.startswith("bernoulli"), name
        resolve_config(spec, dict(preset.options))  # unknown or mistyped option: raises


def test_cpu_preset_changes_nothing_and_unknown_names_are_errors():
    assert preset_for("vae", "cpu").options == {} and preset_for("vae", None).data is None
    with pytest.raises(CheatsheetError, match="gpu"):
        preset_for("vae", "gpu-large")
    with pytest.raises(CheatsheetError, match="no gpu preset"):
        preset_for("dqn", "gpu")


def test_run_with_the_gpu_preset_on_cpu_with_tiny_steps(tmp_path, capsys):
    # --steps and an --option override the preset; the rest (data, widths) comes from it.
    with pytest.raises(SystemExit) as done:
        main(["run", "vae", "--preset", "gpu", "--device", "cpu", "--steps", "2",
              "--option", "iwae_k=4", "--out", str(tmp_path), "--json"])  # fmt: skip
    assert done.value.code == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["data"] == "mnist-binary" and metrics["steps"] == 2
    assert metrics["config"]["hidden"] == GPU["vae"].options["hidden"]
    assert metrics["config"]["iwae_k"] == 4  # the explicit option won


def test_run_list_json_shows_the_gpu_preset(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--list", "--json"])
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert listed["pixelcnn"]["gpu_preset"]["data"] == "mnist-binary"
    assert listed["dqn"]["gpu_preset"] is None
