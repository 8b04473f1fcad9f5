"""Analytic shapes as signed distance functions (negative inside), the ground truth for the
implicit models (formula implicit-surface: S = {x | f(x) = 0}).

- sphere:  f(x) = ||x - c|| - r
- torus:   the sheet's torus (sqrt(x^2 + y^2) - R)^2 + z^2 = r^2 (centred at 0, around the z
           axis) as an SDF: f(x) = sqrt((sqrt(x^2 + y^2) - R)^2 + z^2) - r, the distance to the
           tube's core circle minus the tube radius; f = 0 exactly on the sheet's surface.
- box:     f(x) = ||max(q, 0)|| + min(max_i q_i, 0), q = |x - c| - h (Quilez's exact box SDF)

Every function takes points [..., 3] (torch) and returns [...]; the samplers take a device and
a generator so that data is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def sphere_sdf(x: torch.Tensor, radius: float = 0.5, center=(0.0, 0.0, 0.0)) -> torch.Tensor:
    """||x - c|| - r (formula implicit-surface's worked instance)."""
    c = torch.as_tensor(center, dtype=x.dtype, device=x.device)
    return torch.linalg.vector_norm(x - c, dim=-1) - radius


def torus_sdf(x: torch.Tensor, major: float = 0.5, minor: float = 0.2) -> torch.Tensor:
    """sqrt((sqrt(x^2 + y^2) - R)^2 + z^2) - r: zero exactly where the sheet's torus equation
    (sqrt(x^2 + y^2) - R)^2 + z^2 = r^2 holds."""
    ring = torch.sqrt(x[..., 0] ** 2 + x[..., 1] ** 2) - major
    return torch.sqrt(ring**2 + x[..., 2] ** 2) - minor


def box_sdf(x: torch.Tensor, half_size=(0.4, 0.3, 0.2), center=(0.0, 0.0, 0.0)) -> torch.Tensor:
    """Exact box SDF: outside, the distance to the box; inside, minus the distance to a face."""
    h = torch.as_tensor(half_size, dtype=x.dtype, device=x.device)
    q = (x - torch.as_tensor(center, dtype=x.dtype, device=x.device)).abs() - h
    outside = torch.linalg.vector_norm(q.clamp(min=0), dim=-1)
    inside = q.max(dim=-1).values.clamp(max=0)
    return outside + inside


@dataclass(frozen=True)
class Shape:
    """One analytic shape: its kind and parameters (used as a shape family member)."""

    kind: str  # "sphere" | "torus" | "box"
    params: tuple[float, ...]

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "sphere":
            return sphere_sdf(x, self.params[0], self.params[1:4] or (0.0, 0.0, 0.0))
        if self.kind == "torus":
            return torus_sdf(x, self.params[0], self.params[1])
        if self.kind == "box":
            return box_sdf(x, self.params[:3])
        raise ValueError(f"unknown shape kind {self.kind}")

    def occupancy(self, x: torch.Tensor) -> torch.Tensor:
        """o(x) = 1 inside (f < 0), 0 outside: the occupancy network's target."""
        return (self.sdf(x) < 0).to(x.dtype)

    def surface_points(
        self, n: int, device="cpu", generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """n points exactly on the surface (a point cloud for IGR / Chamfer distance)."""
        return surface_points(self, n, device, generator)


SHAPES = {
    "sphere": Shape("sphere", (0.5,)),
    "torus": Shape("torus", (0.5, 0.2)),
    "box": Shape("box", (0.4, 0.3, 0.2)),
}


def get_shape(name: str) -> Shape:
    from cheatsheet.errors import CheatsheetError

    if name not in SHAPES:
        raise CheatsheetError(f"unknown shape '{name}' (choose from {', '.join(SHAPES)})")
    return SHAPES[name]


def surface_points(
    shape: Shape, n: int, device="cpu", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Points on the zero level set. Sphere: normalised Gaussians. Torus: the parametrisation
    ((R + r cos v) cos u, (R + r cos v) sin u, r sin v), area-weighted by rejection on
    (R + r cos v). Box and anything else: sample near the surface and project along the SDF
    gradient (exact for these SDFs: x - f(x) grad f(x))."""
    if shape.kind == "sphere":
        direction = torch.randn(n, 3, generator=generator)
        center = torch.tensor(shape.params[1:4] or (0.0, 0.0, 0.0))
        points = center + shape.params[0] * direction / direction.norm(dim=-1, keepdim=True)
        return points.to(device)
    if shape.kind == "torus":
        major, minor = shape.params[:2]
        kept = []
        count = 0
        while count < n:
            u = 2 * math.pi * torch.rand(2 * n, generator=generator)
            v = 2 * math.pi * torch.rand(2 * n, generator=generator)
            # the area element is r (R + r cos v) du dv: accept with that relative weight
            accept = torch.rand(2 * n, generator=generator) < (major + minor * torch.cos(v)) / (
                major + minor
            )
            u, v = u[accept], v[accept]
            ring = major + minor * torch.cos(v)
            kept.append(
                torch.stack([ring * torch.cos(u), ring * torch.sin(u), minor * torch.sin(v)], -1)
            )
            count += len(u)
        return torch.cat(kept)[:n].to(device)
    x = (torch.rand(4 * n, 3, generator=generator) * 2 - 1) * 0.8
    for _ in range(8):  # projection onto the level set
        x = x.detach().requires_grad_(True)
        f = shape.sdf(x)
        (grad,) = torch.autograd.grad(f.sum(), x)
        x = x - f[:, None] * grad
    x = x.detach()
    return x[shape.sdf(x).abs() < 1e-5][:n].to(device)


def sample_space(
    n: int, bound: float = 1.0, device="cpu", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Uniform points in the cube [-bound, bound]^3."""
    return ((torch.rand(n, 3, generator=generator) * 2 - 1) * bound).to(device)


def sample_near_surface(
    shape: Shape,
    n: int,
    noise: float = 0.05,
    device="cpu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Surface points jittered by N(0, noise^2): where the occupancy boundary is learned
    (Occupancy Networks and DeepSDF both concentrate their samples there)."""
    points = surface_points(shape, n, "cpu", generator)
    return (points + noise * torch.randn(n, 3, generator=generator)).to(device)


def shape_family(kind: str, count: int, seed: int = 0) -> list[Shape]:
    """`count` members of a family (random radii / tube sizes / box sides) for the conditional
    models (occupancy network, DeepSDF)."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(low: float, high: float) -> float:
        return float(low + (high - low) * torch.rand((), generator=generator))

    shapes = []
    for index in range(count):
        which = kind if kind != "mixed" else ("sphere", "torus", "box")[index % 3]
        if which == "sphere":
            shapes.append(Shape("sphere", (uniform(0.3, 0.7),)))
        elif which == "torus":
            shapes.append(Shape("torus", (uniform(0.4, 0.6), uniform(0.12, 0.28))))
        else:
            shapes.append(Shape("box", (uniform(0.2, 0.6), uniform(0.2, 0.6), uniform(0.2, 0.6))))
    return shapes
