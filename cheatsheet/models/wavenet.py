"""WaveNet (van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016).

Audio x_1..x_T, mu-law quantised to K = 256 levels, p(x) = prod_t p(x_t | x_<t) with a K-way
softmax per step (the paper's section 2.2: mu-law f(x) = sign(x) ln(1 + mu|x|) / ln(1 + mu)).

Causal convolutions: the output at t sees inputs <= t, by left-padding (kernel - 1) * dilation.
The very first convolution also shifts by one step, so that the prediction of x_t sees x_<t
only. Dilations 1, 2, 4, ..., 2^(L-1), repeated in `stacks`, grow the receptive field
exponentially with depth: with kernel 2 the prediction of x_t sees the 2 + stacks * (2^L - 1)
steps before it (2 from the shifted input convolution; registry `wavenet-receptive-field`,
1 + sum_l (k - 1) d_l over all the convolutions, the input one included).

Each residual block (section 2.3, 2.4):
    z = tanh(W_f *_d x) . sigmoid(W_g *_d x)           gated activation unit (eq. 2)
    x <- x + 1x1(z)                                     residual
    skip += 1x1(z)                                      skip connection
and the output is softmax(1x1(ReLU(1x1(ReLU(sum of skips))))).

The input is one-hot (B, K, T), so the whole network is differentiable in its input and the
causality (d logit_t / d x_s = 0 for s >= t) is checked with autograd. Sampling is sequential:
T forward passes, each drawing one step from the softmax.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cheatsheet.models.autoregressive_common import count_parameters
from cheatsheet.runs.config import param
from cheatsheet.runs.protocol import RunContext


@dataclass
class WaveNetConfig:
    residual_channels: int = param(32, "channels of the residual (gated dilated) layers")
    skip_channels: int = param(64, "channels of the skip connections")
    layers_per_stack: int = param(6, "dilated layers per stack (dilations 1, 2, 4, ...)")
    stacks: int = param(2, "stacks of dilated layers")
    lr: float = param(3e-3, "Adam learning rate")
    batch_size: int = param(16, "waveforms per step")
    samples: int = param(4, "waveforms generated for samples.png")


class CausalConv1d(nn.Conv1d):
    """A dilated convolution that sees only the present and the past (shift=True: past only)."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1, shift=False):
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left_padding = (kernel_size - 1) * dilation
        self.shift = shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shift:  # x_t -> position t + 1: the first layer must not see x_t itself
            x = F.pad(x, (1, 0))[..., :-1]
        return super().forward(F.pad(x, (self.left_padding, 0)))


