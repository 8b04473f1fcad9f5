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


def test_splatting_resumes_exactly_after_densification(tmp_path, monkeypatch):
    # Ctrl-C after density control has changed the number of Gaussians (and with gradient
    # statistics gathered since the last densification), then --resume: the result must be the
    # uninterrupted run's, bit for bit (same process, CPU). The reference is independent of the
    # checkpoint code: one run that never saves or loads mid-way.
    import torch

    from cheatsheet.errors import CheatsheetError
    from cheatsheet.implicit.splatting import SplattingExperiment
    from cheatsheet.runs.checkpoint import load_checkpoint

    options = {**TINY_SCENE, "initial": 30, "densify_every": 2, "densify_until": 10}
    steps, stop_at = 8, 5  # densify after steps 1 and 3; step 4's statistics are pending
    straight = run(
        "gaussian-splatting", device="cpu", steps=steps, out=tmp_path / "a", progress=False,
        options=options,
    )  # fmt: skip

    train_step = SplattingExperiment.train_step

    def interrupted(self, step):
        if step == stop_at:
            raise KeyboardInterrupt
        return train_step(self, step)

    monkeypatch.setattr(SplattingExperiment, "train_step", interrupted)
    with pytest.raises(CheatsheetError) as stopped:
        run("gaussian-splatting", device="cpu", steps=steps, out=tmp_path / "b", progress=False,
            options=options)  # fmt: skip
    assert stopped.value.exit_code == 130
    monkeypatch.undo()
    saved = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert saved["step"] == stop_at
    assert len(saved["modules"]["gaussians"]["means"]) != options["initial"]  # densified
    assert saved["experiment"]["seen"].sum() > 0  # statistics pending at the interruption

    resumed = run(
        "gaussian-splatting", device="cpu", steps=steps, out=tmp_path / "b", progress=False,
        options=options, resume=True,
    )  # fmt: skip
    a = load_checkpoint(tmp_path / "a" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    for name, value in a["modules"]["gaussians"].items():
        assert torch.equal(value, b["modules"]["gaussians"][name]), name
    for index, state in a["optimizers"]["gaussians"]["state"].items():
        for key, value in state.items():
            assert torch.equal(value, b["optimizers"]["gaussians"]["state"][index][key]), key
    for key in ("grad_accum", "seen", "counts"):
        assert torch.equal(a["experiment"][key], b["experiment"][key]), key
    assert torch.equal(a["history"]["loss"], b["history"]["loss"])
    for key in ("gaussians", "gaussians_initial", "density_control", "psnr_test", "final_loss"):
        assert resumed.metrics[key] == straight.metrics[key], key
    assert resumed.metrics["steps_this_session"] == steps - stop_at

    # and a finished run extends with --resume --steps M (densifying on past the old count)
    more = run(
        "gaussian-splatting", device="cpu", steps=steps + 4, out=tmp_path / "b", progress=False,
        options=options, resume=True,
    ).metrics  # fmt: skip
    assert more["steps"] == steps + 4 and math.isfinite(more["psnr_test"])
