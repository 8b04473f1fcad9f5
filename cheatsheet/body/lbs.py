"""Forward kinematics and linear blend skinning (sheet 9.3).

- Rodrigues: axis-angle theta_k (|theta_k| the angle) -> R_k = I + sin|t| K + (1 - cos|t|) K^2.
- Forward kinematics along the kinematic tree: the world transform of joint k is
      A_k = A_parent(k) [R_k | J_k - J_parent(k)],        A_root = [R_root | J_root]
  and the bone transform that maps rest-pose positions to posed ones is
      G_k(theta, J) = A_k [I | -J_k]  (remove the rest-pose joint location).
- Linear blend skinning: t'_i = sum_k w_ki G_k(theta, J) t_i  (formula linear-blend-skinning),
  in homogeneous coordinates.
Batched over leading dimensions where it matters; tensors on any device.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def rodrigues(axis_angle: torch.Tensor) -> torch.Tensor:
    """[..., 3] -> [..., 3, 3]; exact at theta = 0 (the sin/cos terms use a safe angle)."""
    angle = axis_angle.norm(dim=-1, keepdim=True)
    safe = torch.where(angle < 1e-8, torch.ones_like(angle), angle)
    axis = axis_angle / safe
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    K = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(*axis.shape[:-1], 3, 3)
    sin, cos = torch.sin(angle)[..., None], torch.cos(angle)[..., None]
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    small = (angle < 1e-8)[..., None]
    R = eye + sin * K + (1 - cos) * (K @ K)
    # first-order expansion near 0 keeps the gradient finite: R ~ I + [theta]_x
    xs, ys, zs = axis_angle.unbind(-1)
    K_small = torch.stack([zero, -zs, ys, zs, zero, -xs, -ys, xs, zero], -1).reshape(
        *axis.shape[:-1], 3, 3
    )
    return torch.where(small, eye + K_small, R)


def homogeneous(R: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """[..., 3, 3], [..., 3] -> [..., 4, 4]."""
    top = torch.cat([R, t[..., None]], -1)
    bottom = torch.zeros(*R.shape[:-2], 1, 4, dtype=R.dtype, device=R.device)
    bottom[..., 0, 3] = 1
    return torch.cat([top, bottom], -2)


def forward_kinematics(
    rotations: torch.Tensor, joints: torch.Tensor, parents: Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """rotations [..., K, 3, 3], rest joints [..., K, 3] -> (G [..., K, 4, 4] rest-to-posed bone
    transforms, posed joint locations [..., K, 3])."""
    world = []
    for k, parent in enumerate(parents):
        if parent < 0:
            world.append(homogeneous(rotations[..., k, :, :], joints[..., k, :]))
        else:
            local = homogeneous(rotations[..., k, :, :], joints[..., k, :] - joints[..., parent, :])
            world.append(world[parent] @ local)
    A = torch.stack(world, -3)  # [..., K, 4, 4]
    posed_joints = A[..., :3, 3]
    # G_k = A_k [I | -J_k]: rotation of A_k, translation A_k's minus R_k J_k
    rest_offset = (A[..., :3, :3] @ joints[..., None])[..., 0]
    G = A.clone()
    G[..., :3, 3] = A[..., :3, 3] - rest_offset
    return G, posed_joints


def linear_blend_skinning(
    vertices: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor
) -> torch.Tensor:
    """t'_i = sum_k w_ki G_k t_i (formula linear-blend-skinning): vertices [..., V, 3], weights
    [K, V], transforms [..., K, 4, 4] -> [..., V, 3]."""
    blended = torch.einsum("kv,...kab->...vab", weights, transforms)  # per-vertex matrix
    return (blended[..., :3, :3] @ vertices[..., None])[..., 0] + blended[..., :3, 3]
