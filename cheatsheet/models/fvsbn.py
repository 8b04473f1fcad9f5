"""Fully Visible Sigmoid Belief Network (Frey 1998; Gan et al. 2015, "Learning deep sigmoid
belief networks with data augmentation").

The chain rule with a logistic regression per conditional, in a fixed order x_1, ..., x_D:

    p(x) = prod_d p(x_d | x_<d),    p(x_d = 1 | x_<d) = sigmoid(alpha_0^(d) + alpha^(d) . x_<d)

All D regressions at once: logits = b + (W * L) x with L the strictly lower-triangular mask
(L[d, j] = 1 iff j < d), i.e. O(D^2) parameters and a linear model. The sheet writes the
regression on x_<i; d indexes the dimension being predicted.

Registry: `fvsbn-conditional` (the logistic conditionals), `autoregressive-factorisation`
(the chain rule), `bits-per-dim` (the reported metric). Training maximises the exact
log-likelihood; sampling runs the chain: D forward passes, each drawing one more dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cheatsheet.models.autoregressive_common import (
    BinaryAutoregressiveExperiment,
    bernoulli_log_prob,
    data_dims,
)
from cheatsheet.runs.config import param
from cheatsheet.runs.protocol import RunContext


@dataclass
class FVSBNConfig:
    lr: float = param(1e-2, "Adam learning rate")
    batch_size: int = param(128, "digits per step")
    samples: int = param(64, "samples drawn for samples.png")


class FVSBN(nn.Module):
    def __init__(self, dims: int):
        super().__init__()
        self.dims = dims
        self.weight = nn.Parameter(torch.zeros(dims, dims))  # alpha^(d) in row d
        self.bias = nn.Parameter(torch.zeros(dims))  # alpha_0^(d)
        # L[d, j] = 1 iff j < d: the regression for x_d sees only x_1 .. x_{d-1}.
        self.register_buffer("mask", torch.tril(torch.ones(dims, dims), diagonal=-1))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D) -> (B, D): logit_d = alpha_0^(d) + sum_{j<d} alpha^(d)_j x_j."""
        return x @ (self.weight * self.mask).T + self.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, one per example."""
        return bernoulli_log_prob(self.logits(x), x)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        x = self.bias.new_zeros(n, self.dims)
        for d in range(self.dims):
            probability = torch.sigmoid(self.logits(x)[:, d])
            x[:, d] = torch.bernoulli(probability)
        return x


def make_experiment(ctx: RunContext) -> BinaryAutoregressiveExperiment:
    config = ctx.settings(FVSBNConfig, "fvsbn")
    model = FVSBN(dims=data_dims(ctx))
    return BinaryAutoregressiveExperiment(
        ctx,
        model,
        title="FVSBN",
        flatten=True,
        learning_rate=config.lr,
        batch_size=config.batch_size,
        figure_samples=config.samples,
    )
