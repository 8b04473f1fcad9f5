"""Model-free tabular methods converge to the values dynamic programming computes exactly:
TD(0) and first-visit Monte Carlo to V_pi, Q-learning to Q*, SARSA to the value of its own
epsilon-greedy policy (on-policy). Fixed seeds; tolerances are a few standard errors."""

from __future__ import annotations

import numpy as np
import pytest

from cheatsheet.rl.dynamic_programming import action_values, policy_evaluation, value_iteration
from cheatsheet.rl.mdp import chain_mdp, gridworld
from cheatsheet.rl.tabular import (
    epsilon_greedy,
    epsilon_greedy_matrix,
    first_visit_monte_carlo,
    fixed_policy,
    q_learning,
    sarsa,
    td0,
)


@pytest.fixture(scope="module")
def chain():
    return chain_mdp(5, gamma=0.9, slip=0.1)


def test_td0_and_monte_carlo_reach_v_pi(chain):
    uniform = np.full((chain.n_states, 2), 0.5)
    V_pi = policy_evaluation(chain.P, chain.R, chain.gamma, uniform)
    td = td0(chain, fixed_policy(uniform), episodes=3000, seed=0).table
    mc = first_visit_monte_carlo(chain, fixed_policy(uniform), episodes=3000, seed=1).table
    np.testing.assert_allclose(td, V_pi, atol=0.03)
    np.testing.assert_allclose(mc, V_pi, atol=0.03)


def test_q_learning_reaches_q_star(chain):
    V_star = value_iteration(chain.P, chain.R, chain.gamma).V
    Q_star = action_values(chain.P, chain.R, chain.gamma, V_star)
    # Off-policy: a very exploratory behaviour policy still learns the greedy Q*.
    Q = q_learning(chain, episodes=4000, epsilon=0.5, seed=0).table
    np.testing.assert_allclose(Q[:-1], Q_star[:-1], atol=0.05)


def test_sarsa_reaches_q_of_its_epsilon_greedy_policy(chain):
    epsilon = 0.3
    Q = sarsa(chain, episodes=4000, epsilon=epsilon, seed=0).table
    pi = epsilon_greedy_matrix(Q, epsilon)
    Q_pi = action_values(chain.P, chain.R, chain.gamma,
                         policy_evaluation(chain.P, chain.R, chain.gamma, pi))  # fmt: skip
    np.testing.assert_allclose(Q[:-1], Q_pi[:-1], atol=0.05)
    # The test can tell on- from off-policy: Q of the epsilon-greedy policy is not Q*.
    Q_star = action_values(chain.P, chain.R, chain.gamma,
                           value_iteration(chain.P, chain.R, chain.gamma).V)  # fmt: skip
    assert np.abs(Q_pi - Q_star)[:-1].max() > 0.07
    np.testing.assert_array_equal(Q[:-1].argmax(1), Q_star[:-1].argmax(1))


def test_q_learning_finds_the_optimal_policy_on_a_slippery_grid():
    grid = gridworld(slip=0.2)
    optimal = value_iteration(grid.P, grid.R, grid.gamma)
    Q = q_learning(grid, episodes=2000, epsilon=0.2, seed=0).table  # alpha_n = n^-0.7
    greedy_values = policy_evaluation(grid.P, grid.R, grid.gamma, Q.argmax(1))
    # Judged by value, not by action labels (ties): the learned greedy policy is near optimal
    # from the start state.
    assert greedy_values[0] >= optimal.V[0] - 0.01


def test_epsilon_greedy_frequencies():
    rng = np.random.default_rng(0)
    q_row = np.array([0.1, 0.5, 0.5, -1.0])
    epsilon = 0.2
    n = 20_000
    counts = np.bincount([epsilon_greedy(q_row, epsilon, rng) for _ in range(n)], minlength=4)
    expected = epsilon_greedy_matrix(q_row[None], epsilon)[0]
    # Binomial standard error sqrt(p (1 - p) / n) < 0.0036; allow 4 of them.
    np.testing.assert_allclose(counts / n, expected, atol=0.015)


def test_sampler_matches_p_and_r():
    grid = gridworld(slip=0.3)
    rng = np.random.default_rng(0)
    state, action, n = 10, 1, 20_000
    draws = [grid.step(state, action, rng) for _ in range(n)]
    frequencies = np.bincount([s for _, s, _ in draws], minlength=grid.n_states) / n
    np.testing.assert_allclose(frequencies, grid.P[state, action], atol=0.015)
    rewards = np.array([r for r, _, _ in draws])
    assert abs(rewards.mean() - grid.R[state, action]) < 4 * rewards.std() / np.sqrt(n) + 1e-12
