"""Formulas of the topic 'body' (see formulas.core.TOPICS for the sheet section)."""
