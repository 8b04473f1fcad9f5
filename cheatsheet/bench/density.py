"""`cheatsheet bench density`: test NLL of density models on binarised 8x8 digits, each trained
for the same wall-clock budget from the same seed.

Every entry names a run of the catalog (cheatsheet/runs/catalog.py), built by its factory with
its typed config, whose `evaluate()` returns `test_nll_nats` (per image) and `bits_per_dim`
(or `test_bits_per_dim`). The bench owns the loop: seed everything, build, call `train_step`
until the budget is spent (or the experiment sets `converged = True`, e.g. a closed-form fit),
then `evaluate()`. A model that fails is reported, not fatal.

What the numbers mean. For the exact-likelihood models (baselines, FVSBN, NADE, MADE, PixelCNN)
test NLL = -mean log p(x). For the VAE it is -IWAE_K, an upper bound (in expectation) on the
NLL. RealNVP models the 17-level (dequantised) digits, a different random variable: its NLL
is reported in the same units but is not comparable with the binary models'.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Entry:
    model: str  # the `cheatsheet run` name (cheatsheet/runs/catalog.py)
    data: str = "digits-binary"
    options: dict[str, Any] = field(default_factory=dict)
    nominal_steps: int = 10_000  # ctx.steps, for models that shape a schedule by it


ENTRIES: tuple[Entry, ...] = (
    Entry("bernoulli"),
    Entry("bernoulli-mixture"),
    Entry("fvsbn"),
    Entry("nade"),
    Entry("made"),
    Entry("pixelcnn"),
    Entry("vae", options={"iwae_k": 1000}),
    Entry("realnvp", data="digits"),
)

# Binarised MNIST in the literature (Larochelle & Murray 2011; Germain et al. 2015;
# van den Oord et al. 2016): FVSBN worse than NADE worse than MADE worse than PixelCNN.
LITERATURE_ORDER = ("fvsbn", "nade", "made", "pixelcnn")


def _load(entry: Entry):
    """The entry's factory and typed config, from the run catalog."""
    from cheatsheet.runs.catalog import get_spec
    from cheatsheet.runs.harness import load_factory, resolve_config

    spec = get_spec(entry.model)
    return load_factory(spec), resolve_config(spec, dict(entry.options))


def bench_one(
    entry: Entry, budget: float, seed: int, device: Any, out_dir: Path, progress: bool
) -> dict[str, Any]:
    """Train one entry for `budget` seconds and evaluate it on the test split."""
    import torch

    from cheatsheet.runs.harness import count_parameters, seed_everything
    from cheatsheet.runs.progress import time_bar
    from cheatsheet.runs.protocol import RunContext

    factory, config = _load(entry)
    seed_everything(seed)
    ctx = RunContext(
        device=device,
        seed=seed,
        steps=entry.nominal_steps,
        data=entry.data,
        out_dir=out_dir / entry.model,
        options=dict(entry.options),
        config=config,
    )
    experiment = factory(ctx)
    steps, loss = 0, None
    began = time.perf_counter()
    with time_bar(budget, entry.model, enabled=progress) as bar:
        while True:
            elapsed = time.perf_counter() - began
            if elapsed >= budget or getattr(experiment, "converged", False):
                break
            loss = float(experiment.train_step(steps)["loss"])
            steps += 1
            bar.update(min(time.perf_counter() - began, budget), steps, loss)
        bar.update(budget, steps, loss)  # done (a converged model stops early)
    train_seconds = time.perf_counter() - began
    evaluated = time.perf_counter()
    with torch.no_grad():
        metrics = dict(experiment.evaluate())
    nll = float(metrics["test_nll_nats"])
    bits = metrics.get("bits_per_dim", metrics.get("test_bits_per_dim"))
    row = {
        "model": entry.model,
        "data": entry.data,
        "test_nll_nats": nll,
        "bits_per_dim": float(bits) if bits is not None else math.nan,
        "steps": steps,
        "wall_time_s": train_seconds,
        "eval_time_s": time.perf_counter() - evaluated,
        "parameters": count_parameters(experiment.modules()),
        "final_train_loss": loss,
    }
    if "train_nll_nats" in metrics:
        row["train_nll_nats"] = float(metrics["train_nll_nats"])
    return row


def ordering_notes(rows: list[dict[str, Any]]) -> list[str]:
    """Check the literature's ordering on the rows present; say where it fails and why."""
    by_name = {r["model"]: r for r in rows if not r.get("skipped") and "test_nll_nats" in r}
    present = [name for name in LITERATURE_ORDER if name in by_name]
    notes = []
    for worse, better in zip(present, present[1:]):
        a, b = by_name[worse], by_name[better]
        if a["test_nll_nats"] > b["test_nll_nats"]:
            continue
        # Why did `better` (the model the literature expects to win) not win here?
        reason = []
        train = b.get("train_nll_nats")
        if train is not None and b["test_nll_nats"] - train > 1.0:
            reason.append(
                f"{better} overfits the 1,437 training images "
                f"(train {train:.2f}, test {b['test_nll_nats']:.2f} nats)"
            )
        elif train is not None and train >= a["test_nll_nats"]:
            reason.append(
                f"{better} still underfits after {b['steps']} steps in the budget "
                f"(train NLL {train:.2f} nats, {worse} had {a['steps']} steps)"
            )
        else:
            reason.append(
                f"{better} had {b['steps']} steps in the budget against {a['steps']} for {worse}"
            )
        reason.append("on 8x8 digits the bigger model's edge is small and budget-bound")
        notes.append(
            f"ordering: {worse} ({a['test_nll_nats']:.2f}) is not worse than {better} "
            f"({b['test_nll_nats']:.2f}), against the binarised-MNIST ordering; "
            + "; ".join(reason)
        )
    if len(present) == len(LITERATURE_ORDER) and not notes:
        notes.append("ordering: FVSBN > NADE > MADE > PixelCNN in test NLL, as in the literature")
    return notes


def run_density_bench(
    budget: float = 20.0,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    entries: tuple[Entry, ...] = ENTRIES,
) -> dict[str, Any]:
    """Every entry under the same budget and seed; the report is plain JSON-ready data."""
    from cheatsheet.runs.device import pick_device

    torch_device = pick_device(device)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cheatsheet-bench-") as scratch:
        for entry in entries:
            try:
                row = bench_one(entry, budget, seed, torch_device, Path(scratch), progress)
            except Exception as error:  # another model's bug must not sink the whole table
                first_line = (str(error).splitlines() or [""])[0]
                row = {
                    "model": entry.model,
                    "skipped": True,
                    "note": f"{entry.model}: failed, {type(error).__name__}: {first_line}",
                }
            if row.get("skipped"):
                notes.append(row["note"])
            rows.append(row)
    notes.extend(ordering_notes(rows))
    if any(r["model"] == "realnvp" and not r.get("skipped") for r in rows):
        notes.append(
            "realnvp: trained on the 17-level digits, dequantised; its NLL is of a different "
            "variable and not comparable with the binary models'"
        )
    if any(r["model"] == "vae" and not r.get("skipped") for r in rows):
        notes.append("vae: test NLL is -IWAE (K = 1000), an upper bound on the true NLL")
    return {
        "budget_s": budget,
        "seed": seed,
        "device": str(torch_device),
        "data": "digits-binary (8x8, 1437 train / 360 test)",
        "results": rows,
        "notes": notes,
    }
