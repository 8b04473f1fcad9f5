"""The density bench and its baselines: closed-form MLE, EM monotonicity, normalisation over
every binary image, the table on a tiny budget, skip-with-a-note for missing modules."""

from __future__ import annotations

import json
import math

import pytest
import torch

from cheatsheet.bench import density
from cheatsheet.cli import main
from cheatsheet.models.baselines import BernoulliMixture, IndependentBernoulli


def all_binary_images(dims: int) -> torch.Tensor:
    return torch.cartesian_prod(*[torch.tensor([0.0, 1.0])] * dims)


def test_independent_bernoulli_is_the_pixel_mean_mle_and_normalised():
    torch.manual_seed(0)
    x = torch.bernoulli(torch.full((500, 6), 0.3))
    model = IndependentBernoulli(6, alpha=0.0)
    model.fit(x)
    torch.testing.assert_close(model.theta.data, x.mean(0))
    # the log-likelihood against torch.distributions
    expected = torch.distributions.Bernoulli(probs=x.mean(0)).log_prob(x).sum(1)
    torch.testing.assert_close(model.log_prob(x), expected)
    # the MLE maximises the training likelihood: any perturbation of theta lowers it
    best = model.log_prob(x).mean()
    for delta in (-0.02, 0.02):
        model.theta.data = x.mean(0) + delta
        assert model.log_prob(x).mean() < best
    model.fit(x)
    total = torch.logsumexp(model.log_prob(all_binary_images(6)), 0)
    torch.testing.assert_close(total, torch.tensor(0.0), atol=1e-5, rtol=0)


def test_mixture_is_normalised_and_em_never_decreases_the_likelihood():
    torch.manual_seed(0)
    prototypes = torch.tensor([[0.9, 0.9, 0.1, 0.1, 0.5], [0.1, 0.2, 0.9, 0.8, 0.5]])
    x = torch.bernoulli(prototypes[torch.randint(2, (400,))])
    model = BernoulliMixture(5, components=3, alpha=1e-3)
    total = torch.logsumexp(model.log_prob(all_binary_images(5)), 0)
    torch.testing.assert_close(total, torch.tensor(0.0), atol=1e-5, rtol=0)
    # the mixture's log p(x) against a brute-force sum over components
    pi, mu = model.log_pi.exp(), model.mu
    brute = torch.log(sum(pi[k] * (mu[k] ** x * (1 - mu[k]) ** (1 - x)).prod(1) for k in range(3)))
    torch.testing.assert_close(model.log_prob(x), brute, rtol=1e-5, atol=1e-5)
    history = [model.em_step(x) for _ in range(30)]
    assert all(b >= a - 1e-5 for a, b in zip(history, history[1:]))
    independent = IndependentBernoulli(5, alpha=1e-3)
    independent.fit(x)
    assert history[-1] > independent.log_prob(x).mean().item() + 0.1  # two clusters found


def test_single_component_mixture_equals_the_independent_model_after_one_em_step():
    torch.manual_seed(0)
    x = torch.bernoulli(torch.full((200, 8), 0.4))
    mixture = BernoulliMixture(8, components=1, alpha=1.0)
    mixture.em_step(x)
    independent = IndependentBernoulli(8, alpha=1.0)
    independent.fit(x)
    torch.testing.assert_close(mixture.log_prob(x), independent.log_prob(x))


def test_fair_coin_scores_exactly_d_ln2():
    model = IndependentBernoulli(64)  # theta = 0.5 before any fit
    x = torch.bernoulli(torch.full((5, 64), 0.5))
    torch.testing.assert_close(model.log_prob(x), torch.full((5,), -64 * math.log(2)))


