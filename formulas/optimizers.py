"""Formulas of the topic 'optimizers' (see formulas.core.TOPICS for the sheet section)."""
