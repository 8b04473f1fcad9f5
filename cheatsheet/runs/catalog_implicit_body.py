"""Runs of the neural implicit models (occupancy networks, DeepSDF, IGR, DVR, NeRF, 3D Gaussian
splatting) and the body model fit (SMPL-style, SMPLify-style fitting), issue 7."""

from cheatsheet.runs.protocol import RunSpec

_FAMILIES = ("mixed", "sphere", "torus", "box")
_SHAPES = ("torus", "sphere", "box")
_SCENES = ("torus-sphere",)

SPECS = [
    RunSpec(
        name="occupancy",
        family="implicit",
        description="Occupancy network, PointNet encoder + CBN ResNet decoder, BCE on labelled "
        "points (Mescheder et al. 2019)",
        factory="cheatsheet.implicit.occupancy:make_experiment",
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
        default_steps=600,
        default_data="mixed",
        datasets=_FAMILIES,
    ),
    RunSpec(
        name="igr",
        family="implicit",
        description="IGR, SDF from a point cloud with the eikonal term |f| + lambda "
        "(||grad f|| - 1)^2 (Gropp et al. 2020)",
        factory="cheatsheet.implicit.igr:make_experiment",
        default_steps=500,
        default_data="torus",
        datasets=_SHAPES,
    ),
]

SPECS += [
    RunSpec(
        name="nerf",
        family="implicit",
        description="NeRF, positional encoding, coarse + fine (hierarchical) sampling, volume "
        "rendering weights T_i alpha_i (Mildenhall et al. 2020)",
        factory="cheatsheet.implicit.nerf:make_experiment",
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
        default_steps=250,
        default_data="torus-sphere",
        datasets=_SCENES,
    ),
]

SPECS += [
    RunSpec(
        name="gaussian-splatting",
        family="implicit",
        description="3D Gaussian splatting, R S S^T R^T, J W Sigma W^T J^T, depth-sorted alpha "
        "compositing, clone/split/prune (Kerbl et al. 2023)",
        factory="cheatsheet.implicit.splatting:make_experiment",
        default_steps=600,
        default_data="torus-sphere",
        datasets=_SCENES,
    ),
]

SPECS += [
    RunSpec(
        name="dvr",
        family="implicit",
        description="Differentiable volumetric rendering, ray marching + secant, implicit surface "
        "gradient -w (df/dp . w)^-1 df/dtheta (Niemeyer et al. 2020)",
        factory="cheatsheet.implicit.dvr:make_experiment",
        default_steps=1200,
        default_data="torus-sphere",
        datasets=_SCENES,
    ),
]

SPECS += [
    RunSpec(
        name="smpl-fit",
        family="body",
        description="SMPLify-style fit of an SMPL-style model (PCA shapes, pose correctives, "
        "regressed joints) to 2D joints with a GMM pose prior (Bogo et al. 2016)",
        factory="cheatsheet.body.fitting:make_experiment",
        default_steps=400,
        default_data="procedural",
        datasets=("procedural",),
    ),
]