def test_bench_on_a_tiny_budget_and_reports_an_unknown_model(monkeypatch):
    entries = (
        density.Entry("bernoulli", data="digits-binary"),
        density.Entry("bernoulli-mixture", data="digits-binary"),
        density.Entry("vae", data="digits-binary", options={"iwae_k": 4}),
        density.Entry("not-yet", data="digits-binary"),
    )
    report = density.run_density_bench(budget=0.3, seed=0, device="cpu", progress=False,
                                       entries=entries)  # fmt: skip
    rows = {row["model"]: row for row in report["results"]}
    assert rows["not-yet"]["skipped"]
    assert any("not-yet: failed" in n and "unknown model" in n for n in report["notes"])
    for name in ("bernoulli", "bernoulli-mixture", "vae"):
        row = rows[name]
        assert row["test_nll_nats"] > 0 and row["steps"] >= 1 and row["parameters"] > 0
        assert row["bits_per_dim"] == pytest.approx(row["test_nll_nats"] / (64 * math.log(2)))
    assert rows["bernoulli"]["steps"] == 1  # closed form: converged after one fit
    # the mixture, fitted by EM, beats independent pixels on digits
    assert rows["bernoulli-mixture"]["test_nll_nats"] < rows["bernoulli"]["test_nll_nats"]
    json.dumps(report)  # plain data all the way down


def test_ordering_notes_name_the_violating_pair():
    rows = [
        {"model": "fvsbn", "test_nll_nats": 20.0, "steps": 10},
        {"model": "nade", "test_nll_nats": 21.0, "steps": 5, "train_nll_nats": 15.0},
        {"model": "made", "test_nll_nats": 19.0, "steps": 5},
        {"model": "pixelcnn", "test_nll_nats": 18.0, "steps": 5},
    ]
    notes = density.ordering_notes(rows, 4000)
    assert len(notes) == 1 and "fvsbn" in notes[0] and "nade overfits the 4,000" in notes[0]
    rows[1]["test_nll_nats"] = 19.5
    assert "as in the literature" in density.ordering_notes(rows)[0]


def test_bench_cli_rejects_a_non_positive_budget(capsys):
    with pytest.raises(SystemExit) as done:
        main(["bench", "density", "--budget", "0"])
    assert done.value.code == 2 and "--budget" in capsys.readouterr().err


def test_ordering_note_says_still_improving_when_the_budget_stopped_the_better_model():
    rows = [
        {"model": "made", "test_nll_nats": 100.0, "steps": 900},
        {"model": "pixelcnn", "test_nll_nats": 120.0, "train_nll_nats": 118.0, "steps": 40,
         "best_step": 40, "stopped": "budget"},
    ]  # fmt: skip
    (note,) = density.ordering_notes(rows)
    assert "still improving when the budget ran out (40 steps" in note


class _Counter:
    """A fake experiment whose validation NLL falls for 5 checks, then rises: the bench must
    stop early and restore the weights of the best check."""

    def __init__(self):
        self.w = torch.nn.Linear(1, 1, bias=False)
        torch.nn.init.zeros_(self.w.weight)
        self.t = 0

    def modules(self):
        return {"model": self.w}

    def train_step(self, step):
        self.t += 1
        with torch.no_grad():
            self.w.weight += 1.0  # the weight counts the steps taken
        return {"loss": 0.0}

    def validation_nll(self):
        steps = self.w.weight.item()
        return 100.0 + abs(steps - 5)  # best after exactly 5 steps

    def evaluate(self):
        return {"test_nll_nats": self.w.weight.item(), "bits_per_dim": 0.0}


def test_early_stopping_restores_the_best_validation_weights(monkeypatch, tmp_path):
    monkeypatch.setattr(density, "_load", lambda entry: (lambda ctx: _Counter(), None))
    monkeypatch.setattr(density, "CHECKS_PER_BUDGET", 10**9)  # a check after every step
    monkeypatch.setattr(density, "VALIDATION_SHARE", 1.0)  # however long the check takes
    row = density.bench_one(density.Entry("fake"), 60.0, 0, torch.device("cpu"), tmp_path, False)
    assert row["stopped"] == "early stop"
    assert row["best_step"] == 5 and row["best_valid_nll_nats"] == 100.0
    assert row["test_nll_nats"] == 5.0  # evaluated with the restored weights, not the last
    assert row["steps"] == 5 + density.PATIENCE
    assert row["wall_time_s"] < 60.0  # the real time, not the budget


