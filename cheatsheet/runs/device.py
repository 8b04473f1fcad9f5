"""The one device picker: `cpu`, `cuda`, `mps` or `auto` (the best device present).

A device that was asked for by name but is missing is bad usage (one line, exit 2), never a
silent fallback: a student who typed `--device cuda` must learn that the run is not on a GPU.
"""

from __future__ import annotations

from typing import Any

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available(torch: Any) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(name: str = "auto", local_rank: int = 0) -> Any:
    """Return a `torch.device` for `name`; under DDP on CUDA, the GPU of this local rank."""
    from cheatsheet.errors import CheatsheetError

    name = (name or "auto").strip().lower()
    if name not in DEVICE_CHOICES:
        from formulas.core import did_you_mean

        raise CheatsheetError(
            f"unknown device '{name}'{did_you_mean(name, DEVICE_CHOICES)} "
            f"(choose one of {', '.join(DEVICE_CHOICES)})"
        )

    import torch

    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif _mps_available(torch):
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise CheatsheetError(
                "--device cuda was requested but CUDA is not available on this machine; "
                "use --device cpu or --device auto"
            )
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise CheatsheetError(
                f"local rank {local_rank} needs a GPU but only {count} CUDA device(s) are visible"
            )
        return torch.device("cuda", local_rank)
    if name == "mps":
        if not _mps_available(torch):
            raise CheatsheetError(
                "--device mps was requested but Apple MPS is not available on this machine; "
                "use --device cpu or --device auto"
            )
        return torch.device("mps")
    return torch.device("cpu")
