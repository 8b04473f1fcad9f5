"""GAN: generative adversarial nets, with the minimax and the non-saturating generator loss.

Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville, Bengio, "Generative
Adversarial Nets", NeurIPS 2014.

The game (paper eq. 1; sheet section 5):
    min_G max_D V(D, G) = E_{x ~ p_data} log D(x) + E_{z ~ p_z} log(1 - D(G(z)))
                                                                        (gan-value-function)
D(x) = sigmoid(ell(x)) is the probability that x came from the data; the network outputs the
logit ell, and every loss below is written in terms of logits (log sigmoid(ell) =
-softplus(-ell), log(1 - sigmoid(ell)) = -softplus(ell)) so it never takes log 0.

- For G fixed the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_model(x))
  (Proposition 1; gan-optimal-discriminator), and then V(D*, G) = -log 4 + 2 JSD(p_data ||
  p_model) (Theorem 1; gan-value-at-optimum, jsd): the global optimum is p_model = p_data.
- The discriminator ascends V: its loss is the binary cross-entropy
      L_D = -E_x log D(x) - E_z log(1 - D(G(z))).
- The minimax generator descends V: L_G = E_z log(1 - D(G(z))). Its gradient with respect to
  the logit is -D(G(z)) (gan-saturating-gradient): it vanishes exactly when D rejects the fakes
  confidently, i.e. early in training.
- The non-saturating generator (the paper's practical advice, section 3) instead maximises
  log D(G(z)): L_G = -E_z log D(G(z)), with logit gradient -(1 - D(G(z)))
  (gan-non-saturating-gradient), which is largest when D(G(z)) ~ 0. Same fixed point.

Algorithm 1: per generator step, k discriminator steps (each on a fresh minibatch of data and
of noise), then one generator step on fresh noise.

Networks (paper section 5): the generator is an MLP with ReLU hidden units (sigmoid output for
images in [0, 1], linear output for points in R^2); the discriminator is an MLP of maxout
units (Goodfellow et al. 2013) with dropout. Noise z ~ N(0, I) (the paper used uniform noise;
any simple p_z works).

Sample quality (no likelihood to report). 2D data: the energy distance of 1000 samples to the
test set (with train-vs-test as the floor a perfect model would reach at this sample size),
and on eight-gaussians the number of modes covered and the share of high-quality samples
(within 3 standard deviations of a mode). Digits: a small MLP digit classifier trained on the
training split in a few seconds; we report the Frechet distance between Gaussians fitted to
its hidden features of samples and of test digits (fid; the "Frechet classifier distance", the
FID recipe with our classifier in place of Inception), the classifier score exp(E_x KL(p(y|x) ||
p(y))) (the Inception-score recipe; 10 at best) and the same numbers for real test digits.

The helpers at the end (digit scorer, mode coverage, data loading) are shared by dcgan.py,
wgan_gp.py, pix2pix.py and cyclegan.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.runs.config import param


@dataclass
class GANConfig:
    hidden: int | None = param(None, "units of G and D (None: 256 for images, 128 for points)")
    latent: int | None = param(None, "noise size Q of z (None: 32 for images, 8 for points)")
    pieces: int = param(2, "maxout pieces per unit of D")
    dropout: float | None = param(None, "dropout in D (None: 0.2 for images, 0 for points)")
    lr: float = param(1e-3, "Adam learning rate of G and D (beta1 = 0.5)")
    k: int = param(1, "D steps per G step")
    loss: str = param("non-saturating", "G loss: non-saturating (max log D(G(z))) or minimax")
    batch: int | None = param(None, "batch size (None: 128 for images, 256 for points)")


# --------------------------------------------------------------------------------------------
# The losses, as functions of the discriminator's logits ell (D = sigmoid(ell))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """L_D = -E log D(x) - E log(1 - D(G(z))) = -V(D, G) (gan-value-function), i.e. binary
    cross-entropy with label 1 for data and 0 for fakes."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """L_G = E log(1 - D(G(z))) = -E softplus(ell); d L / d ell = -D(G(z)) per example (up to
    the 1/B of the mean): vanishes as D(G(z)) -> 0 (gan-saturating-gradient)."""
    return -F.softplus(fake_logits).mean()


def generator_loss_non_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """L_G = -E log D(G(z)) = E softplus(-ell); d L / d ell = -(1 - D(G(z))): close to -1 where
    D(G(z)) ~ 0 (gan-non-saturating-gradient)."""
    return F.softplus(-fake_logits).mean()


GENERATOR_LOSSES = {
    "non-saturating": generator_loss_non_saturating,
    "minimax": generator_loss_minimax,
}


# --------------------------------------------------------------------------------------------
# The networks


class Maxout(nn.Module):
    """h_i(x) = max_j (x W_{.ij} + b_ij), j = 1..pieces (Goodfellow et al. 2013)."""

    def __init__(self, in_features: int, out_features: int, pieces: int = 2):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x).view(*x.shape[:-1], self.out_features, self.pieces)
        return h.amax(dim=-1)


class MLPGenerator(nn.Module):
    """G(z): z -> ReLU MLP -> x; sigmoid output for images in [0, 1], linear for R^D."""

    def __init__(
        self,
        latent_dim: int,
        data_shape: tuple[int, ...],
        hidden: int = 128,
        layers: int = 2,
        sigmoid_output: bool = False,
    ):
        super().__init__()
        self.latent_dim, self.data_shape = latent_dim, tuple(data_shape)
        out_dim = math.prod(self.data_shape)
        blocks: list[nn.Module] = []
        width = latent_dim
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        blocks.append(nn.Linear(width, out_dim))
        if sigmoid_output:
            blocks.append(nn.Sigmoid())
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z).view(len(z), *self.data_shape)
        return x


class MaxoutDiscriminator(nn.Module):
    """ell(x): maxout MLP with dropout -> one logit per example; D(x) = sigmoid(ell(x))."""

    def __init__(
        self,
        data_shape: tuple[int, ...],
        hidden: int = 128,
        layers: int = 2,
        pieces: int = 2,
        dropout: float = 0.0,
    ):
        super().__init__()
        blocks: list[nn.Module] = []
        width = math.prod(data_shape)
        for _ in range(layers):
            blocks += [Maxout(width, hidden, pieces), nn.Dropout(dropout)]
            width = hidden
        blocks.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


def sample_noise(n: int, latent_dim: int, device, generator: torch.Generator | None = None):
    """z ~ N(0, I), drawn where the generator lives: on the run's device for training batches
    (no host copy per step), on the CPU for the seeded figure samples (the same on any device)."""
    where = generator.device if generator is not None else device
    return torch.randn(n, latent_dim, generator=generator, device=where).to(device)


# --------------------------------------------------------------------------------------------
# Algorithm 1: k discriminator steps per generator step


@dataclass
class GANExperiment:
    """Minibatch SGD of Algorithm 1 (Adam): k steps on D, then one on G. `step` counts G steps.

    `d_step_loss` / `g_step_loss` are the model's losses (overridden by WGAN-GP); the data are
    kept in the generator's output space (`to_data_space` maps back to [0, 1] images)."""

    ctx: Any
    generator_net: nn.Module
    discriminator_net: nn.Module
    train: torch.Tensor
    test: torch.Tensor
    image_data: bool
    latent_dim: int
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    d_steps: int = 1  # k in Algorithm 1
    generator_loss: str = "non-saturating"
    batch_size: int = 128
    name: str = "GAN"
    tanh_images: bool = False  # DCGAN: images live in [-1, 1]
    train_labels: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    rng: torch.Generator = field(init=False)

    def __post_init__(self):
        if self.generator_loss not in GENERATOR_LOSSES:
            from cheatsheet.errors import CheatsheetError

            raise CheatsheetError(
                f"unknown generator loss '{self.generator_loss}'; choose "
                + ", ".join(GENERATOR_LOSSES)
            )
        self.G = self.ctx.wrap(self.generator_net)
        self.D = self.ctx.wrap(self.discriminator_net)
        # The training data and the batch generator live on the device: no per-batch copies.
        self.train = self.train.to(self.ctx.device)
        self.rng = torch.Generator(device=self.ctx.device)
        self.rng.manual_seed(self.ctx.seed + 1000 * self.ctx.rank)

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator_net, "discriminator": self.discriminator_net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.g_optimizer, "discriminator": self.d_optimizer}

    def real_batch(self) -> torch.Tensor:
        index = torch.randint(
            0, len(self.train), (self.batch_size,), generator=self.rng, device=self.train.device
        )
        return self.train[index]

    def noise(self, n: int) -> torch.Tensor:
        return sample_noise(n, self.latent_dim, self.ctx.device, self.rng)

    def d_step_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        # One forward over real and fake together (the MLP has no batch statistics).
        logits = self.D(torch.cat([real, fake]))
        return discriminator_loss(logits[: len(real)], logits[len(real) :])

    def g_step_loss(self, fake: torch.Tensor) -> torch.Tensor:
        return GENERATOR_LOSSES[self.generator_loss](self.D(fake))

    def train_step(self, step: int) -> dict[str, float]:
        self.generator_net.train()
        self.discriminator_net.train()
        for _ in range(self.d_steps):
            real = self.real_batch()
            with torch.no_grad():  # G is fixed during D's steps
                fake = self.G(self.noise(len(real)))
            d_loss = self.d_step_loss(real, fake)
            self.d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_optimizer.step()
        # The G step back-propagates through D; D's gradients are discarded (zeroed above).
        g_loss = self.g_step_loss(self.G(self.noise(self.batch_size)))
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optimizer.step()
        return {"loss": d_loss.item(), "d_loss": d_loss.item(), "g_loss": g_loss.item()}

    # sampling and evaluation --------------------------------------------------------------
    def to_data_space(self, x: torch.Tensor) -> torch.Tensor:
        if not self.image_data:
            return x
        return ((x + 1) / 2).clamp(0, 1) if self.tanh_images else x.clamp(0, 1)

    @torch.no_grad()
    def generate(self, n: int, seed: int = 0) -> torch.Tensor:
        self.generator_net.eval()
        z = sample_noise(n, self.latent_dim, self.ctx.device, torch.Generator().manual_seed(seed))
        return self.to_data_space(self.generator_net(z)).cpu()

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        samples = self.generate(1000 if not self.image_data else 500)
        test = self.to_data_space(self.test.cpu())
        train = self.to_data_space(self.train.cpu())
        if self.image_data:
            return digit_sample_quality(samples, train, self.train_labels, test, self.ctx.seed)
        return toy_sample_quality(samples, train, test, self.ctx.data)

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid, save_scatter

        out_dir = Path(out_dir)
        if self.image_data:
            samples = self.generate(64, seed=1)
            return [save_image_grid(samples, out_dir / "samples.png", f"{self.name} samples")]
        samples = self.generate(1000, seed=1)
        test = self.to_data_space(self.test.cpu())
        return [save_scatter(samples, out_dir / "samples.png", test, f"{self.name} samples")]


