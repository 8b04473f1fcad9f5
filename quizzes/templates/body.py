"""Generated questions on human body models (sheet section 9.3): linear blend skinning of a
vertex, the shrinking of blended rotations (the candy-wrapper artifact), the PCA shape space
T = S beta + mu and its coefficients, a full SMPL vertex (shape and pose correctives, then
skinning) and SMPL's joint regressor J(beta).

Every answer comes from the formula registry (linear-blend-skinning, pca-shape-space,
smpl-model, smpl-joint-regressor). Bone transforms are rotations about the z axis by multiples
of 90 degrees plus integer translations, so everything is exact by hand.
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    grid,
    guard_module,
    matrix,
    numeric,
    show,
    shown,
    vector,
    wrong,
)

TOPIC = "body"
AXES = "xyz"


def _bone(rng: random.Random, rotate: bool):
    """A rigid transform G = [R t; 0 1], R about the z axis by a multiple of 90 degrees; returns
    (G, its text, what the text states: {"rotates by": degrees (when it rotates),
    "translates by": t} for Question.drawn)."""
    import numpy as np

    degrees = rng.choice([90, 180, 270]) if rotate else 0
    c, s = round(np.cos(np.radians(degrees))), round(np.sin(np.radians(degrees)))
    G = np.eye(4)
    G[:2, :2] = [[c, -s], [s, c]]
    G[:3, 3] = [rng.randint(-2, 2), rng.randint(-2, 2), rng.randint(-1, 1)]
    text = (
        f"rotates by {degrees} degrees counter-clockwise about the z axis (seen from +z, "
        "taking x towards y), then translates by "
        if degrees
        else "translates by "
    ) + vector(G[:3, 3])
    stated = {"rotates by": degrees} if degrees else {}
    return G, text, stated | {"translates by": G[:3, 3].tolist()}


def _weights(rng: random.Random) -> list[float]:
    w = rng.choice([0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8])
    return [round(1 - w, 2), w]


@template(
    "lbs-vertex-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("linear-blend-skinning",),
    difficulty=2,
    tags=("skinning",),
)
def lbs_vertex(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    vertex = np.array([rng.randint(-2, 2) for _ in range(3)], float)
    G1, text1, bone1 = _bone(rng, rotate=rng.random() < 0.5)
    G2, text2, bone2 = _bone(rng, rotate=True)
    w = _weights(rng)
    transforms = np.stack([G1, G2])
    posed = formulas.get("linear-blend-skinning").evaluate(
        vertices=vertex[None], weights=np.array(w)[:, None], transforms=transforms
    )[0]
    axis = rng.randrange(3)
    value = posed[axis]
    dominant = (transforms[int(np.argmax(w))] @ np.append(vertex, 1))[axis]
    return numeric(
        question_id,
        TOPIC,
        f"Linear blend skinning: a rest-pose vertex t = {vector(vertex)} is bound to bone 1 "
        f"with weight {show(w[0])} and to bone 2 with weight {show(w[1])}. Bone 1's transform "
        f"G_1 {text1}; G_2 {text2}. What is the {AXES[axis]} coordinate of the posed vertex t'?",
        value,
        "t' = sum_k w_k G_k t (homogeneous coordinates): transform the vertex by every bone, "
        "then blend the results with the skinning weights. See `cheatsheet derive "
        "linear-blend-skinning`.",
        ("linear-blend-skinning",),
        mistakes=wrong(
            (
                dominant,
                "that follows only the bone with the larger weight; LBS blends the "
                "vertex as moved by every bone.",
            ),
            answer=value,
        ),
        drawn={
            "t": vertex.tolist(),
            "weights": w,
            "G_1": bone1,
            "G_2": bone2,
            "coordinate": AXES[axis],
        },
    )


@template(
    "lbs-candy-wrapper-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("linear-blend-skinning",),
    difficulty=3,
    tags=("skinning", "artifacts"),
)
def candy_wrapper(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    phi = rng.choice([60, 90, 120, 150])
    w = rng.choice([0.25, 0.5, 0.75])
    radius = rng.choice([1.0, 2.0])
    c, s = np.cos(np.radians(phi)), np.sin(np.radians(phi))
    transforms = np.stack([np.eye(4), np.eye(4)])
    transforms[1, :2, :2] = [[c, -s], [s, c]]
    posed = formulas.get("linear-blend-skinning").evaluate(
        vertices=np.array([[radius, 0.0, 0.0]]),
        weights=np.array([[1 - w], [w]]),
        transforms=transforms,
    )[0]
    value = float(np.hypot(posed[0], posed[1]))
    return numeric(
        question_id,
        TOPIC,
        f"A forearm vertex lies at distance {show(radius)} from the z axis: t = "
        f"{vector([radius, 0, 0])}. Bone 1 stays put (G_1 = I); bone 2 twists by {phi} degrees "
        f"about the z axis. With skinning weights {show(1 - w)} (bone 1) and {show(w)} "
        "(bone 2), how far from the z axis is the vertex after linear blend skinning?",
        value,
        "LBS averages the transformed positions, and an average of rotations is not a "
        "rotation: the point moves inside the circle (the candy-wrapper artifact). "
        "See `cheatsheet derive linear-blend-skinning`.",
        ("linear-blend-skinning",),
        mistakes=wrong(
            (
                radius,
                "blending rotations does not keep the distance: the blended matrix "
                "(1-w) I + w R shrinks the cross-section.",
            ),
            answer=value,
        ),
        drawn={"t": [radius, 0.0, 0.0], "twists by": phi, "weights": [1 - w, w]},
    )


def _shape_space(rng: random.Random, vertices: int = 2, components: int = 2):
    import numpy as np

    # Orthonormal principal directions (as PCA gives): each column is a 3-4-5 rotation of two
    # coordinate axes, and the two columns use disjoint coordinates.
    coordinates = list(range(3 * vertices))
    rng.shuffle(coordinates)
    S = np.zeros((3 * vertices, components))
    for k in range(components):
        c, s = rng.choice([(0.6, 0.8), (0.8, 0.6), (0.6, -0.8), (-0.8, 0.6)])
        first, second = coordinates[2 * k], coordinates[2 * k + 1]
        S[first, k], S[second, k] = c, s
    mu = np.array([grid(rng, -1, 1, 0.5) for _ in range(3 * vertices)])
    beta = np.array([rng.choice([-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2]) for _ in range(components)])
    return S, mu, beta


@template(
    "pca-shape-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("pca-shape-space",),
    difficulty=1,
    tags=("shape-space", "pca"),
)
def pca_shape(rng: random.Random, question_id: str) -> Question:
    import formulas

    S, mu, beta = _shape_space(rng)
    T = formulas.get("pca-shape-space").evaluate(S=S, beta=beta, mu=mu)
    # a coordinate that a principal direction moves (elsewhere T = mu, the answer in the prompt)
    index = rng.choice([i for i in range(len(T)) if S[i].any()])
    value = T[index]
    return numeric(
        question_id,
        TOPIC,
        "A PCA body shape space for a mesh of 2 vertices (coordinates stacked x1, y1, z1, x2, "
        f"y2, z2) has the orthonormal principal directions S = {matrix(S)} (6 x 2, one row per "
        "coordinate) "
        f"and the mean shape mu = {vector(mu)}. For the shape coefficients beta = "
        f"{vector(beta)}, what is the {'xyz'[index % 3]} coordinate of vertex {index // 3 + 1} "
        f"(entry {index + 1} of T, counting from 1)?",
        value,
        "T = S beta + mu: the mean shape plus a linear combination of the principal "
        "directions. See `cheatsheet derive pca-shape-space`.",
        ("pca-shape-space",),
        mistakes=wrong(
            (value - mu[index], "the mean shape mu is missing."),
            answer=value,
        ),
        drawn={"S": S.tolist(), "mu": mu.tolist(), "beta": beta.tolist(), "entry": index + 1},
    )


@template(
    "pca-shape-coefficients-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("pca-shape-space",),
    difficulty=2,
    tags=("shape-space", "pca"),
)
def pca_coefficients(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    # orthonormal directions in R^3 from a 3-4-5 rotation of two coordinate axes
    c, s = rng.choice([(0.6, 0.8), (0.8, 0.6), (0.6, -0.8), (0.8, -0.6)])
    S = np.array([[c, 0.0], [s, 0.0], [0.0, 1.0]])
    if rng.random() < 0.5:
        S = S[[2, 0, 1]]
    mu = np.array([grid(rng, -1, 1, 0.5) for _ in range(3)])
    beta = np.array([grid(rng, -2, 2, 0.5) for _ in range(2)])
    T = formulas.get("pca-shape-space").evaluate(S=S, beta=beta, mu=mu)
    k = rng.randrange(2)
    value = beta[k]
    return numeric(
        question_id,
        TOPIC,
        "A one-vertex PCA shape space has orthonormal principal directions S = "
        f"{matrix(S)} (3 x 2) and mean mu = {vector(mu)}. A scan gives the vertex T = "
        f"{vector(T)}, which lies in the shape space. What is its shape coefficient "
        f"beta_{k + 1}?",
        value,
        "T = S beta + mu with orthonormal columns of S, so beta = S^T (T - mu): subtract the "
        "mean, then project. See `cheatsheet derive pca-shape-space`.",
        ("pca-shape-space",),
        mistakes=wrong(
            ((S.T @ T)[k], "subtract the mean shape before projecting: beta = S^T (T - mu)."),
            answer=value,
        ),
        drawn={
            "S": S.tolist(),
            "mu": mu.tolist(),
            "T": [shown(v) for v in T],  # as printed (exact here: sums of tenths)
            "k": k + 1,
        },
    )


@template(
    "smpl-vertex-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("smpl-model", "linear-blend-skinning"),
    difficulty=3,
    tags=("smpl", "skinning"),
)
def smpl_vertex(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    template_vertex = np.array([rng.randint(-2, 2) for _ in range(3)], float)
    shape_dirs = np.array([[grid(rng, -1, 1, 0.5) for _ in range(2)] for _ in range(3)])
    beta = np.array([grid(rng, -2, 2, 0.5) for _ in range(2)])
    pose_dirs = np.array([[grid(rng, -1, 1, 0.5)] for _ in range(3)])
    pose_feature = np.array([rng.choice([-1.0, -0.5, 0.5, 1.0])])
    G1, text1, bone1 = _bone(rng, rotate=False)
    G2, text2, bone2 = _bone(rng, rotate=True)
    w = _weights(rng)
    transforms, weights = np.stack([G1, G2]), np.array(w)[:, None]
    posed = formulas.get("smpl-model").evaluate(
        template=template_vertex[None],
        shape_dirs=shape_dirs[None],
        beta=beta,
        pose_dirs=pose_dirs[None],
        pose_feature=pose_feature,
        weights=weights,
        transforms=transforms,
    )[0]
    lbs = formulas.get("linear-blend-skinning")
    plain = lbs.evaluate(vertices=template_vertex[None], weights=weights, transforms=transforms)
    shape_only = lbs.evaluate(
        vertices=(template_vertex + shape_dirs @ beta)[None], weights=weights, transforms=transforms
    )
    axis = rng.randrange(3)
    value = posed[axis]
    return numeric(
        question_id,
        TOPIC,
        f"SMPL for one vertex: template t = {vector(template_vertex)}, shape blend shapes "
        f"S = {matrix(shape_dirs)} (3 x 2) with beta = {vector(beta)}, pose blend shape P = "
        f"{matrix(pose_dirs)} (3 x 1) with pose feature (R(theta) - R(theta*)) = "
        f"{vector(pose_feature)}. The vertex has skinning weights {show(w[0])} (bone 1) and "
        f"{show(w[1])} (bone 2); G_1 {text1}; G_2 {text2}. What is the {AXES[axis]} coordinate "
        "of the posed vertex?",
        value,
        "t' = sum_k w_k G_k (t + s(beta) + p(theta)) with s = S beta, p = P (R(theta) - "
        "R(theta*)): add both correctives in the rest pose, then skin. See `cheatsheet derive "
        "smpl-model`.",
        ("smpl-model",),
        mistakes=wrong(
            (
                plain[0, axis],
                "that is plain LBS of the template; SMPL first adds the shape and "
                "pose blend shapes.",
            ),
            (shape_only[0, axis], "the pose corrective P (R(theta) - R(theta*)) is missing."),
            answer=value,
        ),
        drawn={
            "t": template_vertex.tolist(),
            "S": shape_dirs.tolist(),
            "beta": beta.tolist(),
            "P": pose_dirs.tolist(),
            "(R(theta) - R(theta*))": pose_feature.tolist(),
            "weights": w,
            "G_1": bone1,
            "G_2": bone2,
            "coordinate": AXES[axis],
        },
    )


@template(
    "smpl-joint-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("smpl-joint-regressor",),
    difficulty=2,
    tags=("smpl", "joints"),
)
def smpl_joint(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    regressor = np.array([rng.choice([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5], [0.2, 0.3, 0.5]])])
    template_vertices = np.array([[rng.randint(-2, 2) for _ in range(3)] for _ in range(3)], float)
    shape_dirs = np.array([[[grid(rng, -1, 1, 0.5)] for _ in range(3)] for _ in range(3)])
    beta = np.array([grid(rng, -2, 2, 0.5)])
    joint = formulas.get("smpl-joint-regressor").evaluate(
        regressor=regressor, template=template_vertices, shape_dirs=shape_dirs, beta=beta
    )[0]
    axis = rng.randrange(3)
    value = joint[axis]
    return numeric(
        question_id,
        TOPIC,
        f"SMPL regresses joint locations from the shaped mesh: J(beta) = J_reg (t + S beta). A "
        f"joint's regressor row is {vector(regressor[0])} over three vertices with template "
        f"positions {matrix(template_vertices)} (one row per vertex) and one shape blend "
        f"shape with per-vertex offsets {matrix(shape_dirs[:, :, 0])}. For beta = "
        f"{show(beta[0])}, what is the joint's {AXES[axis]} coordinate?",
        value,
        "J(beta) = J_reg (t + S beta): the joints move with the body shape, so they are "
        "regressed from the shaped rest mesh. See `cheatsheet derive smpl-joint-regressor`.",
        ("smpl-joint-regressor",),
        mistakes=wrong(
            (
                (regressor @ template_vertices)[0, axis],
                "that regresses from the template alone; "
                "the shape offsets S beta move the joints too.",
            ),
            answer=value,
        ),
        drawn={
            "regressor row": regressor[0].tolist(),
            "template positions": template_vertices.tolist(),
            "offsets": shape_dirs[:, :, 0].tolist(),
            "beta": float(beta[0]),
            "coordinate": AXES[axis],
        },
    )


@template(
    "lbs-blend-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("linear-blend-skinning",),
    difficulty=3,
    tags=("skinning", "multipart"),
)
def lbs_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    vertex = np.array([rng.choice([-2, -1, 1, 2]) for _ in range(2)] + [rng.randint(-1, 1)], float)
    G1, text1, bone1 = _bone(rng, rotate=rng.random() < 0.5)
    G2, text2, bone2 = _bone(rng, rotate=True)
    w = _weights(rng)
    lbs = formulas.get("linear-blend-skinning")
    alone = [
        lbs.evaluate(
            vertices=vertex[None], weights=np.array([[1.0], [0.0]]), transforms=np.stack([G, G])
        )[0]
        for G in (G1, G2)
    ]
    posed = lbs.evaluate(
        vertices=vertex[None], weights=np.array(w)[:, None], transforms=np.stack([G1, G2])
    )[0]
    axis = rng.randrange(2)
    name = AXES[axis]
    return problem(
        question_id,
        TOPIC,
        f"Linear blend skinning: the rest-pose vertex t = {vector(vertex)} is bound to bone 1 "
        f"with weight {show(w[0])} and to bone 2 with weight {show(w[1])}. G_1 {text1}; "
        f"G_2 {text2}.",
        [
            part(
                "numeric",
                f"What is the {name} coordinate of G_1 t (bone 1 alone)?",
                alone[0][axis],
                "Rotate, then translate.",
                drawn={"coordinate": name},
            ),
            part(
                "numeric",
                f"What is the {name} coordinate of G_2 t (bone 2 alone)?",
                alone[1][axis],
                "Rotate, then translate.",
                drawn={"coordinate": name},
            ),
            part(
                "numeric",
                f"What is the {name} coordinate of the skinned vertex t'?",
                posed[axis],
                "t' = w_1 G_1 t + w_2 G_2 t.",
                drawn={"coordinate": name},
            ),
            choice_part(
                rng,
                "Why do strongly twisted joints look pinched (the candy-wrapper artifact) "
                "under LBS?",
                "a weighted average of rotation matrices is not a rotation: it shrinks the "
                "cross-section",
                {
                    "the weights do not sum to one": "they do (here "
                    f"{show(w[0])} + {show(w[1])} = 1); the blend itself shrinks",
                    "the translations are averaged but the rotations are not": "LBS averages "
                    "the whole transformed positions, rotations included",
                    "each vertex follows only its dominant bone": "that is rigid skinning, "
                    "which tears instead of pinching",
                },
                "(1 - w) I + w R has determinant below 1 for a twist, so points move inwards.",
            ),
        ],
        formulas=("linear-blend-skinning",),
        carried={2: f"(a) {number(alone[0][axis])}; (b) {number(alone[1][axis])}"},
        drawn={"t": vertex.tolist(), "weights": w, "G_1": bone1, "G_2": bone2},
    )


@template(
    "pca-shape-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("pca-shape-space",),
    difficulty=2,
    tags=("shape-space", "pca", "multipart"),
)
def pca_shape_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    S, mu, beta = _shape_space(rng)
    T = formulas.get("pca-shape-space").evaluate(S=S, beta=beta, mu=mu)
    index = rng.choice([i for i in range(len(T)) if S[i].any()])
    k = rng.randrange(2)
    scan = T + np.array([grid(rng, -0.2, 0.2, 0.1) for _ in range(len(T))])
    recovered = S.T @ (scan - mu)
    return problem(
        question_id,
        TOPIC,
        "A PCA body shape space for a mesh of 2 vertices (coordinates stacked x1, y1, z1, x2, "
        f"y2, z2) has the orthonormal principal directions S = {matrix(S)} (6 x 2, one row per "
        f"coordinate) and the mean shape mu = {vector(mu)}.",
        [
            part(
                "numeric",
                f"For beta = {vector(beta)}, what is entry {index + 1} of the mesh "
                "T (counting from 1)?",
                T[index],
                "T = S beta + mu.",
                drawn={"beta": beta.tolist(), "entry": index + 1},
            ),
            part(
                "numeric",
                f"A scan gives the mesh T_scan = {vector(scan, 3)}. What is its "
                f"shape coefficient beta_{k + 1} (counting from 1)?",
                recovered[k],
                "beta = S^T (T_scan - mu): S is orthonormal.",
                # as printed (3 digits; exact here: sums of tenths)
                drawn={"T_scan": [shown(v, 3) for v in scan], "k": k + 1},
            ),
            choice_part(
                rng,
                "Why subtract mu before projecting onto S?",
                "the shape space is affine: S spans deviations from the mean, so the mean must "
                "be removed first",
                {
                    "to normalise the scan's scale": "subtracting a vector changes no scale",
                    "it is not needed because S is orthonormal": "orthonormality gives S^T as "
                    "the inverse on the span; the offset mu still has to go",
                    "to make the coefficients positive": "coefficients have either sign",
                },
                "S^T (T - mu) is the least-squares fit of T - mu in the span of S.",
            ),
        ],
        formulas=("pca-shape-space",),
        carried={1: f"(a) {number(T[index])}"},
        drawn={"S": S.tolist(), "mu": mu.tolist()},
    )


@template(
    "smpl-joint-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("smpl-joint-regressor",),
    difficulty=2,
    tags=("smpl", "joints", "multipart"),
)
def smpl_joint_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, matrix, number, part, show, vector

    template_mesh = np.array([[grid(rng, -2, 2, 1) for _ in range(3)] for _ in range(3)])
    weights = rng.choice([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5], [0.2, 0.3, 0.5]])
    shape_dirs = np.zeros((3, 3, 1))
    axis = rng.randrange(3)
    for v in range(3):
        shape_dirs[v, axis, 0] = rng.choice([-1.0, 0.5, 1.0, 2.0])
    beta = [rng.choice([-2.0, -1.0, 1.0, 1.5])]
    regressor = formulas.get("smpl-joint-regressor")
    rest = np.asarray(
        regressor.evaluate(
            regressor=[weights], template=template_mesh, shape_dirs=shape_dirs, beta=[0.0]
        )
    )[0]
    shaped = np.asarray(
        regressor.evaluate(
            regressor=[weights], template=template_mesh, shape_dirs=shape_dirs, beta=beta
        )
    )[0]
    name = "xyz"[axis]
    return problem(
        question_id,
        TOPIC,
        f"A toy SMPL mesh has 3 template vertices (rows) T_bar = {matrix(template_mesh)}. One "
        f"shape direction moves the vertices along {name} by {vector(shape_dirs[:, axis, 0])} "
        f"per unit beta_1, and a joint is regressed with the weights {vector(weights)}.",
        [
            part(
                "numeric",
                f"What is the joint's {name} coordinate for beta = 0?",
                rest[axis],
                "J = sum_v w_v T_bar_v.",
            ),
            part(
                "numeric",
                f"What is it for beta_1 = {show(beta[0])}?",
                shaped[axis],
                "J(beta) = W (T_bar + S beta): regress the shaped mesh.",
                drawn={"beta_1": beta[0]},
            ),
            choice_part(
                rng,
                "Why does SMPL regress joints from the shaped mesh instead of fixing them?",
                "bodies of different shape have their joints in different places; regressing "
                "from T_bar + S beta moves them with the shape",
                {
                    "to let the pose theta move the joints": "the pose rotates about the "
                    "joints; it does not place them",
                    "because the regressor is learned per frame": "W is fixed, learned once",
                    "to make skinning weights unnecessary": "LBS still blends with the "
                    "skinning weights",
                },
                "Loper et al.: J(beta) = J (T_bar + B_S(beta)).",
            ),
        ],
        formulas=("smpl-joint-regressor",),
        carried={1: f"(a) {number(rest[axis])}"},
        drawn={
            "T_bar": template_mesh.tolist(),
            "along": name,
            "by": shape_dirs[:, axis, 0].tolist(),
            "weights": weights,
        },
    )


def _rot_z(degrees: float):
    """The 4 x 4 homogeneous rotation about the z axis, counter-clockwise seen from +z."""
    import numpy as np

    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    G = np.eye(4)
    G[:2, :2] = [[c, -s], [s, c]]
    return G


@template(
    "smpl-pose-correctives-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("smpl-pose-correctives", "linear-blend-skinning"),
    difficulty=3,
    tags=("smpl", "pose-blend-shapes", "multipart"),
)
def pose_correctives_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    degrees = rng.choice([30, 45, 60, 90, 120, 135, 150])
    c1, c2 = (rng.choice([-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0]) for _ in range(2))
    vertex = np.array([rng.choice([-2, -1, 1, 2]), rng.choice([-1, 1, 2]), 0.0])
    pose_dirs = np.zeros((1, 3, 9))
    pose_dirs[0, 1, 0], pose_dirs[0, 1, 3] = c1, c2  # y offset from (R - I)[1][1], (R - I)[2][1]
    offset = formulas.get("smpl-pose-correctives").evaluate(
        pose_dirs=pose_dirs, axis_angles=[[0.0, 0.0, math.radians(degrees)]]
    )[0]
    posed = formulas.get("linear-blend-skinning").evaluate(
        vertices=(vertex + offset)[None], weights=[[1.0]], transforms=_rot_z(degrees)[None]
    )[0]
    return problem(
        question_id,
        TOPIC,
        "A toy SMPL model with one joint at the origin. In the pose theta the joint rotates by "
        f"{degrees} degrees counter-clockwise about the z axis (seen from +z, taking x towards "
        "y); the rest pose theta* has R(theta*) = I. One pose blend shape moves the rest-pose "
        f"vertex t = {vector(vertex)} along y only, by p(theta) = {show(c1)} (R(theta) - "
        f"R(theta*))_11 + {show(c2)} (R(theta) - R(theta*))_21 (matrix entries row, column, "
        "counting from 1).",
        [
            part(
                "symbolic",
                "Write the y offset p as a function of the rotation angle theta (in radians).",
                f"{show(c1)}*(cos(theta) - 1) + {show(c2)}*sin(theta)",
                "R(theta)_11 - 1 = cos theta - 1 and R(theta)_21 - 0 = sin theta.",
                symbols={"theta": "real"},
            ),
            part(
                "numeric",
                "What is p for this pose?",
                offset[1],
                f"theta = {degrees} degrees in the expression of (a).",
            ),
            part(
                "numeric",
                "The vertex is skinned with weight 1 to this joint: t' = R(theta) (t + p(theta) "
                "e_y). What is the x coordinate of t'?",
                posed[0],
                "Add the corrective in the rest pose, then rotate.",
            ),
            choice_part(
                rng,
                "Why does SMPL feed R(theta) - R(theta*) rather than R(theta) to the pose blend "
                "shapes?",
                "so that the correctives vanish in the rest pose: the template T_bar stays the "
                "rest-pose mesh and shape and pose offsets do not mix there",
                {
                    "so that p(theta) is linear in the joint angles": "the entries cos theta - 1 "
                    "and sin theta are not linear in theta",
                    "because R(theta) - R(theta*) is again a rotation": "a difference of "
                    "rotations is not a rotation (here its determinant is not 1)",
                    "to make the skinning weights sum to one": "the weights are a separate "
                    "constraint of LBS",
                },
                "At theta = theta*, R - R(theta*) = 0, so p(theta*) = 0 and t + s(beta) is the "
                "rest mesh.",
            ),
        ],
        formulas=("smpl-pose-correctives", "linear-blend-skinning"),
        carried={2: f"(b) p = {number(offset[1])}"},
        drawn={
            "rotates by": degrees,
            "t": vertex.tolist(),
            # p(theta) = c[0] (R(theta) - R(theta*))_11 + c[1] (R(theta) - R(theta*))_21
            "p(theta) coefficients": [c1, c2],
        },
    )


@template(
    "lbs-kinematic-chain-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("linear-blend-skinning",),
    difficulty=3,
    tags=("skinning", "kinematic-chain", "multipart"),
)
def kinematic_chain_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    length = rng.choice([1, 2, 3])
    first, second = rng.choice([30, 45, 60, 90, 120]), rng.choice([30, 45, 60, 90, -45, -90])
    vertex = np.array([length + rng.choice([0.5, 1.0]), rng.choice([-0.5, 0.5]), 0.0])
    w = rng.choice([0.25, 0.5, 0.75])
    elbow = np.eye(4)
    elbow[0, 3] = length
    back = np.eye(4)
    back[0, 3] = -length
    G1 = _rot_z(first)
    G2 = G1 @ elbow @ _rot_z(second) @ back
    lbs = formulas.get("linear-blend-skinning")
    alone = lbs.evaluate(vertices=vertex[None], weights=[[0.0], [1.0]], transforms=[G1, G2])[0]
    blended = lbs.evaluate(vertices=vertex[None], weights=[[w], [1 - w]], transforms=[G1, G2])[0]
    axis = rng.randrange(2)
    name = AXES[axis]
    direction = "counter-clockwise" if second > 0 else "clockwise"
    return problem(
        question_id,
        TOPIC,
        "A planar arm in the xy plane: joint 1 (the shoulder) at the origin, joint 2 (the "
        f"elbow) at rest at j_2 = [{length}, 0, 0]. In the pose, bone 1 rotates by {first} "
        "degrees counter-clockwise about the z axis through joint 1 (seen from +z, taking x "
        f"towards y), and bone 2 rotates by a further {abs(second)} degrees {direction} about "
        "the z axis through joint 2, relative to bone 1.",
        [
            part(
                "symbolic",
                "Write the posed x coordinate of joint 2 using L = |j_2| (the bone length) and "
                "theta_1 (bone 1's angle, counter-clockwise, in radians).",
                "L*cos(theta_1)",
                "The elbow rides on bone 1: G_1 j_2 = L (cos theta_1, sin theta_1, 0).",
                symbols={"L": "positive", "theta_1": "real"},
            ),
            part(
                "numeric",
                f"The rest-pose vertex t = {vector(vertex)} is bound to bone 2 alone (weight 1). "
                f"What is the {name} coordinate of its posed position?",
                alone[axis],
                "Rotate about the elbow by bone 2's own angle, then apply bone 1's transform.",
                drawn={"t": vertex.tolist(), "coordinate": name},
            ),
            part(
                "numeric",
                f"The same vertex with weight {show(w)} on bone 1 and {show(1 - w)} on bone 2: "
                f"what is the {name} coordinate of the skinned vertex?",
                blended[axis],
                "t' = w_1 G_1 t + w_2 G_2 t.",
                drawn={"weights": [w, 1 - w], "coordinate": name},
            ),
            choice_part(
                rng,
                "Which is the world transform G_2 of bone 2, and why? (T(j) translates by j, "
                "R_2 is bone 2's own rotation.)",
                "G_2 = G_1 T(j_2) R_2 T(-j_2): rotate about the elbow in bone 1's frame, then "
                "apply the parent's transform, so moving the shoulder moves everything below it",
                {
                    "G_2 = T(j_2) R_2 T(-j_2): each bone's transform is independent of its "
                    "parent": "then bending the shoulder would leave the forearm where it was",
                    "G_2 = T(j_2) R_2 T(-j_2) G_1: the parent's transform is applied last": (
                        "after G_1 the elbow has moved: this turns about the rest elbow "
                        "position, the wrong point"
                    ),
                    "G_2 = G_1 + T(j_2) R_2 T(-j_2): the transforms add along the chain": (
                        "rigid transforms compose by products, not sums"
                    ),
                },
                "Forward kinematics: G_k = G_parent(k) T(j_k) R_k T(-j_k), a product along the "
                "kinematic chain.",
            ),
        ],
        formulas=("linear-blend-skinning",),
        carried={2: f"(b) {number(alone[axis])}"},
        drawn={
            "j_2": [length, 0, 0],
            "bone 1 rotates by": first,
            "bone 2 rotates by": abs(second),
            "direction": direction,  # of bone 2's turn
        },
    )


guard_module(__name__)
