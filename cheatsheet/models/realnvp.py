"""RealNVP: density estimation with real-valued non-volume-preserving transformations.

Dinh, Sohl-Dickstein, Bengio, "Density estimation using Real NVP", ICLR 2017.

Direction (the same for every flow in this package):
- `forward(x) -> (z, log_det)` maps data to latent, x -> z = f^{-1}(x), the DENSITY direction:
      log p_x(x) = log p_z(f^{-1}(x)) + log |det d f^{-1}(x) / dx|        (change of variables)
  `log_det` is log |det dz/dx| per example.
- `inverse(z) -> x` maps latent to data, z -> x = f(z), the SAMPLING direction: z ~ N(0, I).

Affine coupling (paper eq. 4-6), with a binary mask b (b = 1: the conditioning half x^B):
      y = b * x + (1 - b) * (x * exp(s(b * x)) + t(b * x))
      x = b * y + (1 - b) * (y - t(b * y)) * exp(-s(b * y))
      log |det dy/dx| = sum_j (1 - b_j) s_j(b * x)
The Jacobian is triangular (the sheet's J = [[h', h' beta'], [0, 1]] up to ordering), so its
determinant is the product of the diagonal: O(D) instead of O(D^3).

Masks: spatial checkerboard (b_ij = (i + j) mod 2) and channel-wise (first half of the
channels); the two alternate so each half is transformed.

Multi-scale architecture (section 3.6): at each scale, 3 checkerboard couplings, squeeze
(C, H, W) -> (4C, H/2, W/2), 3 channel couplings, then half of the channels are factored out
(sent straight to z with a N(0, I) prior); the last scale has 4 checkerboard couplings.

Pre-processing (section 4.1): image data in [0, 1] (dequantised) goes through
      y = logit(alpha + (1 - 2 alpha) x)   (alpha = 0.05)
whose log-det is part of the model's density. The batch normalisation of the paper is left
out: ActNorm (see glow.py) replaced it in later work and the small model trains without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cheatsheet.runs.config import param


@dataclass
class RealNVPConfig:
    hidden: int | None = param(
        None, "channels/units of each coupling network (None: 32 for images, 64 for points)"
    )
    lr: float = param(1e-3, "Adam learning rate")


# --------------------------------------------------------------------------------------------
# Masks


def checkerboard_mask(channels: int, height: int, width: int, parity: int = 0) -> torch.Tensor:
    """b_ij = (i + j + parity) mod 2, the same for every channel; shape (1, C, H, W)."""
    rows = torch.arange(height).view(-1, 1)
    cols = torch.arange(width).view(1, -1)
    board = ((rows + cols + parity) % 2).float()
    return board.expand(channels, height, width).unsqueeze(0).clone()


def channel_mask(channels: int, height: int, width: int, parity: int = 0) -> torch.Tensor:
    """b = 1 on the first half of the channels (parity 0) or the second half (parity 1)."""
    first = torch.zeros(channels)
    first[: channels // 2] = 1.0
    if parity:
        first = 1.0 - first
    return first.view(1, channels, 1, 1).expand(1, channels, height, width).clone()


# --------------------------------------------------------------------------------------------
# The coupling network: a small residual conv net (kernel 1 when the "image" is 1x1, i.e. 2D data)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel, padding=kernel // 2),
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel, padding=kernel // 2),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


def coupling_network(
    in_channels: int, out_channels: int, hidden: int, blocks: int, spatial: tuple[int, int]
) -> nn.Sequential:
    """beta(x^B) -> (s, t): conv in, residual blocks, conv out initialised to zero so that
    every coupling starts as the identity (a stable start; as in Glow)."""
    kernel = 1 if spatial == (1, 1) else 3
    last = nn.Conv2d(hidden, out_channels, kernel, padding=kernel // 2)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(
        nn.Conv2d(in_channels, hidden, kernel, padding=kernel // 2),
        *[ResidualBlock(hidden, kernel) for _ in range(blocks)],
        nn.ReLU(),
        last,
    )


# --------------------------------------------------------------------------------------------
# Flow layers: forward x -> z with log|det dz/dx|, inverse z -> x


class AffineCoupling(nn.Module):
    """RealNVP's masked affine coupling (eq. 9): y = b x + (1 - b)(x exp(s) + t)."""

    def __init__(self, mask: torch.Tensor, hidden: int = 32, blocks: int = 1):
        super().__init__()
        self.register_buffer("mask", mask)
        channels, height, width = mask.shape[1:]
        # The mask itself is an input channel, so the net knows which half it sees.
        self.net = coupling_network(channels + 1, 2 * channels, hidden, blocks, (height, width))
        # s = scale * tanh(raw): bounded log-scales keep early training stable (paper sec. 4.1).
        self.scale = nn.Parameter(torch.ones(1, channels, 1, 1))

    def _s_t(self, conditioning: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask_channel = self.mask[:, :1].expand(conditioning.shape[0], 1, *conditioning.shape[2:])
        raw_s, t = self.net(torch.cat([conditioning, mask_channel], dim=1)).chunk(2, dim=1)
        s = self.scale * torch.tanh(raw_s)
        return s * (1 - self.mask), t * (1 - self.mask)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self._s_t(x * self.mask)
        y = x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t)
        return y, s.flatten(1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        s, t = self._s_t(y * self.mask)
        return y * self.mask + (1 - self.mask) * (y - t) * torch.exp(-s)


class Squeeze(nn.Module):
    """(C, H, W) -> (4C, H/2, W/2): each 2x2 spatial block becomes 4 channels (volume kept)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, h, w = x.shape
        x = x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
        return x.reshape(n, 4 * c, h // 2, w // 2), x.new_zeros(n)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        n, c, h, w = z.shape
        z = z.view(n, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
        return z.reshape(n, c // 4, 2 * h, 2 * w)


class LogitTransform(nn.Module):
    """x in [0, 1] -> y = logit(alpha + (1 - 2 alpha) x): maps the unit cube onto R^D.

    log|dy/dx| = log(1 - 2 alpha) - log p - log(1 - p) with p = alpha + (1 - 2 alpha) x.
    The paper prints alpha + (1 - alpha) x; the symmetric form used by common implementations
    keeps p in [alpha, 1 - alpha], so log(1 - p) stays finite even where float32 rounds a
    dequantised x = (16 + u) / 17 up to 1 (the asymmetric form gave NaN in training).
    """

    def __init__(self, alpha: float = 0.05):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.alpha + (1 - 2 * self.alpha) * x
        y = torch.log(p) - torch.log1p(-p)
        log_det = math.log(1 - 2 * self.alpha) - torch.log(p) - torch.log1p(-p)
        return y, log_det.flatten(1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)


# --------------------------------------------------------------------------------------------
# The multi-scale container, shared with Glow


class Level(nn.Module):
    """One scale: a list of flow layers, then (optionally) a split that factors out channels.

    `split` is None (keep everything) or a module with forward(h) -> (kept, out, log_det) and
    inverse(kept, out) -> h. RealNVP's split is a plain halving with an N(0, I) prior; Glow's
    learns the prior (see glow.Split).
    """

    def __init__(self, layers: list[nn.Module], split: nn.Module | None = None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.split = split


class HalfSplit(nn.Module):
    """Factor out the second half of the channels: they go to z unchanged (N(0, I) prior)."""

    def forward(self, h: torch.Tensor):
        kept, out = h.chunk(2, dim=1)
        return kept, out, h.new_zeros(h.shape[0])

    def inverse(self, kept: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return torch.cat([kept, out], dim=1)


class MultiScaleFlow(nn.Module):
    """x (N, C, H, W) <-> z (N, D): the levels in order; factored-out parts are concatenated.

    log p(x) = sum_d log N(z_d; 0, 1) + sum_layers log|det d(layer)/d(input)|.
    """

    def __init__(self, in_shape: tuple[int, int, int], levels: list[Level]):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.levels = nn.ModuleList(levels)
        self.dim = int(math.prod(in_shape))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = x.new_zeros(x.shape[0])
        pieces = []
        h = x
        for level in self.levels:
            for layer in level.layers:
                h, layer_log_det = layer(h)
                log_det = log_det + layer_log_det
            if level.split is not None:
                h, out, split_log_det = level.split(h)
                log_det = log_det + split_log_det
                pieces.append(out)
        pieces.append(h)
        z = torch.cat([piece.flatten(1) for piece in pieces], dim=1)
        assert z.shape == (x.shape[0], self.dim), z.shape  # a flow keeps the dimension
        return z, log_det

    def _piece_shapes(self, batch: int, device, dtype) -> list[tuple[int, ...]]:
        # Shapes of the factored-out pieces: a shape-only dry run through the levels.
        with torch.no_grad():
            shapes = []
            h = torch.zeros(1, *self.in_shape, device=device, dtype=dtype)
            for level in self.levels:
                for layer in level.layers:
                    if isinstance(layer, Squeeze):
                        h, _ = layer(h)
                if level.split is not None:
                    h, out = h.chunk(2, dim=1)
                    shapes.append(tuple(out.shape[1:]))
            shapes.append(tuple(h.shape[1:]))
        return shapes

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        shapes = self._piece_shapes(z.shape[0], z.device, z.dtype)
        sizes = [math.prod(shape) for shape in shapes]
        pieces = [
            piece.reshape(z.shape[0], *shape) for piece, shape in zip(z.split(sizes, dim=1), shapes)
        ]
        h = pieces.pop()
        for level in reversed(self.levels):
            if level.split is not None:
                h = level.split.inverse(h, pieces.pop())
            for layer in reversed(level.layers):
                h = layer.inverse(h)
        return h

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p_x(x) per example, in nats (density direction x -> z)."""
        z, log_det = self(x)
        return standard_normal_log_prob(z) + log_det

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, device=None) -> torch.Tensor:
        """z ~ N(0, temperature^2 I), x = f(z) (sampling direction z -> x)."""
        parameter = next(self.parameters())
        z = torch.randn(n, self.dim, device=device or parameter.device, dtype=parameter.dtype)
        z = temperature * z
        return self.inverse(z)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * (z.pow(2) + math.log(2 * math.pi)).flatten(1).sum(1)


