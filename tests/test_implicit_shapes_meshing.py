"""Analytic SDFs against their defining equations, marching cubes on the analytic sphere, .obj
round trip, IoU/Chamfer against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas
from cheatsheet.implicit import meshing, shapes


@given(st.floats(0.3, 0.7), st.floats(0.05, 0.25), st.integers(0, 10_000))
def test_torus_sdf_vanishes_exactly_on_the_sheet_equation(major, minor, seed):
    # points on (sqrt(x^2+y^2) - R)^2 + z^2 = r^2 via the parametrisation; elsewhere the SDF's
    # sign is the sign of the sheet's implicit equation
    g = torch.Generator().manual_seed(seed)
    u, v = (2 * math.pi * torch.rand(200, generator=g, dtype=torch.float64) for _ in range(2))
    ring = major + minor * torch.cos(v)
    on = torch.stack([ring * torch.cos(u), ring * torch.sin(u), minor * torch.sin(v)], -1)
    assert shapes.torus_sdf(on, major, minor).abs().max() < 1e-12
    x = torch.rand(500, 3, generator=g, dtype=torch.float64) * 2 - 1
    implicit = (torch.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2) - major) ** 2 + x[:, 2] ** 2 - minor**2
    assert torch.equal(shapes.torus_sdf(x, major, minor) < 0, implicit < 0)


@pytest.mark.parametrize("name", ["sphere", "torus", "box"])
def test_sdfs_satisfy_the_eikonal_equation(device, name):
    shape = shapes.SHAPES[name]
    x = (torch.rand(2000, 3, dtype=torch.float64, device=device) * 2 - 1).requires_grad_(True)
    (grad,) = torch.autograd.grad(shape.sdf(x).sum(), x)
    norms = grad.norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-9)


def test_box_sdf_is_the_distance_outside():
    x = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -0.5], [0.9, 0.7, 0.0]], dtype=torch.float64)
    expected = torch.tensor([0.6, 0.3, math.hypot(0.5, 0.4)], dtype=torch.float64)
    assert torch.allclose(shapes.box_sdf(x, (0.4, 0.3, 0.2)), expected)


def test_sphere_sdf_matches_the_registry():
    x = torch.randn(50, 3, dtype=torch.float64)
    ours = shapes.sphere_sdf(x, 0.7, (0.1, -0.2, 0.3)).numpy()
    registry = formulas.get("implicit-surface").evaluate(
        x=x.numpy(), center=[0.1, -0.2, 0.3], radius=0.7
    )
    np.testing.assert_allclose(ours, registry, atol=1e-12)


@pytest.mark.parametrize("name", ["sphere", "torus", "box"])
def test_surface_points_lie_on_the_surface(name):
    shape = shapes.SHAPES[name]
    points = shape.surface_points(1000, generator=torch.Generator().manual_seed(0))
    assert points.shape == (1000, 3)
    assert shape.sdf(points).abs().max() < 1e-4


def test_torus_surface_samples_are_area_uniform():
    # area of the outer half (cos v > 0) of the torus / total = (pi R + 2 r) / (2 pi R)
    major, minor = 0.5, 0.2
    points = shapes.Shape("torus", (major, minor)).surface_points(
        40_000, generator=torch.Generator().manual_seed(1)
    )
    outer = (points[:, :2].norm(dim=-1) > major).double().mean().item()
    expected = (math.pi * major + 2 * minor) / (2 * math.pi * major)
    assert abs(outer - expected) < 4 * math.sqrt(expected * (1 - expected) / 40_000)


def test_marching_cubes_sphere_vertices_within_a_voxel(tmp_path):
    radius, resolution, bound = 0.6, 32, 1.0
    mesh = meshing.marching_cubes(lambda p: shapes.sphere_sdf(p, radius), resolution, bound)
    voxel = 2 * bound / (resolution - 1)
    distances = np.linalg.norm(mesh.vertices, axis=1)
    assert np.abs(distances - radius).max() < voxel
    assert len(mesh.faces) > 500
    path = meshing.write_obj(mesh, tmp_path / "sphere.obj")
    again = meshing.read_obj(path)
    np.testing.assert_allclose(again.vertices, mesh.vertices, atol=1e-5)
    np.testing.assert_array_equal(again.faces, mesh.faces)


def test_marching_cubes_of_an_empty_field_is_none():
    assert meshing.marching_cubes(lambda p: torch.ones(len(p)), 8) is None


def test_volumetric_iou_of_nested_spheres_is_the_volume_ratio():
    iou = meshing.volumetric_iou(
        lambda p: shapes.sphere_sdf(p, 0.4), lambda p: shapes.sphere_sdf(p, 0.6), n=200_000
    )
    assert abs(iou - (0.4 / 0.6) ** 3) < 0.01


def test_chamfer_of_offset_clouds_is_the_offset():
    points = np.random.default_rng(0).normal(size=(300, 3)) * 5
    assert meshing.chamfer_distance(points, points) == 0.0
    shifted = points + np.array([0.01, 0.0, 0.0])  # nearest neighbour is the shifted twin
    assert abs(meshing.chamfer_distance(points, shifted) - 0.01) < 1e-5


def test_mesh_surface_sampling_lies_on_the_mesh():
    mesh = meshing.marching_cubes(lambda p: shapes.sphere_sdf(p, 0.5), 24)
    samples = mesh.sample_points(2000)
    assert np.abs(np.linalg.norm(samples, axis=1) - 0.5).max() < 2 / 23
