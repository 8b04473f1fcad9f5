"""Neural implicit representations, NeRF and 3D Gaussian splatting (sheet section 8; "Implicit
differentiation" and "DVR Backward pass" in the proofs, section 13).

Conventions: points along a ray are the last axis (sigma[..., N], delta[..., N]); colours are
[..., N, 3]; 3D Gaussians have mean [3], covariance [3, 3]; quaternions are (w, x, y, z) as in
the 3DGS code.

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
# implicit-surface (a definition; the sphere SDF is its worked instance)


def _surface_statement():
    import sympy as sp

    x = sp.Symbol("x")
    return sp.Eq(
        sp.Symbol("S"),
        sp.ConditionSet(x, sp.Eq(sp.Function("f")(x), 0), sp.Reals**3),
        evaluate=False,
    )


def _surface_properties() -> list[Step]:
    import sympy as sp

    x, y, z = sp.symbols("x y z", real=True)
    u, v = sp.Symbol("u", real=True), sp.Symbol("v", positive=True)
    r = sp.Symbol("r", positive=True)
    sdf = sp.sqrt(x**2 + y**2 + z**2) - r
    gradient = [sp.diff(sdf, coordinate) for coordinate in (x, y, z)]

    def off_centre(rng):
        return {c: sp.Rational(rng.choice([-1, 1]) * rng.randint(10, 300), 100) for c in (x, y, z)}

    on_sphere = {x: r * sp.cos(u) * sp.sin(v), y: r * sp.sin(u) * sp.sin(v), z: r * sp.cos(v)}
    return [
        Step(
            "the signed distance to a sphere, f(x) = ||x|| - r, satisfies the eikonal equation "
            "||grad f|| = 1 (away from the centre)",
            sp.sqrt(sum(g**2 for g in gradient)),
            sp.Integer(1),
            assumptions="x != 0",
            sampler=off_centre,
        ),
        Step(
            "its zero level set S is the sphere: f vanishes at every point r (cos u sin v, "
            "sin u sin v, cos v)",
            sdf.subs(on_sphere),
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
        definition=True,
        properties_builder=_surface_properties,
        evaluator=sphere_sdf,
        sheet_lines=(235, 235),
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
        sheet_lines=(239, 239),
    )
)


# --------------------------------------------------------------------------------------------
# igr-eikonal-loss


def _igr_statement():
    import sympy as sp

    from formulas.notation import expectation, gradient

    lam = sp.Symbol("lambda", positive=True)
    i, N = sp.Symbol("i", integer=True), sp.Symbol("N", integer=True, positive=True)
    x = sp.Symbol("x", real=True)  # a point in space, E_x over space samples
    surface = sp.IndexedBase("x")  # the N surface samples x_i of the point cloud
    f = sp.Function("f_theta")
    eikonal = (sp.Function("norm")(gradient("x")(f(x))) - 1) ** 2  # (||grad_x f(x)|| - 1)^2
    return sp.Eq(
        sp.Symbol("L"),
        sp.Sum(sp.Abs(f(surface[i])) ** 2, (i, 1, N)) + lam * expectation("x", "x")(eikonal),
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
        sheet_lines=(241, 241),
    )
)


# --------------------------------------------------------------------------------------------
# NeRF: alpha, transmittance, weights, colour (the volume-rendering integral, Max 1995)


def _ray_segments(seed: int, n: int = 5):
    """A random ray: densities, segment lengths and colours (one channel) of n segments."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.exponential(2.0, n), rng.uniform(0.05, 0.6, n), rng.uniform(0.0, 1.0, n)


def _rendering_integral(sigma, delta, colors):
    """C = int T(t) sigma(t) c(t) dt along the ray, sigma and c constant on each segment and
    T(t) = exp(-int_0^t sigma): adaptive quadrature (scipy), segment by segment."""
    import numpy as np
    from scipy.integrate import quad

    edges = np.concatenate([[0.0], np.cumsum(delta)])

    def optical_depth(t):
        inside = np.clip(t - edges[:-1], 0.0, delta)
        return float(np.sum(sigma * inside))

    total = 0.0
    for i in range(len(sigma)):
        value, _ = quad(
            lambda t, i=i: np.exp(-optical_depth(t)) * sigma[i] * colors[i],
            edges[i],
            edges[i + 1],
            epsabs=1e-14,
            epsrel=1e-13,
        )
        total += value
    return total


def _alpha_statement():
    import sympy as sp

    s, d = sp.Symbol("sigma_i", positive=True), sp.Symbol("delta_i", positive=True)
    return sp.Eq(sp.Symbol("alpha_i"), 1 - sp.exp(-s * d))


def _alpha_properties() -> list[Step]:
    import sympy as sp

    s, d = sp.Symbol("sigma_i", positive=True), sp.Symbol("delta_i", positive=True)
    t = sp.Symbol("t", positive=True)
    return [
        Step(
            "alpha_i is the probability that light is absorbed in the segment: "
            "1 - exp(-int_0^delta_i sigma_i dt) with the density constant on it",
            1 - sp.exp(-sp.Integral(s, (t, 0, d))),
            1 - sp.exp(-s * d),
        ),
        Step(
            "a segment never absorbs everything: alpha_i < 1",
            1 - sp.exp(-s * d),
            sp.Integer(1),
            relation="<",
            method="numeric",
        ),
    ]


