"""From an implicit function to a mesh, and how to score it (sheet 8.1: "to get a mesh, sample
points, predict occupancy/SDF, use marching cubes").

- `evaluate_grid`: f on a regular (N, N, N) grid over [-bound, bound]^3, in chunks.
- `marching_cubes`: scikit-image's Lorensen-Cline marching cubes on that grid, vertices mapped
  back to world coordinates (level 0 for an SDF, logit 0 = probability 1/2 for occupancy).
- `write_obj`: Wavefront .obj (1-based face indices).
- `volumetric_iou`: IoU of the inside sets {f < level} on uniform points (the Occupancy
  Networks paper's metric); `chamfer_distance`: symmetric mean nearest-neighbour distance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


@dataclass
class Mesh:
    vertices: np.ndarray  # [V, 3] float
    faces: np.ndarray  # [F, 3] int, 0-based

    def sample_points(self, n: int, seed: int = 0) -> np.ndarray:
        """Area-weighted uniform points on the triangles (for Chamfer distance)."""
        rng = np.random.default_rng(seed)
        a, b, c = (self.vertices[self.faces[:, i]] for i in range(3))
        area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
        index = rng.choice(len(area), size=n, p=area / area.sum())
        u, v = rng.random(n), rng.random(n)
        flip = u + v > 1
        u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
        return a[index] + u[:, None] * (b - a)[index] + v[:, None] * (c - a)[index]


def grid_points(resolution: int, bound: float = 1.0, device="cpu") -> torch.Tensor:
    """The (N^3, 3) grid points in 'ij' order (x slowest), spacing 2 bound / (N - 1)."""
    axis = torch.linspace(-bound, bound, resolution, device=device)
    return torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)


@torch.no_grad()
def evaluate_grid(
    fn: Callable[[torch.Tensor], torch.Tensor],
    resolution: int,
    bound: float = 1.0,
    device="cpu",
    chunk: int = 65536,
) -> np.ndarray:
    points = grid_points(resolution, bound, device)
    values = torch.cat([fn(part).reshape(-1) for part in points.split(chunk)])
    return values.reshape(resolution, resolution, resolution).float().cpu().numpy()


def marching_cubes(
    fn: Callable[[torch.Tensor], torch.Tensor],
    resolution: int = 48,
    bound: float = 1.0,
    level: float = 0.0,
    device="cpu",
) -> Mesh | None:
    """Mesh of {f = level}; None when the grid has no sign change (nothing to mesh)."""
    from skimage import measure

    volume = evaluate_grid(fn, resolution, bound, device)
    if not (volume.min() < level < volume.max()):
        return None
    spacing = 2 * bound / (resolution - 1)
    vertices, faces, _, _ = measure.marching_cubes(volume, level=level, spacing=(spacing,) * 3)
    return Mesh(vertices=vertices - bound, faces=faces.astype(np.int64))


def write_obj(mesh: Mesh, path: Path) -> Path:
    path = Path(path)
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces]
    path.write_text("# cheatsheet marching cubes\n" + "\n".join(lines) + "\n")
    return path


def read_obj(path: Path) -> Mesh:
    vertices, faces = [], []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "v":
            vertices.append([float(v) for v in parts[1:4]])
        elif parts and parts[0] == "f":
            faces.append([int(v.split("/")[0]) - 1 for v in parts[1:4]])
    return Mesh(np.asarray(vertices), np.asarray(faces, dtype=np.int64))


@torch.no_grad()
def volumetric_iou(
    predicted: Callable[[torch.Tensor], torch.Tensor],
    target: Callable[[torch.Tensor], torch.Tensor],
    n: int = 100_000,
    bound: float = 1.0,
    level: float = 0.0,
    device="cpu",
    seed: int = 0,
) -> float:
    """|A and B| / |A or B| with A = {predicted < level}, B = {target < 0} on uniform points.
    (Pass an SDF, or minus an occupancy logit, so that 'inside' is 'below the level'.)"""
    generator = torch.Generator().manual_seed(seed)
    points = ((torch.rand(n, 3, generator=generator) * 2 - 1) * bound).to(device)
    a = predicted(points).reshape(-1) < level
    b = target(points).reshape(-1) < 0
    union = (a | b).sum().item()
    return float((a & b).sum().item() / union) if union else 1.0


def chamfer_distance(a: np.ndarray, b: np.ndarray, chunk: int = 1024) -> float:
    """(mean_a min_b ||a - b|| + mean_b min_a ||a - b||) / 2 (L1-Chamfer as in Occupancy
    Networks), exact nearest neighbours (direct differences, not the |a|^2 + |b|^2 - 2ab
    shortcut, which loses precision)."""
    ta, tb = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)

    def nearest(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                torch.cdist(part, y, compute_mode="donot_use_mm_for_euclid_dist").min(1).values
                for part in x.split(chunk)
            ]
        )

    return float((nearest(ta, tb).mean() + nearest(tb, ta).mean()) / 2)


def save_mesh_figure(meshes: list[tuple[str, Mesh | None]], path: Path) -> Path:
    """Shaded renderings of meshes side by side (matplotlib, Lambert shading by face normal)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    figure = plt.figure(figsize=(3.2 * len(meshes), 3.4), dpi=100)
    for index, (title, mesh) in enumerate(meshes):
        axis = figure.add_subplot(1, len(meshes), index + 1, projection="3d")
        axis.set_title(title, fontsize=9)
        axis.set_axis_off()
        if mesh is None or len(mesh.faces) == 0:
            continue
        triangles = mesh.vertices[mesh.faces]
        normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
        normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
        light = np.array([0.4, -0.5, 0.75])
        shade = 0.25 + 0.75 * np.clip(np.abs(normals @ (light / np.linalg.norm(light))), 0, 1)
        colors = np.stack([0.35 * shade, 0.55 * shade, 0.9 * shade, np.ones_like(shade)], 1)
        axis.add_collection3d(Poly3DCollection(triangles, facecolors=colors, linewidths=0))
        for setter in (axis.set_xlim, axis.set_ylim, axis.set_zlim):
            setter(-0.8, 0.8)
        axis.view_init(elev=30, azim=35)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path
