"""VAE / beta-VAE against independent oracles: the registry's kl-gauss, a linear-Gaussian VAE
whose log p(x) is known in closed form, a score-function gradient estimate, Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import formulas
from cheatsheet.models.vae import VAE


def digits_batch(n: int = 64) -> torch.Tensor:
    from cheatsheet import datasets

    return datasets.load("digits-binary", seed=0).train[:n]


def test_kl_term_equals_registry_kl_gauss():
    generator = torch.Generator().manual_seed(0)
    mu = torch.randn(20, 5, generator=generator, dtype=torch.float64) * 2
    log_var = torch.randn(20, 5, generator=generator, dtype=torch.float64)
    ours = VAE.kl(mu, log_var).numpy()
    registry = formulas.get("kl-gauss").evaluate(
        mu=mu.numpy(), sigma=torch.exp(0.5 * log_var).numpy()
    )
    np.testing.assert_allclose(ours, np.asarray(registry, dtype=np.float64), rtol=1e-12)


def test_kl_term_equals_torch_distributions():
    mu, log_var = torch.randn(7, 3), torch.randn(7, 3)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    expected = torch.distributions.kl_divergence(q, p).sum(-1)
    torch.testing.assert_close(VAE.kl(mu, log_var), expected)


def linear_gaussian_vae(
    mu_shift: float = 0.0, var_scale: float = 1.0
) -> tuple[VAE, torch.distributions.Distribution]:
    """A VAE with a linear decoder x = W z + b + sigma eps, so p(x) = N(b, W W^T + sigma^2 I)
    exactly, and an encoder set to the exact posterior q(z|x) = N(A (x - b), Sigma_post) with
    Sigma_post = (I + W^T W / sigma^2)^-1, A = Sigma_post W^T / sigma^2 (diagonal because W's
    columns are orthogonal), optionally shifted and widened."""
    torch.manual_seed(0)
    sigma2 = 0.25
    q, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    W = q[:, :2] * torch.tensor([1.5, 0.7], dtype=torch.float64)
    b = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
    posterior_cov = torch.linalg.inv(torch.eye(2, dtype=torch.float64) + W.T @ W / sigma2)
    A = posterior_cov @ W.T / sigma2
    model = VAE(input_shape=(3,), latent_dim=2, likelihood="gaussian").double()
    model.decoder = nn.Linear(2, 3).double()
    model.encoder = nn.Linear(3, 4).double()
    with torch.no_grad():
        model.log_sigma_x.fill_(0.5 * math.log(sigma2))
        model.decoder.weight.copy_(W)
        model.decoder.bias.copy_(b)
        model.encoder.weight.zero_()
        model.encoder.weight[:2] = A
        model.encoder.bias[:2] = -A @ b + mu_shift
        model.encoder.bias[2:] = torch.log(torch.diagonal(posterior_cov) * var_scale)
    marginal = torch.distributions.MultivariateNormal(b, W @ W.T + sigma2 * torch.eye(3))
    return model, marginal


def test_elbo_is_exact_when_q_is_the_true_posterior():
    model, marginal = linear_gaussian_vae()
    x = marginal.sample((16,))
    exact = marginal.log_prob(x)
    torch.manual_seed(1)
    # log p(x, z) - log q(z | x) = log p(x) for every z: the bound is tight, sample by sample.
    torch.testing.assert_close(model.iwae_bound(x, k=1), exact)
    torch.testing.assert_close(model.iwae_bound(x, k=3), exact)
    # The ELBO (reconstruction sample - closed-form KL) is tight in expectation.
    elbo = torch.stack([model.elbo(x) for _ in range(4000)]).mean(0).detach()
    torch.testing.assert_close(elbo, exact, atol=0.03, rtol=0)


def test_elbo_and_iwae_bound_the_exact_log_likelihood():
    model, marginal = linear_gaussian_vae(mu_shift=0.1, var_scale=2.0)
    x = marginal.sample((16,))
    exact = marginal.log_prob(x)
    torch.manual_seed(1)
    elbo = torch.stack([model.elbo(x) for _ in range(400)]).mean(0).detach()
    iwae = model.iwae_bound(x, k=4000, chunk=1000)
    gap = exact - elbo
    assert torch.all(gap > 0.1)  # a wrong q: a real gap
    # Many importance samples close the gap to Monte Carlo error (about 0.01 nats here;
    # a single IWAE estimate may land on either side, its expectation is below log p(x)).
    assert (iwae - exact).abs().max() < 0.15 * gap.min()
    assert (iwae - exact).mean() < 0.01


def test_iwae_increases_with_k_in_expectation_and_k1_is_the_elbo():
    torch.manual_seed(0)
    model = VAE(hidden=32)
    x = digits_batch(128)
    repeats = 20
    bounds = {
        k: torch.stack([model.iwae_bound(x, k=k) for _ in range(repeats)]).mean(0)
        for k in (1, 5, 50)
    }
    with torch.no_grad():
        elbo = torch.stack([model.elbo(x) for _ in range(repeats)]).mean(0)
    # K = 1 has the ELBO's expectation (the ELBO here uses the closed-form KL).
    gap = (bounds[1] - elbo).mean().abs()
    assert gap < 0.05 * elbo.mean().abs()
    assert bounds[5].mean() > bounds[1].mean() > -1e9
    assert bounds[50].mean() > bounds[5].mean()
    assert torch.all(bounds[50] >= elbo - 1.0)


def test_reparametrised_gradient_matches_score_function_estimate():
    """d/d(mu, log_var) E_q[log p(x | z)]: pathwise (reparametrised) vs score-function
    (REINFORCE) estimator, each with 100k samples; they must agree to Monte Carlo error."""
    torch.manual_seed(0)
    model = VAE(hidden=16, latent_dim=2).double()
    with torch.no_grad():  # a decoder that depends strongly on z: gradients well above noise
        for layer in model.decoder:
            if isinstance(layer, nn.Linear):
                layer.weight.mul_(4.0)
    x = digits_batch(1).double()
    with torch.no_grad():
        mu0, log_var0 = model.encode(x)
    n = 100_000

    mu = mu0.clone().requires_grad_(True)
    log_var = log_var0.clone().requires_grad_(True)
    z = mu + torch.exp(0.5 * log_var) * torch.randn(n, 2, dtype=torch.float64)
    model.log_likelihood(x, model.decode(z)).mean().backward()
    pathwise = torch.cat([mu.grad.flatten(), log_var.grad.flatten()])

    mu = mu0.clone().requires_grad_(True)
    log_var = log_var0.clone().requires_grad_(True)
    with torch.no_grad():
        z = mu0 + torch.exp(0.5 * log_var0) * torch.randn(n, 2, dtype=torch.float64)
        f = model.log_likelihood(x, model.decode(z))
        baseline = f.mean()  # a constant baseline keeps the estimator (nearly) unbiased
    log_q = VAE.log_normal(z, mu, log_var)  # log q(z | x) with z held fixed
    ((f - baseline) * log_q).mean().backward()
    score = torch.cat([mu.grad.flatten(), log_var.grad.flatten()])

    scale = pathwise.abs().max()
    assert scale > 1.0
    torch.testing.assert_close(score, pathwise, atol=0.05 * scale.item(), rtol=0.0)


def test_beta_weights_only_the_kl_term():
    torch.manual_seed(0)
    x = digits_batch(32)
    model = VAE(hidden=32, beta=1.0)
    torch.manual_seed(5)
    terms = model.elbo_terms(x)
    for beta in (1.0, 4.0):
        model.beta = beta
        torch.manual_seed(5)
        expected = (beta * terms["kl"] - terms["reconstruction"]).mean()
        torch.testing.assert_close(model.loss(x), expected)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_loss_goes_down_on_a_fixed_batch_without_nans(likelihood, device):
    torch.manual_seed(0)
    x = digits_batch(64).to(device)
    model = VAE(hidden=64, likelihood=likelihood).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(100):
        loss = model(x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-10:]) < 0.9 * np.mean(losses[:10])


def test_interface_shapes_used_by_latent_diffusion(device):
    model = VAE(input_shape=(1, 8, 8), latent_dim=4, hidden=16).to(device)
    x = digits_batch(5).to(device)
    mu, log_var = model.encode(x)
    assert mu.shape == log_var.shape == (5, 4)
    assert model.decode(mu).shape == (5, 1, 8, 8)
    samples = model.sample(6)
    assert samples.shape == (6, 1, 8, 8) and set(samples.unique().tolist()) <= {0.0, 1.0}
    assert model.loss(x).dim() == 0


def test_nll_of_a_fair_coin_decoder_is_d_ln2():
    """Decoder logits all zero: log p(x | z) = -D ln 2 for every z, KL = 0 at mu = 0, var = 1,
    so ELBO = IWAE = log p(x) = -64 ln 2 exactly."""
    model = VAE(hidden=8)
    with torch.no_grad():
        for module in (model.encoder[-1], model.decoder[-1]):
            module.weight.zero_()
            module.bias.zero_()
    x = digits_batch(4)
    torch.testing.assert_close(model.iwae_bound(x, k=7), torch.full((4,), -64 * math.log(2)))
    torch.testing.assert_close(model.elbo(x).detach(), torch.full((4,), -64 * math.log(2)))


@given(
    mu=st.lists(st.floats(-5, 5), min_size=1, max_size=6),
    log_var=st.lists(st.floats(-5, 5), min_size=1, max_size=6),
)
def test_kl_is_non_negative_and_zero_only_at_the_prior(mu, log_var):
    n = min(len(mu), len(log_var))
    mu_t = torch.tensor(mu[:n], dtype=torch.float64)
    log_var_t = torch.tensor(log_var[:n], dtype=torch.float64)
    kl = VAE.kl(mu_t, log_var_t).item()
    assert kl >= -1e-15  # exp(v) - 1 - v rounds to -v for |v| < 1e-16
    if kl < 1e-12:
        assert mu_t.abs().max() < 1e-5 and log_var_t.abs().max() < 1e-5
    assert VAE.kl(torch.zeros(n), torch.zeros(n)).item() == 0.0