# --------------------------------------------------------------------------------------------
# RealNVP


def realnvp(
    in_shape: tuple[int, int, int], hidden: int = 32, blocks: int = 1, scales: int = 2
) -> MultiScaleFlow:
    """The paper's multi-scale RealNVP for images (C, H, W), or alternating channel couplings
    for vector data given as (D, 1, 1) (2D toy densities): there is no space to checker."""
    channels, height, width = in_shape
    if (height, width) == (1, 1):
        layers = [
            AffineCoupling(channel_mask(channels, 1, 1, parity=i % 2), hidden, blocks)
            for i in range(8)
        ]
        return MultiScaleFlow(in_shape, [Level(layers)])
    levels = []
    c, h, w = channels, height, width
    layers: list[nn.Module] = [LogitTransform()]
    for _ in range(scales - 1):
        layers += [
            AffineCoupling(checkerboard_mask(c, h, w, parity=i % 2), hidden, blocks)
            for i in range(3)
        ]
        layers.append(Squeeze())
        c, h, w = 4 * c, h // 2, w // 2
        layers += [
            AffineCoupling(channel_mask(c, h, w, parity=i % 2), hidden, blocks) for i in range(3)
        ]
        levels.append(Level(layers, HalfSplit()))
        c = c // 2
        layers = []
    layers += [
        AffineCoupling(checkerboard_mask(c, h, w, parity=i % 2), hidden, blocks) for i in range(4)
    ]
    levels.append(Level(layers))
    return MultiScaleFlow(in_shape, levels)


