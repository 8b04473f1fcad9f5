"""`bank check` caches its verdicts (issue 13: "cache evidence as derive caches steps"): a warm
run reads the whole report, an edited bank file re-checks what changed (a planted wrong answer
is caught), a changed code key or template source drops the cached verdicts, and --recheck
checks everything again. The cache lives under CHEATSHEET_HOME (conftest: one per test)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quizzes import bankcheck
from quizzes.bankcheck import check_banks

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "banks"

KL = (
    'topic = "vae"\n[[question]]\nid = "kl-value"\nkind = "numeric"\n'
    'prompt = "KL(N(1, 1) || N(0, 1))?"\nanswer = "{answer}"\nrule = "decimals:1"\n'
    'compute = {{ formula = "kl-gauss", inputs = {{ mu = [1.0], sigma = [1.0] }} }}\n'
    'explanation = "e"\nformulas = ["kl-gauss"]\n'
)
CHOICE = (
    '\n[[question]]\nid = "pick-b"\nkind = "choice"\nprompt = "p"\nchoices = ["a", "b"]\n'
    'answer = "B"\nreasons = ["a is not it", ""]\nexplanation = "e"\n'
)


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The ids of the questions actually checked (not read from the cache)."""
    calls: list[str] = []
    real = bankcheck.check_question

    def counting(question):
        calls.append(question.id)
        return real(question)

    monkeypatch.setattr(bankcheck, "check_question", counting)
    return calls


def _copy(tmp_path: Path) -> Path:
    banks = tmp_path / "banks"
    shutil.copytree(FIXTURES, banks)
    return banks


def test_a_warm_check_reads_the_whole_report(tmp_path, counted):
    banks = _copy(tmp_path)
    first = check_banks(banks)
    assert first["ok"] and not first["cached"] and first["reused"] == 0
    assert len(counted) == first["questions"] > 5
    counted.clear()
    second = check_banks(banks)
    assert second["cached"] and counted == []
    assert {**second, "cached": False} == first


def test_an_edited_bank_rechecks_what_changed_and_catches_a_planted_wrong_answer(tmp_path, counted):
    banks = tmp_path / "banks"
    banks.mkdir()
    (banks / "vae.toml").write_text(KL.format(answer="0.5") + CHOICE)
    assert check_banks(banks)["ok"]
    assert sorted(counted) == ["kl-value", "pick-b"]
    counted.clear()
    # The registry gives 0.5: a wrong answer planted in the file is caught, not read from
    # the cache; the unchanged question's verdict is.
    (banks / "vae.toml").write_text(KL.format(answer="0.6") + CHOICE)
    report = check_banks(banks)
    assert not report["cached"] and counted == ["kl-value"] and report["reused"] == 1
    assert any("kl-value: compute: the registry gives 0.5" in p for p in report["problems"])
    assert not report["ok"]
    counted.clear()
    # The failing verdict is cached as well: still caught on the next run, and put right when
    # the file is.
    assert not check_banks(banks)["ok"] and counted == []
    (banks / "vae.toml").write_text(KL.format(answer="0.5") + CHOICE)
    assert check_banks(banks)["ok"]


def test_a_question_moved_in_its_file_reports_its_new_line(tmp_path):
    banks = tmp_path / "banks"
    banks.mkdir()
    (banks / "vae.toml").write_text(KL.format(answer="0.6"))
    before = check_banks(banks)
    assert any("vae.toml:2: kl-value" in p for p in before["problems"]), before["problems"]
    (banks / "vae.toml").write_text(KL.format(answer="0.6").replace("[[", "\n\n[["))
    moved = check_banks(banks)
    assert any("vae.toml:4: kl-value" in p for p in moved["problems"]), moved["problems"]
    assert moved["problems"] == check_banks(banks, cache=False)["problems"]


def test_a_changed_code_key_checks_everything_again(tmp_path, counted, monkeypatch):
    banks = _copy(tmp_path)
    first = check_banks(banks)
    counted.clear()
    key = bankcheck.code_key()
    monkeypatch.setattr(bankcheck, "code_key", lambda: "0" * 32)
    again = check_banks(banks)
    assert not again["cached"] and again["reused"] == 0 and len(counted) == first["questions"]
    counted.clear()
    monkeypatch.setattr(bankcheck, "code_key", lambda: key)
    assert check_banks(banks)["reused"] == 0  # one code key's verdicts are kept at a time


def test_recheck_checks_everything_and_refreshes_the_cache(tmp_path, counted):
    banks = _copy(tmp_path)
    first = check_banks(banks)
    counted.clear()
    rechecked = check_banks(banks, recheck=True)
    assert not rechecked["cached"] and rechecked["reused"] == 0
    assert len(counted) == first["questions"]
    assert {**rechecked, "reused": 0} == {**first, "reused": 0}
    counted.clear()
    assert check_banks(banks)["cached"] and counted == []


