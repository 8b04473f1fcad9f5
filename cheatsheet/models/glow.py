"""Glow: generative flow with invertible 1x1 convolutions.

Kingma & Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions", NeurIPS 2018.

Direction as in realnvp.py: `forward(x) -> (z, log|det dz/dx|)` is the density direction
x -> z = f^{-1}(x); `inverse(z)` is the sampling direction z -> x.

One step of flow (paper Table 1), acting on h of shape (C, H, W):
1. ActNorm: y = s * h + b per channel. Data-dependent init: on the first minibatch s and b are
   set so y has zero mean and unit variance per channel. log-det = H W sum_c log|s_c|
   (registry: `actnorm-logdet`).
2. Invertible 1x1 convolution: y_ij = W h_ij, W in R^{C x C}, log-det = H W log|det W|
   (registry: `conv1x1-logdet`). LU form: W = P L (U + diag(s)) with P a fixed permutation,
   L lower triangular with unit diagonal, U strictly upper triangular, so
   log|det W| = sum_c log|s_c|: O(C) instead of O(C^3). (The sheet drops the L.)
3. Affine coupling: h_a, h_b = split(h); (log s, t) = NN(h_b); y_a = s * h_a + t; y_b = h_b.
   As in the official code, s = sigmoid(raw + 2) (a bounded scale starting near 1) and the
   last conv of NN starts at zero, so each step starts as the identity.

Multi-scale architecture (paper Fig. 2; the sheet: squeeze -> flow x K -> split, L - 1 times,
then squeeze -> flow x K): the split factors out half of the channels with a LEARNED prior
z_2 ~ N(mu(z_1), exp(log_sigma(z_1))^2), written here as the bijection
eps_2 = (z_2 - mu(z_1)) exp(-log_sigma(z_1)), log-det -sum log_sigma, with an N(0, I) base.
Data in [0, 1] is shifted to [-0.5, 0.5] first (as in the paper's code).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cheatsheet.models.realnvp import (
    FlowExperiment,
    Level,
    MultiScaleFlow,
    Squeeze,
    dequantise_digits,
    grey_levels,
    load_flow_data,
)
from cheatsheet.runs.config import param


@dataclass
class GlowConfig:
    hidden: int = param(64, "channels of each coupling network")
    steps_per_level: int | None = param(
        None,
        "flow steps (ActNorm, 1x1 conv, coupling) per level (None: 4 for images, 8 for points)",
    )
    lr: float = param(1e-3, "Adam learning rate")


# --------------------------------------------------------------------------------------------
# ActNorm


class ActNorm(nn.Module):
    """y = s * x + b per channel, initialised from the first batch it sees (data-dependent).

    log|det dy/dx| = H * W * sum_c log|s_c|          (registry: actnorm-logdet)
    """

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))  # log|s|, s > 0
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        # Per-channel statistics over batch and space: after init y ~ zero mean, unit variance.
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True, unbiased=False)
        self.log_scale.copy_(-torch.log(std + 1e-6))
        self.bias.copy_(-mean / (std + 1e-6))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not bool(self.initialized):
            self.initialize(x)
        y = x * torch.exp(self.log_scale) + self.bias
        height, width = x.shape[2:]
        log_det = height * width * self.log_scale.sum()
        return y, log_det.expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.bias) * torch.exp(-self.log_scale)


# --------------------------------------------------------------------------------------------
# Invertible 1x1 convolution, LU-decomposed


class InvertibleConv1x1(nn.Module):
    """y_ij = W x_ij with W = P L (U + diag(sign_s * exp(log_s))).

    W is initialised as a random rotation (orthogonal, log|det W| = 0), then LU-decomposed;
    P and sign(s) stay fixed, L, U and log|s| are learned.
    log|det dy/dx| = H * W * sum_c log|s_c| = H * W * log|det W|   (registry: conv1x1-logdet)
    """

    def __init__(self, channels: int):
        super().__init__()
        rotation, _ = torch.linalg.qr(torch.randn(channels, channels))
        permutation, lower, upper = torch.linalg.lu(rotation)
        s = torch.diagonal(upper)
        self.register_buffer("permutation", permutation)
        self.register_buffer("sign_s", torch.sign(s))
        self.register_buffer("lower_mask", torch.tril(torch.ones(channels, channels), -1))
        self.register_buffer("eye", torch.eye(channels))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(torch.abs(s)))

    def weight(self) -> torch.Tensor:
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.permutation @ lower @ upper

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        channels = x.shape[1]
        y = nn.functional.conv2d(x, self.weight().view(channels, channels, 1, 1))
        height, width = x.shape[2:]
        return y, (height * width * self.log_s.sum()).expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        channels = y.shape[1]
        inverse_weight = torch.linalg.inv(self.weight())
        return nn.functional.conv2d(y, inverse_weight.view(channels, channels, 1, 1))


# --------------------------------------------------------------------------------------------
# Affine coupling (Glow's variant: channel halves, sigmoid scale)


def zero_conv(in_channels: int, out_channels: int, kernel: int) -> nn.Conv2d:
    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


class GlowCoupling(nn.Module):
    """h_a, h_b = split(h); (raw, t) = NN(h_b); y_a = sigmoid(raw + 2) * h_a + t; y_b = h_b."""

    def __init__(self, channels: int, hidden: int, spatial: tuple[int, int]):
        super().__init__()
        kernel = 1 if spatial == (1, 1) else 3
        self.conditioning_channels = channels // 2
        transformed = channels - self.conditioning_channels
        self.net = nn.Sequential(
            nn.Conv2d(self.conditioning_channels, hidden, kernel, padding=kernel // 2),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1),
            nn.ReLU(),
            zero_conv(hidden, 2 * transformed, kernel),
        )

    def _scale_shift(self, h_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw, shift = self.net(h_b).chunk(2, dim=1)
        return torch.sigmoid(raw + 2.0), shift

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h_b, h_a = x[:, : self.conditioning_channels], x[:, self.conditioning_channels :]
        scale, shift = self._scale_shift(h_b)
        y_a = scale * h_a + shift
        return torch.cat([h_b, y_a], dim=1), torch.log(scale).flatten(1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        h_b, y_a = y[:, : self.conditioning_channels], y[:, self.conditioning_channels :]
        scale, shift = self._scale_shift(h_b)
        return torch.cat([h_b, (y_a - shift) / scale], dim=1)


# --------------------------------------------------------------------------------------------
# Split with a learned prior, and the pre-processing shift


class Split(nn.Module):
    """Factor out half the channels; their prior N(mu(z1), sigma(z1)^2) is learned (zero conv).

    forward: (z1, eps2 = (z2 - mu) / sigma, -sum log sigma); inverse: z2 = mu + sigma * eps2.
    """

    def __init__(self, channels: int, spatial: tuple[int, int]):
        super().__init__()
        kernel = 1 if spatial == (1, 1) else 3
        self.prior = zero_conv(channels // 2, 2 * (channels - channels // 2), kernel)

    def forward(self, h: torch.Tensor):
        z1, z2 = h.chunk(2, dim=1)
        mean, log_sigma = self.prior(z1).chunk(2, dim=1)
        eps2 = (z2 - mean) * torch.exp(-log_sigma)
        return z1, eps2, -log_sigma.flatten(1).sum(1)

    def inverse(self, z1: torch.Tensor, eps2: torch.Tensor) -> torch.Tensor:
        mean, log_sigma = self.prior(z1).chunk(2, dim=1)
        return torch.cat([z1, mean + torch.exp(log_sigma) * eps2], dim=1)


class Shift(nn.Module):
    """x -> x + offset (volume preserving: log-det 0); Glow centres [0, 1] data at 0."""

    def __init__(self, offset: float):
        super().__init__()
        self.offset = offset

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x + self.offset, x.new_zeros(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y - self.offset


def flow_step(channels: int, hidden: int, spatial: tuple[int, int]) -> list[nn.Module]:
    """ActNorm -> invertible 1x1 conv -> affine coupling."""
    return [
        ActNorm(channels),
        InvertibleConv1x1(channels),
        GlowCoupling(channels, hidden, spatial),
    ]


# --------------------------------------------------------------------------------------------
# The multi-scale Glow


def glow(
    in_shape: tuple[int, int, int], hidden: int = 64, steps_per_level: int = 4, levels: int = 2
) -> MultiScaleFlow:
    """L levels of (squeeze -> K steps -> split), the last without split. Vector data given as
    (D, 1, 1) gets one level of K steps and no squeeze (nothing spatial to squeeze)."""
    channels, height, width = in_shape
    if (height, width) == (1, 1):
        layers = [
            layer for _ in range(steps_per_level) for layer in flow_step(channels, hidden, (1, 1))
        ]
        return MultiScaleFlow(in_shape, [Level(layers)])
    c, h, w = channels, height, width
    built = []
    for level in range(levels):
        layers: list[nn.Module] = [Shift(-0.5)] if level == 0 else []
        layers.append(Squeeze())
        c, h, w = 4 * c, h // 2, w // 2
        for _ in range(steps_per_level):
            layers += flow_step(c, hidden, (h, w))
        if level < levels - 1:
            built.append(Level(layers, Split(c, (h, w))))
            c = c // 2
        else:
            built.append(Level(layers))
    return MultiScaleFlow(in_shape, built)


@torch.no_grad()
def data_dependent_init(model: nn.Module, batch: torch.Tensor) -> None:
    """Run one batch through: every ActNorm initialises on what reaches it (before DDP wraps
    the model, so all ranks agree: the batch is drawn from the shared seed)."""
    model(batch)


def make_experiment(ctx) -> FlowExperiment:
    """`cheatsheet run glow`: Glow by maximum likelihood (Adam, lr 1e-3)."""
    torch.manual_seed(ctx.seed)
    train, test, image_data = load_flow_data(ctx)
    config = ctx.settings(GlowConfig, "glow")
    hidden = config.hidden
    steps_per_level = config.steps_per_level or (4 if image_data else 8)
    model = glow(tuple(train.shape[1:]), hidden=hidden, steps_per_level=steps_per_level)
    model = model.to(ctx.device)
    train = train.to(ctx.device)  # once: batches are drawn on the device
    generator = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
    levels = grey_levels(ctx.data)
    init_index = torch.randperm(len(train), generator=generator, device=ctx.device)[:512]
    init_batch = train[init_index]
    if image_data:
        init_batch = dequantise_digits(init_batch, generator, levels)
    data_dependent_init(model, init_batch)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    return FlowExperiment(
        ctx,
        model,
        ctx.wrap(model),
        optimizer,
        train,
        test,
        image_data,
        generator=generator,
        name="Glow",
        sample_temperature=0.7,  # the paper's samples use T = 0.7
        levels=levels,
    )
