"""Formulas of the topic 'ml' (see formulas.core.TOPICS for the sheet section)."""
