"""Benchmarks that drive the real stack; `python -m bench.load` is the API load test."""
