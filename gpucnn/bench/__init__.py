"""Benchmark harness: being written."""
