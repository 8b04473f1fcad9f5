"""Every runnable model, in one table: name -> lazy factory, config, family, data, steps.

`cheatsheet run`, `run --list`, `bench density` and the tests read this table. Nothing here
imports torch: a factory and a config are "module:name" strings, imported only when that model
runs (the config's fields are read from the model file's source for `run --list --json`).
A new run is one RunSpec below, with its config dataclass at the top of its model file.
"""

from __future__ import annotations

from cheatsheet.errors import CheatsheetError
from cheatsheet.runs.protocol import RunSpec

_BINARY = ("digits-binary", "mnist-binary")
_TOY = ("two-moons", "eight-gaussians", "checkerboard")
MDPS = ("gridworld-slippery", "gridworld", "chain", "random-mdp")
_FAMILIES = ("mixed", "sphere", "torus", "box")
_SHAPES = ("torus", "sphere", "box")
_SCENES = ("torus-sphere",)

SPECS: tuple[RunSpec, ...] = (
    # ----------------------------------------------------------------------------------------
    # Latent-variable models and the density baselines (sheet §1-2)
    RunSpec(
        name="vae",
        family="vae",
        description="VAE, Gaussian encoder, Bernoulli/Gaussian decoder, ELBO + IWAE bound "
        "(Kingma & Welling 2014)",
        factory="cheatsheet.models.vae:make_experiment",
        config="cheatsheet.models.vae:VAEConfig",
        default_steps=3000,
        default_data="digits-binary",
        datasets=("digits-binary", "digits", "mnist-binary", "mnist", *_TOY),
    ),
    RunSpec(
        name="beta-vae",
        family="vae",
        description="beta-VAE, KL weighted by beta = 2, latent traversals (Higgins et al. 2017)",
        factory="cheatsheet.models.vae:make_beta_experiment",
        config="cheatsheet.models.vae:VAEConfig",
        defaults={"beta": 2.0},
        default_steps=3000,
        default_data="digits-binary",
        datasets=("digits-binary", "digits", "mnist-binary", "mnist", *_TOY),
    ),
    RunSpec(
        name="vqvae",
        family="vae",
        description="VQ-VAE, codebook + straight-through + commitment loss, PixelCNN prior over "
        "its codes (van den Oord et al. 2017)",
        factory="cheatsheet.models.vqvae:make_experiment",
        config="cheatsheet.models.vqvae:VQVAEConfig",
        default_steps=2000,
        default_data="digits-binary",
        datasets=("digits-binary", "digits", "mnist-binary", "mnist"),
    ),
    RunSpec(
        name="bernoulli",
        family="baseline",
        description="Independent Bernoulli pixels, closed-form maximum likelihood (baseline)",
        factory="cheatsheet.models.baselines:make_independent_experiment",
        config="cheatsheet.models.baselines:BernoulliConfig",
        default_steps=1,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="bernoulli-mixture",
        family="baseline",
        description="Mixture of independent Bernoullis fitted by EM (Dempster et al. 1977)",
        factory="cheatsheet.models.baselines:make_mixture_experiment",
        config="cheatsheet.models.baselines:BernoulliMixtureConfig",
        default_steps=100,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    # ----------------------------------------------------------------------------------------
    # Autoregressive models (sheet §3 and §3.1)
    RunSpec(
        name="fvsbn",
        family="autoregressive",
        description="Fully visible sigmoid belief network, one logistic regression per pixel "
        "(Frey 1998; Gan et al. 2015)",
        factory="cheatsheet.models.fvsbn:make_experiment",
        config="cheatsheet.models.fvsbn:FVSBNConfig",
        default_steps=3000,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="nade",
        family="autoregressive",
        description="NADE, shared hidden layer across the conditionals (Larochelle & Murray 2011)",
        factory="cheatsheet.models.nade:make_experiment",
        config="cheatsheet.models.nade:NADEConfig",
        default_steps=3000,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="made",
        family="autoregressive",
        description="MADE, degree masks, order/connectivity-agnostic mask ensembles "
        "(Germain et al. 2015)",
        factory="cheatsheet.models.made:make_experiment",
        config="cheatsheet.models.made:MADEConfig",
        default_steps=6000,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="pixelcnn",
        family="autoregressive",
        description="PixelCNN, mask A/B convolutions, residual blocks (van den Oord et al. 2016a)",
        factory="cheatsheet.models.pixelcnn:make_experiment",
        config="cheatsheet.models.pixelcnn:PixelCNNConfig",
        default_steps=1200,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="gated-pixelcnn",
        family="autoregressive",
        description="Gated PixelCNN, vertical + horizontal stacks, no blind spot (van den "
        "Oord et al. 2016b)",
        factory="cheatsheet.models.pixelcnn:make_gated_experiment",
        config="cheatsheet.models.pixelcnn:GatedPixelCNNConfig",
        default_steps=600,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="pixelrnn",
        family="autoregressive",
        description="PixelRNN with Row LSTM layers (van den Oord et al. 2016a)",
        factory="cheatsheet.models.pixelrnn:make_experiment",
        config="cheatsheet.models.pixelrnn:PixelRNNConfig",
        default_steps=700,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="wavenet",
        family="autoregressive",
        description="WaveNet, dilated causal convolutions, gated units, 256-way mu-law softmax "
        "(van den Oord et al. 2016)",
        factory="cheatsheet.models.wavenet:make_experiment",
        config="cheatsheet.models.wavenet:WaveNetConfig",
        default_steps=600,
        default_data="audio",
        datasets=("audio",),
    ),
    RunSpec(
        name="transformer",
        family="autoregressive",
        description="Causal self-attention transformer over binary pixels in raster order "
        "(Vaswani et al. 2017; nanoGPT)",
        factory="cheatsheet.models.transformer:make_experiment",
        config="cheatsheet.models.transformer:TransformerRunConfig",
        default_steps=800,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    # ----------------------------------------------------------------------------------------
    # Normalizing flows and diffusion models (sheet §4 and §6)
    RunSpec(
        name="realnvp",
        family="flows",
        description="RealNVP, affine coupling with checkerboard/channel masks, multi-scale "
        "(Dinh et al. 2017)",
        factory="cheatsheet.models.realnvp:make_experiment",
        config="cheatsheet.models.realnvp:RealNVPConfig",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", "mnist", *_TOY),
    ),
    RunSpec(
        name="glow",
        family="flows",
        description="Glow, ActNorm + LU 1x1 conv + affine coupling, squeeze/split multi-scale "
        "(Kingma & Dhariwal 2018)",
        factory="cheatsheet.models.glow:make_experiment",
        config="cheatsheet.models.glow:GlowConfig",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", "mnist", *_TOY),
    ),
    RunSpec(
        name="conditional-flow",
        family="flows",
        description="Class-conditional Glow: conditional coupling beta(x_B, w) and affine "
        "injectors (Lugmayr et al. 2020)",
        factory="cheatsheet.models.conditional_flow:make_experiment",
        config="cheatsheet.models.conditional_flow:ConditionalFlowConfig",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", "mnist"),
    ),
    RunSpec(
        name="srflow",
        family="flows",
        description="SRFlow, 8x8 digits from 4x4 inputs: affine injector + conditional coupling "
        "(Lugmayr et al. 2020)",
        factory="cheatsheet.models.conditional_flow:make_srflow_experiment",
        config="cheatsheet.models.conditional_flow:ConditionalFlowConfig",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", "mnist"),
    ),
    RunSpec(
        name="ddpm",
        family="diffusion",
        description="DDPM, epsilon prediction, linear/cosine schedule, ancestral sampling "
        "(Ho et al. 2020; Nichol & Dhariwal 2021)",
        factory="cheatsheet.models.ddpm:make_experiment",
        config="cheatsheet.models.ddpm:DDPMConfig",
        default_steps=2000,
        default_data="digits",
        datasets=("digits", "mnist", *_TOY),
    ),
    RunSpec(
        name="cfg",
        family="diffusion",
        description="Classifier-free guidance, label dropout, eps_u + w (eps_c - eps_u) "
        "(Ho & Salimans 2022)",
        factory="cheatsheet.models.guidance:make_experiment",
        config="cheatsheet.models.guidance:CFGConfig",
        default_steps=2000,
        default_data="digits",
        datasets=("digits", "mnist"),
    ),
    RunSpec(
        name="latent-diffusion",
        family="diffusion",
        description="Latent diffusion: DDPM in a trained VAE's latent space (Rombach et al. 2022)",
        factory="cheatsheet.models.latent_diffusion:make_experiment",
        config="cheatsheet.models.latent_diffusion:LatentDiffusionConfig",
        default_steps=4000,
        default_data="digits",
        datasets=("digits", "mnist"),
    ),
    # ----------------------------------------------------------------------------------------
    # Adversarial models (sheet §5)
    RunSpec(
        name="gan",
        family="gan",
        description="GAN, MLP G + maxout D, minimax or non-saturating G loss, k D steps per G "
        "step (Goodfellow et al. 2014)",
        factory="cheatsheet.models.gan:make_experiment",
        config="cheatsheet.models.gan:GANConfig",
        default_steps=3000,
        default_data="eight-gaussians",
        datasets=(*_TOY, "digits", "mnist"),
    ),
    RunSpec(
        name="dcgan",
        family="gan",
        description="DCGAN, strided (transposed) convs, batch-norm, ReLU G / LeakyReLU D, no "
        "hidden FC layers (Radford et al. 2016)",
        factory="cheatsheet.models.dcgan:make_experiment",
        config="cheatsheet.models.dcgan:DCGANConfig",
        default_steps=2000,
        default_data="digits",
        datasets=("digits", "mnist"),
    ),
    RunSpec(
        name="wgan-gp",
        family="gan",
        description="WGAN-GP, critic + gradient penalty on per-example interpolates, "
        "lambda = 10, n_critic = 5 (Gulrajani et al. 2017)",
        factory="cheatsheet.models.wgan_gp:make_experiment",
        config="cheatsheet.models.wgan_gp:WGANGPConfig",
        default_steps=1500,
        default_data="eight-gaussians",
        datasets=(*_TOY, "digits", "mnist"),
    ),
    RunSpec(
        name="pix2pix",
        family="gan",
        description="Pix2Pix, U-Net G + PatchGAN D(x, y), cGAN + lambda L1, paired "
        "low-resolution -> digit (Isola et al. 2017)",
        factory="cheatsheet.models.pix2pix:make_experiment",
        config="cheatsheet.models.pix2pix:Pix2PixConfig",
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
        config="cheatsheet.models.cyclegan:CycleGANConfig",
        default_steps=1000,
        default_data="digits",
        datasets=("digits",),
    ),
    # ----------------------------------------------------------------------------------------
    # Reinforcement learning (§7) and the basics (§10-12)
    RunSpec(
        name="value-iteration",
        family="rl",
        description="Value iteration, V <- T* V until the contraction converges "
        "(Bellman 1957); one step = one sweep",
        factory="cheatsheet.rl.experiments:make_value_iteration",
        default_steps=300,
        default_data="gridworld-slippery",
        datasets=MDPS,
    ),
    RunSpec(
        name="policy-iteration",
        family="rl",
        description="Policy iteration, exact evaluation by a linear solve + greedy improvement "
        "(Howard 1960); one step = one iteration",
        factory="cheatsheet.rl.experiments:make_policy_iteration",
        default_steps=10,
        default_data="gridworld-slippery",
        datasets=MDPS,
    ),
    RunSpec(
        name="q-learning",
        family="rl",
        description="Tabular Q-learning, off-policy TD control with max_a' (Watkins 1989); "
        "one step = one episode",
        factory="cheatsheet.rl.experiments:make_q_learning",
        config="cheatsheet.rl.experiments:TabularConfig",
        default_steps=3000,
        default_data="gridworld-slippery",
        datasets=MDPS,
    ),
    RunSpec(
        name="sarsa",
        family="rl",
        description="SARSA, on-policy TD control with Q(S', A') (Rummery & Niranjan 1994); "
        "one step = one episode",
        factory="cheatsheet.rl.experiments:make_sarsa",
        config="cheatsheet.rl.experiments:TabularConfig",
        default_steps=3000,
        default_data="gridworld-slippery",
        datasets=MDPS,
    ),
    RunSpec(
        name="td0",
        family="rl",
        description="TD(0) prediction of the random policy (Sutton 1988); one step = one episode",
        factory="cheatsheet.rl.experiments:make_td0",
        config="cheatsheet.rl.experiments:TabularConfig",
        default_steps=3000,
        default_data="chain",
        datasets=MDPS,
    ),
    RunSpec(
        name="monte-carlo",
        family="rl",
        description="First-visit Monte Carlo prediction of the random policy; "
        "one step = one episode",
        factory="cheatsheet.rl.experiments:make_monte_carlo",
        config="cheatsheet.rl.experiments:TabularConfig",
        default_steps=3000,
        default_data="chain",
        datasets=MDPS,
    ),
    RunSpec(
        name="dqn",
        family="rl",
        description="DQN, replay buffer + target network (Mnih et al. 2015; Double DQN target) "
        "on CartPole-v1; one step = one environment step, stops when solved",
        factory="cheatsheet.rl.dqn:make_experiment",
        config="cheatsheet.rl.dqn:DQNConfig",
        default_steps=80_000,
        default_data="cartpole",
        datasets=("cartpole",),
    ),
    RunSpec(
        name="reinforce",
        family="rl",
        description="REINFORCE with a learned value baseline (Williams 1992) on CartPole-v1; "
        "one step = one episode",
        factory="cheatsheet.rl.policy_gradient:make_experiment",
        config="cheatsheet.rl.policy_gradient:ReinforceConfig",
        default_steps=400,
        default_data="cartpole",
        datasets=("cartpole",),
    ),
    RunSpec(
        name="actor-critic",
        family="rl",
        description="Actor-critic with the one-step TD advantage (Mnih et al. 2016, synchronous) "
        "on 8 CartPole-v1s; one step = one step of each",
        factory="cheatsheet.rl.actor_critic:make_experiment",
        config="cheatsheet.rl.actor_critic:ActorCriticConfig",
        default_steps=8000,
        default_data="cartpole",
        datasets=("cartpole",),
    ),
    RunSpec(
        name="mlp",
        family="basics",
        description="MLP classifier, cross-entropy + the sheet's Adam (Rumelhart et al. 1986)",
        factory="cheatsheet.models.mlp:make_experiment",
        config="cheatsheet.models.mlp:ClassifierConfig",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", "digits-binary"),
    ),
    RunSpec(
        name="cnn",
        family="basics",
        description="CNN classifier, two conv-ReLU-maxpool stages (LeCun et al. 1998)",
        factory="cheatsheet.models.cnn:make_experiment",
        config="cheatsheet.models.mlp:ClassifierConfig",
        default_steps=1500,
        default_data="digits",
        datasets=("digits", "digits-binary"),
    ),
    RunSpec(
        name="optimizers",
        family="basics",
        description="SGD, Polyak, Nesterov, AdaGrad, RMSProp, Adam from the sheet on the "
        "Rosenbrock function",
        factory="cheatsheet.models.optimizers:make_rosenbrock_experiment",
        default_steps=3000,
        default_data="rosenbrock",
        datasets=("rosenbrock",),
    ),
    RunSpec(
        name="rnn-gradients",
        family="basics",
        description="||dh_t/dh_0|| vs t as lambda_1(W_hh) crosses 1/gamma (vanishing/exploding "
        "gradients, Pascanu et al. 2013); one step = one random draw",
        factory="cheatsheet.models.rnn:make_gradient_experiment",
        default_steps=20,
        default_data="synthetic",
        datasets=("synthetic",),
    ),
    RunSpec(
        name="lstm",
        family="basics",
        description="LSTM against a vanilla RNN on the adding problem as the sequence grows: "
        "the RNN's gradient vanishes, the cell state carries it (Hochreiter & Schmidhuber 1997)",
        factory="cheatsheet.models.long_range:make_experiment",
        config="cheatsheet.models.long_range:LongRangeConfig",
        default_steps=1200,
        default_data="adding",
        datasets=("adding",),
    ),
    # ----------------------------------------------------------------------------------------
    # Neural implicit representations (§8) and body models (§9)
    RunSpec(
        name="occupancy",
        family="implicit",
        description="Occupancy network, PointNet encoder + CBN ResNet decoder, BCE on labelled "
        "points (Mescheder et al. 2019)",
        factory="cheatsheet.implicit.occupancy:make_experiment",
        config="cheatsheet.implicit.occupancy:OccupancyConfig",
        default_steps=400,
        default_data="mixed",
        datasets=_FAMILIES,
    ),
    RunSpec(
        name="deepsdf",
        family="implicit",
        description="DeepSDF auto-decoder, latent codes + clamped L1, codes inferred for unseen "
        "shapes (Park et al. 2019)",
        factory="cheatsheet.implicit.deepsdf:make_experiment",
        config="cheatsheet.implicit.deepsdf:DeepSDFConfig",
        default_steps=2500,
        default_data="mixed",
        datasets=_FAMILIES,
    ),
    RunSpec(
        name="igr",
        family="implicit",
        description="IGR, SDF from a point cloud with the eikonal term |f| + lambda "
        "(||grad f|| - 1)^2 (Gropp et al. 2020)",
        factory="cheatsheet.implicit.igr:make_experiment",
        config="cheatsheet.implicit.igr:IGRConfig",
        default_steps=500,
        default_data="torus",
        datasets=_SHAPES,
    ),
    RunSpec(
        name="nerf",
        family="implicit",
        description="NeRF, positional encoding, coarse + fine (hierarchical) sampling, volume "
        "rendering weights T_i alpha_i (Mildenhall et al. 2020)",
        factory="cheatsheet.implicit.nerf:make_experiment",
        config="cheatsheet.implicit.nerf:NeRFConfig",
        default_steps=400,
        default_data="torus-sphere",
        datasets=_SCENES,
    ),
    RunSpec(
        name="nerf-hashgrid",
        family="implicit",
        description="NeRF with the multiresolution hash-grid encoding (Mueller et al. 2022), "
        "compared with the positional encoding on the same rays",
        factory="cheatsheet.implicit.nerf:make_hashgrid_experiment",
        config="cheatsheet.implicit.nerf:NeRFConfig",
        defaults={"encoding": "hashgrid", "compare": True},
        default_steps=250,
        default_data="torus-sphere",
        datasets=_SCENES,
    ),
    RunSpec(
        name="gaussian-splatting",
        family="implicit",
        description="3D Gaussian splatting, R S S^T R^T, J W Sigma W^T J^T, depth-sorted alpha "
        "compositing, clone/split/prune (Kerbl et al. 2023)",
        factory="cheatsheet.implicit.splatting:make_experiment",
        config="cheatsheet.implicit.splatting:SplattingConfig",
        default_steps=600,
        default_data="torus-sphere",
        datasets=_SCENES,
    ),
    RunSpec(
        name="dvr",
        family="implicit",
        description="Differentiable volumetric rendering, ray marching + secant, implicit surface "
        "gradient -w (df/dp . w)^-1 df/dtheta (Niemeyer et al. 2020)",
        factory="cheatsheet.implicit.dvr:make_experiment",
        config="cheatsheet.implicit.dvr:DVRConfig",
        default_steps=1200,
        default_data="torus-sphere",
        datasets=_SCENES,
    ),
    RunSpec(
        name="smpl-fit",
        family="body",
        description="SMPLify-style fit of an SMPL-style model (PCA shapes, pose correctives, "
        "regressed joints) to 2D joints with a GMM pose prior (Bogo et al. 2016)",
        factory="cheatsheet.body.fitting:make_experiment",
        config="cheatsheet.body.fitting:FitConfig",
        default_steps=400,
        default_data="procedural",
        datasets=("procedural",),
    ),
    RunSpec(
        name="lbs",
        family="body",
        description="Linear blend skinning on its own: a posed mesh, skinning weights as colours, "
        "and the candy-wrapper collapse at a twisted joint against dual quaternions "
        "(Magnenat-Thalmann et al. 1988; Kavan et al. 2007); one step = one twist angle",
        factory="cheatsheet.body.blend_skinning:make_experiment",
        config="cheatsheet.body.blend_skinning:LBSConfig",
        default_steps=37,
        default_data="procedural",
        datasets=("procedural",),
    ),
)


def all_specs() -> list[RunSpec]:
    """All RunSpecs, sorted by family then name."""
    return sorted(SPECS, key=lambda spec: (spec.family, spec.name))


def get_spec(name: str) -> RunSpec:
    """The RunSpec called `name`; an unknown name is bad usage with the closest names."""
    from formulas.core import did_you_mean

    specs = {spec.name: spec for spec in SPECS}
    if name in specs:
        return specs[name]
    raise CheatsheetError(
        f"unknown model '{name}'{did_you_mean(name, specs)} (see `cheatsheet run --list`)"
    )


def specs_of_family(*families: str) -> list[RunSpec]:
    return [spec for spec in all_specs() if spec.family in families]


if len({spec.name for spec in SPECS}) != len(SPECS):  # pragma: no cover - a programming error
    raise RuntimeError("two runs share a name in cheatsheet/runs/catalog.py")
