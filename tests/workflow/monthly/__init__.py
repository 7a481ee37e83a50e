"""Tests of workflow/monthly, mirroring its package."""
