"""Generated questions on implicit surfaces and neural rendering (sheet section 8): NeRF
compositing weights, transmittance and pixel colour for given densities and segment lengths,
the positional encoding's entries, the eikonal (IGR) loss, and Gaussian splatting's projected
2D covariance J W Sigma W^T J^T and per-pixel opacity.

Every answer comes from the formula registry (nerf-*, igr-eikonal-loss, splat-*); the numbers
are on a grid so that exp() and a 2x2 inverse are the only work with a calculator.
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import grid, guard_module, matrix, numeric, show, vector, wrong

TOPIC = "implicit"


def _ray(rng: random.Random):
    count = rng.randint(3, 4)
    sigma = [grid(rng, 0.5, 3, 0.5) for _ in range(count)]
    delta = [rng.choice([0.1, 0.2, 0.25, 0.5, 1.0]) for _ in range(count)]
    return sigma, delta


def _ray_text(sigma, delta) -> str:
    return (
        f"A NeRF ray is cut into {len(sigma)} segments with densities sigma = {vector(sigma)} "
        f"and lengths delta = {vector(delta)} (segment 1 nearest the camera)."
    )


@template(
    "nerf-weight-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("nerf-weights", "nerf-alpha", "nerf-transmittance"),
    difficulty=2,
    tags=("nerf", "volume-rendering"),
)
def nerf_weight(rng: random.Random, question_id: str) -> Question:
    import formulas

    sigma, delta = _ray(rng)
    i = rng.randint(2, len(sigma))
    weights = formulas.get("nerf-weights").evaluate(sigma=sigma, delta=delta)
    alpha = formulas.get("nerf-alpha").evaluate(sigma=sigma, delta=delta)
    trans = formulas.get("nerf-transmittance").evaluate(sigma=sigma, delta=delta)
    value = weights[i - 1]
    through_i = trans[i - 1] * (1 - alpha[i - 1])  # T_{i+1}: includes segment i itself
    return numeric(
        question_id,
        TOPIC,
        _ray_text(sigma, delta) + f" What is the compositing weight w_{i} of segment {i}?",
        value,
        "w_i = T_i alpha_i with alpha_i = 1 - exp(-sigma_i delta_i) and T_i = "
        "prod_{j<i} (1 - alpha_j) = exp(-sum_{j<i} sigma_j delta_j): the light reaching segment "
        "i times the share it absorbs. See `cheatsheet derive nerf-weights`.",
        ("nerf-weights",),
        mistakes=wrong(
            (
                alpha[i - 1],
                "that is alpha_i alone; multiply by the transmittance T_i of the "
                "segments in front.",
            ),
            (
                through_i * alpha[i - 1],
                "T_i runs over j < i only; segment i does not shadow itself.",
            ),
            (
                trans[i - 1] * sigma[i - 1] * delta[i - 1],
                "alpha_i is 1 - exp(-sigma_i delta_i), not sigma_i delta_i.",
            ),
            answer=value,
        ),
        drawn={"sigma": sigma, "delta": delta, "i": i},
    )


@template(
    "nerf-transmittance-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("nerf-transmittance",),
    difficulty=1,
    tags=("nerf", "volume-rendering"),
)
def nerf_transmittance(rng: random.Random, question_id: str) -> Question:
    import formulas

    sigma, delta = _ray(rng)
    i = rng.randint(2, len(sigma))
    trans = formulas.get("nerf-transmittance").evaluate(sigma=sigma, delta=delta)
    value = trans[i - 1]
    alpha = formulas.get("nerf-alpha").evaluate(sigma=sigma, delta=delta)
    return numeric(
        question_id,
        TOPIC,
        _ray_text(sigma, delta) + f" What is the accumulated transmittance T_{i} (the "
        f"probability that light from segment {i} reaches the camera unabsorbed)?",
        value,
        "T_i = prod_{j<i} (1 - alpha_j) = exp(-sum_{j<i} sigma_j delta_j), T_1 = 1. "
        "See `cheatsheet derive nerf-transmittance`.",
        ("nerf-transmittance",),
        mistakes=wrong(
            (value * (1 - alpha[i - 1]), "the product runs over j < i; segment i is excluded."),
            (1 - alpha[i - 2], "that is only the last segment in front; multiply over all j < i."),
            answer=value,
        ),
        drawn={"sigma": sigma, "delta": delta, "i": i},
    )


@template(
    "nerf-pixel-colour-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("nerf-color", "nerf-weights"),
    difficulty=2,
    tags=("nerf", "volume-rendering"),
)
def nerf_colour(rng: random.Random, question_id: str) -> Question:
    import formulas

    sigma, delta = _ray(rng)
    grey = [grid(rng, 0, 1, 0.1) for _ in sigma]
    colors = [[c, c, c] for c in grey]
    value = formulas.get("nerf-color").evaluate(sigma=sigma, delta=delta, colors=colors)[0]
    alpha = formulas.get("nerf-alpha").evaluate(sigma=sigma, delta=delta)
    return numeric(
        question_id,
        TOPIC,
        _ray_text(sigma, delta) + f" The segments' grey values are c = {vector(grey)}; the "
        "background is black. What is the rendered grey value of the pixel?",
        value,
        "c = sum_i T_i alpha_i c_i: the weights sum to 1 - T_{N+1} <= 1, the rest goes to the "
        "(black) background. See `cheatsheet derive nerf-color`.",
        ("nerf-color", "nerf-weights"),
        mistakes=wrong(
            (
                sum(a * c for a, c in zip(alpha, grey)),
                "each alpha_i needs the transmittance T_i of the segments in front of it.",
            ),
            (
                sum(grey) / len(grey),
                "that is a plain average; volume rendering weights the colours by T_i alpha_i.",
            ),
            answer=value,
        ),
        drawn={"sigma": sigma, "delta": delta, "c": grey},
    )


@template(
    "nerf-positional-encoding-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("nerf-positional-encoding",),
    difficulty=2,
    tags=("nerf", "positional-encoding"),
)
def positional_encoding(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    levels = rng.randint(2, 4)
    p = grid(rng, -1, 1, 0.05)
    entry = rng.randint(3, 2 * levels)
    features = formulas.get("nerf-positional-encoding").evaluate(x=[p], num_frequencies=levels)
    value = features[entry - 1]
    k, use_cos = (entry - 1) // 2, (entry - 1) % 2 == 1
    trig = math.cos if use_cos else math.sin
    return numeric(
        question_id,
        TOPIC,
        f"NeRF's positional encoding with L = {levels} frequencies maps a coordinate p to "
        f"gamma(p) = (sin(2^0 pi p), cos(2^0 pi p), ..., sin(2^(L-1) pi p), cos(2^(L-1) pi p)). "
        f"For p = {show(p)}, what is entry number {entry} (counting from 1) of gamma(p)?",
        value,
        f"Entry {entry} is {'cos' if use_cos else 'sin'}(2^{k} pi p): frequencies 2^0 .. "
        "2^(L-1) times pi, sin and cos interleaved. See `cheatsheet derive "
        "nerf-positional-encoding`.",
        ("nerf-positional-encoding",),
        mistakes=wrong(
            (trig(2 ** (k + 1) * math.pi * p), "the frequencies start at 2^0 = 1, not 2^1."),
            (trig(2**k * p), "the factor pi is missing."),
            answer=value,
        ),
        drawn={"L": levels, "p": p, "entry": entry},
    )


@template(
    "igr-eikonal-loss-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("igr-eikonal-loss",),
    difficulty=2,
    tags=("sdf", "eikonal"),
)
def eikonal(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    surface = [rng.choice([-0.3, -0.2, -0.1, 0.1, 0.2, 0.3]) for _ in range(2)]
    gradients = [[rng.choice([0, 1, 2, -1, -2]) for _ in range(3)] for _ in range(2)]
    while any(not any(g) for g in gradients):
        gradients = [[rng.choice([0, 1, 2, -1, -2]) for _ in range(3)] for _ in range(2)]
    lam = rng.choice([0.1, 0.5, 1.0])
    loss = formulas.get("igr-eikonal-loss")
    value = loss.evaluate(
        surface_values=np.array(surface), gradients=np.array(gradients, float), lam=lam
    )
    squared = np.mean(np.square(surface)) + lam * np.mean(
        (np.sum(np.square(gradients), axis=1) - 1) ** 2
    )
    return numeric(
        question_id,
        TOPIC,
        "Implicit geometric regularisation (IGR) trains an SDF f from a point cloud with "
        "L = mean_i |f(x_i)|^2 over surface points + lambda mean_x (||grad_x f(x)|| - 1)^2 over "
        f"space points. At the two surface points f = {vector(surface)}; at the two space "
        f"points the gradients are {matrix(gradients)}; lambda = {show(lam)}. What is L?",
        value,
        "The eikonal term penalises (||grad f|| - 1)^2 with the Euclidean norm (not its "
        "square): a signed distance function has unit gradient everywhere. See `cheatsheet "
        "derive igr-eikonal-loss`.",
        ("igr-eikonal-loss",),
        mistakes=wrong(
            (squared, "the norm ||grad f|| is not squared inside (||grad f|| - 1)^2."),
            answer=value,
        ),
        drawn={"f": surface, "gradients": gradients, "lambda": lam},
    )


def _covariance(rng: random.Random):
    """A symmetric positive-definite 2x2 matrix with small entries."""
    while True:
        a, c = grid(rng, 0.5, 3, 0.5), grid(rng, 0.5, 3, 0.5)
        b = grid(rng, -1, 1, 0.5)
        if a * c - b * b > 0.2:
            return [[a, b], [b, c]]


@template(
    "splat-covariance-2d-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("splat-covariance-2d", "splat-projection-jacobian"),
    difficulty=3,
    tags=("splatting", "covariance"),
)
def splat_covariance(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    t = np.array(
        [rng.choice([-2, -1, 1, 2]), rng.choice([-2, -1, 1, 2]), rng.choice([1, 2, 4])], float
    )
    focal = rng.choice([1.0, 2.0])
    scales = [grid(rng, 0.5, 2, 0.5) for _ in range(3)]
    cov3d = np.diag(scales)
    J = formulas.get("splat-projection-jacobian").evaluate(t=t, focal=focal)
    cov2d = formulas.get("splat-covariance-2d").evaluate(cov3d=cov3d, W=np.eye(3), J=J)
    row, col = rng.choice([(0, 0), (0, 1), (1, 1)])
    value = cov2d[row, col]
    no_depth = J[row, :2] @ cov3d[:2, :2] @ J[col, :2]  # the depth column of J dropped
    return numeric(
        question_id,
        TOPIC,
        f"Gaussian splatting: a 3D Gaussian with covariance Sigma = diag({vector(scales)[1:-1]}) "
        f"has its mean at t = {vector(t)} in camera coordinates (W = I). The pinhole camera with "
        f"focal length f = {show(focal)} projects (x, y, z) to (f x / z, f y / z), and J is that "
        f"projection's Jacobian at t. What is entry ({row + 1}, {col + 1}) of the projected "
        "2D covariance Sigma' = J W Sigma W^T J^T?",
        value,
        "J = [[f/t_z, 0, -f t_x/t_z^2], [0, f/t_z, -f t_y/t_z^2]]; a linear map A x of a "
        "Gaussian has covariance A Sigma A^T, here with A = J W. See `cheatsheet derive "
        "splat-covariance-2d`.",
        ("splat-covariance-2d", "splat-projection-jacobian"),
        mistakes=wrong(
            (
                no_depth,
                "the third column of J (the depth terms -f t_x/t_z^2, -f t_y/t_z^2) is missing.",
            ),
            answer=value,
        ),
        drawn={
            "diag(Sigma)": scales,  # Sigma = diag(scales)
            "t": t.tolist(),
            "f": focal,
            "entry": [row + 1, col + 1],
        },
    )


@template(
    "splat-opacity-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("splat-opacity",),
    difficulty=2,
    tags=("splatting",),
)
def splat_opacity(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    value = 0.0
    while value < 0.05:  # a pixel the splat visibly covers
        cov = np.array(_covariance(rng))
        mean = np.array([rng.randint(0, 4), rng.randint(0, 4)], float)
        pixel = mean + np.array([rng.choice([-1, 0, 1]), rng.choice([-1, 1])], float)
        opacity = rng.choice([0.5, 0.8, 0.9, 1.0])
        value = formulas.get("splat-opacity").evaluate(x=pixel, mean=mean, cov=cov, opacity=opacity)
    d = pixel - mean
    return numeric(
        question_id,
        TOPIC,
        f"A projected Gaussian splat has mean mu' = {vector(mean)}, 2D covariance Sigma' = "
        f"{matrix(cov)} and opacity o = {show(opacity)}. What is its opacity alpha at the pixel "
        f"x = {vector(pixel)}?",
        value,
        "alpha = o exp(-1/2 (x - mu')^T Sigma'^{-1} (x - mu')): the inverse covariance, and the "
        "factor 1/2. See `cheatsheet derive splat-opacity`.",
        ("splat-opacity",),
        mistakes=wrong(
            (opacity * np.exp(-0.5 * d @ cov @ d), "Sigma' itself where its inverse belongs."),
            (opacity * np.exp(-(d @ np.linalg.inv(cov) @ d)), "the factor 1/2 is missing."),
            answer=value,
        ),
        drawn={"mu'": mean.tolist(), "Sigma'": cov.tolist(), "o": opacity, "x": pixel.tolist()},
    )


@template(
    "nerf-compositing-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("nerf-alpha", "nerf-transmittance", "nerf-weights", "nerf-color"),
    difficulty=3,
    tags=("nerf", "volume-rendering", "multipart"),
)
def compositing_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    sigma = [rng.choice([0.5, 1.0, 2.0, 3.0, 4.0]) for _ in range(3)]
    delta = rng.choice([0.25, 0.5])
    colours = [grid(rng, 0.1, 0.9, 0.1) for _ in range(3)]
    i = rng.randint(2, 3)  # sample 1 would have T = 1 (nothing in front)
    alpha = formulas.get("nerf-alpha").evaluate(sigma=sigma, delta=delta)
    transmittance = formulas.get("nerf-transmittance").evaluate(sigma=sigma, delta=delta)
    weights = formulas.get("nerf-weights").evaluate(sigma=sigma, delta=delta)
    colour = formulas.get("nerf-color").evaluate(
        sigma=sigma, delta=delta, colors=[[c] for c in colours]
    )[0]
    return problem(
        question_id,
        TOPIC,
        f"A NeRF ray has three samples (counted from 1, nearest the camera first) with densities "
        f"sigma = {vector(sigma)}, spacing delta = {show(delta)} between samples, and grey "
        f"colours c = {vector(colours)}.",
        [
            part(
                "numeric",
                f"What is the opacity alpha_{i} = 1 - exp(-sigma_{i} delta) of sample {i}?",
                alpha[i - 1],
                "alpha_i = 1 - exp(-sigma_i delta_i).",
                drawn={"i": i},
            ),
            part(
                "numeric",
                f"What is the transmittance T_{i} in front of sample {i}?",
                transmittance[i - 1],
                "T_i = exp(-sum_{j<i} sigma_j delta_j): the light that got past samples 1..i-1.",
                drawn={"i": i},
            ),
            part(
                "numeric",
                f"What is the compositing weight w_{i} of sample {i}?",
                weights[i - 1],
                "w_i = T_i alpha_i.",
                drawn={"i": i},
            ),
            part(
                "numeric",
                "What is the rendered (grey) colour of the ray?",
                colour,
                "C = sum_i w_i c_i.",
            ),
            choice_part(
                rng,
                "What do the weights w_1 + w_2 + w_3 sum to, and why?",
                "1 - T_4, at most 1: the light stopped by the samples, the rest passes through",
                {
                    "exactly 1, because the weights are a softmax": "they sum to 1 only if the "
                    "ray becomes opaque (T_4 = 0)",
                    "sigma_1 + sigma_2 + sigma_3, because each weight is a density": "a weight "
                    "is a fraction of the light, not a density",
                    "3, one per sample": "each weight is a fraction of the light in [0, 1]",
                },
                "sum_i T_i alpha_i telescopes: T_i - T_{i+1} summed gives T_1 - T_4 = 1 - T_4.",
            ),
        ],
        formulas=("nerf-alpha", "nerf-transmittance", "nerf-weights", "nerf-color"),
        carried={
            2: f"(a) alpha_{i} = {number(alpha[i - 1])}; (b) T_{i} = "
            f"{number(transmittance[i - 1])}",
            3: f"the weights w_1, w_2, w_3 = {vector([float(w) for w in weights])}",
        },
        drawn={"sigma": sigma, "delta": delta, "c": colours},
    )


@template(
    "implicit-sdf-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("implicit-surface",),
    difficulty=2,
    tags=("sdf", "eikonal", "multipart"),
)
def sdf_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    center = np.array([grid(rng, -1, 1, 1) for _ in range(3)])
    radius = rng.choice([1.0, 2.0, 3.0])
    offset = np.array(rng.choice([(3, 4, 0), (0, 3, 4), (4, 0, 3), (2, 3, 6), (1, 2, 2)]), float)
    offset *= rng.choice([0.5, 1.0, 2.0]) * rng.choice([1, -1])
    x = center + offset
    distance = float(formulas.get("implicit-surface").evaluate(x=x, center=center, radius=radius))
    axis = rng.randrange(3)
    gradient = offset / np.linalg.norm(offset)
    while gradient[axis] == 0:
        axis = rng.randrange(3)
    return problem(
        question_id,
        TOPIC,
        f"The signed distance function of the sphere with centre c = {vector(center)} and "
        f"radius r = {show(radius)} is f(x) = ||x - c|| - r (negative inside). Take the point "
        f"x = {vector(x)}.",
        [
            part("numeric", "What is f(x)?", distance, "||x - c|| - r."),
            part(
                "numeric",
                f"What is the {'xyz'[axis]} component of the gradient of f at x?",
                gradient[axis],
                "grad f = (x - c)/||x - c||: a unit vector.",
                drawn={"component": "xyz"[axis]},
            ),
            part(
                "numeric",
                "What is the length of that gradient?",
                1.0,
                "An exact SDF has |grad f| = 1 away from its kinks (the eikonal equation).",
            ),
            choice_part(
                rng,
                "IGR trains a network f to be an SDF. What does its eikonal term penalise, and "
                "why?",
                "(||grad f|| - 1)^2 at sampled points: an SDF's gradient has unit length, so "
                "the term keeps f a distance and not just any function with the right zero set",
                {
                    "f(x)^2 at every sample, so that f is small everywhere": "that flattens f; "
                    "only on the surface points should f be 0",
                    "||grad f||^2, so that f is smooth": "that pushes the gradient to 0; an SDF "
                    "needs length 1",
                    "the sign of f, so that inside is negative": "the eikonal term has no sign "
                    "information",
                },
                "Gropp et al.: surface term plus lambda E(||grad f|| - 1)^2.",
            ),
        ],
        formulas=("implicit-surface",),
        carried={2: f"(b) the {'xyz'[axis]} component is {number(gradient[axis])}"},
        drawn={"c": center.tolist(), "r": radius, "x": x.tolist()},
    )


@template(
    "splat-covariance-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("covariance-from-scale-rotation", "splat-covariance-2d"),
    difficulty=3,
    tags=("splatting", "multipart"),
)
def splat_covariance_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, matrix, part, show, vector

    scale = [rng.choice([0.5, 1.0, 2.0]) for _ in range(3)]
    degrees = rng.choice([90, 180, 60, 120])
    half = math.radians(degrees) / 2
    quaternion = [math.cos(half), 0.0, 0.0, math.sin(half)]  # about the z axis
    cov3d = np.asarray(
        formulas.get("covariance-from-scale-rotation").evaluate(scale=scale, quaternion=quaternion)
    )
    focal, depth = rng.choice([(1.0, 2.0), (1.0, 4.0), (2.0, 4.0), (1.0, 0.5)])  # f/t_z != 1
    J = [[focal / depth, 0.0, 0.0], [0.0, focal / depth, 0.0]]  # at a point on the optical axis
    cov2d = np.asarray(
        formulas.get("splat-covariance-2d").evaluate(cov3d=cov3d, W=np.eye(3).tolist(), J=J)
    )
    i, j = rng.choice([(0, 0), (0, 1), (1, 1)])
    while abs(cov3d[i, j]) < 1e-9:
        i, j = (0, 0)
    return problem(
        question_id,
        TOPIC,
        f"A 3D Gaussian splat has scales s = {vector(scale)} and is rotated by {degrees} "
        "degrees counter-clockwise about the z axis (seen from +z): Sigma = R S S^T R^T. The "
        f"camera looks down the z axis (W = I) and the splat sits on the optical axis at depth "
        f"t_z = {show(depth)} with focal length f = {show(focal)}, so J = diag(f/t_z, f/t_z) "
        "padded with a zero column.",
        [
            part(
                "numeric",
                f"What is Sigma[{i + 1}][{j + 1}] (counting from 1)?",
                cov3d[i, j],
                "R S S^T R^T with R the rotation about z.",
                drawn={"entry": [i + 1, j + 1]},
            ),
            part(
                "numeric",
                f"What is the projected 2D covariance Sigma'[{i + 1}][{j + 1}]?",
                cov2d[i, j],
                "Sigma' = J W Sigma W^T J^T.",
                drawn={"entry": [i + 1, j + 1]},
            ),
            choice_part(
                rng,
                "Why optimise R and S instead of Sigma's entries directly?",
                "R S S^T R^T is positive semi-definite for any R, S; free entries can leave "
                "the covariances, and gradient steps would break that",
                {
                    "it has fewer parameters than a symmetric 3x3 matrix": "both have six "
                    "degrees of freedom (3 scales + 3 rotation)",
                    "it makes the projection linear": "the projection uses J either way",
                    "it is required by the rasteriser's sorting": "sorting uses depths, not "
                    "the parametrisation",
                },
                "Kerbl et al.: covariances must stay PSD under optimisation.",
            ),
        ],
        formulas=("covariance-from-scale-rotation", "splat-covariance-2d"),
        carried={1: f"(a) Sigma = {matrix(np.round(cov3d, 6))}"},
        drawn={"s": scale, "degrees": degrees, "t_z": depth, "f": focal},
    )


@template(
    "implicit-dvr-depth-gradient-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("dvr-implicit-gradient", "implicit-surface"),
    difficulty=4,
    tags=("dvr", "implicit-differentiation", "multipart"),
)
def dvr_depth_gradient_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    while True:
        radius = rng.choice([1.0, 1.5, 2.0])
        centre = np.array([grid(rng, -1, 1, 0.5), grid(rng, -1, 1, 0.5), 0.0])
        distance = float(rng.choice([4, 5, 6]))
        off_axis = float(centre[0] ** 2 + centre[1] ** 2)
        if off_axis < radius**2 - 0.2:
            break
    origin = np.array([0.0, 0.0, -distance])
    w = np.array([0.0, 0.0, 1.0])
    depth = distance - math.sqrt(radius**2 - off_axis)  # the first root of ||r_0 + d w - c|| = r
    hit = origin + depth * w
    normal = (hit - centre) / np.linalg.norm(hit - centre)  # df/dp of ||p - c|| - r
    directional = float(normal @ w)
    dp_dr = np.asarray(
        formulas.get("dvr-implicit-gradient").evaluate(df_dp=normal, w=w, df_dtheta=[-1.0]),
        float,
    )
    d_depth = float(dp_dr[2, 0])  # w = e_z: dp/dr = w dd/dr
    return problem(
        question_id,
        TOPIC,
        f"DVR renders the surface f_theta(p) = tau of f_theta(p) = ||p - c|| - r (a sphere's "
        f"signed distance, tau = 0) with centre c = {vector(centre)} and radius r = "
        f"{show(radius)}; the parameter theta is r. A camera at r_0 = {vector(origin)} shoots "
        "the ray p = r_0 + d w with the unit direction w = [0, 0, 1]; p^ = r_0 + d^ w is the "
        "first surface point. 3 significant figures.",
        [
            part(
                "numeric",
                "What is the depth d^ of the first hit?",
                depth,
                "Solve ||r_0 + d w - c|| = r for the smaller root.",
            ),
            part(
                "symbolic",
                "Derive dd^/dtheta by differentiating f_theta(r_0 + d^ w) = tau, in terms of "
                "g = df/dtheta and s = (df/dp at p^) . w.",
                "-g/s",
                "d/dtheta: df/dtheta + (df/dp . w) dd^/dtheta = 0, so dd^/dtheta = -g/s and "
                "dp^/dtheta = -w (df/dp . w)^(-1) df/dtheta.",
                symbols={"g": "real", "s": "real"},
            ),
            part(
                "numeric",
                "What is s = (df/dp at p^) . w for this sphere?",
                directional,
                "df/dp = (p - c)/||p - c||, the outward unit normal; dot it with w.",
            ),
            part(
                "numeric",
                "What is dd^/dr?",
                d_depth,
                "df/dr = -1, so dd^/dr = -(-1)/s = 1/s: a larger sphere is hit earlier.",
            ),
            choice_part(
                rng,
                "Which is right about DVR's backward pass, and why?",
                "it needs no backpropagation through the ray marching or the secant steps: "
                "implicit differentiation gives dp^/dtheta at the surface point alone, so "
                "memory does not grow with the number of steps",
                {
                    "it backpropagates through every secant iteration, which is why it needs a "
                    "fixed number of steps": "the implicit-function result uses only p^; "
                    "the root finder is not differentiated",
                    "the gradient is 0, since f(p^) = tau holds for every theta": "p^ moves "
                    "with theta; differentiating the constraint gives dd^/dtheta = -g/s",
                    "it needs ground-truth depth to have any gradient": "DVR learns from "
                    "images: the colour and mask losses reach theta through dp^/dtheta",
                },
                "Niemeyer et al.: dp^/dtheta = -w (df/dp . w)^(-1) df/dtheta, constant memory.",
            ),
        ],
        formulas=("dvr-implicit-gradient", "implicit-surface"),
        carried={
            2: f"(a) d^ = {number(depth)}, so p^ = {vector([number(v) for v in hit])}",
            3: f"(b) dd^/dtheta = -g/s; (c) s = {number(directional)}",
        },
        drawn={"c": centre.tolist(), "r": radius, "r_0": origin.tolist()},
    )


@template(
    "nerf-positional-encoding-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("nerf-positional-encoding",),
    difficulty=3,
    tags=("nerf", "positional-encoding", "multipart"),
)
def positional_encoding_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    encode = formulas.get("nerf-positional-encoding")
    levels = rng.choice([4, 6, 8, 10])
    dims = rng.choice([2, 3])
    p = grid(rng, -1, 1, 0.05)
    while abs(math.cos(2 ** (levels - 1) * math.pi * p)) < 0.05:
        p = grid(rng, -1, 1, 0.05)
    delta = rng.choice([0.01, 0.02, 0.05])
    size = len(np.ravel(encode.evaluate(x=[0.0] * dims, num_frequencies=levels)))
    top = 2 ** (levels - 1) * math.pi
    slope = top * math.cos(top * p)
    full = float(
        np.linalg.norm(
            np.asarray(encode.evaluate(x=[p], num_frequencies=levels), float)
            - np.asarray(encode.evaluate(x=[p + delta], num_frequencies=levels), float)
        )
    )
    lowest = float(
        np.linalg.norm(
            np.asarray(encode.evaluate(x=[p], num_frequencies=1), float)
            - np.asarray(encode.evaluate(x=[p + delta], num_frequencies=1), float)
        )
    )
    return problem(
        question_id,
        TOPIC,
        f"NeRF encodes each coordinate p of its input with L = {levels} frequencies: gamma(p) = "
        "(sin(2^0 pi p), cos(2^0 pi p), ..., sin(2^(L-1) pi p), cos(2^(L-1) pi p)) (radians), "
        "the coordinates' encodings concatenated (the raw input is not appended). "
        "3 significant figures.",
        [
            part(
                "numeric",
                f"How many numbers does gamma give for a {dims}-D input point?",
                size,
                "2L per coordinate (a sin and a cos per frequency), times the dimension.",
                numeric_rule="abs:0",
                drawn={"D": dims},
            ),
            part(
                "numeric",
                f"At p = {show(p)}, what is d/dp of the highest-frequency entry sin(2^(L-1) pi p)?",
                slope,
                "2^(L-1) pi cos(2^(L-1) pi p): the slope grows with the frequency.",
                drawn={"p": p},
            ),
            part(
                "numeric",
                f"For one coordinate, what is the Euclidean distance ||gamma(p) - gamma(p')|| "
                f"between p = {show(p)} and p' = p + {show(delta)}?",
                full,
                "Each frequency's (sin, cos) pair contributes 2 - 2 cos(2^l pi (p' - p)).",
                drawn={"p": p, "delta": delta},
            ),
            part(
                "numeric",
                "And the same distance with the lowest frequency alone (L = 1)?",
                lowest,
                "sqrt(2 - 2 cos(pi (p' - p))), about pi |p' - p| for close points.",
            ),
            choice_part(
                rng,
                "Why does NeRF feed gamma(p) rather than p to its MLP? Which is right?",
                "an MLP on raw coordinates is biased towards low frequencies; the high "
                "frequencies of gamma pull nearby points apart (compare (c) and (d)), so fine "
                "detail can be fitted",
                {
                    "it normalises the input to [-1, 1], which stabilises training": "sin "
                    "and cos are bounded, but the point is the frequencies, not the range",
                    "it makes the density independent of the viewing direction": "the view "
                    "direction enters later; gamma is about spatial detail",
                    "it reduces the number of inputs, so the MLP is smaller": "gamma has 2L "
                    "numbers per coordinate, more than p",
                },
                "Tancik et al.: Fourier features overcome the spectral bias of MLPs.",
            ),
        ],
        formulas=("nerf-positional-encoding",),
        carried={4: f"(c) {number(full)}; (d) {number(lowest)}"},
        drawn={"L": levels},
    )


guard_module(__name__)