# --------------------------------------------------------------------------------------------
# Data for image flows: dequantisation, and the experiment shared with Glow


DIGIT_LEVELS = 17  # sklearn digits have grey levels 0..16, stored as k / 16
MNIST_LEVELS = 256  # MNIST grey levels 0..255, stored as k / 255


def grey_levels(data: str) -> int:
    """How many grey levels the image data set has: 17 (8x8 digits) or 256 (MNIST)."""
    return MNIST_LEVELS if data.startswith("mnist") else DIGIT_LEVELS


def dequantise_digits(
    x: torch.Tensor, generator: torch.Generator | None = None, levels: int = DIGIT_LEVELS
) -> torch.Tensor:
    """k / (L - 1) -> (k + u) / L with u ~ U[0, 1): a continuous density on [0, 1]^D whose
    integral over a pixel's bin lower-bounds P(k) (Theis et al. 2016). The noise is drawn on
    x's device (the generator must live there too): no host round trip per batch."""
    grey = torch.round(x * (levels - 1))
    noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (grey + noise) / levels


def discrete_nll(
    log_prob_unit_cube: torch.Tensor, dim: int, levels: int = DIGIT_LEVELS
) -> tuple[float, float]:
    """NLL of the discrete data (L levels) in nats and bits/dim from log p(x) on [0, 1]^D.

    The data were divided by L to land in [0, 1]: that scaling has log-det -D log L, so
        -log P(k) <= -log p_[0,1](x) + D log L        (dequantisation bound)
    bits/dim = nats / (D ln 2).
    """
    nats = float((-log_prob_unit_cube).mean()) + dim * math.log(levels)
    return nats, nats / (dim * math.log(2))