def _alpha_typo_evidence() -> Evidence:
    import numpy as np

    sigma, delta, colors = _ray_segments(3)
    reference = _rendering_integral(sigma, delta, colors)
    one_alpha = np.full_like(sigma, 1 - np.exp(-sigma[0] * delta[0]))  # alpha without an index
    sheet = float(
        np.sum(np.cumprod(np.concatenate([[1.0], 1 - one_alpha[:-1]])) * one_alpha * colors)
    )
    correct = float(nerf_color(sigma, delta, colors[:, None])[0])
    return compare_forms(
        reference=reference,
        sheet=sheet,
        correct=correct,
        reference_name="rendering integral by quadrature (5 segments)",
        where="a random ray, one colour channel; the sheet's single alpha uses sigma_1 delta_1",
        tolerance=1e-9,
    )


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
        definition=True,
        properties_builder=_alpha_properties,
        evaluator=nerf_alpha,
        sheet_lines=(247, 247),
        erratum=Erratum(
            sheet=r"\alpha := 1 - \exp(-\sigma_i \delta_i)",
            correct=r"\alpha_i := 1 - \exp(-\sigma_i \delta_i)",
            explanation="the opacity is per segment, alpha_i (T_i and c = sum_i T_i alpha_i c_i "
            "on the same line use alpha_j and alpha_i); read literally, one alpha for every "
            "sample renders a different colour",
            evidence=_alpha_typo_evidence,
            severity="typo",
            sheet_lines=(247, 247),
        ),
    )
)


def _transmittance_statement():
    import sympy as sp

    i, j = sp.symbols("i j", integer=True, positive=True)
    alpha = sp.IndexedBase("alpha")
    return sp.Eq(sp.Symbol("T_i"), sp.Product(1 - alpha[j], (j, 1, i - 1)))


def _nerf_symbols(n: int = 3):
    import sympy as sp

    sigma = sp.symbols(f"sigma_1:{n + 1}", positive=True)
    delta = sp.symbols(f"delta_1:{n + 1}", positive=True)
    alpha = [1 - sp.exp(-s * d) for s, d in zip(sigma, delta)]
    return sp, sigma, delta, alpha


def _transmittance_properties() -> list[Step]:
    sp, sigma, delta, alpha = _nerf_symbols(3)

    def continuous() -> Comparison:
        import numpy as np
        from scipy.integrate import quad

        left, right = [], []
        for seed in range(5):
            sigma_i, delta_i, _ = _ray_segments(seed)
            edges = np.concatenate([[0.0], np.cumsum(delta_i)])
            for i in range(1, len(sigma_i)):
                depth = sum(
                    quad(lambda t, s=sigma_i[j]: s, edges[j], edges[j + 1])[0] for j in range(i)
                )
                left.append(np.exp(-depth))
                right.append(np.prod(1 - (1 - np.exp(-sigma_i[:i] * delta_i[:i]))))
        return Comparison(
            left, right, "exp(-quadrature of sigma up to t_i) against prod_{j<i} (1 - alpha_j)"
        )

    return [
        Step(
            "T_4 = prod_{j<4} (1 - alpha_j) = exp(-sum_{j<4} sigma_j delta_j): the probability "
            "that the ray passes the first three segments unabsorbed",
            sp.Mul(*[1 - a for a in alpha]),
            sp.exp(-sum(s * d for s, d in zip(sigma, delta))),
        ),
        Step(
            "it is the continuous transmittance exp(-int_{t_1}^{t_i} sigma(t) dt) of a "
            "piecewise constant density",
            custom=continuous,
            tolerance=1e-12,
        ),
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
        definition=True,
        properties_builder=_transmittance_properties,
        evaluator=nerf_transmittance,
        sheet_lines=(247, 247),
    )
)


def _weights_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("w_i"), sp.Symbol("T_i") * sp.Symbol("alpha_i"))


def _weights_properties() -> list[Step]:
    sp, sigma, delta, alpha = _nerf_symbols(3)
    T = [sp.Mul(*[1 - a for a in alpha[:i]]) for i in range(4)]
    return [
        Step(
            "T_i alpha_i = T_i - T_{i+1}: the light absorbed in segment i (i = 2)",
            T[1] * alpha[1],
            T[1] - T[2],
        ),
        Step(
            "the weights telescope: sum_i T_i alpha_i = 1 - T_{N+1} <= 1 (N = 3), the rest is "
            "the background's share",
            sum(T[i] * alpha[i] for i in range(3)),
            1 - T[3],
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
        definition=True,
        properties_builder=_weights_properties,
        evaluator=nerf_weights,
        sheet_lines=(247, 247),
    )
)


def _color_parts():
    import sympy as sp

    i = sp.Symbol("i", integer=True, positive=True)
    T, alpha, c = sp.IndexedBase("T"), sp.IndexedBase("alpha"), sp.IndexedBase("c")
    N = sp.Symbol("N", integer=True, positive=True)
    return sp, sp.Symbol("C"), sp.Sum(T[i] * alpha[i] * c[i], (i, 1, N))


