"""Recurrent networks from the sheet (section 12 and the proof "BPTT divergence"): the vanilla
RNN cell, the LSTM cell (Hochreiter and Schmidhuber 1997, with the forget gate of Gers et al.
2000), and the vanishing/exploding-gradient experiment.

Vanilla RNN (formula `vanilla-rnn`):   h_t = tanh(W_hh h_t-1 + W_xh x_t + b),  y_t = W_hy h_t.
LSTM (formula `lstm-cell`), gates in the sheet's order (i, f, o, g):
    (i, f, o, g) = (sigma, sigma, sigma, tanh)(W [x_t; h_t-1] + b)
    c_t = f * c_t-1 + i * g,   h_t = o * tanh(c_t).
torch.nn.LSTMCell stacks its gate rows as (i, f, g, o); `LSTMCell.from_torch` reorders them.

BPTT (formulas `bptt-jacobian-product`, `bptt-vanishing-bound`): dh_t/dh_k = prod_{i=k+1..t}
diag f'(a_i) W_hh, so with lambda_1 the largest singular value of W_hh and |f'| <= gamma,
||dh_t/dh_k|| <= (lambda_1 gamma)^(t-k): the gradient vanishes geometrically when
lambda_1 < 1/gamma. For a linear RNN with W = lambda Q (formula `linear-rnn-power`) the norm
is exactly (lambda gamma)^t. Above 1/gamma growth becomes possible, not certain (the bound is
an upper bound; a saturating tanh shrinks f' as h grows) - the run shows both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn


class VanillaRNNCell(nn.Module):
    """h_t = tanh(W_hh h_t-1 + W_xh x_t + b) (vanilla-rnn); `activation` may be any f."""

    def __init__(self, input_size: int, hidden_size: int, activation: Any = torch.tanh):
        super().__init__()
        self.W_xh = nn.Parameter(torch.empty(hidden_size, input_size))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b = nn.Parameter(torch.zeros(hidden_size))
        self.activation = activation
        bound = 1.0 / math.sqrt(hidden_size)  # torch's initialisation, U(-1/sqrt(H), 1/sqrt(H))
        nn.init.uniform_(self.W_xh, -bound, bound)
        nn.init.uniform_(self.W_hh, -bound, bound)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.activation(h @ self.W_hh.T + x @ self.W_xh.T + self.b)


class VanillaRNN(nn.Module):
    """The cell unrolled over a sequence x of shape (T, B, input) -> hidden states (T, B, H),
    with the readout y_t = W_hy h_t."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int | None = None):
        super().__init__()
        self.cell = VanillaRNNCell(input_size, hidden_size)
        self.hidden_size = hidden_size
        self.W_hy = nn.Linear(hidden_size, output_size, bias=False) if output_size else None

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        T, B, _ = x.shape
        h = h0 if h0 is not None else x.new_zeros(B, self.hidden_size)
        states = []
        for t in range(T):
            h = self.cell(x[t], h)
            states.append(h)
        hidden = torch.stack(states)
        assert hidden.shape == (T, B, self.hidden_size)
        return hidden

    def readout(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.W_hy(hidden)

    @classmethod
    def from_torch(cls, rnn: nn.RNN) -> VanillaRNN:
        """Copy a one-layer tanh nn.RNN (its two biases add up to our b)."""
        model = cls(rnn.input_size, rnn.hidden_size)
        with torch.no_grad():
            model.cell.W_xh.copy_(rnn.weight_ih_l0)
            model.cell.W_hh.copy_(rnn.weight_hh_l0)
            model.cell.b.copy_(rnn.bias_ih_l0 + rnn.bias_hh_l0)
        return model.to(rnn.weight_ih_l0.device, rnn.weight_ih_l0.dtype)


class LSTMCell(nn.Module):
    """The sheet's LSTM cell (lstm-cell): one matrix W acting on [x_t; h_t-1], gate rows in the
    sheet's order (i, f, o, g)."""

    GATES = ("i", "f", "o", "g")

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.W = nn.Parameter(torch.empty(4 * hidden_size, input_size + hidden_size))
        self.b = nn.Parameter(torch.zeros(4 * hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)
        nn.init.uniform_(self.W, -bound, bound)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        pre = torch.cat([x, h], dim=-1) @ self.W.T + self.b
        a_i, a_f, a_o, a_g = pre.chunk(4, dim=-1)
        i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)
        g = torch.tanh(a_g)
        c = f * c + i * g  # constant error flow through c when f = 1, i = 0
        h = o * torch.tanh(c)
        assert h.shape == c.shape == x.shape[:-1] + (self.hidden_size,)
        return h, c

    @classmethod
    def from_torch(cls, cell: nn.LSTMCell) -> LSTMCell:
        """Copy nn.LSTMCell: torch's rows are (i, f, g, o) and split W into W_ih and W_hh."""
        model = cls(cell.input_size, cell.hidden_size)
        H = cell.hidden_size
        torch_order = ("i", "f", "g", "o")

        def reorder(matrix: torch.Tensor) -> torch.Tensor:
            blocks = dict(zip(torch_order, matrix.split(H, dim=0), strict=True))
            return torch.cat([blocks[gate] for gate in cls.GATES], dim=0)

        with torch.no_grad():
            model.W.copy_(torch.cat([reorder(cell.weight_ih), reorder(cell.weight_hh)], dim=1))
            model.b.copy_(reorder(cell.bias_ih + cell.bias_hh))
        return model.to(cell.weight_ih.device, cell.weight_ih.dtype)


# --------------------------------------------------------------------------------------------
# Vanishing and exploding gradients: ||dh_t / dh_0|| against t for W_hh with a chosen spectrum.


def scaled_orthogonal(hidden_size: int, scale: float, generator: torch.Generator) -> torch.Tensor:
    """W = scale * Q with Q orthogonal: every singular value (and |eigenvalue|) equals scale."""
    gaussian = torch.randn(hidden_size, hidden_size, generator=generator, dtype=torch.float64)
    Q, R = torch.linalg.qr(gaussian)
    return scale * Q * torch.sign(torch.diagonal(R))  # sign fix: Haar-distributed Q


def hidden_jacobian_norms(
    W_hh: torch.Tensor,
    steps: int,
    activation: Any = torch.tanh,
    h0: torch.Tensor | None = None,
    inputs: torch.Tensor | None = None,
) -> torch.Tensor:
    """||dh_t / dh_0||_2 (spectral norm) for t = 1..steps, with h_t = f(W_hh h_t-1 + u_t).

    The Jacobian is accumulated by the chain rule of the sheet (bptt-jacobian-product),
    J_t = diag f'(a_t) W_hh J_t-1, with f' from autograd, so any activation works."""
    H = W_hh.shape[0]
    h = h0 if h0 is not None else torch.zeros(H, dtype=W_hh.dtype, device=W_hh.device)
    jacobian = torch.eye(H, dtype=W_hh.dtype, device=W_hh.device)
    norms = []
    for t in range(steps):
        a = (W_hh @ h + (inputs[t] if inputs is not None else 0.0)).detach().requires_grad_()
        out = activation(a)
        (derivative,) = torch.autograd.grad(out.sum(), a)  # f'(a), elementwise
        jacobian = derivative[:, None] * (W_hh @ jacobian)
        h = out.detach()
        norms.append(torch.linalg.matrix_norm(jacobian, ord=2))
    return torch.stack(norms)


@dataclass
class GradientFlowConfig:
    hidden: int = 32
    horizon: int = 60  # T: the longest dh_T / dh_0
    input_scale: float = 0.5  # std of the random inputs u_t that drive the tanh network
    linear_slope: float = 0.5  # gamma for the linear activation f(a) = gamma a (threshold 2)
    tanh_scales: tuple[float, ...] = (0.5, 0.8, 0.95, 1.0, 1.05, 1.2, 2.0)
    linear_scales: tuple[float, ...] = (1.0, 1.6, 1.9, 2.0, 2.1, 2.5)


@dataclass
class GradientFlowExperiment:
    """`cheatsheet run rnn-gradients`: each step is one random draw (orthogonal Q, inputs) for
    every spectral norm; figures and metrics average log10 ||dh_t/dh_0|| over the draws. Nothing
    is trained, so the harness draws no loss curve (loss_curve = False): rnn_gradients.png
    shows what is measured."""

    loss_curve = False

    context: Any
    config: GradientFlowConfig = field(default_factory=GradientFlowConfig)

    def __post_init__(self) -> None:
        self.device = torch.device(self.context.device)
        self.generator = torch.Generator().manual_seed(self.context.seed)
        self.sums: dict[tuple[str, float], torch.Tensor] = {}
        self.bound_violations = 0
        self.draws = 0

    def modules(self) -> dict[str, Any]:
        return {}

    def optimizers(self) -> dict[str, Any]:
        return {}

    def _curves(self, name: str, scale: float, gamma: float, activation: Any) -> torch.Tensor:
        config = self.config
        W = scaled_orthogonal(config.hidden, scale, self.generator).to(self.device)
        inputs = config.input_scale * torch.randn(config.horizon, config.hidden,
                                                  generator=self.generator)  # fmt: skip
        norms = hidden_jacobian_norms(W, config.horizon, activation,
                                      inputs=inputs.double().to(self.device))  # fmt: skip
        # The sheet's bound ||dh_t/dh_0|| <= (lambda_1 gamma)^t, checked on every draw.
        t = torch.arange(1, config.horizon + 1, device=self.device, dtype=torch.float64)
        bound = (scale * gamma) ** t
        self.bound_violations += int((norms > bound * (1 + 1e-9)).sum())
        log_norms = torch.log10(norms.clamp_min(1e-300)).cpu()
        key = (name, scale)
        self.sums[key] = self.sums.get(key, 0.0) + log_norms
        return log_norms

    def train_step(self, step: int) -> dict[str, float]:
        config = self.config
        gamma = config.linear_slope
        finals = []
        for scale in config.tanh_scales:
            finals.append(self._curves("tanh", scale, 1.0, torch.tanh)[-1])
        for scale in config.linear_scales:
            finals.append(self._curves("linear", scale, gamma, lambda a: gamma * a)[-1])
        self.draws += 1
        return {"mean_log10_norm_at_T": float(torch.stack(finals).mean())}

    def mean_curves(self) -> dict[tuple[str, float], torch.Tensor]:
        return {key: total / max(self.draws, 1) for key, total in self.sums.items()}

    def evaluate(self) -> dict[str, Any]:
        T = self.config.horizon
        rates = {}
        for (name, scale), curve in self.mean_curves().items():
            # Growth factor per step from the second half (past the transient).
            half = T // 2
            rate = 10 ** float((curve[-1] - curve[half - 1]) / (T - half))
            rates[f"{name}@{scale:g}"] = {"log10_norm_at_T": float(curve[-1]),
                                          "growth_per_step": rate}  # fmt: skip
        return {
            "horizon": T,
            "draws": self.draws,
            "tanh_threshold": 1.0,
            "linear_gamma": self.config.linear_slope,
            "linear_threshold": 1.0 / self.config.linear_slope,
            "bound_violations": self.bound_violations,
            "curves": rates,
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        curves = self.mean_curves()
        t = range(1, self.config.horizon + 1)
        figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        panels = (
            ("linear", self.config.linear_scales, self.config.linear_slope,
             f"f(a) = {self.config.linear_slope:g} a: threshold 1/gamma = "
             f"{1 / self.config.linear_slope:g}"),
            ("tanh", self.config.tanh_scales, 1.0, "f = tanh (gamma = 1): threshold 1"),
        )  # fmt: skip
        for axis, (name, scales, gamma, title) in zip(axes, panels, strict=True):
            colours = plt.cm.coolwarm([i / max(len(scales) - 1, 1) for i in range(len(scales))])
            for colour, scale in zip(colours, scales, strict=True):
                axis.plot(t, curves[(name, scale)].numpy(), color=colour,
                          label=f"lambda_1 = {scale:g}")  # fmt: skip
                axis.plot(t, [k * math.log10(scale * gamma) for k in t], color=colour,
                          linestyle=":", linewidth=0.8)  # fmt: skip
            axis.set_title(title + "\n(dotted: the bound (lambda_1 gamma)^t)", fontsize=9)
            axis.set_xlabel("t")
            axis.set_ylabel("log10 ||dh_t / dh_0||")
            axis.legend(fontsize=7)
        figure.tight_layout()
        path = Path(out_dir) / "rnn_gradients.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return [path]


def make_gradient_experiment(context: Any) -> GradientFlowExperiment:
    return GradientFlowExperiment(context)
