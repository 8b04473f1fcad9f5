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
    from cheatsheet.runs.harness import run as run_model

    result = run_model(
        model,
        device=device,
        steps=steps,
        seed=seed,
        data=data,
        out=out,
        resume=resume,
        progress=True,
        options=parse_options(option or []),
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
    """KEY=VALUE strings to a dict; values become int, float or bool when they read as one
    (parsed, never evaluated), else stay strings."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CheatsheetError(f"--option takes KEY=VALUE, got '{pair}'")
        value: object = text
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(text)
                    break
                except ValueError:
                    continue
        options[key.replace("-", "_")] = value
    return options


def _rank() -> int:
    import os

    return int(os.environ.get("RANK", "0"))


def _list(as_json: bool) -> None:
    from cheatsheet.runs.catalog import all_specs
    from cheatsheet.runs.config import describe

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
    budget: Annotated[
        float, typer.Option("--budget", help="Training seconds per model (same for all).")
    ] = 20.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for split, init and batches.")] = 0,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda, mps or auto.")] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Test NLL (nats per image and bits/dim) of density models on binarised digits, each
    trained for the same wall-clock budget and seed."""
    if budget <= 0:
        raise CheatsheetError(f"--budget must be positive, got {budget}")
    from cheatsheet.bench.density import run_density_bench

    report = run_density_bench(budget=budget, seed=seed, device=device, progress=not as_json)
    if as_json:
        emit_json(report)
        return
    from rich.table import Table

    table = Table(title=f"Density on binarised 8x8 digits (test set, budget {budget:g} s/model)")
    for column in ("model", "test NLL (nats)", "bits/dim", "steps", "wall s", "parameters"):
        table.add_column(column, justify="right" if column != "model" else "left")
    for row in report["results"]:
        if row.get("skipped"):
            table.add_row(row["model"], "-", "-", "-", "-", "-")
            continue
        table.add_row(
            row["model"],
            f"{row['test_nll_nats']:.2f}",
            f"{row['bits_per_dim']:.4f}",
            str(row.get("steps", "")),
            f"{row['wall_time_s']:.1f}",
            f"{row['parameters']:,}",
        )
    console.print(table)
    for note in report["notes"]:
        console.print(f"note: {note}")


def register(app: typer.Typer) -> None:
    """Add `run` and the `bench` group to the app."""
    app.command("run")(run)
    app.add_typer(bench_app, name="bench")
