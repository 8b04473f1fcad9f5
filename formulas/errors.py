"""Errors that the CLI turns into one line on stderr and an exit code (never a traceback).

They live in the bottom layer so that `formulas` and `quizzes` can raise them without
importing the CLI package; `cheatsheet.errors` re-exports them.
"""

from __future__ import annotations


class CheatsheetError(Exception):
    """Bad usage or bad input: exit code 2 unless said otherwise."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class CheckFailed(CheatsheetError):
    """A check or an answer failed: exit code 1."""

    exit_code = 1