def test_a_converged_model_reports_its_real_time_not_the_budget(tmp_path):
    entry = density.Entry("bernoulli", data="mnist-binary")
    row = density.bench_one(entry, 500.0, 0, torch.device("cpu"), tmp_path, False)
    assert row["stopped"] == "converged" and row["steps"] == 1
    assert row["wall_time_s"] < 30.0  # nowhere near the 500 s budget
    assert row["published_nats"] is None


def test_bench_on_mnist_binary_reports_published_numbers_and_train_size(tmp_path):
    entries = (
        density.Entry("bernoulli"),
        density.Entry("fvsbn", options={"lr": 1e-3, "batch_size": 16}),
    )
    report = density.run_density_bench(budget=1.0, device="cpu", progress=False,
                                       entries=entries)  # fmt: skip
    assert (
        report["train_size"] == 4000
        and "4,000 train / 500 validation / 500 test" in (report["data"])
    )
    rows = {row["model"]: row for row in report["results"]}
    assert rows["fvsbn"]["published_nats"] == 97.45
    assert rows["fvsbn"]["bits_per_dim"] == pytest.approx(
        rows["fvsbn"]["test_nll_nats"] / (784 * math.log(2))
    )
    # far from the paper after 1 s: the note says why
    assert any(n.startswith("fvsbn:") and "4,000 training digits" in n for n in report["notes"])
    path = density.save_bar_chart(report, tmp_path / "bench.png")
    assert path.stat().st_size > 5000


def test_entries_presets_and_selection():
    cpu = {e.model: e for e in density.entries_for("mnist-binary")}
    gpu = {e.model: e for e in density.entries_for("mnist-binary", "gpu")}
    assert set(density.LITERATURE_ORDER) <= set(cpu) and {"vae", "gated-pixelcnn"} <= set(cpu)
    assert gpu["pixelcnn"].options["features"] > cpu["pixelcnn"].options["features"]
    # every entry's options are fields of its run's typed config (resolved, not guessed)
    from cheatsheet.runs.catalog import get_spec
    from cheatsheet.runs.harness import resolve_config

    for entry in (*cpu.values(), *gpu.values()):
        resolve_config(get_spec(entry.model), dict(entry.options))
        assert entry.data in get_spec(entry.model).datasets
    from cheatsheet.errors import CheatsheetError

    with pytest.raises(CheatsheetError, match="pixelcnn"):
        density.select(tuple(cpu.values()), ["pixelcn"])
    with pytest.raises(CheatsheetError, match="mnist-binary"):
        density.entries_for("mnist")


def test_bench_cli_json_writes_the_report_and_the_chart(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["bench", "density", "--data", "digits-binary", "--models", "bernoulli",
              "--budget", "5", "--device", "cpu", "--out", str(tmp_path), "--json"])  # fmt: skip
    assert done.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["model"] for row in report["results"]] == ["bernoulli"]
    assert (tmp_path / "bench-density-digits-binary.png").is_file()
    assert json.loads((tmp_path / "bench-density-digits-binary.json").read_text())["seed"] == 0


def test_bench_cli_unknown_model_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as done:
        main(["bench", "density", "--models", "fvsb"])
    assert done.value.code == 2 and "fvsbn" in capsys.readouterr().err


class _SlowValidation(_Counter):
    """Instant steps, a validation pass of 50 ms that keeps improving."""

    def validation_nll(self):
        import time

        time.sleep(0.05)
        return 100.0 - self.w.weight.item()


def test_slow_validation_checks_take_at_most_their_share_of_the_budget(monkeypatch, tmp_path):
    monkeypatch.setattr(density, "_load", lambda entry: (lambda ctx: _SlowValidation(), None))
    monkeypatch.setattr(density, "CHECKS_PER_BUDGET", 1000)  # asks for a check every 1 ms
    row = density.bench_one(density.Entry("fake"), 1.0, 0, torch.device("cpu"), tmp_path, False)
    # 20% of 1 s is 4 checks of 50 ms (+ the first and the final one); every 1 ms would be ~20
    assert row["stopped"] == "budget" and 3 <= len(row["validation_curve"]) <= 7
    assert row["steps"] > 100  # the rest of the budget trained
