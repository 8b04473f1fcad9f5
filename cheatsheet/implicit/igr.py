"""IGR: Implicit Geometric Regularization for learning shapes.

Gropp, Yariv, Haim, Atzmon, Lipman, ICML 2020.

Learning an SDF from a raw point cloud {x_i} on the surface only (sheet 8.1.2, weak
supervision): f should vanish on the points and be a signed distance elsewhere, which the
eikonal equation ||grad f|| = 1 characterises. The loss (paper eq. 2, without normals):
    L(theta) = mean_i |f_theta(x_i)|^p + lambda E_x (||grad_x f_theta(x)|| - 1)^2
(formula igr-eikonal-loss; the paper uses p = 1, the sheet writes p = 2; `surface_power`
chooses, default the paper's 1). The expectation over x is a Monte Carlo estimate over a mixture
of uniform points in the box and Gaussians centred at the cloud's points (paper sec. 4).
grad_x f comes from autograd with create_graph=True, so the eikonal term is differentiable in
theta (a second-order term).
Network: an MLP with Softplus(beta=100) activations (smooth, so the gradient exists everywhere)
and the geometric initialisation of Atzmon & Lipman (SAL, 2020): at init f(x) ~ ||x|| - r, the
SDF of a sphere, which the paper uses and which lets the implicit regularisation pick a plausible
surface.
Metrics: Chamfer distance of the marching-cubes mesh to the true surface, IoU against the true
inside, mean | ||grad f|| - 1 | away from the surface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cheatsheet.implicit import shapes as shape_lib
from cheatsheet.runs.config import param


@dataclass
class IGRConfig:
    points: int = param(4096, "surface points of the point cloud")
    hidden: int = param(128, "units of the SDF network")
    lr: float = param(1e-3, "Adam learning rate")
    lam: float = param(0.1, "weight lambda of the eikonal term (||grad f|| - 1)^2")
    surface_power: int = param(1, "power of |f| on the surface (1 as the paper)")
    mesh_resolution: int = param(64, "marching-cubes grid")


class IGRNetwork(nn.Module):
    def __init__(self, hidden: int = 128, layers: int = 4, init_radius: float = 0.5):
        super().__init__()
        dims = [3] + [hidden] * layers
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(hidden, 1)
        self.activation = nn.Softplus(beta=100)
        # geometric initialisation (SAL): hidden layers N(0, 2/out), output ~ mean-1 weights and
        # bias -r, so f(x) ~ ||x|| - r at the start
        for linear in self.linears:
            nn.init.normal_(linear.weight, 0.0, math.sqrt(2) / math.sqrt(linear.out_features))
            nn.init.zeros_(linear.bias)
        nn.init.normal_(self.out.weight, math.sqrt(math.pi) / math.sqrt(hidden), 1e-4)
        nn.init.constant_(self.out.bias, -init_radius)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for linear in self.linears:
            h = self.activation(linear(h))
        return self.out(h).squeeze(-1)


def gradient(f: nn.Module, x: torch.Tensor, create_graph: bool = True) -> torch.Tensor:
    """grad_x f(x) by autograd, [N, 3]; differentiable in the parameters when create_graph."""
    x = x.requires_grad_(True) if not x.requires_grad else x
    value = f(x)
    (grad,) = torch.autograd.grad(value.sum(), x, create_graph=create_graph)
    return grad


def eikonal_term(grad: torch.Tensor) -> torch.Tensor:
    """E_x (||grad f(x)|| - 1)^2 over the sampled x (formula igr-eikonal-loss)."""
    return (torch.linalg.vector_norm(grad, dim=-1) - 1).pow(2).mean()


def igr_loss(
    f: nn.Module,
    surface: torch.Tensor,
    space: torch.Tensor,
    lam: float = 0.1,
    surface_power: int = 1,
) -> tuple[torch.Tensor, dict[str, float]]:
    """mean |f(x_i)|^p + lambda E (||grad f|| - 1)^2 (formula igr-eikonal-loss, p=2 the sheet)."""
    surface_term = f(surface).abs().pow(surface_power).mean()
    eikonal = eikonal_term(gradient(f, space.detach().clone()))
    loss = surface_term + lam * eikonal
    return loss, {"surface": surface_term.item(), "eikonal": eikonal.item()}


def sample_eikonal_points(
    cloud: torch.Tensor, n: int, local_sigma: float = 0.05, bound: float = 1.0
) -> torch.Tensor:
    """The paper's sampling distribution: Gaussians around cloud points plus uniform points
    (1/8 of them) in the bounding box."""
    index = torch.randint(0, len(cloud), (n,), device=cloud.device)
    local = cloud[index] + local_sigma * torch.randn(n, 3, device=cloud.device)
    uniform = (torch.rand(n // 8, 3, device=cloud.device) * 2 - 1) * bound
    return torch.cat([local, uniform])


@dataclass
class IGRExperiment:
    ctx: Any
    model: IGRNetwork
    train_model: nn.Module
    optimizer: torch.optim.Optimizer
    shape: shape_lib.Shape
    cloud: torch.Tensor  # [N, 3] the only supervision
    lam: float = 0.1
    surface_power: int = 1
    batch: int = 1024
    mesh_resolution: int = 64

    def modules(self) -> dict[str, nn.Module]:
        return {"igr": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"igr": self.optimizer}

    def train_step(self, step: int) -> dict[str, float]:
        index = torch.randint(0, len(self.cloud), (self.batch,), device=self.cloud.device)
        surface = self.cloud[index]
        space = sample_eikonal_points(surface, self.batch)
        loss, parts = igr_loss(self.train_model, surface, space, self.lam, self.surface_power)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), **parts}

    def evaluate(self) -> dict[str, Any]:
        from cheatsheet.implicit.meshing import chamfer_distance, marching_cubes, volumetric_iou

        device = self.ctx.device
        self.model.eval()
        self._mesh = marching_cubes(self.model, self.mesh_resolution, device=device)
        truth = self.shape.surface_points(5000).numpy()
        chamfer = chamfer_distance(self._mesh.sample_points(5000), truth) if self._mesh else None
        space = shape_lib.sample_space(4096, 1.0, device=device)
        grad_norm = torch.linalg.vector_norm(gradient(self.model, space, False), dim=-1)
        return {
            "chamfer_l1": chamfer,
            "iou": volumetric_iou(self.model, self.shape.sdf, 100_000, device=device),
            "eikonal_mean_abs_error": float((grad_norm - 1).abs().mean()),
            "measure": "Chamfer L1 of the marching-cubes mesh vs the analytic surface; IoU of f<0",
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.implicit.meshing import marching_cubes, save_mesh_figure, write_obj

        mesh = getattr(self, "_mesh", None) or marching_cubes(
            self.model, 64, device=self.ctx.device
        )
        paths = [write_obj(mesh, Path(out_dir) / "mesh.obj")] if mesh is not None else []
        truth = marching_cubes(self.shape.sdf, self.mesh_resolution)
        paths.append(
            save_mesh_figure(
                [("IGR from points", mesh), (f"true {self.shape.kind}", truth)],
                Path(out_dir) / "samples.png",
            )
        )
        return paths


def make_experiment(ctx) -> IGRExperiment:
    config = ctx.settings(IGRConfig, "igr")
    shape = shape_lib.get_shape(ctx.data)
    generator = torch.Generator().manual_seed(ctx.seed)
    cloud = shape.surface_points(config.points, generator=generator)
    model = IGRNetwork(config.hidden).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    return IGRExperiment(
        ctx=ctx,
        model=model,
        train_model=ctx.wrap(model),
        optimizer=optimizer,
        shape=shape,
        cloud=cloud.to(ctx.device),
        lam=config.lam,
        surface_power=config.surface_power,
        mesh_resolution=config.mesh_resolution,
    )