def to_image_shape(split_data: torch.Tensor) -> torch.Tensor:
    """(N, 2) toy points -> (N, 2, 1, 1): vector data is a 1x1 'image' with D channels."""
    return split_data.view(split_data.shape[0], -1, 1, 1) if split_data.dim() == 2 else split_data


@dataclass
class FlowExperiment:
    """Maximum likelihood training of a flow on digits (dequantised) or a 2D toy density."""

    ctx: Any
    model: nn.Module
    train_model: nn.Module  # ctx.wrap(model): DDP when distributed
    optimizer: torch.optim.Optimizer
    train: torch.Tensor
    test: torch.Tensor
    image_data: bool
    batch_size: int = 128
    generator: torch.Generator | None = None
    name: str = "flow"
    sample_temperature: float = 0.8  # z ~ N(0, T^2 I) for the image grid (Glow shows T = 0.7)
    levels: int = DIGIT_LEVELS  # grey levels of the image data (17 digits, 256 MNIST)

    def modules(self) -> dict[str, nn.Module]:
        return {"flow": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"flow": self.optimizer}

    def _batch(self) -> torch.Tensor:
        # train and the generator live on the run's device: a batch never leaves it.
        index = torch.randint(
            0,
            len(self.train),
            (self.batch_size,),
            generator=self.generator,
            device=self.train.device,
        )
        batch = self.train[index]
        if self.image_data:
            batch = dequantise_digits(batch, self.generator, self.levels)
        return batch

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        x = self._batch()
        z, log_det = self.train_model(x)
        nll = -(standard_normal_log_prob(z) + log_det).mean()
        self.optimizer.zero_grad(set_to_none=True)
        nll.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 100.0)
        self.optimizer.step()
        return {"loss": nll.item()}

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        self.model.eval()
        generator = torch.Generator().manual_seed(1234)  # the same dequantisation noise each time
        log_probs = []
        for chunk in self.test.split(256):
            chunk = chunk.cpu()
            x = dequantise_digits(chunk, generator, self.levels) if self.image_data else chunk
            log_probs.append(self.model.log_prob(x.to(self.ctx.device)).cpu())
        log_prob = torch.cat(log_probs)
        dim = self.model.dim
        if self.image_data:
            nats, bits = discrete_nll(log_prob, dim, self.levels)
            return {
                "test_nll_nats": nats,
                "bits_per_dim": bits,
                "test_nll_continuous_nats": float(-log_prob.mean()),
                "measure": f"test NLL of the {self.levels}-level images: dequantised, "
                f"+ D log {self.levels} (bound)",
            }
        nats = float(-log_prob.mean())
        return {
            "test_nll_nats": nats,
            "bits_per_dim": nats / (dim * math.log(2)),
            "measure": "test NLL of the continuous 2D density",
        }

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid, save_scatter

        self.model.eval()
        out_dir = Path(out_dir)
        torch.manual_seed(0)
        if self.image_data:
            temperature = self.sample_temperature
            samples = self.model.sample(64, temperature=temperature, device=self.ctx.device)
            path = save_image_grid(
                samples.clamp(0, 1),
                out_dir / "samples.png",
                f"{self.name} samples (T = {temperature:g})",
            )
        else:
            samples = self.model.sample(1000, device=self.ctx.device).flatten(1)
            path = save_scatter(
                samples, out_dir / "samples.png", reference=self.test, title=f"{self.name}"
            )
        return [path]


def load_flow_data(ctx) -> tuple[torch.Tensor, torch.Tensor, bool]:
    from cheatsheet.datasets import load

    split = load(ctx.data, seed=ctx.seed)
    image_data = len(split.shape) == 3
    return to_image_shape(split.train), to_image_shape(split.test), image_data


def make_experiment(ctx) -> FlowExperiment:
    """`cheatsheet run realnvp`: RealNVP by maximum likelihood (Adam, lr 1e-3)."""
    torch.manual_seed(ctx.seed)
    train, test, image_data = load_flow_data(ctx)
    config = ctx.settings(RealNVPConfig, "realnvp")
    hidden = config.hidden or (32 if image_data else 64)
    model = realnvp(tuple(train.shape[1:]), hidden=hidden).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    return FlowExperiment(
        ctx,
        model,
        ctx.wrap(model),
        optimizer,
        train.to(ctx.device),
        test,
        image_data,
        generator=torch.Generator(device=ctx.device).manual_seed(ctx.seed),
        name="RealNVP",
        levels=grey_levels(ctx.data),
    )
