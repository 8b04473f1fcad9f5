"""An SMPL-style body model learned from procedural bodies.

Loper, Mahmood, Romero, Pons-Moll, Black, "SMPL: a skinned multi-person linear model",
SIGGRAPH Asia 2015.

    t'_i = sum_k w_ki G_k(theta, J(beta)) (t_i + s_i(beta) + p_i(theta))      (formula smpl-model)

- Shape blend shapes (sec. 3, "shape deformation subspace"; formula pca-shape-space): the
  T-posed procedural bodies (skeleton.py) are vectorised, the mean mesh T-bar subtracted, and
  PCA keeps the first B principal directions S: T(beta) = T-bar + S beta, with S scaled so that
  beta has unit variance over the population (SMPL's betas are in standard deviations).
- Joints from shape (formula smpl-joint-regressor): J(beta) = regressor (T-bar + S beta), a fixed
  sparse linear map from vertices to joints.
- Pose blend shapes (sec. 3): p(theta) = sum_n (R_n(theta) - R_n(theta*)) P_n over the 9(K-1)
  entries of the non-root rotation matrices, which vanish in the rest pose theta* (R = I).
  SMPL learns P from registered scans in many poses; here the 'scans' are the bodies posed by
  dual-quaternion skinning (Kavan et al. 2007), which keeps volume where LBS collapses (the
  candy-wrapper artefact), and P is the ridge regression of the rest-pose residuals that make
  LBS reproduce them: (sum_k w_ki G_k)^{-1} v_i^DQS - T_i(beta).
- Pose: theta [K, 3] axis-angles (theta_0 the global orientation) plus a global translation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cheatsheet.body import skeleton
from cheatsheet.body.lbs import forward_kinematics, linear_blend_skinning, rodrigues


def pose_feature(rotations: torch.Tensor) -> torch.Tensor:
    """R_n(theta) - I for the non-root joints, flattened: [..., K, 3, 3] -> [..., 9 (K - 1)]."""
    eye = torch.eye(3, dtype=rotations.dtype, device=rotations.device)
    return (rotations[..., 1:, :, :] - eye).flatten(-3)


@dataclass
class SMPLOutput:
    vertices: torch.Tensor  # [..., V, 3]
    joints: torch.Tensor  # [..., K, 3] posed
    rest_joints: torch.Tensor  # [..., K, 3] J(beta)


class SMPL(nn.Module):
    """The model's arrays are buffers (learned offline in `build_smpl`, not trained here)."""

    def __init__(self, template, shape_dirs, pose_dirs, weights, regressor, parents, faces):
        super().__init__()
        f32 = dict(dtype=torch.float32)
        self.register_buffer("template", torch.as_tensor(template, **f32))  # [V, 3]
        self.register_buffer("shape_dirs", torch.as_tensor(shape_dirs, **f32))  # [V, 3, B]
        self.register_buffer("pose_dirs", torch.as_tensor(pose_dirs, **f32))  # [V, 3, 9(K-1)]
        self.register_buffer("weights", torch.as_tensor(weights, **f32))  # [K, V]
        self.register_buffer("regressor", torch.as_tensor(regressor, **f32))  # [K, V]
        self.register_buffer("faces", torch.as_tensor(faces, dtype=torch.long))
        self.parents = tuple(parents)

    @property
    def num_betas(self) -> int:
        return self.shape_dirs.shape[-1]

    @property
    def num_joints(self) -> int:
        return len(self.parents)

    def shaped(self, beta: torch.Tensor) -> torch.Tensor:
        """T-bar + S beta (formula pca-shape-space): [..., B] -> [..., V, 3]."""
        return self.template + torch.einsum("vcb,...b->...vc", self.shape_dirs, beta)

    def joints_from_shape(self, beta: torch.Tensor) -> torch.Tensor:
        """J(beta) = regressor (T-bar + S beta) (formula smpl-joint-regressor)."""
        return torch.einsum("kv,...vc->...kc", self.regressor, self.shaped(beta))

    def forward(
        self,
        beta: torch.Tensor,
        theta: torch.Tensor,
        translation: torch.Tensor | None = None,
        pose_correctives: bool = True,
    ) -> SMPLOutput:
        """beta [..., B], theta [..., K, 3] -> posed mesh (formula smpl-model)."""
        rest = self.shaped(beta)
        joints = torch.einsum("kv,...vc->...kc", self.regressor, rest)
        rotations = rodrigues(theta)
        if pose_correctives:
            rest = rest + torch.einsum("vcp,...p->...vc", self.pose_dirs, pose_feature(rotations))
        G, posed_joints = forward_kinematics(rotations, joints, self.parents)
        vertices = linear_blend_skinning(rest, self.weights, G)
        if translation is not None:
            vertices = vertices + translation[..., None, :]
            posed_joints = posed_joints + translation[..., None, :]
        return SMPLOutput(vertices, posed_joints, joints)