# --------------------------------------------------------------------------------------------
# Sample quality (shared by every GAN in this package)


def eight_gaussian_centres() -> torch.Tensor:
    """The modes of cheatsheet.datasets' eight-gaussians: radius 2, angles k pi / 4, std 0.1."""
    angles = torch.arange(8, dtype=torch.float32) * (math.pi / 4)
    return 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def mode_coverage(
    samples: torch.Tensor, centres: torch.Tensor, radius: float, min_share: float = 0.25
) -> tuple[int, float]:
    """(modes covered, high-quality share): a sample is high quality when it lies within
    `radius` of its nearest mode; a mode is covered when it holds at least `min_share` of its
    fair share 1/K of the samples."""
    distances = torch.cdist(samples.float(), centres.float())
    nearest_distance, nearest = distances.min(dim=1)
    good = nearest_distance < radius
    counts = torch.bincount(nearest[good], minlength=len(centres))
    covered = int((counts >= min_share * len(samples) / len(centres)).sum())
    return covered, float(good.float().mean())


def toy_sample_quality(samples, train, test, data: str) -> dict[str, Any]:
    from cheatsheet.models.sample_quality import energy_distance

    metrics: dict[str, Any] = {
        "energy_distance_to_test": energy_distance(samples, test),
        "energy_distance_train_vs_test": energy_distance(train[: len(test)], test),
    }
    measure = "energy distance of 1000 samples to the test set (train-vs-test as the floor)"
    if data == "eight-gaussians":
        covered, good = mode_coverage(samples, eight_gaussian_centres(), radius=0.3)
        metrics["modes_covered"] = covered
        metrics["modes_total"] = 8
        metrics["high_quality_share"] = good
        measure += (
            "; modes covered (>= 1/4 of the fair share of samples within 3 std of the mode) and"
            " the share of samples within 3 std of some mode"
        )
    metrics["measure"] = measure
    return metrics


