"""Shared test set-up: hypothesis profiles and the device parameter.

Profiles: `ci` (default; deterministic and quick) and `thorough` (local runs:
HYPOTHESIS_PROFILE=thorough pytest). CUDA tests carry the `cuda` mark and skip cleanly
without a GPU.
"""

from __future__ import annotations

import os

# Two xdist workers on two cores: one thread each, or torch oversubscribes the machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    max_examples=12,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """'cpu' always; 'cuda' when a GPU is present, else skipped."""
    if request.param == "cuda" and not _cuda_available():
        pytest.skip("no CUDA device")
    return request.param


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Progress databases and run outputs never touch the real user data dir in tests."""
    monkeypatch.setenv("CHEATSHEET_HOME", str(tmp_path / "home"))


# Skips are for a missing CUDA device only: a skip for any other reason (a missing registry
# id, a template bug, a tool the CI installs) would hide a failure, so it fails the session.
_OTHER_SKIPS: list[tuple[str, str]] = []


def pytest_runtest_logreport(report):
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = str(longrepr[-1]) if isinstance(longrepr, tuple) else str(longrepr)
    if "cuda" not in reason.lower():
        _OTHER_SKIPS.append((report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput") or not _OTHER_SKIPS:
        return  # xdist workers report to the controller, which decides
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("skips that do not name a missing CUDA device (they hide failures):")
        for nodeid, reason in _OTHER_SKIPS[:20]:
            reporter.write_line(f"  {nodeid}: {reason}")
    session.exitstatus = 1
