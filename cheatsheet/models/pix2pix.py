"""Pix2Pix: image-to-image translation with a conditional GAN plus L1, on PAIRED toy data.

Isola, Zhu, Zhou, Efros, "Image-to-Image Translation with Conditional Adversarial Networks",
CVPR 2017.

Objective (paper eq. 1-4; pix2pix-objective):
    L_cGAN(G, D) = E_{x,y} log D(x, y) + E_{x,z} log(1 - D(x, G(x, z)))
    L_L1(G)      = E_{x,y,z} ||y - G(x, z)||_1
    G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G),   lambda = 100.
D sees the input x with the output (real y or fake G(x)): it judges whether y is a plausible
translation OF x, not merely a plausible y. The L1 term pins the low frequencies; the cGAN term
makes the result sharp. As in the paper, G uses the non-saturating loss (maximise log D(x,
G(x))), D's objective is halved, z enters only as dropout in G's decoder (kept on at test
time, section 3.1), and L1 is the mean absolute error per pixel.

Networks (section 3.2, appendix 6.1) at 8x8 scale:
- G: U-Net (encoder-decoder with skip connections from layer i to layer n - i), encoder
  Conv-BatchNorm-LeakyReLU(0.2) with stride 2 (no BN on the first layer), decoder
  ConvT-BatchNorm-Dropout(0.5)-ReLU, Tanh output; 8x8 -> 4x4 -> 2x2 -> 1x1 -> back.
- D: PatchGAN: a fully convolutional net that classifies each overlapping patch of (x, y) as
  real or fake; the loss averages over the 4x4 grid of patch logits.
Adam lr 2e-4, beta1 = 0.5.

Paired toy domain built from the digits (`--option task=`):
- `downscaled` (default): x = the digit averaged over 2x2 blocks (4x4) and upsampled back to
  8x8 (nearest), y = the digit: a small super-resolution task.
- `edges`: x = the Sobel gradient magnitude of the digit (scaled to [0, 1]), y = the digit:
  fill in the strokes from their outlines.
Evaluation on the held-out pairs: mean L1 per pixel in [0, 1] of G(x) to y (with the L1 of the
input itself to y as the do-nothing baseline), and the accuracy of the digit classifier of
gan.py on G(x) against the true labels (on y as the reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.runs.config import param


@dataclass
class Pix2PixConfig:
    task: str = param("downscaled", "input images: downscaled or edges")
    base: int = param(32, "channels of the U-Net and the PatchGAN")
    lr: float = param(2e-4, "Adam learning rate (beta1 = 0.5)")
    lambda_: float = param(100.0, "weight of the L1 term (--option lambda=...)")
    batch: int = param(64, "pairs per step")


TASKS = ("downscaled", "edges")

# --------------------------------------------------------------------------------------------
# The paired domain


def make_pairs(digits: torch.Tensor, task: str = "downscaled") -> torch.Tensor:
    """The input domain x for target digits y (N, 1, 8, 8) in [0, 1]; x in [0, 1] too."""
    if task == "downscaled":
        return F.interpolate(F.avg_pool2d(digits, 2), scale_factor=2, mode="nearest")
    if task == "edges":
        sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
        kernels = torch.stack([sobel_x, sobel_x.T]).unsqueeze(1).to(digits)
        gradients = F.conv2d(F.pad(digits, (1, 1, 1, 1), mode="replicate"), kernels)
        magnitude = gradients.pow(2).sum(1, keepdim=True).sqrt()
        return (magnitude / 4.0).clamp(0, 1)  # |Sobel| of a 0 -> 1 step is 4
    raise ValueError(f"unknown pix2pix task '{task}' ({', '.join(TASKS)})")


# --------------------------------------------------------------------------------------------
# Generator: U-Net


def down(
    in_channels: int,
    out_channels: int,
    kernel: int,
    stride: int,
    padding: int,
    batch_norm: bool = True,
) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel, stride, padding)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def up(
    in_channels: int,
    out_channels: int,
    kernel: int,
    stride: int,
    padding: int,
    dropout: float = 0.5,
) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding),
        nn.BatchNorm2d(out_channels),
        nn.Dropout(dropout),
        nn.ReLU(),
    )


class UNetGenerator(nn.Module):
    """8x8 -> 4x4 -> 2x2 -> 1x1 -> 2x2 -> 4x4 -> 8x8 with skips e_i -> d_i (concatenated)."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, base: int = 32):
        super().__init__()
        self.enc1 = down(in_channels, base, 4, 2, 1, batch_norm=False)  # 4x4
        self.enc2 = down(base, 2 * base, 4, 2, 1)  # 2x2
        self.bottleneck = nn.Sequential(nn.Conv2d(2 * base, 4 * base, 2, 1, 0), nn.ReLU())  # 1x1
        self.dec2 = up(4 * base, 2 * base, 2, 1, 0)  # 2x2
        self.dec1 = up(4 * base, base, 4, 2, 1)  # 4x4 (input: dec2 ++ enc2)
        self.out = nn.Sequential(nn.ConvTranspose2d(2 * base, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        h = self.dec2(self.bottleneck(e2))
        h = self.dec1(torch.cat([h, e2], dim=1))
        y = self.out(torch.cat([h, e1], dim=1))
        assert y.shape[-2:] == x.shape[-2:]
        return y


# --------------------------------------------------------------------------------------------
# Discriminator: PatchGAN on (x, y)


class PatchDiscriminator(nn.Module):
    """D(x, y): one logit per overlapping patch (a 4x4 grid on 8x8 inputs)."""

    def __init__(self, in_channels: int = 2, base: int = 32, norm: str = "batch"):
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm == "batch" else nn.InstanceNorm2d
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, base, 4, 2, 1),  # 8x8 -> 4x4, no norm on the input layer
            nn.LeakyReLU(0.2),
            nn.Conv2d(base, 2 * base, 3, 1, 1),
            norm_layer(2 * base),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * base, 1, 3, 1, 1),  # patch logits
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        inputs = x if y is None else torch.cat([x, y], dim=1)
        return self.net(inputs)


