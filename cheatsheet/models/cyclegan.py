"""CycleGAN: unpaired image-to-image translation with cycle-consistent adversarial networks.

Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks", ICCV 2017. Notation of the sheet (section 5.2): F: X -> Y, G: Y -> X.

With UNPAIRED samples {x_i} ~ X and {y_j} ~ Y, two translators are trained together:
    L(F, G, D_X, D_Y) = L_GAN(F, D_Y, X, Y) + L_GAN(G, D_X, Y, X) + lambda L_cyc(F, G)
    L_cyc(F, G) = E_x ||G(F(x)) - x||_1 + E_y ||F(G(y)) - y||_1     (cycle-consistency-loss)
with lambda = 10. The adversarial terms alone only match distributions (any bijection of X
onto Y would do); the cycle term asks F and G to be inverses, which rules most of them out.
L1 is the mean absolute error per pixel.

The GAN losses are least-squares (LSGAN, Mao et al. 2017; the paper's choice, section 4):
    D_Y: minimise E_y (D_Y(y) - 1)^2 + E_x D_Y(F(x))^2   (halved, as in the paper)
    F:   minimise E_x (D_Y(F(x)) - 1)^2                   (and symmetrically for G, D_X)
D is updated on a history of 50 generated images rather than only the latest ones (the image
pool of Shrivastava et al. 2017; section 4), which damps oscillation.

Networks (section 4, appendix 7.2) at 8x8 scale, instance normalisation throughout:
- generators: c3s1-k, d(2k) (stride-2 conv), residual blocks at 4x4, u(k) (stride-1/2
  transposed conv), c3s1-1 with Tanh;
- discriminators: the 4x4 PatchGAN of pix2pix.py on one image (no condition).
Adam with beta1 = 0.5 and lr 5e-4 (the paper's 2e-4 needs more than the 1000 steps of a
two-minute run: G(y) is then still noisy).

Unpaired toy domains built from the digits (`--option domain=`): the training digits are split
into two DISJOINT halves; X = the first half as they are, Y = the second half transformed
(`invert`: 1 - x, the default; `rotate`: rotated by 90 degrees). No x is ever shown with its
own transform. Evaluation on the test digits, where we do know the pairing: the translation
error ||F(x) - T(x)||_1 and ||G(T(x)) - x||_1 (mean per pixel in [0, 1]), the cycle
reconstruction errors of both directions, and the digit classifier's accuracy on G(T(x)).
`rotate` is a geometric change, the kind the paper's limitations section (5.2) reports CycleGAN
failing at: here too, after 1000 steps the cycles close (L1 ~ 0.06) while G(y) draws digits of
the wrong class (classifier accuracy at chance) - the cycle term alone does not pin the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cheatsheet.models.pix2pix import PatchDiscriminator
from cheatsheet.runs.config import param


@dataclass
class CycleGANConfig:
    domain: str = param("invert", "domain Y made from the digits: invert or rotate")
    base: int = param(32, "channels of the ResNet generators and PatchGANs")
    lr: float = param(5e-4, "Adam learning rate (beta1 = 0.5)")
    lambda_: float = param(10.0, "cycle-consistency weight (--option lambda=...)")
    batch: int = param(32, "images per domain per step")


DOMAINS = ("invert", "rotate")


def to_domain_y(digits: torch.Tensor, domain: str = "invert") -> torch.Tensor:
    """T: X -> Y of the toy task, on images in [0, 1]. Training never sees (x, T(x)) pairs."""
    if domain == "invert":
        return 1.0 - digits
    if domain == "rotate":
        return torch.rot90(digits, 1, dims=(-2, -1))
    raise ValueError(f"unknown cyclegan domain '{domain}' ({', '.join(DOMAINS)})")


# --------------------------------------------------------------------------------------------
# Generator (residual, instance norm)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, padding_mode="reflect"),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, 1, padding_mode="reflect"),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """c3s1-k, d2k, R2k x blocks, uk, c3s1-1 + Tanh: 8x8 -> 4x4 -> 8x8."""

    def __init__(self, channels: int = 1, base: int = 32, blocks: int = 2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, base, 3, 1, 1, padding_mode="reflect"),
            nn.InstanceNorm2d(base, affine=True),
            nn.ReLU(),
            nn.Conv2d(base, 2 * base, 3, 2, 1),  # 8x8 -> 4x4
            nn.InstanceNorm2d(2 * base, affine=True),
            nn.ReLU(),
            *[ResidualBlock(2 * base) for _ in range(blocks)],
            nn.ConvTranspose2d(2 * base, base, 4, 2, 1),  # 4x4 -> 8x8
            nn.InstanceNorm2d(base, affine=True),
            nn.ReLU(),
            nn.Conv2d(base, channels, 3, 1, 1, padding_mode="reflect"),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x)
        assert y.shape == x.shape
        return y


# --------------------------------------------------------------------------------------------
# The losses


@dataclass
class CycleTerms:
    fake_y: torch.Tensor  # F(x)
    fake_x: torch.Tensor  # G(y)
    reconstructed_x: torch.Tensor  # G(F(x))
    reconstructed_y: torch.Tensor  # F(G(y))


def cycle_terms(F_net: nn.Module, G_net: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """Both translations and both round trips: x -> F(x) -> G(F(x)), y -> G(y) -> F(G(y))."""
    fake_y, fake_x = F_net(x), G_net(y)
    return CycleTerms(fake_y, fake_x, G_net(fake_y), F_net(fake_x))


def cycle_consistency_loss(terms: CycleTerms, x: torch.Tensor, y: torch.Tensor):
    """||G(F(x)) - x||_1 + ||F(G(y)) - y||_1, each the mean over pixels and examples
    (cycle-consistency-loss)."""
    return (terms.reconstructed_x - x).abs().mean() + (terms.reconstructed_y - y).abs().mean()


def lsgan_discriminator_loss(real_scores, fake_scores) -> torch.Tensor:
    """0.5 [E (D(real) - 1)^2 + E D(fake)^2]."""
    return 0.5 * ((real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean())


def lsgan_generator_loss(fake_scores) -> torch.Tensor:
    """E (D(fake) - 1)^2."""
    return (fake_scores - 1).pow(2).mean()


class ImagePool:
    """Keep up to `size` generated images; hand D a mix of new and old ones (p = 0.5 each)."""

    def __init__(self, size: int = 50, generator: torch.Generator | None = None):
        self.size, self.images, self.rng = size, [], generator

    def query(self, images: torch.Tensor) -> torch.Tensor:
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.rng) < 0.5:
                slot = int(torch.randint(0, self.size, (), generator=self.rng))
                out.append(self.images[slot].clone())
                self.images[slot] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


# --------------------------------------------------------------------------------------------
# Training


@dataclass
class CycleGANExperiment:
    ctx: Any
    F_net: ResnetGenerator  # X -> Y
    G_net: ResnetGenerator  # Y -> X
    D_X_net: PatchDiscriminator
    D_Y_net: PatchDiscriminator
    train_x: torch.Tensor  # [-1, 1]
    train_y: torch.Tensor  # [-1, 1], from disjoint digits
    test_x: torch.Tensor
    test_y: torch.Tensor  # T(test_x): the pairing is used only for evaluation
    train_digits: torch.Tensor
    train_labels: torch.Tensor
    test_labels: torch.Tensor
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    cycle_weight: float = 10.0  # lambda
    batch_size: int = 32
    rng: torch.Generator = field(init=False)

    def __post_init__(self):
        wrap = self.ctx.wrap
        self.F, self.G = wrap(self.F_net), wrap(self.G_net)
        self.D_X, self.D_Y = wrap(self.D_X_net), wrap(self.D_Y_net)
        self.rng = torch.Generator().manual_seed(self.ctx.seed + 1000 * self.ctx.rank)
        self.pool_x, self.pool_y = ImagePool(50, self.rng), ImagePool(50, self.rng)

    def modules(self) -> dict[str, nn.Module]:
        return {"F": self.F_net, "G": self.G_net, "D_X": self.D_X_net, "D_Y": self.D_Y_net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generators": self.g_optimizer, "discriminators": self.d_optimizer}

    def _sample(self, data: torch.Tensor) -> torch.Tensor:
        index = torch.randint(0, len(data), (self.batch_size,), generator=self.rng)
        return data[index].to(self.ctx.device)

    def train_step(self, step: int) -> dict[str, float]:
        for module in self.modules().values():
            module.train()
        x, y = self._sample(self.train_x), self._sample(self.train_y)  # independent draws
        # Generators: fool both discriminators and close both cycles.
        terms = cycle_terms(self.F, self.G, x, y)
        adversarial = lsgan_generator_loss(self.D_Y(terms.fake_y)) + lsgan_generator_loss(
            self.D_X(terms.fake_x)
        )
        cycle = cycle_consistency_loss(terms, x, y)
        g_loss = adversarial + self.cycle_weight * cycle
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optimizer.step()
        # Discriminators, on real images and on the history of fakes.
        fake_y = self.pool_y.query(terms.fake_y)
        fake_x = self.pool_x.query(terms.fake_x)
        d_loss = lsgan_discriminator_loss(self.D_Y(y), self.D_Y(fake_y)) + (
            lsgan_discriminator_loss(self.D_X(x), self.D_X(fake_x))
        )
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        return {
            "loss": g_loss.item(),
            "d_loss": d_loss.item(),
            "g_adversarial": adversarial.item(),
            "cycle": cycle.item(),
        }

    @torch.no_grad()
    def _apply(self, net: nn.Module, images: torch.Tensor) -> torch.Tensor:
        net.eval()
        return torch.cat([net(chunk.to(self.ctx.device)).cpu() for chunk in images.split(256)])

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        from cheatsheet.models.gan import classifier_scores, digit_classifier

        def unit(images):
            return ((images + 1) / 2).clamp(0, 1)

        x, y = self.test_x, self.test_y
        fake_y, fake_x = self._apply(self.F_net, x), self._apply(self.G_net, y)
        reconstructed_x = self._apply(self.G_net, fake_y)
        reconstructed_y = self._apply(self.F_net, fake_x)
        classifier = digit_classifier(self.train_digits, self.train_labels, self.ctx.seed)

        def accuracy(images):
            predicted = classifier_scores(classifier, unit(images))["probabilities"].argmax(1)
            return float((predicted == self.test_labels.cpu()).float().mean())

        def l1(a, b):  # mean per pixel, in [0, 1] units
            return float((unit(a) - unit(b)).abs().mean())

        return {
            "translation_l1_x_to_y": l1(fake_y, y),
            "translation_l1_y_to_x": l1(fake_x, x),
            "identity_l1_baseline": l1(x, y),
            "cycle_l1_x": l1(reconstructed_x, x),
            "cycle_l1_y": l1(reconstructed_y, y),
            "classifier_accuracy_G_of_y": accuracy(fake_x),
            "classifier_accuracy_test_digits": accuracy(x),
            "measure": "on the test digits (whose pairing x <-> T(x) training never saw): mean "
            "L1 per pixel in [0, 1] of F(x) to T(x) and of G(T(x)) to x (baseline: x vs T(x)), "
            "cycle reconstruction errors |G(F(x)) - x| and |F(G(y)) - y|, and the digit "
            "classifier's accuracy on G(y) against the labels",
        }

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        n = 12
        x, y = self.test_x[:n], self.test_y[n : 2 * n]
        fake_y, fake_x = self._apply(self.F_net, x), self._apply(self.G_net, y)
        rows = [
            x,
            fake_y,
            self._apply(self.G_net, fake_y),
            y,
            fake_x,
            self._apply(self.F_net, fake_x),
        ]
        grid = ((torch.cat(rows) + 1) / 2).clamp(0, 1)
        title = "CycleGAN rows: x, F(x), G(F(x)); y, G(y), F(G(y))"
        return [save_image_grid(grid, Path(out_dir) / "samples.png", title, nrow=n)]


def make_experiment(ctx) -> CycleGANExperiment:
    """`cheatsheet run cyclegan` (--option domain=invert|rotate, lambda=10, base=32, lr)."""
    from cheatsheet.datasets import load

    torch.manual_seed(ctx.seed)
    split = load(ctx.data, seed=ctx.seed)
    config = ctx.settings(CycleGANConfig, "cyclegan")
    domain = config.domain
    if domain not in DOMAINS:
        from cheatsheet.errors import CheatsheetError

        raise CheatsheetError(f"unknown cyclegan domain '{domain}'; choose {', '.join(DOMAINS)}")
    half = len(split.train) // 2  # disjoint halves: unpaired by construction
    base = config.base
    F_net = ResnetGenerator(1, base).to(ctx.device)
    G_net = ResnetGenerator(1, base).to(ctx.device)
    D_X_net = PatchDiscriminator(1, base, norm="instance").to(ctx.device)
    D_Y_net = PatchDiscriminator(1, base, norm="instance").to(ctx.device)
    lr = config.lr
    generators = [*F_net.parameters(), *G_net.parameters()]
    discriminators = [*D_X_net.parameters(), *D_Y_net.parameters()]
    return CycleGANExperiment(
        ctx,
        F_net,
        G_net,
        D_X_net,
        D_Y_net,
        train_x=2 * split.train[:half] - 1,
        train_y=2 * to_domain_y(split.train[half:], domain) - 1,
        test_x=2 * split.test - 1,
        test_y=2 * to_domain_y(split.test, domain) - 1,
        train_digits=split.train,
        train_labels=split.train_labels,
        test_labels=split.test_labels,
        g_optimizer=torch.optim.Adam(generators, lr=lr, betas=(0.5, 0.999)),
        d_optimizer=torch.optim.Adam(discriminators, lr=lr, betas=(0.5, 0.999)),
        cycle_weight=config.lambda_,
        batch_size=config.batch,
    )
