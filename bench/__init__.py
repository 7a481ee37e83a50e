"""Benchmarks at city, province and national scale: run ``python -m bench NAME --json``."""
