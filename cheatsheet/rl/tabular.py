"""Model-free tabular prediction and control (sheet sections 7.2-7.4).

All methods learn from sampled transitions (S, A, R, S') of a `TabularMDP`; none reads P.

- First-visit Monte Carlo prediction: V(s) = average of the returns G_t following the first
  visit to s in each episode, G_t = sum_k gamma^k R_t+k+1 (unbiased, high variance).
- TD(0) prediction (formula `td0-update`): V(S) += alpha [R + gamma V(S') - V(S)].
- SARSA, on-policy control (formula `sarsa-update`):
      Q(S, A) += alpha [R + gamma Q(S', A') - Q(S, A)],   A' ~ pi_epsilon(. | S')
  the action actually taken next. The sheet prints Q(S', A) (erratum): bootstrapping with the
  old action A evaluates no policy at all.
- Q-learning, off-policy control (formula `q-learning-update`):
      Q(S, A) += alpha [R + gamma max_a' Q(S', a') - Q(S, A)]
  (the sheet's max_a' Q(S', a) has a dropped prime).
- epsilon-greedy: with probability epsilon a uniformly random action, else argmax_a Q(s, a).

Step sizes: `alpha=None` uses the per-pair visit count, alpha_n = n^-omega with omega in
(1/2, 1], which meets the Robbins-Monro conditions (sum alpha = inf, sum alpha^2 < inf) under
which TD(0) and Q-learning converge with probability one; a float is a constant step size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cheatsheet.rl.mdp import TabularMDP


@dataclass
class TabularResult:
    table: Any  # V (S,) for prediction, Q (S, A) for control
    returns: list[float] = field(default_factory=list)  # undiscounted return of each episode
    lengths: list[int] = field(default_factory=list)


def epsilon_greedy(q_row: Any, epsilon: float, rng: Any) -> int:
    """With probability epsilon a uniformly random action, otherwise a greedy one (random
    tie-breaking, so an all-zero initial Q does not always pick action 0)."""
    import numpy as np

    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    best = np.flatnonzero(q_row == q_row.max())
    return int(best[0] if len(best) == 1 else rng.choice(best))


def epsilon_greedy_matrix(Q: Any, epsilon: float) -> Any:
    """pi_epsilon[s, a] of the epsilon-greedy policy for Q (ties split evenly)."""

    greedy = (Q.max(axis=1, keepdims=True) == Q).astype(float)
    greedy /= greedy.sum(axis=1, keepdims=True)
    return epsilon / Q.shape[1] + (1.0 - epsilon) * greedy


def _step_size(alpha: float | None, count: int, omega: float) -> float:
    return alpha if alpha is not None else 1.0 / count**omega


Policy = Callable[[int, Any], int]  # (state, rng) -> action


def fixed_policy(pi: Any) -> Policy:
    """A policy from a matrix pi[s, a] (or a vector of actions) as a sampler."""
    import numpy as np

    pi = np.asarray(pi)
    if pi.ndim == 1:
        return lambda state, rng: int(pi[state])
    cumulative = pi.cumsum(axis=1)
    return lambda state, rng: min(int((cumulative[state] < rng.random()).sum()), pi.shape[1] - 1)


def generate_episode(
    mdp: TabularMDP, policy: Policy, rng: Any, max_steps: int = 1000
) -> list[tuple[int, int, float]]:
    """One episode [(S_t, A_t, R_t+1), ...] from a start state until a terminal state."""
    state = mdp.reset(rng)
    episode = []
    for _ in range(max_steps):
        action = policy(state, rng)
        reward, next_state, done = mdp.step(state, action, rng)
        episode.append((state, action, reward))
        state = next_state
        if done:
            break
    return episode


def first_visit_monte_carlo(
    mdp: TabularMDP,
    policy: Policy,
    episodes: int,
    seed: int = 0,
    max_steps: int = 1000,
    V: Any = None,
    visits: Any = None,
) -> TabularResult:
    """V(s) = mean of the returns after the first visit to s (incremental average). Pass `V`
    and `visits` to continue an estimate (they are updated in place)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    V = np.zeros(mdp.n_states) if V is None else V
    visits = np.zeros(mdp.n_states, dtype=int) if visits is None else visits
    result = TabularResult(V)
    for _ in range(episodes):
        episode = generate_episode(mdp, policy, rng, max_steps)
        # Returns backwards: G_t = R_t+1 + gamma G_t+1.
        returns = np.zeros(len(episode))
        G = 0.0
        for t in range(len(episode) - 1, -1, -1):
            G = episode[t][2] + mdp.gamma * G
            returns[t] = G
        seen = set()
        for t, (state, _, _) in enumerate(episode):
            if state in seen:
                continue
            seen.add(state)
            visits[state] += 1
            V[state] += (returns[t] - V[state]) / visits[state]
        result.returns.append(float(sum(r for _, _, r in episode)))
        result.lengths.append(len(episode))
    return result


