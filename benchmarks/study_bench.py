"""Study-command speed as ratios to a bare import (issue 13), so the figures hold on any machine.

    python benchmarks/study_bench.py [--runs 7] [--only check-numeric,errata,...]

Each command is timed right after its floor (`python -c "import typer, rich"` or
`python -c "import sympy"`), run after run, and the ratio of each pair is kept: the median of
the paired ratios is what is compared with the target, so a machine slowed down by other work
slows both halves of a pair alike. Caches are warm (one run first; bytecode is written even
where PYTHONDONTWRITEBYTECODE is set, as an installed package has it) except for the "cold"
rows, which get a fresh CHEATSHEET_HOME (empty derivation cache) on every run. A fresh
install reads the proofs, errata evidence and display LaTeX shipped in formulas/proofs.json
(used only when they were computed from the installed code); the "unshipped" rows set
CHEATSHEET_IGNORE_SHIPPED=1 to time proving everything here, as an install without it would.

Targets (issue 13): check of a numeric or choice question <= 2x the typer+rich import; of a
symbolic one <= 1.3x the sympy import; errata, bank check and a cached derive <= 1.5x the
sympy import; a first derive and a cold export sheet <= 5x it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
FLOORS = {
    "typer+rich": [PY, "-c", "import typer, rich"],
    "sympy": [PY, "-c", "import sympy"],
}


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]
    floor: str
    target: float
    cold: bool = False  # a fresh CHEATSHEET_HOME (no derivation cache) every run
    unshipped: bool = False  # ignore formulas/proofs.json: prove everything, as before it
    ok_codes: tuple[int, ...] = (0, 1)  # check exits 1 on a wrong answer: still a full run


def _bank_question(kind: str) -> tuple[str, str]:
    """(id, right answer) of the first bank question of this kind."""
    from quizzes.catalog import Catalog

    catalog = Catalog()
    for topic in catalog.topics():
        for question in catalog.bank(topic):
            if question.kind == kind:
                return question.id, question.answer
    raise SystemExit(f"no bank question of kind {kind}")


def cases() -> list[Case]:
    numeric, choice, symbolic = (_bank_question(k) for k in ("numeric", "choice", "symbolic"))
    sheet = str(Path(tempfile.gettempdir()) / "study-bench-sheet.md")
    return [
        Case("check-numeric", ["check", numeric[0], "--answer", numeric[1]], "typer+rich", 2.0),
        Case("check-choice", ["check", choice[0], "--answer", choice[1]], "typer+rich", 2.0),
        Case("check-symbolic", ["check", symbolic[0], "--answer", symbolic[1]], "sympy", 1.3),
        Case("errata", ["errata"], "sympy", 1.5),
        Case("bank-check", ["bank", "check"], "sympy", 1.5),
        Case("derive-cached", ["derive", "ddpm-forward-marginal"], "sympy", 1.5),
        Case("derive-first", ["derive", "ddpm-forward-marginal"], "sympy", 5.0, cold=True),
        Case("export-sheet-cold", ["export", "sheet", "-o", sheet], "sympy", 5.0, cold=True),
        # the same two with the shipped results ignored: what proving everything here costs
        Case(
            "derive-first-unshipped",
            ["derive", "ddpm-forward-marginal"],
            "sympy",
            5.0,
            cold=True,
            unshipped=True,
        ),
        Case(
            "export-sheet-unshipped",
            ["export", "sheet", "-o", sheet],
            "sympy",
            5.0,
            cold=True,
            unshipped=True,
        ),
    ]


def _env(home: str, unshipped: bool = False) -> dict[str, str]:
    dropped = ("PYTHONDONTWRITEBYTECODE", "CHEATSHEET_IGNORE_SHIPPED")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"CHEATSHEET_HOME": home, "NO_COLOR": "1", "COLUMNS": "120"})
    if unshipped:
        env["CHEATSHEET_IGNORE_SHIPPED"] = "1"
    return env


def _time(command: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        tail = done.stderr.decode(errors="replace")[-400:]
        raise SystemExit(f"{' '.join(command[2:])}: exit {done.returncode}\n{tail}")
    return elapsed


def measure(case: Case, runs: int, warm_home: str) -> tuple[float, float, float]:
    """(median seconds, median floor seconds, median of the paired ratios)."""
    command = [PY, "-m", "cheatsheet", *case.args]
    floor = FLOORS[case.floor]
    # warm: bytecode, file cache, derive cache
    _time(command, _env(warm_home, case.unshipped), case.ok_codes)
    _time(floor, _env(warm_home))
    seconds, floors, ratios = [], [], []
    for _ in range(runs):
        home = tempfile.mkdtemp(prefix="study-bench-") if case.cold else warm_home
        try:
            base = _time(floor, _env(home))
            spent = _time(command, _env(home, case.unshipped), case.ok_codes)
        finally:
            if case.cold:
                shutil.rmtree(home, ignore_errors=True)
        seconds.append(spent)
        floors.append(base)
        ratios.append(spent / base)
    return statistics.median(seconds), statistics.median(floors), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    wanted = {name for name in args.only.split(",") if name}
    chosen = [case for case in cases() if not wanted or case.name in wanted]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, {args.runs} runs")
    print(f"{'command':20} {'median':>9} {'floor':>9} {'ratio':>7} {'target':>7}")
    with tempfile.TemporaryDirectory(prefix="study-bench-home-") as warm_home:
        for case in chosen:
            slow = case.unshipped or case.name == "bank-check"
            runs = max(3, args.runs // 2) if case.cold or slow else args.runs
            runs = min(runs, 3) if case.unshipped else runs
            spent, base, ratio = measure(case, runs, warm_home)
            verdict = "meets" if ratio <= case.target else "MISSES"
            print(
                f"{case.name:20} {spent * 1000:7.0f}ms {base * 1000:7.0f}ms {ratio:6.2f}x "
                f"{case.target:6.1f}x  {verdict} ({case.floor} floor)",
                flush=True,
            )


if __name__ == "__main__":
    main()
