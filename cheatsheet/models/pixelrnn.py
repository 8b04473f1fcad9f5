"""PixelRNN with Row LSTM layers (van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent
Neural Networks", ICML 2016, section 3.1).

Same factorisation as PixelCNN (raster order, R -> G -> B within a pixel), but the context
above is carried by an LSTM that runs down the image one row at a time. A Row LSTM layer
computes all the gates of row i at once (the paper's eq. 3):

    [o_i, f_i, i_i, g_i] = sigma( K^ss (*) h_{i-1}  +  K^is (*) x_i )
    c_i = f_i . c_{i-1} + i_i . g_i,        h_i = o_i . tanh(c_i)

with sigma the logistic sigmoid on o, f, i and tanh on g; K^is is a 1 x 3 input-to-state
convolution masked like a mask-B PixelCNN kernel (the current pixel and the one to its left),
and K^ss a 1D 3-wide state-to-state convolution over the previous row's hidden states. The
receptive field is a triangle above the pixel. A 7x7 mask-A convolution comes first (the
current pixel is never seen), residual connections join the LSTM layers, and a 1x1 head gives
one Bernoulli logit per (pixel, channel). Colour groups (channel c belongs to colour c mod C)
are kept by the masked convolutions; the recurrence only carries rows above, so it mixes
colours freely. Sampling is sequential: H * W * C forward passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cheatsheet.models.autoregressive_common import BinaryAutoregressiveExperiment, data_shape
from cheatsheet.models.pixelcnn import (
    MaskedConv2d,
    RasterBernoulliModel,
    image_experiment,
    output_head,
)
from cheatsheet.runs.config import param
from cheatsheet.runs.protocol import RunContext


@dataclass
class PixelRNNConfig:
    features: int = param(32, "channels of the Row LSTM states")
    layers: int = param(2, "Row LSTM layers")
    first_kernel: int = param(7, "kernel of the first masked convolution (type A)")
    lr: float = param(3e-3, "Adam learning rate")
    batch_size: int = param(64, "digits per step")
    samples: int = param(64, "samples drawn for samples.png")


class RowLSTM(nn.Module):
    def __init__(self, features: int, colours: int):
        super().__init__()
        self.features = features
        self.input_to_state = MaskedConv2d(features, 4 * features, (1, 3), "B", colours)
        self.state_to_state = nn.Conv1d(features, 4 * features, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        input_gates = self.input_to_state(x)  # (B, 4F, H, W): all rows in parallel
        h = x.new_zeros(batch, self.features, width)
        c = x.new_zeros(batch, self.features, width)
        rows = []
        for row in range(height):  # the recurrence runs down the image
            gates = input_gates[:, :, row] + self.state_to_state(h)
            o, f, i, g = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            rows.append(h)
        return torch.stack(rows, dim=2)  # (B, F, H, W)


class PixelRNN(RasterBernoulliModel):
    def __init__(
        self,
        channels: int = 1,
        height: int = 8,
        width: int = 8,
        features: int = 32,
        layers: int = 2,
        first_kernel: int = 7,
    ):
        super().__init__()
        self.channels, self.height, self.width = channels, height, width
        if features % channels:
            raise ValueError("features must be a multiple of channels (colour groups)")
        self.input_conv = MaskedConv2d(channels, features, first_kernel, "A", channels)
        self.lstm_layers = nn.ModuleList(RowLSTM(features, channels) for _ in range(layers))
        self.head = output_head(features, channels)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input_conv(x)
        for layer in self.lstm_layers:
            h = h + layer(h)  # residual connection between LSTM layers
        logits = self.head(h)
        assert logits.shape == x.shape
        return logits


def make_experiment(ctx: RunContext) -> BinaryAutoregressiveExperiment:
    config = ctx.settings(PixelRNNConfig, "pixelrnn")
    _, height, width = data_shape(ctx)  # 8x8 digits or 28x28 MNIST
    model = PixelRNN(
        channels=1,
        height=height,
        width=width,
        features=config.features,
        layers=config.layers,
        first_kernel=config.first_kernel,
    )
    return image_experiment(ctx, model, "PixelRNN (Row LSTM)", config)
