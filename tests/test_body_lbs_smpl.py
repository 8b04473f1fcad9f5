"""Body model: LBS and SMPL against the registry, the rest-pose identities, a rigid bone, the
shape space against sklearn's PCA, joints that follow the shape, pose correctives against
dual-quaternion skinning, and the procedural mesh's bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas
from cheatsheet.body import lbs, skeleton, smpl


@pytest.fixture(scope="module")
def model():
    return smpl.build_smpl(num_bodies=40, num_betas=6, seed=0)


def _random_pose(seed: int, scale: float = 0.6) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(skeleton.NUM_JOINTS, 3, generator=g, dtype=torch.float64)


@given(st.integers(0, 10_000))
def test_rodrigues_is_the_matrix_exponential_of_the_cross_product_matrix(seed):
    theta = _random_pose(seed, 1.5)
    x, y, z = theta.unbind(-1)
    zero = torch.zeros_like(x)
    K = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(-1, 3, 3)
    assert torch.allclose(lbs.rodrigues(theta), torch.linalg.matrix_exp(K), atol=1e-12)
    assert torch.equal(
        lbs.rodrigues(torch.zeros(2, 3, dtype=torch.float64)),
        torch.eye(3, dtype=torch.float64).expand(2, 3, 3),
    )


def test_lbs_rest_pose_is_the_identity(device):
    mesh = skeleton.build_mesh(skeleton.BodyParameters())
    vertices = torch.as_tensor(mesh.vertices, device=device)
    joints = torch.as_tensor(mesh.joints, device=device)
    weights = torch.as_tensor(skeleton.skinning_weights(), device=device)
    rotations = torch.eye(3, dtype=torch.float64, device=device).expand(skeleton.NUM_JOINTS, 3, 3)
    G, posed_joints = lbs.forward_kinematics(rotations, joints, skeleton.PARENTS)
    assert torch.allclose(G, torch.eye(4, dtype=torch.float64, device=device).expand_as(G))
    assert torch.allclose(lbs.linear_blend_skinning(vertices, weights, G), vertices)
    assert torch.allclose(posed_joints, joints)


@given(st.integers(0, 10_000))
def test_lbs_matches_the_registry(seed):
    mesh = skeleton.build_mesh(skeleton.BodyParameters())
    weights = skeleton.skinning_weights()
    G, _ = lbs.forward_kinematics(
        lbs.rodrigues(_random_pose(seed)), torch.as_tensor(mesh.joints), skeleton.PARENTS
    )
    ours = lbs.linear_blend_skinning(torch.as_tensor(mesh.vertices), torch.as_tensor(weights), G)
    registry = formulas.get("linear-blend-skinning").evaluate(
        vertices=mesh.vertices, weights=weights, transforms=G.numpy()
    )
    np.testing.assert_allclose(ours.numpy(), registry, atol=1e-12)


def test_lbs_of_a_single_rigid_bone_is_the_rigid_transform():
    # all weight on the left elbow: rotating it by R about the elbow joint moves every vertex by
    # x -> R (x - j) + j, and rotating the root in addition composes the two rigid motions
    mesh = skeleton.build_mesh(skeleton.BodyParameters())
    vertices, joints = torch.as_tensor(mesh.vertices), torch.as_tensor(mesh.joints)
    elbow = skeleton.JOINT_NAMES.index("left_elbow")
    weights = torch.zeros(skeleton.NUM_JOINTS, len(vertices), dtype=torch.float64)
    weights[elbow] = 1
    theta = torch.zeros(skeleton.NUM_JOINTS, 3, dtype=torch.float64)
    theta[elbow] = torch.tensor([0.3, -1.1, 0.4])
    G, _ = lbs.forward_kinematics(lbs.rodrigues(theta), joints, skeleton.PARENTS)
    R = lbs.rodrigues(theta[elbow])
    expected = (vertices - joints[elbow]) @ R.T + joints[elbow]
    assert torch.allclose(lbs.linear_blend_skinning(vertices, weights, G), expected, atol=1e-12)


def test_root_rotation_moves_the_whole_body_rigidly():
    mesh = skeleton.build_mesh(skeleton.BodyParameters())
    vertices, joints = torch.as_tensor(mesh.vertices), torch.as_tensor(mesh.joints)
    theta = torch.zeros(skeleton.NUM_JOINTS, 3, dtype=torch.float64)
    theta[0] = torch.tensor([0.2, 0.9, -0.3])
    G, posed = lbs.forward_kinematics(lbs.rodrigues(theta), joints, skeleton.PARENTS)
    R = lbs.rodrigues(theta[0])
    out = lbs.linear_blend_skinning(vertices, torch.as_tensor(skeleton.skinning_weights()), G)
    assert torch.allclose(out, (vertices - joints[0]) @ R.T + joints[0], atol=1e-12)
    assert torch.allclose(posed, (joints - joints[0]) @ R.T + joints[0], atol=1e-12)


def test_procedural_mesh_bookkeeping():
    weights = skeleton.skinning_weights()
    assert np.allclose(weights.sum(0), 1) and (weights >= 0).all()
    faces = skeleton.faces()
    mesh = skeleton.build_mesh(skeleton.BodyParameters())
    assert faces.min() >= 0 and faces.max() < len(mesh.vertices)
    assert 10 <= skeleton.NUM_JOINTS <= 16 and len(skeleton.PARENTS) == skeleton.NUM_JOINTS
    assert all(p < k for k, p in enumerate(skeleton.PARENTS))  # parents come first
    rng = np.random.default_rng(0)
    for _ in range(5):  # the regressor is exact for every procedural body
        body = skeleton.build_mesh(skeleton.random_parameters(rng))
        assert np.abs(skeleton.joint_regressor() @ body.vertices - body.joints).max() < 1e-12


def test_smpl_zero_shape_zero_pose_is_the_mean_template(model, device):
    m = model.to(device)
    out = m(torch.zeros(m.num_betas, device=device), torch.zeros(m.num_joints, 3, device=device))
    assert torch.allclose(out.vertices, m.template, atol=1e-6)
    assert torch.allclose(out.joints, m.regressor @ m.template, atol=1e-6)


def test_smpl_matches_the_registry(model):
    beta = torch.randn(model.num_betas)
    theta = _random_pose(3).float()
    out = model(beta, theta)
    rotations = lbs.rodrigues(theta)
    G, _ = lbs.forward_kinematics(rotations, model.joints_from_shape(beta), model.parents)
    registry = formulas.get("smpl-model").evaluate(
        template=model.template.numpy(),
        shape_dirs=model.shape_dirs.numpy(),
        beta=beta.numpy(),
        pose_dirs=model.pose_dirs.numpy(),
        pose_feature=smpl.pose_feature(rotations).numpy(),
        weights=model.weights.numpy(),
        transforms=G.numpy(),
    )
    np.testing.assert_allclose(out.vertices.numpy(), registry, atol=1e-4)
    joints = formulas.get("smpl-joint-regressor").evaluate(
        regressor=model.regressor.numpy(),
        template=model.template.numpy(),
        shape_dirs=model.shape_dirs.numpy(),
        beta=beta.numpy(),
    )
    np.testing.assert_allclose(model.joints_from_shape(beta).numpy(), joints, atol=1e-5)


def test_shape_space_is_sklearns_pca():
    from sklearn.decomposition import PCA

    bodies, _ = smpl.procedural_bodies(30, seed=1)
    mean, S = smpl.learn_shape_space(bodies, 4)
    flat = bodies.reshape(30, -1)
    pca = PCA(n_components=4).fit(flat)
    np.testing.assert_allclose(mean.reshape(-1), pca.mean_, atol=1e-12)
    directions = S.reshape(-1, 4) / np.sqrt(pca.explained_variance_)  # unit columns
    # the same directions up to sign
    np.testing.assert_allclose(np.abs(np.sum(directions * pca.components_.T, 0)), 1.0, atol=1e-8)
    # a body's beta = S^+ (T - mean) reconstructs it like sklearn's inverse transform
    beta = np.linalg.lstsq(S.reshape(-1, 4), flat[0] - mean.reshape(-1), rcond=None)[0]
    reconstruction = formulas.get("pca-shape-space").evaluate(
        S=S.reshape(-1, 4), beta=beta, mu=mean.reshape(-1)
    )
    np.testing.assert_allclose(
        reconstruction, pca.inverse_transform(pca.transform(flat[:1]))[0], atol=1e-8
    )


def test_joints_regressed_from_the_shaped_mesh_move_with_beta(model):
    beta = torch.zeros(model.num_betas)
    rest = model.joints_from_shape(beta)
    for b in range(model.num_betas):
        moved = model.joints_from_shape(torch.eye(model.num_betas)[b] * 2.0)
        assert (moved - rest).norm(dim=-1).max() > 1e-3
        # and exactly as the regressor applied to the shaped vertices
        assert torch.allclose(
            moved, model.regressor @ model.shaped(torch.eye(model.num_betas)[b] * 2.0), atol=1e-6
        )
    # the first shape direction (dominated by height) changes the head height
    head = skeleton.JOINT_NAMES.index("head")
    assert (
        abs(model.joints_from_shape(torch.eye(model.num_betas)[0] * 2)[head, 1] - rest[head, 1])
        > 0.01
    )


def test_dual_quaternion_skinning_of_a_rigid_motion_is_that_motion():
    mesh = skeleton.build_mesh(skeleton.BodyParameters())
    vertices = torch.as_tensor(mesh.vertices)
    R = lbs.rodrigues(torch.tensor([0.4, -0.7, 0.2], dtype=torch.float64))
    G = lbs.homogeneous(R, torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64)).expand(
        skeleton.NUM_JOINTS, 4, 4
    )
    out = smpl.dual_quaternion_skinning(vertices, torch.as_tensor(skeleton.skinning_weights()), G)
    assert torch.allclose(
        out, vertices @ R.T + torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64), atol=1e-10
    )


def test_pose_correctives_bring_lbs_closer_to_the_dqs_scans(model):
    theta = torch.as_tensor(smpl.sample_poses(20, np.random.default_rng(123)), dtype=torch.float32)
    beta = torch.zeros(20, model.num_betas)
    joints = model.joints_from_shape(beta)
    G, _ = lbs.forward_kinematics(lbs.rodrigues(theta), joints, model.parents)
    scans = smpl.dual_quaternion_skinning(model.template, model.weights, G)
    lbs_error = (model(beta, theta, pose_correctives=False).vertices - scans).norm(dim=-1).mean()
    smpl_error = (model(beta, theta).vertices - scans).norm(dim=-1).mean()
    assert smpl_error < 0.5 * lbs_error
