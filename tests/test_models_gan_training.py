"""GAN architectures as their papers state them, and short training runs: finite losses, the
discriminator's loss falls on a fixed batch with the generator fixed, and a tiny end-to-end
`cheatsheet run` writes its metrics and samples."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from cheatsheet.models import cyclegan, dcgan, gan, pix2pix, wgan_gp
from cheatsheet.runs.protocol import RunContext

# --------------------------------------------------------------------------------------------
# DCGAN's architecture guidelines (Radford et al. 2016, section 3)

POOLING = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.LPPool2d)


def _layers(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if not list(m.children())]


def test_dcgan_has_no_pooling_no_hidden_linear_layers_and_batch_norm():
    generator, discriminator = dcgan.DCGANGenerator(16, 8), dcgan.DCGANDiscriminator(8)
    for net in (generator, discriminator):
        layers = _layers(net)
        assert not any(isinstance(m, POOLING) for m in layers)
        assert not any(isinstance(m, nn.Linear) for m in layers)
        assert any(isinstance(m, nn.BatchNorm2d) for m in layers)
    # Learned resampling: stride-2 (transposed) convolutions do the up/downsampling.
    assert any(isinstance(m, nn.ConvTranspose2d) and m.stride == (2, 2) for m in _layers(generator))
    assert all(m.stride == (2, 2) for m in _layers(discriminator)[:3] if isinstance(m, nn.Conv2d))


def test_dcgan_activations_and_batch_norm_placement():
    generator, discriminator = dcgan.DCGANGenerator(16, 8), dcgan.DCGANDiscriminator(8)
    g_layers, d_layers = _layers(generator), _layers(discriminator)
    # G: ReLU inside, Tanh at the output, no BN on the output layer.
    assert isinstance(g_layers[-1], nn.Tanh)
    assert isinstance(g_layers[-2], nn.ConvTranspose2d)
    g_activations = [m for m in g_layers if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.Tanh))]
    assert all(type(m) is nn.ReLU for m in g_activations[:-1]) and len(g_activations) >= 3
    # D: LeakyReLU(0.2) only, no BN on the input layer, a convolution gives the logit.
    d_activations = [m for m in d_layers if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.Tanh))]
    assert d_activations and all(
        isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in d_activations
    )
    assert isinstance(d_layers[0], nn.Conv2d) and not isinstance(d_layers[1], nn.BatchNorm2d)
    assert isinstance(d_layers[-1], nn.Conv2d)
    z = torch.randn(5, 16)
    images = generator(z)
    assert images.shape == (5, 1, 8, 8) and images.abs().max() <= 1
    assert discriminator(images).shape == (5,)


# --------------------------------------------------------------------------------------------
# Training on a fixed batch


def _ctx(device, data, tmp_path, **options):
    options = {key: str(value) for key, value in options.items()}
    return RunContext(torch.device(device), 0, 10, data, tmp_path, options=options)


def _falls(losses: list[float]) -> bool:
    return all(math.isfinite(v) for v in losses) and losses[-1] < 0.9 * losses[0]


def _d_steps_on_fixed_batch(loss_fn, optimizer, steps=25) -> list[float]:
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


GAN_CASES = [
    ("gan", "eight-gaussians", {"hidden": 32}),
    ("gan", "digits", {"hidden": 32, "dropout": 0.0}),
    ("dcgan", "digits", {"base": 8, "latent": 8}),
    ("wgan-gp", "eight-gaussians", {"hidden": 32, "n_critic": 2}),
]


@pytest.mark.parametrize(("model", "data", "options"), GAN_CASES, ids=lambda v: str(v))
def test_gan_trains_and_its_discriminator_loss_falls_with_g_fixed(
    model, data, options, device, tmp_path
):
    module = {"gan": gan, "dcgan": dcgan, "wgan-gp": wgan_gp}[model]
    torch.manual_seed(0)
    experiment = module.make_experiment(_ctx(device, data, tmp_path, batch=64, lr=2e-3, **options))
    for step in range(3):
        record = experiment.train_step(step)
        assert all(math.isfinite(v) for v in record.values()), record
    real = experiment.real_batch()
    with torch.no_grad():
        experiment.generator_net.eval()
        fake = experiment.generator_net(experiment.noise(len(real)))
    experiment.discriminator_net.train()
    losses = _d_steps_on_fixed_batch(
        lambda: experiment.d_step_loss(real, fake), experiment.d_optimizer
    )
    assert _falls(losses), losses


def test_pix2pix_trains_and_its_losses_fall_on_a_fixed_batch(device, tmp_path):
    torch.manual_seed(0)
    experiment = pix2pix.make_experiment(
        _ctx(device, "digits", tmp_path, base=8, batch=32, lr=2e-3)
    )
    for step in range(3):
        assert all(math.isfinite(v) for v in experiment.train_step(step).values())
    x, y = experiment.train_x[:32].to(device), experiment.train_y[:32].to(device)
    generator, discriminator = experiment.generator_net, experiment.discriminator_net
    generator.eval()  # G fixed (no dropout noise): D's loss must fall
    with torch.no_grad():
        fake = generator(x)
    discriminator.train()
    d_losses = _d_steps_on_fixed_batch(
        lambda: pix2pix.pix2pix_discriminator_loss(discriminator(x, y), discriminator(x, fake)),
        experiment.d_optimizer,
    )
    assert _falls(d_losses), d_losses
    # D fixed, G deterministic (eval: no dropout noise): cGAN + lambda L1 must fall.
    discriminator.eval()
    generator.eval()

    def generator_loss():
        fake = generator(x)
        return pix2pix.pix2pix_generator_loss(discriminator(x, fake), fake, y).total

    g_losses = _d_steps_on_fixed_batch(generator_loss, experiment.g_optimizer)
    assert _falls(g_losses), g_losses


def test_cyclegan_trains_and_its_losses_fall_on_a_fixed_batch(device, tmp_path):
    torch.manual_seed(0)
    experiment = cyclegan.make_experiment(
        _ctx(device, "digits", tmp_path, base=8, batch=16, lr=2e-3)
    )
    # Unpaired by construction: X and Y come from disjoint halves of the training digits.
    assert len(experiment.train_x) + len(experiment.train_y) == len(experiment.train_digits)
    for step in range(3):
        assert all(math.isfinite(v) for v in experiment.train_step(step).values())
    x, y = experiment.train_x[:16].to(device), experiment.train_y[:16].to(device)
    with torch.no_grad():
        fake_y, fake_x = experiment.F_net(x), experiment.G_net(y)
    d_x, d_y = experiment.D_X_net, experiment.D_Y_net
    d_losses = _d_steps_on_fixed_batch(
        lambda: (
            cyclegan.lsgan_discriminator_loss(d_y(y), d_y(fake_y))
            + cyclegan.lsgan_discriminator_loss(d_x(x), d_x(fake_x))
        ),
        experiment.d_optimizer,
    )
    assert _falls(d_losses), d_losses
    cycle = _d_steps_on_fixed_batch(
        lambda: cyclegan.cycle_consistency_loss(
            cyclegan.cycle_terms(experiment.F_net, experiment.G_net, x, y), x, y
        ),
        experiment.g_optimizer,
    )
    assert _falls(cycle), cycle


# --------------------------------------------------------------------------------------------
# End to end through the harness


def test_tiny_gan_run_writes_metrics_and_samples(tmp_path):
    from cheatsheet.runs import harness

    result = harness.run(
        "gan", device="cpu", steps=5, out=tmp_path, progress=False, options={"hidden": "16"}
    )
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == "gan" and metrics["data"] == "eight-gaussians"
    assert 0 <= metrics["modes_covered"] <= 8 and metrics["energy_distance_to_test"] > 0
    assert "energy distance" in metrics["measure"]
    assert (tmp_path / "samples.png").stat().st_size > 0
    assert result.metrics["steps"] == 5


def test_digit_sample_quality_ranks_real_digits_above_noise():
    """The measure itself: held-out digits score near the floor, uniform noise far from it."""
    from cheatsheet.datasets import digits

    split = digits(seed=0)
    real = gan.digit_sample_quality(split.test[:300], split.train, split.train_labels, split.test)
    noise = gan.digit_sample_quality(
        torch.rand(300, 1, 8, 8), split.train, split.train_labels, split.test
    )
    assert real["frechet_classifier_distance"] < 0.2 * noise["frechet_classifier_distance"]
    assert real["classifier_score"] > 8 > noise["classifier_score"]


def test_mode_coverage_counts_modes():
    centres = gan.eight_gaussian_centres()
    on_three = centres[torch.arange(300) % 3] + 0.01
    assert gan.mode_coverage(on_three, centres, radius=0.3) == (3, 1.0)
    covered, good = gan.mode_coverage(torch.zeros(10, 2), centres, radius=0.3)
    assert covered == 0 and good == 0.0


def test_wgan_gp_runs_under_torchrun_with_two_cpu_processes(tmp_path):
    """The gradient penalty (autograd.grad with create_graph) inside DistributedDataParallel:
    both ranks train and end with the same parameters; only rank 0 writes outputs."""
    import os

    from torchrun_helpers import failure_report, run_torchrun

    arguments = [
        "run", "wgan-gp", "--device", "cpu", "--steps", "3",
        "--out", str(tmp_path), "--json", "--option", "hidden=16", "--option", "n_critic=2",
    ]  # fmt: skip
    done = run_torchrun(arguments, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, failure_report(done)
    reports = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(reports) == 1
    metrics = json.loads(reports[0])
    assert metrics["world_size"] == 2 and metrics["ddp_parameters_in_sync"] is True
    assert (tmp_path / "samples.png").exists()
