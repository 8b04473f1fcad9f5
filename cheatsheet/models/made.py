"""Masked Autoencoder for Distribution Estimation (Germain, Gregor, Murray & Larochelle, ICML 2015).

An autoencoder whose weights are masked so that output d only sees inputs earlier in an
ordering; its D outputs are then the conditionals of p(x) = prod_d p(x_d | x_<d) and the
"reconstruction" cross-entropy is the exact negative log-likelihood.

Masks from degrees (the paper's section 4):
    m^0(d) = position of dimension d in the ordering          in {1, ..., D}
    m^l(k) ~ Uniform{min_k' m^{l-1}(k'), ..., D - 1}           hidden unit k of layer l
    M^l[k, k'] = 1[m^l(k) >= m^{l-1}(k')]                      hidden layers (eq. 12)
    M^V[d, k]  = 1[m^0(d) >  m^L(k)]                           output layer (eq. 13, strict)
(registry `made-mask`) and every layer is h = g(F.linear(h, M * W, b)). The mask product
M^V M^L ... M^1 counts the paths from input j to output d; it is non-zero only where
m^0(j) < m^0(d): strictly lower-triangular in the ordering (tested).

Direct input-to-output connections (the paper's section 4): a D x D layer masked by
1[m^0(d) > m^0(j)], strictly lower-triangular in the ordering, adds a logistic autoregression
(an FVSBN) to the output logits: logits = M^V-layer(h^L) + (A * W_direct) x. It starts at zero
and has no bias of its own (tested: autograd Jacobian, every mask set).

Order-agnostic training draws a new ordering for each of `num_masks` mask sets and
connectivity-agnostic training new hidden degrees; training cycles through the sets (one per
step). The K sets define K autoregressive models, and the model evaluated is their uniform
mixture, p(x) = (1/K) sum_k p_k(x): log p(x) = logsumexp_k log p_k(x) - log K. Averaging the
K logit vectors instead would not be a normalised density (tested).

Sampling is sequential: D forward passes, each fixing the next dimension of the ordering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
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
class MADEConfig:
    hidden: int = param(512, "units in each of the two hidden layers")
    num_masks: int = param(16, "mask sets in the ensemble (order/connectivity agnostic training)")
    order_agnostic: bool = param(True, "resample the input order with each mask set")
    connectivity_agnostic: bool = param(True, "resample the hidden degrees with each mask set")
    order: str = param("raster", "input order when not order-agnostic: raster or random")
    lr: float = param(3e-3, "Adam learning rate")
    batch_size: int = param(128, "digits per step")
    weight_decay: float = param(0.0, "Adam weight decay")
    direct: bool = param(
        True, "direct input-to-output connections through a strictly autoregressive mask"
    )
    bias_init: bool = param(
        True, "start each output bias at the training pixels' log-odds (else PyTorch's init)"
    )
    samples: int = param(64, "samples drawn for samples.png")


class MaskedLinear(nn.Linear):
    """A linear layer with K alternative binary masks on its weight; `mask_index` picks one."""

    def __init__(self, in_features: int, out_features: int, masks: torch.Tensor, bias: bool = True):
        super().__init__(in_features, out_features, bias=bias)
        self.register_buffer("masks", masks.float())  # (K, out, in)
        self.mask_index = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.masks[self.mask_index] * self.weight, self.bias)


def made_degrees(
    dims: int,
    hidden_sizes: tuple[int, ...],
    ordering: torch.Tensor,
    generator: torch.Generator,
) -> list[torch.Tensor]:
    """[m^0, m^1, ..., m^L]: input degrees from the ordering, hidden degrees sampled."""
    input_degrees = torch.empty(dims, dtype=torch.long)
    input_degrees[ordering] = torch.arange(1, dims + 1)  # ordering[k] is generated k-th
    degrees = [input_degrees]
    for size in hidden_sizes:
        low = int(degrees[-1].min())
        # randint's upper bound is exclusive: degrees in {low, ..., D-1}. A unit of degree D
        # could only feed outputs with m^0 > D, i.e. none, so the paper stops at D-1.
        high = max(low, dims - 1)
        degrees.append(torch.randint(low, high + 1, (size,), generator=generator))
    return degrees


def made_masks(degrees: list[torch.Tensor]) -> list[torch.Tensor]:
    """Hidden masks m^l(k) >= m^{l-1}(k'), then the strict output mask m^0(d) > m^L(k)."""
    masks = [
        (later[:, None] >= earlier[None, :]).float()
        for earlier, later in zip(degrees[:-1], degrees[1:])
    ]
    masks.append((degrees[0][:, None] > degrees[-1][None, :]).float())
    return masks


class MADE(nn.Module):
    def __init__(
        self,
        dims: int,
        hidden_sizes: tuple[int, ...] = (256, 256),
        num_masks: int = 1,
        order_agnostic: bool = False,
        connectivity_agnostic: bool = False,
        order: str = "raster",
        seed: int = 0,
        direct: bool = False,
    ):
        super().__init__()
        if num_masks > 1 and not (order_agnostic or connectivity_agnostic):
            raise ValueError("num_masks > 1 needs order_agnostic or connectivity_agnostic")
        self.dims, self.num_masks = dims, num_masks
        generator = torch.Generator().manual_seed(seed)
        if order == "raster":
            base_ordering = torch.arange(dims)
        elif order == "random":
            base_ordering = torch.randperm(dims, generator=generator)
        else:
            raise ValueError(f"order must be 'raster' or 'random', not {order!r}")
        orderings, mask_sets = [], []
        base_degrees = made_degrees(dims, hidden_sizes, base_ordering, generator)
        for k in range(num_masks):
            ordering = base_ordering
            if order_agnostic and k > 0:
                ordering = torch.randperm(dims, generator=generator)
            degrees = base_degrees
            if (connectivity_agnostic and k > 0) or ordering is not base_ordering:
                degrees = made_degrees(dims, hidden_sizes, ordering, generator)
            orderings.append(ordering)
            mask_sets.append(made_masks(degrees))
        self.register_buffer("orderings", torch.stack(orderings))  # (K, D)
        sizes = (dims, *hidden_sizes, dims)
        self.layers = nn.ModuleList(
            MaskedLinear(n_in, n_out, torch.stack([masks[layer] for masks in mask_sets]))
            for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))
        )
        # The paper's direct input-to-output connections (section 4): a D x D layer masked by
        # 1[m^0(d) > m^0(j)], strictly lower-triangular in each ordering, added to the output
        # logits; with it MADE contains FVSBN (the logistic autoregression) as a special case.
        self.direct = None
        if direct:
            direct_masks = []
            for ordering in orderings:
                position = torch.empty(dims, dtype=torch.long)
                position[ordering] = torch.arange(dims)
                direct_masks.append(position[:, None] > position[None, :])
            # No bias of its own (the output layer has one); starts at 0, i.e. at plain MADE.
            self.direct = MaskedLinear(dims, dims, torch.stack(direct_masks), bias=False)
            nn.init.zeros_(self.direct.weight)

    def set_mask(self, k: int) -> None:
        for layer in self.masked_layers():
            layer.mask_index = k % self.num_masks

    def masked_layers(self) -> list[MaskedLinear]:
        return [*self.layers, *([self.direct] if self.direct is not None else [])]

    @property
    def mask_index(self) -> int:
        return self.layers[0].mask_index

    def connectivity(self, k: int = 0) -> torch.Tensor:
        """M^V M^L ... M^1 (D x D): the number of paths from input j to output d."""
        product = self.layers[0].masks[k]
        for layer in self.layers[1:]:
            product = layer.masks[k] @ product
        return product

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D) -> (B, D) logits of the current mask set's conditionals."""
        h = x
        for layer in self.layers[:-1]:
            h = F.relu(layer(h))
        out = self.layers[-1](h)
        if self.direct is not None:
            out = out + self.direct(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """log p_k(x) in nats under the current mask set k (training uses one set a step)."""
        return bernoulli_log_prob(self.logits(x), x)

    def log_prob_mixture(self, x: torch.Tensor) -> torch.Tensor:
        """log (1/K) sum_k p_k(x): logsumexp over the K mask sets' log-likelihoods."""
        current = self.mask_index
        per_mask = []
        for k in range(self.num_masks):
            self.set_mask(k)
            per_mask.append(self(x))
        self.set_mask(current)
        return torch.logsumexp(torch.stack(per_mask), dim=0) - math.log(self.num_masks)

    @torch.no_grad()
    def sample_with_mask(self, n: int, k: int) -> torch.Tensor:
        current = self.mask_index
        self.set_mask(k)
        x = self.layers[0].weight.new_zeros(n, self.dims)
        for d in self.orderings[k].tolist():  # D forward passes
            x[:, d] = torch.bernoulli(torch.sigmoid(self.logits(x)[:, d]))
        self.set_mask(current)
        return x

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """Samples of the mixture: a uniformly drawn mask set per example, then its chain."""
        component = torch.randint(self.num_masks, (n,))
        x = self.layers[0].weight.new_zeros(n, self.dims)
        for k in range(self.num_masks):
            chosen = (component == k).nonzero().flatten()
            if len(chosen):
                x[chosen.to(x.device)] = self.sample_with_mask(len(chosen), k)
        return x


class MADEExperiment(BinaryAutoregressiveExperiment):
    def init_output_bias(self) -> None:
        """Output biases at the logit of each pixel's training frequency (add-one smoothed):
        the untrained model starts at the independent-Bernoulli fit, as NADE's does."""
        x = self.train_x
        p = (x.sum(0) + 1) / (len(x) + 2)
        with torch.no_grad():
            self.model.layers[-1].bias.copy_(torch.log(p) - torch.log1p(-p))

    def before_step(self, step: int) -> None:
        self.model.set_mask(step)  # cycle through the mask sets, the same on every rank

    @torch.no_grad()
    def test_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.model.log_prob_mixture(chunk) for chunk in x.split(256)])


def make_experiment(ctx: RunContext) -> MADEExperiment:
    # Defaults: the paper's best binarised-MNIST setting in spirit, an ensemble of mask sets
    # with both orderings and connectivity resampled; on 1437 training digits a single mask
    # set overfits (test NLL about 2 nats worse), the ensemble regularises.
    config = ctx.settings(MADEConfig, "made")
    hidden = config.hidden
    model = build_or_explain(
        MADE,
        dims=data_dims(ctx),
        hidden_sizes=(hidden, hidden),
        num_masks=config.num_masks,
        order_agnostic=config.order_agnostic,
        connectivity_agnostic=config.connectivity_agnostic,
        order=config.order,
        seed=ctx.seed,
        direct=config.direct,
    )
    experiment = MADEExperiment(
        ctx,
        model,
        title="MADE",
        flatten=True,
        learning_rate=config.lr,
        batch_size=config.batch_size,
        weight_decay=config.weight_decay,
        figure_samples=config.samples,
    )
    if config.bias_init:
        experiment.init_output_bias()
    return experiment
