"""Benchmarks of replib's hot paths against the tools researchers would use instead (see suite.py)."""
