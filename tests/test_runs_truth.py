"""What a run reports is what it did: an early stop ends the loop and says why, `steps` counts
the steps done, `wall_time_s` covers training and evaluation (reported apart), a measuring run
draws no loss curve, and every run in the catalog repeats its metrics exactly under one seed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cheatsheet.runs import harness
from cheatsheet.runs.catalog import all_specs
from cheatsheet.runs.protocol import RunSpec


class StopsAtFive:
    """Trains nothing; stops itself after its fifth step and sleeps in evaluate()."""

    def __init__(self, context):
        self.stopped = ""
        self.calls = 0

    def modules(self):
        return {}

    def optimizers(self):
        return {}

    def train_step(self, step):
        self.calls += 1
        if step + 1 == 5:
            self.stopped = "reached the target at step 5"
        return {"loss": 1.0 / (step + 1)}

    def evaluate(self):
        time.sleep(0.3)
        return {"calls": self.calls}

    def save_figures(self, out_dir: Path):
        return []


def make_stopping(context):
    return StopsAtFive(context)


SPEC = RunSpec(
    name="stops-at-five",
    family="test",
    description="a run that stops itself",
    factory=f"{__name__}:make_stopping",
    default_steps=100,
    default_data="synthetic",
    datasets=("synthetic",),
)


def test_an_early_stop_ends_the_loop_and_the_metrics_say_so(tmp_path):
    result = harness.run(SPEC, device="cpu", out=tmp_path, progress=False)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics == result.metrics
    assert metrics["calls"] == 5 and metrics["steps"] == 5 and metrics["steps_requested"] == 100
    assert metrics["stopped_early"] == "reached the target at step 5"
    assert metrics["final_loss"] == pytest.approx(0.2)
    # evaluation time is inside the whole run's time and reported apart from training
    assert metrics["eval_time_s"] >= 0.3
    parts = metrics["setup_time_s"] + metrics["train_time_s"] + metrics["eval_time_s"]
    assert metrics["wall_time_s"] >= parts - 0.01


def test_an_early_stopped_bar_ends_at_the_steps_done(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    harness.run(SPEC, device="cpu", out=tmp_path, progress=True)
    err = capsys.readouterr().err
    assert "5/5" in err and "stopped: reached the target at step 5 (budget 100)" in err
    assert "100/100" not in err


def test_a_run_used_to_its_budget_has_no_early_stop(tmp_path):
    metrics = harness.run(SPEC, device="cpu", steps=3, out=tmp_path, progress=False).metrics
    assert metrics["steps"] == 3 and metrics["stopped_early"] is None


def test_measuring_runs_draw_no_loss_curve(tmp_path):
    metrics = harness.run("rnn-gradients", device="cpu", steps=2, out=tmp_path,
                          progress=False).metrics  # fmt: skip
    assert metrics["final_loss"] is None
    assert not (tmp_path / "loss.png").exists() and (tmp_path / "rnn_gradients.png").exists()


# Tiny settings for every run: a few steps, small nets, cheap evaluation. A run missing here
# fails the completeness test below, so a new run must be added.
TINY: dict[str, tuple[int, dict]] = {
    "vae": (3, {"hidden": 32, "iwae_k": 4, "batch_size": 16}),
    "beta-vae": (3, {"hidden": 32, "iwae_k": 4, "batch_size": 16}),
    "vqvae": (3, {"hidden": 8, "prior_channels": 8, "vq_steps": 2, "batch_size": 16}),
    "bernoulli": (1, {}),
    "bernoulli-mixture": (3, {"components": 3}),
    "fvsbn": (3, {"batch_size": 16, "samples": 4}),
    "nade": (3, {"hidden": 16, "batch_size": 16, "samples": 4}),
    "made": (3, {"hidden": 32, "num_masks": 2, "batch_size": 16, "samples": 4}),
    "pixelcnn": (2, {"features": 8, "blocks": 1, "batch_size": 8, "samples": 4}),
    "gated-pixelcnn": (2, {"features": 8, "layers": 2, "batch_size": 8, "samples": 4}),
    "pixelrnn": (2, {"features": 8, "layers": 1, "batch_size": 8, "samples": 4}),
    "wavenet": (2, {"residual_channels": 8, "skip_channels": 8, "layers_per_stack": 2,
                    "stacks": 1, "batch_size": 2, "samples": 1}),
    "transformer": (2, {"n_layer": 1, "n_embd": 16, "n_head": 2, "batch_size": 8, "samples": 4}),
    "realnvp": (2, {"hidden": 8}),
    "glow": (2, {"hidden": 8}),
    "conditional-flow": (2, {"hidden": 8}),
    "srflow": (2, {"hidden": 8}),
    "ddpm": (2, {"timesteps": 20, "base": 8, "hidden": 16, "eval_samples": 8, "vlb_repeats": 1}),
    "cfg": (2, {"timesteps": 20, "base": 8, "hidden": 16, "eval_per_class": 1}),
    "latent-diffusion": (3, {}),
    "gan": (3, {}),
    "dcgan": (2, {"base": 8, "batch": 8}),
    "wgan-gp": (2, {"n_critic": 1}),
    "pix2pix": (2, {"base": 8, "batch": 8}),
    "cyclegan": (2, {"base": 8, "batch": 8}),
    "value-iteration": (3, {}),
    "policy-iteration": (2, {}),
    "q-learning": (5, {}),
    "sarsa": (5, {}),
    "td0": (5, {}),
    "monte-carlo": (5, {}),
    "dqn": (40, {"learning_starts": 10, "batch_size": 8, "hidden": 16, "eval_episodes": 1}),
    "reinforce": (2, {"hidden": 16}),
    "actor-critic": (5, {"hidden": 16, "n_envs": 2}),
    "mlp": (3, {"batch_size": 16}),
    "cnn": (3, {"batch_size": 16}),
    "optimizers": (5, {}),
    "rnn-gradients": (2, {}),
    "lstm": (3, {"lengths": "4,6", "hidden": 8, "check_every": 2, "test_size": 32}),
    "occupancy": (2, {"train_shapes": 3, "test_shapes": 2, "c_dim": 8, "hidden": 16,
                      "eval_points": 500, "mesh_resolution": 12}),
    "deepsdf": (2, {"train_shapes": 3, "latent_size": 4, "hidden": 16, "eval_points": 500,
                    "mesh_resolution": 12, "infer_steps": 2}),
    "igr": (2, {"points": 256, "hidden": 16, "mesh_resolution": 12}),
    "nerf": (2, {"size": 8, "views": 4, "test_views": 1, "batch_rays": 32, "n_coarse": 8,
                 "n_fine": 8}),
    "nerf-hashgrid": (2, {"size": 8, "views": 4, "test_views": 1, "batch_rays": 32,
                          "n_coarse": 8, "n_fine": 8}),
    "gaussian-splatting": (2, {"size": 8, "views": 4, "test_views": 1, "initial": 30}),
    "dvr": (2, {"size": 8, "views": 4, "test_views": 1, "hidden": 16, "batch_rays": 32,
                "mesh_resolution": 12}),
    "smpl-fit": (2, {"bodies": 20, "betas": 3, "components": 2, "subjects": 1}),
    "lbs": (3, {"segments": 8, "rings": 9}),
}  # fmt: skip

TIMING = ("time", "seconds", "_s", "it_per_s", "throughput")


def _without_timing(value):
    """The metrics with every timing field left out (they measure the machine, not the run)."""
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items()
                if not any(mark in k for mark in TIMING)}  # fmt: skip
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


def test_every_run_has_tiny_settings():
    assert {spec.name for spec in all_specs()} <= set(TINY), "add the new run to TINY"


@pytest.mark.parametrize("name", sorted(TINY))
def test_one_seed_gives_the_same_metrics_twice(name, tmp_path):
    from cheatsheet.runs.catalog import get_spec

    get_spec(name)  # a run renamed or removed fails here
    steps, options = TINY[name]
    runs = [
        harness.run(
            name,
            device="cpu",
            steps=steps,
            seed=3,
            out=tmp_path / str(i),
            progress=False,
            options=dict(options),
        ).metrics  # fmt: skip
        for i in range(2)
    ]
    first, second = (_without_timing(m) for m in runs)
    assert first == second
    assert first["steps"] == steps and len(first) > len(TIMING)  # something was compared
