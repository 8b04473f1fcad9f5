"""Dynamic programming against independent oracles: the linear solve of the Bellman equation,
a brute-force search over all deterministic policies, an explicit-loop backup, and the
contraction property of the Bellman optimality operator (hypothesis over random MDPs)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cheatsheet.rl.dynamic_programming import (
    action_values,
    bellman_optimality_backup,
    greedy_policy,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)
from cheatsheet.rl.mdp import chain_mdp, gridworld, random_mdp

MDPS = {
    "grid-deterministic": lambda: gridworld(slip=0.0),
    "grid-slippery": lambda: gridworld(slip=0.2, pits=((1, 1), (2, 3)), walls=((1, 2),)),
    "random": lambda: random_mdp(8, 3, gamma=0.9, seed=3),
    "random-peaked": lambda: random_mdp(6, 4, gamma=0.95, seed=7, concentration=0.2),
    "chain": lambda: chain_mdp(6, gamma=0.9, slip=0.2),
}


@pytest.mark.parametrize("name", MDPS)
def test_value_and_policy_iteration_agree_with_linear_solve(name):
    mdp = MDPS[name]()
    vi = value_iteration(mdp.P, mdp.R, mdp.gamma, tol=1e-12)
    pi = policy_iteration(mdp.P, mdp.R, mdp.gamma)
    np.testing.assert_allclose(vi.V, pi.V, atol=1e-9)
    # The greedy policy of V*, evaluated exactly by (I - gamma P_pi) V = R_pi, has value V*.
    for policy in (vi.policy, pi.policy):
        exact = policy_evaluation(mdp.P, mdp.R, mdp.gamma, policy)
        np.testing.assert_allclose(exact, vi.V, atol=1e-9)
    # V* is the fixed point of the backup.
    np.testing.assert_allclose(bellman_optimality_backup(mdp.P, mdp.R, mdp.gamma, vi.V), vi.V,
                               atol=1e-10)  # fmt: skip


def test_policy_iteration_beats_every_deterministic_policy():
    mdp = random_mdp(4, 3, gamma=0.8, seed=11)
    best = policy_iteration(mdp.P, mdp.R, mdp.gamma)
    for policy in itertools.product(range(3), repeat=4):
        V = policy_evaluation(mdp.P, mdp.R, mdp.gamma, np.array(policy))
        assert np.all(best.V >= V - 1e-10), policy


def test_linear_solve_equals_neumann_series():
    # V_pi = sum_k (gamma P_pi)^k R_pi, the expected discounted return, summed directly.
    mdp = random_mdp(5, 2, gamma=0.7, seed=2)
    pi = np.random.default_rng(0).dirichlet(np.ones(2), size=5)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    R_pi = (pi * mdp.R).sum(axis=1)
    series, term = np.zeros(5), R_pi.copy()
    for _ in range(200):
        series += term
        term = mdp.gamma * P_pi @ term
    np.testing.assert_allclose(policy_evaluation(mdp.P, mdp.R, mdp.gamma, pi), series, atol=1e-12)


def test_backup_matches_explicit_sums():
    mdp = gridworld(slip=0.3)
    V = np.random.default_rng(1).normal(size=mdp.n_states)
    expected = np.empty(mdp.n_states)
    for s in range(mdp.n_states):
        expected[s] = max(
            mdp.R[s, a] + mdp.gamma * sum(mdp.P[s, a, t] * V[t] for t in range(mdp.n_states))
            for a in range(mdp.n_actions)
        )
    np.testing.assert_allclose(bellman_optimality_backup(mdp.P, mdp.R, mdp.gamma, V), expected)


@given(
    seed=st.integers(0, 10_000),
    n_states=st.integers(2, 9),
    n_actions=st.integers(1, 4),
    gamma=st.floats(0.0, 0.99),
    concentration=st.sampled_from([0.1, 1.0, 10.0]),
)
def test_backup_is_a_gamma_contraction(seed, n_states, n_actions, gamma, concentration):
    mdp = random_mdp(n_states, n_actions, gamma, seed, concentration)
    rng = np.random.default_rng(seed + 1)
    V1, V2 = rng.normal(scale=5, size=(2, n_states))
    left = np.abs(bellman_optimality_backup(mdp.P, mdp.R, gamma, V1)
                  - bellman_optimality_backup(mdp.P, mdp.R, gamma, V2)).max()  # fmt: skip
    assert left <= gamma * np.abs(V1 - V2).max() + 1e-12


def test_value_iteration_error_shrinks_geometrically():
    mdp = random_mdp(6, 3, gamma=0.9, seed=5)
    V_star = value_iteration(mdp.P, mdp.R, mdp.gamma, tol=1e-13).V
    V = np.zeros(6)
    error = np.abs(V - V_star).max()
    for _ in range(30):
        V = bellman_optimality_backup(mdp.P, mdp.R, mdp.gamma, V)
        new_error = np.abs(V - V_star).max()
        assert new_error <= mdp.gamma * error + 1e-12
        error = new_error


def test_slippery_grid_avoids_the_pit_side():
    # Deterministic grid: the shortest path may brush the pit; slippery: Q* prefers the path
    # where a sideways slip cannot drop the agent in. Checked via Q*, not a hand-typed policy.
    grid = gridworld(slip=0.0)
    slippery = gridworld(slip=0.4)
    for mdp in (grid, slippery):
        V = value_iteration(mdp.P, mdp.R, mdp.gamma).V
        Q = action_values(mdp.P, mdp.R, mdp.gamma, V)
        np.testing.assert_array_equal(greedy_policy(mdp.P, mdp.R, mdp.gamma, V), Q.argmax(1))
    assert (
        value_iteration(slippery.P, slippery.R, slippery.gamma).V[0]
        < value_iteration(grid.P, grid.R, grid.gamma).V[0]
    )


def test_registry_backup_agrees():
    import formulas

    formula = formulas.get("bellman-optimality-backup")
    mdp = random_mdp(5, 3, gamma=0.9, seed=4)
    V = np.random.default_rng(0).normal(size=5)
    np.testing.assert_allclose(
        np.asarray(formula.evaluate(P=mdp.P, R=mdp.R, gamma=mdp.gamma, V=V), dtype=float),
        bellman_optimality_backup(mdp.P, mdp.R, mdp.gamma, V),
        atol=1e-12,
    )
