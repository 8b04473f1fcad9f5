"""Formulas of the topic 'gan' (see formulas.core.TOPICS for the sheet section)."""
