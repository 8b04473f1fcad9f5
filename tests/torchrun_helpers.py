"""Launching a tiny run under torchrun for the DDP tests (two CPU processes, gloo).

No retries: a rank that dies (by a signal or an error) fails the test with its output. The
gloo teardown races that once killed a rank by SIGABRT under load are fixed in
`cheatsheet.runs.distributed` (every rank is past its last collective before any rank closes
its gloo connections, and no gloo thread outlives the process group into process exit)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def failure_report(done) -> str:
    """What a failed torchrun printed: the ranks' own output first (where a rank says why it
    died), then the agent's summary, so that a rare teardown failure can be diagnosed."""
    ranks = [line for line in done.stderr.splitlines() if "torch/distributed/elastic" not in line]
    return "\n".join(["stdout:", done.stdout[-3000:], "ranks' stderr:", *ranks[-60:]])


def run_torchrun(
    arguments: list[str], env: dict[str, str], timeout: int = 150, script: Path | None = None
):
    """`torchrun --standalone --nproc_per_node 2 -m cheatsheet ARGUMENTS` (or SCRIPT ARGUMENTS)."""
    program = [str(script)] if script is not None else ["-m", "cheatsheet"]
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        *program, *arguments,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
