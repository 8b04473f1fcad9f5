"""Presets: named per-run overrides of the data, the step count and the typed config.

`cheatsheet run MODEL --preset gpu` picks what a GPU makes worthwhile: 28x28 MNIST instead of
the 8x8 digits, wider nets, more steps, sized to finish in about 2 minutes on one GPU. The CPU
defaults (no preset) stay what 2 CPU cores finish in about 2 minutes. A preset is plain data
here, so `run --list --json` can show it without importing torch; explicit `--data`, `--steps`
and `--option`s win over the preset's.

The GPU wall times are estimates until they are measured on a lent GPU (README, "GPU presets").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cheatsheet.errors import CheatsheetError

PRESETS = ("cpu", "gpu")


@dataclass(frozen=True)
class Preset:
    data: str | None = None
    steps: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


_AR = {"batch_size": 128, "samples": 64}
GPU: dict[str, Preset] = {
    # Latent-variable models and baselines
    "vae": Preset("mnist-binary", 20_000, {"hidden": 500, "latent_dim": 16, "iwae_k": 1000}),
    "beta-vae": Preset("mnist-binary", 20_000, {"hidden": 500, "latent_dim": 10}),
    "vqvae": Preset("mnist-binary", 8_000, {"hidden": 64, "num_codes": 128, "prior_channels": 64}),
    "bernoulli": Preset("mnist-binary", 1),
    "bernoulli-mixture": Preset("mnist-binary", 300, {"components": 100}),
    # Autoregressive models on 28x28 binarised MNIST
    "fvsbn": Preset("mnist-binary", 4_000, {"lr": 1e-3, "batch_size": 256}),
    "nade": Preset("mnist-binary", 6_000, {"hidden": 500, "lr": 1e-3, "batch_size": 256}),
    "made": Preset("mnist-binary", 6_000, {"hidden": 1000, "lr": 1e-3, "batch_size": 256}),
    # 12 blocks, not 8: a 15-row receptive field. On the CPU (README) 32 x 12 drew connected
    # digits after 1,600 steps where 32 x 8 still drew fragments after 4,000.
    "pixelcnn": Preset("mnist-binary", 4_000, {"features": 64, "blocks": 12, "lr": 1e-3, **_AR}),
    # No blind spot: 16 features x 10 layers drew digits on the CPU after 1,500 steps of 32.
    "gated-pixelcnn": Preset(
        "mnist-binary", 3_000, {"features": 64, "layers": 10, "lr": 1e-3, **_AR}
    ),
    "pixelrnn": Preset("mnist-binary", 1_500, {"features": 64, "layers": 2, **_AR}),
    "transformer": Preset(
        "mnist-binary", 3_000, {"n_layer": 4, "n_embd": 128, "lr": 1e-3, "batch_size": 64}
    ),
    # Flows, diffusion and GANs on 28x28 grey-level MNIST
    "realnvp": Preset("mnist", 4_000, {"hidden": 64}),
    "glow": Preset("mnist", 3_000, {"hidden": 128}),
    "conditional-flow": Preset("mnist", 3_000, {"hidden": 128}),
    "srflow": Preset("mnist", 3_000, {"hidden": 128}),
    "ddpm": Preset("mnist", 8_000),
    "cfg": Preset("mnist", 8_000),
    "latent-diffusion": Preset("mnist", 8_000),
    "gan": Preset("mnist", 8_000),
    "dcgan": Preset("mnist", 5_000),
    "wgan-gp": Preset("mnist", 4_000),
}


def preset_for(model: str, name: str | None) -> Preset:
    """The overrides of `--preset NAME` for a run; "cpu" (or none) changes nothing."""
    from formulas.core import did_you_mean

    if name is None or name == "cpu":
        return Preset()
    if name not in PRESETS:
        raise CheatsheetError(f"unknown preset '{name}'{did_you_mean(name, PRESETS)}")
    if model not in GPU:
        runs = ", ".join(sorted(GPU))
        raise CheatsheetError(
            f"{model} has no gpu preset: its CPU default is already its full size "
            f"(gpu presets: {runs})"
        )
    return GPU[model]


def describe(model: str) -> dict[str, Any] | None:
    """The gpu preset of a run as plain data (for `run --list --json`), None if it has none."""
    preset = GPU.get(model)
    if preset is None:
        return None
    return {"data": preset.data, "steps": preset.steps, "options": dict(preset.options)}
