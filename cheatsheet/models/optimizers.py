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

from collections.abc import Callable, Iterable
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
                state = self.state[theta]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(theta)
                velocity = state["velocity"]
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
                state = self.state[phi]
                if "velocity" not in state:
                    state["velocity"] = torch.zeros_like(phi)
                velocity = state["velocity"]
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
                state = self.state[theta]
                if "r" not in state:
                    state["r"] = torch.zeros_like(theta)
                r = state["r"]
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
                state = self.state[theta]
                if "r" not in state:
                    state["r"] = torch.zeros_like(theta)
                r = state["r"]
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
