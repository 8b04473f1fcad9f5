"""Differentiable Volumetric Rendering: learning implicit 3D representations without 3D
supervision.

Niemeyer, Mescheder, Oechsle, Geiger, CVPR 2020.

An occupancy network f_theta(p) (surface: f_theta(p) = tau, here the logit level 0, i.e.
probability 1/2) and a texture field t_theta(p) (RGB) are learned from images and masks alone
(the paper's multi-view reconstruction setting, one object, no encoder). Method:
- Forward (sec. 3.2, sheet 8.1.3): per pixel, march along the ray r(d) = r_0 + d w at n equally
  spaced depths, find the first interval where f - tau changes sign from outside to inside, then
  refine the depth by the secant method (sheet appendix: x_2 = x_1 - f(x_1) (x_1 - x_0) /
  (f(x_1) - f(x_0)), kept inside the bracket). The pixel's colour is t_theta(p_hat).
- Backward (sec. 3.3, the sheet's proof): from f_theta(p_hat) = tau and p_hat = r_0 + d_hat w,
      dp_hat/dtheta = -w (df/dp . w)^{-1} df/dtheta                 (formula dvr-implicit-gradient)
  so no intermediate marching step is stored. Implemented as the surrogate
      p_hat = p* - w (f_theta(p*) - tau) / stop_grad(df/dp(p*) . w)
  whose value is p* (f(p*) = tau at the root) and whose theta-derivative is the formula.
- Losses (sec. 3.5): L1 photometric loss on pixels that hit the surface and lie in the mask;
  freespace loss BCE(f(p), 0) for rays outside the mask (at the predicted surface point if the
  ray hit, else a random point on the ray); occupancy loss BCE(f(p), 1) for rays inside the
  mask that missed (a random point on the ray).
- The occupancy network starts as a sphere (a geometric initialisation: f = mlp(p) + k (r_0 -
  ||p||) with the MLP's last layer at zero), so that rays hit something from the first step.
Metrics on held-out views: PSNR of the rendered images, IoU of the predicted masks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.implicit.scene import BACKGROUND, FAR, NEAR, AnalyticScene, Camera
from cheatsheet.runs.config import param


@dataclass
class DVRConfig:
    size: int = param(32, "image side in pixels")
    views: int = param(24, "training views on the orbit")
    test_views: int = param(4, "held-out views for the PSNR")
    hidden: int = param(64, "units of the occupancy/texture field")
    lr: float = param(2e-3, "Adam learning rate")
    batch_rays: int = param(512, "rays per step")
    mesh_resolution: int = param(48, "marching-cubes grid of the mesh figure")


Field = Callable[[torch.Tensor], torch.Tensor]

# --------------------------------------------------------------------------------------------
# Forward: ray marching + secant root finding


def secant(
    f: Field,
    origins: torch.Tensor,
    directions: torch.Tensor,
    d_low: torch.Tensor,
    d_high: torch.Tensor,
    f_low: torch.Tensor,
    f_high: torch.Tensor,
    iterations: int = 8,
) -> torch.Tensor:
    """Secant steps d = d_high - f_high (d_high - d_low) / (f_high - f_low), replacing the
    bracket end of the same sign (regula falsi), so the root stays bracketed."""
    d = d_high
    for _ in range(iterations):
        d = d_high - f_high * (d_high - d_low) / (f_high - f_low)
        value = f(origins + d[:, None] * directions)
        below = value < 0
        d_low, f_low = torch.where(below, d, d_low), torch.where(below, value, f_low)
        d_high, f_high = torch.where(below, d_high, d), torch.where(below, f_high, value)
    return d


@torch.no_grad()
def find_surface(
    f: Field,
    origins: torch.Tensor,
    directions: torch.Tensor,
    near: float = NEAR,
    far: float = FAR,
    steps: int = 64,
    secant_iterations: int = 8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """First crossing of f from < 0 (outside) to >= 0 (inside) along each ray: (depth [R], hit
    [R] bool). f is 'inside minus level' (an occupancy logit, or minus an SDF)."""
    depths = torch.linspace(near, far, steps, device=origins.device)
    points = origins[:, None] + depths[None, :, None] * directions[:, None]
    values = f(points.reshape(-1, 3)).reshape(len(origins), steps)
    crossing = (values[:, :-1] < 0) & (values[:, 1:] >= 0)
    hit = crossing.any(-1)
    first = torch.where(hit, crossing.float().argmax(-1), torch.zeros_like(hit, dtype=torch.long))
    d_low, d_high = depths[first], depths[first + 1]
    f_low = values.gather(1, first[:, None])[:, 0]
    f_high = values.gather(1, first[:, None] + 1)[:, 0]
    depth = secant(f, origins, directions, d_low, d_high, f_low, f_high, secant_iterations)
    return torch.where(hit, depth, torch.full_like(depth, far)), hit


# --------------------------------------------------------------------------------------------
# Backward: the implicit surface gradient


def surface_points(
    f: Field,
    origins: torch.Tensor,
    directions: torch.Tensor,
    depth: torch.Tensor,
    level: float = 0.0,
) -> torch.Tensor:
    """p_hat with dp_hat/dtheta = -w (df/dp . w)^{-1} df/dtheta (formula dvr-implicit-gradient),
    the depth itself found without gradient tracking."""
    p_star = (origins + depth.detach()[:, None] * directions).detach().requires_grad_(True)
    value = f(p_star)
    (df_dp,) = torch.autograd.grad(value.sum(), p_star, retain_graph=True)
    directional = (df_dp * directions).sum(-1).detach()
    # keep the denominator away from 0 (grazing rays) without changing its sign
    directional = torch.where(
        directional.abs() < 1e-4, torch.full_like(directional, 1e-4), directional
    )
    return p_star.detach() - directions * ((value - level) / directional)[:, None]


# --------------------------------------------------------------------------------------------
# The model: occupancy + texture field


class OccupancyTextureField(nn.Module):
    """p -> (occupancy logit, rgb) with a shared ReLU trunk; positional encoding of p."""

    def __init__(
        self, hidden: int = 64, layers: int = 3, frequencies: int = 4, init_radius: float = 0.6
    ):
        super().__init__()
        from cheatsheet.implicit.nerf import PositionalEncoding

        self.encoding = PositionalEncoding(3, frequencies)
        dims = [self.encoding.out_dim] + [hidden] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b), nn.Softplus(beta=10)]
        self.trunk = nn.Sequential(*blocks)
        self.occupancy_head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.occupancy_head.weight)
        nn.init.zeros_(self.occupancy_head.bias)
        self.texture_head = nn.Linear(hidden, 3)
        self.init_radius, self.sharpness = init_radius, 10.0

    def occupancy(self, p: torch.Tensor) -> torch.Tensor:
        sphere = self.sharpness * (self.init_radius - p.norm(dim=-1))
        return self.occupancy_head(self.trunk(self.encoding(p))).squeeze(-1) + sphere

    def texture(self, p: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.texture_head(self.trunk(self.encoding(p))))


@dataclass
class DVROutput:
    rgb: torch.Tensor  # [R, 3] (background where no hit)
    hit: torch.Tensor  # [R]
    surface: torch.Tensor  # [R, 3] differentiable surface points (meaningful where hit)


def render_rays(
    model: OccupancyTextureField, origins: torch.Tensor, directions: torch.Tensor
) -> DVROutput:
    depth, hit = find_surface(model.occupancy, origins, directions)
    surface = surface_points(model.occupancy, origins, directions, depth)
    rgb = torch.where(hit[:, None], model.texture(surface), torch.full_like(surface, BACKGROUND))
    return DVROutput(rgb, hit, surface)


def dvr_loss(
    model: OccupancyTextureField,
    origins: torch.Tensor,
    directions: torch.Tensor,
    target_rgb: torch.Tensor,
    target_mask: torch.Tensor,
    freespace_weight: float = 1.0,
    occupancy_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    out = render_rays(model, origins, directions)
    both = out.hit & target_mask
    rgb_loss = (
        (out.rgb[both] - target_rgb[both]).abs().sum(-1).mean() if both.any() else out.rgb.sum() * 0
    )
    random_depth = NEAR + (FAR - NEAR) * torch.rand(len(origins), device=origins.device)
    random_points = origins + random_depth[:, None] * directions
    # freespace: outside the mask, at the predicted surface if hit, else anywhere on the ray
    free_points = torch.where(out.hit[:, None], out.surface, random_points)[~target_mask]
    free_logits = model.occupancy(free_points)
    freespace = F.binary_cross_entropy_with_logits(
        free_logits, torch.zeros_like(free_logits), reduction="sum"
    )
    # occupancy: inside the mask but missed: some point on the ray must be inside
    missed = target_mask & ~out.hit
    occ_logits = model.occupancy(random_points[missed])
    occupancy = F.binary_cross_entropy_with_logits(
        occ_logits, torch.ones_like(occ_logits), reduction="sum"
    )
    loss = rgb_loss + (freespace_weight * freespace + occupancy_weight * occupancy) / len(origins)
    return loss, {
        "rgb_l1": rgb_loss.item(),
        "freespace": freespace.item(),
        "occupancy": occupancy.item(),
    }


# --------------------------------------------------------------------------------------------
# Ground truth: the analytic scene's surface, rendered by the same marching + secant


@torch.no_grad()
def render_surface_truth(scene: AnalyticScene, camera: Camera) -> tuple[torch.Tensor, torch.Tensor]:
    """Image [3, H, W] and mask [H, W] of the scene's SDF = 0 surface coloured by scene.color."""
    origins, directions = camera.rays()
    depth, hit = find_surface(
        lambda p: -scene.sdf(p), origins, directions, steps=256, secant_iterations=20
    )
    points = origins + depth[:, None] * directions
    rgb = torch.where(hit[:, None], scene.color(points), torch.full_like(points, BACKGROUND))
    return rgb.T.reshape(3, camera.height, camera.width), hit.reshape(camera.height, camera.width)


