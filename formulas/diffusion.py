"""Formulas of the topic 'diffusion' (see formulas.core.TOPICS for the sheet section)."""
