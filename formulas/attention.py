"""Formulas of the topic 'attention' (see formulas.core.TOPICS for the sheet section)."""
