"""The CLI's errors: defined in the bottom layer (`formulas.errors`), re-exported here."""

from __future__ import annotations

from formulas.errors import CheatsheetError, CheckFailed

__all__ = ["CheatsheetError", "CheckFailed"]
