"""Parametric body models (sheet section 9): the PCA shape space, linear blend skinning, SMPL.

Conventions: vertices [V, 3]; skinning weights w[k, i] (bone k, vertex i, as on the sheet's
w_{ki}), each column summing to 1; bone transforms G[k] as 4x4 rigid matrices (already
relative to the rest pose, i.e. G_k(theta, J) maps rest-pose positions to posed ones).

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import (
    Claim,
    Comparison,
    Erratum,
    Evidence,
    Formula,
    Step,
    as_float64,
    compare_forms,
    register,
    register_claim,
)

# --------------------------------------------------------------------------------------------
# pca-shape-space


def _pca_statement():
    import sympy as sp

    S = sp.MatrixSymbol("S", 3, 2)
    beta, mu = sp.MatrixSymbol("beta", 2, 1), sp.MatrixSymbol("mu", 3, 1)
    return sp.Eq(sp.MatrixSymbol("T", 3, 1), S * beta + mu)


def _pca_properties() -> list[Step]:
    def projection() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        meshes = rng.normal(size=(40, 30)) @ rng.normal(size=(30, 30))  # 40 "people", 10 verts
        mu = meshes.mean(0)
        _, _, vt = np.linalg.svd(meshes - mu, full_matrices=False)
        S = vt[:5].T  # 5 orthonormal shape directions
        T = meshes[0]
        beta = S.T @ (T - mu)
        best = np.linalg.lstsq(S, T - mu, rcond=None)[0]
        return Comparison(beta, best, "beta = S^T (T - mu) against numpy's least-squares fit")

    def mean_person() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(1)
        S, mu = rng.normal(size=(12, 4)), rng.normal(size=12)
        return Comparison(pca_shape(S, np.zeros(4), mu), mu, "beta = 0 gives the mean mesh")

    return [
        Step(
            "with orthonormal principal directions S, a person's coefficients are "
            "beta = S^T (T - mu), the least-squares projection onto the shape space",
            custom=projection,
            tolerance=1e-10,
        ),
        Step("beta = 0 is the mean mesh mu", custom=mean_person, tolerance=1e-12),
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
        definition=True,
        properties_builder=_pca_properties,
        evaluator=pca_shape,
        sheet_lines=(274, 274),
    )
)


# --------------------------------------------------------------------------------------------
# linear-blend-skinning


def _skinning_symbols():
    """Bone transforms and vertices are matrices: non-commutative symbols keep G_k before t_i."""
    import sympy as sp

    k, i = sp.symbols("k i", integer=True, positive=True)
    weight = sp.IndexedBase("w")
    G = sp.Function("G", commutative=False)
    return sp, k, i, weight, G


def _lbs_statement():
    sp, k, i, weight, G = _skinning_symbols()
    theta, J = sp.symbols("theta J", commutative=False)
    t = sp.Symbol("t_i", commutative=False)
    return sp.Eq(
        sp.Symbol("t'_i", commutative=False),
        sp.Sum(weight[k, i] * G(k, theta, J) * t, (k, 1, sp.Symbol("K", integer=True))),
    )


def _rigid_transforms(rng, K):
    import numpy as np

    G = np.zeros((K, 4, 4))
    for bone in range(K):
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        G[bone, :3, :3] = q * np.sign(np.linalg.det(q))
        G[bone, :3, 3] = rng.normal(size=3)
        G[bone, 3, 3] = 1.0
    return G


def _lbs_properties() -> list[Step]:
    import sympy as sp

    phi = sp.Symbol("phi", real=True)

    def rotation_z(angle):
        return sp.Matrix(
            [[sp.cos(angle), -sp.sin(angle), 0], [sp.sin(angle), sp.cos(angle), 0], [0, 0, 1]]
        )

    def rigid() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        G = _rigid_transforms(rng, 1)[0]
        vertices = rng.normal(size=(20, 3))
        weights = rng.dirichlet(np.ones(4), size=20).T  # [K, V], columns sum to 1
        posed = linear_blend_skinning(vertices, weights, np.broadcast_to(G, (4, 4, 4)))
        return Comparison(
            posed,
            vertices @ G[:3, :3].T + G[:3, 3],
            "same G for all 4 bones, Dirichlet weights: LBS against the rigid motion G t",
        )

    half_blend = (rotation_z(0) + rotation_z(phi)) / 2
    return [
        Step(
            "weights summing to 1 make LBS exact for a rigid motion of the whole body",
            custom=rigid,
            tolerance=1e-12,
        ),
        Step(
            "blending rotations is not a rotation: det((I + R_z(phi))/2) = (1 + cos phi)/2 "
            "shrinks the cross-section (0 at phi = pi: the 'candy wrapper' artifact of the "
            "linear assumption)",
            half_blend.det(),
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
        definition=True,
        properties_builder=_lbs_properties,
        evaluator=linear_blend_skinning,
        sheet_lines=(276, 276),
    )
)


# --------------------------------------------------------------------------------------------
# smpl-model


def _smpl_statement():
    sp, k, i, weight, G = _skinning_symbols()
    theta, beta = sp.symbols("theta beta", commutative=False)
    J = sp.Function("J", commutative=False)(beta)
    t = sp.Symbol("t_i", commutative=False)
    s = sp.Function("s_i", commutative=False)(beta)
    p = sp.Function("p_i", commutative=False)(theta)
    return sp.Eq(
        sp.Symbol("t'_i", commutative=False),
        sp.Sum(weight[k, i] * G(k, theta, J) * (t + s + p), (k, 1, sp.Symbol("K", integer=True))),
    )


def _smpl_properties() -> list[Step]:
    def setup():
        import numpy as np

        rng = np.random.default_rng(0)
        V, K, B, P = 12, 3, 4, 9
        return (
            np,
            rng,
            rng.normal(size=(V, 3)),
            rng.normal(size=(V, 3, B)),
            rng.normal(size=(V, 3, P)),
            rng.dirichlet(np.ones(K), size=V).T,
            _rigid_transforms(rng, K),
            B,
            P,
            K,
        )

    def reduces_to_lbs() -> Comparison:
        np, rng, template, shape_dirs, pose_dirs, weights, transforms, B, P, _ = setup()
        zero = smpl_vertices(
            template, shape_dirs, np.zeros(B), pose_dirs, np.zeros(P), weights, transforms
        )
        return Comparison(
            zero,
            linear_blend_skinning(template, weights, transforms),
            "beta = 0 and no pose corrective: SMPL against LBS of the template",
        )

    def rest_pose_is_shape_space() -> Comparison:
        np, rng, template, shape_dirs, pose_dirs, weights, _, B, P, K = setup()
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
        return Comparison(
            rest,
            template + shape_dirs @ beta,
            "identity bone transforms, no pose corrective: SMPL against T-pose + S beta",
        )

    return [
        Step(
            "without shape and pose correctives SMPL is LBS of the template",
            custom=reduces_to_lbs,
            tolerance=1e-12,
        ),
        Step(
            "in the rest pose (G_k = I, p = 0) SMPL is the shape space t + S beta",
            custom=rest_pose_is_shape_space,
            tolerance=1e-12,
        ),
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
        "correctives s(beta) = S beta, pose correctives p(theta) = P (R(theta) - R(theta*)) "
        "(linear in the rotation-matrix entries, not in the axis-angle theta), "
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
        definition=True,
        properties_builder=_smpl_properties,
        evaluator=smpl_vertices,
        sheet_lines=(276, 276),
    )
)


# --------------------------------------------------------------------------------------------
# smpl-pose-correctives (the sheet's p(theta) = P theta is wrong)


def _rodrigues(axis_angle):
    """Rotation matrices [..., 3, 3] from axis-angle vectors [..., 3] (Rodrigues' formula)."""
    import numpy as np

    axis_angle = np.asarray(axis_angle, dtype=np.float64)
    angle = np.linalg.norm(axis_angle, axis=-1, keepdims=True)
    axis = axis_angle / np.where(angle > 0, angle, 1.0)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    K = np.stack(
        [np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)],
        -2,
    )
    s, c = np.sin(angle)[..., None], np.cos(angle)[..., None]
    return np.eye(3) + s * K + (1 - c) * (K @ K)


