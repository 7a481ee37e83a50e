"""Tests of workflow/engine, mirroring its package."""
