"""Policy gradients: REINFORCE with a baseline (sheet section 7.7; Williams 1992, "Simple
statistical gradient-following algorithms for connectionist reinforcement learning").

The objective J(theta) = E_tau~p_theta [ sum_t gamma^t r(s_t, a_t) ] is differentiated with the
score-function (log-derivative) identity, grad p = p grad log p, and the dynamics drop out of
grad log p_theta(tau) = sum_t grad log pi_theta(a_t | s_t) (formula `policy-gradient`):

    grad J(theta) = E [ sum_t grad log pi_theta(a_t | s_t) (G_t - b(s_t)) ],
    G_t = sum_k>=t gamma^(k-t) r_k   (the reward-to-go; formula `discounted-return`).

Any baseline b(s_t) that does not depend on a_t leaves the expectation unchanged, because
E_a~pi [grad log pi(a | s)] = grad sum_a pi(a | s) = grad 1 = 0; a good one (a learned V(s))
reduces the variance. REINFORCE (formula `reinforce-gradient`) estimates the expectation by
Monte Carlo: sample whole episodes with pi_theta, then ascend the surrogate
sum_t log pi(a_t | s_t) * (G_t - b(s_t)).detach().

`train_step(step)` is ONE episode followed by one update of the policy and the baseline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.rl.episodes import (
    SOLVED_RETURN,
    EpisodeLog,
    EpisodicExperiment,
    make_env,
    plot_returns,
)


def discounted_returns(rewards: torch.Tensor, gamma: float) -> torch.Tensor:
    """G_t = r_t + gamma G_t+1 backwards from the end (discounted-return)."""
    returns = torch.empty_like(rewards)
    running = torch.zeros((), dtype=rewards.dtype, device=rewards.device)
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def score_function_surrogate(
    log_probs: torch.Tensor, returns: torch.Tensor, baseline: torch.Tensor | float = 0.0
) -> torch.Tensor:
    """A scalar whose gradient is the REINFORCE estimate (policy-gradient):
    mean over samples of grad log pi(a | s) (G - b). The weights are detached, so the gradient
    flows only through log pi; the sign makes it a loss to minimise."""
    advantage = (returns - baseline).detach()
    return -(log_probs * advantage).mean()


class CategoricalPolicy(nn.Module):
    """pi_theta(a | s) = softmax(MLP(s)) over discrete actions."""

    def __init__(self, observation_size: int, n_actions: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(observation_size, hidden), nn.Tanh(), nn.Linear(hidden, n_actions)
        )

    def forward(self, state: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.net(state))


class ValueNetwork(nn.Module):
    """V_phi(s): the baseline (REINFORCE) or the critic (actor-critic)."""

    def __init__(self, observation_size: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(observation_size, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        )

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.net(state).squeeze(-1)


@dataclass
class ReinforceConfig:
    env: str = "CartPole-v1"  # the gymnasium environment
    hidden: int = 128
    gamma: float = 0.99
    policy_lr: float = 3e-3
    value_lr: float = 1e-2
    baseline: str = "value"  # "value" (learned V(s)), "mean" (batch mean return) or "none"


class ReinforceExperiment(EpisodicExperiment):
    """`cheatsheet run reinforce`: REINFORCE with a learned baseline on CartPole."""

    def __init__(self, context: Any, config: ReinforceConfig | None = None):
        self.cpu_start = time.process_time()
        self.config = config or context.settings(ReinforceConfig, "reinforce")
        self.device = torch.device(context.device)
        self.env = make_env(self.config.env, context.seed)
        observation_size = self.env.observation_space.shape[0]
        torch.manual_seed(context.seed)
        self.policy = CategoricalPolicy(observation_size, self.env.action_space.n,
                                        self.config.hidden).to(self.device)  # fmt: skip
        self.value = ValueNetwork(observation_size, self.config.hidden).to(self.device)
        self.policy_optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.config.policy_lr)
        self.value_optimizer = torch.optim.Adam(self.value.parameters(), lr=self.config.value_lr)
        self.seed, self.log, self.total_steps = context.seed, EpisodeLog(), 0

    def modules(self) -> dict[str, Any]:
        return {"policy": self.policy, "value": self.value}

    def optimizers(self) -> dict[str, Any]:
        return {"policy": self.policy_optimizer, "value": self.value_optimizer}

    def rollout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One episode with the current policy: (states, actions, rewards)."""
        states, actions, rewards = [], [], []
        state, _ = self.env.reset(seed=self.seed if not self.log.returns else None)
        done = False
        with torch.no_grad():
            while not done:
                observation = torch.as_tensor(state, dtype=torch.float32, device=self.device)
                action = int(self.policy(observation[None]).sample().item())
                state_next, reward, terminated, truncated, _ = self.env.step(action)
                states.append(observation)
                actions.append(action)
                rewards.append(reward)
                state, done = state_next, terminated or truncated
        return (
            torch.stack(states),
            torch.tensor(actions, device=self.device),
            torch.tensor(rewards, dtype=torch.float32, device=self.device),
        )

    def train_step(self, step: int) -> dict[str, float]:
        states, actions, rewards = self.rollout()
        self.total_steps += len(rewards)
        self.log.add(float(rewards.sum()), len(rewards), self.total_steps)
        returns = discounted_returns(rewards, self.config.gamma)
        if self.config.baseline == "value":
            baseline = self.value(states)
            value_loss = F.mse_loss(baseline, returns)
            self.value_optimizer.zero_grad(set_to_none=True)
            value_loss.backward()
            self.value_optimizer.step()
            baseline = baseline.detach()
        elif self.config.baseline == "mean":
            baseline, value_loss = returns.mean(), torch.zeros(())
        else:
            baseline, value_loss = torch.zeros(()), torch.zeros(())
        log_probs = self.policy(states).log_prob(actions)
        # Normalising the advantages is a per-episode step size; the direction is unchanged.
        advantage = returns - baseline
        advantage = advantage / (advantage.std() + 1e-8) if len(advantage) > 1 else advantage
        loss = score_function_surrogate(log_probs, advantage)
        self.policy_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.policy_optimizer.step()
        return {
            "loss": loss.item(),
            "value_loss": value_loss.item(),
            "return": self.log.returns[-1],
            "mean_return_last_100": self.log.mean_last(100),
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        title = "REINFORCE with a value baseline on CartPole"
        path = plot_returns(self.log, Path(out_dir) / "returns.png", title, SOLVED_RETURN)
        return [path]


def make_experiment(context: Any) -> ReinforceExperiment:
    return ReinforceExperiment(context)