def _color_statement():
    sp, pixel, blend = _color_parts()
    return sp.Eq(pixel, blend)


def _color_derivation() -> list[Step]:
    sp, pixel, blend = _color_parts()
    t, s = sp.symbols("t s", real=True)
    sigma, colour = sp.Function("sigma"), sp.Function("c")
    near, far = sp.symbols("t_1 t_{N+1}", real=True)
    transmittance = sp.exp(-sp.Integral(sigma(s), (s, near, t)))
    # never simplified (an integral of undefined functions): the check is by quadrature
    integral = sp.Integral(transmittance * sigma(t) * colour(t), (t, near, far))

    def quadrature_against_blend() -> Comparison:
        import numpy as np

        left, right = [], []
        for seed in range(6):
            sigma_i, delta_i, colors = _ray_segments(seed)
            left.append(_rendering_integral(sigma_i, delta_i, colors))
            alpha_i = 1 - np.exp(-sigma_i * delta_i)
            T_i = np.cumprod(np.concatenate([[1.0], 1 - alpha_i[:-1]]))
            right.append(float(np.sum(T_i * alpha_i * colors)))
        return Comparison(
            left, right, "6 random rays of 5 segments: quadrature against sum_i T_i alpha_i c_i"
        )

    return [
        Step(
            "the pixel colour is the volume-rendering integral: light emitted at t (density "
            "times colour) that reaches the camera (transmittance T(t))",
            premise="definition",
            name="render",
            lhs=pixel,
            rhs=integral,
        ),
        Step(
            "alpha_i = 1 - exp(-sigma_i delta_i)",
            premise="formula:nerf-alpha",
            name="alpha",
        ),
        Step(
            "T_i = prod_{j<i} (1 - alpha_j)",
            premise="formula:nerf-transmittance",
            name="transmittance",
        ),
        Step(
            "split the rendering integral at the samples: with sigma, c constant on each "
            "segment, segment i contributes "
            "int_0^delta_i T_i exp(-sigma_i s) sigma_i c_i ds = T_i (1 - exp(-sigma_i delta_i)) "
            "c_i = T_i alpha_i c_i",
            lhs=pixel,
            rhs=blend,
            custom=quadrature_against_blend,
            tolerance=1e-10,
            uses=("render", "alpha", "transmittance"),
        ),
    ]


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
        derivation_builder=_color_derivation,
        evaluator=nerf_color,
        sheet_lines=(247, 247),
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


def _pe_properties() -> list[Step]:
    import sympy as sp

    p = sp.Symbol("p", real=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    return [
        Step(
            "frequency k oscillates 2^k times faster: its derivative has amplitude 2^k pi, so "
            "the MLP sees high-frequency detail as a change of input it can follow",
            sp.Derivative(sp.sin(2**k * sp.pi * p), p),
            2**k * sp.pi * sp.cos(2**k * sp.pi * p),
        ),
        Step(
            "each (sin, cos) pair has unit norm: the encoding keeps every frequency's scale",
            sp.sin(2**k * sp.pi * p) ** 2 + sp.cos(2**k * sp.pi * p) ** 2,
            sp.Integer(1),
        ),
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
        definition=True,
        properties_builder=_pe_properties,
        evaluator=positional_encoding,
        sheet_lines=(249, 249),
    )
)


# --------------------------------------------------------------------------------------------
# 3D Gaussian splatting


def _splat_opacity_parts():
    import sympy as sp
    from sympy.matrices.expressions.matexpr import MatrixElement

    o = sp.Symbol("o", positive=True)
    x, mean = sp.MatrixSymbol("x", 2, 1), sp.MatrixSymbol("mu'", 2, 1)
    covariance = sp.MatrixSymbol("Sigma'", 2, 2)
    offset = x - mean
    quadratic = MatrixElement(offset.T * covariance.I * offset, 0, 0)  # a 1x1 product
    return sp, o * sp.exp(-sp.Rational(1, 2) * quadratic)


def _splat_opacity_statement():
    sp, opacity = _splat_opacity_parts()
    return sp.Eq(sp.Symbol("alpha"), opacity)


def splat_opacity(x, mean, cov, opacity):
    """alpha = o exp(-1/2 (x - mu')^T Sigma'^{-1} (x - mu')) for a 2D (projected) Gaussian;
    x [..., 2]."""
    import numpy as np

    diff = np.asarray(x, dtype=np.float64) - np.asarray(mean, dtype=np.float64)
    solved = np.linalg.solve(np.asarray(cov, dtype=np.float64), diff[..., None])[..., 0]
    return as_float64(opacity * np.exp(-0.5 * np.sum(diff * solved, axis=-1)))


