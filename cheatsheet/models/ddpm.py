"""DDPM: denoising diffusion probabilistic models, with epsilon prediction.

Ho, Jain, Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020; the cosine schedule
from Nichol & Dhariwal, "Improved Denoising Diffusion Probabilistic Models", ICML 2021.

Notation (t = 1..T; index 0 of every array below is "t = 0", clean data):
    alpha_t = 1 - beta_t,    alpha_bar_t = prod_{s <= t} alpha_s,    alpha_bar_0 = 1.

Forward process (fixed):
    q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I)
    q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)          (ddpm-forward-marginal)
    q(x_{t-1} | x_t, x_0) = N(mu_tilde_t, beta_tilde_t I) with
        mu_tilde_t = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
                     + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t
                                                                          (ddpm-posterior-mean)
        beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t  (ddpm-posterior-variance)

Reverse process (learned), epsilon parametrisation (paper eq. 11):
    mu_theta(x_t, t) = 1 / sqrt(alpha_t) (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta(x_t, t))
    p_theta(x_{t-1} | x_t) = N(mu_theta, sigma_t^2 I), sigma_t^2 = beta_t ("beta", the paper's
    and the sheet's choice) or beta_tilde_t ("posterior"; diffusers' "fixed_small").
The sheet prints 1 - alpha_t under the square root where 1 - alpha_BAR_t belongs (and
sqrt(alpha_t) x_0 in the training loss where sqrt(alpha_bar_t) x_0 belongs); the bars are right
here.

Training (Algorithm 1): x_0 ~ data, t ~ U{1..T}, eps ~ N(0, I),
    minimise || eps - eps_theta(sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, t) ||^2.
Sampling (Algorithm 2): x_T ~ N(0, I); for t = T..1: z ~ N(0, I) if t > 1 else z = 0,
    x_{t-1} = mu_theta(x_t, t) + sigma_t z       (no noise at the last step, t = 1).

Schedules: linear beta_1 = 1e-4 .. beta_T = 0.02, T = 1000 (the paper's); cosine
alpha_bar(t) = f(t) / f(0), f(t) = cos^2((t / T + s) / (1 + s) pi / 2), s = 0.008, with
beta_t = min(1 - alpha_bar_t / alpha_bar_{t-1}, 0.999).

The eps-network: a small U-Net (one down/up level, residual blocks, sinusoidal time embedding
added in every block) for 8x8 digits, an MLP with the same time embedding for vectors
(2D toy data, VAE latents). Both take an optional class label (used by guidance.py).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.runs.config import param


@dataclass
class DDPMConfig:
    schedule: str = param("linear", "beta schedule: linear (1e-4 to 0.02) or cosine")
    timesteps: int = param(1000, "diffusion steps T")
    variance: str = param("beta", "reverse variance sigma_t^2: beta or posterior (beta tilde)")
    base: int = param(16, "channels of the U-Net (images)")
    hidden: int = param(128, "units of the MLP eps-network (2-D points)")
    lr: float = param(2e-3, "Adam learning rate")
    eval_samples: int = param(200, "samples drawn for the energy distance")
    vlb_repeats: int = param(8, "Monte Carlo repeats of the variational bound (images)")


# --------------------------------------------------------------------------------------------
# Variance schedules (float64: alpha_bar_T of the linear schedule is ~4e-5)


def linear_betas(timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02):
    """beta_1..beta_T evenly spaced (Ho et al. 2020), as a float64 tensor of length T."""
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


def cosine_betas(timesteps: int = 1000, s: float = 0.008, max_beta: float = 0.999):
    """beta_t = 1 - alpha_bar(t) / alpha_bar(t - 1), alpha_bar(t) = f(t) / f(0) (Nichol &
    Dhariwal 2021, eq. 17), clipped at 0.999 to avoid the singularity at t = T."""
    steps = torch.arange(timesteps + 1, dtype=torch.float64)
    f = torch.cos((steps / timesteps + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return torch.clamp(1 - alpha_bar[1:] / alpha_bar[:-1], max=max_beta)


# --------------------------------------------------------------------------------------------
# The Gaussian diffusion: forward process, posterior, reverse step, loss, sampler, bound


class GaussianDiffusion:
    """Schedule arrays indexed by t = 0..T (entry 0: clean data, beta_0 = 0, alpha_bar_0 = 1)."""

    def __init__(self, betas: torch.Tensor, variance: str = "beta"):
        if variance not in ("beta", "posterior"):
            raise ValueError("variance is 'beta' (sigma_t^2 = beta_t) or 'posterior'")
        betas = torch.as_tensor(betas, dtype=torch.float64)
        self.timesteps = len(betas)
        self.variance = variance
        zero = torch.zeros(1, dtype=torch.float64)
        self.betas = torch.cat([zero, betas])
        self.alphas = 1 - self.betas
        self.alpha_bar = torch.cumprod(self.alphas, dim=0)
        alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])
        self.alpha_bar_prev = alpha_bar_prev
        # beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t; beta_tilde_1 = 0.
        safe = torch.where(self.alpha_bar < 1, 1 - self.alpha_bar, torch.ones_like(self.alpha_bar))
        self.posterior_variance = (1 - alpha_bar_prev) / safe * self.betas
        self.posterior_coef_x0 = alpha_bar_prev.sqrt() * self.betas / safe
        self.posterior_coef_xt = self.alphas.sqrt() * (1 - alpha_bar_prev) / safe
        self.sigma2 = self.betas if variance == "beta" else self.posterior_variance

    @classmethod
    def from_name(cls, schedule: str = "linear", timesteps: int = 1000, variance: str = "beta"):
        if schedule == "linear":
            return cls(linear_betas(timesteps), variance)
        if schedule == "cosine":
            return cls(cosine_betas(timesteps), variance)
        raise ValueError(f"unknown schedule '{schedule}' (linear, cosine)")

    @staticmethod
    def _at(array: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """array[t] per example, shaped to broadcast against `like`."""
        values = array.to(like.device)[t.to(like.device)].to(like.dtype)
        return values.view(-1, *([1] * (like.dim() - 1)))

    # forward process ----------------------------------------------------------------------
    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps   (ddpm-forward-marginal)."""
        alpha_bar = self._at(self.alpha_bar, t, x0)
        return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise

    def q_posterior(self, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor):
        """Mean and variance of q(x_{t-1} | x_t, x_0)  (ddpm-posterior-mean, -variance)."""
        mean = (
            self._at(self.posterior_coef_x0, t, xt) * x0
            + self._at(self.posterior_coef_xt, t, xt) * xt
        )
        return mean, self._at(self.posterior_variance, t, xt)

    # reverse process ----------------------------------------------------------------------
    def predict_x0(self, xt: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        alpha_bar = self._at(self.alpha_bar, t, xt)
        return (xt - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()

    def p_mean(self, xt: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """mu_theta = 1 / sqrt(alpha_t) (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta)."""
        alpha = self._at(self.alphas, t, xt)
        beta = self._at(self.betas, t, xt)
        alpha_bar = self._at(self.alpha_bar, t, xt)
        return (xt - beta / (1 - alpha_bar).sqrt() * eps) / alpha.sqrt()

    def p_step(
        self, xt: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """x_{t-1} = mu_theta + sigma_t z, with z = 0 where t = 1 (the last step is the mean)."""
        sigma = self._at(self.sigma2, t, xt).sqrt()
        last = (t == 1).to(xt.device).view(-1, *([1] * (xt.dim() - 1)))
        return self.p_mean(xt, t, eps) + torch.where(last, 0.0, sigma) * noise

    @torch.no_grad()
    def sample(self, eps_fn, shape: tuple[int, ...], device, generator=None) -> torch.Tensor:
        """Algorithm 2: ancestral sampling from x_T ~ N(0, I); eps_fn(x_t, t) -> eps."""
        x = torch.randn(shape, generator=generator).to(device)
        for step in range(self.timesteps, 0, -1):
            t = torch.full((shape[0],), step, dtype=torch.long)
            noise = torch.randn(shape, generator=generator).to(device)
            x = self.p_step(x, t, eps_fn(x, t.to(device)), noise)
        return x

    # training -----------------------------------------------------------------------------
    def loss(self, eps_fn, x0: torch.Tensor, generator=None, **kwargs) -> torch.Tensor:
        """Algorithm 1 (L_simple): || eps - eps_theta(x_t, t) ||^2, t ~ U{1..T}."""
        # Drawn where the generator lives (the run's device in training: no host copies).
        where = generator.device if generator is not None else x0.device
        t = torch.randint(1, self.timesteps + 1, (x0.shape[0],), generator=generator, device=where)
        noise = torch.randn(x0.shape, generator=generator, device=where).to(x0.device)
        xt = self.q_sample(x0, t, noise)
        return F.mse_loss(eps_fn(xt, t.to(x0.device), **kwargs), noise)

    # the variational bound ----------------------------------------------------------------
    @torch.no_grad()
    def bound_terms(self, eps_fn, x0: torch.Tensor, t: torch.Tensor, bin_width: float):
        """Per example: L_{t-1} = KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t)) for t >= 2, and
        L_0 = -log of the discretised Gaussian decoder N(mu_theta(x_1, 1), sigma_1^2) over the
        data's bins for t = 1 (paper eq. 13). In nats, summed over dimensions."""
        x0 = x0.double()
        noise = torch.randn_like(x0)
        xt = self.q_sample(x0, t, noise)
        eps = eps_fn(xt.float(), t.to(x0.device)).double()
        model_mean = self.p_mean(xt, t, eps)
        model_var = self._at(self.sigma2, t, xt)
        posterior_mean, posterior_var = self.q_posterior(x0, xt, t)
        kl = 0.5 * (
            torch.log(model_var / posterior_var.clamp_min(1e-30))
            + (posterior_var + (posterior_mean - model_mean) ** 2) / model_var
            - 1
        )
        decoder = -discretised_gaussian_log_likelihood(x0, model_mean, model_var, bin_width)
        first = (t == 1).to(x0.device).view(-1, *([1] * (x0.dim() - 1)))
        return torch.where(first, decoder, kl).flatten(1).sum(1)

    def prior_term(self, x0: torch.Tensor) -> torch.Tensor:
        """L_T = KL(q(x_T | x_0) || N(0, I)) per example (no parameters; ~0 for a good T)."""
        x0 = x0.double()
        alpha_bar = self.alpha_bar[-1].to(x0.device)
        mean, var = alpha_bar.sqrt() * x0, 1 - alpha_bar
        return (0.5 * (var + mean**2 - 1 - torch.log(var))).flatten(1).sum(1)


def discretised_gaussian_log_likelihood(x, mean, variance, bin_width: float) -> torch.Tensor:
    """log of the N(mean, variance) mass of the bin [x - w/2, x + w/2] around each value of
    data in [-1, 1]; the edge bins extend to -inf / +inf (Ho et al. 2020, eq. 13)."""
    std = variance.sqrt()
    normal = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    upper = normal.cdf((x + bin_width / 2 - mean) / std)
    lower = normal.cdf((x - bin_width / 2 - mean) / std)
    upper = torch.where(x > 1 - bin_width / 2, torch.ones_like(upper), upper)
    lower = torch.where(x < -1 + bin_width / 2, torch.zeros_like(lower), lower)
    return torch.log((upper - lower).clamp_min(1e-12))


# --------------------------------------------------------------------------------------------
# Epsilon networks


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Transformer sinusoidal position embedding of the timestep (DDPM, appendix B)."""
    half = dim // 2
    frequencies = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    angles = t.float()[:, None] * frequencies[None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class ConditioningEmbedding(nn.Module):
    """emb(t) (+ emb(label)): label index `num_classes` is the null label (classifier-free)."""

    def __init__(self, dim: int, num_classes: int | None = None):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.num_classes = num_classes
        self.label = nn.Embedding(num_classes + 1, dim) if num_classes else None

    def forward(self, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        embedding = self.mlp(timestep_embedding(t, self.dim))
        if self.label is not None:
            if labels is None:  # no label = the null label: the unconditional model
                labels = torch.full_like(t, self.num_classes)
            embedding = embedding + self.label(labels)
        return embedding


class ResBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, embedding_dim: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.embedding = nn.Linear(embedding_dim, out_channels)
        self.norm2 = nn.GroupNorm(8, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = (
            nn.Conv2d(in_channels, out_channels, 1)
            if in_channels != out_channels
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.embedding(F.silu(embedding))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNetEpsNet(nn.Module):
    """A small U-Net for S x S images (S even: 8 or 28): S (c) -> S/2 (2c) -> S, skip at S."""

    def __init__(self, channels: int = 1, base: int = 32, num_classes: int | None = None):
        super().__init__()
        embedding_dim = 4 * base
        self.embed = ConditioningEmbedding(embedding_dim, num_classes)
        self.conv_in = nn.Conv2d(channels, base, 3, padding=1)
        self.down_block = ResBlock(base, base, embedding_dim)
        self.downsample = nn.Conv2d(base, 2 * base, 3, stride=2, padding=1)
        self.mid_block1 = ResBlock(2 * base, 2 * base, embedding_dim)
        self.mid_block2 = ResBlock(2 * base, 2 * base, embedding_dim)
        self.upsample = nn.ConvTranspose2d(2 * base, base, 4, stride=2, padding=1)
        self.up_block = ResBlock(2 * base, base, embedding_dim)
        self.norm_out = nn.GroupNorm(8, base)
        self.conv_out = nn.Conv2d(base, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels=None) -> torch.Tensor:
        embedding = self.embed(t, labels)
        h = self.down_block(self.conv_in(x), embedding)
        skip = h
        h = self.downsample(h)
        h = self.mid_block2(self.mid_block1(h, embedding), embedding)
        h = self.upsample(h)
        h = self.up_block(torch.cat([h, skip], dim=1), embedding)
        out = self.conv_out(F.silu(self.norm_out(h)))
        assert out.shape == x.shape  # eps has the shape of x
        return out


class MLPEpsNet(nn.Module):
    """eps_theta for vectors: residual MLP blocks, each adding the conditioning embedding."""

    def __init__(self, dim: int, hidden: int = 128, blocks: int = 3, num_classes=None):
        super().__init__()
        self.embed = ConditioningEmbedding(hidden, num_classes)
        self.input = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
            )
            for _ in range(blocks)
        )
        self.output = nn.Sequential(nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels=None) -> torch.Tensor:
        embedding = self.embed(t, labels)
        h = self.input(x)
        for block in self.blocks:
            h = h + block(h + embedding)
        return self.output(h)


# --------------------------------------------------------------------------------------------
# The experiment: `cheatsheet run ddpm`


@dataclass
class DiffusionExperiment:
    """DDPM training (L_simple, Adam, EMA of the weights as in the paper) on data in [-1, 1]
    (digits: 2x - 1) or on raw 2D points; sampling and evaluation use the EMA weights."""

    ctx: Any
    eps_net: nn.Module
    diffusion: GaussianDiffusion
    train: torch.Tensor  # already in model space
    test: torch.Tensor
    image_data: bool
    train_labels: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    batch_size: int = 128
    lr: float = 2e-3
    ema_decay: float = 0.995
    name: str = "DDPM"
    eval_samples: int = 200
    vlb_repeats: int = 8
    levels: int = 17  # grey levels of the image data: 17 (8x8 digits) or 256 (MNIST)
    ema: nn.Module = field(init=False)
    optimizer: torch.optim.Optimizer = field(init=False)
    generator: torch.Generator = field(init=False)

    def __post_init__(self):
        self.ema = copy.deepcopy(self.eps_net).requires_grad_(False)
        self.train_net = self.ctx.wrap(self.eps_net)
        self.optimizer = torch.optim.Adam(self.eps_net.parameters(), lr=self.lr)
        # The training data and the batch generator live on the device: no per-batch copies.
        self.train = self.train.to(self.ctx.device)
        if self.train_labels is not None:
            self.train_labels = self.train_labels.to(self.ctx.device)
        self.generator = torch.Generator(device=self.ctx.device)
        self.generator.manual_seed(self.ctx.seed + 1000 * self.ctx.rank)

    def modules(self) -> dict[str, nn.Module]:
        return {"eps_net": self.eps_net, "ema": self.ema}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"eps_net": self.optimizer}

    def _lr_at(self, step: int) -> float:
        # Cosine decay to 10 % over the run: short runs end on small, careful steps.
        progress = min(1.0, step / max(1, self.ctx.steps))
        return self.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    def _batch(self):
        index = torch.randint(
            0,
            len(self.train),
            (self.batch_size,),
            generator=self.generator,
            device=self.train.device,
        )
        labels = None if self.train_labels is None else self.train_labels[index]
        return self.train[index], labels

    def step_loss(self, x0: torch.Tensor, labels) -> torch.Tensor:
        return self.diffusion.loss(self.train_net, x0, generator=self.generator)

    def train_step(self, step: int) -> dict[str, float]:
        self.eps_net.train()
        x0, labels = self._batch()
        loss = self.step_loss(x0, labels)
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr_at(step)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.eps_net.parameters(), 1.0)
        self.optimizer.step()
        with torch.no_grad():
            for ema_param, param in zip(self.ema.parameters(), self.eps_net.parameters()):
                ema_param.lerp_(param, 1 - self.ema_decay)
        return {"loss": loss.item()}

    def to_data_space(self, x: torch.Tensor) -> torch.Tensor:
        return ((x + 1) / 2).clamp(0, 1) if self.image_data else x

    def generate(self, n: int, seed: int = 0) -> torch.Tensor:
        self.ema.eval()
        generator = torch.Generator().manual_seed(seed)
        shape = (n, *self.train.shape[1:])
        return self.diffusion.sample(self.ema, shape, self.ctx.device, generator)

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {}
        # 1000 network calls per sample batch: 200 samples keep the evaluation within seconds.
        n = self.eval_samples
        samples = self.to_data_space(self.generate(n)).cpu()
        test = self.to_data_space(self.test).cpu()
        train = self.to_data_space(self.train[:n]).cpu()  # a perfect model at the same sample size
        metrics["energy_distance_to_test"] = energy(samples, test)
        metrics["energy_distance_train_vs_test"] = energy(train, test)
        measure = f"energy distance of {n} samples to the test set (train-vs-test as floor)"
        if self.image_data:
            bits, stderr = self.bound_bits_per_dim(self.vlb_repeats)
            dims = self.test[0].numel()
            # An upper bound on the NLL (like the VAE's), so it goes under the same keys.
            metrics["test_nll_nats"] = bits * dims * math.log(2)
            metrics["bits_per_dim"] = bits
            metrics["bits_per_dim_stderr"] = stderr
            measure += (
                "; test_nll_nats / bits_per_dim: the variational bound on -log P of the "
                f"{self.levels}-level test images (Monte Carlo over t, with its standard error)"
            )
        metrics["measure"] = measure
        return metrics

    def bound_bits_per_dim(self, repeats: int = 8) -> tuple[float, float]:
        """-log p(x_0) <= L_T + L_0 + sum_{t=2}^T L_{t-1}. L_T and L_0 are computed exactly;
        the sum is estimated as (T - 1) L_{t-1} with t ~ U{2..T} (unbiased; L_0 kept out of the
        lottery because T L_0 would dominate the variance), over the test set `repeats` times.
        Bin width 2/(L - 1): L grey levels in [-1, 1] (2/16 for the 17-level digits, 2/255 for
        MNIST). Returns bits/dim and its standard error."""
        self.ema.eval()
        torch.manual_seed(4321)
        dim = self.test[0].numel()
        timesteps = self.diffusion.timesteps
        totals = []
        for chunk in self.test.split(256):
            x0 = chunk.to(self.ctx.device)
            first = torch.ones(len(chunk), dtype=torch.long)
            bin_width = 2 / (self.levels - 1)
            exact = self.diffusion.prior_term(x0) + self.diffusion.bound_terms(
                self.ema, x0, first, bin_width=bin_width
            )
            sampled = torch.zeros_like(exact)
            for _ in range(repeats):
                t = torch.randint(2, timesteps + 1, (len(chunk),))
                terms = self.diffusion.bound_terms(self.ema, x0, t, bin_width=bin_width)
                sampled = sampled + (timesteps - 1) * terms / repeats
            totals.append(exact + sampled)
        bits = torch.cat(totals).cpu() / (dim * math.log(2))
        return float(bits.mean()), float(bits.std() / math.sqrt(len(bits)))

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid, save_scatter

        out_dir = Path(out_dir)
        if self.image_data:
            samples = self.to_data_space(self.generate(64, seed=1))
            return [save_image_grid(samples, out_dir / "samples.png", f"{self.name} samples")]
        samples = self.generate(1000, seed=1)
        return [save_scatter(samples, out_dir / "samples.png", self.test, f"{self.name} samples")]


def energy(x: torch.Tensor, y: torch.Tensor) -> float:
    from cheatsheet.models.sample_quality import energy_distance

    return energy_distance(x, y)


def grey_levels(data: str) -> int:
    """17 grey levels for the 8x8 digits, 256 for MNIST."""
    return 256 if data.startswith("mnist") else 17


def load_diffusion_data(ctx):
    """Images -> 2x - 1 in [-1, 1] (N, 1, S, S), S = 8 or 28; 2D toy points as they are."""
    from cheatsheet.datasets import load

    split = load(ctx.data, seed=ctx.seed)
    image_data = len(split.shape) == 3
    train, test = split.train, split.test
    if image_data:
        train, test = 2 * train - 1, 2 * test - 1
    return split, train, test, image_data


def make_eps_net(image_data: bool, dim: int, num_classes: int | None, config: Any):
    """The U-Net for images, an MLP for points; `config` has `base` and `hidden`."""
    if image_data:
        return UNetEpsNet(1, config.base, num_classes)
    return MLPEpsNet(dim, config.hidden, num_classes=num_classes)


def make_experiment(ctx) -> DiffusionExperiment:
    """`cheatsheet run ddpm`: linear schedule (or --option schedule=cosine), T = 1000."""
    torch.manual_seed(ctx.seed)
    config = ctx.settings(DDPMConfig, "ddpm")
    split, train, test, image_data = load_diffusion_data(ctx)
    diffusion = GaussianDiffusion.from_name(config.schedule, config.timesteps, config.variance)
    eps_net = make_eps_net(image_data, train[0].numel(), None, config).to(ctx.device)
    return DiffusionExperiment(
        ctx,
        eps_net,
        diffusion,
        train,
        test,
        image_data,
        lr=config.lr,
        eval_samples=config.eval_samples,
        vlb_repeats=config.vlb_repeats,
        levels=grey_levels(ctx.data) if image_data else 17,
    )
