"""The run harness end to end on a tiny VAE run: outputs, checkpoint format, resume, Ctrl-C,
exit codes, DDP under torchrun with two CPU processes."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cheatsheet.cli import main
from cheatsheet.runs import harness
from cheatsheet.runs.checkpoint import FILENAME, load_checkpoint

# A small VAE keeps each run well under a second.
TINY = {"hidden": 32, "iwae_k": 8, "batch_size": 32}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tiny_run(out: Path, steps: int, resume: bool = False, **kwargs):
    return harness.run(
        "vae", device="cpu", steps=steps, out=out, resume=resume, progress=False,
        options=TINY, **kwargs,
    )  # fmt: skip


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def test_run_writes_metrics_samples_loss_curve_and_checkpoint(tmp_path):
    result = tiny_run(tmp_path, steps=6)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics == result.metrics
    assert metrics["steps"] == 6 and metrics["device"] == "cpu" and metrics["model"] == "vae"
    payload = torch.load(tmp_path / FILENAME, weights_only=True)
    model_parameters = sum(t.numel() for k, t in payload["modules"]["vae"].items())
    assert metrics["parameters"] == model_parameters  # VAE has no buffers: every entry counts
    for key in ("test_nll_nats", "bits_per_dim", "wall_time_s"):
        assert isinstance(metrics[key], float)
    assert metrics["bits_per_dim"] == pytest.approx(
        metrics["test_nll_nats"] / (64 * 0.6931471805599453)
    )
    for name in ("samples.png", "loss.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC
    assert payload["step"] == 6 and payload["model"] == "vae"
    assert len(payload["history"]["loss"]) == 6
    assert set(payload["optimizers"]) == {"adam"}
    assert isinstance(payload["rng"]["torch"], torch.Tensor)


def test_resume_continues_the_step_count_and_matches_an_uninterrupted_run(tmp_path):
    tiny_run(tmp_path / "straight", steps=8)
    tiny_run(tmp_path / "split", steps=5)
    resumed = tiny_run(tmp_path / "split", steps=8, resume=True)
    assert resumed.metrics["steps"] == 8 and resumed.metrics["steps_this_session"] == 3
    straight = load_checkpoint(tmp_path / "straight" / FILENAME)
    split = load_checkpoint(tmp_path / "split" / FILENAME)
    # Model, optimizer moments and RNG all restored: the two runs are the same computation.
    torch.testing.assert_close(split["history"]["loss"], straight["history"]["loss"])
    for key, value in straight["modules"]["vae"].items():
        torch.testing.assert_close(split["modules"]["vae"][key], value)


def test_ctrl_c_saves_a_checkpoint_and_exits_130_with_one_line(tmp_path, monkeypatch, capsys):
    from cheatsheet.models import vae

    original = vae.VAEExperiment.train_step

    def interrupted_at_step_3(self, step):
        if step == 3:
            raise KeyboardInterrupt
        return original(self, step)

    monkeypatch.setattr(vae.VAEExperiment, "train_step", interrupted_at_step_3)
    code, _, err = run_cli(
        ["run", "vae", "--device", "cpu", "--steps", "10", "--out", str(tmp_path)], capsys
    )
    assert code == 130
    # the progress bar's last frame is on stderr too; the message itself is one line
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "--resume" in errors[0] and "Traceback" not in err
    assert load_checkpoint(tmp_path / FILENAME)["step"] == 3


def test_non_finite_loss_stops_the_run_with_exit_1(tmp_path, monkeypatch, capsys):
    from cheatsheet.models import vae

    monkeypatch.setattr(vae.VAEExperiment, "train_step", lambda self, step: {"loss": float("nan")})
    code, _, err = run_cli(["run", "vae", "--device", "cpu", "--out", str(tmp_path)], capsys)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and len(errors) == 1 and "nan" in errors[0] and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "vea"], "vae"),  # closest names
        (["run", "vae", "--data", "digts"], "digits"),
        (["run", "vqvae", "--data", "two-moons"], "digits-binary"),  # exists, wrong model
        (["run", "vae", "--device", "tpu"], "cpu"),
        (["run", "vae", "--steps", "-1"], "--steps"),
        (["run"], "--list"),
        (["run", "vae", "--option", "beta"], "KEY=VALUE"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(argv, needle, capsys, tmp_path):
    code, _, err = run_cli(argv + ["--out", str(tmp_path)], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert "Traceback" not in err


def test_resume_without_checkpoint_is_exit_2(tmp_path, capsys):
    code, _, err = run_cli(["run", "vae", "--resume", "--out", str(tmp_path / "none")], capsys)
    assert code == 2 and "checkpoint" in err


def test_resume_refuses_another_models_or_datasets_checkpoint(tmp_path, capsys):
    tiny_run(tmp_path, steps=2)
    code, _, err = run_cli(["run", "beta-vae", "--resume", "--out", str(tmp_path)], capsys)
    assert code == 2 and "belongs to model 'vae'" in err
    argv = ["run", "vae", "--resume", "--data", "digits", "--out", str(tmp_path)]
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and "--data digits-binary" in err


def test_cuda_requested_without_cuda_is_one_line_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, out, err = run_cli(["run", "vae", "--device", "cuda", "--out", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "CUDA" in err
    assert not (tmp_path / "metrics.json").exists()


def test_json_prints_the_final_metrics_only(tmp_path, monkeypatch, capsys):
    from cheatsheet.models import vae

    original = vae.VAEExperiment.__init__

    def tiny_init(self, ctx, beta=1.0):
        ctx.options.update(TINY)
        original(self, ctx, beta)

    monkeypatch.setattr(vae.VAEExperiment, "__init__", tiny_init)
    code, out, _ = run_cli(
        ["run", "vae", "--device", "cpu", "--steps", "3", "--out", str(tmp_path), "--json"], capsys
    )
    assert code == 0
    assert json.loads(out) == json.loads((tmp_path / "metrics.json").read_text())


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg", NO_COLOR="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    return env


def test_list_does_not_import_torch():
    script = (
        "import sys\n"
        "from cheatsheet.cli import main\n"
        "try:\n    main(['run', '--list', '--json'])\n"
        "except SystemExit:\n    pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert done.returncode == 0, done.stderr
    listing, verdict = done.stdout.strip().splitlines()
    assert verdict == "NO-TORCH"
    names = {entry["name"] for entry in json.loads(listing)}
    assert {"vae", "beta-vae", "vqvae"} <= names


def test_torchrun_two_cpu_processes(tmp_path):
    """DDP with gloo: both ranks train, gradients are averaged (parameters stay equal across
    ranks), and only rank 0 writes the outputs."""
    from torchrun_helpers import failure_report, run_torchrun

    arguments = [
        "run", "vae", "--device", "cpu", "--steps", "4",
        "--out", str(tmp_path), "--json", "--option", "hidden=32", "--option", "iwae_k=8",
    ]  # fmt: skip
    done = run_torchrun(arguments, env=_env())
    assert done.returncode == 0, failure_report(done)
    reports = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(reports) == 1  # rank 1 prints nothing
    metrics = json.loads(reports[0])
    assert metrics["world_size"] == 2 and metrics["ddp_parameters_in_sync"] is True
    assert metrics["steps"] == 4
    assert load_checkpoint(tmp_path / FILENAME)["step"] == 4
    written = {p.name for p in tmp_path.iterdir()}
    assert {"checkpoint.pt", "loss.png", "metrics.json", "samples.png"} <= written
    assert not any(name.endswith(".partial") for name in written)


# Each rank runs the harness and reports its threads (Linux names them in /proc/self/task)
# while the process group is still up (inside teardown) and after harness.run has returned.
THREADS_AT_TEARDOWN = """
import json, os, sys
from cheatsheet.runs import distributed, harness

