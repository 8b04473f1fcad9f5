"""Optimisation-based fitting of the body model to 2D joints, after SMPLify.

Bogo, Kanazawa, Lassner, Gehler, Romero, Black, "Keep it SMPL", ECCV 2016 (sheet 9.3.1:
"predict 2D joint locations, fit SMPL to them by argmin with prior regularisation").

Given 2D joints x_j (here: the projections of a hidden ground-truth body, plus pixel noise) and a
known pinhole camera Pi, minimise over pose theta, shape beta and translation gamma
    E = E_J + lambda_theta E_theta + lambda_a E_a + lambda_beta E_beta
- E_J = sum_j rho(Pi(J(theta, beta) + gamma)_j - x_j): the reprojection term, rho the
  Geman-McClure robustifier rho(e) = sigma^2 e^2 / (sigma^2 + e^2) (per coordinate, pixels);
- E_theta: the pose prior, a Gaussian mixture fitted (sklearn) to plausible poses; like SMPLify,
  the mixture's negative log-likelihood is approximated by the best component,
  min_k (-log(g_k N(theta; mu_k, Sigma_k)));
- E_a = sum_i exp(+-theta_i) over the elbow and knee bend angles: penalises bending the wrong way;
- E_beta = ||beta||^2 (beta is in standard deviations of the shape space).
Stages as in SMPLify: first the global orientation and translation on the torso joints, then
everything with the prior weights decreasing stage by stage (Adam here, the paper used Powell's
dogleg). Reported: mean 2D reprojection error (pixels) before and after, and the 3D joint error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cheatsheet.body import skeleton
from cheatsheet.body.smpl import SMPL, sample_poses
from cheatsheet.runs.config import param


@dataclass
class FitConfig:
    bodies: int = param(200, "procedural bodies the PCA shape space is learned from")
    betas: int = param(8, "shape coefficients (PCA components)")
    components: int = param(4, "Gaussians of the pose prior (GMM)")
    subjects: int = param(4, "posed subjects to fit")
    noise_px: float = param(2.0, "noise on the 2D target joints (pixels)")
    lr: float = param(0.02, "Adam learning rate")


TORSO = [
    skeleton.JOINT_NAMES.index(n)
    for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "pelvis", "spine")
]


@dataclass
class PinholeCamera:
    """x_c = R (x - C) with R = diag(1, -1, -1) (y up in the world, rows down in the image,
    the camera looking along -z from C); u = f x_c / z_c + size / 2."""

    focal: float = 300.0
    size: int = 256
    center: tuple[float, float, float] = (0.0, 0.9, 3.5)

    def to_camera(self, x: torch.Tensor) -> torch.Tensor:
        c = torch.as_tensor(self.center, dtype=x.dtype, device=x.device)
        d = x - c
        return torch.stack([d[..., 0], -d[..., 1], -d[..., 2]], -1)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        xc = self.to_camera(x)
        return self.focal * xc[..., :2] / xc[..., 2:3] + self.size / 2


def geman_mcclure(residual: torch.Tensor, sigma: float = 100.0) -> torch.Tensor:
    squared = residual**2
    return sigma**2 * squared / (sigma**2 + squared)


class GaussianMixturePrior(nn.Module):
    """min_k (-log g_k - log N(theta_body; mu_k, Sigma_k)) over the 45 non-root pose values."""

    def __init__(self, means, precisions_cholesky, log_weights, log_dets):
        super().__init__()
        self.register_buffer("means", torch.as_tensor(means, dtype=torch.float32))
        self.register_buffer("prec_chol", torch.as_tensor(precisions_cholesky, dtype=torch.float32))
        self.register_buffer("log_weights", torch.as_tensor(log_weights, dtype=torch.float32))
        self.register_buffer("log_dets", torch.as_tensor(log_dets, dtype=torch.float32))

    @classmethod
    def fit(cls, samples: np.ndarray, components: int = 4, seed: int = 0) -> GaussianMixturePrior:
        from sklearn.mixture import GaussianMixture

        gmm = GaussianMixture(
            components, covariance_type="full", reg_covar=1e-3, random_state=seed
        ).fit(samples)
        # log|Sigma_k|^{-1/2} = sum log diag(precision Cholesky factor)
        half_log_det_precision = np.log(
            np.diagonal(gmm.precisions_cholesky_, axis1=1, axis2=2)
        ).sum(1)
        return cls(
            gmm.means_, gmm.precisions_cholesky_, np.log(gmm.weights_), half_log_det_precision
        )

    def forward(self, theta_body: torch.Tensor) -> torch.Tensor:
        """theta_body [..., 45] -> energy [...]."""
        d = theta_body[..., None, :] - self.means  # [..., C, D]
        z = torch.einsum("...cd,cde->...ce", d, self.prec_chol)  # whitened
        dim = self.means.shape[-1]
        nll = (
            0.5 * z.pow(2).sum(-1)
            - self.log_dets
            + 0.5 * dim * math.log(2 * math.pi)
            - self.log_weights
        )
        return nll.min(-1).values


BEND_JOINTS = {  # (joint, axis, sign): the natural bend has sign * theta > 0
    "left_elbow": (1, -1.0),
    "right_elbow": (1, 1.0),
    "left_knee": (0, 1.0),
    "right_knee": (0, 1.0),
}


def angle_prior(theta: torch.Tensor) -> torch.Tensor:
    """sum exp(-sign * theta) over the bend angles: grows fast when a joint bends backwards."""
    terms = [
        torch.exp(-sign * theta[..., skeleton.JOINT_NAMES.index(name), axis])
        for name, (axis, sign) in BEND_JOINTS.items()
    ]
    return torch.stack(terms, -1).sum(-1)


class FitParameters(nn.Module):
    def __init__(self, batch: int, num_joints: int, num_betas: int):
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(batch, num_joints, 3))
        self.beta = nn.Parameter(torch.zeros(batch, num_betas))
        self.translation = nn.Parameter(torch.zeros(batch, 3))


@dataclass
class Targets:
    joints_2d: torch.Tensor  # [N, K, 2] noisy observations
    joints_3d: torch.Tensor  # [N, K, 3] the hidden truth
    theta: torch.Tensor
    beta: torch.Tensor
    vertices: torch.Tensor


def make_targets(
    model: SMPL, camera: PinholeCamera, count: int, noise_px: float = 2.0, seed: int = 0
) -> Targets:
    rng = np.random.default_rng(seed)
    theta = torch.as_tensor(sample_poses(count, rng, root=True), dtype=torch.float32)
    beta = torch.as_tensor(rng.normal(size=(count, model.num_betas)), dtype=torch.float32).clamp(
        -2, 2
    )
    translation = torch.as_tensor(rng.uniform(-0.2, 0.2, size=(count, 3)), dtype=torch.float32)
    device = model.template.device
    theta, beta, translation = theta.to(device), beta.to(device), translation.to(device)
    with torch.no_grad():
        out = model(beta, theta, translation)
        generator = torch.Generator().manual_seed(seed)
        noise = noise_px * torch.randn(out.joints.shape[:-1] + (2,), generator=generator).to(device)
        joints_2d = camera.project(out.joints) + noise
    return Targets(joints_2d, out.joints, theta, beta, out.vertices)


@dataclass
class FitWeights:
    pose: float
    angle: float
    shape: float
    torso_only: bool = False


# SMPLify's schedule: orientation/translation first, then decreasing prior weights
STAGES = (
    FitWeights(pose=0.0, angle=0.0, shape=0.0, torso_only=True),
    FitWeights(pose=4.0, angle=20.0, shape=10.0),
    FitWeights(pose=1.0, angle=5.0, shape=3.0),
    FitWeights(pose=0.3, angle=1.5, shape=1.0),
)


def fit_energy(
    model: SMPL,
    prior: GaussianMixturePrior,
    camera: PinholeCamera,
    params: FitParameters,
    targets: torch.Tensor,
    weights: FitWeights,
) -> tuple[torch.Tensor, dict[str, float]]:
    out = model(params.beta, params.theta, params.translation)
    residual = camera.project(out.joints) - targets
    if weights.torso_only:
        residual = residual[:, TORSO]
    data = geman_mcclure(residual).sum((-1, -2))
    pose = prior(params.theta[:, 1:].flatten(1))
    energy = (
        data
        + weights.pose**2 * pose
        + weights.angle**2 * angle_prior(params.theta)
        + weights.shape**2 * params.beta.pow(2).sum(-1)
    )
    return energy.sum(), {"reprojection": residual.detach().norm(dim=-1).mean().item()}


def reprojection_error(
    model: SMPL, camera: PinholeCamera, params: FitParameters, targets: torch.Tensor
) -> float:
    """Mean distance (pixels) between the fitted joints' projections and the 2D joints."""
    with torch.no_grad():
        out = model(params.beta, params.theta, params.translation)
        return float((camera.project(out.joints) - targets).norm(dim=-1).mean())


