"""3D Gaussian Splatting for real-time radiance field rendering.

Kerbl, Kopanas, Leimkuehler, Drettakis, SIGGRAPH 2023.

The scene is a set of 3D Gaussians, each with a mean mu, a covariance Sigma, an opacity o and a
colour (the degree-0 spherical-harmonic coefficient; higher degrees are left out for the tiny
scene, whose colours do not depend on the view). Method, in the paper's order:
1. Covariance from scale and rotation (sec. 4): Sigma = R S S^T R^T with S = diag(exp(s)) and R
   from a normalised quaternion q (formula covariance-from-scale-rotation), so gradient descent
   on (s, q) always gives a valid (positive definite) covariance.
2. Projection ("splatting", sec. 4, after EWA splatting, Zwicker et al. 2001): camera-space mean
   t = W mu + w, image mean mu' = (f t_x / t_z + c_x, f t_y / t_z + c_y) and
       Sigma' = J W Sigma W^T J^T                          (formula splat-covariance-2d)
   with J the Jacobian of the perspective projection at t (formula splat-projection-jacobian).
   As in the reference rasteriser, 0.3 px^2 is added to the diagonal (a low-pass filter that
   keeps every splat at least about a pixel wide).
3. Rasterisation (sec. 6): per pixel x, the Gaussians sorted front to back by depth t_z,
       alpha_i = min(0.99, o_i exp(-1/2 (x - mu'_i)^T Sigma'^-1_i (x - mu'_i)))  (splat-opacity)
   (alpha < 1/255 is skipped), then composited exactly like NeRF (nerf-weights):
       C = sum_i c_i alpha_i prod_{j<i} (1 - alpha_j) + T_final * background.
   The reference does this per 16x16 tile in CUDA; here one vectorised torch expression over
   all (pixel, Gaussian) pairs, which is exact for the tiny images and differentiable by autograd.
4. Optimisation (sec. 5): one view per step, loss (1 - lambda) L1 + lambda D-SSIM, lambda = 0.2;
   Adam with the paper's per-parameter learning rates (position lr decayed exponentially).
5. Adaptive density control (sec. 5.2): every `densify_every` steps, Gaussians whose average
   view-space positional gradient exceeds a threshold are densified: small ones (max scale <=
   percent_dense * scene extent) are cloned (under-reconstruction), large ones are split into two
   samples drawn from the Gaussian with scales divided by 1.6 (over-reconstruction); Gaussians
   with opacity < 0.005 are pruned; opacities are reset to 0.01 periodically. The Adam state
   follows the surgery (new Gaussians start with zero moments). N is whatever the checkpoint
   holds: loading one resizes a fresh model to it, so --resume works after densification.
Metric: PSNR on held-out views of the analytic scene (scene.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.implicit.scene import BACKGROUND, Camera
from cheatsheet.runs.config import param


@dataclass
class SplattingConfig:
    size: int = param(32, "image side in pixels")
    views: int = param(24, "training views")
    test_views: int = param(4, "held-out views for the PSNR")
    initial: int = param(300, "Gaussians in the random initial cloud")
    position_lr: float = param(4e-3, "Adam learning rate of the means (others scale from it)")
    densify_every: int = param(50, "steps between clone/split/prune")
    opacity_reset_every: int = param(0, "steps between opacity resets (0: never)")
    densify_until: int | None = param(None, "last step of densification (None: 70% of --steps)")
    grad_threshold: float = param(1e-4, "view-space gradient norm that triggers clone/split")
    percent_dense: float = param(0.05, "size (share of the scene extent): clone below, split above")
    max_gaussians: int = param(3000, "cap on the number of Gaussians")


SH_C0 = 0.28209479177387814  # the degree-0 real spherical harmonic, 1 / (2 sqrt(pi))

# --------------------------------------------------------------------------------------------
# 1.-2. Covariance and projection


def quaternion_to_rotation(q: torch.Tensor) -> torch.Tensor:
    """Unit quaternion (w, x, y, z) [..., 4] -> rotation matrix [..., 3, 3]."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def covariance_from_scale_rotation(scale: torch.Tensor, quaternion: torch.Tensor) -> torch.Tensor:
    """Sigma = R S S^T R^T (formula covariance-from-scale-rotation); scale [..., 3] (not log)."""
    M = quaternion_to_rotation(quaternion) * scale[..., None, :]  # R S
    return M @ M.transpose(-1, -2)


