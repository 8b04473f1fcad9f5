"""Neural implicit representations, NeRF and 3D Gaussian splatting (sheet section 8; "Implicit
differentiation" and "DVR Backward pass" in the proofs, section 13).

Conventions: points along a ray are the last axis (sigma[..., N], delta[..., N]); colours are
[..., N, 3]; 3D Gaussians have mean [3], covariance [3, 3]; quaternions are (w, x, y, z) as in
the 3DGS code.

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Formula, Step, StepResult, as_float64, register

# --------------------------------------------------------------------------------------------
# implicit-surface (sphere SDF as the worked instance)


def _surface_statement():
    import sympy as sp

    x = sp.Symbol("x")
    return sp.Eq(sp.Symbol("S"), sp.ConditionSet(x, sp.Eq(sp.Function("f")(x), 0)))


def _surface_derivation() -> list[Step]:
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    r = sp.Symbol("r", positive=True)
    norm = sp.sqrt(x**2 + y**2 + z**2)
    sdf = norm - r
    grad = [sp.diff(sdf, v) for v in (x, y, z)]
    return [
        Step(
            "the signed distance to a sphere, f(x) = ||x|| - r, satisfies the eikonal equation "
            "||grad f|| = 1 (away from the centre)",
            sp.sqrt(sum(g**2 for g in grad)),
            sp.Integer(1),
            assumptions="x != 0",
        ),
        Step(
            "its zero level set is the sphere: f vanishes at every point r (cos u sin v, "
            "sin u sin v, cos v)",
            sdf.subs(
                {
                    x: r
                    * sp.cos(sp.Symbol("u", real=True))
                    * sp.sin(sp.Symbol("v", positive=True)),
                    y: r
                    * sp.sin(sp.Symbol("u", real=True))
                    * sp.sin(sp.Symbol("v", positive=True)),
                    z: r * sp.cos(sp.Symbol("v", positive=True)),
                }
            ),
            sp.Integer(0),
        ),
    ]


def sphere_sdf(x, center, radius):
    """Signed distance to a sphere, ||x - c|| - r (negative inside); x [..., 3]."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    return as_float64(np.linalg.norm(x - np.asarray(center, dtype=np.float64), axis=-1) - radius)


register(
    Formula(
        id="implicit-surface",
        title="Implicit surface as a level set (signed distance function)",
        topic="implicit",
        section="8",
        text="implicit representation S = {x | f(x) = 0}; occupancy networks predict the "
        "probability that a point is inside; DeepSDF predicts the signed distance; mesh by "
        "marching cubes; continuous, any topology and resolution, memory-efficient",
        keywords=(
            "implicit surface",
            "level set",
            "sdf",
            "signed distance",
            "deepsdf",
            "occupancy network",
            "marching cubes",
            "neural field",
        ),
        statement_builder=_surface_statement,
        derivation_builder=_surface_derivation,
        evaluator=sphere_sdf,
    )
)


# --------------------------------------------------------------------------------------------
# occupancy-loss


def _occupancy_statement():
    import sympy as sp

    o, logit = sp.Symbol("o", nonnegative=True), sp.Symbol("s", real=True)
    p = 1 / (1 + sp.exp(-logit))
    return sp.Eq(sp.Symbol("L"), -o * sp.log(p) - (1 - o) * sp.log(1 - p))


def occupancy_loss(logits, occupancy):
    """Cross-entropy of predicted occupancy sigmoid(logits) against GT occupancy in {0, 1},
    per point (the log-sum-exp form, stable for large |logits|)."""
    import numpy as np

    logits = np.asarray(logits, dtype=np.float64)
    occupancy = np.asarray(occupancy, dtype=np.float64)
    return as_float64(np.logaddexp(0.0, logits) - occupancy * logits)


register(
    Formula(
        id="occupancy-loss",
        title="Occupancy network training loss (from watertight meshes)",
        topic="implicit",
        section="8.1.1",
        text="from watertight meshes: sample points in space, compute GT occupancy/SDF, "
        "cross-entropy (CE) loss on the predicted occupancy probability",
        keywords=("occupancy", "cross-entropy", "watertight", "inside outside", "bce"),
        statement_builder=_occupancy_statement,
        evaluator=occupancy_loss,
    )
)


