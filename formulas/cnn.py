"""Formulas of the topic 'cnn' (see formulas.core.TOPICS for the sheet section)."""
