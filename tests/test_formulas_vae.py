"""VAE formulas against torch.distributions (KL, entropy, log_prob), BCE and Monte Carlo."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "vae"
TESTED_EVALUATORS = {
    "kl-gauss",
    "kl-divergence",
    "gauss-cross-entropy",
    "gauss-negative-entropy",
    "beta-vae-objective",
    "reparametrisation",
    "vae-gaussian-log-likelihood",
    "vae-bernoulli-log-likelihood",
}
Normal = torch.distributions.Normal
kl = torch.distributions.kl_divergence


def test_every_evaluator_has_an_oracle_test():
    assert {f.id for f in formulas.by_topic(TOPIC) if f.evaluator} == TESTED_EVALUATORS


def _t(array, device):
    return torch.as_tensor(np.asarray(array), dtype=torch.float64, device=device)


def _gaussians(seed, batch, dim):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=(batch, dim)), rng.uniform(0.1, 3.0, size=(batch, dim))


@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(1, 5))
def test_kl_gauss_matches_torch_kl(device, seed, batch, dim):
    _, mu, sigma = _gaussians(seed, batch, dim)
    reference = kl(Normal(_t(mu, device), _t(sigma, device)), Normal(0.0, 1.0)).sum(-1)
    ours = formulas.get("kl-gauss").evaluate(mu=mu, sigma=sigma)
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10, atol=1e-13)


@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(2, 6))
def test_kl_divergence_matches_torch_categorical(device, seed, batch, size):
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(size), size=batch), rng.dirichlet(np.ones(size), size=batch)
    C = torch.distributions.Categorical
    reference = kl(C(probs=_t(p, device)), C(probs=_t(q, device)))
    ours = formulas.get("kl-divergence").evaluate(p=p, q=q)
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10, atol=1e-14)
    assert np.all(ours >= -1e-15)


@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(1, 5))
def test_gaussian_cross_entropy_and_entropy_match_torch(device, seed, batch, dim):
    rng, mu_p, s_p = _gaussians(seed, batch, dim)
    mu_q, s_q = rng.normal(size=(batch, dim)), rng.uniform(0.1, 3.0, size=(batch, dim))
    p, q = Normal(_t(mu_p, device), _t(s_p, device)), Normal(_t(mu_q, device), _t(s_q, device))
    # int p log q = -(H(p) + KL(p || q))
    reference = -(p.entropy() + kl(p, q)).sum(-1)
    ours = formulas.get("gauss-cross-entropy").evaluate(
        mu_p=mu_p, sigma_p=s_p, mu_q=mu_q, sigma_q=s_q
    )
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10)
    negative_entropy = formulas.get("gauss-negative-entropy").evaluate(sigma=s_p)
    np.testing.assert_allclose(negative_entropy, -p.entropy().sum(-1).cpu().numpy(), rtol=1e-10)


@given(st.integers(0, 2**16), st.integers(1, 5), st.floats(0.0, 8.0))
def test_beta_vae_objective_matches_torch(device, seed, dim, beta):
    rng, mu, sigma = _gaussians(seed, 2, dim)
    log_likelihood = rng.normal(-50, 10, size=2)
    reference = _t(log_likelihood, device) - beta * kl(
        Normal(_t(mu, device), _t(sigma, device)), Normal(0.0, 1.0)
    ).sum(-1)
    ours = formulas.get("beta-vae-objective").evaluate(
        log_likelihood=log_likelihood, mu=mu, sigma=sigma, beta=beta
    )
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10)


@given(st.integers(0, 2**16))
def test_reparametrised_samples_have_the_right_distribution(device, seed):
    rng = np.random.default_rng(seed)
    mu, sigma, n = rng.normal(size=3), rng.uniform(0.1, 3.0, size=3), 40000
    gen = torch.Generator(device=device).manual_seed(seed)
    eps = torch.randn(n, 3, generator=gen, dtype=torch.float64, device=device)
    z = formulas.get("reparametrisation").evaluate(mu=mu, sigma=sigma, eps=eps.cpu().numpy())
    # Monte Carlo, 6-sigma tolerances on mean and standard deviation
    assert np.all(np.abs(z.mean(0) - mu) < 6 * sigma / np.sqrt(n))
    assert np.all(np.abs(z.std(0) - sigma) < 6 * sigma / np.sqrt(2 * n))
    # and it is the same pathwise sample torch's rsample draws
    reference = Normal(_t(mu, device), _t(sigma, device))
    np.testing.assert_allclose(
        z[:5], (reference.loc + reference.scale * eps[:5]).cpu().numpy(), rtol=1e-14
    )


@given(st.integers(0, 2**16))
def test_reparametrisation_gradient_matches_autograd_monte_carlo(device, seed):
    # E_{N(mu, sigma^2)}[z^2] = mu^2 + sigma^2: pathwise Monte Carlo gradient via autograd
    rng = np.random.default_rng(seed)
    mu = torch.tensor(rng.normal(), dtype=torch.float64, device=device, requires_grad=True)
    sigma = torch.tensor(
        rng.uniform(0.2, 2), dtype=torch.float64, device=device, requires_grad=True
    )
    gen = torch.Generator(device=device).manual_seed(seed)
    eps = torch.randn(200000, generator=gen, dtype=torch.float64, device=device)
    z = formulas.get("reparametrisation").evaluate(
        mu=mu.item(), sigma=sigma.item(), eps=eps.cpu().numpy()
    )
    np.testing.assert_allclose(z, (mu + sigma * eps).detach().cpu().numpy(), rtol=1e-14)
    ((mu + sigma * eps) ** 2).mean().backward()
    # exact gradients 2 mu and 2 sigma; MC standard error below 0.02 * scale here
    scale = 1 + abs(mu.item()) + sigma.item()
    assert abs(mu.grad.item() - 2 * mu.item()) < 0.05 * scale
    assert abs(sigma.grad.item() - 2 * sigma.item()) < 0.05 * scale


@given(st.integers(0, 2**16), st.integers(1, 6))
def test_gaussian_log_likelihood_matches_torch_log_prob(device, seed, dim):
    rng, mu, sigma = _gaussians(seed, 2, dim)
    x = rng.normal(size=(2, dim))
    reference = Normal(_t(mu, device), _t(sigma, device)).log_prob(_t(x, device)).sum(-1)
    ours = formulas.get("vae-gaussian-log-likelihood").evaluate(x=x, mu=mu, sigma=sigma)
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10)


@given(st.integers(0, 2**16), st.integers(1, 8))
def test_bernoulli_log_likelihood_is_minus_bce(device, seed, dim):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(3, dim)).astype(float)
    p = rng.uniform(0.01, 0.99, size=(3, dim))
    reference = -F.binary_cross_entropy(_t(p, device), _t(x, device), reduction="none").sum(-1)
    ours = formulas.get("vae-bernoulli-log-likelihood").evaluate(x=x, p=p)
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10)


def test_contract_kl_gauss_keywords_dtypes_broadcasting():
    f = formulas.get("kl-gauss")
    assert f.parameters == ["mu", "sigma"]
    out = f.evaluate(mu=np.zeros((4, 3)), sigma=np.ones((4, 3)))
    assert out.dtype == np.float64 and out.shape == (4,)
    np.testing.assert_allclose(out, 0.0)
    assert isinstance(f.evaluate(mu=np.array([1.0]), sigma=np.array([1.0])), np.float64)
    # sigma broadcast against a batch of means
    np.testing.assert_allclose(
        f.evaluate(mu=np.array([[1.0, 0.0], [0.0, 0.0]]), sigma=np.ones(2)), [0.5, 0.0]
    )


def _claim(claim_id):
    from formulas.core import REGISTRY

    formulas.all()
    return REGISTRY.claim(claim_id)


def test_negative_entropy_erratum_numbers_match_torch_entropy():
    # the sheet's +1/2 log 2 pi form against torch's Gaussian entropy (J = 1, sigma = 0.7)
    evidence = formulas.get("gauss-negative-entropy").erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True
    right = -Normal(_t(0.3, "cpu"), _t(0.7, "cpu")).entropy().item()
    sheet = right + np.log(2 * np.pi)  # the sign of the 1/2 log 2 pi term flipped
    assert f"{right:.6g}" in evidence.detail and f"{sheet:.6g}" in evidence.detail
    assert formulas.get("gauss-negative-entropy").erratum.severity == "typo"


def test_reparametrisation_gradient_erratum_numbers_match_autograd_closed_forms():
    # f(z) = z^2, mu(phi) = phi, sigma(phi) = 1 + phi^2: E f = mu^2 + sigma^2; the sheet's
    # form read with z = g(eps, phi) is E f / sigma (the Jacobian dz = sigma d eps missing)
    phi = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    mu, sigma = phi, 1 + phi**2
    (right,) = torch.autograd.grad(mu**2 + sigma**2, phi, create_graph=True)
    (sheet,) = torch.autograd.grad((mu**2 + sigma**2) / sigma, phi)
    evidence = formulas.get("reparametrisation-gradient").erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True
    assert f"{right.item():.6g}" in evidence.detail and f"{sheet.item():.6g}" in evidence.detail


def test_elbo_lower_bound_claim_matches_torch_closed_forms():
    claim = _claim("elbo-lower-bound")
    evidence = claim.check()
    assert evidence.sheet_fails is False and evidence.correct_passes is True
    # closed forms: z ~ N(0, 1), x|z ~ N(w z, s^2), q = N(m, v); ELBO = E_q log p(x|z) - KL
    x, w, s = 0.7, 1.5, 0.8
    log_evidence = (
        Normal(_t(0.0, "cpu"), _t((w**2 + s**2) ** 0.5, "cpu")).log_prob(_t(x, "cpu")).item()
    )
    for m, v in [(0.0, 1.0), (0.5, 0.3), (w * x / (w**2 + s**2), s**2 / (w**2 + s**2))]:
        expected_log_lik = -0.5 * np.log(2 * np.pi * s**2) - ((x - w * m) ** 2 + w**2 * v) / (
            2 * s**2
        )
        kl_prior = kl(Normal(_t(m, "cpu"), _t(v**0.5, "cpu")), Normal(0.0, 1.0)).item()
        assert expected_log_lik - kl_prior <= log_evidence + 1e-12
    assert abs(expected_log_lik - kl_prior - log_evidence) < 1e-9  # tight at the posterior


def test_reparam_repeated_line_is_a_typo_claim():
    claim = _claim("reparam-proof-repeated-line")
    assert claim.verdict == "typo" and claim.sheet_lines == (391, 393)