def _splat_typo_evidence() -> Evidence:
    import numpy as np
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    cov3d = A @ A.T + 0.5 * np.eye(3)
    t = np.array([0.3, -0.2, 4.0])  # the Gaussian's mean in camera space
    J = splat_projection_jacobian(t)
    cov2d = splat_covariance_2d(cov3d, np.eye(3), J)
    mean2d, pixel, o = t[:2] / t[2], t[:2] / t[2] + np.array([0.05, -0.03]), 0.8
    density = multivariate_normal(mean2d, cov2d)
    reference = o * density.pdf(pixel) / density.pdf(mean2d)  # scipy, the 2D footprint
    try:  # the sheet's Sigma is the 3x3 covariance of the 3D Gaussian
        sheet = float(splat_opacity(pixel, mean2d, cov3d, o))
    except ValueError:
        sheet = float("nan")
    return compare_forms(
        reference=reference,
        sheet=sheet,
        correct=float(splat_opacity(pixel, mean2d, cov2d, o)),
        reference_name="o N(x; mu', Sigma')/N(mu'; mu', Sigma') by scipy (nan: the sheet's 3x3 "
        "Sigma^{-1} does not apply to a 2-vector x - mu')",
        where="a 3D Gaussian at depth 4 seen by a unit-focal camera",
        tolerance=1e-9,
    )


register(
    Formula(
        id="splat-opacity",
        title="Gaussian splatting: opacity of a splat at a pixel",
        topic="implicit",
        section="8.3",
        text="rasterization: for each pixel sort Gaussians by depth, opacity alpha = o exp(-0.5 "
        "(x - mu')^T Sigma'^{-1} (x - mu')), then alpha-composite as in NeRF; adaptive density "
        "control clones/splits/prunes points",
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
        sheet_lines=(260, 260),
        erratum=Erratum(
            sheet=r"\alpha = o \cdot \exp(-0.5 (x - \mu')^\top \Sigma^{-1} (x - \mu'))",
            correct=r"\alpha = o \cdot \exp(-0.5 (x - \mu')^\top \Sigma'^{-1} (x - \mu'))",
            explanation="the opacity at pixel x uses the projected 2D Gaussian: its mean mu' "
            "(primed on the sheet) and its 2x2 covariance Sigma' = J W Sigma W^T J^T; the "
            "sheet drops the prime on Sigma, the 3x3 covariance of the 3D Gaussian, which does "
            "not even apply to the 2-vector x - mu'",
            evidence=_splat_typo_evidence,
            severity="typo",
            sheet_lines=(260, 260),
        ),
    )
)


def _cov2d_parts():
    import sympy as sp

    J, W = sp.MatrixSymbol("J", 2, 3), sp.MatrixSymbol("W", 3, 3)
    cov = sp.MatrixSymbol("Sigma", 3, 3)
    camera = sp.MatrixSymbol("A", 2, 3)  # the linearised camera map x -> J W x
    return sp, J, W, cov, camera, sp.MatrixSymbol("Sigma'", 2, 2)


def _cov2d_statement():
    sp, J, W, cov, _, projected = _cov2d_parts()
    return sp.Eq(projected, J * W * cov * W.T * J.T)


def _cov2d_derivation() -> list[Step]:
    sp, J, W, cov, camera, projected = _cov2d_parts()

    def linear_map_covariance() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        A = rng.normal(size=(2, 3))
        samples = rng.normal(size=(500, 3)) @ rng.normal(size=(3, 3)) + rng.normal(size=3)
        cov_x = np.cov(samples.T)
        return Comparison(
            np.cov((samples @ A.T).T),
            A @ cov_x @ A.T,
            "sample covariance of A x (500 points) against A Cov[x] A^T (exact for samples)",
        )

    return [
        Step(
            "near the Gaussian's mean the camera is the affine map x -> J W x + b: the view "
            "transform W, then the local affine approximation J of the projection",
            premise="definition",
            name="camera",
            lhs=camera,
            rhs=J * W,
        ),
        Step(
            "the projected covariance is that of y = A x + b: Cov[y] = E[A (x - mu)(x - mu)^T "
            "A^T] = A Sigma A^T (the translation b drops out)",
            lhs=projected,
            rhs=camera * cov * camera.T,
            custom=linear_map_covariance,
            tolerance=1e-12,
        ),
        Step("with A = J W", rhs=J * W * cov * W.T * J.T, uses=("camera",)),
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
        sheet_lines=(258, 258),
    )
)


def _jacobian_parts():
    import sympy as sp

    x, y = sp.symbols("t_x t_y", real=True)
    z, f = sp.Symbol("t_z", positive=True), sp.Symbol("f", positive=True)
    projection = [f * x / z, f * y / z]
    return sp, (x, y, z), f, projection


def _jacobian_matrix():
    sp, (x, y, z), f, _ = _jacobian_parts()
    return sp.Matrix([[f / z, 0, -f * x / z**2], [0, f / z, -f * y / z**2]])


def _jacobian_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("J"), _jacobian_matrix(), evaluate=False)


