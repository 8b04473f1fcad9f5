"""A small convolutional classifier on the 8x8 digits (sheet section 11; LeCun et al. 1998,
LeNet): two conv-ReLU-maxpool stages and a linear head.

    (N, 1, 8, 8) -conv3x3,pad1-> (N, 16, 8, 8) -pool2-> (N, 16, 4, 4)
                 -conv3x3,pad1-> (N, 32, 4, 4) -pool2-> (N, 32, 2, 2) -> 128 -> 64 -> 10

Each spatial size follows the sheet's formula (formula `conv-output-size`):
    out = floor((in + 2 pad - dil (kern - 1) - 1) / stride) + 1,
asserted in `forward`. Convolutions are shift-equivariant and the pooling makes the features
locally shift-invariant; the tests check the first property directly. Training is shared with
the MLP (`ClassifierExperiment`: minibatch cross-entropy with the sheet's Adam).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cheatsheet.models.mlp import ClassifierExperiment


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:  # fmt: skip
    """floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1 (conv-output-size)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class CNN(nn.Module):
    def __init__(self, channels: tuple[int, int] = (16, 32), hidden: int = 64, classes: int = 10,
                 image_size: int = 8):  # fmt: skip
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        size = image_size
        for layer in self.features:
            if isinstance(layer, nn.Conv2d | nn.MaxPool2d):
                kernel = _first(layer.kernel_size)
                stride, padding = _first(layer.stride), _first(layer.padding)
                size = conv_output_size(size, kernel, stride, padding)
        self.feature_shape = (c2, size, size)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * size * size, hidden), nn.ReLU(), nn.Linear(hidden, classes)
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.features(images)
        assert features.shape[1:] == self.feature_shape, (features.shape, self.feature_shape)
        return self.head(features)


def _first(value: Any) -> int:
    return value[0] if isinstance(value, tuple) else value


def make_experiment(context: Any) -> ClassifierExperiment:
    torch.manual_seed(context.seed)
    return ClassifierExperiment(context, CNN(), "CNN")
