"""Every image model on 28x28 MNIST: a few steps through the harness, the shapes, and the
property that defines it (causality by autograd, D ln 2 at zero logits, invertibility, the
IWAE bound under the ELBO, 256-level dequantisation, the DCGAN/U-Net sizes). Tiny settings:
these check the 28x28 paths, not the models' quality (bench density and the README do)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from cheatsheet import datasets
from cheatsheet.runs.harness import run
from cheatsheet.runs.protocol import RunContext

D = 28 * 28


def context(data: str, tmp_path: Path, **options) -> RunContext:
    return RunContext(
        device=torch.device("cpu"), seed=0, steps=4, data=data, out_dir=tmp_path, options=options
    )


def tiny_run(model: str, data: str, tmp_path: Path, steps: int = 2, **options) -> dict:
    result = run(
        model,
        device="cpu",
        steps=steps,
        data=data,
        out=tmp_path / model,
        progress=False,
        options=options,
    )
    assert (tmp_path / model / "samples.png").is_file()
    return result.metrics


# --------------------------------------------------------------------------------------------
# Autoregressive models: D = 784 conditionals, each reading only the pixels before it


def assert_causal(logits_of, dims: int, positions=(0, 1, 29, 400, 783)) -> None:
    """d/dx_j logit_d = 0 for j >= d, by autograd on random binary pixels (raster order)."""
    torch.manual_seed(0)
    x = torch.bernoulli(torch.full((2, dims), 0.3)).requires_grad_(True)
    for d in positions:
        (gradient,) = torch.autograd.grad(logits_of(x)[:, d].sum(), x)
        assert gradient[:, d:].abs().max() == 0, d
        if d >= 1:
            assert gradient[:, :d].abs().max() > 0, d


def test_fvsbn_nade_transformer_on_784_pixels_are_causal(tmp_path):
    from cheatsheet.models import fvsbn, nade, transformer
    from cheatsheet.models.autoregressive_common import data_dims

    ctx = context("mnist-binary", tmp_path)
    assert data_dims(ctx) == D
    model = fvsbn.make_experiment(ctx).model
    assert model.dims == D
    torch.nn.init.normal_(model.weight, std=0.1)  # zero init would hide a wrong mask
    assert_causal(model.logits, D)
    nade_model = nade.make_experiment(context("mnist-binary", tmp_path, hidden=16)).model
    assert nade_model.dims == D
    assert_causal(nade_model.logits, D)
    small = context("mnist-binary", tmp_path, n_layer=1, n_embd=16, n_head=2)
    pixel_transformer = transformer.make_experiment(small).model
    assert pixel_transformer.config.sequence_length == D
    assert_causal(pixel_transformer.logits, D)


def test_made_on_784_pixels_is_causal_in_its_ordering(tmp_path):
    from cheatsheet.models import made

    ctx = context("mnist-binary", tmp_path, hidden=64, num_masks=1, order_agnostic=False)
    model = made.make_experiment(ctx).model
    assert model.dims == D
    # Raster order: the degrees follow the pixel index. With 64 hidden units of sampled degree
    # an early output may have no path at all (legal), so paths are required only near the end.
    assert_causal(model.logits, D, positions=(700, 783))
    x = torch.zeros(1, D, requires_grad=True)
    for d in (0, 1, 29, 400):
        (gradient,) = torch.autograd.grad(model.logits(x)[:, d].sum(), x)
        assert gradient[:, d:].abs().max() == 0, d


def test_untrained_fvsbn_scores_exactly_d_ln2_on_mnist(tmp_path):
    from cheatsheet.models import fvsbn

    experiment = fvsbn.make_experiment(context("mnist-binary", tmp_path))  # zero weights
    metrics = experiment.evaluate()
    assert metrics["dims"] == D
    assert metrics["test_nll_nats"] == pytest.approx(D * math.log(2), rel=1e-6)
    assert metrics["bits_per_dim"] == pytest.approx(1.0, rel=1e-6)
    assert experiment.validation_nll() == pytest.approx(D * math.log(2), rel=1e-6)


def test_pixelcnn_and_gated_on_28x28_are_causal_and_train(tmp_path):
    from cheatsheet.models.pixelcnn import GatedPixelCNN, PixelCNN

    for model in (PixelCNN(1, features=8, blocks=1), GatedPixelCNN(1, features=8, layers=2)):
        torch.manual_seed(0)
        x = torch.bernoulli(torch.full((1, 1, 28, 28), 0.3)).requires_grad_(True)
        row, col = 14, 10
        (gradient,) = torch.autograd.grad(model.logits(x)[0, 0, row, col], x)
        flat = gradient[0, 0].flatten()
        assert flat[row * 28 + col :].abs().max() == 0  # nothing at or after the pixel
        assert flat[: row * 28 + col].abs().max() > 0
    metrics = tiny_run("pixelcnn", "mnist-binary", tmp_path, features=8, blocks=1, samples=2)
    assert metrics["dims"] == D and math.isfinite(metrics["test_nll_nats"])
    from cheatsheet.models import pixelcnn, pixelrnn

    # the samplers draw 28x28 images (they once drew 8x8 whatever the data)
    for make in (pixelcnn.make_experiment, pixelcnn.make_gated_experiment):
        model = make(context("mnist-binary", tmp_path, features=8)).model
        assert (model.height, model.width) == (28, 28)
    rnn = pixelrnn.make_experiment(context("mnist-binary", tmp_path, features=4, layers=1)).model
    assert (rnn.height, rnn.width) == (28, 28)
    small = pixelcnn.make_experiment(context("mnist-binary", tmp_path, features=4, blocks=1))
    assert small.model.sample(1).shape == (1, 1, 28, 28)


def test_binary_grid_shows_28x28_samples(tmp_path):
    from cheatsheet.models.autoregressive_common import image_side, save_binary_grid

    images = torch.bernoulli(torch.full((4, D), 0.5))
    assert image_side(images) == 28 and image_side(images.reshape(4, 1, 8, 98)) == 28
    path = save_binary_grid(images, tmp_path / "grid.png", "28x28", columns=2)
    assert path.stat().st_size > 1000


# --------------------------------------------------------------------------------------------
# VAE, VQ-VAE, baselines


def test_vae_on_mnist_binary_iwae_is_below_the_elbo(tmp_path):
    metrics = tiny_run("vae", "mnist-binary", tmp_path, steps=3, hidden=32, iwae_k=16)
    # log p(x) >= IWAE_K >= ELBO, so -IWAE_K <= -ELBO (the estimate can wobble a little)
    assert metrics["test_nll_nats"] <= metrics["test_negative_elbo_nats"] + 1.0
    assert metrics["bits_per_dim"] == pytest.approx(metrics["test_nll_nats"] / (D * math.log(2)))
    assert metrics["config"]["latent_dim"] is None  # resolved by the data: 16 for 28x28
    from cheatsheet.models.vae import default_latent_dim

    assert default_latent_dim((1, 28, 28)) == 16 and default_latent_dim((1, 8, 8)) == 8


def test_vqvae_on_mnist_codes_a_7x7_grid(tmp_path):
    from cheatsheet.models.vqvae import VQVAEExperiment

    ctx = context("mnist-binary", tmp_path, hidden=8, num_codes=16, prior_channels=8)
    experiment = VQVAEExperiment(ctx)
    codes = experiment.model.encode(experiment.test_x[:3])
    assert codes.shape == (3, 7, 7)  # 28 / 2^2
    assert experiment.model.decode(codes).shape == (3, 1, 28, 28)


def test_bernoulli_mixture_on_mnist_beats_independent_pixels(tmp_path):
    from cheatsheet.models.baselines import make_independent_experiment, make_mixture_experiment

    independent = make_independent_experiment(context("mnist-binary", tmp_path))
    independent.train_step(0)
    mixture = make_mixture_experiment(context("mnist-binary", tmp_path, components=5))
    for step in range(5):
        mixture.train_step(step)
    assert mixture.validation_nll() < independent.validation_nll() - 10


# --------------------------------------------------------------------------------------------
# Flows: invertible at 28x28, NLL of the 256-level images


def test_realnvp_and_glow_invert_28x28_and_count_256_levels(tmp_path):
    from cheatsheet.models import glow, realnvp

    for module in (realnvp, glow):
        experiment = module.make_experiment(context("mnist", tmp_path, hidden=8))
        assert experiment.levels == 256
        x = realnvp.dequantise_digits(experiment.train[:3], levels=256)
        model = experiment.model.eval()
        with torch.no_grad():
            z, _ = model(x)
            assert z.shape == (3, D)
            torch.testing.assert_close(model.inverse(z), x, atol=1e-3, rtol=0)
        metrics = experiment.evaluate()
        expected = metrics["test_nll_continuous_nats"] + D * math.log(256)
        assert metrics["test_nll_nats"] == pytest.approx(expected, rel=1e-6)


def test_dequantised_mnist_stays_in_its_bins():
    split = datasets.load("mnist")
    from cheatsheet.models.realnvp import dequantise_digits

    x = split.train[:16]
    y = dequantise_digits(x, torch.Generator().manual_seed(0), levels=256)
    assert torch.equal(torch.floor(y * 256), torch.round(x * 255))


def test_conditional_flows_on_mnist(tmp_path):
    from cheatsheet.models.conditional_flow import _make

    for kind in ("class", "srflow"):
        experiment = _make(context("mnist", tmp_path, hidden=8), kind)
        condition = experiment.train_condition[:2]
        if kind == "srflow":
            assert condition.shape == (2, 1, 14, 14)
        sample = experiment.model.sample(condition, 2)
        assert sample.shape == (2, 1, 28, 28)
        x = realnvp_dequantise(experiment.train[:2])
        with torch.no_grad():
            z, _ = experiment.model(x, condition)
            torch.testing.assert_close(experiment.model.inverse(z, condition), x, atol=1e-3, rtol=0)


def realnvp_dequantise(x):
    from cheatsheet.models.realnvp import dequantise_digits

    return dequantise_digits(x, levels=256)


# --------------------------------------------------------------------------------------------
# GANs and diffusion


def test_dcgan_sizes_for_28x28():
    from cheatsheet.models.dcgan import DCGANDiscriminator, DCGANGenerator

    generator, discriminator = DCGANGenerator(8, base=4, side=28), DCGANDiscriminator(4, side=28)
    images = generator(torch.randn(3, 8))
    assert images.shape == (3, 1, 28, 28) and images.abs().max() <= 1
    assert discriminator(images).shape == (3,)
    with pytest.raises(ValueError, match="divisible by 4"):
        DCGANGenerator(8, base=4, side=30)


@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan-gp"])
def test_gans_train_on_mnist(model, tmp_path):
    options = {"batch": 16} if model != "dcgan" else {"batch": 16, "base": 4}
    metrics = tiny_run(model, "mnist", tmp_path, **options)
    assert math.isfinite(metrics["frechet_classifier_distance"])
    # the scorer reads 784 pixels; two steps of training are far from the digits' floor
    assert (
        metrics["frechet_classifier_distance"]
        > metrics["frechet_classifier_distance_train_vs_test"]
    )
    assert metrics["classifier_score_test_digits"] > 5  # the scorer tells MNIST classes apart


def test_unet_and_ddpm_bound_on_mnist(tmp_path):
    from cheatsheet.models.ddpm import UNetEpsNet, make_experiment

    net = UNetEpsNet(1, base=8)
    x = torch.randn(2, 1, 28, 28)
    assert net(x, torch.tensor([1, 500])).shape == x.shape
    ctx = context("mnist", tmp_path, timesteps=10, base=8, eval_samples=4, vlb_repeats=1)
    experiment = make_experiment(ctx)
    assert experiment.levels == 256 and experiment.train.shape[1:] == (1, 28, 28)
    experiment.train_step(0)
    bits, stderr = experiment.bound_bits_per_dim(repeats=1)
    assert math.isfinite(bits) and bits > 0


def test_cfg_and_latent_diffusion_on_mnist(tmp_path):
    from cheatsheet.models import guidance, latent_diffusion

    cfg = guidance.make_experiment(context("mnist", tmp_path, timesteps=5, base=8))
    cfg.train_step(0)
    samples = cfg.generate_class(torch.tensor([3, 7]), w=2.0)
    assert samples.shape == (2, 1, 28, 28)
    latent = latent_diffusion.make_experiment(context("mnist", tmp_path))
    for step in range(4):  # 40% autoencoder steps, then the latent DDPM
        latent.train_step(step)
    assert latent.latents is not None
    assert latent.decode(torch.zeros(2, 8)).shape == (2, 1, 28, 28)
