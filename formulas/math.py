"""Formulas of the topic 'math' (see formulas.core.TOPICS for the sheet section)."""