@dataclass
class DVRExperiment:
    ctx: Any
    model: OccupancyTextureField
    train_model: nn.Module
    optimizer: torch.optim.Optimizer
    origins: torch.Tensor
    directions: torch.Tensor
    colors: torch.Tensor
    masks: torch.Tensor
    test_cameras: list[Camera]
    test_images: torch.Tensor
    test_masks: torch.Tensor
    batch_rays: int = 512
    mesh_resolution: int = 48

    def modules(self) -> dict[str, nn.Module]:
        return {"dvr": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"dvr": self.optimizer}

    def train_step(self, step: int) -> dict[str, float]:
        index = torch.randint(0, len(self.origins), (self.batch_rays,), device=self.origins.device)
        loss, parts = dvr_loss(
            self.model,
            self.origins[index],
            self.directions[index],
            self.colors[index],
            self.masks[index],
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item(), **parts}

    def render(self, camera: Camera) -> tuple[torch.Tensor, torch.Tensor]:
        origins, directions = camera.rays()
        out = render_rays(self.model, origins, directions)
        return out.rgb.detach().T.reshape(3, camera.height, camera.width), out.hit.reshape(
            camera.height, camera.width
        )

    def evaluate(self) -> dict[str, Any]:
        from cheatsheet.implicit.nerf import psnr

        renders = [self.render(c) for c in self.test_cameras]
        self._renders = torch.stack([r[0] for r in renders]).clamp(0, 1)
        masks = torch.stack([r[1] for r in renders])
        intersection = (masks & self.test_masks).sum().item()
        union = (masks | self.test_masks).sum().item()
        mean_image = self.colors.mean(0).view(1, 3, 1, 1).expand_as(self.test_images)
        return {
            "psnr_test": psnr(self._renders, self.test_images),
            "mask_iou_test": intersection / max(union, 1),
            "psnr_test_mean_color_baseline": psnr(mean_image, self.test_images),
            "measure": "PSNR of surface renders (texture at the root), mask IoU; held-out views",
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.implicit.meshing import marching_cubes, save_mesh_figure, write_obj
        from cheatsheet.runs.figures import save_image_grid

        renders = getattr(self, "_renders", None)
        if renders is None:
            renders = torch.stack([self.render(c)[0] for c in self.test_cameras]).clamp(0, 1)
        paths = [
            save_image_grid(
                torch.cat([self.test_images[:4], renders[:4]]),
                Path(out_dir) / "samples.png",
                title="held-out views\nrows: truth / DVR",
                nrow=len(self.test_images[:4]),
            )
        ]
        mesh = marching_cubes(
            self.model.occupancy,
            self.mesh_resolution,
            device=self.ctx.device,
        )
        if mesh is not None:
            paths.append(write_obj(mesh, Path(out_dir) / "mesh.obj"))
            paths.append(
                save_mesh_figure([("DVR occupancy (level 1/2)", mesh)], Path(out_dir) / "mesh.png")
            )
        return paths


def make_experiment(ctx) -> DVRExperiment:
    from cheatsheet.implicit.scene import orbit_cameras

    config = ctx.settings(DVRConfig, "dvr")
    size = config.size
    train_views, test_views = config.views, config.test_views
    scene = AnalyticScene()
    cameras = [
        c.to(ctx.device) for c in orbit_cameras(train_views + test_views, size=size, seed=ctx.seed)
    ]
    truth = [render_surface_truth(scene, c) for c in cameras]
    held = set(range(0, len(cameras), max(1, len(cameras) // test_views))[:test_views])
    train = [i for i in range(len(cameras)) if i not in held]
    rays = [cameras[i].rays() for i in train]
    model = OccupancyTextureField(config.hidden).to(ctx.device)
    return DVRExperiment(
        ctx=ctx,
        model=model,
        train_model=ctx.wrap(model),
        optimizer=torch.optim.Adam(model.parameters(), lr=config.lr),
        origins=torch.cat([r[0] for r in rays]),
        directions=torch.cat([r[1] for r in rays]),
        colors=torch.cat([truth[i][0].reshape(3, -1).T for i in train]),
        masks=torch.cat([truth[i][1].reshape(-1) for i in train]),
        test_cameras=[cameras[i] for i in sorted(held)],
        test_images=torch.stack([truth[i][0] for i in sorted(held)]),
        test_masks=torch.stack([truth[i][1] for i in sorted(held)]),
        batch_rays=config.batch_rays,
        mesh_resolution=config.mesh_resolution,
    )