# --------------------------------------------------------------------------------------------
# igr-eikonal-loss


def _igr_statement():
    import sympy as sp

    lam = sp.Symbol("lambda", positive=True)
    return sp.Eq(
        sp.Symbol("L"),
        sp.Symbol("sum_i |f_theta(x_i)|^2") + lam * sp.Symbol("E_x(||grad_x f_theta(x)|| - 1)^2"),
    )


def igr_eikonal_loss(surface_values, gradients, lam=0.1):
    """mean_i |f(x_i)|^2 over surface samples + lam * mean_x (||grad f(x)|| - 1)^2 over space
    samples; gradients [..., M, 3]."""
    import numpy as np

    surface_values = np.asarray(surface_values, dtype=np.float64)
    norms = np.linalg.norm(np.asarray(gradients, dtype=np.float64), axis=-1)
    return as_float64(
        np.mean(surface_values**2, axis=-1) + lam * np.mean((norms - 1) ** 2, axis=-1)
    )


register(
    Formula(
        id="igr-eikonal-loss",
        title="Implicit geometric regularisation (eikonal) loss from point clouds",
        topic="implicit",
        section="8.1.2",
        text="from point clouds (only surface samples, weak supervision): loss = "
        "|f_theta(x_i)|^2 + lambda E_x(||grad_x f_theta(x)|| - 1)^2; an SDF has ||grad f|| = 1 "
        "and f = 0 on the surface",
        keywords=(
            "eikonal",
            "igr",
            "point cloud",
            "sdf",
            "gradient norm",
            "regularisation",
            "implicit geometric regularization",
        ),
        statement_builder=_igr_statement,
        evaluator=igr_eikonal_loss,
    )
)


# --------------------------------------------------------------------------------------------
# NeRF: alpha, transmittance, weights, colour


def _nerf_symbols(n: int = 3):
    import sympy as sp

    sigma = sp.symbols(f"sigma_1:{n + 1}", positive=True)
    delta = sp.symbols(f"delta_1:{n + 1}", positive=True)
    alpha = [1 - sp.exp(-s * d) for s, d in zip(sigma, delta)]
    return sp, sigma, delta, alpha


def _alpha_statement():
    import sympy as sp

    s, d = sp.Symbol("sigma_i", positive=True), sp.Symbol("delta_i", positive=True)
    return sp.Eq(sp.Symbol("alpha_i"), 1 - sp.exp(-s * d))


def nerf_alpha(sigma, delta):
    """alpha_i = 1 - exp(-sigma_i delta_i), delta_i = t_{i+1} - t_i."""
    import numpy as np

    return as_float64(1.0 - np.exp(-np.asarray(sigma, dtype=np.float64) * np.asarray(delta)))


register(
    Formula(
        id="nerf-alpha",
        title="NeRF opacity of a ray segment",
        topic="implicit",
        section="8.2",
        text="alpha_i := 1 - exp(-sigma_i delta_i), delta_i := t_{i+1} - t_i; (x,y,z,theta,phi) "
        "-> NN -> (r,g,b,sigma); density before adding the view direction",
        keywords=(
            "nerf",
            "alpha",
            "opacity",
            "density",
            "sigma",
            "volume rendering",
            "radiance field",
        ),
        statement_builder=_alpha_statement,
        evaluator=nerf_alpha,
    )
)


def _transmittance_statement():
    import sympy as sp

    i, j = sp.symbols("i j", integer=True, positive=True)
    alpha = sp.IndexedBase("alpha")
    return sp.Eq(sp.Symbol("T_i"), sp.Product(1 - alpha[j], (j, 1, i - 1)))


def _transmittance_derivation() -> list[Step]:
    sp, sigma, delta, alpha = _nerf_symbols(3)
    return [
        Step(
            "T_4 = prod_{j<4} (1 - alpha_j) = exp(-sum_{j<4} sigma_j delta_j): the probability "
            "that the ray passes the first segments unabsorbed",
            sp.Mul(*[1 - a for a in alpha]),
            sp.exp(-sum(s * d for s, d in zip(sigma, delta))),
        )
    ]


