"""Formulas of the topic 'implicit' (see formulas.core.TOPICS for the sheet section)."""
