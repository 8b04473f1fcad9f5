"""A procedurally built articulated body: a kinematic tree of 16 joints and a mesh of tubes
(one per bone) with smooth skinning weights. It stands in for SMPL's artist-made template, which
cannot be shipped: the same topology for every body, so that bodies can be vectorised and
analysed with PCA (sheet 9.3).

Coordinates: y up, x to the body's left, z forward, metres; the T-pose has arms along +-x.
A bone runs from a joint to one of its children (or to a free end for head, hands and feet) and is
moved by the joint it starts at (the joint's rotation turns everything below it). Every tube's
first ring is centred on its start joint, which is what the joint regressor uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

JOINT_NAMES = (
    "pelvis", "spine", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_hip", "left_knee", "left_ankle",
    "right_hip", "right_knee", "right_ankle",
)  # fmt: skip
PARENTS = (-1, 0, 1, 2, 1, 4, 5, 1, 7, 8, 0, 10, 11, 0, 13, 14)
NUM_JOINTS = len(JOINT_NAMES)


@dataclass(frozen=True)
class BodyParameters:
    """What varies between the procedural people (the 'scans' of the shape space)."""

    height: float = 1.0  # overall scale
    torso: float = 0.5  # pelvis -> neck
    shoulder_width: float = 0.4
    hip_width: float = 0.2
    arm: float = 0.55  # shoulder -> wrist
    leg: float = 0.85  # hip -> ankle
    girth: float = 1.0  # limb radius scale
    belly: float = 1.0  # torso radius scale


def random_parameters(rng: np.random.Generator) -> BodyParameters:
    return BodyParameters(
        height=rng.uniform(0.85, 1.15),
        torso=rng.uniform(0.42, 0.58),
        shoulder_width=rng.uniform(0.32, 0.48),
        hip_width=rng.uniform(0.15, 0.26),
        arm=rng.uniform(0.48, 0.62),
        leg=rng.uniform(0.75, 0.95),
        girth=rng.uniform(0.75, 1.3),
        belly=rng.uniform(0.8, 1.5),
    )


def joint_positions(p: BodyParameters) -> np.ndarray:
    """Rest (T-pose) joint locations [16, 3]."""
    s = p.height
    pelvis = np.array([0.0, p.leg + 0.08, 0.0])
    spine = pelvis + [0, 0.45 * p.torso, 0]
    neck = pelvis + [0, p.torso, 0]
    head = neck + [0, 0.1, 0]
    shoulder_y = neck[1] - 0.04
    j = {
        "pelvis": pelvis, "spine": spine, "neck": neck, "head": head,
        "left_shoulder": np.array([p.shoulder_width / 2, shoulder_y, 0]),
        "right_shoulder": np.array([-p.shoulder_width / 2, shoulder_y, 0]),
        "left_hip": np.array([p.hip_width / 2, p.leg + 0.02, 0]),
        "right_hip": np.array([-p.hip_width / 2, p.leg + 0.02, 0]),
    }  # fmt: skip
    for side, sign in (("left", 1), ("right", -1)):
        shoulder = j[f"{side}_shoulder"]
        j[f"{side}_elbow"] = shoulder + [sign * 0.5 * p.arm, 0, 0]
        j[f"{side}_wrist"] = shoulder + [sign * p.arm, 0, 0]
        hip = j[f"{side}_hip"]
        j[f"{side}_knee"] = hip - [0, 0.5 * p.leg, 0]
        j[f"{side}_ankle"] = hip - [0, p.leg - 0.04, 0]
    return s * np.stack([j[name] for name in JOINT_NAMES])


@dataclass(frozen=True)
class Tube:
    joint: int  # the bone's joint (drives it)
    end: int  # the child joint at its far end, or -1 for a free end
    radius_start: float
    radius_end: float


def tubes() -> list[Tube]:
    """The bones of the mesh; radii are multiplied by girth (limbs) or belly (torso)."""
    t = [
        Tube(0, 1, 0.13, 0.12), Tube(1, 2, 0.12, 0.07), Tube(2, 3, 0.05, 0.05),
        Tube(3, -1, 0.09, 0.08),  # head
        Tube(1, 4, 0.07, 0.06), Tube(4, 5, 0.05, 0.04), Tube(5, 6, 0.04, 0.03),
        Tube(6, -1, 0.035, 0.03),
        Tube(1, 7, 0.07, 0.06), Tube(7, 8, 0.05, 0.04), Tube(8, 9, 0.04, 0.03),
        Tube(9, -1, 0.035, 0.03),
        Tube(0, 10, 0.09, 0.08), Tube(10, 11, 0.075, 0.055), Tube(11, 12, 0.05, 0.04),
        Tube(12, -1, 0.04, 0.035),
        Tube(0, 13, 0.09, 0.08), Tube(13, 14, 0.075, 0.055), Tube(14, 15, 0.05, 0.04),
        Tube(15, -1, 0.04, 0.035),
    ]  # fmt: skip
    return t


TORSO_TUBES = {0, 1}
RINGS, SEGMENTS = 6, 8


def _free_end_offset(joint: int, joints: np.ndarray, scale: float) -> np.ndarray:
    name = JOINT_NAMES[joint]
    if name == "head":
        return np.array([0, 0.2, 0.0]) * scale
    if name.endswith("wrist"):
        return np.array([0.1 * np.sign(joints[joint, 0]), 0, 0]) * scale
    return np.array([0, -0.04, 0.14]) * scale  # feet point forward


def _frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors orthogonal to the axis (a fixed choice, so all bodies share it)."""
    axis = axis / np.linalg.norm(axis)
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    return u, np.cross(axis, u)