def _jacobian_derivation() -> list[Step]:
    sp, coordinates, f, projection = _jacobian_parts()
    partials = sp.Matrix(2, 3, lambda row, col: sp.Derivative(projection[row], coordinates[col]))
    return [
        Step(
            "J is the Jacobian of the pinhole projection (f t_x / t_z, f t_y / t_z) at the "
            "Gaussian's camera-space mean t",
            premise="definition",
            name="jacobian",
            lhs=sp.Symbol("J"),
            rhs=partials,
        ),
        Step(
            "differentiate each component",
            lhs=sp.Symbol("J"),
            rhs=_jacobian_matrix(),
            uses=("jacobian",),
        ),
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


def _scale_rotation_properties() -> list[Step]:
    def eigenvalues() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        left, right = [], []
        for _ in range(20):
            scale, q = rng.uniform(0.1, 3, 3), rng.normal(size=4)
            cov = covariance_from_scale_rotation(scale, q)
            left.append(np.sort(np.linalg.eigvalsh(cov)))
            right.append(np.sort(scale**2))
        return Comparison(left, right, "20 random (s, q): eigenvalues of Sigma against s_i^2")

    def symmetric() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(1)
        covs = [covariance_from_scale_rotation(rng.uniform(0.1, 3, 3), rng.normal(size=4))]
        return Comparison(covs, [c.T for c in covs], "Sigma against Sigma^T")

    return [
        Step(
            "R S S^T R^T has eigenvalues s_i^2 > 0 (eigenvectors the columns of R): any (s, q) "
            "gives a positive definite covariance, so gradient descent can update s and q "
            "freely",
            custom=eigenvalues,
            tolerance=1e-10,
        ),
        Step("it is symmetric", custom=symmetric, tolerance=1e-14),
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
        definition=True,
        properties_builder=_scale_rotation_properties,
        evaluator=covariance_from_scale_rotation,
        sheet_lines=(258, 258),
    )
)


# --------------------------------------------------------------------------------------------
# dvr-implicit-gradient (sheet section 13, "DVR Backward pass")

_DVR_PARAMETERS = 2  # theta has two entries in the symbolic statement (any number works)


def _dvr_parts():
    import sympy as sp

    from formulas._chain import jacobian

    P = _DVR_PARAMETERS
    w = sp.MatrixSymbol("w", 3, 1)  # ray direction
    p_hat = sp.MatrixSymbol("hat{p}", 3, 1)  # the surface point
    theta = sp.MatrixSymbol("theta", P, 1)  # the network's parameters
    f, d_hat = sp.Symbol("f", real=True), sp.Symbol("hat{d}", real=True)  # f_theta, distance
    df_dp = jacobian(f, p_hat)  # 1 x 3
    df_dtheta = jacobian(f, theta)  # 1 x P
    dd_dtheta = jacobian(d_hat, theta)  # 1 x P
    dp_dtheta = jacobian(p_hat, theta)  # 3 x P
    return sp, w, df_dp, df_dtheta, dd_dtheta, dp_dtheta


def _dvr_statement():
    sp, w, df_dp, df_dtheta, _, dp_dtheta = _dvr_parts()
    return sp.Eq(dp_dtheta, -w * (df_dp * w).I * df_dtheta)


def _sphere_hit(theta, origin, direction):
    """Distance to the first hit of the ray origin + d w with ||p - theta_1 e_z|| = theta_0."""
    import numpy as np

    centre = np.array([0.0, 0.0, theta[1]])
    b = direction @ (origin - centre)
    c = (origin - centre) @ (origin - centre) - theta[0] ** 2
    return -b - np.sqrt(b * b - c)


def _dvr_lemma_check() -> Comparison:
    """d d_hat/d theta by central differences of the closed-form hit distance, against
    -(df/dp . w)^{-1} df/dtheta at the hit (surface f = ||p - theta_1 e_z|| - theta_0)."""
    import numpy as np

    rng = np.random.default_rng(0)
    left, right = [], []
    for _ in range(5):
        theta = np.array([rng.uniform(1.0, 1.5), rng.uniform(-0.2, 0.2)])
        origin = np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), -5.0])
        direction = np.array([rng.normal() * 0.05, rng.normal() * 0.05, 1.0])
        direction /= np.linalg.norm(direction)
        h = 1e-6
        left.append(
            [
                (
                    _sphere_hit(theta + h * e, origin, direction)
                    - _sphere_hit(theta - h * e, origin, direction)
                )
                / (2 * h)
                for e in np.eye(2)
            ]
        )
        p = origin + _sphere_hit(theta, origin, direction) * direction
        offset = p - np.array([0.0, 0.0, theta[1]])
        df_dp = offset / np.linalg.norm(offset)
        df_dtheta = np.array([-1.0, -offset[2] / np.linalg.norm(offset)])
        right.append(-df_dtheta / (df_dp @ direction))
    return Comparison(
        left,
        right,
        "5 rays at a sphere of radius theta_0 centred at theta_1 e_z: central "
        "differences (h = 1e-6) of the closed-form hit distance",
    )


