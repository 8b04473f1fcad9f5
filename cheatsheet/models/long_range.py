"""`cheatsheet run lstm`: an LSTM against a vanilla RNN on the adding problem (Hochreiter and
Schmidhuber 1997, experiment 4), as the sequence grows (sheet section 12, "LSTM").

The adding problem. Each input x_t = (v_t, m_t) holds a value v_t ~ U(0, 1) and a marker
m_t in {0, 1}; exactly two steps are marked, the first within the first tenth of the sequence
and the second in its second half. The target, read out after the last step, is the sum of the
two marked values, y = sum_t m_t v_t. Predicting the mean, 1, without looking at the inputs
scores MSE = Var(v_a + v_b) = 2/12 = 1/6: that is the "nothing learnt" line of the figure.
Between the first marker and the read-out lie at least T/2 steps, so the gradient that teaches
the network to keep v_a must cross T/2 steps of dh_t/dh_t-1 products:

- vanilla RNN (formula `vanilla-rnn`): that product shrinks like (lambda_1 gamma)^(T/2)
  (`bptt-vanishing-bound`, the run `rnn-gradients`), so beyond a few tens of steps the signal
  is gone and the net settles on the mean (error ~ 1/6);
- LSTM (formula `lstm-cell`): c_t = f * c_t-1 + i * g carries the value along a path whose
  derivative is f, close to 1 when the forget gate is open (its bias starts at +1, Gers et al.
  2000; Jozefowicz et al. 2015), so the error reaches the first marker at any length.

Both use this project's cells (cheatsheet/models/rnn.py: VanillaRNN, and the LSTMCell tested
against torch.nn.LSTMCell), the same hidden size, Adam, batch, clipping and step budget; each
(cell, length) pair is trained on its own. One harness step is one Adam step of every pair that
is still training; a pair stops when its validation MSE falls below `solved_mse` (checked every
`check_every` steps), and the run stops early once every pair has stopped. The figure shows the
final test MSE against the sequence length for both cells, and the learning curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cheatsheet.models.rnn import LSTMCell, VanillaRNN
from cheatsheet.runs.config import param

# MSE of the best constant prediction, 1 = E[v_a + v_b]: Var(v_a) + Var(v_b) = 1/12 + 1/12.
MEAN_PREDICTOR_MSE = 1.0 / 6.0


@dataclass
class LongRangeConfig:
    lengths: str = param("10,20,40,80", "sequence lengths T, comma-separated")
    hidden: int = param(32, "hidden units of both cells")
    batch_size: int = param(64, "sequences per Adam step")
    lr: float = param(1e-2, "Adam learning rate")
    max_grad_norm: float = param(1.0, "gradient-norm clipping (0 = off)")
    forget_bias: float = param(1.0, "initial bias of the LSTM forget gate (Gers et al. 2000)")
    solved_mse: float = param(
        0.02, "solved: validation MSE below this (1/6 = nothing learnt); that model then stops"
    )
    check_every: int = param(50, "steps between validation checks")
    test_size: int = param(1000, "sequences in the validation and test sets")

    def sequence_lengths(self) -> list[int]:
        return [int(part) for part in self.lengths.split(",") if part.strip()]

    def check(self) -> None:
        try:
            lengths = self.sequence_lengths()
        except ValueError:
            raise ValueError(
                f"lengths must be integers like 10,20,40, got {self.lengths!r}"
            ) from None
        if not lengths or min(lengths) < 2:
            raise ValueError("lengths must be integers >= 2")
        if self.check_every < 1 or self.batch_size < 1 or self.hidden < 1:
            raise ValueError("hidden, batch_size and check_every must be >= 1")


def adding_problem(
    length: int, batch: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (T, B, 2) = (value, marker) and targets (B,) = sum of the two marked values."""
    values = torch.rand(length, batch, generator=generator)
    first = torch.randint(0, max(length // 10, 1), (batch,), generator=generator)
    second = torch.randint(length // 2, length, (batch,), generator=generator)
    markers = torch.zeros(length, batch)
    columns = torch.arange(batch)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    targets = (values * markers).sum(0)
    return torch.stack([values, markers], dim=-1), targets


class RNNRegressor(nn.Module):
    """The vanilla RNN unrolled over the sequence, a linear read-out of the last h_T."""

    def __init__(self, hidden: int):
        super().__init__()
        self.rnn = VanillaRNN(2, hidden)
        self.readout = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.rnn(x)[-1]).squeeze(-1)


class LSTMRegressor(nn.Module):
    """The sheet's LSTM cell unrolled over the sequence, a linear read-out of the last h_T."""

    def __init__(self, hidden: int, forget_bias: float = 1.0):
        super().__init__()
        self.cell = LSTMCell(2, hidden)
        self.hidden = hidden
        self.readout = nn.Linear(hidden, 1)
        with torch.no_grad():  # gate rows (i, f, o, g): the second block is the forget gate
            self.cell.b[hidden : 2 * hidden].fill_(forget_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.new_zeros(x.shape[1], self.hidden)
        c = torch.zeros_like(h)
        for t in range(x.shape[0]):
            h, c = self.cell(x[t], (h, c))
        return self.readout(h).squeeze(-1)


CELLS = ("rnn", "lstm")


@dataclass
class Pair:
    """One (cell, length) model with its optimiser, data and record."""

    cell: str
    length: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    validation: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    last_loss: float = float("nan")
    solved_at: int | None = None  # harness step at which validation MSE < solved_mse
    steps_trained: int = 0
    curve: list[tuple[int, float]] | None = None  # (step, validation MSE)

    @property
    def name(self) -> str:
        return f"{self.cell}@{self.length}"


class LongRangeExperiment:
    """See the module docstring."""

    def __init__(self, context: Any):
        self.config: LongRangeConfig = context.settings(LongRangeConfig, "lstm")
        self.device = torch.device(context.device)
        self.generator = torch.Generator().manual_seed(context.seed)
        self.stopped = ""
        config = self.config
        held_out = torch.Generator().manual_seed(context.seed + 1_000_003)
        self.pairs: list[Pair] = []
        for length in config.sequence_lengths():
            validation = adding_problem(length, config.test_size, held_out)
            test = adding_problem(length, config.test_size, held_out)
            for cell in CELLS:
                model = (
                    LSTMRegressor(config.hidden, config.forget_bias)
                    if cell == "lstm"
                    else RNNRegressor(config.hidden)
                ).to(self.device)
                optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
                self.pairs.append(
                    Pair(
                        cell,
                        length,
                        model,
                        optimizer,
                        tuple(t.to(self.device) for t in validation),
                        tuple(t.to(self.device) for t in test),
                        curve=[],
                    )  # fmt: skip
                )

    def modules(self) -> dict[str, Any]:
        return {pair.name: pair.model for pair in self.pairs}

    def optimizers(self) -> dict[str, Any]:
        return {pair.name: pair.optimizer for pair in self.pairs}

    @torch.no_grad()
    def _mse(self, model: nn.Module, data: tuple[torch.Tensor, torch.Tensor]) -> float:
        x, y = data
        return float(((model(x) - y) ** 2).mean())

    def train_step(self, step: int) -> dict[str, float]:
        config = self.config
        for pair in self.pairs:
            if pair.solved_at is not None:
                continue
            x, y = adding_problem(pair.length, config.batch_size, self.generator)
            x, y = x.to(self.device), y.to(self.device)
            loss = ((pair.model(x) - y) ** 2).mean()
            pair.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.max_grad_norm > 0:
                nn.utils.clip_grad_norm_(pair.model.parameters(), config.max_grad_norm)
            pair.optimizer.step()
            pair.last_loss = loss.item()
            pair.steps_trained += 1
            if (step + 1) % config.check_every == 0:
                error = self._mse(pair.model, pair.validation)
                pair.curve.append((step + 1, error))
                if error < config.solved_mse:
                    pair.solved_at = step + 1
        if all(pair.solved_at is not None for pair in self.pairs):
            self.stopped = f"every model reached validation MSE < {config.solved_mse:g}"
        # The harness's loss: the mean training MSE over the pairs (a stopped pair keeps its last).
        return {"loss": sum(pair.last_loss for pair in self.pairs) / len(self.pairs)}

    def state_dict(self) -> dict[str, Any]:
        return {
            pair.name: {"solved_at": -1 if pair.solved_at is None else pair.solved_at,
                        "steps_trained": pair.steps_trained,
                        "curve": torch.tensor(pair.curve or [], dtype=torch.float64)}
            for pair in self.pairs
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for pair in self.pairs:
            saved = state[pair.name]
            pair.solved_at = None if int(saved["solved_at"]) < 0 else int(saved["solved_at"])
            pair.steps_trained = int(saved["steps_trained"])
            pair.curve = [(int(s), float(e)) for s, e in saved["curve"].tolist()]

    def results(self) -> dict[str, dict[str, dict[str, Any]]]:
        """cell -> length -> test MSE, normalised error, solved step."""
        table: dict[str, dict[str, dict[str, Any]]] = {cell: {} for cell in CELLS}
        for pair in self.pairs:
            mse = self._mse(pair.model, pair.test)
            table[pair.cell][str(pair.length)] = {
                "test_mse": mse,
                "error_vs_mean_predictor": mse / MEAN_PREDICTOR_MSE,
                "solved": pair.solved_at is not None,
                "solved_at_step": pair.solved_at,
                "steps_trained": pair.steps_trained,
            }
        return table

    def evaluate(self) -> dict[str, Any]:
        self._results = self.results()
        longest = {
            cell: max((int(T) for T, row in rows.items() if row["solved"]), default=None)
            for cell, rows in self._results.items()
        }
        return {
            "task": "adding problem (Hochreiter & Schmidhuber 1997)",
            "mean_predictor_mse": MEAN_PREDICTOR_MSE,
            "solved_mse": self.config.solved_mse,
            "test_mse": self._results,
            "longest_solved_length": longest,
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        results = getattr(self, "_results", None) or self.results()
        lengths = self.config.sequence_lengths()
        colours = {"rnn": "tab:red", "lstm": "tab:blue"}
        labels = {"rnn": "vanilla RNN", "lstm": "LSTM"}
        figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), dpi=100)
        for cell in CELLS:
            errors = [results[cell][str(T)]["test_mse"] for T in lengths]
            left.plot(lengths, errors, "o-", color=colours[cell], label=labels[cell])
        left.axhline(MEAN_PREDICTOR_MSE, color="0.4", linestyle="--",
                     label="predict the mean (MSE 1/6): nothing learnt")  # fmt: skip
        left.axhline(self.config.solved_mse, color="tab:green", linestyle=":",
                     label=f"solved (MSE {self.config.solved_mse:g})")  # fmt: skip
        left.set_xscale("log")
        left.set_yscale("log")
        left.minorticks_off()
        left.set_xticks(lengths)
        left.set_xticklabels([str(T) for T in lengths])
        left.set_xlabel("sequence length T (first marker at least T/2 steps before the end)")
        left.set_ylabel("test MSE of the sum")
        left.set_title("Adding problem: final error against sequence length")
        left.legend(fontsize=8)
        styles = ["-", "--", "-.", ":"]
        for pair in self.pairs:
            if pair.curve:
                steps, errors = zip(*pair.curve, strict=True)
                style = styles[lengths.index(pair.length) % len(styles)]
                right.plot(steps, errors, style, color=colours[pair.cell],
                           label=f"{labels[pair.cell]}, T = {pair.length}")  # fmt: skip
        right.axhline(MEAN_PREDICTOR_MSE, color="0.4", linestyle="--")
        right.set_yscale("log")
        right.set_xlabel("Adam step")
        right.set_ylabel("validation MSE")
        right.set_title("Learning curves (a curve ends when that model is solved)")
        right.legend(fontsize=7, ncol=2)
        figure.tight_layout()
        path = Path(out_dir) / "lstm_vs_rnn.png"
        figure.savefig(path)
        plt.close(figure)
        return [path]


def make_experiment(context: Any) -> LongRangeExperiment:
    return LongRangeExperiment(context)


def mean_predictor_mse_by_monte_carlo(length: int, n: int, seed: int = 0) -> float:
    """E[(y - 1)^2] estimated from n draws (for the test of the 1/6 closed form)."""
    _, y = adding_problem(length, n, torch.Generator().manual_seed(seed))
    return float(((y - 1.0) ** 2).mean())
