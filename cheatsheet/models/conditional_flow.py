"""Conditional normalizing flows: conditional affine coupling and SRFlow's affine injector.

Lugmayr, Danelljan, Van Gool, Timofte, "SRFlow: Learning the Super-Resolution Space with
Normalizing Flow Networks", ECCV 2020 (section 3.2-3.3); the class-conditional flow is the
same architecture with a label as the condition.

A conditional flow models p(x | w): x <-> z is a bijection for every fixed condition w, and
    log p(x | w) = log N(f^{-1}(x; w); 0, I) + log |det d f^{-1}(x; w) / dx|.
Direction as in realnvp.py: `forward(x, u) -> (z, log|det dz/dx|)` (density, x -> z);
`inverse(z, u) -> x` (sampling, z -> x). u is a feature map computed from w by a
conditioning encoder (SRFlow: a conv net on the low-resolution image; here also: a label
embedding), at the resolution of each level.

Conditional affine coupling (the sheet: "add parameter w to beta"): the coupling network sees
the condition as well as the untouched half,
    h_a, h_b = split(h); (s, t) = beta(h_b, u); y_a = s * h_a + t; y_b = h_b,
log-det = sum log s. The Jacobian stays triangular because u does not depend on h.

Affine injector (SRFlow eq. 5; the sheet's equations), between the 1x1 conv and the coupling:
    h^{n+1} = exp(beta_s(u)) * h^n + beta_b(u)
    h^n = exp(-beta_s(u)) * (h^{n+1} - beta_b(u))
    log-det = sum_{i,j,k} beta_s(u)_{ijk}
Every dimension is transformed, conditioned only on u (no triangularity needed: the map is
elementwise in h).

One conditional flow step: ActNorm -> invertible 1x1 conv -> affine injector -> conditional
affine coupling (SRFlow Fig. 3). Multi-scale: squeeze -> K steps -> split (learned,
conditional prior) per level, as in Glow.

Experiments:
- `srflow`: 8x8 digits given their 4x4 average-pooled version (4x super-resolution in area).
  samples.png shows each low-res input, several high-res samples and the truth.
- `conditional-flow`: digits given their class; samples.png has one row per class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.models.glow import ActNorm, InvertibleConv1x1, Shift, zero_conv
from cheatsheet.models.realnvp import (
    DIGIT_LEVELS,
    Squeeze,
    dequantise_digits,
    discrete_nll,
    grey_levels,
    standard_normal_log_prob,
)
from cheatsheet.runs.config import param


@dataclass
class ConditionalFlowConfig:
    hidden: int = param(64, "channels of each conditional coupling network")
    lr: float = param(1e-3, "Adam learning rate")


# --------------------------------------------------------------------------------------------
# Conditional layers: forward(x, u) -> (y, log_det), inverse(y, u) -> x


class ConditionalAffineCoupling(nn.Module):
    """(raw, t) = beta(h_b, u); s = sigmoid(raw + 2); y_a = s * h_a + t; y_b = h_b."""

    def __init__(self, channels: int, condition_channels: int, hidden: int):
        super().__init__()
        self.conditioning_channels = channels // 2
        transformed = channels - self.conditioning_channels
        self.net = nn.Sequential(
            nn.Conv2d(self.conditioning_channels + condition_channels, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1),
            nn.ReLU(),
            zero_conv(hidden, 2 * transformed, 3),
        )

    def _scale_shift(self, h_b: torch.Tensor, u: torch.Tensor):
        raw, shift = self.net(torch.cat([h_b, u], dim=1)).chunk(2, dim=1)
        return torch.sigmoid(raw + 2.0), shift

    def forward(self, x: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h_b, h_a = x[:, : self.conditioning_channels], x[:, self.conditioning_channels :]
        scale, shift = self._scale_shift(h_b, u)
        return torch.cat([h_b, scale * h_a + shift], dim=1), torch.log(scale).flatten(1).sum(1)

    def inverse(self, y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        h_b, y_a = y[:, : self.conditioning_channels], y[:, self.conditioning_channels :]
        scale, shift = self._scale_shift(h_b, u)
        return torch.cat([h_b, (y_a - shift) / scale], dim=1)


class AffineInjector(nn.Module):
    """h^{n+1} = exp(beta_s(u)) * h^n + beta_b(u); log-det = sum beta_s(u) (SRFlow eq. 5)."""

    def __init__(self, channels: int, condition_channels: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(condition_channels, hidden, 3, padding=1),
            nn.ReLU(),
            zero_conv(hidden, 2 * channels, 3),  # starts as the identity
        )

    def _log_scale_shift(self, u: torch.Tensor):
        log_scale, shift = self.net(u).chunk(2, dim=1)
        return log_scale, shift

    def forward(self, h: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_scale, shift = self._log_scale_shift(u)
        return torch.exp(log_scale) * h + shift, log_scale.flatten(1).sum(1)

    def inverse(self, h_next: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        log_scale, shift = self._log_scale_shift(u)
        return torch.exp(-log_scale) * (h_next - shift)


class ConditionalSplit(nn.Module):
    """Glow's split with a prior that also sees the condition: N(mu(z1, u), sigma(z1, u)^2)."""

    def __init__(self, channels: int, condition_channels: int):
        super().__init__()
        self.prior = zero_conv(channels // 2 + condition_channels, 2 * (channels // 2), 3)

    def _mean_log_sigma(self, z1: torch.Tensor, u: torch.Tensor):
        return self.prior(torch.cat([z1, u], dim=1)).chunk(2, dim=1)

    def forward(self, h: torch.Tensor, u: torch.Tensor):
        z1, z2 = h.chunk(2, dim=1)
        mean, log_sigma = self._mean_log_sigma(z1, u)
        return z1, (z2 - mean) * torch.exp(-log_sigma), -log_sigma.flatten(1).sum(1)

    def inverse(self, z1: torch.Tensor, eps2: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        mean, log_sigma = self._mean_log_sigma(z1, u)
        return torch.cat([z1, mean + torch.exp(log_sigma) * eps2], dim=1)


CONDITIONAL_LAYERS = (ConditionalAffineCoupling, AffineInjector)


# --------------------------------------------------------------------------------------------
# The conditional multi-scale flow


class ConditionalFlow(nn.Module):
    """x (N, C, H, W) <-> z (N, D) given condition features, one feature map per level.

    `encoder(w)` returns a list of feature maps, one per level, each at that level's spatial
    size (after the level's squeeze) with `condition_channels` channels.
    """

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        encoder: nn.Module,
        condition_channels: int,
        hidden: int = 64,
        steps_per_level: int = 4,
        levels: int = 2,
    ):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.dim = int(math.prod(in_shape))
        self.encoder = encoder
        self.shift = Shift(-0.5)
        self.levels = nn.ModuleList()
        self.splits = nn.ModuleList()
        self.piece_shapes: list[tuple[int, int, int]] = []
        c, h, w = in_shape
        for level in range(levels):
            c, h, w = 4 * c, h // 2, w // 2
            layers: list[nn.Module] = [Squeeze()]
            for _ in range(steps_per_level):
                layers += [
                    ActNorm(c),
                    InvertibleConv1x1(c),
                    AffineInjector(c, condition_channels, hidden),
                    ConditionalAffineCoupling(c, condition_channels, hidden),
                ]
            self.levels.append(nn.ModuleList(layers))
            if level < levels - 1:
                self.splits.append(ConditionalSplit(c, condition_channels))
                self.piece_shapes.append((c - c // 2, h, w))
                c = c // 2
        self.piece_shapes.append((c, h, w))

    @staticmethod
    def _step(layer: nn.Module, h: torch.Tensor, u: torch.Tensor):
        return layer(h, u) if isinstance(layer, CONDITIONAL_LAYERS) else layer(h)

    def forward(self, x: torch.Tensor, condition: Any) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.encoder(condition)
        h, log_det = self.shift(x)
        pieces = []
        for index, layers in enumerate(self.levels):
            for layer in layers:
                h, layer_log_det = self._step(layer, h, features[index])
                log_det = log_det + layer_log_det
            if index < len(self.splits):
                h, out, split_log_det = self.splits[index](h, features[index])
                log_det = log_det + split_log_det
                pieces.append(out)
        pieces.append(h)
        z = torch.cat([piece.flatten(1) for piece in pieces], dim=1)
        assert z.shape == (x.shape[0], self.dim)
        return z, log_det

    def inverse(self, z: torch.Tensor, condition: Any) -> torch.Tensor:
        features = self.encoder(condition)
        sizes = [math.prod(shape) for shape in self.piece_shapes]
        pieces = [
            piece.reshape(z.shape[0], *shape)
            for piece, shape in zip(z.split(sizes, dim=1), self.piece_shapes)
        ]
        h = pieces.pop()
        for index in reversed(range(len(self.levels))):
            if index < len(self.splits):
                h = self.splits[index].inverse(h, pieces.pop(), features[index])
            for layer in reversed(self.levels[index]):
                h = (
                    layer.inverse(h, features[index])
                    if isinstance(layer, CONDITIONAL_LAYERS)
                    else layer.inverse(h)
                )
        return self.shift.inverse(h)

    def log_prob(self, x: torch.Tensor, condition: Any) -> torch.Tensor:
        """log p(x | w) per example in nats (density direction)."""
        z, log_det = self(x, condition)
        return standard_normal_log_prob(z) + log_det

    @torch.no_grad()
    def sample(self, condition: Any, n: int, temperature: float = 1.0) -> torch.Tensor:
        """z ~ N(0, T^2 I), x = f(z; w) (sampling direction); n = the condition's batch size."""
        parameter = next(self.parameters())
        z = torch.randn(n, self.dim, device=parameter.device, dtype=parameter.dtype)
        return self.inverse(temperature * z, condition)


# --------------------------------------------------------------------------------------------
# Condition encoders


class LowResolutionEncoder(nn.Module):
    """SRFlow's conditioning network (small): conv features of the low-res image at 4x4 (the
    first level's resolution for 8x8 inputs), average-pooled for each coarser level."""

    def __init__(self, channels: int = 1, condition_channels: int = 16, levels: int = 2):
        super().__init__()
        self.levels = levels
        self.net = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, condition_channels, 3, padding=1),
        )

    def forward(self, low_res: torch.Tensor) -> list[torch.Tensor]:
        features = [self.net(low_res - 0.5)]
        for _ in range(self.levels - 1):
            features.append(F.avg_pool2d(features[-1], 2))
        return features


class LabelEncoder(nn.Module):
    """A learned embedding of the class label, broadcast over each level's spatial grid."""

    def __init__(self, num_classes: int, condition_channels: int, sizes: list[int]):
        super().__init__()
        self.embedding = nn.Embedding(num_classes, condition_channels)
        self.sizes = sizes

    def forward(self, labels: torch.Tensor) -> list[torch.Tensor]:
        vector = self.embedding(labels)[:, :, None, None]
        return [vector.expand(-1, -1, size, size) for size in self.sizes]


def downsample(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """The low-resolution observation: average pooling (SRFlow uses bicubic downsampling)."""
    return F.avg_pool2d(x, factor)


def srflow(
    condition_channels: int = 16,
    hidden: int = 64,
    steps_per_level: int = 4,
    in_shape: tuple[int, int, int] = (1, 8, 8),
):
    """SRFlow for H x W digits from their H/2 x W/2 versions (8x8 from 4x4, 28x28 from 14x14):
    the low-res input has the first level's resolution, as the encoder expects."""
    encoder = LowResolutionEncoder(in_shape[0], condition_channels, levels=2)
    return ConditionalFlow(in_shape, encoder, condition_channels, hidden, steps_per_level)


def class_conditional_flow(
    num_classes: int = 10,
    condition_channels: int = 8,
    hidden: int = 64,
    in_shape: tuple[int, int, int] = (1, 8, 8),
):
    side = in_shape[1]
    encoder = LabelEncoder(num_classes, condition_channels, sizes=[side // 2, side // 4])
    return ConditionalFlow(in_shape, encoder, condition_channels, hidden)


# --------------------------------------------------------------------------------------------
# Experiments


@dataclass
class ConditionalFlowExperiment:
    """Maximum likelihood of p(x | w) on dequantised digits; w = low-res image or label."""

    ctx: Any
    model: ConditionalFlow
    train: torch.Tensor
    test: torch.Tensor
    train_condition: torch.Tensor
    test_condition: torch.Tensor
    kind: str  # "srflow" | "class"
    batch_size: int = 128
    lr: float = 1e-3
    levels: int = DIGIT_LEVELS  # grey levels (17 digits, 256 MNIST)

    def __post_init__(self):
        self.train_model = self.ctx.wrap(self.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        # Training data and their generator live on the device: batches never leave it.
        self.train = self.train.to(self.ctx.device)
        self.train_condition = self.train_condition.to(self.ctx.device)
        self.generator = torch.Generator(device=self.ctx.device).manual_seed(self.ctx.seed)

    def modules(self) -> dict[str, nn.Module]:
        return {"flow": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"flow": self.optimizer}

    def condition_of(self, x_clean: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return downsample(x_clean) if self.kind == "srflow" else labels

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        index = torch.randint(
            0,
            len(self.train),
            (self.batch_size,),
            generator=self.generator,
            device=self.train.device,
        )
        x = dequantise_digits(self.train[index], self.generator, self.levels)
        condition = self.train_condition[index]
        z, log_det = self.train_model(x, condition)
        nll = -(standard_normal_log_prob(z) + log_det).mean()
        self.optimizer.zero_grad(set_to_none=True)
        nll.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 50.0)
        self.optimizer.step()
        return {"loss": nll.item()}

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        self.model.eval()
        generator = torch.Generator().manual_seed(1234)
        x = dequantise_digits(self.test, generator, self.levels).to(self.ctx.device)
        log_prob = self.model.log_prob(x, self.test_condition.to(self.ctx.device)).cpu()
        nats, bits = discrete_nll(log_prob, self.model.dim, self.levels)
        metrics: dict[str, Any] = {
            "test_nll_nats": nats,
            "bits_per_dim": bits,
            "measure": f"test NLL of the {self.levels}-level images given the condition "
            "(dequantised bound)",
        }
        if self.kind == "srflow":
            torch.manual_seed(0)
            condition = self.test_condition.to(self.ctx.device)
            samples = self.model.sample(condition, len(condition), temperature=0.8).clamp(0, 1)
            # Consistency with the input (SRFlow sec. 4: LR-PSNR): downsampled samples vs LR.
            error = (downsample(samples).cpu() - self.test_condition).pow(2).mean()
            metrics["low_res_psnr_db"] = float(10 * torch.log10(1 / error))
            sample_error = (samples.cpu() - self.test).pow(2).mean()
            metrics["psnr_db"] = float(10 * torch.log10(1 / sample_error))
            upsampled = F.interpolate(self.test_condition, scale_factor=2, mode="nearest")
            baseline_error = (upsampled - self.test).pow(2).mean()
            metrics["psnr_nearest_upsampling_db"] = float(10 * torch.log10(1 / baseline_error))
        return metrics

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        self.model.eval()
        out_dir = Path(out_dir)
        torch.manual_seed(0)
        if self.kind == "srflow":
            rows = []
            for index in range(8):
                low_res = self.test_condition[index : index + 1].to(self.ctx.device)
                samples = self.model.sample(low_res.expand(5, -1, -1, -1), 5, temperature=0.8)
                upsampled = F.interpolate(low_res, scale_factor=2, mode="nearest")
                truth = self.test[index : index + 1].to(self.ctx.device)
                rows.append(torch.cat([upsampled, samples.clamp(0, 1), truth]))
            grid = torch.cat(rows)
            title = "SRFlow: low-res input | 5 samples (T = 0.8) | truth"
            return [save_image_grid(grid, out_dir / "samples.png", title, nrow=7)]
        labels = torch.arange(10, device=self.ctx.device).repeat_interleave(8)
        samples = self.model.sample(labels, len(labels), temperature=0.7).clamp(0, 1)
        title = "class-conditional flow (row = class, T = 0.7)"
        return [save_image_grid(samples, out_dir / "samples.png", title, nrow=8)]


def _make(ctx, kind: str) -> ConditionalFlowExperiment:
    from cheatsheet.datasets import load

    torch.manual_seed(ctx.seed)
    split = load(ctx.data, seed=ctx.seed)
    # Two squeeze levels halve the side twice: it must divide by 4 (8x8 and 28x28 do).
    if len(split.shape) != 3 or split.shape[1] % 4 or split.train_labels is None:
        from cheatsheet.errors import CheatsheetError

        raise CheatsheetError(
            f"this conditional flow runs on labelled images ('digits', 'mnist'), not '{ctx.data}'"
        )
    config = ctx.settings(ConditionalFlowConfig, kind)
    hidden = config.hidden
    shape = tuple(split.shape)
    if kind == "srflow":
        model = srflow(hidden=hidden, in_shape=shape)
    else:
        model = class_conditional_flow(hidden=hidden, in_shape=shape)
    model = model.to(ctx.device)
    levels = grey_levels(ctx.data)
    if kind == "srflow":
        train_condition, test_condition = downsample(split.train), downsample(split.test)
    else:
        train_condition, test_condition = split.train_labels, split.test_labels
    # Data-dependent ActNorm init on a batch from the shared seed, before DDP wraps the model.
    generator = torch.Generator().manual_seed(ctx.seed)
    index = torch.randperm(len(split.train), generator=generator)[:512]
    with torch.no_grad():
        model(
            dequantise_digits(split.train[index], generator, levels).to(ctx.device),
            train_condition[index].to(ctx.device),
        )
    return ConditionalFlowExperiment(
        ctx,
        model,
        split.train,
        split.test,
        train_condition,
        test_condition,
        kind,
        lr=config.lr,
        levels=levels,
    )


def make_experiment(ctx) -> ConditionalFlowExperiment:
    """`cheatsheet run conditional-flow`: p(digit image | class label)."""
    return _make(ctx, "class")


def make_srflow_experiment(ctx) -> ConditionalFlowExperiment:
    """`cheatsheet run srflow`: p(8x8 digit | its 4x4 average-pooled version)."""
    return _make(ctx, "srflow")
