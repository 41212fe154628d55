"""Benchmarks: each measures one claim of the design against a baseline, writing its figures to `results/`."""
