"""Finite Markov decision processes as arrays (sheet section 7).

An MDP here is `P[s, a, s']` (transition probabilities, each `P[s, a]` sums to one) and the
expected immediate reward `R[s, a]`, with a discount `gamma`. Terminal states are absorbing with
zero reward, so the Bellman equations need no special case for them; the samplers stop an
episode when it enters one. Everything is numpy: tabular methods need no autograd.

- `gridworld(...)`: the classic grid with a goal (+1) and pits (-1); `slip > 0` makes it the
  stochastic ("slippery") version where the agent moves sideways with probability `slip`.
- `random_mdp(...)`: a dense random MDP with Dirichlet transitions, for property tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Moves on the grid, in the order of the action index: up, right, down, left.
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
ACTION_NAMES = ("up", "right", "down", "left")


@dataclass
class TabularMDP:
    """P[s, a, s'], R[s, a], gamma, where episodes start, and which states end them."""

    P: Any  # np.ndarray (S, A, S)
    R: Any  # np.ndarray (S, A)
    gamma: float
    start: Any  # np.ndarray (S,), the initial state distribution
    terminal: Any  # np.ndarray (S,) of bool
    shape: tuple[int, int] | None = None  # grid shape, for pretty printing
    labels: dict[str, Any] = field(default_factory=dict)
    # Optional reward of each transition r(s, a, s'); then R[s, a] = sum_s' P[s, a, s'] r(s, a, s')
    # and the samplers pay the realised reward instead of its expectation.
    transition_reward: Any = None
    _cumulative: Any = field(default=None, repr=False)

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    def __post_init__(self) -> None:
        import numpy as np

        assert self.P.ndim == 3 and self.P.shape[0] == self.P.shape[2], self.P.shape
        assert self.R.shape == self.P.shape[:2], (self.R.shape, self.P.shape)
        assert np.allclose(self.P.sum(axis=2), 1.0), "each P[s, a] must be a distribution"
        assert 0.0 <= self.gamma < 1.0 or self.terminal.any(), "gamma = 1 needs terminal states"
        if self.transition_reward is not None:
            expected = (self.P * self.transition_reward).sum(axis=2)
            assert np.allclose(expected, self.R), "R must be the expectation of r(s, a, s')"

    # Sampling: the realised reward r(s, a, s') when the MDP has one, else R[s, a].
    def reset(self, rng: Any) -> int:
        return int(rng.choice(self.n_states, p=self.start))

    def step(self, state: int, action: int, rng: Any) -> tuple[float, int, bool]:
        # Inverse-CDF sampling: rng.choice(p=...) rebuilds the CDF on every call (10x slower).
        if self._cumulative is None:
            self._cumulative = self.P.cumsum(axis=2)
        row = self._cumulative[state, action]
        next_state = min(int((row < rng.random() * row[-1]).sum()), self.n_states - 1)
        if self.transition_reward is not None:
            reward = self.transition_reward[state, action, next_state]
        else:
            reward = self.R[state, action]
        return float(reward), next_state, bool(self.terminal[next_state])


def gridworld(
    rows: int = 4,
    cols: int = 4,
    goal: tuple[int, int] | None = None,
    pits: tuple[tuple[int, int], ...] = ((1, 1),),
    walls: tuple[tuple[int, int], ...] = (),
    slip: float = 0.0,
    step_reward: float = -0.04,
    gamma: float = 0.95,
    start: tuple[int, int] = (0, 0),
) -> TabularMDP:
    """A grid world: reaching `goal` pays +1, a pit pays -1 (both end the episode), every other
    move costs `step_reward`. With `slip > 0` the intended move happens with probability
    1 - slip and each perpendicular move with slip / 2 (the slippery, stochastic version).
    Moving into the border or a wall leaves the agent in place."""
    import numpy as np

    goal = goal if goal is not None else (rows - 1, cols - 1)
    n_states = rows * cols
    index = {(r, c): r * cols + c for r in range(rows) for c in range(cols)}
    terminal = np.zeros(n_states, dtype=bool)
    terminal[index[goal]] = True
    for pit in pits:
        terminal[index[pit]] = True
    P = np.zeros((n_states, 4, n_states))
    R = np.zeros((n_states, 4))
    transition_reward = np.zeros((n_states, 4, n_states))

    def land(cell: tuple[int, int], move: tuple[int, int]) -> tuple[int, int]:
        r, c = cell[0] + move[0], cell[1] + move[1]
        if not (0 <= r < rows and 0 <= c < cols) or (r, c) in walls:
            return cell
        return (r, c)

    def reward_of(cell: tuple[int, int]) -> float:
        if cell == goal:
            return 1.0
        if cell in pits:
            return -1.0
        return step_reward

    for cell, s in index.items():
        if terminal[s] or cell in walls:
            P[s, :, s] = 1.0  # absorbing, reward 0
            continue
        for a in range(4):
            sideways = (MOVES[(a + 1) % 4], MOVES[(a + 3) % 4])
            outcomes = [(MOVES[a], 1.0 - slip)] + [(m, slip / 2) for m in sideways]
            for move, probability in outcomes:
                if probability == 0.0:
                    continue
                target = land(cell, move)
                P[s, a, index[target]] += probability
                R[s, a] += probability * reward_of(target)
                transition_reward[s, a, index[target]] = reward_of(target)
    start_distribution = np.zeros(n_states)
    start_distribution[index[start]] = 1.0
    return TabularMDP(
        P, R, gamma, start_distribution, terminal, shape=(rows, cols),
        labels={"goal": goal, "pits": pits, "walls": walls, "slip": slip},
        transition_reward=transition_reward,
    )  # fmt: skip


def random_mdp(
    n_states: int = 6,
    n_actions: int = 3,
    gamma: float = 0.9,
    seed: int = 0,
    concentration: float = 1.0,
) -> TabularMDP:
    """A dense random MDP: P[s, a] ~ Dirichlet(concentration), R[s, a] ~ N(0, 1), no terminal
    states, uniform start. Small concentrations give near-deterministic transitions."""
    import numpy as np

    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(n_states, concentration), size=(n_states, n_actions))
    R = rng.normal(size=(n_states, n_actions))
    return TabularMDP(
        P, R, gamma, np.full(n_states, 1.0 / n_states), np.zeros(n_states, dtype=bool)
    )


def chain_mdp(n_states: int = 5, gamma: float = 0.9, slip: float = 0.1) -> TabularMDP:
    """A short corridor: actions left/right, +1 for reaching the right end (terminal), 0 else,
    with probability `slip` of moving the other way. Episodes start anywhere non-terminal, so
    every state-action pair is visited: the test bed for TD(0), SARSA and Q-learning."""
    import numpy as np

    P = np.zeros((n_states, 2, n_states))
    R = np.zeros((n_states, 2))
    transition_reward = np.zeros((n_states, 2, n_states))
    transition_reward[:, :, n_states - 1] = 1.0  # +1 for entering the right end
    last = n_states - 1
    for s in range(last):
        for a, direction in enumerate((-1, 1)):
            for move, probability in ((direction, 1.0 - slip), (-direction, slip)):
                target = min(max(s + move, 0), last)
                P[s, a, target] += probability
                R[s, a] += probability * (1.0 if target == last else 0.0)
    P[last, :, last] = 1.0
    terminal = np.zeros(n_states, dtype=bool)
    terminal[last] = True
    start = np.where(terminal, 0.0, 1.0 / last)
    transition_reward[last] = 0.0  # absorbing: no reward once there
    return TabularMDP(P, R, gamma, start, terminal, transition_reward=transition_reward)
