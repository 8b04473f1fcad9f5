"""The run harness behind `cheatsheet run MODEL`: everything a model does not need to know.

    spec -> device -> seeds -> factory(ctx) -> [resume] -> N x train_step under a progress bar
         -> evaluate() -> metrics.json, samples.png (save_figures), loss.png, checkpoint.pt

Conventions (documented for model authors in cheatsheet/runs/protocol.py):
- Output directory: `--out DIR`, default `./runs/MODEL` under the current directory.
- `--steps N` is the *total* step count: `--resume --steps 200` after 100 steps runs 100 more.
- Seeding: Python, numpy and torch global RNGs get `seed + rank`, so DDP ranks draw different
  batches; `ctx.seed` stays the user's seed so every rank sees the same train/test split.
- DDP: only rank 0 draws the bar and writes files; every rank runs `evaluate()` (it may use
  the wrapped modules), only rank 0 runs `save_figures`.
- Ctrl-C: the checkpoint is saved at the last completed step, one line, exit code 130.
- A non-finite loss stops the run (exit 1) instead of writing a NaN model.
- Early stop: an experiment that sets `self.stopped = "why"` (e.g. "solved at step 50555")
  ends the loop after that step; the bar ends there and says why, and metrics.json records
  `steps` = the steps done and `stopped_early` = the reason (None for a run that used its budget).
- Time: `wall_time_s` is the whole run (setup, training, evaluation, figures, checkpoint);
  `setup_time_s`, `train_time_s` and `eval_time_s` (evaluate + figures) are its parts.
- A run whose train_step returns no training loss (a measurement, e.g. rnn-gradients) sets
  `loss_curve = False`; the harness then draws no loss.png (its own figures show what it measures).
"""

from __future__ import annotations

import importlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cheatsheet.errors import CheatsheetError, CheckFailed
from cheatsheet.runs import checkpoint as ckpt
from cheatsheet.runs import distributed
from cheatsheet.runs.config import as_dict, resolve
from cheatsheet.runs.protocol import RunContext, RunSpec


@dataclass
class RunResult:
    metrics: dict[str, Any]
    out_dir: Path
    files: list[Path] = field(default_factory=list)


def default_out_dir(model: str) -> Path:
    return Path.cwd() / "runs" / model


def load_factory(spec: RunSpec):
    """Import "module:function" only now (listing models must not import torch)."""
    module_name, _, function_name = spec.factory.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise CheatsheetError(
                f"model '{spec.name}' is listed but its module {module_name} is not there yet"
            ) from None
        raise
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise CheatsheetError(f"{module_name} has no factory '{function_name}'") from None


def check_data(spec: RunSpec, data: str) -> None:
    from cheatsheet.datasets import DATASETS
    from formulas.core import did_you_mean

    if data in spec.datasets:
        return
    if data not in DATASETS:
        raise CheatsheetError(f"unknown dataset '{data}'{did_you_mean(data, DATASETS)}")
    raise CheatsheetError(
        f"model '{spec.name}' does not run on '{data}'; it runs on {', '.join(spec.datasets)}"
    )