def _dvr_derivation() -> list[Step]:
    sp, w, df_dp, df_dtheta, dd_dtheta, dp_dtheta = _dvr_parts()
    return [
        Step(
            "the ray p_hat = r_0 + d_hat w: camera position r_0 and direction w do not depend "
            "on theta, so dp_hat/dtheta = w dd_hat/dtheta",
            premise="definition",
            name="ray",
            lhs=dp_dtheta,
            rhs=w * dd_dtheta,
        ),
        Step(
            "implicit definition f_theta(p_hat) = tau for all theta; differentiating, "
            "df/dtheta + df/dp_hat . w dd_hat/dtheta = 0, and (df/dp_hat . w) is a scalar: "
            "dd_hat/dtheta = -(df/dp_hat . w)^{-1} df/dtheta",
            premise="lemma",
            name="implicit",
            lhs=dd_dtheta,
            rhs=-(df_dp * w).I * df_dtheta,
            custom=_dvr_lemma_check,
            tolerance=1e-7,
        ),
        Step("move along the ray", lhs=dp_dtheta, rhs=w * dd_dtheta, uses=("ray",)),
        Step(
            "insert the implicit derivative of the ray distance",
            rhs=-w * (df_dp * w).I * df_dtheta,
            uses=("implicit",),
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
        text="DVR backward: ray p_hat = r_0 + d_hat w; implicit definition "
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
        sheet_lines=(417, 421),
    )
)


# --------------------------------------------------------------------------------------------
# dvr-color-gradient (the first line of the sheet's DVR proof; the sheet's chain rule is wrong)


def _dvr_color_parts():
    import sympy as sp

    from formulas._chain import jacobian, matrix_function

    P = _DVR_PARAMETERS
    p_hat = sp.MatrixSymbol("hat{p}", 3, 1)  # the surface point
    theta = sp.MatrixSymbol("theta", P, 1)
    texture = matrix_function("t_theta", latex_head=r"t_{\theta}")(p_hat)  # the colour there
    dt_dtheta = jacobian(texture, theta)  # theta directly (p_hat held)
    dt_dp = jacobian(texture, p_hat)
    dp_dtheta = jacobian(p_hat, theta)
    du_dtheta = jacobian(sp.MatrixSymbol("u", 3, 1), theta)
    return sp, du_dtheta, dt_dtheta + dt_dp * dp_dtheta


def _dvr_color_statement():
    sp, du_dtheta, total = _dvr_color_parts()
    return sp.Eq(du_dtheta, total)


def _texture_toy():
    """A texture field t_theta(p) = (sin(theta_0 p_1) + theta_1 p_3, theta_0 theta_1 p_2^2,
    exp(-theta_1 p_1 p_3)) seen through a hit point p_hat(theta) that moves with theta."""
    import torch

    def texture(theta, p):
        return torch.stack(
            [
                torch.sin(theta[0] * p[0]) + theta[1] * p[2],
                theta[0] * theta[1] * p[1] ** 2,
                torch.exp(-theta[1] * p[0] * p[2]),
            ]
        )

    def hit(theta):
        return torch.stack([theta[0] ** 2, theta[0] * theta[1], 1.0 + theta[1] ** 3])

    return torch, texture, hit


def _dvr_color_check() -> Comparison:
    torch, texture, hit = _texture_toy()
    from torch.autograd.functional import jacobian

    theta = torch.tensor([0.7, -1.3], dtype=torch.float64)
    total = jacobian(lambda th: texture(th, hit(th)), theta)  # autograd through everything
    p = hit(theta)
    dt_dtheta = jacobian(lambda th: texture(th, p), theta)
    dt_dp = jacobian(lambda q: texture(theta, q), p)
    dp_dtheta = jacobian(hit, theta)
    return Comparison(
        total.numpy(),
        (dt_dtheta + dt_dp @ dp_dtheta).numpy(),
        "autograd of u(theta) = t_theta(p_hat(theta)) against the two partial Jacobians",
    )


def _dvr_color_derivation() -> list[Step]:
    sp, du_dtheta, total = _dvr_color_parts()
    return [
        Step(
            "u = t_theta(p_hat(theta)) depends on theta directly and through the surface point: "
            "multivariate chain rule",
            lhs=du_dtheta,
            rhs=total,
            custom=_dvr_color_check,
            tolerance=1e-12,
        )
    ]


def _dvr_color_evidence() -> Evidence:
    torch, texture, hit = _texture_toy()
    from torch.autograd.functional import jacobian

    theta = torch.tensor([0.7, -1.3], dtype=torch.float64)
    reference = jacobian(lambda th: texture(th, hit(th)), theta).numpy()
    p = hit(theta)
    dt_dtheta = jacobian(lambda th: texture(th, p), theta)
    dt_dp = jacobian(lambda q: texture(theta, q), p)
    dp_dtheta = jacobian(hit, theta)
    # the sheet's second term, (dt/dtheta) . (dp/dtheta): 3x2 by 3x2 does not compose; take its
    # most charitable reading, the entrywise product
    sheet = (dt_dtheta + dt_dtheta * dp_dtheta).numpy()
    correct = (dt_dtheta + dt_dp @ dp_dtheta).numpy()
    return compare_forms(
        reference=reference,
        sheet=sheet,
        correct=correct,
        reference_name="du/dtheta by autograd through t_theta(p_hat(theta))",
        where="a toy texture field and hit point, theta = (0.7, -1.3)",
        tolerance=1e-10,
    )