# --------------------------------------------------------------------------------------------
# Plausible poses (for the pose correctives, the pose prior and the fitting targets)

# per joint: (low, high) bounds of the axis-angle components, radians
POSE_RANGES = {
    "spine": [(-0.3, 0.5), (-0.3, 0.3), (-0.2, 0.2)],
    "neck": [(-0.3, 0.4), (-0.5, 0.5), (-0.2, 0.2)],
    "head": [(-0.2, 0.2), (-0.3, 0.3), (-0.1, 0.1)],
    "left_shoulder": [(-0.5, 0.5), (-0.6, 0.6), (-1.2, 0.4)],
    "right_shoulder": [(-0.5, 0.5), (-0.6, 0.6), (-0.4, 1.2)],
    "left_elbow": [(0, 0), (-1.8, 0), (0, 0)],
    "right_elbow": [(0, 0), (0, 1.8), (0, 0)],
    "left_hip": [(-1.0, 0.4), (-0.2, 0.2), (-0.1, 0.4)],
    "right_hip": [(-1.0, 0.4), (-0.2, 0.2), (-0.4, 0.1)],
    "left_knee": [(0, 1.6), (0, 0), (0, 0)],
    "right_knee": [(0, 1.6), (0, 0), (0, 0)],
}


def sample_poses(count: int, rng: np.random.Generator, root: bool = False) -> np.ndarray:
    """[count, K, 3] axis-angle poses, uniform within POSE_RANGES (others zero)."""
    theta = np.zeros((count, skeleton.NUM_JOINTS, 3))
    for name, ranges in POSE_RANGES.items():
        k = skeleton.JOINT_NAMES.index(name)
        for axis, (low, high) in enumerate(ranges):
            theta[:, k, axis] = rng.uniform(low, high, count)
    if root:
        theta[:, 0, 1] = rng.uniform(-0.8, 0.8, count)  # turn about the vertical axis
    return theta


# --------------------------------------------------------------------------------------------
# Dual-quaternion skinning: the 'scanned' posed bodies the pose correctives are learned from


def _quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        -1,
    )


