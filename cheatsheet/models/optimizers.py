"""Gradient-descent algorithms written from the sheet (section 10.2; Goodfellow, Bengio and
Courville, "Deep Learning", ch. 8.3-8.5; Kingma and Ba 2015 for Adam), as torch optimizers.

Each is a `torch.optim.Optimizer` whose `step()` applies the sheet's update to every parameter
with a gradient. Symbols: lr = epsilon (the learning rate), g = grad L(theta).

- SGD (formula `sgd-update`):              theta <- theta - lr g
- Polyak momentum (`polyak-momentum-update`): v <- alpha v - lr g,  theta <- theta + v
- Nesterov (`nesterov-update`):            v <- alpha v - lr grad L(theta + alpha v),
                                           theta <- theta + v
- AdaGrad (`adagrad-update`):              r <- r + g . g,  theta <- theta - lr g / (delta + sqrt r)
- RMSProp (`rmsprop-update`):              r <- rho r + (1 - rho) g . g,
                                           theta <- theta - lr g / (sqrt(r) + delta)
- Adam (`adam-update`):                    m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g . g,
                                           m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t),
                                           theta <- theta - lr m_hat / (sqrt(v_hat) + eps)
  The sheet prints lr / sqrt(v_hat + eps) (erratum): Kingma and Ba add eps outside the root.

Momentum forms. torch.optim.SGD keeps a buffer b <- mu b + g and steps theta <- theta - lr b.
With the sheet's velocity, v = -lr b at every step (induction: -lr b_t = mu (-lr b_t-1) - lr g_t
is the velocity recursion with alpha = mu), so the two produce identical iterates as long as lr
is constant; they differ only when lr changes mid-run (torch rescales the old velocity).

Nesterov needs the gradient at the look-ahead point theta + alpha v, but a training loop calls
backward() at the parameters it holds. Like torch (Sutskever et al. 2013) this optimizer
therefore stores phi = theta + alpha v in the parameter. Substituting, the sheet's update becomes
    v' = alpha v - lr grad L(phi),   phi' = phi + v' + alpha (v' - v) = phi + alpha v' - lr g,
which needs only the gradient at phi; and with v = -lr b it is torch's
phi' = phi - lr (g + mu b'). `nesterov_sheet_step` is the literal form for the tests: it
evaluates the gradient at theta + alpha v itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch


class SGD(torch.optim.Optimizer):
    """theta <- theta - lr g (sgd-update)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = _closure(closure)
        for group in self.param_groups:
            for theta in group["params"]:
                if theta.grad is not None:
                    theta.add_(theta.grad, alpha=-group["lr"])
        return loss


class PolyakMomentum(torch.optim.Optimizer):
    """v <- alpha v - lr g; theta <- theta + v (polyak-momentum-update). v starts at zero."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, momentum: float = 0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = _closure(closure)
        for group in self.param_groups:
            for theta in group["params"]:
                if theta.grad is None:
                    continue
                velocity = _zeros_state(self.state[theta], "velocity", theta)
                velocity.mul_(group["momentum"]).add_(theta.grad, alpha=-group["lr"])
                theta.add_(velocity)
        return loss


class Nesterov(torch.optim.Optimizer):
    """Nesterov momentum (nesterov-update) in the look-ahead parametrisation: the parameter
    holds phi = theta + alpha v, its gradient is grad L(phi), and the step is
    v' = alpha v - lr g, phi <- phi + alpha v' - lr g (see the module docstring). The sheet's
    theta is `phi - alpha v`, available as `theta_of(parameter)`."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, momentum: float = 0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = _closure(closure)
        for group in self.param_groups:
            alpha, lr = group["momentum"], group["lr"]
            for phi in group["params"]:
                if phi.grad is None:
                    continue
                velocity = _zeros_state(self.state[phi], "velocity", phi)
                velocity.mul_(alpha).add_(phi.grad, alpha=-lr)  # v' = alpha v - lr g(phi)
                phi.add_(velocity, alpha=alpha).add_(phi.grad, alpha=-lr)
        return loss

    @torch.no_grad()
    def theta_of(self, phi: torch.Tensor) -> torch.Tensor:
        """The sheet's theta = phi - alpha v for a parameter phi of this optimizer."""
        for group in self.param_groups:
            if any(p is phi for p in group["params"]):
                velocity = self.state[phi].get("velocity", torch.zeros_like(phi))
                return phi - group["momentum"] * velocity
        raise KeyError("not a parameter of this optimizer")