def smpl_pose_correctives(pose_dirs, axis_angles):
    """p(theta) = P vec(R(theta) - R(theta*)) with theta* the rest pose (R = I): pose_dirs
    [V, 3, 9J], axis_angles [J, 3] (one rotation per non-root joint) -> [V, 3]."""
    import numpy as np

    rotations = _rodrigues(axis_angles)  # [J, 3, 3]
    feature = (rotations - np.eye(3)).reshape(-1)  # 9J entries, zero in the rest pose
    return as_float64(np.asarray(pose_dirs, dtype=np.float64) @ feature)


def _pose_corrective_statement():
    import sympy as sp

    n = sp.Symbol("n", integer=True, positive=True)
    R = sp.Function("R_n", commutative=False)
    theta, theta_rest = sp.symbols("theta theta^*", commutative=False)
    P = sp.Symbol("P_n", commutative=False)
    return sp.Eq(
        sp.Function("p", commutative=False)(theta),
        sp.Sum(P * (R(theta) - R(theta_rest)), (n, 1, 9 * sp.Symbol("K", integer=True))),
    )


def _same_rotation_twice(rng):
    """An axis-angle theta and theta (1 + 2 pi / |theta|): the same rotation, another vector."""
    import numpy as np

    theta = rng.normal(size=(2, 3)) * 0.5
    norms = np.linalg.norm(theta, axis=-1, keepdims=True)
    return theta, theta * (1 + 2 * np.pi / norms)