def td0(
    mdp: TabularMDP,
    policy: Policy,
    episodes: int,
    alpha: float | None = None,
    omega: float = 0.7,
    seed: int = 0,
    max_steps: int = 1000,
    V: Any = None,
    visits: Any = None,
) -> TabularResult:
    """TD(0) prediction: V(S) += alpha [R + gamma V(S') - V(S)] (td0-update). Pass `V` and
    `visits` to continue an estimate (they are updated in place)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    V = np.zeros(mdp.n_states) if V is None else V
    visits = np.zeros(mdp.n_states, dtype=int) if visits is None else visits
    result = TabularResult(V)
    for _ in range(episodes):
        state, total, length = mdp.reset(rng), 0.0, 0
        for length in range(1, max_steps + 1):  # noqa: B007 - read after the loop
            action = policy(state, rng)
            reward, next_state, done = mdp.step(state, action, rng)
            visits[state] += 1
            # A terminal state's value is 0 by definition: no bootstrap past the end.
            target = reward + (0.0 if done else mdp.gamma * V[next_state])
            V[state] += _step_size(alpha, visits[state], omega) * (target - V[state])
            total += reward
            state = next_state
            if done:
                break
        result.returns.append(total)
        result.lengths.append(length)
    return result


class TabularControl:
    """SARSA or Q-learning, one episode per `episode()` call (what a run's train_step does)."""

    def __init__(
        self,
        mdp: TabularMDP,
        method: str = "q-learning",
        epsilon: float = 0.1,
        alpha: float | None = None,
        omega: float = 0.7,
        seed: int = 0,
        max_steps: int = 1000,
        Q: Any = None,
    ):
        import numpy as np

        if method not in ("sarsa", "q-learning"):
            raise ValueError(f"unknown method {method!r}")
        self.mdp, self.method, self.epsilon = mdp, method, epsilon
        self.alpha, self.omega, self.max_steps = alpha, omega, max_steps
        self.rng = np.random.default_rng(seed)
        self.Q = np.zeros((mdp.n_states, mdp.n_actions)) if Q is None else Q
        self.visits = np.zeros((mdp.n_states, mdp.n_actions), dtype=int)

    def episode(self) -> tuple[float, int, float]:
        """Run one episode, updating Q online; returns (return, length, mean |TD error|)."""
        mdp, Q, rng = self.mdp, self.Q, self.rng
        state = mdp.reset(rng)
        action = epsilon_greedy(Q[state], self.epsilon, rng)
        total, errors, length = 0.0, 0.0, 0
        for length in range(1, self.max_steps + 1):  # noqa: B007 - read after the loop
            reward, next_state, done = mdp.step(state, action, rng)
            next_action = epsilon_greedy(Q[next_state], self.epsilon, rng)
            if done:
                bootstrap = 0.0
            elif self.method == "sarsa":
                bootstrap = Q[next_state, next_action]  # on-policy: the A' we will take
            else:
                bootstrap = Q[next_state].max()  # off-policy: the greedy a'
            td_error = reward + mdp.gamma * bootstrap - Q[state, action]
            self.visits[state, action] += 1
            Q[state, action] += _step_size(self.alpha, self.visits[state, action], self.omega) * (
                td_error
            )
            total += reward
            errors += abs(td_error)
            state, action = next_state, next_action
            if done:
                break
        return total, length, errors / length


def sarsa(mdp: TabularMDP, episodes: int, **options: Any) -> TabularResult:
    """On-policy TD control: Q(S, A) += alpha [R + gamma Q(S', A') - Q(S, A)] (sarsa-update)."""
    return _control(mdp, episodes, "sarsa", **options)


def q_learning(mdp: TabularMDP, episodes: int, **options: Any) -> TabularResult:
    """Off-policy TD control: Q(S, A) += alpha [R + gamma max_a' Q(S', a') - Q(S, A)]
    (q-learning-update)."""
    return _control(mdp, episodes, "q-learning", **options)


def _control(mdp: TabularMDP, episodes: int, method: str, **options: Any) -> TabularResult:
    agent = TabularControl(mdp, method, **options)
    result = TabularResult(agent.Q)
    for _ in range(episodes):
        total, length, _ = agent.episode()
        result.returns.append(total)
        result.lengths.append(length)
    return result
