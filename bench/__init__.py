"""Command-line benchmarks that print JSON."""
