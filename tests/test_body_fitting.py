"""SMPLify-style fitting: the pose prior against scipy's Gaussian densities, the angle prior's
direction, and a fit that reduces the 2D reprojection error; the rendered PNG."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cheatsheet.body import fitting, smpl


@pytest.fixture(scope="module")
def model():
    return smpl.build_smpl(num_bodies=40, num_betas=6, seed=0)


def test_gmm_prior_is_the_best_component_negative_log_likelihood():
    from scipy.stats import multivariate_normal
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    samples = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))
    prior = fitting.GaussianMixturePrior.fit(samples, components=3).double()
    gmm = GaussianMixture(3, covariance_type="full", reg_covar=1e-3, random_state=0).fit(samples)
    x = samples[:10]
    expected = np.min(
        [
            -np.log(w) - multivariate_normal(m, c).logpdf(x)
            for w, m, c in zip(gmm.weights_, gmm.means_, gmm.covariances_)
        ],
        axis=0,
    )
    np.testing.assert_allclose(prior(torch.as_tensor(x)).numpy(), expected, rtol=1e-4)


def test_angle_prior_penalises_bending_backwards():
    theta = torch.zeros(1, 16, 3)
    knee = fitting.skeleton.JOINT_NAMES.index("left_knee")
    natural, backwards = theta.clone(), theta.clone()
    natural[0, knee, 0], backwards[0, knee, 0] = 0.5, -0.5
    assert fitting.angle_prior(backwards) > fitting.angle_prior(natural)


def test_projection_is_a_pinhole_camera():
    camera = fitting.PinholeCamera(focal=100.0, size=64, center=(0.0, 0.0, 5.0))
    assert torch.allclose(
        camera.project(torch.tensor([[0.0, 0.0, 0.0]])), torch.tensor([[32.0, 32.0]])
    )
    # up in the world is up in the image (smaller row), left of the camera is left in the image
    assert camera.project(torch.tensor([[0.0, 1.0, 0.0]]))[0, 1] < 32
    assert camera.project(torch.tensor([[1.0, 0.0, 0.0]]))[0, 0] > 32


def test_fit_reduces_the_reprojection_error(model, device, tmp_path):
    m = model.to(device)
    camera = fitting.PinholeCamera()
    targets = fitting.make_targets(m, camera, 2, noise_px=1.0, seed=3)
    prior_samples = smpl.sample_poses(500, np.random.default_rng(1))[:, 1:].reshape(500, -1)
    prior = fitting.GaussianMixturePrior.fit(prior_samples, 2).to(device)
    params = fitting.FitParameters(2, m.num_joints, m.num_betas).to(device)
    before = fitting.reprojection_error(m, camera, params, targets.joints_2d)
    optimizer = torch.optim.Adam(params.parameters(), lr=0.03)
    for stage in (fitting.STAGES[0], fitting.STAGES[2]):
        for _ in range(40):
            energy, _ = fitting.fit_energy(m, prior, camera, params, targets.joints_2d, stage)
            optimizer.zero_grad()
            energy.backward()
            if stage.torso_only:
                params.theta.grad[:, 1:] = 0
                params.beta.grad.zero_()
            optimizer.step()
    after = fitting.reprojection_error(m, camera, params, targets.joints_2d)
    assert np.isfinite(after) and after < 0.5 * before


def test_render_writes_a_png(model, tmp_path):
    from cheatsheet.body.render import save_body_figure

    out = model(torch.zeros(model.num_betas), torch.zeros(model.num_joints, 3))
    path = save_body_figure(
        tmp_path / "body.png",
        [("rest", out.vertices.numpy(), out.joints.numpy())],
        model.faces.numpy(),
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
