"""VQ-VAE: "Neural Discrete Representation Learning" (van den Oord, Vinyals & Kavukcuoglu,
NeurIPS 2017), with a PixelCNN prior over its codes (van den Oord et al. 2016), as in the paper.

Encoder         z_e(x) in R^{D x h x w}: one D-vector per cell of a coarse grid.
Quantisation    k(i) = argmin_j || z_e(x)_i - e_j ||_2,  z_q(x)_i = e_{k(i)}  (codebook e_1..e_K)
Decoder         p(x | z_q) = Bernoulli(sigmoid(decoder(z_q)))       (binary digits)
Straight-through the argmin has no gradient: the decoder's input gradient is copied to the
                encoder, z_q = z_e + sg[e - z_e] (forward: e; backward: identity).
Loss (eq. 3)    L = -log p(x | z_q(x)) + || sg[z_e(x)] - e ||^2 + beta || z_e(x) - sg[e] ||^2
                    (reconstruction)     (codebook: moves e)   (commitment: moves the encoder)
                with beta = 0.25 as in the paper.
Prior           trained after the VQ-VAE (two stages, as in the paper) on the codes of the
                training set: p(k) = prod_i p(k_i | k_<i) in raster order, a PixelCNN with a
                mask-A convolution wide enough (2 * grid - 1) to see every earlier cell of the
                small code grid, then mask-B layers. Samples: k ~ p(k), then decode e_k.
Likelihood      q(k | x) is one-hot, so KL(q || p_prior) = -log p_prior(k(x)) and
                -log p(x) <= -log p(x | z_q(x)) - log p_prior(k(x))  (the reported bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.runs.config import param


@dataclass
class VQVAEConfig:
    num_codes: int = param(64, "codebook size K")
    code_dim: int = param(16, "dimension of each code vector")
    hidden: int = param(32, "channels of encoder and decoder")
    beta: float = param(0.25, "commitment weight of ||z_e - sg[e]||^2")
    halvings: int = param(2, "stride-2 downsamplings of the encoder")
    prior_channels: int = param(32, "channels of the PixelCNN prior over codes")
    prior_dropout: float = param(0.0, "dropout in the prior")
    lr: float = param(1e-3, "Adam learning rate (both stages)")
    batch_size: int = param(128, "images per step")
    vq_steps: int | None = param(None, "steps of stage 1 (None: 60% of --steps), then the prior")


class VectorQuantizer(nn.Module):
    def __init__(self, num_codes: int = 32, code_dim: int = 16):
        super().__init__()
        self.codebook = nn.Embedding(num_codes, code_dim)  # e_j, one row per code
        self.codebook.weight.data.uniform_(-1 / num_codes, 1 / num_codes)
        self.register_buffer("initialised", torch.tensor(False))

    @torch.no_grad()
    def init_from(self, z_e: torch.Tensor) -> None:
        """Data-dependent init: codes start on randomly chosen encoder outputs, so none starts
        dead far from the data. Under DDP rank 0's choice is broadcast (ranks must agree)."""
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])
        index = torch.randint(len(flat), (self.codebook.num_embeddings,), device=flat.device)
        self.codebook.weight.data.copy_(flat[index])
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.broadcast(self.codebook.weight.data, src=0)
        self.initialised.fill_(True)

    def nearest_codes(self, z_e: torch.Tensor) -> torch.Tensor:
        """k(i) = argmin_j ||z_e_i - e_j||^2 for z_e (B, D, h, w) -> codes (B, h, w)."""
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])
        codebook = self.codebook.weight
        # ||a - e||^2 = ||a||^2 - 2 a.e + ||e||^2 (no (N, K, D) tensor)
        distances = (
            flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.T + codebook.pow(2).sum(1)
        )
        return distances.argmin(1).reshape(z_e.shape[0], *z_e.shape[2:])

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """e_k for codes (B, h, w) -> (B, D, h, w)."""
        return self.codebook(codes).permute(0, 3, 1, 2)

    def forward(self, z_e: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.training and not bool(self.initialised):
            self.init_from(z_e)
        codes = self.nearest_codes(z_e)
        e = self.embed(codes)
        per_example = tuple(range(1, z_e.dim()))
        codebook_loss = (z_e.detach() - e).pow(2).sum(per_example)  # ||sg[z_e] - e||^2
        commitment_loss = (z_e - e.detach()).pow(2).sum(per_example)  # ||z_e - sg[e]||^2
        z_q = z_e + (e - z_e).detach()  # straight-through estimator
        return {
            "z_q": z_q,
            "codes": codes,
            "codebook_loss": codebook_loss,
            "commitment_loss": commitment_loss,
        }


class VQVAE(nn.Module):
    """Conv encoder H x W -> (H / 2^halvings) x (W / 2^halvings) grid of D-vectors, vector
    quantiser, conv decoder back to H x W."""

    def __init__(
        self,
        in_channels: int = 1,
        num_codes: int = 32,
        code_dim: int = 16,
        hidden: int = 64,
        beta: float = 0.25,
        likelihood: str = "bernoulli",
        halvings: int = 1,
    ):
        super().__init__()
        self.beta = beta
        self.likelihood = likelihood
        self.downsample = 2**halvings
        down: list[nn.Module] = []
        up: list[nn.Module] = []
        for i in range(halvings):  # each stride-2 conv halves H and W; each transposed doubles
            down += [nn.Conv2d(in_channels if i == 0 else hidden, hidden, 4, 2, 1), nn.ReLU()]
            up += [nn.ConvTranspose2d(hidden, hidden, 4, 2, 1), nn.ReLU()]
        self.encoder = nn.Sequential(
            *down,
            nn.Conv2d(hidden, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden, code_dim, 1),
        )
        self.quantizer = VectorQuantizer(num_codes, code_dim)
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, hidden, 3, padding=1),
            nn.ReLU(),
            *up,
            nn.Conv2d(hidden, in_channels, 3, padding=1),
        )

    def log_likelihood(self, x: torch.Tensor, decoded: torch.Tensor) -> torch.Tensor:
        """log p(x | z_q) per example: Bernoulli from logits, or unit-variance Gaussian."""
        if self.likelihood == "bernoulli":
            log_p = -F.binary_cross_entropy_with_logits(decoded, x, reduction="none")
        else:
            log_p = -0.5 * (x - decoded) ** 2 - 0.5 * math.log(2 * math.pi)
        return log_p.flatten(1).sum(1)

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        quantised = self.quantizer(self.encoder(x))
        decoded = self.decoder(quantised["z_q"])
        return {**quantised, "decoded": decoded, "log_likelihood": self.log_likelihood(x, decoded)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of eq. (3): reconstruction + codebook + beta * commitment."""
        t = self.terms(x)
        loss = -t["log_likelihood"] + t["codebook_loss"] + self.beta * t["commitment_loss"]
        return loss.mean()

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The discrete codes k(x), (B, h, w)."""
        return self.quantizer.nearest_codes(self.encoder(x))

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Decoder output (Bernoulli logits) for codes (B, h, w)."""
        return self.decoder(self.quantizer.embed(codes))


class MaskedConv2d(nn.Conv2d):
    """A convolution that only sees cells before the centre in raster order. Mask A also hides
    the centre (first layer: k_i must not see itself); mask B keeps it (later layers)."""

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        centre = kernel_size // 2
        mask = torch.ones(kernel_size, kernel_size)
        mask[centre, centre + (1 if mask_type == "B" else 0) :] = 0  # the centre row, right part
        mask[centre + 1 :] = 0  # every row below
        self.register_buffer("mask", mask[None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class CodePrior(nn.Module):
    """PixelCNN over the code grid: logits (B, K, h, w) of p(k_i | k_<i)."""

    def __init__(
        self,
        num_codes: int,
        grid: tuple[int, int] = (4, 4),
        channels: int = 32,
        layers: int = 2,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.num_codes = num_codes
        self.grid = tuple(grid)
        self.embedding = nn.Embedding(num_codes, channels)
        # 2 * max(h, w) - 1 covers every earlier cell of the grid: no blind spot on this grid.
        self.input_conv = MaskedConv2d("A", channels, channels, 2 * max(self.grid) - 1)
        self.hidden = nn.ModuleList(MaskedConv2d("B", channels, channels, 3) for _ in range(layers))
        # Dropout: ~1.4k training grids are few for a prior; without it, it memorises them.
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Conv2d(channels, num_codes, 1)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.input_conv(self.embedding(codes).permute(0, 3, 1, 2)))
        for layer in self.hidden:
            h = h + self.dropout(F.relu(layer(h)))  # residual mask-B layers
        return self.output(h)

    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(k) = sum_i log p(k_i | k_<i) per example."""
        return -F.cross_entropy(self(codes), codes, reduction="none").flatten(1).sum(1)

    @torch.no_grad()
    def sample(self, n: int, device: Any = None) -> torch.Tensor:
        """Ancestral sampling in raster order, one cell at a time."""
        device = device or next(self.parameters()).device
        codes = torch.zeros(n, *self.grid, dtype=torch.long, device=device)
        for i in range(self.grid[0]):
            for j in range(self.grid[1]):
                probabilities = F.softmax(self(codes)[:, :, i, j], dim=1)
                codes[:, i, j] = torch.multinomial(probabilities, 1)[:, 0]
        return codes


# --------------------------------------------------------------------------------------------
# The run: `cheatsheet run vqvae` (stage 1: VQ-VAE; stage 2: the prior over frozen codes)


class VQVAEExperiment:
    def __init__(self, ctx: Any):
        from cheatsheet import datasets

        self.ctx = ctx
        config = ctx.settings(VQVAEConfig, "vqvae")
        split = datasets.load(ctx.data, seed=ctx.seed)
        self.binary = split.discrete_levels == 2
        self.train_x = split.train.to(ctx.device)
        self.test_x = split.test.to(ctx.device)
        num_codes = config.num_codes
        self.model = VQVAE(
            in_channels=split.shape[0],
            num_codes=num_codes,
            code_dim=config.code_dim,
            hidden=config.hidden,
            beta=config.beta,
            likelihood="bernoulli" if self.binary else "gaussian",
            halvings=config.halvings,
        ).to(ctx.device)
        grid = (split.shape[1] // self.model.downsample, split.shape[2] // self.model.downsample)
        self.prior = CodePrior(
            num_codes,
            grid,
            channels=config.prior_channels,
            dropout=config.prior_dropout,
        )
        self.prior.to(ctx.device)
        self.wrapped_model = ctx.wrap(self.model)
        self.wrapped_prior = ctx.wrap(self.prior)
        lr = config.lr
        self.model_optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.prior_optimizer = torch.optim.Adam(self.prior.parameters(), lr=lr)
        self.batch_size = config.batch_size
        # Stage 1 (VQ-VAE) for the first 60% of the steps, then stage 2 (the prior).
        self.vq_steps = config.vq_steps or max(1, int(0.6 * ctx.steps))
        self._train_codes: torch.Tensor | None = None

    def modules(self) -> dict[str, Any]:
        return {"vqvae": self.wrapped_model, "prior": self.wrapped_prior}

    def optimizers(self) -> dict[str, Any]:
        return {"vqvae": self.model_optimizer, "prior": self.prior_optimizer}

    def _batch_index(self) -> torch.Tensor:
        # Drawn on the data's device (the global generator there): no per-batch host copy.
        return torch.randint(len(self.train_x), (self.batch_size,), device=self.train_x.device)

    def train_codes(self) -> torch.Tensor:
        """The frozen encoder's codes of the training set (recomputed, e.g. after --resume)."""
        if self._train_codes is None:
            self.model.eval()
            self._train_codes = torch.cat([self.model.encode(b) for b in self.train_x.split(512)])
            self.model.train()
        return self._train_codes

    def train_step(self, step: int) -> dict[str, float]:
        index = self._batch_index()
        if step < self.vq_steps:
            loss = self.wrapped_model(self.train_x[index])
            optimizer = self.model_optimizer
        else:
            codes = self.train_codes()[index]
            logits = self.wrapped_prior(codes)  # forward through DDP when wrapped
            loss = F.cross_entropy(logits, codes, reduction="none").flatten(1).sum(1).mean()
            optimizer = self.prior_optimizer
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": loss.item(), "stage": 1.0 if step < self.vq_steps else 2.0}

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        self.model.eval()
        self.prior.eval()
        terms = [self.model.terms(b) for b in self.test_x.split(256)]
        reconstruction_nll = -torch.cat([t["log_likelihood"] for t in terms])
        codes = torch.cat([t["codes"] for t in terms])
        prior_nll = -torch.cat([self.prior.log_prob(c) for c in codes.split(256)])
        usage = torch.bincount(codes.flatten(), minlength=self.prior.num_codes).double()
        usage = usage / usage.sum()
        entropy = -(usage[usage > 0] * usage[usage > 0].log()).sum().item()
        bound = (reconstruction_nll + prior_nll).mean().item()
        dims = self.test_x[0].numel()
        metrics: dict[str, Any] = {
            "test_reconstruction_nll_nats": reconstruction_nll.mean().item(),
            "test_prior_nll_nats": prior_nll.mean().item(),
            "codebook_perplexity": math.exp(entropy),
            "codes_used": int((usage > 0).sum().item()),
            "num_codes": self.prior.num_codes,
            "vq_steps": self.vq_steps,
        }
        if self.binary:
            metrics["test_nll_nats"] = bound  # an upper bound (one-hot q), see the docstring
            metrics["bits_per_dim"] = bound / (dims * math.log(2))
            metrics["measure"] = "upper bound -log p(x|z_q(x)) - log p_prior(k(x))"
        self.model.train()
        self.prior.train()
        return metrics

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        self.model.eval()
        self.prior.eval()
        decoded = self.model.decode(self.prior.sample(64))
        samples = torch.sigmoid(decoded) if self.binary else decoded.clamp(0, 1)
        paths = [
            save_image_grid(
                samples, Path(out_dir) / "samples.png", "VQ-VAE: k ~ PixelCNN prior, E[x | e_k]", 8
            )
        ]
        x = self.test_x[:32]
        recon = self.model.decode(self.model.encode(x))
        recon = torch.sigmoid(recon) if self.binary else recon.clamp(0, 1)
        pairs = torch.stack([x, recon], dim=1).flatten(0, 1)
        paths.append(
            save_image_grid(pairs, Path(out_dir) / "reconstructions.png", "x | E[x | z_q(x)]", 8)
        )
        self.model.train()
        self.prior.train()
        return paths


def make_experiment(ctx: Any) -> VQVAEExperiment:
    return VQVAEExperiment(ctx)
