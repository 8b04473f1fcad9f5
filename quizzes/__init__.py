"""Question banks (data, one file per topic), generated templates and the quiz engine."""
