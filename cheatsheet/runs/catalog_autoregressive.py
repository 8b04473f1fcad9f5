"""Runs of the autoregressive models (issue 6): the sheet's section 3 and 3.1."""

from cheatsheet.runs.protocol import RunSpec

_BINARY = ("digits-binary",)

SPECS = [
    RunSpec(
        name="fvsbn",
        family="autoregressive",
        description="Fully visible sigmoid belief network, one logistic regression per pixel "
        "(Frey 1998; Gan et al. 2015)",
        factory="cheatsheet.models.fvsbn:make_experiment",
        default_steps=3000,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="nade",
        family="autoregressive",
        description="NADE, shared hidden layer across the conditionals (Larochelle & Murray 2011)",
        factory="cheatsheet.models.nade:make_experiment",
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
        default_steps=6000,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="pixelcnn",
        family="autoregressive",
        description="PixelCNN, mask A/B convolutions, residual blocks (van den Oord et al. 2016a)",
        factory="cheatsheet.models.pixelcnn:make_experiment",
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
        default_steps=600,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
    RunSpec(
        name="pixelrnn",
        family="autoregressive",
        description="PixelRNN with Row LSTM layers (van den Oord et al. 2016a)",
        factory="cheatsheet.models.pixelrnn:make_experiment",
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
        default_steps=600,
        default_data="audio",
        datasets=("audio",),
    ),
    RunSpec(
        name="transformer",
        family="autoregressive",
        description="Causal self-attention transformer over 64 binary pixels (Vaswani et al. "
        "2017; nanoGPT)",
        factory="cheatsheet.models.transformer:make_experiment",
        default_steps=800,
        default_data="digits-binary",
        datasets=_BINARY,
    ),
]
