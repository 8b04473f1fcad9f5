"""Formulas of the topic 'flows' (see formulas.core.TOPICS for the sheet section)."""
