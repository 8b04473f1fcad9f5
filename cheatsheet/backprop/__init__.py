"""Worked backprop examples, computed by hand-written rules and checked against torch autograd.

One module per KIND; each has `build(...) -> WorkedExample`. `make(kind, options)` dispatches.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass

KINDS: dict[str, str] = {
    "mlp": "mlp",
    "conv": "conv",
    "maxpool": "pooling",
    "avgpool": "pooling",
    "unpool": "pooling",
    "transposed-conv": "transposed_conv",
    "rnn": "rnn",
    "lstm": "lstm",
    "attention": "attention",
    "batchnorm": "batchnorm",
    "softmax-ce": "softmax_ce",
}


@dataclass
class Options:
    seed: int = 0
    size: tuple[int, ...] | None = None
    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    truncate: int | None = None
    clip: bool = False
    max_norm: float = 1.0
    exact: bool = False
    activation: str = "sigmoid"
    loss: str = "mse"
    device: str = "cpu"  # where the torch cross-check runs


def closest_kinds(name: str) -> list[str]:
    return difflib.get_close_matches(name, list(KINDS), n=3, cutoff=0.3)


def module_for(kind: str):
    return importlib.import_module(f"cheatsheet.backprop.{KINDS[kind]}")


def build_example(kind: str, options: Options | None = None, example: str | None = None):
    """The worked example for `kind`; its autograd cross-check runs on `options.device`.

    Every torch tensor of the cross-check is created under `torch.device(options.device)`, so
    the same oracle runs on cpu or cuda; the hand rules themselves are numpy and never move.
    """
    import torch

    options = options or Options()
    module = module_for(kind)
    with torch.device(options.device):
        if example == "sheet":
            return module.sheet_example()
        return module.from_options(kind, options)
