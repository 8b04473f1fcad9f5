"""The RL and basics runs through the harness: every catalog entry resolves, tabular runs
converge to what dynamic programming computes, bad options are one clear error."""

from __future__ import annotations

import json

import pytest

from cheatsheet.errors import CheatsheetError
from cheatsheet.runs.catalog import specs_of_family

SPECS = specs_of_family("rl", "basics")


def test_every_spec_has_a_factory():
    import importlib

    for spec in SPECS:
        module, _, name = spec.factory.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), spec.name
        assert spec.default_data in spec.datasets


@pytest.mark.parametrize("model", ["value-iteration", "policy-iteration"])
def test_dynamic_programming_runs_reach_v_star(tmp_path, model):
    from cheatsheet.runs.harness import run

    result = run(model, device="cpu", steps=80, out=tmp_path, progress=False)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["max_gap_to_v_star"] < 1e-6
    assert metrics["max_gap_greedy_linear_solve_to_v_star"] < 1e-6
    assert (tmp_path / "returns.png").exists() and (tmp_path / "policy.png").exists()
    assert result.metrics["converged_at_sweep"] is not None


@pytest.mark.parametrize("model", ["q-learning", "sarsa", "td0", "monte-carlo"])
def test_tabular_runs(tmp_path, model):
    from cheatsheet.runs.harness import run

    run(model, device="cpu", steps=400, data="chain", out=tmp_path, progress=False)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["episodes"] == 400
    if model in ("q-learning", "sarsa"):
        # The greedy policy on the chain is optimal after a few hundred episodes.
        assert metrics["greedy_start_value"] == pytest.approx(metrics["optimal_start_value"])
    else:
        assert metrics["max_gap_v_to_v_pi"] < 0.1
    assert (tmp_path / "returns.png").exists()


def test_unknown_option_is_a_clear_error(tmp_path):
    from cheatsheet.runs.harness import run

    with pytest.raises(CheatsheetError, match="did you mean batch_size"):
        run("dqn", device="cpu", steps=1, out=tmp_path, progress=False,
            options={"batch_sise": 3})  # fmt: skip


def test_resume_continues_the_table_and_the_episode_log(tmp_path):
    from cheatsheet.runs.harness import run

    run("q-learning", device="cpu", steps=150, data="chain", out=tmp_path, progress=False)
    first = json.loads((tmp_path / "metrics.json").read_text())
    run("q-learning", device="cpu", steps=300, data="chain", out=tmp_path, progress=False,
        resume=True)  # fmt: skip
    resumed = json.loads((tmp_path / "metrics.json").read_text())
    assert first["episodes"] == 150 and resumed["episodes"] == 300
    # Had the table restarted from zero, 150 episodes would leave Q visibly farther from Q*.
    assert resumed["max_gap_q_to_q_star"] <= first["max_gap_q_to_q_star"] + 0.05


def test_dqn_resume_restores_the_replay_buffer(tmp_path):
    from cheatsheet.runs.harness import run

    options = {"learning_starts": 20, "batch_size": 8, "hidden": 16}
    run("dqn", device="cpu", steps=60, out=tmp_path, progress=False, options=options)
    result = run("dqn", device="cpu", steps=90, out=tmp_path, progress=False, options=options,
                 resume=True)  # fmt: skip
    assert result.metrics["env_steps"] == 90
    assert result.metrics["episodes"] >= 1
