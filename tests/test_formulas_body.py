"""Body-model formulas against sklearn PCA and explicit per-vertex torch loops."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "body"


@given(st.integers(0, 1000), st.integers(1, 6))
def test_pca_shape_space_matches_sklearn(device, seed, k):
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    meshes = rng.normal(size=(30, 24)) @ rng.normal(size=(24, 24))  # 30 people, 8 vertices
    pca = PCA(n_components=k).fit(meshes)
    beta = pca.transform(meshes[:4])
    T = formulas.get("pca-shape-space").evaluate(S=pca.components_.T, beta=beta, mu=pca.mean_)
    np.testing.assert_allclose(T, pca.inverse_transform(beta), atol=1e-10)


def _random_rigid(rng, K):
    G = np.zeros((K, 4, 4))
    for k in range(K):
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        G[k, :3, :3] = q * np.sign(np.linalg.det(q))
        G[k, :3, 3] = rng.normal(size=3)
        G[k, 3, 3] = 1.0
    return G


def _lbs_loop(vertices, weights, transforms, device):
    """The sheet's sum, one vertex and one bone at a time."""
    v = torch.tensor(vertices, device=device)
    w = torch.tensor(weights, device=device)
    G = torch.tensor(transforms, device=device)
    out = []
    for i in range(v.shape[0]):
        t = torch.cat([v[i], torch.ones(1, dtype=torch.float64, device=device)])
        out.append(sum(w[k, i] * (G[k] @ t) for k in range(G.shape[0]))[:3])
    return torch.stack(out).cpu().numpy()


@given(st.integers(0, 1000), st.integers(1, 4), st.integers(1, 10))
def test_lbs_against_per_vertex_loop(device, seed, K, V):
    rng = np.random.default_rng(seed)
    vertices, weights = rng.normal(size=(V, 3)), rng.dirichlet(np.ones(K), size=V).T
    G = _random_rigid(rng, K)
    out = formulas.get("linear-blend-skinning").evaluate(
        vertices=vertices, weights=weights, transforms=G
    )
    np.testing.assert_allclose(out, _lbs_loop(vertices, weights, G, device), atol=1e-12)


@given(st.integers(0, 1000), st.integers(1, 4), st.integers(1, 8))
def test_smpl_vertices_and_joints(device, seed, K, V):
    rng = np.random.default_rng(seed)
    B, P = 3, 5
    template = rng.normal(size=(V, 3))
    shape_dirs, pose_dirs = rng.normal(size=(V, 3, B)), rng.normal(size=(V, 3, P))
    beta, pose_feature = rng.normal(size=B), rng.normal(size=P)
    weights, G = rng.dirichlet(np.ones(K), size=V).T, _random_rigid(rng, K)
    out = formulas.get("smpl-model").evaluate(
        template=template,
        shape_dirs=shape_dirs,
        beta=beta,
        pose_dirs=pose_dirs,
        pose_feature=pose_feature,
        weights=weights,
        transforms=G,
    )
    rest = np.stack(
        [
            template[i]
            + sum(shape_dirs[i, :, b] * beta[b] for b in range(B))
            + sum(pose_dirs[i, :, p] * pose_feature[p] for p in range(P))
            for i in range(V)
        ]
    )
    np.testing.assert_allclose(out, _lbs_loop(rest, weights, G, device), atol=1e-12)
    regressor = rng.dirichlet(np.ones(V), size=K)
    joints = formulas.get("smpl-joint-regressor").evaluate(
        regressor=regressor, template=template, shape_dirs=shape_dirs, beta=beta
    )
    shaped = torch.tensor(template + shape_dirs @ beta, device=device)
    np.testing.assert_allclose(
        joints, (torch.tensor(regressor, device=device) @ shaped).cpu().numpy(), atol=1e-12
    )


@given(st.integers(0, 1000), st.integers(1, 4))
def test_pose_correctives_against_scipy_rotations(device, seed, joints):
    """p(theta) = P vec(R(theta) - I), the rotations from scipy's rotvec (an independent route)."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    axis_angles = rng.normal(size=(joints, 3))
    pose_dirs = rng.normal(size=(5, 3, 9 * joints))
    rotations = Rotation.from_rotvec(axis_angles).as_matrix()
    feature = torch.tensor((rotations - np.eye(3)).reshape(-1), device=device)
    ref = torch.tensor(pose_dirs, device=device) @ feature
    out = formulas.get("smpl-pose-correctives").evaluate(
        pose_dirs=pose_dirs, axis_angles=axis_angles
    )
    np.testing.assert_allclose(out, ref.cpu().numpy(), atol=1e-12)


def test_pose_corrective_erratum_shows_both_forms():
    evidence = formulas.get("smpl-pose-correctives").erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True
    assert "sheet's form" in evidence.detail and "differs" in evidence.detail


def test_body_statements_keep_matrix_order():
    import sympy as sp

    lbs = sp.latex(formulas.get("linear-blend-skinning").statement)
    assert lbs.index("G") < lbs.index("t_{i}", lbs.index("G"))
    smpl = sp.sstr(formulas.get("smpl-model").statement)
    assert "G(k, theta, J(beta))*(" in smpl
    joints = formulas.get("smpl-joint-regressor").statement
    assert joints not in (sp.true, sp.false)
    assert sp.sstr(joints.rhs).startswith("mathcal{J}*(")