@dataclass
class BodyMesh:
    vertices: np.ndarray  # [V, 3]
    joints: np.ndarray  # [K, 3]


def build_mesh(p: BodyParameters) -> BodyMesh:
    """Vertices of the body with parameters p (topology: `faces()`, weights:
    `skinning_weights()`)."""
    joints = joint_positions(p)
    vertices = []
    for index, tube in enumerate(tubes()):
        start = joints[tube.joint]
        stop = (
            joints[tube.end]
            if tube.end >= 0
            else start + _free_end_offset(tube.joint, joints, p.height)
        )
        axis = stop - start
        u, v = _frame(axis)
        radius_scale = (p.belly if index in TORSO_TUBES else p.girth) * p.height
        for ring in range(RINGS):
            s = ring / (RINGS - 1)
            radius = radius_scale * ((1 - s) * tube.radius_start + s * tube.radius_end)
            center = start + s * axis
            for k in range(SEGMENTS):
                phi = 2 * math.pi * k / SEGMENTS
                vertices.append(center + radius * (math.cos(phi) * u + math.sin(phi) * v))
    return BodyMesh(np.asarray(vertices), joints)


def faces() -> np.ndarray:
    """Triangles between consecutive rings of every tube, plus fans closing the free ends."""
    out = []
    per_tube = RINGS * SEGMENTS
    for index, tube in enumerate(tubes()):
        base = index * per_tube
        for ring in range(RINGS - 1):
            for k in range(SEGMENTS):
                a = base + ring * SEGMENTS + k
                b = base + ring * SEGMENTS + (k + 1) % SEGMENTS
                out += [(a, b, a + SEGMENTS), (b, b + SEGMENTS, a + SEGMENTS)]
        if tube.end < 0:  # close the free end with a fan
            last = base + (RINGS - 1) * SEGMENTS
            out += [(last, last + k, last + k + 1) for k in range(1, SEGMENTS - 1)]
    return np.asarray(out, dtype=np.int64)


def skinning_weights(blend: float = 0.3) -> np.ndarray:
    """w[k, i]: a vertex of the tube of joint j at fraction s along it belongs to j, blended
    linearly towards j's parent over the first `blend` of the tube and towards the child joint
    over the last `blend` (half weight at the joints themselves). Columns sum to 1."""
    rows = []
    for tube in tubes():
        parent = PARENTS[tube.joint]
        for ring in range(RINGS):
            s = ring / (RINGS - 1)
            w = np.zeros(NUM_JOINTS)
            to_parent = 0.5 * max(0.0, 1 - s / blend) if parent >= 0 else 0.0
            to_child = 0.5 * max(0.0, (s - (1 - blend)) / blend) if tube.end >= 0 else 0.0
            w[tube.joint] = 1 - to_parent - to_child
            if to_parent:
                w[parent] += to_parent
            if to_child:
                w[tube.end] += to_child
            rows += [w] * SEGMENTS
    return np.asarray(rows).T  # [K, V]


def joint_regressor() -> np.ndarray:
    """[K, V]: joint j = mean of the first rings of the tubes that start at j (each centred on
    j), so it is exact for every procedural body and linear in the vertices like SMPL's."""
    regressor = np.zeros((NUM_JOINTS, len(tubes()) * RINGS * SEGMENTS))
    for index, tube in enumerate(tubes()):
        first = index * RINGS * SEGMENTS
        regressor[tube.joint, first : first + SEGMENTS] = 1.0
    return regressor / regressor.sum(1, keepdims=True)
