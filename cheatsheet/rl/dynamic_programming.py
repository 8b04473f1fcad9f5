"""Dynamic programming on a known MDP (sheet section 7.1 and the proof "Bellman operator
converges"): value iteration, policy evaluation by a linear solve, policy iteration.

Arrays follow `cheatsheet.rl.mdp`: P[s, a, s'], R[s, a] (expected reward), a discount gamma.

- Bellman optimality backup (formula `bellman-optimality-backup`):
      (T* V)(s) = max_a [ R(s, a) + gamma * sum_s' P(s' | s, a) V(s') ].
  T* is a gamma-contraction in the max norm, so iterating it converges to its unique fixed
  point V* from any start (value iteration).
- Bellman expectation equation for a policy pi (formula `bellman-expectation`):
      V_pi = R_pi + gamma * P_pi V_pi   <=>   (I - gamma * P_pi) V_pi = R_pi,
  solved exactly with `numpy.linalg.solve` (policy evaluation).
- Greedy improvement (formula `greedy-policy`):
      pi'(s) = argmax_a [ R(s, a) + gamma * sum_s' P(s' | s, a) V(s') ].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DPResult:
    V: Any  # np.ndarray (S,)
    Q: Any  # np.ndarray (S, A)
    policy: Any  # np.ndarray (S,) of greedy actions
    iterations: int
    residuals: list[float] = field(default_factory=list)  # ||V_k+1 - V_k||_inf per sweep


def action_values(P: Any, R: Any, gamma: float, V: Any) -> Any:
    """Q(s, a) = R(s, a) + gamma * sum_s' P(s' | s, a) V(s'), shape (S, A)."""
    return R + gamma * P @ V


def bellman_optimality_backup(P: Any, R: Any, gamma: float, V: Any) -> Any:
    """(T* V)(s) = max_a [R(s, a) + gamma * sum_s' P(s'|s, a) V(s')] (bellman-optimality-backup)."""
    return action_values(P, R, gamma, V).max(axis=1)


def greedy_policy(P: Any, R: Any, gamma: float, V: Any) -> Any:
    """pi'(s) = argmax_a [R(s, a) + gamma * sum_s' P(s'|s, a) V(s')] (ties: lowest action)."""
    return action_values(P, R, gamma, V).argmax(axis=1)


def policy_matrix(policy: Any, n_actions: int) -> Any:
    """A deterministic policy (S,) of actions as the stochastic matrix pi[s, a]."""
    import numpy as np

    policy = np.asarray(policy)
    if policy.ndim == 2:
        return policy
    return np.eye(n_actions)[policy]


def policy_evaluation(P: Any, R: Any, gamma: float, policy: Any, terminal: Any = None) -> Any:
    """V_pi from the linear system (I - gamma P_pi) V = R_pi (bellman-expectation).

    `policy` is (S,) actions or (S, A) probabilities. With gamma = 1 the system is singular at
    absorbing terminal states; pass `terminal` to pin V = 0 there."""
    import numpy as np

    pi = policy_matrix(policy, P.shape[1])
    P_pi = np.einsum("sa,sat->st", pi, P)
    R_pi = (pi * R).sum(axis=1)
    A = np.eye(len(R_pi)) - gamma * P_pi
    if terminal is not None:
        A[terminal] = 0.0
        A[terminal, terminal] = 1.0
        R_pi = np.where(terminal, 0.0, R_pi)
    return np.linalg.solve(A, R_pi)


def value_iteration(
    P: Any, R: Any, gamma: float, tol: float = 1e-10, max_iterations: int = 100_000, V0: Any = None
) -> DPResult:
    """Iterate V <- T* V until the max-norm change is below tol; then act greedily.

    By the contraction, ||V_k - V*|| <= gamma / (1 - gamma) * ||V_k - V_k-1||, so the stopping
    tolerance bounds the distance to V*."""
    import numpy as np

    V = np.zeros(P.shape[0]) if V0 is None else np.asarray(V0, dtype=float)
    residuals = []
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - read after the loop
        V_new = bellman_optimality_backup(P, R, gamma, V)
        residuals.append(float(np.abs(V_new - V).max()))
        V = V_new
        if residuals[-1] < tol:
            break
    Q = action_values(P, R, gamma, V)
    return DPResult(V, Q, Q.argmax(axis=1), iteration, residuals)


def policy_iteration(
    P: Any, R: Any, gamma: float, terminal: Any = None, max_iterations: int = 1000
) -> DPResult:
    """Alternate exact evaluation (linear solve) and greedy improvement until the policy is
    stable. Converges in finitely many steps: there are finitely many deterministic policies and
    each improvement is monotone (V_pi' >= V_pi)."""
    import numpy as np

    policy = np.zeros(P.shape[0], dtype=int)
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - read after the loop
        V = policy_evaluation(P, R, gamma, policy, terminal)
        Q = action_values(P, R, gamma, V)
        # Keep the current action unless another one is strictly better: no flip-flop on ties.
        current = Q[np.arange(len(policy)), policy]
        improved = np.where(Q.max(axis=1) > current + 1e-12, Q.argmax(axis=1), policy)
        if np.array_equal(improved, policy):
            break
        policy = improved
    return DPResult(V, Q, policy, iteration)
