"""The analytic scene and the pinhole cameras shared by NeRF, DVR and Gaussian splatting.

Cameras (OpenCV convention): world -> camera x_c = R x_w + t with rows of R the camera's right,
down and forward axes; pixel (u, v) = (f x_c / z_c + c_x, f y_c / z_c + c_y); the ray through
the centre of pixel (i, j) leaves the camera centre o = -R^T t in direction
R^T ((j + 0.5 - c_x) / f, (i + 0.5 - c_y) / f, 1).

The scene is a coloured density field we can render exactly enough ourselves: a torus (the
sheet's, R = 0.5, r = 0.18, around the z axis) and a small sphere above it, as soft solids
    sigma(x) = sigma_max * sigmoid(-sdf(x) / s),
coloured by position (hue around the torus, a fixed red-orange sphere). Ground-truth images are
this field volume-rendered with many deterministic samples (the same quadrature as NeRF's,
formula nerf-color), over a white background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from cheatsheet.implicit.shapes import sphere_sdf, torus_sdf

BACKGROUND = 1.0  # white


@dataclass
class Camera:
    rotation: torch.Tensor  # [3, 3] world -> camera
    translation: torch.Tensor  # [3]
    focal: float
    width: int
    height: int

    @property
    def center(self) -> torch.Tensor:
        return -self.rotation.T @ self.translation

    def to(self, device) -> Camera:
        return Camera(
            self.rotation.to(device),
            self.translation.to(device),
            self.focal,
            self.width,
            self.height,
        )

    def rays(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Origins and unit directions [H*W, 3] through the pixel centres, row-major."""
        device = self.rotation.device
        i, j = torch.meshgrid(
            torch.arange(self.height, device=device, dtype=torch.float32),
            torch.arange(self.width, device=device, dtype=torch.float32),
            indexing="ij",
        )
        d_cam = torch.stack(
            [
                (j + 0.5 - self.width / 2) / self.focal,
                (i + 0.5 - self.height / 2) / self.focal,
                torch.ones_like(i),
            ],
            -1,
        ).reshape(-1, 3)
        directions = d_cam @ self.rotation  # R^T d for each row
        directions = directions / directions.norm(dim=-1, keepdim=True)
        return self.center.expand_as(directions).contiguous(), directions


def look_at(center, target=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0), focal=40.0, size=32) -> Camera:
    center = torch.as_tensor(center, dtype=torch.float32)
    forward = torch.as_tensor(target, dtype=torch.float32) - center
    forward = forward / forward.norm()
    right = torch.linalg.cross(forward, torch.as_tensor(up, dtype=torch.float32))
    right = right / right.norm()
    down = torch.linalg.cross(forward, right)
    rotation = torch.stack([right, down, forward])
    return Camera(rotation, -rotation @ center, focal, size, size)


def orbit_cameras(
    count: int,
    radius: float = 2.6,
    size: int = 32,
    focal: float | None = None,
    seed: int = 0,
    elevation_range=(-0.35, 1.0),
) -> list[Camera]:
    """Cameras on a sphere around the origin looking at it: azimuths on a golden-angle spiral,
    elevations spread over `elevation_range` (radians), jittered by the seed."""
    generator = torch.Generator().manual_seed(seed)
    focal = focal if focal is not None else 1.7 * size
    cameras = []
    golden = math.pi * (3 - math.sqrt(5))
    low, high = elevation_range
    for k in range(count):
        azimuth = k * golden + float(torch.rand((), generator=generator)) * 0.3
        elevation = low + (high - low) * (k + 0.5) / count
        center = radius * torch.tensor(
            [
                math.cos(elevation) * math.cos(azimuth),
                math.cos(elevation) * math.sin(azimuth),
                math.sin(elevation),
            ]
        )
        cameras.append(look_at(center, focal=focal, size=size))
    return cameras


# --------------------------------------------------------------------------------------------
# The analytic radiance field


@dataclass
class AnalyticScene:
    sigma_max: float = 60.0
    softness: float = 0.01
    torus_major: float = 0.5
    torus_minor: float = 0.18
    sphere_radius: float = 0.22
    sphere_center: tuple[float, float, float] = (0.0, 0.0, 0.42)

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        torus = torus_sdf(x, self.torus_major, self.torus_minor)
        sphere = sphere_sdf(x, self.sphere_radius, self.sphere_center)
        return torch.minimum(torus, sphere)

    def density(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigma_max * torch.sigmoid(-self.sdf(x) / self.softness)

    def color(self, x: torch.Tensor) -> torch.Tensor:
        """Hue around the torus (angle atan2(y, x)) with a stripe pattern along the tube; the
        sphere red-orange. Blended by which surface is nearer."""
        angle = torch.atan2(x[..., 1], x[..., 0])
        stripes = 0.5 + 0.5 * torch.cos(6 * angle)
        torus_rgb = torch.stack(
            [
                0.5 + 0.45 * torch.cos(angle),
                0.5 + 0.45 * torch.cos(angle - 2.1),
                0.25 + 0.5 * stripes,
            ],
            -1,
        ).clamp(0, 1)
        sphere_rgb = torch.tensor([0.95, 0.35, 0.1], device=x.device).expand_as(torus_rgb)
        torus = torus_sdf(x, self.torus_major, self.torus_minor)
        sphere = sphere_sdf(x, self.sphere_radius, self.sphere_center)
        which = torch.sigmoid((torus - sphere) / 0.02)[..., None]
        return which * sphere_rgb + (1 - which) * torus_rgb


NEAR, FAR = 1.2, 4.0


@torch.no_grad()
def render_analytic(
    scene: AnalyticScene, camera: Camera, samples: int = 384, chunk: int = 2048
) -> torch.Tensor:
    """Ground-truth image [3, H, W]: the field volume-rendered at `samples` midpoints per ray."""
    from cheatsheet.implicit.nerf import composite

    origins, directions = camera.rays()
    edges = torch.linspace(NEAR, FAR, samples + 1, device=origins.device)
    t = 0.5 * (edges[1:] + edges[:-1])
    pixels = []
    for o, d in zip(origins.split(chunk), directions.split(chunk)):
        points = o[:, None] + t[None, :, None] * d[:, None]
        rgb, _, _ = composite(scene.density(points), scene.color(points), t.expand(len(o), -1), FAR)
        pixels.append(rgb)
    return torch.cat(pixels).T.reshape(3, camera.height, camera.width)


def make_views(
    count: int, size: int = 32, seed: int = 0, device="cpu", scene: AnalyticScene | None = None
) -> tuple[list[Camera], torch.Tensor]:
    scene = scene or AnalyticScene()
    cameras = [c.to(device) for c in orbit_cameras(count, size=size, seed=seed)]
    images = torch.stack([render_analytic(scene, camera) for camera in cameras])
    return cameras, images