def nesterov_sheet_step(
    theta: torch.Tensor,
    velocity: torch.Tensor,
    gradient_at: Callable[[torch.Tensor], torch.Tensor],
    lr: float,
    momentum: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The sheet's literal Nesterov step: v <- alpha v - lr grad L(theta + alpha v),
    theta <- theta + v. `gradient_at(point)` returns grad L(point). Returns (theta, v)."""
    velocity = momentum * velocity - lr * gradient_at(theta + momentum * velocity)
    return theta + velocity, velocity


class AdaGrad(torch.optim.Optimizer):
    """r <- r + g . g; theta <- theta - lr g / (delta + sqrt(r)) (adagrad-update)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, delta: float = 1e-10):
        super().__init__(params, {"lr": lr, "delta": delta})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = _closure(closure)
        for group in self.param_groups:
            for theta in group["params"]:
                if theta.grad is None:
                    continue
                r = _zeros_state(self.state[theta], "r", theta)
                r.addcmul_(theta.grad, theta.grad)
                theta.addcdiv_(theta.grad, r.sqrt().add_(group["delta"]), value=-group["lr"])
        return loss


class RMSProp(torch.optim.Optimizer):
    """r <- rho r + (1 - rho) g . g; theta <- theta - lr g / (sqrt(r) + delta) (rmsprop-update).

    delta sits outside the root as in torch.optim.RMSprop (Goodfellow et al. write
    sqrt(delta + r); with delta ~ 1e-8 the two differ only where r ~ 0)."""

    def __init__(
        self, params: Iterable[Any], lr: float = 1e-2, rho: float = 0.99, delta: float = 1e-8
    ):
        super().__init__(params, {"lr": lr, "rho": rho, "delta": delta})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = _closure(closure)
        for group in self.param_groups:
            rho = group["rho"]
            for theta in group["params"]:
                if theta.grad is None:
                    continue
                r = _zeros_state(self.state[theta], "r", theta)
                r.mul_(rho).addcmul_(theta.grad, theta.grad, value=1 - rho)
                theta.addcdiv_(theta.grad, r.sqrt().add_(group["delta"]), value=-group["lr"])
        return loss


class Adam(torch.optim.Optimizer):
    """Adam with bias correction (adam-update): theta <- theta - lr m_hat / (sqrt(v_hat) + eps)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = _closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for theta in group["params"]:
                if theta.grad is None:
                    continue
                state = self.state[theta]
                if "t" not in state:
                    state["t"] = 0
                    state["m"] = torch.zeros_like(theta)
                    state["v"] = torch.zeros_like(theta)
                state["t"] += 1
                t, m, v, g = state["t"], state["m"], state["v"], theta.grad
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                m_hat = m / (1 - beta1**t)
                v_hat = v / (1 - beta2**t)
                theta.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])
        return loss


def _zeros_state(state: dict[str, Any], name: str, like: torch.Tensor) -> torch.Tensor:
    """The parameter's accumulator `name` (velocity, r), created as zeros at its first step."""
    if name not in state:
        state[name] = torch.zeros_like(like)
    return state[name]


def _closure(closure: Callable[[], Any] | None) -> Any:
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": SGD,
    "momentum": PolyakMomentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


# --------------------------------------------------------------------------------------------
# `cheatsheet run optimizers`: the six optimizers on the Rosenbrock function.


