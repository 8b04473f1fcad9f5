"""Deep Q-learning (sheet sections 7.5-7.6; Mnih et al. 2015, "Human-level control through deep
reinforcement learning") on CartPole.

A network Q_theta(s, .) gives one value per action. Transitions (S, A, R, S', terminated) go into
a replay buffer; minibatches drawn uniformly from it break the correlation between consecutive
samples. The loss (formula `dqn-loss`) is

    L(theta) = E_(S, A, R, S') ~ buffer [ (y - Q_theta(S, A))^2 ],
    y = R + gamma * (1 - terminated) * max_a' Q_theta-(S', a'),

where theta- is a target network: the paper's hard copy of theta every `target_update` = 500
steps (the default), or with `tau > 0` a Polyak average theta- <- tau theta + (1 - tau) theta-
after every step (Lillicrap et al. 2016). The default target is Double DQN's (van Hasselt et al.
2016),

    y = R + gamma * (1 - terminated) * Q_theta-(S', argmax_a' Q_theta(S', a')),

the online network choosing a' and the target network valuing it (`double_dqn=False` gives the
max above). The target y is computed under `torch.no_grad()`: the gradient flows only through
Q_theta(S, A) (the sheet's "backprop only through Q_theta(S, A)"); differentiating through y would
be the residual-gradient method, a different and slower algorithm. Following the paper the squared
error is replaced by the Huber loss (error clipping) by default; `loss="mse"` gives the sheet's.
Time-limit truncation is not termination: a truncated episode still bootstraps from S'.
Gradients are clipped to norm `max_grad_norm` (10); the optimizer is torch's Adam (tested equal
to the sheet's in cheatsheet.models.optimizers), at a constant lr of 1e-3.

Behaviour: epsilon-greedy in Q_theta, epsilon decayed linearly from 1 to `epsilon_final`.
`train_step(step)` is ONE environment step (plus one gradient step every `train_every` steps
once the buffer holds `learning_starts` transitions). CartPole's "solved" criterion ends the
training: once the mean return of the last 100 episodes first reaches 195 the run stops (the
harness's early stop, `stop_when_solved`), and evaluate() reports `first_solved_episode` (from 1)
and `first_solved_env_steps`,
`last_100_mean_return` and `greedy_eval_mean_return` over 100 fresh episodes with epsilon = 0.

Why these defaults (measured on CPU, one thread; seeds 0/1/2): plain DQN (max target, hard copy
every 500 steps, lr decayed to 1e-4) rises to ~185 and then falls back: last-100 means 120/216/164
after 50k steps, seed 0 never reaching 195. With the Double DQN target and a constant lr of 1e-3
the three seeds are solved at 50.6k/41.6k/61.5k environment steps (hence the 80k budget), in
~40-60 CPU seconds; seed 3, not used to choose, at 55.0k. A Polyak target (tau = 0.005) solved
seeds 0/1 sooner (39.5k/34.6k) but seed 2 collapsed to ~50 and had not recovered by 60k, so the
hard copy stays the default.
The greedy evaluation at the moment of solving varies by seed (500/500/127 with the defaults):
the solved criterion is about the epsilon-greedy training episodes, not the final policy.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.rl.episodes import (
    CARTPOLE,
    SOLVED_RETURN,
    EpisodeLog,
    make_env,
    plot_returns,
)


@dataclass
class DQNConfig:
    env: str = "CartPole-v1"  # the gymnasium environment
    hidden: int = 128
    buffer_size: int = 50_000
    batch_size: int = 64
    lr: float = 1e-3
    # Learning rate at the last step, decayed linearly from lr (= lr: no decay, the default).
    # Decaying to 1e-4 slowed learning without preventing plain DQN's collapse (see above).
    lr_final: float = 1e-3
    gamma: float = 0.99
    target_update: int = 500  # environment steps between hard copies theta- <- theta
    train_every: int = 1
    learning_starts: int = 1_000
    epsilon_final: float = 0.02
    epsilon_decay_steps: int = 10_000
    loss: str = "huber"  # "huber" (the paper's error clipping) or "mse" (the sheet's square)
    # Gradient-norm clipping (0 = off). With plain DQN (hard copy, lr decayed) seed 0 ended
    # 50k steps at a last-100 mean of 109 without it, 120 with it: it damps, not cures, collapse.
    max_grad_norm: float = 10.0
    # Double DQN target (van Hasselt et al. 2016): the online network picks a', the target
    # network values it.
    double_dqn: bool = True
    # Polyak averaging theta- <- tau theta + (1 - tau) theta- after every step instead of the
    # hard copy every `target_update` steps (0 = the paper's hard copy).
    tau: float = 0.0
    # CartPole's "solved" criterion: stop the run (the harness's early stop) once the mean of
    # the last 100 episodes first reaches 195; metrics.json then says steps = the steps done.
    stop_when_solved: bool = True
    # Episodes of the final greedy evaluation (epsilon = 0, fresh environment; 0 = skip).
    eval_episodes: int = 100
    # Environment steps between bursts of gradient steps; a burst makes the updates that fell
    # due since the last one (one per `train_every` steps: the same count, so the same
    # algorithm up to when they run). 0 = 1 on the CPU (update at once, as the paper), 32 on a
    # GPU: its minibatches cross to the device in one copy and the CPU acting copy of Q_theta
    # is refreshed once per burst, instead of a device round trip per environment step.
    burst: int = 0


class QNetwork(nn.Module):
    """Q_theta(s, .): an MLP from the observation to one value per action."""

    def __init__(self, observation_size: int, n_actions: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(observation_size, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_actions),
        )

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.net(state)


REPLAY_FIELDS = ("states", "actions", "rewards", "next_states", "terminated")


class ReplayBuffer:
    """A ring buffer of transitions, sampled uniformly.

    It lives in CPU memory next to the environment (which runs on the CPU): adding a transition
    is a host write, never a device copy. A transition is one row of one float32 table
    [state | next_state | action | reward | terminated], so a sampled minibatch (or a burst of
    them) reaches `device` as ONE host-to-device copy."""

    def __init__(self, capacity: int, observation_size: int, device: Any):
        self.capacity, self.size, self.position = capacity, 0, 0
        self.device = torch.device(device)
        self.observation_size = n = observation_size
        pin = self.device.type == "cuda" and torch.cuda.is_available()
        self.table = torch.zeros(capacity, 2 * n + 3, pin_memory=pin)
        # Named views of the table's columns (no copies).
        self.states, self.next_states = self.table[:, :n], self.table[:, n : 2 * n]
        self.rewards, self.terminated = self.table[:, 2 * n + 1], self.table[:, 2 * n + 2]

    @property
    def actions(self) -> torch.Tensor:
        return self.table[:, 2 * self.observation_size].long()

    def add(self, state: Any, action: int, reward: float, next_state: Any, terminated: bool):
        n, row = self.observation_size, self.table[self.position]
        row[:n] = torch.as_tensor(state, dtype=torch.float32)
        row[n : 2 * n] = torch.as_tensor(next_state, dtype=torch.float32)
        row[2 * n], row[2 * n + 1], row[2 * n + 2] = float(action), reward, float(terminated)
        self.position = (self.position + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample_rows(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """`count` uniformly drawn rows, moved to the device in one copy."""
        index = torch.randint(0, self.size, (count,), generator=generator)
        return self.table[index].to(self.device, non_blocking=True)

    def split(self, rows: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(states, actions, rewards, next_states, terminated) of a block of rows."""
        n = self.observation_size
        return (
            rows[:, :n],
            rows[:, 2 * n].long(),
            rows[:, 2 * n + 1],
            rows[:, n : 2 * n],
            rows[:, 2 * n + 2],
        )

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        return self.split(self.sample_rows(batch_size, generator))

    def state_dict(self) -> dict[str, Any]:
        return {"table": self.table.clone(), "size": self.size, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.table.copy_(state["table"])
        self.size, self.position = int(state["size"]), int(state["position"])


def td_target(
    target_network: nn.Module,
    rewards: torch.Tensor,
    next_states: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float,
    online_network: nn.Module | None = None,
) -> torch.Tensor:
    """The regression target, with no graph behind it (formula `dqn-loss`):

    DQN:         y = R + gamma (1 - terminated) max_a' Q_theta-(S', a')
    Double DQN:  y = R + gamma (1 - terminated) Q_theta-(S', argmax_a' Q_theta(S', a'))

    Double DQN (van Hasselt et al. 2016) is used when `online_network` is given: the online
    network chooses a', the target network values it, so the max no longer picks the action
    whose value estimate happens to be noisiest upwards (the overestimation bias of max)."""
    with torch.no_grad():
        next_target_values = target_network(next_states)  # Q_theta-(S', .), (B, n_actions)
        if online_network is None:
            next_values = next_target_values.max(dim=1).values
        else:
            next_actions = online_network(next_states).argmax(dim=1, keepdim=True)
            next_values = next_target_values.gather(1, next_actions).squeeze(1)
        return rewards + gamma * (1.0 - terminated) * next_values


def dqn_loss(
    q_network: nn.Module,
    target_network: nn.Module,
    batch: tuple[torch.Tensor, ...],
    gamma: float,
    loss: str = "huber",
    double: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, y): the regression of Q_theta(S, A) onto the detached target y (dqn-loss);
    `double` takes the Double DQN target (see td_target)."""
    states, actions, rewards, next_states, terminated = batch
    q_taken = q_network(states).gather(1, actions[:, None]).squeeze(1)  # Q_theta(S, A), (B,)
    online = q_network if double else None
    y = td_target(target_network, rewards, next_states, terminated, gamma, online)
    assert q_taken.shape == y.shape == rewards.shape
    if loss == "huber":
        return F.smooth_l1_loss(q_taken, y), y
    return F.mse_loss(q_taken, y), y


class DQNExperiment:
    """`cheatsheet run dqn`: one train_step = one CartPole step (see the module docstring).

    Device use: the environment and the replay buffer stay on the CPU; the networks and the
    gradient steps run on `context.device`. Acting needs Q_theta(s, .) every step: on the CPU
    that is the online network itself, on a GPU a CPU copy refreshed after every burst of
    updates (so acting never waits on the device)."""

    def __init__(self, context: Any, config: DQNConfig | None = None, env_name: str = CARTPOLE):
        self.cpu_start = time.process_time()
        self.config = config or context.settings(DQNConfig, "dqn", env=env_name)
        self.device = torch.device(context.device)
        self.total_budget = context.steps
        self.seed = context.seed
        self.env = make_env(self.config.env, context.seed)
        observation_size = self.env.observation_space.shape[0]
        n_actions = self.env.action_space.n
        self.n_actions = n_actions
        torch.manual_seed(context.seed)
        self.q_network = QNetwork(observation_size, n_actions, self.config.hidden).to(self.device)
        self.target_network = QNetwork(observation_size, n_actions, self.config.hidden)
        self.target_network.to(self.device).load_state_dict(self.q_network.state_dict())
        self.target_network.requires_grad_(False)
        on_cpu = self.device.type == "cpu"
        self.actor = self.q_network if on_cpu else copy.deepcopy(self.q_network).cpu()
        self.burst = self.config.burst or (1 if on_cpu else 32)
        self.optimizer = torch.optim.Adam(
            self.q_network.parameters(), lr=self.config.lr, foreach=True
        )
        self.buffer = ReplayBuffer(self.config.buffer_size, observation_size, self.device)
        self.generator = torch.Generator().manual_seed(context.seed)
        self.action_generator = torch.Generator().manual_seed(context.seed + 1)
        self.state, _ = self.env.reset(seed=context.seed)
        self.episode_return, self.episode_length, self.total_steps = 0.0, 0, 0
        self.log = EpisodeLog()
        self.last_loss = 0.0  # reported until the first update (the harness needs a finite loss)
        self.updates_due = 0  # gradient steps owed since the last burst
        self.updates = 0  # gradient steps made
        self.stopped = ""  # the harness's early stop: set when solved (stop_when_solved)

    def epsilon(self, step: int) -> float:
        fraction = min(1.0, step / self.config.epsilon_decay_steps)
        return 1.0 + fraction * (self.config.epsilon_final - 1.0)

    def act(self, state: Any, epsilon: float) -> int:
        if torch.rand((), generator=self.action_generator).item() < epsilon:
            return int(torch.randint(self.n_actions, (), generator=self.action_generator))
        with torch.no_grad():
            observation = torch.as_tensor(state, dtype=torch.float32)
            return int(self.actor(observation[None]).argmax(dim=1).item())

    @property
    def solved_at_step(self) -> int | None:
        """Environment steps when the last-100 mean first reached 195 (from the episode log)."""
        return self.log.metrics(SOLVED_RETURN).get("first_solved_env_steps")

    # --- Experiment protocol -----------------------------------------------------------------
    def modules(self) -> dict[str, Any]:
        return {"q_network": self.q_network, "target_network": self.target_network}

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.optimizer}

    def _gradient_steps(self, count: int) -> None:
        """`count` DQN updates; their minibatches reach the device in one copy."""
        config = self.config
        rows = self.buffer.sample_rows(count * config.batch_size, self.generator)
        loss = None
        for block in rows.split(config.batch_size):
            batch = self.buffer.split(block)
            loss, _ = dqn_loss(self.q_network, self.target_network, batch, config.gamma,
                               config.loss, double=config.double_dqn)  # fmt: skip
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.max_grad_norm > 0:
                nn.utils.clip_grad_norm_(self.q_network.parameters(), config.max_grad_norm)
            self.optimizer.step()
            if config.tau > 0:
                with torch.no_grad():
                    for target, online in zip(
                        self.target_network.parameters(), self.q_network.parameters(), strict=True
                    ):
                        target.lerp_(online, config.tau)
        self.updates += count
        if loss is not None:
            self.last_loss = loss.item()  # the one device sync of the burst
        if self.actor is not self.q_network:
            self.actor.load_state_dict(self.q_network.state_dict())

    def train_step(self, step: int) -> dict[str, float]:
        config = self.config
        epsilon = self.epsilon(step)
        action = self.act(self.state, epsilon)
        next_state, reward, terminated, truncated, _ = self.env.step(action)
        self.buffer.add(self.state, action, reward, next_state, terminated)
        self.state = next_state
        self.episode_return += reward
        self.episode_length += 1
        self.total_steps += 1
        solved_now = False
        if terminated or truncated:
            self.log.add(self.episode_return, self.episode_length, self.total_steps)
            self.state, _ = self.env.reset()
            self.episode_return, self.episode_length = 0.0, 0
            solved_now = self.solved_at_step == self.total_steps

        if config.lr_final != config.lr:
            fraction = min(1.0, step / max(self.total_budget, 1))
            for group in self.optimizer.param_groups:
                group["lr"] = config.lr + fraction * (config.lr_final - config.lr)
        if self.buffer.size >= config.learning_starts and step % config.train_every == 0:
            self.updates_due += 1
        stopping = solved_now and config.stop_when_solved
        if self.updates_due and (self.updates_due >= self.burst or stopping):
            self._gradient_steps(self.updates_due)
            self.updates_due = 0
        if config.tau <= 0 and step % config.target_update == 0:
            self.target_network.load_state_dict(self.q_network.state_dict())
        if stopping:
            episodes = self.log.metrics(SOLVED_RETURN)["first_solved_episode"]
            self.stopped = (
                f"solved at step {self.total_steps} (episode {episodes}: mean of the last 100 "
                f"returns >= {SOLVED_RETURN:g})"
            )
        return {
            "loss": self.last_loss,
            "epsilon": epsilon,
            "mean_return_last_100": self.log.mean_last(100),
        }

    def state_dict(self) -> dict[str, Any]:
        """Episode log and counters for --resume (the environment itself restarts an episode)."""
        return {
            "log": self.log.state_dict(),
            "total_steps": self.total_steps,
            "updates": self.updates,
            "buffer": self.buffer.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.log.load_state_dict(state["log"])
        self.total_steps = int(state["total_steps"])
        self.updates = int(state.get("updates", 0))
        self.buffer.load_state_dict(state["buffer"])
        if self.actor is not self.q_network:
            self.actor.load_state_dict(self.q_network.state_dict())
        if self.config.stop_when_solved and self.solved_at_step is not None:
            self.stopped = f"solved at step {self.solved_at_step} (before this resume)"

    def greedy_returns(self, episodes: int) -> list[float]:
        """Returns of `episodes` fresh episodes acting greedily (epsilon = 0) in Q_theta, on a
        separate environment seeded apart from training; the model is not updated."""
        if self.actor is not self.q_network:
            self.actor.load_state_dict(self.q_network.state_dict())
        env = make_env(self.env.spec.id, self.seed + 10_000)
        returns = []
        for episode in range(episodes):
            state, _ = env.reset(seed=self.seed + 10_000 + episode)
            episode_return, done = 0.0, False
            while not done:
                state, reward, terminated, truncated, _ = env.step(self.act(state, 0.0))
                episode_return += float(reward)
                done = terminated or truncated
            returns.append(episode_return)
        env.close()
        return returns

    def evaluate(self) -> dict[str, Any]:
        training_cpu_s = time.process_time() - self.cpu_start
        greedy = {}
        if self.config.eval_episodes > 0:
            returns = self.greedy_returns(self.config.eval_episodes)
            greedy = {
                "greedy_eval_mean_return": sum(returns) / len(returns),
                "greedy_eval_min_return": min(returns),
                "greedy_eval_episodes": len(returns),
            }
        return {
            # first_solved_episode / first_solved_env_steps: the episode (counted from 1) and
            # environment steps at which the last-100 mean first reached 195; one record.
            **self.log.metrics(SOLVED_RETURN),
            # The run's own record: the mean of the last 100 training episodes (epsilon-greedy)
            # when training stopped (at solving, with stop_when_solved, else at the budget's end).
            "last_100_mean_return": self.log.mean_last(100),
            **greedy,
            "env_steps": self.total_steps,
            "gradient_steps": self.updates,
            "burst": self.burst,
            # CPU seconds of this process: comparable across loaded machines, unlike wall time.
            "training_cpu_time_s": round(training_cpu_s, 1),
            "cpu_time_s": round(time.process_time() - self.cpu_start, 1),
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        path = plot_returns(self.log, Path(out_dir) / "returns.png", "DQN on CartPole",
                            threshold=SOLVED_RETURN)  # fmt: skip
        return [path]


def make_experiment(context: Any) -> DQNExperiment:
    return DQNExperiment(context)
