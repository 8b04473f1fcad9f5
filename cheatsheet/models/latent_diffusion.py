"""Latent diffusion: a DDPM in the latent space of a trained autoencoder.

Rombach, Blattmann, Lorenz, Esser, Ommer, "High-Resolution Image Synthesis with Latent
Diffusion Models", CVPR 2022.

Two stages (paper sec. 3):
1. Perceptual compression: an autoencoder x -> z = E(x) -> D(z) ~ x with a KL regulariser
   towards N(0, I) (their "KL-reg"; here our VAE, cheatsheet/models/vae.py, with a weak
   beta so the latent keeps detail). The latent is rescaled by 1 / std(z) over the training
   set (their scale factor) so the diffusion sees unit-variance data.
2. A DDPM (ddpm.py: epsilon prediction, linear schedule, T = 1000) on z * scale, trained with
   the autoencoder frozen:  L_LDM = E || eps - eps_theta(z_t, t) ||^2,  z_0 = E(x) * scale.
Sampling: z_0 ~ DDPM (ancestral), x = D(z_0 / scale).

The run spends the first 40 % of its steps on the autoencoder and the rest on the latent DDPM.
Evaluation compares, by energy distance to the test digits, the decoded DDPM samples with
decoded N(0, I) samples (the autoencoder's own prior): the gap is what the latent diffusion
adds when the autoencoder's aggregate posterior is not N(0, I).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cheatsheet.models.ddpm import GaussianDiffusion, MLPEpsNet
from cheatsheet.runs.config import param


@dataclass
class LatentDiffusionConfig:
    latent_dim: int = param(8, "latent size of the VAE the DDPM runs in")
    beta: float = param(0.1, "KL weight of that VAE (small: a sharp, informative latent)")


def make_autoencoder(input_shape, latent_dim: int, beta: float) -> nn.Module:
    """The one place this module depends on the VAE: encode(x) -> (mu, log_var), decode(z) ->
    logits, loss(x) -> mean negative beta-ELBO (forward(x) is the loss, for DDP)."""
    from cheatsheet.models.vae import VAE

    return VAE(input_shape, latent_dim=latent_dim, hidden=256, likelihood="bernoulli", beta=beta)


class LatentScale(nn.Module):
    """The latent's scale factor 1 / std(z), a buffer so checkpoints carry it."""

    def __init__(self):
        super().__init__()
        self.register_buffer("scale", torch.tensor(1.0))
        self.register_buffer("fitted", torch.tensor(False))


