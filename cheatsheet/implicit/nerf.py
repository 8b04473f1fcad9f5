"""NeRF: representing scenes as neural radiance fields for view synthesis.

Mildenhall, Srinivasan, Tancik, Barron, Ramamoorthi, Ng, ECCV 2020; the hash-grid encoding of
Instant-NGP (Mueller, Evans, Schied, Keller, SIGGRAPH 2022); random Fourier features (Tancik et
al., NeurIPS 2020).

Method, in the paper's order:
1. Encoding of the inputs (sec. 5.1): gamma(p) = (sin(2^0 pi p), cos(2^0 pi p), ...,
   sin(2^{L-1} pi p), cos(2^{L-1} pi p)) per coordinate (formula nerf-positional-encoding), or
   random Fourier features [cos(2 pi B v), sin(2 pi B v)], B ~ N(0, s^2), or the multiresolution
   hash grid (Instant-NGP sec. 3): per level l a grid of resolution N_l = floor(N_min b^l); the 8
   corners of the cell around x are looked up in a table of T feature vectors (directly when the
   grid has at most T vertices, else by the spatial hash (x_1 pi_1 xor x_2 pi_2 xor x_3 pi_3) mod T)
   and trilinearly interpolated; the levels' features are concatenated.
2. The field (sec. 3): (x, d) -> (sigma, c); sigma depends on the position only, the colour gets
   the viewing direction in one extra layer (the sheet: "density before adding the view
   direction, then one layer for color"). sigma uses softplus (as in mip-NeRF) instead of ReLU,
   which cannot die at initialisation.
3. Volume rendering (sec. 4): delta_i = t_{i+1} - t_i, alpha_i = 1 - exp(-sigma_i delta_i)
   (nerf-alpha), T_i = prod_{j<i} (1 - alpha_j) (nerf-transmittance), w_i = T_i alpha_i
   (nerf-weights), C = sum_i w_i c_i (nerf-color) + (1 - sum_i w_i) * background.
4. Stratified sampling (eq. 2): t_i ~ U[t_n + (i-1)/N (t_f - t_n), t_n + i/N (t_f - t_n)].
5. Hierarchical volume sampling (sec. 5.2): the coarse network's weights, normalised, are a
   piecewise-constant PDF along the ray; N_f more samples are drawn from it by inverse transform
   sampling; the fine network is evaluated at the union of the coarse and fine samples.
6. Loss: sum over rays of ||C_coarse - C||^2 + ||C_fine - C||^2.
The scene is the analytic torus + sphere of scene.py rendered by our own renderer; the metric is
PSNR = -10 log10(MSE) on held-out views (images in [0, 1]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.implicit.scene import BACKGROUND, FAR, NEAR, Camera
from cheatsheet.runs.config import param


@dataclass
class NeRFConfig:
    encoding: str = param("positional", "encoding: positional (NeRF) or hashgrid (Instant-NGP)")
    compare: bool = param(False, "also train the other encoding, side by side")
    lr: float | None = param(None, "Adam learning rate (None: 2e-3 positional, 1e-2 hashgrid)")
    size: int = param(32, "image side in pixels")
    views: int = param(24, "training views")
    test_views: int = param(4, "held-out views for the PSNR")
    batch_rays: int = param(512, "rays per step")
    n_coarse: int = param(32, "stratified samples per ray (coarse network)")
    n_fine: int = param(32, "importance samples per ray (fine network)")


# --------------------------------------------------------------------------------------------
# 1. Encodings


class PositionalEncoding(nn.Module):
    """gamma(p), coordinate-major [..., D, L, (sin, cos)] flattened (formula
    nerf-positional-encoding), optionally preceded by p itself (as in the NeRF code)."""

    def __init__(self, in_dim: int, num_frequencies: int, include_input: bool = True):
        super().__init__()
        self.in_dim, self.num_frequencies, self.include_input = (
            in_dim,
            num_frequencies,
            include_input,
        )
        self.out_dim = in_dim * 2 * num_frequencies + (in_dim if include_input else 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # 2^k pi in the input's precision (2^k is exact; a float32 buffer would round pi)
        scales = 2.0 ** torch.arange(self.num_frequencies, device=x.device, dtype=x.dtype) * math.pi
        angles = x[..., None] * scales  # [..., D, L]
        features = torch.stack([torch.sin(angles), torch.cos(angles)], -1).flatten(-3)
        return torch.cat([x, features], -1) if self.include_input else features


class RandomFourierFeatures(nn.Module):
    """[cos(2 pi B v), sin(2 pi B v)] with a fixed Gaussian B [m, D], entries N(0, scale^2)."""

    def __init__(self, in_dim: int, num_features: int = 64, scale: float = 4.0, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("B", scale * torch.randn(num_features, in_dim, generator=generator))
        self.out_dim = 2 * num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        projected = 2 * math.pi * x @ self.B.T
        return torch.cat([torch.cos(projected), torch.sin(projected)], -1)


HASH_PRIMES = (1, 2654435761, 805459861)  # Instant-NGP's pi_1, pi_2, pi_3
CORNERS = torch.tensor([[(c >> k) & 1 for k in range(3)] for c in range(8)])  # [8, 3] in {0,1}


class HashGridEncoding(nn.Module):
    """Multiresolution hash encoding of x in [-bound, bound]^3 -> [..., levels * features]."""

    def __init__(
        self,
        levels: int = 8,
        features: int = 2,
        log2_table_size: int = 13,
        base_resolution: int = 4,
        max_resolution: int = 64,
        bound: float = 1.0,
    ):
        super().__init__()
        self.levels, self.features, self.bound = levels, features, bound
        self.table_size = 2**log2_table_size
        growth = math.exp(
            (math.log(max_resolution) - math.log(base_resolution)) / max(levels - 1, 1)
        )
        self.resolutions = [int(math.floor(base_resolution * growth**l)) for l in range(levels)]
        # U(-1e-4, 1e-4) as in the paper: features start near zero
        self.tables = nn.Parameter(
            torch.empty(levels, self.table_size, features).uniform_(-1e-4, 1e-4)
        )
        self.register_buffer("corners", CORNERS.clone(), persistent=False)
        self.out_dim = levels * features

    def vertex_index(self, vertex: torch.Tensor, resolution: int) -> torch.Tensor:
        """Table row of integer grid vertices [..., 3]: dense (1:1) when the (N+1)^3 vertices fit
        in the table, else the spatial hash."""
        side = resolution + 1
        if side**3 <= self.table_size:
            return vertex[..., 0] + side * (vertex[..., 1] + side * vertex[..., 2])
        hashed = vertex[..., 0] * HASH_PRIMES[0]
        hashed = torch.bitwise_xor(hashed, vertex[..., 1] * HASH_PRIMES[1])
        hashed = torch.bitwise_xor(hashed, vertex[..., 2] * HASH_PRIMES[2])
        return hashed % self.table_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape[:-1]
        unit = ((x.reshape(-1, 3) + self.bound) / (2 * self.bound)).clamp(0, 1)  # [N, 3]
        outputs = []
        for level, resolution in enumerate(self.resolutions):
            scaled = unit * resolution
            lower = scaled.floor().clamp(max=resolution - 1)
            frac = scaled - lower  # position inside the cell, in [0, 1]^3
            vertices = lower.long()[:, None, :] + self.corners  # [N, 8, 3]
            index = self.vertex_index(vertices, resolution)
            # A lookup, not tables[level][index]: the backward of advanced indexing accumulates
            # with index_put_, whose multithreaded CPU order varies from run to run (the same
            # seed gave 25.92 vs 25.85 dB); embedding's backward sums in a fixed order.
            values = F.embedding(index, self.tables[level])  # [N, 8, F]
            # trilinear weights: prod_k (frac_k if corner_k = 1 else 1 - frac_k)
            weights = torch.where(self.corners.bool(), frac[:, None, :], 1 - frac[:, None, :]).prod(
                -1
            )
            outputs.append((weights[..., None] * values).sum(1))
        return torch.cat(outputs, -1).reshape(*shape, self.out_dim)


def make_encoding(kind: str, in_dim: int, frequencies: int, seed: int = 0) -> nn.Module:
    if kind == "positional":
        return PositionalEncoding(in_dim, frequencies)
    if kind == "fourier":
        return RandomFourierFeatures(
            in_dim, 16 * frequencies // 2, scale=1.5 * frequencies / 4, seed=seed
        )
    if kind == "hashgrid":
        return HashGridEncoding()
    from cheatsheet.errors import CheatsheetError

    raise CheatsheetError(f"unknown encoding '{kind}' (choose positional, fourier or hashgrid)")


# --------------------------------------------------------------------------------------------
# 2. The radiance field


class RadianceField(nn.Module):
    """(x, d) -> (sigma >= 0, rgb in [0, 1]); sigma from x alone, the colour adds d."""

    def __init__(
        self, encoding: str = "positional", width: int = 64, depth: int = 4, seed: int = 0
    ):
        super().__init__()
        self.position_encoding = make_encoding(encoding, 3, 8, seed)
        self.direction_encoding = PositionalEncoding(3, 4)
        if encoding == "hashgrid":
            depth = 1  # Instant-NGP: the table carries the detail, a tiny MLP decodes it
        layers: list[nn.Module] = []
        in_dim = self.position_encoding.out_dim
        for _ in range(depth):
            layers += [nn.Linear(in_dim, width), nn.ReLU()]
            in_dim = width
        self.trunk = nn.Sequential(*layers)
        self.density_head = nn.Linear(width, 1)
        self.feature = nn.Linear(width, width)
        self.color_head = nn.Sequential(
            nn.Linear(width + self.direction_encoding.out_dim, width // 2),
            nn.ReLU(),
            nn.Linear(width // 2, 3),
        )

    def forward(self, x: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(self.position_encoding(x))
        sigma = F.softplus(self.density_head(h).squeeze(-1) - 1.0)
        color_input = torch.cat([self.feature(h), self.direction_encoding(d)], -1)
        rgb = torch.sigmoid(self.color_head(color_input))
        return sigma, rgb


# --------------------------------------------------------------------------------------------
# 3. Volume rendering


def segment_lengths(t: torch.Tensor, far: float) -> torch.Tensor:
    """delta_i = t_{i+1} - t_i, the last segment running to the far plane."""
    last = (far - t[..., -1:]).clamp(min=0)
    return torch.cat([t[..., 1:] - t[..., :-1], last], -1)


def alpha_from_density(sigma: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """alpha_i = 1 - exp(-sigma_i delta_i) (formula nerf-alpha)."""
    return 1 - torch.exp(-sigma * delta)


def transmittance(sigma: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """T_i = prod_{j<i} (1 - alpha_j) = exp(-sum_{j<i} sigma_j delta_j) (nerf-transmittance),
    computed as an exclusive cumulative sum of optical depth (no product of many small terms)."""
    optical = sigma * delta
    return torch.exp(-(torch.cumsum(optical, -1) - optical))


def volume_rendering_weights(sigma: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """w_i = T_i alpha_i (formula nerf-weights); they sum to 1 - T_{N+1} <= 1."""
    return transmittance(sigma, delta) * alpha_from_density(sigma, delta)


def composite(
    sigma: torch.Tensor,
    rgb: torch.Tensor,
    t: torch.Tensor,
    far: float = FAR,
    background: float = BACKGROUND,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """C = sum_i w_i c_i + (1 - sum_i w_i) background (formula nerf-color); returns the colour
    [R, 3], the weights [R, N] and the accumulated opacity [R]."""
    weights = volume_rendering_weights(sigma, segment_lengths(t, far))
    opacity = weights.sum(-1)
    color = (weights[..., None] * rgb).sum(-2) + (1 - opacity)[..., None] * background
    return color, weights, opacity


# --------------------------------------------------------------------------------------------
# 4.-5. Sampling along rays


def stratified_samples(
    rays: int, n: int, near: float = NEAR, far: float = FAR, device="cpu", perturb: bool = True
) -> torch.Tensor:
    """One uniform sample in each of n equal bins of [near, far] per ray (NeRF eq. 2); the bin
    midpoints when perturb is False. [rays, n], increasing."""
    edges = torch.linspace(near, far, n + 1, device=device)
    lower, upper = edges[:-1], edges[1:]
    u = torch.rand(rays, n, device=device) if perturb else torch.full((rays, n), 0.5, device=device)
    return lower + (upper - lower) * u


def sample_pdf(
    bins: torch.Tensor, weights: torch.Tensor, n: int, deterministic: bool = False
) -> torch.Tensor:
    """Inverse transform sampling of the piecewise-constant PDF with mass weights[i] on
    [bins[i], bins[i+1]] (NeRF sec. 5.2). bins [R, M+1], weights [R, M] -> samples [R, n]."""
    weights = weights + 1e-5  # no zero-probability rays
    pdf = weights / weights.sum(-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[..., :1]), torch.cumsum(pdf, -1)], -1)  # [R, M+1]
    if deterministic:
        u = torch.linspace(0, 1, n, device=bins.device).expand(len(bins), n).contiguous()
    else:
        u = torch.rand(len(bins), n, device=bins.device)
    index = torch.searchsorted(cdf, u, right=True).clamp(1, cdf.shape[-1] - 1)
    cdf_below, cdf_above = cdf.gather(-1, index - 1), cdf.gather(-1, index)
    bin_below, bin_above = bins.gather(-1, index - 1), bins.gather(-1, index)
    denominator = torch.where(
        cdf_above - cdf_below < 1e-5, torch.ones_like(cdf_below), cdf_above - cdf_below
    )
    return bin_below + (u - cdf_below) / denominator * (bin_above - bin_below)


@dataclass
class RenderOutput:
    coarse: torch.Tensor  # [R, 3]
    fine: torch.Tensor  # [R, 3]
    depth: torch.Tensor  # [R] expected depth sum_i w_i t_i of the fine pass
    opacity: torch.Tensor  # [R]


def render_rays(
    coarse: nn.Module,
    fine: nn.Module,
    origins: torch.Tensor,
    directions: torch.Tensor,
    n_coarse: int = 32,
    n_fine: int = 32,
    perturb: bool = True,
) -> RenderOutput:
    rays = len(origins)
    t_coarse = stratified_samples(rays, n_coarse, device=origins.device, perturb=perturb)
    points = origins[:, None] + t_coarse[..., None] * directions[:, None]
    view = directions[:, None].expand_as(points)
    sigma, rgb = coarse(points, view)
    color_coarse, weights, _ = composite(sigma, rgb, t_coarse)
    # hierarchical sampling from the coarse weights, bins between the coarse midpoints
    with torch.no_grad():
        mids = 0.5 * (t_coarse[:, 1:] + t_coarse[:, :-1])
        t_extra = sample_pdf(mids, weights[:, 1:-1], n_fine, deterministic=not perturb)
    t_all, _ = torch.sort(torch.cat([t_coarse, t_extra], -1), -1)
    points = origins[:, None] + t_all[..., None] * directions[:, None]
    sigma, rgb = fine(points, directions[:, None].expand_as(points))
    color_fine, weights, opacity = composite(sigma, rgb, t_all)
    return RenderOutput(color_coarse, color_fine, (weights * t_all).sum(-1), opacity)


@torch.no_grad()
def render_image(
    coarse: nn.Module, fine: nn.Module, camera: Camera, chunk: int = 1024, **kwargs
) -> torch.Tensor:
    origins, directions = camera.rays()
    colors = [
        render_rays(coarse, fine, o, d, perturb=False, **kwargs).fine
        for o, d in zip(origins.split(chunk), directions.split(chunk))
    ]
    return torch.cat(colors).T.reshape(3, camera.height, camera.width)


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """-10 log10(MSE) for images in [0, 1]."""
    return float(-10 * torch.log10(F.mse_loss(prediction, target)))


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class NeRFModel:
    """A coarse and a fine field with their optimizer (NeRF trains both with the same loss)."""

    name: str
    coarse: RadianceField
    fine: RadianceField
    optimizer: torch.optim.Optimizer


def make_nerf(encoding: str, device, lr: float | None = None, seed: int = 0) -> NeRFModel:
    coarse = RadianceField(encoding, seed=seed).to(device)
    fine = RadianceField(encoding, seed=seed + 1).to(device)
    params = list(coarse.parameters()) + list(fine.parameters())
    # Instant-NGP trains its tables with lr 1e-2, eps 1e-15; NeRF uses 5e-4 (larger here:
    # the model and the budget are small)
    if encoding == "hashgrid":
        optimizer = torch.optim.Adam(params, lr=lr or 1e-2, betas=(0.9, 0.99), eps=1e-15)
    else:
        optimizer = torch.optim.Adam(params, lr=lr or 2e-3)
    return NeRFModel(encoding, coarse, fine, optimizer)


@dataclass
class NeRFExperiment:
    ctx: Any
    models: list[NeRFModel]  # the first is the run's model; others are compared baselines
    train_cameras: list[Camera]
    train_images: torch.Tensor
    test_cameras: list[Camera]
    test_images: torch.Tensor
    batch_rays: int = 512
    n_coarse: int = 32
    n_fine: int = 32
    origins: torch.Tensor = field(init=False)
    directions: torch.Tensor = field(init=False)
    colors: torch.Tensor = field(init=False)
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rays = [camera.rays() for camera in self.train_cameras]
        self.origins = torch.cat([r[0] for r in rays])
        self.directions = torch.cat([r[1] for r in rays])
        self.colors = self.train_images.permute(0, 2, 3, 1).reshape(-1, 3)

    def modules(self) -> dict[str, nn.Module]:
        out = {}
        for model in self.models:
            out[f"{model.name}_coarse"], out[f"{model.name}_fine"] = model.coarse, model.fine
        return out

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {model.name: model.optimizer for model in self.models}

    def train_step(self, step: int) -> dict[str, float]:
        import time

        index = torch.randint(0, len(self.origins), (self.batch_rays,), device=self.origins.device)
        out: dict[str, float] = {}
        for model in self.models:  # the same rays for every compared model
            began = time.perf_counter()
            rendered = render_rays(
                model.coarse,
                model.fine,
                self.origins[index],
                self.directions[index],
                self.n_coarse,
                self.n_fine,
            )
            target = self.colors[index]
            loss = F.mse_loss(rendered.coarse, target) + F.mse_loss(rendered.fine, target)
            model.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            model.optimizer.step()
            self.seconds[model.name] = (
                self.seconds.get(model.name, 0.0) + time.perf_counter() - began
            )
            out[f"loss_{model.name}"] = loss.item()
        out["loss"] = out[f"loss_{self.models[0].name}"]
        return out

    def render_test(self, model: NeRFModel) -> torch.Tensor:
        return torch.stack(
            [
                render_image(
                    model.coarse, model.fine, c, n_coarse=self.n_coarse, n_fine=self.n_fine
                )
                for c in self.test_cameras
            ]
        )

    def evaluate(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {}
        self._renders = {}
        for model in self.models:
            images = self.render_test(model)
            self._renders[model.name] = images
            values = [psnr(p, t) for p, t in zip(images, self.test_images)]
            metrics[f"psnr_test_{model.name}"] = sum(values) / len(values)
            metrics[f"train_seconds_{model.name}"] = round(self.seconds.get(model.name, 0.0), 2)
        metrics["psnr_test"] = metrics[f"psnr_test_{self.models[0].name}"]
        mean_image = self.train_images.mean(0, keepdim=True).expand_as(self.test_images)
        metrics["psnr_test_mean_image_baseline"] = psnr(mean_image, self.test_images)
        metrics["encoding"] = self.models[0].name
        metrics["views"] = {"train": len(self.train_cameras), "test": len(self.test_cameras)}
        metrics["measure"] = "PSNR (dB) of the fine renders of held-out views vs our renderer"
        return metrics

    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        renders = getattr(self, "_renders", None) or {
            m.name: self.render_test(m) for m in self.models
        }
        rows = [self.test_images[:4]] + [images[:4] for images in renders.values()]
        names = " / ".join(["truth", *renders])
        path = save_image_grid(
            torch.cat(rows),
            Path(out_dir) / "samples.png",
            title=f"held-out views\nrows: {names}",
            nrow=len(rows[0]),
        )
        return [path]


def make_experiment(
    ctx, encoding: str | None = None, compare: bool | None = None
) -> NeRFExperiment:
    from cheatsheet.implicit.scene import make_views

    defaults = {"encoding": encoding or "positional", "compare": bool(compare)}
    config = ctx.settings(NeRFConfig, "nerf", **defaults)
    encoding, compare = config.encoding, config.compare
    size = config.size
    train_views, test_views = config.views, config.test_views
    cameras, images = make_views(train_views + test_views, size, ctx.seed, ctx.device)
    # every (train_views + test_views)/test_views-th camera is held out: spread over the orbit
    held = set(range(0, len(cameras), max(1, len(cameras) // test_views))[:test_views])
    train = [i for i in range(len(cameras)) if i not in held]
    test = sorted(held)
    models = [make_nerf(encoding, ctx.device, config.lr, ctx.seed)]
    if compare:
        baseline = "positional" if encoding != "positional" else "hashgrid"
        models.append(make_nerf(baseline, ctx.device, None, ctx.seed))
    return NeRFExperiment(
        ctx=ctx,
        models=models,
        train_cameras=[cameras[i] for i in train],
        train_images=images[train],
        test_cameras=[cameras[i] for i in test],
        test_images=images[test],
        batch_rays=config.batch_rays,
        n_coarse=config.n_coarse,
        n_fine=config.n_fine,
    )


def make_hashgrid_experiment(ctx) -> NeRFExperiment:
    """The Instant-NGP encoding, trained side by side with the positional encoding."""
    return make_experiment(ctx, encoding="hashgrid", compare=True)
