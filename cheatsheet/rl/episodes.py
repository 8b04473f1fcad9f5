"""What the RL runs share: making a gymnasium environment, bookkeeping of episode returns, and
the returns-per-episode plot (returns.png) every RL run writes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CARTPOLE = "CartPole-v1"
# The "solved" threshold of CartPole (gymnasium's reward_threshold for v0): mean return >= 195
# over 100 consecutive episodes.
SOLVED_RETURN = 195.0


def make_env(name: str = CARTPOLE, seed: int = 0) -> Any:
    import gymnasium

    env = gymnasium.make(name)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    return env


@dataclass
class EpisodeLog:
    """Undiscounted return and length of each finished episode, in order."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    steps_at_end: list[int] = field(default_factory=list)  # environment steps when it ended

    def add(self, episode_return: float, length: int, total_steps: int = 0) -> None:
        self.returns.append(float(episode_return))
        self.lengths.append(int(length))
        self.steps_at_end.append(int(total_steps))

    def state_dict(self) -> dict[str, Any]:
        return {"returns": list(self.returns), "lengths": list(self.lengths),
                "steps_at_end": list(self.steps_at_end)}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.returns = [float(v) for v in state["returns"]]
        self.lengths = [int(v) for v in state["lengths"]]
        self.steps_at_end = [int(v) for v in state.get("steps_at_end", [])]

    def mean_last(self, n: int = 100) -> float:
        """Mean return of the last n episodes (nan before the first one ends)."""
        if not self.returns:
            return float("nan")
        tail = self.returns[-n:]
        return sum(tail) / len(tail)

    def first_solved(self, threshold: float = SOLVED_RETURN, n: int = 100) -> int | None:
        """The episode, counted from 1 (= episodes played), whose end first brought the mean of
        the last n returns to the threshold; None if it never did."""
        running = 0.0
        for index, value in enumerate(self.returns):
            running += value
            if index >= n:
                running -= self.returns[index - n]
            if index + 1 >= n and running / n >= threshold:
                return index + 1
        return None

    def metrics(self, threshold: float | None = SOLVED_RETURN) -> dict[str, Any]:
        result: dict[str, Any] = {
            "episodes": len(self.returns),
            "mean_return_last_100": self.mean_last(100),
            "best_return": max(self.returns) if self.returns else float("nan"),
        }
        if threshold is not None:
            solved = self.first_solved(threshold)
            result["solved_threshold"] = threshold
            result["solved"] = result["mean_return_last_100"] >= threshold
            result["first_solved_episode"] = solved
            if solved is not None and self.steps_at_end:
                result["first_solved_env_steps"] = self.steps_at_end[solved - 1]
        return result


class EpisodicExperiment:
    """The --resume state and metrics of a run that trains on whole episodes (REINFORCE,
    actor-critic): subclasses set `log` (EpisodeLog), `total_steps` (environment steps) and
    `cpu_start` (time.process_time() at construction)."""

    log: EpisodeLog
    total_steps: int
    cpu_start: float

    def state_dict(self) -> dict[str, Any]:
        """Episode log and counters for --resume (the environment itself restarts an episode)."""
        return {
            "log": self.log.state_dict(),
            "total_steps": self.total_steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.log.load_state_dict(state["log"])
        self.total_steps = int(state["total_steps"])

    def evaluate(self) -> dict[str, Any]:
        return {
            **self.log.metrics(SOLVED_RETURN),
            "env_steps": self.total_steps,
            # CPU seconds of this process since construction: comparable across loaded machines,
            # unlike the harness's wall time.
            "cpu_time_s": round(time.process_time() - self.cpu_start, 1),
        }


def plot_returns(
    log: EpisodeLog,
    path: Path,
    title: str,
    threshold: float | None = None,
    reference: float | None = None,
    reference_label: str = "optimal",
) -> Path:
    """Return per episode (light) with its 100-episode moving average (dark)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    returns = np.asarray(log.returns, dtype=float)
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(returns, color="tab:blue", alpha=0.35, linewidth=0.8, label="return per episode")
    if len(returns):
        window = min(100, len(returns))
        cumulative = np.cumsum(np.insert(returns, 0, 0.0))
        moving = [
            (cumulative[i + 1] - cumulative[max(0, i + 1 - window)]) / min(i + 1, window)
            for i in range(len(returns))
        ]
        axis.plot(moving, color="tab:blue", linewidth=2, label=f"mean of last {window}")
    if threshold is not None:
        axis.axhline(threshold, color="tab:red", linestyle="--", label=f"solved ({threshold:g})")
    if reference is not None:
        axis.axhline(reference, color="tab:green", linestyle=":", label=reference_label)
    axis.set_xlabel("episode")
    axis.set_ylabel("return")
    axis.set_title(title)
    axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
