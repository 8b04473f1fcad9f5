"""What the binary autoregressive models share: the Bernoulli likelihood, the run, the figure.

Every model here factorises p(x) = prod_d p(x_d | x_<d) (registry
`autoregressive-factorisation`) with Bernoulli conditionals
p(x_d = 1 | x_<d) = sigmoid(logit_d(x_<d)), so

    log p(x) = sum_d [ x_d log sigmoid(l_d) + (1 - x_d) log(1 - sigmoid(l_d)) ]
             = - sum_d BCEWithLogits(l_d, x_d).

With all logits zero every conditional is a fair coin and -log p(x) = D ln 2 nats exactly;
bits per dimension divide the NLL by D ln 2 (`bits-per-dim`).

`BinaryAutoregressiveExperiment` is the `Experiment` (cheatsheet/runs/protocol.py) that FVSBN,
NADE, MADE, PixelCNN, Gated PixelCNN, PixelRNN and the transformer run on `digits-binary`; the
model only has to provide `forward(x) -> log p(x)` per example and `sample(n)`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cheatsheet.runs.protocol import RunContext


def bernoulli_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x) in nats per example: the sum over all but the batch dimension of Bernoulli
    log-likelihoods (numerically stable: computed from logits, never from sigmoid(logits))."""
    per_dim = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_dim.flatten(1).sum(1)


def load_binary(ctx: RunContext, flatten: bool):
    """The run's binary (train, valid, test, shape): tensors on ctx.device, flattened to (N, D)
    if asked; valid is None for data without a validation split (8x8 digits)."""
    from cheatsheet import datasets
    from cheatsheet.errors import CheatsheetError

    split = datasets.load(ctx.data, seed=ctx.seed)
    if split.discrete_levels != 2:
        raise CheatsheetError(
            f"this model is a Bernoulli model and needs binary data; '{ctx.data}' is not "
            "binary (use --data digits-binary or --data mnist-binary)"
        )
    parts = [split.train, split.valid, split.test]
    parts = [None if part is None else part.float() for part in parts]
    if flatten:
        parts = [None if part is None else part.flatten(1) for part in parts]
    # Moved to the device once: every batch is then indexed there (no per-batch host copies).
    train, valid, test = (None if part is None else part.to(ctx.device) for part in parts)
    return train, valid, test, split.shape


def data_dims(ctx: RunContext) -> int:
    """D, the number of pixels of one example of the run's data (64 for 8x8, 784 for 28x28)."""
    from cheatsheet import datasets

    return math.prod(datasets.load(ctx.data, seed=ctx.seed).shape)


def data_shape(ctx: RunContext) -> tuple[int, ...]:
    """One example's shape, (C, H, W): image models size their sampler from it (8 or 28)."""
    from cheatsheet import datasets

    return tuple(datasets.load(ctx.data, seed=ctx.seed).shape)


def image_side(images: torch.Tensor) -> int:
    """The side of square single-channel images given flat or (N, 1, H, W): 8 or 28."""
    side = math.isqrt(images[0].numel())
    if side * side != images[0].numel():
        raise ValueError(f"not a square image: {images[0].numel()} pixels")
    return side


def save_binary_grid(images: torch.Tensor, path: Path, title: str, columns: int = 8) -> Path:
    """A grid of binary (or [0, 1]) square images (8x8 or 28x28), black on white like ink."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    side = image_side(images)
    images = images.detach().float().cpu().reshape(len(images), side, side)
    rows = math.ceil(len(images) / columns)
    cell = 0.9 if side <= 8 else 1.1  # 28x28 digits get more room to be read
    figure, axes = plt.subplots(rows, columns, figsize=(columns * cell, rows * cell + 0.4))
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index].numpy(), cmap="gray_r", vmin=0, vmax=1)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class BinaryAutoregressiveExperiment:
    """Maximum likelihood on binarised digits with Adam; evaluation is the exact test NLL.

    `model.forward(x)` must return log p(x) per example (so DistributedDataParallel, which
    hooks `forward`, synchronises the gradients); `model.sample(n)` draws n examples.
    `before_step(step)` lets MADE pick its mask for the step (the same on every rank).
    """

    def __init__(
        self,
        ctx: RunContext,
        model: nn.Module,
        *,
        title: str,
        flatten: bool,
        learning_rate: float = 1e-3,
        batch_size: int = 64,
        weight_decay: float = 0.0,
        figure_samples: int = 64,
    ):
        self.ctx = ctx
        self.title = title
        self.train_x, self.valid_x, self.test_x, self.shape = load_binary(ctx, flatten)
        self.model = model.to(ctx.device)
        self.trained = ctx.wrap(self.model)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=learning_rate, weight_decay=weight_decay
        )
        self.batch_size = batch_size
        self.figure_samples = figure_samples

    def modules(self) -> dict[str, Any]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.optimizer}

    def before_step(self, step: int) -> None:
        """Hook for models that change per step (MADE's order-agnostic masks)."""

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        self.before_step(step)
        # The global RNG: the harness seeds it with seed + rank (DDP ranks draw different
        # batches) and checkpoints it (--resume continues the same stream).
        index = torch.randint(len(self.train_x), (self.batch_size,), device=self.train_x.device)
        x = self.train_x[index]
        loss = -self.trained(x).mean()  # NLL in nats per example
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    @torch.no_grad()
    def test_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) used for the reported NLL (MADE overrides: its mask ensemble)."""
        return torch.cat([self.model(chunk) for chunk in x.split(256)])

    @torch.no_grad()
    def validation_nll(self) -> float | None:
        """Mean -log p(x) in nats on the validation split (early stopping in `bench density`);
        None where the data have no validation split."""
        if self.valid_x is None:
            return None
        self.model.eval()
        return -self.test_log_prob(self.valid_x).mean().item()

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        self.model.eval()
        dims = self.test_x[0].numel()
        test_nll = -self.test_log_prob(self.test_x).mean().item()
        train_nll = -self.test_log_prob(self.train_x[:512]).mean().item()
        return {
            "test_nll_nats": test_nll,
            "bits_per_dim": test_nll / (dims * math.log(2)),
            "train_nll_nats": train_nll,
            "dims": dims,
            "parameters": count_parameters(self.model),
            "data": self.ctx.data,
        }

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        self.model.eval()
        samples = self.model.sample(self.figure_samples)
        path = save_binary_grid(samples, Path(out_dir) / "samples.png", f"{self.title}: samples")
        return [path]


def build_or_explain(model_class: type, **settings: Any) -> nn.Module:
    """Construct a model from run options; an invalid combination is a one-line CLI error."""
    from cheatsheet.errors import CheatsheetError

    try:
        return model_class(**settings)
    except ValueError as error:
        raise CheatsheetError(f"{model_class.__name__}: {error}") from None
