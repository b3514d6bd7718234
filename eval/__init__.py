"""Evaluation: labeled queries, the eval runner, tuning and benchmarks."""
