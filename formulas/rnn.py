"""Formulas of the topic 'rnn' (see formulas.core.TOPICS for the sheet section)."""
