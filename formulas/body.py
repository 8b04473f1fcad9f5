"""Parametric body models (sheet section 9): the PCA shape space, linear blend skinning, SMPL.

Conventions: vertices [V, 3]; skinning weights w[k, i] (bone k, vertex i, as on the sheet's
w_{ki}), each column summing to 1; bone transforms G[k] as 4x4 rigid matrices (already
relative to the rest pose, i.e. G_k(theta, J) maps rest-pose positions to posed ones).

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Formula, Step, StepResult, as_float64, register

# --------------------------------------------------------------------------------------------
# pca-shape-space


def _pca_statement():
    import sympy as sp

    S = sp.MatrixSymbol("S", 3, 2)
    beta, mu = sp.MatrixSymbol("beta", 2, 1), sp.MatrixSymbol("mu", 3, 1)
    return sp.Eq(sp.MatrixSymbol("T", 3, 1), S * beta + mu)


def _pca_derivation() -> list[Step]:
    def projection() -> StepResult:
        import numpy as np

        rng = np.random.default_rng(0)
        meshes = rng.normal(size=(40, 30)) @ rng.normal(size=(30, 30))  # 40 "people", 10 verts
        mu = meshes.mean(0)
        _, _, vt = np.linalg.svd(meshes - mu, full_matrices=False)
        S = vt[:5].T  # 5 orthonormal shape directions
        T = meshes[0]
        beta = S.T @ (T - mu)
        best = np.linalg.lstsq(S, T - mu, rcond=None)[0]
        gap = np.max(np.abs(beta - best))
        return StepResult(
            bool(gap < 1e-10),
            "custom",
            f"beta = S^T (T - mu) equals the least-squares fit, gap {gap:.1e}",
        )

    return [
        Step(
            "with orthonormal principal directions S, the coefficients of a person are "
            "beta = S^T (T - mu), the least-squares projection onto the shape space",
            custom=projection,
        )
    ]


def pca_shape(S, beta, mu):
    """T = S beta + mu: S [3V, K] principal shape directions, beta [..., K], mu [3V]."""
    import numpy as np

    S, beta, mu = (np.asarray(v, dtype=np.float64) for v in (S, beta, mu))
    return as_float64(beta @ S.T + mu)


register(
    Formula(
        id="pca-shape-space",
        title="PCA shape space of body meshes",
        topic="body",
        section="9.3",
        text="shape deformation subspace: vectorise the vertices T of T-posing meshes, subtract "
        "the mean mesh; with PCA any person is a weighted sum of 10-300 basis people, "
        "T = S beta + mu",
        keywords=(
            "pca",
            "shape space",
            "blend shapes",
            "beta",
            "mean mesh",
            "principal components",
            "smpl shape",
        ),
        statement_builder=_pca_statement,
        derivation_builder=_pca_derivation,
        evaluator=pca_shape,
    )
)


# --------------------------------------------------------------------------------------------
# linear-blend-skinning


def _lbs_statement():
    import sympy as sp

    k = sp.Symbol("k", integer=True)
    w, G = sp.Function("w"), sp.Function("G")
    t = sp.Symbol("t_i")
    return sp.Eq(sp.Symbol("t'_i"), sp.Sum(w(k, sp.Symbol("i")) * G(k) * t, (k, 1, sp.Symbol("K"))))


def _lbs_derivation() -> list[Step]:
    import sympy as sp

    phi = sp.Symbol("phi", real=True)
    w = sp.Symbol("w", nonnegative=True)

    def Rz(angle):
        return sp.Matrix(
            [[sp.cos(angle), -sp.sin(angle), 0], [sp.sin(angle), sp.cos(angle), 0], [0, 0, 1]]
        )

    def rigid() -> StepResult:
        import numpy as np

        rng = np.random.default_rng(0)
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        G = np.eye(4)
        G[:3, :3], G[:3, 3] = q * np.sign(np.linalg.det(q)), rng.normal(size=3)
        vertices = rng.normal(size=(20, 3))
        weights = rng.dirichlet(np.ones(4), size=20).T  # [K, V], columns sum to 1
        posed = linear_blend_skinning(vertices, weights, np.broadcast_to(G, (4, 4, 4)))
        gap = np.max(np.abs(posed - (vertices @ G[:3, :3].T + G[:3, 3])))
        return StepResult(
            bool(gap < 1e-12),
            "custom",
            f"same G for every bone: LBS is that rigid motion (gap {gap:.1e})",
        )

    blended = (1 - w) * Rz(0) + w * Rz(phi)
    return [
        Step(
            "weights summing to 1 make LBS exact for a rigid motion of the whole body", custom=rigid
        ),
        Step(
            "but blending rotations is not a rotation: det((1-w) I + w R_z(phi)) shrinks the "
            "cross-section (for w = 1/2: (1 + cos phi)/2, 0 at phi = pi, the 'candy wrapper' "
            "artifact of the linear assumption)",
            blended.subs(w, sp.Rational(1, 2)).det(),
            (1 + sp.cos(phi)) / 2,
        ),
    ]


def linear_blend_skinning(vertices, weights, transforms):
    """t'_i = sum_k w_ki G_k t_i (homogeneous coordinates): vertices [V, 3], weights [K, V],
    transforms [K, 4, 4] -> [V, 3]."""
    import numpy as np

    vertices, weights, transforms = (
        np.asarray(v, dtype=np.float64) for v in (vertices, weights, transforms)
    )
    blended = np.einsum("kv,kab->vab", weights, transforms)  # per-vertex blended matrix
    homogeneous = np.concatenate([vertices, np.ones(vertices.shape[:-1] + (1,))], axis=-1)
    return as_float64(np.einsum("vab,vb->va", blended, homogeneous)[..., :3])


register(
    Formula(
        id="linear-blend-skinning",
        title="Linear blend skinning (LBS)",
        topic="body",
        section="9.3",
        text="for pose use linear blend skinning: t'_i = sum_k w_ki G_k(theta, J) t_i; t T-pose "
        "vertex positions, t' transformed, w weights, G_k rigid bone transformation, theta pose, "
        "J joint positions; the linear assumption produces artifacts (candy wrapper)",
        keywords=(
            "lbs",
            "linear blend skinning",
            "skinning",
            "skinning weights",
            "bones",
            "rigid transformation",
            "pose",
            "candy wrapper",
        ),
        statement_builder=_lbs_statement,
        derivation_builder=_lbs_derivation,
        evaluator=linear_blend_skinning,
    )
)


# --------------------------------------------------------------------------------------------
# smpl-model


def _smpl_statement():
    import sympy as sp

    k = sp.Symbol("k", integer=True)
    w, G = sp.Function("w"), sp.Function("G")
    theta, beta = sp.Symbol("theta"), sp.Symbol("beta")
    J = sp.Function("J")(beta)
    t, s, p = sp.Symbol("t_i"), sp.Function("s_i")(beta), sp.Function("p_i")(theta)
    return sp.Eq(
        sp.Symbol("t'_i"),
        sp.Sum(w(k, sp.Symbol("i")) * G(k, theta, J) * (t + s + p), (k, 1, sp.Symbol("K"))),
    )


def _smpl_derivation() -> list[Step]:
    def reduces() -> StepResult:
        import numpy as np

        rng = np.random.default_rng(0)
        V, K, B, P = 12, 3, 4, 9
        template = rng.normal(size=(V, 3))
        shape_dirs, pose_dirs = rng.normal(size=(V, 3, B)), rng.normal(size=(V, 3, P))
        weights = rng.dirichlet(np.ones(K), size=V).T
        transforms = np.broadcast_to(np.eye(4), (K, 4, 4)).copy()
        transforms[:, :3, 3] = rng.normal(size=(K, 3))
        zero = smpl_vertices(
            template, shape_dirs, np.zeros(B), pose_dirs, np.zeros(P), weights, transforms
        )
        lbs = linear_blend_skinning(template, weights, transforms)
        beta = rng.normal(size=B)
        rest = smpl_vertices(
            template,
            shape_dirs,
            beta,
            pose_dirs,
            np.zeros(P),
            weights,
            np.broadcast_to(np.eye(4), (K, 4, 4)),
        )
        gap = max(np.max(np.abs(zero - lbs)), np.max(np.abs(rest - (template + shape_dirs @ beta))))
        return StepResult(
            bool(gap < 1e-12),
            "custom",
            f"beta = 0, no pose correctives: LBS; identity pose: T-pose + S beta (gap {gap:.1e})",
        )

    return [
        Step(
            "SMPL = LBS applied to the template plus shape and pose correctives; it reduces "
            "to LBS without correctives and to the shape space in the rest pose",
            custom=reduces,
        )
    ]


def smpl_vertices(template, shape_dirs, beta, pose_dirs, pose_feature, weights, transforms):
    """t'_i = sum_k w_ki G_k (t_i + s_i(beta) + p_i(theta)) with s(beta) = S beta and
    p(theta) = P pose_feature. template [V, 3], shape_dirs [V, 3, B], pose_dirs [V, 3, P],
    weights [K, V], transforms [K, 4, 4] (G_k(theta, J(beta)))."""
    import numpy as np

    template, shape_dirs, beta, pose_dirs, pose_feature = (
        np.asarray(v, dtype=np.float64)
        for v in (template, shape_dirs, beta, pose_dirs, pose_feature)
    )
    rest = template + shape_dirs @ beta + pose_dirs @ pose_feature
    return linear_blend_skinning(rest, weights, transforms)


register(
    Formula(
        id="smpl-model",
        title="SMPL: skinned multi-person linear model",
        topic="body",
        section="9.3",
        text="SMPL: t'_i = sum_k w_ki G_k(theta, J(beta)) (t_i + s_i(beta) + p_i(theta)); shape "
        "correctives s(beta) = S beta, pose correctives p(theta) = P theta (in the SMPL paper P "
        "acts on the rotation-matrix entries R(theta) - R(theta*), not on the axis-angle theta), "
        "joints depend on shape J(beta); ~7k vertices; predicting a human = predicting beta, "
        "theta and the camera",
        keywords=(
            "smpl",
            "body model",
            "shape",
            "pose",
            "blend shapes",
            "pose correctives",
            "shape correctives",
            "skinning",
            "beta",
            "theta",
        ),
        statement_builder=_smpl_statement,
        derivation_builder=_smpl_derivation,
        evaluator=smpl_vertices,
    )
)


# --------------------------------------------------------------------------------------------
# smpl-joint-regressor


def _joints_statement():
    import sympy as sp

    Jr = sp.MatrixSymbol("mathcal{J}", 2, 3)
    T, S = sp.MatrixSymbol("bar{T}", 3, 1), sp.MatrixSymbol("S", 3, 2)
    beta = sp.MatrixSymbol("beta", 2, 1)
    return sp.Eq(sp.Symbol("J(beta)"), Jr * (T + S * beta))


def smpl_joints(regressor, template, shape_dirs, beta):
    """J(beta) = regressor (t + S beta): regressor [K, V], template [V, 3], shape_dirs
    [V, 3, B], beta [B] -> joint positions [K, 3]."""
    import numpy as np

    regressor, template, shape_dirs, beta = (
        np.asarray(v, dtype=np.float64) for v in (regressor, template, shape_dirs, beta)
    )
    return as_float64(regressor @ (template + shape_dirs @ beta))


register(
    Formula(
        id="smpl-joint-regressor",
        title="SMPL joints as a function of shape",
        topic="body",
        section="9.3",
        text="J depends on shape beta: the joint locations are regressed linearly from the "
        "shaped rest mesh, J(beta) = mathcal{J} (bar T + S beta)",
        keywords=("joints", "joint regressor", "smpl", "skeleton", "shape"),
        statement_builder=_joints_statement,
        evaluator=smpl_joints,
    )
)
