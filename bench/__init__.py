"""Benchmarks for the connector: every figure is a ratio to a baseline measured in the same run.

Run with `make bench` (or `.venv/bin/python -m bench`). Benchmarks report; they never assert.
"""