class ResidualBlock(nn.Module):
    def __init__(self, residual_channels: int, skip_channels: int, dilation: int):
        super().__init__()
        self.dilated = CausalConv1d(residual_channels, 2 * residual_channels, 2, dilation)
        self.residual = nn.Conv1d(residual_channels, residual_channels, 1)
        self.skip = nn.Conv1d(residual_channels, skip_channels, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        filter_, gate = self.dilated(x).chunk(2, dim=1)
        z = torch.tanh(filter_) * torch.sigmoid(gate)
        return x + self.residual(z), self.skip(z)


class WaveNet(nn.Module):
    def __init__(
        self,
        levels: int = 256,
        residual_channels: int = 32,
        skip_channels: int = 64,
        layers_per_stack: int = 6,
        stacks: int = 2,
    ):
        super().__init__()
        self.levels = levels
        self.input_conv = CausalConv1d(levels, residual_channels, 2, shift=True)
        self.blocks = nn.ModuleList(
            ResidualBlock(residual_channels, skip_channels, 2**layer)
            for _ in range(stacks)
            for layer in range(layers_per_stack)
        )
        self.output = nn.Sequential(
            nn.ReLU(),
            nn.Conv1d(skip_channels, skip_channels, 1),
            nn.ReLU(),
            nn.Conv1d(skip_channels, levels, 1),
        )
        # How many past steps the prediction of x_t sees.
        self.receptive_field = 2 + stacks * (2**layers_per_stack - 1)

    def logits(self, one_hot: torch.Tensor) -> torch.Tensor:
        """(B, K, T) one-hot input -> (B, K, T) logits of p(x_t | x_<t)."""
        h = self.input_conv(one_hot)
        skips = 0
        for block in self.blocks:
            h, skip = block(h)
            skips = skips + skip
        logits = self.output(skips)
        assert logits.shape == one_hot.shape
        return logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 1, T) integer levels -> log p(x) in nats, one per example."""
        levels = x[:, 0].long()
        one_hot = F.one_hot(levels, self.levels).transpose(1, 2).to(self.output[-1].weight.dtype)
        log_probs = F.log_softmax(self.logits(one_hot), dim=1)
        return log_probs.gather(1, levels.unsqueeze(1)).squeeze(1).sum(1)

    @torch.no_grad()
    def sample(self, n: int, length: int) -> torch.Tensor:
        device = next(self.parameters()).device
        x = torch.zeros(n, 1, length, dtype=torch.long, device=device)
        for t in range(length):
            start = max(0, t - self.receptive_field)  # only the past the model can see
            window = F.one_hot(x[:, 0, start : t + 1], self.levels).transpose(1, 2)
            window = window.to(self.output[-1].weight.dtype)
            logits = self.logits(window)[:, :, -1]
            x[:, 0, t] = torch.multinomial(F.softmax(logits, dim=1), 1).squeeze(1)
        return x


def mu_law_decode(levels: torch.Tensor, mu: float = 255.0) -> torch.Tensor:
    """Levels 0..mu back to [-1, 1]: the inverse of f(x) = sign(x) ln(1 + mu|x|) / ln(1 + mu)."""
    companded = levels.float() / mu * 2 - 1
    return torch.sign(companded) * ((1 + mu) ** companded.abs() - 1) / mu


class WaveNetExperiment:
    def __init__(
        self,
        ctx: RunContext,
        model: WaveNet,
        learning_rate: float,
        batch_size: int,
        figure_samples: int = 4,
    ):
        from cheatsheet import datasets
        from cheatsheet.errors import CheatsheetError

        split = datasets.load(ctx.data, seed=ctx.seed)
        if split.discrete_levels != model.levels:
            raise CheatsheetError(
                f"wavenet models {model.levels}-level quantised audio; '{ctx.data}' is not "
                "(use --data audio)"
            )
        self.ctx = ctx
        self.train_x = split.train.long().to(ctx.device)
        self.test_x = split.test.long().to(ctx.device)
        self.model = model.to(ctx.device)
        self.trained = ctx.wrap(self.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=learning_rate)
        self.batch_size = batch_size
        self.figure_samples = figure_samples

    def modules(self) -> dict[str, Any]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.optimizer}

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        # The global RNG: the harness seeds it with seed + rank (DDP ranks draw different
        # batches) and checkpoints it (--resume continues the same stream).
        index = torch.randint(len(self.train_x), (self.batch_size,))
        x = self.train_x[index.to(self.train_x.device)]
        loss = -self.trained(x).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        # Report per step (the per-sequence NLL is 256 times larger and hides progress).
        return {"loss": loss.item() / x.shape[-1]}

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        self.model.eval()
        length = self.test_x.shape[-1]
        test_nll = -torch.cat([self.model(c) for c in self.test_x.split(64)]).mean().item()
        return {
            "test_nll_nats": test_nll,
            "test_nll_nats_per_step": test_nll / length,
            "bits_per_dim": test_nll / (length * math.log(2)),
            "dims": length,
            "receptive_field": self.model.receptive_field,
            "parameters": count_parameters(self.model),
            "data": self.ctx.data,
        }

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.model.eval()
        length = self.test_x.shape[-1]
        rows = self.figure_samples
        samples = mu_law_decode(self.model.sample(rows, length)).cpu()
        real = mu_law_decode(self.test_x[:rows]).cpu()
        figure, axes = plt.subplots(rows, 2, figsize=(9, 1.5 * rows), sharex=True, squeeze=False)
        for row in range(rows):
            axes[row, 0].plot(real[row, 0].numpy(), lw=0.8, color="tab:blue")
            axes[row, 1].plot(samples[row, 0].numpy(), lw=0.8, color="tab:red")
        axes[0, 0].set_title("test audio (mu-law decoded)")
        axes[0, 1].set_title("WaveNet samples")
        axes[-1, 0].set_xlabel("t")
        axes[-1, 1].set_xlabel("t")
        figure.tight_layout()
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "samples.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        return [path]


def make_experiment(ctx: RunContext) -> WaveNetExperiment:
    config = ctx.settings(WaveNetConfig, "wavenet")
    model = WaveNet(
        levels=256,
        residual_channels=config.residual_channels,
        skip_channels=config.skip_channels,
        layers_per_stack=config.layers_per_stack,
        stacks=config.stacks,
    )
    return WaveNetExperiment(
        ctx,
        model,
        learning_rate=config.lr,
        batch_size=config.batch_size,
        figure_samples=config.samples,
    )
