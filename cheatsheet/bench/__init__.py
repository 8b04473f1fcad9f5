"""Benchmarks that train several models under one budget (`cheatsheet bench ...`)."""
