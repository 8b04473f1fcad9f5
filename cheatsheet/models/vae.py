"""Variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014) and
beta-VAE (Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained
Variational Framework", ICLR 2017), with the importance-weighted bound of Burda et al. (IWAE,
ICLR 2016) as the reported estimate of log p(x).

Generative model      p(z) = N(0, I),   p_theta(x | z) = Bernoulli(sigmoid(g(z)))   (binary data)
                                        or N(x; g(z), sigma_x^2 I)                   (continuous)
Inference model       q_phi(z | x) = N(mu(x), diag sigma^2(x)); the encoder outputs log sigma^2.
ELBO                  log p(x) >= E_q[log p(x | z)] - D_KL(q(z | x) || p(z))
KL (closed form)      D_KL = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2)     [kl-gauss]
Reparametrisation     z = mu + sigma * eps, eps ~ N(0, I): the sample is a differentiable
                      function of (mu, sigma), so the gradient flows into the encoder.
beta-VAE              maximise E_q[log p(x | z)] - beta * D_KL; beta > 1 presses the posterior
                      towards the factorised prior (disentanglement), beta = 1 is the VAE.
IWAE bound            log p(x) >= E[log 1/K sum_k p(x, z_k) / q(z_k | x)],  z_k ~ q(z | x);
                      K = 1 is the ELBO and the bound tightens as K grows.

Shapes: x is (B, *input_shape), e.g. (B, 1, 8, 8); z is (B, latent_dim).
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
class VAEConfig:
    latent_dim: int | None = param(
        None, "latent size (None: 8 for 8x8 digits, 16 for 28x28 MNIST, 2 for 2-D points)"
    )
    hidden: int = param(256, "hidden units of encoder and decoder MLPs")
    likelihood: str | None = param(None, "bernoulli or gaussian (None: by the data)")
    beta: float = param(1.0, "weight of the KL term (beta-VAE: beta > 1)")
    lr: float = param(1e-3, "Adam learning rate")
    batch_size: int = param(128, "examples per step")
    iwae_k: int = param(500, "importance samples of the IWAE bound reported as test NLL")


LOG_2PI = math.log(2 * math.pi)


class VAE(nn.Module):
    """MLP encoder q(z|x) and decoder p(x|z). `likelihood` is "bernoulli" or "gaussian"."""

    def __init__(
        self,
        input_shape: tuple[int, ...] = (1, 8, 8),
        latent_dim: int = 8,
        hidden: int = 256,
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        sigma_x: float = 0.1,
    ):
        super().__init__()
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', not {likelihood!r}")
        self.input_shape = tuple(input_shape)
        self.data_dim = math.prod(self.input_shape)
        self.latent_dim = latent_dim
        self.likelihood = likelihood
        self.beta = beta
        self.encoder = nn.Sequential(
            nn.Flatten(),
            nn.Linear(self.data_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * latent_dim),  # [mu, log sigma^2]
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, self.data_dim),
        )
        # Gaussian decoder: one learned observation noise log sigma_x (shared by all pixels).
        # It starts at 0.1, on the scale of data in [0, 1]: from sigma_x = 1 the KL term
        # dominates early and the posterior collapses onto the prior before sigma_x shrinks.
        self.log_sigma_x = nn.Parameter(
            torch.tensor(math.log(sigma_x)), requires_grad=likelihood == "gaussian"
        )

    # ---- inference model q_phi(z | x) ------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, log sigma^2) of q(z | x), each (B, latent_dim)."""
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var

    @staticmethod
    def reparameterize(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I)."""
        eps = torch.randn_like(mu)
        return mu + torch.exp(0.5 * log_var) * eps

    # ---- generative model p_theta(x | z) p(z) ----------------------------------------------
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits (or Gaussian means), shaped like x: (..., *input_shape)."""
        return self.decoder(z).reshape(*z.shape[:-1], *self.input_shape)

    def log_likelihood(self, x: torch.Tensor, decoded: torch.Tensor) -> torch.Tensor:
        """log p(x | z) summed over pixels; broadcasts over leading sample dimensions."""
        x = x.expand_as(decoded)
        pixels = tuple(range(decoded.dim() - len(self.input_shape), decoded.dim()))
        if self.likelihood == "bernoulli":
            # log Bern(x; sigmoid(l)) = -BCE(l, x), computed stably from the logits
            log_p = -F.binary_cross_entropy_with_logits(decoded, x, reduction="none")
        else:
            log_sigma = self.log_sigma_x
            log_p = -0.5 * ((x - decoded) / log_sigma.exp()) ** 2 - log_sigma - 0.5 * LOG_2PI
        return log_p.sum(dim=pixels)

    @staticmethod
    def kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        """D_KL(N(mu, diag sigma^2) || N(0, I)) per example.              [kl-gauss]"""
        return 0.5 * (log_var.exp() + mu**2 - 1.0 - log_var).sum(dim=-1)

    # ---- objectives --------------------------------------------------------------------------
    def elbo_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-example reconstruction log p(x|z) (one reparametrised sample) and KL."""
        mu, log_var = self.encode(x)
        z = self.reparameterize(mu, log_var)
        reconstruction = self.log_likelihood(x, self.decode(z))
        return {"reconstruction": reconstruction, "kl": self.kl(mu, log_var)}

    def elbo(self, x: torch.Tensor) -> torch.Tensor:
        """Per-example ELBO (beta = 1: the bound on log p(x), whatever the training beta)."""
        terms = self.elbo_terms(x)
        return terms["reconstruction"] - terms["kl"]

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Mean negative (beta-)ELBO: -E_q[log p(x|z)] + beta * KL, averaged over the batch."""
        terms = self.elbo_terms(x)
        return (self.beta * terms["kl"] - terms["reconstruction"]).mean()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The training loss (so DistributedDataParallel, which hooks __call__, sees it)."""
        return self.loss(x)

    @staticmethod
    def log_normal(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        """log N(z; mu, diag exp(log_var)) summed over the last axis."""
        return -0.5 * (LOG_2PI + log_var + (z - mu) ** 2 / log_var.exp()).sum(dim=-1)

    @torch.no_grad()
    def iwae_bound(self, x: torch.Tensor, k: int = 100, chunk: int = 100) -> torch.Tensor:
        """Per-example log(1/K sum_k p(x, z_k) / q(z_k | x)), z_k ~ q(z | x) (Burda et al.)."""
        mu, log_var = self.encode(x)
        log_weights = []
        for start in range(0, k, chunk):
            n = min(chunk, k - start)
            eps = torch.randn(n, *mu.shape, device=mu.device, dtype=mu.dtype)
            z = mu + torch.exp(0.5 * log_var) * eps  # (n, B, latent)
            log_p_x_given_z = self.log_likelihood(x, self.decode(z))
            log_p_z = self.log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
            log_q_z = self.log_normal(z, mu, log_var)
            log_weights.append(log_p_x_given_z + log_p_z - log_q_z)
        # logsumexp, never a mean of raw weights: the weights span hundreds of nats.
        return torch.logsumexp(torch.cat(log_weights, dim=0), dim=0) - math.log(k)

    # ---- sampler -----------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, mean: bool = False) -> torch.Tensor:
        """x ~ p(x | z), z ~ N(0, I); `mean=True` returns E[x | z] (pixel probabilities)."""
        device = next(self.parameters()).device
        decoded = self.decode(torch.randn(n, self.latent_dim, device=device))
        if self.likelihood == "bernoulli":
            probabilities = torch.sigmoid(decoded)
            return probabilities if mean else torch.bernoulli(probabilities)
        if mean:
            return decoded
        return decoded + self.log_sigma_x.exp() * torch.randn_like(decoded)


# --------------------------------------------------------------------------------------------
# The run (cheatsheet run vae / beta-vae): see cheatsheet/runs/protocol.py


def default_latent_dim(shape: tuple[int, ...]) -> int:
    """8 for 8x8 digits, 16 for 28x28 MNIST (more pixels carry more to encode), 2 for points."""
    if len(shape) == 1:
        return 2
    return 8 if math.prod(shape) <= 64 else 16


class VAEExperiment:
    def __init__(self, ctx: Any, config: VAEConfig):
        from cheatsheet import datasets

        self.ctx = ctx
        split = datasets.load(ctx.data, seed=ctx.seed)
        self.binary = split.discrete_levels == 2
        likelihood = config.likelihood or ("bernoulli" if self.binary else "gaussian")
        self.train_x = split.train.to(ctx.device)
        self.test_x = split.test.to(ctx.device)
        self.valid_x = None if split.valid is None else split.valid.to(ctx.device)
        self.model = VAE(
            input_shape=split.shape,
            latent_dim=config.latent_dim or default_latent_dim(split.shape),
            hidden=config.hidden,
            likelihood=likelihood,
            beta=config.beta,
        ).to(ctx.device)
        self.wrapped = ctx.wrap(self.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.batch_size = config.batch_size
        self.iwae_k = config.iwae_k

    def modules(self) -> dict[str, Any]:
        return {"vae": self.wrapped}

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.optimizer}

    def train_step(self, step: int) -> dict[str, float]:
        index = torch.randint(len(self.train_x), (self.batch_size,), device=self.train_x.device)
        x = self.train_x[index]  # indexed on the device: no per-batch host copy
        loss = self.wrapped(x)  # forward = loss; through DDP when wrapped
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    @torch.no_grad()
    def validation_nll(self) -> float | None:
        """-ELBO on the validation split (an upper bound on its NLL, cheap to compute): the
        early-stopping criterion of `bench density`; None without a validation split."""
        if self.valid_x is None:
            return None
        self.model.eval()
        elbo = torch.cat([self.model.elbo(batch) for batch in self.valid_x.split(256)])
        self.model.train()
        return -elbo.mean().item()

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        model = self.model
        elbo = torch.cat([model.elbo(batch) for batch in self.test_x.split(256)])
        terms = [model.elbo_terms(batch) for batch in self.test_x.split(256)]
        kl = torch.cat([t["kl"] for t in terms])
        iwae = torch.cat(
            [model.iwae_bound(batch, k=self.iwae_k) for batch in self.test_x.split(64)]
        )
        nll = -iwae.mean().item()
        dims = model.data_dim
        metrics: dict[str, Any] = {
            "test_negative_elbo_nats": -elbo.mean().item(),
            "test_kl_nats": kl.mean().item(),
            "iwae_k": self.iwae_k,
            "beta": model.beta,
            "likelihood": model.likelihood,
        }
        if self.binary:
            # -IWAE_K is an upper bound on the test NLL (in expectation), per image.
            metrics["test_nll_nats"] = nll
            metrics["bits_per_dim"] = nll / (dims * math.log(2))
        else:
            # A density on [0,1]^D, not a probability of discrete pixels: not comparable to
            # the binary models' NLL, so it is reported under its own name.
            metrics["test_negative_log_density_nats"] = nll
        return metrics

    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid, save_scatter

        self.model.eval()
        samples = self.model.sample(64, mean=True)
        self.model.train()
        if samples.dim() == 2:
            return [save_scatter(samples.cpu(), out_dir / "samples.png", self.test_x.cpu())]
        paths = [
            save_image_grid(
                samples,
                out_dir / "samples.png",
                title=f"VAE (beta={self.model.beta:g}): E[x | z], z ~ N(0, I)",
                nrow=8,
            )
        ]
        paths.append(self._traversals(out_dir / "traversals.png"))
        with torch.no_grad():
            mu, _ = self.model.encode(self.test_x[:32])
            recon = self.model.decode(mu)
            recon = torch.sigmoid(recon) if self.model.likelihood == "bernoulli" else recon
        pairs = torch.stack([self.test_x[:32], recon], dim=1).flatten(0, 1)
        paths.append(
            save_image_grid(
                pairs, out_dir / "reconstructions.png", title="x | E[x | mu(x)]", nrow=8
            )
        )
        return paths

    @torch.no_grad()
    def _traversals(self, path: Path) -> Path:
        """Latent traversals (Higgins et al., fig. 1): one row per latent dimension, z_j from -2.5
        to 2.5 with the others at 0; a disentangled code changes one factor per row."""
        from cheatsheet.runs.figures import save_image_grid

        values = torch.linspace(-2.5, 2.5, 9, device=self.test_x.device)
        z = torch.zeros(
            self.model.latent_dim, len(values), self.model.latent_dim, device=values.device
        )
        for j in range(self.model.latent_dim):
            z[j, :, j] = values
        decoded = self.model.decode(z.flatten(0, 1))
        images = torch.sigmoid(decoded) if self.model.likelihood == "bernoulli" else decoded
        title = f"latent traversals (beta={self.model.beta:g}): row j varies z_j in [-2.5, 2.5]"
        return save_image_grid(images, path, title=title, nrow=len(values))


def make_experiment(ctx: Any) -> VAEExperiment:
    return VAEExperiment(ctx, ctx.settings(VAEConfig, "vae"))


def make_beta_experiment(ctx: Any) -> VAEExperiment:
    # beta = 2, not the paper's 4: with only 64 pixels the reconstruction term is small, and
    # beta = 4 collapses q(z|x) onto the prior (test KL 0.07 nats measured, all samples the
    # mean digit); beta = 2 keeps about 3 nats of KL and smooth, recognisable samples.
    return VAEExperiment(ctx, ctx.settings(VAEConfig, "beta-vae", beta=2.0))