@dataclass
class FitExperiment:
    ctx: Any
    model: SMPL
    prior: GaussianMixturePrior
    camera: PinholeCamera
    targets: Targets
    params: FitParameters
    optimizer: torch.optim.Optimizer
    initial_error: float
    history: list[float] = field(default_factory=list)

    def modules(self) -> dict[str, nn.Module]:
        return {"fit": self.params}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"fit": self.optimizer}

    def stage(self, step: int) -> FitWeights:
        fraction = step / max(1, self.ctx.steps)
        return STAGES[min(len(STAGES) - 1, int(fraction * len(STAGES)))]

    def train_step(self, step: int) -> dict[str, float]:
        weights = self.stage(step)
        energy, parts = fit_energy(
            self.model, self.prior, self.camera, self.params, self.targets.joints_2d, weights
        )
        self.optimizer.zero_grad(set_to_none=True)
        energy.backward()
        if weights.torso_only:  # stage 1: only the global orientation and the translation move
            self.params.theta.grad[:, 1:] = 0
            self.params.beta.grad.zero_()
        self.optimizer.step()
        return {"loss": energy.item() / len(self.targets.joints_2d), **parts}

    def evaluate(self) -> dict[str, Any]:
        final = reprojection_error(self.model, self.camera, self.params, self.targets.joints_2d)
        with torch.no_grad():
            out = self.model(self.params.beta, self.params.theta, self.params.translation)
            relative = lambda j: j - j[:, :1]  # noqa: E731 (root-relative, as MPJPE is reported)
            mpjpe = (relative(out.joints) - relative(self.targets.joints_3d)).norm(dim=-1).mean()
            truth_error = (
                (self.camera.project(self.targets.joints_3d) - self.targets.joints_2d)
                .norm(dim=-1)
                .mean()
            )
        self._fitted = out
        return {
            "reprojection_error_px": final,
            "reprojection_error_initial_px": self.initial_error,
            "reprojection_error_of_truth_px": float(truth_error),
            "mpjpe_root_relative_mm": float(mpjpe) * 1000,
            "subjects": len(self.targets.joints_2d),
            "measure": "mean 2D joint reprojection error (pixels, 256 px image) of the fit",
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.body.render import save_body_figure

        with torch.no_grad():
            out = getattr(self, "_fitted", None) or self.model(
                self.params.beta, self.params.theta, self.params.translation
            )
            rest = self.model(
                torch.zeros_like(self.params.beta[:1]), torch.zeros_like(self.params.theta[:1])
            )
        faces = self.model.faces.cpu().numpy()
        cpu = lambda t: t.detach().cpu().numpy()  # noqa: E731
        fitted_vertices = out.vertices[0]
        panel = {
            "vertices_2d": cpu(self.camera.project(fitted_vertices)),
            "depth": cpu(self.camera.to_camera(fitted_vertices)[:, 2]),
            "vertices_3d": cpu(fitted_vertices),
            "target_2d": cpu(self.targets.joints_2d[0]),
            "fitted_2d": cpu(self.camera.project(out.joints[0])),
            "size": self.camera.size,
            "title": "fit in the image (subject 0)",
        }
        return [
            save_body_figure(
                Path(out_dir) / "samples.png",
                [
                    ("template (beta=0, theta=0)", cpu(rest.vertices[0]), cpu(rest.joints[0])),
                    ("hidden truth", cpu(self.targets.vertices[0]), cpu(self.targets.joints_3d[0])),
                    ("fitted", cpu(fitted_vertices), cpu(out.joints[0])),
                ],
                faces,
                panel,
            )
        ]


def make_experiment(ctx) -> FitExperiment:
    from cheatsheet.body.smpl import build_smpl

    config = ctx.settings(FitConfig, "smpl-fit")
    model = build_smpl(config.bodies, config.betas, seed=ctx.seed).to(ctx.device)
    prior_samples = sample_poses(3000, np.random.default_rng(ctx.seed + 7))[:, 1:].reshape(3000, -1)
    prior = GaussianMixturePrior.fit(prior_samples, config.components, ctx.seed).to(ctx.device)
    camera = PinholeCamera()
    targets = make_targets(
        model,
        camera,
        config.subjects,
        config.noise_px,
        ctx.seed + 1,
    )
    params = FitParameters(len(targets.joints_2d), model.num_joints, model.num_betas).to(ctx.device)
    return FitExperiment(
        ctx=ctx,
        model=model,
        prior=prior,
        camera=camera,
        targets=targets,
        params=params,
        optimizer=torch.optim.Adam(params.parameters(), lr=config.lr),
        initial_error=reprojection_error(model, camera, params, targets.joints_2d),
    )
