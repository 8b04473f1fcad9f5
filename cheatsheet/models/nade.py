"""Neural Autoregressive Distribution Estimator (Larochelle & Murray, AISTATS 2011).

FVSBN with a hidden layer whose weights are shared across the D conditionals (the sheet's
notation; registry `nade-conditionals`, chain rule `autoregressive-factorisation`):

    h_d     = sigmoid(b + W[:, <d] x_<d)              (H hidden units, W is H x D)
    x_hat_d = p(x_d = 1 | x_<d) = sigmoid(c_d + V[d] . h_d)

Sharing W gives the O(DH) recursion a_1 = b, a_{d+1} = a_d + W[:, d] x_d, h_d = sigmoid(a_d),
so the whole likelihood costs one pass (the paper's eq. 7). Training feeds the ground truth
x_<d to every conditional ("teacher forcing"); sampling feeds back its own draws, D steps.
The order of x is arbitrary but fixed: `order="raster"` (default) or `"random"` (a fixed
permutation drawn at construction, stored as a buffer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cheatsheet.models.autoregressive_common import (
    BinaryAutoregressiveExperiment,
    bernoulli_log_prob,
    build_or_explain,
    data_dims,
)
from cheatsheet.runs.config import param
from cheatsheet.runs.protocol import RunContext


@dataclass
class NADEConfig:
    hidden: int = param(128, "hidden units H of h_i = sigmoid(b + W_<i x_<i)")
    order: str = param("raster", "pixel order: raster or random (fixed per run)")
    lr: float = param(5e-3, "Adam learning rate")
    batch_size: int = param(128, "digits per step")
    samples: int = param(64, "samples drawn for samples.png")


class NADE(nn.Module):
    def __init__(self, dims: int, hidden: int, order: str = "raster", seed: int = 0):
        super().__init__()
        self.dims, self.hidden = dims, hidden
        self.W = nn.Parameter(torch.randn(hidden, dims) * dims**-0.5)
        self.b = nn.Parameter(torch.zeros(hidden))  # hidden bias
        self.V = nn.Parameter(torch.randn(dims, hidden) * hidden**-0.5)
        self.c = nn.Parameter(torch.zeros(dims))  # output bias, one per conditional
        if order == "raster":
            permutation = torch.arange(dims)
        elif order == "random":
            permutation = torch.randperm(dims, generator=torch.Generator().manual_seed(seed))
        else:
            raise ValueError(f"order must be 'raster' or 'random', not {order!r}")
        # permutation[k] = the dimension generated k-th.
        self.register_buffer("permutation", permutation)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D) -> (B, D): the logit of x_d given the dimensions before d in the order."""
        x_ordered = x[:, self.permutation]  # (B, D) in generation order
        W_ordered = self.W[:, self.permutation]  # (H, D)
        contributions = x_ordered.unsqueeze(2) * W_ordered.T.unsqueeze(0)  # (B, D, H)
        # a_k = b + sum_{j<k} W[:, j] x_j: an exclusive cumulative sum over the order.
        a = self.b + contributions.cumsum(1) - contributions
        h = torch.sigmoid(a)  # (B, D, H)
        logits_ordered = self.c[self.permutation] + (h * self.V[self.permutation]).sum(2)
        logits = torch.empty_like(logits_ordered)
        logits[:, self.permutation] = logits_ordered
        return logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, one per example."""
        return bernoulli_log_prob(self.logits(x), x)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        x = self.c.new_zeros(n, self.dims)
        a = self.b.expand(n, self.hidden).clone()
        for d in self.permutation.tolist():  # the O(DH) recursion, one dimension at a time
            h = torch.sigmoid(a)
            probability = torch.sigmoid(self.c[d] + h @ self.V[d])
            x[:, d] = torch.bernoulli(probability)
            a = a + x[:, d : d + 1] * self.W[:, d]
        return x


def make_experiment(ctx: RunContext) -> BinaryAutoregressiveExperiment:
    config = ctx.settings(NADEConfig, "nade")
    model = build_or_explain(
        NADE,
        dims=data_dims(ctx),
        hidden=config.hidden,
        order=config.order,
        seed=ctx.seed,
    )
    return BinaryAutoregressiveExperiment(
        ctx,
        model,
        title="NADE",
        flatten=True,
        learning_rate=config.lr,
        batch_size=config.batch_size,
        figure_samples=config.samples,
    )
