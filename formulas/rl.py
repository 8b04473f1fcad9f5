"""Formulas of the topic 'rl' (see formulas.core.TOPICS for the sheet section)."""
