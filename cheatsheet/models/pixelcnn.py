"""PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks",
ICML 2016, section 3.5) and Gated PixelCNN (van den Oord et al., "Conditional Image Generation
with PixelCNN Decoders", NeurIPS 2016, section 2).

Pixels are generated from the top-left corner in raster order, and within a pixel the colour
channels R -> G -> B:

    p(x) = prod_i p(x_i,R | x_<i) p(x_i,G | x_<i, x_i,R) p(x_i,B | x_<i, x_i,R, x_i,G)

Masked convolutions make a stack of convolutions compute all these conditionals in one pass.
A k x k kernel keeps the rows above its centre and the pixels left of the centre in the centre
row; at the centre itself the channel mask applies. Feature channel c belongs to colour
c mod C (C = image channels), and at the centre
    mask A (first layer):   colour(in) <  colour(out)     R sees nothing of its own pixel
    mask B (later layers):  colour(in) <= colour(out)     a feature may see its own colour
so that output R of pixel i depends on x_<i only, G also on x_i,R, B on x_i,R and x_i,G
(registry `pixelcnn-mask`, which groups channels in contiguous thirds; the interleaved
grouping here is the same mask up to a permutation of the channels, tested).

Plain PixelCNN: a 7x7 mask-A conv, residual blocks (1x1 -> 3x3 mask B -> 1x1, ReLU), and a
1x1 head. Its stacked masks leave a *blind spot*: pixels above-right of the current one that
are inside the receptive field but never reach it (tested: exactly zero gradient).

Gated PixelCNN removes the blind spot with two stacks:
    vertical stack v:   a k x k conv that sees only rows strictly above (first layer) or rows
                        <= its own row of v (which itself only knows rows above)
    horizontal stack h: a 1 x k conv that sees the pixels to the left in the row (mask A/B),
                        plus a 1x1 link from v at the same position
and the gated activation  y = tanh(W_f * x) . sigmoid(W_g * x)  on both stacks (the paper's
eq. 2), with a residual connection on the horizontal stack. Every earlier pixel of the
receptive field reaches the output (tested).

Our data are binarised digits, so each (pixel, channel) has a Bernoulli conditional: C output
logits per pixel. Sampling is sequential: H * W * C forward passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cheatsheet.models.autoregressive_common import (
    BinaryAutoregressiveExperiment,
    bernoulli_log_prob,
    data_shape,
)
from cheatsheet.runs.config import param
from cheatsheet.runs.protocol import RunContext


@dataclass
class PixelCNNConfig:
    # 32 features: with 64 the model overfits the 1437 training digits within 1500 steps.
    features: int = param(32, "channels of every masked convolution")
    blocks: int = param(4, "residual blocks of masked 3x3 convolutions (type B)")
    first_kernel: int = param(7, "kernel of the first masked convolution (type A)")
    lr: float = param(2e-3, "Adam learning rate")
    batch_size: int = param(64, "digits per step")
    samples: int = param(64, "samples drawn for samples.png")


@dataclass
class GatedPixelCNNConfig:
    features: int = param(32, "channels of the vertical and horizontal stacks")
    layers: int = param(5, "gated layers")
    kernel_size: int = param(3, "kernel of the stacks' convolutions")
    lr: float = param(2e-3, "Adam learning rate")
    batch_size: int = param(64, "digits per step")
    samples: int = param(64, "samples drawn for samples.png")


# --------------------------------------------------------------------------------------------
# Masked convolution


def causal_mask(
    out_channels: int,
    in_channels: int,
    kernel_size: tuple[int, int],
    mask_type: str,
    colours: int = 1,
    vertical: bool = False,
) -> torch.Tensor:
    """The (out, in, kh, kw) 0/1 mask of a raster-order masked convolution.

    mask_type "A" or "B" as in the module docstring. `vertical=True` gives the Gated PixelCNN
    vertical stack: whole rows, strictly above the centre for "A", up to the centre row for "B".
    """
    kernel_height, kernel_width = kernel_size
    centre_row, centre_col = kernel_height // 2, kernel_width // 2
    mask = torch.zeros(out_channels, in_channels, kernel_height, kernel_width)
    if vertical:
        mask[:, :, :centre_row] = 1
        if mask_type == "B":
            mask[:, :, centre_row] = 1
        return mask
    mask[:, :, :centre_row] = 1
    mask[:, :, centre_row, :centre_col] = 1
    colour_out = torch.arange(out_channels)[:, None] % colours
    colour_in = torch.arange(in_channels)[None, :] % colours
    if mask_type == "A":
        mask[:, :, centre_row, centre_col] = (colour_in < colour_out).float()
    elif mask_type == "B":
        mask[:, :, centre_row, centre_col] = (colour_in <= colour_out).float()
    else:
        raise ValueError(f"mask_type must be 'A' or 'B', not {mask_type!r}")
    return mask


class MaskedConv2d(nn.Conv2d):
    """A 'same'-padded convolution whose weight is multiplied by a fixed causal mask."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        mask_type: str,
        colours: int = 1,
        vertical: bool = False,
    ):
        if isinstance(kernel_size, int):
            kernel_size = (kernel_size, kernel_size)
        padding = (kernel_size[0] // 2, kernel_size[1] // 2)
        super().__init__(in_channels, out_channels, kernel_size, padding=padding)
        mask = causal_mask(out_channels, in_channels, kernel_size, mask_type, colours, vertical)
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.mask * self.weight, self.bias, padding=self.padding)


