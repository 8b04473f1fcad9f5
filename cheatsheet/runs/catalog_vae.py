"""Runs of the latent-variable models and the density baselines (issue 6)."""

from cheatsheet.runs.protocol import RunSpec

SPECS = [
    RunSpec(
        name="vae",
        family="vae",
        description="VAE, Gaussian encoder, Bernoulli/Gaussian decoder, ELBO + IWAE bound "
        "(Kingma & Welling 2014)",
        factory="cheatsheet.models.vae:make_experiment",
        default_steps=3000,
        default_data="digits-binary",
        datasets=("digits-binary", "digits", "two-moons", "eight-gaussians", "checkerboard"),
    ),
    RunSpec(
        name="beta-vae",
        family="vae",
        description="beta-VAE, KL weighted by beta = 2, latent traversals (Higgins et al. 2017)",
        factory="cheatsheet.models.vae:make_beta_experiment",
        default_steps=3000,
        default_data="digits-binary",
        datasets=("digits-binary", "digits", "two-moons", "eight-gaussians", "checkerboard"),
    ),
    RunSpec(
        name="vqvae",
        family="vae",
        description="VQ-VAE, codebook + straight-through + commitment loss, PixelCNN prior over "
        "its codes (van den Oord et al. 2017)",
        factory="cheatsheet.models.vqvae:make_experiment",
        default_steps=2000,
        default_data="digits-binary",
        datasets=("digits-binary", "digits"),
    ),
    RunSpec(
        name="bernoulli",
        family="baseline",
        description="Independent Bernoulli pixels, closed-form maximum likelihood (baseline)",
        factory="cheatsheet.models.baselines:make_independent_experiment",
        default_steps=1,
        default_data="digits-binary",
        datasets=("digits-binary",),
    ),
    RunSpec(
        name="bernoulli-mixture",
        family="baseline",
        description="Mixture of independent Bernoullis fitted by EM (Dempster et al. 1977)",
        factory="cheatsheet.models.baselines:make_mixture_experiment",
        default_steps=100,
        default_data="digits-binary",
        datasets=("digits-binary",),
    ),
]
