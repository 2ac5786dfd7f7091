"""Benchmarks run against a real server and PostgreSQL; see bench/README.md."""