def test_a_damaged_cache_is_checked_again(tmp_path, counted):
    banks = _copy(tmp_path)
    first = check_banks(banks)
    cache = Path(os.environ["CHEATSHEET_HOME"]) / "cache" / "bankcheck"
    for file in cache.iterdir():
        file.write_text("{not json")
    counted.clear()
    assert check_banks(banks) == first and len(counted) == first["questions"]


def test_the_code_key_covers_templates_and_code_but_not_the_bank_files(tmp_path, monkeypatch):
    quizzes = tmp_path / "quizzes"
    (quizzes / "templates").mkdir(parents=True)
    (quizzes / "banks").mkdir()
    (quizzes / "engine.py").write_text("RULE = 1\n")
    (quizzes / "templates" / "vae.py").write_text("ANSWER = 'x'\n")
    (quizzes / "banks" / "vae.toml").write_text('topic = "vae"\n')
    formulas = tmp_path / "formulas"
    formulas.mkdir()
    (formulas / "vae.py").write_text("KL = 0.5\n")
    monkeypatch.setattr(bankcheck, "PACKAGES", (quizzes, formulas))
    monkeypatch.setattr("quizzes.banks.BANK_DIR", quizzes / "banks")
    before = bankcheck.code_key()
    (quizzes / "banks" / "vae.toml").write_text('topic = "vae"\n# keyed question by question\n')
    assert bankcheck.code_key() == before
    for source, edit in [
        (quizzes / "templates" / "vae.py", "ANSWER = 'y'\n"),
        (quizzes / "engine.py", "RULE = 2\n"),
        (formulas / "vae.py", "KL = 0.6\n"),
        (quizzes / "templates" / "gan.py", "NEW = 1\n"),
    ]:
        source.write_text(edit)
        after = bankcheck.code_key()
        assert after != before, source
        before = after
    monkeypatch.setattr("formulas.shipped.library_versions", lambda: {"sympy": "0.0"})
    assert bankcheck.code_key() != before


def _probe_module(path: Path, answer: str):
    """A template module written to `path`: one symbolic template whose answer is `answer`
    (imported afresh, as a changed module is on the next start)."""
    path.write_text(
        "from quizzes.questions import Question\n\n\n"
        "def make(rng, question_id):\n"
        "    return Question(question_id, 'diffusion', 'symbolic', 'The mean?', "
        f"{answer!r}, '', symbols={{'abar_t': 'positive', 'x_0': 'real'}},\n"
        "        mistakes=(Mistake('sqrt(abar_t)*x_0', 'the square is missing'),))\n\n\n"
        "from quizzes.questions import Mistake  # noqa: E402\n"
    )
    spec = importlib.util.spec_from_file_location("bank_cache_probe", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bank_cache_probe"] = module
    spec.loader.exec_module(module)
    return module


def test_an_edited_template_source_is_checked_again(tmp_path, monkeypatch):
    from quizzes import catalog
    from quizzes.questions import TEMPLATES, Template

    monkeypatch.setattr(catalog, "load_templates", lambda topic=None: {})
    monkeypatch.setattr(catalog, "bank_directories", lambda: [tmp_path / "none"])
    monkeypatch.setattr(catalog, "COURSE_TOPICS", ())
    for other in list(TEMPLATES):
        monkeypatch.delitem(TEMPLATES, other)
    monkeypatch.delitem(sys.modules, "bank_cache_probe", raising=False)
    source = tmp_path / "bank_cache_probe.py"

    def register(answer: str) -> None:
        module = _probe_module(source, answer)
        probe = Template("cache-probe", "diffusion", "symbolic", (), 1, (), module.make)
        monkeypatch.setitem(TEMPLATES, probe.id, probe)

    register("sqrt(abar_t)*x_0^2")
    first = check_banks(variants=2)
    assert first["ok"] and first["templates"] == 1 and first["mutants"] > 0
    assert check_banks(variants=2)["cached"]
    # The template's module now gives the answer its own foreseen mistake names: caught.
    register("sqrt(abar_t)*x_0")
    edited = check_banks(variants=2)
    assert not edited["cached"] and edited["reused"] == 0 and not edited["ok"]
    assert any("cache-probe@0: mistakes" in p for p in edited["problems"])
    assert check_banks(variants=2) == {**edited, "cached": True}


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHEATSHEET_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "cheatsheet", "bank", "check", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def test_bank_check_cli_says_when_it_read_the_cache_and_rechecks_on_request(tmp_path):
    banks = _copy(tmp_path)
    first = _cli(tmp_path / "home", str(banks))
    assert first.returncode == 0 and "ok" in first.stdout and "cached" not in first.stdout
    second = _cli(tmp_path / "home", str(banks))
    assert second.returncode == 0 and "(cached: nothing they depend on changed" in second.stdout
    rechecked = _cli(tmp_path / "home", str(banks), "--recheck", "--json")
    report = json.loads(rechecked.stdout)
    assert rechecked.returncode == 0 and report["ok"] and not report["cached"]
    assert report["reused"] == 0
