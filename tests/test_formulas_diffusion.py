"""DDPM formulas against independent references: Bayes' rule on a grid with
torch.distributions, Monte Carlo forward chains, torch KL, autograd scores, and diffusers'
DDPMScheduler as a peer library."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "diffusion"
TESTED_EVALUATORS = {
    "ddpm-linear-schedule",
    "ddpm-alpha-bar",
    "ddpm-forward-step",
    "ddpm-forward-marginal",
    "ddpm-posterior-mean",
    "ddpm-posterior-variance",
    "ddpm-epsilon-mean",
    "ddpm-loss",
    "ddpm-loss-weight",
    "ddpm-sampling-step",
    "classifier-free-guidance",
}
Normal = torch.distributions.Normal


def test_every_evaluator_has_an_oracle_test():
    assert {f.id for f in formulas.by_topic(TOPIC) if f.evaluator} == TESTED_EVALUATORS


# --------------------------------------------------------------------------------------------
# references


def _schedule(seed, max_T=40):
    rng = np.random.default_rng(seed)
    T = int(rng.integers(2, max_T))
    betas = np.sort(rng.uniform(1e-3, 0.05, size=T))  # monotone increasing, as on the sheet
    t = int(rng.integers(2, T + 1))
    return rng, betas, t


def _alpha_bar_direct(betas, t):
    """prod_{i=1}^t (1 - beta_i) by a plain loop (alpha_bar_0 = 1)."""
    value = 1.0
    for i in range(1, t + 1):
        value *= 1.0 - betas[i - 1]
    return value


def _bayes_posterior(betas, t, x0, xt, device):
    """Mean and variance of q(x_{t-1} | x_t, x_0) from Bayes' rule on a grid:
    q(x_t | x_{t-1}) q(x_{t-1} | x_0) with torch.distributions, normalised numerically."""
    beta = betas[t - 1]
    abar_prev = _alpha_bar_direct(betas, t - 1)
    s1, s2 = np.sqrt(beta / (1 - beta)), np.sqrt(1 - abar_prev)
    m1, m2 = xt / np.sqrt(1 - beta), np.sqrt(abar_prev) * x0
    low, high = min(m1, m2) - 12 * max(s1, s2), max(m1, m2) + 12 * max(s1, s2)
    points = int(min(4_000_000, max(20001, (high - low) / (min(s1, s2) / 40))))
    grid = torch.linspace(low, high, points, dtype=torch.float64, device=device)
    log_w = Normal(np.sqrt(1 - beta) * grid, np.sqrt(beta)).log_prob(
        torch.tensor(xt, dtype=torch.float64, device=device)
    ) + Normal(np.sqrt(abar_prev) * x0, np.sqrt(1 - abar_prev)).log_prob(grid)
    w = torch.softmax(log_w, dim=0)
    mean = (w * grid).sum()
    return mean.item(), (w * (grid - mean) ** 2).sum().item()


# --------------------------------------------------------------------------------------------
# schedule


def test_linear_schedule_matches_diffusers_ddpm_scheduler():
    from diffusers import DDPMScheduler

    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    ours = formulas.get("ddpm-linear-schedule").evaluate(T=1000)
    np.testing.assert_allclose(ours, scheduler.betas.double().numpy(), rtol=1e-6)
    # diffusers' timesteps are 0-indexed: its alphas_cumprod[k] is our alpha_bar_{k+1}
    for t in (1, 2, 500, 1000):
        np.testing.assert_allclose(
            formulas.get("ddpm-alpha-bar").evaluate(betas=ours, t=t),
            scheduler.alphas_cumprod[t - 1].item(),
            rtol=1e-5,
        )
        # and its "fixed_small" variance is the posterior variance beta_tilde
        np.testing.assert_allclose(
            formulas.get("ddpm-posterior-variance").evaluate(betas=ours, t=t),
            scheduler._get_variance(t - 1).item() if t > 1 else 0.0,
            rtol=1e-4,
            atol=1e-20 if t == 1 else 0,
        )


@given(st.integers(0, 2**16))
def test_alpha_bar_matches_torch_cumprod(device, seed):
    _, betas, t = _schedule(seed)
    reference = torch.cumprod(1 - torch.tensor(betas, dtype=torch.float64, device=device), 0)
    ours = formulas.get("ddpm-alpha-bar").evaluate(betas=betas, t=np.arange(1, len(betas) + 1))
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-13)
    assert formulas.get("ddpm-alpha-bar").evaluate(betas=betas, t=0) == 1.0


# --------------------------------------------------------------------------------------------
# forward process


@given(st.integers(0, 2**16))
def test_forward_steps_compose_to_the_marginal_monte_carlo(device, seed):
    rng, betas, t = _schedule(seed, max_T=12)
    n, x0 = 20000, float(rng.normal())
    gen = torch.Generator(device=device).manual_seed(seed)
    step = formulas.get("ddpm-forward-step")
    x = np.full(n, x0)
    for s in range(1, t + 1):
        eps = torch.randn(n, generator=gen, dtype=torch.float64, device=device).cpu().numpy()
        x = step.evaluate(betas=betas, t=s, x_prev=x, eps=eps)
    eps = torch.randn(n, generator=gen, dtype=torch.float64, device=device).cpu().numpy()
    direct = formulas.get("ddpm-forward-marginal").evaluate(betas=betas, t=t, x0=x0, eps=eps)
    abar = _alpha_bar_direct(betas, t)
    target = Normal(np.sqrt(abar) * x0, np.sqrt(1 - abar))
    for sample in (x, direct):
        # 6-sigma Monte Carlo tolerances on the mean and the variance
        assert abs(sample.mean() - target.mean.item()) < 6 * target.stddev.item() / np.sqrt(n)
        assert abs(sample.var() - target.variance.item()) < 6 * target.variance.item() * np.sqrt(
            2 / n
        )


@given(st.integers(0, 2**16))
def test_forward_marginal_matches_diffusers_add_noise(seed):
    from diffusers import DDPMScheduler

    rng = np.random.default_rng(seed)
    scheduler = DDPMScheduler(num_train_timesteps=50, beta_schedule="linear")
    betas = scheduler.betas.double().numpy()
    t = int(rng.integers(1, 51))
    x0, eps = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    ours = formulas.get("ddpm-forward-marginal").evaluate(betas=betas, t=t, x0=x0, eps=eps)
    reference = scheduler.add_noise(
        torch.tensor(x0), torch.tensor(eps), torch.tensor([t - 1])
    ).numpy()
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------------
# posterior


@given(st.integers(0, 2**16))
def test_posterior_mean_and_variance_match_bayes_on_a_grid(device, seed):
    rng, betas, t = _schedule(seed)
    x0 = float(rng.normal())
    abar = _alpha_bar_direct(betas, t)
    xt = float(np.sqrt(abar) * x0 + np.sqrt(1 - abar) * rng.normal())
    mean, var = _bayes_posterior(betas, t, x0, xt, device)
    ours_mean = formulas.get("ddpm-posterior-mean").evaluate(betas=betas, t=t, x0=x0, xt=xt)
    ours_var = formulas.get("ddpm-posterior-variance").evaluate(betas=betas, t=t)
    np.testing.assert_allclose(ours_mean, mean, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours_var, var, rtol=1e-5)


def test_posterior_at_t_equal_1_is_a_point_mass_at_x0():
    betas = np.linspace(1e-4, 0.02, 10)
    x0, xt = np.array([0.3, -1.2]), np.array([0.1, 0.5])
    mean = formulas.get("ddpm-posterior-mean").evaluate(betas=betas, t=1, x0=x0, xt=xt)
    np.testing.assert_allclose(mean, x0, rtol=1e-12)
    assert formulas.get("ddpm-posterior-variance").evaluate(betas=betas, t=1) == 0.0


@given(st.integers(0, 2**16))
def test_epsilon_mean_is_the_bayes_posterior_mean(device, seed):
    rng, betas, t = _schedule(seed)
    x0, eps = float(rng.normal()), float(rng.normal())
    abar = _alpha_bar_direct(betas, t)
    xt = float(np.sqrt(abar) * x0 + np.sqrt(1 - abar) * eps)
    mean, _ = _bayes_posterior(betas, t, x0, xt, device)
    ours = formulas.get("ddpm-epsilon-mean").evaluate(betas=betas, t=t, xt=xt, eps=eps)
    np.testing.assert_allclose(ours, mean, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------------------------
# loss and sampling


@given(st.integers(0, 2**16), st.integers(1, 6))
def test_ddpm_loss_matches_torch_mse(device, seed, dim):
    rng = np.random.default_rng(seed)
    eps, pred = rng.normal(size=(3, dim)), rng.normal(size=(3, dim))
    reference = F.mse_loss(
        torch.tensor(pred, device=device), torch.tensor(eps, device=device), reduction="none"
    ).sum(-1)
    ours = formulas.get("ddpm-loss").evaluate(eps=eps, eps_pred=pred)
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-13)


@given(st.integers(0, 2**16))
def test_loss_weight_turns_the_gaussian_kl_into_weighted_eps_error(device, seed):
    rng, betas, t = _schedule(seed)
    x0, eps, eps_hat = (float(v) for v in rng.normal(size=3))
    sigma2 = float(rng.choice([betas[t - 1], rng.uniform(1e-3, 0.1)]))
    abar = _alpha_bar_direct(betas, t)
    xt = float(np.sqrt(abar) * x0 + np.sqrt(1 - abar) * eps)
    x0_hat = (xt - np.sqrt(1 - abar) * eps_hat) / np.sqrt(abar)  # the model's implied x_0
    mu_q, var_q = _bayes_posterior(betas, t, x0, xt, device)
    mu_theta, _ = _bayes_posterior(betas, t, x0_hat, xt, device)
    kl = torch.distributions.kl_divergence

    def f64(value):  # python floats would become float32 tensors: keep the oracle in float64
        return torch.tensor(float(value), dtype=torch.float64, device=device)

    q = Normal(f64(mu_q), f64(np.sqrt(var_q)))
    kl_model = kl(q, Normal(f64(mu_theta), f64(np.sqrt(sigma2))))
    kl_best = kl(q, Normal(f64(mu_q), f64(np.sqrt(sigma2))))
    weight = formulas.get("ddpm-loss-weight").evaluate(betas=betas, t=t, sigma2=sigma2)
    # rtol 1e-4: the grid posterior's quadrature error (~1e-9 in each mean) is amplified by
    # the difference of two KLs; CUDA's summation order showed 6e-5 on a value of 4e-5.
    np.testing.assert_allclose(
        weight * (eps - eps_hat) ** 2, (kl_model - kl_best).item(), rtol=1e-4, atol=1e-9
    )


@given(st.integers(0, 2**16))
def test_sampling_step_with_oracle_noise_lands_on_the_posterior(device, seed):
    rng, betas, t = _schedule(seed)
    x0, eps, z = (float(v) for v in rng.normal(size=3))
    abar = _alpha_bar_direct(betas, t)
    xt = float(np.sqrt(abar) * x0 + np.sqrt(1 - abar) * eps)
    mean, _ = _bayes_posterior(betas, t, x0, xt, device)
    step = formulas.get("ddpm-sampling-step")
    np.testing.assert_allclose(
        step.evaluate(betas=betas, t=t, xt=xt, eps_pred=eps, z=0.0), mean, rtol=1e-6, atol=1e-8
    )
    noisy = step.evaluate(betas=betas, t=t, xt=xt, eps_pred=eps, z=z)
    np.testing.assert_allclose(noisy, mean + np.sqrt(betas[t - 1]) * z, rtol=1e-6, atol=1e-8)
    # the last step adds no noise
    last = step.evaluate(betas=betas, t=1, xt=xt, eps_pred=eps, z=z)
    assert last == step.evaluate(betas=betas, t=1, xt=xt, eps_pred=eps, z=0.0)


@given(st.integers(0, 2**16))
def test_guidance_is_the_score_of_the_sharpened_conditional(device, seed):
    rng = np.random.default_rng(seed)
    m_c, m_u, s = rng.normal(), rng.normal(), rng.uniform(0.5, 2)
    rho = rng.uniform(0, 5)
    x = torch.tensor(rng.normal(size=4), dtype=torch.float64, device=device, requires_grad=True)
    cond, uncond = Normal(m_c, s), Normal(m_u, s)
    # p(x) p(c|x)^{1+rho} with p(c|x) = p(x|c) p(c) / p(x): log = (1+rho) log p(x|c) - rho log p(x)
    log_guided = ((1 + rho) * cond.log_prob(x) - rho * uncond.log_prob(x)).sum()
    (score,) = torch.autograd.grad(log_guided, x)

    def eps_of(dist):  # eps = -noise_scale * score, noise scale 1 here
        (g,) = torch.autograd.grad(dist.log_prob(x).sum(), x)
        return (-g).detach().cpu().numpy()

    ours = formulas.get("classifier-free-guidance").evaluate(
        eps_cond=eps_of(cond), eps_uncond=eps_of(uncond), rho=rho
    )
    np.testing.assert_allclose(ours, (-score).cpu().numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------------------------
# contract


def test_contract_keywords_dtypes_and_broadcasting():
    assert formulas.get("ddpm-posterior-mean").parameters == ["betas", "t", "x0", "xt"]
    assert formulas.get("ddpm-posterior-variance").parameters == ["betas", "t"]
    betas = np.linspace(1e-4, 0.02, 20)
    x0, xt = np.random.default_rng(0).normal(size=(2, 4, 3))
    mean = formulas.get("ddpm-posterior-mean").evaluate(betas=betas, t=7, x0=x0, xt=xt)
    assert mean.dtype == np.float64 and mean.shape == (4, 3)
    # an array of steps broadcasts like numpy: one t per row
    ts = np.array([[1], [5], [10], [20]])
    per_row = formulas.get("ddpm-posterior-mean").evaluate(betas=betas, t=ts, x0=x0, xt=xt)
    for row, t in enumerate(ts[:, 0]):
        single = formulas.get("ddpm-posterior-mean").evaluate(
            betas=betas, t=int(t), x0=x0[row], xt=xt[row]
        )
        np.testing.assert_allclose(per_row[row], single, rtol=1e-14)
    var = formulas.get("ddpm-posterior-variance").evaluate(betas=betas, t=np.arange(1, 21))
    assert var.dtype == np.float64 and var.shape == (20,) and var[0] == 0.0
    assert isinstance(
        formulas.get("ddpm-posterior-variance").evaluate(betas=betas, t=3), np.float64
    )
    with pytest.raises(ValueError):
        formulas.get("ddpm-posterior-variance").evaluate(betas=betas, t=0)
    with pytest.raises(ValueError):
        formulas.get("ddpm-posterior-variance").evaluate(betas=betas, t=21)


# --------------------------------------------------------------------------------------------
# proofs and claims (issue 10, 11)


def test_every_diffusion_formula_is_proved_or_an_honest_definition():
    from formulas.proof import prove

    for formula in formulas.by_topic(TOPIC):
        if formula.kind == "derived":
            proof = prove(formula)
            assert proof.passed is True, (formula.id, proof.failures)
        elif formula.kind == "definition":
            assert all(step.check().passed for step in formula.properties), formula.id
        else:
            assert formula.kind == "cross-checked", formula.id


def test_guidance_lowers_diversity_by_sampling(device):
    """Independent of the claim's grid: Langevin-free check by importance resampling from the
    conditional, weights p(c|x)^rho, the empirical variance shrinks as rho grows."""
    gen = torch.Generator(device=device).manual_seed(0)
    x = 2.0 + torch.randn(400_000, generator=gen, dtype=torch.float64, device=device)
    cond = Normal(2.0, 1.0).log_prob(x)
    marginal = torch.logaddexp(Normal(-2.0, 1.0).log_prob(x), cond) + np.log(0.5)
    variances = []
    for rho in (0.0, 1.0, 3.0):
        w = torch.softmax(rho * (cond - marginal), 0)  # p(x|c)^(1+rho) p(x)^-rho / p(x|c)
        mean = (w * x).sum()
        variances.append(((w * (x - mean) ** 2).sum()).item())
    assert variances[0] > variances[1] > variances[2]
    from formulas.core import REGISTRY

    evidence = REGISTRY.claim("guidance-diversity").check()
    assert evidence.sheet_fails is True and evidence.correct_passes is True


def test_posterior_mean_is_written_once():
    import inspect

    import formulas.diffusion as diffusion

    source = inspect.getsource(diffusion)
    # the coefficient of x_t in mu_tilde appears in the helper only
    assert source.count("(1 - alpha_bar_prev) / (1 - alpha_bar)") == 2  # mean and variance
