"""GAN losses against independent oracles: the registry's D* and value at the optimum on known
densities, autograd gradients against the registry's closed forms, torch's BCE / L1, and
per-example gradient norms from torch.func for the WGAN-GP penalty."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import formulas
from cheatsheet.models import cyclegan, gan, pix2pix, wgan_gp


def _train_discriminator(discriminator, draw_real, draw_fake, device, steps=400, lr=1e-2):
    optimizer = torch.optim.Adam(discriminator.parameters(), lr=lr)
    for _ in range(steps):
        loss = gan.discriminator_loss(discriminator(draw_real()), discriminator(draw_fake()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return discriminator


def test_trained_discriminator_approaches_d_star_for_two_gaussians(device):
    """p_data = N(-1, 1), p_model = N(1, 1) (the generator held fixed): sigmoid(ell(x)) ->
    p_data / (p_data + p_model) (gan-optimal-discriminator) on the bulk of both densities."""
    torch.manual_seed(0)
    discriminator = gan.MaxoutDiscriminator((1,), hidden=32).to(device)
    batch = 512
    _train_discriminator(
        discriminator,
        lambda: (torch.randn(batch, 1) - 1).to(device),
        lambda: (torch.randn(batch, 1) + 1).to(device),
        device,
    )
    grid = torch.linspace(-2.0, 2.0, 41)
    with torch.no_grad():
        learned = torch.sigmoid(discriminator(grid[:, None].to(device))).cpu().double().numpy()
    normal = torch.distributions.Normal
    p_data = normal(-1.0, 1.0).log_prob(grid).exp().double().numpy()
    p_model = normal(1.0, 1.0).log_prob(grid).exp().double().numpy()
    d_star = formulas.get("gan-optimal-discriminator").evaluate(p_data=p_data, p_model=p_model)
    assert np.abs(learned - d_star).max() < 0.06  # Monte Carlo batches: a few percent


def test_trained_discriminator_reaches_d_star_and_the_value_at_the_optimum_on_a_finite_support(
    device,
):
    """Categorical p_data, p_model over 5 points (one-hot inputs): D -> D* pointwise and
    -L_D -> V(D*, G) = -log 4 + 2 JSD (gan-value-at-optimum)."""
    torch.manual_seed(1)
    p_data = torch.tensor([0.4, 0.3, 0.15, 0.1, 0.05])
    p_model = torch.tensor([0.05, 0.15, 0.2, 0.25, 0.35])
    eye = torch.eye(5)
    batch = 2048

    def draw(p):
        return lambda: eye[torch.multinomial(p, batch, replacement=True)].to(device)

    discriminator = gan.MaxoutDiscriminator((5,), hidden=16).to(device)
    _train_discriminator(discriminator, draw(p_data), draw(p_model), device, steps=300)
    with torch.no_grad():
        logits = discriminator(eye.to(device)).cpu().double()
    d_star = formulas.get("gan-optimal-discriminator").evaluate(
        p_data=p_data.double().numpy(), p_model=p_model.double().numpy()
    )
    assert np.abs(torch.sigmoid(logits).numpy() - d_star).max() < 0.04
    # The exact expectation of -L_D at the learned D against the registry's V(D*, G).
    value = (
        p_data.double() * F.logsigmoid(logits) + p_model.double() * F.logsigmoid(-logits)
    ).sum()
    at_optimum = formulas.get("gan-value-at-optimum").evaluate(
        p_data=p_data.double().numpy(), p_model=p_model.double().numpy()
    )
    assert float(value) <= float(at_optimum) + 1e-9  # D* maximises V
    assert float(value) == pytest.approx(float(at_optimum), abs=5e-3)
    assert float(at_optimum) > -math.log(4)  # p_data != p_model: strictly above the optimum


def test_discriminator_loss_is_torch_binary_cross_entropy():
    torch.manual_seed(2)
    real, fake = torch.randn(7) * 3, torch.randn(5) * 3
    expected = F.binary_cross_entropy(torch.sigmoid(real), torch.ones(7)) + (
        F.binary_cross_entropy(torch.sigmoid(fake), torch.zeros(5))
    )
    assert torch.allclose(gan.discriminator_loss(real, fake), expected, atol=1e-5)


def test_generator_loss_gradients_are_the_registry_closed_forms():
    """Per-example logit gradients by autograd: minimax -D(G(z)) (gan-saturating-gradient),
    non-saturating -(1 - D(G(z))) (minus gan-non-saturating-gradient, as we descend)."""
    logits = torch.tensor([-12.0, -6.0, -2.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    batch = len(logits)
    (minimax,) = torch.autograd.grad(gan.generator_loss_minimax(logits), logits)
    (non_saturating,) = torch.autograd.grad(gan.generator_loss_non_saturating(logits), logits)
    saturating_formula = formulas.get("gan-saturating-gradient").evaluate(
        logit=logits.detach().numpy()
    )
    non_saturating_formula = formulas.get("gan-non-saturating-gradient").evaluate(
        logit=logits.detach().numpy()
    )
    np.testing.assert_allclose(batch * minimax.numpy(), saturating_formula, rtol=1e-10)
    np.testing.assert_allclose(batch * non_saturating.numpy(), -non_saturating_formula, rtol=1e-10)
    # Where D(G(z)) ~ 0 (logit -12): minimax gradient vanishes, non-saturating does not.
    assert abs(batch * minimax[0]) < 1e-5
    assert abs(batch * non_saturating[0]) > 0.999


def test_with_a_confident_discriminator_only_the_non_saturating_loss_moves_the_generator():
    """Through a generator: G(z) = w z + b, D's logit = 10 x - 30 rejects G's samples (x ~ 0),
    so the minimax loss gives G a vanishing gradient and the non-saturating one a large one."""
    torch.manual_seed(3)
    z = torch.randn(64, 1)
    norms = {}
    for name, loss_fn in gan.GENERATOR_LOSSES.items():
        generator = torch.nn.Linear(1, 1)
        torch.nn.init.constant_(generator.weight, 0.1)
        torch.nn.init.zeros_(generator.bias)
        fake_logits = 10.0 * generator(z).squeeze(1) - 30.0
        loss_fn(fake_logits).backward()
        norms[name] = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in generator.parameters()))
    assert norms["minimax"] < 1e-9
    assert norms["non-saturating"] > 5.0
    assert norms["non-saturating"] / norms["minimax"] > 1e8


# --------------------------------------------------------------------------------------------
# WGAN-GP


@pytest.mark.parametrize("shape", [(16, 2), (16, 1, 8, 8)])
def test_wgan_gp_epsilon_is_drawn_per_example(shape):
    real = torch.randn(shape)
    epsilon = wgan_gp.interpolation_epsilon(real, torch.Generator().manual_seed(0))
    assert epsilon.shape == (shape[0],) + (1,) * (len(shape) - 1)
    assert ((epsilon >= 0) & (epsilon <= 1)).all()
    assert epsilon.flatten().unique().numel() == shape[0]  # not one eps for the whole batch
    fake = torch.randn(shape)
    x_hat = wgan_gp.interpolate(real, fake, epsilon)
    for i in range(shape[0]):  # each example on the segment between its own real and fake
        e = float(epsilon.flatten()[i])
        assert torch.allclose(x_hat[i], e * real[i] + (1 - e) * fake[i], atol=1e-6)


def test_wgan_gp_experiment_draws_a_fresh_epsilon_per_example(monkeypatch, tmp_path):
    from cheatsheet.runs.protocol import RunContext

    drawn = []
    original = wgan_gp.interpolation_epsilon

    def spy(real, generator=None):
        epsilon = original(real, generator)
        drawn.append(epsilon)
        return epsilon

    monkeypatch.setattr(wgan_gp, "interpolation_epsilon", spy)
    options = {"hidden": "16", "batch": "32", "n_critic": "3"}
    ctx = RunContext(torch.device("cpu"), 0, 2, "eight-gaussians", tmp_path, options=options)
    experiment = wgan_gp.make_experiment(ctx)
    experiment.train_step(0)
    assert len(drawn) == 3  # n_critic critic steps, one penalty each
    assert all(e.shape == (32, 1) and e.unique().numel() == 32 for e in drawn)
    assert not torch.equal(drawn[0], drawn[1])


def test_gradient_penalty_matches_per_example_gradients_from_torch_func(device):
    torch.manual_seed(4)
    critic = wgan_gp.Critic(2, hidden=16).to(device).double()
    x_hat = torch.randn(10, 2, dtype=torch.float64, device=device, requires_grad=True)
    penalty = wgan_gp.gradient_penalty(critic(x_hat), x_hat)

    def score(example):
        return critic(example[None]).squeeze()

    gradients = torch.func.vmap(torch.func.grad(score))(x_hat.detach())
    expected = (torch.linalg.vector_norm(gradients, dim=1) - 1) ** 2
    assert torch.allclose(penalty, expected, atol=1e-10)
    # create_graph: the penalty trains the critic.
    penalty.mean().backward()
    assert any(float(p.grad.abs().sum()) > 0 for p in critic.parameters())


def test_gradient_penalty_of_a_linear_critic_is_the_closed_form():
    """D(x) = w . x + b has grad w everywhere: penalty (||w|| - 1)^2 for every x^."""
    critic = torch.nn.Linear(64, 1).double()
    x_hat = torch.rand(6, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    penalty = wgan_gp.gradient_penalty(critic(x_hat.flatten(1)).squeeze(1), x_hat)
    closed_form = (critic.weight.norm() - 1) ** 2
    assert torch.allclose(penalty, closed_form.expand(6), atol=1e-12)


# --------------------------------------------------------------------------------------------
# Pix2Pix and CycleGAN


def test_pix2pix_generator_loss_is_cgan_plus_lambda_l1():
    torch.manual_seed(5)
    fake_logits = torch.randn(4, 1, 4, 4)
    fake, target = torch.rand(4, 1, 8, 8) * 2 - 1, torch.rand(4, 1, 8, 8) * 2 - 1
    loss = pix2pix.pix2pix_generator_loss(fake_logits, fake, target, l1_weight=100.0)
    l1 = F.l1_loss(fake, target)  # torch's own L1
    cgan = torch.nn.BCEWithLogitsLoss()(fake_logits, torch.ones_like(fake_logits))
    assert torch.allclose(loss.l1, l1, atol=1e-6)
    assert torch.allclose(loss.cgan, cgan, atol=1e-6)
    assert torch.allclose(loss.total, cgan + 100.0 * l1, atol=1e-4)


def test_pix2pix_discriminator_sees_the_condition():
    """D(x, y) depends on x: the same y judged with another x scores differently."""
    torch.manual_seed(6)
    discriminator = pix2pix.PatchDiscriminator(2, base=8).eval()
    y = torch.rand(3, 1, 8, 8)
    x1, x2 = torch.rand(3, 1, 8, 8), torch.rand(3, 1, 8, 8)
    assert discriminator(x1, y).shape == (3, 1, 4, 4)
    assert not torch.allclose(discriminator(x1, y), discriminator(x2, y))


def test_pix2pix_downscaled_pairs_are_block_means():
    digits = torch.rand(5, 1, 8, 8)
    x = pix2pix.make_pairs(digits, "downscaled")
    blocks = digits.view(5, 1, 4, 2, 4, 2).mean(dim=(3, 5))
    assert torch.allclose(x[..., ::2, ::2], blocks, atol=1e-6)
    assert torch.equal(x[..., ::2, ::2], x[..., 1::2, 1::2])
    edges = pix2pix.make_pairs(digits, "edges")
    assert edges.shape == digits.shape and edges.min() >= 0 and edges.max() <= 1


def test_cycle_consistency_loss_is_both_round_trip_l1s(device):
    torch.manual_seed(7)
    F_net = cyclegan.ResnetGenerator(1, base=8, blocks=1).to(device).eval()
    G_net = cyclegan.ResnetGenerator(1, base=8, blocks=1).to(device).eval()
    x = torch.rand(4, 1, 8, 8, device=device) * 2 - 1
    y = torch.rand(4, 1, 8, 8, device=device) * 2 - 1
    terms = cyclegan.cycle_terms(F_net, G_net, x, y)
    loss = cyclegan.cycle_consistency_loss(terms, x, y)
    with torch.no_grad():
        expected = F.l1_loss(G_net(F_net(x)), x) + F.l1_loss(F_net(G_net(y)), y)
    assert torch.allclose(loss, expected, atol=1e-6)
    # Exact inverses close both cycles: F = T, G = T^{-1} with T = negation (inversion).
    terms = cyclegan.cycle_terms(lambda v: -v, lambda v: -v, x, y)
    assert float(cyclegan.cycle_consistency_loss(terms, x, y)) == 0.0


def test_lsgan_losses_are_least_squares():
    real, fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5])
    assert float(cyclegan.lsgan_discriminator_loss(real, fake)) == pytest.approx(
        0.5 * ((0 + 0.25) / 2 + (0 + 0.25) / 2)
    )
    assert float(cyclegan.lsgan_generator_loss(fake)) == pytest.approx((1 + 0.25) / 2)


def test_image_pool_mixes_history_and_keeps_shapes():
    pool = cyclegan.ImagePool(4, torch.Generator().manual_seed(0))
    first = torch.zeros(4, 1, 8, 8)
    assert torch.equal(pool.query(first), first)  # filling the pool: the new images back
    later = torch.ones(64, 1, 8, 8)
    mixed = pool.query(later)
    assert mixed.shape == later.shape
    old = (mixed.flatten(1).sum(1) == 0).sum()
    assert 0 < old <= 4  # some old images handed back, never more than were stored