def nerf_transmittance(sigma, delta):
    """T_i = prod_{j<i} (1 - alpha_j) = exp(-sum_{j<i} sigma_j delta_j) (T_1 = 1)."""
    import numpy as np

    optical = np.asarray(sigma, dtype=np.float64) * np.asarray(delta, dtype=np.float64)
    before = np.cumsum(optical, axis=-1) - optical  # exclusive sum over j < i
    return as_float64(np.exp(-before))


register(
    Formula(
        id="nerf-transmittance",
        title="NeRF accumulated transmittance T_i",
        topic="implicit",
        section="8.2",
        text="T_i := prod_{j=1}^{i-1} (1 - alpha_j) = exp(-sum_{j<i} sigma_j delta_j): how much "
        "light reaches sample i",
        keywords=(
            "transmittance",
            "nerf",
            "accumulated",
            "cumprod",
            "absorption",
            "volume rendering",
        ),
        statement_builder=_transmittance_statement,
        derivation_builder=_transmittance_derivation,
        evaluator=nerf_transmittance,
    )
)


def _weights_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("w_i"), sp.Symbol("T_i") * sp.Symbol("alpha_i"))


def _weights_derivation() -> list[Step]:
    sp, sigma, delta, alpha = _nerf_symbols(3)
    T = [sp.Mul(*[1 - a for a in alpha[:i]]) for i in range(4)]
    return [
        Step(
            "the weights telescope: sum_i T_i alpha_i = 1 - T_{N+1} <= 1 (N = 3), the rest is "
            "the background's share",
            sum(T[i] * alpha[i] for i in range(3)),
            1 - T[3],
        ),
        Step(
            "T_i alpha_i = T_i - T_{i+1}: the light absorbed in segment i",
            T[1] * alpha[1],
            T[1] - T[2],
        ),
    ]


