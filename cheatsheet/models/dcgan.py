"""DCGAN: deep convolutional generative adversarial networks, on 8x8 digits.

Radford, Metz, Chintala, "Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks", ICLR 2016.

The game and the losses are the GAN's (gan.py: gan-value-function, the non-saturating
generator loss of gan-non-saturating-gradient); DCGAN is the architecture that makes it train
(paper section 3, "Architecture guidelines for stable Deep Convolutional GANs"):
- no pooling: strided convolutions in D (learned downsampling) and fractionally-strided
  (transposed) convolutions in G (learned upsampling);
- batch normalisation in both, except on G's output layer and D's input layer;
- no fully connected hidden layers: z is reshaped to a 1x1 map with z channels and G is
  convolutional from there (the paper's first "projection" is a matrix multiplication, which is
  what a transposed convolution of a 1x1 input is); D's last convolution covers its whole
  input and gives one logit;
- ReLU in G except Tanh at the output (images in [-1, 1]); LeakyReLU (slope 0.2) in D.
Training details (section 4): weights N(0, 0.02), Adam lr 2e-4, beta1 = 0.5, batch 128.

Shapes on S x S images, S = 8 (digits) or 28 (MNIST), c = base channels, s = S / 4:
    G: z (B, nz, 1, 1) -> ConvT s x s -> (4c, s, s) -> ConvT s2 -> (2c, 2s, 2s)
       -> ConvT s2 -> (1, S, S)
    D: x (1, S, S) -> Conv s2 -> (c, 2s, 2s) -> Conv s2 -> (2c, s, s) -> Conv s x s -> (1, 1, 1)
(8x8: s = 2; 28x28: s = 7, the usual MNIST DCGAN.)
Sample quality: as gan.py (Frechet classifier distance, classifier score).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cheatsheet.models.gan import GANExperiment, discriminator_loss, load_gan_data
from cheatsheet.runs.config import param


@dataclass
class DCGANConfig:
    latent: int = param(32, "noise size of z")
    base: int = param(32, "channels of the first (de)convolution")
    lr: float = param(2e-4, "Adam learning rate of G and D (beta1 = 0.5, as the paper)")
    k: int = param(1, "D steps per G step")
    loss: str = param("non-saturating", "G loss: non-saturating or minimax")
    batch: int = param(128, "images per step")


class DCGANGenerator(nn.Module):
    """z -> S x S image in [-1, 1]: transposed convolutions, BN + ReLU, Tanh output."""

    def __init__(self, latent_dim: int = 32, base: int = 64, channels: int = 1, side: int = 8):
        super().__init__()
        if side % 4:
            raise ValueError(f"DCGAN needs a side divisible by 4, got {side}")
        self.latent_dim, self.side = latent_dim, side
        first = side // 4
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 4 * base, first, 1, 0, bias=False),  # 1 -> S/4
            nn.BatchNorm2d(4 * base),
            nn.ReLU(),
            nn.ConvTranspose2d(4 * base, 2 * base, 4, 2, 1, bias=False),  # S/4 -> S/2
            nn.BatchNorm2d(2 * base),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * base, channels, 4, 2, 1),  # S/2 -> S, no BN at the output
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z.view(len(z), self.latent_dim, 1, 1))
        assert x.shape[-2:] == (self.side, self.side)
        return x


class DCGANDiscriminator(nn.Module):
    """S x S image -> one logit: strided convolutions, LeakyReLU(0.2), BN except at the input."""

    def __init__(self, base: int = 64, channels: int = 1, side: int = 8):
        super().__init__()
        if side % 4:
            raise ValueError(f"DCGAN needs a side divisible by 4, got {side}")
        self.net = nn.Sequential(
            nn.Conv2d(channels, base, 4, 2, 1),  # S -> S/2, no BN on the input layer
            nn.LeakyReLU(0.2),
            nn.Conv2d(base, 2 * base, 4, 2, 1, bias=False),  # S/2 -> S/4
            nn.BatchNorm2d(2 * base),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * base, 1, side // 4, 1, 0),  # S/4 -> 1x1: the logit
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.net(x)
        assert logits.shape[1:] == (1, 1, 1)
        return logits.flatten()


def dcgan_init(module: nn.Module) -> None:
    """Weights N(0, 0.02); BN scale N(1, 0.02), shift 0 (paper section 4)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANExperiment(GANExperiment):
    def d_step_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        # Real and fake in separate forwards: each batch-norm batch is all real or all fake,
        # as in the reference implementation.
        return discriminator_loss(self.D(real), self.D(fake))


def make_experiment(ctx) -> DCGANExperiment:
    """`cheatsheet run dcgan`: the non-saturating loss (--option loss=minimax), k = 1."""
    torch.manual_seed(ctx.seed)
    split, train, test, image_data = load_gan_data(ctx, tanh_images=True)
    config = ctx.settings(DCGANConfig, "dcgan")
    latent_dim, base = config.latent, config.base
    side = split.shape[-1]
    generator_net = DCGANGenerator(latent_dim, base, side=side).to(ctx.device)
    discriminator_net = DCGANDiscriminator(base, side=side).to(ctx.device)
    generator_net.apply(dcgan_init)
    discriminator_net.apply(dcgan_init)
    lr = config.lr
    return DCGANExperiment(
        ctx,
        generator_net,
        discriminator_net,
        train,
        test,
        image_data,
        latent_dim,
        g_optimizer=torch.optim.Adam(generator_net.parameters(), lr=lr, betas=(0.5, 0.999)),
        d_optimizer=torch.optim.Adam(discriminator_net.parameters(), lr=lr, betas=(0.5, 0.999)),
        d_steps=config.k,
        generator_loss=config.loss,
        batch_size=config.batch,
        name="DCGAN",
        tanh_images=True,
        train_labels=split.train_labels,
        test_labels=split.test_labels,
    )