def rosenbrock(xy: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    """f(x, y) = (a - x)^2 + b (y - x^2)^2: a curved, badly conditioned valley, minimum f = 0
    at (a, a^2). Plain gradient descent zig-zags across the valley; momentum and the adaptive
    methods move along it."""
    x, y = xy[..., 0], xy[..., 1]
    return (a - x) ** 2 + b * (y - x**2) ** 2


# Learning rates picked per method so none diverges from the start point (f's curvature is
# ~1000 near the valley, so SGD needs lr < 2e-3); the run compares behaviour, not tuning.
ROSENBROCK_SETTINGS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 1e-3},
    "momentum": {"lr": 1e-3, "momentum": 0.9},
    "nesterov": {"lr": 1e-3, "momentum": 0.9},
    "adagrad": {"lr": 0.5},
    "rmsprop": {"lr": 1e-2, "rho": 0.99},
    "adam": {"lr": 2e-2},
}


class RosenbrockExperiment:
    """One train_step = one step of each optimizer from the same start (-1.5, 2). There is no
    single training loss: each optimizer's f is drawn in optimizers.png (loss_curve = False)."""

    loss_curve = False

    def __init__(self, context: Any, start: tuple[float, float] = (-1.5, 2.0)):
        self.device = torch.device(context.device)
        self.points = {
            name: torch.tensor(start, dtype=torch.float64, device=self.device, requires_grad=True)
            for name in OPTIMIZERS
        }
        self.optimizers_ = {
            name: OPTIMIZERS[name]([self.points[name]], **ROSENBROCK_SETTINGS[name])
            for name in OPTIMIZERS
        }
        self.history: dict[str, list[tuple[float, float, float]]] = {n: [] for n in OPTIMIZERS}
        self.diverged: dict[str, int] = {}

    def modules(self) -> dict[str, Any]:
        return {}

    def optimizers(self) -> dict[str, Any]:
        return dict(self.optimizers_)

    def train_step(self, step: int) -> dict[str, float]:
        logs = {}
        for name, point in self.points.items():
            if name in self.diverged:
                continue
            optimizer = self.optimizers_[name]
            optimizer.zero_grad()
            value = rosenbrock(point)
            value.backward()
            x, y = point.detach().tolist()
            self.history[name].append((x, y, value.item()))
            if not torch.isfinite(value) or value.item() > 1e8:
                self.diverged[name] = step
                continue
            optimizer.step()
            logs[name] = math.log10(value.item() + 1e-300)
        return {"mean_log10_f": sum(logs.values()) / max(len(logs), 1), **logs}

    def evaluate(self) -> dict[str, Any]:
        result = {}
        for name, point in self.points.items():
            values = [f for _, _, f in self.history[name]]
            reached = next((i for i, f in enumerate(values) if f < 1e-3), None)
            x, y = point.detach().tolist()
            result[name] = {
                "final_f": rosenbrock(point.detach()).item(),
                "distance_to_minimum": math.hypot(x - 1.0, y - 1.0),
                "steps_to_f_below_1e-3": reached,
                "settings": ROSENBROCK_SETTINGS[name],
                "diverged_at": self.diverged.get(name),
            }
        return {"rosenbrock": result}

    def save_figures(self, out_dir: Path) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
        xs, ys = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
        grid = torch.from_numpy(np.stack([xs, ys], axis=-1))
        left.contour(xs, ys, np.log10(rosenbrock(grid).numpy() + 1e-3), levels=25,
                     cmap="Greys", linewidths=0.6)  # fmt: skip
        for name, points in self.history.items():
            path = np.asarray(points)
            if len(path):
                left.plot(path[:, 0], path[:, 1], linewidth=1.2, label=name)
                right.semilogy(np.arange(len(path)), path[:, 2] + 1e-16, label=name)
        left.plot([1], [1], "k*", markersize=10)
        left.set_xlim(-2, 2)
        left.set_ylim(-1, 3)
        left.set_xlabel("x")
        left.set_ylabel("y")
        left.set_title("trajectories on f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 (star: minimum)",
                       fontsize=9)  # fmt: skip
        left.legend(fontsize=7)
        right.set_xlabel("step")
        right.set_ylabel("f(x, y)")
        right.set_title("convergence: f at each optimizer's iterate", fontsize=9)
        right.legend(fontsize=7)
        figure.tight_layout()
        path = Path(out_dir) / "optimizers.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return [path]


def make_rosenbrock_experiment(context: Any) -> RosenbrockExperiment:
    return RosenbrockExperiment(context)