class DigitClassifier(nn.Module):
    """D -> 128 -> 64 (features) -> 10, D = 64 (8x8) or 784 (28x28). The features are the
    second layer's pre-activations: after the ReLU, dead units would make the fitted
    covariances singular."""

    def __init__(self, dims: int = 64):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(dims, 128), nn.ReLU(), nn.Linear(128, 64))
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.flatten(1)))


_SCORERS: dict[int, DigitClassifier] = {}


def digit_classifier(
    train: torch.Tensor, labels: torch.Tensor, seed: int = 0, steps: int = 600
) -> DigitClassifier:
    """Train (once per seed and process) the scoring classifier on [0, 1] training digits:
    Adam, 600 steps of 128, with small input noise so it also judges imperfect samples."""
    key = hash((seed, len(train), float(train.sum())))
    if key in _SCORERS:
        return _SCORERS[key]
    # evaluate() runs under no_grad; the classifier's own training needs gradients.
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(10_000 + seed)
        classifier = DigitClassifier(train[0].numel())
        optimizer = torch.optim.Adam(classifier.parameters(), lr=3e-3)
        x, y = train.flatten(1).float().cpu(), labels.cpu()
        for _ in range(steps):
            index = torch.randint(0, len(x), (128,))
            inputs = (x[index] + 0.05 * torch.randn_like(x[index])).clamp(0, 1)
            loss = F.cross_entropy(classifier(inputs), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    classifier.eval().requires_grad_(False)
    _SCORERS[key] = classifier
    return classifier


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}) of fitted Gaussians (fid)."""
    import formulas

    a, b = features_a.double().cpu().numpy(), features_b.double().cpu().numpy()
    return float(
        formulas.get("fid").evaluate(
            mu1=a.mean(0), sigma1=_covariance(a), mu2=b.mean(0), sigma2=_covariance(b)
        )
    )


def _covariance(features):
    import numpy as np

    return np.cov(features, rowvar=False)


@torch.no_grad()
def classifier_scores(classifier: DigitClassifier, images: torch.Tensor) -> dict[str, Any]:
    """Features, class probabilities, the classifier score exp(E KL(p(y|x) || p(y))) and the
    mean top-class confidence of a batch of [0, 1] digit images."""
    x = images.flatten(1).float().cpu().clamp(0, 1)
    features = classifier.features(x)
    probabilities = classifier.head(features).softmax(dim=1)
    marginal = probabilities.mean(dim=0, keepdim=True)
    kl = (probabilities * (probabilities.clamp_min(1e-12).log() - marginal.log())).sum(1)
    return {
        "features": features,
        "probabilities": probabilities,
        "score": float(kl.mean().exp()),
        "confidence": float(probabilities.max(dim=1).values.mean()),
    }


def digit_sample_quality(samples, train, train_labels, test, seed: int = 0) -> dict[str, Any]:
    """Frechet classifier distance and classifier score of samples vs real test digits."""
    classifier = digit_classifier(train, train_labels, seed)
    fake = classifier_scores(classifier, samples)
    real = classifier_scores(classifier, test)
    floor = classifier_scores(classifier, train[: len(test)])
    counts = torch.bincount(fake["probabilities"].argmax(1), minlength=10)
    return {
        "frechet_classifier_distance": frechet_distance(fake["features"], real["features"]),
        "frechet_classifier_distance_train_vs_test": frechet_distance(
            floor["features"], real["features"]
        ),
        "classifier_score": fake["score"],
        "classifier_score_test_digits": real["score"],
        "classifier_confidence": fake["confidence"],
        "classifier_confidence_test_digits": real["confidence"],
        "classes_generated": int((counts > 0).sum()),
        "measure": (
            f"{len(samples)} samples vs the test digits in the feature space of a small MLP "
            "digit classifier trained on the training split: Frechet distance of the fitted "
            "Gaussians (FID recipe, train-vs-test as the floor), classifier score "
            "exp(E KL(p(y|x) || p(y))) (Inception-score recipe, 10 at best) and mean top-class "
            "confidence; the same for real test digits as reference"
        ),
    }


# --------------------------------------------------------------------------------------------
# Data and `cheatsheet run gan`


def load_gan_data(ctx, tanh_images: bool = False):
    """(split, train, test, image_data): digits as (N, 1, 8, 8) in [0, 1] (or [-1, 1] for a
    tanh generator), 2D points as they are."""
    from cheatsheet.datasets import load

    split = load(ctx.data, seed=ctx.seed)
    image_data = len(split.shape) == 3
    train, test = split.train, split.test
    if image_data and tanh_images:
        train, test = 2 * train - 1, 2 * test - 1
    return split, train, test, image_data


def make_experiment(ctx) -> GANExperiment:
    """`cheatsheet run gan`: MLP G, maxout D, k = 1, non-saturating G loss (or --option
    loss=minimax, k=N, hidden=H, dropout=P, lr); Adam lr 1e-3, beta1 = 0.5."""
    torch.manual_seed(ctx.seed)
    split, train, test, image_data = load_gan_data(ctx)
    config = ctx.settings(GANConfig, "gan")
    hidden = config.hidden or (256 if image_data else 128)
    latent_dim = config.latent or (32 if image_data else 8)
    generator_net = MLPGenerator(
        latent_dim, split.shape, hidden, layers=2, sigmoid_output=image_data
    ).to(ctx.device)
    discriminator_net = MaxoutDiscriminator(
        split.shape,
        hidden,
        layers=2,
        pieces=config.pieces,
        dropout=config.dropout if config.dropout is not None else (0.2 if image_data else 0.0),
    ).to(ctx.device)
    lr = config.lr  # 2e-4 leaves digit samples blurry after 3000 steps
    return GANExperiment(
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
        batch_size=config.batch or (128 if image_data else 256),
        name="GAN",
        train_labels=split.train_labels,
        test_labels=split.test_labels,
    )