def _pose_corrective_properties() -> list[Step]:
    def rest_pose() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        pose_dirs = rng.normal(size=(5, 3, 18))
        return Comparison(
            smpl_pose_correctives(pose_dirs, np.zeros((2, 3))),
            np.zeros((5, 3)),
            "theta = theta* (rest pose): the corrective vanishes",
        )

    def function_of_the_rotation() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(1)
        pose_dirs = rng.normal(size=(5, 3, 18))
        theta, same = _same_rotation_twice(rng)
        return Comparison(
            smpl_pose_correctives(pose_dirs, theta),
            smpl_pose_correctives(pose_dirs, same),
            "theta and theta (1 + 2 pi/|theta|) (same rotations) give the same corrective",
        )

    return [
        Step("no corrective in the rest pose", custom=rest_pose, tolerance=1e-12),
        Step(
            "the corrective depends on the pose (the rotations), not on how theta encodes it",
            custom=function_of_the_rotation,
            tolerance=1e-10,
        ),
    ]


def _pose_corrective_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(2)
    pose_dirs = rng.normal(size=(4, 3, 18))  # SMPL's P acts on 9 rotation entries per joint
    sheet_P = rng.normal(size=(4, 3, 6))  # the sheet's P acts on the 3 axis-angle entries
    theta, same = _same_rotation_twice(rng)
    # A pose corrective is a function of the pose: two encodings of one pose must give the
    # same corrective, so the change between them must be 0.
    sheet_change = np.abs(sheet_P @ theta.ravel() - sheet_P @ same.ravel()).max()
    smpl_change = np.abs(
        smpl_pose_correctives(pose_dirs, theta) - smpl_pose_correctives(pose_dirs, same)
    ).max()
    return compare_forms(
        reference=0.0,
        sheet=sheet_change,
        correct=smpl_change,
        reference_name="max change of the corrective between two axis-angle encodings of the "
        "same two joint rotations (theta and theta (1 + 2 pi/|theta|)), required",
        tolerance=1e-9,
    )


