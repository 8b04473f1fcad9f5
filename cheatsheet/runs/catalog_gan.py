"""Runs of the adversarial models (issue 6): GAN, DCGAN, WGAN-GP, Pix2Pix, CycleGAN."""

from cheatsheet.runs.protocol import RunSpec

_TOY = ("two-moons", "eight-gaussians", "checkerboard")

SPECS = [
    RunSpec(
        name="gan",
        family="gan",
        description="GAN, MLP G + maxout D, minimax or non-saturating G loss, k D steps per G "
        "step (Goodfellow et al. 2014)",
        factory="cheatsheet.models.gan:make_experiment",
        default_steps=3000,
        default_data="eight-gaussians",
        datasets=(*_TOY, "digits"),
    ),
    RunSpec(
        name="dcgan",
        family="gan",
        description="DCGAN, strided (transposed) convs, batch-norm, ReLU G / LeakyReLU D, no "
        "hidden FC layers (Radford et al. 2016)",
        factory="cheatsheet.models.dcgan:make_experiment",
        default_steps=2000,
        default_data="digits",
        datasets=("digits",),
    ),
    RunSpec(
        name="wgan-gp",
        family="gan",
        description="WGAN-GP, critic + gradient penalty on per-example interpolates, "
        "lambda = 10, n_critic = 5 (Gulrajani et al. 2017)",
        factory="cheatsheet.models.wgan_gp:make_experiment",
        default_steps=1500,
        default_data="eight-gaussians",
        datasets=(*_TOY, "digits"),
    ),
    RunSpec(
        name="pix2pix",
        family="gan",
        description="Pix2Pix, U-Net G + PatchGAN D(x, y), cGAN + lambda L1, paired "
        "low-resolution -> digit (Isola et al. 2017)",
        factory="cheatsheet.models.pix2pix:make_experiment",
        default_steps=1500,
        default_data="digits",
        datasets=("digits",),
    ),
    RunSpec(
        name="cyclegan",
        family="gan",
        description="CycleGAN, two generators and two LSGAN discriminators, cycle-consistency "
        "L1 both ways, unpaired digits <-> inverted digits (Zhu et al. 2017)",
        factory="cheatsheet.models.cyclegan:make_experiment",
        default_steps=1000,
        default_data="digits",
        datasets=("digits",),
    ),
]
