"""Actor-critic with a TD advantage (sheet section 7.8; the one-step advantage actor-critic of
Mnih et al. 2016, "Asynchronous methods for deep reinforcement learning", run synchronously on
a batch of environments) on CartPole.

The actor pi_theta(a | s) ascends (formula `actor-critic-advantage`)

    grad J = 1/N sum_i sum_t grad log pi_theta(a_t | s_t) (r_t + gamma V_phi(s_t+1) - V_phi(s_t)),

where the bracket, the TD error delta_t, estimates the advantage A(s_t, a_t): its expectation
given (s_t, a_t) is Q(s_t, a_t) - V(s_t) when V_phi = V_pi. The critic V_phi is learned by TD(0),
regressing V_phi(s_t) onto the detached target r_t + gamma V_phi(s_t+1) (semi-gradient, as in
DQN). Unlike REINFORCE nothing waits for the episode to end: each environment step updates both,
trading the Monte Carlo return's variance for the critic's bias. At a terminal state
V(s_t+1) = 0; a time-limit truncation still bootstraps from the last observation.

`train_step(step)` is ONE step of each of `n_envs` CartPoles followed by one update from the
batch of n_envs transitions. An entropy bonus keeps the policy from collapsing early.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cheatsheet.rl.episodes import (
    SOLVED_RETURN,
    EpisodeLog,
    EpisodicExperiment,
    make_env,
    plot_returns,
)
from cheatsheet.rl.policy_gradient import CategoricalPolicy, ValueNetwork


@dataclass
class ActorCriticConfig:
    env: str = "CartPole-v1"  # the gymnasium environment
    hidden: int = 128
    n_envs: int = 8
    gamma: float = 0.99
    actor_lr: float = 1e-3
    critic_lr: float = 3e-3
    entropy: float = 0.01
    max_grad_norm: float = 1.0


def td_advantage(
    critic: Any,
    states: torch.Tensor,
    rewards: torch.Tensor,
    next_states: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(V_phi(s), delta) with delta = r + gamma (1 - terminated) V_phi(s') - V_phi(s); the
    bootstrap V_phi(s') carries no gradient."""
    values = critic(states)
    with torch.no_grad():
        target = rewards + gamma * (1.0 - terminated) * critic(next_states)
    return values, target - values


class ActorCriticExperiment(EpisodicExperiment):
    """`cheatsheet run actor-critic`."""

    def __init__(self, context: Any, config: ActorCriticConfig | None = None):
        self.cpu_start = time.process_time()
        self.config = config or context.settings(ActorCriticConfig, "actor-critic")
        self.device = torch.device(context.device)
        name = self.config.env
        self.envs = [make_env(name, context.seed + i) for i in range(self.config.n_envs)]
        self.states = [env.reset(seed=context.seed + i)[0] for i, env in enumerate(self.envs)]
        observation_size = self.envs[0].observation_space.shape[0]
        torch.manual_seed(context.seed)
        self.actor = CategoricalPolicy(observation_size, self.envs[0].action_space.n,
                                       self.config.hidden).to(self.device)  # fmt: skip
        self.critic = ValueNetwork(observation_size, self.config.hidden).to(self.device)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=self.config.actor_lr)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=self.config.critic_lr)
        self.episode_returns = [0.0] * self.config.n_envs
        self.episode_lengths = [0] * self.config.n_envs
        self.log, self.total_steps = EpisodeLog(), 0

    def modules(self) -> dict[str, Any]:
        return {"actor": self.actor, "critic": self.critic}

    def optimizers(self) -> dict[str, Any]:
        return {"actor": self.actor_optimizer, "critic": self.critic_optimizer}

    def _tensor(self, values: Any, dtype: Any = torch.float32) -> torch.Tensor:
        import numpy as np

        return torch.as_tensor(np.asarray(values), dtype=dtype, device=self.device)

    def train_step(self, step: int) -> dict[str, float]:
        config = self.config
        states = self._tensor(self.states)
        policy = self.actor(states)
        actions = policy.sample()
        rewards, next_states, terminated = [], [], []
        for i, (env, action) in enumerate(zip(self.envs, actions.tolist(), strict=True)):
            next_state, reward, term, trunc, _ = env.step(action)
            rewards.append(reward)
            next_states.append(next_state)  # the true s' even when the episode ended
            terminated.append(float(term))
            self.episode_returns[i] += reward
            self.episode_lengths[i] += 1
            self.total_steps += 1
            if term or trunc:
                self.log.add(self.episode_returns[i], self.episode_lengths[i], self.total_steps)
                self.episode_returns[i], self.episode_lengths[i] = 0.0, 0
                next_state, _ = env.reset()
            self.states[i] = next_state

        values, delta = td_advantage(self.critic, states, self._tensor(rewards),
                                     self._tensor(next_states), self._tensor(terminated),
                                     config.gamma)  # fmt: skip
        assert values.shape == delta.shape == actions.shape == (config.n_envs,)
        critic_loss = delta.pow(2).mean()  # gradient only through V_phi(s_t)
        actor_loss = -(policy.log_prob(actions) * delta.detach()).mean()
        entropy = policy.entropy().mean()
        self.actor_optimizer.zero_grad(set_to_none=True)
        self.critic_optimizer.zero_grad(set_to_none=True)
        (actor_loss - config.entropy * entropy + critic_loss).backward()
        torch.nn.utils.clip_grad_norm_(self.actor.parameters(), config.max_grad_norm)
        torch.nn.utils.clip_grad_norm_(self.critic.parameters(), config.max_grad_norm * 10)
        self.actor_optimizer.step()
        self.critic_optimizer.step()
        return {
            "loss": actor_loss.item(),
            "critic_loss": critic_loss.item(),
            "entropy": entropy.item(),
            "mean_return_last_100": self.log.mean_last(100),
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        path = plot_returns(self.log, Path(out_dir) / "returns.png",
                            "Actor-critic (TD advantage) on CartPole", SOLVED_RETURN)  # fmt: skip
        return [path]


def make_experiment(context: Any) -> ActorCriticExperiment:
    return ActorCriticExperiment(context)
