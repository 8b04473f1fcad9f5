"""WGAN-GP: Wasserstein GAN with a gradient penalty on the critic.

Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville, "Improved Training of Wasserstein GANs",
NeurIPS 2017.

WGAN (Arjovsky et al. 2017) trains G to minimise the Wasserstein-1 distance, in its
Kantorovich-Rubinstein dual form
    W(P_r, P_g) = sup_{||D||_L <= 1} E_{x ~ P_r} D(x) - E_{x~ ~ P_g} D(x~),
where the critic D outputs an unbounded score (no sigmoid, no log). Instead of clipping D's
weights, WGAN-GP softly enforces the 1-Lipschitz constraint where it matters: the optimal
critic has gradient norm 1 on straight lines between coupled points of P_r and P_g, so the
penalty is taken at random points on lines between a data point and a sample (paper eq. 3):
    L = E D(x~) - E D(x) + lambda E_{x^} (||grad_{x^} D(x^)||_2 - 1)^2,
    x^ = eps x + (1 - eps) x~,  eps ~ U[0, 1] drawn PER EXAMPLE (one eps per pair, broadcast
    over the example's dimensions: shape (B, 1, ..., 1)).
The penalty is per example, so the critic has no batch normalisation (section 4: it would mix
the examples of a batch); our critic is a plain ReLU MLP.
The generator minimises -E D(G(z)).

Algorithm 1 defaults: lambda = 10, n_critic = 5 critic steps per generator step, Adam with
alpha = 1e-4, beta1 = 0, beta2 = 0.9 (we use alpha = 5e-4 on the 2D toys so a two-minute run
converges). Sample quality as gan.py (energy distance and mode coverage on 2D data;
Frechet classifier distance on digits).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cheatsheet.models.gan import GANExperiment, MLPGenerator, load_gan_data
from cheatsheet.runs.config import param


@dataclass
class WGANGPConfig:
    hidden: int | None = param(
        None, "units of G and the critic (None: 256 for images, 128 for points)"
    )
    latent: int | None = param(None, "noise size of z (None: 32 for images, 8 for points)")
    lr: float | None = param(
        None, "Adam learning rate, betas (0, 0.9) (None: 1e-4 for images, 5e-4 for points)"
    )
    n_critic: int = param(5, "critic steps per G step")
    batch: int | None = param(None, "batch size (None: 128 for images, 256 for points)")
    lambda_: float = param(10.0, "gradient-penalty weight lambda (--option lambda=...)")


class Critic(nn.Module):
    """D(x) in R (no sigmoid): ReLU MLP, no batch normalisation."""

    def __init__(self, data_dim: int, hidden: int = 128, layers: int = 3):
        super().__init__()
        blocks: list[nn.Module] = []
        width = data_dim
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        blocks.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


# --------------------------------------------------------------------------------------------
# The gradient penalty


def interpolation_epsilon(real: torch.Tensor, generator: torch.Generator | None = None):
    """eps ~ U[0, 1], one per example, shaped (B, 1, ..., 1) to broadcast over the example."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    where = generator.device if generator is not None else real.device
    return torch.rand(shape, generator=generator, device=where).to(real.device, real.dtype)


def interpolate(real: torch.Tensor, fake: torch.Tensor, epsilon: torch.Tensor) -> torch.Tensor:
    """x^ = eps x + (1 - eps) x~: a random point on the line from the sample to the datum."""
    return epsilon * real + (1 - epsilon) * fake


def gradient_penalty(critic_scores: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Per example (||grad_{x^} D(x^)||_2 - 1)^2, from the critic's scores at x^ (x^ must
    require grad). create_graph=True: the penalty is itself differentiated w.r.t. the critic."""
    (gradients,) = torch.autograd.grad(
        critic_scores.sum(), x_hat, create_graph=True
    )  # sum: example i's score depends on x^_i only (no batch norm), so row i is its gradient
    return (gradients.flatten(1).norm(2, dim=1) - 1) ** 2


def critic_loss(real_scores, fake_scores, penalty, penalty_weight: float = 10.0):
    """L = E D(x~) - E D(x) + lambda E (||grad D(x^)|| - 1)^2   (paper eq. 3)."""
    return fake_scores.mean() - real_scores.mean() + penalty_weight * penalty.mean()


def wgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E D(G(z)) (Algorithm 1, line 11)."""
    return -fake_scores.mean()


# --------------------------------------------------------------------------------------------
# Algorithm 1


@dataclass
class WGANGPExperiment(GANExperiment):
    penalty_weight: float = 10.0  # lambda

    def d_step_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        epsilon = interpolation_epsilon(real, self.rng)
        x_hat = interpolate(real, fake, epsilon).requires_grad_(True)
        # One critic forward over real, fake and interpolates (one DDP forward per backward).
        scores = self.D(torch.cat([real, fake, x_hat]))
        real_scores, fake_scores, hat_scores = scores.split(len(real))
        penalty = gradient_penalty(hat_scores, x_hat)
        self.last_wasserstein = float((real_scores.mean() - fake_scores.mean()).detach())
        self.last_penalty = float(penalty.mean().detach())
        return critic_loss(real_scores, fake_scores, penalty, self.penalty_weight)

    def g_step_loss(self, fake: torch.Tensor) -> torch.Tensor:
        return wgan_generator_loss(self.D(fake))

    def train_step(self, step: int) -> dict[str, float]:
        record = super().train_step(step)
        record["wasserstein_estimate"] = self.last_wasserstein
        record["gradient_penalty"] = self.last_penalty
        return record


def make_experiment(ctx) -> WGANGPExperiment:
    """`cheatsheet run wgan-gp`: MLP G and critic, lambda = 10, n_critic = 5 (--option
    lambda=, n_critic=, lr=, hidden=)."""
    torch.manual_seed(ctx.seed)
    split, train, test, image_data = load_gan_data(ctx)
    config = ctx.settings(WGANGPConfig, "wgan-gp")
    hidden = config.hidden or (256 if image_data else 128)
    latent_dim = config.latent or (32 if image_data else 8)
    generator_net = MLPGenerator(
        latent_dim, split.shape, hidden, layers=2, sigmoid_output=image_data
    ).to(ctx.device)
    critic_net = Critic(train[0].numel(), hidden).to(ctx.device)
    lr = config.lr or (1e-4 if image_data else 5e-4)
    betas = (0.0, 0.9)
    return WGANGPExperiment(
        ctx,
        generator_net,
        critic_net,
        train,
        test,
        image_data,
        latent_dim,
        g_optimizer=torch.optim.Adam(generator_net.parameters(), lr=lr, betas=betas),
        d_optimizer=torch.optim.Adam(critic_net.parameters(), lr=lr, betas=betas),
        d_steps=config.n_critic,
        batch_size=config.batch or (128 if image_data else 256),
        name="WGAN-GP",
        train_labels=split.train_labels,
        test_labels=split.test_labels,
        penalty_weight=config.lambda_,
    )