register(
    Formula(
        id="dvr-color-gradient",
        title="Differentiable volumetric rendering: gradient of the pixel colour",
        topic="implicit",
        section="8.1.3, 13",
        text="DVR backward: dL/dtheta = sum_u dL/du du/dtheta, du/dtheta = "
        "dt_theta(p_hat)/dtheta + dt_theta(p_hat)/dp_hat dp_hat/dtheta (texture field t at the "
        "surface point; the sheet differentiates t by theta twice)",
        keywords=("dvr", "differentiable rendering", "chain rule", "texture field", "backward"),
        statement_builder=_dvr_color_statement,
        derivation_builder=_dvr_color_derivation,
        sheet_lines=(415, 415),
        erratum=Erratum(
            sheet=r"\frac{\partial u}{\partial\theta} = \frac{\partial c_\theta(\hat p)}"
            r"{\partial\theta} + \frac{\partial t_\theta(\hat p)}{\partial\theta} \cdot "
            r"\frac{\partial \hat p}{\partial\theta}",
            correct=r"\frac{\partial u}{\partial\theta} = \frac{\partial t_\theta(\hat p)}"
            r"{\partial\theta} + \frac{\partial t_\theta(\hat p)}{\partial \hat p} \cdot "
            r"\frac{\partial \hat p}{\partial\theta}",
            explanation="the pixel value u = t_theta(p_hat(theta)) depends on theta directly "
            "and through the surface point; the chain rule's second term differentiates the "
            "texture field by its input point, dt/dp_hat, not by theta again (dt/dtheta . "
            "dp_hat/dtheta does not even compose: 3xP times 3xP). The first term also names "
            "the field c_theta where the rest of the proof (and DVR) calls it t_theta",
            evidence=_dvr_color_evidence,
            severity="error",
            sheet_lines=(415, 415),
        ),
    )
)


# --------------------------------------------------------------------------------------------
# implicit-differentiation (the circle example, sheet section 13)


def _circle_parts():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    y = sp.Function("y", real=True)(x)
    return sp, x, y


def _circle_statement():
    sp, x, y = _circle_parts()
    return sp.Eq(sp.Derivative(y, x), -x / y)


def _circle_derivation() -> list[Step]:
    sp, x, y = _circle_parts()
    C = sp.Function("C")(x)  # the left side x^2 + y(x)^2 as a function of x
    return [
        Step(
            "name the left side C(x) := x^2 + y(x)^2, y a differentiable function of x near the "
            "point",
            premise="definition",
            name="left side",
            lhs=C,
            rhs=x**2 + y**2,
        ),
        Step(
            "on the circle C(x) = 1 for every x near the point",
            premise="assumption",
            name="circle",
            lhs=C,
            rhs=sp.Integer(1),
        ),
        Step(
            "differentiate C: d/dx x^2 + d/dx y^2 = 2x + 2y dy/dx (chain rule, d/dy y^2 = 2y); "
            "solve for dy/dx",
            lhs=sp.Derivative(y, x),
            rhs=(sp.Derivative(C, x) - 2 * x) / (2 * y),
            uses=("left side",),
        ),
        Step(
            "d/dx C = d/dx (1) = 0, so dy/dx = -x/y (y != 0)",
            rhs=-x / y,
            uses=("circle",),
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
        sheet_lines=(409, 413),
    )
)


# --------------------------------------------------------------------------------------------
# Claims in words (sheet section 8), decided against the papers they summarise


def _implicit_claim(claim_id, lines, sheet, explanation, source, verdict="correct", **extra):
    register_claim(
        Claim(
            id=claim_id,
            topic="implicit",
            section="8",
            sheet_lines=lines,
            sheet=sheet,
            verdict=verdict,
            explanation=explanation,
            source=source,
            **extra,
        )
    )


def _invertible_transform_check() -> Evidence:
    """Map a sphere by an invertible affine T; f o T^{-1} vanishes exactly on the image."""
    import numpy as np

    rng = np.random.default_rng(0)
    directions = rng.normal(size=(200, 3))
    surface = 0.7 * directions / np.linalg.norm(directions, axis=1, keepdims=True)
    T = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    shift = rng.normal(size=3)
    image = surface @ T.T + shift
    back = np.linalg.solve(T, (image - shift).T).T
    worst = float(np.max(np.abs(sphere_sdf(back, np.zeros(3), 0.7))))
    return Evidence(
        sheet_fails=False,
        correct_passes=worst < 1e-12,
        detail=f"f(T^{{-1}} y) on 200 mapped surface points: max |value| {worst:.1e}",
    )


