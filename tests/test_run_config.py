"""Typed run configs: every run's `--option`s are the fields of one dataclass at the top of its
model file, parsed to the field's type; unknown names and bad values are one-line errors."""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
from pathlib import Path

import pytest

from cheatsheet.errors import CheatsheetError
from cheatsheet.runs.catalog import all_specs, get_spec
from cheatsheet.runs.config import describe, param, resolve

SPECS = [spec for spec in all_specs() if spec.config]


def _config_class(spec):
    module, _, name = spec.config.partition(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_the_listed_fields_are_the_dataclass_fields(spec):
    config_class = _config_class(spec)
    listed = describe(spec.config, spec.defaults)
    assert [field["name"] for field in listed] == [
        field.name for field in dataclasses.fields(config_class)
    ]
    defaults = resolve(config_class, {}, spec.name, spec.defaults)
    for field in listed:
        assert field["default"] == getattr(defaults, field["name"]), (spec.name, field)


def test_every_run_with_settings_has_a_config():
    without = {spec.name for spec in all_specs() if not spec.config}
    assert without == {"optimizers", "rnn-gradients", "value-iteration", "policy-iteration"}


@dataclasses.dataclass
class _Example:
    beta: float = param(1.0, "KL weight")
    steps: int = param(3, "steps")
    name: str | None = param(None, "a name")
    flag: bool = param(False, "a flag")
    lambda_: float = param(10.0, "a keyword field")


def test_values_are_parsed_to_the_field_type():
    config = resolve(_Example, {"beta": 8, "steps": 4.0, "flag": True, "lambda": 2}, "example")
    assert config == _Example(beta=8.0, steps=4, flag=True, lambda_=2.0)
    assert isinstance(config.beta, float)
    assert resolve(_Example, {"name": "none"}, "example").name is None
    # options handed over as text (a script, a test) read as `--option KEY=VALUE` does
    text = resolve(_Example, {"beta": "8", "steps": "4", "flag": "true", "name": "x"}, "example")
    assert text == _Example(beta=8.0, steps=4, flag=True, name="x")


@pytest.mark.parametrize(
    "options,message",
    [
        ({"bta": 8}, "unknown option 'bta' for example; did you mean beta?"),
        ({"beta": "abc"}, "option 'beta' for example takes float, got 'abc'"),
        ({"steps": 2.5}, "option 'steps' for example takes int"),
        ({"flag": 1}, "option 'flag' for example takes bool"),
    ],
)
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(CheatsheetError, match=re.escape(message)):
        resolve(_Example, options, "example")


def test_the_cli_names_the_closest_field(tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "-m", "cheatsheet", "run", "vae", "--option", "bta=8"]
    result = subprocess.run(command + ["--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown option 'bta' for vae; did you mean beta? (options: latent_dim, hidden, "
        "likelihood, beta, lr, batch_size, iwae_k)"
    ]


def test_metrics_record_the_resolved_config(tmp_path):
    from cheatsheet.runs.harness import run

    run("q-learning", device="cpu", steps=5, out=tmp_path, progress=False,
        options={"epsilon": 0.3})  # fmt: skip
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"] == {"epsilon": 0.3, "alpha": 0.0, "omega": 0.7}


def test_a_run_of_its_own_defaults_uses_them():
    spec = get_spec("beta-vae")
    assert resolve(_config_class(spec), {}, spec.name, spec.defaults).beta == 2.0


def test_no_model_reads_raw_options():
    root = Path(__file__).resolve().parents[1] / "cheatsheet"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if not {"backprop", "cli"} & set(path.parts)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"options\.get\(|options\[", line)
    ]
    assert not offenders, offenders
