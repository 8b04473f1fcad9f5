"""Classifier-free guidance and latent diffusion.

Guidance: w = 0 is the unconditional and w = 1 the conditional prediction (through the real
network, in the batched sampling path too); the sheet's (1 + rho) eps_c - rho eps_u is the same
map with w = 1 + rho (checked against the registry); conditional dropout drops at the asked rate.
Latent diffusion: the two stages train, the latent is rescaled to unit variance, decoded samples
are images.
"""

from __future__ import annotations

import math

import pytest
import torch

from cheatsheet.models.ddpm import GaussianDiffusion, MLPEpsNet, UNetEpsNet  # noqa: E402
from cheatsheet.models.guidance import drop_labels, guided_eps, guided_eps_fn  # noqa: E402

NULL = 10


def _net(device):
    torch.manual_seed(0)
    net = UNetEpsNet(1, base=8, num_classes=10).to(device)
    with torch.no_grad():  # make the label matter from the start
        net.embed.label.weight.mul_(5.0)
    return net.eval()


def test_w0_is_unconditional_and_w1_is_conditional(device):
    net = _net(device)
    x = torch.randn(4, 1, 8, 8, device=device)
    t = torch.tensor([1, 10, 500, 1000], device=device)
    labels = torch.tensor([0, 3, 5, 9], device=device)
    with torch.no_grad():
        eps_c = net(x, t, labels)
        eps_u = net(x, t, torch.full_like(labels, NULL))
        assert not torch.allclose(eps_c, eps_u)
        assert torch.equal(guided_eps(eps_c, eps_u, 0.0), eps_u)
        assert torch.allclose(guided_eps(eps_c, eps_u, 1.0), eps_c, atol=1e-6, rtol=0)
        # The batched path used by the sampler gives the same predictions.
        assert torch.allclose(guided_eps_fn(net, labels, 0.0, NULL)(x, t), eps_u, atol=1e-5)
        assert torch.allclose(guided_eps_fn(net, labels, 1.0, NULL)(x, t), eps_c, atol=1e-5)
        # No label at all is the null label: the unconditional model.
        assert torch.allclose(net(x, t, None), eps_u)


def test_guidance_weight_is_one_plus_rho_of_the_sheet():
    import formulas

    formula = formulas.get("classifier-free-guidance")
    generator = torch.Generator().manual_seed(1)
    eps_c = torch.randn(3, 5, generator=generator, dtype=torch.float64)
    eps_u = torch.randn(3, 5, generator=generator, dtype=torch.float64)
    for w in (0.0, 1.0, 2.5, 7.0):
        expected = formula.evaluate(eps_cond=eps_c.numpy(), eps_uncond=eps_u.numpy(), rho=w - 1)
        assert torch.allclose(guided_eps(eps_c, eps_u, w), torch.as_tensor(expected))


def test_conditional_dropout_rate():
    labels = torch.randint(0, 10, (20000,), generator=torch.Generator().manual_seed(2))
    for p in (0.0, 0.2, 1.0):
        dropped = drop_labels(labels, p, NULL, torch.Generator().manual_seed(3))
        rate = float((dropped == NULL).float().mean())
        assert rate == pytest.approx(p, abs=0.01)
        kept = dropped != NULL
        assert torch.equal(dropped[kept], labels[kept])  # the rest keep their label


def test_guided_training_lowers_the_loss_on_a_fixed_batch(device):
    from cheatsheet.datasets import load

    torch.manual_seed(4)
    split = load("digits")
    x0 = (2 * split.train[:32] - 1).flatten(1).to(device)
    labels = drop_labels(split.train_labels[:32], 0.2, NULL, torch.Generator().manual_seed(0))
    net = MLPEpsNet(64, hidden=64, num_classes=10).to(device)
    diffusion = GaussianDiffusion.from_name()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)

    def fixed_loss():
        generator = torch.Generator().manual_seed(0)
        return diffusion.loss(net, x0, generator=generator, labels=labels.to(device))

    first = fixed_loss().item()
    for _ in range(20):
        loss = fixed_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
    assert fixed_loss().item() < 0.8 * first


def test_cfg_experiment_end_to_end(tmp_path):
    from cheatsheet.models.guidance import make_experiment
    from cheatsheet.runs.protocol import RunContext

    ctx = RunContext(
        device=torch.device("cpu"),
        seed=0,
        steps=3,
        data="digits",
        out_dir=tmp_path,
        options={"timesteps": 10, "base": 8},
    )
    experiment = make_experiment(ctx)
    for step in range(3):
        assert math.isfinite(experiment.train_step(step)["loss"])
    metrics = experiment.evaluate()
    assert {"accuracy_w0", "accuracy_w1", "accuracy_w3", "classifier_test_accuracy"} <= set(metrics)
    assert metrics["classifier_test_accuracy"] > 0.9  # the judge itself reads digits
    experiment.save_figures(tmp_path)
    assert (tmp_path / "samples.png").exists()


# --------------------------------------------------------------------------------------------
# Latent diffusion


def test_latent_diffusion_two_stages(tmp_path):
    from cheatsheet.models.latent_diffusion import make_experiment
    from cheatsheet.runs.protocol import RunContext

    ctx = RunContext(device=torch.device("cpu"), seed=0, steps=50, data="digits", out_dir=tmp_path)
    experiment = make_experiment(ctx)
    experiment.diffusion = GaussianDiffusion.from_name("linear", 20)  # a short chain for the test
    stage_one = [experiment.train_step(step) for step in range(experiment.autoencoder_steps)]
    assert all(r["stage"] == 1.0 and math.isfinite(r["loss"]) for r in stage_one)
    assert sum(r["loss"] for r in stage_one[-5:]) < sum(r["loss"] for r in stage_one[:5])
    second = experiment.train_step(experiment.autoencoder_steps)
    assert second["stage"] == 2.0 and math.isfinite(second["loss"])
    # The scale factor makes the latent unit-variance (Rombach et al.'s rescaling).
    mu, log_var = experiment.latents
    z = (mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)) * experiment.latent_scale.scale
    assert float(z.std()) == pytest.approx(1.0, abs=0.05)
    samples = experiment.generate(6)
    assert samples.shape == (6, 1, 8, 8) and float(samples.min()) >= 0 and float(samples.max()) <= 1
    experiment.save_figures(tmp_path)
    assert (tmp_path / "samples.png").exists()


def test_latent_eps_net_lowers_the_loss_on_fixed_latents(device):
    torch.manual_seed(5)
    latents = torch.randn(64, 8, device=device) * torch.linspace(0.2, 1.5, 8, device=device)
    net = MLPEpsNet(8, hidden=32).to(device)
    diffusion = GaussianDiffusion.from_name()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)

    def fixed_loss():
        return diffusion.loss(net, latents, generator=torch.Generator().manual_seed(0))

    first = fixed_loss().item()
    for _ in range(30):
        loss = fixed_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert fixed_loss().item() < 0.8 * first
