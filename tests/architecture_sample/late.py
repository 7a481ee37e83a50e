"""Imported by ``early`` inside a function."""

VALUE = 1