def nerf_weights(sigma, delta):
    """Compositing weights w_i = T_i alpha_i along the last axis (formula nerf-weights)."""
    import numpy as np

    sigma = np.asarray(sigma, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    return as_float64(nerf_transmittance(sigma, delta) * (1.0 - np.exp(-sigma * delta)))


register(
    Formula(
        id="nerf-weights",
        title="NeRF compositing weights T_i alpha_i",
        topic="implicit",
        section="8.2",
        text="forward: shoot a ray, sample points along it and blend with weights T_i alpha_i; "
        "they sum to 1 - T_{N+1} (opacity of the ray)",
        keywords=(
            "nerf",
            "weights",
            "compositing",
            "alpha blending",
            "transmittance",
            "volume rendering",
            "ray marching",
        ),
        statement_builder=_weights_statement,
        derivation_builder=_weights_derivation,
        evaluator=nerf_weights,
    )
)


def _color_statement():
    import sympy as sp

    i = sp.Symbol("i", integer=True, positive=True)
    T, alpha, c = sp.IndexedBase("T"), sp.IndexedBase("alpha"), sp.IndexedBase("c")
    return sp.Eq(sp.Symbol("c"), sp.Sum(T[i] * alpha[i] * c[i], (i, 1, sp.Symbol("N"))))


def nerf_color(sigma, delta, colors):
    """c = sum_i T_i alpha_i c_i; sigma, delta [..., N], colors [..., N, 3] -> [..., 3]."""
    import numpy as np

    weights = nerf_weights(sigma, delta)
    return as_float64(np.sum(weights[..., None] * np.asarray(colors, dtype=np.float64), axis=-2))


register(
    Formula(
        id="nerf-color",
        title="NeRF volume-rendered pixel colour",
        topic="implicit",
        section="8.2",
        text="color is c = sum_i T_i alpha_i c_i; optimised on many views (50+); handles "
        "transparency and thin structures, worse geometry, slow rendering, static scenes only",
        keywords=(
            "nerf",
            "pixel colour",
            "color",
            "volume rendering",
            "rendering equation",
            "radiance",
        ),
        statement_builder=_color_statement,
        evaluator=nerf_color,
    )
)


# --------------------------------------------------------------------------------------------
# positional-encoding


def _pe_statement():
    import sympy as sp

    p = sp.Symbol("p", real=True)
    L = 3
    terms = []
    for k in range(L):
        terms += [sp.sin(2**k * sp.pi * p), sp.cos(2**k * sp.pi * p)]
    return sp.Eq(sp.Function("gamma")(p), sp.Matrix(terms).T, evaluate=False)


def _pe_derivation() -> list[Step]:
    import sympy as sp

    p = sp.Symbol("p", real=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    return [
        Step(
            "frequency k oscillates 2^k times faster: its derivative has amplitude 2^k pi, so "
            "the MLP sees high-frequency detail as a change of input it can follow",
            sp.diff(sp.sin(2**k * sp.pi * p), p),
            2**k * sp.pi * sp.cos(2**k * sp.pi * p),
        )
    ]


def positional_encoding(x, num_frequencies):
    """gamma(p) = (sin(2^0 pi p), cos(2^0 pi p), ..., sin(2^{L-1} pi p), cos(2^{L-1} pi p)) for
    each coordinate p of x [..., D] -> [..., D * 2L] (coordinate-major, as in NeRF)."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    scales = 2.0 ** np.arange(int(num_frequencies)) * np.pi
    angles = x[..., None] * scales  # [..., D, L]
    features = np.stack([np.sin(angles), np.cos(angles)], axis=-1)  # [..., D, L, 2]
    return as_float64(features.reshape(*x.shape[:-1], -1))


register(
    Formula(
        id="nerf-positional-encoding",
        title="NeRF positional encoding (Fourier features)",
        topic="implicit",
        section="8.2.1",
        text="replace x, y, z with a positional encoding gamma(p) = (sin(2^k pi p), cos(2^k pi p)) "
        "for k < L or random Fourier features: adds high-frequency detail",
        keywords=(
            "positional encoding",
            "fourier features",
            "high frequency",
            "sin cos",
            "spectral bias",
            "nerf",
        ),
        statement_builder=_pe_statement,
        derivation_builder=_pe_derivation,
        evaluator=positional_encoding,
    )
)


# --------------------------------------------------------------------------------------------
# 3D Gaussian splatting


def _splat_opacity_statement():
    import sympy as sp

    o = sp.Symbol("o", positive=True)
    d = sp.MatrixSymbol("d", 2, 1)  # d = x - mu'
    S = sp.MatrixSymbol("Sigma'", 2, 2)
    return sp.Eq(sp.Symbol("alpha"), o * sp.exp(-sp.Rational(1, 2) * (d.T * S.I * d)[0, 0]))


def splat_opacity(x, mean, cov, opacity):
    """alpha = o exp(-1/2 (x - mu')^T Sigma'^{-1} (x - mu')) for a 2D (projected) Gaussian;
    x [..., 2]."""
    import numpy as np

    diff = np.asarray(x, dtype=np.float64) - np.asarray(mean, dtype=np.float64)
    solved = np.linalg.solve(np.asarray(cov, dtype=np.float64), diff[..., None])[..., 0]
    return as_float64(opacity * np.exp(-0.5 * np.sum(diff * solved, axis=-1)))


register(
    Formula(
        id="splat-opacity",
        title="Gaussian splatting: opacity of a splat at a pixel",
        topic="implicit",
        section="8.3",
        text="rasterization: for each pixel sort Gaussians by depth, opacity alpha = o exp(-0.5 "
        "(x - mu')^T Sigma'^{-1} (x - mu')), then alpha-composite as in NeRF; adaptive density "
        "control moves/clones/merges points",
        keywords=(
            "gaussian splatting",
            "3dgs",
            "splat",
            "opacity",
            "rasterization",
            "alpha compositing",
            "ellipsoid",
        ),
        statement_builder=_splat_opacity_statement,
        evaluator=splat_opacity,
    )
)


def _cov2d_statement():
    import sympy as sp

    J = sp.MatrixSymbol("J", 2, 3)
    W = sp.MatrixSymbol("W", 3, 3)
    S = sp.MatrixSymbol("Sigma", 3, 3)
    return sp.Eq(sp.MatrixSymbol("Sigma'", 2, 2), J * W * S * W.T * J.T)


def _cov2d_derivation() -> list[Step]:
    import sympy as sp

    A = sp.Matrix(2, 3, sp.symbols("a_1:7", real=True))
    L = sp.Matrix(3, 3, lambda i, j: sp.Symbol(f"l_{i}{j}", real=True) if j <= i else 0)
    Sigma = L * L.T
    return [
        Step(
            "a linear map y = A x of x ~ N(mu, Sigma) has Cov[y] = E[A (x-mu)(x-mu)^T A^T] = "
            "A Sigma A^T; with the view transform W and the local affine approximation J of the "
            "projection, A = J W",
            (A * Sigma * A.T)[0, 1],
            sum(A[0, i] * Sigma[i, j] * A[1, j] for i in range(3) for j in range(3)),
        )
    ]


def splat_covariance_2d(cov3d, W, J):
    """Sigma' = J W Sigma W^T J^T: the 2D covariance of a projected 3D Gaussian."""
    import numpy as np

    cov3d, W, J = (np.asarray(v, dtype=np.float64) for v in (cov3d, W, J))
    M = J @ W
    return as_float64(M @ cov3d @ np.swapaxes(M, -1, -2))


register(
    Formula(
        id="splat-covariance-2d",
        title="Gaussian splatting: projected 2D covariance J W Sigma W^T J^T",
        topic="implicit",
        section="8.3",
        text="use the camera parameters to project (splat) 3D Gaussians to 2D: Sigma' = J W "
        "Sigma W^T J^T, W the viewing transform, J the Jacobian of the affine approximation of "
        "the projective transform (EWA splatting)",
        keywords=(
            "gaussian splatting",
            "covariance",
            "projection",
            "jacobian",
            "ewa",
            "splat",
            "2d covariance",
        ),
        statement_builder=_cov2d_statement,
        derivation_builder=_cov2d_derivation,
        evaluator=splat_covariance_2d,
    )
)


def _jacobian_statement():
    import sympy as sp

    x, y = sp.symbols("t_x t_y", real=True)
    z, f = sp.Symbol("t_z", positive=True), sp.Symbol("f", positive=True)
    return sp.Eq(
        sp.Symbol("J"),
        sp.Matrix([[f / z, 0, -f * x / z**2], [0, f / z, -f * y / z**2]]),
        evaluate=False,
    )


def _jacobian_derivation() -> list[Step]:
    import sympy as sp

    x, y = sp.symbols("t_x t_y", real=True)
    z, f = sp.Symbol("t_z", positive=True), sp.Symbol("f", positive=True)
    projection = sp.Matrix([f * x / z, f * y / z])
    return [
        Step(
            "J is the Jacobian of the pinhole projection (f x / z, f y / z) at the Gaussian's "
            "camera-space mean t",
            projection.jacobian([x, y, z]),
            sp.Matrix([[f / z, 0, -f * x / z**2], [0, f / z, -f * y / z**2]]),
        )
    ]


def splat_projection_jacobian(t, focal=1.0):
    """J = [[f/t_z, 0, -f t_x/t_z^2], [0, f/t_z, -f t_y/t_z^2]] at camera-space points
    t [..., 3]."""
    import numpy as np

    t = np.asarray(t, dtype=np.float64)
    x, y, z = t[..., 0], t[..., 1], t[..., 2]
    zero = np.zeros_like(z)
    J = np.stack(
        [
            np.stack([focal / z, zero, -focal * x / z**2], -1),
            np.stack([zero, focal / z, -focal * y / z**2], -1),
        ],
        -2,
    )
    return as_float64(J)


register(
    Formula(
        id="splat-projection-jacobian",
        title="Gaussian splatting: Jacobian of the perspective projection",
        topic="implicit",
        section="8.3",
        text="J, the local affine approximation of the projective transformation used in "
        "Sigma' = J W Sigma W^T J^T",
        keywords=(
            "jacobian",
            "perspective projection",
            "pinhole",
            "gaussian splatting",
            "affine approximation",
        ),
        statement_builder=_jacobian_statement,
        derivation_builder=_jacobian_derivation,
        evaluator=splat_projection_jacobian,
    )
)


def _scale_rotation_statement():
    import sympy as sp

    R, S = sp.MatrixSymbol("R", 3, 3), sp.MatrixSymbol("S", 3, 3)
    return sp.Eq(sp.MatrixSymbol("Sigma", 3, 3), R * S * S.T * R.T)


def _quaternion_matrix(q):
    import numpy as np

    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def _scale_rotation_derivation() -> list[Step]:
    import numpy as np

    def psd() -> StepResult:
        rng = np.random.default_rng(0)
        for _ in range(20):
            scale, q = rng.uniform(0.1, 3, 3), rng.normal(size=4)
            cov = covariance_from_scale_rotation(scale, q)
            eig = np.sort(np.linalg.eigvalsh(cov))
            if (
                np.max(np.abs(cov - cov.T)) > 1e-12
                or np.max(np.abs(eig - np.sort(scale**2))) > 1e-10
            ):
                return StepResult(False, "custom", "not symmetric with eigenvalues s^2")
        return StepResult(True, "custom", "20 random (s, q): symmetric, eigenvalues s_i^2 > 0")

    return [
        Step(
            "R S S^T R^T is symmetric positive definite with eigenvalues s_i^2 and "
            "eigenvectors the columns of R: any (s, q) gives a valid covariance, so "
            "gradient descent can update s and q freely",
            custom=psd,
        )
    ]


def covariance_from_scale_rotation(scale, quaternion):
    """Sigma = R S S^T R^T with S = diag(scale) and R from the unit quaternion (w, x, y, z)."""
    import numpy as np

    R = _quaternion_matrix(quaternion)
    M = R * np.asarray(scale, dtype=np.float64)[..., None, :]  # R S
    return as_float64(M @ np.swapaxes(M, -1, -2))


register(
    Formula(
        id="covariance-from-scale-rotation",
        title="Gaussian splatting: covariance from scale and rotation R S S^T R^T",
        topic="implicit",
        section="8.3",
        text="each point has a 3D Gaussian (an ellipsoid) with covariance Sigma = R S S^T R^T, S a "
        "diagonal scale, R from a quaternion: stays positive semi-definite during optimisation",
        keywords=(
            "gaussian splatting",
            "covariance",
            "quaternion",
            "rotation",
            "scale",
            "ellipsoid",
            "positive definite",
        ),
        statement_builder=_scale_rotation_statement,
        derivation_builder=_scale_rotation_derivation,
        evaluator=covariance_from_scale_rotation,
    )
)


# --------------------------------------------------------------------------------------------
# dvr-implicit-gradient


def _dvr_statement():
    import sympy as sp

    w = sp.Symbol("w")
    return sp.Eq(
        sp.Symbol("d hat{p}/d theta"), -w * sp.Symbol("(df/dp . w)") ** -1 * sp.Symbol("df/dtheta")
    )


def _dvr_derivation() -> list[Step]:
    import sympy as sp

    theta = sp.Symbol("theta", positive=True)
    a, b = sp.symbols("a b", real=True)
    c = sp.Symbol("c", positive=True)
    r0 = sp.Matrix([a, b, -c])  # camera position
    w = sp.Matrix([0, 0, 1])  # ray direction
    # the surface f_theta(p) = ||p|| - theta (sphere of radius theta), level tau = 0
    d = c - sp.sqrt(theta**2 - a**2 - b**2)  # first hit along the ray
    p = r0 + d * w
    P = sp.Matrix(sp.symbols("p_1:4", real=True))
    f = sp.sqrt(P.dot(P)) - theta
    df_dp = sp.Matrix([sp.diff(f, v) for v in P]).subs(dict(zip(P, p)))
    df_dtheta = sp.diff(f, theta)

    def sampler(rng):
        aa, bb = sp.Rational(rng.randint(-40, 40), 100), sp.Rational(rng.randint(-40, 40), 100)
        return {
            a: aa,
            b: bb,
            theta: sp.Rational(rng.randint(100, 200), 100),
            c: sp.Rational(rng.randint(300, 600), 100),
        }

    return [
        Step(
            "implicit definition f_theta(p_hat(theta)) = tau holds for all theta: its total "
            "derivative df/dtheta + df/dp . dp_hat/dtheta vanishes (sphere of radius theta, ray "
            "along z)",
            sp.diff(f.subs(dict(zip(P, p))), theta),
            sp.Integer(0),
            assumptions="the ray hits the sphere: a^2 + b^2 < theta^2",
            sampler=sampler,
        ),
        Step(
            "p_hat = r_0 + d_hat w, so dp_hat/dtheta = w dd_hat/dtheta, and solving for the "
            "scalar dd_hat/dtheta: dp_hat/dtheta = -w (df/dp . w)^{-1} df/dtheta (z component)",
            sp.diff(p[2], theta),
            (-w * (df_dp.dot(w)) ** -1 * df_dtheta)[2],
            sampler=sampler,
        ),
    ]


def dvr_implicit_gradient(df_dp, w, df_dtheta):
    """dp_hat/dtheta = -w (df/dp . w)^{-1} df/dtheta at the surface point p_hat = r_0 + d_hat w.
    df_dp [..., 3], w [..., 3], df_dtheta [..., P] -> [..., 3, P]."""
    import numpy as np

    df_dp, w, df_dtheta = (np.asarray(v, dtype=np.float64) for v in (df_dp, w, df_dtheta))
    directional = np.sum(df_dp * w, axis=-1)
    return as_float64(-w[..., :, None] * (df_dtheta / directional[..., None])[..., None, :])


register(
    Formula(
        id="dvr-implicit-gradient",
        title="Differentiable volumetric rendering: gradient of the surface point",
        topic="implicit",
        section="8.1.3, 13",
        text="DVR backward: dL/dtheta = sum_u dL/du du/dtheta, du/dtheta = "
        "dc_theta(p_hat)/dtheta + dt_theta(p_hat)/dp_hat dp_hat/dtheta; ray p_hat = r_0 + "
        "d_hat w; implicit definition "
        "f_theta(p_hat) = tau; dp_hat/dtheta = -w (df/dp . w)^{-1} df/dtheta; forward: ray "
        "marching + secant root finding; no need to store intermediate results",
        keywords=(
            "dvr",
            "differentiable rendering",
            "implicit differentiation",
            "surface point",
            "ray",
            "root finding",
            "secant",
            "backward pass",
        ),
        statement_builder=_dvr_statement,
        derivation_builder=_dvr_derivation,
        evaluator=dvr_implicit_gradient,
    )
)


# --------------------------------------------------------------------------------------------
# implicit-differentiation (the circle example)


def _circle_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    y = sp.Symbol("y", real=True, nonzero=True)
    return sp.Eq(sp.Symbol("dy/dx"), -x / y)


def _circle_derivation() -> list[Step]:
    import sympy as sp

    x = sp.Symbol("x", real=True)
    yf = sp.Function("y")(x)
    y = sp.Symbol("y", real=True, nonzero=True)
    dy = sp.Symbol("dy/dx", real=True)
    return [
        Step(
            "differentiate both sides of x^2 + y(x)^2 = 1 w.r.t. x (chain rule on y^2)",
            sp.diff(x**2 + yf**2, x).subs(sp.Derivative(yf, x), dy).subs(yf, y),
            2 * x + 2 * y * dy,
        ),
        Step(
            "solve 2x + 2y dy/dx = 0 for dy/dx",
            sp.solve(sp.Eq(2 * x + 2 * y * dy, 0), dy)[0],
            -x / y,
        ),
        Step(
            "the same from sympy's implicit differentiation idiff",
            sp.idiff(x**2 + y**2 - 1, y, x),
            -x / y,
        ),
    ]


def implicit_derivative_circle(x, y):
    """dy/dx = -x/y on the circle x^2 + y^2 = 1 (y != 0)."""
    import numpy as np

    return as_float64(-np.asarray(x, dtype=np.float64) / np.asarray(y, dtype=np.float64))


register(
    Formula(
        id="implicit-differentiation",
        title="Implicit differentiation (circle example)",
        topic="implicit",
        section="13",
        text="dy/dx of x^2 + y^2 = 1: d/dx(x^2 + y^2) = 0 => 2x + 2y dy/dx = 0 => dy/dx = -x/y",
        keywords=(
            "implicit differentiation",
            "implicit function theorem",
            "circle",
            "dy/dx",
            "chain rule",
        ),
        statement_builder=_circle_statement,
        derivation_builder=_circle_derivation,
        evaluator=implicit_derivative_circle,
    )
)