register(
    Formula(
        id="smpl-pose-correctives",
        title="SMPL pose correctives (pose blend shapes)",
        topic="body",
        section="9.3",
        text="pose correctives p(theta) = sum_n (R_n(theta) - R_n(theta*)) P_n: linear in the "
        "9K entries of the joints' rotation matrices relative to the rest pose theta*, so they "
        "vanish in the rest pose and depend on the pose, not on the axis-angle vector; the "
        "sheet's p(theta) = P theta is linear in the axis-angle theta",
        keywords=(
            "smpl",
            "pose correctives",
            "pose blend shapes",
            "rotation matrix",
            "axis angle",
            "rodrigues",
        ),
        statement_builder=_pose_corrective_statement,
        definition=True,
        properties_builder=_pose_corrective_properties,
        evaluator=smpl_pose_correctives,
        sheet_lines=(276, 276),
        erratum=Erratum(
            sheet=r"p(\theta) = P\theta",
            correct=r"p(\theta) = \sum_{n=1}^{9K} (R_n(\theta) - R_n(\theta^*)) P_n",
            explanation="the sheet's SMPL adds pose correctives p(theta) = P theta, linear in "
            "the axis-angle pose vector. SMPL (Loper et al. 2015, eq. 9) makes them linear in "
            "the rotation-matrix entries R(theta) - R(theta*): a linear map of theta is not "
            "even a function of the pose (theta and theta (1 + 2 pi/|theta|) are the same "
            "rotation but give different P theta), and it cannot vanish in the rest pose for "
            "every encoding",
            evidence=_pose_corrective_evidence,
            severity="error",
            sheet_lines=(276, 276),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# smpl-joint-regressor


def _joints_statement():
    import sympy as sp

    K, V, B = 2, 3, 2  # shapes only matter for the order of the products
    regressor = sp.MatrixSymbol("mathcal{J}", K, V)
    template, S = sp.MatrixSymbol("bar{T}", V, 1), sp.MatrixSymbol("S", V, B)
    beta = sp.MatrixSymbol("beta", B, 1)
    return sp.Eq(sp.MatrixSymbol("J(beta)", K, 1), regressor * (template + S * beta))


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
        sheet_lines=(276, 276),
    )
)


# --------------------------------------------------------------------------------------------
# Claims in words (sheet section 9), decided against the papers they summarise


def _body_claim(claim_id, lines, sheet, explanation, source, verdict="correct", **extra):
    register_claim(
        Claim(
            id=claim_id,
            topic="body",
            section="9",
            sheet_lines=lines,
            sheet=sheet,
            verdict=verdict,
            explanation=explanation,
            source=source,
            **extra,
        )
    )


_body_claim(
    "pictorial-structures",
    (266, 266),
    "Pictorial structure: unary terms and pairwise terms between them with springs",
    "a part-based model: a unary appearance term per body part plus pairwise deformation "
    "costs between connected parts, modelled as springs",
    "Felzenszwalb & Huttenlocher 2005, Pictorial Structures for Object Recognition",
)
_body_claim(
    "pose-direct-regression",
    (268, 268),
    "Direct regression: predict joint coordinates with refinement",
    "DeepPose regresses the joint coordinates with a CNN and refines them with a cascade of "
    "regressors on crops around the previous estimate",
    "Toshev & Szegedy 2014, DeepPose, Sec. 3",
)
_body_claim(
    "pose-heatmaps",
    (270, 270),
    "Heatmaps: predict probability for each pixel, maybe Gaussian. Can do stages sequentially",
    "heatmap methods predict a per-pixel belief map for each joint (trained against a "
    "Gaussian around the true joint) and refine it in sequential stages",
    "Wei et al. 2016, Convolutional Pose Machines",
)
_body_claim(
    "pose-2d-to-3d-lifting",
    (272, 272),
    "Naive 2D -> 3D lift works. But can't define constraints => 2m arms sometimes",
    "a small MLP lifting 2D joints to 3D is a strong baseline; nothing constrains bone lengths, "
    "hence implausible limbs, which a body model such as SMPL fixes",
    "Martinez et al. 2017, A simple yet effective baseline for 3D human pose estimation",
)
_body_claim(
    "smpl-mesh-and-registration",
    (274, 274),
    "SMPL ... base mesh is ~7k vertices, designed by an artist; scans need to be aligned with "
    "the mesh",
    "SMPL's template has 6890 vertices (an artist-made mesh); training registers the template "
    "to thousands of scans",
    "Loper et al. 2015, SMPL, Sec. 3-4",
)
_body_claim(
    "smpl-predict-parameters",
    (276, 276),
    "Predicting human pose is just predicting beta, theta and camera parameters",
    "with SMPL, a regressor such as HMR outputs shape beta, pose theta and a weak-perspective "
    "camera, and the mesh follows",
    "Kanazawa et al. 2018, End-to-end Recovery of Human Shape and Pose (HMR)",
)
_body_claim(
    "optimisation-based-fitting",
    (278, 280),
    "Predict 2D joint locations, fit SMPL to them by argmin with prior regularization ... "
    "learn F: Delta theta = F(dL_reproj/d theta, theta^t, x)",
    "SMPLify fits SMPL to detected 2D joints by minimising a reprojection error plus pose and "
    "shape priors; learned gradient descent replaces the hand-made update by a network fed "
    "with the gradient, the current parameters and the image evidence",
    "Bogo et al. 2016 (SMPLify); Song et al. 2020, Human Body Model Fitting by Learned "
    "Gradient Descent",
)
_body_claim(
    "animatable-implicit-surfaces",
    (284, 284),
    "Model base shape and w with 2 NISs",
    "animatable implicit avatars learn the canonical (base) shape and the skinning-weight "
    "field w as two neural implicit fields",
    "Chen et al. 2021, SNARF",
)