def thread_names():
    tasks = os.listdir("/proc/self/task")
    return sorted(open(f"/proc/self/task/{task}/comm").read().strip() for task in tasks)

seen = {}
leave_group = distributed.teardown

def teardown(world):
    seen.setdefault("before", thread_names())
    leave_group(world)

harness.distributed.teardown = teardown
harness.run("vae", device="cpu", steps=2, out=sys.argv[1], progress=False,
            options={"hidden": 32, "iwae_k": 8, "batch_size": 32})
seen["after"] = thread_names()
print(json.dumps({"rank": int(os.environ["RANK"]), **seen}))
"""


def test_torchrun_ranks_exit_with_no_gloo_thread_left(tmp_path):
    """After a DDP run no gloo thread is left on either rank, so nothing of the process group
    still runs while the interpreter shuts down and C++ statics are destroyed (a live gloo
    thread there, woken by the peer's sockets closing as it exits, can abort the rank). The
    group's threads must be seen while it is up, or the check would say nothing."""
    from torchrun_helpers import failure_report, run_torchrun

    script = tmp_path / "threads_at_teardown.py"
    script.write_text(THREADS_AT_TEARDOWN)
    done = run_torchrun([str(tmp_path / "out")], env=_env(), script=script)
    assert done.returncode == 0, failure_report(done)
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert sorted(report["rank"] for report in reports) == [0, 1]
    for report in reports:
        assert any("gloo" in name for name in report["before"]), report
        assert not any("gloo" in name for name in report["after"]), report


def test_option_values_are_parsed_not_evaluated():
    from cheatsheet.cli.run_cmds import parse_options

    parsed = parse_options(["beta=8", "lr=1e-3", "flag=true", "name=__import__('os')", "a-b=2"])
    assert parsed == {"beta": 8, "lr": 1e-3, "flag": True, "name": "__import__('os')", "a_b": 2}


@pytest.mark.parametrize(
    ("model", "options"),
    [
        ("vae", TINY),
        ("beta-vae", TINY),
        ("vqvae", {"hidden": 8, "prior_channels": 8, "vq_steps": 2, "batch_size": 16}),
        ("bernoulli", {}),
        ("bernoulli-mixture", {"components": 3}),
    ],
)
def test_each_run_of_this_catalog_on_the_device(model, options, device, tmp_path):
    """Three steps of every run declared in catalog_vae (vqvae crosses into its prior stage)."""
    result = harness.run(
        model, device=device, steps=3, out=tmp_path, progress=False, options=dict(options)
    )
    metrics = result.metrics
    assert metrics["steps"] == 3 and metrics["device"].startswith(device)
    assert math.isfinite(metrics["test_nll_nats"]) and metrics["test_nll_nats"] > 0
    assert (tmp_path / "samples.png").read_bytes()[:8] == PNG_MAGIC
    assert load_checkpoint(tmp_path / FILENAME)["step"] == 3


def test_a_real_sigint_mid_training_checkpoints_and_exits_130(tmp_path):
    """The real thing: SIGINT to a running `cheatsheet run`, once its progress bar moves."""
    import signal
    import time

    log = tmp_path / "stderr.txt"
    env = dict(_env(), TTY_COMPATIBLE="1", COLUMNS="120")  # rich draws the live bar to a file
    command = [
        sys.executable, "-m", "cheatsheet", "run", "vae", "--device", "cpu", "--steps", "10000000",
        "--out", str(tmp_path / "out"), "--option", "hidden=16", "--option", "iwae_k=2",
    ]  # fmt: skip
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stderr=stderr, stdout=subprocess.DEVNULL, env=env)
        try:
            deadline = time.monotonic() + 90
            while "it/s" not in log.read_text(errors="replace") and time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                time.sleep(0.2)
            time.sleep(0.5)
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    err = log.read_text(errors="replace")
    assert code == 130, err[-2000:]
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "interrupted at step" in errors[0] and "Traceback" not in err
    step = load_checkpoint(tmp_path / "out" / FILENAME)["step"]
    assert 0 < step < 10_000_000
