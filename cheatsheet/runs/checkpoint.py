"""The one checkpoint format: a single `checkpoint.pt` that `torch.load(weights_only=True)` reads.

Everything in it is a tensor, a number, a string, or a list/dict of those, so loading runs no
pickled code (weights_only=True). Contents:

    format       "cheatsheet-checkpoint/1"
    model, data, seed, step   what was run and how far (step = optimisation steps completed)
    modules      {name: state_dict}    (DistributedDataParallel wrappers are unwrapped first)
    optimizers   {name: state_dict}
    rng          {"torch": ByteTensor, "cuda": [ByteTensor], "numpy": {...}, "python": {...}}
    history      {"loss": float64 tensor, one entry per step so far}
    experiment   the experiment's own `state_dict()` if it has one (optional; e.g. an EMA)
    wall_time_s  training time summed over all sessions of this run
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

FORMAT = "cheatsheet-checkpoint/1"
FILENAME = "checkpoint.pt"


def unwrap(module: Any) -> Any:
    """The bare nn.Module inside a DistributedDataParallel (or DataParallel) wrapper."""
    return getattr(module, "module", module)


def capture_rng() -> dict[str, Any]:
    """All global RNG states as tensors and numbers (numpy's and Python's included)."""
    import numpy as np
    import torch

    kind, keys, position, has_gauss, cached = np.random.get_state()
    version, python_state, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {
            "version": int(version),
            "state": torch.tensor(python_state, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python_state = state["python"]
    random.setstate(
        (
            python_state["version"],
            tuple(int(v) for v in python_state["state"].tolist()),
            python_state["gauss_next"],
        )
    )
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = state["cuda"][: torch.cuda.device_count()]
        torch.cuda.set_rng_state_all(cuda_states)


def save_checkpoint(
    path: Path,
    *,
    modules: dict[str, Any],
    optimizers: dict[str, Any],
    step: int,
    model: str = "",
    data: str = "",
    seed: int = 0,
    loss_history: list[float] | None = None,
    experiment_state: dict[str, Any] | None = None,
    wall_time_s: float = 0.0,
    rng: dict[str, Any] | None = None,
) -> Path:
    """Write the checkpoint atomically (a half-written file never replaces a good one).

    `rng` is the RNG state to store (default: now); the harness passes the state captured
    when training stopped, so evaluation's random draws do not shift a resumed run."""
    import torch

    payload: dict[str, Any] = {
        "format": FORMAT,
        "model": model,
        "data": data,
        "seed": int(seed),
        "step": int(step),
        "modules": {name: unwrap(module).state_dict() for name, module in modules.items()},
        "optimizers": {name: optimizer.state_dict() for name, optimizer in optimizers.items()},
        "rng": rng if rng is not None else capture_rng(),
        "history": {"loss": torch.tensor(loss_history or [], dtype=torch.float64)},
        "wall_time_s": float(wall_time_s),
    }
    if experiment_state is not None:
        payload["experiment"] = experiment_state
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(payload, partial)
    os.replace(partial, path)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint with `weights_only=True` onto the CPU (state_dict loads move it)."""
    import torch

    from cheatsheet.errors import CheatsheetError

    path = Path(path)
    if not path.is_file():
        raise CheatsheetError(f"no checkpoint at {path}; run without --resume first")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a corrupt or foreign file: one line, not a traceback
        raise CheatsheetError(f"cannot read checkpoint {path}: {error}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheatsheetError(f"{path} is not a cheatsheet checkpoint ({FORMAT})")
    return payload


def apply_checkpoint(
    payload: dict[str, Any], modules: dict[str, Any], optimizers: dict[str, Any]
) -> None:
    """Load module and optimizer states; names must match what the experiment declares."""
    from cheatsheet.errors import CheatsheetError

    for kind, saved, live in (
        ("module", payload["modules"], modules),
        ("optimizer", payload["optimizers"], optimizers),
    ):
        if set(saved) != set(live):
            raise CheatsheetError(
                f"checkpoint {kind}s {sorted(saved)} do not match this run's {sorted(live)}"
            )
    for name, module in modules.items():
        unwrap(module).load_state_dict(payload["modules"][name])
    for name, optimizer in optimizers.items():
        optimizer.load_state_dict(payload["optimizers"][name])
