"""Every implicit/body run end to end through the harness, tiny: metrics.json with the
advertised metric, samples.png, .obj meshes for the shape models, finite numbers."""

from __future__ import annotations

import json
import math

import pytest

from cheatsheet.runs.harness import run

TINY_SCENE = {"size": 8, "views": 4, "test_views": 2}
CASES = {
    "occupancy": (
        {
            "train_shapes": 3,
            "test_shapes": 2,
            "hidden": 16,
            "c_dim": 8,
            "eval_points": 2000,
            "mesh_resolution": 12,
        },
        "test_iou",
        False,
    ),
    "deepsdf": (
        {
            "train_shapes": 2,
            "hidden": 32,
            "eval_points": 2000,
            "mesh_resolution": 12,
            "infer_steps": 3,
        },
        "train_iou",
        False,
    ),
    "igr": ({"points": 256, "hidden": 32, "mesh_resolution": 16}, "chamfer_l1", True),
    "dvr": (
        {**TINY_SCENE, "batch_rays": 64, "hidden": 16, "mesh_resolution": 16},
        "psnr_test",
        True,
    ),
    "nerf": ({**TINY_SCENE, "batch_rays": 32, "n_coarse": 8, "n_fine": 8}, "psnr_test", False),
    "nerf-hashgrid": (
        {**TINY_SCENE, "batch_rays": 32, "n_coarse": 8, "n_fine": 8},
        "psnr_test_positional",
        False,
    ),
    "gaussian-splatting": ({**TINY_SCENE, "initial": 30, "densify_every": 1}, "psnr_test", False),
    "smpl-fit": ({"bodies": 20, "betas": 4, "subjects": 1}, "reprojection_error_px", False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_run_writes_metrics_and_pictures(name, tmp_path):
    options, key, has_obj = CASES[name]
    result = run(name, device="cpu", steps=2, out=tmp_path, progress=False, options=options)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == name and metrics["steps"] == 2
    assert isinstance(metrics[key], float) and math.isfinite(metrics[key])
    assert (tmp_path / "samples.png").stat().st_size > 1000
    if has_obj:  # IGR and DVR start as spheres (geometric initialisation): a surface exists
        assert list(tmp_path.glob("*.obj"))
    assert result.metrics["final_loss"] is not None


def test_hashgrid_run_compares_with_positional_encoding(tmp_path):
    options = {**CASES["nerf-hashgrid"][0]}
    metrics = run(
        "nerf-hashgrid", device="cpu", steps=1, out=tmp_path, progress=False, options=options
    ).metrics
    assert {"psnr_test_hashgrid", "psnr_test_positional", "train_seconds_hashgrid"} <= set(metrics)
