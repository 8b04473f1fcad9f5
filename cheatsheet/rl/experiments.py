"""`cheatsheet run` experiments for the tabular methods (value-iteration, policy-iteration,
q-learning, sarsa, td0, monte-carlo) on the small MDPs of `cheatsheet.rl.mdp`.

- Dynamic programming: one train_step is one sweep (value iteration: one Bellman optimality
  backup of every state; policy iteration: one exact evaluation plus one greedy improvement).
  The 'loss' is the sweep's max-norm change ||V_k+1 - V_k||_inf. returns.png shows, per sweep,
  the expected discounted return from the start state of the current greedy policy.
- Model-free methods: one train_step is one episode. The 'loss' is the mean |TD error| of the
  episode (control) or ||V - V_pi||_inf against the exact linear solve (prediction, which uses
  the model only to report the error). returns.png plots the return of every episode.

The MDP is picked with --data: gridworld-slippery (default; slip 0.2), gridworld (deterministic),
chain (a 6-state corridor) or random-mdp.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cheatsheet.rl.episodes import EpisodeLog, plot_returns

MDP_NAMES = ("gridworld-slippery", "gridworld", "chain", "random-mdp")


def make_mdp(name: str, seed: int = 0) -> Any:
    from cheatsheet.rl.mdp import chain_mdp, gridworld, random_mdp

    if name == "gridworld-slippery":
        return gridworld(4, 4, pits=((1, 1), (2, 3)), slip=0.2)
    if name == "gridworld":
        return gridworld(4, 4, pits=((1, 1), (2, 3)), slip=0.0)
    if name == "chain":
        return chain_mdp(6, gamma=0.9, slip=0.1)
    if name == "random-mdp":
        return random_mdp(8, 3, gamma=0.9, seed=seed)
    from cheatsheet.errors import CheatsheetError

    raise CheatsheetError(f"unknown MDP '{name}' (choose from {', '.join(MDP_NAMES)})")


def _start_value(mdp: Any, V: Any) -> float:
    return float(mdp.start @ V)


def _policy_figure(mdp: Any, V: Any, policy: Any, path: Path, title: str) -> Path | None:
    """Value heat map with greedy-action arrows, for grid worlds only."""
    if mdp.shape is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cheatsheet.rl.mdp import MOVES

    rows, cols = mdp.shape
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    image = axis.imshow(V.reshape(rows, cols), cmap="RdYlGn")
    figure.colorbar(image, ax=axis, fraction=0.046)
    for s in range(mdp.n_states):
        r, c = divmod(s, cols)
        if mdp.terminal[s]:
            label = "goal" if (r, c) == mdp.labels.get("goal") else "pit"
            axis.text(c, r, label, ha="center", va="center", fontsize=9, weight="bold")
            continue
        dr, dc = MOVES[int(policy[s])]
        axis.arrow(c - 0.25 * dc, r - 0.25 * dr, 0.4 * dc, 0.4 * dr, head_width=0.15,
                   color="black", length_includes_head=True)  # fmt: skip
        axis.text(c, r + 0.35, f"{V[s]:.2f}", ha="center", va="center", fontsize=7)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


class DynamicProgrammingExperiment:
    def __init__(self, context: Any, method: str):
        import numpy as np

        from cheatsheet.rl.dynamic_programming import value_iteration

        self.method = method
        self.mdp = make_mdp(context.data, context.seed)
        mdp = self.mdp
        self.V = np.zeros(mdp.n_states)
        self.policy = np.zeros(mdp.n_states, dtype=int)
        self.optimal = value_iteration(mdp.P, mdp.R, mdp.gamma, tol=1e-13)
        self.greedy_values: list[float] = []
        self.residuals: list[float] = []
        self.converged_at: int | None = None

    def modules(self) -> dict[str, Any]:
        return {}

    def optimizers(self) -> dict[str, Any]:
        return {}

    def train_step(self, step: int) -> dict[str, float]:
        import numpy as np

        from cheatsheet.rl import dynamic_programming as dp

        mdp = self.mdp
        if self.method == "value-iteration":
            V_new = dp.bellman_optimality_backup(mdp.P, mdp.R, mdp.gamma, self.V)
            policy = dp.greedy_policy(mdp.P, mdp.R, mdp.gamma, V_new)
        else:
            V_new = dp.policy_evaluation(mdp.P, mdp.R, mdp.gamma, self.policy)
            Q = dp.action_values(mdp.P, mdp.R, mdp.gamma, V_new)
            current = Q[np.arange(mdp.n_states), self.policy]
            policy = np.where(Q.max(1) > current + 1e-12, Q.argmax(1), self.policy)
        residual = float(np.abs(V_new - self.V).max())
        stable = np.array_equal(policy, self.policy)
        self.V, self.policy = V_new, policy
        self.residuals.append(residual)
        greedy = dp.policy_evaluation(mdp.P, mdp.R, mdp.gamma, policy)
        self.greedy_values.append(_start_value(mdp, greedy))
        done = residual < 1e-10 if self.method == "value-iteration" else stable
        if done and self.converged_at is None:
            self.converged_at = step + 1
        return {"loss": residual, "greedy_start_value": self.greedy_values[-1]}

    def state_dict(self) -> dict[str, Any]:
        import torch

        return {"V": torch.from_numpy(self.V.copy()), "policy": self.policy.tolist(),
                "residuals": list(self.residuals), "greedy_values": list(self.greedy_values),
                "converged_at": self.converged_at}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import numpy as np

        self.V = state["V"].numpy().astype(float)
        self.policy = np.asarray(state["policy"], dtype=int)
        self.residuals = [float(v) for v in state["residuals"]]
        self.greedy_values = [float(v) for v in state["greedy_values"]]
        self.converged_at = state["converged_at"]

    def evaluate(self) -> dict[str, Any]:
        import numpy as np

        from cheatsheet.rl.dynamic_programming import policy_evaluation

        mdp = self.mdp
        exact = policy_evaluation(mdp.P, mdp.R, mdp.gamma, self.policy)
        return {
            "sweeps": len(self.residuals),
            "converged_at_sweep": self.converged_at,
            "start_value": _start_value(mdp, self.V),
            "optimal_start_value": _start_value(mdp, self.optimal.V),
            "max_gap_to_v_star": float(np.abs(self.V - self.optimal.V).max()),
            "max_gap_greedy_linear_solve_to_v_star": float(np.abs(exact - self.optimal.V).max()),
            "policy": self.policy.tolist(),
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        log = EpisodeLog(returns=self.greedy_values)
        title = f"{self.method}: value of the greedy policy per sweep"
        paths = [plot_returns(log, Path(out_dir) / "returns.png", title,
                              reference=_start_value(self.mdp, self.optimal.V),
                              reference_label="V*(start)")]  # fmt: skip
        figure = _policy_figure(self.mdp, self.V, self.policy, Path(out_dir) / "policy.png",
                                f"{self.method}: V and greedy policy")  # fmt: skip
        return paths + ([figure] if figure else [])


@dataclass
class TabularConfig:
    epsilon: float = 0.2  # exploration of the epsilon-greedy behaviour policy (control)
    alpha: float = 0.0  # constant step size; 0 = the visit-count schedule alpha_n = n^-omega
    omega: float = 0.7


class TabularExperiment:
    def __init__(self, context: Any, method: str):
        import numpy as np

        from cheatsheet.rl.dynamic_programming import value_iteration
        from cheatsheet.rl.tabular import TabularControl, fixed_policy

        config = context.settings(TabularConfig, method)
        self.method = method
        self.mdp = make_mdp(context.data, context.seed)
        mdp = self.mdp
        self.optimal = value_iteration(mdp.P, mdp.R, mdp.gamma, tol=1e-13)
        self.epsilon = config.epsilon
        self.alpha = config.alpha if config.alpha > 0 else None
        self.omega = config.omega
        self.rng = np.random.default_rng(context.seed)
        self.log = EpisodeLog()
        if method in ("q-learning", "sarsa"):
            self.agent = TabularControl(mdp, method, epsilon=self.epsilon, alpha=self.alpha,
                                        omega=self.omega, seed=context.seed)  # fmt: skip
        else:
            # Prediction of the uniformly random policy, whose V_pi has a closed form.
            self.uniform = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
            self.policy = fixed_policy(self.uniform)
            self.V = np.zeros(mdp.n_states)
            self.visits = np.zeros(mdp.n_states, dtype=int)

    def modules(self) -> dict[str, Any]:
        return {}

    def optimizers(self) -> dict[str, Any]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        """The table, its visit counts and the episode log, for --resume."""
        import torch

        control = self.method in ("q-learning", "sarsa")
        table = self.agent.Q if control else self.V
        visits = self.agent.visits if control else self.visits
        return {"table": torch.from_numpy(table.copy()), "visits": torch.from_numpy(visits.copy()),
                "log": self.log.state_dict()}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import numpy as np

        control = self.method in ("q-learning", "sarsa")
        table = self.agent.Q if control else self.V
        visits = self.agent.visits if control else self.visits
        table[...] = state["table"].numpy()  # in place: the agent holds these arrays
        visits[...] = state["visits"].numpy()
        self.log.load_state_dict(state["log"])
        # A fresh stream after resuming (the old generator's state is not checkpointed).
        self.rng = np.random.default_rng([len(self.log.returns), 7919])
        if control:
            self.agent.rng = np.random.default_rng([len(self.log.returns), 104729])

    def _target_values(self) -> Any:
        from cheatsheet.rl.dynamic_programming import policy_evaluation

        mdp = self.mdp
        return policy_evaluation(mdp.P, mdp.R, mdp.gamma, self.uniform, mdp.terminal)

    def train_step(self, step: int) -> dict[str, float]:
        import numpy as np

        from cheatsheet.rl.tabular import first_visit_monte_carlo, td0

        if self.method in ("q-learning", "sarsa"):
            total, length, mean_td_error = self.agent.episode()
            self.log.add(total, length)
            return {"loss": mean_td_error, "return": total}
        # One episode of prediction, continuing from the current estimate and visit counts.
        run = td0 if self.method == "td0" else first_visit_monte_carlo
        seed = int(self.rng.integers(2**31))
        result = _continue_prediction(run, self.mdp, self.policy, self.V, self.visits, seed,
                                      self.alpha, self.omega)  # fmt: skip
        self.log.add(result.returns[-1], result.lengths[-1])
        error = float(np.abs(self.V - self._target_values()).max())
        return {"loss": error, "return": result.returns[-1]}

    def evaluate(self) -> dict[str, Any]:
        import numpy as np

        from cheatsheet.rl.dynamic_programming import action_values, policy_evaluation
        from cheatsheet.rl.tabular import epsilon_greedy_matrix

        mdp = self.mdp
        metrics: dict[str, Any] = {**self.log.metrics(threshold=None)}
        if self.method in ("q-learning", "sarsa"):
            Q = self.agent.Q
            live = ~mdp.terminal
            greedy = policy_evaluation(mdp.P, mdp.R, mdp.gamma, Q.argmax(1), mdp.terminal)
            metrics["greedy_start_value"] = _start_value(mdp, greedy)
            metrics["optimal_start_value"] = _start_value(mdp, self.optimal.V)
            metrics["max_gap_q_to_q_star"] = float(np.abs(Q - self.optimal.Q)[live].max())
            pi = epsilon_greedy_matrix(Q, self.epsilon)
            V_pi = policy_evaluation(mdp.P, mdp.R, mdp.gamma, pi, mdp.terminal)
            Q_pi = action_values(mdp.P, mdp.R, mdp.gamma, V_pi)
            metrics["max_gap_q_to_q_epsilon_greedy"] = float(np.abs(Q - Q_pi)[live].max())
            metrics["epsilon"] = self.epsilon
        else:
            metrics["max_gap_v_to_v_pi"] = float(np.abs(self.V - self._target_values()).max())
            metrics["policy"] = "uniformly random"
        return metrics

    def save_figures(self, out_dir: Path) -> list[Path]:
        paths = [plot_returns(self.log, Path(out_dir) / "returns.png",
                              f"{self.method}: return per episode")]  # fmt: skip
        if self.method in ("q-learning", "sarsa"):
            Q = self.agent.Q
            figure = _policy_figure(self.mdp, Q.max(1), Q.argmax(1), Path(out_dir) / "policy.png",
                                    f"{self.method}: max_a Q and greedy policy")  # fmt: skip
            if figure:
                paths.append(figure)
        return paths


def _continue_prediction(
    run: Any, mdp: Any, policy: Any, V: Any, visits: Any, seed: int, alpha: Any, omega: float
) -> Any:
    """One more episode of TD(0) or Monte Carlo on the running estimate (in place)."""
    from cheatsheet.rl import tabular

    if run is tabular.td0:
        result = tabular.td0(mdp, policy, 1, alpha=alpha, omega=omega, seed=seed, V=V,
                             visits=visits)  # fmt: skip
    else:
        result = tabular.first_visit_monte_carlo(mdp, policy, 1, seed=seed, V=V, visits=visits)
    return result


def make_value_iteration(context: Any) -> DynamicProgrammingExperiment:
    return DynamicProgrammingExperiment(context, "value-iteration")


def make_policy_iteration(context: Any) -> DynamicProgrammingExperiment:
    return DynamicProgrammingExperiment(context, "policy-iteration")


def make_q_learning(context: Any) -> TabularExperiment:
    return TabularExperiment(context, "q-learning")


def make_sarsa(context: Any) -> TabularExperiment:
    return TabularExperiment(context, "sarsa")


def make_td0(context: Any) -> TabularExperiment:
    return TabularExperiment(context, "td0")


def make_monte_carlo(context: Any) -> TabularExperiment:
    return TabularExperiment(context, "monte-carlo")