class LatentDiffusionExperiment:
    def __init__(self, ctx: Any, latent_dim: int = 8, beta: float = 0.1, hidden: int = 256):
        from cheatsheet.datasets import load

        torch.manual_seed(ctx.seed)
        self.ctx = ctx
        split = load(ctx.data, seed=ctx.seed)
        if len(split.shape) != 3:
            from cheatsheet.errors import CheatsheetError

            raise CheatsheetError(
                f"latent-diffusion runs on images ('digits', 'mnist'), not '{ctx.data}'"
            )
        # Training images on the device once (batches are indexed there); test stays on host.
        self.train, self.test = split.train.to(ctx.device), split.test
        self.autoencoder = make_autoencoder(split.shape, latent_dim, beta).to(ctx.device)
        self.eps_net = MLPEpsNet(latent_dim, hidden, blocks=3).to(ctx.device)
        self.ema = copy.deepcopy(self.eps_net).requires_grad_(False)
        self.latent_scale = LatentScale().to(ctx.device)
        self.diffusion = GaussianDiffusion.from_name("linear", 1000)
        self.train_autoencoder = ctx.wrap(self.autoencoder)
        self.train_eps_net = ctx.wrap(self.eps_net)
        self.autoencoder_optimizer = torch.optim.Adam(self.autoencoder.parameters(), lr=1e-3)
        self.eps_optimizer = torch.optim.Adam(self.eps_net.parameters(), lr=2e-3)
        self.autoencoder_steps = int(0.4 * ctx.steps)
        self.generator = torch.Generator(device=ctx.device)
        self.generator.manual_seed(ctx.seed + 1000 * ctx.rank)
        self.batch_size = 128
        self.latents: tuple[torch.Tensor, torch.Tensor] | None = None

    def modules(self) -> dict[str, nn.Module]:
        return {
            "autoencoder": self.autoencoder,
            "eps_net": self.eps_net,
            "ema": self.ema,
            "latent_scale": self.latent_scale,
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"autoencoder": self.autoencoder_optimizer, "eps_net": self.eps_optimizer}

    def _index(self) -> torch.Tensor:
        return torch.randint(
            0,
            len(self.train),
            (self.batch_size,),
            generator=self.generator,
            device=self.train.device,
        )

    @torch.no_grad()
    def _encode_training_set(self) -> None:
        """Stage 1 -> 2: posterior (mu, log_var) of every training image; fit the scale."""
        self.autoencoder.eval()
        mu, log_var = self.autoencoder.encode(self.train)
        self.latents = (mu, log_var)
        if not bool(self.latent_scale.fitted):
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
            self.latent_scale.scale.fill_(float(1.0 / z.std()))
            self.latent_scale.fitted.fill_(True)

    def train_step(self, step: int) -> dict[str, float]:
        if step < self.autoencoder_steps:
            self.autoencoder.train()
            x = self.train[self._index()]
            loss = self.train_autoencoder(x)
            self.autoencoder_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.autoencoder_optimizer.step()
            return {"loss": loss.item(), "stage": 1.0}
        if self.latents is None:
            self._encode_training_set()
        self.eps_net.train()
        mu, log_var = self.latents
        index = self._index()
        noise = torch.randn(mu[index].shape, generator=self.generator, device=mu.device)
        z0 = (mu[index] + torch.exp(0.5 * log_var[index]) * noise) * self.latent_scale.scale
        loss = self.diffusion.loss(self.train_eps_net, z0, generator=self.generator)
        progress = (step - self.autoencoder_steps) / max(1, self.ctx.steps - self.autoencoder_steps)
        for group in self.eps_optimizer.param_groups:
            group["lr"] = 2e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))
        self.eps_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.eps_net.parameters(), 1.0)
        self.eps_optimizer.step()
        with torch.no_grad():
            for ema_param, param in zip(self.ema.parameters(), self.eps_net.parameters()):
                ema_param.lerp_(param, 0.005)
        return {"loss": loss.item(), "stage": 2.0}

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.autoencoder.eval()
        return torch.sigmoid(self.autoencoder.decode(z))

    @torch.no_grad()
    def generate(self, n: int, seed: int = 0) -> torch.Tensor:
        """z_0 ~ latent DDPM, x = D(z_0 / scale), in [0, 1]."""
        self.ema.eval()
        generator = torch.Generator().manual_seed(seed)
        latent_dim = self.autoencoder.latent_dim
        z0 = self.diffusion.sample(self.ema, (n, latent_dim), self.ctx.device, generator)
        return self.decode(z0 / self.latent_scale.scale)

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        from cheatsheet.models.sample_quality import energy_distance

        generator = torch.Generator().manual_seed(7)
        prior_z = torch.randn(500, self.autoencoder.latent_dim, generator=generator)
        reconstructions = self.decode(self.autoencoder.encode(self.test.to(self.ctx.device))[0])
        return {
            "energy_distance_latent_ddpm": energy_distance(self.generate(500).cpu(), self.test),
            "energy_distance_vae_prior": energy_distance(
                self.decode(prior_z.to(self.ctx.device)).cpu(), self.test
            ),
            "energy_distance_train_vs_test": energy_distance(
                self.train[: len(self.test)].cpu(), self.test
            ),
            "reconstruction_mse": float((reconstructions.cpu() - self.test).pow(2).mean()),
            "latent_scale": float(self.latent_scale.scale),
            "measure": "energy distance of 500 decoded samples to the test digits: latent "
            "DDPM vs the autoencoder's N(0, I) prior (train-vs-test as floor)",
        }

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        samples = self.generate(64, seed=1)
        title = "latent diffusion: DDPM in the VAE latent, decoded"
        return [save_image_grid(samples, Path(out_dir) / "samples.png", title)]


def make_experiment(ctx) -> LatentDiffusionExperiment:
    """`cheatsheet run latent-diffusion`: VAE (8-d latent, beta 0.1), then a latent DDPM."""
    config = ctx.settings(LatentDiffusionConfig, "latent-diffusion")
    return LatentDiffusionExperiment(
        ctx,
        latent_dim=config.latent_dim,
        beta=config.beta,
    )