def output_head(features: int, channels: int) -> nn.Sequential:
    """The output stack of PixelRNN/PixelCNN (van den Oord et al. 2016, table 1): ReLU, 1x1
    mask-B conv, ReLU, 1x1 mask-B conv down to one Bernoulli logit per (pixel, channel)."""
    return nn.Sequential(
        nn.ReLU(),
        MaskedConv2d(features, features, 1, "B", channels),
        nn.ReLU(),
        MaskedConv2d(features, channels, 1, "B", channels),
    )


# --------------------------------------------------------------------------------------------
# Shared likelihood and sampler


class RasterBernoulliModel(nn.Module):
    """Subclasses define `logits(x)`: (B, C, H, W) -> (B, C, H, W)."""

    channels: int
    height: int
    width: int

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, one per example."""
        return bernoulli_log_prob(self.logits(x), x)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        x = next(self.parameters()).new_zeros(n, self.channels, self.height, self.width)
        for row in range(self.height):
            # Logits of row `row` depend on rows <= row only (causal masks; a Row LSTM runs
            # down the image), so the rows below are left out: the same conditionals at about
            # half the cost of the whole image (28x28: 784 passes). A view: draws land in x.
            rows_so_far = x[:, :, : row + 1]
            for col in range(self.width):
                for colour in range(self.channels):  # R -> G -> B within the pixel
                    logit = self.logits(rows_so_far)[:, colour, row, col]
                    # a draw from the model's Bernoulli, never a threshold at 1/2
                    x[:, colour, row, col] = torch.bernoulli(torch.sigmoid(logit))
        return x


def raster_order(channels: int, height: int, width: int) -> torch.Tensor:
    """The generation position of each (c, i, j), flattened as x.flatten(): pixel-major in
    raster order, channels R, G, B within a pixel."""
    c, i, j = torch.meshgrid(
        torch.arange(channels), torch.arange(height), torch.arange(width), indexing="ij"
    )
    return ((i * width + j) * channels + c).flatten()


# --------------------------------------------------------------------------------------------
# PixelCNN


class ResidualBlock(nn.Module):
    """The PixelCNN residual block (the paper's figure 5): 2h -> h (1x1) -> h (3x3) -> 2h."""

    def __init__(self, channels: int, colours: int, kernel_size: int = 3):
        super().__init__()
        half = channels // 2
        self.reduce = MaskedConv2d(channels, half, 1, "B", colours)
        self.conv = MaskedConv2d(half, half, kernel_size, "B", colours)
        self.expand = MaskedConv2d(half, channels, 1, "B", colours)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.reduce(F.relu(x))
        h = self.conv(F.relu(h))
        h = self.expand(F.relu(h))
        return x + h


class PixelCNN(RasterBernoulliModel):
    def __init__(
        self,
        channels: int = 1,
        height: int = 8,
        width: int = 8,
        features: int = 64,
        blocks: int = 4,
        first_kernel: int = 7,
        residual: bool = True,
    ):
        super().__init__()
        self.channels, self.height, self.width = channels, height, width
        if features % (2 * channels):
            raise ValueError("features must be a multiple of 2 * channels (colour groups)")
        self.input_conv = MaskedConv2d(channels, features, first_kernel, "A", channels)
        if residual:
            self.blocks = nn.ModuleList(ResidualBlock(features, channels) for _ in range(blocks))
        else:  # a bare stack of 3x3 mask-B convs: the textbook blind-spot demonstration
            self.blocks = nn.ModuleList(
                nn.Sequential(MaskedConv2d(features, features, 3, "B", channels), nn.ReLU())
                for _ in range(blocks)
            )
        self.head = output_head(features, channels)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input_conv(x)
        for block in self.blocks:
            h = block(h)
        logits = self.head(h)
        assert logits.shape == x.shape
        return logits


# --------------------------------------------------------------------------------------------
# Gated PixelCNN


def gate(x: torch.Tensor) -> torch.Tensor:
    """tanh(W_f * x) . sigmoid(W_g * x): the two halves of the channels are f and g."""
    f, g = x.chunk(2, dim=1)
    return torch.tanh(f) * torch.sigmoid(g)


class GatedLayer(nn.Module):
    """One layer of the two stacks (the paper's figure 2)."""

    def __init__(self, in_channels: int, features: int, kernel_size: int, colours: int, first):
        super().__init__()
        mask_type = "A" if first else "B"
        self.first = first
        self.vertical = MaskedConv2d(
            in_channels, 2 * features, kernel_size, mask_type, colours, vertical=True
        )
        # v only knows rows above, so this link may mix all channels freely.
        self.vertical_to_horizontal = nn.Conv2d(2 * features, 2 * features, 1)
        self.horizontal = MaskedConv2d(
            in_channels, 2 * features, (1, kernel_size), mask_type, colours
        )
        self.horizontal_out = MaskedConv2d(features, features, 1, "B", colours)

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v_pre = self.vertical(v)
        h_pre = self.horizontal(h) + self.vertical_to_horizontal(v_pre)
        h_out = self.horizontal_out(gate(h_pre))
        if not self.first:  # residual on the horizontal stack (shapes differ at the input)
            h_out = h_out + h
        return gate(v_pre), h_out


class GatedPixelCNN(RasterBernoulliModel):
    def __init__(
        self,
        channels: int = 1,
        height: int = 8,
        width: int = 8,
        features: int = 48,
        layers: int = 5,
        kernel_size: int = 3,
    ):
        super().__init__()
        self.channels, self.height, self.width = channels, height, width
        if features % channels:
            raise ValueError("features must be a multiple of channels (colour groups)")
        self.layers = nn.ModuleList(
            GatedLayer(
                channels if index == 0 else features, features, kernel_size, channels, index == 0
            )
            for index in range(layers)
        )
        self.head = output_head(features, channels)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        v, h = x, x
        for layer in self.layers:
            v, h = layer(v, h)
        logits = self.head(h)
        assert logits.shape == x.shape
        return logits


# --------------------------------------------------------------------------------------------
# Runs


def image_experiment(
    ctx: RunContext, model: RasterBernoulliModel, title: str, config: Any
) -> BinaryAutoregressiveExperiment:
    """The run of an image-shaped model (PixelCNN, Gated PixelCNN, PixelRNN): unflattened
    (N, C, H, W) binary digits; the config gives lr, batch_size and samples."""
    return BinaryAutoregressiveExperiment(
        ctx,
        model,
        title=title,
        flatten=False,
        learning_rate=config.lr,
        batch_size=config.batch_size,
        figure_samples=config.samples,
    )


def make_experiment(ctx: RunContext) -> BinaryAutoregressiveExperiment:
    config = ctx.settings(PixelCNNConfig, "pixelcnn")
    _, height, width = data_shape(ctx)  # 8x8 digits or 28x28 MNIST
    model = PixelCNN(
        channels=1,
        height=height,
        width=width,
        features=config.features,
        blocks=config.blocks,
        first_kernel=config.first_kernel,
    )
    return image_experiment(ctx, model, "PixelCNN", config)


def make_gated_experiment(ctx: RunContext) -> BinaryAutoregressiveExperiment:
    config = ctx.settings(GatedPixelCNNConfig, "gated-pixelcnn")
    _, height, width = data_shape(ctx)  # 8x8 digits or 28x28 MNIST
    model = GatedPixelCNN(
        channels=1,
        height=height,
        width=width,
        features=config.features,
        layers=config.layers,
        kernel_size=config.kernel_size,
    )
    return image_experiment(ctx, model, "Gated PixelCNN", config)