def projection_jacobian(t: torch.Tensor, focal: float) -> torch.Tensor:
    """J = [[f/t_z, 0, -f t_x/t_z^2], [0, f/t_z, -f t_y/t_z^2]] (splat-projection-jacobian)."""
    x, y, z = t.unbind(-1)
    zero = torch.zeros_like(z)
    return torch.stack(
        [
            torch.stack([focal / z, zero, -focal * x / z**2], -1),
            torch.stack([zero, focal / z, -focal * y / z**2], -1),
        ],
        -2,
    )


@dataclass
class Projected:
    means: torch.Tensor  # [N, 2] pixel coordinates
    covariances: torch.Tensor  # [N, 2, 2] (without the low-pass dilation)
    depths: torch.Tensor  # [N] camera-space z


def project_gaussians(means: torch.Tensor, cov3d: torch.Tensor, camera: Camera) -> Projected:
    """mu' and Sigma' = J W Sigma W^T J^T (formula splat-covariance-2d) with W the camera's
    world -> camera rotation."""
    W = camera.rotation
    t = means @ W.T + camera.translation
    mean2d = torch.stack(
        [
            camera.focal * t[:, 0] / t[:, 2] + camera.width / 2,
            camera.focal * t[:, 1] / t[:, 2] + camera.height / 2,
        ],
        -1,
    )
    JW = projection_jacobian(t, camera.focal) @ W  # [N, 2, 3]
    cov2d = JW @ cov3d @ JW.transpose(-1, -2)
    return Projected(mean2d, cov2d, t[:, 2])


# --------------------------------------------------------------------------------------------
# 3. Rasterisation


def rasterise(
    projected: Projected,
    colors: torch.Tensor,
    opacities: torch.Tensor,
    height: int,
    width: int,
    background: float = BACKGROUND,
    dilation: float = 0.3,
    near: float = 0.2,
) -> torch.Tensor:
    """Depth-sorted alpha compositing of the splats at every pixel centre -> image [3, H, W]."""
    device = colors.device
    order = torch.argsort(projected.depths)  # front to back
    mean2d = projected.means[order]
    cov2d = projected.covariances[order] + dilation * torch.eye(2, device=device)
    color, opacity, depth = colors[order], opacities[order], projected.depths[order]
    # inverse of the 2x2 covariances in closed form (the conic of the reference code)
    a, b, c = cov2d[:, 0, 0], cov2d[:, 0, 1], cov2d[:, 1, 1]
    det = a * c - b * b
    conic = torch.stack([c / det, -b / det, a / det], -1)  # [N, 3]
    i, j = torch.meshgrid(
        torch.arange(height, device=device, dtype=torch.float32),
        torch.arange(width, device=device, dtype=torch.float32),
        indexing="ij",
    )
    pixels = torch.stack([j + 0.5, i + 0.5], -1).reshape(-1, 2)  # [P, 2] as (u, v)
    d = pixels[:, None, :] - mean2d[None]  # [P, N, 2]
    power = (
        -0.5 * (conic[:, 0] * d[..., 0] ** 2 + conic[:, 2] * d[..., 1] ** 2)
        - conic[:, 1] * d[..., 0] * d[..., 1]
    )
    alpha = (opacity * torch.exp(power)).clamp(max=0.99)  # formula splat-opacity
    visible = (depth > near) & (det > 0)
    alpha = torch.where((alpha >= 1 / 255) & visible, alpha, torch.zeros_like(alpha))
    # T_i = prod_{j<i} (1 - alpha_j), an exclusive cumulative product over the sorted splats
    survive = torch.cumprod(1 - alpha, dim=-1)
    T = torch.cat([torch.ones_like(survive[:, :1]), survive[:, :-1]], -1)
    image = (T * alpha) @ color + survive[:, -1:] * background  # [P, 3]
    return image.T.reshape(3, height, width)


# --------------------------------------------------------------------------------------------
# The model