# --------------------------------------------------------------------------------------------
# The objective


def bce_with_label(logits: torch.Tensor, label: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def pix2pix_discriminator_loss(real_logits, fake_logits) -> torch.Tensor:
    """-(L_cGAN) / 2: BCE(D(x, y), 1) and BCE(D(x, G(x)), 0), halved (paper section 3.3)."""
    return 0.5 * (bce_with_label(real_logits, 1.0) + bce_with_label(fake_logits, 0.0))


@dataclass
class GeneratorLoss:
    total: torch.Tensor
    cgan: torch.Tensor  # -log D(x, G(x)) (non-saturating)
    l1: torch.Tensor  # mean |y - G(x)|


def pix2pix_generator_loss(fake_logits, fake, target, l1_weight: float = 100.0):
    """cGAN term + lambda * L1  (pix2pix-objective)."""
    cgan = bce_with_label(fake_logits, 1.0)
    l1 = (target - fake).abs().mean()
    return GeneratorLoss(cgan + l1_weight * l1, cgan, l1)


# --------------------------------------------------------------------------------------------
# Training


@dataclass
class Pix2PixExperiment:
    ctx: Any
    generator_net: UNetGenerator
    discriminator_net: PatchDiscriminator
    train_x: torch.Tensor  # inputs, [-1, 1]
    train_y: torch.Tensor  # targets, [-1, 1]
    test_x: torch.Tensor
    test_y: torch.Tensor
    train_digits: torch.Tensor  # [0, 1], for the scoring classifier
    train_labels: torch.Tensor
    test_labels: torch.Tensor
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    l1_weight: float = 100.0
    batch_size: int = 64
    rng: torch.Generator = field(init=False)

    def __post_init__(self):
        self.G = self.ctx.wrap(self.generator_net)
        self.D = self.ctx.wrap(self.discriminator_net)
        self.rng = torch.Generator().manual_seed(self.ctx.seed + 1000 * self.ctx.rank)

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator_net, "discriminator": self.discriminator_net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.g_optimizer, "discriminator": self.d_optimizer}

    def train_step(self, step: int) -> dict[str, float]:
        self.generator_net.train()
        self.discriminator_net.train()
        index = torch.randint(0, len(self.train_x), (self.batch_size,), generator=self.rng)
        x = self.train_x[index].to(self.ctx.device)
        y = self.train_y[index].to(self.ctx.device)
        fake = self.G(x)
        # D step on the pair (x, y) against (x, G(x)), G fixed (fake detached).
        d_loss = pix2pix_discriminator_loss(self.D(x, y), self.D(x, fake.detach()))
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        # G step: fool the updated D and stay close to y in L1.
        g_loss = pix2pix_generator_loss(self.D(x, fake), fake, y, self.l1_weight)
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.total.backward()
        self.g_optimizer.step()
        return {
            "loss": g_loss.total.item(),
            "d_loss": d_loss.item(),
            "g_cgan": g_loss.cgan.item(),
            "g_l1": g_loss.l1.item(),
        }

    @torch.no_grad()
    def translate(self, x: torch.Tensor, dropout_noise: bool = False) -> torch.Tensor:
        """G(x) in [0, 1]; batch norm in eval mode, dropout on only as the paper's noise z."""
        self.generator_net.eval()
        if dropout_noise:
            for module in self.generator_net.modules():
                if isinstance(module, nn.Dropout):
                    module.train()
        out = torch.cat([self.generator_net(chunk.to(self.ctx.device)) for chunk in x.split(256)])
        return ((out.cpu() + 1) / 2).clamp(0, 1)

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        from cheatsheet.models.gan import classifier_scores, digit_classifier

        target = (self.test_y + 1) / 2
        outputs = self.translate(self.test_x)
        inputs = (self.test_x + 1) / 2
        classifier = digit_classifier(self.train_digits, self.train_labels, self.ctx.seed)

        def accuracy(images):
            predicted = classifier_scores(classifier, images)["probabilities"].argmax(1)
            return float((predicted == self.test_labels.cpu()).float().mean())

        return {
            "test_l1": float((outputs - target).abs().mean()),
            "test_l1_input_baseline": float((inputs - target).abs().mean()),
            "test_l1_with_dropout_noise": float(
                (self.translate(self.test_x, dropout_noise=True) - target).abs().mean()
            ),
            "classifier_accuracy_outputs": accuracy(outputs),
            "classifier_accuracy_inputs": accuracy(inputs),
            "classifier_accuracy_targets": accuracy(target),
            "measure": "mean L1 per pixel in [0, 1] of G(x) to the held-out paired targets y "
            "(dropout off; baseline: the input itself), and the accuracy of gan.py's digit "
            "classifier on G(x), x and y against the test labels",
        }

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        n = 16
        inputs = (self.test_x[:n] + 1) / 2
        outputs = self.translate(self.test_x[:n])
        targets = (self.test_y[:n] + 1) / 2
        grid = torch.cat([inputs, outputs, targets])
        path = save_image_grid(
            grid, Path(out_dir) / "samples.png", "Pix2Pix: input x / G(x) / target y", nrow=n
        )
        return [path]


