"""Baselines for the density benchmark on binary images: what any learned model must beat.

Independent Bernoulli. p(x) = prod_d theta_d^x_d (1 - theta_d)^(1 - x_d). The maximum-likelihood
estimate is the pixel mean theta_d = (1/N) sum_n x_nd. An always-off border pixel would get
theta_d = 0 and a single test "on" pixel infinite NLL, so we use the posterior mean under a
Beta(alpha, alpha) prior, theta_d = (sum_n x_nd + alpha) / (N + 2 alpha) (alpha = 1: Laplace's
rule of succession); alpha -> 0 recovers the MLE.

Mixture of Bernoullis (a latent class k ~ Categorical(pi), pixels independent given k),
fitted by expectation-maximisation (Dempster, Laird & Rubin 1977; Bishop PRML section 9.3.3):

    log p(x) = log sum_k pi_k prod_d mu_kd^x_d (1 - mu_kd)^(1 - x_d)     (logsumexp over k)
    E-step   r_nk = pi_k p(x_n | mu_k) / sum_j pi_j p(x_n | mu_j)
    M-step   N_k = sum_n r_nk,  pi_k = N_k / N,
             mu_kd = (sum_n r_nk x_nd + alpha) / (N_k + 2 alpha)       (MAP, same Beta prior)

Each EM iteration cannot decrease the (penalised) training log-likelihood; a test checks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cheatsheet.runs.config import param


@dataclass
class BernoulliConfig:
    alpha: float = param(1.0, "Laplace (add-alpha) smoothing of the pixel probabilities")


@dataclass
class BernoulliMixtureConfig:
    alpha: float = param(1.0, "Laplace (add-alpha) smoothing in the EM M-step")
    components: int = param(20, "mixture components")


def bernoulli_log_prob(x: torch.Tensor, log_mu: torch.Tensor, log1m_mu: torch.Tensor):
    """sum_d x_d log mu_d + (1 - x_d) log(1 - mu_d); x (N, D), mu (..., D) -> (N, ...)."""
    return x @ log_mu.T + (1 - x) @ log1m_mu.T


class IndependentBernoulli(nn.Module):
    def __init__(self, dims: int, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha
        # Fitted in closed form, not by gradients: a parameter that needs no gradient.
        self.theta = nn.Parameter(torch.full((dims,), 0.5), requires_grad=False)

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> None:
        """theta_d = (sum_n x_nd + alpha) / (N + 2 alpha)."""
        self.theta.copy_((x.sum(0) + self.alpha) / (len(x) + 2 * self.alpha))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return bernoulli_log_prob(x, self.theta.log()[None], torch.log1p(-self.theta)[None])[:, 0]

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        return torch.bernoulli(self.theta.expand(n, -1))


class BernoulliMixture(nn.Module):
    def __init__(self, dims: int, components: int = 20, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha
        self.log_pi = nn.Parameter(torch.full((components,), -math.log(components)), False)
        # Random means away from 0 and 1 break the symmetry between the components.
        self.mu = nn.Parameter(torch.rand(components, dims) * 0.5 + 0.25, requires_grad=False)

    def joint_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log pi_k + log p(x_n | mu_k), shape (N, K)."""
        return self.log_pi[None] + bernoulli_log_prob(x, self.mu.log(), torch.log1p(-self.mu))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(self.joint_log_prob(x), dim=1)

    @torch.no_grad()
    def em_step(self, x: torch.Tensor) -> float:
        """One E-step and M-step on all of x; returns the mean log-likelihood before the step."""
        joint = self.joint_log_prob(x)
        log_likelihood = torch.logsumexp(joint, dim=1, keepdim=True)
        responsibilities = (joint - log_likelihood).exp()  # r_nk, rows sum to 1
        n_k = responsibilities.sum(0)
        self.log_pi.copy_((n_k / len(x)).clamp_min(1e-12).log())
        self.mu.copy_((responsibilities.T @ x + self.alpha) / (n_k[:, None] + 2 * self.alpha))
        return log_likelihood.mean().item()

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        k = torch.multinomial(self.log_pi.exp(), n, replacement=True)
        return torch.bernoulli(self.mu[k])


# --------------------------------------------------------------------------------------------
# Runs (`cheatsheet run bernoulli`, `cheatsheet run bernoulli-mixture`) and the density bench


class BaselineExperiment:
    """A closed-form / EM model in the harness: no optimizer, one fit (or EM step) per step."""

    def __init__(self, ctx: Any, mixture: bool):
        from cheatsheet import datasets
        from cheatsheet.errors import CheatsheetError

        split = datasets.load(ctx.data, seed=ctx.seed)
        if split.discrete_levels != 2:
            raise CheatsheetError(f"the Bernoulli baselines need binary data, not '{ctx.data}'")
        self.ctx = ctx
        self.shape = split.shape
        self.train_x = split.train.flatten(1).to(ctx.device)
        self.test_x = split.test.flatten(1).to(ctx.device)
        self.valid_x = None if split.valid is None else split.valid.flatten(1).to(ctx.device)
        dims = self.train_x.shape[1]
        if mixture:
            config = ctx.settings(BernoulliMixtureConfig, "bernoulli-mixture")
            self.model = BernoulliMixture(dims, config.components, config.alpha).to(ctx.device)
        else:
            config = ctx.settings(BernoulliConfig, "bernoulli")
            self.model = IndependentBernoulli(dims, config.alpha).to(ctx.device)
        self.mixture = mixture
        self.converged = False  # the density bench stops training a converged baseline
        self._previous_loss = math.inf

    def modules(self) -> dict[str, Any]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {}

    def train_step(self, step: int) -> dict[str, float]:
        if self.mixture:
            loss = -self.model.em_step(self.train_x)
            # EM never increases the loss; stop when it no longer moves
            self.converged = self._previous_loss - loss < 1e-7
            self._previous_loss = loss
            return {"loss": loss}
        self.model.fit(self.train_x)
        self.converged = True  # closed form: one step is the fit
        return {"loss": -self.model.log_prob(self.train_x).mean().item()}

    @torch.no_grad()
    def validation_nll(self) -> float | None:
        """Mean NLL on the validation split (early stopping in `bench density`)."""
        if self.valid_x is None:
            return None
        return -self.model.log_prob(self.valid_x).mean().item()

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        nll = -self.model.log_prob(self.test_x).mean().item()
        dims = self.test_x.shape[1]
        return {
            "test_nll_nats": nll,
            "bits_per_dim": nll / (dims * math.log(2)),
            "train_nll_nats": -self.model.log_prob(self.train_x).mean().item(),
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        samples = self.model.sample(64).reshape(64, *self.shape)
        name = "Bernoulli mixture (EM)" if self.mixture else "independent Bernoulli"
        return [save_image_grid(samples, Path(out_dir) / "samples.png", f"{name}: samples", 8)]


def make_independent_experiment(ctx: Any) -> BaselineExperiment:
    return BaselineExperiment(ctx, mixture=False)


def make_mixture_experiment(ctx: Any) -> BaselineExperiment:
    return BaselineExperiment(ctx, mixture=True)
