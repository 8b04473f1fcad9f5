"""Launching a tiny run under torchrun for the DDP tests.

gloo can abort a rank with SIGABRT while the ranks tear their connections down at exit when
the machine is heavily loaded (seen once in CI: a signal death after training had finished,
not a Python error). Such a death is retried once; any other failure, and a second signal
death, fails the test with every rank's output.
"""

from __future__ import annotations

import subprocess
import sys


def run_torchrun(arguments: list[str], env: dict[str, str], timeout: int = 150):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "cheatsheet", *arguments,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    killed_by_signal = (
        done.returncode != 0
        and "Signal" in done.stderr
        and "Traceback" not in (done.stderr.split("torch.distributed.elastic")[0])
    )
    if killed_by_signal:
        first = done.stderr[-1500:]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        if done.returncode != 0:
            done.stderr = f"first attempt:\n{first}\nsecond attempt:\n{done.stderr}"
    return done
