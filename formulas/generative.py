"""Formulas of the topic 'generative' (see formulas.core.TOPICS for the sheet section)."""
