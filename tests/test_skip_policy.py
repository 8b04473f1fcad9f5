"""The skip policy itself: a skip that does not name CUDA fails the run (conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def _run(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    tests = tmp_path / "tests"
    tests.mkdir()
    conftest = Path(__file__).with_name("conftest.py").read_text()
    (tests / "conftest.py").write_text(conftest)
    (tests / "test_planted.py").write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_a_skip_for_another_reason_fails_the_run(tmp_path):
    done = _run(tmp_path, """
        import pytest

        def test_hidden():
            pytest.skip("registry formula not written yet")
    """)  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "not written yet" in done.stdout


def test_a_cuda_skip_passes(tmp_path):
    done = _run(tmp_path, """
        import pytest

        def test_gpu():
            pytest.skip("no CUDA device")
    """)  # fmt: skip
    assert done.returncode == 0, done.stdout