class GaussianModel(nn.Module):
    """Parameters of N Gaussians (the paper's activations: exp scale, normalised quaternion,
    sigmoid opacity, colour = 0.5 + C0 * f_dc)."""

    def __init__(
        self, means: torch.Tensor, log_scales: torch.Tensor, colors: torch.Tensor | None = None
    ):
        super().__init__()
        n = len(means)
        quats = torch.zeros(n, 4, device=means.device)
        quats[:, 0] = 1
        self.means = nn.Parameter(means.clone())
        self.log_scales = nn.Parameter(log_scales.clone())
        self.quaternions = nn.Parameter(quats)
        self.opacity_logits = nn.Parameter(torch.logit(torch.full((n,), 0.1, device=means.device)))
        dc = torch.zeros(n, 3, device=means.device) if colors is None else (colors - 0.5) / SH_C0
        self.features_dc = nn.Parameter(dc)

    @property
    def count(self) -> int:
        return len(self.means)

    def colors(self) -> torch.Tensor:
        return (0.5 + SH_C0 * self.features_dc).clamp(min=0)

    def opacities(self) -> torch.Tensor:
        return torch.sigmoid(self.opacity_logits)

    def covariances(self) -> torch.Tensor:
        return covariance_from_scale_rotation(torch.exp(self.log_scales), self.quaternions)

    def render(self, camera: Camera) -> tuple[torch.Tensor, Projected]:
        projected = project_gaussians(self.means, self.covariances(), camera)
        image = rasterise(projected, self.colors(), self.opacities(), camera.height, camera.width)
        return image, projected

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # Density control changes N, so a checkpoint (--resume) may hold more or fewer Gaussians
        # than a freshly built model: take its count. Only `.data` is swapped, so the Parameter
        # objects, and the optimizer's references to them, stay the same, and the optimizer's
        # saved moments (which have the checkpoint's shapes) load onto them afterwards.
        for name in PARAMETER_NAMES:
            saved = state_dict.get(prefix + name)
            parameter = getattr(self, name)
            if (
                saved is not None
                and saved.shape != parameter.shape
                and saved.shape[1:] == parameter.shape[1:]  # other mismatches: torch's error
            ):
                parameter.data = parameter.new_empty(saved.shape)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


PARAMETER_NAMES = ("means", "log_scales", "quaternions", "opacity_logits", "features_dc")


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004) with a Gaussian window, images [3, H, W] in [0, 1]."""
    coords = torch.arange(window, device=x.device, dtype=x.dtype) - window // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    kernel = (g[:, None] * g[None, :]).expand(3, 1, window, window)

    def blur(image: torch.Tensor) -> torch.Tensor:
        return F.conv2d(image[None], kernel, padding=window // 2, groups=3)[0]

    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y = blur(x * x) - mu_x**2, blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    value = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return value.mean()


def splatting_loss(image: torch.Tensor, target: torch.Tensor, lam: float = 0.2) -> torch.Tensor:
    """(1 - lambda) L1 + lambda (1 - SSIM) (paper eq. 7)."""
    return (1 - lam) * (image - target).abs().mean() + lam * (1 - ssim(image, target))


# --------------------------------------------------------------------------------------------
# 5. Adaptive density control, with the optimizer state kept in step


def _edit_parameters(
    model: GaussianModel,
    optimizer: torch.optim.Optimizer,
    keep: torch.Tensor,
    new: dict[str, torch.Tensor],
) -> None:
    """Keep the rows `keep` (bool [N]) of every parameter and append the rows `new[name]`;
    Adam's moments are indexed the same way, zero for the new rows."""
    for group in optimizer.param_groups:
        name = group["name"]
        old = group["params"][0]
        extra = new[name]
        value = torch.cat([old.detach()[keep], extra.detach()])
        parameter = nn.Parameter(value)
        state = optimizer.state.pop(old, None)
        if state:
            for key in ("exp_avg", "exp_avg_sq"):
                state[key] = torch.cat([state[key][keep], torch.zeros_like(extra)])
            optimizer.state[parameter] = state
        group["params"][0] = parameter
        setattr(model, name, parameter)


@dataclass
class DensityControl:
    grad_threshold: float = 1e-4  # average ||d loss / d mu'|| (pixels) per view seen
    percent_dense: float = 0.01
    min_opacity: float = 0.005
    extent: float = 1.0
    max_gaussians: int = 4000
    grad_accum: torch.Tensor | None = None
    seen: torch.Tensor | None = None

    def reset(self, n: int, device) -> None:
        self.grad_accum = torch.zeros(n, device=device)
        self.seen = torch.zeros(n, device=device)

    def accumulate(self, mean2d_grad: torch.Tensor, visible: torch.Tensor) -> None:
        self.grad_accum += mean2d_grad.norm(dim=-1) * visible
        self.seen += visible.float()

    def densify_and_prune(
        self, model: GaussianModel, optimizer: torch.optim.Optimizer
    ) -> dict[str, int]:
        device = model.means.device
        average = self.grad_accum / self.seen.clamp(min=1)
        big_gradient = average >= self.grad_threshold
        room = self.max_gaussians - model.count
        if big_gradient.sum() > max(room, 0):  # keep the largest gradients within the budget
            cutoff = average.topk(max(room, 0) + 1).values[-1] if room > 0 else float("inf")
            big_gradient &= average > cutoff
        scales = torch.exp(model.log_scales.detach())
        large = scales.max(-1).values > self.percent_dense * self.extent
        clone, split = big_gradient & ~large, big_gradient & large
        with torch.no_grad():
            # clone: an exact copy; the gradient step then moves the two apart
            cloned = {name: getattr(model, name)[clone] for name in PARAMETER_NAMES}
            # split: two samples from N(mu, Sigma), scales / (0.8 * 2)
            rotation = quaternion_to_rotation(model.quaternions[split])
            samples = torch.randn(2, int(split.sum()), 3, device=device) * scales[split]
            offsets = (rotation[None] @ samples[..., None]).squeeze(-1)
            split_new = {
                "means": (model.means[split][None] + offsets).reshape(-1, 3),
                "log_scales": (model.log_scales[split] - math.log(1.6)).repeat(2, 1),
                "quaternions": model.quaternions[split].repeat(2, 1),
                "opacity_logits": model.opacity_logits[split].repeat(2),
                "features_dc": model.features_dc[split].repeat(2, 1),
            }
            too_transparent = model.opacities() < self.min_opacity
        keep = ~split & ~too_transparent
        new = {name: torch.cat([cloned[name], split_new[name]]) for name in PARAMETER_NAMES}
        _edit_parameters(model, optimizer, keep, new)
        self.reset(model.count, device)
        return {
            "cloned": int(clone.sum()),
            "split": int(split.sum()),
            "pruned": int((~keep).sum() - split.sum()),
        }


