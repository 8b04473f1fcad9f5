"""Median wall time of the registry commands next to their import floors.

    python benchmarks/cli_startup.py [--runs 9]

Prints the median of `cheatsheet --help`, `cheatsheet list`, `cheatsheet derive kl-gauss`,
next to `python -c "import typer, rich"` and `python -c "import sympy"` measured in the same
run, and the ratios against the targets (--help and list within 1.5x of typer+rich; derive
within 1.5x of sympy).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "import typer, rich": [sys.executable, "-c", "import typer, rich"],
    "import sympy": [sys.executable, "-c", "import sympy"],
    "cheatsheet --help": [sys.executable, "-m", "cheatsheet", "--help"],
    "cheatsheet list": [sys.executable, "-m", "cheatsheet", "list"],
    "cheatsheet derive kl-gauss": [sys.executable, "-m", "cheatsheet", "derive", "kl-gauss"],
}


def median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, capture_output=True, check=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    medians = {name: median_seconds(command, runs) for name, command in COMMANDS.items()}
    for name, seconds in medians.items():
        print(f"{name:32} {seconds * 1000:8.1f} ms (median of {runs})")
    floor_cli, floor_sympy = medians["import typer, rich"], medians["import sympy"]
    print()
    for name, floor, label in [
        ("cheatsheet --help", floor_cli, "typer+rich"),
        ("cheatsheet list", floor_cli, "typer+rich"),
        ("cheatsheet derive kl-gauss", floor_sympy, "sympy"),
    ]:
        ratio = medians[name] / floor
        verdict = "meets" if ratio <= 1.5 else "MISSES"
        print(f"{name:32} {ratio:5.2f}x the {label} import ({verdict} the 1.5x target)")


if __name__ == "__main__":
    main()