def seed_everything(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def count_parameters(modules: dict[str, Any]) -> int:
    """Distinct trainable-or-not parameters over all modules (shared tensors counted once)."""
    seen: set[int] = set()
    total = 0
    for module in modules.values():
        for parameter in ckpt.unwrap(module).parameters():
            if id(parameter) not in seen:
                seen.add(id(parameter))
                total += parameter.numel()
    return total


def _finite_loss(output: dict[str, Any], step: int) -> float:
    if "loss" not in output:
        raise RuntimeError("train_step must return a dict with 'loss'")
    loss = float(output["loss"])
    if not math.isfinite(loss):
        raise CheckFailed(f"the loss became {loss} at step {step + 1}; the run was stopped")
    return loss


def _json_ready(value: Any) -> Any:
    """Tensors and numpy scalars to plain Python, so metrics.json is plain JSON."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if hasattr(value, "tolist"):  # torch.Tensor, numpy arrays and scalars
        return _json_ready(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def run(
    model: str | RunSpec,
    *,
    device: str = "auto",
    steps: int | None = None,
    seed: int = 0,
    data: str | None = None,
    out: Path | None = None,
    resume: bool = False,
    progress: bool = True,
    options: dict[str, Any] | None = None,
) -> RunResult:
    """Run one model end to end; returns the metrics (also written to out/metrics.json)."""
    from cheatsheet.runs.catalog import get_spec
    from cheatsheet.runs.device import pick_device

    spec = model if isinstance(model, RunSpec) else get_spec(model)
    data = data or spec.default_data
    check_data(spec, data)
    total_steps = spec.default_steps if steps is None else int(steps)
    if total_steps < 0:
        raise CheatsheetError(f"--steps must be >= 0, got {total_steps}")
    out_dir = Path(out) if out is not None else default_out_dir(spec.name)
    checkpoint_path = out_dir / ckpt.FILENAME
    if resume and not checkpoint_path.is_file():
        raise CheatsheetError(f"--resume: no checkpoint at {checkpoint_path}")

    config = resolve_config(spec, options or {})
    world = distributed.world_from_env()
    torch_device = pick_device(device, world.local_rank)
    distributed.setup(world, torch_device)
    try:
        return _run(
            spec,
            world,
            torch_device,
            total_steps,
            seed,
            data,
            out_dir,
            resume,
            progress,
            options or {},
            config,
        )
    finally:
        distributed.teardown(world)


def resolve_config(spec: RunSpec, options: dict[str, Any]) -> Any:
    """The run's typed config from `--option` pairs (a run without a config takes none)."""
    if not spec.config:
        if options:
            raise CheatsheetError(f"{spec.name} takes no --option (it has no settings)")
        return None
    module_name, _, class_name = spec.config.partition(":")
    config_class = getattr(importlib.import_module(module_name), class_name)
    return resolve(config_class, options, spec.name, spec.defaults)


def _run(
    spec: RunSpec,
    world: distributed.World,
    torch_device: Any,
    total_steps: int,
    seed: int,
    data: str,
    out_dir: Path,
    resume: bool,
    progress: bool,
    options: dict[str, Any],
    config: Any = None,
) -> RunResult:
    run_began = time.perf_counter()
    checkpoint_path = out_dir / ckpt.FILENAME
    if world.rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(seed + world.rank)
    context = RunContext(
        device=torch_device,
        seed=seed,
        steps=total_steps,
        data=data,
        out_dir=out_dir,
        rank=world.rank,
        world_size=world.world_size,
        options=dict(options),
        config=config,
        wrap=distributed.make_wrap(world, torch_device),
    )
    experiment = load_factory(spec)(context)
    modules = experiment.modules()
    optimizers = experiment.optimizers()

    start_step = 0
    losses: list[float] = []
    previous_wall = 0.0
    if resume:
        payload = ckpt.load_checkpoint(checkpoint_path)
        if payload.get("model") not in ("", spec.name):
            raise CheatsheetError(
                f"{checkpoint_path} belongs to model '{payload['model']}', not '{spec.name}'"
            )
        if payload.get("data") not in ("", data):
            raise CheatsheetError(
                f"{checkpoint_path} was trained on '{payload['data']}', not '{data}' "
                f"(resume with --data {payload['data']})"
            )
        ckpt.apply_checkpoint(payload, modules, optimizers)
        if "experiment" in payload and hasattr(experiment, "load_state_dict"):
            experiment.load_state_dict(payload["experiment"])
        start_step = int(payload["step"])
        losses = [float(v) for v in payload["history"]["loss"].tolist()]
        previous_wall = float(payload.get("wall_time_s", 0.0))
        if world.distributed:
            # Restoring rank 0's RNG on every rank would make all ranks draw the same batches.
            seed_everything(seed + world.rank + 7919 * start_step)
        else:
            ckpt.restore_rng(payload["rng"])

    def save(step: int, wall: float, rng: dict[str, Any] | None = None) -> Path | None:
        if world.rank != 0:
            return None
        state = experiment.state_dict() if hasattr(experiment, "state_dict") else None
        return ckpt.save_checkpoint(
            checkpoint_path,
            modules=modules,
            optimizers=optimizers,
            step=step,
            model=spec.name,
            data=data,
            seed=seed,
            loss_history=losses,
            experiment_state=state,
            wall_time_s=wall,
            rng=rng,
        )

    step = start_step
    began = time.perf_counter()
    setup_seconds = began - run_began
    try:
        with _bar(spec, start_step, total_steps, progress and world.rank == 0) as bar:
            trains = getattr(experiment, "loss_curve", True)
            while step < total_steps and not stopped_reason(experiment):
                output = experiment.train_step(step)
                # A measuring run has no loss: its history holds NaN, its bar shows none.
                loss = _finite_loss(output, step) if trains else float("nan")
                losses.append(loss)
                step += 1
                bar.advance(loss=loss if trains else None)
            if stopped_reason(experiment):
                bar.finish(stopped_reason(experiment))
    except KeyboardInterrupt:
        elapsed = time.perf_counter() - began
        save(step, previous_wall + elapsed)
        distributed.teardown(world)
        raise CheatsheetError(
            f"interrupted at step {step}/{total_steps}; checkpoint saved to {checkpoint_path} "
            f"(continue with `cheatsheet run {spec.name} --resume --out {out_dir}`)",
            exit_code=130,
        ) from None
    train_seconds = time.perf_counter() - began
    rng_after_training = ckpt.capture_rng()  # before evaluate() draws: resume continues here

    eval_began = time.perf_counter()
    metrics: dict[str, Any] = dict(experiment.evaluate())
    files: list[Path] = []
    if world.rank == 0:
        from cheatsheet.runs.figures import save_loss_curve

        files.extend(Path(p) for p in experiment.save_figures(out_dir))
        if getattr(experiment, "loss_curve", True):
            files.append(save_loss_curve(losses, out_dir / "loss.png", title=f"{spec.name} loss"))
    eval_seconds = time.perf_counter() - eval_began
    if world.rank == 0:
        saved = save(step, previous_wall + train_seconds, rng_after_training)
        if saved is not None:
            files.append(saved)
    wall_seconds = time.perf_counter() - run_began
    metrics.update(
        model=spec.name,
        data=data,
        seed=seed,
        steps=step,
        steps_requested=total_steps,
        stopped_early=stopped_reason(experiment) or None,
        steps_this_session=step - start_step,
        wall_time_s=round(wall_seconds, 3),
        setup_time_s=round(setup_seconds, 3),
        train_time_s=round(train_seconds, 3),
        eval_time_s=round(eval_seconds, 3),
        train_time_total_s=round(previous_wall + train_seconds, 3),
        device=str(torch_device),
        world_size=world.world_size,
        parameters=count_parameters(modules),
        final_loss=losses[-1] if losses and getattr(experiment, "loss_curve", True) else None,
        config=as_dict(config),
    )
    if world.distributed:
        metrics["ddp_parameters_in_sync"] = distributed.parameters_in_sync(world, modules)
    metrics = _json_ready(metrics)
    if world.rank == 0:
        metrics_path = out_dir / "metrics.json"
        metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
        files.insert(0, metrics_path)
    distributed.barrier(world)
    return RunResult(metrics=metrics, out_dir=out_dir, files=files)


def stopped_reason(experiment: Any) -> str:
    """Why the experiment ended training early ("" while it goes on): its `stopped` attribute."""
    return str(getattr(experiment, "stopped", "") or "")


def _bar(spec: RunSpec, start: int, total: int, enabled: bool):
    from cheatsheet.runs.progress import step_bar

    return step_bar(total, description=spec.name, start=start, enabled=enabled)
