"""Two modules for tests/test_architecture.py: one imports the other inside a function only."""
