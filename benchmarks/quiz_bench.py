"""Quiz speed: time from `cheatsheet quiz diffusion` to the first question on screen (in a
pseudo-terminal, as a person sees it), and the median time to mark a symbolic answer.

Targets (issue 4): first question < 0.5 s; a symbolic check < 100 ms.

    .venv/bin/python benchmarks/quiz_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_BANKS = ROOT / "tests" / "data" / "banks"


def first_question_seconds(topic: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds until 'Question 1/' and the '> ' prompt show in a pseudo-terminal."""
    leader, follower = pty.openpty()
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "cheatsheet", "quiz", topic, "--n", "3"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=ROOT,
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    elapsed = cpu = float("nan")
    deadline = start + 30
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.05)
        if ready:
            try:
                seen += os.read(leader, 4096)
            except OSError:
                break
            if b"Question 1/" in seen and b"> " in seen:
                elapsed = time.perf_counter() - start
                cpu = _cpu_seconds(process.pid)
                break
    process.kill()
    process.wait()
    os.close(leader)
    return elapsed, cpu


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far: the figure a loaded machine cannot
    inflate (wall time on a shared 2-core box can be several times larger)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def symbolic_check_times(repeats: int) -> list[float]:
    os.environ.setdefault("CHEATSHEET_BANKS", str(FIXTURE_BANKS))
    from quizzes.banks import bank_files, load_bank
    from quizzes.engine import mark

    questions = [
        q for path in bank_files(FIXTURE_BANKS) for q in load_bank(path) if q.kind == "symbolic"
    ]
    answers = {
        "fx-diffusion-forward-mean": [
            "x_0*sqrt(abar_t)",
            r"\sqrt{\alpha_t}x_0",
            "-sqrt(abar_t)x_0",
        ],
        "fx-diffusion-reparam": [
            r"\sqrt{\bar\alpha_t}x_0+\sqrt{1-\bar\alpha_t}\epsilon",
            "sqrt(abar_t)*x_0 - sqrt(1-abar_t)*eps",
        ],
        "fx-diffusion-posterior-variance": ["beta_t (1-abar_tm1)/(1-abar_t)", "beta_t"],
        "fx-vae-kl-closed-form": ["(sigma^2+mu^2-1)/2 - log(sigma)", "sigma^2+mu^2-1-log(sigma^2)"],
        "fx-vae-kl-two-gaussians": [
            "log(sigma_2) - log(sigma_1) + (sigma_1^2 + (mu_2-mu_1)^2)/(2 sigma_2^2) - 1/2",
            "log(sigma_1/sigma_2) + (sigma_2^2 + (mu_1-mu_2)^2)/(2 sigma_1^2) - 1/2",
        ],
    }
    for question in questions:  # warm-up: imports and caches, as after the first answer
        mark(question, question.answer)
    times = []
    for _ in range(repeats):
        for question in questions:
            for text in answers.get(question.id, [question.answer]):
                start = time.perf_counter()
                mark(question, text)
                times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--topic", default="diffusion")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "CHEATSHEET_HOME": home, "NO_COLOR": "1"}
        if not any((ROOT / "quizzes" / "banks").glob(f"{args.topic}.toml")):
            env["CHEATSHEET_BANKS"] = str(FIXTURE_BANKS)
            print(f"(no quizzes/banks/{args.topic}.toml yet: using the test fixture bank)")
        runs = [first_question_seconds(args.topic, env) for _ in range(args.runs)]
    first = [wall for wall, _ in runs]
    cpu = [c for _, c in runs]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"time to first question (`cheatsheet quiz {args.topic}`, pty): median "
        f"{statistics.median(first) * 1000:.0f} ms, best {min(first) * 1000:.0f} ms, worst "
        f"{max(first) * 1000:.0f} ms over {len(first)} runs (target < 500 ms); CPU time "
        f"median {statistics.median(cpu) * 1000:.0f} ms"
    )
    checks = symbolic_check_times(repeats=5)
    print(
        f"symbolic answer check: median {statistics.median(checks) * 1000:.1f} ms, "
        f"p90 {sorted(checks)[int(0.9 * len(checks))] * 1000:.1f} ms, max "
        f"{max(checks) * 1000:.1f} ms over {len(checks)} checks (target < 100 ms)"
    )


if __name__ == "__main__":
    main()
