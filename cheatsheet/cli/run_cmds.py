"""`cheatsheet run MODEL` (and `run --list`) and `cheatsheet bench density`.

Thin commands: parsing and printing here, the work in cheatsheet.runs.harness and
cheatsheet.bench.density. Nothing heavy at module level (listing runs imports no torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cheatsheet.cli.output import JsonOption, console, emit_json
from cheatsheet.errors import CheatsheetError


def _model_names(incomplete: str) -> list[str]:
    from cheatsheet.runs.catalog import all_specs

    return [spec.name for spec in all_specs() if spec.name.startswith(incomplete)]


def run(
    model: Annotated[
        str | None,
        typer.Argument(help="The model to run (see --list).", autocompletion=_model_names),
    ] = None,
    list_models: Annotated[
        bool, typer.Option("--list", help="List the runnable models and exit.")
    ] = False,
    device: Annotated[
        str, typer.Option("--device", help="cpu, cuda, mps or auto (the best one present).")
    ] = "auto",
    steps: Annotated[
        int | None,
        typer.Option("--steps", help="Total optimisation steps (default: the model's own)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for data split, init, batches.")] = 0,
    data: Annotated[
        str | None, typer.Option("--data", help="Embedded dataset (default: the model's own).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: ./runs/MODEL)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the checkpoint in --out.")
    ] = False,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help="A model hyperparameter KEY=VALUE (repeatable), e.g. --option beta=8.",
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help="cpu (the defaults) or gpu: 28x28 MNIST, wider nets, more steps (~2 min on "
            "one GPU). --data, --steps and --option override it.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Train a reference model: progress bar, then metrics.json, samples.png, loss.png and
    checkpoint.pt in --out. Works unchanged under `torchrun --standalone --nproc_per_node N
    -m cheatsheet run MODEL`. Ctrl-C saves a checkpoint; --resume continues it."""
    if list_models:
        _list(as_json)
        return
    if model is None:
        raise CheatsheetError("name a model to run (see `cheatsheet run --list`)")
    from cheatsheet.runs.catalog import get_spec
    from cheatsheet.runs.harness import run as run_model
    from cheatsheet.runs.presets import preset_for

    chosen = preset_for(get_spec(model).name, preset)
    result = run_model(
        model,
        device=device,
        steps=steps if steps is not None else chosen.steps,
        seed=seed,
        data=data or chosen.data,
        out=out,
        resume=resume,
        progress=True,
        options={**chosen.options, **parse_options(option or [])},
    )
    if result.metrics.get("world_size", 1) > 1 and _rank() != 0:
        return  # under torchrun only rank 0 reports
    if as_json:
        emit_json(result.metrics)
        return
    from rich.table import Table

    table = Table(title=f"{result.metrics['model']} on {result.metrics['data']}", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value")
    for key, value in result.metrics.items():
        if isinstance(value, float):
            value = f"{value:.4f}"
        table.add_row(key, str(value))
    console.print(table)
    for path in result.files:
        console.print(f"wrote {path}")


def parse_options(pairs: list[str]) -> dict[str, object]:
    """KEY=VALUE strings to a dict of values (`cheatsheet.runs.config.parse_value`)."""
    from cheatsheet.runs.config import parse_value

    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CheatsheetError(f"--option takes KEY=VALUE, got '{pair}'")
        options[key.replace("-", "_")] = parse_value(text)
    return options


def _rank() -> int:
    import os

    return int(os.environ.get("RANK", "0"))


def _list(as_json: bool) -> None:
    from cheatsheet.runs.catalog import all_specs
    from cheatsheet.runs.config import describe
    from cheatsheet.runs.presets import describe as describe_preset

    specs = all_specs()
    if as_json:
        emit_json(
            [
                {
                    "name": spec.name,
                    "family": spec.family,
                    "description": spec.description,
                    "default_steps": spec.default_steps,
                    "default_data": spec.default_data,
                    "datasets": list(spec.datasets),
                    "options": describe(spec.config, spec.defaults),
                    "gpu_preset": describe_preset(spec.name),
                }
                for spec in specs
            ]
        )
        return
    from rich.table import Table

    table = Table(title="cheatsheet run MODEL")
    for column in ("model", "family", "data", "steps", "description"):
        table.add_column(column)
    for spec in specs:
        table.add_row(
            spec.name, spec.family, spec.default_data, str(spec.default_steps), spec.description
        )
    console.print(table)


# --------------------------------------------------------------------------------------------

bench_app = typer.Typer(
    help="Benchmarks that train several models under one budget and compare them.",
    no_args_is_help=True,
)


@bench_app.command("density")
def bench_density(
    data: Annotated[
        str,
        typer.Option("--data", help="mnist-binary (28x28, the papers' data) or digits-binary."),
    ] = "mnist-binary",
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            help="Training seconds per model, the same for all (default: 200 on mnist-binary, "
            "so the bench takes under 30 min on 2 CPU cores; 20 on digits-binary; 240 gpu).",
        ),
    ] = None,
    preset: Annotated[
        str, typer.Option("--preset", help="cpu (default) or gpu: wider nets, bigger budget.")
    ] = "cpu",
    models: Annotated[
        str | None,
        typer.Option("--models", help="Comma-separated subset, e.g. fvsbn,nade (default: all)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for init and batches.")] = 0,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda, mps or auto.")] = "auto",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where bench-density.png/.json go (default ./runs/bench)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Test NLL (nats per image and bits/dim) of FVSBN, NADE, MADE, PixelCNN, gated PixelCNN,
    the VAE (IWAE bound) and the Bernoulli baselines, beside the published numbers: each
    trained under the same wall-clock budget and seed, early-stopped on the validation split."""
    import json

    from cheatsheet.bench import density
    from cheatsheet.runs.presets import PRESETS

    if budget is not None and budget <= 0:
        raise CheatsheetError(f"--budget must be positive, got {budget}")
    if preset not in PRESETS:
        from formulas.core import did_you_mean

        raise CheatsheetError(f"unknown preset '{preset}'{did_you_mean(preset, PRESETS)}")
    entries = density.entries_for(data, preset)
    if models:
        entries = density.select(entries, [m.strip() for m in models.split(",") if m.strip()])
    if preset == "gpu" and device == "auto":
        device = "cuda"
    report = density.run_density_bench(
        budget=budget,
        seed=seed,
        device=device,
        progress=not as_json,
        entries=entries,
        data=data,
        preset=preset,
    )
    out_dir = Path(out) if out is not None else Path.cwd() / "runs" / "bench"
    stem = f"bench-density-{data}" + ("-gpu" if preset == "gpu" else "")
    report["figure"] = str(density.save_bar_chart(report, out_dir / f"{stem}.png"))
    (out_dir / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    if as_json:
        emit_json(report)
        return
    _print_density_table(report)


def _print_density_table(report: dict) -> None:
    from rich.table import Table

    table = Table(
        title=f"Density on {report['data']}\n(test set; budget {report['budget_s']:g} s/model, "
        f"early stop on validation; {report['device']})"
    )
    columns = ("model", "NLL nats", "bits/dim", "paper", "steps", "stop", "train s", "params")
    for column in columns:
        table.add_column(column, justify="left" if column in ("model", "stop") else "right")
    for row in report["results"]:
        if row.get("skipped"):
            table.add_row(row["model"], "-", "-", "-", "-", "failed", "-", "-")
            continue
        paper = row.get("published_nats")
        table.add_row(
            row["model"],
            f"{row['test_nll_nats']:.2f}",
            f"{row['bits_per_dim']:.4f}",
            "-" if paper is None else f"{paper:.2f}",
            str(row.get("steps", "")),
            row.get("stopped", ""),
            f"{row['wall_time_s']:.1f}",
            f"{row['parameters']:,}",
        )
    console.print(table)
    console.print(
        f"train set: {report['train_size']:,} images; published: binarised MNIST, 60,000 "
        f"training images; total {report['total_time_s']:.0f} s"
    )
    for note in report["notes"]:
        console.print(f"note: {note}")
    console.print(f"wrote {report['figure']}")


def register(app: typer.Typer) -> None:
    """Add `run` and the `bench` group to the app."""
    app.command("run")(run)
    app.add_typer(bench_app, name="bench")
