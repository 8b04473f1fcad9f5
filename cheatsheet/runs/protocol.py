"""The interface between the run harness (`cheatsheet run MODEL`) and each runnable model.

Every run is one `RunSpec` in the table of cheatsheet/runs/catalog.py. `RunSpec.factory` and
`RunSpec.config` are "module:name" strings, imported only when that model runs, so listing
models imports no torch. The config is a dataclass at the top of the model file; the harness
parses `--option KEY=VALUE` into it (cheatsheet/runs/config.py) and hands it over as
`ctx.config`, and metrics.json records it. The factory is called with a `RunContext` and returns an
`Experiment`; the harness owns everything else: the device, seeding, the rich progress bar,
the loss curve, metrics.json, checkpoints (weights_only=True), Ctrl-C, --resume and DDP.

Harness conventions a model can rely on (cheatsheet/runs/harness.py):
- Before the factory runs, Python/numpy/torch global RNGs are seeded with `seed + rank`;
  `ctx.seed` is the user's seed (use it for the data split so every rank sees the same one).
- `ctx.steps` is the total step count; `train_step(step)` gets step = 0 .. steps-1 (a resumed
  run starts at the checkpoint's step).
- `ctx.wrap(module, **ddp_options)` returns a DistributedDataParallel under torchrun (gloo on
  CPU, NCCL on CUDA), else the module itself. DDP only hooks `__call__`, so compute the loss
  through the wrapped module's forward. `modules()` may return wrapped or bare modules.
- `evaluate()` runs on every rank (it may call wrapped modules); `save_figures` only on rank 0.
- Optional hooks: `state_dict() -> dict` and `load_state_dict(dict)` on the experiment for
  extra state (an EMA, a step counter) kept in the checkpoint; tensors/numbers/strings only.
- metrics.json gets the `evaluate()` dict plus model, data, seed, steps, wall_time_s, device,
  world_size, parameters, final_loss. Binary/discrete data: report `test_nll_nats` (per
  example) and `bits_per_dim`. Figures: cheatsheet/runs/figures.py (image grid, scatter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class RunSpec:
    name: str  # as typed: `cheatsheet run pixelcnn`
    family: str  # "autoregressive", "flows", "gan", "diffusion", "vae", "rl", "implicit", ...
    description: str  # one line, with the paper
    factory: str  # "cheatsheet.models.pixelcnn:make_experiment"
    default_steps: int
    default_data: str
    datasets: tuple[str, ...]
    config: str = ""  # "cheatsheet.models.vae:VAEConfig": the run's typed options
    defaults: dict[str, Any] = field(default_factory=dict)  # this run's own config defaults


@dataclass
class RunContext:
    """What the harness hands a model: where to run, on what, for how long."""

    device: Any  # torch.device
    seed: int
    steps: int
    data: str
    out_dir: Path
    rank: int = 0
    world_size: int = 1
    options: dict[str, Any] = field(default_factory=dict)  # the raw --option pairs (as typed)
    config: Any = None  # the run's typed config (its dataclass), resolved from the options
    # wrap(module) -> module: DistributedDataParallel when world_size > 1, else the module.
    wrap: Callable[[Any], Any] = lambda module: module

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def settings(self, config_class: type, model: str = "", **run_defaults: Any) -> Any:
        """This run's typed config: the one the harness resolved, or (a context built by hand,
        e.g. in a test or the bench) the class's defaults and run_defaults under the options."""
        if isinstance(self.config, config_class):
            return self.config
        from cheatsheet.runs.config import resolve

        return resolve(config_class, self.options, model or config_class.__name__, run_defaults)


class Experiment(Protocol):
    def modules(self) -> dict[str, Any]:
        """Named nn.Modules: checkpointed, and the first device check."""

    def optimizers(self) -> dict[str, Any]:
        """Named optimizers: checkpointed for --resume."""

    def train_step(self, step: int) -> dict[str, float]:
        """One optimisation step (draws its own batch); returns at least {'loss': ...}."""

    def evaluate(self) -> dict[str, Any]:
        """Final metrics for metrics.json (test NLL in nats and bits/dim where defined)."""

    def save_figures(self, out_dir: Path) -> list[Path]:
        """Write samples.png (and any other plots); returns the paths written."""