def reset_opacity(
    model: GaussianModel, optimizer: torch.optim.Optimizer, value: float = 0.01
) -> None:
    with torch.no_grad():
        new_logits = torch.logit(model.opacities().clamp(max=value))
    keep = torch.ones(model.count, dtype=torch.bool, device=new_logits.device)
    for group in optimizer.param_groups:
        if group["name"] == "opacity_logits":
            group["params"][0].data.copy_(new_logits)
            state = optimizer.state.get(group["params"][0])
            if state:
                state["exp_avg"].zero_()
                state["exp_avg_sq"].zero_()
    del keep


def make_optimizer(model: GaussianModel, position_lr: float) -> torch.optim.Optimizer:
    """The paper's per-parameter learning rates (position lr scaled by the scene extent)."""
    rates = {
        "means": position_lr,
        "log_scales": 5e-3,
        "quaternions": 1e-3,
        "opacity_logits": 5e-2,
        "features_dc": 2.5e-3 * 4,  # colours move faster in the short budget
    }
    groups = [
        {"params": [getattr(model, name)], "lr": rate, "name": name} for name, rate in rates.items()
    ]
    return torch.optim.Adam(groups, lr=0.0, eps=1e-15)


def random_initialisation(
    count: int, bound: float, device, generator: torch.Generator
) -> GaussianModel:
    """Random points in the box ("initialise the point cloud randomly"), scales from the mean
    distance to the 3 nearest neighbours (as the reference code does for SfM points)."""
    means = (torch.rand(count, 3, generator=generator) * 2 - 1) * bound
    distances = torch.cdist(means, means) + torch.eye(count) * 1e9
    nearest = distances.topk(3, largest=False).values.mean(-1)
    log_scales = torch.log(nearest)[:, None].expand(-1, 3)
    colors = torch.rand(count, 3, generator=generator)
    return GaussianModel(means.to(device), log_scales.to(device), colors.to(device))


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class SplattingExperiment:
    ctx: Any
    model: GaussianModel
    optimizer: torch.optim.Optimizer
    control: DensityControl
    train_cameras: list[Camera]
    train_images: torch.Tensor
    test_cameras: list[Camera]
    test_images: torch.Tensor
    position_lr: float
    densify_every: int = 50
    densify_until: int = 0
    opacity_reset_every: int = 0
    events: dict[str, int] = field(default_factory=lambda: {"cloned": 0, "split": 0, "pruned": 0})
    counts: list[int] = field(default_factory=list)

    def modules(self) -> dict[str, nn.Module]:
        return {"gaussians": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"gaussians": self.optimizer}

    def state_dict(self) -> dict[str, Any]:
        """What --resume needs beyond the Gaussians and Adam (which the harness saves): the
        view-space gradient statistics gathered since the last densification, and the tallies
        for metrics.json."""
        return {
            "grad_accum": self.control.grad_accum,
            "seen": self.control.seen,
            "events": dict(self.events),
            "counts": torch.tensor(self.counts, dtype=torch.int64),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # The harness has already loaded the Gaussians, so model.count is the checkpoint's.
        from cheatsheet.errors import CheatsheetError

        device = self.model.means.device
        if len(state["grad_accum"]) != self.model.count:
            raise CheatsheetError(
                f"checkpoint's gradient statistics cover {len(state['grad_accum'])} Gaussians "
                f"but its model has {self.model.count}"
            )
        self.control.grad_accum = state["grad_accum"].to(device)
        self.control.seen = state["seen"].to(device)
        self.events = {key: int(value) for key, value in state["events"].items()}
        self.counts = [int(v) for v in state["counts"].tolist()]

    def train_step(self, step: int) -> dict[str, float]:
        # exponential decay of the position lr to 1/100 over the run (the paper's schedule)
        progress = step / max(1, self.ctx.steps - 1)
        for group in self.optimizer.param_groups:
            if group["name"] == "means":
                group["lr"] = self.position_lr * (0.01**progress)
        view = int(torch.randint(0, len(self.train_cameras), ()))
        image, projected = self.model.render(self.train_cameras[view])
        projected.means.retain_grad()
        loss = splatting_loss(image, self.train_images[view])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if len(self.control.grad_accum) != self.model.count:
            # a checkpoint written before the statistics were saved: gather them afresh
            self.control.reset(self.model.count, self.model.means.device)
        if step < self.densify_until:
            visible = (projected.depths > 0.2).float().detach()
            self.control.accumulate(projected.means.grad.detach(), visible)
            if (step + 1) % self.densify_every == 0:
                for key, value in self.control.densify_and_prune(
                    self.model, self.optimizer
                ).items():
                    self.events[key] += value
            if self.opacity_reset_every and (step + 1) % self.opacity_reset_every == 0:
                reset_opacity(self.model, self.optimizer)
        self.counts.append(self.model.count)
        return {"loss": loss.item(), "gaussians": float(self.model.count)}

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        from cheatsheet.implicit.nerf import psnr

        self._renders = torch.stack([self.model.render(c)[0] for c in self.test_cameras]).clamp(
            0, 1
        )
        train = torch.stack([self.model.render(c)[0] for c in self.train_cameras[:8]]).clamp(0, 1)
        values = [psnr(p, t) for p, t in zip(self._renders, self.test_images)]
        mean_image = self.train_images.mean(0, keepdim=True).expand_as(self.test_images)
        return {
            "psnr_test": sum(values) / len(values),
            "psnr_train": psnr(train, self.train_images[:8]),
            "psnr_test_mean_image_baseline": psnr(mean_image, self.test_images),
            "gaussians": self.model.count,
            "gaussians_initial": self.counts[0] if self.counts else self.model.count,
            "density_control": dict(self.events),
            "measure": "PSNR (dB) of held-out views vs our renderer of the analytic scene",
        }

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.runs.figures import save_image_grid

        renders = getattr(self, "_renders", None)
        if renders is None:
            renders = torch.stack([self.model.render(c)[0] for c in self.test_cameras]).clamp(0, 1)
        grid = torch.cat([self.test_images[:4], renders[:4]])
        return [
            save_image_grid(
                grid,
                Path(out_dir) / "samples.png",
                title="held-out views\nrows: truth / splats",
                nrow=len(self.test_images[:4]),
            )
        ]


def make_experiment(ctx) -> SplattingExperiment:
    from cheatsheet.implicit.scene import make_views

    config = ctx.settings(SplattingConfig, "gaussian-splatting")
    size = config.size
    train_views, test_views = config.views, config.test_views
    cameras, images = make_views(train_views + test_views, size, ctx.seed, ctx.device)
    held = set(range(0, len(cameras), max(1, len(cameras) // test_views))[:test_views])
    train = [i for i in range(len(cameras)) if i not in held]
    test = sorted(held)
    generator = torch.Generator().manual_seed(ctx.seed)
    model = random_initialisation(config.initial, 0.8, ctx.device, generator)
    position_lr = config.position_lr
    extent = 1.0  # the scene lies in the unit ball
    return SplattingExperiment(
        ctx=ctx,
        model=model,
        optimizer=make_optimizer(model, position_lr),
        control=_control(config, extent, model.count, ctx.device),
        train_cameras=[cameras[i] for i in train],
        train_images=images[train],
        test_cameras=[cameras[i] for i in test],
        test_images=images[test],
        position_lr=position_lr,
        densify_every=config.densify_every,
        densify_until=config.densify_until
        if config.densify_until is not None
        else int(0.7 * ctx.steps),
        opacity_reset_every=config.opacity_reset_every,
    )


def _control(config: SplattingConfig, extent: float, count: int, device) -> DensityControl:
    control = DensityControl(
        grad_threshold=config.grad_threshold,
        percent_dense=config.percent_dense,
        extent=extent,
        max_gaussians=config.max_gaussians,
    )
    control.reset(count, device)
    return control
