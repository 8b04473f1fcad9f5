"""`cheatsheet run lbs`: linear blend skinning's defining properties (weights a partition of
unity reproduce a shared rigid motion; a vertex bound to one bone moves rigidly with it) and the
candy-wrapper artefact measured against an independent computation (the determinant of the
blended 2x2 map), with dual-quaternion skinning as the volume-keeping contrast."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cheatsheet.body import blend_skinning as bs
from cheatsheet.body import lbs, skeleton


def _random_rigid(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    R = lbs.rodrigues(torch.randn(3, generator=g, dtype=torch.float64))
    return lbs.homogeneous(R, torch.randn(3, generator=g, dtype=torch.float64))


@given(seed=st.integers(0, 10_000))
@settings(max_examples=25, deadline=None)
def test_weights_summing_to_one_reproduce_a_shared_rigid_motion(seed):
    body = skeleton.build_mesh(skeleton.BodyParameters())
    rest = torch.from_numpy(body.vertices)
    weights = torch.from_numpy(skeleton.skinning_weights())
    torch.testing.assert_close(weights.sum(0), torch.ones(weights.shape[1], dtype=weights.dtype))
    G = _random_rigid(seed)
    posed = lbs.linear_blend_skinning(rest, weights, G.expand(skeleton.NUM_JOINTS, 4, 4))
    torch.testing.assert_close(posed, rest @ G[:3, :3].T + G[:3, 3])


def test_a_vertex_bound_to_one_bone_moves_rigidly_with_it():
    cylinder = bs.twisted_cylinder(rings=21, segments=12, radius=0.2, blend=0.3)
    G = bs.twist_transforms(cylinder, math.radians(73.0))
    posed = lbs.linear_blend_skinning(cylinder.vertices, cylinder.weights, G)
    for bone in (0, 1):
        only = cylinder.weights[bone] == 1.0
        assert only.sum() > 0
        rest = cylinder.vertices[only]
        torch.testing.assert_close(posed[only], rest @ G[bone, :3, :3].T + G[bone, :3, 3])
    # Twisting about the bone's own axis keeps every vertex's position along the bone.
    torch.testing.assert_close(posed[:, 0], cylinder.vertices[:, 0])


def test_the_rest_ring_area_is_the_regular_polygons():
    segments, radius = 16, 0.2
    cylinder = bs.twisted_cylinder(rings=5, segments=segments, radius=radius, blend=0.3)
    areas = bs.ring_areas(cylinder.vertices, segments)
    expected = 0.5 * segments * radius**2 * math.sin(2 * math.pi / segments)
    torch.testing.assert_close(areas, torch.full_like(areas, expected))


@given(angle=st.floats(0.0, 2 * math.pi), weight=st.floats(0.0, 1.0))
def test_the_area_closed_form_is_the_determinant_of_the_blended_map(angle, weight):
    # In the plane across the bone a vertex with weights (1 - w, w) is mapped by
    # M = (1 - w) I + w R(phi); areas scale by det M.
    c, s = math.cos(angle), math.sin(angle)
    M = (1 - weight) * np.eye(2) + weight * np.array([[c, -s], [s, c]])
    assert bs.lbs_area_ratio(weight, angle) == pytest.approx(np.linalg.det(M), abs=1e-12)


@pytest.mark.parametrize("twist_deg", [0.0, 45.0, 120.0, 180.0])
def test_lbs_shrinks_the_joint_ring_and_dual_quaternions_do_not(twist_deg):
    cylinder = bs.twisted_cylinder(rings=41, segments=24, radius=0.2, blend=0.3)
    angle = math.radians(twist_deg)
    rest = bs.ring_areas(cylinder.vertices, cylinder.segments)
    for method in ("lbs", "dqs"):
        posed = bs.skin(cylinder, angle, method)
        ratio = bs.ring_areas(posed, cylinder.segments) / rest
        c, s = math.cos(angle), math.sin(angle)
        R = np.array([[c, -s], [s, c]])
        expected = [
            np.linalg.det((1 - w) * np.eye(2) + w * R) if method == "lbs" else 1.0
            for w in cylinder.ring_weight.tolist()
        ]
        np.testing.assert_allclose(ratio.numpy(), expected, atol=1e-9)
    joint = int(torch.argmin((cylinder.ring_x - 1.0).abs()))
    assert cylinder.ring_weight[joint] == pytest.approx(0.5)
    lbs_joint = float(
        bs.ring_areas(bs.skin(cylinder, angle), cylinder.segments)[joint] / rest[joint]
    )
    assert lbs_joint == pytest.approx(math.cos(angle / 2) ** 2, abs=1e-9)
    if twist_deg == 180.0:
        assert lbs_joint < 1e-12  # the candy wrapper: the ring collapses to a point
        dqs = bs.skin(cylinder, angle, "dqs")
        radial = dqs[:, 1:].norm(dim=1)
        torch.testing.assert_close(radial, torch.full_like(radial, 0.2))


def test_run_lbs_measures_the_collapse_and_draws_no_loss_curve(tmp_path):
    from cheatsheet.runs.harness import run

    result = run("lbs", device="cpu", steps=5, out=tmp_path, progress=False,
                 options={"segments": 12, "rings": 21})  # fmt: skip
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics == result.metrics and metrics["steps"] == 5
    assert metrics["max_twist_deg"] == pytest.approx(180.0)
    assert metrics["lbs_joint_area_ratio_at_max_twist"] < 1e-12
    assert metrics["dqs_joint_area_ratio_at_max_twist"] == pytest.approx(1.0)
    assert metrics["lbs_volume_ratio_at_max_twist"] < 0.95
    assert metrics["dqs_volume_ratio_at_max_twist"] == pytest.approx(1.0)
    assert metrics["lbs_max_gap_to_closed_form"] < 1e-9
    assert metrics["final_loss"] is None and metrics["body_weights_sum_to_one"] is True
    assert (tmp_path / "candy_wrapper.png").exists() and (tmp_path / "lbs_body.png").exists()
    assert not (tmp_path / "loss.png").exists()
