"""DDPM against independent references: the formula registry (numpy), diffusers'
DDPMScheduler (a peer implementation, test-only dependency) on the same schedule, closed forms
(Gaussian data with its exact score; Gaussian KL), and the textbook defaults pinned.

diffusers counts timesteps from 0: its t is our (and the paper's) t + 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cheatsheet.models.ddpm import (  # noqa: E402
    GaussianDiffusion,
    MLPEpsNet,
    UNetEpsNet,
    cosine_betas,
    discretised_gaussian_log_likelihood,
    linear_betas,
)


def _diffusers_scheduler(**config):
    import diffusers  # the [test] extra installs it: a missing oracle fails

    defaults = dict(
        num_train_timesteps=1000,
        beta_schedule="linear",
        beta_start=1e-4,
        beta_end=0.02,
        variance_type="fixed_small",
        clip_sample=False,
        prediction_type="epsilon",
    )
    defaults.update(config)
    return diffusers.DDPMScheduler(**defaults)


def _registry(formula_id: str):
    """The registry formula (a missing id fails the test: a rename must not hide it)."""
    import formulas

    return formulas.get(formula_id)


# --------------------------------------------------------------------------------------------
# Textbook defaults, pinned


def test_defaults_are_the_papers():
    """Ho et al. 2020: T = 1000, linear betas 1e-4 .. 0.02, sigma_t^2 = beta_t."""
    diffusion = GaussianDiffusion.from_name()
    assert diffusion.timesteps == 1000 and diffusion.variance == "beta"
    assert float(diffusion.betas[1]) == pytest.approx(1e-4)
    assert float(diffusion.betas[1000]) == pytest.approx(0.02)
    assert torch.allclose(diffusion.sigma2, diffusion.betas)
    from cheatsheet.runs.protocol import RunContext

    ctx = RunContext(device=torch.device("cpu"), seed=0, steps=1, data="two-moons", out_dir=".")
    from cheatsheet.models.ddpm import make_experiment

    experiment = make_experiment(ctx)
    assert experiment.diffusion.timesteps == 1000
    assert torch.equal(experiment.diffusion.betas[1:], linear_betas())


def test_pinned_constants_from_diffusers():
    """Constants at named timesteps, from the reference implementation:
    - posterior variances 0.0 (t = 1), 0.00979 (t = 488), 0.02 (t = 1000): diffusers'
      tests/schedulers/test_scheduler_ddpm.py::test_variance (its t = 0, 487, 999);
    - alpha_bar at t = 1, 500, 1000: DDPMScheduler(linear, 1e-4, 0.02).alphas_cumprod[[0, 499,
      999]] printed by diffusers 0.42.1 = 0.99990, 0.0785872, 4.03583e-05."""
    diffusion = GaussianDiffusion.from_name("linear", 1000, "posterior")
    assert float(diffusion.posterior_variance[1]) == 0.0
    assert float(diffusion.posterior_variance[488]) == pytest.approx(0.00979, abs=1e-5)
    assert float(diffusion.posterior_variance[1000]) == pytest.approx(0.02, abs=1e-5)
    assert float(diffusion.alpha_bar[1]) == pytest.approx(0.9999, rel=1e-6)
    assert float(diffusion.alpha_bar[500]) == pytest.approx(0.0785872, rel=1e-5)
    assert float(diffusion.alpha_bar[1000]) == pytest.approx(4.03583e-05, rel=1e-4)


def test_epsilon_prediction_is_the_training_target():
    """An oracle returning the true noise eps = (x_t - sqrt(abar) x_0) / sqrt(1 - abar) has
    zero loss: the network is trained to predict epsilon (not x_0, not the mean)."""
    diffusion = GaussianDiffusion.from_name()
    x0 = torch.randn(32, 2, dtype=torch.float64)

    def oracle(xt, t):
        alpha_bar = diffusion.alpha_bar[t].view(-1, 1)
        return (xt - alpha_bar.sqrt() * x0) / (1 - alpha_bar).sqrt()

    loss = diffusion.loss(oracle, x0, generator=torch.Generator().manual_seed(0))
    assert float(loss) < 1e-20
    assert float(diffusion.loss(lambda xt, t: torch.zeros_like(xt), x0)) > 0.5


def test_no_noise_at_the_last_step():
    diffusion = GaussianDiffusion.from_name()
    xt, eps = torch.randn(4, 3), torch.randn(4, 3)
    t = torch.ones(4, dtype=torch.long)
    with_noise = diffusion.p_step(xt, t, eps, torch.randn(4, 3) * 10)
    assert torch.equal(with_noise, diffusion.p_mean(xt, t, eps).float())
    t2 = torch.full((4,), 2)
    assert not torch.allclose(
        diffusion.p_step(xt, t2, eps, torch.randn(4, 3)), diffusion.p_mean(xt, t2, eps).float()
    )


# --------------------------------------------------------------------------------------------
# Against diffusers


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_schedule_matches_diffusers(schedule):
    name = "linear" if schedule == "linear" else "squaredcos_cap_v2"
    scheduler = _diffusers_scheduler(beta_schedule=name)
    diffusion = GaussianDiffusion.from_name(schedule, 1000)
    # diffusers stores float32: agreement to float32 precision
    assert torch.allclose(diffusion.betas[1:], scheduler.betas.double(), atol=1e-7)
    assert torch.allclose(diffusion.alpha_bar[1:], scheduler.alphas_cumprod.double(), atol=1e-6)


def test_forward_marginal_matches_diffusers_add_noise_and_registry(device):
    scheduler = _diffusers_scheduler()
    diffusion = GaussianDiffusion.from_name()
    formula = _registry("ddpm-forward-marginal")
    generator = torch.Generator().manual_seed(1)
    x0 = torch.randn(5, 1, 8, 8, generator=generator)
    noise = torch.randn(5, 1, 8, 8, generator=generator)
    t = torch.tensor([1, 2, 250, 700, 1000])
    ours = diffusion.q_sample(x0.to(device), t.to(device), noise.to(device)).cpu()
    assert torch.allclose(ours, scheduler.add_noise(x0, noise, t - 1), atol=1e-5)
    betas = linear_betas().numpy()
    for index in range(5):
        expected = formula.evaluate(
            betas=betas, t=int(t[index]), x0=x0[index].numpy(), eps=noise[index].numpy()
        )
        assert np.allclose(ours[index].numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_posterior_matches_registry_and_diffusers(schedule):
    diffusion = GaussianDiffusion.from_name(schedule, 1000, "posterior")
    scheduler = _diffusers_scheduler(
        beta_schedule="linear" if schedule == "linear" else "squaredcos_cap_v2"
    )
    mean_formula = _registry("ddpm-posterior-mean")
    variance_formula = _registry("ddpm-posterior-variance")
    betas = diffusion.betas[1:].numpy()
    generator = torch.Generator().manual_seed(2)
    for t in (1, 2, 10, 500, 999, 1000):
        x0 = torch.randn(6, generator=generator, dtype=torch.float64)
        xt = torch.randn(6, generator=generator, dtype=torch.float64)
        mean, variance = diffusion.q_posterior(x0.view(1, 6), xt.view(1, 6), torch.tensor([t]))
        expected_mean = mean_formula.evaluate(betas=betas, t=t, x0=x0.numpy(), xt=xt.numpy())
        assert np.allclose(mean.flatten().numpy(), expected_mean, atol=1e-12)
        expected_variance = variance_formula.evaluate(betas=betas, t=t)
        assert float(variance) == pytest.approx(float(expected_variance), abs=1e-15)
        # diffusers clamps its t = 0 variance to 1e-20; float32 arithmetic elsewhere
        assert float(variance) == pytest.approx(float(scheduler._get_variance(t - 1)), abs=2e-7)


@pytest.mark.parametrize("variance", ["posterior", "beta"])
def test_one_reverse_step_matches_diffusers_step_and_registry(variance, device):
    """x_{t-1} from a given model output and a given noise: diffusers draws its noise from the
    generator we pass, so the same seed gives the same z on both sides."""
    variance_type = "fixed_small" if variance == "posterior" else "fixed_large"
    scheduler = _diffusers_scheduler(variance_type=variance_type)
    diffusion = GaussianDiffusion.from_name("linear", 1000, variance)
    formula = _registry("ddpm-sampling-step")
    betas = linear_betas().numpy()
    generator = torch.Generator().manual_seed(3)
    xt = torch.randn(2, 1, 8, 8, generator=generator)
    model_output = torch.randn(2, 1, 8, 8, generator=generator)
    for t in (1, 2, 100, 1000):
        reference = scheduler.step(
            model_output, t - 1, xt, generator=torch.Generator().manual_seed(10)
        ).prev_sample
        noise = torch.randn(xt.shape, generator=torch.Generator().manual_seed(10))
        ours = diffusion.p_step(
            xt.to(device),
            torch.full((2,), t, device=device),
            model_output.to(device),
            noise.to(device),
        ).cpu()
        # diffusers works in float32 and goes through x_0, which amplifies rounding at small t
        assert torch.allclose(ours, reference, atol=3e-4, rtol=1e-4), t
        sigma = float(diffusion.sigma2[t].sqrt())
        expected = formula.evaluate(
            betas=betas,
            t=t,
            xt=xt.double().numpy(),
            eps_pred=model_output.double().numpy(),
            z=noise.double().numpy(),
            sigma=sigma,
        )
        assert np.allclose(ours.double().numpy(), expected, atol=1e-5), t


# --------------------------------------------------------------------------------------------
# Closed forms


def test_ancestral_sampling_with_the_exact_score_recovers_gaussian_data():
    """For data x_0 ~ N(m, s^2), q(x_t) = N(sqrt(abar) m, abar s^2 + 1 - abar) and the optimal
    eps(x_t) = sqrt(1 - abar) (x_t - sqrt(abar) m) / (abar s^2 + 1 - abar). Sampling with it
    (Algorithm 2) must return N(m, s^2), for both schedules and both variance choices."""
    m, s = 1.5, 0.4
    for schedule, variance in (("linear", "beta"), ("cosine", "posterior")):
        diffusion = GaussianDiffusion.from_name(schedule, 1000, variance)

        def eps_fn(xt, t, diffusion=diffusion):
            alpha_bar = diffusion.alpha_bar[t].view(-1, 1).to(xt.dtype)
            marginal = alpha_bar * s**2 + 1 - alpha_bar
            return (1 - alpha_bar).sqrt() * (xt - alpha_bar.sqrt() * m) / marginal

        samples = diffusion.sample(eps_fn, (20000, 1), "cpu", torch.Generator().manual_seed(4))
        assert float(samples.mean()) == pytest.approx(m, abs=0.02), schedule
        assert float(samples.std()) == pytest.approx(s, abs=0.02), schedule


def test_bound_terms_are_gaussian_kls_and_the_decoder_is_normalised():
    diffusion = GaussianDiffusion.from_name()
    x0 = torch.rand(3, 4, dtype=torch.float64) * 2 - 1
    eps_model = lambda xt, t: 0.3 * xt  # any fixed predictor  # noqa: E731
    t = torch.tensor([2, 300, 1000])
    torch.manual_seed(5)
    terms = diffusion.bound_terms(eps_model, x0, t, bin_width=2 / 16)
    torch.manual_seed(5)
    xt = diffusion.q_sample(x0, t, torch.randn_like(x0))
    posterior_mean, posterior_variance = diffusion.q_posterior(x0, xt, t)
    model_mean = diffusion.p_mean(xt, t, eps_model(xt, t))
    model_std = diffusion.sigma2[t].sqrt().view(-1, 1)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(posterior_mean, posterior_variance.sqrt()),
        torch.distributions.Normal(model_mean, model_std.expand_as(model_mean)),
    ).sum(1)
    assert torch.allclose(terms, expected, rtol=1e-6)
    # The discretised decoder puts total mass 1 on the 17 levels of [-1, 1].
    levels = torch.linspace(-1, 1, 17, dtype=torch.float64).view(17, 1)
    mean = torch.full((17, 1), 0.23, dtype=torch.float64)
    log_p = discretised_gaussian_log_likelihood(levels, mean, torch.full_like(mean, 0.04), 2 / 16)
    assert float(log_p.exp().sum()) == pytest.approx(1.0, abs=1e-9)
    # The prior term L_T is KL(N(sqrt(abar_T) x0, 1 - abar_T) || N(0, 1)): tiny for T = 1000.
    assert float(diffusion.prior_term(x0).max()) < 1e-3


def test_cosine_schedule_is_nichol_dhariwal():
    betas = cosine_betas(1000)
    alpha_bar = torch.cumprod(1 - betas, 0)
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    for t in (1, 100, 500, 900):
        assert float(alpha_bar[t - 1]) == pytest.approx(f(t) / f(0), rel=1e-9)
    assert float(betas.max()) <= 0.999


# --------------------------------------------------------------------------------------------
# Training


@pytest.mark.parametrize("net", ["unet", "mlp"])
def test_training_lowers_the_loss_on_a_fixed_batch(net, device):
    torch.manual_seed(6)
    diffusion = GaussianDiffusion.from_name()
    if net == "unet":
        from cheatsheet.datasets import load

        model = UNetEpsNet(1, base=8).to(device)
        x0 = (2 * load("digits").train[:16] - 1).to(device)
    else:
        model = MLPEpsNet(2, hidden=32).to(device)
        x0 = torch.randn(64, 2, device=device) * torch.tensor([1.0, 0.2], device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

    def fixed_loss():
        return diffusion.loss(model, x0, generator=torch.Generator().manual_seed(0))

    first = fixed_loss().item()
    for _ in range(20):
        loss = fixed_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
    assert float(fixed_loss()) < 0.8 * first


def test_experiment_runs_end_to_end(tmp_path):
    """A tiny DDPM run (T = 20) on two moons: train steps, metrics, samples.png."""
    from cheatsheet.models.ddpm import make_experiment
    from cheatsheet.runs.protocol import RunContext

    ctx = RunContext(
        device=torch.device("cpu"),
        seed=0,
        steps=5,
        data="two-moons",
        out_dir=tmp_path,
        options={"timesteps": 20, "hidden": 16},
    )
    experiment = make_experiment(ctx)
    losses = [experiment.train_step(step)["loss"] for step in range(5)]
    assert all(math.isfinite(loss) for loss in losses)
    metrics = experiment.evaluate()
    assert metrics["energy_distance_to_test"] >= 0 and "measure" in metrics
    paths = experiment.save_figures(tmp_path)
    assert (tmp_path / "samples.png").exists() and paths


def test_digits_experiment_reports_the_bound_in_bits_per_dim(tmp_path):
    """The digits run reports the variational bound: finite, positive, and nats = bits * D ln 2
    (an untrained eps-net on a 10-step chain gives a loose bound, but never NaN or inf)."""
    from cheatsheet.models.ddpm import make_experiment
    from cheatsheet.runs.protocol import RunContext

    ctx = RunContext(
        device=torch.device("cpu"),
        seed=0,
        steps=2,
        data="digits",
        out_dir=tmp_path,
        options={"timesteps": 10, "base": 8, "eval_samples": 8, "vlb_repeats": 1},
    )
    experiment = make_experiment(ctx)
    experiment.train_step(0)
    metrics = experiment.evaluate()
    assert math.isfinite(metrics["bits_per_dim"]) and metrics["bits_per_dim"] > 0
    assert metrics["test_nll_nats"] == pytest.approx(metrics["bits_per_dim"] * 64 * math.log(2))
    assert metrics["bits_per_dim_stderr"] >= 0
