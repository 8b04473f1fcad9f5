"""Formulas of the topic 'autoregressive' (see formulas.core.TOPICS for the sheet section)."""
