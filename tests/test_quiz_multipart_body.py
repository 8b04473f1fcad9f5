"""Body-model multipart problems, all five (lbs-blend, pca-shape, smpl-joint,
smpl-pose-correctives, lbs-kinematic-chain; each "-multipart"): every part recomputed from the
values the problem drew (`drawn`) by an independent route (scipy rotations, least squares for
the shape coefficients, the joint regressor applied to the shaped mesh, forward kinematics by
summed angles, sympy expressions), and each part marked on its own."""

from __future__ import annotations

import numpy as np
import pytest
from multipart_topic_checks import (
    check_problem,
    close,
    option_letter,
    right_option,
    same_expression,
)

from quizzes.catalog import load_templates

load_templates()


def _rz(degrees: float):
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("z", degrees, degrees=True).as_matrix()


def _bone(stated: dict):
    """A bone as the prompt states it: {"rotates by": degrees (when it rotates),
    "translates by": [..]}, as a function of a point."""
    from scipy.spatial.transform import Rotation

    rotation = Rotation.from_euler("z", stated.get("rotates by", 0.0), degrees=True)
    shift = np.array(stated["translates by"], float)
    return lambda v: rotation.apply(v) + shift


def check_lbs(q):
    vertex = np.array(q.drawn["t"], float)
    first, second = _bone(q.drawn["G_1"]), _bone(q.drawn["G_2"])
    w1, w2 = q.drawn["weights"]
    axes = {part.drawn["coordinate"] for part in q.parts[:3]}
    assert len(axes) == 1  # (a)-(c) ask about one coordinate
    axis = "xyz".index(axes.pop())
    close(q.parts[0].answer, first(vertex)[axis])
    close(q.parts[1].answer, second(vertex)[axis])
    close(q.parts[2].answer, (w1 * first(vertex) + w2 * second(vertex))[axis])
    assert right_option(q.parts[3]).startswith("a weighted average of rotation matrices")


def check_pca_shape(q):
    S, mu = np.array(q.drawn["S"], float), np.array(q.drawn["mu"], float)
    beta = np.array(q.parts[0].drawn["beta"], float)
    index = q.parts[0].drawn["entry"] - 1
    close(q.parts[0].answer, (mu + np.einsum("ik,k->i", S, beta))[index])
    scan = np.array(q.parts[1].drawn["T_scan"], float)
    k = q.parts[1].drawn["k"] - 1
    fitted, *_ = np.linalg.lstsq(S, scan - mu, rcond=None)  # least squares, not S^T
    close(q.parts[1].answer, fitted[k])
    assert right_option(q.parts[2]).startswith("the shape space is affine")


def check_smpl_joint(q):
    template_mesh = np.array(q.drawn["T_bar"], float)
    axis = "xyz".index(q.drawn["along"])
    moves = np.array(q.drawn["by"], float)  # each vertex's move along that axis per unit beta_1
    weights = np.array(q.drawn["weights"], float)
    beta = float(q.parts[1].drawn["beta_1"])
    shaped = template_mesh.copy()
    shaped[:, axis] += moves * beta
    close(q.parts[0].answer, (weights @ template_mesh)[axis])
    close(q.parts[1].answer, (weights @ shaped)[axis])
    assert right_option(q.parts[2]).startswith("bodies of different shape")


def check_pose_correctives(q):
    import sympy as sp

    degrees = q.drawn["rotates by"]
    c1, c2 = q.drawn["p(theta) coefficients"]  # of (R - R*)_11 and (R - R*)_21
    t = np.array(q.drawn["t"], float)
    R = _rz(degrees)
    p = c1 * (R[0, 0] - 1) + c2 * (R[1, 0] - 0)
    close(q.parts[1].answer, p)
    close(q.parts[2].answer, (R @ (t + np.array([0.0, p, 0.0])))[0])
    theta = sp.Symbol("theta", real=True)
    rotation = sp.Matrix([[sp.cos(theta), -sp.sin(theta)], [sp.sin(theta), sp.cos(theta)]])
    feature = rotation - sp.eye(2)
    truth = sp.nsimplify(c1) * feature[0, 0] + sp.nsimplify(c2) * feature[1, 0]
    assert truth.subs(theta, 0) == 0  # no corrective in the rest pose
    points = [{"theta": 0.4}, {"theta": -2.1}, {"theta": 3.0}]
    same_expression(q.parts[0].answer, truth, {"theta": "real"}, points)
    assert right_option(q.parts[3]).startswith("so that the correctives vanish in the rest pose")
    return {
        0: f"{c1}*cos(theta) + {c2}*sin(theta)",  # R(theta) instead of R(theta) - I
        1: repr(float(c1 * R[0, 0] + c2 * R[1, 0])),
        2: repr(float((R @ t)[0])),  # the corrective forgotten
        3: option_letter(q.parts[3], "so that p(theta) is linear"),
    }


def check_kinematic_chain(q):
    import sympy as sp

    length = float(q.drawn["j_2"][0])
    first = q.drawn["bone 1 rotates by"]
    second = q.drawn["bone 2 rotates by"] * (-1 if q.drawn["direction"] == "clockwise" else 1)
    t = np.array(q.parts[1].drawn["t"], float)
    axis = "xyz".index(q.parts[1].drawn["coordinate"])
    assert q.parts[2].drawn["coordinate"] == q.parts[1].drawn["coordinate"]
    w = q.parts[2].drawn["weights"][0]  # on bone 1
    elbow = np.array([length, 0.0, 0.0])
    # forward kinematics by angles: bone 2's direction turns by theta_1 + theta_2
    on_bone_2 = _rz(first) @ elbow + _rz(first + second) @ (t - elbow)
    on_bone_1 = _rz(first) @ t
    close(q.parts[1].answer, on_bone_2[axis])
    close(q.parts[2].answer, (w * on_bone_1 + (1 - w) * on_bone_2)[axis])
    L, th = sp.Symbol("L", positive=True), sp.Symbol("theta_1", real=True)
    truth = (sp.Matrix([[sp.cos(th), -sp.sin(th)], [sp.sin(th), sp.cos(th)]]) * sp.Matrix([L, 0]))[
        0
    ]
    points = [{"L": 2.0, "theta_1": 0.7}, {"L": 0.5, "theta_1": -2.0}]
    same_expression(q.parts[0].answer, truth, {"L": "positive", "theta_1": "real"}, points)
    assert right_option(q.parts[3]).startswith("G_2 = G_1 T(j_2) R_2 T(-j_2)")
    independent = elbow + _rz(second) @ (t - elbow)  # bone 2 ignoring its parent
    return {
        0: "L*sin(theta_1)",
        1: repr(float(independent[axis])),
        3: option_letter(q.parts[3], "G_2 = T(j_2) R_2 T(-j_2) G_1"),
    }


CHECKS = {
    "lbs-blend-multipart": check_lbs,
    "pca-shape-multipart": check_pca_shape,
    "smpl-joint-multipart": check_smpl_joint,
    "smpl-pose-correctives-multipart": check_pose_correctives,
    "lbs-kinematic-chain-multipart": check_kinematic_chain,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