def make_experiment(ctx) -> Pix2PixExperiment:
    """`cheatsheet run pix2pix` (--option task=downscaled|edges, lambda=100, base=32)."""
    from cheatsheet.datasets import load

    torch.manual_seed(ctx.seed)
    split = load(ctx.data, seed=ctx.seed)
    config = ctx.settings(Pix2PixConfig, "pix2pix")
    task = config.task
    if task not in TASKS:
        from cheatsheet.errors import CheatsheetError

        raise CheatsheetError(f"unknown pix2pix task '{task}'; choose {', '.join(TASKS)}")
    base = config.base
    generator_net = UNetGenerator(1, 1, base).to(ctx.device)
    discriminator_net = PatchDiscriminator(2, base).to(ctx.device)
    lr = config.lr

    def model_space(images):
        return 2 * images - 1

    return Pix2PixExperiment(
        ctx,
        generator_net,
        discriminator_net,
        train_x=model_space(make_pairs(split.train, task)),
        train_y=model_space(split.train),
        test_x=model_space(make_pairs(split.test, task)),
        test_y=model_space(split.test),
        train_digits=split.train,
        train_labels=split.train_labels,
        test_labels=split.test_labels,
        g_optimizer=torch.optim.Adam(generator_net.parameters(), lr=lr, betas=(0.5, 0.999)),
        d_optimizer=torch.optim.Adam(discriminator_net.parameters(), lr=lr, betas=(0.5, 0.999)),
        l1_weight=config.lambda_,
        batch_size=config.batch,
    )