def _matrix_to_quaternion(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrices [..., 3, 3] -> unit quaternions (w, x, y, z), w >= 0 (Shepperd-free
    formula, fine for the moderate rotations of plausible poses)."""
    w = torch.sqrt((1 + R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2]).clamp(min=1e-12)) / 2
    x = (R[..., 2, 1] - R[..., 1, 2]) / (4 * w)
    y = (R[..., 0, 2] - R[..., 2, 0]) / (4 * w)
    z = (R[..., 1, 0] - R[..., 0, 1]) / (4 * w)
    q = torch.stack([w, x, y, z], -1)
    return q / q.norm(dim=-1, keepdim=True)


def dual_quaternion_skinning(
    vertices: torch.Tensor, weights: torch.Tensor, G: torch.Tensor
) -> torch.Tensor:
    """Blend the bones' unit dual quaternions (q, 1/2 (0, t) q) with the skinning weights,
    normalise, and apply: a rigid motion per vertex, so no volume loss."""
    real = _matrix_to_quaternion(G[..., :3, :3])  # [K, 4]
    t = torch.cat([torch.zeros_like(G[..., :1, 3]), G[..., :3, 3]], -1)
    dual = 0.5 * _quat_mul(t, real)
    # the antipodality fix: all bones on the root's hemisphere
    sign = torch.where((real * real[..., :1, :]).sum(-1, keepdim=True) < 0, -1.0, 1.0)
    real, dual = real * sign, dual * sign
    b_real = torch.einsum("kv,...kq->...vq", weights, real)
    b_dual = torch.einsum("kv,...kq->...vq", weights, dual)
    norm = b_real.norm(dim=-1, keepdim=True)
    b_real, b_dual = b_real / norm, b_dual / norm
    w, xyz = b_real[..., :1], b_real[..., 1:]
    vertices = vertices.expand_as(xyz)
    # rotation of v by the unit quaternion, then translation 2 (dual * conj(real)).xyz
    rotated = vertices + 2 * torch.linalg.cross(
        xyz, torch.linalg.cross(xyz, vertices) + w * vertices
    )
    conj = b_real * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=b_real.dtype, device=b_real.device)
    translation = 2 * _quat_mul(b_dual, conj)[..., 1:]
    return rotated + translation


# --------------------------------------------------------------------------------------------
# Building the model


def procedural_bodies(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` T-posed procedural people: vertices [N, V, 3] and their true joints [N, K, 3]."""
    rng = np.random.default_rng(seed)
    meshes = [skeleton.build_mesh(skeleton.random_parameters(rng)) for _ in range(count)]
    return np.stack([m.vertices for m in meshes]), np.stack([m.joints for m in meshes])


def learn_shape_space(bodies: np.ndarray, num_betas: int) -> tuple[np.ndarray, np.ndarray]:
    """PCA of the vectorised bodies: (mean [V, 3], S [V, 3, B]) with S columns scaled by the
    population's standard deviation along each direction (beta ~ N(0, I))."""
    flat = bodies.reshape(len(bodies), -1)
    mean = flat.mean(0)
    _, singular, vt = np.linalg.svd(flat - mean, full_matrices=False)
    std = singular[:num_betas] / np.sqrt(len(bodies) - 1)
    S = vt[:num_betas].T * std  # [3V, B]
    return mean.reshape(-1, 3), S.reshape(-1, 3, num_betas)


def learn_pose_correctives(
    model: SMPL, poses: int = 300, ridge: float = 1e-2, seed: int = 0
) -> torch.Tensor:
    """P [V, 3, 9(K-1)] by ridge regression of the rest-pose residuals that turn LBS into DQS
    on the mean body in random plausible poses (a stand-in for SMPL's registered scans)."""
    rng = np.random.default_rng(seed)
    theta = torch.as_tensor(sample_poses(poses, rng), dtype=torch.float64)
    template = model.template.double()
    joints = model.regressor.double() @ template
    weights = model.weights.double()
    rotations = rodrigues(theta)  # [N, K, 3, 3]
    G, _ = forward_kinematics(rotations, joints.expand(poses, -1, -1), model.parents)
    target = dual_quaternion_skinning(template, weights, G)  # [N, V, 3]
    blended = torch.einsum("kv,nkab->nvab", weights, G)
    # the rest-pose position that LBS would send to the DQS vertex
    unposed = torch.linalg.solve(blended[..., :3, :3], (target - blended[..., :3, 3])[..., None])
    F_ = pose_feature(rotations)  # [N, P]
    Y = (unposed[..., 0] - template).reshape(poses, -1)  # [N, 3V]
    P = torch.linalg.solve(F_.T @ F_ + ridge * torch.eye(F_.shape[1], dtype=F_.dtype), F_.T @ Y)
    return P.T.reshape(-1, 3, F_.shape[1]).float()


def build_smpl(
    num_bodies: int = 200, num_betas: int = 8, seed: int = 0, pose_correctives: bool = True
) -> SMPL:
    bodies, _ = procedural_bodies(num_bodies, seed)
    mean, S = learn_shape_space(bodies, num_betas)
    V = mean.shape[0]
    pose_dim = 9 * (skeleton.NUM_JOINTS - 1)
    model = SMPL(
        template=mean,
        shape_dirs=S,
        pose_dirs=np.zeros((V, 3, pose_dim)),
        weights=skeleton.skinning_weights(),
        regressor=skeleton.joint_regressor(),
        parents=skeleton.PARENTS,
        faces=skeleton.faces(),
    )
    if pose_correctives:
        model.pose_dirs.copy_(learn_pose_correctives(model, seed=seed))
    return model