_implicit_claim(
    "implicit-vs-explicit-representations",
    (235, 235),
    "Voxels ... inefficient (n^3). Meshes have limited granularity and self-intersections. "
    "Implicit representation S = {x | f(x) = 0}. Can be invertibly transformed without "
    "accuracy loss",
    "a level set is transformed exactly by composing f with the inverse map, "
    "{y | f(T^{-1} y) = 0} = T(S); voxel grids grow as n^3; meshes have a fixed resolution "
    "and can self-intersect",
    "Mescheder et al. 2019, Occupancy Networks, Sec. 1",
    check=_invertible_transform_check,
)
_implicit_claim(
    "occupancy-networks-and-deepsdf",
    (235, 235),
    "Occupancy networks: predict probability that point is inside the shape. DeepSDF: predict "
    "SDF. Both conditioned on input",
    "occupancy networks output p(inside | x, z) for a condition z (image, class, points); "
    "DeepSDF regresses the signed distance with a per-shape latent code",
    "Mescheder et al. 2019; Park et al. 2019, DeepSDF",
)
_implicit_claim(
    "implicit-inference-marching-cubes",
    (237, 237),
    "Inference: to get a mesh, sample points, predict occupancy/SDF, use marching cubes",
    "meshes are extracted by evaluating the field on a (hierarchical) grid and running "
    "marching cubes on the level set",
    "Mescheder et al. 2019, Sec. 3.3 (MISE + marching cubes)",
)
_implicit_claim(
    "dvr-forward-secant",
    (243, 243),
    "Forward: for a pixel, raymarch and root find p_hat: f(p_hat) = 0 with secant. Set pixel "
    "color to c(p_hat)",
    "DVR marches along the ray to the first sign change of f - tau and refines it with the "
    "secant method; the pixel takes the texture field's colour there. The level is tau (0 for "
    "the logit of an occupancy of 1/2, as in the DVR code)",
    "Niemeyer et al. 2020, Differentiable Volumetric Rendering, Sec. 3.3",
)
_implicit_claim(
    "nerf-density-before-view-direction",
    (247, 247),
    "Density is predicted before adding view direction theta, phi, then one layer for color",
    "the MLP outputs sigma and a feature vector from the position alone; the view direction "
    "is concatenated and one 128-unit layer outputs the view-dependent RGB",
    "Mildenhall et al. 2020, NeRF, Sec. 4 and Fig. 7",
)
_implicit_claim(
    "nerf-properties",
    (247, 247),
    "Optimized on many views of the scene. Can handle transparency/thin structure, but worse "
    "geometry. Needs many (50+) views, slow rendering for high res, only static scenes",
    "NeRF fits one static scene from many posed images (about 100 in the synthetic set); "
    "rendering queries the MLP at ~100+ samples per ray; the density gives no crisp surface",
    "Mildenhall et al. 2020, Sec. 5-6",
)
_implicit_claim(
    "positional-encoding-high-frequency",
    (249, 249),
    "Replace x, y, z with pos. enc. or rand. Fourier feats. Adds high frequency feats",
    "MLPs are biased towards low frequencies; mapping inputs to sin/cos of geometrically "
    "growing frequencies (or random Fourier features) lets them fit high-frequency detail",
    "Mildenhall et al. 2020, Sec. 5.1; Tancik et al. 2020, Fourier Features",
)
_implicit_claim(
    "nerf-sparse-views",
    (252, 252),
    "NeRF from sparse views: Regularize geometry and color",
    "RegNeRF regularises the geometry (depth smoothness of unobserved patches) and the colour "
    "(a likelihood of rendered patches)",
    "Niemeyer et al. 2022, RegNeRF",
)
_implicit_claim(
    "instant-ngp-hash-grid",
    (254, 254),
    "Replace deep MLPs with learn. feature hash table + small MLP. For x interp. features "
    "between corners",
    "multiresolution hash encoding: trainable features at hashed grid corners, trilinearly "
    "interpolated at x, concatenated over levels and decoded by a tiny MLP",
    "Mueller et al. 2022, Instant Neural Graphics Primitives, Sec. 3",
)
_implicit_claim(
    "splatting-primitives",
    (256, 256),
    "Alternative parametr.: cover of object with primitives, predict inside. Or sphere clouds. "
    "Both ineff. for thin structures. Ellipsoids are better",
    "isotropic primitives need many small elements to cover thin structures; anisotropic 3D "
    "Gaussians (ellipsoids) cover them compactly",
    "Kerbl et al. 2023, 3D Gaussian Splatting, Sec. 4",
)
_implicit_claim(
    "splatting-initialisation-and-projection",
    (258, 258),
    "Initialize point cloud randomly or with an approx. reconstruction. Each point has a 3D "
    "Gaussian. Use camera params. to project ('splat') Gaussians to 2D and differentially "
    "render them",
    "3DGS starts from SfM points (or random points for synthetic scenes), gives each a 3D "
    "Gaussian and projects it with Sigma' = J W Sigma W^T J^T into a differentiable "
    "rasteriser",
    "Kerbl et al. 2023, Sec. 4-6",
)
_implicit_claim(
    "splatting-adaptive-density-control",
    (258, 258),
    "Adaptive density control moves/clones/merges points",
    "adaptive density control clones small Gaussians in under-reconstructed regions, splits "
    "large ones in over-reconstructed regions (two smaller Gaussians, scale divided by 1.6) "
    "and prunes nearly transparent or oversized ones; positions move by gradient descent, and "
    "nothing merges Gaussians",
    "Kerbl et al. 2023, Sec. 5.2 (Adaptive Control of Gaussians)",
    verdict="error",
    correct="adaptive density control clones, splits and prunes Gaussians (no merging)",
)
_implicit_claim(
    "splatting-rasterisation-order",
    (260, 260),
    "Rasterization: for each pixel sort Gaussians by depth ... rest same as NeRF",
    "the splats are sorted by depth (once per 16x16 tile, by a GPU radix sort) and "
    "alpha-blended front to back with the same T_i alpha_i weights as NeRF",
    "Kerbl et al. 2023, Sec. 6",
)
