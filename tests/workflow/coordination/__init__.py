"""Tests of workflow/coordination, mirroring its package."""
