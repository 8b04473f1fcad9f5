"""Classifier-free guidance: one network, conditional and unconditional at once.

Ho & Salimans, "Classifier-Free Diffusion Guidance", NeurIPS 2021 workshop / arXiv 2022.

Training (Algorithm 1): a DDPM whose eps-network takes a class label c; with probability
p_uncond the label is replaced by the null label (conditional dropout), so the same network
learns eps_theta(x_t, t, c) and eps_theta(x_t, t) = eps_theta(x_t, t, null).

Sampling (Algorithm 2) replaces eps_theta by the guided prediction
    eps_tilde = eps_u + w (eps_c - eps_u),
    eps_c = eps_theta(x_t, t, c),  eps_u = eps_theta(x_t, t) = eps_theta(x_t, t, null),
so w = 0 is the unconditional model, w = 1 the conditional one and w > 1 pushes samples away
from the unconditional prediction (less diverse, more typical of the class).
The sheet (and the paper) write the same thing as (1 + rho) eps_c - rho eps_u; expanding,
eps_u + w (eps_c - eps_u) = w eps_c - (w - 1) eps_u, i.e. w = 1 + rho (rho = 0: conditional).

Evaluation: a logistic-regression digit classifier (fitted on the training digits) labels the
samples; its accuracy on the asked class measures how well guidance conditions, and the
energy distance to the test digits measures sample quality, at w = 0, 1 and the guidance weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cheatsheet.models.ddpm import (
    DiffusionExperiment,
    GaussianDiffusion,
    energy,
    load_diffusion_data,
    make_eps_net,
)
from cheatsheet.runs.config import param


@dataclass
class CFGConfig:
    schedule: str = param("linear", "beta schedule: linear or cosine")
    timesteps: int = param(1000, "diffusion steps T")
    base: int = param(16, "channels of the class-conditional U-Net")
    hidden: int = param(128, "units of the MLP eps-network (2-D points)")
    lr: float = param(2e-3, "Adam learning rate")
    p_uncond: float = param(
        0.2, "probability of dropping the label (training the unconditional model)"
    )
    guidance: float = param(3.0, "guidance weight w: eps = (1 + w) eps(x, c) - w eps(x)")
    eval_per_class: int = param(10, "samples per class for the accuracy at w = 0, 1 and the weight")


def guided_eps(eps_c: torch.Tensor, eps_u: torch.Tensor, w: float) -> torch.Tensor:
    """eps_u + w (eps_c - eps_u): w = 0 unconditional, w = 1 conditional, w = 1 + rho."""
    return eps_u + w * (eps_c - eps_u)


def drop_labels(
    labels: torch.Tensor, p_uncond: float, null_label: int, generator=None
) -> torch.Tensor:
    """Conditional dropout: each label becomes the null label with probability p_uncond."""
    where = generator.device if generator is not None else labels.device
    drop = torch.rand(labels.shape, generator=generator, device=where) < p_uncond
    return torch.where(drop.to(labels.device), torch.full_like(labels, null_label), labels)


def guided_eps_fn(eps_net, labels: torch.Tensor, w: float, null_label: int):
    """eps_fn(x_t, t) for GaussianDiffusion.sample: both predictions in one batched call."""

    def eps_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        both = eps_net(
            torch.cat([x, x]),
            torch.cat([t, t]),
            torch.cat([labels, torch.full_like(labels, null_label)]),
        )
        eps_c, eps_u = both.chunk(2)
        return guided_eps(eps_c, eps_u, w)

    return eps_fn


@dataclass
class GuidanceExperiment(DiffusionExperiment):
    p_uncond: float = 0.2
    guidance_weight: float = 3.0
    eval_per_class: int = 10
    num_classes: int = 10

    def step_loss(self, x0: torch.Tensor, labels) -> torch.Tensor:
        labels = drop_labels(labels, self.p_uncond, self.num_classes, self.generator)
        return self.diffusion.loss(
            self.train_net, x0, generator=self.generator, labels=labels.to(x0.device)
        )

    def generate_class(self, labels: torch.Tensor, w: float, seed: int = 0) -> torch.Tensor:
        self.ema.eval()
        generator = torch.Generator().manual_seed(seed)
        labels = labels.to(self.ctx.device)
        eps_fn = guided_eps_fn(self.ema, labels, w, self.num_classes)
        shape = (len(labels), *self.train.shape[1:])
        return self.diffusion.sample(eps_fn, shape, self.ctx.device, generator)

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        from cheatsheet.models.sample_quality import classifier_accuracy, fit_digit_classifier

        train_images, test_images = self.to_data_space(self.train), self.to_data_space(self.test)
        classifier = fit_digit_classifier(train_images, self.train_labels, self.ctx.seed)
        metrics: dict[str, Any] = {
            "classifier_test_accuracy": classifier_accuracy(
                classifier, test_images, self.test_labels
            ),
            "energy_distance_train_vs_test": energy(train_images[: len(test_images)], test_images),
        }
        # Each sample costs 2 x 1000 network calls: 10 per class keeps this to seconds.
        per_class = self.eval_per_class
        labels = torch.arange(self.num_classes).repeat_interleave(per_class)
        for w in sorted({0.0, 1.0, self.guidance_weight}):
            samples = self.to_data_space(self.generate_class(labels, w)).cpu()
            metrics[f"accuracy_w{w:g}"] = classifier_accuracy(classifier, samples, labels)
            metrics[f"energy_distance_w{w:g}"] = energy(samples, test_images)
        metrics["measure"] = (
            f"accuracy of a logistic-regression digit classifier on {len(labels)} samples of "
            "asked classes "
            "(w = 0 is unconditional: chance 0.1), and their energy distance to the test set"
        )
        return metrics

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        out_dir = Path(out_dir)
        labels = torch.arange(self.num_classes).repeat_interleave(8)
        samples = self.to_data_space(self.generate_class(labels, self.guidance_weight, seed=1))
        return [
            save_image_grid(
                samples,
                out_dir / "samples.png",
                f"classifier-free guidance, w = {self.guidance_weight:g} (row = class)",
                nrow=8,
            )
        ]


def make_experiment(ctx) -> GuidanceExperiment:
    """`cheatsheet run cfg`: class-conditional DDPM on digits, p_uncond = 0.2, w = 3."""
    torch.manual_seed(ctx.seed)
    split, train, test, image_data = load_diffusion_data(ctx)
    if split.train_labels is None:
        from cheatsheet.errors import CheatsheetError

        raise CheatsheetError(f"cfg needs labelled data (digits), not '{ctx.data}'")
    config = ctx.settings(CFGConfig, "cfg")
    diffusion = GaussianDiffusion.from_name(config.schedule, config.timesteps)
    eps_net = make_eps_net(image_data, train[0].numel(), 10, config).to(ctx.device)
    return GuidanceExperiment(
        ctx,
        eps_net,
        diffusion,
        train,
        test,
        image_data,
        split.train_labels,
        split.test_labels,
        lr=config.lr,
        name="CFG",
        p_uncond=config.p_uncond,
        guidance_weight=config.guidance,
        eval_per_class=config.eval_per_class,
    )
