"""Runs of the normalizing flows and the diffusion models (issue 6)."""

from cheatsheet.runs.protocol import RunSpec

_TOY = ("two-moons", "eight-gaussians", "checkerboard")

SPECS = [
    RunSpec(
        name="realnvp",
        family="flows",
        description="RealNVP, affine coupling with checkerboard/channel masks, multi-scale "
        "(Dinh et al. 2017)",
        factory="cheatsheet.models.realnvp:make_experiment",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", *_TOY),
    ),
    RunSpec(
        name="glow",
        family="flows",
        description="Glow, ActNorm + LU 1x1 conv + affine coupling, squeeze/split multi-scale "
        "(Kingma & Dhariwal 2018)",
        factory="cheatsheet.models.glow:make_experiment",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", *_TOY),
    ),
    RunSpec(
        name="conditional-flow",
        family="flows",
        description="Class-conditional Glow: conditional coupling beta(x_B, w) and affine "
        "injectors (Lugmayr et al. 2020)",
        factory="cheatsheet.models.conditional_flow:make_experiment",
        default_steps=1500,
        default_data="digits",
        datasets=("digits",),
    ),
    RunSpec(
        name="srflow",
        family="flows",
        description="SRFlow, 8x8 digits from 4x4 inputs: affine injector + conditional coupling "
        "(Lugmayr et al. 2020)",
        factory="cheatsheet.models.conditional_flow:make_srflow_experiment",
        default_steps=1500,
        default_data="digits",
        datasets=("digits",),
    ),
    RunSpec(
        name="ddpm",
        family="diffusion",
        description="DDPM, epsilon prediction, linear/cosine schedule, ancestral sampling "
        "(Ho et al. 2020; Nichol & Dhariwal 2021)",
        factory="cheatsheet.models.ddpm:make_experiment",
        default_steps=2000,
        default_data="digits",
        datasets=("digits", *_TOY),
    ),
    RunSpec(
        name="cfg",
        family="diffusion",
        description="Classifier-free guidance, label dropout, eps_u + w (eps_c - eps_u) "
        "(Ho & Salimans 2022)",
        factory="cheatsheet.models.guidance:make_experiment",
        default_steps=2000,
        default_data="digits",
        datasets=("digits",),
    ),
    RunSpec(
        name="latent-diffusion",
        family="diffusion",
        description="Latent diffusion: DDPM in a trained VAE's latent space (Rombach et al. 2022)",
        factory="cheatsheet.models.latent_diffusion:make_experiment",
        default_steps=4000,
        default_data="digits",
        datasets=("digits",),
    ),
]
